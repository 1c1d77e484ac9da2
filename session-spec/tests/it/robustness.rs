//! Property tests: the TOML front-end never panics, and every diagnostic points inside the
//! file it reports on, whatever the input.

use proptest::prelude::*;
use session_spec::Origin;
use session_spec::parse::check_str;

const TEMPLATES: &[&str] = &[
    include_str!("../../templates/minimal.toml"),
    include_str!("../../templates/auth.toml"),
    include_str!("../../templates/cart.toml"),
    include_str!("../../templates/csrf-flash.toml"),
];

/// Pieces of specs, spliced into templates to make near-valid documents.
const PIECES: &[&str] = &[
    "=",
    "[",
    "]",
    "\"",
    "'",
    "\n",
    "{",
    "}",
    ",",
    "é",
    "\t",
    "#",
    "0",
    "-1",
    "1.5",
    "true",
    "\"x\"",
    "[fields.a]\n",
    "[session]\n",
    "type = \"u8\"\n",
    "max_length = 3\n",
    "default = \"\"\n",
    "min = 9\nmax = 1\n",
    "pattern = \"(\"\n",
    "key = \"items\"\n",
    "[enums.E]\nvariants = []\n",
    "same_site = \"none\"\n",
    "prefix = \"host\"\n",
    "secret = \"k\"\n",
    "type = \"Vec<Option<BTreeMap<String, u8>>>\"\n",
    "one_of = [1, \"a\"]\n",
    "backend = { type = \"file\" }\n",
    "[session.keys]\nenv = \"a b\"\n",
    "🦀",
];

fn check(source: &str) {
    let (schema, d) = check_str(source, "p.toml");
    assert_eq!(schema.is_some(), !d.has_errors());
    for item in d.iter() {
        if let Origin::Toml { span } = &item.origin {
            assert!(
                span.start <= span.end && span.end <= source.len(),
                "{span:?} in {}",
                source.len()
            );
        }
    }
    let lines = source.lines().count().max(1) + 1;
    for (line, col) in d.locations().into_iter().flatten() {
        assert!(line >= 1 && line <= lines && col >= 1);
    }
    let _ = d.render(true);
    let _ = d.to_string();
}

fn floor(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(source in "\\PC{0,200}") {
        check(&source);
    }

    #[test]
    fn edited_templates_never_panic(
        t in 0..TEMPLATES.len(),
        edits in proptest::collection::vec((any::<usize>(), any::<usize>(), 0..PIECES.len()), 1..6),
    ) {
        let mut source = TEMPLATES[t].to_owned();
        for (at, cut, piece) in edits {
            let start = floor(&source, at % (source.len() + 1));
            let end = floor(&source, start + cut % 8);
            source.replace_range(start..end.max(start), PIECES[piece]);
        }
        check(&source);
    }
}
