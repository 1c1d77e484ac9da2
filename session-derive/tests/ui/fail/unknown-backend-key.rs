use session_runtime::Session;

#[derive(Session)]
#[session(backend(type = "file", dri = "/var/lib/shop/sessions"))]
struct Shop {
    username: Option<String>,
}

fn main() {}
