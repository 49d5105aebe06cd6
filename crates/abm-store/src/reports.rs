//! What reports read, written once for both backends: the approved TAL with tier, cluster,
//! stage and scores; opportunities; stage changes; the weekly rollups of the activity log
//! (see [`crate::rollup`]) for TAL accounts; the plays' enrolments, touches and guard
//! decisions; the latest backtest. Rows only: every figure is computed in `abm-core`.

use crate::Result;
use crate::sql::{Row, Sql, Value};

/// An approved TAL account as reports see it.
#[derive(Debug, Clone, PartialEq)]
pub struct TalMember {
    pub account_id: i64,
    pub domain: String,
    pub name: Option<String>,
    pub tier: Option<String>,
    pub cluster: Option<String>,
    pub stage: Option<String>,
    pub engagement: Option<f64>,
    pub approved_at: i64,
}

pub fn tal_members(sql: &mut dyn Sql) -> Result<Vec<TalMember>> {
    let rows = sql.query(
        "SELECT a.id, a.domain, a.name, COALESCE(t.tier_override, t.tier), c.name, s.stage,
                s.engagement, t.updated_at
         FROM tal_entries t
         JOIN accounts a ON a.id = t.account_id
         LEFT JOIN account_scores s ON s.account_id = t.account_id
         LEFT JOIN cluster_members m ON m.account_id = t.account_id
         LEFT JOIN clusters c ON c.id = m.cluster_id
         WHERE t.status = 'approved'
         ORDER BY a.id",
        &[],
    )?;
    rows.iter()
        .map(|row| {
            Ok(TalMember {
                account_id: row.int(0)?,
                domain: row.text(1)?,
                name: row.opt_text(2)?,
                tier: row.opt_text(3)?,
                cluster: row.opt_text(4)?,
                stage: row.opt_text(5)?,
                engagement: row.opt_real(6)?,
                approved_at: row.int(7)?,
            })
        })
        .collect()
}

/// An opportunity as reports read it (dates as `YYYY-MM-DD`).
#[derive(Debug, Clone, PartialEq)]
pub struct OpportunityRow {
    pub account_id: Option<i64>,
    pub amount: Option<f64>,
    pub stage: Option<String>,
    pub created_on: String,
    pub close_date: Option<String>,
    pub closed: bool,
    pub won: bool,
}

pub fn opportunities(sql: &mut dyn Sql) -> Result<Vec<OpportunityRow>> {
    let rows = sql.query(
        "SELECT account_id, amount, stage, CAST(created_on AS TEXT), CAST(close_date AS TEXT),
                closed, won
         FROM opportunities ORDER BY id",
        &[],
    )?;
    rows.iter()
        .map(|row| {
            Ok(OpportunityRow {
                account_id: row.opt_int(0)?,
                amount: row.opt_real(1)?,
                stage: row.opt_text(2)?,
                created_on: row.text(3)?,
                close_date: row.opt_text(4)?,
                closed: row.bool(5)?,
                won: row.bool(6)?,
            })
        })
        .collect()
}

/// A journey stage change (microseconds).
#[derive(Debug, Clone, PartialEq)]
pub struct StageChangeRow {
    pub account_id: i64,
    pub changed_at: i64,
    pub to_stage: String,
}

/// Every stage change up to `until`, by account and time.
pub fn stage_changes(sql: &mut dyn Sql, until: i64) -> Result<Vec<StageChangeRow>> {
    let rows = sql.query(
        "SELECT account_id, changed_at, to_stage FROM stage_changes
         WHERE changed_at <= $1 ORDER BY account_id, changed_at, id",
        &[until.into()],
    )?;
    rows.iter()
        .map(|row| {
            Ok(StageChangeRow {
                account_id: row.int(0)?,
                changed_at: row.int(1)?,
                to_stage: row.text(2)?,
            })
        })
        .collect()
}

/// One TAL account's week from the rollups.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AccountWeek {
    pub account_id: i64,
    pub week: i64,
    pub activities: i64,
    pub points: f64,
}

/// The weeks `from..=to` of every approved TAL account that had activity.
pub fn tal_weeks(sql: &mut dyn Sql, from: i64, to: i64) -> Result<Vec<AccountWeek>> {
    let rows = sql.query(
        "SELECT r.account_id, r.week, r.activities, r.points
         FROM tal_entries t JOIN rollup_account_weeks r ON r.account_id = t.account_id
         WHERE t.status = 'approved' AND r.week >= $1 AND r.week <= $2",
        &[from.into(), to.into()],
    )?;
    rows.iter()
        .map(|row| {
            Ok(AccountWeek {
                account_id: row.int(0)?,
                week: row.int(1)?,
                activities: row.int(2)?,
                points: row.opt_real(3)?.unwrap_or(0.0),
            })
        })
        .collect()
}

