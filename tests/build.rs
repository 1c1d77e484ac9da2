//! Generates the code of every template (`templates/*.toml`) and of every test spec
//! (`tests/specs/*.toml`) into `OUT_DIR`, as a user's build script would; the test modules
//! `include!` it. A spec with errors fails this build with its rendered diagnostics.

use std::path::{Path, PathBuf};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut methods = std::collections::BTreeSet::new();
    for dir in [root.join("../templates"), root.join("specs")] {
        // New files in the directories rebuild too.
        println!("cargo:rerun-if-changed={}", dir.display());
        for spec in specs(&dir) {
            let stem = spec
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .replace('-', "_");
            session_spec::Builder::new()
                .file_name(format!("{stem}.rs"))
                .compile(&spec)
                .unwrap();
            let schema = session_spec::parse::parse_file(&spec).unwrap();
            for field in &schema.fields {
                methods.extend(session_spec::validate::accessor_names(field));
            }
        }
    }
    write_handle_probe(&methods);
}

/// Writes `handle_probe.rs`: a trait with one method for every accessor the generator
/// emits for the fields of the specs above (the names come from the validator's one table,
/// `session_spec::validate::accessor_names`), implemented for every `Session<S>`, and a
/// function that calls each one on a `Session<Dynamic>` expecting the probe's own return
/// type. A method call picks an inherent method over a trait's, and two traits' methods
/// of one name are ambiguous, so this compiles only if no generated accessor name is taken
/// by the session handle (its own methods, or those of a trait in the prelude): the check
/// the reserved field names exist for, made by the compiler against the real runtime
/// instead of by reading its source.
fn write_handle_probe(methods: &std::collections::BTreeSet<String>) {
    let mut decls = String::new();
    let mut impls = String::new();
    let mut calls = String::new();
    for m in methods {
        decls.push_str(&format!("    fn {m}(&self) -> Probe;\n"));
        impls.push_str(&format!(
            "    fn {m}(&self) -> Probe {{\n        Probe\n    }}\n"
        ));
        calls.push_str(&format!("    let _: Probe = session.{m}();\n"));
    }
    let names: Vec<String> = methods.iter().map(|m| format!("{m:?}")).collect();
    let code = format!(
        "/// The probe's own return type.\npub(crate) struct Probe;\n\n\
         /// One method a generated accessor name.\npub(crate) trait HandleProbe {{\n{decls}}}\n\n\
         impl<S: session_runtime::SessionSchema> HandleProbe for session_runtime::Session<S> {{\n{impls}}}\n\n\
         /// Calls every probe method; compiles only when the handle has none of them.\n\
         pub(crate) fn call_every_probe(session: &session_runtime::Session<session_runtime::Dynamic>) {{\n{calls}}}\n\n\
         /// The names probed.\npub(crate) const PROBED: &[&str] = &[{}];\n",
        names.join(", ")
    );
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("handle_probe.rs");
    if std::fs::read_to_string(&out).ok().as_deref() != Some(code.as_str()) {
        std::fs::write(&out, code).unwrap();
    }
}

fn specs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read `{}`: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    out.sort();
    out
}
