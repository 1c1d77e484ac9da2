//! The policy: the session's name, [`Settings::problems`](crate::Settings::problems) at the
//! keys they concern, rules only a spec can judge (both keys written), and the cookie budget.

use crate::diagnostic::Diagnostic;
use crate::ir::{Field, Origin};
use crate::settings::{Backend, Settings};

use super::{Cx, is_upper_camel_case};

impl Cx<'_> {
    /// The session name becomes a Rust type (`Shop`) and is bound into the cookie MAC.
    pub(super) fn check_schema_name(&mut self) {
        let name = &self.schema.name;
        if !is_upper_camel_case(name) {
            let d = Diagnostic::error(
                format!("invalid session name `{name}`: expected an UpperCamelCase Rust type name"),
                self.schema.origin.clone(),
            )
            .with_label("not a type name")
            .with_help("write it like a Rust struct name, e.g. `Shop` or `UserSession`");
            self.push(d);
        }
    }

    /// Where a settings key was written: `backend.table` falls back to `backend`, and an
    /// unwritten key to the schema's name.
    pub(super) fn settings_origin(&self, key: &str) -> Origin {
        let origins = &self.schema.settings_origins;
        origins
            .get(key)
            .or_else(|| {
                key.split_once('.')
                    .and_then(|(outer, _)| origins.get(outer))
            })
            .cloned()
            .unwrap_or_else(|| self.schema.origin.clone())
    }

    /// A server backend's `url_env` names the variable holding the `server`'s URL, and its
    /// `max_payload` lets some data through.
    fn check_server(&mut self, url_env: &str, max_payload: u64, server: &str) {
        if url_env.trim().is_empty() {
            let d = Diagnostic::error(
                format!(
                    "`url_env` is empty: name the environment variable holding the {server} URL"
                ),
                self.settings_origin("backend.url_env"),
            );
            self.push(d);
        }
        if max_payload == 0 {
            self.zero_max_payload();
        }
    }

    /// A server-side backend whose `max_payload` allows no session at all.
    fn zero_max_payload(&mut self) {
        let d = Diagnostic::error(
            "`max_payload` must be greater than zero",
            self.settings_origin("backend.max_payload"),
        )
        .with_label("allows no session at all");
        self.push(d);
    }

    /// The policy's cross-cutting rules live in [`Settings::problems`], shared with the
    /// runtime; this maps each problem to where its key was written.
    pub(super) fn check_settings(&mut self) {
        let settings: &Settings = &self.schema.settings;
        for p in settings.problems() {
            let mut d = Diagnostic::error(p.to_string(), self.settings_origin(p.key()));
            if let Some((other, label)) = p.other_key() {
                if let Some(origin) = self.schema.settings_origins.get(other) {
                    d = d.with_secondary(origin.clone(), label);
                }
            }
            self.push(d);
        }
        // An expiry written longer than the absolute cap written beside it never takes
        // effect (with the default expiry, a short cap is the usual way to say "at most").
        if let (Some(exp), Some(abs)) = (
            self.schema.settings_origins.get("expiration_time"),
            self.schema.settings_origins.get("absolute_timeout"),
        ) {
            if settings
                .absolute_timeout
                .is_some_and(|abs| abs.as_seconds() > 0 && settings.expiration_time > abs)
            {
                let p = crate::settings::SettingsProblem::ExpirationLongerThanAbsolute;
                let d = Diagnostic::error(p.to_string(), exp.clone())
                    .with_secondary(abs.clone(), "the absolute cap is set here");
                self.push(d);
            }
        }
        // Keys must come from somewhere; an empty variable name can never be set.
        if settings.keys.file.is_none() && settings.keys.env.trim().is_empty() {
            let d = Diagnostic::error(
                "`keys.env` is empty and no `keys.file` is set: the session keys would come from nowhere",
                self.settings_origin("keys"),
            )
            .with_help("name the environment variable holding the key, e.g. `env = \"SESSION_KEY\"`");
            self.push(d);
        }
        if let Some(empty) = settings
            .keys
            .fallback_env
            .iter()
            .find(|e| e.trim().is_empty())
        {
            let d = Diagnostic::error(
                format!("`keys.fallback_env` holds an empty variable name {empty:?}"),
                self.settings_origin("keys.fallback_env"),
            );
            self.push(d);
        }
        match &settings.backend {
            Backend::File { dir, .. } if dir.as_os_str().is_empty() => {
                let d = Diagnostic::error(
                    "the file backend needs a directory: `dir` is empty",
                    self.settings_origin("backend.dir"),
                )
                .with_help(
                    "set `backend = { type = \"file\", dir = \"/var/lib/myapp/sessions\" }`",
                );
                self.push(d);
            }
            Backend::Postgres(db) | Backend::Mysql(db) => {
                // The table name is spliced into SQL; the runtime's stores apply this rule.
                if let Some(why) = crate::settings::DatabaseBackend::table_name_problem(&db.table) {
                    let d = Diagnostic::error(
                        format!("invalid table name `{}`: {why}", db.table.escape_debug()),
                        self.settings_origin("backend.table"),
                    )
                    .with_label("invalid table name")
                    .with_help(format!(
                        "use 1 to {} ASCII letters, digits and `_`, not starting with a digit",
                        crate::settings::DatabaseBackend::MAX_TABLE_LEN
                    ));
                    self.push(d);
                }
                self.check_server(&db.url_env, db.max_payload, "database");
            }
            Backend::Redis(redis) => {
                // Every key the store writes starts with the prefix, followed by its hash tag.
                if let Some(why) = crate::settings::RedisBackend::prefix_problem(&redis.prefix) {
                    let d = Diagnostic::error(
                        format!(
                            "invalid key prefix `{}`: {why}",
                            redis.prefix.escape_debug()
                        ),
                        self.settings_origin("backend.prefix"),
                    )
                    .with_label("invalid key prefix")
                    .with_help(format!(
                        "use 1 to {} ASCII letters, digits, `_`, `-`, `.` and `:`",
                        crate::settings::RedisBackend::MAX_PREFIX_LEN
                    ));
                    self.push(d);
                }
                self.check_server(&redis.url_env, redis.max_payload, "Redis");
            }
            _ => {}
        }
    }

    /// On the cookie backend the whole session travels in the cookie, and browsers drop a
    /// cookie over 4096 bytes: a spec whose rules allow more fails for some user at run
    /// time, so it is refused here, with the numbers.
    pub(super) fn check_cookie_budget(&mut self) {
        if self.schema.settings.backend != Backend::Cookie {
            return;
        }
        let budget = crate::budget::cookie_budget(self.schema);
        let field = |name: &str| self.schema.fields.iter().find(|f| f.name == name);
        // Where to shrink a field: the rule that lets it grow.
        let grow_origin = |f: &Field| -> Origin {
            let r = &f.rules;
            let from_items = if f.ty.value.is_collection() {
                r.max_items.as_ref().map(|m| m.origin.clone())
            } else {
                None
            };
            from_items
                .or_else(|| r.max_length.as_ref().map(|m| m.origin.clone()))
                .filter(|o| *o != Origin::Unknown)
                .unwrap_or_else(|| f.origin.clone())
        };
        for (name, why) in budget.unbounded() {
            let Some(f) = field(name) else { continue };
            let d = Diagnostic::warning(
                format!(
                    "the cookie budget cannot be proven: field `{name}` has no size limit ({why})"
                ),
                f.origin.clone(),
            )
            .with_label("unbounded on the cookie backend")
            .with_help(
                "bound it (`max_length`, `max_items`), or keep the data server-side (`backend = { type = \"file\", dir = \"...\" }`)",
            )
            .with_note("a cookie over 4096 bytes is dropped by browsers; the runtime then answers with an error");
            self.push(d);
        }
        let data = budget.data_bounded_part();
        let total = budget.total_for(data);
        if total <= crate::budget::MAX_COOKIE_BYTES {
            return;
        }
        let largest = budget.largest();
        let Some(&(first, first_bytes)) = largest.first() else {
            return;
        };
        let Some(first_field) = field(first) else {
            return;
        };
        let shown: Vec<String> = largest
            .iter()
            .take(3)
            .map(|(n, b)| format!("`{n}` ({b} bytes)"))
            .collect();
        let mut d = Diagnostic::error(
            format!(
                "the largest cookie this session allows is {total} bytes, {} over the {} bytes browsers keep",
                total - crate::budget::MAX_COOKIE_BYTES,
                crate::budget::MAX_COOKIE_BYTES
            ),
            grow_origin(first_field),
        )
        .with_label(format!("`{first}` takes up to {first_bytes} bytes"))
        .with_note(format!("the fields taking the most room: {}", shown.join(", ")))
        .with_help("lower `max_items` or `max_length`, add a `pattern` that admits fewer characters, or keep the data server-side (`backend = { type = \"file\", dir = \"...\" }`)");
        // Other fields worth shrinking (a tenth of the limit or more).
        for (name, bytes) in largest.iter().skip(1).take(2) {
            if *bytes < crate::budget::MAX_COOKIE_BYTES / 10 {
                continue;
            }
            if let Some(f) = field(name) {
                d = d.with_secondary(
                    grow_origin(f),
                    format!("`{name}` takes up to {bytes} bytes"),
                );
            }
        }
        self.push(d);
    }
}

