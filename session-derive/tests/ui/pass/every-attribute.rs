//! Every container and field attribute, and every field shape, in one struct.
#![deny(warnings)]

use session_runtime::{Rule, Session, SessionSchema};
use session_runtime::spec::{Backend, CookieMode, CookiePrefix, Lifetime, OnMaxSessions, SameSite};

mod auth {
    /// A user type by path: any serde type.
    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    pub enum Role {
        User,
        Admin,
    }

    /// A custom validator gets the field's whole value.
    pub fn not_root(name: &Option<String>) -> Result<(), String> {
        match name.as_deref() {
            Some("root") => Err("`root` is reserved".to_owned()),
            _ => Ok(()),
        }
    }
}

/// The whole surface.
#[derive(Session)]
#[session(version = 2, cookie_name = "everything", secure, http_only = true)]
#[session(same_site = "strict", path = "/", prefix = "host", partitioned, expiration_time = "2h")]
#[session(permanent, refresh_each_request = false, idle_timeout = 15)]
#[session(absolute_timeout = "1d", rotation_interval = "30m", cookie_mode = "signed")]
#[session(backend(type = "file", dir = "/tmp/everything-sessions", encrypt))]
#[session(keys(env = "EVERYTHING_KEY", fallback_env = ["EVERYTHING_OLD_KEY"]))]
#[session(principal = "user", max_sessions = 3, on_max_sessions = "refuse")]
pub struct Everything {
    /// Who is signed in.
    #[session(key = "user", min_length = 2, max_length = 16, pattern = "[a-z]+")]
    #[session(custom = auth::not_root)]
    username: Option<String>,
    #[session(default = 1, min = 1, max = 99)]
    quantity: u8,
    #[session(default = 0.5, min = 0.0, max = 1.0)]
    ratio: f64,
    #[session(one_of = ["en", "fr"], default = "en")]
    lang: String,
    #[session(default, max_items = 3, max_length = 4)]
    tags: Vec<String>,
    #[session(default, max_items = 2, max_key_length = 8, min = 0, max = 9)]
    scores: std::collections::HashMap<String, i32>,
    #[session(sensitive)]
    token: Option<String>,
    role: Option<auth::Role>,
    #[session(default = true)]
    remember: bool,
    /// A label shown in the user's list of active sessions.
    #[session(max_length = 32, shown)]
    device: Option<String>,
    big: Option<i64>,
}

fn main() {
    let s = Everything::settings();
    assert_eq!(Everything::VERSION, 2);
    assert_eq!(s.same_site, SameSite::Strict);
    assert_eq!(s.prefix, Some(CookiePrefix::Host));
    assert!(s.partitioned);
    assert_eq!(s.expiration_time, Lifetime::from_minutes(120));
    assert_eq!(s.idle_timeout, Some(Lifetime::from_minutes(15)));
    assert_eq!(s.absolute_timeout, Some(Lifetime::from_minutes(1440)));
    assert_eq!(s.cookie_mode, CookieMode::Signed);
    assert!(matches!(s.backend, Backend::File { encrypt: true, .. }));
    assert_eq!(s.principal.as_deref(), Some("user"));
    assert_eq!(s.keys.fallback_env, ["EVERYTHING_OLD_KEY"]);
    assert_eq!(Everything::KEYS[0], "user");
    assert_eq!(Everything::SENSITIVE, ["token"]);
    assert_eq!(Everything::SHOWN, ["device"]);
    assert_eq!(s.max_sessions, Some(3));
    assert_eq!(s.on_max_sessions, OnMaxSessions::Refuse);

    let session: Session<Everything> = Session::detached();
    assert_eq!(session.quantity(), 1);
    assert_eq!(session.ratio(), 0.5);
    assert_eq!(session.lang(), "en");
    assert!(session.remember());
    assert_eq!(session.set_username(Some("root".into())).unwrap_err().rule, Rule::Custom);
    assert_eq!(session.set_username(Some("Ada".into())).unwrap_err().rule, Rule::Pattern);
    session.set_username(Some("ada".into())).unwrap();
    assert_eq!(session.get_all()["user"], "ada");
    assert_eq!(session.set_lang("de".into()).unwrap_err().rule, Rule::OneOf);
    assert_eq!(session.set_quantity(0).unwrap_err().rule, Rule::Min);
    assert_eq!(session.push_tags("toolong".into()).unwrap_err().rule, Rule::MaxLength);
    session.insert_scores("a".into(), 3).unwrap();
    assert_eq!(session.insert_scores("b".into(), 10).unwrap_err().rule, Rule::Max);
    assert_eq!(session.insert_scores("ninechars".into(), 1).unwrap_err().rule, Rule::MaxKeyLength);
    session.set_role(Some(auth::Role::Admin)).unwrap();
    assert_eq!(session.role(), Some(auth::Role::Admin));
    assert!(session.validate().is_ok());
}
