//! First-party visitors: who a visitor id turned out to be, and the step that ties a visitor's
//! anonymous events to the contact and account once they identify. Written once for both
//! backends ([`crate::sql`]); the events themselves go through the activity log's own lanes
//! ([`crate::ImportTransaction::write_activities`]), so they are idempotent by id like any
//! import.

use crate::Result;
use crate::sql::{Row, Sql, Value};

/// What the store knows of one visitor id.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VisitorRecord {
    pub id: String,
    pub first_seen: i64,
    pub last_seen: i64,
    pub events: i64,
    pub account_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub email: Option<String>,
    /// `identify` (an email the visitor gave) or `reverse_ip` (their network's company).
    pub identified_by: Option<String>,
    pub confidence: Option<f64>,
    pub organization: Option<String>,
}

const COLUMNS: &str = "id, first_seen, last_seen, events, account_id, contact_id, email, identified_by, confidence, organization";

pub fn visitor(sql: &mut dyn Sql, id: &str) -> Result<Option<VisitorRecord>> {
    sql.query_opt(
        &format!("SELECT {COLUMNS} FROM visitors WHERE id = $1"),
        &[id.into()],
    )?
    .map(|row| visitor_row(&row))
    .transpose()
}

/// Visitors one statement reads or writes at most: a collector's batch takes a few
/// statements, far below both backends' limits on bound parameters (SQLite 32,766,
/// PostgreSQL 65,535).
const VISITORS_PER_STATEMENT: usize = 64;

/// The stored visitors among `ids` (an id given twice is read once; ids not stored are left
/// out), in no particular order: a batch of events reads its visitors in a few statements
/// instead of one each.
pub fn visitors(sql: &mut dyn Sql, ids: &[&str]) -> Result<Vec<VisitorRecord>> {
    let query = format!(
        "SELECT {COLUMNS} FROM visitors WHERE id IN ({})",
        placeholders(1, VISITORS_PER_STATEMENT)
    );
    // Each id once, though the caller repeats it in two chunks.
    let ids: Vec<&str> = ids
        .iter()
        .copied()
        .collect::<std::collections::BTreeSet<&str>>()
        .into_iter()
        .collect();
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(VISITORS_PER_STATEMENT) {
        // A shorter chunk repeats its last id, so every lookup runs the one statement text
        // (prepared once); a repeated id still matches its row once.
        let Some(last) = chunk.last() else { continue };
        let params: Vec<Value> = (0..VISITORS_PER_STATEMENT)
            .map(|index| Value::from(*chunk.get(index).unwrap_or(last)))
            .collect();
        for row in sql.query(&query, &params)? {
            found.push(visitor_row(&row)?);
        }
    }
    Ok(found)
}

