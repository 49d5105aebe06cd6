//! Settings: the configuration as loaded, users and tokens.

use crate::AppState;
use crate::problem::Problem;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::{SignedIn, escape, page};

/// The configuration as loaded, and the users: administrators only.
pub(super) async fn settings(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
) -> Response {
    if let Err(problem) = caller.require(&[abm_core::tal::UserRole::Admin]) {
        return problem.into_response();
    }
    let users = match state
        .with_store(|store| abm_store::team::users(store.sql()))
        .await
    {
        Ok(Ok(users)) => users,
        Ok(Err(error)) => return Problem::from(error).into_response(),
        Err(problem) => return problem.into_response(),
    };
    let rows: String = users
        .iter()
        .map(|user| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&user.email),
                escape(user.name.as_deref().unwrap_or("")),
                escape(&user.role)
            )
        })
        .collect();
    let settings = state.settings();
    page(
        "Settings",
        Some(&caller),
        &format!(
            "<h1>Settings</h1><h2>Users</h2><table><tr><th>email</th><th>name</th><th>role</th></tr>{rows}</table><p>Add users and tokens with <code>abm user add</code> and <code>abm token create</code>.</p><h2>Configuration</h2><p>Loaded and validated from {}.</p><pre>{}</pre>",
            escape(&settings.config_source),
            escape(&settings.config_toml),
        ),
    )
    .into_response()
}
