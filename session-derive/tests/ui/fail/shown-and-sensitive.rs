use session_runtime::Session;

#[derive(Session)]
#[session(backend = "memory", principal = "user")]
struct Shop {
    #[session(max_length = 64)]
    user: Option<String>,
    #[session(max_length = 64, sensitive, shown)]
    token: Option<String>,
}

fn main() {}
