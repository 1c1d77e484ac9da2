use session_runtime::Session;

#[derive(Session)]
struct Shop {
    #[session(default = "anonymous", max_length = 4)]
    username: String,
}

fn main() {}
