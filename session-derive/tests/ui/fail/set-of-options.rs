use std::collections::HashSet;

use session_runtime::Session;

#[derive(Session)]
#[session(backend = "memory")]
struct Shop {
    #[session(default)]
    codes: HashSet<Option<String>>,
}

fn main() {}
