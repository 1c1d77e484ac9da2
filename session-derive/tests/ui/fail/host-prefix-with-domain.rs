use session_runtime::Session;

#[derive(Session)]
#[session(prefix = "host", domain = "example.com")]
struct Shop {
    username: Option<String>,
}

fn main() {}
