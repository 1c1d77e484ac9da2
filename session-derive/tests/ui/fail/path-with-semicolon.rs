use session_runtime::Session;

#[derive(Session)]
#[session(path = "/shop;admin")]
struct Shop {
    user: Option<u64>,
}

fn main() {}
