//! The `[session]` table: the policy, lowered into the one [`Settings`] type.
//!
//! Each key is checked on its own (so that every mistake gets its own position) by
//! deserializing it into [`Settings`] alone; serde's attributes on `Settings` stay the one
//! definition of what a value means. `backend` and `keys` are walked key by key first.

use serde_json::{Map, Value as Json, json};
use toml::de::{DeTable, DeValue};

use crate::diagnostic::Diagnostic;
use crate::ir::Schema;
use crate::settings::{Backend, KeySource, Settings};

use super::value::{float, integer};
use super::{BACKEND_KEYS, Cx, KEYS_KEYS, Key, SESSION_KEYS, Val, entries, origin};
use crate::suggest::{self, backticked};

/// The other names accepted for `[session]` keys: `(alias, canonical key)`, the Nexios
/// names first (the list lives beside [`Settings`]).
use crate::settings::KEY_ALIASES;

fn canonical(name: &str) -> Option<&'static str> {
    SESSION_KEYS
        .iter()
        .copied()
        .find(|k| *k == name)
        .or_else(|| {
            KEY_ALIASES
                .iter()
                .find(|(a, _)| *a == name)
                .map(|(_, k)| *k)
        })
}

fn is_env_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Cleans a serde error message for a diagnostic.
fn serde_message(e: &serde_json::Error) -> String {
    e.to_string().replace('"', "`")
}

