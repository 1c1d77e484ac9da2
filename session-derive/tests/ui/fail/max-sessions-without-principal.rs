use session_runtime::Session;

#[derive(Session)]
#[session(backend = "memory", max_sessions = 5)]
struct Shop {
    #[session(max_length = 64)]
    user: Option<String>,
}

fn main() {}
