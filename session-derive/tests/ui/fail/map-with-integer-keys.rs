use session_runtime::Session;
use std::collections::BTreeMap;

#[derive(Session)]
struct Shop {
    quantities: BTreeMap<u32, u32>,
}

fn main() {}
