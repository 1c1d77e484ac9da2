use session_runtime::Session;

#[derive(Session)]
#[session(session_manager = "file")]
struct Shop {
    user: Option<u64>,
}

fn main() {}
