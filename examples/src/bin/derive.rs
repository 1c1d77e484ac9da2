//! The same kind of app as `shop`, with the session declared by `#[derive(Session)]` on a
//! struct instead of a TOML spec: sign in, fill a cart, sign out.
//!
//! ```sh
//! cargo run -p examples --bin derive    # then open the URL it prints
//! ```

use std::process::ExitCode;

use axum::Router;
use axum::extract::Form;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Json, Redirect, Response};
use axum::routing::{get, post};
use examples::shop::view::{self, Home};
use examples::{csrf, setup};
use serde::{Deserialize, Serialize};
use session_runtime::Session;
use session_runtime::layer::SessionLayer;

/// What a visitor may do; any serde type can be a session field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Not signed in.
    #[default]
    Guest,
    /// Signed in.
    Customer,
}

/// The session, declared on a struct: the attributes are the keys of the TOML spec format.
#[derive(session_runtime::Session)]
#[session(
    cookie_name = "derive_shop",
    expiration_time = 30,
    refresh_each_request,
    backend = "memory",
    keys(env = "SESSION_KEY")
)]
pub struct CartSession {
    /// The signed-in user's name.
    #[session(min_length = 1, max_length = 32, pattern = "[a-z0-9_]+")]
    user: Option<String>,
    /// `guest` until signed in.
    #[session(default)]
    role: Role,
    /// Item names, in the order they were added.
    #[session(default, min_length = 1, max_length = 64, max_items = 50)]
    cart: Vec<String>,
    /// The token every form must echo back.
    #[session(sensitive, min_length = 32, max_length = 128)]
    csrf: Option<String>,
}

/// A refused request: the status and the message shown.
struct Refused(StatusCode, String);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        (
            self.0,
            Html(view::error(
                self.0.canonical_reason().unwrap_or("Error"),
                &self.1,
            )),
        )
            .into_response()
    }
}

impl From<session_runtime::ValidationError> for Refused {
    fn from(error: session_runtime::ValidationError) -> Self {
        Self(StatusCode::UNPROCESSABLE_ENTITY, error.to_string())
    }
}

fn internal(error: impl std::fmt::Display) -> Refused {
    eprintln!("derive: internal error: {error}");
    Refused(
        StatusCode::INTERNAL_SERVER_ERROR,
        "something went wrong on our side".to_owned(),
    )
}

fn check_csrf(session: &Session<CartSession>, given: Option<&str>) -> Result<(), Refused> {
    if csrf::verify(session.csrf().as_deref(), given) {
        Ok(())
    } else {
        Err(Refused(
            StatusCode::FORBIDDEN,
            "missing or wrong CSRF token".to_owned(),
        ))
    }
}

async fn home(session: Session<CartSession>) -> Result<Html<String>, Refused> {
    let token = match session.csrf() {
        Some(token) => token,
        None => {
            let token = csrf::new_token().map_err(internal)?;
            session.set_csrf(Some(token.clone()))?;
            token
        }
    };
    let user = session.user();
    let role = session.role();
    let cart = session.cart();
    let role = match role {
        Role::Guest => "guest",
        Role::Customer => "customer",
    };
    Ok(Html(view::home(&Home {
        user: user.as_deref(),
        role,
        cart: &cart,
        flash: &[],
        csrf: &token,
        expires_at: Some(session.expiration_time().as_secs()),
    })))
}

#[derive(Deserialize)]
struct Fields {
    username: Option<String>,
    item: Option<String>,
    csrf: Option<String>,
}

async fn login(
    session: Session<CartSession>,
    Form(form): Form<Fields>,
) -> Result<Redirect, Refused> {
    check_csrf(&session, form.csrf.as_deref())?;
    let name = form.username.unwrap_or_default().trim().to_owned();
    CartSession::validate_user(&Some(name.clone()))?;
    session.cycle();
    session.set_user(Some(name))?;
    session.set_role(Role::Customer)?;
    Ok(Redirect::to("/"))
}

async fn logout(
    session: Session<CartSession>,
    Form(form): Form<Fields>,
) -> Result<Redirect, Refused> {
    check_csrf(&session, form.csrf.as_deref())?;
    session.destroy();
    Ok(Redirect::to("/"))
}

async fn add(session: Session<CartSession>, Form(form): Form<Fields>) -> Result<Redirect, Refused> {
    check_csrf(&session, form.csrf.as_deref())?;
    session.push_cart(form.item.unwrap_or_default().trim().to_owned())?;
    Ok(Redirect::to("/"))
}

async fn api(session: Session<CartSession>) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "user": session.user(),
        "cart": session.cart(),
        "expires_at": session.expiration_time().as_secs(),
    }))
}

#[tokio::main]
async fn main() -> ExitCode {
    setup::main("derive", run()).await
}

async fn run() -> Result<(), setup::StartError> {
    let args = setup::Args::parse(std::env::args().skip(1), "usage: derive [--config FILE]")?;
    let settings = setup::settings::<CartSession>(&args)?;
    let manager = setup::manager::<CartSession>(settings, "derive").await?;
    let app = Router::new()
        .route("/", get(home))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/cart", post(add))
        .route("/api/session", get(api))
        .layer(SessionLayer::new(manager));
    examples::serve::on_port_from_env("derive", app).await
}
