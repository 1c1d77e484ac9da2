use session_runtime::Session;

#[derive(Session)]
#[session(partitioned, secure = false)]
struct Shop {
    user: Option<u64>,
}

fn main() {}
