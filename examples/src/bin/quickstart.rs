//! The smallest session app (placeholder until the runtime lands).
fn main() {
    println!("quickstart: not built yet");
}
