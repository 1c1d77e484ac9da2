//! What generated code calls. Not public API: may change in any release.

use std::sync::OnceLock;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use regex_lite::Regex;
pub use serde;
pub use serde_json;
pub use session_spec::rules::{self, Rule, ValidationError};
pub use session_spec::{self, Settings};

use crate::schema::{Map, SessionSchema, ValidationErrors};
use crate::session::Session;

/// Reads the value stored under `key`, or `None` when absent or not a `T`.
pub fn get<S: SessionSchema, T: DeserializeOwned>(
    session: &Session<S>,
    key: &'static str,
) -> Option<T> {
    session.get_static(key)
}

/// Stores an already validated value under `key`.
///
/// # Errors
/// The value cannot be represented as JSON; reported as a `type` rule error on `field`.
pub fn set<S: SessionSchema, T: Serialize + ?Sized>(
    session: &Session<S>,
    field: &str,
    key: &'static str,
    value: &T,
) -> Result<(), ValidationError> {
    let json = serde_json::to_value(value)
        .map_err(|e| ValidationError::new(field, Rule::Type, e.to_string()))?;
    session.insert_value(key, json);
    Ok(())
}

/// Removes the value under `key`; returns whether one was present.
pub fn remove<S: SessionSchema>(session: &Session<S>, key: &'static str) -> bool {
    session.remove_value(key).is_some()
}

/// Applies `change` as one operation ([`Session::update`]): the collection helpers.
///
/// # Errors
/// The error `change` returns; the session is then unchanged.
pub fn update<S, F>(session: &Session<S>, change: F) -> Result<(), ValidationError>
where
    S: SessionSchema,
    F: Fn(&Session<S>) -> Result<(), ValidationError> + Send + Sync + 'static,
{
    session.update(change)
}

/// Decodes a stored value for `upgrade`.
///
/// # Errors
/// A `type` rule error naming `field` when the value is not a `T`.
pub fn decode<T: DeserializeOwned>(
    field: &str,
    value: &serde_json::Value,
) -> Result<T, ValidationError> {
    T::deserialize(value).map_err(|e| ValidationError::new(field, Rule::Type, e.to_string()))
}

/// Encodes a default value for `upgrade`.
///
/// # Errors
/// A `type` rule error naming `field` when the value cannot be represented as JSON.
pub fn encode<T: Serialize + ?Sized>(
    field: &str,
    value: &T,
) -> Result<serde_json::Value, ValidationError> {
    serde_json::to_value(value).map_err(|e| ValidationError::new(field, Rule::Type, e.to_string()))
}

/// Checks `pattern` with a regex compiled once per call site.
///
/// # Errors
/// A `pattern` rule error naming `field`.
pub fn pattern(
    field: &str,
    value: &str,
    cell: &'static OnceLock<Regex>,
    source: &str,
) -> Result<(), ValidationError> {
    let re = cell.get_or_init(|| {
        // The spec validator rejected invalid patterns at build time.
        rules::compile_pattern(source).unwrap_or_else(|_| Regex::new("$^").expect("valid"))
    });
    rules::pattern(field, value, re, source)
}

/// Collects errors for `upgrade`.
pub fn finish(errors: Vec<ValidationError>) -> Result<(), ValidationErrors> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ValidationErrors(errors))
    }
}

/// Drops every key of `data` that is not in `keys`.
pub fn retain_keys(data: &mut Map, keys: &[&str]) {
    data.retain(|k, _| keys.contains(&k.as_str()));
}
