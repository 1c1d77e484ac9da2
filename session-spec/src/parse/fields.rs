//! `[fields.NAME]` and `[enums.NAME]` tables.

use toml::de::{DeTable, DeValue};

use crate::diagnostic::Diagnostic;
use crate::ir::{DefaultValue, EnumDef, Field, FieldType, Number, Rules, Spanned, Value, Variant};

use super::value::{coerce, float, integer};
use super::{Cx, ENUM_KEYS, FIELD_KEYS, Key, VARIANT_KEYS, Val, entries, origin};

/// The Rust variant name of a stored name: `super_admin` -> `SuperAdmin`.
pub(crate) fn upper_camel(stored: &str) -> String {
    stored
        .split(['_', '-', ' ', '.'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

impl Cx<'_> {
    pub(crate) fn enums(&mut self, table: &DeTable<'_>) -> Vec<EnumDef> {
        let mut out = Vec::new();
        for (key, value) in entries(table) {
            let name = key.get_ref().to_string();
            let mut def = EnumDef {
                name: name.clone(),
                doc: None,
                variants: Vec::new(),
                origin: origin(key.span()),
            };
            match value.get_ref() {
                // Shorthand: `enums.Role = ["user", "admin"]`.
                DeValue::Array(_) => def.variants = self.variants(&name, value),
                DeValue::Table(t) => {
                    let mut seen_variants = false;
                    for (k, v) in entries(t) {
                        match k.get_ref().as_ref() {
                            "variants" => {
                                seen_variants = true;
                                def.variants = self.variants(&name, v);
                            }
                            "doc" => def.doc = self.string("`doc`", v),
                            _ => self.unknown_key(k, v, ENUM_KEYS, &format!("enum `{name}`")),
                        }
                    }
                    if !seen_variants {
                        self.error(
                            Diagnostic::error(
                                format!("enum `{name}` has no `variants`"),
                                origin(key.span()),
                            )
                            .with_help("list the stored names: `variants = [\"user\", \"admin\"]`"),
                        );
                        continue;
                    }
                }
                _ => {
                    self.wrong_type(&format!("enum `{name}`"), "a table with `variants`", value);
                    continue;
                }
            }
            out.push(def);
        }
        out
    }

    fn variants(&mut self, enum_name: &str, value: &Val<'_>) -> Vec<Variant> {
        let Some(items) = value.get_ref().as_array() else {
            self.wrong_type(&format!("the variants of `{enum_name}`"), "an array", value);
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            match item.get_ref() {
                DeValue::String(s) => out.push(Variant {
                    name: upper_camel(s),
                    key: s.to_string(),
                    origin: origin(item.span()),
                }),
                DeValue::Table(t) => {
                    let (mut name, mut key) = (None, None);
                    for (k, v) in entries(t) {
                        match k.get_ref().as_ref() {
                            "name" => name = self.string("a variant's `name`", v),
                            "key" => key = self.string("a variant's `key`", v),
                            _ => self.unknown_key(k, v, VARIANT_KEYS, "a variant"),
                        }
                    }
                    let (name, key) = match (name, key) {
                        (Some(n), Some(k)) => (n, k),
                        (Some(n), None) => (n.clone(), n),
                        (None, Some(k)) => (upper_camel(&k), k),
                        (None, None) => {
                            self.error(
                                Diagnostic::error(
                                    format!("a variant of `{enum_name}` has neither `name` nor `key`"),
                                    origin(item.span()),
                                )
                                .with_help("write `{ name = \"Admin\", key = \"admin\" }` or just `\"admin\"`"),
                            );
                            continue;
                        }
                    };
                    out.push(Variant {
                        name,
                        key,
                        origin: origin(item.span()),
                    });
                }
                _ => self.wrong_type(
                    &format!("a variant of `{enum_name}`"),
                    "a string or a `{ name, key }` table",
                    item,
                ),
            }
        }
        out
    }

    pub(crate) fn fields(&mut self, table: &DeTable<'_>, enums: &[EnumDef]) -> Vec<Field> {
        let enum_names: Vec<&str> = enums.iter().map(|e| e.name.as_str()).collect();
        let mut out = Vec::new();
        for (key, value) in entries(table) {
            if let Some(f) = self.field(key, value, &enum_names) {
                out.push(f);
            }
        }
        out
    }

    /// One field; `None` when its type could not be read (its other keys are still
    /// checked, but rules are not judged against a type that is not known).
    fn field(&mut self, key: &Key<'_>, value: &Val<'_>, enums: &[&str]) -> Option<Field> {
        let name = key.get_ref().to_string();
        let mut field = Field {
            name: name.clone(),
            key: name.clone(),
            ty: Spanned::new(FieldType::String),
            default: None,
            doc: None,
            sensitive: false,
            shown: false,
            rules: Rules::default(),
            origin: origin(key.span()),
        };
        let place = format!("field `{name}`");
        // Shorthand: `fields.user_id = "u64"`.
        if value.get_ref().is_str() {
            return self
                .field_type(&name, value, enums)
                .map(|ty| Field { ty, ..field });
        }
        let Some(t) = value.get_ref().as_table() else {
            self.wrong_type(&place, "a table (or a type as a string)", value);
            return None;
        };
        let mut ty = None;
        let mut type_seen = false;
        let mut default: Option<(&Val<'_>, Value)> = None;
        let mut type_default: Option<&Val<'_>> = None;
        let mut one_of: Option<(&Val<'_>, Vec<Value>)> = None;
        for (k, v) in entries(t) {
            let what = format!("`{}` of {place}", k.get_ref());
            match k.get_ref().as_ref() {
                "type" => {
                    type_seen = true;
                    ty = self.field_type(&name, v, enums);
                }
                "default" => {
                    if let Some(val) = self.value(&what, v) {
                        default = Some((v, val));
                    }
                }
                "type_default" => {
                    if self.boolean(&what, v) == Some(true) {
                        type_default = Some(v);
                    }
                }
                "doc" => field.doc = self.string(&what, v),
                "key" => {
                    if let Some(s) = self.string(&what, v) {
                        field.key = s;
                    }
                }
                "sensitive" => field.sensitive = self.boolean(&what, v).unwrap_or(false),
                "shown" => field.shown = self.boolean(&what, v).unwrap_or(false),
                "min" => field.rules.min = self.number(&what, v),
                "max" => field.rules.max = self.number(&what, v),
                "min_length" => field.rules.min_length = self.count(&what, v),
                "max_length" => field.rules.max_length = self.count(&what, v),
                "max_items" => field.rules.max_items = self.count(&what, v),
                "max_key_length" => field.rules.max_key_length = self.count(&what, v),
                "pattern" => {
                    field.rules.pattern = self
                        .string(&what, v)
                        .map(|s| Spanned::with_origin(s, origin(v.span())));
                }
                "one_of" => match v.get_ref() {
                    DeValue::Array(_) => {
                        if let Some(Value::Array(items)) = self.value(&what, v) {
                            one_of = Some((v, items));
                        }
                    }
                    _ => self.wrong_type(&what, "an array of allowed values", v),
                },
                "custom" => {
                    field.rules.custom = self
                        .string(&what, v)
                        .map(|s| Spanned::with_origin(s, origin(v.span())));
                }
                _ => self.unknown_key(k, v, FIELD_KEYS, &place),
            }
        }
        if let (Some((dv, _)), Some(tv)) = (&default, type_default) {
            self.error(
                Diagnostic::error(
                    format!("{place} has both `default` and `type_default = true`"),
                    origin(tv.span()),
                )
                .with_label("remove this or `default`")
                .with_note(format!(
                    "`default` is written at {}",
                    self.position(dv.span().start)
                )),
            );
        }
        if !type_seen {
            self.error(
                Diagnostic::error(format!("{place} has no `type`"), origin(key.span()))
                    .with_label("missing `type`")
                    .with_help(
                        "add a Rust type, e.g. `type = \"String\"` or `type = \"Option<u64>\"`",
                    ),
            );
            return None;
        }
        let ty = ty?;
        if let Some((dv, val)) = default {
            field.default = Some(Spanned::with_origin(
                DefaultValue::Value(coerce(&ty.value, val)),
                origin(dv.span()),
            ));
        } else if let Some(tv) = type_default {
            field.default = Some(Spanned::with_origin(
                DefaultValue::TypeDefault,
                origin(tv.span()),
            ));
        }
        if let Some((ov, items)) = one_of {
            let scalar = ty.value.scalar().clone();
            let items = items.into_iter().map(|v| coerce(&scalar, v)).collect();
            field.rules.one_of = Some(Spanned::with_origin(items, origin(ov.span())));
        }
        field.ty = ty;
        Some(field)
    }

    fn position(&self, offset: usize) -> String {
        let (l, c) = crate::diagnostic::line_col(self.source, offset);
        format!("{l}:{c}")
    }

    fn field_type(
        &mut self,
        field: &str,
        v: &Val<'_>,
        enums: &[&str],
    ) -> Option<Spanned<FieldType>> {
        let text = self.string(&format!("the `type` of field `{field}`"), v)?;
        match super::ty::parse_type(&text, enums) {
            Ok(ty) => Some(Spanned::with_origin(ty, origin(v.span()))),
            Err(e) => {
                let span = self.string_sub_span(v, &text, e.range);
                let mut d = Diagnostic::error(
                    format!("{} in the type of field `{field}`", e.message),
                    origin(span),
                )
                .with_label(e.label);
                if let Some(h) = e.help {
                    d = d.with_help(h);
                }
                self.error(d);
                None
            }
        }
    }

    fn number(&mut self, what: &str, v: &Val<'_>) -> Option<Spanned<Number>> {
        let n = match v.get_ref() {
            DeValue::Integer(i) => integer(i).map(Number::Int),
            DeValue::Float(f) => float(f).map(Number::Float),
            _ => {
                self.wrong_type(what, "a number", v);
                return None;
            }
        };
        if n.is_none() {
            self.error(Diagnostic::error(
                format!("{what} is out of range"),
                origin(v.span()),
            ));
        }
        n.map(|n| Spanned::with_origin(n, origin(v.span())))
    }

    fn count(&mut self, what: &str, v: &Val<'_>) -> Option<Spanned<u64>> {
        let DeValue::Integer(i) = v.get_ref() else {
            self.wrong_type(what, "a non-negative integer", v);
            return None;
        };
        match integer(i).and_then(|i| u64::try_from(i).ok()) {
            Some(n) => Some(Spanned::with_origin(n, origin(v.span()))),
            None => {
                self.error(
                    Diagnostic::error(
                        format!("{what} must be a non-negative integer"),
                        origin(v.span()),
                    )
                    .with_label("expected 0 or more"),
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn upper_camel() {
        assert_eq!(super::upper_camel("super_admin"), "SuperAdmin");
        assert_eq!(super::upper_camel("read-only"), "ReadOnly");
        assert_eq!(super::upper_camel("User"), "User");
        assert_eq!(super::upper_camel("élan"), "Élan");
    }
}
