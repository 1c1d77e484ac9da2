//! The TOML front-end: `session.toml` -> [`Schema`], with every error at once.
//!
//! [`parse_str`] reads the whole document, reports syntax errors (all of them, with
//! recovery), then lowers each table by hand so that every unknown key, wrong value type,
//! literal secret and unknown type is reported with its own position, and finally runs the
//! one IR validator ([`crate::validate::validate`]). The format is described in
//! [`crate::reference`].
//!
//! ```
//! use session_spec::parse::parse_str;
//! use session_spec::FieldType;
//!
//! let spec = r#"
//! name = "Shop"
//! version = 1
//!
//! [session]
//! session_cookie_name = "shop"   # the Nexios name of `cookie_name`
//!
//! [fields.cart]
//! type = "Vec<String>"
//! max_items = 50
//! "#;
//! let schema = parse_str(spec, "session.toml").unwrap();
//! assert_eq!(schema.settings.cookie_name, "shop");
//! assert_eq!(schema.fields[0].ty.value, FieldType::Vec(Box::new(FieldType::String)));
//!
//! let err = parse_str("name = \"Shop\"\nverison = 1\n", "session.toml").unwrap_err();
//! assert_eq!(err.locations(), vec![Some((2, 1))]);
//! assert!(err.to_string().contains("did you mean `version`?"));
//! ```

mod fields;
mod session;
use crate::ident::looks_secret;
use crate::suggest::{self, backticked};
mod ty;
mod value;

use std::borrow::Cow;
use std::ops::Range;
use std::path::Path;

use toml::Spanned as TSpanned;
use toml::de::{DeTable, DeValue};

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::ir::{Origin, Schema};
use crate::settings::Settings;

/// The keys of the top level of a spec.
pub const TOP_LEVEL_KEYS: &[&str] = &["name", "version", "doc", "session", "fields", "enums"];
/// The keys of a `[fields.NAME]` table.
pub const FIELD_KEYS: &[&str] = &[
    "type",
    "default",
    "type_default",
    "doc",
    "key",
    "sensitive",
    "shown",
    "min",
    "max",
    "min_length",
    "max_length",
    "max_items",
    "max_key_length",
    "pattern",
    "one_of",
    "custom",
];
/// The keys of an `[enums.NAME]` table.
pub const ENUM_KEYS: &[&str] = &["variants", "doc"];
/// The keys of a variant written as a table in `variants`.
pub const VARIANT_KEYS: &[&str] = &["name", "key"];
/// The keys of the `[session]` table (canonical names; see [`KEY_ALIASES`](crate::KEY_ALIASES)).
pub const SESSION_KEYS: &[&str] = &[
    "cookie_name",
    "secure",
    "http_only",
    "same_site",
    "path",
    "domain",
    "partitioned",
    "prefix",
    "expiration_time",
    "permanent",
    "refresh_each_request",
    "idle_timeout",
    "absolute_timeout",
    "rotation_interval",
    "rotation_grace",
    "cookie_mode",
    "backend",
    "keys",
    "principal",
    "revocation_store",
    "max_sessions",
    "on_max_sessions",
];
/// The keys of `[session.keys]`.
pub const KEYS_KEYS: &[&str] = &["env", "fallback_env", "file"];
/// The backend types and the keys each one takes (besides `type`).
pub const BACKEND_KEYS: &[(&str, &[&str])] = &[
    ("cookie", &[]),
    ("memory", &[]),
    ("file", &["dir", "encrypt", "durability"]),
    ("postgres", &["url_env", "table", "max_payload", "encrypt"]),
    ("mysql", &["url_env", "table", "max_payload", "encrypt"]),
    ("redis", &["url_env", "prefix", "max_payload", "encrypt"]),
];

/// Parses and validates a spec. `file_name` is only used in diagnostics.
///
/// # Errors
/// Returns every syntax error, lowering error and validation error found (warnings
/// included when there is at least one error).
pub fn parse_str(source: &str, file_name: &str) -> Result<Schema, Diagnostics> {
    let (schema, diagnostics) = check_str(source, file_name);
    match schema {
        Some(schema) if !diagnostics.has_errors() => Ok(schema),
        _ => Err(diagnostics),
    }
}

/// Reads, parses and validates a spec file.
///
/// # Errors
/// As [`parse_str`]; an I/O error (missing file, not UTF-8) is reported as a diagnostic too.
pub fn parse_file(path: impl AsRef<Path>) -> Result<Schema, Diagnostics> {
    let path = path.as_ref();
    let name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(source) => parse_str(&source, &name),
        Err(e) => Err(Diagnostics::new(
            name.clone(),
            String::new(),
            vec![Diagnostic::error(
                format!("cannot read `{name}`: {}", lower_first(&e.to_string())),
                Origin::Unknown,
            )],
        )),
    }
}