/// Each approved TAL account's activities and points summed over weeks `from..=to`.
pub fn tal_totals(sql: &mut dyn Sql, from: i64, to: i64) -> Result<Vec<AccountWeek>> {
    let rows = sql.query(
        "SELECT r.account_id, CAST(SUM(r.activities) AS BIGINT), SUM(r.points)
         FROM tal_entries t JOIN rollup_account_weeks r ON r.account_id = t.account_id
         WHERE t.status = 'approved' AND r.week >= $1 AND r.week <= $2
         GROUP BY r.account_id",
        &[from.into(), to.into()],
    )?;
    rows.iter()
        .map(|row| {
            Ok(AccountWeek {
                account_id: row.int(0)?,
                week: from,
                activities: row.int(1)?,
                points: row.opt_real(2)?.unwrap_or(0.0),
            })
        })
        .collect()
}

/// The approved TAL's weeks `from..=to`: accounts active, activities, points.
pub fn tal_week_totals(sql: &mut dyn Sql, from: i64, to: i64) -> Result<Vec<(i64, i64, i64, f64)>> {
    let rows = sql.query(
        "SELECT r.week, COUNT(*), CAST(SUM(r.activities) AS BIGINT), SUM(r.points)
         FROM tal_entries t JOIN rollup_account_weeks r ON r.account_id = t.account_id
         WHERE t.status = 'approved' AND r.week >= $1 AND r.week <= $2 AND r.activities > 0
         GROUP BY r.week ORDER BY r.week",
        &[from.into(), to.into()],
    )?;
    rows.iter()
        .map(|row| {
            Ok((
                row.int(0)?,
                row.int(1)?,
                row.int(2)?,
                row.opt_real(3)?.unwrap_or(0.0),
            ))
        })
        .collect()
}

/// The lead match rate as observed per day (epoch day, leads, matched), from `from` to `to`.
pub fn lead_match_days(sql: &mut dyn Sql, from: i64, to: i64) -> Result<Vec<(i64, i64, i64)>> {
    let rows = sql.query(
        "SELECT day, leads, matched FROM lead_match_days WHERE day >= $1 AND day <= $2 ORDER BY day",
        &[from.into(), to.into()],
    )?;
    rows.iter()
        .map(|row| Ok((row.int(0)?, row.int(1)?, row.int(2)?)))
        .collect()
}

/// Leads, and those tied to an account.
pub fn lead_counts(sql: &mut dyn Sql) -> Result<(i64, i64)> {
    let row = sql.query_opt("SELECT COUNT(*), COUNT(account_id) FROM leads", &[])?;
    match row {
        Some(row) => Ok((row.int(0)?, row.int(1)?)),
        None => Ok((0, 0)),
    }
}

/// Distinct known people active in weeks `from..=to`, per approved TAL account.
pub fn tal_people(sql: &mut dyn Sql, from: i64, to: i64) -> Result<Vec<(i64, i64)>> {
    let rows = sql.query(
        "SELECT r.account_id, COUNT(DISTINCT r.contact_id)
         FROM tal_entries t JOIN rollup_people_weeks r ON r.account_id = t.account_id
         WHERE t.status = 'approved' AND r.week >= $1 AND r.week <= $2
         GROUP BY r.account_id",
        &[from.into(), to.into()],
    )?;
    rows.iter()
        .map(|row| Ok((row.int(0)?, row.int(1)?)))
        .collect()
}

/// A topic or piece of content an account consumed, with how often.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemRow {
    pub account_id: i64,
    pub dimension: String,
    pub item: String,
    pub n: i64,
}

/// Topics and content of approved TAL accounts in weeks `from..=to`.
pub fn tal_items(sql: &mut dyn Sql, from: i64, to: i64) -> Result<Vec<ItemRow>> {
    let rows = sql.query(
        "SELECT r.account_id, r.dimension, r.item, CAST(SUM(r.n) AS BIGINT)
         FROM tal_entries t JOIN rollup_item_weeks r ON r.account_id = t.account_id
         WHERE t.status = 'approved' AND r.week >= $1 AND r.week <= $2
         GROUP BY r.account_id, r.dimension, r.item",
        &[from.into(), to.into()],
    )?;
    rows.iter()
        .map(|row| {
            Ok(ItemRow {
                account_id: row.int(0)?,
                dimension: row.text(1)?,
                item: row.text(2)?,
                n: row.int(3)?,
            })
        })
        .collect()
}

