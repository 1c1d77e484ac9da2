use session_runtime::Session;

#[derive(Session)]
#[session(backend = "memory")]
struct Shop {
    #[session(default = 0, min = -1)]
    age: u8,
}

fn main() {}