/// `$first, $first+1, …` for `count` parameters.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|index| format!("${index}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `VALUES` tuples of every visitor column for `rows` visitors.
fn visitor_tuples(rows: usize) -> String {
    const WIDTH: usize = 10;
    (0..rows)
        .map(|row| format!("({})", placeholders(row * WIDTH + 1, WIDTH)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn visitor_values(visitor: &VisitorRecord, into: &mut Vec<Value>) {
    into.extend([
        visitor.id.as_str().into(),
        visitor.first_seen.into(),
        visitor.last_seen.into(),
        visitor.events.into(),
        visitor.account_id.into(),
        visitor.contact_id.into(),
        visitor.email.clone().into(),
        visitor.identified_by.clone().into(),
        visitor.confidence.into(),
        visitor.organization.clone().into(),
    ]);
}

/// What a multi-row visitor write does to a visitor already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisitorWrite {
    /// The identity columns are replaced: the caller merged a new identity into the record.
    Whole,
    /// Only the visits: the identity is as stored, and its columns (and the index on the
    /// account) are left untouched, so a returning visitor's visit rewrites one row and no
    /// index entry.
    Visits,
}

/// Writes visitors as the caller merged them, up to [`VISITORS_PER_STATEMENT`] a statement;
/// a visitor not yet stored is inserted whole either way. Each id at most once (one
/// statement may not change a row twice on PostgreSQL).
///
/// Visits add up rather than overwrite, so that several writers (the workers of the stream)
/// may record one visitor at once without losing a visit: a record's `events` are the events
/// of this write, added to the stored count, and its first and last seen times only widen the
/// stored ones.
pub fn save_visitors(
    sql: &mut dyn Sql,
    visitors: &[&VisitorRecord],
    write: VisitorWrite,
) -> Result<()> {
    const VISITS: &str = "first_seen = CASE WHEN excluded.first_seen < visitors.first_seen
                   THEN excluded.first_seen ELSE visitors.first_seen END,
               last_seen = CASE WHEN excluded.last_seen > visitors.last_seen
                   THEN excluded.last_seen ELSE visitors.last_seen END,
               events = visitors.events + excluded.events";
    let update = match write {
        VisitorWrite::Whole => format!(
            "{VISITS},
               account_id = excluded.account_id, contact_id = excluded.contact_id,
               email = excluded.email, identified_by = excluded.identified_by,
               confidence = excluded.confidence, organization = excluded.organization"
        ),
        VisitorWrite::Visits => VISITS.to_owned(),
    };
    // Full chunks share one statement text; the rest goes in chunks of halving sizes, so
    // a batch of any size needs at most a handful of texts, each prepared once.
    let mut rest = visitors;
    while !rest.is_empty() {
        let mut rows = VISITORS_PER_STATEMENT;
        while rows > rest.len() {
            rows /= 2;
        }
        let (chunk, after) = rest.split_at(rows);
        let mut params = Vec::with_capacity(rows * 10);
        for visitor in chunk {
            visitor_values(visitor, &mut params);
        }
        sql.execute(
            &format!(
                "INSERT INTO visitors ({COLUMNS}) VALUES {}
                 ON CONFLICT (id) DO UPDATE SET {update}",
                visitor_tuples(rows)
            ),
            &params,
        )?;
        rest = after;
    }
    Ok(())
}

fn visitor_row(row: &Row) -> Result<VisitorRecord> {
    Ok(VisitorRecord {
        id: row.text(0)?,
        first_seen: row.int(1)?,
        last_seen: row.int(2)?,
        events: row.int(3)?,
        account_id: row.opt_int(4)?,
        contact_id: row.opt_int(5)?,
        email: row.opt_text(6)?,
        identified_by: row.opt_text(7)?,
        confidence: row.opt_real(8)?,
        organization: row.opt_text(9)?,
    })
}

/// Ties a visitor's events that have no contact yet to `contact` (when known) and `account`:
/// the visitor's anonymous history joins the person and the company. Only those rows are
/// read, through the partial index on them. Returns the events moved.
pub fn link_visitor_activities(
    sql: &mut dyn Sql,
    visitor: &str,
    account_id: Option<i64>,
    contact_id: Option<i64>,
) -> Result<u64> {
    if let Some(account) = account_id {
        crate::rollup::mark_visitor(sql, visitor, account)?;
    }
    match (account_id, contact_id) {
        (Some(account), Some(contact)) => sql.execute(
            "UPDATE activities SET account_id = $2, contact_id = $3, account_key = NULL
             WHERE visitor = $1 AND contact_id IS NULL",
            &[visitor.into(), account.into(), contact.into()],
        ),
        // A company without a person (an email whose contact is not known yet): the events
        // join the account and stay ready for the contact.
        (Some(account), None) => sql.execute(
            "UPDATE activities SET account_id = $2, account_key = NULL
             WHERE visitor = $1 AND contact_id IS NULL AND (account_id IS NULL OR account_id <> $2)",
            &[visitor.into(), account.into()],
        ),
        _ => Ok(0),
    }
}

/// A named secret, created with `make` (and stored) the first time it is asked for; every
/// node reads the same one. Two nodes racing to create it both end with the stored value.
pub fn secret(
    sql: &mut dyn Sql,
    name: &str,
    now: i64,
    make: impl FnOnce() -> String,
) -> Result<String> {
    if let Some(value) = stored_secret(sql, name)? {
        return Ok(value);
    }
    sql.execute(
        "INSERT INTO secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
        &[name.into(), make().into(), now.into()],
    )?;
    stored_secret(sql, name)?
        .ok_or_else(|| crate::StoreError::Corrupt(format!("the secret {name} was not stored")))
}

pub fn stored_secret(sql: &mut dyn Sql, name: &str) -> Result<Option<String>> {
    sql.query_opt("SELECT value FROM secrets WHERE name = $1", &[name.into()])?
        .map(|row| row.text(0))
        .transpose()
}

/// Sets a secret (a new webhook secret replaces the old one); true when it existed.
pub fn replace_secret(sql: &mut dyn Sql, name: &str, value: &str, now: i64) -> Result<bool> {
    let existed = stored_secret(sql, name)?.is_some();
    sql.execute(
        "INSERT INTO secrets (name, value, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value, created_at = excluded.created_at",
        &[name.into(), value.into(), now.into()],
    )?;
    Ok(existed)
}

/// The names of the secrets with this prefix (`webhook:`), never their values.
pub fn secret_names(sql: &mut dyn Sql, prefix: &str) -> Result<Vec<(String, i64)>> {
    sql.query(
        "SELECT name, created_at FROM secrets WHERE substr(name, 1, $2) = $1 ORDER BY name",
        &[prefix.into(), (prefix.len() as i64).into()],
    )?
    .iter()
    .map(|row| Ok((row.text(0)?, row.int(1)?)))
    .collect()
}

/// What a website may adapt to: the account's industry, TAL tier (approved entries only),
/// cluster, journey stage and fit.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AccountProfile {
    pub account_id: i64,
    pub domain: String,
    pub name: Option<String>,
    pub industry: Option<String>,
    pub tier: Option<String>,
    pub cluster: Option<String>,
    pub stage: Option<String>,
    pub fit: Option<f64>,
}

pub fn account_profile(sql: &mut dyn Sql, account_id: i64) -> Result<Option<AccountProfile>> {
    sql.query_opt(
        "SELECT a.id, a.domain, a.name, a.industry,
                CASE WHEN t.status = 'approved' THEN COALESCE(t.tier_override, t.tier) END,
                c.name, s.stage, s.fit
         FROM accounts a
         LEFT JOIN tal_entries t ON t.account_id = a.id
         LEFT JOIN cluster_members m ON m.account_id = a.id
         LEFT JOIN clusters c ON c.id = m.cluster_id
         LEFT JOIN account_scores s ON s.account_id = a.id
         WHERE a.id = $1",
        &[account_id.into()],
    )?
    .map(|row| {
        Ok(AccountProfile {
            account_id: row.int(0)?,
            domain: row.text(1)?,
            name: row.opt_text(2)?,
            industry: row.opt_text(3)?,
            tier: row.opt_text(4)?,
            cluster: row.opt_text(5)?,
            stage: row.opt_text(6)?,
            fit: row.opt_real(7)?,
        })
    })
    .transpose()
}

/// Every named account's (name, primary domain): what reverse-IP matches an organization to.
pub fn account_names(sql: &mut dyn Sql) -> Result<Vec<(String, String)>> {
    sql.query(
        "SELECT name, domain FROM accounts WHERE name IS NOT NULL ORDER BY id",
        &[],
    )?
    .iter()
    .map(|row| Ok((row.text(0)?, row.text(1)?)))
    .collect()
}
