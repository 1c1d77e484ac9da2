//! Integration tests of `session-spec`.

mod cli;
mod codegen;
mod diagnostics;
mod json_schema;
mod robustness;
mod templates;
