//! The PostgreSQL side of scoring: reading what scores are computed from, storing the scores
//! and the stage changes.

use crate::scores::{
    self, SaveOutcome, SavedScore, ScoringAccount, ScoringActivity, StageChange, StoredScore,
};
use crate::{Result, StoreError};
use abm_core::AccountId;
use abm_core::score::facts::{IntentWeek, OpportunityFact};
use abm_core::score::{ScoreValues, Stage};
use jiff::Timestamp;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use postgres::{Client, Row, Transaction};

pub(super) fn accounts(client: &mut Client) -> Result<Vec<ScoringAccount>> {
    let rows = client.query(&scores::accounts_query("a.technologies::text"), &[])?;
    Ok(rows
        .iter()
        .map(|row| {
            scores::scoring_account(
                row.get(0),
                row.get(1),
                row.get(2),
                row.get(3),
                row.get(4),
                row.get(5),
                row.get(6),
                row.get(7),
                row.get(8),
                row.get::<_, &str>(9),
                row.get(10),
                row.get(11),
            )
        })
        .collect())
}

pub(super) fn account(client: &mut Client, id: AccountId) -> Result<Option<ScoringAccount>> {
    let row = client.query_opt(
        &scores::account_query("a.technologies::text", "$1"),
        &[&id.0],
    )?;
    Ok(row.map(|row| {
        scores::scoring_account(
            row.get(0),
            row.get(1),
            row.get(2),
            row.get(3),
            row.get(4),
            row.get(5),
            row.get(6),
            row.get(7),
            row.get(8),
            row.get::<_, &str>(9),
            row.get(10),
            row.get(11),
        )
    }))
}

fn micros(timestamp: Timestamp) -> i64 {
    timestamp.as_microsecond()
}

pub(super) fn activities(
    client: &mut Client,
    accounts: Option<&[AccountId]>,
    until: i64,
    seqs: Option<(i64, i64)>,
    visit: &mut dyn FnMut(ScoringActivity<'_>),
) -> Result<()> {
    let (first, last) = seqs.unwrap_or((i64::MIN, i64::MAX));
    let until = Timestamp::from_microsecond(until)
        .map_err(|error| StoreError::Corrupt(format!("scoring time: {error}")))?;
    let ids: Vec<i64> = accounts.unwrap_or_default().iter().map(|a| a.0).collect();
    let (sql, parameters): (&str, Vec<&(dyn ToSql + Sync)>) = match accounts {
        None => (
            "SELECT account_id, occurred_at, kind, contact_id, email, url, topic FROM activities \
             WHERE seq BETWEEN $2 AND $3 AND account_id IS NOT NULL AND occurred_at <= $1",
            vec![&until, &first, &last],
        ),
        Some(_) => (
            "SELECT account_id, occurred_at, kind, contact_id, email, url, topic FROM activities \
             WHERE account_id = ANY($2) AND occurred_at <= $1",
            vec![&until, &ids],
        ),
    };
    // Streamed: ten million rows are never held at once.
    let mut rows = client.query_raw(sql, parameters)?;
    while let Some(row) = rows.next()? {
        visit(ScoringActivity {
            account: AccountId(row.get(0)),
            at: micros(row.get(1)),
            kind: row.get::<_, &str>(2).as_bytes(),
            contact: row.get(3),
            email: row.get::<_, Option<&str>>(4).map(str::as_bytes),
            url: row.get::<_, Option<&str>>(5).map(str::as_bytes),
            topic: row.get(6),
        });
    }
    Ok(())
}

pub(super) fn intent(
    client: &mut Client,
    accounts: Option<&[AccountId]>,
    visit: &mut dyn FnMut(AccountId, IntentWeek),
) -> Result<()> {
    let ids: Vec<i64> = accounts.unwrap_or_default().iter().map(|a| a.0).collect();
    let rows = match accounts {
        None => client.query(
            "SELECT account_id, topic, date, score FROM intent_signals WHERE account_id IS NOT NULL",
            &[],
        )?,
        Some(_) => client.query(
            "SELECT account_id, topic, date, score FROM intent_signals WHERE account_id = ANY($1)",
            &[&ids],
        )?,
    };
    for row in rows {
        let score: i16 = row.get(3);
        visit(
            AccountId(row.get(0)),
            IntentWeek {
                topic: row.get(1),
                date: row.get(2),
                score: u8::try_from(score.clamp(0, 100)).unwrap_or(0),
            },
        );
    }
    Ok(())
}

pub(super) fn opportunities(
    client: &mut Client,
    visit: &mut dyn FnMut(AccountId, OpportunityFact),
) -> Result<()> {
    for row in client.query(
        "SELECT account_id, created_on, close_date, closed, won, amount FROM opportunities WHERE account_id IS NOT NULL",
        &[],
    )? {
        visit(
            AccountId(row.get(0)),
            OpportunityFact {
                created_on: row.get(1),
                close_date: row.get(2),
                closed: row.get(3),
                won: row.get(4),
                amount: row.get(5),
            },
        );
    }
    Ok(())
}

/// Rows per multi-row statement: one round trip writes this many.
const SAVE_BATCH: usize = 2_000;

/// A stage change to write: account, time, from, to, reason.
type ChangeRow<'a> = (i64, i64, Option<&'a str>, &'a str, &'a str);

