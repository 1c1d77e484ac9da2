use session_runtime::Session;

#[derive(Session)]
#[session(backend = "memory")]
struct Shop {
    #[session(default, max_items = 3, max_key_length = 8)]
    tags: Vec<u8>,
}

fn main() {}
