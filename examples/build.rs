//! Compiles the example session specs into typed Rust, as a user's build script would:
//! `examples/shop/session.toml` into `$OUT_DIR/shop.rs` and
//! `examples/quickstart/session.toml` into `$OUT_DIR/visits.rs`.

fn main() {
    for (spec, file_name) in [
        ("shop/session.toml", "shop.rs"),
        ("quickstart/session.toml", "visits.rs"),
    ] {
        // A spec with errors fails the build with every diagnostic, rustc-style.
        if let Err(error) = session_spec::Builder::new()
            .file_name(file_name)
            .compile(spec)
        {
            eprintln!("{error}");
            std::process::exit(1);
        }
    }
}
