use std::collections::HashSet;

use session_runtime::Session;

#[derive(Session)]
struct Shop {
    #[session(default, one_of = ["dark", "compact"], max_items = 3)]
    options: HashSet<String>,
}

fn main() {}