impl Cx<'_> {
    /// The declared principal (whose session it is) must name a field the stores can index
    /// (a string or an integer, optional for anonymous sessions), and the backend must be
    /// able to end its sessions: the cookie backend keeps no server state, so it needs a
    /// revocation store; a revocation store anywhere else would never be consulted.
    pub(super) fn check_principal(&mut self) {
        let settings = &self.schema.settings;
        let Some(principal) = &settings.principal else {
            if settings.revocation_store.is_some() {
                let d = Diagnostic::error(
                    "`revocation_store` without a `principal`: it keeps a time per principal, and none is declared",
                    self.settings_origin("revocation_store"),
                )
                .with_help("name the field that says whose session it is, e.g. `principal = \"user\"`");
                self.push(d);
            }
            return;
        };
        match self.schema.field_by_key(principal) {
            None => {
                let keys: Vec<&str> = self.schema.fields.iter().map(|f| f.key.as_str()).collect();
                let mut d = Diagnostic::error(
                    format!("`principal` names no field: there is no field `{principal}`"),
                    self.settings_origin("principal"),
                )
                .with_label("unknown field");
                d = match crate::suggest::nearest(principal, keys.iter().copied()) {
                    Some(s) => d.with_help(format!("did you mean `\"{s}\"`?")),
                    None if keys.is_empty() => d.with_help(
                        "declare the field first, e.g. `[fields.user]` with `type = \"Option<String>\"`",
                    ),
                    None => d.with_help(format!("expected one of {}", crate::suggest::backticked(&keys))),
                };
                self.push(d);
            }
            Some(f) if !indexable(&f.ty.value) => {
                let d = Diagnostic::error(
                    format!(
                        "the principal field `{}` has type `{}`: the session index needs a string or an integer, optionally in `Option`",
                        f.name,
                        f.ty.value.to_rust()
                    ),
                    self.settings_origin("principal"),
                )
                .with_label("cannot be indexed")
                .with_secondary(f.ty.origin.clone(), "the type is declared here");
                self.push(d);
            }
            Some(_) => {}
        }
        match &settings.revocation_store {
            None if settings.backend == Backend::Cookie => {
                let d = Diagnostic::error(
                    "a `principal` on the cookie backend needs a `revocation_store`: the cookie backend keeps no server state, so it can neither list nor end a principal's sessions without one",
                    self.settings_origin("principal"),
                )
                .with_label("cannot be ended")
                .with_help(
                    "add `revocation_store = { type = \"file\", dir = \"/var/lib/myapp/revoked\" }` (any server-side backend; it keeps a \"not valid before\" time per principal), or use a server-side `backend`",
                );
                self.push(d);
            }
            Some(Backend::Cookie) => {
                let d = Diagnostic::error(
                    "`revocation_store` must be a server-side backend, not `cookie`",
                    self.settings_origin("revocation_store"),
                )
                .with_help("use `\"memory\"`, a file directory or a database");
                self.push(d);
            }
            Some(_) if settings.backend != Backend::Cookie => {
                let d = Diagnostic::error(
                    "`revocation_store` is for the cookie backend only: a server-side backend ends sessions in its own index",
                    self.settings_origin("revocation_store"),
                )
                .with_label("never consulted")
                .with_help("remove `revocation_store`");
                self.push(d);
            }
            _ => {}
        }
    }
}

