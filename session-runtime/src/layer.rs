//! The tower layer: loads the session before the inner service and commits it after,
//! appending the `Set-Cookie` headers the policy owes.
//!
//! A store failure (or a cookie too large to send) is logged with `tracing` at `error`
//! and answered with an empty-bodied `500 Internal Server Error`, or `503 Service
//! Unavailable` with `Retry-After: 1` when retrying can help: the store is unavailable, or
//! another request changed the session first ([`Error::is_retryable`]). When the inner
//! service's response is a 5xx, the session is not committed (see [`crate::manager`]).
//! When the handler changed nothing in the session and only a refresh was owed, a failed
//! commit is logged at `warn` and the handler's response is sent as it is, without a
//! cookie: a full disk does not turn plain reads into errors. Nothing here panics.
//!
//! Caches: a response to a request that carried a session, or that sets a session cookie,
//! gets `Vary: Cookie`, so that no cache serves one user's page to another; a response that
//! sets a session cookie and has no `Cache-Control` of its own gets `Cache-Control: private`,
//! so that no shared cache stores the `Set-Cookie` (the application's own `Cache-Control` is
//! left alone).
//!
//! ```
//! use axum::{Router, routing::get};
//! use session_runtime::{Session, SessionLayer, SessionManager, Settings, keys::Keys};
//!
//! async fn count(session: Session) -> String {
//!     let n = session.get::<u64>("n").unwrap_or(0) + 1;
//!     session.set("n", &n).unwrap();
//!     n.to_string()
//! }
//!
//! let manager: SessionManager = SessionManager::cookie(Settings::default(), Keys::generate()).unwrap();
//! let app: Router = Router::new().route("/", get(count)).layer(SessionLayer::new(manager));
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::header::{CACHE_CONTROL, COOKIE, SET_COOKIE, VARY};
use http::{HeaderValue, Request, Response, StatusCode};

use crate::error::Error;
use crate::manager::SessionManager;
use crate::schema::{Dynamic, SessionSchema};

/// A tower [`Layer`](tower_layer::Layer) that gives every request a [`Session<S>`](crate::session::Session)
/// (read it with the axum extractor, or from the request's extensions).
pub struct SessionLayer<S: SessionSchema = Dynamic> {
    manager: SessionManager<S>,
}

impl<S: SessionSchema> SessionLayer<S> {
    /// A layer enforcing `manager`'s policy.
    pub fn new(manager: SessionManager<S>) -> Self {
        Self { manager }
    }
}

impl<S: SessionSchema> Clone for SessionLayer<S> {
    fn clone(&self) -> Self {
        Self {
            manager: self.manager.clone(),
        }
    }
}

impl<S: SessionSchema> std::fmt::Debug for SessionLayer<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionLayer")
            .field("manager", &self.manager)
            .finish()
    }
}

impl<S: SessionSchema, Svc> tower_layer::Layer<Svc> for SessionLayer<S> {
    type Service = SessionService<Svc, S>;

    fn layer(&self, inner: Svc) -> Self::Service {
        SessionService {
            inner,
            manager: self.manager.clone(),
        }
    }
}

/// The service of [`SessionLayer`].
pub struct SessionService<Svc, S: SessionSchema = Dynamic> {
    inner: Svc,
    manager: SessionManager<S>,
}

impl<Svc: Clone, S: SessionSchema> Clone for SessionService<Svc, S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            manager: self.manager.clone(),
        }
    }
}

impl<Svc: std::fmt::Debug, S: SessionSchema> std::fmt::Debug for SessionService<Svc, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionService")
            .field("inner", &self.inner)
            .field("manager", &self.manager)
            .finish()
    }
}

impl<Svc, S, ReqBody, ResBody> tower_service::Service<Request<ReqBody>> for SessionService<Svc, S>
where
    Svc: tower_service::Service<Request<ReqBody>, Response = Response<ResBody>>
        + Clone
        + Send
        + 'static,
    Svc::Future: Send + 'static,
    S: SessionSchema,
    ReqBody: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = Svc::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        // The clone that was driven to readiness serves this request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let manager = self.manager.clone();
        Box::pin(async move {
            let session = match manager.load(req.headers().get_all(COOKIE)).await {
                Ok(session) => session,
                Err(e) => return Ok(failure(&e, "loading")),
            };
            let had_session = !session.is_new();
            req.extensions_mut().insert(session.clone());
            let mut res = inner.call(req).await?;
            let is_server_error = res.status().is_server_error();
            let cookies = match manager.commit(&session, is_server_error).await {
                Ok(cookies) => cookies,
                // The handler changed nothing (only a refresh, activity bookkeeping or a
                // re-issue was owed): its answer stands, without a cookie. A full disk or
                // a struggling store then costs the session's sliding expiry, not the page.
                Err(e) if !session.is_modified() => {
                    tracing::warn!(error = %e, "session refresh failed; answering without it");
                    Vec::new()
                }
                Err(e) => return Ok(failure(&e, "committing")),
            };
            mark_private(res.headers_mut(), had_session, !cookies.is_empty());
            for cookie in cookies {
                match HeaderValue::try_from(cookie) {
                    Ok(value) => {
                        res.headers_mut().append(SET_COOKIE, value);
                    }
                    Err(e) => {
                        // The codec and the settings checks only produce header-safe text;
                        // refuse rather than panic should that ever break.
                        tracing::error!(error = %e, "session cookie is not a valid header value");
                        return Ok(empty(StatusCode::INTERNAL_SERVER_ERROR));
                    }
                }
            }
            Ok(res)
        })
    }
}

/// Adds `Vary: Cookie` to a response that depends on a session, and `Cache-Control: private`
/// to one that sets a session cookie without saying how it may be cached.
fn mark_private(headers: &mut http::HeaderMap, had_session: bool, sets_cookie: bool) {
    if !(had_session || sets_cookie) {
        return;
    }
    let varies = headers.get_all(VARY).iter().any(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',')
                .any(|t| t.trim() == "*" || t.trim().eq_ignore_ascii_case("cookie"))
        })
    });
    if !varies {
        headers.append(VARY, HeaderValue::from_static("Cookie"));
    }
    if sets_cookie && !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("private"));
    }
}

/// The `Retry-After` of a `503`, in seconds.
const RETRY_AFTER_SECONDS: &str = "1";

fn failure<B: Default>(error: &Error, stage: &'static str) -> Response<B> {
    tracing::error!(error = %error, stage, "session {stage} failed");
    if error.is_retryable() {
        let mut res = empty(StatusCode::SERVICE_UNAVAILABLE);
        res.headers_mut().insert(
            http::header::RETRY_AFTER,
            HeaderValue::from_static(RETRY_AFTER_SECONDS),
        );
        res
    } else {
        empty(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

fn empty<B: Default>(status: StatusCode) -> Response<B> {
    let mut res = Response::new(B::default());
    *res.status_mut() = status;
    res
}
