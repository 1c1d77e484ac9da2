//! Snapshots of the diagnostics of broken specs (`tests/broken/*.toml`).

use std::path::{Path, PathBuf};

use session_spec::parse::parse_str;

/// The broken specs, sorted by name: `(stem, path)`.
pub(crate) fn broken_specs() -> Vec<(String, PathBuf)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/broken");
    let mut specs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    specs.sort();
    specs
}

#[test]
fn there_are_enough_broken_specs() {
    assert!(broken_specs().len() >= 60, "{:?}", broken_specs());
}

#[test]
fn each_broken_spec_renders_its_diagnostics() {
    for (stem, path) in broken_specs() {
        let source = std::fs::read_to_string(&path).unwrap();
        let diagnostics = parse_str(&source, &format!("broken/{stem}.toml"))
            .expect_err(&format!("{stem}.toml should be rejected"));
        let errors = diagnostics.error_count();
        if stem == "many-mistakes" {
            assert!(errors >= 10, "{stem}: only {errors} errors:\n{diagnostics}");
        } else {
            assert_eq!(
                errors, 1,
                "{stem} should hold exactly one mistake:\n{diagnostics}"
            );
        }
        // Every error points into the file.
        for (d, at) in diagnostics.iter().zip(diagnostics.locations()) {
            assert!(at.is_some(), "{stem}: `{}` has no position", d.message);
        }
        insta::assert_snapshot!(stem.clone(), diagnostics.to_string());
    }
}

#[test]
fn colour_is_optional() {
    let d = parse_str("name = \"shop\"\n", "s.toml").unwrap_err();
    assert!(d.render(true).contains("\x1b["));
    assert!(!d.to_string().contains('\x1b'));
}

#[test]
fn a_principal_with_a_revocation_store_is_accepted() {
    let spec = "name = \"Shop\"\n\n[session]\nprincipal = \"user\"\n\
                revocation_store = { type = \"file\", dir = \"/var/lib/shop/revoked\" }\n\n\
                [fields.user]\ntype = \"Option<String>\"\nmax_length = 64\n";
    let schema = parse_str(spec, "s.toml").unwrap();
    assert_eq!(schema.settings.principal.as_deref(), Some("user"));
    assert!(matches!(
        schema.settings.revocation_store,
        Some(session_spec::settings::Backend::File { .. })
    ));
}
