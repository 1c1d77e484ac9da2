use session_runtime::Session;

#[derive(Session)]
#[session(keys(env = "SHOP_KEY", secret = "somthing-special"))]
struct Shop {
    username: Option<String>,
}

fn main() {}
