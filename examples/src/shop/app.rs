//! The shop's routes and handlers.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Extension, Form};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Json, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use session_runtime::layer::SessionLayer;
use session_runtime::manager::SessionManager;
use session_runtime::{Session, ValidationError};

use super::handlers::{self, EndForm, EndOthersForm};
use super::throttle::{LoginThrottle, Refused};
use super::view;
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

impl From<Refused> for AppError {
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::Throttled { retry_after } => Self::TooManyAttempts { retry_after },
            invalid @ Refused::Invalid(_) => Self::Internal(invalid.to_string()),
        }
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
    handlers::home_page(&session, &anonymous).map(Html)
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
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    handlers::log_in(&session, &anonymous, throttle, user_agent, form)?;
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
    handlers::log_out(&session, &anonymous, form)?;
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
    handlers::add_to_cart(&session, &anonymous, form)?;
    Ok(Redirect::to("/"))
}

/// The manager, for the "Active sessions" page.
type Manager = Extension<SessionManager<Shop>>;

async fn sessions(
    session: Session<Shop>,
    Extension(manager): Manager,
    Extension(anonymous): Anonymous,
) -> Result<Html<String>> {
    handlers::sessions_page(&session, &manager, &anonymous)
        .await
        .map(Html)
}

async fn end_session(
    session: Session<Shop>,
    Extension(manager): Manager,
    Extension(anonymous): Anonymous,
    Form(form): Form<EndForm>,
) -> Result<Redirect> {
    handlers::end_session(&session, &manager, &anonymous, form).await?;
    Ok(Redirect::to("/sessions"))
}

async fn end_other_sessions(
    session: Session<Shop>,
    Extension(manager): Manager,
    Extension(anonymous): Anonymous,
    Form(form): Form<EndOthersForm>,
) -> Result<Redirect> {
    handlers::end_other_sessions(&session, &manager, &anonymous, form).await?;
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
