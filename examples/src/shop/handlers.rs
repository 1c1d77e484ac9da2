//! What the shop's routes do, without a framework's types. The axum handlers
//! ([`super::app`]) and the actix-web ones ([`super::actix_app`]) extract the request's
//! parts, call one of these, and answer: a redirect, or the page returned here. So both
//! binaries run one login and one "Active sessions" page, and only the wiring differs.

use serde::Deserialize;
use session_runtime::manager::{SessionHandle, SessionManager};
use session_runtime::{Error, Session, StoreError};

use super::app::{
    AppError, CartForm, LoginForm, LogoutForm, Result, check_csrf, csrf_token, flash, take_flash,
    unix_now,
};
use super::throttle::LoginThrottle;
use super::view::{self, Home, SessionRow};
use super::{Role, Shop, ShopExt};
use crate::csrf::{self, AnonymousTokens};

/// `GET /`: the home page (user, role, cart, flash messages, a fresh CSRF token).
///
/// # Errors
/// `500` when a token cannot be made or the flash messages cannot be cleared.
pub fn home_page(session: &Session<Shop>, anonymous: &AnonymousTokens) -> Result<String> {
    let csrf = csrf_token(session, anonymous)?;
    let messages = take_flash(session)?;
    let user = session.user();
    let role = session.role();
    let cart = session.cart();
    Ok(view::home(&Home {
        user: user.as_deref(),
        role: role.as_str(),
        cart: &cart,
        flash: &messages,
        csrf: &csrf,
        expires_at: Some(session.expiration_time().as_secs()),
    }))
}

/// `POST /logout`: ends the session (record deleted, removal cookie sent; the next page
/// starts a new session), then a `303` to `/`.
///
/// # Errors
/// `403` for a missing or wrong CSRF token.
pub fn log_out(
    session: &Session<Shop>,
    anonymous: &AnonymousTokens,
    form: LogoutForm,
) -> Result<()> {
    check_csrf(session, anonymous, form.csrf.as_deref())?;
    session.destroy();
    Ok(())
}

/// `POST /cart`: adds the form's item to the cart, with a flash message (then a `303` to
/// `/`).
///
/// # Errors
/// `403` for a missing or wrong CSRF token, `422` for an item the spec refuses.
pub fn add_to_cart(
    session: &Session<Shop>,
    anonymous: &AnonymousTokens,
    form: CartForm,
) -> Result<()> {
    check_csrf(session, anonymous, form.csrf.as_deref())?;
    let item = form.item.unwrap_or_default().trim().to_owned();
    // The generated `push_cart` checks the spec's rules (`min_length`, `max_length` per
    // item, `max_items` for the list) and leaves the session unchanged on error.
    session.push_cart(item.clone())?;
    flash(
        session,
        format!("Added \u{201c}{item}\u{201d} to the cart."),
    )
}

/// `POST /login`: signs in as the form's name (a `303` to `/` on success), labelling the
/// session with the browser's `User-Agent` ([`view::device_label`]) for the sessions page.
///
/// The attempt is reserved first ([`LoginThrottle::reserve`]): counted before it is tried,
/// and at the limit refused with `429` without being tried, until the window ends.
/// Parallel attempts of one session each count, and never more than the limit are tried.
///
/// # Errors
/// `403` for a missing or wrong CSRF token, `429` at the throttle's limit, `422` for a
/// name the spec refuses (a failed login: it changes nothing but the throttle's count).
pub fn log_in(
    session: &Session<Shop>,
    anonymous: &AnonymousTokens,
    throttle: LoginThrottle,
    user_agent: Option<&str>,
    form: LoginForm,
) -> Result<()> {
    check_csrf(session, anonymous, form.csrf.as_deref())?;
    let now = i64::try_from(unix_now()).unwrap_or(i64::MAX);
    throttle.reserve(session, now)?;
    let username = form.username.unwrap_or_default().trim().to_owned();
    // The shop has no passwords: a name the spec refuses stands in for a wrong one.
    Shop::validate_user(&Some(username.clone()))?;
    // A new id on every privilege change: a session id planted before login (session
    // fixation) is worthless after it. The cart is kept; the attempts are forgotten.
    session.cycle();
    throttle.reset(session);
    let role = if username == "admin" {
        Role::Admin
    } else {
        Role::Customer
    };
    session.set_role(role)?;
    session.set_user(Some(username.clone()))?;
    // The label the active sessions page shows; one the spec refuses is left out.
    let device =
        view::device_label(user_agent).filter(|d| Shop::validate_device(&Some(d.clone())).is_ok());
    session.set_device(device)?;
    let token = csrf::new_token().map_err(|e| AppError::Internal(e.to_string()))?;
    session.set_csrf(Some(token))?;
    flash(session, format!("Welcome, {username}."))
}

