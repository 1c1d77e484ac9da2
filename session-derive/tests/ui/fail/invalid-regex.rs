use session_runtime::Session;

#[derive(Session)]
struct Shop {
    #[session(pattern = "[a-z")]
    username: Option<String>,
}

fn main() {}
