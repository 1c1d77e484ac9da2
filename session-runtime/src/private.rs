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
pub use crate::schema::{ObjectWriter, SessionData};
use crate::session::Session;

/// The value of a typed field: `slot` picks the field out of the schema's data struct.
/// The read is recorded under `key`, the field's storage key.
pub fn field<S: SessionSchema, T: Clone>(
    session: &Session<S>,
    key: &'static str,
    slot: fn(&mut S::Data) -> &mut Option<T>,
) -> Option<T> {
    session.field(key, slot)
}

/// Stores an already validated value in a typed field.
pub fn set_field<S, T>(
    session: &Session<S>,
    key: &'static str,
    slot: fn(&mut S::Data) -> &mut Option<T>,
    value: T,
) where
    S: SessionSchema,
    T: Clone + PartialEq + Send + Sync + 'static,
{
    session.put_field(key, slot, Some(value));
}

/// Removes the value of a typed field; returns whether one was present.
pub fn remove_field<S, T>(
    session: &Session<S>,
    key: &'static str,
    slot: fn(&mut S::Data) -> &mut Option<T>,
) -> bool
where
    S: SessionSchema,
    T: Clone + PartialEq + Send + Sync + 'static,
{
    session.put_field(key, slot, None)
}

/// Decodes a loaded value for [`SessionData::from_map`], taking it apart rather than
/// copying it.
///
/// # Errors
/// A `type` rule error naming `field` when the value is not a `T`.
pub fn decode_owned<T: DeserializeOwned>(
    field: &str,
    value: serde_json::Value,
) -> Result<T, ValidationError> {
    T::deserialize(value).map_err(|e| ValidationError::new(field, Rule::Type, e.to_string()))
}

/// Collects the errors of [`SessionData::from_map`].
///
/// # Errors
/// Every error collected, when there is one.
pub fn finish_with<D>(data: D, errors: Vec<ValidationError>) -> Result<D, ValidationErrors> {
    finish(errors).map(|()| data)
}

/// Whether two values are the same, for [`SessionData::same`].
pub fn same<T: PartialEq>(a: &Option<T>, b: &Option<T>) -> bool {
    a == b
}

/// A typed field's value as JSON, for [`SessionData::value`] and
/// [`SessionData::to_map`]; `None` when it cannot be represented.
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> Option<serde_json::Value> {
    serde_json::to_value(value).ok()
}

/// Reads the value stored under `key`, or `None` when absent or not a `T` (schemas whose
/// data is a [`Map`]).
pub fn get<S: SessionSchema<Data = Map>, T: DeserializeOwned>(
    session: &Session<S>,
    key: &'static str,
) -> Option<T> {
    session.get_static(key)
}

/// Stores an already validated value under `key`.
///
/// # Errors
/// The value cannot be represented as JSON; reported as a `type` rule error on `field`.
pub fn set<S: SessionSchema<Data = Map>, T: Serialize + ?Sized>(
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
pub fn remove<S: SessionSchema<Data = Map>>(session: &Session<S>, key: &'static str) -> bool {
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
