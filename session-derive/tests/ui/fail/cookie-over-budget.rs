use session_runtime::Session;

#[derive(Session)]
#[session(cookie_name = "shop")]
struct Shop {
    // 50 items of 64 characters of any kind cannot fit in a 4096-byte cookie.
    #[session(default, max_items = 50, max_length = 64)]
    cart: Vec<String>,
}

fn main() {}
