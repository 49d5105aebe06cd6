//! The preference page (unsubscribe from all, or fewer emails) and the one-click
//! unsubscribe endpoint (RFC 8058). The signed link is the
//! recipient's authority: no session, no CSRF token (a mail client posts
//! `List-Unsubscribe=One-Click` with nothing else); the link names the one address it
//! unsubscribes, so a forged or altered link is refused.

use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{escape, public_page};

pub(super) async fn unsubscribe_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Response {
    match abm_engine::plays::unsubscribe::recipient(state.link_key(), &token) {
        Ok(payload) => public_page(
                "Unsubscribe",
                &format!(
                r#"<h1>Your email preferences</h1><p>For <strong id=email>{email}</strong>:</p><form method="post" action="/u/{token}"><button id=unsubscribe>Unsubscribe from all emails</button></form><p>or</p><form method="post" action="/u/{token}/fewer"><label>At most <select name="max_per_month"><option value="1">one email</option><option value="2">two emails</option><option value="4">four emails</option></select> a month</label> <button id=fewer>Send me fewer</button></form><p>You can also reply to any of our emails to tell us what you would like to receive.</p>"#,
                email = escape(&payload.email),
                token = escape(&token),
            ),
        )
        .into_response(),
        Err(error) => (
            StatusCode::BAD_REQUEST,
            public_page(
                "Unsubscribe",
                &format!("<h1>Unsubscribe</h1><p>{}</p>", escape(&error.to_string()))),
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
        Ok(Ok(email)) => public_page(
            "Unsubscribed",
            &format!(
                "<h1>Unsubscribed</h1><p id=done>{} will receive no more emails from us.</p>",
                escape(&email)
            ),
        )
        .into_response(),
        Ok(Err(abm_engine::plays::unsubscribe::UnsubscribeError::BadLink(detail))) => (
            StatusCode::BAD_REQUEST,
            public_page(
                "Unsubscribe",
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

#[derive(Debug, serde::Deserialize)]
pub(super) struct Fewer {
    max_per_month: u32,
}

/// The preference page's "send me fewer".
pub(super) async fn fewer(
    State(state): State<AppState>,
    Path(token): Path<String>,
    axum::extract::Form(form): axum::extract::Form<Fewer>,
) -> Response {
    if !(1..=30).contains(&form.max_per_month) {
        return crate::problem::Problem::bad_request("max_per_month", "1 to 30").into_response();
    }
    let key = state.link_key().to_vec();
    let now = jiff::Timestamp::now().as_microsecond();
    let max = form.max_per_month;
    let done = state
        .with_store(move |store| {
            abm_engine::plays::unsubscribe::prefer_fewer(store, &key, &token, max, now)
        })
        .await;
    match done {
        Ok(Ok(email)) => public_page(
                "Preferences saved",
                &format!(
                "<h1>Preferences saved</h1><p id=done>{} will receive at most {max} email{} a month from us.</p>",
                escape(&email),
                if max == 1 { "" } else { "s" }
            ),
        )
        .into_response(),
        Ok(Err(abm_engine::plays::unsubscribe::UnsubscribeError::BadLink(detail))) => (
            StatusCode::BAD_REQUEST,
            public_page(
                "Preferences",
                &format!("<h1>Preferences</h1><p>{}</p>", escape(&detail))),
        )
            .into_response(),
        Ok(Err(abm_engine::plays::unsubscribe::UnsubscribeError::Store(error))) => {
            crate::problem::Problem::from(error).into_response()
        }
        Err(problem) => problem.into_response(),
    }
}
