use session_runtime::Session;

#[derive(Session)]
#[session(backend = "memory")]
struct Shop {
    #[session(max_items = 3)]
    nickname: Option<String>,
}

fn main() {}
