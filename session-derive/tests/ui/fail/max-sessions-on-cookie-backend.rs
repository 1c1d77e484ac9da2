use session_runtime::Session;

// The cookie backend keeps no list of its cookies, so it cannot count a principal's
// sessions, even with a revocation store.
#[derive(Session)]
#[session(principal = "user", revocation_store = "memory", max_sessions = 5)]
struct Shop {
    #[session(max_length = 64)]
    user: Option<String>,
}

fn main() {}
