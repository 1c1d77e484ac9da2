//! The shop's routes and handlers.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Extension, Form};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Json, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use session_runtime::layer::SessionLayer;
use session_runtime::manager::{SessionHandle, SessionManager};
use session_runtime::{Session, ValidationError};

use super::throttle::LoginThrottle;
use super::view::{self, Home};
use super::{Role, Shop, ShopExt};
use crate::csrf::{self, AnonymousTokens};

/// The shop's router, its session layer included; `anonymous` signs the CSRF tokens of
/// visitors without a session token (build it from the session keys, so that every
/// instance accepts every instance's tokens). Failed logins are throttled with the default
/// window ([`LoginThrottle::default`]).
pub fn router(manager: SessionManager<Shop>, anonymous: AnonymousTokens) -> Router {
    router_with_throttle(manager, anonymous, LoginThrottle::default())
}

/// [`router`] with the login throttle's window chosen by the caller.
pub fn router_with_throttle(
    manager: SessionManager<Shop>,
    anonymous: AnonymousTokens,
    throttle: LoginThrottle,
) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/sessions", get(sessions))
        .route("/sessions/end", post(end_session))
        .route("/sessions/end-others", post(end_other_sessions))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/cart", post(add_to_cart))
        .route("/admin", get(admin))
        .route("/api/session", get(api_session))
        .layer(SessionLayer::new(manager.clone()))
        .layer(Extension(manager))
        .layer(Extension(Arc::new(anonymous)))
        .layer(Extension(throttle))
}

/// The stateless-token signer shared by the handlers.
type Anonymous = Extension<Arc<AnonymousTokens>>;

/// Seconds since the Unix epoch (the clock of the stateless CSRF tokens).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// What a handler can answer besides success.
#[derive(Debug)]
pub enum AppError {
    /// `403`: a missing or wrong CSRF token, or a page the role may not see.
    Forbidden(&'static str),
    /// `422`: a value broke a rule of the session spec.
    Invalid(ValidationError),
    /// `429`: too many failed logins in this session's window; try again after
    /// `retry_after` seconds (sent as `Retry-After`).
    TooManyAttempts {
        /// Seconds until the window ends.
        retry_after: u64,
    },
    /// `500`: the server's own trouble (logged; the client sees no detail).
    Internal(String),
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            Self::Forbidden(why) => {
                (StatusCode::FORBIDDEN, Html(view::error("Forbidden", why))).into_response()
            }
            Self::Invalid(error) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Html(view::error("Invalid input", &error.to_string())),
            )
                .into_response(),
            Self::TooManyAttempts { retry_after } => (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, retry_after.to_string())],
                Html(view::error(
                    "Too many failed logins",
                    &format!(
                        "too many failed logins from this session: try again in \
                         {retry_after} seconds"
                    ),
                )),
            )
                .into_response(),
            Self::Internal(detail) => {
                eprintln!("shop: internal error: {detail}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Html(view::error(
                        "Server error",
                        "something went wrong on our side",
                    )),
                )
                    .into_response()
            }
        }
    }
}

impl From<ValidationError> for AppError {
    fn from(error: ValidationError) -> Self {
        Self::Invalid(error)
    }
}

/// The result of the shop's handlers and helpers.
pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// The CSRF token for the page's forms: the session's own token when it has one, else a
/// stateless signed token, so that an anonymous page view stores nothing.
pub fn csrf_token(session: &Session<Shop>, anonymous: &AnonymousTokens) -> Result<String> {
    if let Some(token) = session.csrf() {
        return Ok(token);
    }
    anonymous
        .issue(unix_now())
        .map_err(|e| AppError::Internal(e.to_string()))
}

/// Refuses a state-changing request whose form does not echo the session's token (or, for
/// a session without one, a valid stateless token).
pub fn check_csrf(
    session: &Session<Shop>,
    anonymous: &AnonymousTokens,
    given: Option<&str>,
) -> Result<()> {
    let valid = match session.csrf() {
        Some(expected) => csrf::verify(Some(&expected), given),
        None => given.is_some_and(|token| anonymous.verify(token, unix_now())),
    };
    if valid {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "missing or wrong CSRF token: reload the page and try again",
        ))
    }
}

