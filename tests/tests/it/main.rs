//! Cross-crate tests: what a user sees when they use the crates together.

mod codegen_manager;
mod codegen_prelude;
mod codegen_rules;
mod codegen_sets;
mod codegen_templates;
mod codegen_types;
mod codegen_upgrade;
mod cookie_budget;
mod packaging;
mod parity;
mod reserved;
mod rulebook;
