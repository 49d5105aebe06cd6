//! Signed webhooks: marketing automation tools (Marketo, HubSpot, Pardot workflows, a
//! homegrown sender) push activities to `POST /api/v1/webhooks/{source}` without an API
//! token. Each source has its own secret (`abm webhook create SOURCE`); a call is accepted only
//! with `X-Abm-Timestamp` (Unix seconds, within 5 minutes: a captured call can not be replayed
//! later) and `X-Abm-Signature: sha256=HEX`, the HMAC-SHA256 of `TIMESTAMP.BODY`. The body is
//! the same batch as `POST /api/v1/activities` and takes the same path: validated, idempotent
//! by id, all or nothing.

use crate::AppState;
use crate::ingest::{ActivityBatch, IngestResult};
use crate::problem::Problem;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};

/// How old a signed call may be.
pub const TOLERANCE_SECONDS: i64 = 300;

/// The secret's name in the store for a source.
pub fn secret_name(source: &str) -> String {
    format!("webhook:{source}")
}

/// Source names: what an admin types, and part of a URL.
pub fn valid_source(source: &str) -> bool {
    (1..=40).contains(&source.len())
        && source.bytes().all(|byte| {
            byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-' || byte == b'_'
        })
}

/// Ingests a signed batch of activities from a registered source.
#[utoipa::path(
    post,
    path = "/webhooks/{source}",
    params(
        ("source" = String, Path, description = "The source's name, as registered with `abm webhook create`"),
        ("X-Abm-Timestamp" = String, Header, description = "Unix seconds when the call was signed"),
        ("X-Abm-Signature" = String, Header, description = "sha256=HEX: HMAC-SHA256 of TIMESTAMP.BODY with the source's secret")
    ),
    request_body = ActivityBatch,
    responses(
        (status = 200, body = IngestResult),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn webhook(
    State(state): State<AppState>,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<IngestResult>, Problem> {
    let refused = |detail: String| Problem::new(StatusCode::UNAUTHORIZED, detail);
    if !valid_source(&source) {
        return Err(refused("unknown webhook source".into()));
    }
    let name = secret_name(&source);
    let secret = state
        .with_store(move |store| abm_store::tracking::stored_secret(store.sql(), &name))
        .await??;
    let Some(secret) = secret else {
        return Err(refused(format!(
            "unknown webhook source {source}: an admin registers it with abm webhook create {source}"
        )));
    };
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    abm_core::tracking::verify_webhook(
        secret.as_bytes(),
        &header("x-abm-timestamp"),
        &header("x-abm-signature"),
        &body,
        jiff::Timestamp::now().as_microsecond(),
        TOLERANCE_SECONDS,
    )
    .map_err(|error| refused(format!("the signature does not verify: {error}")))?;
    let batch: ActivityBatch = serde_json::from_slice(&body)
        .map_err(|error| Problem::bad_request("body", format!("not an activity batch: {error}")))?;
    crate::ingest::ingest_batch(&state, batch, &format!("webhook {source}"))
        .await
        .map(Json)
}
