use session_runtime::Session;

#[derive(Session)]
#[session(cookie_nmae = "shop")]
struct Shop {
    username: Option<String>,
}

fn main() {}
