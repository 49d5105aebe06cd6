//! `POST /api/v1/activities`: activities from scripts and marketing tools, through the same
//! validated, idempotent, all-or-nothing import path as `abm import activities` (the batch is
//! written as a generic activities CSV text, in memory, and imported), then the touched
//! accounts rescored so their scores are current when the call returns. With `abm serve
//! --stream` the checked batch is published to the stream instead, as `abm import activities
//! --stream` does, and the workers store and score it.

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
    let text = BatchText::new(origin, &batch.activities)?;
    if let Some(target) = state.settings().stream.clone() {
        return publish_batch(&target, &text).await;
    }
    let settings = state.settings().clone();
    state
        .with_store(move |store| -> Result<IngestResult, Problem> {
            let options = ImportOptions {
                kind: ImportKind::Activities,
                files: vec![text.source.clone()],
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
                    return Err(problem_of(&problems, &text));
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
    text: &BatchText,
) -> Result<IngestResult, Problem> {
    let mut activities = Vec::with_capacity(text.starts.len());
    let read = abm_ingest::read_activities(std::slice::from_ref(&text.source), &[], |activity| {
        activities.push(activity);
        Ok::<(), std::convert::Infallible>(())
    });
    match read {
        Ok(_) => {}
        Err(abm_ingest::ReadError::Problems(problems)) => return Err(problem_of(&problems, text)),
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
struct BatchText {
    source: Source,
    /// The line each activity starts on: 2 for the first, more than one line apart where a
    /// value holds a line break.
    starts: Vec<u64>,
}

impl BatchText {
    fn new(origin: &str, activities: &[ActivityIn]) -> Result<Self, Problem> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let mut starts = Vec::with_capacity(activities.len());
        let mut line = 2;
        writer.write_record(FIELDS).map_err(Problem::internal)?;
        for (index, activity) in activities.iter().enumerate() {
            let values = activity.values();
            // A row of blanks is skipped by the reader as a blank line; here it is an item
            // the caller sent, so it is refused.
            if values.iter().all(|value| value.trim().is_empty()) {
                return Err(Problem::bad_request(
                    &format!("activities[{index}]"),
                    "an activity with no values; nothing was stored",
                ));
            }
            starts.push(line);
            line += 1 + values
                .iter()
                .map(|value| value.bytes().filter(|byte| *byte == b'\n').count() as u64)
                .sum::<u64>();
            writer.write_record(values).map_err(Problem::internal)?;
        }
        let text = writer
            .into_inner()
            .map_err(|error| Problem::internal(error.into_error()))?;
        Ok(Self {
            source: Source::text(origin, text),
            starts,
        })
    }

    /// The index of the activity on `line`.
    fn item(&self, line: u64) -> usize {
        self.starts
            .partition_point(|start| *start <= line)
            .saturating_sub(1)
    }
}

/// The generic format's columns, in the order `ActivityIn::values` gives them.
const FIELDS: [&str; 9] = [
    "id",
    "occurred_at",
    "type",
    "email",
    "domain",
    "url",
    "topic",
    "campaign",
    "channel",
];

impl ActivityIn {
    fn values(&self) -> [&str; 9] {
        fn text(value: &Option<String>) -> &str {
            value.as_deref().unwrap_or_default()
        }
        [
            &self.id,
            &self.occurred_at,
            &self.kind,
            text(&self.email),
            text(&self.domain),
            text(&self.url),
            text(&self.topic),
            text(&self.campaign),
            text(&self.channel),
        ]
    }
}

/// The import's first problem, named as a request field (`activities[3].occurred_at`).
fn problem_of(problems: &abm_ingest::Problems, text: &BatchText) -> Problem {
    let Some(first) = problems.listed.first() else {
        return Problem::new(StatusCode::BAD_REQUEST, "the activities were refused");
    };
    let field = match (first.line, &first.column) {
        (Some(line), Some(column)) => format!("activities[{}].{column}", text.item(line)),
        (Some(line), None) => format!("activities[{}]", text.item(line)),
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn activity(id: &str, occurred_at: &str, campaign: Option<&str>) -> ActivityIn {
        ActivityIn {
            id: id.to_owned(),
            occurred_at: occurred_at.to_owned(),
            kind: "page_view".to_owned(),
            email: None,
            domain: Some("acme.com".to_owned()),
            url: None,
            topic: None,
            campaign: campaign.map(str::to_owned),
            channel: None,
        }
    }

    fn refused(activities: &[ActivityIn]) -> String {
        let text = BatchText::new("test", activities).unwrap();
        let mut read = Vec::new();
        let problems =
            match abm_ingest::read_activities(std::slice::from_ref(&text.source), &[], |activity| {
                read.push(activity);
                Ok::<(), ()>(())
            }) {
                Err(abm_ingest::ReadError::Problems(problems)) => problems,
                other => panic!("expected problems, got {other:?}"),
            };
        problem_of(&problems, &text).field.unwrap()
    }

    #[test]
    fn a_problem_names_its_item_past_line_breaks_in_earlier_values() {
        let activities = [
            activity("a-1", "2026-03-01T10:00:00Z", Some("Q4\nlaunch\r\nwave 2")),
            activity("a-2", "2026-03-01T10:00:00Z", None),
            activity("a-3", "yesterday", Some("one\ntwo")),
        ];
        assert_eq!(refused(&activities), "activities[2].occurred_at");
        let text = BatchText::new("test", &activities).unwrap();
        assert_eq!(text.starts, [2, 5, 6]);
        assert_eq!(
            (text.item(2), text.item(4), text.item(5), text.item(7)),
            (0, 0, 1, 2)
        );
    }

    #[test]
    fn an_activity_with_no_values_is_refused_not_skipped() {
        let blank = activity(" ", "", None);
        let blank = ActivityIn {
            kind: String::new(),
            domain: None,
            ..blank
        };
        let activities = [activity("a-1", "2026-03-01T10:00:00Z", None), blank];
        let Err(problem) = BatchText::new("test", &activities) else {
            panic!("a blank activity was taken");
        };
        assert_eq!(
            problem.field.as_deref(),
            Some("activities[1]"),
            "{problem:?}"
        );
    }
}
