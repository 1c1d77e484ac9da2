use session_runtime::Session;

#[derive(Session)]
#[session(backend(type = "postgres", table = "shop_sessions_for_the_european_storefront_and_its_apps"))]
struct Shop {
    user: Option<u64>,
}

fn main() {}