/// The signed-in user, or `403`.
fn signed_in(session: &Session<Shop>) -> Result<String> {
    session.user().ok_or(AppError::Forbidden(
        "the sessions page needs a signed-in user",
    ))
}

/// `GET /sessions`: the page listing the signed-in user's sessions (times in UTC), with
/// an End button per other session and "End all other sessions". On the cookie backend,
/// which keeps no list, the page says so and offers only the latter.
///
/// # Errors
/// `403` without a signed-in user; `500` when the store fails.
pub async fn sessions_page(
    session: &Session<Shop>,
    manager: &SessionManager<Shop>,
    anonymous: &AnonymousTokens,
) -> Result<String> {
    let user = signed_in(session)?;
    let csrf = csrf_token(session, anonymous)?;
    let messages = session.untracked(|s| s.flash());
    if !messages.is_empty() {
        session
            .update(|s| s.set_flash(Vec::new()))
            .map_err(|e| AppError::Internal(e.to_string()))?;
    }
    let rows = match manager.sessions_of(&user, Some(session)).await {
        Ok(list) => Some(
            list.into_iter()
                .map(|s| SessionRow {
                    handle: s.handle.to_string(),
                    created_at: s.created_at.as_secs(),
                    last_seen: s.last_seen.as_secs(),
                    expires_at: s.expires_at.as_secs(),
                    current: s.current,
                    device: s
                        .fields
                        .get("device")
                        .and_then(|v| v.as_str())
                        .map(str::to_owned),
                })
                .collect::<Vec<_>>(),
        ),
        // The cookie backend keeps no list (it can still end all others).
        Err(Error::Store(StoreError::Unsupported(_))) => None,
        Err(e) => return Err(AppError::Internal(e.to_string())),
    };
    Ok(view::sessions(&user, rows.as_deref(), &messages, &csrf))
}

/// The "end this session" form.
#[derive(Debug, Deserialize)]
pub struct EndForm {
    /// The opaque handle of the session to end, as the page listed it.
    pub handle: Option<String>,
    /// The page's CSRF token.
    pub csrf: Option<String>,
}

/// `POST /sessions/end`: ends the signed-in user's session named by the form's handle
/// (then a `303` to `/sessions`, whose flash message says whether it was still there). A
/// handle that is malformed, ended already, or another user's ends nothing.
///
/// # Errors
/// `403` for a missing or wrong CSRF token or without a signed-in user; `500` when the
/// store fails.
pub async fn end_session(
    session: &Session<Shop>,
    manager: &SessionManager<Shop>,
    anonymous: &AnonymousTokens,
    form: EndForm,
) -> Result<()> {
    check_csrf(session, anonymous, form.csrf.as_deref())?;
    let user = signed_in(session)?;
    let ended = match form.handle.as_deref().and_then(SessionHandle::parse) {
        Some(handle) => manager
            .end_session_of(&user, &handle)
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?,
        None => false,
    };
    let message = if ended {
        "The session was ended."
    } else {
        "That session had ended already."
    };
    flash(session, message.to_owned())
}

/// The "end all other sessions" form.
#[derive(Debug, Deserialize)]
pub struct EndOthersForm {
    /// The page's CSRF token.
    pub csrf: Option<String>,
}

/// `POST /sessions/end-others`: ends every session of the signed-in user but this one
/// (then a `303` to `/sessions`). On the cookie backend the revocation store does it.
///
/// # Errors
/// `403` for a missing or wrong CSRF token or without a signed-in user; `500` when the
/// store fails.
pub async fn end_other_sessions(
    session: &Session<Shop>,
    manager: &SessionManager<Shop>,
    anonymous: &AnonymousTokens,
    form: EndOthersForm,
) -> Result<()> {
    check_csrf(session, anonymous, form.csrf.as_deref())?;
    signed_in(session)?;
    manager
        .end_other_sessions(session)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    flash(session, "Every other session was ended.".to_owned())
}
