use session_runtime::Session;

#[derive(Session)]
#[session(session_cookie_domain = "https://shop.example.com")]
struct Shop {
    user: Option<u64>,
}

fn main() {}
