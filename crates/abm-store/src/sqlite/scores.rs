//! The SQLite side of scoring: reading what scores are computed from, storing the scores
//! and the stage changes.

use crate::codec;
use crate::scores::{
    self, SaveOutcome, SavedScore, ScoringAccount, ScoringActivity, StageChange, StoredScore,
};
use crate::{Result, StoreError};
use abm_core::AccountId;
use abm_core::score::facts::{IntentWeek, OpportunityFact};
use abm_core::score::{ScoreValues, Stage};
use rusqlite::{Connection, OptionalExtension, params};

/// A text column borrowed from the row; a non-text value is corrupt data, not a panic.
fn text<'r>(row: &'r rusqlite::Row<'_>, index: usize) -> Result<Option<&'r str>> {
    row.get_ref(index)?
        .as_str_or_null()
        .map_err(|error| StoreError::Corrupt(format!("column {index}: {error}")))
}

/// A text column's bytes, unchecked: see [`ScoringActivity`].
fn bytes<'r>(row: &'r rusqlite::Row<'_>, index: usize) -> Result<Option<&'r [u8]>> {
    row.get_ref(index)?
        .as_bytes_or_null()
        .map_err(|error| StoreError::Corrupt(format!("column {index}: {error}")))
}

/// A row of `accounts_query` or `account_query`.
fn scoring_account_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ScoringAccount> {
    Ok(scores::scoring_account(
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
        row.get(8)?,
        &row.get::<_, String>(9)?,
        row.get(10)?,
        row.get(11)?,
    ))
}

pub(super) fn accounts(connection: &Connection) -> Result<Vec<ScoringAccount>> {
    let mut statement = connection.prepare(&scores::accounts_query("a.technologies"))?;
    let rows = statement.query_map([], scoring_account_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn account(connection: &Connection, id: AccountId) -> Result<Option<ScoringAccount>> {
    let mut statement =
        connection.prepare_cached(&scores::account_query("a.technologies", "?1"))?;
    let found = statement
        .query_row([id.0], scoring_account_row)
        .optional()?;
    Ok(found)
}

pub(super) fn activities(
    connection: &Connection,
    accounts: Option<&[AccountId]>,
    until: i64,
    seqs: Option<(i64, i64)>,
    visit: &mut dyn FnMut(ScoringActivity<'_>),
) -> Result<()> {
    const COLUMNS: &str =
        "a.account_id, a.occurred_at, a.kind, a.contact_id, a.email, a.url, a.topic";
    // Unmatched and later rows are skipped here rather than in SQL: a test in Rust costs less
    // than the two extra column reads and jumps the statement would make for every row.
    let mut each = |row: &rusqlite::Row<'_>| -> Result<()> {
        let Some(account) = row.get::<_, Option<i64>>(0)? else {
            return Ok(());
        };
        let at: i64 = row.get(1)?;
        if at > until {
            return Ok(());
        }
        let kind = bytes(row, 2)?.unwrap_or_default();
        visit(ScoringActivity {
            account: AccountId(account),
            at,
            kind,
            contact: row.get(3)?,
            email: bytes(row, 4)?,
            url: bytes(row, 5)?,
            topic: text(row, 6)?,
        });
        Ok(())
    };
    match accounts {
        None => {
            let (first, last) = seqs.unwrap_or((i64::MIN, i64::MAX));
            let mut statement = connection.prepare(&format!(
                "SELECT {COLUMNS} FROM activities a WHERE a.seq BETWEEN ?1 AND ?2"
            ))?;
            let mut rows = statement.query(params![first, last])?;
            while let Some(row) = rows.next()? {
                each(row)?;
            }
        }
        Some(accounts) => {
            // The timeline table is keyed (account, time): one range read per account.
            let mut statement = connection.prepare(&format!(
                "SELECT {COLUMNS} FROM activity_timeline t JOIN activities a ON a.seq = t.seq \
                 WHERE t.account_id = ?1 AND t.occurred_at <= ?2"
            ))?;
            for account in accounts {
                let mut rows = statement.query(params![account.0, until])?;
                while let Some(row) = rows.next()? {
                    each(row)?;
                }
            }
        }
    }
    Ok(())
}

pub(super) fn intent(
    connection: &Connection,
    accounts: Option<&[AccountId]>,
    visit: &mut dyn FnMut(AccountId, IntentWeek),
) -> Result<()> {
    let mut each = |row: &rusqlite::Row<'_>| -> Result<()> {
        let date = codec::date(&row.get::<_, String>(2)?)?;
        let score: i64 = row.get(3)?;
        visit(
            AccountId(row.get(0)?),
            IntentWeek {
                topic: row.get(1)?,
                date,
                score: u8::try_from(score.clamp(0, 100)).unwrap_or(0),
            },
        );
        Ok(())
    };
    const COLUMNS: &str = "account_id, topic, date, score FROM intent_signals";
    match accounts {
        None => {
            let mut statement =
                connection.prepare(&format!("SELECT {COLUMNS} WHERE account_id IS NOT NULL"))?;
            let mut rows = statement.query([])?;
            while let Some(row) = rows.next()? {
                each(row)?;
            }
        }
        Some(accounts) => {
            let mut statement =
                connection.prepare(&format!("SELECT {COLUMNS} WHERE account_id = ?1"))?;
            for account in accounts {
                let mut rows = statement.query([account.0])?;
                while let Some(row) = rows.next()? {
                    each(row)?;
                }
            }
        }
    }
    Ok(())
}

pub(super) fn opportunities(
    connection: &Connection,
    visit: &mut dyn FnMut(AccountId, OpportunityFact),
) -> Result<()> {
    let mut statement = connection.prepare(
        "SELECT account_id, created_on, close_date, closed, won, amount FROM opportunities WHERE account_id IS NOT NULL",
    )?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let close_date = match row.get::<_, Option<String>>(2)? {
            Some(text) => Some(codec::date(&text)?),
            None => None,
        };
        visit(
            AccountId(row.get(0)?),
            OpportunityFact {
                created_on: codec::date(&row.get::<_, String>(1)?)?,
                close_date,
                closed: row.get(3)?,
                won: row.get(4)?,
                amount: row.get(5)?,
            },
        );
    }
    Ok(())
}

