use session_runtime::Session;

#[derive(Session)]
#[session(session_cookie_path = "app/")]
struct Shop {
    user: Option<u64>,
}

fn main() {}
