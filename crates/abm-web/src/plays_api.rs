//! Plays and tasks over the API: the configured plays with their enrolments, per-step
//! results and what the guard held; the dry run; the sales tasks plays queue, and what a rep
//! does with one. The HTML pages call the same functions.

use crate::AppState;
use crate::auth::Caller;
use crate::problem::Problem;
use abm_core::tal::UserRole;
use abm_engine::plays::tasks::{TaskAction, TaskError};
use abm_store::plays as stored;
use axum::Json;
use axum::extract::{Path, Query, State};

const ALL_ROLES: [UserRole; 4] = [
    UserRole::Admin,
    UserRole::Marketing,
    UserRole::Sales,
    UserRole::Viewer,
];

impl From<TaskError> for Problem {
    fn from(error: TaskError) -> Self {
        match error {
            TaskError::NotFound(_) => Problem::not_found(error.to_string()),
            TaskError::Forbidden(detail) => Problem::forbidden(detail),
            TaskError::Invalid(detail) => Problem::bad_request("action", detail),
            TaskError::Store(error) => error.into(),
        }
    }
}

/// A play and how it is doing.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PlaySummary {
    pub name: String,
    pub description: String,
    /// The trigger, in words.
    pub trigger: String,
    pub tiers: Vec<String>,
    pub paused: bool,
    /// Each step: channel (a task's kind after a colon) and the days after the previous one.
    pub steps: Vec<StepSummary>,
    /// Enrolments by status: active, completed, exited.
    pub enrolments: std::collections::BTreeMap<String, i64>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct StepSummary {
    pub step: u32,
    pub channel: String,
    pub wait_days: u32,
    /// Touches of this step by status: planned, held, sending, sent, suppressed, skipped, dead.
    pub touches: std::collections::BTreeMap<String, i64>,
}

/// One decision of the guard.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct GuardDecision {
    pub at: String,
    pub step: i64,
    pub channel: String,
    pub account: String,
    pub contact: Option<String>,
    /// send, hold or suppress.
    pub decision: String,
    pub rule: Option<String>,
    pub reason: Option<String>,
    /// For a hold: until when.
    pub until: Option<String>,
}

/// A play with its latest guard decisions.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PlayDetail {
    #[serde(flatten)]
    pub play: PlaySummary,
    /// The latest 200 decisions that held or suppressed a touch, newest first.
    pub held_or_suppressed: Vec<GuardDecision>,
}

fn setup(state: &AppState) -> Result<std::sync::Arc<abm_core::play::Setup>, Problem> {
    state
        .settings()
        .plays
        .clone()
        .ok_or_else(|| Problem::not_found("plays are not configured on this server"))
}

pub(crate) fn summarise(
    store: &mut dyn abm_store::Store,
    play: &abm_core::play::Play,
) -> Result<PlaySummary, Problem> {
    let counts = stored::touch_counts(store.sql(), &play.name)?;
    let mut enrolments = std::collections::BTreeMap::new();
    for row in stored::enrolments(store.sql(), Some(&play.name))? {
        *enrolments.entry(row.status).or_insert(0) += 1;
    }
    let steps = play
        .steps
        .iter()
        .enumerate()
        .map(|(index, step)| {
            let number = index as u32 + 1;
            StepSummary {
                step: number,
                channel: match step.task {
                    Some(task) => format!("task:{}", task.as_str()),
                    None => step.channel.as_str().to_owned(),
                },
                wait_days: step.wait_days,
                touches: counts
                    .iter()
                    .filter(|(step, _, _)| *step == i64::from(number))
                    .map(|(_, status, count)| (status.clone(), *count))
                    .collect(),
            }
        })
        .collect();
    Ok(PlaySummary {
        name: play.name.clone(),
        description: play.description.clone(),
        trigger: play.trigger.describe(),
        tiers: play
            .audience
            .tiers
            .iter()
            .map(|t| t.as_str().to_owned())
            .collect(),
        paused: play.paused,
        steps,
        enrolments,
    })
}

