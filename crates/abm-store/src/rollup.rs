//! Weekly rollups of the activity log, for reports: activities by account, week and kind;
//! known people active by account and week; topics, content and (for what is unmatched)
//! domains by account and week. Account 0 stands for "not matched to an account yet".
//!
//! They are kept incrementally. `rollup_state` holds the highest `seq` rolled up; a refresh
//! adds the rows after it. Rows already rolled up change only when re-resolution or an
//! identified visitor moves them to another account or person: the code that moves them
//! first records the accounts concerned (old and new) in `rollup_dirty`, and the next refresh
//! rolls those accounts up again from their rows. Everything else is append-only, so the
//! rollups equal a full aggregation of the log at every refresh (a conformance test checks it).

use crate::Result;
use crate::sql::{Sql, Value, transaction};

/// What differs between the backends: the week number of `occurred_at`, and how to read one
/// account's rows through its index.
#[derive(Debug, Clone, Copy)]
pub struct Dialect {
    /// `(epoch day + 3) / 7`: weeks start on Monday.
    pub week: &'static str,
    /// Rows of account `$1` with `seq <= $2`.
    pub account_rows: &'static str,
    /// For each enrolment of a play (enrolled in `$1 <= enrolled_at < $2`), the latest
    /// activity of each kind its account had since it was enrolled: play, account, kind,
    /// latest time (microseconds). The latest tells whether one came after any later instant
    /// too (a step's send).
    pub after_enrolment: &'static str,
}

pub const SQLITE: Dialect = Dialect {
    week: "((occurred_at / 86400000000) + 3) / 7",
    account_rows: "seq IN (SELECT seq FROM activity_timeline WHERE account_id = $1) AND seq <= $2",
    after_enrolment: "SELECT e.play, e.account_id, a.kind, MAX(t.occurred_at)
         FROM play_enrolments e
         JOIN activity_timeline t ON t.account_id = e.account_id AND t.occurred_at >= e.enrolled_at
         JOIN activities a ON a.seq = t.seq
         WHERE e.enrolled_at >= $1 AND e.enrolled_at < $2
           AND a.kind NOT IN ('email_sent', 'ad_impression', 'direct_mail')
         GROUP BY e.play, e.account_id, a.kind",
};

pub const POSTGRES: Dialect = Dialect {
    week: "((floor(extract(epoch FROM occurred_at) / 86400))::BIGINT + 3) / 7",
    account_rows: "account_id = $1 AND seq <= $2",
    after_enrolment: "SELECT e.play, e.account_id, a.kind,
                (extract(epoch FROM MAX(a.occurred_at)) * 1000000)::BIGINT
         FROM play_enrolments e
         JOIN activities a ON a.account_id = e.account_id
              AND a.occurred_at >= TIMESTAMPTZ 'epoch' + e.enrolled_at * INTERVAL '1 microsecond'
         WHERE e.enrolled_at >= $1 AND e.enrolled_at < $2
           AND a.kind NOT IN ('email_sent', 'ad_impression', 'direct_mail')
         GROUP BY e.play, e.account_id, a.kind",
};

/// Rows of the log rolled up per statement (see `refresh`).
const SLICE: i64 = 1_000_000;

/// Kinds whose `url` is a piece of content someone consumed (a page view's URL is not).
pub const CONTENT_KINDS: &str =
    "('content_download', 'webinar_registered', 'webinar_attended', 'form_fill')";

/// What a refresh did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Refreshed {
    /// The highest `seq` rolled up now.
    pub seq: i64,
    /// Rows of the log after the previous refresh, rolled up now.
    pub new_rows: i64,
    /// Accounts rolled up again because rows of theirs moved.
    pub rebuilt_accounts: usize,
}

/// The highest `seq` rolled up (0 before the first refresh).
pub fn watermark(sql: &mut dyn Sql) -> Result<i64> {
    Ok(sql
        .query_opt(
            "SELECT seq FROM rollup_state WHERE name = 'activities'",
            &[],
        )?
        .map(|row| row.int(0))
        .transpose()?
        .unwrap_or(0))
}

