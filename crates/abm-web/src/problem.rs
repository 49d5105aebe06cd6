//! Errors as `application/problem+json` (RFC 9457): a status, a title, what went wrong, and
//! the field of the request it concerns. Internal errors are logged, not shown.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(skip)]
    pub status: u16,
    pub title: String,
    pub detail: String,
    /// The request field the problem is about, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status: status.as_u16(),
            title: status.canonical_reason().unwrap_or("error").to_owned(),
            detail: detail.into(),
            field: None,
        }
    }

    pub fn bad_request(field: &str, detail: impl Into<String>) -> Self {
        Self {
            field: Some(field.to_owned()),
            ..Self::new(StatusCode::BAD_REQUEST, detail)
        }
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "sign in, or send Authorization: Bearer TOKEN (abm token create EMAIL)",
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "an internal error occurred; the server's log has the details",
        )
    }
}

impl From<abm_store::StoreError> for Problem {
    fn from(error: abm_store::StoreError) -> Self {
        Self::internal(error)
    }
}

impl From<abm_engine::team::TeamError> for Problem {
    fn from(error: abm_engine::team::TeamError) -> Self {
        match error {
            abm_engine::team::TeamError::Store(error) => Self::internal(error),
            refused @ abm_engine::team::TeamError::Refused(_) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, refused.to_string())
            }
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_string(&self).unwrap_or_else(|_| "{}".to_owned());
        (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response()
    }
}
