use session_runtime::Session;

#[derive(Session)]
#[session(principal = "user")]
struct Shop {
    #[session(max_length = 64)]
    user: Option<String>,
}

fn main() {}
