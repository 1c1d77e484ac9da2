use session_runtime::Session;

#[derive(Session)]
#[session(expiration_time = "ten minutes")]
struct Shop {
    username: Option<String>,
}

fn main() {}