pub(crate) fn held_or_suppressed(
    store: &mut dyn abm_store::Store,
    play: &str,
) -> Result<Vec<GuardDecision>, Problem> {
    let show = abm_engine::team::view::show_time;
    Ok(stored::guard_log(store.sql(), Some(play), 1000)?
        .into_iter()
        .filter(|line| line.decision != "send")
        .take(200)
        .map(|line| GuardDecision {
            at: show(line.at),
            step: line.step,
            channel: line.channel,
            account: line.domain,
            contact: line.email,
            decision: line.decision,
            rule: line.rule,
            reason: line.reason,
            until: line.until.map(show),
        })
        .collect())
}

/// The configured plays.
#[utoipa::path(
    get,
    path = "/plays",
    responses((status = 200, body = [PlaySummary])),
    security(("bearer" = []))
)]
pub async fn list_plays(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<PlaySummary>>, Problem> {
    caller.require(&ALL_ROLES)?;
    let setup = setup(&state)?;
    let plays = state
        .with_store(move |store| -> Result<Vec<PlaySummary>, Problem> {
            setup
                .plays
                .iter()
                .map(|play| summarise(store, play))
                .collect()
        })
        .await??;
    Ok(Json(plays))
}

/// One play: steps with their results, enrolments, what the guard held or suppressed.
#[utoipa::path(
    get,
    path = "/plays/{name}",
    params(("name" = String, Path, description = "The play's name")),
    responses(
        (status = 200, body = PlayDetail),
        (status = 404, body = Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
pub async fn get_play(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<PlayDetail>, Problem> {
    caller.require(&ALL_ROLES)?;
    let setup = setup(&state)?;
    let detail = state
        .with_store(move |store| -> Result<PlayDetail, Problem> {
            let play = setup
                .play(&name)
                .ok_or_else(|| Problem::not_found(format!("no play named {name:?}")))?;
            Ok(PlayDetail {
                play: summarise(store, play)?,
                held_or_suppressed: held_or_suppressed(store, &play.name)?,
            })
        })
        .await??;
    Ok(Json(detail))
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
pub struct SimulateQuery {
    /// Days ahead, 1 to 365 (default 30).
    pub days: Option<u32>,
}

/// The dry run of a play from now: each touch with the guard's decision. Sends nothing.
#[utoipa::path(
    get,
    path = "/plays/{name}/simulate",
    params(("name" = String, Path, description = "The play's name"), SimulateQuery),
    responses(
        (status = 200, body = Object, description = "One object per touch: play, step, channel, account, contact, decision, rule, at"),
        (status = 404, body = Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
pub async fn simulate_play(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Query(query): Query<SimulateQuery>,
) -> Result<Json<Vec<abm_engine::plays::SimulatedTouch>>, Problem> {
    caller.require(&ALL_ROLES)?;
    let days = query.days.unwrap_or(30);
    if !(1..=365).contains(&days) {
        return Err(Problem::bad_request("days", "1 to 365"));
    }
    simulate(&state, name, days).await.map(Json)
}

pub(crate) async fn simulate(
    state: &AppState,
    name: String,
    days: u32,
) -> Result<Vec<abm_engine::plays::SimulatedTouch>, Problem> {
    let setup = setup(state)?;
    let personas = state.settings().scoring.personas.clone();
    let now = jiff::Timestamp::now().as_microsecond();
    state
        .with_store(move |store| {
            let play = setup
                .play(&name)
                .ok_or_else(|| Problem::not_found(format!("no play named {name:?}")))?;
            abm_engine::plays::simulate(store, &setup, &personas, play, now, days)
                .map_err(Problem::from)
        })
        .await?
}

/// An open sales task.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TaskOut {
    pub id: i64,
    pub play: String,
    pub account: String,
    pub contact: Option<String>,
    pub owner: Option<String>,
    /// call, linkedin_connect, linkedin_message, personal_email, meeting_ask.
    pub kind: String,
    pub title: String,
    /// Why now, who, talking points, and a draft for a personal email.
    pub context: String,
    pub due: String,
    /// open, done, skipped.
    pub status: String,
    pub outcome: Option<String>,
}

impl From<stored::TaskRow> for TaskOut {
    fn from(task: stored::TaskRow) -> Self {
        TaskOut {
            id: task.id,
            play: task.play,
            account: task.domain,
            contact: task.email,
            owner: task.owner,
            kind: task.kind,
            title: task.title,
            context: task.context,
            due: abm_engine::team::view::show_time(task.due_at),
            status: task.status,
            outcome: task.outcome,
        }
    }
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
pub struct TasksQuery {
    /// Only the caller's own tasks.
    pub mine: Option<bool>,
}

/// Open tasks, due first (all, or the caller's).
#[utoipa::path(
    get,
    path = "/tasks",
    params(TasksQuery),
    responses((status = 200, body = [TaskOut])),
    security(("bearer" = []))
)]
pub async fn list_tasks(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<TasksQuery>,
) -> Result<Json<Vec<TaskOut>>, Problem> {
    caller.require(&ALL_ROLES)?;
    let tasks = my_tasks(&state, &caller, query.mine.unwrap_or(false)).await?;
    Ok(Json(tasks.into_iter().map(TaskOut::from).collect()))
}

/// The caller's open tasks (as owner by email or by name), or everyone's.
pub(crate) async fn my_tasks(
    state: &AppState,
    caller: &Caller,
    mine: bool,
) -> Result<Vec<stored::TaskRow>, Problem> {
    let actor = caller.actor();
    state
        .with_store(move |store| -> Result<Vec<stored::TaskRow>, Problem> {
            let all = stored::open_tasks(store.sql(), None)?;
            Ok(all
                .into_iter()
                .filter(|task| !mine || actor.owns(task.owner.as_deref()))
                .collect())
        })
        .await?
}

/// What to do with a task.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct TaskRequest {
    /// complete, skip or snooze.
    pub action: String,
    /// complete: the outcome; skip: the reason.
    pub text: Option<String>,
    /// snooze: until when (YYYY-MM-DD or RFC 3339).
    pub until: Option<String>,
}

/// Complete, skip or snooze a task: a rep their own, marketing and administrators any.
#[utoipa::path(
    post,
    path = "/tasks/{id}",
    params(("id" = i64, Path, description = "The task's id")),
    request_body = TaskRequest,
    responses(
        (status = 200, body = TaskOut),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
pub async fn act_on_task(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: Result<Json<TaskRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<TaskOut>, Problem> {
    caller.require(&Caller::WRITERS)?;
    let Json(request) = body.map_err(|error| Problem::bad_request("body", error.body_text()))?;
    act(&state, &caller, id, &request).await.map(Json)
}

pub(crate) async fn act(
    state: &AppState,
    caller: &Caller,
    id: i64,
    request: &TaskRequest,
) -> Result<TaskOut, Problem> {
    let now = jiff::Timestamp::now();
    let text = request.text.clone().unwrap_or_default();
    if text.len() > 4000 {
        return Err(Problem::bad_request("text", "at most 2,000 characters"));
    }
    let action = match request.action.as_str() {
        "complete" => TaskAction::Done(text),
        "skip" => TaskAction::Skip(text),
        "snooze" => {
            let until = request.until.as_deref().unwrap_or_default().trim();
            let at = until
                .parse::<jiff::Timestamp>()
                .map(|t| t.as_microsecond())
                .or_else(|_| {
                    until
                        .parse::<jiff::civil::Date>()
                        .map_err(|_| ())
                        .and_then(|date| {
                            date.to_zoned(jiff::tz::TimeZone::UTC)
                                .map(|z| z.timestamp().as_microsecond())
                                .map_err(|_| ())
                        })
                })
                .map_err(|()| {
                    Problem::bad_request("until", "a date (YYYY-MM-DD) or an RFC 3339 time")
                })?;
            TaskAction::Snooze(at)
        }
        _ => return Err(Problem::bad_request("action", "complete, skip or snooze")),
    };
    let actor = caller.actor();
    let task = state
        .with_store(move |store| {
            abm_engine::plays::tasks::act(store, &actor, id, &action, now.as_microsecond())
        })
        .await??;
    Ok(task.into())
}
