use session_runtime::Session;

#[derive(Session)]
#[session(cookie_name = "__Host-shop")]
struct Shop {
    user: Option<u64>,
}

fn main() {}
