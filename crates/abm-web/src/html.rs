//! The first pages of the HTML interface: sign in and out, the ranked accounts, one account.
//! Server-rendered, no script needed. Every value shown goes through [`escape`]; every form
//! carries the session's CSRF token.

use crate::AppState;
use crate::auth::{self, Caller, SESSION_COOKIE, SESSION_HOURS, Via};
use crate::problem::Problem;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/", get(|| async { Redirect::to("/accounts") }))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/accounts", get(accounts))
        .route("/accounts/{domain}", get(account))
        .route("/accounts/{domain}/plan", post(plan_form))
        .route("/tal", get(tal_page))
        .route("/my-day", get(my_day))
        .route("/settings", get(settings))
        .route("/tal/{action}", post(tal_form))
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

fn page(title: &str, caller: Option<&Caller>, body: &str) -> Html<String> {
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
<style>body{{font:14px system-ui,sans-serif;margin:0;color:#222}}header{{display:flex;gap:1.5em;align-items:center;padding:.6em 1.2em;background:#1d3557;color:#fff}}header a{{color:#fff;text-decoration:none}}main{{padding:1em 1.2em}}table{{border-collapse:collapse}}td,th{{padding:.3em .7em;border-bottom:1px solid #ddd;text-align:left}}td.n{{text-align:right}}.user{{margin-left:auto}}.why li{{margin:.2em 0}}</style></head>
<body><header><strong>abm</strong><a href="/accounts">Accounts</a><a href="/tal">Target accounts</a><a href="/my-day">My day</a><a href="/settings">Settings</a>{user}</header><main>{body}</main></body></html>"#,
        escape(title)
    ))
}

#[derive(serde::Deserialize)]
pub struct LoginQuery {
    error: Option<String>,
}

