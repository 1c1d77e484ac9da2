//! TOML values to IR values and JSON.

use std::collections::BTreeMap;

use toml::de::{DeFloat, DeInteger, DeValue};

use crate::diagnostic::Diagnostic;
use crate::ir::{FieldType, Value};

use super::{Cx, Val, origin};

/// An integer literal as `i64`, `None` when out of range.
pub(crate) fn integer(i: &DeInteger<'_>) -> Option<i64> {
    i64::from_str_radix(i.as_str(), i.radix()).ok()
}

/// A float literal (`inf` and `nan` included).
pub(crate) fn float(f: &DeFloat<'_>) -> Option<f64> {
    f.as_str().parse().ok()
}

impl Cx<'_> {
    /// The spec's `version`: a positive integer.
    pub(super) fn version(&mut self, value: &Val<'_>) -> Option<u32> {
        let v = match value.get_ref() {
            DeValue::Integer(i) => integer(i),
            _ => {
                self.wrong_type("`version`", "a positive integer", value);
                return None;
            }
        };
        match v.and_then(|v| u32::try_from(v).ok()).filter(|v| *v >= 1) {
            Some(v) => Some(v),
            None => {
                self.error(
                    Diagnostic::error(
                        "`version` must be an integer from 1 to 4294967295",
                        origin(value.span()),
                    )
                    .with_label("out of range"),
                );
                None
            }
        }
    }

    /// A literal as an IR value; reports datetimes and out-of-range integers.
    pub(crate) fn value(&mut self, what: &str, v: &Val<'_>) -> Option<Value> {
        Some(match v.get_ref() {
            DeValue::String(s) => Value::String(s.to_string()),
            DeValue::Boolean(b) => Value::Bool(*b),
            DeValue::Integer(i) => match integer(i) {
                Some(i) => Value::Int(i),
                None => {
                    self.error(
                        Diagnostic::error(
                            format!("integer out of range in {what}"),
                            origin(v.span()),
                        )
                        .with_label("does not fit in `i64`"),
                    );
                    return None;
                }
            },
            DeValue::Float(f) => match float(f) {
                Some(f) => Value::Float(f),
                None => {
                    self.error(Diagnostic::error(
                        format!("invalid float in {what}"),
                        origin(v.span()),
                    ));
                    return None;
                }
            },
            DeValue::Datetime(_) => {
                self.error(
                    Diagnostic::error(
                        format!("datetimes are not supported in {what}"),
                        origin(v.span()),
                    )
                    .with_label("datetime")
                    .with_help(
                        "store a timestamp as an integer (`i64` unix seconds) or a `String`",
                    ),
                );
                return None;
            }
            DeValue::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                let mut ok = true;
                for item in items {
                    match self.value(what, item) {
                        Some(v) => out.push(v),
                        None => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                Value::Array(out)
            }
            DeValue::Table(t) => {
                let mut out = BTreeMap::new();
                let mut ok = true;
                for (k, item) in super::entries(t) {
                    match self.value(what, item) {
                        Some(v) => {
                            out.insert(k.get_ref().to_string(), v);
                        }
                        None => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                Value::Table(out)
            }
        })
    }
}

/// Integers become floats where the type expects a float (`default = 1` for `f64`); see
/// [`Value::coerce`], shared with the derive front-end.
pub(crate) fn coerce(ty: &FieldType, v: Value) -> Value {
    v.coerce(ty)
}
