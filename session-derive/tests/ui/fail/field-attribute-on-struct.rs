use session_runtime::Session;

#[derive(Session)]
#[session(max_length = 64)]
struct Shop {
    username: Option<String>,
}

fn main() {}
