use session_runtime::Session;

#[derive(Session)]
#[session(domain = "localhost:3000")]
struct Shop {
    user: Option<u64>,
}

fn main() {}
