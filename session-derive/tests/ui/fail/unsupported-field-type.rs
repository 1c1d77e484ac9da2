use session_runtime::Session;

#[derive(Session)]
struct Shop {
    position: (i32, i32),
}

fn main() {}
