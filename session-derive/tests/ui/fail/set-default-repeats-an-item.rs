use std::collections::BTreeSet;

use session_runtime::Session;

#[derive(Session)]
#[session(backend = "memory")]
struct Shop {
    #[session(default = ["new", "sale", "new"], max_items = 5)]
    tags: BTreeSet<String>,
}

fn main() {}
