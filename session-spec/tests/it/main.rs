//! Integration tests of `session-spec`.

mod cli;
mod codegen;
mod diagnostics;
mod json_schema;
mod reserved;
mod robustness;
mod templates;