/// Parses and validates a spec, returning the schema when it has no error and every
/// diagnostic, warnings included (for the CLI's `check`).
pub fn check_str(source: &str, file_name: &str) -> (Option<Schema>, Diagnostics) {
    let mut cx = Cx {
        source,
        diags: Vec::new(),
        nested_origins: Vec::new(),
    };
    let schema = cx.document();
    let mut items = cx.diags;
    if let Some(schema) = &schema {
        items.extend(crate::validate::validate(schema));
        items.extend(crate::validate::security_warnings(schema));
    }
    // Report in source order; diagnostics without a position first.
    items.sort_by_key(|d| match &d.origin {
        Origin::Toml { span } => (1, span.start),
        _ => (0, 0),
    });
    let has_errors = items.iter().any(Diagnostic::is_error);
    let diagnostics = Diagnostics::new(file_name, source, items);
    (schema.filter(|_| !has_errors), diagnostics)
}

/// The schema as lowered from `source`, before validation: for tools that explain a spec
/// that has errors (`session-spec check --explain`). `None` when the TOML cannot be read.
pub fn lower_unchecked(source: &str) -> Option<Schema> {
    let mut cx = Cx {
        source,
        diags: Vec::new(),
        nested_origins: Vec::new(),
    };
    cx.document()
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

pub(crate) type Key<'a> = TSpanned<Cow<'a, str>>;
pub(crate) type Val<'a> = TSpanned<DeValue<'a>>;

/// The lowering context: the source and the diagnostics found so far.
pub(crate) struct Cx<'s> {
    pub source: &'s str,
    pub diags: Vec<Diagnostic>,
    /// Where the options of `backend` and `keys` were written (`backend.table`), so that
    /// a problem with one option is reported at it.
    pub nested_origins: Vec<(String, Origin)>,
}

pub(crate) fn origin(span: Range<usize>) -> Origin {
    Origin::Toml { span }
}

/// A table's entries in source order (toml's map is sorted by key).
pub(crate) fn entries<'t, 'a>(table: &'t DeTable<'a>) -> Vec<(&'t Key<'a>, &'t Val<'a>)> {
    let mut v: Vec<_> = table.iter().collect();
    v.sort_by_key(|(k, _)| k.span().start);
    v
}

