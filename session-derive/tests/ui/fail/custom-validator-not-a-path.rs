use session_runtime::Session;

#[derive(Session)]
struct Shop {
    #[session(max_length = 32, custom = "checks::username(value)")]
    username: Option<String>,
}

fn main() {}
