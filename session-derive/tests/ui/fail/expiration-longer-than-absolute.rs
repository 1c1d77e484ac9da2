use session_runtime::Session;

#[derive(Session)]
#[session(expiration_time = "2d", absolute_timeout = "1d")]
struct Shop {
    user: Option<u64>,
}

fn main() {}
