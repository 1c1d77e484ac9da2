use session_runtime::Session;

#[derive(Session)]
#[session(name = "Cart")]
struct Shop {
    username: Option<String>,
}

fn main() {}
