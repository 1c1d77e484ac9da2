use session_runtime::Session;

#[derive(Session)]
struct Shop {
    username: Option<Option<String>>,
}

fn main() {}
