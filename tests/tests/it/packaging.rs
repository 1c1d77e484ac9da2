//! What `cargo package` needs: each published crate holds the files it embeds, the
//! workspace's `templates/` mirrors the starter specs byte for byte, the SQL migrations exist
//! once, and every feature is documented.
//!
//! The crate that embeds a file owns it (`session-spec/templates/*.toml` for `init`,
//! `session-runtime/migrations/` for `migrate`), because a packaged crate cannot reach
//! `../templates`. The workspace's `templates/` stays the place a reader looks for starter
//! specs (these tests keep the two copies equal, so a file added or changed on one side only
//! fails here instead of shipping stale); the migrations have one copy, the crate's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives in the workspace")
        .to_path_buf()
}

/// Every file under `dir`, by its path relative to `dir`, with its bytes.
fn files(dir: &Path, filter: &dyn Fn(&Path) -> bool) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(
        root: &Path,
        dir: &Path,
        filter: &dyn Fn(&Path) -> bool,
        out: &mut BTreeMap<PathBuf, Vec<u8>>,
    ) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                walk(root, &path, filter, out);
            } else if filter(&path) {
                let bytes = std::fs::read(&path).expect("readable file");
                let relative = path.strip_prefix(root).expect("under root").to_path_buf();
                out.insert(relative, bytes);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, filter, &mut out);
    out
}

/// The text without its first line when that line is a `#:schema` directive (which points
/// at the schema relative to each copy, so it differs by design).
fn without_schema_line(bytes: &[u8]) -> &[u8] {
    if bytes.starts_with(b"#:schema ") {
        let end = bytes
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| i + 1);
        &bytes[end..]
    } else {
        bytes
    }
}

/// The SQL migrations exist once, in the crate that embeds and publishes them
/// (`session-runtime/migrations/{postgres,mysql}/`); `templates/` holds no copy and its
/// README sends the reader there.
#[test]
fn the_migrations_exist_once_in_the_runtime_crate() {
    let ws = workspace();
    let shipped = files(&ws.join("session-runtime/migrations"), &|_: &Path| true);
    assert!(
        shipped.keys().any(|p| p.starts_with("postgres"))
            && shipped.keys().any(|p| p.starts_with("mysql")),
        "{:?}",
        shipped.keys()
    );
    assert!(
        !ws.join("templates/migrations").exists(),
        "templates/migrations/ is a second copy of session-runtime/migrations/: remove it"
    );
    let readme =
        std::fs::read_to_string(ws.join("templates/README.md")).expect("templates/README.md");
    assert!(
        readme.contains("session-runtime/migrations/"),
        "templates/README.md must say where the migrations are"
    );
}

#[test]
fn the_starter_specs_in_templates_mirror_the_spec_crates_copy() {
    let ws = workspace();
    let toml = |p: &Path| p.extension().is_some_and(|e| e == "toml");
    let shipped = files(&ws.join("session-spec/templates"), &toml);
    let mirror: BTreeMap<_, _> = files(&ws.join("templates"), &toml)
        .into_iter()
        .filter(|(p, _)| p.parent() == Some(Path::new("")))
        .collect();
    assert!(shipped.len() >= 4, "{:?}", shipped.keys());
    assert_eq!(
        shipped.keys().collect::<Vec<_>>(),
        mirror.keys().collect::<Vec<_>>(),
        "session-spec/templates/ and templates/ hold different starter specs"
    );
    for (path, bytes) in &shipped {
        assert!(
            without_schema_line(bytes) == without_schema_line(&mirror[path]),
            "templates/{} differs from session-spec/templates/{0} (below the `#:schema` line)",
            path.display()
        );
        // Each copy's `#:schema` line points at the committed schema from where it lies.
        for dir in [ws.join("session-spec/templates"), ws.join("templates")] {
            let text = std::fs::read_to_string(dir.join(path)).expect("utf-8 spec");
            let target = text
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("#:schema "))
                .unwrap_or_else(|| panic!("{}: no `#:schema` first line", path.display()));
            let schema = dir.join(target);
            assert!(
                schema.is_file(),
                "{}: `{}` is missing",
                path.display(),
                schema.display()
            );
        }
    }
}

/// The feature names of a manifest's `[features]` table.
fn features(manifest: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(manifest).expect("manifest");
    let mut names = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = line == "[features]";
        } else if inside && !line.is_empty() && !line.starts_with('#') {
            if let Some((name, _)) = line.split_once('=') {
                names.push(name.trim().to_owned());
            }
        }
    }
    names
}

#[test]
fn every_feature_of_the_published_crates_is_documented() {
    let ws = workspace();
    for krate in ["session-spec", "session-runtime"] {
        let names = features(&ws.join(krate).join("Cargo.toml"));
        assert!(names.len() >= 3, "{krate}: {names:?}");
        let docs = std::fs::read_to_string(ws.join(krate).join("src/lib.rs")).expect("lib.rs");
        let section = docs
            .split_once("//! # Features")
            .unwrap_or_else(|| panic!("{krate}/src/lib.rs has no `# Features` section"))
            .1;
        let readme = std::fs::read_to_string(ws.join(krate).join("README.md")).expect("README");
        for name in names.iter().filter(|n| *n != "default") {
            assert!(
                section.contains(&format!("//! - `{name}`")),
                "feature `{name}` of {krate} is missing from the crate docs' `# Features` list"
            );
            assert!(
                readme.contains(&format!("| `{name}`")),
                "feature `{name}` of {krate} is missing from its README's feature table"
            );
        }
    }
}

#[test]
fn the_published_crates_carry_their_registry_metadata() {
    let ws = workspace();
    for krate in ["session-spec", "session-derive", "session-runtime"] {
        let manifest =
            std::fs::read_to_string(ws.join(krate).join("Cargo.toml")).expect("manifest");
        for key in [
            "description = ",
            "readme = \"README.md\"",
            "keywords = ",
            "categories = ",
        ] {
            assert!(manifest.contains(key), "{krate}/Cargo.toml lacks `{key}`");
        }
        assert!(
            manifest.contains("[package.metadata.docs.rs]\nall-features = true"),
            "{krate}: docs.rs builds with every feature"
        );
        assert!(
            ws.join(krate).join("README.md").is_file(),
            "{krate}/README.md"
        );
    }
}
