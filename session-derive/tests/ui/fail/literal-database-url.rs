use session_runtime::Session;

#[derive(Session)]
#[session(backend(type = "postgres", url = "postgres://shop:hunter2@db/shop"))]
struct Shop {
    username: Option<String>,
}

fn main() {}
