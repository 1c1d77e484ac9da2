//! The `session-spec` binary, run as a user would.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use session_spec::parse::parse_str;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_session-spec"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR");
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh empty directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("session-spec-it-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn check_passes_every_template() {
    let mut args = vec!["check".to_owned()];
    for t in super::templates::templates() {
        args.push(t.display().to_string());
    }
    let o = bin().args(&args).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stderr(&o).matches("ok: ").count(), args.len() - 1);
}

#[test]
fn check_fails_each_broken_spec_and_prints_every_position() {
    for (stem, path) in super::diagnostics::broken_specs() {
        let rel = format!("tests/broken/{stem}.toml");
        let o = run(&["check", &rel]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{stem}: {err}");
        let source = std::fs::read_to_string(&path).unwrap();
        let d = parse_str(&source, &rel).unwrap_err();
        for (diag, at) in d.iter().zip(d.locations()) {
            if !diag.is_error() {
                continue;
            }
            let (line, col) = at.unwrap();
            let needle = format!("--> {rel}:{line}:{col}\n");
            assert!(
                err.contains(&needle),
                "{stem}: missing `{needle}` in:\n{err}"
            );
        }
        assert!(
            err.contains(&format!("error: `{rel}` has {} error", d.error_count())),
            "{err}"
        );
        assert!(
            !err.contains('\x1b'),
            "no colour when stderr is not a terminal"
        );
    }
}

#[test]
fn check_reports_all_files_and_colours_on_request() {
    let o = run(&[
        "--color",
        "always",
        "check",
        "../templates/minimal.toml",
        "tests/broken/unknown-key.toml",
        "missing.toml",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("ok: `../templates/minimal.toml`"), "{err}");
    assert!(err.contains("\x1b[1;31merror"), "{err}");
    assert!(err.contains("cannot read `missing.toml`"), "{err}");
}

#[test]
fn warnings_do_not_fail_the_check() {
    let dir = scratch("warn");
    let spec = dir.join("dev.toml");
    std::fs::write(&spec, "name = \"Dev\"\n[session]\nsecure = false\n").unwrap();
    let o = run(&["check", spec.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("warning: `secure = false`"));
}

#[test]
fn init_writes_a_template_and_refuses_to_overwrite() {
    let dir = scratch("init");
    let path = dir.join("session.toml");
    let p = path.to_str().unwrap();
    let o = run(&["init", "--template", "auth", p]);
    assert!(o.status.success(), "{}", stderr(&o));
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(written.starts_with("#:schema ./session-spec.schema.json\n"));
    assert!(written.contains("[enums.Role]"));
    assert!(run(&["check", p]).status.success());

    std::fs::write(&path, "mine").unwrap();
    let o = run(&["init", p]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "mine");
}

#[test]
fn init_defaults_to_minimal_session_toml() {
    let dir = scratch("init-default");
    let o = bin().current_dir(&dir).arg("init").output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let written = std::fs::read_to_string(dir.join("session.toml")).unwrap();
    assert!(written.contains("name = \"AppSession\""));
    let o = run(&[
        "init",
        "--template",
        "nope",
        dir.join("x.toml").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("csrf-flash"),
        "lists the templates: {}",
        stderr(&o)
    );
}

#[test]
fn schema_prints_the_committed_schema() {
    let o = run(&["schema"]);
    assert!(o.status.success());
    let committed = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("session-spec.schema.json"),
    )
    .unwrap();
    assert!(
        String::from_utf8(o.stdout).unwrap() == committed,
        "`schema` differs from the committed file"
    );
}

#[test]
fn every_command_has_help() {
    for (cmd, expect) in [
        ("init", "Refuses to overwrite"),
        ("check", "file:line:col"),
        ("generate", "OUT_DIR"),
        ("schema", "#:schema"),
    ] {
        let o = run(&[cmd, "--help"]);
        assert!(o.status.success());
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains(expect), "{cmd} --help:\n{out}");
    }
}

#[test]
fn generate_reports_spec_errors() {
    let o = run(&["generate", "tests/broken/unknown-type.toml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("--> tests/broken/unknown-type.toml:5:13"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn generate_prints_or_writes_the_code() {
    let o = run(&["generate", "../templates/cart.toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let code = String::from_utf8(o.stdout).unwrap();
    assert!(code.contains("@generated"), "{code}");
    assert!(code.contains("CartSession"));

    let dir = scratch("generate");
    let out = dir.join("cart.rs");
    let o = run(&[
        "generate",
        "../templates/cart.toml",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), code);
}
