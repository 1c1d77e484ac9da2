use session_runtime::Session;

#[derive(Session)]
#[session(backend(type = "mysql", table = "2024_sessions"))]
struct Shop {
    user: Option<u64>,
}

fn main() {}
