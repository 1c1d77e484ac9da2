//! Literals: spec values to typed Rust expressions (the types come from `types.rs`)
//! and to JSON expressions, and the fields' defaults.

use proc_macro2::{Literal, Span, TokenStream};
use quote::quote;

use super::context::{GenCtxt, ident};
use super::types::Types;
use crate::ir::{DefaultValue, EnumDef, Field, FieldType, FloatType, IntType, Value};

impl Types<'_> {
    /// Every item as an expression of type `t` (see [`Self::value_expr`]); `Ok(None)` as
    /// soon as one item has none.
    fn item_exprs(
        &self,
        cx: &mut GenCtxt,
        t: &FieldType,
        items: &[Value],
    ) -> Result<Option<Vec<TokenStream>>, String> {
        let mut exprs = Vec::new();
        for item in items {
            match self.value_expr(cx, t, item)? {
                Some(e) => exprs.push(e),
                None => return Ok(None),
            }
        }
        Ok(Some(exprs))
    }

    /// `value` as a Rust expression of type `ty` whose type is fixed by the expression
    /// itself (suffixed numbers, turbofish on empty collections), so it can be passed to a
    /// generic function.
    ///
    /// `Ok(None)`: the type holds a user type, whose literals only exist as JSON.
    /// `Err(expected)`: the value does not fit the type; `expected` says what would.
    pub(crate) fn value_expr(
        &self,
        cx: &mut GenCtxt,
        ty: &FieldType,
        value: &Value,
    ) -> Result<Option<TokenStream>, String> {
        let mismatch = || Err(format!("a value of type `{}`", ty.to_rust()));
        Ok(Some(match (ty, value) {
            (FieldType::Bool, Value::Bool(b)) => quote!(#b),
            (FieldType::Int(t), Value::Int(i)) => match int_lit(*t, i128::from(*i)) {
                Some(lit) => lit,
                None => return mismatch(),
            },
            (FieldType::Float(t), Value::Float(f)) => float_lit(*t, *f),
            #[allow(clippy::cast_precision_loss)]
            (FieldType::Float(t), Value::Int(i)) => float_lit(*t, *i as f64),
            (FieldType::String, Value::String(s)) => quote!(::std::borrow::ToOwned::to_owned(#s)),
            (FieldType::Option(t), v) => match self.value_expr(cx, t, v)? {
                Some(e) => quote!(::core::option::Option::Some(#e)),
                None => return Ok(None),
            },
            (FieldType::Vec(t), Value::Array(items)) => {
                let Some(exprs) = self.item_exprs(cx, t, items)? else {
                    return Ok(None);
                };
                if exprs.is_empty() {
                    let Some(t) = self.rust_type(cx, t) else {
                        return Ok(None);
                    };
                    quote!(::std::vec::Vec::<#t>::new())
                } else {
                    quote!(::std::vec![#(#exprs),*])
                }
            }
            (FieldType::Set(t), Value::Array(items)) => {
                let Some(rt) = self.rust_type(cx, t) else {
                    return Ok(None);
                };
                let Some(exprs) = self.item_exprs(cx, t, items)? else {
                    return Ok(None);
                };
                if exprs.is_empty() {
                    quote!(::std::collections::BTreeSet::<#rt>::new())
                } else {
                    quote!(<::std::collections::BTreeSet<#rt> as ::core::iter::FromIterator<#rt>>::from_iter([#(#exprs),*]))
                }
            }
            (FieldType::Map(t), Value::Table(entries)) => {
                let Some(rt) = self.rust_type(cx, t) else {
                    return Ok(None);
                };
                let mut inserts = Vec::new();
                for (k, v) in entries {
                    match self.value_expr(cx, t, v)? {
                        Some(e) => inserts
                            .push(quote!(map.insert(::std::borrow::ToOwned::to_owned(#k), #e);)),
                        None => return Ok(None),
                    }
                }
                let new = quote!(::std::collections::BTreeMap::<::std::string::String, #rt>::new());
                if inserts.is_empty() {
                    new
                } else {
                    quote!({
                        let mut map = #new;
                        #(#inserts)*
                        map
                    })
                }
            }
            (FieldType::Enum(name), Value::String(s)) if self.spec_enum(name).is_some() => {
                let def = self.spec_enum(name).expect("checked by the guard");
                match variant_path(def, s) {
                    Some(p) => p,
                    None => {
                        let keys: Vec<_> = def
                            .variants
                            .iter()
                            .map(|v| format!("`{}`", v.key))
                            .collect();
                        return Err(format!("one of {}", keys.join(", ")));
                    }
                }
            }
            (FieldType::Enum(_) | FieldType::Path(_), _) => return Ok(None),
            _ => return mismatch(),
        }))
    }
}

/// The variant of `def` stored as `key` (or named `key`), as `Enum::Variant`.
fn variant_path(def: &EnumDef, key: &str) -> Option<TokenStream> {
    let v = def
        .variants
        .iter()
        .find(|v| v.key == key)
        .or_else(|| def.variants.iter().find(|v| v.name == key))?;
    let e = ident(&def.name)?;
    let v = ident(&v.name)?;
    Some(quote!(#e::#v))
}

/// An integer literal with its type suffix (`-5i32`), or `None` when out of range.
pub(crate) fn int_lit(t: IntType, value: i128) -> Option<TokenStream> {
    let (lo, hi) = t.range();
    if value < lo || value > hi {
        return None;
    }
    let lit = syn::LitInt::new(
        &format!("{}{}", value.unsigned_abs(), t.as_str()),
        Span::call_site(),
    );
    Some(if value < 0 {
        quote!(-#lit)
    } else {
        quote!(#lit)
    })
}

/// An unsuffixed integer literal, for `i128` arguments.
pub(crate) fn i128_lit(value: i128) -> TokenStream {
    let lit = Literal::u128_unsuffixed(value.unsigned_abs());
    if value < 0 {
        quote!(-#lit)
    } else {
        quote!(#lit)
    }
}

/// A float literal with its type suffix; NaN and infinities as the type's constants.
pub(crate) fn float_lit(t: FloatType, value: f64) -> TokenStream {
    let ty = ident(t.as_str()).expect("a primitive name");
    if value.is_nan() {
        return quote!(::core::primitive::#ty::NAN);
    }
    if value.is_infinite() {
        return if value > 0.0 {
            quote!(::core::primitive::#ty::INFINITY)
        } else {
            quote!(::core::primitive::#ty::NEG_INFINITY)
        };
    }
    let lit = match t {
        FloatType::F32 => {
            #[allow(clippy::cast_possible_truncation)]
            let v = value.abs() as f32;
            if v.is_infinite() {
                return float_lit(t, value * f64::INFINITY);
            }
            Literal::f32_suffixed(v)
        }
        FloatType::F64 => Literal::f64_suffixed(value.abs()),
    };
    if value.is_sign_negative() {
        quote!(-#lit)
    } else {
        quote!(#lit)
    }
}

/// An `f64` literal (`0.5f64`); NaN and infinities as constants.
pub(crate) fn f64_lit(value: f64) -> TokenStream {
    float_lit(FloatType::F64, value)
}

/// A JSON value as an expression building a `serde_json::Value`.
pub(crate) fn json_expr(value: &serde_json::Value) -> TokenStream {
    let json = quote!(::session_runtime::__private::serde_json);
    match value {
        serde_json::Value::Null => quote!(#json::Value::Null),
        serde_json::Value::Bool(b) => quote!(#json::Value::Bool(#b)),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                let lit = i128_lit(i128::from(i));
                quote!(#json::Value::Number(
                    <#json::Number as ::core::convert::From<::core::primitive::i64>>::from(#lit)
                ))
            } else if let Some(u) = n.as_u64() {
                let lit = Literal::u64_unsuffixed(u);
                quote!(#json::Value::Number(
                    <#json::Number as ::core::convert::From<::core::primitive::u64>>::from(#lit)
                ))
            } else {
                let lit = f64_lit(n.as_f64().unwrap_or(0.0));
                quote!(#json::Number::from_f64(#lit).map_or(#json::Value::Null, #json::Value::Number))
            }
        }
        serde_json::Value::String(s) => {
            quote!(#json::Value::String(::std::borrow::ToOwned::to_owned(#s)))
        }
        serde_json::Value::Array(items) if items.is_empty() => {
            quote!(#json::Value::Array(::std::vec::Vec::new()))
        }
        serde_json::Value::Array(items) => {
            let items = items.iter().map(json_expr);
            quote!(#json::Value::Array(::std::vec![#(#items),*]))
        }
        serde_json::Value::Object(map) if map.is_empty() => {
            quote!(#json::Value::Object(#json::Map::new()))
        }
        serde_json::Value::Object(map) => {
            let inserts = map.iter().map(|(k, v)| {
                let v = json_expr(v);
                quote!(map.insert(::std::borrow::ToOwned::to_owned(#k), #v);)
            });
            quote!(#json::Value::Object({
                let mut map = #json::Map::new();
                #(#inserts)*
                map
            }))
        }
    }
}

/// The default of a field: a typed Rust expression when one can be written at build time
/// (`TypeDefault`, literals of known types), else the JSON literal (user types).
pub(crate) fn default(
    cx: &mut GenCtxt,
    types: &Types<'_>,
    field: &Field,
    ty: &TokenStream,
) -> (Option<TokenStream>, Option<TokenStream>) {
    let Some(default) = &field.default else {
        return (None, None);
    };
    match &default.value {
        DefaultValue::TypeDefault => (
            Some(quote!(<#ty as ::core::default::Default>::default())),
            None,
        ),
        DefaultValue::Value(v) => match types.value_expr(cx, &field.ty.value, v) {
            Ok(Some(e)) => (Some(e), None),
            Ok(None) => (None, Some(json_expr(&v.to_json()))),
            Err(expected) => {
                cx.error(format!(
                    "the default of field `{}` does not fit its type `{}`: expected {expected}",
                    field.name,
                    field.ty.value.to_rust()
                ));
                (None, None)
            }
        },
    }
}
