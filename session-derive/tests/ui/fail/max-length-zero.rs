use session_runtime::Session;

#[derive(Session)]
#[session(backend = "memory")]
struct Shop {
    #[session(max_length = 0)]
    nickname: Option<String>,
}

fn main() {}
