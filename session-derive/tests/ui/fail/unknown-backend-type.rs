use session_runtime::Session;

#[derive(Session)]
#[session(backend = "redis")]
struct Shop {
    user: Option<u64>,
}

fn main() {}
