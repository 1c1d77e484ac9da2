use session_runtime::Session;

#[derive(Session)]
#[session(secure, session_cookie_secure = false)]
struct Shop {
    username: Option<String>,
}

fn main() {}
