use session_runtime::Session;

#[derive(Session)]
struct Shop {
    username: Option<String>,
    #[session(key = "username")]
    display_name: Option<String>,
}

fn main() {}
