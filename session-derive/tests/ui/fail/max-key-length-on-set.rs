use std::collections::HashSet;

use session_runtime::Session;

#[derive(Session)]
struct Shop {
    #[session(default, max_items = 3, max_length = 16, max_key_length = 8)]
    tags: HashSet<String>,
}

fn main() {}
