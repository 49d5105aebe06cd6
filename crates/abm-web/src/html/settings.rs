//! Settings, for administrators: users (add, change a role or password), API tokens (create,
//! shown once; revoke), and the configuration as loaded, with a check of an edited one and
//! saving it to the configuration file (it takes effect when `abm serve` restarts).
//! Users and tokens change through the same engine actions as `abm user add` and
//! `abm token create`, audited the same way.

use crate::AppState;
use crate::auth::Caller;
use crate::problem::Problem;
use abm_core::tal::UserRole;
use abm_engine::team::users::{self, NewUser};
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};

use super::{SignedIn, csrf_field, escape, form_caller, page, percent};

/// The longest password accepted (argon2 hashes any length; this bounds the work).
const MAX_PASSWORD_BYTES: usize = 1024;
const MIN_PASSWORD_CHARS: usize = 10;
/// The largest configuration text checked or saved.
const MAX_CONFIG_BYTES: usize = 256 * 1024;

/// What the page says above its sections.
enum Notice {
    None,
    Done(String),
    Error(String),
    /// A new token, shown this once.
    Token {
        email: String,
        token: String,
    },
}

#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct Flash {
    done: Option<String>,
    error: Option<String>,
}

/// An edited configuration and what checking it said.
struct Draft {
    text: String,
    outcome: Result<String, String>,
}

pub(super) async fn settings(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Query(flash): Query<Flash>,
) -> Response {
    let notice = match (flash.error, flash.done) {
        (Some(error), _) => Notice::Error(error),
        (None, Some(done)) => Notice::Done(done),
        (None, None) => Notice::None,
    };
    render(&state, &caller, notice, None).await
}

fn admin_only(caller: &Caller) -> Result<(), Problem> {
    caller.require(&[UserRole::Admin])
}

