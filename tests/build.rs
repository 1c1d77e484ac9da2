//! Generates the code of every template (`templates/*.toml`) and of every test spec
//! (`tests/specs/*.toml`) into `OUT_DIR`, as a user's build script would; the test modules
//! `include!` it. A spec with errors fails this build with its rendered diagnostics.

use std::path::{Path, PathBuf};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
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
        }
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
