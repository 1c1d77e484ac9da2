use session_runtime::Session;

#[derive(Session)]
#[session(secret_key = "somthing-special")]
struct Shop {
    username: Option<String>,
}

fn main() {}
