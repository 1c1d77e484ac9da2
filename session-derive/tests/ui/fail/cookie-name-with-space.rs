use session_runtime::Session;

#[derive(Session)]
#[session(cookie_name = "shop session")]
struct Shop {
    user: Option<u64>,
}

fn main() {}
