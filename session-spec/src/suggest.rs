//! "Did you mean ...?" suggestions for misspelt keys and types, and the "expected one of"
//! lists: shared by both front-ends and the validator.

/// `a`, `b`, `c` with backticks.
pub(crate) fn backticked<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(|s| format!("`{}`", s.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The edit distance (insertions, deletions, substitutions; an adjacent swap counts one)
/// between two strings, by characters.
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Optimal string alignment distance, three rolling rows.
    let mut prev2 = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(prev2[j - 2] + 1);
            }
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate closest to `word`, if it is close enough to be a likely typo: at most a
/// third of the word's length away (at least one edit), or equal ignoring case and `_`/`-`.
pub(crate) fn nearest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let squash = |s: &str| -> String {
        s.chars()
            .filter(|c| *c != '_' && *c != '-')
            .flat_map(char::to_lowercase)
            .collect()
    };
    let limit = (word.chars().count() / 3).max(1);
    let w = squash(word);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        if c == word {
            continue;
        }
        let d = if squash(c) == w { 0 } else { distance(word, c) };
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// ``unknown session field attribute `defualt`, did you mean `default`?`` or, without a
/// close name, the list of every name (`listed`): the derive front-end's one-line message
/// (the TOML front-end gives the same suggestion as a help line); `what` names the thing
/// and its name.
#[cfg(feature = "derive")]
pub(crate) fn unknown_message<'a>(
    what: &str,
    name: &str,
    candidates: impl Iterator<Item = &'a str>,
    listed: &[impl std::fmt::Display],
) -> String {
    match nearest(name, candidates) {
        Some(c) => format!("unknown {what}, did you mean `{c}`?"),
        None => {
            let all: Vec<String> = listed.iter().map(|s| s.to_string()).collect();
            format!("unknown {what}, expected one of {}", backticked(&all))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("default", "defualt"), 1);
        assert_eq!(distance("max_length", "max_lenght"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("dri", "dir"), 1);
        assert_eq!(distance("max_len", "max_length"), 3);
        assert_eq!(distance("", "abc"), 3);
    }

    #[test]
    fn nearest_key() {
        let keys = ["default", "doc", "key", "max_length", "max_items"];
        assert_eq!(nearest("defualt", keys), Some("default"));
        assert_eq!(nearest("maxLength", keys), Some("max_length"));
        assert_eq!(nearest("colour", keys), None);
        assert_eq!(nearest("dco", keys), Some("doc"));
    }

    #[cfg(feature = "derive")]
    #[test]
    fn suggests_the_nearest_name() {
        let fields = crate::derive::symbol::FIELD;
        let message = |name: &str| {
            let what = format!("session field attribute `{name}`");
            unknown_message(&what, name, fields.iter().map(|s| s.0), fields)
        };
        assert_eq!(
            message("max_lenght"),
            "unknown session field attribute `max_lenght`, did you mean `max_length`?"
        );
        let m = message("colour");
        assert!(
            m.starts_with(
                "unknown session field attribute `colour`, expected one of `default`, `key`"
            ),
            "{m}"
        );
    }
}
