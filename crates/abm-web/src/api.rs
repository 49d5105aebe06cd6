//! The REST API under `/api/v1`. Each handler names its roles, turns its request into domain
//! values at the edge (a bad field is a 400 naming it), and calls the same engine action as
//! the CLI. Adding a route: write the handler with `#[utoipa::path]` and add it to `routes`.

use crate::AppState;
use crate::auth::Caller;
use crate::problem::Problem;
use abm_core::Domain;
use abm_core::persona::TitleDictionary;
use abm_core::tal::{TalAction, Tier, UserRole};
use abm_engine::team::tal::{self as tal_actions, Decision, Proposal};
use abm_store::listing::{ListCursor, ListFilter, ListSort, TierFilter};
use axum::Json;
use axum::extract::{Path, Query, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const ALL_ROLES: [UserRole; 4] = [
    UserRole::Admin,
    UserRole::Marketing,
    UserRole::Sales,
    UserRole::Viewer,
];

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_accounts))
        .routes(routes!(get_account))
        .routes(routes!(tal_action))
        .routes(routes!(personas))
        .routes(routes!(crate::ingest::ingest_activities))
        .routes(routes!(crate::account_api::get_timeline))
        .routes(routes!(crate::account_api::get_intent))
        .routes(routes!(crate::account_api::get_contacts))
        .routes(routes!(crate::account_api::get_trend))
        .routes(routes!(
            crate::account_api::get_plan,
            crate::account_api::put_plan
        ))
        .routes(routes!(crate::webhook::webhook))
        .routes(routes!(crate::track::tracking_stats))
        .routes(routes!(crate::plays_api::list_plays))
        .routes(routes!(crate::plays_api::get_play))
        .routes(routes!(crate::plays_api::simulate_play))
        .routes(routes!(crate::plays_api::list_tasks))
        .routes(routes!(crate::plays_api::act_on_task))
        .routes(routes!(crate::reports_api::list_reports))
        .routes(routes!(crate::reports_api::get_report))
}

/// One row of the ranked list.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AccountRow {
    pub domain: String,
    pub name: Option<String>,
    /// The account's owner in the CRM.
    pub owner: Option<String>,
    pub priority: f64,
    pub fit: f64,
    pub intent: f64,
    pub engagement: f64,
    pub stage: String,
    /// The approved TAL tier.
    pub tier: Option<String>,
    pub cluster: Option<String>,
}

impl From<abm_store::listing::ListedAccount> for AccountRow {
    fn from(row: abm_store::listing::ListedAccount) -> Self {
        Self {
            domain: row.domain,
            name: row.name,
            owner: row.owner,
            priority: round(row.priority),
            fit: round(row.fit),
            intent: round(row.intent),
            engagement: round(row.engagement),
            stage: row.stage,
            tier: row.tier,
            cluster: row.cluster,
        }
    }
}

/// A page of the ranked list.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AccountPage {
    pub accounts: Vec<AccountRow>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Filters, sort and pagination of the ranked list.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountQuery {
    /// 1:1, 1:few, 1:many, or `none` (not on the TAL)
    pub tier: Option<String>,
    /// A journey stage: target, aware, engaged, qualified, opportunity, customer, lost, re_engaged
    pub stage: Option<String>,
    /// An owner's email or name (the CRM owner or the TAL's sales or marketing owner), or `me`
    pub owner: Option<String>,
    /// A cluster's name
    pub cluster: Option<String>,
    /// `true`: qualified accounts (at the qualified stage or in an open opportunity); `false`: the others
    pub qualified: Option<String>,
    /// Part of the domain or the name
    pub q: Option<String>,
    /// priority (default), fit, intent, engagement or domain
    pub sort: Option<String>,
    /// 1 to 500 (default 50)
    pub limit: Option<usize>,
    /// From the previous page's `next_cursor`
    pub cursor: Option<String>,
}

