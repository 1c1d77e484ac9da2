//! The axum extractor: a handler takes a `Session<S>` argument.
//!
//! The session comes from the request's extensions, where [`SessionLayer`] put it. Without
//! the layer (for this schema), the extractor answers `500 Internal Server Error` and logs
//! the mistake: a wiring error, not a client's.
//!
//! [`SessionLayer`]: crate::layer::SessionLayer

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;

use crate::schema::SessionSchema;
use crate::session::Session;

impl<S: SessionSchema, State: Send + Sync> FromRequestParts<State> for Session<S> {
    type Rejection = MissingSessionLayer;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &State,
    ) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Session<S>>()
            .cloned()
            .ok_or(MissingSessionLayer { schema: S::NAME })
    }
}

/// The rejection of the [`Session`] extractor when no [`SessionLayer`] for its schema wraps
/// the route.
///
/// [`SessionLayer`]: crate::layer::SessionLayer
#[derive(Clone, Copy, Debug, thiserror::Error)]
#[error("no `SessionLayer` for session schema `{schema}` wraps this route")]
pub struct MissingSessionLayer {
    /// The schema's name.
    pub schema: &'static str,
}

impl IntoResponse for MissingSessionLayer {
    fn into_response(self) -> Response {
        tracing::error!(schema = self.schema, "{self}");
        (StatusCode::INTERNAL_SERVER_ERROR, self.to_string()).into_response()
    }
}