async fn render(
    state: &AppState,
    caller: &Caller,
    notice: Notice,
    draft: Option<Draft>,
) -> Response {
    if let Err(problem) = admin_only(caller) {
        return problem.into_response();
    }
    let loaded = state
        .with_store(|store| -> Result<_, Problem> {
            Ok((
                abm_store::team::users(store.sql())?,
                abm_store::team::tokens(store.sql())?,
            ))
        })
        .await;
    let (people, tokens) = match loaded {
        Ok(Ok(loaded)) => loaded,
        Ok(Err(problem)) | Err(problem) => return problem.into_response(),
    };
    let csrf = csrf_field(caller);
    let role_options = |current: &str| -> String {
        UserRole::ALL
            .iter()
            .map(|role| {
                format!(
                    "<option{}>{}</option>",
                    if role.as_str() == current {
                        " selected"
                    } else {
                        ""
                    },
                    role.as_str()
                )
            })
            .collect()
    };
    let user_rows: String = people
        .iter()
        .map(|user| {
            let email = escape(&user.email);
            format!(
                r#"<tr><td>{email}</td><td>{}</td><td><form method="post" action="/settings/users" class="inline">{csrf}<input type="hidden" name="email" value="{email}"><input type="hidden" name="name" value="{}"><select name="role" aria-label="role of {email}">{}</select> <button>Change role</button></form></td>
<td><form method="post" action="/settings/tokens" class="inline">{csrf}<input type="hidden" name="email" value="{email}"><button class="new-token">New API token</button></form></td></tr>"#,
                escape(user.name.as_deref().unwrap_or("")),
                escape(user.name.as_deref().unwrap_or("")),
                role_options(&user.role),
            )
        })
        .collect();
    let token_rows: String = tokens
        .iter()
        .map(|(digest, email, created)| {
            format!(
                r#"<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td><form method="post" action="/settings/tokens/revoke" class="inline">{csrf}<input type="hidden" name="digest" value="{}"><button>Revoke</button></form></td></tr>"#,
                escape(users::short_digest(digest)),
                escape(email),
                escape(&abm_engine::team::view::show_time(*created)),
                escape(digest),
            )
        })
        .collect();
    let notice = match notice {
        Notice::None => String::new(),
        Notice::Done(done) => format!("<p role=status>{}</p>", escape(&done)),
        Notice::Error(error) => format!("<p role=alert class=error>{}</p>", escape(&error)),
        Notice::Token { email, token } => format!(
            r#"<p role=status>A new API token for {}, shown this once (send it as <code>Authorization: Bearer …</code>):</p><p><code id="new-token">{}</code></p>"#,
            escape(&email),
            escape(&token)
        ),
    };
    let settings = state.settings();
    let (config_text, config_outcome) = match draft {
        Some(draft) => (
            draft.text,
            match draft.outcome {
                Ok(done) => format!("<p role=status id=config-ok>{}</p>", escape(&done)),
                Err(error) => format!(
                    "<p role=alert class=error id=config-error>{}</p>",
                    escape(&error)
                ),
            },
        ),
        None => (settings.config_toml.clone(), String::new()),
    };
    let save = if settings.config_path.is_some() {
        r#" <button name="action" value="save" id="save-config">Check and save</button>"#
    } else {
        ""
    };
    let body = format!(
        r#"<h1>Settings</h1>{notice}
<h2>Users</h2><table id=users><tr><th>email</th><th>name</th><th>role</th><th>tokens</th></tr>{user_rows}</table>
<h3>Add a user</h3><form method="post" action="/settings/users" id="add-user">{csrf}
<input name="email" type="email" placeholder="email" required aria-label="email"> <input name="name" placeholder="name as the CRM writes it" aria-label="name">
<select name="role" aria-label="role">{roles}</select> <input name="password" type="password" placeholder="password (10+ characters; empty: API and CLI only)" autocomplete="new-password" aria-label="password">
<button>Add user</button></form>
<h2>API tokens</h2><table id=tokens><tr><th>token</th><th>user</th><th>created</th><th></th></tr>{token_rows}</table>
<h2>Configuration</h2><p>Loaded and validated from {source}; a saved configuration takes effect when <code>abm serve</code> restarts.</p>{config_outcome}
<form method="post" action="/settings/config">{csrf}<textarea name="toml" id="config" rows="30" cols="100" spellcheck="false">{config}</textarea>
<p><button name="action" value="check" id="check-config">Check</button>{save}</p></form>"#,
        roles = role_options("viewer"),
        source = escape(&settings.config_source),
        config = escape(&config_text),
    );
    page("Settings", Some(caller), &body).into_response()
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct UserForm {
    csrf: String,
    email: String,
    role: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

/// Adds a user or changes one's role (and name, and password when one is given).
pub(super) async fn user_form(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Form(form): Form<UserForm>,
) -> Response {
    let caller = match form_caller(caller, &form.csrf).and_then(|caller| {
        admin_only(&caller)?;
        Ok(caller)
    }) {
        Ok(caller) => caller,
        Err(problem) => return problem.into_response(),
    };
    let refused = |text: String| Redirect::to(&format!("/settings?error={}", percent(&text)));
    let Some(role) = UserRole::from_key(form.role.trim()) else {
        return refused(format!("{:?} is not a role", form.role)).into_response();
    };
    let email = match abm_core::Email::parse(&form.email) {
        Ok(email) => email,
        Err(error) => {
            return refused(format!("{:?} is not an email address: {error}", form.email))
                .into_response();
        }
    };
    let password = form.password;
    if !password.is_empty()
        && (password.len() > MAX_PASSWORD_BYTES || password.chars().count() < MIN_PASSWORD_CHARS)
    {
        return refused(format!(
            "a password needs {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_BYTES} characters"
        ))
        .into_response();
    }
    let actor = caller.actor();
    let now = jiff::Timestamp::now().as_microsecond();
    let name = Some(form.name).filter(|name| !name.trim().is_empty());
    let shown = email.as_str().to_owned();
    let outcome = state
        .with_store(move |store| -> Result<bool, Problem> {
            // argon2 takes tens of milliseconds: here on the blocking pool, not the runtime.
            let password_hash = if password.is_empty() {
                None
            } else {
                Some(crate::auth::hash_password(&password).map_err(Problem::internal)?)
            };
            let user = NewUser {
                email,
                role,
                name,
                password_hash,
            };
            Ok(users::add_user(store.sql(), &actor, &user, now)?)
        })
        .await;
    match outcome {
        Ok(Ok(added)) => Redirect::to(&format!(
            "/settings?done={}",
            percent(&format!(
                "{} {shown} as {}.",
                if added { "Added" } else { "Updated" },
                role.as_str()
            ))
        ))
        .into_response(),
        Ok(Err(problem)) | Err(problem) if problem.status < 500 => {
            refused(problem.detail).into_response()
        }
        Ok(Err(problem)) | Err(problem) => problem.into_response(),
    }
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct TokenForm {
    csrf: String,
    email: String,
}

/// Creates a token and shows it once, in this response (never in a URL).
pub(super) async fn token_form(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Form(form): Form<TokenForm>,
) -> Response {
    let caller = match form_caller(caller, &form.csrf).and_then(|caller| {
        admin_only(&caller)?;
        Ok(caller)
    }) {
        Ok(caller) => caller,
        Err(problem) => return problem.into_response(),
    };
    let token = crate::auth::new_secret();
    let digest = crate::auth::digest(&token);
    let actor = caller.actor();
    let email = form.email.trim().to_lowercase();
    let owner = email.clone();
    let now = jiff::Timestamp::now().as_microsecond();
    let outcome = state
        .with_store(move |store| users::create_token(store.sql(), &actor, &owner, &digest, now))
        .await;
    let notice = match outcome {
        Ok(Ok(())) => Notice::Token { email, token },
        Ok(Err(error)) => {
            let problem = Problem::from(error);
            if problem.status >= 500 {
                return problem.into_response();
            }
            Notice::Error(problem.detail)
        }
        Err(problem) => return problem.into_response(),
    };
    render(&state, &caller, notice, None).await
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct RevokeForm {
    csrf: String,
    digest: String,
}

pub(super) async fn revoke_form(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Form(form): Form<RevokeForm>,
) -> Response {
    let caller = match form_caller(caller, &form.csrf).and_then(|caller| {
        admin_only(&caller)?;
        Ok(caller)
    }) {
        Ok(caller) => caller,
        Err(problem) => return problem.into_response(),
    };
    let actor = caller.actor();
    let now = jiff::Timestamp::now().as_microsecond();
    let digest = form.digest;
    let shown = users::short_digest(&digest).to_owned();
    let outcome = state
        .with_store(move |store| users::revoke_token(store.sql(), &actor, &digest, now))
        .await;
    let query = match outcome {
        Ok(Ok(true)) => format!("done={}", percent(&format!("Revoked token {shown}."))),
        Ok(Ok(false)) => format!("error={}", percent(&format!("No token {shown}."))),
        Ok(Err(error)) => return Problem::from(error).into_response(),
        Err(problem) => return problem.into_response(),
    };
    Redirect::to(&format!("/settings?{query}")).into_response()
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct ConfigForm {
    csrf: String,
    toml: String,
    action: String,
}

/// Checks an edited configuration, and saves it to the configuration file when asked and
/// valid (atomically: a crash leaves the old file or the new one).
pub(super) async fn config_form(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Form(form): Form<ConfigForm>,
) -> Response {
    let caller = match form_caller(caller, &form.csrf).and_then(|caller| {
        admin_only(&caller)?;
        Ok(caller)
    }) {
        Ok(caller) => caller,
        Err(problem) => return problem.into_response(),
    };
    let settings = state.settings();
    let text = form.toml.replace("\r\n", "\n");
    let outcome = if text.len() > MAX_CONFIG_BYTES {
        Err(format!(
            "the configuration is longer than {} KB",
            MAX_CONFIG_BYTES / 1024
        ))
    } else {
        (settings.check_config)(&text)
    };
    let outcome = match (outcome, form.action.as_str(), &settings.config_path) {
        (Err(error), _, _) => Err(error),
        (Ok(()), "save", Some(path)) => {
            let (path, saved, actor) = (path.clone(), text.clone(), caller.actor());
            let now = jiff::Timestamp::now().as_microsecond();
            let written = state
                .with_store(move |store| -> Result<String, Problem> {
                    write_atomically(&path, &saved).map_err(|error| {
                        Problem::internal(format!("cannot write {}: {error}", path.display()))
                    })?;
                    abm_engine::team::log(
                        store.sql(),
                        &actor,
                        "config save",
                        &path.display().to_string(),
                        &format!("{} bytes", saved.len()),
                        now,
                    )?;
                    Ok(format!(
                        "Valid, and saved to {}: restart abm serve to apply it.",
                        path.display()
                    ))
                })
                .await;
            match written {
                Ok(Ok(done)) => Ok(done),
                Ok(Err(problem)) | Err(problem) => return problem.into_response(),
            }
        }
        (Ok(()), _, _) => Ok("Valid: abm would load this configuration.".to_owned()),
    };
    render(&state, &caller, Notice::None, Some(Draft { text, outcome })).await
}

/// Writes `text` next to `path` and renames it over `path`.
fn write_atomically(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let directory = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(directory)?;
    file.write_all(text.as_bytes())?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|error| error.error)?;
    Ok(())
}
