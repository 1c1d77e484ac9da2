//! Field rules: each fits the field's type, can be satisfied, and can take effect.

use crate::diagnostic::Diagnostic;
use crate::ir::{Field, FieldType, Number, Origin, Spanned, Value};
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

    /// Every rule of one field, one small check each.
    pub(super) fn check_rules(&mut self, f: &Field) {
        self.check_number_bounds_fit(f);
        self.check_min_not_above_max(f);
        self.check_string_rules_fit(f);
        self.check_min_length_not_above_max_length(f);
        self.check_pattern_compiles(f);
        self.check_limits_allow_something(f);
        self.check_max_items_fits(f);
        self.check_max_key_length_fits(f);
        if let Some(one_of) = &f.rules.one_of {
            self.check_one_of(f, f.ty.value.scalar(), one_of);
        }
        self.check_custom_is_a_path(f);
    }

    /// `min` and `max` bound numbers; on an integer they must be integers the type can
    /// hold (a bound outside the range is a typo or the wrong type), on a float not NaN
    /// (every comparison with NaN is false, so it would bound nothing).
    fn check_number_bounds_fit(&mut self, f: &Field) {
        let scalar = f.ty.value.scalar();
        let r = &f.rules;
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
                    &f.ty.value.to_rust(),
                    &bound.origin,
                    "numbers (integers and floats)",
                )),
            }
        }
    }

    /// `min > max` lets no value pass: every write of the field would fail.
    fn check_min_not_above_max(&mut self, f: &Field) {
        let (Some(min), Some(max)) = (&f.rules.min, &f.rules.max) else {
            return;
        };
        if min.value.as_f64() > max.value.as_f64() {
            self.lower_bound_above_upper(
                f,
                ("min", number_text(min.value), &min.origin),
                ("max", number_text(max.value), &max.origin),
            );
        }
    }

    /// A lower bound above its upper bound (`min` and `max`, `min_length` and
    /// `max_length`), each given as its rule name, its value and where it is set.
    fn lower_bound_above_upper(
        &mut self,
        f: &Field,
        (min_name, min, min_origin): (&str, String, &Origin),
        (max_name, max, max_origin): (&str, String, &Origin),
    ) {
        self.push(
            Diagnostic::error(
                format!(
                    "`{min_name}` ({min}) is greater than `{max_name}` ({max}) in field `{}`: no value can pass",
                    f.name
                ),
                min_origin.clone(),
            )
            .with_label(format!("greater than `{max_name}`"))
            .with_secondary(max_origin.clone(), format!("`{max_name}` is set here")),
        );
    }

    /// `min_length`, `max_length` and `pattern` only mean something for strings.
    fn check_string_rules_fit(&mut self, f: &Field) {
        let r = &f.rules;
        for (rule, origin) in [
            (Rule::MinLength, r.min_length.as_ref().map(|s| &s.origin)),
            (Rule::MaxLength, r.max_length.as_ref().map(|s| &s.origin)),
            (Rule::Pattern, r.pattern.as_ref().map(|s| &s.origin)),
        ] {
            let Some(origin) = origin else { continue };
            if *f.ty.value.scalar() != FieldType::String {
                self.push(rule_misfit(
                    f,
                    rule,
                    &f.ty.value.to_rust(),
                    origin,
                    "strings",
                ));
            }
        }
    }

    /// `min_length > max_length` lets no string pass.
    fn check_min_length_not_above_max_length(&mut self, f: &Field) {
        let (Some(min), Some(max)) = (&f.rules.min_length, &f.rules.max_length) else {
            return;
        };
        if min.value > max.value {
            self.lower_bound_above_upper(
                f,
                ("min_length", min.value.to_string(), &min.origin),
                ("max_length", max.value.to_string(), &max.origin),
            );
        }
    }

    /// A pattern that does not compile would fail every write at run time.
    fn check_pattern_compiles(&mut self, f: &Field) {
        let Some(p) = &f.rules.pattern else { return };
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

    /// A limit of 0 allows nothing: a typo, or a field that should not exist.
    fn check_limits_allow_something(&mut self, f: &Field) {
        let r = &f.rules;
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
    }

    /// `max_items` counts the items of a collection; on a set of few values it must be
    /// reachable.
    fn check_max_items_fits(&mut self, f: &Field) {
        let Some(max_items) = &f.rules.max_items else {
            return;
        };
        let ty = &f.ty.value;
        if ty.is_collection() {
            self.check_max_items_of_a_set(f, ty, max_items);
        } else {
            self.push(rule_misfit(
                f,
                Rule::MaxItems,
                &ty.to_rust(),
                &max_items.origin,
                "collections (`Vec<T>`, sets and maps)",
            ));
        }
    }

    /// `max_key_length` bounds a map's keys; other types have none.
    fn check_max_key_length_fits(&mut self, f: &Field) {
        let Some(max_key_length) = &f.rules.max_key_length else {
            return;
        };
        let ty = &f.ty.value;
        let is_map = match ty {
            FieldType::Map(_) => true,
            FieldType::Option(t) => matches!(**t, FieldType::Map(_)),
            _ => false,
        };
        if !is_map {
            self.push(rule_misfit(
                f,
                Rule::MaxKeyLength,
                &ty.to_rust(),
                &max_key_length.origin,
                "maps (`BTreeMap<String, T>`, `HashMap<String, T>`)",
            ));
        }
    }

    /// A `custom` validator is called by path from generated code: anything else would be
    /// a compile error in generated code, far from the attribute.
    fn check_custom_is_a_path(&mut self, f: &Field) {
        let Some(custom) = &f.rules.custom else {
            return;
        };
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
