use session_runtime::Session;

#[derive(Session)]
struct Shop(Option<String>, Vec<String>);

fn main() {}
