//! The field rules, checked in one place.
//!
//! The spec validator (does a default break its own rule?), the generated setters and the
//! runtime's load-time check all call these functions, so a rule means the same everywhere.
//!
//! ```
//! use session_spec::rules::{self, Rule};
//! let err = rules::max_length("username", "a".repeat(65).as_str(), 64).unwrap_err();
//! assert_eq!(err.field, "username");
//! assert_eq!(err.rule, Rule::MaxLength);
//! assert!(rules::max_length("username", "ada", 64).is_ok());
//! ```

use std::fmt;

/// A validation rule's name, as written in specs and attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rule {
    /// `min`
    Min,
    /// `max`
    Max,
    /// `min_length`
    MinLength,
    /// `max_length`
    MaxLength,
    /// `max_items`
    MaxItems,
    /// `max_key_length`
    MaxKeyLength,
    /// `pattern`
    Pattern,
    /// `one_of`
    OneOf,
    /// `custom`
    Custom,
    /// The value does not have the field's type.
    Type,
    /// A field without default and not optional was missing.
    Required,
}

impl Rule {
    /// The rule's name as written in specs (`max_length`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Min => "min",
            Self::Max => "max",
            Self::MinLength => "min_length",
            Self::MaxLength => "max_length",
            Self::MaxItems => "max_items",
            Self::MaxKeyLength => "max_key_length",
            Self::Pattern => "pattern",
            Self::OneOf => "one_of",
            Self::Custom => "custom",
            Self::Type => "type",
            Self::Required => "required",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value that breaks a field's rule. Names the field and the rule.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}` breaks rule `{rule}`: {message}")]
pub struct ValidationError {
    /// The field's name.
    pub field: String,
    /// The rule broken.
    pub rule: Rule,
    /// What was expected and what was found.
    pub message: String,
}

impl ValidationError {
    /// A new error.
    pub fn new(field: &str, rule: Rule, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            rule,
            message: message.into(),
        }
    }
}

/// Result of one rule check.
pub type Result<T = (), E = ValidationError> = std::result::Result<T, E>;

/// `min` on an integer.
pub fn min_int(field: &str, value: i128, min: i128) -> Result {
    if value < min {
        return Err(ValidationError::new(
            field,
            Rule::Min,
            format!("expected at least {min}, got {value}"),
        ));
    }
    Ok(())
}

/// `max` on an integer.
pub fn max_int(field: &str, value: i128, max: i128) -> Result {
    if value > max {
        return Err(ValidationError::new(
            field,
            Rule::Max,
            format!("expected at most {max}, got {value}"),
        ));
    }
    Ok(())
}

/// `min` on a float; NaN breaks it.
pub fn min_float(field: &str, value: f64, min: f64) -> Result {
    if value.is_nan() || value < min {
        return Err(ValidationError::new(
            field,
            Rule::Min,
            format!("expected at least {min}, got {value}"),
        ));
    }
    Ok(())
}

/// `max` on a float; NaN breaks it.
pub fn max_float(field: &str, value: f64, max: f64) -> Result {
    if value.is_nan() || value > max {
        return Err(ValidationError::new(
            field,
            Rule::Max,
            format!("expected at most {max}, got {value}"),
        ));
    }
    Ok(())
}

/// `min_length`, counted in characters.
pub fn min_length(field: &str, value: &str, min: u64) -> Result {
    let n = value.chars().count() as u64;
    if n < min {
        return Err(ValidationError::new(
            field,
            Rule::MinLength,
            format!("expected at least {min} characters, got {n}"),
        ));
    }
    Ok(())
}

/// `max_length`, counted in characters.
pub fn max_length(field: &str, value: &str, max: u64) -> Result {
    if let Some(n) = chars_over(value, max) {
        return Err(ValidationError::new(
            field,
            Rule::MaxLength,
            format!("expected at most {max} characters, got {n}"),
        ));
    }
    Ok(())
}

/// `max_items` on a collection of `len` items.
pub fn max_items(field: &str, len: usize, max: u64) -> Result {
    if len as u64 > max {
        return Err(ValidationError::new(
            field,
            Rule::MaxItems,
            format!("expected at most {max} items, got {len}"),
        ));
    }
    Ok(())
}

/// `max_key_length` on a map's key, counted in characters (reported as `max_length` of
/// the key).
pub fn max_key_length(field: &str, key: &str, max: u64) -> Result {
    if let Some(n) = chars_over(key, max) {
        return Err(ValidationError::new(
            field,
            Rule::MaxKeyLength,
            format!("expected keys of at most {max} characters, got {n}"),
        ));
    }
    Ok(())
}

/// The length of `s` in characters when it is over `max`. Cheap when it is not: a string
/// of at most `max` bytes has at most `max` characters, so it is not counted.
fn chars_over(s: &str, max: u64) -> Option<u64> {
    if s.len() as u64 <= max {
        return None;
    }
    let n = s.chars().count() as u64;
    (n > max).then_some(n)
}

/// `pattern`: the regex must match the whole string (it is anchored by the caller or by
/// [`compile_pattern`]).
pub fn pattern(field: &str, value: &str, re: &regex_lite::Regex, source: &str) -> Result {
    if !re.is_match(value) {
        return Err(ValidationError::new(
            field,
            Rule::Pattern,
            format!("expected a match for `{source}`"),
        ));
    }
    Ok(())
}

/// Compiles a `pattern` rule so that it must match the whole string.
///
/// # Errors
/// Returns the regex engine's error for an invalid pattern.
pub fn compile_pattern(source: &str) -> std::result::Result<regex_lite::Regex, regex_lite::Error> {
    regex_lite::Regex::new(&format!("^(?:{source})$"))
}

/// `one_of`: the value must equal one of `allowed`.
pub fn one_of<T: PartialEq + fmt::Debug>(field: &str, value: &T, allowed: &[T]) -> Result {
    if !allowed.contains(value) {
        return Err(ValidationError::new(
            field,
            Rule::OneOf,
            format!("expected one of {allowed:?}, got {value:?}"),
        ));
    }
    Ok(())
}

/// `custom`: wraps a user validator's message.
pub fn custom(field: &str, outcome: std::result::Result<(), String>) -> Result {
    outcome.map_err(|message| ValidationError::new(field, Rule::Custom, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_count_characters() {
        assert!(max_length("f", "ééé", 3).is_ok());
        assert_eq!(
            max_length("f", "éééé", 3).unwrap_err().rule,
            Rule::MaxLength
        );
        assert_eq!(min_length("f", "é", 2).unwrap_err().rule, Rule::MinLength);
    }

    #[test]
    fn pattern_is_anchored() {
        let re = compile_pattern("[a-z]+").unwrap();
        assert!(pattern("f", "abc", &re, "[a-z]+").is_ok());
        assert!(pattern("f", "abc1", &re, "[a-z]+").is_err());
        assert!(compile_pattern("(").is_err());
    }

    #[test]
    fn message_names_field_and_rule() {
        let e = max_items("cart", 51, 50).unwrap_err();
        assert_eq!(
            e.to_string(),
            "field `cart` breaks rule `max_items`: expected at most 50 items, got 51"
        );
    }
}
