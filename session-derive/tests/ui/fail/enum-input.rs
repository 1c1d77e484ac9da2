use session_runtime::Session;

#[derive(Session)]
enum Shop {
    Anonymous,
    SignedIn { username: String },
}

fn main() {}
