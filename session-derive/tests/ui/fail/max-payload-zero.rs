use session_runtime::Session;

#[derive(Session)]
#[session(backend(type = "postgres", max_payload = 0))]
struct Shop {
    user: Option<u64>,
}

fn main() {}
