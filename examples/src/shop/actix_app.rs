//! The shop on actix-web: the same routes, pages and session as [`super::app`] (the axum
//! one), through `session_runtime::actix::SessionMiddleware` and the `Session<Shop>`
//! actix-web extractor. The pages, the CSRF checks, the flash messages, the login and the
//! "Active sessions" routes are the shop's own framework-free code ([`super::handlers`]),
//! shared by both apps.

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderValue, LOCATION, RETRY_AFTER};
use actix_web::web::{self, Data, Form};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use session_runtime::Session;
use session_runtime::actix::SessionMiddleware;
use session_runtime::manager::SessionManager;

use super::app::{AppError, CartForm, LoginForm, LogoutForm, Result};
use super::handlers::{self, EndForm, EndOthersForm};
use super::throttle::LoginThrottle;
use super::view;
use super::{Role, Shop, ShopExt};
use crate::csrf::AnonymousTokens;

/// The shop's routes for an actix-web `App`, the session middleware included:
/// `App::new().configure(actix_app::configure(manager, anonymous, throttle))`.
pub fn configure(
    manager: SessionManager<Shop>,
    anonymous: AnonymousTokens,
    throttle: LoginThrottle,
) -> impl FnOnce(&mut web::ServiceConfig) {
    let anonymous = Data::new(anonymous);
    move |config| {
        config.service(
            web::scope("")
                .wrap(SessionMiddleware::new(manager.clone()))
                .app_data(anonymous)
                .app_data(Data::new(throttle))
                .app_data(Data::new(manager))
                .route("/", web::get().to(home))
                .route("/sessions", web::get().to(sessions))
                .route("/sessions/end", web::post().to(end_session))
                .route("/sessions/end-others", web::post().to(end_other_sessions))
                .route("/login", web::post().to(login))
                .route("/logout", web::post().to(logout))
                .route("/cart", web::post().to(add_to_cart))
                .route("/admin", web::get().to(admin))
                .route("/api/session", web::get().to(api_session)),
        );
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Forbidden(why) => write!(f, "forbidden: {why}"),
            Self::Invalid(error) => write!(f, "invalid input: {error}"),
            Self::TooManyAttempts { retry_after } => {
                write!(f, "too many failed logins: retry after {retry_after} s")
            }
            Self::Internal(_) => f.write_str("internal error"),
        }
    }
}

/// The same answers as the axum shop's: `403` and `422` pages, a `500` without detail.
impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let page = match self {
            Self::Forbidden(why) => view::error("Forbidden", why),
            Self::Invalid(error) => view::error("Invalid input", &error.to_string()),
            Self::TooManyAttempts { retry_after } => {
                let page = view::error(
                    "Too many failed logins",
                    &format!(
                        "too many failed logins from this session: try again in \
                         {retry_after} seconds"
                    ),
                );
                let mut res = html(self.status_code(), page);
                if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
                    res.headers_mut().insert(RETRY_AFTER, value);
                }
                return res;
            }
            Self::Internal(detail) => {
                eprintln!("actix_shop: internal error: {detail}");
                view::error("Server error", "something went wrong on our side")
            }
        };
        html(self.status_code(), page)
    }
}

fn html(status: StatusCode, page: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
        .body(page)
}

/// `303 See Other` to `to`, as axum's `Redirect::to` answers.
fn see_other(to: &'static str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, to))
        .finish()
}

type Anonymous = Data<AnonymousTokens>;

async fn home(session: Session<Shop>, anonymous: Anonymous) -> Result<HttpResponse> {
    let page = handlers::home_page(&session, &anonymous)?;
    Ok(html(StatusCode::OK, page))
}

async fn login(
    session: Session<Shop>,
    anonymous: Anonymous,
    throttle: Data<LoginThrottle>,
    request: HttpRequest,
    Form(form): Form<LoginForm>,
) -> Result<HttpResponse> {
    let user_agent = request
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    handlers::log_in(&session, &anonymous, **throttle, user_agent, form)?;
    Ok(see_other("/"))
}

async fn logout(
    session: Session<Shop>,
    anonymous: Anonymous,
    Form(form): Form<LogoutForm>,
) -> Result<HttpResponse> {
    handlers::log_out(&session, &anonymous, form)?;
    Ok(see_other("/"))
}

async fn add_to_cart(
    session: Session<Shop>,
    anonymous: Anonymous,
    Form(form): Form<CartForm>,
) -> Result<HttpResponse> {
    handlers::add_to_cart(&session, &anonymous, form)?;
    Ok(see_other("/"))
}

type Manager = Data<SessionManager<Shop>>;

async fn sessions(
    session: Session<Shop>,
    manager: Manager,
    anonymous: Anonymous,
) -> Result<HttpResponse> {
    let page = handlers::sessions_page(&session, &manager, &anonymous).await?;
    Ok(html(StatusCode::OK, page))
}

async fn end_session(
    session: Session<Shop>,
    manager: Manager,
    anonymous: Anonymous,
    Form(form): Form<EndForm>,
) -> Result<HttpResponse> {
    handlers::end_session(&session, &manager, &anonymous, form).await?;
    Ok(see_other("/sessions"))
}

async fn end_other_sessions(
    session: Session<Shop>,
    manager: Manager,
    anonymous: Anonymous,
    Form(form): Form<EndOthersForm>,
) -> Result<HttpResponse> {
    handlers::end_other_sessions(&session, &manager, &anonymous, form).await?;
    Ok(see_other("/sessions"))
}

async fn admin(session: Session<Shop>) -> Result<HttpResponse> {
    match (session.role(), session.user()) {
        (Role::Admin, Some(user)) => Ok(html(StatusCode::OK, view::admin(&user))),
        _ => Err(AppError::Forbidden("the admin page needs the `admin` role")),
    }
}

async fn api_session(session: Session<Shop>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({
        "user": session.user(),
        "cart": session.cart(),
        "expires_at": session.expiration_time().as_secs(),
    }))
}
