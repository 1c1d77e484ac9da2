//! The runtime's modules depend one way: every `crate::` path in `src/` points to a module
//! of the same layer or a lower one, and the modules of one layer do not import each other
//! in a cycle (the layers are listed in the crate docs, "Modules, bottom up").

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use regex_lite::Regex;

/// The top-level modules of `src/`, bottom layer first.
const LAYERS: &[&[&str]] = &[
    &["time", "random", "base64url", "id"],
    &["keys", "codec"],
    &["expiry", "cookie", "schema", "session"],
    &["store"],
    &["config", "error"],
    &["manager"],
    &[
        "adapter",
        "extract",
        "layer",
        "actix",
        "private",
        "conformance",
    ],
];

/// `text` without line comments (doc comments included), string literals and
/// `#[cfg(test)] mod .. { .. }` blocks: a module's unit tests may use any layer.
fn code_of(text: &str) -> String {
    let strings = Regex::new(r#""(?:\\.|[^"\\])*""#).unwrap();
    let code: Vec<String> = text
        .lines()
        .map(|line| {
            if line.trim_start().starts_with("//") {
                String::new()
            } else {
                strings.replace_all(line, "\"\"").into_owned()
            }
        })
        .collect();
    let mut code = code.join("\n");
    let tests = Regex::new(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{").unwrap();
    while let Some(m) = tests.find(&code) {
        let (mut depth, mut end) = (1, m.end());
        for (i, c) in code[m.end()..].char_indices() {
            depth += match c {
                '{' => 1,
                '}' => -1,
                _ => 0,
            };
            if depth == 0 {
                end = m.end() + i + 1;
                break;
            }
        }
        code.replace_range(m.start()..end, "");
    }
    code
}

/// The first names of the paths in a `use` group body (`a, b::c, d::{e, f}`).
fn group_heads(body: &str) -> Vec<String> {
    let (mut depth, mut heads, mut current) = (0, Vec::new(), String::new());
    for c in body.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                heads.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    heads.push(current);
    heads
        .iter()
        .filter_map(|h| {
            let h = h.trim();
            let end = h
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(h.len());
            (end > 0).then(|| h[..end].to_owned())
        })
        .collect()
}

/// The names `crate::NAME` paths in `code` start with.
fn crate_paths(code: &str) -> Vec<String> {
    let path = Regex::new(r"\bcrate::(\{|\w+)").unwrap();
    let mut names = Vec::new();
    for m in path.captures_iter(code) {
        let whole = m.get(0).unwrap();
        if &m[1] == "{" {
            let mut depth = 1;
            let body_start = whole.end();
            let mut body_end = code.len();
            for (i, c) in code[body_start..].char_indices() {
                depth += match c {
                    '{' => 1,
                    '}' => -1,
                    _ => 0,
                };
                if depth == 0 {
                    body_end = body_start + i;
                    break;
                }
            }
            names.extend(group_heads(&code[body_start..body_end]));
        } else {
            names.push(m[1].to_owned());
        }
    }
    names
}

/// Module -> (module it imports -> one file that does), from the sources.
fn edges(src: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    // Root re-exports (`crate::Error` is `error`'s) and the `#[path]`-renamed module.
    let lib = code_of(&std::fs::read_to_string(src.join("lib.rs")).unwrap());
    let reexport = Regex::new(r"pub use (\w+)::(\{[^}]*\}|\w+)").unwrap();
    let mut owner: BTreeMap<String, String> = BTreeMap::new();
    for m in reexport.captures_iter(&lib) {
        let items = &m[2];
        let items = match items.strip_prefix('{') {
            Some(body) => group_heads(body.trim_end_matches('}')),
            None => vec![items.to_owned()],
        };
        for item in items {
            owner.insert(item, m[1].to_owned());
        }
    }
    owner.insert("__private".into(), "private".into());

    let mut files = Vec::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let mut edges: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_str()
            .unwrap();
        let module = first.trim_end_matches(".rs").to_owned();
        if module == "bin" || module == "lib" {
            continue;
        }
        let code = code_of(&std::fs::read_to_string(&file).unwrap());
        let to = edges.entry(module.clone()).or_default();
        for name in crate_paths(&code) {
            let target = owner.get(&name).cloned().unwrap_or(name);
            if target != module && target != "self" {
                to.entry(target)
                    .or_insert_with(|| rel.display().to_string());
            }
        }
    }
    edges
}

#[test]
fn modules_import_only_from_their_layer_or_below() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edges = edges(&src);
    let layer_of: BTreeMap<&str, usize> = LAYERS
        .iter()
        .enumerate()
        .flat_map(|(i, layer)| layer.iter().map(move |m| (*m, i)))
        .collect();
    let mut problems = Vec::new();
    for (module, targets) in &edges {
        let Some(&from) = layer_of.get(module.as_str()) else {
            problems.push(format!("`{module}` is in no layer of LAYERS"));
            continue;
        };
        for (target, file) in targets {
            // Paths to other crates' items through a root re-export (`crate::spec`) or to
            // root items are not module edges.
            let Some(&to) = layer_of.get(target.as_str()) else {
                continue;
            };
            if to > from {
                problems.push(format!(
                    "`{module}` (layer {from}) imports `{target}` (layer {to}) in {file}"
                ));
            }
        }
    }
    // No cycle among the modules of one layer (depth-first search on same-layer edges).
    fn visit<'a>(
        m: &'a str,
        edges: &'a BTreeMap<String, BTreeMap<String, String>>,
        layer_of: &BTreeMap<&str, usize>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
        problems: &mut Vec<String>,
    ) {
        if let Some(start) = path.iter().position(|p| *p == m) {
            problems.push(format!("cycle: {} -> {m}", path[start..].join(" -> ")));
            return;
        }
        if !done.insert(m) {
            return;
        }
        path.push(m);
        for target in edges.get(m).into_iter().flat_map(|t| t.keys()) {
            if layer_of.get(target.as_str()) == layer_of.get(m) {
                visit(target, edges, layer_of, path, done, problems);
            }
        }
        path.pop();
    }
    let mut done = BTreeSet::new();
    for module in edges.keys() {
        visit(
            module,
            &edges,
            &layer_of,
            &mut Vec::new(),
            &mut done,
            &mut problems,
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The check sees the imports it is about.
    assert!(edges["manager"].contains_key("store"), "{edges:?}");
    assert!(edges["store"].contains_key("codec"), "{edges:?}");
}
