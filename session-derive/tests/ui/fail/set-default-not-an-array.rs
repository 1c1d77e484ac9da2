use std::collections::BTreeSet;

use session_runtime::Session;

#[derive(Session)]
#[session(backend = "memory")]
struct Shop {
    #[session(default = "new")]
    tags: BTreeSet<String>,
}

fn main() {}
