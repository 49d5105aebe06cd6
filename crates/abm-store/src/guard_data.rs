//! What the guard reads besides consent and activities: the suppression list (emails and
//! whole domains), bounces, and per-account holds (do-not-contact, the owner's hold). Written
//! once for both backends.

use crate::Result;
use crate::sql::Sql;

/// A suppression list entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Suppression {
    pub value: String,
    /// `email` or `domain`.
    pub kind: String,
    pub reason: String,
    pub added_by: String,
    pub added_at: i64,
}

/// Adds an email or domain (lower case); an existing entry keeps its first reason.
pub fn suppress(sql: &mut dyn Sql, entry: &Suppression) -> Result<bool> {
    let changed = sql.execute(
        "INSERT INTO suppressions (value, kind, reason, added_by, added_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (value) DO NOTHING",
        &[
            entry.value.to_lowercase().into(),
            entry.kind.as_str().into(),
            entry.reason.as_str().into(),
            entry.added_by.as_str().into(),
            entry.added_at.into(),
        ],
    )?;
    Ok(changed > 0)
}

pub fn unsuppress(sql: &mut dyn Sql, value: &str) -> Result<bool> {
    Ok(sql.execute(
        "DELETE FROM suppressions WHERE value = $1",
        &[value.to_lowercase().into()],
    )? > 0)
}

pub fn suppressions(sql: &mut dyn Sql) -> Result<Vec<Suppression>> {
    let rows = sql.query(
        "SELECT value, kind, reason, added_by, added_at FROM suppressions ORDER BY value",
        &[],
    )?;
    rows.iter()
        .map(|row| {
            Ok(Suppression {
                value: row.text(0)?,
                kind: row.text(1)?,
                reason: row.text(2)?,
                added_by: row.text(3)?,
                added_at: row.int(4)?,
            })
        })
        .collect()
}

/// Whether an email, or its domain, is on the list.
pub fn is_suppressed(sql: &mut dyn Sql, email: &str) -> Result<bool> {
    let email = email.to_lowercase();
    let domain = email
        .rsplit_once('@')
        .map_or("", |(_, domain)| domain)
        .to_owned();
    Ok(sql
        .query_opt(
            "SELECT 1 FROM suppressions WHERE (kind = 'email' AND value = $1) OR (kind = 'domain' AND value = $2)",
            &[email.into(), domain.into()],
        )?
        .is_some())
}

/// Records a bounce; a hard bounce is never downgraded by a later soft one.
pub fn record_bounce(
    sql: &mut dyn Sql,
    email: &str,
    hard: bool,
    at: i64,
    detail: &str,
) -> Result<()> {
    let kind = if hard { "hard" } else { "soft" };
    sql.execute(
        "INSERT INTO bounces (email, kind, at, detail) VALUES ($1, $2, $3, $4)
         ON CONFLICT (email) DO UPDATE SET
            kind = CASE WHEN bounces.kind = 'hard' THEN 'hard' ELSE excluded.kind END,
            at = excluded.at, detail = excluded.detail",
        &[
            email.to_lowercase().into(),
            kind.into(),
            at.into(),
            detail.into(),
        ],
    )?;
    Ok(())
}

pub fn hard_bounced(sql: &mut dyn Sql, email: &str) -> Result<bool> {
    Ok(sql
        .query_opt(
            "SELECT 1 FROM bounces WHERE email = $1 AND kind = 'hard'",
            &[email.to_lowercase().into()],
        )?
        .is_some())
}

/// A hold on an account: `do_not_contact` (no end) or `hold` (until an instant).
#[derive(Debug, Clone, PartialEq)]
pub struct Hold {
    pub account_id: i64,
    pub kind: String,
    pub until: Option<i64>,
    pub reason: String,
    pub set_by: String,
    pub set_at: i64,
}

pub fn set_hold(sql: &mut dyn Sql, hold: &Hold) -> Result<()> {
    sql.execute(
        "INSERT INTO account_holds (account_id, kind, until_at, reason, set_by, set_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (account_id, kind) DO UPDATE SET until_at = excluded.until_at, reason = excluded.reason,
            set_by = excluded.set_by, set_at = excluded.set_at",
        &[
            hold.account_id.into(),
            hold.kind.as_str().into(),
            hold.until.into(),
            hold.reason.as_str().into(),
            hold.set_by.as_str().into(),
            hold.set_at.into(),
        ],
    )?;
    Ok(())
}

pub fn clear_hold(sql: &mut dyn Sql, account_id: i64, kind: &str) -> Result<bool> {
    Ok(sql.execute(
        "DELETE FROM account_holds WHERE account_id = $1 AND kind = $2",
        &[account_id.into(), kind.into()],
    )? > 0)
}

pub fn holds_of(sql: &mut dyn Sql, account_id: i64) -> Result<Vec<Hold>> {
    let rows = sql.query(
        "SELECT account_id, kind, until_at, reason, set_by, set_at FROM account_holds WHERE account_id = $1 ORDER BY kind",
        &[account_id.into()],
    )?;
    rows.iter()
        .map(|row| {
            Ok(Hold {
                account_id: row.int(0)?,
                kind: row.text(1)?,
                until: row.opt_int(2)?,
                reason: row.text(3)?,
                set_by: row.text(4)?,
                set_at: row.int(5)?,
            })
        })
        .collect()
}

/// Marks every contact and lead with this email opted out; returns how many rows changed.
pub fn opt_out(sql: &mut dyn Sql, email: &str) -> Result<u64> {
    let email = email.trim().to_lowercase();
    let contacts = sql.execute(
        "UPDATE contacts SET opted_out = $2 WHERE LOWER(email) = $1",
        &[email.as_str().into(), true.into()],
    )?;
    Ok(contacts)
}

/// Sets how many emails a person wants at most in 30 days.
pub fn set_preference(sql: &mut dyn Sql, email: &str, max_per_month: i64, at: i64) -> Result<()> {
    sql.execute(
        "INSERT INTO email_preferences (email, max_per_month, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (email) DO UPDATE SET max_per_month = excluded.max_per_month, updated_at = excluded.updated_at",
        &[email.trim().to_lowercase().into(), max_per_month.into(), at.into()],
    )?;
    Ok(())
}

/// How many emails a person wants at most in 30 days, when they said.
pub fn preference(sql: &mut dyn Sql, email: &str) -> Result<Option<u32>> {
    sql.query_opt(
        "SELECT max_per_month FROM email_preferences WHERE email = $1",
        &[email.trim().to_lowercase().into()],
    )?
    .map(|row| row.int(0).map(|n| n.clamp(0, i64::from(u32::MAX)) as u32))
    .transpose()
}
