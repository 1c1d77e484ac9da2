//! The `#[session(...)]` attributes: container attributes become [`Settings`] (through the
//! same serde type the TOML front-end uses), field attributes become a field's key,
//! default, flags and [`Rules`].
//!
//! Every mistake is recorded in the [`Ctxt`] and parsing goes on, so that one compile
//! reports all of them.

use std::collections::BTreeMap;

use quote::ToTokens;
use syn::{Attribute, Expr, Lit, Meta};

use super::ctxt::Ctxt;
use super::meta::{
    Seen, flag, has_str_value, name_of, number, session_metas, str_of, strip, typed, u64_of, value,
    value_of,
};
use super::policy::{Nested, backend, keys, literal_secret_message};
use super::spans::SpanTable;
use super::symbol::{self, Symbol};
use crate::ident::looks_secret;
use crate::ir::{DefaultValue, Origin, Rules, Spanned, Value};
use crate::settings::{CookieMode, CookiePrefix, Lifetime, OnMaxSessions, SameSite, Settings};
use crate::suggest::unknown_message;

/// What the container attributes say: the schema version, the policy and where each policy
/// key was written.
#[derive(Debug)]
pub(super) struct Container {
    /// The schema version (`version = 2`), 1 when not given.
    pub version: u32,
    /// The policy.
    pub settings: Settings,
    /// The origin of each key written, by its canonical name.
    pub settings_origins: BTreeMap<String, Origin>,
}

/// What a field's attributes say.
#[derive(Debug, Default)]
pub(super) struct FieldAttrs {
    /// The storage key, when renamed (`key = "user"`).
    pub key: Option<Spanned<String>>,
    /// The default.
    pub default: Option<Spanned<DefaultValue>>,
    /// Whether the value is redacted in `Debug` output and logs.
    pub sensitive: bool,
    /// Whether the value is shown in the list of active sessions.
    pub shown: bool,
    /// The rules.
    pub rules: Rules,
}

/// The doc text of `///` comments: one leading space of each line removed, lines joined
/// with `\n`, surrounding blank space trimmed; `None` when there is none.
pub(super) fn doc(attrs: &[Attribute]) -> Option<String> {
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
pub(super) fn container(cx: &Ctxt, spans: &mut SpanTable, attrs: &[Attribute]) -> Container {
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
            .or_else(|| symbol::alias(&name));
        let Some(sym) = sym else {
            unknown_container_key(cx, &meta, &name);
            continue;
        };
        if !seen.first(cx, sym, &name, &meta) {
            continue;
        }
        let mut nested = Nested {
            spans,
            origins: Vec::new(),
        };
        let accepted = container_item(cx, &mut c, &mut nested, sym, &meta);
        let nested_origins = nested.origins;
        if accepted {
            for (key, at) in nested_origins {
                c.settings_origins.insert(key, at);
            }
            let origin = spans.origin(&meta);
            if sym != symbol::VERSION {
                c.settings_origins.insert(sym.0.to_owned(), origin);
            }
        }
    }
    c
}

/// Applies one container item; `false` when it was rejected (the error is recorded).
fn container_item(
    cx: &Ctxt,
    c: &mut Container,
    nested: &mut Nested<'_>,
    sym: Symbol,
    meta: &Meta,
) -> bool {
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
        symbol::PARTITIONED => flag(cx, meta, sym).map(|v| s.partitioned = v),
        symbol::PREFIX => typed::<CookiePrefix>(cx, meta, sym).map(|v| s.prefix = Some(v)),
        symbol::EXPIRATION_TIME => typed::<Lifetime>(cx, meta, sym).map(|v| s.expiration_time = v),
        symbol::IDLE_TIMEOUT => typed::<Lifetime>(cx, meta, sym).map(|v| s.idle_timeout = Some(v)),
        symbol::ABSOLUTE_TIMEOUT => {
            typed::<Lifetime>(cx, meta, sym).map(|v| s.absolute_timeout = Some(v))
        }
        symbol::ROTATION_INTERVAL => {
            typed::<Lifetime>(cx, meta, sym).map(|v| s.rotation_interval = Some(v))
        }
        symbol::ROTATION_GRACE => typed::<Lifetime>(cx, meta, sym).map(|v| s.rotation_grace = v),
        symbol::COOKIE_MODE => typed::<CookieMode>(cx, meta, sym).map(|v| s.cookie_mode = v),
        symbol::BACKEND => backend(cx, nested, meta, sym).map(|v| s.backend = v),
        symbol::PRINCIPAL => value(cx, meta, sym)
            .and_then(|e| str_of(cx, sym, e))
            .map(|v| s.principal = Some(v)),
        symbol::REVOCATION_STORE => {
            backend(cx, nested, meta, sym).map(|v| s.revocation_store = Some(v))
        }
        symbol::MAX_SESSIONS => value(cx, meta, sym)
            .and_then(|e| u64_of(cx, sym, e).map(|v| (v, e)))
            .and_then(|(v, e)| match u32::try_from(v) {
                Ok(v) => {
                    s.max_sessions = Some(v);
                    Some(())
                }
                Err(_) => {
                    cx.error_spanned_by(e, "`max_sessions` must fit in a `u32`");
                    None
                }
            }),
        symbol::ON_MAX_SESSIONS => {
            typed::<OnMaxSessions>(cx, meta, sym).map(|v| s.on_max_sessions = v)
        }
        symbol::KEYS => keys(cx, nested, meta).map(|v| s.keys = v),
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
            .chain(symbol::alias_names());
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

/// Parses the attributes of one field.
pub(super) fn field(cx: &Ctxt, spans: &mut SpanTable, attrs: &[Attribute]) -> FieldAttrs {
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
        symbol::SHOWN => f.shown = flag(cx, meta, sym).unwrap_or(false),
        symbol::MIN => {
            r.min = number(cx, meta, sym).map(|n| Spanned::with_origin(n, spans.origin(meta)))
        }
        symbol::MAX => {
            r.max = number(cx, meta, sym).map(|n| Spanned::with_origin(n, spans.origin(meta)))
        }
        symbol::MIN_LENGTH | symbol::MAX_LENGTH | symbol::MAX_ITEMS | symbol::MAX_KEY_LENGTH => {
            let n = value(cx, meta, sym).and_then(|e| u64_of(cx, sym, e));
            let n = n.map(|n| Spanned::with_origin(n, spans.origin(meta)));
            match sym {
                symbol::MIN_LENGTH => r.min_length = n,
                symbol::MAX_LENGTH => r.max_length = n,
                symbol::MAX_KEY_LENGTH => r.max_key_length = n,
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
                // Not a path: the validator's one rule reports it, as for a TOML spec.
                Err(_) => return Some(Spanned::with_origin(s.value(), spans.origin(e))),
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
    let is_container =
        symbol::CONTAINER.iter().any(|s| s.0 == name) || symbol::alias(name).is_some();
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
