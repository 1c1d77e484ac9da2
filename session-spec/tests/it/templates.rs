//! The starter templates in `templates/`.

use std::path::{Path, PathBuf};

use session_spec::parse::{check_str, parse_file};

pub(crate) fn templates() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates");
    let mut t: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    t.sort();
    t
}

#[test]
fn every_template_parses_cleanly() {
    let all = templates();
    let names: Vec<_> = all
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    for expected in ["auth", "cart", "csrf-flash", "minimal"] {
        assert!(
            names.iter().any(|n| n == expected),
            "missing template {expected}"
        );
    }
    for path in all {
        let schema = parse_file(&path).unwrap_or_else(|d| panic!("{}", d));
        assert!(!schema.fields.is_empty());
        // No warnings either: templates show the secure way.
        let (_, d) = check_str(&std::fs::read_to_string(&path).unwrap(), "t.toml");
        assert!(d.is_empty(), "{}:\n{d}", path.display());
    }
}

#[test]
fn templates_point_editors_at_the_committed_schema() {
    for path in templates() {
        let text = std::fs::read_to_string(&path).unwrap();
        let first = text.lines().next().unwrap();
        let target = first
            .strip_prefix("#:schema ")
            .expect("first line is a `#:schema` directive");
        let schema = path.parent().unwrap().join(target);
        assert!(
            schema.is_file(),
            "{}: `{}` does not exist",
            path.display(),
            schema.display()
        );
    }
}

#[test]
fn templates_hold_what_they_promise() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates");
    let auth = parse_file(dir.join("auth.toml")).unwrap();
    let names: Vec<_> = auth.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["user_id", "username", "roles", "login_at"]);
    assert_eq!(auth.enums[0].name, "Role");
    let cart = parse_file(dir.join("cart.toml")).unwrap();
    let items = cart.field_by_key("items").unwrap();
    assert_eq!(items.rules.max_length.as_ref().unwrap().value, 16);
    assert_eq!(items.rules.max_items.as_ref().unwrap().value, 20);
    // Every template fits in a cookie, with room to spare.
    for name in ["auth", "cart", "csrf-flash", "minimal"] {
        let schema = parse_file(dir.join(format!("{name}.toml"))).unwrap();
        let total = session_spec::budget::cookie_budget(&schema).total();
        assert!(total.is_some_and(|t| t <= 4096), "{name}: {total:?}");
    }
    let csrf = parse_file(dir.join("csrf-flash.toml")).unwrap();
    assert!(csrf.field_by_key("csrf_token").unwrap().sensitive);
}
