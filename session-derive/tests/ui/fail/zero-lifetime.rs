use session_runtime::Session;

#[derive(Session)]
#[session(expiration_time = 0)]
struct Shop {
    username: Option<String>,
}

fn main() {}
