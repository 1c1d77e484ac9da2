//! "Did you mean" for unknown attribute names.

use super::symbol::Symbol;

/// ``unknown session field attribute `defualt`, did you mean `default`?`` or, without a
/// close name, the list of every name; `what` names the thing and its name.
pub(super) fn unknown_message<'a>(
    what: &str,
    name: &str,
    candidates: impl Iterator<Item = &'a str>,
    listed: &[Symbol],
) -> String {
    let best = candidates
        .map(|c| (distance(name, c), c))
        .filter(|(d, c)| *d <= (c.len().max(name.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d);
    match best {
        Some((_, c)) => format!("unknown {what}, did you mean `{c}`?"),
        None => {
            let all: Vec<String> = listed.iter().map(|s| format!("`{s}`")).collect();
            format!("unknown {what}, expected one of {}", all.join(", "))
        }
    }
}

/// Edit distance in characters, a swap of two neighbours counting as one edit (optimal
/// string alignment), so that `defualt` is one edit from `default`.
pub(super) fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rust::symbol;

    #[test]
    fn distance_counts_edits() {
        assert_eq!(distance("defualt", "default"), 1);
        assert_eq!(distance("dri", "dir"), 1);
        assert_eq!(distance("max_len", "max_length"), 3);
        assert_eq!(distance("", "abc"), 3);
    }

    #[test]
    fn suggests_the_nearest_name() {
        let names = symbol::FIELD.iter().map(|s| s.0);
        let m = unknown_message(
            "session field attribute `max_lenght`",
            "max_lenght",
            names,
            symbol::FIELD,
        );
        assert_eq!(
            m,
            "unknown session field attribute `max_lenght`, did you mean `max_length`?"
        );
        let names = symbol::FIELD.iter().map(|s| s.0);
        let m = unknown_message(
            "session field attribute `colour`",
            "colour",
            names,
            symbol::FIELD,
        );
        assert!(
            m.starts_with(
                "unknown session field attribute `colour`, expected one of `default`, `key`"
            ),
            "{m}"
        );
    }
}
