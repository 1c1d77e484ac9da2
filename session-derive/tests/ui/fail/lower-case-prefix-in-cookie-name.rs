use session_runtime::Session;

#[derive(Session)]
#[session(session_cookie_name = "__secure-sid")]
struct Shop {
    user: Option<u64>,
}

fn main() {}
