use session_runtime::Session;

#[derive(Session)]
#[session(backend = "memory")]
struct Shop {
    #[session(one_of = [])]
    plan: Option<String>,
}

fn main() {}
