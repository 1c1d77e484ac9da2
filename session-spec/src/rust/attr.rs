//! The `#[session(...)]` attributes: container attributes become [`Settings`] (through the
//! same serde type the TOML front-end uses), field attributes become a field's key,
//! default, flags and [`Rules`].
//!
//! Every mistake is recorded in the [`Ctxt`] and parsing goes on, so that one compile
//! reports all of them.

use std::collections::BTreeMap;

use quote::ToTokens;
use serde::de::DeserializeOwned;
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Attribute, Expr, Lit, Meta, MetaList, MetaNameValue, Token, UnOp};

use super::ctxt::Ctxt;
use super::spans::SpanTable;
use super::symbol::{self, Symbol};
use crate::ir::{DefaultValue, Number, Origin, Rules, Spanned, Value};
use crate::settings::{Backend, CookieMode, CookiePrefix, KeySource, Lifetime, SameSite, Settings};
use crate::validate::looks_secret;

/// What the container attributes say: the schema version, the policy and where each policy
/// key was written.
#[derive(Debug)]
pub struct Container {
    /// The schema version (`version = 2`), 1 when not given.
    pub version: u32,
    /// The policy.
    pub settings: Settings,
    /// The origin of each key written, by its canonical name.
    pub settings_origins: BTreeMap<String, Origin>,
}

/// What a field's attributes say.
#[derive(Debug, Default)]
pub struct FieldAttrs {
    /// The storage key, when renamed (`key = "user"`).
    pub key: Option<Spanned<String>>,
    /// The default.
    pub default: Option<Spanned<DefaultValue>>,
    /// Whether the value is redacted in `Debug` output and logs.
    pub sensitive: bool,
    /// The rules.
    pub rules: Rules,
}

