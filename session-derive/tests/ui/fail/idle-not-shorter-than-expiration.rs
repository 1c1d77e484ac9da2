use session_runtime::Session;

#[derive(Session)]
#[session(expiration_time = 30, idle_timeout = "1h")]
struct Shop {
    user: Option<u64>,
}

fn main() {}
