//! The unsubscribe page and its one-click endpoint (RFC 8058). The signed link is the
//! recipient's authority: no session, no CSRF token (a mail client posts
//! `List-Unsubscribe=One-Click` with nothing else); the link names the one address it
//! unsubscribes, so a forged or altered link is refused.

use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{escape, page};

pub(super) async fn unsubscribe_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Response {
    match abm_engine::plays::unsubscribe::recipient(state.link_key(), &token) {
        Ok(payload) => page(
            "Unsubscribe",
            None,
            &format!(
                r#"<h1>Unsubscribe</h1><p>Stop all emails to <strong id=email>{email}</strong>?</p><form method="post" action="/u/{token}"><button id=unsubscribe>Unsubscribe</button></form><p>You can also reply to any of our emails to tell us what you would like to receive.</p>"#,
                email = escape(&payload.email),
                token = escape(&token),
            ),
        )
        .into_response(),
        Err(error) => (
            StatusCode::BAD_REQUEST,
            page("Unsubscribe", None, &format!("<h1>Unsubscribe</h1><p>{}</p>", escape(&error.to_string()))),
        )
            .into_response(),
    }
}

/// The form's button and a mail client's one-click POST both land here.
pub(super) async fn unsubscribe(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Response {
    let key = state.link_key().to_vec();
    let now = jiff::Timestamp::now().as_microsecond();
    let done = state
        .with_store(move |store| {
            abm_engine::plays::unsubscribe::unsubscribe(store, &key, &token, now)
        })
        .await;
    match done {
        Ok(Ok(email)) => page(
            "Unsubscribed",
            None,
            &format!(
                "<h1>Unsubscribed</h1><p id=done>{} will receive no more emails from us.</p>",
                escape(&email)
            ),
        )
        .into_response(),
        Ok(Err(abm_engine::plays::unsubscribe::UnsubscribeError::BadLink(detail))) => (
            StatusCode::BAD_REQUEST,
            page(
                "Unsubscribe",
                None,
                &format!("<h1>Unsubscribe</h1><p>{}</p>", escape(&detail)),
            ),
        )
            .into_response(),
        Ok(Err(abm_engine::plays::unsubscribe::UnsubscribeError::Store(error))) => {
            crate::problem::Problem::from(error).into_response()
        }
        Err(problem) => problem.into_response(),
    }
}
