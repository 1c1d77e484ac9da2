use session_runtime::Session;

#[derive(Session)]
#[session(backend = "memory", principal = "roles")]
struct Shop {
    roles: Vec<String>,
}

fn main() {}
