//! Field rules: each fits the field's type, can be satisfied, and can take effect.

use crate::diagnostic::Diagnostic;
use crate::ir::{Field, FieldType, Number, Spanned, Value};
use crate::rules::{self, Rule};

use super::{Cx, display_value, is_rust_path, number_text, rule_misfit, rule_origin};

impl Cx<'_> {
    /// A set of a type with few values (`bool`, a spec enum, a `one_of`) never holds more
    /// items than there are values: a larger `max_items` can never take effect, and says
    /// the author expected something else (a `Vec`, or more variants).
    fn check_max_items_of_a_set(&mut self, f: &Field, ty: &FieldType, max_items: &Spanned<u64>) {
        let item = match ty {
            FieldType::Set(item) => item,
            FieldType::Option(t) => match &**t {
                FieldType::Set(item) => item,
                _ => return,
            },
            _ => return,
        };
        let Some(domain) = crate::budget::set_domain(self.schema, f, item) else {
            return;
        };
        if usize::try_from(max_items.value).is_ok_and(|m| m <= domain) {
            return;
        }
        let (what, other) = match &f.rules.one_of {
            Some(one_of) if !matches!(**item, FieldType::Path(_)) => (
                format!("the {domain} values of its `one_of`"),
                one_of.origin.clone(),
            ),
            _ => (
                format!("the {domain} values of `{}`", item.to_rust()),
                f.ty.origin.clone(),
            ),
        };
        self.push(
            Diagnostic::error(
                format!(
                    "`max_items = {}` on set `{}` can never be reached: a set holds each of {what} at most once",
                    max_items.value, f.name
                ),
                max_items.origin.clone(),
            )
            .with_label("never reached")
            .with_secondary(other, format!("at most {domain} distinct items"))
            .with_help(format!(
                "remove `max_items` (the set is bounded anyway), or lower it to {domain} or less"
            )),
        );
    }

    pub(super) fn check_rules(&mut self, f: &Field) {
        let ty = &f.ty.value;
        let scalar = ty.scalar();
        let r = &f.rules;
        let shown = ty.to_rust();

        // Number rules.
        for (rule, bound) in [(Rule::Min, &r.min), (Rule::Max, &r.max)] {
            let Some(bound) = bound else { continue };
            match scalar {
                FieldType::Int(int) => {
                    let (lo, hi) = int.range();
                    match bound.value {
                        Number::Float(x) => self.push(
                            Diagnostic::error(
                                format!(
                                    "rule `{rule}` of integer field `{}` must be an integer, found `{x}`",
                                    f.name
                                ),
                                bound.origin.clone(),
                            )
                            .with_label("expected an integer"),
                        ),
                        Number::Int(x) if i128::from(x) < lo || i128::from(x) > hi => self.push(
                            Diagnostic::error(
                                format!(
                                    "rule `{rule}` = {x} is out of range for `{}` ({lo} to {hi})",
                                    int.as_str()
                                ),
                                bound.origin.clone(),
                            )
                            .with_label("out of range"),
                        ),
                        Number::Int(_) => {}
                    }
                }
                FieldType::Float(_) => {
                    if bound.value.as_f64().is_nan() {
                        self.push(Diagnostic::error(
                            format!("rule `{rule}` must be a number, found NaN"),
                            bound.origin.clone(),
                        ));
                    }
                }
                _ => self.push(rule_misfit(
                    f,
                    rule,
                    &shown,
                    &bound.origin,
                    "numbers (integers and floats)",
                )),
            }
        }
        if let (Some(min), Some(max)) = (&r.min, &r.max) {
            if min.value.as_f64() > max.value.as_f64() {
                self.push(
                    Diagnostic::error(
                        format!(
                            "`min` ({}) is greater than `max` ({}) in field `{}`: no value can pass",
                            number_text(min.value),
                            number_text(max.value),
                            f.name
                        ),
                        min.origin.clone(),
                    )
                    .with_label("greater than `max`")
                    .with_secondary(max.origin.clone(), "`max` is set here"),
                );
            }
        }

        // String rules.
        for (rule, origin) in [
            (Rule::MinLength, r.min_length.as_ref().map(|s| &s.origin)),
            (Rule::MaxLength, r.max_length.as_ref().map(|s| &s.origin)),
            (Rule::Pattern, r.pattern.as_ref().map(|s| &s.origin)),
        ] {
            let Some(origin) = origin else { continue };
            if *scalar != FieldType::String {
                self.push(rule_misfit(f, rule, &shown, origin, "strings"));
            }
        }
        if let (Some(min), Some(max)) = (&r.min_length, &r.max_length) {
            if min.value > max.value {
                self.push(
                    Diagnostic::error(
                        format!(
                            "`min_length` ({}) is greater than `max_length` ({}) in field `{}`: no value can pass",
                            min.value, max.value, f.name
                        ),
                        min.origin.clone(),
                    )
                    .with_label("greater than `max_length`")
                    .with_secondary(max.origin.clone(), "`max_length` is set here"),
                );
            }
        }
        if let Some(p) = &r.pattern {
            if let Err(e) = rules::compile_pattern(&p.value) {
                let detail = e.to_string();
                let first = detail.lines().last().unwrap_or("").trim().to_owned();
                self.push(
                    Diagnostic::error(
                        format!(
                            "invalid regular expression in `pattern` of field `{}`",
                            f.name
                        ),
                        p.origin.clone(),
                    )
                    .with_label(if first.is_empty() {
                        "invalid".to_owned()
                    } else {
                        first
                    })
                    .with_note("patterns use regex-lite syntax and must match the whole string"),
                );
            }
        }

        // Limits that allow nothing: a typo, or a field that should not exist.
        for (rule, limit) in [
            (Rule::MaxItems, &r.max_items),
            (Rule::MaxLength, &r.max_length),
        ] {
            if let Some(limit) = limit.as_ref().filter(|l| l.value == 0) {
                let only = if rule == Rule::MaxItems {
                    "an empty collection"
                } else {
                    "the empty string"
                };
                self.push(
                    Diagnostic::error(
                        format!("`{rule} = 0` on field `{}` allows only {only}", f.name),
                        limit.origin.clone(),
                    )
                    .with_label("allows nothing")
                    .with_help("raise the limit, or remove the field"),
                );
            }
        }

        // Collection rules.
        if let Some(max_items) = &r.max_items {
            if !ty.is_collection() {
                self.push(rule_misfit(
                    f,
                    Rule::MaxItems,
                    &shown,
                    &max_items.origin,
                    "collections (`Vec<T>`, sets and maps)",
                ));
            } else {
                self.check_max_items_of_a_set(f, ty, max_items);
            }
        }

        if let Some(max_key_length) = &r.max_key_length {
            let is_map = match ty {
                FieldType::Map(_) => true,
                FieldType::Option(t) => matches!(**t, FieldType::Map(_)),
                _ => false,
            };
            if !is_map {
                self.push(rule_misfit(
                    f,
                    Rule::MaxKeyLength,
                    &shown,
                    &max_key_length.origin,
                    "maps (`BTreeMap<String, T>`, `HashMap<String, T>`)",
                ));
            }
        }

        // `one_of`.
        if let Some(one_of) = &r.one_of {
            self.check_one_of(f, scalar, one_of);
        }

        // `custom`.
        if let Some(custom) = &r.custom {
            if !is_rust_path(&custom.value) {
                self.push(
                    Diagnostic::error(
                        format!(
                            "invalid `custom` validator `{}` in field `{}`: expected a path to a function",
                            custom.value, f.name
                        ),
                        custom.origin.clone(),
                    )
                    .with_help("write a path such as `crate::checks::username`, a `fn(&T) -> Result<(), String>`"),
                );
            }
        }
    }

    pub(super) fn check_one_of(
        &mut self,
        f: &Field,
        scalar: &FieldType,
        one_of: &Spanned<Vec<Value>>,
    ) {
        let origin = &one_of.origin;
        if one_of.value.is_empty() {
            self.push(
                Diagnostic::error(
                    format!("`one_of` of field `{}` is empty: no value can pass", f.name),
                    origin.clone(),
                )
                .with_label("empty"),
            );
            return;
        }
        match scalar {
            FieldType::Path(p) => {
                self.push(
                    Diagnostic::error(
                        format!(
                            "rule `one_of` does not apply to field `{}` of user type `{p}`",
                            f.name
                        ),
                        origin.clone(),
                    )
                    .with_help("use a `custom` validator for user types"),
                );
                return;
            }
            FieldType::Enum(name) if self.enum_def(name).is_none() => return,
            _ => {}
        }
        let mut seen = Vec::new();
        for item in &one_of.value {
            // An allowed value that the field's other rules refuse can never be stored.
            let mut broken = Vec::new();
            if self.check_scalar_value(scalar, item).is_ok() {
                self.default_breaks(f, scalar, item, &mut broken);
            }
            if let Some(e) = broken.first() {
                let mut d = Diagnostic::error(
                    format!(
                        "`one_of` item {} of field `{}` breaks its rule `{}`, so it can never be stored",
                        display_value(item),
                        f.name,
                        e.rule
                    ),
                    origin.clone(),
                )
                .with_label(e.message.clone())
                .with_help("remove the item, or loosen the rule");
                if let Some(o) = rule_origin(f, e.rule) {
                    d = d.with_secondary(o, format!("`{}` is set here", e.rule));
                }
                self.push(d);
            }
            if let Err(why) = self.check_scalar_value(scalar, item) {
                self.push(
                    Diagnostic::error(
                        format!(
                            "`one_of` item {} does not fit field `{}`: {why}",
                            display_value(item),
                            f.name
                        ),
                        origin.clone(),
                    )
                    .with_label(format!("expected `{}` values", scalar.to_rust())),
                );
            } else if seen.contains(&item) {
                self.push(Diagnostic::warning(
                    format!(
                        "`one_of` of field `{}` lists {} twice",
                        f.name,
                        display_value(item)
                    ),
                    origin.clone(),
                ));
            }
            seen.push(item);
        }
    }
}
