//! "Did you mean" for unknown attribute names, with the same nearest-name rule as the TOML
//! front-end (`crate::suggest`).

use super::symbol::Symbol;

/// ``unknown session field attribute `defualt`, did you mean `default`?`` or, without a
/// close name, the list of every name; `what` names the thing and its name.
pub(super) fn unknown_message<'a>(
    what: &str,
    name: &str,
    candidates: impl Iterator<Item = &'a str>,
    listed: &[Symbol],
) -> String {
    match crate::suggest::nearest(name, candidates) {
        Some(c) => format!("unknown {what}, did you mean `{c}`?"),
        None => {
            let all: Vec<String> = listed.iter().map(|s| format!("`{s}`")).collect();
            format!("unknown {what}, expected one of {}", all.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rust::symbol;

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
