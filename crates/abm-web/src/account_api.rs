//! An account's parts over the API: its timeline (activities, intent, stage changes,
//! triggers), contacts, intent signals, score trend, and account plan (read and replace).
//! Reading is open to every role; a plan is changed by admins, marketing, and the sales
//! owner of the account.

use crate::AppState;
use crate::auth::Caller;
use crate::problem::Problem;
use abm_core::tal::UserRole;
use abm_engine::team::view::show_time;
use abm_store::team::{self, AccountRef};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;

const ALL_ROLES: [UserRole; 4] = [
    UserRole::Admin,
    UserRole::Marketing,
    UserRole::Sales,
    UserRole::Viewer,
];

/// One entry of an account's timeline.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TimelineEntry {
    /// RFC 3339
    pub at: String,
    /// activity, intent, stage or trigger
    pub what: String,
    /// The activity kind, the intent topic, the new stage, the trigger kind
    pub kind: String,
    /// In words: the page, the score, the reason, the evidence
    pub detail: String,
    pub email: Option<String>,
    pub channel: Option<String>,
    /// Microseconds since the epoch (for sorting)
    #[serde(skip)]
    pub micros: i64,
}

#[derive(Debug, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimelineQuery {
    /// Entries to return, 1 to 500 (default 100)
    pub limit: Option<u32>,
}

pub(crate) async fn account_ref(state: &AppState, domain: String) -> Result<AccountRef, Problem> {
    let found = state
        .with_store(move |store| abm_engine::team::resolve_account(store.sql(), &domain))
        .await??;
    found.map_err(|refusal| {
        if refusal.contains("is not a domain") {
            Problem::bad_request("domain", refusal)
        } else {
            Problem::not_found(refusal)
        }
    })
}

