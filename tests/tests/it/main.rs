//! Cross-crate tests: what a user sees when they use the crates together.

/// Modules holding the code `build.rs` generated: `name: "file"` is the module `name`
/// including `$OUT_DIR/file.rs`.
macro_rules! generated {
    ($($name:ident: $file:literal),* $(,)?) => {
        $(
            // Generated items are `pub`, for the including module to re-export.
            #[allow(unreachable_pub)]
            mod $name {
                include!(concat!(env!("OUT_DIR"), "/", $file, ".rs"));
            }
        )*
    };
}

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

/// Asserts that `result` is a refusal of `rule` on `field`, and that the message says so
/// (the generated validators' errors, in every `codegen_*` module).
#[track_caller]
fn refused<T: std::fmt::Debug>(
    result: Result<T, session_runtime::ValidationError>,
    field: &str,
    rule: session_runtime::Rule,
) {
    let err = result.expect_err("the value was accepted");
    assert_eq!(err.field, field, "{err}");
    assert_eq!(err.rule, rule, "{err}");
    let shown = err.to_string();
    assert!(shown.contains(&format!("`{field}`")), "{shown}");
    assert!(shown.contains(&format!("`{}`", rule.as_str())), "{shown}");
}
