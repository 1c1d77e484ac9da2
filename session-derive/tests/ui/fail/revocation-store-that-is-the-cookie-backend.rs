use session_runtime::Session;

#[derive(Session)]
#[session(principal = "user", revocation_store = "cookie")]
struct Shop {
    user: Option<u64>,
}

fn main() {}
