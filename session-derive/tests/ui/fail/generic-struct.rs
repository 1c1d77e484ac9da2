use session_runtime::Session;

#[derive(Session)]
struct Shop<T> {
    item: Option<T>,
}

fn main() {}
