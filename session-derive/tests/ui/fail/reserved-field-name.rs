use session_runtime::Session;

#[derive(Session)]
struct Shop {
    // `Session` has a `clear` method of its own.
    clear: Option<bool>,
}

fn main() {}
