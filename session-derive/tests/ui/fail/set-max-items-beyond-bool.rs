use std::collections::BTreeSet;

use session_runtime::Session;

#[derive(Session)]
struct Shop {
    #[session(default, max_items = 3)]
    answers: BTreeSet<bool>,
}

fn main() {}