/// Writes (or overwrites) the scores of these accounts as of `scored_at`: arrays unnested
/// into rows, one statement per batch instead of one per account. A row scored later by a
/// concurrent writer (another `abm worker`, committed after this transaction read the stored
/// scores) is kept: the upsert's row lock makes the newer-wins rule hold between writers.
fn write_scores(
    transaction: &mut Transaction<'_>,
    scored_at: i64,
    rows: &[&SavedScore],
) -> Result<()> {
    let upsert = transaction.prepare(
        "INSERT INTO account_scores (account_id, scored_at, fit, intent, engagement, priority, stage, stage_reason) \
         SELECT a, $2, f, i, e, p, s, r FROM UNNEST($1::bigint[], $3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::text[], $8::text[]) AS t(a, f, i, e, p, s, r) \
         ON CONFLICT (account_id) DO UPDATE SET scored_at = excluded.scored_at, fit = excluded.fit, intent = excluded.intent, \
         engagement = excluded.engagement, priority = excluded.priority, stage = excluded.stage, \
         stage_reason = excluded.stage_reason \
         WHERE account_scores.scored_at <= excluded.scored_at",
    )?;
    for batch in rows.chunks(SAVE_BATCH) {
        let ids: Vec<i64> = batch.iter().map(|r| r.account.0).collect();
        let fit: Vec<f64> = batch.iter().map(|r| r.values.fit).collect();
        let intent: Vec<f64> = batch.iter().map(|r| r.values.intent).collect();
        let engagement: Vec<f64> = batch.iter().map(|r| r.values.engagement).collect();
        let priority: Vec<f64> = batch.iter().map(|r| r.values.priority).collect();
        let stage: Vec<&str> = batch.iter().map(|r| r.stage.as_str()).collect();
        let reason: Vec<&str> = batch.iter().map(|r| r.stage_reason.as_str()).collect();
        transaction.execute(
            &upsert,
            &[
                &ids,
                &scored_at,
                &fit,
                &intent,
                &engagement,
                &priority,
                &stage,
                &reason,
            ],
        )?;
    }
    Ok(())
}

fn write_changes(transaction: &mut Transaction<'_>, changes: &[ChangeRow<'_>]) -> Result<()> {
    let insert = transaction.prepare(
        "INSERT INTO stage_changes (account_id, changed_at, from_stage, to_stage, reason) \
         SELECT a, c, f, t, r FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS u(a, c, f, t, r, n) ORDER BY n",
    )?;
    for batch in changes.chunks(SAVE_BATCH) {
        let ids: Vec<i64> = batch.iter().map(|c| c.0).collect();
        let at: Vec<i64> = batch.iter().map(|c| c.1).collect();
        let from: Vec<Option<&str>> = batch.iter().map(|c| c.2).collect();
        let to: Vec<&str> = batch.iter().map(|c| c.3).collect();
        let reason: Vec<&str> = batch.iter().map(|c| c.4).collect();
        transaction.execute(&insert, &[&ids, &at, &from, &to, &reason])?;
    }
    Ok(())
}

