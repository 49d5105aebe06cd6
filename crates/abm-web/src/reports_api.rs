//! Reports over the API: the list of reports, and one report over a period as JSON (the
//! same document `abm report NAME --format json` prints). The pages call [`load`] too.

use crate::AppState;
use crate::auth::Caller;
use crate::problem::Problem;
use abm_core::report::{NAMES, Period};
use abm_core::tal::UserRole;
use abm_engine::reports::{self, Report, ReportError, ReportSettings};
use axum::Json;
use axum::extract::{Path, Query, State};

const ALL_ROLES: [UserRole; 4] = [
    UserRole::Admin,
    UserRole::Marketing,
    UserRole::Sales,
    UserRole::Viewer,
];

/// A report abm knows.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ReportInfo {
    pub name: String,
    pub description: String,
}

/// The period of a report: both days included; `to` defaults to today, `from` to 90 days
/// ending with `to`.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
pub struct PeriodQuery {
    /// First day, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD`.
    pub to: Option<String>,
}

impl PeriodQuery {
    pub fn period(&self) -> Result<Period, Problem> {
        reports::period(self.from.as_deref(), self.to.as_deref(), reports::today())
            .map_err(|(field, detail)| Problem::bad_request(field, detail))
    }
}

impl From<ReportError> for Problem {
    fn from(error: ReportError) -> Self {
        match error {
            ReportError::Unknown(_) => Problem::not_found(error.to_string()),
            ReportError::Store(error) => error.into(),
        }
    }
}

/// Builds a report on the store's thread.
pub(crate) async fn load(
    state: &AppState,
    name: String,
    period: Period,
) -> Result<Report, Problem> {
    if abm_core::report::canonical(&name).is_none() {
        return Err(ReportError::Unknown(name).into());
    }
    let scoring = state.settings().scoring.clone();
    let config = state.settings().reports.clone();
    state
        .with_store(move |store| -> Result<Report, Problem> {
            let settings = ReportSettings {
                scoring: &scoring,
                reports: &config,
            };
            let now = jiff::Timestamp::now().as_microsecond();
            Ok(reports::build(store, settings, &name, period, now)?)
        })
        .await?
}

/// The reports abm knows.
#[utoipa::path(
    get,
    path = "/reports",
    responses((status = 200, body = [ReportInfo])),
    security(("bearer" = []))
)]
pub async fn list_reports(caller: Caller) -> Result<Json<Vec<ReportInfo>>, Problem> {
    caller.require(&ALL_ROLES)?;
    Ok(Json(
        NAMES
            .iter()
            .map(|(name, description)| ReportInfo {
                name: (*name).to_owned(),
                description: (*description).to_owned(),
            })
            .collect(),
    ))
}

/// One report over a period: its figures and the definitions they follow. `pipeline` gives
/// `{"tal": {...}, "non_tal": {...}}` with `opportunities, amount, won, won_amount, win_rate,
/// avg_deal_size, median_cycle_days`; `coverage` gives `{"tiers": [{"tier", "accounts",
/// "engaged", "share"}], "total": {...}}`.
#[utoipa::path(
    get,
    path = "/reports/{name}",
    params(
        ("name" = String, Path, description = "coverage, engagement, buying-group, match-rate, pipeline, velocity, plays, efficiency or scoring"),
        PeriodQuery
    ),
    responses(
        (status = 200, description = "The report as JSON", body = Object),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
pub async fn get_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Query(query): Query<PeriodQuery>,
) -> Result<Json<Report>, Problem> {
    caller.require(&ALL_ROLES)?;
    let period = query.period()?;
    Ok(Json(load(&state, name, period).await?))
}