/// How the rollups record the weights they were computed with.
pub fn signature(weights: Weights<'_>) -> String {
    weights
        .iter()
        .map(|(kind, weight)| format!("{kind}={weight}"))
        .collect::<Vec<_>>()
        .join(";")
}

/// Whether a refresh has something to do: rows after the watermark, moved accounts, or
/// other weights.
pub fn is_stale(sql: &mut dyn Sql, weights: Weights<'_>) -> Result<bool> {
    let row = sql.query_opt(
        "SELECT (SELECT COALESCE(MAX(seq), 0) FROM activities),
                (SELECT seq FROM rollup_state WHERE name = 'activities'),
                (SELECT COUNT(*) FROM rollup_dirty),
                (SELECT weights FROM rollup_state WHERE name = 'activities')",
        &[],
    )?;
    let Some(row) = row else { return Ok(true) };
    Ok(row.int(0)? > row.opt_int(1)?.unwrap_or(0)
        || row.int(2)? > 0
        || row.opt_text(3)?.unwrap_or_default() != signature(weights))
}

/// Forgets the rollups: the next refresh rebuilds them from the whole log.
pub fn reset(sql: &mut dyn Sql) -> Result<()> {
    sql.execute(
        "UPDATE rollup_state SET weights = '' WHERE name = 'activities'",
        &[],
    )?;
    Ok(())
}

/// Before re-resolution's activity statements run: the accounts whose rolled-up rows they
/// are about to move (the old account, 0 when unmatched, and the new one).
pub fn mark_rematch(sql: &mut dyn Sql) -> Result<()> {
    let seq = watermark(sql)?;
    if seq == 0 {
        return Ok(());
    }
    for statement in [
        "INSERT INTO rollup_dirty (account_id)
         SELECT DISTINCT COALESCE(a.account_id, 0) FROM activities a JOIN contacts c ON c.email = a.email
         WHERE a.contact_id IS NULL AND a.email IS NOT NULL AND a.seq <= $1
         ON CONFLICT DO NOTHING",
        "INSERT INTO rollup_dirty (account_id)
         SELECT DISTINCT c.account_id FROM activities a JOIN contacts c ON c.email = a.email
         WHERE a.contact_id IS NULL AND a.email IS NOT NULL AND a.seq <= $1
         ON CONFLICT DO NOTHING",
        "INSERT INTO rollup_dirty (account_id)
         SELECT DISTINCT d.account_id FROM activities a JOIN account_domains d ON d.domain = a.account_key
         WHERE a.account_id IS NULL AND a.seq <= $1
         ON CONFLICT DO NOTHING",
    ] {
        sql.execute(statement, &[seq.into()])?;
    }
    // The unmatched rows that will match leave account 0.
    sql.execute(
        "INSERT INTO rollup_dirty (account_id)
         SELECT CAST(0 AS BIGINT) WHERE EXISTS (SELECT 1 FROM activities a JOIN account_domains d ON d.domain = a.account_key
                                WHERE a.account_id IS NULL AND a.seq <= $1)
         ON CONFLICT DO NOTHING",
        &[seq.into()],
    )?;
    Ok(())
}

/// Before a visitor's anonymous rows join `account`: the accounts they leave and join.
pub fn mark_visitor(sql: &mut dyn Sql, visitor: &str, account: i64) -> Result<()> {
    let seq = watermark(sql)?;
    if seq == 0 {
        return Ok(());
    }
    sql.execute(
        "INSERT INTO rollup_dirty (account_id)
         SELECT DISTINCT COALESCE(account_id, 0) FROM activities
         WHERE visitor = $1 AND contact_id IS NULL AND seq <= $2
         ON CONFLICT DO NOTHING",
        &[visitor.into(), seq.into()],
    )?;
    sql.execute(
        "INSERT INTO rollup_dirty (account_id) SELECT CAST($1 AS BIGINT) WHERE EXISTS (
             SELECT 1 FROM activities WHERE visitor = $2 AND contact_id IS NULL AND seq <= $3)
         ON CONFLICT DO NOTHING",
        &[account.into(), visitor.into(), seq.into()],
    )?;
    Ok(())
}

