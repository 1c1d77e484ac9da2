//! The actix-web integration (feature `actix`): a middleware that loads the session before
//! the handler and commits it after, and the `Session<S>` extractor.
//!
//! It follows the rules every adapter shares ([`crate::adapter`]), as the tower layer does:
//! no commit on a 5xx (nor when the inner service fails with an error), `Vary: Cookie`
//! on responses that depend on a session, `Cache-Control: private` on responses that set
//! a session cookie (unless the application set its own), store failures answered with an
//! empty `503` (with `Retry-After: 1`) or `500` and logged, a failed refresh of an
//! unchanged session logged at `warn` and the page sent without a cookie.
//!
//! A handler takes a `Session<S>` argument; without the middleware for that schema the
//! extractor answers `500 Internal Server Error` and logs the wiring mistake.
//!
//! ```
//! use actix_web::{App, web};
//! use session_runtime::actix::SessionMiddleware;
//! use session_runtime::{Session, SessionManager, Settings, keys::Keys};
//!
//! async fn count(session: Session) -> String {
//!     let n = session.get::<u64>("n").unwrap_or(0) + 1;
//!     session.set("n", &n).unwrap();
//!     n.to_string()
//! }
//!
//! let manager: SessionManager = SessionManager::cookie(Settings::default(), Keys::generate()).unwrap();
//! let app = App::new()
//!     .wrap(SessionMiddleware::new(manager))
//!     .route("/", web::get().to(count));
//! ```

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::StatusCode;
use actix_web::http::header::{COOKIE, HeaderValue, RETRY_AFTER};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};

use crate::adapter::Failure;
use crate::manager::SessionManager;
use crate::schema::{Dynamic, SessionSchema};
use crate::session::Session;

crate::adapter::manager_wrapper!(
    /// An actix-web middleware ([`Transform`]) that gives every request a
    /// [`Session<S>`](crate::session::Session), read with the extractor.
    SessionMiddleware,
    "A middleware enforcing `manager`'s policy."
);

/// The middleware serves with a [`SessionService`] wherever one can serve: the bounds on
/// the inner service are those of `SessionService`'s `Service` impl.
impl<Svc, S> Transform<Svc, ServiceRequest> for SessionMiddleware<S>
where
    S: SessionSchema,
    SessionService<Svc, S>: Service<ServiceRequest>,
{
    type Response = <SessionService<Svc, S> as Service<ServiceRequest>>::Response;
    type Error = <SessionService<Svc, S> as Service<ServiceRequest>>::Error;
    type Transform = SessionService<Svc, S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: Svc) -> Self::Future {
        ready(Ok(SessionService {
            service: Rc::new(service),
            manager: self.manager.clone(),
        }))
    }
}

/// The service of [`SessionMiddleware`].
pub struct SessionService<Svc, S: SessionSchema = Dynamic> {
    service: Rc<Svc>,
    manager: SessionManager<S>,
}

impl<Svc, S: SessionSchema> std::fmt::Debug for SessionService<Svc, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionService")
            .field("manager", &self.manager)
            .finish_non_exhaustive()
    }
}

impl<Svc, S, B> Service<ServiceRequest> for SessionService<Svc, S>
where
    Svc: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    S: SessionSchema,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let manager = self.manager.clone();
        Box::pin(async move {
            let exchange = match manager.begin(req.headers().get_all(COOKIE)).await {
                Ok(exchange) => exchange,
                Err(failure) => {
                    return Ok(req
                        .into_response(failure_response(failure))
                        .map_into_right_body());
                }
            };
            req.extensions_mut().insert(exchange.session().clone());
            // An error from the inner service (not a response) commits nothing: actix-web
            // turns it into an error response later.
            let mut res = service.call(req).await?;
            let outcome = match exchange.finish_checked(res.status().as_u16(), false).await {
                Ok(headers) => add_headers(res.headers_mut(), headers),
                Err(failure) => Err(failure),
            };
            Ok(match outcome {
                Ok(()) => res.map_into_left_body(),
                Err(failure) => res
                    .into_response(failure_response(failure))
                    .map_into_right_body(),
            })
        })
    }
}

crate::adapter::add_headers_fn!(actix_web::http::header);

/// The empty response of a failure, with its `Retry-After`.
fn failure_response(failure: Failure) -> HttpResponse<BoxBody> {
    let status =
        StatusCode::from_u16(failure.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = HttpResponse::new(status);
    if let Some(seconds) = failure.retry_after() {
        res.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static(seconds));
    }
    res
}

impl<S: SessionSchema> FromRequest for Session<S> {
    type Error = MissingSessionMiddleware;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<Session<S>>()
                .cloned()
                .ok_or(MissingSessionMiddleware { schema: S::NAME }),
        )
    }
}

/// The error of the [`Session`] extractor when no [`SessionMiddleware`] for its schema
/// wraps the route: a `500` naming the schema, logged.
#[derive(Clone, Copy, Debug, thiserror::Error)]
#[error("no `SessionMiddleware` for session schema `{schema}` wraps this route")]
pub struct MissingSessionMiddleware {
    /// The schema's name.
    pub schema: &'static str,
}

impl ResponseError for MissingSessionMiddleware {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        tracing::error!(schema = self.schema, "{self}");
        HttpResponse::InternalServerError()
            .content_type("text/plain; charset=utf-8")
            .body(self.to_string())
    }
}
