//! One account: why, scores with contributions, trend, buying group, timeline, the plan.

use crate::AppState;
use crate::auth::Caller;
use crate::problem::Problem;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::{SignedIn, escape, page, percent};

/// The message a plan form shows after a save, and the text to show again after a refusal.
#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct AccountPageQuery {
    saved: Option<String>,
}

pub(super) async fn account(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(domain): Path<String>,
    Query(query): Query<AccountPageQuery>,
) -> Response {
    account_page(&state, &caller, domain, query.saved.as_deref(), None).await
}

/// A refused plan: the text as the user sent it, and why.
struct PlanDraft {
    text: String,
    error: String,
}

async fn account_page(
    state: &AppState,
    caller: &Caller,
    domain: String,
    saved: Option<&str>,
    draft: Option<PlanDraft>,
) -> Response {
    // The view and the trend each load the scoring data: side by side on the blocking pool.
    let (view, trend) = tokio::join!(
        crate::api::get_account(State(state.clone()), caller.clone(), Path(domain.clone())),
        crate::account_api::trend_points(state, domain.clone(), 12)
    );
    let view = match view {
        Ok(axum::Json(view)) => view,
        Err(problem) => return problem.into_response(),
    };
    let trend = match trend {
        Ok(points) => points,
        Err(problem) => return problem.into_response(),
    };
    let chart = trend_chart(&trend);
    let plan_section = plan_section(state, caller, domain, saved, draft).await;
    let caller = caller.clone();
    let text = |value: &serde_json::Value| escape(value.as_str().unwrap_or(""));
    let list = |value: &serde_json::Value| -> String {
        value
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|item| format!("<li>{}</li>", text(item)))
                    .collect()
            })
            .unwrap_or_default()
    };
    let scores: String = ["priority", "fit", "intent", "engagement"]
        .iter()
        .map(|name| {
            let score = &view["scores"][name];
            let parts: String = score["contributions"]
                .as_array()
                .map(|parts| {
                    parts
                        .iter()
                        .map(|c| {
                            format!(
                                "<li>{} {:+.1}</li>",
                                text(&c["name"]),
                                c["points"].as_f64().unwrap_or(0.0)
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            format!(
                "<h3>{name} {:.0}</h3><ul>{parts}</ul>",
                score["value"].as_f64().unwrap_or(0.0)
            )
        })
        .collect();
    let group: String = view["buying_group"]
        .as_array()
        .map(|roles| {
            roles
                .iter()
                .map(|role| {
                    format!(
                        "<tr><td>{}</td><td class=n>{}</td><td class=n>{}</td></tr>",
                        text(&role["role"]),
                        role["known"],
                        role["engaged"]
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let triggers: String = view["triggers"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|t| {
                    format!(
                        "<li>{} · {}: {}</li>",
                        text(&t["at"]),
                        text(&t["kind"]),
                        text(&t["evidence"])
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let contacts: String = view["contacts"]
        .as_array()
        .map(|people| {
            people
                .iter()
                .map(|person| {
                    format!(
                        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        text(&person["name"]),
                        text(&person["title"]),
                        escape(person["role"].as_str().unwrap_or("-")),
                        if person["engaged"].as_bool().unwrap_or(false) {
                            "engaged"
                        } else {
                            ""
                        },
                        text(&person["last_active"]),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let timeline: String = view["timeline"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|entry| {
                    format!(
                        "<tr class=\"t-{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        text(&entry["what"]),
                        text(&entry["at"]),
                        text(&entry["what"]),
                        text(&entry["kind"]),
                        text(&entry["email"]),
                        text(&entry["detail"]),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let next: String = view["next_best_actions"]
        .as_array()
        .map(|actions| {
            actions
                .iter()
                .map(|action| {
                    format!(
                        "<li class=\"nba-{}\"><strong>{}</strong> — {}</li>",
                        text(&action["kind"]),
                        text(&action["action"]),
                        text(&action["because"])
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    page(
        view["domain"].as_str().unwrap_or("account"),
        Some(&caller),
        &format!(
            r#"<h1>{} <small>{}</small></h1><p>stage <strong>{}</strong> ({}) · tier {}</p>
<section id=next-best-action><h2>Next best action</h2><ol>{next}</ol></section>
<section class=why><h2>Why this account</h2><ul>{}</ul><h2>Why now</h2><ul>{}</ul><h2>Why us</h2><ul>{}</ul></section>
<section><h2>Scores</h2>{scores}</section>
<section><h2>Trend</h2>{chart}</section>
<section><h2>Buying group</h2><table><tr><th>role</th><th>known</th><th>engaged</th></tr>{group}</table>
<table id=contacts><tr><th>contact</th><th>title</th><th>role</th><th>engaged</th><th>last active</th></tr>{contacts}</table></section>
<section><h2>Trigger events</h2><ul>{triggers}</ul></section>
<section><h2>Timeline</h2><table id=timeline><tr><th>when</th><th>what</th><th>kind</th><th>who</th><th>detail</th></tr>{timeline}</table></section>
{plan_section}"#,
            text(&view["domain"]),
            text(&view["name"]),
            text(&view["stage"]),
            text(&view["stage_reason"]),
            escape(view["tier"].as_str().unwrap_or("-")),
            list(&view["why"]["this_account"]),
            list(&view["why"]["now"]),
            list(&view["why"]["us"]),
        ),
    )
    .into_response()
}

/// The three scores and the priority over the last weeks, as an inline SVG chart.
fn trend_chart(points: &[abm_engine::scoring::TrendPoint]) -> String {
    use crate::chart::{LineChart, Series};
    let series = |name: &str, value: fn(&abm_engine::scoring::TrendPoint) -> f64| Series {
        name: name.to_owned(),
        points: points
            .iter()
            .map(|point| (point.at, value(point)))
            .collect(),
    };
    LineChart {
        title: "Scores, weekly".to_owned(),
        y_label: Some("score".to_owned()),
        y_range: Some((0.0, 100.0)),
        series: vec![
            series("priority", |point| point.priority),
            series("fit", |point| point.fit),
            series("intent", |point| point.intent),
            series("engagement", |point| point.engagement),
        ],
    }
    .svg(720, 260)
}

/// The plan, editable by those who may change it (TOML in a text area, validated on save; a
/// refusal shows the text again with the line and column of the problem).
async fn plan_section(
    state: &AppState,
    caller: &Caller,
    domain: String,
    saved: Option<&str>,
    draft: Option<PlanDraft>,
) -> String {
    let account = match crate::account_api::account_ref(state, domain).await {
        Ok(account) => account,
        Err(problem) => {
            return format!(
                "<section><h2>Account plan</h2><p class=error>{}</p></section>",
                escape(&problem.detail)
            );
        }
    };
    let id = account.id;
    let plannable = state
        .with_store(move |store| -> Result<bool, Problem> {
            let entry = abm_store::team::tal_entry(store.sql(), id)?;
            Ok(entry.is_some_and(|entry| {
                entry.status == "approved" && matches!(entry.tier.as_deref(), Some("1:1" | "1:few"))
            }))
        })
        .await;
    if !matches!(plannable, Ok(Ok(true))) {
        return "<section><h2>Account plan</h2><p>Account plans are for approved 1:1 and 1:few TAL accounts.</p></section>".to_owned();
    }
    let domain = account.domain.clone();
    let plan = match crate::account_api::plan_of(state, account).await {
        Ok(plan) => plan,
        Err(problem) => {
            return format!(
                "<section><h2>Account plan</h2><p class=error>{}</p></section>",
                escape(&problem.detail)
            );
        }
    };
    let csrf = super::csrf_of(caller).to_owned();
    let (text, message) = match draft {
        Some(draft) => (
            draft.text,
            format!(
                "<p class=error id=plan-error>Not saved: {}</p>",
                escape(&draft.error)
            ),
        ),
        None => (
            plan.toml.clone(),
            saved
                .map(|saved| format!("<p class=notice id=plan-saved>{}</p>", escape(saved)))
                .unwrap_or_default(),
        ),
    };
    let version = match &plan.updated_by {
        Some(by) => format!(
            "version {} by {} on {}",
            plan.version,
            escape(by),
            escape(plan.updated_at.as_deref().unwrap_or(""))
        ),
        None => "no plan saved yet".to_owned(),
    };
    if !Caller::WRITERS.contains(&caller.role) {
        return format!(
            "<section><h2>Account plan</h2><p>{version}</p><pre>{}</pre></section>",
            escape(&plan.toml)
        );
    }
    format!(
        r#"<section><h2>Account plan</h2><p>{version}</p>{message}
<form method="post" action="/accounts/{}/plan"><input type="hidden" name="csrf" value="{}"><input type="hidden" name="base_version" value="{}">
<textarea name="toml" id="plan" rows="24" cols="100" spellcheck="false">{}</textarea><p><button id="save-plan">Save plan</button></p></form></section>"#,
        escape(&domain),
        escape(&csrf),
        plan.version,
        escape(&text),
    )
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct PlanForm {
    csrf: String,
    base_version: i64,
    toml: String,
}

pub(super) async fn plan_form(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(domain): Path<String>,
    Form(form): Form<PlanForm>,
) -> Response {
    let caller = match super::form_caller(caller, &form.csrf) {
        Ok(caller) => caller,
        Err(problem) => return problem.into_response(),
    };
    match crate::account_api::save_plan(
        &state,
        &caller,
        domain.clone(),
        &form.toml,
        form.base_version,
    )
    .await
    {
        Ok(saved) => {
            let message = if saved.changes.is_empty() {
                format!("Nothing changed (version {}).", saved.version)
            } else {
                format!(
                    "Saved version {}: {}.",
                    saved.version,
                    saved.changes.join("; ")
                )
            };
            Redirect::to(&format!(
                "/accounts/{}?saved={}",
                percent(&domain),
                percent(&message)
            ))
            .into_response()
        }
        Err(problem) if problem.status == StatusCode::FORBIDDEN.as_u16() => problem.into_response(),
        Err(problem) => {
            let mut response = account_page(
                &state,
                &caller,
                domain,
                None,
                Some(PlanDraft {
                    text: form.toml,
                    error: problem.detail.clone(),
                }),
            )
            .await;
            if response.status() == StatusCode::OK {
                *response.status_mut() =
                    StatusCode::from_u16(problem.status).unwrap_or(StatusCode::BAD_REQUEST);
            }
            response
        }
    }
}
