use session_runtime::Session;

#[derive(Session)]
#[session(expiration_time = 30, absolute_timeout = "8h", rotation_interval = "12h")]
struct Shop {
    user: Option<u64>,
}

fn main() {}
