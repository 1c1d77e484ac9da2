use session_runtime::Session;

#[derive(Session)]
#[session(backend = "memory")]
struct Shop {
    #[session(default, pattern = "[0-9]+")]
    count: u32,
}

fn main() {}