/// Queues a message for the next page, keeping the most recent few.
///
/// One operation ([`Session::update`]): when parallel requests of one session each add a
/// message, the manager replays the step on top of the others' instead of refusing it.
pub fn flash(session: &Session<Shop>, message: String) -> Result<()> {
    let message: String = message.chars().take(120).collect();
    session
        .update(move |s| {
            let mut messages = s.flash();
            messages.push(message.clone());
            let excess = messages.len().saturating_sub(3);
            messages.drain(..excess);
            s.set_flash(messages)
        })
        .map_err(|e| AppError::Internal(e.to_string()))
}

/// The flash messages to show on this page, removed from the session.
pub fn take_flash(session: &Session<Shop>) -> Result<Vec<String>> {
    // Shown, not used to compute what is stored: a parallel request changing the messages
    // is no conflict. Only the messages shown here are removed (one arriving meanwhile
    // stays for the next page).
    let messages = session.untracked(|s| s.flash());
    if !messages.is_empty() {
        let shown = messages.clone();
        session
            .update(move |s| {
                let mut left = s.flash();
                for message in &shown {
                    if let Some(i) = left.iter().position(|m| m == message) {
                        left.remove(i);
                    }
                }
                s.set_flash(left)
            })
            .map_err(|e| AppError::Internal(e.to_string()))?;
    }
    Ok(messages)
}

async fn home(session: Session<Shop>, Extension(anonymous): Anonymous) -> Result<Html<String>> {
    let csrf = csrf_token(&session, &anonymous)?;
    let messages = take_flash(&session)?;
    let user = session.user();
    let role = session.role();
    let cart = session.cart();
    Ok(Html(view::home(&Home {
        user: user.as_deref(),
        role: role.as_str(),
        cart: &cart,
        flash: &messages,
        csrf: &csrf,
        expires_at: Some(session.expiration_time().as_secs()),
    })))
}

/// The login form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    /// The name to sign in as.
    pub username: Option<String>,
    /// The page's CSRF token.
    pub csrf: Option<String>,
}

async fn login(
    session: Session<Shop>,
    Extension(anonymous): Anonymous,
    Extension(throttle): Extension<LoginThrottle>,
    headers: axum::http::HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Redirect> {
    check_csrf(&session, &anonymous, form.csrf.as_deref())?;
    let now = i64::try_from(unix_now()).unwrap_or(i64::MAX);
    // At the limit, nothing is tried (nor counted) until the window ends.
    if let Some(retry_after) = throttle.retry_after(&session, now) {
        return Err(AppError::TooManyAttempts { retry_after });
    }
    let username = form.username.unwrap_or_default().trim().to_owned();
    // Check the name before signing in: a refused login changes nothing but the throttle's
    // count (the shop has no passwords; a refused name stands in for a wrong one).
    if let Err(error) = Shop::validate_user(&Some(username.clone())) {
        throttle
            .record_failure(&session, now)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        return Err(error.into());
    }
    // A new id on every privilege change: a session id planted before login (session
    // fixation) is worthless after it. The cart is kept; the failures are forgotten.
    session.cycle();
    throttle.reset(&session);
    let role = if username == "admin" {
        Role::Admin
    } else {
        Role::Customer
    };
    session.set_role(role)?;
    session.set_user(Some(username.clone()))?;
    // The label the active sessions page shows; one the spec refuses is left out.
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let device =
        view::device_label(user_agent).filter(|d| Shop::validate_device(&Some(d.clone())).is_ok());
    session.set_device(device)?;
    let token = csrf::new_token().map_err(|e| AppError::Internal(e.to_string()))?;
    session.set_csrf(Some(token))?;
    flash(&session, format!("Welcome, {username}."))?;
    Ok(Redirect::to("/"))
}

/// The logout form.
#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    /// The page's CSRF token.
    pub csrf: Option<String>,
}

async fn logout(
    session: Session<Shop>,
    Extension(anonymous): Anonymous,
    Form(form): Form<LogoutForm>,
) -> Result<Redirect> {
    check_csrf(&session, &anonymous, form.csrf.as_deref())?;
    // Record deleted, removal cookie sent; the next page starts a new session.
    session.destroy();
    Ok(Redirect::to("/"))
}

