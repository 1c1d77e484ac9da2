//! Compile tests of `#[derive(Session)]` (trybuild): every supported shape compiles and
//! behaves; every mistake fails with the error in its `.stderr` file (one mistake per file,
//! named for it, plus one file holding several). Regenerate the `.stderr` files with
//! `TRYBUILD=overwrite cargo test -p session-derive --test ui` and review the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
