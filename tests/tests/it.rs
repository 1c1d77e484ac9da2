//! Cross-crate tests: what a user sees when they use the crates together.
