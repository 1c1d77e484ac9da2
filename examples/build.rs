//! Compiles the example session specs into typed Rust, as a user's build script would:
//! `examples/shop/session.toml` into `$OUT_DIR/shop.rs` and
//! `examples/quickstart/session.toml` into `$OUT_DIR/visits.rs`.

fn main() {
    for spec in ["shop/session.toml", "quickstart/session.toml"] {
        if let Err(error) = session_spec::compile(spec) {
            // The diagnostics are rendered rustc-style, with file, line and column.
            eprintln!("{error}");
            std::process::exit(1);
        }
    }
}
