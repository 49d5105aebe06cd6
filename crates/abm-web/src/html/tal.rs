//! The target account list: decisions on proposals, and the list.

use crate::AppState;
use crate::problem::Problem;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};

use super::{SignedIn, escape, page, percent};

#[derive(serde::Deserialize)]
pub struct Flash {
    done: Option<String>,
    error: Option<String>,
}

/// The TAL: proposals waiting for a decision (approve or reject with a reason), and the list.
pub(super) async fn tal_page(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Query(flash): Query<Flash>,
) -> Response {
    let entries = match state
        .with_store(|store| abm_store::team::tal_entries(store.sql()))
        .await
    {
        Ok(Ok(entries)) => entries,
        Ok(Err(error)) => return Problem::from(error).into_response(),
        Err(problem) => return problem.into_response(),
    };
    let csrf = escape(super::csrf_of(&caller));
    let notice = match (&flash.done, &flash.error) {
        (_, Some(error)) => format!("<p role=alert class=error>{}</p>", escape(error)),
        (Some(done), None) => format!("<p role=status>{}</p>", escape(done)),
        _ => String::new(),
    };
    let proposed: String = entries
        .iter()
        .filter(|row| row.status == "proposed")
        .map(|row| {
            let domain = escape(&row.domain);
            format!(
                r#"<tr><td><a href="/accounts/{domain}">{domain}</a></td><td>{}</td><td>{}</td><td>{}</td><td>
<form method="post" action="/tal/approve"><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="domain" value="{domain}">
<select name="tier"><option value="">tier by rule</option><option>1:1</option><option>1:few</option><option>1:many</option></select>
<input name="reason" placeholder="reason (optional)"> <button>Approve</button></form>
<form method="post" action="/tal/reject"><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="domain" value="{domain}">
<input name="reason" placeholder="reason (required)" required> <button>Reject</button></form></td></tr>"#,
                escape(row.owner.as_deref().unwrap_or("-")),
                escape(&row.proposed_by),
                escape(&row.reason),
            )
        })
        .collect();
    let listed: String = entries
        .iter()
        .filter(|row| row.status != "proposed")
        .map(|row| {
            format!(
                "<tr><td><a href=\"/accounts/{d}\">{d}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&row.status),
                escape(row.tier.as_deref().unwrap_or("-")),
                escape(row.cluster.as_deref().unwrap_or("-")),
                escape(row.sales_owner.as_deref().unwrap_or("-")),
                escape(&row.reason),
                d = escape(&row.domain),
            )
        })
        .collect();
    page(
        "Target accounts",
        Some(&caller),
        &format!(
            r#"<h1>Target account list</h1>{notice}<h2>Waiting for a decision</h2>
<table><thead><tr><th>domain</th><th>owner</th><th>proposed by</th><th>reason</th><th>decision</th></tr></thead><tbody>{proposed}</tbody></table>
<h2>The list</h2><table><thead><tr><th>domain</th><th>status</th><th>tier</th><th>cluster</th><th>sales owner</th><th>reason</th></tr></thead><tbody>{listed}</tbody></table>"#
        ),
    )
    .into_response()
}

#[derive(serde::Deserialize)]
pub struct TalForm {
    csrf: String,
    domain: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    tier: String,
}

/// A decision from the TAL page: the same engine action (and governance) as the API.
pub(super) async fn tal_form(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(action): Path<String>,
    Form(form): Form<TalForm>,
) -> Response {
    let caller = match super::form_caller(caller, &form.csrf) {
        Ok(caller) => caller,
        Err(problem) => return problem.into_response(),
    };
    let request = crate::api::TalRequest {
        domains: vec![form.domain.clone()],
        reason: form.reason,
        tier: Some(form.tier).filter(|tier| !tier.is_empty()),
        sales_owner: None,
        marketing_owner: None,
    };
    let outcome = crate::api::tal_action(
        State(state),
        caller,
        Path(action.clone()),
        Ok(axum::Json(request)),
    )
    .await;
    let query = match outcome {
        Ok(_) => format!("done={}", percent(&format!("{action}: {}", form.domain))),
        Err(problem) => format!("error={}", percent(&problem.detail)),
    };
    Redirect::to(&format!("/tal?{query}")).into_response()
}