impl Cx<'_> {
    pub(crate) fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// An unknown key: a literal secret when it looks like one, else a suggestion.
    pub(crate) fn unknown_key(
        &mut self,
        key: &Key<'_>,
        value: &Val<'_>,
        known: &[&str],
        place: &str,
    ) {
        let name = key.get_ref().as_ref();
        if looks_secret(name) && value.get_ref().is_str() {
            self.literal_secret(key, value);
            return;
        }
        let mut d = Diagnostic::error(
            format!("unknown key `{name}` in {place}"),
            origin(key.span()),
        )
        .with_label("unknown key");
        d = match suggest::nearest(name, known.iter().copied()) {
            Some(s) => d.with_help(format!("did you mean `{s}`?")),
            None => d.with_help(format!("expected one of {}", backticked(known))),
        };
        self.error(d);
    }

    pub(crate) fn literal_secret(&mut self, key: &Key<'_>, value: &Val<'_>) {
        let name = key.get_ref().as_ref();
        let d = Diagnostic::error(
            format!("literal secret `{name}` in the spec: keys never live in source files"),
            origin(key.span().start..value.span().end),
        )
        .with_label("secret written here")
        .with_help("name the environment variable holding it: `[session.keys] env = \"SESSION_KEY\"`, or a key file: `file = \"/run/secrets/session\"`")
        .with_note("a spec is committed with the code; anyone who can read the repository could forge sessions");
        self.error(d);
    }

    pub(crate) fn wrong_type(&mut self, what: &str, expected: &str, value: &Val<'_>) {
        let found = value.get_ref().type_str();
        let article = if found.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        self.error(
            Diagnostic::error(
                format!("expected {expected} for {what}, found {article} {found}"),
                origin(value.span()),
            )
            .with_label(format!("expected {expected}")),
        );
    }

    /// The byte range of `inner` (a range inside the string's text) in the source, when
    /// the string is written without escapes; the whole value otherwise.
    pub(crate) fn string_sub_span(
        &self,
        value: &Val<'_>,
        text: &str,
        inner: Range<usize>,
    ) -> Range<usize> {
        let span = value.span();
        let written = self.source.get(span.clone()).unwrap_or("");
        let plain = written.len() == text.len() + 2
            && (written.starts_with('"') || written.starts_with('\''))
            && written.get(1..written.len() - 1) == Some(text);
        if plain && inner.end <= text.len() {
            span.start + 1 + inner.start
                ..span.start + 1 + inner.end.max(inner.start + 1).min(text.len())
        } else {
            span
        }
    }

    fn document(&mut self) -> Option<Schema> {
        let (root, errors) = DeTable::parse_recoverable(self.source);
        if !errors.is_empty() {
            for e in errors {
                let span = e.span().unwrap_or(0..0);
                let message = e.message().trim_end_matches('\n').to_owned();
                let message = lower_first(message.lines().next().unwrap_or("invalid TOML"));
                if message == "duplicate key" {
                    if let Some(d) = self.duplicate(span.clone()) {
                        self.error(d);
                        continue;
                    }
                }
                self.error(
                    Diagnostic::error(format!("invalid TOML: {message}"), origin(span))
                        .with_label("here"),
                );
            }
            return None;
        }
        let root = root.get_ref();
        let mut schema = Schema {
            name: String::new(),
            version: 1,
            doc: None,
            settings: Settings::default(),
            settings_origins: Default::default(),
            fields: Vec::new(),
            enums: Vec::new(),
            origin: origin(0..0),
        };
        let mut name_seen = false;
        let mut fields_table = None;
        // Enums first: field types refer to them.
        for (key, value) in entries(root) {
            match key.get_ref().as_ref() {
                "name" => {
                    name_seen = true;
                    match value.get_ref().as_str() {
                        Some(s) => {
                            schema.name = s.to_owned();
                            schema.origin = origin(value.span());
                        }
                        None => {
                            schema.name = "Session".into();
                            self.wrong_type("`name`", "a string", value);
                        }
                    }
                }
                "version" => {
                    if let Some(v) = self.version(value) {
                        schema.version = v;
                    }
                }
                "doc" => schema.doc = self.string("`doc`", value),
                "session" => match value.get_ref() {
                    DeValue::Table(t) => {
                        self.session(t, &mut schema);
                    }
                    DeValue::String(_) => self.literal_secret(key, value),
                    _ => self.wrong_type("`session`", "a table", value),
                },
                "fields" => match value.get_ref() {
                    DeValue::Table(t) => fields_table = Some(t),
                    _ => self.wrong_type("`fields`", "a table of fields", value),
                },
                "enums" => match value.get_ref() {
                    DeValue::Table(t) => schema.enums = self.enums(t),
                    _ => self.wrong_type("`enums`", "a table of enums", value),
                },
                _ => self.unknown_key(key, value, TOP_LEVEL_KEYS, "the spec"),
            }
        }
        if !name_seen {
            schema.name = "Session".into();
            self.error(
                Diagnostic::error("the spec has no `name`", origin(0..0))
                    .with_label("expected `name = \"...\"` at the top")
                    .with_help("add the Rust type name of the session, e.g. `name = \"Shop\"`"),
            );
        }
        if let Some(t) = fields_table {
            schema.fields = self.fields(t, &schema.enums);
        }
        Some(schema)
    }

    /// A table header or key written twice, named, with where it was first written.
    fn duplicate(&self, span: Range<usize>) -> Option<Diagnostic> {
        let src = self.source;
        let line_start = src[..span.start.min(src.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let line_end = src[line_start..]
            .find('\n')
            .map_or(src.len(), |i| line_start + i);
        let line = src[line_start..line_end].trim();
        let header = line.split('#').next().unwrap_or("").trim();
        if header.starts_with('[') && header.ends_with(']') {
            // The first line with the same header.
            let first = src[..line_start]
                .match_indices(header)
                .find(|(at, _)| *at == 0 || src.as_bytes()[at - 1] == b'\n')
                .map(|(at, _)| at);
            let start = line_start + src[line_start..].find('[').unwrap_or(0);
            let mut d = Diagnostic::error(
                format!("table `{header}` is declared twice"),
                origin(start..start + header.len()),
            )
            .with_label("declared again here")
            .with_help("merge the two tables into one");
            if let Some(first) = first {
                d = d.with_secondary(origin(first..first + header.len()), "first declared here");
            }
            return Some(d);
        }
        let key = src.get(span.clone())?.trim();
        Some(
            Diagnostic::error(format!("key `{key}` is set twice"), origin(span))
                .with_label("set again here")
                .with_help("keep one of the two"),
        )
    }

    pub(crate) fn string(&mut self, what: &str, value: &Val<'_>) -> Option<String> {
        match value.get_ref().as_str() {
            Some(s) => Some(s.to_owned()),
            None => {
                self.wrong_type(what, "a string", value);
                None
            }
        }
    }

    pub(crate) fn boolean(&mut self, what: &str, value: &Val<'_>) -> Option<bool> {
        match value.get_ref().as_bool() {
            Some(b) => Some(b),
            None => {
                self.wrong_type(what, "`true` or `false`", value);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests;
