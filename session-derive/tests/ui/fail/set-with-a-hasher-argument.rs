use std::collections::HashSet;
use std::hash::RandomState;

use session_runtime::Session;

#[derive(Session)]
#[session(backend = "memory")]
struct Shop {
    #[session(default)]
    tags: HashSet<String, RandomState>,
}

fn main() {}
