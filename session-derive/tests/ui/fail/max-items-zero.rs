use session_runtime::Session;

#[derive(Session)]
#[session(backend = "memory")]
struct Shop {
    #[session(default, max_items = 0)]
    tags: Vec<u8>,
}

fn main() {}
