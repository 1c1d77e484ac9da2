//! Build script: compiles the example session specs (filled in by the examples).
fn main() {}
