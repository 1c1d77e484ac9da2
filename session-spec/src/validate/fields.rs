//! Fields: names that become accessors, storage keys, and types.

use std::collections::BTreeMap;

use crate::diagnostic::Diagnostic;
use crate::ir::{Field, FieldType, Origin, Spanned};
use crate::suggest::backticked;

use super::{Cx, KEYWORDS, RESERVED_FIELD_NAMES, accessor_names, is_snake_case, is_type_path};

impl Cx<'_> {
    pub(super) fn check_fields(&mut self) {
        let mut names: BTreeMap<&str, &Field> = BTreeMap::new();
        let mut keys: BTreeMap<&str, &Field> = BTreeMap::new();
        let mut methods: BTreeMap<String, &Field> = BTreeMap::new();
        for f in &self.schema.fields {
            self.check_field_name(f);
            // Two fields whose generated methods share a name cannot both be expanded.
            for m in accessor_names(f) {
                match methods.get(&m) {
                    Some(other) if other.name != f.name => {
                        self.push(
                            Diagnostic::error(
                                format!(
                                    "fields `{}` and `{}` both generate a method `{m}`",
                                    other.name, f.name
                                ),
                                f.origin.clone(),
                            )
                            .with_label("accessor names collide")
                            .with_help(format!(
                                "rename this field and keep its stored name with `key = \"{}\"`",
                                f.key
                            )),
                        );
                        break;
                    }
                    _ => {
                        methods.insert(m, f);
                    }
                }
            }
            if names.insert(f.name.as_str(), f).is_some() {
                self.push(Diagnostic::error(
                    format!("field `{}` is declared twice", f.name),
                    f.origin.clone(),
                ));
            }
            // One storage key holding two fields would let one overwrite the other.
            if f.key.is_empty() {
                self.push(Diagnostic::error(
                    format!("field `{}` has an empty storage `key`", f.name),
                    f.origin.clone(),
                ));
            } else if let Some(other) = keys.insert(f.key.as_str(), f) {
                self.push(
                    Diagnostic::error(
                        format!(
                            "fields `{}` and `{}` are both stored under the key `{}`",
                            other.name, f.name, f.key
                        ),
                        f.origin.clone(),
                    )
                    .with_label("second field with this storage key")
                    .with_help("give one of them another `key`"),
                );
            }
            self.check_type(f, &f.ty);
            self.check_rules(f);
            self.check_default(f);
        }
    }

    /// Field names become accessor names (`user_id()`, `set_user_id()`).
    pub(super) fn check_field_name(&mut self, f: &Field) {
        if KEYWORDS.contains(&f.name.as_str()) {
            self.push(
                Diagnostic::error(
                    format!("field name `{}` is a Rust keyword", f.name),
                    f.origin.clone(),
                )
                .with_label("keyword")
                .with_help(format!(
                    "pick another name and keep the stored name with `key = \"{}\"`",
                    f.name
                )),
            );
        } else if RESERVED_FIELD_NAMES.contains(&f.name.as_str()) {
            self.push(
                Diagnostic::error(
                    format!(
                        "field name `{}` is taken by a method of the session handle",
                        f.name
                    ),
                    f.origin.clone(),
                )
                .with_label("reserved name")
                .with_help(format!(
                    "pick another name and keep the stored name with `key = \"{}\"`",
                    f.name
                ))
                .with_note(format!(
                    "reserved field names: {}",
                    backticked(RESERVED_FIELD_NAMES)
                )),
            );
        } else if !is_snake_case(&f.name) {
            self.push(
                Diagnostic::error(
                    format!(
                        "invalid field name `{}`: expected a snake_case Rust identifier",
                        f.name
                    ),
                    f.origin.clone(),
                )
                .with_label("not a snake_case identifier")
                .with_help(format!(
                    "pick a name like `user_id` and keep the stored name with `key = \"{}\"`",
                    f.name
                )),
            );
        }
    }

    /// A set's items need a total order and an equality (`BTreeSet` and `HashSet` both
    /// refuse floats, whose `NaN` has neither), and a set of `Option`s holds at most one
    /// `None`, which a session says with an absent field.
    fn check_set_item(&mut self, f: &Field, item: &FieldType, origin: &Origin) {
        fn has_float(t: &FieldType) -> Option<&FieldType> {
            match t {
                FieldType::Float(_) => Some(t),
                FieldType::Option(t)
                | FieldType::Vec(t)
                | FieldType::Set(t)
                | FieldType::Map(t) => has_float(t),
                _ => None,
            }
        }
        if let Some(float) = has_float(item) {
            self.push(
                Diagnostic::error(
                    format!(
                        "field `{}` is a set of `{}`, which has no total order nor equality",
                        f.name,
                        item.to_rust()
                    ),
                    origin.clone(),
                )
                .with_label(format!("`{}` cannot be a set item", float.to_rust()))
                .with_help(
                    "use a `Vec` of floats, or store integers (cents, basis points) in the set",
                ),
            );
        } else if item.is_option() {
            self.push(
                Diagnostic::error(
                    format!("field `{}` is a set of `Option`s", f.name),
                    origin.clone(),
                )
                .with_label("a set holds at most one `None`")
                .with_help(format!(
                    "use a set of `{}`: an item is present or not",
                    match item {
                        FieldType::Option(t) => t.to_rust(),
                        t => t.to_rust(),
                    }
                )),
            );
        }
    }

    pub(super) fn check_type(&mut self, f: &Field, ty: &Spanned<FieldType>) {
        self.check_type_inner(f, &ty.value, &ty.origin);
    }

    pub(super) fn check_type_inner(&mut self, f: &Field, ty: &FieldType, origin: &Origin) {
        match ty {
            FieldType::Option(inner) => {
                if inner.is_option() {
                    self.push(
                        Diagnostic::error(
                            format!("field `{}` has a nested `Option<Option<_>>`", f.name),
                            origin.clone(),
                        )
                        .with_help("a missing value and `None` are the same in a session: use one `Option`"),
                    );
                }
                self.check_type_inner(f, inner, origin);
            }
            FieldType::Vec(inner) | FieldType::Map(inner) => {
                self.check_type_inner(f, inner, origin);
            }
            FieldType::Set(inner) => {
                self.check_set_item(f, inner, origin);
                self.check_type_inner(f, inner, origin);
            }
            FieldType::Enum(name) => {
                if self.enum_def(name).is_none() {
                    let known: Vec<_> = self.schema.enums.iter().map(|e| e.name.as_str()).collect();
                    let mut d = Diagnostic::error(
                        format!("unknown type `{name}` in field `{}`", f.name),
                        origin.clone(),
                    )
                    .with_label("not declared");
                    d = if known.is_empty() {
                        d.with_help(format!(
                            "declare it with `[enums.{name}]`, or write a path to your own type (`crate::module::{name}`)"
                        ))
                    } else {
                        d.with_help(format!(
                            "declared enums: {}; or write a path to your own type (`crate::module::{name}`)",
                            backticked(&known)
                        ))
                    };
                    self.push(d);
                }
            }
            FieldType::Path(path) => {
                if !is_type_path(path) {
                    self.push(Diagnostic::error(
                        format!("invalid type path `{path}` in field `{}`", f.name),
                        origin.clone(),
                    ));
                }
            }
            FieldType::Bool | FieldType::Int(_) | FieldType::Float(_) | FieldType::String => {}
        }
    }
}
