//! Reports over the store: brings the rollups up to date, reads what a report needs and hands
//! it to `abm_core::report`. The CLI, the API, the pages and the weekly summary all call
//! [`build`], so a figure is the same wherever it is read.

use abm_core::ActivityKind;
use abm_core::persona::TitleDictionary;
use abm_core::report::funnel::{Change, VelocityReport};
use abm_core::report::pipeline::{Opp, PipelineReport, Segment};
use abm_core::report::plays::{
    After, EfficiencyReport, Enrolment, GuardCount, PlaysReport, Sent, StepTouches,
};
use abm_core::report::quality::{Conversion, MatchRateReport};
use abm_core::report::reach::{
    BuyingGroupReport, CoverageReport, EngagementData, EngagementReport, Item, Member, RolePerson,
    Week, WeekTotal,
};
use abm_core::report::{self, Definition, Period, ReportsConfig};
use abm_core::score::ScoringConfig;
use abm_core::score::config::EngagementConfig;
use abm_core::score::stage::Stage;
use abm_store::rollup::{self, Refreshed};
use abm_store::{Store, StoreError, reports};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// What reports read from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct ReportSettings<'a> {
    pub scoring: &'a ScoringConfig,
    pub reports: &'a ReportsConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("unknown report {0:?}: one of {names}", names = names())]
    Unknown(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn names() -> String {
    report::NAMES
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// One report, whichever it is; serialised as the report itself.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Report {
    Coverage(CoverageReport),
    Engagement(EngagementReport),
    BuyingGroup(BuyingGroupReport),
    MatchRate(MatchRateReport),
    Pipeline(PipelineReport),
    Velocity(VelocityReport),
    Plays(PlaysReport),
    Efficiency(EfficiencyReport),
    Scoring(ScoringReport),
}

impl Report {
    pub fn definitions(&self) -> &[Definition] {
        match self {
            Report::Coverage(r) => &r.definitions,
            Report::Engagement(r) => &r.definitions,
            Report::BuyingGroup(r) => &r.definitions,
            Report::MatchRate(r) => &r.definitions,
            Report::Pipeline(r) => &r.definitions,
            Report::Velocity(r) => &r.definitions,
            Report::Plays(r) => &r.definitions,
            Report::Efficiency(r) => &r.definitions,
            Report::Scoring(r) => &r.definitions,
        }
    }
}

/// The scoring's own quality.
#[derive(Debug, Clone, Serialize)]
pub struct ScoringReport {
    pub period: Period,
    /// The latest stored backtest, `null` before the first `abm backtest`.
    pub backtest: Option<StoredBacktest>,
    pub qualified: Conversion,
    pub definitions: Vec<Definition>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StoredBacktest {
    /// Microseconds.
    pub run_at: i64,
    pub config: String,
    pub auc: Option<f64>,
    /// The backtest as `abm backtest --format json` prints it.
    pub result: serde_json::Value,
}

/// The engagement weights as the rollups use them.
pub fn weights(config: &EngagementConfig) -> Vec<(&'static str, f64)> {
    ActivityKind::ALL
        .iter()
        .map(|kind| (kind.as_str(), config.weights.of(*kind)))
        .collect()
}

/// Brings the report rollups up to date (a no-op when they are).
pub fn refresh(
    store: &mut dyn Store,
    scoring: &ScoringConfig,
    now: i64,
) -> Result<Refreshed, StoreError> {
    let weights = weights(&scoring.engagement);
    store.refresh_rollups(&weights, now)
}

/// Refreshes only when something changed: reading is all most report requests do.
fn refresh_if_stale(
    store: &mut dyn Store,
    scoring: &ScoringConfig,
    now: i64,
) -> Result<(), StoreError> {
    let weights = weights(&scoring.engagement);
    if rollup::is_stale(store.sql(), &weights)? {
        store.refresh_rollups(&weights, now)?;
    }
    Ok(())
}

/// Builds the report `name` over `period`; `now` (microseconds) stamps a rollup refresh.
pub fn build(
    store: &mut dyn Store,
    settings: ReportSettings<'_>,
    name: &str,
    period: Period,
    now: i64,
) -> Result<Report, ReportError> {
    let Some(name) = report::canonical(name) else {
        return Err(ReportError::Unknown(name.to_owned()));
    };
    refresh_if_stale(store, settings.scoring, now)?;
    let config = settings.reports;
    let (first_week, last_week) = period.weeks();
    Ok(match name {
        "coverage" => {
            let window = i64::from(config.window_weeks.max(1));
            let members = members(store)?;
            let weeks = weeks(store, first_week - window + 1, last_week)?;
            Report::Coverage(report::reach::coverage(
                period,
                &members,
                &weeks,
                config.engaged_points,
                config.window_weeks,
            ))
        }
        "engagement" => {
            let members = members(store)?;
            let totals: Vec<Week> = reports::tal_totals(store.sql(), first_week, last_week)?
                .into_iter()
                .map(week)
                .collect();
            let weekly: Vec<WeekTotal> =
                reports::tal_week_totals(store.sql(), first_week, last_week)?
                    .into_iter()
                    .map(|(week, active, activities, points)| WeekTotal {
                        week,
                        active_accounts: u64::try_from(active).unwrap_or(0),
                        activities,
                        points,
                    })
                    .collect();
            let people: HashMap<i64, i64> =
                reports::tal_people(store.sql(), first_week, last_week)?
                    .into_iter()
                    .collect();
            let items: Vec<Item> = reports::tal_items(store.sql(), first_week, last_week)?
                .into_iter()
                .map(|row| Item {
                    account_id: row.account_id,
                    dimension: row.dimension,
                    item: row.item,
                    n: row.n,
                })
                .collect();
            Report::Engagement(report::reach::engagement(
                period,
                &members,
                EngagementData {
                    totals: &totals,
                    weekly: &weekly,
                    people: &people,
                    items: &items,
                },
                config.engaged_points,
                config.bands,
            ))
        }
        "buying-group" => {
            let members = members(store)?;
            let personas = &settings.scoring.personas;
            let dictionary = TitleDictionary::new(personas);
            let people: Vec<RolePerson> =
                reports::tal_people_roles(store.sql(), first_week, last_week)?
                    .into_iter()
                    .filter_map(|person| {
                        let persona =
                            dictionary.classify(person.title.as_deref().unwrap_or_default());
                        let role = match crate::team::buying_group::stored_override(
                            person.role_override.as_deref(),
                        ) {
                            Some(role) => role,
                            None if persona.relevant => persona.role,
                            None => return None,
                        };
                        Some(RolePerson {
                            account_id: person.account_id,
                            role,
                            engaged: person.active,
                        })
                    })
                    .collect();
            Report::BuyingGroup(report::reach::buying_groups(
                period, &members, &people, personas,
            ))
        }
        "match-rate" => {
            let weeks = reports::match_weeks(store.sql(), first_week, last_week)?;
            let domains = reports::unmatched_domains(store.sql(), first_week, last_week, 20)?;
            // Counting leads only: `Store::counts` would count the whole activity log.
            let (leads, matched_leads) = reports::lead_counts(store.sql())?;
            rollup::observe_leads(store.sql(), now)?;
            let days = {
                let (start, end) = period.micros();
                reports::lead_match_days(
                    store.sql(),
                    start.div_euclid(86_400_000_000),
                    (end - 1).div_euclid(86_400_000_000),
                )?
            };
            Report::MatchRate(report::quality::match_rate(
                period,
                &weeks,
                u64::try_from(leads).unwrap_or(0),
                u64::try_from(matched_leads).unwrap_or(0),
                &days,
                domains,
            ))
        }
        "pipeline" => Report::Pipeline(pipeline(store, period, config)?),
        "velocity" => {
            let pipeline = pipeline(store, period, config)?;
            let (_, end) = period.micros();
            let changes = changes(store, end)?;
            let all: HashSet<i64> = reports::account_ids(store.sql())?.into_iter().collect();
            let tal: HashSet<i64> = members(store)?.iter().map(|m| m.account_id).collect();
            Report::Velocity(report::funnel::velocity(
                period,
                &changes,
                &all,
                &tal,
                &pipeline.tal,
                &pipeline.non_tal,
            ))
        }
        "plays" => Report::Plays(plays(store, period)?),
        "efficiency" => {
            let plays = plays(store, period)?;
            Report::Efficiency(report::plays::efficiency(&plays, &config.costs))
        }
        "scoring" => {
            let backtest = reports::latest_backtest(store.sql())?.map(|run| StoredBacktest {
                run_at: run.run_at,
                config: run.config,
                auc: run.auc,
                result: serde_json::from_str(&run.body).unwrap_or(serde_json::Value::Null),
            });
            let (_, end) = period.micros();
            let changes = changes(store, end)?;
            let opportunities = opportunities(store)?;
            Report::Scoring(ScoringReport {
                period,
                backtest,
                qualified: report::quality::qualified_conversion(period, &changes, &opportunities),
                definitions: report::quality::scoring_definitions(),
            })
        }
        other => return Err(ReportError::Unknown(other.to_owned())),
    })
}

fn members(store: &mut dyn Store) -> Result<Vec<Member>, StoreError> {
    Ok(reports::tal_members(store.sql())?
        .into_iter()
        .map(|row| Member {
            account_id: row.account_id,
            domain: row.domain,
            name: row.name,
            tier: row.tier,
            cluster: row.cluster,
            engagement: row.engagement,
        })
        .collect())
}

/// A rollup row as the core reads it.
fn week(row: reports::AccountWeek) -> Week {
    Week {
        account_id: row.account_id,
        week: row.week,
        activities: row.activities,
        points: row.points,
    }
}

fn weeks(store: &mut dyn Store, from: i64, to: i64) -> Result<Vec<Week>, StoreError> {
    Ok(reports::tal_weeks(store.sql(), from, to)?
        .into_iter()
        .map(week)
        .collect())
}

fn opportunities(store: &mut dyn Store) -> Result<Vec<Opp>, StoreError> {
    Ok(reports::opportunities(store.sql())?
        .into_iter()
        .filter_map(|row| {
            // Dates were validated on import; a row that does not parse is skipped rather
            // than failing every report.
            let created_on = row.created_on.parse().ok()?;
            Some(Opp {
                account_id: row.account_id,
                amount: row.amount.unwrap_or(0.0),
                created_on,
                close_date: row.close_date.and_then(|d| d.parse().ok()),
                closed: row.closed,
                won: row.won,
            })
        })
        .collect())
}

fn changes(store: &mut dyn Store, until: i64) -> Result<Vec<Change>, StoreError> {
    Ok(reports::stage_changes(store.sql(), until)?
        .into_iter()
        .filter_map(|row| {
            Some(Change {
                account_id: row.account_id,
                at: row.changed_at,
                stage: Stage::parse(&row.to_stage)?,
            })
        })
        .collect())
}

fn pipeline(
    store: &mut dyn Store,
    period: Period,
    config: &ReportsConfig,
) -> Result<PipelineReport, StoreError> {
    let opportunities = opportunities(store)?;
    let tal: HashMap<i64, Segment> = members(store)?
        .into_iter()
        .map(|m| {
            (
                m.account_id,
                Segment {
                    tier: m.tier,
                    cluster: m.cluster,
                },
            )
        })
        .collect();
    let (start, end) = period.micros();
    let since = start - i64::from(config.influence_days) * 86_400_000_000;
    let sent = sent_touches(store, since, end)?;
    let touches = report::plays::touch_days(&sent);
    Ok(report::pipeline::pipeline(
        period,
        &opportunities,
        &tal,
        &touches,
        config.influence_days,
    ))
}

fn sent_touches(store: &mut dyn Store, since: i64, until: i64) -> Result<Vec<Sent>, StoreError> {
    Ok(reports::touches_sent_between(store.sql(), since, until)?
        .into_iter()
        .map(|touch| Sent {
            play: touch.play,
            step: touch.step,
            account_id: touch.account_id,
            at: touch.sent_at,
        })
        .collect())
}

fn plays(store: &mut dyn Store, period: Period) -> Result<PlaysReport, StoreError> {
    let (start, end) = period.micros();
    let enrolments: Vec<Enrolment> = reports::enrolments(store.sql(), start, end)?
        .into_iter()
        .map(|row| Enrolment {
            play: row.play,
            account_id: row.account_id,
            enrolled_at: row.enrolled_at,
        })
        .collect();
    let steps: Vec<StepTouches> = reports::touch_counts(store.sql(), start, end)?
        .into_iter()
        .map(|row| StepTouches {
            play: row.play,
            step: row.step,
            channel: row.channel,
            status: row.status,
            touches: row.touches,
        })
        .collect();
    let sent = sent_touches(store, start, i64::MAX)?;
    let dialect = store.rollup_dialect();
    let after: Vec<After> = reports::after_enrolment(store.sql(), dialect, start, end)?
        .into_iter()
        .map(|row| After {
            play: row.play,
            account_id: row.account_id,
            kind: row.kind,
            last_at: row.last_at,
        })
        .collect();
    let guard: Vec<GuardCount> = reports::guard_counts(store.sql(), start, end)?
        .into_iter()
        .map(|row| GuardCount {
            play: row.play,
            decision: row.decision,
            rule: row.rule,
            count: row.count,
        })
        .collect();
    let opportunities = opportunities(store)?;
    Ok(report::plays::plays(
        period,
        &enrolments,
        &steps,
        &sent,
        &after,
        &guard,
        &opportunities,
    ))
}

/// The period of `from` and `to` (`YYYY-MM-DD`, both included): `to` defaults to `today`,
/// `from` to 90 days ending with `to`. The error names the field and the value.
pub fn period(
    from: Option<&str>,
    to: Option<&str>,
    today: jiff::civil::Date,
) -> Result<Period, (&'static str, String)> {
    let parse = |field: &'static str, text: &str| {
        text.trim()
            .parse::<jiff::civil::Date>()
            .map_err(|_| (field, format!("{text:?} is not a date (YYYY-MM-DD)")))
    };
    let to = match to.filter(|t| !t.trim().is_empty()) {
        Some(text) => parse("to", text)?,
        None => today,
    };
    let from = match from.filter(|t| !t.trim().is_empty()) {
        Some(text) => parse("from", text)?,
        None => to
            .checked_sub(jiff::Span::new().days(89))
            .map_err(|error| ("to", error.to_string()))?,
    };
    Period::new(from, to).map_err(|message| ("from", message))
}

/// Today in UTC.
pub fn today() -> jiff::civil::Date {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
}

/// Every report of the weekly summary over `period`, in [`report::NAMES`] order.
pub fn all(
    store: &mut dyn Store,
    settings: ReportSettings<'_>,
    period: Period,
    now: i64,
) -> Result<Vec<(&'static str, Report)>, ReportError> {
    report::NAMES
        .iter()
        .map(|(name, _)| Ok((*name, build(store, settings, name, period, now)?)))
        .collect()
}