/// Per week of `from..=to`: all activities, and those not matched to an account.
pub fn match_weeks(sql: &mut dyn Sql, from: i64, to: i64) -> Result<Vec<(i64, i64, i64)>> {
    let rows = sql.query(
        "SELECT w.week, w.activities, COALESCE(u.activities, 0)
         FROM rollup_weeks w
         LEFT JOIN rollup_account_weeks u ON u.account_id = 0 AND u.week = w.week
         WHERE w.week >= $1 AND w.week <= $2 ORDER BY w.week",
        &[from.into(), to.into()],
    )?;
    rows.iter()
        .map(|row| Ok((row.int(0)?, row.int(1)?, row.int(2)?)))
        .collect()
}

/// The domains of unmatched activities in weeks `from..=to`, most frequent first.
pub fn unmatched_domains(
    sql: &mut dyn Sql,
    from: i64,
    to: i64,
    limit: i64,
) -> Result<Vec<(String, i64)>> {
    let rows = sql.query(
        "SELECT item, CAST(SUM(n) AS BIGINT) FROM rollup_item_weeks
         WHERE account_id = 0 AND dimension = 'domain' AND week >= $1 AND week <= $2
         GROUP BY item ORDER BY SUM(n) DESC, item LIMIT $3",
        &[from.into(), to.into(), limit.into()],
    )?;
    rows.iter()
        .map(|row| Ok((row.text(0)?, row.int(1)?)))
        .collect()
}

/// A play's enrolment in `from <= enrolled_at < to`.
#[derive(Debug, Clone, PartialEq)]
pub struct EnrolmentRow {
    pub play: String,
    pub account_id: i64,
    pub enrolled_at: i64,
}

pub fn enrolments(sql: &mut dyn Sql, from: i64, to: i64) -> Result<Vec<EnrolmentRow>> {
    let rows = sql.query(
        "SELECT play, account_id, MIN(enrolled_at) FROM play_enrolments
         WHERE enrolled_at >= $1 AND enrolled_at < $2
         GROUP BY play, account_id ORDER BY play, account_id",
        &[from.into(), to.into()],
    )?;
    rows.iter()
        .map(|row| {
            Ok(EnrolmentRow {
                play: row.text(0)?,
                account_id: row.int(1)?,
                enrolled_at: row.int(2)?,
            })
        })
        .collect()
}

/// Touches of enrolments made in the period, by play, step, channel and status: how many,
/// and on how many accounts.
#[derive(Debug, Clone, PartialEq)]
pub struct TouchCount {
    pub play: String,
    pub step: i64,
    pub channel: String,
    pub status: String,
    pub touches: i64,
    pub accounts: i64,
}

pub fn touch_counts(sql: &mut dyn Sql, from: i64, to: i64) -> Result<Vec<TouchCount>> {
    let rows = sql.query(
        "SELECT t.play, t.step, t.channel, t.status, COUNT(*), COUNT(DISTINCT t.account_id)
         FROM play_touches t JOIN play_enrolments e ON e.id = t.enrolment_id
         WHERE e.enrolled_at >= $1 AND e.enrolled_at < $2
         GROUP BY t.play, t.step, t.channel, t.status
         ORDER BY t.play, t.step, t.status",
        &[from.into(), to.into()],
    )?;
    rows.iter()
        .map(|row| {
            Ok(TouchCount {
                play: row.text(0)?,
                step: row.int(1)?,
                channel: row.text(2)?,
                status: row.text(3)?,
                touches: row.int(4)?,
                accounts: row.int(5)?,
            })
        })
        .collect()
}

/// How many times the guard decided one way, by one rule, on one play's touches.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardCountRow {
    pub play: String,
    pub decision: String,
    pub rule: Option<String>,
    pub count: i64,
}

/// The guard's decisions on touches of enrolments made in the period, by play, decision and
/// rule.
pub fn guard_counts(sql: &mut dyn Sql, from: i64, to: i64) -> Result<Vec<GuardCountRow>> {
    let rows = sql.query(
        "SELECT t.play, g.decision, g.rule, COUNT(*)
         FROM guard_log g
         JOIN play_touches t ON t.id = g.touch_id
         JOIN play_enrolments e ON e.id = t.enrolment_id
         WHERE e.enrolled_at >= $1 AND e.enrolled_at < $2
         GROUP BY t.play, g.decision, g.rule
         ORDER BY t.play, g.decision, g.rule",
        &[from.into(), to.into()],
    )?;
    rows.iter()
        .map(|row| {
            Ok(GuardCountRow {
                play: row.text(0)?,
                decision: row.text(1)?,
                rule: row.opt_text(2)?,
                count: row.int(3)?,
            })
        })
        .collect()
}

