//! The syntax of `#[session(...)]`: its items (names may be keywords, as in
//! `backend(type = "file")`), and the literal values they take, each read with a message
//! that says what was expected.

use std::collections::BTreeMap;

use quote::ToTokens;
use serde::de::DeserializeOwned;
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Attribute, Expr, Lit, Meta, MetaList, MetaNameValue, Token, UnOp};

use super::ctxt::Ctxt;
use super::symbol::{self, Symbol};
use crate::ir::{Number, Value};

/// The items of every `#[session(...)]` among `attrs`.
pub(super) fn session_metas(cx: &Ctxt, attrs: &[Attribute]) -> Vec<Meta> {
    let mut out = Vec::new();
    for attr in attrs.iter().filter(|a| a.path() == symbol::SESSION) {
        match &attr.meta {
            Meta::List(list) => match items.parse2(list.tokens.clone()) {
                Ok(items) => out.extend(items),
                Err(e) => cx.syn_error(e),
            },
            other => cx.error_spanned_by(
                other,
                "expected a list of settings, like `#[session(cookie_name = \"shop\")]`",
            ),
        }
    }
    out
}

/// Parses `a = 1, b, c(...)` where names may be keywords (`type = "file"`).
pub(super) fn items(input: ParseStream<'_>) -> syn::Result<Vec<Meta>> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let ident = input.call(syn::Ident::parse_any)?;
        let path = syn::Path::from(ident);
        let meta = if input.peek(Token![=]) {
            Meta::NameValue(MetaNameValue {
                path,
                eq_token: input.parse()?,
                value: input.parse()?,
            })
        } else if input.peek(syn::token::Paren) {
            let content;
            let paren = syn::parenthesized!(content in input);
            Meta::List(MetaList {
                path,
                delimiter: syn::MacroDelimiter::Paren(paren),
                tokens: content.parse()?,
            })
        } else {
            Meta::Path(path)
        };
        out.push(meta);
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    Ok(out)
}

/// The single name of an item (`max_length`), or an error for `a::b`.
pub(super) fn name_of(cx: &Ctxt, meta: &Meta) -> Option<String> {
    match meta.path().get_ident() {
        Some(ident) => {
            let name = ident.to_string();
            Some(name.strip_prefix("r#").map(str::to_owned).unwrap_or(name))
        }
        None => {
            cx.error_spanned_by(meta.path(), "expected a single attribute name, not a path");
            None
        }
    }
}

/// The value of `name = value`.
pub(super) fn value<'a>(cx: &Ctxt, meta: &'a Meta, sym: Symbol) -> Option<&'a Expr> {
    match meta {
        Meta::NameValue(nv) => Some(&nv.value),
        _ => {
            cx.error_spanned_by(meta, format!("expected a value, like `{sym} = ...`"));
            None
        }
    }
}

/// `name` (true) or `name = true|false`.
pub(super) fn flag(cx: &Ctxt, meta: &Meta, sym: Symbol) -> Option<bool> {
    match meta {
        Meta::Path(_) => Some(true),
        Meta::NameValue(nv) => match strip(&nv.value) {
            Expr::Lit(l) => match &l.lit {
                Lit::Bool(b) => Some(b.value),
                _ => {
                    cx.error_spanned_by(
                        &nv.value,
                        format!("expected `true` or `false` for `{sym}`"),
                    );
                    None
                }
            },
            other => {
                cx.error_spanned_by(other, format!("expected `true` or `false` for `{sym}`"));
                None
            }
        },
        Meta::List(l) => {
            cx.error_spanned_by(l, format!("expected `{sym}` or `{sym} = false`"));
            None
        }
    }
}

/// A policy value through the one settings type's own deserializer (so `"90s"` or `30`
/// for a lifetime mean what they mean in TOML).
pub(super) fn typed<T: DeserializeOwned>(cx: &Ctxt, meta: &Meta, sym: Symbol) -> Option<T> {
    let e = value(cx, meta, sym)?;
    let json = value_of(cx, e)?.to_json();
    deserialize(cx, e, sym, json)
}