/// A stage change to write: account, time, from, to, reason.
type ChangeRow<'a> = (i64, i64, Option<&'a str>, &'a str, &'a str);

/// Writes (or overwrites) the scores of these accounts as of `scored_at`.
fn write_scores(connection: &Connection, scored_at: i64, rows: &[&SavedScore]) -> Result<()> {
    let mut upsert = connection.prepare(
        "INSERT INTO account_scores (account_id, scored_at, fit, intent, engagement, priority, stage, stage_reason) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
         ON CONFLICT (account_id) DO UPDATE SET scored_at = excluded.scored_at, fit = excluded.fit, intent = excluded.intent, \
         engagement = excluded.engagement, priority = excluded.priority, stage = excluded.stage, \
         stage_reason = excluded.stage_reason",
    )?;
    for row in rows {
        let s = &row.values;
        upsert.execute(params![
            row.account.0,
            scored_at,
            s.fit,
            s.intent,
            s.engagement,
            s.priority,
            row.stage.as_str(),
            row.stage_reason,
        ])?;
    }
    Ok(())
}

fn write_changes(connection: &Connection, changes: &[ChangeRow<'_>]) -> Result<()> {
    let mut insert = connection.prepare(
        "INSERT INTO stage_changes (account_id, changed_at, from_stage, to_stage, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (account, at, from, to, reason) in changes {
        insert.execute(params![account, at, from, to, reason])?;
    }
    Ok(())
}

pub(super) fn save(
    connection: &mut Connection,
    scored_at: i64,
    rows: &[SavedScore],
) -> Result<SaveOutcome> {
    // Immediate: the stored stages are read under the write lock, so another process saving
    // at the same time waits instead of recording the same stage change twice.
    let transaction =
        connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let plan = {
        let mut statement =
            transaction.prepare("SELECT account_id, scored_at, stage FROM account_scores")?;
        let stored = statement
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    (r.get::<_, i64>(1)?, r.get::<_, String>(2)?),
                ))
            })?
            .collect::<rusqlite::Result<std::collections::HashMap<_, _>>>()?;
        scores::plan(&stored, scored_at, rows)
    };
    write_scores(&transaction, scored_at, &plan.writes)?;
    let changes: Vec<ChangeRow<'_>> = plan
        .changes
        .iter()
        .map(|(row, from)| {
            (
                row.account.0,
                scored_at,
                from.as_deref(),
                row.stage.as_str(),
                row.stage_reason.as_str(),
            )
        })
        .collect();
    write_changes(&transaction, &changes)?;
    transaction.commit()?;
    Ok(plan.outcome)
}

