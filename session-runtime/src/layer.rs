//! The tower layer: loads the session before the inner service and commits it after,
//! appending the `Set-Cookie` headers the policy owes.
//!
//! The rules are those of every adapter, written once in [`crate::adapter`]: a store
//! failure (or a cookie too large to send) is logged with `tracing` at `error` and answered
//! with an empty-bodied `500 Internal Server Error`, or `503 Service Unavailable` with
//! `Retry-After: 1` when retrying can help ([`Error::is_retryable`](crate::Error::is_retryable)).
//! When the inner service's response is a 5xx, the session is not committed (see
//! [`crate::manager`]). When the handler changed nothing in the session and only a refresh
//! was owed, a failed commit is logged at `warn` and the handler's response is sent as it
//! is, without a cookie: a full disk does not turn plain reads into errors. Nothing here
//! panics.
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

use http::header::COOKIE;
use http::{HeaderValue, Request, Response, StatusCode};

use crate::adapter::Failure;
use crate::manager::SessionManager;
use crate::schema::{Dynamic, SessionSchema};

crate::adapter::manager_wrapper!(
    /// A tower [`Layer`](tower_layer::Layer) that gives every request a [`Session<S>`](crate::session::Session)
    /// (read it with the axum extractor, or from the request's extensions).
    SessionLayer,
    "A layer enforcing `manager`'s policy."
);

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
        // A session that opens without waiting (the memory store, the cookie backend) is
        // loaded now, and the request goes to the inner service now, on the instance that
        // was driven to readiness: no clone of the service, no load in the future.
        // A store that makes every load wait (a database) is not tried, and its `Cookie`
        // headers are looked up once, in the future, not also here.
        let begun = self.manager.begin_now(|| req.headers().get_all(COOKIE));
        if let Some(begun) = begun {
            let exchange = match begun {
                Ok(exchange) => exchange,
                Err(failure) => return Box::pin(async move { Ok(failure_response(failure)) }),
            };
            req.extensions_mut().insert(exchange.session().clone());
            let response = self.inner.call(req);
            return Box::pin(async move {
                let res = response.await?;
                Ok(finish!(exchange, res))
            });
        }
        // The clone that was driven to readiness serves this request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let manager = self.manager.clone();
        Box::pin(async move {
            let exchange = match manager.begin(req.headers().get_all(COOKIE)).await {
                Ok(exchange) => exchange,
                Err(failure) => return Ok(failure_response(failure)),
            };
            req.extensions_mut().insert(exchange.session().clone());
            let res = inner.call(req).await?;
            Ok(finish!(exchange, res))
        })
    }
}

/// Commits the session after the inner service answered `$res` and adds the headers the
/// commit owes (or answers the failure instead): the response, inside the layer's future.
/// A read that owes nothing is answered without building the commit's future (nor moving
/// it), written inline rather than as an `async fn` for the same reason; a commit's future
/// is built in a box of its own, so that it does not size every request's future.
macro_rules! finish {
    ($exchange:ident, $res:ident) => {{
        let mut res = $res;
        let owed = match $exchange.finish_now(res.status().as_u16()) {
            Ok(headers) => Ok(headers),
            // The commit's future (about a kilobyte) is boxed: only a request that owes a
            // commit allocates it, and the layer's future, allocated and moved on every
            // request, stays small (a few hundred bytes: the allocator's fast path).
            Err(now) => Box::pin($exchange.finish_at(now, false)).await,
        };
        match owed.and_then(|headers| add_headers(res.headers_mut(), headers)) {
            Ok(()) => res,
            Err(failure) => failure_response(failure),
        }
    }};
}
use finish;

crate::adapter::add_headers_fn!(http::header, entry);

/// The empty response of a failure, with its `Retry-After`.
fn failure_response<B: Default>(failure: Failure) -> Response<B> {
    let status =
        StatusCode::from_u16(failure.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = empty(status);
    if let Some(seconds) = failure.retry_after() {
        res.headers_mut()
            .insert(http::header::RETRY_AFTER, HeaderValue::from_static(seconds));
    }
    res
}

fn empty<B: Default>(status: StatusCode) -> Response<B> {
    let mut res = Response::new(B::default());
    *res.status_mut() = status;
    res
}
