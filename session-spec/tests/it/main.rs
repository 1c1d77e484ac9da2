//! Integration tests of `session-spec`.

mod cli;
mod diagnostics;
mod json_schema;
mod templates;
