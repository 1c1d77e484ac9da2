use session_runtime::Session;

#[derive(Session)]
struct Shop {
    #[session(max_length = 3)]
    visits: u32,
}

fn main() {}
