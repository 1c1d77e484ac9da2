use session_runtime::Session;

#[derive(Session)]
struct Shop {
    username: &'static str,
}

fn main() {}