/// The engagement weight of each activity kind, as the rollup's points use them.
pub type Weights<'a> = &'a [(&'a str, f64)];

/// Brings the rollups up to date with the log, in one transaction. Points are computed with
/// `weights`; rollups kept with other weights are rebuilt from the whole log.
pub fn refresh(
    sql: &mut dyn Sql,
    dialect: Dialect,
    weights: Weights<'_>,
    now: i64,
) -> Result<Refreshed> {
    let signature = signature(weights);
    transaction(sql, |sql| {
        let kept = sql
            .query_opt(
                "SELECT weights FROM rollup_state WHERE name = 'activities'",
                &[],
            )?
            .map(|row| row.text(0))
            .transpose()?
            .unwrap_or_default();
        if kept != signature {
            for statement in [
                "DELETE FROM rollup_account_weeks",
                "DELETE FROM rollup_weeks",
                "DELETE FROM rollup_people_weeks",
                "DELETE FROM rollup_item_weeks",
                "DELETE FROM rollup_dirty",
            ] {
                sql.execute(statement, &[])?;
            }
            sql.execute(
                "UPDATE rollup_state SET seq = 0, weights = $1 WHERE name = 'activities'",
                &[signature.clone().into()],
            )?;
        }
        let from = watermark(sql)?;
        let to = sql
            .query_opt("SELECT COALESCE(MAX(seq), 0) FROM activities", &[])?
            .map(|row| row.int(0))
            .transpose()?
            .unwrap_or(0)
            .max(from);
        let dirty: Vec<i64> = sql
            .query(
                "SELECT account_id FROM rollup_dirty ORDER BY account_id",
                &[],
            )?
            .iter()
            .map(|row| row.int(0))
            .collect::<Result<_>>()?;
        for &account in &dirty {
            for table in [
                "DELETE FROM rollup_account_weeks WHERE account_id = $1",
                "DELETE FROM rollup_people_weeks WHERE account_id = $1",
                "DELETE FROM rollup_item_weeks WHERE account_id = $1",
            ] {
                sql.execute(table, &[account.into()])?;
            }
            let (filter, params): (&str, Vec<Value>) = if account == 0 {
                ("account_id IS NULL AND seq <= $1", vec![from.into()])
            } else {
                (dialect.account_rows, vec![account.into(), from.into()])
            };
            aggregate(sql, dialect, weights, filter, params, false)?;
        }
        sql.execute("DELETE FROM rollup_dirty", &[])?;
        // In slices of the log: each statement's grouping then holds a slice's groups, not
        // the whole log's (a first refresh of ten million rows stays within memory).
        let mut done = from;
        while done < to {
            let until = done.saturating_add(SLICE).min(to);
            aggregate(
                sql,
                dialect,
                weights,
                "seq > $1 AND seq <= $2",
                vec![done.into(), until.into()],
                true,
            )?;
            done = until;
        }
        sql.execute(
            "UPDATE rollup_state SET seq = $1, refreshed_at = $2 WHERE name = 'activities'",
            &[to.into(), now.into()],
        )?;
        observe_leads(sql, now)?;
        Ok(Refreshed {
            seq: to,
            new_rows: to - from,
            rebuilt_accounts: dirty.len(),
        })
    })
}

/// Records the day's lead-to-account match rate as it is now (the latest of the day wins):
/// leads carry no date, so their match rate over time is what was observed.
pub fn observe_leads(sql: &mut dyn Sql, now: i64) -> Result<()> {
    sql.execute(
        "INSERT INTO lead_match_days (day, leads, matched)
         SELECT $1, COUNT(*), COUNT(account_id) FROM leads WHERE true
         ON CONFLICT (day) DO UPDATE SET leads = excluded.leads, matched = excluded.matched",
        &[now.div_euclid(86_400_000_000).into()],
    )?;
    Ok(())
}

/// Adds the rows matching `filter` (whose parameters are `params`) to the rollups; to the
/// weekly totals too when `totals` (rows moved between accounts are already counted there).
fn aggregate(
    sql: &mut dyn Sql,
    dialect: Dialect,
    weights: Weights<'_>,
    filter: &str,
    params: Vec<Value>,
    totals: bool,
) -> Result<()> {
    let week = dialect.week;
    let first_weight = params.len() + 1;
    let points = if weights.is_empty() {
        "0.0".to_owned()
    } else {
        let cases: String = weights
            .iter()
            .enumerate()
            .map(|(index, (kind, _))| {
                // Kind names are the closed set of `ActivityKind`, never a user's text.
                format!(
                    " WHEN '{kind}' THEN CAST(${} AS DOUBLE PRECISION)",
                    first_weight + index
                )
            })
            .collect();
        format!("SUM(CASE kind{cases} ELSE 0.0 END)")
    };
    let weighted: Vec<Value> = params
        .iter()
        .cloned()
        .chain(weights.iter().map(|(_, weight)| Value::Real(*weight)))
        .collect();
    sql.execute(
        &format!(
            "INSERT INTO rollup_account_weeks (account_id, week, activities, points)
             SELECT COALESCE(account_id, 0), {week}, COUNT(*), {points} FROM activities
             WHERE {filter} GROUP BY 1, 2
             ON CONFLICT (account_id, week) DO UPDATE SET
                 activities = rollup_account_weeks.activities + excluded.activities,
                 points = rollup_account_weeks.points + excluded.points"
        ),
        &weighted,
    )?;
    let mut statements = vec![
        format!(
            "INSERT INTO rollup_people_weeks (account_id, week, contact_id, n)
             SELECT account_id, {week}, contact_id, COUNT(*) FROM activities
             WHERE {filter} AND account_id IS NOT NULL AND contact_id IS NOT NULL GROUP BY 1, 2, 3
             ON CONFLICT (account_id, week, contact_id) DO UPDATE SET n = rollup_people_weeks.n + excluded.n"
        ),
        format!(
            "INSERT INTO rollup_item_weeks (account_id, week, dimension, item, n)
             SELECT COALESCE(account_id, 0), {week}, 'topic', topic, COUNT(*) FROM activities
             WHERE {filter} AND topic IS NOT NULL GROUP BY 1, 2, 4
             ON CONFLICT (account_id, week, dimension, item) DO UPDATE SET n = rollup_item_weeks.n + excluded.n"
        ),
        format!(
            "INSERT INTO rollup_item_weeks (account_id, week, dimension, item, n)
             SELECT COALESCE(account_id, 0), {week}, 'content', url, COUNT(*) FROM activities
             WHERE {filter} AND url IS NOT NULL AND kind IN {CONTENT_KINDS} GROUP BY 1, 2, 4
             ON CONFLICT (account_id, week, dimension, item) DO UPDATE SET n = rollup_item_weeks.n + excluded.n"
        ),
        format!(
            "INSERT INTO rollup_item_weeks (account_id, week, dimension, item, n)
             SELECT 0, {week}, 'domain', account_key, COUNT(*) FROM activities
             WHERE {filter} AND account_id IS NULL AND account_key IS NOT NULL GROUP BY 2, 4
             ON CONFLICT (account_id, week, dimension, item) DO UPDATE SET n = rollup_item_weeks.n + excluded.n"
        ),
    ];
    if totals {
        statements.push(format!(
            "INSERT INTO rollup_weeks (week, activities)
             SELECT {week}, COUNT(*) FROM activities WHERE {filter} GROUP BY 1
             ON CONFLICT (week) DO UPDATE SET activities = rollup_weeks.activities + excluded.activities"
        ));
    }
    for statement in &statements {
        sql.execute(statement, &params)?;
    }
    Ok(())
}

/// Week number (Monday-based, see the migration) of an epoch day.
pub fn week_of_day(epoch_day: i64) -> i64 {
    (epoch_day + 3).div_euclid(7)
}

/// The epoch day of a week's Monday.
pub fn monday_of_week(week: i64) -> i64 {
    week * 7 - 3
}