/// The advisory lock saves of scores take turns by ("abm_scor").
const SAVE_LOCK: i64 = 0x6162_6d5f_7363_6f72;
/// Up to this many accounts, a save reads their stored rows by id; more, the whole table.
const PARTIAL_READ: usize = 5_000;

pub(super) fn save(
    client: &mut Client,
    scored_at: i64,
    rows: &[SavedScore],
) -> Result<SaveOutcome> {
    let mut transaction = client.transaction()?;
    // Saves take turns: two workers re-scoring one account at once would otherwise both read
    // its old stage and both record the same stage change. The lock is held to the commit,
    // and the stored stages are read after it, so the second sees the first's.
    transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&SAVE_LOCK])?;
    // A partial re-score (a worker's, the collector's) reads only its accounts' rows.
    let rows_read = if rows.len() <= PARTIAL_READ {
        let ids: Vec<i64> = rows.iter().map(|row| row.account.0).collect();
        transaction.query(
            "SELECT account_id, scored_at, stage FROM account_scores WHERE account_id = ANY($1)",
            &[&ids],
        )?
    } else {
        transaction.query(
            "SELECT account_id, scored_at, stage FROM account_scores",
            &[],
        )?
    };
    let stored: std::collections::HashMap<i64, (i64, String)> = rows_read
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect();
    let plan = scores::plan(&stored, scored_at, rows);
    write_scores(&mut transaction, scored_at, &plan.writes)?;
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
    write_changes(&mut transaction, &changes)?;
    transaction.commit()?;
    Ok(plan.outcome)
}

pub(super) fn replace_history(
    client: &mut Client,
    scored_at: i64,
    rows: &[SavedScore],
    changes: &[(AccountId, StageChange)],
) -> Result<()> {
    let mut transaction = client.transaction()?;
    transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&SAVE_LOCK])?;
    transaction.batch_execute("DELETE FROM stage_changes; DELETE FROM account_scores;")?;
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
    write_changes(&mut transaction, &changes)?;
    write_scores(
        &mut transaction,
        scored_at,
        &rows.iter().collect::<Vec<_>>(),
    )?;
    transaction.commit()?;
    Ok(())
}

const STORED: &str = "SELECT s.account_id, a.domain, a.name, s.scored_at, s.stage, s.stage_reason, s.fit, s.intent, s.engagement, s.priority \
                      FROM account_scores s JOIN accounts a ON a.id = s.account_id";

fn stored_row(row: &Row) -> Result<StoredScore> {
    Ok(StoredScore {
        account: AccountId(row.get(0)),
        domain: row.get(1),
        name: row.get(2),
        scored_at: row.get(3),
        stage: scores::decode_stage(row.get(4))?,
        stage_reason: row.get(5),
        values: ScoreValues {
            fit: row.get(6),
            intent: row.get(7),
            engagement: row.get(8),
            priority: row.get(9),
        },
    })
}

pub(super) fn stored(client: &mut Client) -> Result<Vec<StoredScore>> {
    client
        .query(&format!("{STORED} ORDER BY s.priority DESC, a.domain"), &[])?
        .iter()
        .map(stored_row)
        .collect()
}

pub(super) fn stored_one(client: &mut Client, account: AccountId) -> Result<Option<StoredScore>> {
    match client.query_opt(&format!("{STORED} WHERE s.account_id = $1"), &[&account.0])? {
        Some(row) => Ok(Some(stored_row(&row)?)),
        None => Ok(None),
    }
}

pub(super) fn history(client: &mut Client, account: AccountId) -> Result<Vec<StageChange>> {
    client
        .query(
            "SELECT changed_at, from_stage, to_stage, reason FROM stage_changes WHERE account_id = $1 ORDER BY changed_at, id",
            &[&account.0],
        )?
        .iter()
        .map(|row| {
            Ok(StageChange {
                changed_at: row.get(0),
                from: match row.get::<_, Option<&str>>(1) {
                    Some(stage) => Some(scores::decode_stage(stage)?),
                    None => None,
                },
                to: scores::decode_stage(row.get(2))?,
                reason: row.get(3),
            })
        })
        .collect()
}
