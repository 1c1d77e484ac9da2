use session_runtime::Session;

#[derive(Session)]
#[session(same_site = "lox")]
struct Shop {
    username: Option<String>,
}

fn main() {}