/// A request's filters, checked: a bad field is a 400 naming it. An empty field (as an
/// HTML form sends it) is no filter.
pub(crate) fn list_filter(
    query: &AccountQuery,
    caller: &Caller,
) -> Result<(ListFilter, ListSort), Problem> {
    let given = |value: &Option<String>| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    };
    let too_long = |field: &str, value: &Option<String>| -> Result<(), Problem> {
        match value {
            Some(value) if value.chars().count() > 200 => {
                Err(Problem::bad_request(field, "at most 200 characters"))
            }
            _ => Ok(()),
        }
    };
    let tier = match given(&query.tier).as_deref() {
        None => None,
        Some("none") => Some(TierFilter::None),
        Some(text) => Some(TierFilter::In(
            Tier::parse(text)
                .map_err(|e| Problem::bad_request("tier", e.to_string()))?
                .as_str()
                .to_owned(),
        )),
    };
    let stage = match given(&query.stage) {
        None => None,
        Some(text) => Some(
            abm_core::score::Stage::parse(&text)
                .ok_or_else(|| {
                    Problem::bad_request("stage", format!("{text:?} is not a journey stage"))
                })?
                .as_str()
                .to_owned(),
        ),
    };
    let qualified = match given(&query.qualified).as_deref() {
        None => None,
        Some("true" | "yes" | "1") => Some(true),
        Some("false" | "no" | "0") => Some(false),
        Some(text) => {
            return Err(Problem::bad_request(
                "qualified",
                format!("{text:?}: use true or false"),
            ));
        }
    };
    let owner = given(&query.owner);
    let cluster = given(&query.cluster);
    let search = given(&query.q).map(|q| q.to_lowercase());
    too_long("owner", &owner)?;
    too_long("cluster", &cluster)?;
    too_long("q", &search)?;
    let owner = match owner.as_deref() {
        None => Vec::new(),
        Some("me") => std::iter::once(caller.user.email.clone())
            .chain(caller.user.name.clone())
            .collect(),
        Some(owner) => vec![owner.to_owned()],
    };
    let sort_text = given(&query.sort).unwrap_or_else(|| "priority".to_owned());
    let sort = ListSort::parse(&sort_text).ok_or_else(|| {
        Problem::bad_request(
            "sort",
            format!("{sort_text:?}: use priority, fit, intent, engagement or domain"),
        )
    })?;
    Ok((
        ListFilter {
            tier,
            stage,
            qualified,
            owner,
            cluster,
            search,
        },
        sort,
    ))
}

fn round(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// The ranked list of accounts, filtered, sorted and paginated by cursor.
#[utoipa::path(
    get,
    path = "/accounts",
    params(AccountQuery),
    responses(
        (status = 200, body = AccountPage),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
pub async fn list_accounts(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<AccountQuery>,
) -> Result<Json<AccountPage>, Problem> {
    caller.require(&ALL_ROLES)?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(Problem::bad_request(
            "limit",
            format!("{limit} is not between 1 and 500"),
        ));
    }
    let (filter, sort) = list_filter(&query, &caller)?;
    let cursor = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(cursor) => Some(
            cursor
                .split_once('~')
                .and_then(|(value, domain)| {
                    Some(ListCursor {
                        value: value.parse::<f64>().ok().filter(|v| v.is_finite())?,
                        domain: domain.to_owned(),
                    })
                })
                .ok_or_else(|| Problem::bad_request("cursor", "not a cursor this API gave"))?,
        ),
    };
    // One row more than the page tells whether another page follows.
    let mut rows = state
        .with_store(move |store| {
            abm_store::listing::list_accounts(
                store.sql(),
                &filter,
                sort,
                cursor.as_ref(),
                Some(limit as u64 + 1),
            )
        })
        .await??;
    let next_cursor = (rows.len() > limit).then(|| {
        let last = &rows[limit - 1];
        format!("{}~{}", last.sort_value(sort), last.domain)
    });
    rows.truncate(limit);
    Ok(Json(AccountPage {
        accounts: rows.into_iter().map(AccountRow::from).collect(),
        next_cursor,
    }))
}

/// One account: scores with their contributions, stage and history, TAL, buying group,
/// triggers, flags, plan version and the why-summary (the same JSON as `abm account --format json`).
#[utoipa::path(
    get,
    path = "/accounts/{domain}",
    params(("domain" = String, Path, description = "The account's domain or an alias")),
    responses(
        (status = 200, body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
pub async fn get_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(domain): Path<String>,
) -> Result<Json<serde_json::Value>, Problem> {
    caller.require(&ALL_ROLES)?;
    let view = view_of(&state, domain.clone()).await?;
    let mut json = view.to_json();
    let account = crate::account_api::account_ref(&state, domain).await?;
    let plan = crate::account_api::plan_of(&state, account.clone()).await?;
    let timeline = state
        .with_store(move |store| crate::account_api::timeline(store, &account, 50))
        .await??;
    if let Some(object) = json.as_object_mut() {
        object.insert(
            "timeline".into(),
            serde_json::to_value(&timeline).map_err(Problem::internal)?,
        );
        object.insert(
            "plan".into(),
            serde_json::json!({"version": plan.version, "updated_by": plan.updated_by, "plan": plan.plan}),
        );
    }
    Ok(Json(json))
}

/// The account view of a domain, or 404.
pub(crate) async fn view_of(
    state: &AppState,
    domain: String,
) -> Result<abm_engine::team::view::AccountView, Problem> {
    let domain = Domain::parse(&domain).map_err(|error| {
        Problem::bad_request("domain", format!("{domain:?} is not a domain: {error}"))
    })?;
    let settings = state.settings().clone();
    let shown = domain.to_string();
    let shared = state.clone();
    let view = state
        .with_store(move |store| {
            abm_engine::team::view::account_view(
                store,
                abm_engine::team::view::ViewSettings {
                    scoring: &settings.scoring,
                    triggers: &settings.triggers,
                    why_us: &settings.why_us,
                    profiles: Some(shared.profiles()),
                },
                &domain,
                None,
                jiff::Timestamp::now().as_microsecond(),
            )
        })
        .await??;
    view.ok_or_else(|| Problem::not_found(format!("no account owns the domain {shown}")))
}

/// A TAL action on one or more accounts, all or nothing.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TalRequest {
    /// Domains of the accounts (1 to 1,000)
    pub domains: Vec<String>,
    /// Why (required to propose, reject or remove)
    #[serde(default)]
    pub reason: String,
    /// 1:1, 1:few or 1:many (propose, approve)
    pub tier: Option<String>,
    pub sales_owner: Option<String>,
    pub marketing_owner: Option<String>,
}

