//! A field resolved once for every emitter: its identifiers, Rust types, default and
//! validator body.

use proc_macro2::{Ident, TokenStream};
use quote::format_ident;

use super::context::{GenCtxt, Mode, ident};
use super::types::Types;
use super::{lit, validators};
use crate::ir::{FieldType, Schema};

/// A field with everything the emitters need, resolved once.
pub(crate) struct FieldCx<'a> {
    pub(crate) field: &'a crate::ir::Field,
    /// The Rust identifier of the field (raw when a keyword).
    pub(crate) ident: Ident,
    /// The field name without `r#`, for composed names (`set_type`).
    pub(crate) plain: String,
    /// The field's Rust type.
    pub(crate) ty: TokenStream,
    /// The item type of a `Vec<T>` or map field (`T`); the field's type otherwise.
    pub(crate) item_ty: TokenStream,
    /// `Shop::KEY_USERNAME`'s identifier.
    pub(crate) key_const: Ident,
    /// `validate_username`.
    pub(crate) validator: Ident,
    /// The default as a Rust expression of the field's type, when it has one that is
    /// known at build time.
    pub(crate) default: Option<TokenStream>,
    /// How the getter should fall back to the default.
    pub(crate) default_kind: DefaultKind,
    /// The default as a JSON expression (for `upgrade`), for a user type's literal
    /// default, which only exists as JSON at build time.
    pub(crate) default_json: Option<TokenStream>,
    /// The validator's body (the checks, without the final `Ok(())`).
    pub(crate) checks: TokenStream,
}

impl<'a> FieldCx<'a> {
    pub(super) fn new(
        cx: &mut GenCtxt,
        schema: &'a Schema,
        mode: Mode,
        field: &'a crate::ir::Field,
    ) -> Option<Self> {
        let Some(ident) = ident(&field.name) else {
            cx.error(format!(
                "the field name `{}` is not a valid Rust identifier",
                field.name
            ));
            return None;
        };
        let plain = field.name.trim_start_matches("r#").to_owned();
        let types = Types { schema, mode };
        let ty = types.rust_type(cx, &field.ty.value)?;
        let item_ty = match &field.ty.value {
            FieldType::Vec(t) | FieldType::Set(t) | FieldType::Map(t) => types.rust_type(cx, t)?,
            _ => ty.clone(),
        };
        let ty = cx.respan(ty, &field.ty.origin);
        let item_ty = cx.respan(item_ty, &field.ty.origin);
        let (default, default_json) = lit::default(cx, &types, field, &ty);
        let default_kind = DefaultKind::of(field);
        let checks = validators::checks(cx, &types, field);
        Some(Self {
            ident,
            key_const: format_ident!("KEY_{}", plain.to_uppercase()),
            validator: format_ident!("validate_{}", plain),
            plain,
            ty,
            item_ty,
            default,
            default_kind,
            default_json,
            checks,
            field,
        })
    }

    /// The getter returns the field's type itself (not `Option<T>`).
    pub(crate) fn getter_is_total(&self) -> bool {
        self.default.is_some() || self.field.ty.value.is_option()
    }
}

/// The kind of a field's default, which decides the getter's fallback
/// (`unwrap_or_default`, `unwrap_or`, `unwrap_or_else`).
pub(crate) enum DefaultKind {
    /// `Default::default()`, or a literal equal to it (`""`, `[]`, `{}`).
    TypeDefault,
    /// A literal that is cheap to build (a number, a bool, an enum variant, `Some` of one).
    Constant,
    /// A literal that allocates (a string, a collection).
    Computed,
}

impl DefaultKind {
    fn of(field: &crate::ir::Field) -> Self {
        use crate::ir::{DefaultValue, Value};
        fn cheap(ty: &FieldType) -> bool {
            match ty {
                FieldType::Bool | FieldType::Int(_) | FieldType::Float(_) | FieldType::Enum(_) => {
                    true
                }
                FieldType::Option(t) => cheap(t),
                _ => false,
            }
        }
        match field.default.as_ref().map(|d| &d.value) {
            Some(DefaultValue::Value(Value::String(s)))
                if s.is_empty() && field.ty.value == FieldType::String =>
            {
                Self::TypeDefault
            }
            Some(DefaultValue::Value(Value::Array(a))) if a.is_empty() => Self::TypeDefault,
            Some(DefaultValue::Value(Value::Table(t))) if t.is_empty() => Self::TypeDefault,
            Some(DefaultValue::Value(_)) if cheap(&field.ty.value) => Self::Constant,
            Some(DefaultValue::Value(_)) => Self::Computed,
            Some(DefaultValue::TypeDefault) | None => Self::TypeDefault,
        }
    }
}
