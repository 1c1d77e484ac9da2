use session_runtime::Session;

#[derive(Session)]
struct Shop {
    #[session(max_length = 64)]
    #[session(max_length = 32)]
    username: Option<String>,
}

fn main() {}