impl Cx<'_> {
    /// `on_max_sessions` says what happens at the limit; written without `max_sessions`
    /// there is no limit, and it never applies. (The rules of `max_sessions` itself are
    /// [`Settings::problems`], shared with the runtime.)
    pub(super) fn check_max_sessions(&mut self) {
        let settings = &self.schema.settings;
        if settings.max_sessions.is_some()
            && settings.principal.is_some()
            && settings.backend == Backend::Cookie
        {
            let p = crate::settings::SettingsProblem::MaxSessionsOnCookieBackend;
            let mut d = Diagnostic::error(p.to_string(), self.settings_origin(p.key())).with_help(
                "use a server-side `backend` (memory, file, a database), or remove `max_sessions`",
            );
            if let Some((other, label)) = p.other_key() {
                if let Some(origin) = self.schema.settings_origins.get(other) {
                    d = d.with_secondary(origin.clone(), label);
                }
            }
            self.push(d);
        }
        if settings.max_sessions.is_none() {
            if let Some(origin) = self.schema.settings_origins.get("on_max_sessions") {
                let d = Diagnostic::error(
                    "`on_max_sessions` without `max_sessions`: there is no limit for it to act on",
                    origin.clone(),
                )
                .with_label("never applies")
                .with_help("add `max_sessions = 5` (the most live sessions per principal), or remove `on_max_sessions`");
                self.push(d);
            }
        }
    }

    /// A `shown` field is copied into the principal's list of active sessions: it needs
    /// that list (a principal on a server-side backend), and a sensitive value (redacted
    /// even in logs) must not be put on a page.
    pub(super) fn check_shown(&mut self) {
        let settings = &self.schema.settings;
        for f in self.schema.fields.iter().filter(|f| f.shown) {
            let d = if f.sensitive {
                Diagnostic::error(
                    format!("field `{}` is both `shown` and `sensitive`: a sensitive value is never put on the active-sessions page", f.name),
                    f.origin.clone(),
                )
                .with_label("shown and sensitive")
                .with_help("show a separate, harmless label (such as the device), or drop `shown`")
            } else if settings.principal.is_none() {
                Diagnostic::error(
                    format!("field `{}` is `shown`, but no `principal` is declared: fields are shown in a principal's list of active sessions", f.name),
                    f.origin.clone(),
                )
                .with_label("never shown")
                .with_help("name the field that says whose session it is, e.g. `principal = \"user\"` in `[session]`")
            } else if settings.backend == Backend::Cookie {
                Diagnostic::error(
                    format!("field `{}` is `shown`, but the cookie backend cannot list a principal's sessions", f.name),
                    f.origin.clone(),
                )
                .with_label("never shown")
                .with_help("use a server-side `backend`, or drop `shown`")
            } else {
                continue;
            };
            self.push(d);
        }
    }
}

/// Whether the session index can key on a field of this type.
fn indexable(ty: &crate::ir::FieldType) -> bool {
    use crate::ir::FieldType;
    match ty {
        FieldType::String | FieldType::Int(_) => true,
        FieldType::Option(t) => matches!(**t, FieldType::String | FieldType::Int(_)),
        _ => false,
    }
}