async fn login_form(Query(query): Query<LoginQuery>) -> Html<String> {
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

async fn login(
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

async fn logout(
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

/// Sends people who are not signed in to the sign-in page instead of a JSON problem.
fn signed_in(caller: Result<Caller, Problem>) -> Result<Caller, Box<Response>> {
    caller.map_err(|problem| {
        Box::new(if problem.status == StatusCode::UNAUTHORIZED.as_u16() {
            Redirect::to("/login").into_response()
        } else {
            problem.into_response()
        })
    })
}

async fn accounts(
    State(state): State<AppState>,
    caller: Result<Caller, Problem>,
    Query(query): Query<crate::api::AccountQuery>,
) -> Response {
    let caller = match signed_in(caller) {
        Ok(caller) => caller,
        Err(response) => return *response,
    };
    let shown_query = query.q.clone().unwrap_or_default();
    let page_result = crate::api::list_accounts(State(state), caller.clone(), Query(query)).await;
    let accounts = match page_result {
        Ok(axum::Json(page)) => page,
        Err(problem) => return problem.into_response(),
    };
    let rows: String = accounts
        .accounts
        .iter()
        .map(|row| {
            format!(
                r#"<tr><td><a href="/accounts/{d}">{d}</a></td><td>{}</td><td class=n>{:.0}</td><td class=n>{:.0}</td><td class=n>{:.0}</td><td class=n>{:.0}</td><td>{}</td><td>{}</td></tr>"#,
                escape(row.name.as_deref().unwrap_or("")),
                row.priority,
                row.fit,
                row.intent,
                row.engagement,
                escape(&row.stage),
                escape(row.tier.as_deref().unwrap_or("-")),
                d = escape(&row.domain),
            )
        })
        .collect();
    let more = accounts
        .next_cursor
        .map(|cursor| {
            format!(
                r#"<p><a href="/accounts?cursor={}">Next page</a></p>"#,
                escape(&cursor)
            )
        })
        .unwrap_or_default();
    page(
        "Accounts",
        Some(&caller),
        &format!(
            r#"<h1>Accounts</h1><form method="get"><input name="q" placeholder="domain or name" value="{}"> <button>Search</button></form>
<table><thead><tr><th>domain</th><th>name</th><th>priority</th><th>fit</th><th>intent</th><th>engagement</th><th>stage</th><th>tier</th></tr></thead><tbody>{rows}</tbody></table>{more}"#,
            escape(&shown_query)
        ),
    )
    .into_response()
}

/// The message a plan form shows after a save, and the text to show again after a refusal.
#[derive(Debug, Default, serde::Deserialize)]
struct AccountPageQuery {
    saved: Option<String>,
}

async fn account(
    State(state): State<AppState>,
    caller: Result<Caller, Problem>,
    Path(domain): Path<String>,
    Query(query): Query<AccountPageQuery>,
) -> Response {
    let caller = match signed_in(caller) {
        Ok(caller) => caller,
        Err(response) => return *response,
    };
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
    page(
        view["domain"].as_str().unwrap_or("account"),
        Some(&caller),
        &format!(
            r#"<h1>{} <small>{}</small></h1><p>stage <strong>{}</strong> ({}) · tier {}</p>
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
    let csrf = match &caller.via {
        Via::Session { csrf } => csrf.clone(),
        Via::Token => String::new(),
    };
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
struct PlanForm {
    csrf: String,
    base_version: i64,
    toml: String,
}

async fn plan_form(
    State(state): State<AppState>,
    caller: Result<Caller, Problem>,
    Path(domain): Path<String>,
    Form(form): Form<PlanForm>,
) -> Response {
    let caller = match signed_in(caller) {
        Ok(caller) => caller,
        Err(response) => return *response,
    };
    if let Err(problem) = caller.check_csrf(Some(&form.csrf)) {
        return problem.into_response();
    }
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

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// A rep's day: their accounts that became qualified this week, their hottest accounts, and
/// the trigger events on their accounts in the last two weeks.
async fn my_day(State(state): State<AppState>, caller: Result<Caller, Problem>) -> Response {
    let caller = match signed_in(caller) {
        Ok(caller) => caller,
        Err(response) => return *response,
    };
    let actor = caller.actor();
    let now = jiff::Timestamp::now().as_microsecond();
    type Day = (
        Vec<(String, i64, String)>,
        Vec<(String, f64, String)>,
        Vec<(String, String, i64, String)>,
    );
    let loaded = state
        .with_store(move |store| -> Result<Day, Problem> {
            let mine: std::collections::HashMap<i64, String> =
                abm_store::team::account_owners(store.sql())?
                    .into_iter()
                    .filter(|(_, _, _, owner)| actor.owns(owner.as_deref()))
                    .map(|(id, domain, _, _)| (id, domain))
                    .collect();
            let qualified = abm_store::team::entered_stage_since(
                store.sql(),
                "qualified",
                now - 7 * MICROS_PER_DAY,
            )?
            .into_iter()
            .filter_map(|(id, at, reason)| mine.get(&id).map(|domain| (domain.clone(), at, reason)))
            .collect();
            let mut hot: Vec<(String, f64, String)> = store
                .stored_scores()?
                .into_iter()
                .filter(|score| mine.contains_key(&score.account.0))
                .map(|score| {
                    (
                        score.domain,
                        score.values.priority,
                        score.stage.as_str().to_owned(),
                    )
                })
                .collect();
            hot.truncate(10);
            let triggers = abm_store::team::triggers(store.sql(), None, now - 14 * MICROS_PER_DAY)?
                .into_iter()
                .filter(|(_, trigger)| mine.contains_key(&trigger.account_id))
                .map(|(domain, trigger)| (domain, trigger.kind, trigger.at, trigger.evidence))
                .take(50)
                .collect();
            Ok((qualified, hot, triggers))
        })
        .await;
    let (qualified, hot, triggers) = match loaded {
        Ok(Ok(day)) => day,
        Ok(Err(problem)) | Err(problem) => return problem.into_response(),
    };
    let link = |domain: &str| format!(r#"<a href="/accounts/{d}">{d}</a>"#, d = escape(domain));
    let or_none = |items: String, none: &str| {
        if items.is_empty() {
            format!("<li>{none}</li>")
        } else {
            items
        }
    };
    let qualified: String = qualified
        .iter()
        .map(|(domain, at, reason)| {
            format!(
                "<li>{} — {} ({})</li>",
                link(domain),
                escape(&abm_engine::team::view::show_time(*at)),
                escape(reason)
            )
        })
        .collect();
    let hot: String = hot
        .iter()
        .map(|(domain, priority, stage)| {
            format!(
                "<li>{} — priority {priority:.0}, {}</li>",
                link(domain),
                escape(stage)
            )
        })
        .collect();
    let triggers: String = triggers
        .iter()
        .map(|(domain, kind, at, evidence)| {
            format!(
                "<li>{} — {} {}: {}</li>",
                link(domain),
                escape(&abm_engine::team::view::show_time(*at)),
                escape(kind),
                escape(evidence)
            )
        })
        .collect();
    page(
        "My day",
        Some(&caller),
        &format!(
            "<h1>My day</h1><p>Accounts you own in the CRM ({}).</p><h2>Newly qualified this week</h2><ul>{}</ul><h2>Hottest accounts</h2><ul>{}</ul><h2>Trigger events, last 14 days</h2><ul>{}</ul>",
            escape(&caller.user.email),
            or_none(qualified, "none this week"),
            or_none(hot, "no scored accounts are yours"),
            or_none(triggers, "none"),
        ),
    )
    .into_response()
}

/// The configuration as loaded, and the users: administrators only.
async fn settings(State(state): State<AppState>, caller: Result<Caller, Problem>) -> Response {
    let caller = match signed_in(caller) {
        Ok(caller) => caller,
        Err(response) => return *response,
    };
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

#[derive(serde::Deserialize)]
pub struct Flash {
    done: Option<String>,
    error: Option<String>,
}

/// The TAL: proposals waiting for a decision (approve or reject with a reason), and the list.
async fn tal_page(
    State(state): State<AppState>,
    caller: Result<Caller, Problem>,
    Query(flash): Query<Flash>,
) -> Response {
    let caller = match signed_in(caller) {
        Ok(caller) => caller,
        Err(response) => return *response,
    };
    let entries = match state
        .with_store(|store| abm_store::team::tal_entries(store.sql()))
        .await
    {
        Ok(Ok(entries)) => entries,
        Ok(Err(error)) => return Problem::from(error).into_response(),
        Err(problem) => return problem.into_response(),
    };
    let csrf = match &caller.via {
        Via::Session { csrf } => escape(csrf),
        Via::Token => String::new(),
    };
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
async fn tal_form(
    State(state): State<AppState>,
    caller: Result<Caller, Problem>,
    Path(action): Path<String>,
    Form(form): Form<TalForm>,
) -> Response {
    let caller = match signed_in(caller) {
        Ok(caller) => caller,
        Err(response) => return *response,
    };
    if let Err(problem) = caller.check_csrf(Some(&form.csrf)) {
        return problem.into_response();
    }
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

fn percent(text: &str) -> String {
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
