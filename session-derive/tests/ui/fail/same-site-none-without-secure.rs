use session_runtime::Session;

#[derive(Session)]
#[session(same_site = "none", secure = false)]
struct Shop {
    username: Option<String>,
}

fn main() {}
