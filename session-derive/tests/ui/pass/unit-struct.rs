//! A session without fields: only a policy.
#![deny(warnings)]

use session_runtime::{Session, SessionSchema};

#[derive(Session)]
#[session(session_cookie_name = "nexios_session", session_expiration_time = 1440)]
#[session(session_cookie_secure = true, session_cookie_httponly = true)]
#[session(session_permanent = false, session_refresh_each_request = false)]
struct Bare;

#[derive(Session)]
pub struct Empty {}

fn main() {
    assert_eq!(Bare::settings().cookie_name, "nexios_session");
    assert!(Bare::KEYS.is_empty() && Empty::KEYS.is_empty());
    let session: Session<Bare> = Session::detached();
    assert!(session.validate().is_ok());
    let _ = Session::<Empty>::detached();
}
