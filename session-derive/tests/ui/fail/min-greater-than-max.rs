use session_runtime::Session;

#[derive(Session)]
struct Shop {
    #[session(min = 10, max = 1)]
    quantity: Option<u8>,
}

fn main() {}
