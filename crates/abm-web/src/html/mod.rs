//! The HTML interface: server-rendered pages, no script needed. Every value shown goes
//! through [`escape`]; every form carries the session's CSRF token and its handler checks it.
//!
//! Adding a page: a module here with its handlers (take [`SignedIn`] for a page and
//! [`FormCaller`] for a form's POST), one line in [`routes`], and a link in [`page`]'s header
//! when it belongs there.

mod account;
mod accounts;
mod login;
mod my_day;
mod plays;
pub mod reports;
mod settings;
mod tal;
mod unsubscribe;

use crate::AppState;
use crate::auth::{Caller, Via};
use crate::problem::Problem;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/", get(|| async { Redirect::to("/accounts") }))
        .route("/login", get(login::login_form).post(login::login))
        .route("/logout", post(login::logout))
        .route("/accounts", get(accounts::accounts))
        .route("/accounts.csv", get(accounts::export))
        .route("/accounts/{domain}", get(account::account))
        .route("/accounts/{domain}/plan", post(account::plan_form))
        .route("/tal", get(tal::tal_page))
        .route("/my-day", get(my_day::my_day))
        .route("/tasks/{id}", post(my_day::task_form))
        .route("/plays", get(plays::plays_page))
        .route("/plays/{name}", get(plays::play_page))
        .route("/reports", get(reports::reports_page))
        .route("/reports/{name}", get(reports::report_page))
        .route(
            "/u/{token}",
            get(unsubscribe::unsubscribe_page).post(unsubscribe::unsubscribe),
        )
        .route("/u/{token}/fewer", post(unsubscribe::fewer))
        .route("/settings", get(settings::settings))
        .route("/settings/users", post(settings::user_form))
        .route("/settings/tokens", post(settings::token_form))
        .route("/settings/tokens/revoke", post(settings::revoke_form))
        .route("/settings/config", post(settings::config_form))
        .route("/tal/{action}", post(tal::tal_form))
        .route("/healthz", get(|| async { "ok" }))
}

/// Text made safe for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

pub fn page(title: &str, caller: Option<&Caller>, body: &str) -> Html<String> {
    let user = match caller {
        Some(caller) => {
            let csrf = match &caller.via {
                Via::Session { csrf } => csrf.as_str(),
                Via::Token => "",
            };
            format!(
                r#"<form method="post" action="/logout" class="user">{} ({}) <input type="hidden" name="csrf" value="{}"><button>Sign out</button></form>"#,
                escape(&caller.user.email),
                caller.role.as_str(),
                escape(csrf)
            )
        }
        None => String::new(),
    };
    Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{} · abm</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font:14px system-ui,sans-serif;margin:0;color:#222}}header{{display:flex;gap:1.5em;align-items:center;padding:.6em 1.2em;background:#1d3557;color:#fff}}header a{{color:#fff;text-decoration:none}}main{{padding:1em 1.2em}}table{{border-collapse:collapse}}td,th{{padding:.3em .7em;border-bottom:1px solid #ddd;text-align:left}}td.n{{text-align:right}}figure{{margin:.5em 0}}dt{{font-weight:600}}dd{{margin:0 0 .4em 1em}}form.period{{margin:.5em 0 1em}}.user{{margin-left:auto}}.why li{{margin:.2em 0}}</style></head>
<body><header><strong>abm</strong><a href="/accounts">Accounts</a><a href="/tal">Target accounts</a><a href="/my-day">My day</a><a href="/plays">Plays</a><a href="/reports">Reports</a><a href="/settings">Settings</a>{user}</header><main>{body}</main></body></html>"#,
        escape(title)
    ))
}

/// A page for people outside the team (an email's recipient): no navigation to the app.
pub fn public_page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font:15px system-ui,sans-serif;margin:3em auto;max-width:36em;padding:0 1em;color:#222}}button{{font:inherit;padding:.3em .8em}}</style></head>
<body><main>{body}</main></body></html>"#,
        escape(title)
    ))
}

/// The caller of a page: people who are not signed in go to the sign-in page instead of
/// getting a JSON problem.
pub struct SignedIn(pub Caller);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match Caller::from_request_parts(parts, state).await {
            Ok(caller) => Ok(Self(caller)),
            Err(problem) if problem.status == StatusCode::UNAUTHORIZED.as_u16() => {
                Err(Redirect::to("/login").into_response())
            }
            Err(problem) => Err(problem.into_response()),
        }
    }
}

/// The session's CSRF token, for a form's hidden field (empty for a token caller).
pub fn csrf_of(caller: &Caller) -> &str {
    match &caller.via {
        Via::Session { csrf } => csrf,
        Via::Token => "",
    }
}

/// A form's hidden CSRF field.
pub fn csrf_field(caller: &Caller) -> String {
    format!(
        r#"<input type="hidden" name="csrf" value="{}">"#,
        escape(csrf_of(caller))
    )
}

/// The caller of a form's POST once the form's `csrf` field matches the session's token;
/// a 403 otherwise.
pub fn form_caller(caller: Caller, sent: &str) -> Result<Caller, Problem> {
    caller.check_csrf(Some(sent)).map(|()| caller)
}

pub fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn escape_leaves_no_markup() {
        assert_eq!(
            super::escape(r#"<script>alert("x")</script>&'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"
        );
    }
}
