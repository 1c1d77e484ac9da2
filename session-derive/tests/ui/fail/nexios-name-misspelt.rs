use session_runtime::Session;

#[derive(Session)]
#[session(session_cookie_same_site = "strict")]
struct Shop {
    user: Option<u64>,
}

fn main() {}
