use session_runtime::Session;

#[derive(Session)]
#[session(idle_timeout = "2h", absolute_timeout = "30m")]
struct Shop {
    username: Option<String>,
}

fn main() {}
