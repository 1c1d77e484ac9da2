use session_runtime::Session;

#[derive(Session)]
#[session(backend(type = "file", encrypt))]
struct Shop {
    user: Option<u64>,
}

fn main() {}
