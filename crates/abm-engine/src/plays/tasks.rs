//! What a completed sales task leaves behind: an activity on the account's timeline (a call
//! as a `call`, a personal email as `email_sent`, the rest as `other`), through the same
//! idempotent ingest path as imports — its id is the task's, so recording twice records once.

use abm_store::plays::TaskRow;
use abm_store::{ActivityRow, ImportFigures, ImportRecord, SourceLine, Store, StoreError};

pub fn record_outcome(
    store: &mut dyn Store,
    task: &TaskRow,
    outcome: &str,
    now: i64,
) -> Result<(), StoreError> {
    let kind = match task.kind.as_str() {
        "call" => abm_core::ActivityKind::Call,
        "personal_email" => abm_core::ActivityKind::EmailSent,
        _ => abm_core::ActivityKind::Other,
    };
    let corrupt = |error: String| StoreError::Corrupt(error);
    let activity = abm_core::Activity {
        id: abm_core::ActivityId::parse(&format!("abm-task-{}", task.id))
            .map_err(|e| corrupt(e.to_string()))?,
        kind,
        occurred_at: jiff::Timestamp::from_microsecond(now).map_err(|e| corrupt(e.to_string()))?,
        email: task
            .email
            .as_deref()
            .and_then(|email| abm_core::Email::parse(email).ok()),
        domain: None,
        url: None,
        // The outcome in the rep's words, cut to a topic's length.
        topic: Some(outcome.chars().take(200).collect()),
        campaign: Some(task.play.clone()),
        channel: Some(format!("sales_task:{}", task.kind)),
    };
    let fingerprint = activity.fingerprint();
    let mut transaction = store.begin_import(&ImportRecord {
        kind: "task".into(),
        files: Vec::new(),
        started_at: activity.occurred_at,
        expected_rows: 1,
    })?;
    let mut outcome = transaction.write_activities(&[ActivityRow {
        activity,
        account: Some(abm_core::AccountId(task.account_id)),
        contact: task.contact_id.map(abm_core::ContactId),
        account_key: None,
        fingerprint,
        source: SourceLine { file: 0, line: 1 },
        visitor: None,
    }])?;
    outcome.absorb(transaction.finish_activities()?);
    transaction.commit(&ImportFigures {
        rows_read: 1,
        inserted: outcome.inserted,
        updated: 0,
        unchanged: outcome.unchanged + outcome.kept_existing,
        unmatched: 0,
    })?;
    Ok(())
}