/// What a TAL action did.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TalResult {
    pub domain: String,
    pub status: String,
    pub tier: Option<String>,
}

/// Propose, approve, reject or remove accounts (`action`), with the same governance as
/// `abm tal`: a refusal (not the owner, a cap, an unknown domain) refuses the whole request.
#[utoipa::path(
    post,
    path = "/tal/{action}",
    params(("action" = String, Path, description = "propose, approve, reject or remove")),
    request_body = TalRequest,
    responses(
        (status = 200, body = [TalResult]),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
pub async fn tal_action(
    State(state): State<AppState>,
    caller: Caller,
    Path(action): Path<String>,
    body: Result<Json<TalRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Vec<TalResult>>, Problem> {
    caller.require(&Caller::WRITERS)?;
    let Json(request) = body.map_err(|error| Problem::bad_request("body", error.body_text()))?;
    if request.domains.is_empty() || request.domains.len() > 1000 {
        return Err(Problem::bad_request("domains", "name 1 to 1,000 accounts"));
    }
    let tier = request
        .tier
        .as_deref()
        .map(Tier::parse)
        .transpose()
        .map_err(|error| Problem::bad_request("tier", error.to_string()))?;
    let action = match action.as_str() {
        "propose" => TalAction::Propose,
        "approve" => TalAction::Approve,
        "reject" => TalAction::Reject,
        "remove" => TalAction::Remove,
        other => {
            return Err(Problem::not_found(format!(
                "no TAL action {other:?}: use propose, approve, reject or remove"
            )));
        }
    };
    let actor = caller.actor();
    let config = state.settings().tal.clone();
    let at = jiff::Timestamp::now().as_microsecond();
    let rows = state
        .with_store(move |store| {
            let sql = store.sql();
            match action {
                TalAction::Propose => {
                    let proposals: Vec<Proposal> = request
                        .domains
                        .iter()
                        .map(|domain| Proposal {
                            domain: domain.clone(),
                            reason: request.reason.clone(),
                            tier,
                            strategic: false,
                            sales_owner: request.sales_owner.clone(),
                            marketing_owner: request.marketing_owner.clone(),
                            source: "api".to_owned(),
                            origin: None,
                        })
                        .collect();
                    tal_actions::propose(sql, &actor, &proposals, at)
                }
                TalAction::Approve => {
                    let decision = Decision {
                        reason: request.reason.clone(),
                        tier,
                        sales_owner: request.sales_owner.clone(),
                        marketing_owner: request.marketing_owner.clone(),
                    };
                    tal_actions::approve(sql, &actor, &request.domains, &decision, &config, at)
                }
                other => tal_actions::reject_or_remove(
                    sql,
                    &actor,
                    other,
                    &request.domains,
                    &request.reason,
                    at,
                ),
            }
        })
        .await??;
    Ok(Json(
        rows.into_iter()
            .map(|row| TalResult {
                domain: row.domain,
                status: row.status,
                tier: row.tier,
            })
            .collect(),
    ))
}

/// Titles to look up.
#[derive(Debug, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PersonaQuery {
    /// A job title
    pub title: String,
}

/// How a title maps to function, seniority and buying role.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PersonaRow {
    pub title: String,
    pub function: Option<String>,
    pub seniority: String,
    pub role: Option<String>,
    pub relevant: bool,
}

/// The persona of a job title (the same dictionary as `abm persona`).
#[utoipa::path(
    get,
    path = "/personas",
    params(PersonaQuery),
    responses((status = 200, body = PersonaRow)),
    security(("bearer" = []))
)]
pub async fn personas(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<PersonaQuery>,
) -> Result<Json<PersonaRow>, Problem> {
    caller.require(&ALL_ROLES)?;
    if query.title.chars().count() > 300 {
        return Err(Problem::bad_request("title", "at most 300 characters"));
    }
    let persona = TitleDictionary::new(&state.settings().scoring.personas).classify(&query.title);
    Ok(Json(PersonaRow {
        title: query.title,
        function: persona.function.map(|f| f.as_str().to_owned()),
        seniority: persona.seniority.as_str().to_owned(),
        role: persona.role.map(|r| r.as_str().to_owned()),
        relevant: persona.relevant,
    }))
}