/// The doc text of `///` comments: one leading space of each line removed, lines joined
/// with `\n`, surrounding blank space trimmed; `None` when there is none.
pub fn doc(attrs: &[Attribute]) -> Option<String> {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path() == symbol::DOC)
        .filter_map(|a| match &a.meta {
            Meta::NameValue(nv) => match strip(&nv.value) {
                Expr::Lit(lit) => match &lit.lit {
                    Lit::Str(s) => Some(s.value()),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        })
        .flat_map(|text| {
            text.split('\n')
                .map(|l| l.strip_prefix(' ').unwrap_or(l).trim_end().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    let text = lines.join("\n");
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// Parses the container attributes of a session struct.
pub fn container(cx: &Ctxt, spans: &mut SpanTable, attrs: &[Attribute]) -> Container {
    let mut c = Container {
        version: 1,
        settings: Settings::default(),
        settings_origins: BTreeMap::new(),
    };
    let mut seen = Seen::default();
    for meta in session_metas(cx, attrs) {
        let Some(name) = name_of(cx, &meta) else {
            continue;
        };
        let sym = symbol::CONTAINER
            .iter()
            .copied()
            .find(|s| s.0 == name)
            .or_else(|| {
                symbol::ALIASES
                    .iter()
                    .find(|(a, _)| *a == name)
                    .map(|(_, s)| *s)
            });
        let Some(sym) = sym else {
            unknown_container_key(cx, &meta, &name);
            continue;
        };
        if !seen.first(cx, sym, &name, &meta) {
            continue;
        }
        if container_item(cx, &mut c, sym, &meta) {
            let origin = spans.origin(&meta);
            if sym != symbol::VERSION {
                c.settings_origins.insert(sym.0.to_owned(), origin);
            }
        }
    }
    c
}

/// Applies one container item; `false` when it was rejected (the error is recorded).
fn container_item(cx: &Ctxt, c: &mut Container, sym: Symbol, meta: &Meta) -> bool {
    let s = &mut c.settings;
    let done = match sym {
        symbol::VERSION => value(cx, meta, sym)
            .and_then(|e| u64_of(cx, sym, e).map(|v| (v, e)))
            .and_then(|(v, e)| match u32::try_from(v) {
                Ok(v) => {
                    c.version = v;
                    Some(())
                }
                Err(_) => {
                    cx.error_spanned_by(e, "`version` must fit in a `u32`");
                    None
                }
            }),
        symbol::COOKIE_NAME => value(cx, meta, sym)
            .and_then(|e| str_of(cx, sym, e))
            .map(|v| s.cookie_name = v),
        symbol::SECURE => flag(cx, meta, sym).map(|v| s.secure = v),
        symbol::HTTP_ONLY => flag(cx, meta, sym).map(|v| s.http_only = v),
        symbol::PERMANENT => flag(cx, meta, sym).map(|v| s.permanent = v),
        symbol::REFRESH_EACH_REQUEST => flag(cx, meta, sym).map(|v| s.refresh_each_request = v),
        symbol::SAME_SITE => typed::<SameSite>(cx, meta, sym).map(|v| s.same_site = v),
        symbol::PATH => value(cx, meta, sym)
            .and_then(|e| str_of(cx, sym, e))
            .map(|v| s.path = v),
        symbol::DOMAIN => value(cx, meta, sym)
            .and_then(|e| str_of(cx, sym, e))
            .map(|v| s.domain = Some(v)),
        symbol::PREFIX => typed::<CookiePrefix>(cx, meta, sym).map(|v| s.prefix = Some(v)),
        symbol::EXPIRATION_TIME => typed::<Lifetime>(cx, meta, sym).map(|v| s.expiration_time = v),
        symbol::IDLE_TIMEOUT => typed::<Lifetime>(cx, meta, sym).map(|v| s.idle_timeout = Some(v)),
        symbol::ABSOLUTE_TIMEOUT => {
            typed::<Lifetime>(cx, meta, sym).map(|v| s.absolute_timeout = Some(v))
        }
        symbol::ROTATION_INTERVAL => {
            typed::<Lifetime>(cx, meta, sym).map(|v| s.rotation_interval = Some(v))
        }
        symbol::COOKIE_MODE => typed::<CookieMode>(cx, meta, sym).map(|v| s.cookie_mode = v),
        symbol::BACKEND => backend(cx, meta).map(|v| s.backend = v),
        symbol::KEYS => keys(cx, meta).map(|v| s.keys = v),
        _ => None,
    };
    done.is_some()
}

fn unknown_container_key(cx: &Ctxt, meta: &Meta, name: &str) {
    let path = meta.path();
    if looks_secret(name) && has_str_value(meta) {
        cx.error_spanned_by(meta, literal_secret_message(name));
    } else if name == symbol::NAME.0 {
        cx.error_spanned_by(
            meta,
            "`name` cannot be set in a derive: the session's name is the struct's name, rename the struct instead",
        );
    } else if symbol::FIELD.iter().any(|s| s.0 == name) {
        cx.error_spanned_by(
            path,
            format!("`{name}` is a field attribute, expected it on a field, not on the struct"),
        );
    } else {
        let names = symbol::CONTAINER
            .iter()
            .map(|s| s.0)
            .chain(symbol::ALIASES.iter().map(|(a, _)| *a));
        cx.error_spanned_by(
            path,
            unknown_message(
                &format!("session attribute `{name}`"),
                name,
                names,
                symbol::CONTAINER,
            ),
        );
    }
}

/// The same words as the TOML front-end's, with the attribute forms in the help.
fn literal_secret_message(name: &str) -> String {
    format!(
        "literal secret `{name}` in source code: keys never live in source files\n\
         = help: name the environment variable holding it: `keys(env = \"SESSION_KEY\")`, \
         or a key file: `keys(file = \"/run/secrets/session\")`"
    )
}

/// Whether the item is `name = "a string"`.
fn has_str_value(meta: &Meta) -> bool {
    matches!(meta, Meta::NameValue(nv) if matches!(strip(&nv.value), Expr::Lit(l) if matches!(l.lit, Lit::Str(_))))
}

/// `backend = "memory"` or `backend(type = "file", dir = "...", encrypt)`.
fn backend(cx: &Ctxt, meta: &Meta) -> Option<Backend> {
    let sym = symbol::BACKEND;
    let json = match meta {
        Meta::NameValue(nv) => {
            let ty = str_of(cx, sym, &nv.value)?;
            serde_json::json!({ "type": ty })
        }
        Meta::List(_) => nested_table(cx, meta, sym, symbol::BACKEND_KEYS, &[symbol::ENCRYPT])?,
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
fn keys(cx: &Ctxt, meta: &Meta) -> Option<KeySource> {
    let sym = symbol::KEYS;
    match meta {
        Meta::List(_) => {
            let json = nested_table(cx, meta, sym, symbol::KEYS_KEYS, &[])?;
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

/// The items of `name(a = 1, flag)` as a JSON table, every mistake recorded.
fn nested_table(
    cx: &Ctxt,
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
                table.insert(name, j);
            }
            None => ok = false,
        }
    }
    ok.then_some(serde_json::Value::Object(table))
}

/// Checks that the variables named by `keys(env, fallback_env)` and `backend(url_env)`
/// are variable names, not the secret itself; `false` when one is not (reported).
fn env_names(cx: &Ctxt, table: Symbol, key: Symbol, e: &Expr, v: &Value) -> bool {
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

fn is_env_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Parses the attributes of one field.
pub fn field(cx: &Ctxt, spans: &mut SpanTable, attrs: &[Attribute]) -> FieldAttrs {
    let mut f = FieldAttrs::default();
    let mut seen = Seen::default();
    for meta in session_metas(cx, attrs) {
        let Some(name) = name_of(cx, &meta) else {
            continue;
        };
        let sym = symbol::FIELD.iter().copied().find(|s| s.0 == name);
        // `type_default` is the TOML spelling of the flag form of `default`.
        let sym = sym.or((name == symbol::TYPE_DEFAULT.0).then_some(symbol::DEFAULT));
        let Some(sym) = sym else {
            unknown_field_key(cx, &meta, &name);
            continue;
        };
        if !seen.first(cx, sym, &name, &meta) {
            continue;
        }
        field_item(cx, spans, &mut f, sym, &meta);
    }
    f
}

fn field_item(cx: &Ctxt, spans: &mut SpanTable, f: &mut FieldAttrs, sym: Symbol, meta: &Meta) {
    let r = &mut f.rules;
    match sym {
        symbol::DEFAULT => {
            let type_default = meta.path() == symbol::TYPE_DEFAULT;
            f.default = match meta {
                Meta::Path(_) => Some(Spanned::with_origin(
                    DefaultValue::TypeDefault,
                    spans.origin(meta),
                )),
                Meta::NameValue(_) if type_default => match flag(cx, meta, symbol::TYPE_DEFAULT) {
                    Some(true) => Some(Spanned::with_origin(
                        DefaultValue::TypeDefault,
                        spans.origin(meta),
                    )),
                    _ => None,
                },
                Meta::NameValue(nv) => value_of(cx, &nv.value)
                    .map(|v| Spanned::with_origin(DefaultValue::Value(v), spans.origin(&nv.value))),
                Meta::List(l) => {
                    cx.error_spanned_by(
                        l,
                        "expected `default` (the type's default) or `default = <literal>`",
                    );
                    None
                }
            }
        }
        symbol::KEY => {
            f.key = value(cx, meta, sym)
                .and_then(|e| str_of(cx, sym, e).map(|k| Spanned::with_origin(k, spans.origin(e))));
        }
        symbol::SENSITIVE => f.sensitive = flag(cx, meta, sym).unwrap_or(false),
        symbol::MIN => {
            r.min = number(cx, meta, sym).map(|n| Spanned::with_origin(n, spans.origin(meta)))
        }
        symbol::MAX => {
            r.max = number(cx, meta, sym).map(|n| Spanned::with_origin(n, spans.origin(meta)))
        }
        symbol::MIN_LENGTH | symbol::MAX_LENGTH | symbol::MAX_ITEMS => {
            let n = value(cx, meta, sym).and_then(|e| u64_of(cx, sym, e));
            let n = n.map(|n| Spanned::with_origin(n, spans.origin(meta)));
            match sym {
                symbol::MIN_LENGTH => r.min_length = n,
                symbol::MAX_LENGTH => r.max_length = n,
                _ => r.max_items = n,
            }
        }
        symbol::PATTERN => {
            r.pattern = value(cx, meta, sym)
                .and_then(|e| str_of(cx, sym, e).map(|p| Spanned::with_origin(p, spans.origin(e))));
        }
        symbol::ONE_OF => r.one_of = value(cx, meta, sym).and_then(|e| one_of(cx, spans, e)),
        symbol::CUSTOM => r.custom = value(cx, meta, sym).and_then(|e| custom(cx, spans, e)),
        _ => {}
    }
}

fn one_of(cx: &Ctxt, spans: &mut SpanTable, e: &Expr) -> Option<Spanned<Vec<Value>>> {
    match value_of(cx, e)? {
        Value::Array(items) => Some(Spanned::with_origin(items, spans.origin(e))),
        _ => {
            cx.error_spanned_by(
                e,
                "expected an array of allowed values for `one_of`, like `one_of = [\"a\", \"b\"]`",
            );
            None
        }
    }
}

/// `custom = path::to::check` or `custom = "path::to::check"`.
fn custom(cx: &Ctxt, spans: &mut SpanTable, e: &Expr) -> Option<Spanned<String>> {
    let path = match strip(e) {
        Expr::Path(p) if p.qself.is_none() => p.path.clone(),
        Expr::Lit(l) if matches!(l.lit, Lit::Str(_)) => {
            let Lit::Str(s) = &l.lit else { return None };
            match s.parse::<syn::Path>() {
                Ok(p) => p,
                Err(_) => {
                    cx.error_spanned_by(s, "expected a path to a validator function in `custom`, like `custom = \"crate::check\"`");
                    return None;
                }
            }
        }
        _ => {
            cx.error_spanned_by(
                e,
                "expected a path to a validator function in `custom`, like `custom = crate::check`",
            );
            return None;
        }
    };
    let text: String = path
        .to_token_stream()
        .to_string()
        .split_whitespace()
        .collect();
    Some(Spanned::with_origin(text, spans.origin(e)))
}

fn unknown_field_key(cx: &Ctxt, meta: &Meta, name: &str) {
    let is_container = symbol::CONTAINER.iter().any(|s| s.0 == name)
        || symbol::ALIASES.iter().any(|(a, _)| *a == name);
    if looks_secret(name) && has_str_value(meta) {
        cx.error_spanned_by(meta, literal_secret_message(name));
    } else if is_container {
        cx.error_spanned_by(
            meta.path(),
            format!("`{name}` is a session attribute, expected it on the struct, not on a field"),
        );
    } else {
        let names = symbol::FIELD.iter().map(|s| s.0);
        cx.error_spanned_by(
            meta.path(),
            unknown_message(
                &format!("session field attribute `{name}`"),
                name,
                names,
                symbol::FIELD,
            ),
        );
    }
}

/// ``unknown session field attribute `defualt`, did you mean `default`?`` or, without a
/// close name, the list of every name; `what` names the thing and its name.
fn unknown_message<'a>(
    what: &str,
    name: &str,
    candidates: impl Iterator<Item = &'a str>,
    listed: &[Symbol],
) -> String {
    let best = candidates
        .map(|c| (distance(name, c), c))
        .filter(|(d, c)| *d <= (c.len().max(name.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d);
    match best {
        Some((_, c)) => format!("unknown {what}, did you mean `{c}`?"),
        None => {
            let all: Vec<String> = listed.iter().map(|s| format!("`{s}`")).collect();
            format!("unknown {what}, expected one of {}", all.join(", "))
        }
    }
}

/// Edit distance in characters, a swap of two neighbours counting as one edit (optimal
/// string alignment), so that `defualt` is one edit from `default`.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

/// Names already given in one attribute scope; a second one is an error at its name.
#[derive(Default)]
struct Seen(BTreeMap<&'static str, String>);

impl Seen {
    fn first(&mut self, cx: &Ctxt, sym: Symbol, written: &str, meta: &Meta) -> bool {
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

/// The items of every `#[session(...)]` among `attrs`.
fn session_metas(cx: &Ctxt, attrs: &[Attribute]) -> Vec<Meta> {
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
fn items(input: ParseStream<'_>) -> syn::Result<Vec<Meta>> {
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
fn name_of(cx: &Ctxt, meta: &Meta) -> Option<String> {
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
fn value<'a>(cx: &Ctxt, meta: &'a Meta, sym: Symbol) -> Option<&'a Expr> {
    match meta {
        Meta::NameValue(nv) => Some(&nv.value),
        _ => {
            cx.error_spanned_by(meta, format!("expected a value, like `{sym} = ...`"));
            None
        }
    }
}

/// `name` (true) or `name = true|false`.
fn flag(cx: &Ctxt, meta: &Meta, sym: Symbol) -> Option<bool> {
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
fn typed<T: DeserializeOwned>(cx: &Ctxt, meta: &Meta, sym: Symbol) -> Option<T> {
    let e = value(cx, meta, sym)?;
    let json = value_of(cx, e)?.to_json();
    deserialize(cx, e, sym, json)
}

fn deserialize<T: DeserializeOwned>(
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

fn str_of(cx: &Ctxt, sym: Symbol, e: &Expr) -> Option<String> {
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

fn u64_of(cx: &Ctxt, sym: Symbol, e: &Expr) -> Option<u64> {
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

fn number(cx: &Ctxt, meta: &Meta, sym: Symbol) -> Option<Number> {
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
fn value_of(cx: &Ctxt, e: &Expr) -> Option<Value> {
    literal(e).map_err(|err| cx.syn_error(err)).ok()
}

fn literal(e: &Expr) -> syn::Result<Value> {
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
fn strip(e: &Expr) -> &Expr {
    match e {
        Expr::Group(g) => strip(&g.expr),
        Expr::Paren(p) => strip(&p.expr),
        e => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_edits() {
        assert_eq!(distance("defualt", "default"), 1);
        assert_eq!(distance("dri", "dir"), 1);
        assert_eq!(distance("max_len", "max_length"), 3);
        assert_eq!(distance("", "abc"), 3);
    }

    #[test]
    fn suggests_the_nearest_name() {
        let names = symbol::FIELD.iter().map(|s| s.0);
        let m = unknown_message(
            "session field attribute `max_lenght`",
            "max_lenght",
            names,
            symbol::FIELD,
        );
        assert_eq!(
            m,
            "unknown session field attribute `max_lenght`, did you mean `max_length`?"
        );
        let names = symbol::FIELD.iter().map(|s| s.0);
        let m = unknown_message(
            "session field attribute `colour`",
            "colour",
            names,
            symbol::FIELD,
        );
        assert!(
            m.starts_with(
                "unknown session field attribute `colour`, expected one of `default`, `key`"
            ),
            "{m}"
        );
    }
}
