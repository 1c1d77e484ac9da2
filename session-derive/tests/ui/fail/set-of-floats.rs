use std::collections::HashSet;

use session_runtime::Session;

#[derive(Session)]
#[session(backend = "memory")]
struct Shop {
    #[session(default)]
    prices: HashSet<f64>,
}

fn main() {}