/// Everything that happened at the account, newest first.
pub fn timeline(
    store: &mut dyn abm_store::Store,
    account: &AccountRef,
    limit: u32,
) -> Result<Vec<TimelineEntry>, abm_store::StoreError> {
    let mut entries = Vec::new();
    for activity in store.recent_activities(abm_core::AccountId(account.id), limit)? {
        let detail = [
            activity.url.clone(),
            activity.topic.clone(),
            activity.campaign.clone(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
        entries.push(TimelineEntry {
            at: show_time(activity.occurred_at),
            what: "activity".into(),
            kind: activity.kind,
            detail,
            email: activity.email,
            channel: activity.channel,
            micros: activity.occurred_at,
        });
    }
    for signal in team::recent_intent(store.sql(), account.id, limit)? {
        let micros = jiff::civil::Date::strptime("%Y-%m-%d", &signal.date)
            .ok()
            .and_then(|date| date.to_zoned(jiff::tz::TimeZone::UTC).ok())
            .map_or(0, |zoned| zoned.timestamp().as_microsecond());
        entries.push(TimelineEntry {
            at: show_time(micros),
            what: "intent".into(),
            kind: signal.topic,
            detail: format!("score {} from {}", signal.score, signal.source),
            email: None,
            channel: None,
            micros,
        });
    }
    for change in store.stage_history(abm_core::AccountId(account.id))? {
        entries.push(TimelineEntry {
            at: show_time(change.changed_at),
            what: "stage".into(),
            kind: change.to.as_str().to_owned(),
            detail: change.reason,
            email: None,
            channel: None,
            micros: change.changed_at,
        });
    }
    for (_, trigger) in team::triggers(store.sql(), Some(account.id), 0)? {
        entries.push(TimelineEntry {
            at: show_time(trigger.at),
            what: "trigger".into(),
            kind: trigger.kind,
            detail: trigger.evidence,
            email: None,
            channel: None,
            micros: trigger.at,
        });
    }
    entries.sort_by_key(|entry| std::cmp::Reverse(entry.micros));
    entries.truncate(limit as usize);
    Ok(entries)
}

/// The account's timeline: activities, intent signals, stage changes and trigger events,
/// newest first.
#[utoipa::path(
    get,
    path = "/accounts/{domain}/timeline",
    params(("domain" = String, Path, description = "The account's domain or an alias"), TimelineQuery),
    responses(
        (status = 200, body = [TimelineEntry]),
        (status = 404, body = Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
pub async fn get_timeline(
    State(state): State<AppState>,
    caller: Caller,
    Path(domain): Path<String>,
    Query(query): Query<TimelineQuery>,
) -> Result<Json<Vec<TimelineEntry>>, Problem> {
    caller.require(&ALL_ROLES)?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(Problem::bad_request("limit", "1 to 500"));
    }
    let account = account_ref(&state, domain).await?;
    let entries = state
        .with_store(move |store| timeline(store, &account, limit))
        .await??;
    Ok(Json(entries))
}

/// One intent signal.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct IntentSignalRow {
    pub topic: String,
    /// YYYY-MM-DD
    pub date: String,
    /// 0 to 100
    pub score: i64,
    pub source: String,
}

/// The account's intent signals, newest first (at most 500).
#[utoipa::path(
    get,
    path = "/accounts/{domain}/intent",
    params(("domain" = String, Path, description = "The account's domain or an alias")),
    responses(
        (status = 200, body = [IntentSignalRow]),
        (status = 404, body = Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
pub async fn get_intent(
    State(state): State<AppState>,
    caller: Caller,
    Path(domain): Path<String>,
) -> Result<Json<Vec<IntentSignalRow>>, Problem> {
    caller.require(&ALL_ROLES)?;
    let account = account_ref(&state, domain).await?;
    let rows = state
        .with_store(move |store| team::recent_intent(store.sql(), account.id, 500))
        .await??;
    Ok(Json(
        rows.into_iter()
            .map(|row| IntentSignalRow {
                topic: row.topic,
                date: row.date,
                score: row.score,
                source: row.source,
            })
            .collect(),
    ))
}

/// The account's contacts with their persona, buying role and engagement (the buying group).
#[utoipa::path(
    get,
    path = "/accounts/{domain}/contacts",
    params(("domain" = String, Path, description = "The account's domain or an alias")),
    responses(
        (status = 200, body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
pub async fn get_contacts(
    State(state): State<AppState>,
    caller: Caller,
    Path(domain): Path<String>,
) -> Result<Json<serde_json::Value>, Problem> {
    caller.require(&ALL_ROLES)?;
    let view = crate::api::view_of(&state, domain).await?;
    let json = view.to_json();
    Ok(Json(serde_json::json!({
        "contacts": json.get("contacts").cloned().unwrap_or_default(),
        "buying_group": json.get("buying_group").cloned().unwrap_or_default(),
        "buying_group_coverage": json.get("buying_group_coverage").cloned().unwrap_or_default(),
    })))
}

#[derive(Debug, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrendQuery {
    /// Weeks back, 1 to 52 (default 12)
    pub weeks: Option<u32>,
}

/// One point of the trend.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TrendRow {
    /// RFC 3339
    pub at: String,
    pub fit: f64,
    pub intent: f64,
    pub engagement: f64,
    pub priority: f64,
}

/// The account's scores each week back and now, each from what was known then.
#[utoipa::path(
    get,
    path = "/accounts/{domain}/trend",
    params(("domain" = String, Path, description = "The account's domain or an alias"), TrendQuery),
    responses(
        (status = 200, body = [TrendRow]),
        (status = 404, body = Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
pub async fn get_trend(
    State(state): State<AppState>,
    caller: Caller,
    Path(domain): Path<String>,
    Query(query): Query<TrendQuery>,
) -> Result<Json<Vec<TrendRow>>, Problem> {
    caller.require(&ALL_ROLES)?;
    let weeks = query.weeks.unwrap_or(12);
    if !(1..=52).contains(&weeks) {
        return Err(Problem::bad_request("weeks", "1 to 52"));
    }
    let points = trend_points(&state, domain, weeks).await?;
    Ok(Json(
        points
            .into_iter()
            .map(|point| TrendRow {
                at: show_time(point.at),
                fit: round(point.fit),
                intent: round(point.intent),
                engagement: round(point.engagement),
                priority: round(point.priority),
            })
            .collect(),
    ))
}

fn round(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

pub(crate) async fn trend_points(
    state: &AppState,
    domain: String,
    weeks: u32,
) -> Result<Vec<abm_engine::scoring::TrendPoint>, Problem> {
    let account = account_ref(state, domain).await?;
    let scoring = state.settings().scoring.clone();
    let shared = state.clone();
    Ok(state
        .with_store(move |store| {
            abm_engine::scoring::trend(
                store,
                &scoring,
                abm_core::AccountId(account.id),
                jiff::Timestamp::now().as_microsecond(),
                weeks,
                Some(shared.profiles()),
            )
        })
        .await??)
}

/// An account plan: the TOML text `abm plan show` prints, and its version.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PlanOut {
    pub domain: String,
    /// 0 when no plan was saved yet
    pub version: i64,
    pub updated_by: Option<String>,
    pub updated_at: Option<String>,
    /// The plan as TOML, with the context as comments
    pub toml: String,
    /// The plan as JSON
    #[schema(value_type = Object)]
    pub plan: abm_core::plan::AccountPlan,
}

pub(crate) async fn plan_of(state: &AppState, account: AccountRef) -> Result<PlanOut, Problem> {
    state
        .with_store(move |store| -> Result<PlanOut, Problem> {
            let (plan, row) = abm_engine::team::plans::current(store.sql(), &account)?;
            let context = abm_engine::team::plans::context(
                store.sql(),
                &account,
                jiff::Timestamp::now().as_microsecond(),
            )?;
            Ok(PlanOut {
                domain: account.domain.clone(),
                version: row.as_ref().map_or(0, |row| row.version),
                updated_by: row.as_ref().map(|row| row.updated_by.clone()),
                updated_at: row.as_ref().map(|row| show_time(row.updated_at)),
                toml: abm_core::plan::render(&plan, &context),
                plan,
            })
        })
        .await?
}

/// The account plan.
#[utoipa::path(
    get,
    path = "/accounts/{domain}/plan",
    params(("domain" = String, Path, description = "The account's domain or an alias")),
    responses(
        (status = 200, body = PlanOut),
        (status = 404, body = Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
pub async fn get_plan(
    State(state): State<AppState>,
    caller: Caller,
    Path(domain): Path<String>,
) -> Result<Json<PlanOut>, Problem> {
    caller.require(&ALL_ROLES)?;
    let account = account_ref(&state, domain).await?;
    plan_of(&state, account).await.map(Json)
}

/// A new version of the plan.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanIn {
    /// The plan as TOML (the format GET returns; comments are ignored)
    pub toml: String,
    /// The version this edit started from: a plan saved since by someone else is a 409,
    /// not a silent overwrite
    pub base_version: i64,
}

/// What a save changed.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PlanSaved {
    pub version: i64,
    /// The changes against the version before, in words (empty: nothing changed)
    pub changes: Vec<String>,
}

/// Replaces the account plan (1:1 and 1:few TAL accounts). A plan that does not parse is a 400
/// naming the line and column; nothing is saved.
#[utoipa::path(
    put,
    path = "/accounts/{domain}/plan",
    params(("domain" = String, Path, description = "The account's domain or an alias")),
    request_body = PlanIn,
    responses(
        (status = 200, body = PlanSaved),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
pub async fn put_plan(
    State(state): State<AppState>,
    caller: Caller,
    Path(domain): Path<String>,
    body: Result<Json<PlanIn>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<PlanSaved>, Problem> {
    caller.require(&Caller::WRITERS)?;
    let Json(input) = body.map_err(|error| Problem::bad_request("body", error.body_text()))?;
    save_plan(&state, &caller, domain, &input.toml, input.base_version)
        .await
        .map(Json)
}

/// The shared path of the API and the plan form.
pub(crate) async fn save_plan(
    state: &AppState,
    caller: &Caller,
    domain: String,
    text: &str,
    base_version: i64,
) -> Result<PlanSaved, Problem> {
    if text.len() > 200_000 {
        return Err(Problem::bad_request("toml", "a plan is at most 200 KB"));
    }
    let plan = abm_core::plan::parse(text)
        .map_err(|error| Problem::bad_request("toml", error.to_string()))?;
    let account = account_ref(state, domain).await?;
    let actor = caller.actor();
    may_change(caller, state, &account).await?;
    state
        .with_store(move |store| -> Result<PlanSaved, Problem> {
            let current = team::plan(store.sql(), account.id)?.map_or(0, |row| row.version);
            if current != base_version {
                return Err(Problem::new(
                    StatusCode::CONFLICT,
                    format!(
                        "the plan of {} is at version {current} now, not {base_version}: someone saved it meanwhile; reload and edit again",
                        account.domain
                    ),
                ));
            }
            let changes = abm_engine::team::plans::save(
                store.sql(),
                &actor,
                &account,
                &plan,
                jiff::Timestamp::now().as_microsecond(),
            )?;
            let version = team::plan(store.sql(), account.id)?.map_or(0, |row| row.version);
            Ok(PlanSaved { version, changes })
        })
        .await?
}

/// Sales users change only their own accounts' plans (the CRM owner or the TAL's sales owner).
async fn may_change(
    caller: &Caller,
    state: &AppState,
    account: &AccountRef,
) -> Result<(), Problem> {
    if caller.role != UserRole::Sales {
        return Ok(());
    }
    let id = account.id;
    let entry = state
        .with_store(move |store| team::tal_entry(store.sql(), id))
        .await??;
    let actor = caller.actor();
    let owns = actor.owns(account.owner.as_deref())
        || actor.owns(
            entry
                .as_ref()
                .and_then(|entry| entry.sales_owner.as_deref()),
        );
    if owns {
        Ok(())
    } else {
        Err(Problem::forbidden(format!(
            "{} is not an owner of {}: sales users change their own accounts' plans",
            caller.user.email, account.domain
        )))
    }
}