/// The latest activity of a kind on an enrolled account since its enrolment.
#[derive(Debug, Clone, PartialEq)]
pub struct AfterRow {
    pub play: String,
    pub account_id: i64,
    pub kind: String,
    pub last_at: i64,
}

/// The latest activity of each kind since each enrolment (see `Dialect::after_enrolment`).
pub fn after_enrolment(
    sql: &mut dyn Sql,
    dialect: crate::rollup::Dialect,
    from: i64,
    to: i64,
) -> Result<Vec<AfterRow>> {
    let rows = sql.query(dialect.after_enrolment, &[from.into(), to.into()])?;
    rows.iter()
        .map(|row| {
            Ok(AfterRow {
                play: row.text(0)?,
                account_id: row.int(1)?,
                kind: row.text(2)?,
                last_at: row.int(3)?,
            })
        })
        .collect()
}

/// A stored backtest.
#[derive(Debug, Clone, PartialEq)]
pub struct BacktestRun {
    pub run_at: i64,
    pub as_of: i64,
    pub horizon_days: i64,
    pub config: String,
    pub auc: Option<f64>,
    /// The backtest as JSON.
    pub body: String,
}

pub fn save_backtest(sql: &mut dyn Sql, run: &BacktestRun) -> Result<()> {
    sql.execute(
        "INSERT INTO backtest_runs (run_at, as_of, horizon_days, config, auc, body)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            run.run_at.into(),
            run.as_of.into(),
            run.horizon_days.into(),
            run.config.clone().into(),
            Value::from(run.auc),
            run.body.clone().into(),
        ],
    )?;
    Ok(())
}

pub fn latest_backtest(sql: &mut dyn Sql) -> Result<Option<BacktestRun>> {
    sql.query_opt(
        "SELECT run_at, as_of, horizon_days, config, auc, body FROM backtest_runs
         ORDER BY run_at DESC, id DESC LIMIT 1",
        &[],
    )?
    .map(|row: Row| {
        Ok(BacktestRun {
            run_at: row.int(0)?,
            as_of: row.int(1)?,
            horizon_days: row.int(2)?,
            config: row.text(3)?,
            auc: row.opt_real(4)?,
            body: row.text(5)?,
        })
    })
    .transpose()
}

/// A contact of an approved TAL account: title, buying role set by hand, and whether they
/// were active in weeks `from..=to`.
#[derive(Debug, Clone, PartialEq)]
pub struct TalPerson {
    pub account_id: i64,
    pub contact_id: i64,
    pub title: Option<String>,
    pub role_override: Option<String>,
    pub active: bool,
}

pub fn tal_people_roles(sql: &mut dyn Sql, from: i64, to: i64) -> Result<Vec<TalPerson>> {
    let rows = sql.query(
        "SELECT c.account_id, c.id, c.title, r.role,
                EXISTS (SELECT 1 FROM rollup_people_weeks p
                        WHERE p.account_id = c.account_id AND p.contact_id = c.id
                          AND p.week >= $1 AND p.week <= $2)
         FROM tal_entries t
         JOIN contacts c ON c.account_id = t.account_id
         LEFT JOIN contact_roles r ON r.contact_id = c.id
         WHERE t.status = 'approved'
         ORDER BY c.account_id, c.id",
        &[from.into(), to.into()],
    )?;
    rows.iter()
        .map(|row| {
            Ok(TalPerson {
                account_id: row.int(0)?,
                contact_id: row.int(1)?,
                title: row.opt_text(2)?,
                role_override: row.opt_text(3)?,
                active: row.bool(4)?,
            })
        })
        .collect()
}

/// A touch sent: its play, step, account and time.
#[derive(Debug, Clone, PartialEq)]
pub struct SentTouch {
    pub play: String,
    pub step: i64,
    pub account_id: i64,
    pub sent_at: i64,
}

/// Touches sent with `since <= sent_at < until`.
pub fn touches_sent_between(sql: &mut dyn Sql, since: i64, until: i64) -> Result<Vec<SentTouch>> {
    let rows = sql.query(
        "SELECT play, step, account_id, sent_at FROM play_touches
         WHERE status = 'sent' AND sent_at >= $1 AND sent_at < $2",
        &[since.into(), until.into()],
    )?;
    rows.iter()
        .map(|row| {
            Ok(SentTouch {
                play: row.text(0)?,
                step: row.int(1)?,
                account_id: row.int(2)?,
                sent_at: row.int(3)?,
            })
        })
        .collect()
}

/// Every account id (velocity compares the TAL with all the others).
pub fn account_ids(sql: &mut dyn Sql) -> Result<Vec<i64>> {
    let rows = sql.query("SELECT id FROM accounts", &[])?;
    rows.iter().map(|row| row.int(0)).collect()
}
