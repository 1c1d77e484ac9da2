use session_runtime::Session;

#[derive(Session)]
#[session(domain = ".example.com")]
struct Shop {
    user: Option<u64>,
}

fn main() {}