/// The add-to-cart form.
#[derive(Debug, Deserialize)]
pub struct CartForm {
    /// The item to add.
    pub item: Option<String>,
    /// The page's CSRF token.
    pub csrf: Option<String>,
}

async fn add_to_cart(
    session: Session<Shop>,
    Extension(anonymous): Anonymous,
    Form(form): Form<CartForm>,
) -> Result<Redirect> {
    check_csrf(&session, &anonymous, form.csrf.as_deref())?;
    let item = form.item.unwrap_or_default().trim().to_owned();
    // The generated `push_cart` checks the spec's rules (`min_length`, `max_length` per
    // item, `max_items` for the list) and leaves the session unchanged on error.
    session.push_cart(item.clone())?;
    flash(
        &session,
        format!("Added \u{201c}{item}\u{201d} to the cart."),
    )?;
    Ok(Redirect::to("/"))
}

/// The manager, for the "Active sessions" page.
type Manager = Extension<SessionManager<Shop>>;

/// The signed-in user, or `403`.
fn signed_in(session: &Session<Shop>) -> Result<String> {
    session.user().ok_or(AppError::Forbidden(
        "the sessions page needs a signed-in user",
    ))
}

async fn sessions(
    session: Session<Shop>,
    Extension(manager): Manager,
    Extension(anonymous): Anonymous,
) -> Result<Html<String>> {
    let user = signed_in(&session)?;
    let csrf = csrf_token(&session, &anonymous)?;
    let messages = session.untracked(|s| s.flash());
    if !messages.is_empty() {
        session
            .update(|s| s.set_flash(Vec::new()))
            .map_err(|e| AppError::Internal(e.to_string()))?;
    }
    let rows = match manager.sessions_of(&user, Some(&session)).await {
        Ok(list) => Some(
            list.into_iter()
                .map(|s| view::SessionRow {
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
        Err(session_runtime::Error::Store(session_runtime::StoreError::Unsupported(_))) => None,
        Err(e) => return Err(AppError::Internal(e.to_string())),
    };
    Ok(Html(view::sessions(
        &user,
        rows.as_deref(),
        &messages,
        &csrf,
    )))
}

/// The "end this session" form.
#[derive(Debug, Deserialize)]
pub struct EndForm {
    handle: Option<String>,
    csrf: Option<String>,
}

async fn end_session(
    session: Session<Shop>,
    Extension(manager): Manager,
    Extension(anonymous): Anonymous,
    Form(form): Form<EndForm>,
) -> Result<Redirect> {
    check_csrf(&session, &anonymous, form.csrf.as_deref())?;
    let user = signed_in(&session)?;
    let ended = match form.handle.as_deref().and_then(SessionHandle::parse) {
        Some(handle) => manager
            .end_session_of(&user, &handle)
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?,
        None => false,
    };
    flash(
        &session,
        if ended {
            "The session was ended.".to_owned()
        } else {
            "That session had ended already.".to_owned()
        },
    )?;
    Ok(Redirect::to("/sessions"))
}

/// The "end all other sessions" form.
#[derive(Debug, Deserialize)]
pub struct EndOthersForm {
    csrf: Option<String>,
}

async fn end_other_sessions(
    session: Session<Shop>,
    Extension(manager): Manager,
    Extension(anonymous): Anonymous,
    Form(form): Form<EndOthersForm>,
) -> Result<Redirect> {
    check_csrf(&session, &anonymous, form.csrf.as_deref())?;
    signed_in(&session)?;
    manager
        .end_other_sessions(&session)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    flash(&session, "Every other session was ended.".to_owned())?;
    Ok(Redirect::to("/sessions"))
}

async fn admin(session: Session<Shop>) -> Result<Html<String>> {
    match (session.role(), session.user()) {
        (Role::Admin, Some(user)) => Ok(Html(view::admin(&user))),
        _ => Err(AppError::Forbidden("the admin page needs the `admin` role")),
    }
}

async fn api_session(session: Session<Shop>) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "user": session.user(),
        "cart": session.cart(),
        "expires_at": session.expiration_time().as_secs(),
    }))
}