impl Cx<'_> {
    /// A TOML value as JSON, for handing to serde.
    fn json(&mut self, what: &str, v: &Val<'_>) -> Option<Json> {
        Some(match v.get_ref() {
            DeValue::String(s) => Json::String(s.to_string()),
            DeValue::Boolean(b) => Json::Bool(*b),
            DeValue::Integer(i) => match integer(i) {
                Some(i) => i.into(),
                None => {
                    self.error(Diagnostic::error(
                        format!("{what} is out of range"),
                        origin(v.span()),
                    ));
                    return None;
                }
            },
            DeValue::Float(f) => match float(f).and_then(serde_json::Number::from_f64) {
                Some(n) => Json::Number(n),
                None => {
                    self.error(Diagnostic::error(
                        format!("{what} must be a finite number"),
                        origin(v.span()),
                    ));
                    return None;
                }
            },
            DeValue::Datetime(_) => {
                self.wrong_type(what, "a number or a string", v);
                return None;
            }
            DeValue::Array(items) => {
                let mut out = Vec::new();
                for item in items {
                    out.push(self.json(what, item)?);
                }
                Json::Array(out)
            }
            DeValue::Table(t) => {
                let mut out = Map::new();
                for (k, item) in entries(t) {
                    out.insert(k.get_ref().to_string(), self.json(what, item)?);
                }
                Json::Object(out)
            }
        })
    }

    pub(crate) fn session(&mut self, table: &DeTable<'_>, schema: &mut Schema) {
        let all_names: Vec<&str> = SESSION_KEYS
            .iter()
            .copied()
            .chain(KEY_ALIASES.iter().map(|(a, _)| *a))
            .collect();
        let mut accepted = Map::new();
        let mut written: Vec<(&'static str, String)> = Vec::new();
        for (key, value) in entries(table) {
            let name = key.get_ref().as_ref();
            let Some(canon) = canonical(name) else {
                self.unknown_key(key, value, &all_names, "`[session]`");
                continue;
            };
            if let Some((_, first)) = written.iter().find(|(c, _)| *c == canon) {
                let mut d = Diagnostic::error(
                    format!("`{canon}` is set twice in `[session]` (as `{first}` and `{name}`)"),
                    origin(key.span()),
                )
                .with_label("second setting");
                if name != canon {
                    d = d.with_note(format!("`{name}` is the Nexios name of `{canon}`"));
                }
                self.error(d);
                continue;
            }
            written.push((canon, name.to_owned()));
            schema
                .settings_origins
                .insert(canon.to_owned(), origin(value.span()));
            let json = match canon {
                "backend" => self.backend(value),
                "keys" => self.key_source(key, value),
                _ => self.json(&format!("`{name}`"), value),
            };
            let Some(json) = json else { continue };
            // Judge the key alone, with `Settings`' own serde rules.
            match serde_json::from_value::<Settings>(json!({ canon: json.clone() })) {
                Ok(_) => {
                    accepted.insert(canon.to_owned(), json);
                }
                Err(e) => {
                    let d = match (enum_values(canon), value.get_ref().as_str()) {
                        (Some(allowed), Some(found)) => {
                            let shown: Vec<String> =
                                allowed.iter().map(|a| format!("\"{a}\"")).collect();
                            let shown: Vec<&str> = shown.iter().map(String::as_str).collect();
                            let d = Diagnostic::error(
                                format!(
                                    "invalid value for `{name}`: expected one of {}, found `\"{found}\"`",
                                    backticked(&shown)
                                ),
                                origin(value.span()),
                            )
                            .with_label("unknown value");
                            match suggest::nearest(found, allowed.iter().copied()) {
                                Some(s) => d.with_help(format!("did you mean `\"{s}\"`?")),
                                None => d,
                            }
                        }
                        _ => hint_for(
                            canon,
                            Diagnostic::error(
                                format!("invalid value for `{name}`: {}", serde_message(&e)),
                                origin(value.span()),
                            )
                            .with_label("invalid value"),
                        ),
                    };
                    self.error(d);
                }
            }
        }
        for (key, at) in std::mem::take(&mut self.nested_origins) {
            schema.settings_origins.insert(key, at);
        }
        match serde_json::from_value::<Settings>(Json::Object(accepted)) {
            Ok(s) => schema.settings = s,
            Err(e) => self.error(Diagnostic::error(
                format!("invalid `[session]` table: {}", serde_message(&e)),
                schema.origin.clone(),
            )),
        }
    }

    fn backend(&mut self, value: &Val<'_>) -> Option<Json> {
        let types: Vec<&str> = BACKEND_KEYS.iter().map(|(t, _)| *t).collect();
        let check_type = |cx: &mut Self, v: &Val<'_>| -> Option<&'static [&'static str]> {
            let t = cx.string("the backend `type`", v)?;
            let t = crate::settings::backend_type_name(&t).to_owned();
            match BACKEND_KEYS.iter().find(|(name, _)| *name == t) {
                Some((_, keys)) => Some(*keys),
                None => {
                    let mut d =
                        Diagnostic::error(format!("unknown backend type `{t}`"), origin(v.span()))
                            .with_label("unknown backend");
                    d = match suggest::nearest(&t, types.iter().copied()) {
                        Some(s) => d.with_help(format!("did you mean `{s}`?")),
                        None => d.with_help(format!("expected one of {}", backticked(&types))),
                    };
                    cx.error(d);
                    None
                }
            }
        };
        match value.get_ref() {
            // Shorthand: `backend = "memory"`.
            DeValue::String(t) => {
                check_type(self, value)?;
                let t = crate::settings::backend_type_name(t);
                if t == "file" {
                    self.error(
                        Diagnostic::error("the `file` backend needs a `dir`", origin(value.span()))
                            .with_label("no directory")
                            .with_help("write `backend = { type = \"file\", dir = \"/var/lib/myapp/sessions\" }`"),
                    );
                    return None;
                }
                Some(json!({ "type": t.to_string() }))
            }
            DeValue::Table(t) => {
                let mut out = Map::new();
                let type_entry = entries(t).into_iter().find(|(k, _)| k.get_ref() == "type");
                let allowed = match type_entry {
                    Some((_, v)) => {
                        let allowed = check_type(self, v);
                        if allowed.is_some() {
                            out.insert("type".into(), self.json("the backend `type`", v)?);
                        }
                        allowed
                    }
                    None => {
                        self.error(
                            Diagnostic::error("the backend has no `type`", origin(value.span()))
                                .with_label("missing `type`")
                                .with_help(format!(
                                    "add `type = ...`, one of {}",
                                    backticked(&types)
                                )),
                        );
                        None
                    }
                };
                let mut ok = allowed.is_some();
                for (k, v) in entries(t) {
                    let name = k.get_ref().as_ref();
                    if name == "type" {
                        continue;
                    }
                    if let Some(allowed) = allowed {
                        if !allowed.contains(&name) {
                            ok = false;
                            self.unknown_backend_key(k, v, allowed);
                            continue;
                        }
                    }
                    let what = format!("the backend's `{name}`");
                    let good = match name {
                        "dir" | "table" | "prefix" => self.string(&what, v).is_some(),
                        "url_env" => self.env_name(&what, v).is_some(),
                        "encrypt" => self.boolean(&what, v).is_some(),
                        "durability" => self.durability(&what, v).is_some(),
                        "max_payload" => match v.get_ref() {
                            DeValue::Integer(i) if integer(i).is_some_and(|i| i >= 0) => true,
                            _ => {
                                self.wrong_type(&what, "a non-negative integer (bytes)", v);
                                false
                            }
                        },
                        // Unknown keys of an unknown backend type: already reported.
                        _ => false,
                    };
                    if good {
                        self.nested_origins
                            .push((format!("backend.{name}"), origin(v.span())));
                        out.insert(name.to_owned(), self.json(&what, v)?);
                    } else {
                        ok = false;
                    }
                }
                if !ok {
                    return None;
                }
                if out.get("type").and_then(Json::as_str) == Some("file")
                    && !out.contains_key("dir")
                {
                    self.error(
                        Diagnostic::error("the `file` backend needs a `dir`", origin(value.span()))
                            .with_label("no `dir` in this backend")
                            .with_help("add the directory holding the session files: `dir = \"/var/lib/myapp/sessions\"`"),
                    );
                    return None;
                }
                let json = Json::Object(out);
                if let Err(e) = serde_json::from_value::<Backend>(json.clone()) {
                    self.error(
                        Diagnostic::error(
                            format!("invalid backend: {}", serde_message(&e)),
                            origin(value.span()),
                        )
                        .with_label("in this backend"),
                    );
                    return None;
                }
                Some(json)
            }
            _ => {
                self.wrong_type(
                    "`backend`",
                    "a table such as `{ type = \"file\", dir = \"...\" }`",
                    value,
                );
                None
            }
        }
    }

    /// The file backend's `durability`: one of [`FileDurability::NAMES`](crate::FileDurability::NAMES).
    fn durability(&mut self, what: &str, v: &Val<'_>) -> Option<String> {
        let s = self.string(what, v)?;
        let allowed = crate::settings::FileDurability::NAMES;
        if allowed.contains(&s.as_str()) {
            return Some(s);
        }
        let shown: Vec<String> = allowed.iter().map(|a| format!("\"{a}\"")).collect();
        let shown: Vec<&str> = shown.iter().map(String::as_str).collect();
        let d = Diagnostic::error(
            format!(
                "invalid value for {what}: expected one of {}, found `\"{}\"`",
                backticked(&shown),
                s.escape_debug()
            ),
            origin(v.span()),
        )
        .with_label("unknown durability");
        let d = match suggest::nearest(&s, allowed.iter().copied()) {
            Some(near) => d.with_help(format!("did you mean `\"{near}\"`?")),
            None => d.with_help(
                "`none` (the default) does not sync saves; `group` syncs every write before \
                 acknowledging it, batched; `fsync` syncs each write on its own",
            ),
        };
        self.error(d);
        None
    }

    fn unknown_backend_key(&mut self, k: &Key<'_>, v: &Val<'_>, allowed: &[&str]) {
        let name = k.get_ref().as_ref();
        if matches!(name, "url" | "database_url" | "uri" | "dsn") && v.get_ref().is_str() {
            self.error(
                Diagnostic::error(
                    format!(
                        "literal database URL `{name}` in the spec: it usually holds a password"
                    ),
                    origin(k.span().start..v.span().end),
                )
                .with_label("URL written here")
                .with_help(
                    "name the environment variable holding it: `url_env = \"DATABASE_URL\"`",
                ),
            );
            return;
        }
        let mut known = vec!["type"];
        known.extend_from_slice(allowed);
        self.unknown_key(k, v, &known, "the backend");
    }

    fn env_name(&mut self, what: &str, v: &Val<'_>) -> Option<String> {
        let s = self.string(what, v)?;
        if is_env_name(&s) {
            return Some(s);
        }
        let mut d = Diagnostic::error(
            format!("{what} must name an environment variable (letters, digits, `_`), found `{s}`"),
            origin(v.span()),
        )
        .with_label("not a variable name");
        if s.len() >= 16 {
            d = d
                .with_note("this looks like a secret itself: keys and URLs never live in the spec");
        }
        self.error(d);
        None
    }

    fn key_source(&mut self, key: &Key<'_>, value: &Val<'_>) -> Option<Json> {
        let t = match value.get_ref() {
            DeValue::Table(t) => t,
            DeValue::String(_) => {
                self.literal_secret(key, value);
                return None;
            }
            _ => {
                self.wrong_type(
                    "`keys`",
                    "a table such as `{ env = \"SESSION_KEY\" }`",
                    value,
                );
                return None;
            }
        };
        let mut out = Map::new();
        let mut ok = true;
        for (k, v) in entries(t) {
            let name = k.get_ref().as_ref();
            let what = format!("`keys.{name}`");
            let json = match name {
                "env" => self.env_name(&what, v).map(Json::String),
                "file" => self.string(&what, v).map(Json::String),
                "fallback_env" => match v.get_ref() {
                    DeValue::Array(items) => {
                        let mut names = Vec::new();
                        for item in items {
                            names.push(Json::String(
                                self.env_name(&format!("an item of {what}"), item)?,
                            ));
                        }
                        Some(Json::Array(names))
                    }
                    _ => {
                        self.wrong_type(&what, "an array of variable names", v);
                        None
                    }
                },
                _ => {
                    self.unknown_key(k, v, KEYS_KEYS, "`[session.keys]`");
                    None
                }
            };
            match json {
                Some(j) => {
                    self.nested_origins
                        .push((format!("keys.{name}"), origin(v.span())));
                    out.insert(name.to_owned(), j);
                }
                None => ok = false,
            }
        }
        if !ok {
            return None;
        }
        let json = Json::Object(out);
        serde_json::from_value::<KeySource>(json.clone()).ok()?;
        Some(json)
    }
}

/// The values of the settings that take one of a few names.
fn enum_values(canon: &str) -> Option<&'static [&'static str]> {
    match canon {
        "same_site" => Some(&["strict", "lax", "none"]),
        "prefix" => Some(&["host", "secure", "__Host-", "__Secure-"]),
        "cookie_mode" => Some(&["signed", "encrypted"]),
        _ => None,
    }
}

fn hint_for(canon: &str, d: Diagnostic) -> Diagnostic {
    match canon {
        "secure" | "http_only" | "permanent" | "refresh_each_request" => {
            d.with_help("write `true` or `false`, without quotes")
        }
        _ => d,
    }
}
