//! The body of each field's validator, `Shop::validate_<field>(value: &T)`.
//!
//! String rules apply to a `String`, to the string inside an `Option`, and to each string
//! of a `Vec` or map; number rules likewise; `max_items` to the outermost collection;
//! `one_of` to the scalar values; `custom` to the whole value.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};

use super::context::GenCtxt;
use super::lit;
use super::types::Types;
use crate::ir::{Field, FieldType, Number, Value};
use crate::rules::Rule;

/// The checks of `field`'s rules on a `value: &T` in scope, each returning early with `?`.
/// Reports rules that do not fit the field's type.
pub(crate) fn checks(cx: &mut GenCtxt, types: &Types<'_>, field: &Field) -> TokenStream {
    let mut used = Vec::new();
    let mut body = walk(cx, types, field, &field.ty.value, false, &mut used);
    let r = &field.rules;
    if let Some(custom) = &r.custom {
        used.push(Rule::Custom);
        match syn::parse_str::<syn::Path>(&custom.value) {
            Ok(path) => {
                // The whole call carries the attribute's span, so that a validator of the
                // wrong type is reported at `custom = ...`, not at the derive.
                let call = cx.respan(quote!(#path(value)), &custom.origin);
                let name = &field.name;
                body.extend(quote! {
                    ::session_runtime::__private::rules::custom(#name, #call)?;
                });
            }
            Err(_) => cx.error(format!(
                "the custom validator `{}` of field `{}` is not a Rust path",
                custom.value, field.name
            )),
        }
    }
    let set = [
        (r.min.is_some(), Rule::Min),
        (r.max.is_some(), Rule::Max),
        (r.min_length.is_some(), Rule::MinLength),
        (r.max_length.is_some(), Rule::MaxLength),
        (r.max_items.is_some(), Rule::MaxItems),
        (r.max_key_length.is_some(), Rule::MaxKeyLength),
        (r.pattern.is_some(), Rule::Pattern),
        (r.one_of.is_some(), Rule::OneOf),
    ];
    for (is_set, rule) in set {
        if is_set && !used.contains(&rule) {
            cx.error(format!(
                "rule `{rule}` does not apply to field `{}` of type `{}`",
                field.name,
                field.ty.value.to_rust()
            ));
        }
    }
    body
}

fn walk(
    cx: &mut GenCtxt,
    types: &Types<'_>,
    field: &Field,
    ty: &FieldType,
    in_collection: bool,
    used: &mut Vec<Rule>,
) -> TokenStream {
    let name = field.name.as_str();
    let r = &field.rules;
    let rules = quote!(::session_runtime::__private::rules);
    match ty {
        FieldType::Option(t) => {
            let inner = walk(cx, types, field, t, in_collection, used);
            if inner.is_empty() {
                return inner;
            }
            quote! {
                if let ::core::option::Option::Some(value) = value {
                    #inner
                }
            }
        }
        FieldType::Vec(t) | FieldType::Set(t) | FieldType::Map(t) => {
            let mut out = TokenStream::new();
            if let (Some(max), false) = (&r.max_items, in_collection) {
                used.push(Rule::MaxItems);
                let max = max.value;
                out.extend(quote!(#rules::max_items(#name, value.len(), #max)?;));
            }
            if let (Some(max), FieldType::Map(_), false) = (&r.max_key_length, ty, in_collection) {
                used.push(Rule::MaxKeyLength);
                let max = max.value;
                out.extend(quote! {
                    for key in value.keys() {
                        #rules::max_key_length(#name, key, #max)?;
                    }
                });
            }
            // Items that are `Option`s are flattened: only the values inside have rules.
            let mut item = &**t;
            let mut iter = match (ty, item) {
                (FieldType::Map(_), _) => quote!(value.values()),
                (_, FieldType::Option(_)) => quote!(value.iter()),
                _ => quote!(value),
            };
            while let FieldType::Option(inner) = item {
                iter = quote!(::core::iter::Iterator::flatten(#iter));
                item = inner;
            }
            let inner = walk(cx, types, field, item, true, used);
            if !inner.is_empty() {
                out.extend(quote! {
                    for value in #iter {
                        #inner
                    }
                });
            }
            out
        }
        FieldType::String => {
            let mut out = TokenStream::new();
            if let Some(min) = &r.min_length {
                used.push(Rule::MinLength);
                let min = min.value;
                out.extend(quote!(#rules::min_length(#name, value, #min)?;));
            }
            if let Some(max) = &r.max_length {
                used.push(Rule::MaxLength);
                let max = max.value;
                out.extend(quote!(#rules::max_length(#name, value, #max)?;));
            }
            if let Some(p) = &r.pattern {
                used.push(Rule::Pattern);
                let source = &p.value;
                out.extend(quote! {
                    {
                        static PATTERN: ::std::sync::OnceLock<::session_runtime::__private::Regex> =
                            ::std::sync::OnceLock::new();
                        ::session_runtime::__private::pattern(#name, value, &PATTERN, #source)?;
                    }
                });
            }
            out.extend(one_of(cx, types, field, ty, used));
            out
        }
        FieldType::Int(_) => {
            let mut out = TokenStream::new();
            let as_i128 = quote!(::core::convert::Into::<::core::primitive::i128>::into(
                *value
            ));
            for (bound, rule) in [(&r.min, Rule::Min), (&r.max, Rule::Max)] {
                let Some(bound) = bound else { continue };
                used.push(rule);
                let f = match rule {
                    Rule::Min => quote!(min_int),
                    _ => quote!(max_int),
                };
                let bound = match bound.value {
                    Number::Int(i) => i128::from(i),
                    Number::Float(f) if f.is_nan() => {
                        cx.error(format!("rule `{rule}` of field `{name}` is NaN"));
                        continue;
                    }
                    // An integer is at least 0.5 when it is at least 1, and at most 2.5 when
                    // it is at most 2 (the cast saturates infinities).
                    #[allow(clippy::cast_possible_truncation)]
                    Number::Float(f) => {
                        if rule == Rule::Min {
                            f.ceil() as i128
                        } else {
                            f.floor() as i128
                        }
                    }
                };
                let lit = lit::i128_lit(bound);
                out.extend(quote!(#rules::#f(#name, #as_i128, #lit)?;));
            }
            out.extend(one_of(cx, types, field, ty, used));
            out
        }
        FieldType::Float(_) => {
            let mut out = TokenStream::new();
            let as_f64 = quote!(::core::convert::Into::<::core::primitive::f64>::into(
                *value
            ));
            for (bound, rule) in [(&r.min, Rule::Min), (&r.max, Rule::Max)] {
                let Some(bound) = bound else { continue };
                used.push(rule);
                let f = match rule {
                    Rule::Min => quote!(min_float),
                    _ => quote!(max_float),
                };
                let lit = lit::f64_lit(bound.value.as_f64());
                out.extend(quote!(#rules::#f(#name, #as_f64, #lit)?;));
            }
            out.extend(one_of(cx, types, field, ty, used));
            out
        }
        FieldType::Bool | FieldType::Enum(_) | FieldType::Path(_) => {
            one_of(cx, types, field, ty, used)
        }
    }
}

/// `one_of` on a scalar `value: &T`: typed literals when the type is known, JSON
/// comparison for user types.
fn one_of(
    cx: &mut GenCtxt,
    types: &Types<'_>,
    field: &Field,
    ty: &FieldType,
    used: &mut Vec<Rule>,
) -> TokenStream {
    let Some(allowed) = &field.rules.one_of else {
        return TokenStream::new();
    };
    used.push(Rule::OneOf);
    let name = field.name.as_str();
    let rules = quote!(::session_runtime::__private::rules);
    if *ty == FieldType::String {
        let mut strs = Vec::new();
        for v in &allowed.value {
            match v {
                Value::String(s) => strs.push(s.to_token_stream()),
                other => cx.error(format!(
                    "`one_of` of field `{name}` holds {}, expected strings",
                    describe(other)
                )),
            }
        }
        return quote!(#rules::one_of(#name, &value.as_str(), &[#(#strs),*])?;);
    }
    let mut exprs = Vec::new();
    let mut json = false;
    for v in &allowed.value {
        match types.value_expr(cx, ty, v) {
            Ok(Some(e)) => exprs.push(e),
            Ok(None) => {
                json = true;
                break;
            }
            Err(expected) => cx.error(format!(
                "`one_of` of field `{name}` holds {}, expected {expected}",
                describe(v)
            )),
        }
    }
    if json {
        let exprs = allowed.value.iter().map(|v| lit::json_expr(&v.to_json()));
        return quote! {
            #rules::one_of(
                #name,
                &::session_runtime::__private::encode(#name, value)?,
                &[#(#exprs),*],
            )?;
        };
    }
    quote!(#rules::one_of(#name, value, &[#(#exprs),*])?;)
}

fn describe(v: &Value) -> String {
    match v {
        Value::Bool(b) => format!("`{b}`"),
        Value::Int(i) => format!("`{i}`"),
        Value::Float(f) => format!("`{f}`"),
        Value::String(s) => format!("{s:?}"),
        Value::Array(_) => "an array".into(),
        Value::Table(_) => "a table".into(),
    }
}
