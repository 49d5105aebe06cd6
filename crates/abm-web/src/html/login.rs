//! Signing in with a password (rate-limited) and out.

use crate::AppState;
use crate::auth::{self, Caller, SESSION_COOKIE, SESSION_HOURS};
use crate::problem::Problem;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::page;

#[derive(serde::Deserialize)]
pub struct LoginQuery {
    error: Option<String>,
}

pub(super) async fn login_form(Query(query): Query<LoginQuery>) -> Html<String> {
    let error = match query.error.as_deref() {
        Some("limited") => "<p role=alert>Too many failed attempts: wait 15 minutes.</p>",
        Some(_) => "<p role=alert>Wrong email or password.</p>",
        None => "",
    };
    page(
        "Sign in",
        None,
        &format!(
            r#"<h1>Sign in</h1>{error}<form method="post" action="/login">
<p><label>Email <input name="email" type="email" autocomplete="username" required></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
<p><button>Sign in</button></p></form>"#
        ),
    )
}

#[derive(serde::Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
}

pub(super) async fn login(
    State(state): State<AppState>,
    Form(form): Form<LoginForm>,
) -> Result<Response, Problem> {
    let email = abm_core::Email::parse(&form.email)
        .map(|email| email.as_str().to_owned())
        .unwrap_or_else(|_| form.email.trim().to_lowercase());
    let now = jiff::Timestamp::now().as_microsecond();
    if !state.may_try_login(&email, now) || form.password.len() > 1024 {
        return Ok(Redirect::to("/login?error=limited").into_response());
    }
    let session = auth::new_secret();
    let csrf = auth::new_secret();
    let (lookup, stored_session) = (email.clone(), auth::digest(&session));
    let signed_in = state
        .with_store(move |store| -> Result<bool, Problem> {
            let Some(hash) = abm_store::team::password_hash(store.sql(), &lookup)? else {
                return Ok(false);
            };
            if !auth::verify_password(&form.password, &hash) {
                return Ok(false);
            }
            let expires = now + SESSION_HOURS * 3_600_000_000;
            abm_store::team::add_session(
                store.sql(),
                &stored_session,
                &lookup,
                &csrf,
                now,
                expires,
            )?;
            Ok(true)
        })
        .await??;
    state.record_login(&email, signed_in, now);
    if !signed_in {
        return Ok(Redirect::to("/login?error=1").into_response());
    }
    let secure = if state.settings().secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={session}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
        SESSION_HOURS * 3600
    );
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/accounts")).into_response())
}

#[derive(serde::Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub(super) async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, Problem> {
    caller.check_csrf(Some(&form.csrf))?;
    let session = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == SESSION_COOKIE)
        .map(|(_, value)| auth::digest(value));
    if let Some(hash) = session {
        state
            .with_store(move |store| abm_store::team::delete_session(store.sql(), &hash))
            .await??;
    }
    let cookie = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response())
}
