//! `POST /api/v1/activities`: activities from scripts and marketing tools, through the same
//! validated, idempotent, all-or-nothing import path as `abm import activities` (the batch is
//! written as a generic activities CSV text, in memory, and imported), then the touched accounts rescored so
//! their scores are current when the call returns. With `abm serve --stream` the checked batch
//! is published to the stream instead, as `abm import activities --stream` does, and the
//! workers store and score it.

use crate::AppState;
use crate::auth::Caller;
use crate::problem::Problem;
use abm_ingest::{Format, ImportKind, ImportOptions, NoProgress, Source};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

/// The most activities one call may carry.
pub const MAX_BATCH: usize = 10_000;

/// One activity, in the generic format's fields.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityIn {
    /// Unique per activity: sending it again changes nothing
    pub id: String,
    /// RFC 3339
    pub occurred_at: String,
    /// page_view, form_fill, email_open, meeting_held, … (the closed set of kinds)
    #[serde(rename = "type")]
    pub kind: String,
    pub email: Option<String>,
    pub domain: Option<String>,
    pub url: Option<String>,
    pub topic: Option<String>,
    pub campaign: Option<String>,
    pub channel: Option<String>,
}

#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityBatch {
    /// 1 to 10,000 activities
    pub activities: Vec<ActivityIn>,
}

/// What the call stored.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct IngestResult {
    pub received: u64,
    pub inserted: u64,
    /// Already stored (the same id sent before)
    pub unchanged: u64,
    /// Stored, not (yet) tied to an account
    pub unmatched: u64,
    /// Accounts rescored
    pub rescored: u64,
    /// Handed to the stream (`abm serve --stream`): new to it; a worker stores and scores them.
    /// With a stream, nothing is stored by the call: `inserted` and `rescored` are 0, and
    /// `unchanged` counts the ids the stream already held.
    pub published: u64,
}

/// Ingests activities, all or nothing, idempotent by id; a bad activity is a 400 naming its
/// position and field (`activities[3].occurred_at`).
#[utoipa::path(
    post,
    path = "/activities",
    request_body = ActivityBatch,
    responses(
        (status = 200, body = IngestResult),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
pub async fn ingest_activities(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<ActivityBatch>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<IngestResult>, Problem> {
    caller.require(&Caller::WRITERS)?;
    let Json(batch) = body.map_err(|error| Problem::bad_request("body", error.body_text()))?;
    ingest_batch(&state, batch, "POST /api/v1/activities")
        .await
        .map(Json)
}

/// The shared path of the API call and of signed webhooks: validated, idempotent by id, all
/// or nothing, then the touched accounts rescored. `origin` names the batch in the record
/// of imports.
pub async fn ingest_batch(
    state: &AppState,
    batch: ActivityBatch,
    origin: &str,
) -> Result<IngestResult, Problem> {
    if batch.activities.is_empty() || batch.activities.len() > MAX_BATCH {
        return Err(Problem::bad_request(
            "activities",
            format!("send 1 to {MAX_BATCH} activities"),
        ));
    }
    let source = batch_text(origin, &batch.activities)?;
    if let Some(target) = state.settings().stream.clone() {
        return publish_batch(&target, &source).await;
    }
    let settings = state.settings().clone();
    state
        .with_store(move |store| -> Result<IngestResult, Problem> {
            let options = ImportOptions {
                kind: ImportKind::Activities,
                files: vec![source],
                format: Some(Format::Generic),
                overrides: Vec::new(),
                dry_run: false,
                free_mail: settings.free_mail.clone(),
                started_at: jiff::Timestamp::now(),
                watch: None,
            };
            let report = match abm_ingest::import(store, &options, &NoProgress) {
                Ok(report) => report,
                Err(abm_ingest::ImportError::Problems(problems)) => {
                    return Err(problem_of(&problems));
                }
                Err(error) => return Err(Problem::internal(error)),
            };
            let touched = report.touched_accounts.clone().unwrap_or_default();
            let rescored = if touched.is_empty() {
                0
            } else {
                let now = jiff::Timestamp::now().as_microsecond();
                abm_engine::scoring::rescore(
                    store,
                    &settings.scoring,
                    &settings.triggers,
                    now,
                    Some(&touched),
                )?
                .0
                .accounts
                .len() as u64
            };
            Ok(IngestResult {
                received: report.rows_read,
                inserted: report.inserted,
                unchanged: report.unchanged,
                unmatched: report.unmatched,
                rescored,
                published: 0,
            })
        })
        .await?
}

/// With a stream: the batch checked as an import checks it (one bad activity publishes
/// nothing), then published, each publish acknowledged by the stream.
async fn publish_batch(
    target: &crate::collect::StreamTarget,
    source: &Source,
) -> Result<IngestResult, Problem> {
    let mut activities = Vec::new();
    let read = abm_ingest::read_activities(std::slice::from_ref(source), &[], |activity| {
        activities.push(activity);
        Ok::<(), std::convert::Infallible>(())
    });
    match read {
        Ok(_) => {}
        Err(abm_ingest::ReadError::Problems(problems)) => return Err(problem_of(&problems)),
        Err(abm_ingest::ReadError::Each(never)) => match never {},
    }
    let fresh = abm_engine::stream::publish(&target.context, &target.settings, &activities)
        .await
        .map_err(|error| {
            tracing::error!(%error, activities = activities.len(), "activities not published");
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the activities could not all be published to the stream; send them again (an id already on it is not stored twice)",
            )
        })?;
    let received = activities.len() as u64;
    Ok(IngestResult {
        received,
        inserted: 0,
        unchanged: received - fresh,
        unmatched: 0,
        rescored: 0,
        published: fresh,
    })
}

/// The batch as a generic activities CSV text, so it meets exactly an import's checks;
/// written in memory (a request's 10,000 activities at most), never to a temporary file.
fn batch_text(origin: &str, activities: &[ActivityIn]) -> Result<Source, Problem> {
    let text = write_csv(activities).map_err(Problem::internal)?;
    Ok(Source::text(origin, text))
}

fn write_csv(activities: &[ActivityIn]) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "id",
        "occurred_at",
        "type",
        "email",
        "domain",
        "url",
        "topic",
        "campaign",
        "channel",
    ])?;
    for activity in activities {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        writer.write_record([
            activity.id.clone(),
            activity.occurred_at.clone(),
            activity.kind.clone(),
            text(&activity.email),
            text(&activity.domain),
            text(&activity.url),
            text(&activity.topic),
            text(&activity.campaign),
            text(&activity.channel),
        ])?;
    }
    writer
        .into_inner()
        .map_err(|error| csv::Error::from(error.into_error()))
}

/// The import's first problem, named as a request field: line 2 of the file is item 0.
fn problem_of(problems: &abm_ingest::Problems) -> Problem {
    let Some(first) = problems.listed.first() else {
        return Problem::new(StatusCode::BAD_REQUEST, "the activities were refused");
    };
    let field = match (first.line, &first.column) {
        (Some(line), Some(column)) => {
            let key = if column == "type" {
                "type"
            } else {
                column.as_str()
            };
            format!("activities[{}].{key}", line.saturating_sub(2))
        }
        (Some(line), None) => format!("activities[{}]", line.saturating_sub(2)),
        _ => "activities".to_owned(),
    };
    let value = first
        .value
        .as_deref()
        .map(|v| format!(" ({v:?})"))
        .unwrap_or_default();
    let more = if problems.total > 1 {
        format!("; {} problems in all, nothing was stored", problems.total)
    } else {
        "; nothing was stored".to_owned()
    };
    Problem::bad_request(&field, format!("{}{value}{more}", first.message))
}
