//! Literal values: defaults and `one_of` items have the field's type and pass its rules.

use crate::diagnostic::Diagnostic;
use crate::ir::{DefaultValue, Field, FieldType, Number, Spanned, Value};
use crate::rules::{self, Rule, ValidationError};

use crate::suggest::backticked;

use super::{Cx, display_value, expected_kind, kind_of, rule_origin};

impl Cx<'_> {
    pub(super) fn check_default(&mut self, f: &Field) {
        let Some(default) = &f.default else { return };
        let ty = &f.ty.value;
        match &default.value {
            DefaultValue::TypeDefault => {
                if let FieldType::Enum(name) = ty {
                    self.push(
                        Diagnostic::error(
                            format!(
                                "spec enum `{name}` has no `Default`, so field `{}` cannot use the type's default",
                                f.name
                            ),
                            default.origin.clone(),
                        )
                        .with_help("write the default variant's stored name instead, e.g. `default = \"user\"`"),
                    );
                }
            }
            DefaultValue::Value(v) => {
                if let Err(why) = self.check_value(ty, v) {
                    self.push(
                        Diagnostic::error(
                            format!(
                                "default of field `{}` does not have its type `{}`: {why}",
                                f.name,
                                ty.to_rust()
                            ),
                            default.origin.clone(),
                        )
                        .with_label(format!("expected `{}`", ty.to_rust())),
                    );
                    return;
                }
                let mut broken = Vec::new();
                self.default_breaks(f, ty, v, &mut broken);
                for e in broken {
                    let d = Diagnostic::error(
                        format!(
                            "default {} of field `{}` breaks its own rule `{}`",
                            display_value(v),
                            f.name,
                            e.rule
                        ),
                        default.origin.clone(),
                    )
                    .with_label(e.message.clone())
                    .with_help(format!("change the default, or the rule `{}`", e.rule));
                    let d = match rule_origin(f, e.rule) {
                        Some(o) => d.with_secondary(o, format!("`{}` is set here", e.rule)),
                        None => d,
                    };
                    self.push(d);
                }
            }
        }
    }

    /// Checks that `v` has type `ty` (a spec default); `Ok` for user types, which only the
    /// compiler can judge.
    pub(super) fn check_value(&self, ty: &FieldType, v: &Value) -> Result<(), String> {
        match (ty, v) {
            (FieldType::Option(inner), v) => self.check_value(inner, v),
            (FieldType::Vec(inner), Value::Array(items)) => {
                items.iter().enumerate().try_for_each(|(i, item)| {
                    self.check_value(inner, item)
                        .map_err(|e| format!("item {i}: {e}"))
                })
            }
            (FieldType::Set(inner), Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    self.check_value(inner, item)
                        .map_err(|e| format!("item {i}: {e}"))?;
                    // The generated `BTreeSet` would keep one of the two silently.
                    if let Some(j) = items[..i].iter().position(|earlier| earlier == item) {
                        return Err(format!(
                            "item {i} repeats item {j} ({}): a set holds each item once",
                            display_value(item)
                        ));
                    }
                }
                Ok(())
            }
            (FieldType::Map(inner), Value::Table(items)) => {
                items.iter().try_for_each(|(k, item)| {
                    self.check_value(inner, item)
                        .map_err(|e| format!("entry `{k}`: {e}"))
                })
            }
            (FieldType::Vec(_), v) => Err(format!("expected an array, found {}", kind_of(v))),
            (FieldType::Set(_), v) => Err(format!(
                "expected an array of distinct items, found {}",
                kind_of(v)
            )),
            (FieldType::Map(_), v) => Err(format!("expected a table, found {}", kind_of(v))),
            (FieldType::Path(_), _) => Ok(()),
            (scalar, v) => self.check_scalar_value(scalar, v),
        }
    }

    pub(super) fn check_scalar_value(&self, ty: &FieldType, v: &Value) -> Result<(), String> {
        match (ty, v) {
            (FieldType::Bool, Value::Bool(_))
            | (FieldType::String, Value::String(_))
            | (FieldType::Float(_), Value::Float(_) | Value::Int(_)) => Ok(()),
            (FieldType::Int(int), Value::Int(i)) => {
                let (lo, hi) = int.range();
                if (lo..=hi).contains(&i128::from(*i)) {
                    Ok(())
                } else {
                    Err(format!(
                        "{i} is out of range for `{}` ({lo} to {hi})",
                        int.as_str()
                    ))
                }
            }
            (FieldType::Enum(name), Value::String(s)) => match self.enum_def(name) {
                None => Ok(()),
                Some(e) if e.variants.iter().any(|var| var.key == *s) => Ok(()),
                Some(e) => {
                    let keys: Vec<_> = e.variants.iter().map(|v| v.key.as_str()).collect();
                    Err(format!(
                        "`{s}` is not a variant of `{name}`, expected one of {}",
                        backticked(&keys)
                    ))
                }
            },
            (FieldType::Path(_), _) => Ok(()),
            (ty, v) => Err(format!(
                "expected {}, found {}",
                expected_kind(ty),
                kind_of(v)
            )),
        }
    }

    /// The rules a default breaks, found with the same [`rules`] functions the generated
    /// setters call.
    pub(super) fn default_breaks(
        &self,
        f: &Field,
        ty: &FieldType,
        v: &Value,
        out: &mut Vec<ValidationError>,
    ) {
        let r = &f.rules;
        let name = f.name.as_str();
        match (ty, v) {
            (FieldType::Option(inner), v) => self.default_breaks(f, inner, v, out),
            (FieldType::Vec(inner) | FieldType::Set(inner), Value::Array(items)) => {
                if let Some(m) = &r.max_items {
                    out.extend(rules::max_items(name, items.len(), m.value).err());
                }
                for item in items {
                    self.default_breaks(f, inner, item, out);
                }
            }
            (FieldType::Map(inner), Value::Table(items)) => {
                if let Some(m) = &r.max_items {
                    out.extend(rules::max_items(name, items.len(), m.value).err());
                }
                if let Some(m) = &r.max_key_length {
                    for key in items.keys() {
                        out.extend(rules::max_key_length(name, key, m.value).err());
                    }
                }
                for item in items.values() {
                    self.default_breaks(f, inner, item, out);
                }
            }
            (FieldType::Int(_), Value::Int(i)) => {
                let i = i128::from(*i);
                if let Some(Spanned {
                    value: Number::Int(m),
                    ..
                }) = &r.min
                {
                    out.extend(rules::min_int(name, i, i128::from(*m)).err());
                }
                if let Some(Spanned {
                    value: Number::Int(m),
                    ..
                }) = &r.max
                {
                    out.extend(rules::max_int(name, i, i128::from(*m)).err());
                }
                self.one_of_breaks(f, v, out);
            }
            (FieldType::Float(_), Value::Float(_) | Value::Int(_)) => {
                let x = match v {
                    Value::Float(x) => *x,
                    Value::Int(i) => *i as f64,
                    _ => return,
                };
                if let Some(m) = &r.min {
                    out.extend(rules::min_float(name, x, m.value.as_f64()).err());
                }
                if let Some(m) = &r.max {
                    out.extend(rules::max_float(name, x, m.value.as_f64()).err());
                }
                self.one_of_breaks(f, v, out);
            }
            (FieldType::String, Value::String(s)) => {
                if let Some(m) = &r.min_length {
                    out.extend(rules::min_length(name, s, m.value).err());
                }
                if let Some(m) = &r.max_length {
                    out.extend(rules::max_length(name, s, m.value).err());
                }
                if let Some(p) = &r.pattern {
                    if let Ok(re) = rules::compile_pattern(&p.value) {
                        out.extend(rules::pattern(name, s, &re, &p.value).err());
                    }
                }
                self.one_of_breaks(f, v, out);
            }
            (FieldType::Bool | FieldType::Enum(_), v) => self.one_of_breaks(f, v, out),
            _ => {}
        }
    }

    pub(super) fn one_of_breaks(&self, f: &Field, v: &Value, out: &mut Vec<ValidationError>) {
        let Some(one_of) = &f.rules.one_of else {
            return;
        };
        if one_of.value.is_empty() {
            return;
        }
        let as_f64 = |v: &Value| match v {
            Value::Int(i) => Some(*i as f64),
            Value::Float(x) => Some(*x),
            _ => None,
        };
        let found = one_of.value.iter().any(|item| {
            item == v || matches!((as_f64(item), as_f64(v)), (Some(a), Some(b)) if a == b)
        });
        if !found {
            let items: Vec<_> = one_of.value.iter().map(display_value).collect();
            out.push(ValidationError::new(
                &f.name,
                Rule::OneOf,
                format!(
                    "expected one of {}, got {}",
                    items.join(", "),
                    display_value(v)
                ),
            ));
        }
    }
}
