use session_runtime::Session;

#[derive(Session)]
#[session(domain = "io")]
struct Shop {
    user: Option<u64>,
}

fn main() {}