pub(super) fn deserialize<T: DeserializeOwned>(
    cx: &Ctxt,
    at: impl ToTokens,
    sym: Symbol,
    json: serde_json::Value,
) -> Option<T> {
    // Serde lists the case aliases too (`Lax`, `lax`); name only the documented values.
    let values: &[&str] = match sym {
        symbol::SAME_SITE => &["strict", "lax", "none"],
        symbol::PREFIX => &["host", "secure"],
        symbol::COOKIE_MODE => &["signed", "encrypted"],
        _ => &[],
    };
    match serde_json::from_value(json.clone()) {
        Ok(v) => Some(v),
        Err(e) => {
            let message = match json {
                serde_json::Value::String(s) if !values.is_empty() => {
                    let all: Vec<String> = values.iter().map(|v| format!("`\"{v}\"`")).collect();
                    format!(
                        "invalid `{sym}` value `\"{s}\"`, expected one of {}",
                        all.join(", ")
                    )
                }
                _ => format!("invalid `{sym}`: {e}"),
            };
            cx.error_spanned_by(at, message);
            None
        }
    }
}

pub(super) fn str_of(cx: &Ctxt, sym: Symbol, e: &Expr) -> Option<String> {
    if let Expr::Lit(l) = strip(e) {
        if let Lit::Str(s) = &l.lit {
            return Some(s.value());
        }
    }
    cx.error_spanned_by(
        e,
        format!("expected a string for `{sym}`, like `{sym} = \"...\"`"),
    );
    None
}

pub(super) fn u64_of(cx: &Ctxt, sym: Symbol, e: &Expr) -> Option<u64> {
    if let Expr::Lit(l) = strip(e) {
        if let Lit::Int(i) = &l.lit {
            if let Ok(v) = i.base10_parse::<u64>() {
                return Some(v);
            }
        }
    }
    cx.error_spanned_by(
        e,
        format!("expected a non-negative integer for `{sym}`, like `{sym} = 64`"),
    );
    None
}

pub(super) fn number(cx: &Ctxt, meta: &Meta, sym: Symbol) -> Option<Number> {
    let e = value(cx, meta, sym)?;
    match literal(e) {
        Ok(Value::Int(i)) => Some(Number::Int(i)),
        Ok(Value::Float(f)) => Some(Number::Float(f)),
        _ => {
            cx.error_spanned_by(
                e,
                format!("expected a number for `{sym}`, like `{sym} = 0`"),
            );
            None
        }
    }
}

/// A literal, a negated number, or an array of those.
pub(super) fn value_of(cx: &Ctxt, e: &Expr) -> Option<Value> {
    literal(e).map_err(|err| cx.syn_error(err)).ok()
}

pub(super) fn literal(e: &Expr) -> syn::Result<Value> {
    let expected = "expected a literal (a string, number or boolean) or an array of literals";
    match strip(e) {
        Expr::Lit(l) => match &l.lit {
            Lit::Str(s) => Ok(Value::String(s.value())),
            Lit::Bool(b) => Ok(Value::Bool(b.value)),
            Lit::Int(i) => i
                .base10_parse::<i64>()
                .map(Value::Int)
                .map_err(|_| syn::Error::new_spanned(i, "integer out of range for `i64`")),
            Lit::Float(f) => f.base10_parse::<f64>().map(Value::Float),
            other => Err(syn::Error::new_spanned(other, expected)),
        },
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => match literal(&u.expr)? {
            Value::Int(i) => Ok(Value::Int(-i)),
            Value::Float(f) => Ok(Value::Float(-f)),
            _ => Err(syn::Error::new_spanned(e, "expected a number after `-`")),
        },
        Expr::Array(a) => a
            .elems
            .iter()
            .map(literal)
            .collect::<syn::Result<_>>()
            .map(Value::Array),
        other => Err(syn::Error::new_spanned(other, expected)),
    }
}

/// Looks through invisible groups (from `macro_rules!`) and parentheses.
pub(super) fn strip(e: &Expr) -> &Expr {
    match e {
        Expr::Group(g) => strip(&g.expr),
        Expr::Paren(p) => strip(&p.expr),
        e => e,
    }
}

/// Whether the item is `name = "a string"`.
pub(super) fn has_str_value(meta: &Meta) -> bool {
    matches!(meta, Meta::NameValue(nv) if matches!(strip(&nv.value), Expr::Lit(l) if matches!(l.lit, Lit::Str(_))))
}

/// Names already given in one attribute scope; a second one is an error at its name.
#[derive(Default)]
pub(super) struct Seen(BTreeMap<&'static str, String>);

impl Seen {
    pub(super) fn first(&mut self, cx: &Ctxt, sym: Symbol, written: &str, meta: &Meta) -> bool {
        match self.0.get(sym.0) {
            None => {
                self.0.insert(sym.0, written.to_owned());
                true
            }
            Some(before) => {
                let also = if before == written {
                    String::new()
                } else {
                    format!(" (already given as `{before}`)")
                };
                cx.error_spanned_by(
                    meta.path(),
                    format!("duplicate session attribute `{written}`{also}"),
                );
                false
            }
        }
    }
}
