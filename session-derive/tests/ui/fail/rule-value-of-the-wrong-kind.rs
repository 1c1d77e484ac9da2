use session_runtime::Session;

#[derive(Session)]
struct Shop {
    #[session(max_length = "64")]
    username: Option<String>,
}

fn main() {}
