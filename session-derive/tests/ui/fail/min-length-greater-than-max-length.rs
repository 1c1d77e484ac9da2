use session_runtime::Session;

#[derive(Session)]
#[session(backend = "memory")]
struct Shop {
    #[session(min_length = 8, max_length = 6)]
    code: Option<String>,
}

fn main() {}
