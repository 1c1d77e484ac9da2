use session_runtime::Session;

#[derive(Session)]
#[session(backend = "mongodb")]
struct Shop {
    user: Option<u64>,
}

fn main() {}