pub(super) fn replace_history(
    connection: &mut Connection,
    scored_at: i64,
    rows: &[SavedScore],
    changes: &[(AccountId, StageChange)],
) -> Result<()> {
    let transaction = connection.transaction()?;
    transaction.execute_batch("DELETE FROM stage_changes; DELETE FROM account_scores;")?;
    let changes: Vec<ChangeRow<'_>> = changes
        .iter()
        .map(|(account, c)| {
            (
                account.0,
                c.changed_at,
                c.from.map(Stage::as_str),
                c.to.as_str(),
                c.reason.as_str(),
            )
        })
        .collect();
    write_changes(&transaction, &changes)?;
    write_scores(&transaction, scored_at, &rows.iter().collect::<Vec<_>>())?;
    transaction.commit()?;
    Ok(())
}

const STORED: &str = "SELECT s.account_id, a.domain, a.name, s.scored_at, s.stage, s.stage_reason, s.fit, s.intent, s.engagement, s.priority \
                      FROM account_scores s JOIN accounts a ON a.id = s.account_id";

fn stored_row(row: &rusqlite::Row<'_>) -> Result<StoredScore> {
    Ok(StoredScore {
        account: AccountId(row.get(0)?),
        domain: row.get(1)?,
        name: row.get(2)?,
        scored_at: row.get(3)?,
        stage: scores::decode_stage(&row.get::<_, String>(4)?)?,
        stage_reason: row.get(5)?,
        values: ScoreValues {
            fit: row.get(6)?,
            intent: row.get(7)?,
            engagement: row.get(8)?,
            priority: row.get(9)?,
        },
    })
}

pub(super) fn stored(connection: &Connection) -> Result<Vec<StoredScore>> {
    let mut statement =
        connection.prepare(&format!("{STORED} ORDER BY s.priority DESC, a.domain"))?;
    let mut rows = statement.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(stored_row(row)?);
    }
    Ok(out)
}

pub(super) fn stored_one(
    connection: &Connection,
    account: AccountId,
) -> Result<Option<StoredScore>> {
    let mut statement = connection.prepare(&format!("{STORED} WHERE s.account_id = ?1"))?;
    let mut rows = statement.query([account.0])?;
    match rows.next()? {
        Some(row) => Ok(Some(stored_row(row)?)),
        None => Ok(None),
    }
}

pub(super) fn history(connection: &Connection, account: AccountId) -> Result<Vec<StageChange>> {
    let mut statement = connection.prepare(
        "SELECT changed_at, from_stage, to_stage, reason FROM stage_changes WHERE account_id = ?1 ORDER BY changed_at, id",
    )?;
    let mut rows = statement.query([account.0])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(StageChange {
            changed_at: row.get(0)?,
            from: match row.get::<_, Option<String>>(1)? {
                Some(stage) => Some(scores::decode_stage(&stage)?),
                None => None,
            },
            to: scores::decode_stage(&row.get::<_, String>(2)?)?,
            reason: row.get(3)?,
        });
    }
    Ok(out)
}
