use session_runtime::Session;

#[derive(Session)]
struct Shop {
    #[session(min = 0.5)]
    quantity: u32,
}

fn main() {}
