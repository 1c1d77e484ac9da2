//! The nested policy items, `backend(...)` and `keys(...)`, and what keeps secrets out of
//! source code: literal secrets, literal database URLs, and secrets written where a
//! variable name belongs.

use syn::parse::Parser;
use syn::{Expr, Meta};

use super::ctxt::Ctxt;
use super::meta::{
    Seen, deserialize, flag, has_str_value, items, name_of, str_of, strip, value, value_of,
};
use super::spans::SpanTable;
use super::symbol::{self, Symbol};
use crate::ident::looks_secret;
use crate::ir::{Origin, Value};
use crate::settings::{Backend, KeySource};
use crate::suggest::unknown_message;

/// The same words as the TOML front-end's, with the attribute forms in the help.
pub(super) fn literal_secret_message(name: &str) -> String {
    format!(
        "literal secret `{name}` in source code: keys never live in source files\n\
         = help: name the environment variable holding it: `keys(env = \"SESSION_KEY\")`, \
         or a key file: `keys(file = \"/run/secrets/session\")`"
    )
}

/// `backend = "memory"` or `backend(type = "file", dir = "...", encrypt)`; the same forms
/// for `revocation_store` (`sym`).
pub(super) fn backend(
    cx: &Ctxt,
    nested: &mut Nested<'_>,
    meta: &Meta,
    sym: Symbol,
) -> Option<Backend> {
    let json = match meta {
        Meta::NameValue(nv) => {
            let ty = str_of(cx, sym, &nv.value)?;
            serde_json::json!({ "type": crate::settings::backend_type_name(&ty) })
        }
        Meta::List(_) => nested_table(
            cx,
            nested,
            meta,
            sym,
            symbol::BACKEND_KEYS,
            &[symbol::ENCRYPT],
        )?,
        Meta::Path(p) => {
            cx.error_spanned_by(
                p,
                "expected `backend = \"memory\"` or `backend(type = \"file\", dir = \"...\")`",
            );
            return None;
        }
    };
    deserialize(cx, meta, sym, json)
}

/// `keys(env = "SESSION_KEY", fallback_env = ["OLD_KEY"])`.
pub(super) fn keys(cx: &Ctxt, nested: &mut Nested<'_>, meta: &Meta) -> Option<KeySource> {
    let sym = symbol::KEYS;
    match meta {
        Meta::List(_) => {
            let json = nested_table(cx, nested, meta, sym, symbol::KEYS_KEYS, &[])?;
            deserialize(cx, meta, sym, json)
        }
        Meta::NameValue(_) => {
            cx.error_spanned_by(meta, literal_secret_message("keys"));
            None
        }
        Meta::Path(p) => {
            cx.error_spanned_by(
                p,
                "expected `keys(env = \"...\", fallback_env = [\"...\"])`",
            );
            None
        }
    }
}

/// Where the options of `backend(...)` and `keys(...)` were written (`backend.table`),
/// so that a problem with one option is reported at it.
pub(super) struct Nested<'a> {
    pub(super) spans: &'a mut SpanTable,
    pub(super) origins: Vec<(String, Origin)>,
}

/// The items of `name(a = 1, flag)` as a JSON table, every mistake recorded.
pub(super) fn nested_table(
    cx: &Ctxt,
    nested: &mut Nested<'_>,
    meta: &Meta,
    sym: Symbol,
    allowed: &[Symbol],
    flags: &[Symbol],
) -> Option<serde_json::Value> {
    let Meta::List(list) = meta else { return None };
    let items = match items.parse2(list.tokens.clone()) {
        Ok(items) => items,
        Err(e) => {
            cx.syn_error(e);
            return None;
        }
    };
    let mut table = serde_json::Map::new();
    let mut ok = true;
    let mut seen = Seen::default();
    for item in &items {
        let Some(name) = name_of(cx, item) else {
            ok = false;
            continue;
        };
        let Some(key) = allowed.iter().copied().find(|s| s.0 == name) else {
            ok = false;
            if looks_secret(&name) && has_str_value(item) {
                cx.error_spanned_by(item, literal_secret_message(&name));
            } else if sym == symbol::BACKEND && symbol::URL_NAMES.contains(&name.as_str()) {
                cx.error_spanned_by(
                    item,
                    format!("a literal database URL `{name}` does not belong in source code: it usually holds a password, expected `url_env = \"DATABASE_URL\"`"),
                );
            } else {
                let what = format!("key `{name}` in `{sym}(...)`");
                let names = allowed.iter().map(|s| s.0);
                cx.error_spanned_by(item.path(), unknown_message(&what, &name, names, allowed));
            }
            continue;
        };
        if !seen.first(cx, key, &name, item) {
            ok = false;
            continue;
        }
        let json = if flags.contains(&key) {
            flag(cx, item, key).map(serde_json::Value::Bool)
        } else {
            value(cx, item, key).and_then(|e| {
                let v = value_of(cx, e)?;
                env_names(cx, sym, key, e, &v).then(|| v.to_json())
            })
        };
        match json {
            Some(j) => {
                let at = nested.spans.origin(item);
                nested.origins.push((format!("{sym}.{name}"), at));
                table.insert(name, j);
            }
            None => ok = false,
        }
    }
    ok.then_some(serde_json::Value::Object(table))
}

/// Checks that the variables named by `keys(env, fallback_env)` and `backend(url_env)`
/// are variable names, not the secret itself; `false` when one is not (reported).
pub(super) fn env_names(cx: &Ctxt, table: Symbol, key: Symbol, e: &Expr, v: &Value) -> bool {
    let names: Vec<(&Value, &Expr)> = match (key, v, strip(e)) {
        (symbol::ENV | symbol::URL_ENV, v, e) => vec![(v, e)],
        (symbol::FALLBACK_ENV, Value::Array(items), Expr::Array(a)) => {
            items.iter().zip(a.elems.iter()).collect()
        }
        _ => return true,
    };
    let mut ok = true;
    for (v, e) in names {
        if matches!(v, Value::String(s) if is_env_name(s)) {
            continue;
        }
        ok = false;
        let found = match v {
            Value::String(s) => format!("`{s}`"),
            _ => "another value".to_owned(),
        };
        let mut message = format!(
            "`{table}({key} = ...)` must name an environment variable (letters, digits, `_`), found {found}"
        );
        if matches!(v, Value::String(s) if s.len() >= 16) {
            message.push_str(
                "\n= note: this looks like a secret itself: keys and URLs never live in source code",
            );
        }
        cx.error_spanned_by(e, message);
    }
    ok
}

pub(super) fn is_env_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}
