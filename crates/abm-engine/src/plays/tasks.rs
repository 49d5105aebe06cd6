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

/// What a rep does with a task.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskAction {
    /// Done, with the outcome in the rep's words (recorded on the account's timeline).
    Done(String),
    /// Skipped, with the reason.
    Skip(String),
    /// Due again at this instant (microseconds).
    Snooze(i64),
}

/// Why a task action was refused; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error("no task {0}")]
    NotFound(i64),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A rep acts on their own tasks; marketing and administrators on any; viewers on none.
pub fn may_act_on(actor: &abm_core::tal::Actor, task: &TaskRow) -> Result<(), TaskError> {
    use abm_core::tal::UserRole;
    if actor.fresh_install || matches!(actor.role, UserRole::Admin | UserRole::Marketing) {
        return Ok(());
    }
    if actor.role == UserRole::Sales && actor.owns(task.owner.as_deref()) {
        return Ok(());
    }
    Err(TaskError::Forbidden(format!(
        "{} may not act on task {} (owner {})",
        actor.email,
        task.id,
        task.owner.as_deref().unwrap_or("none")
    )))
}

/// Completes, skips or snoozes a task, audited; a completed task's outcome becomes an
/// activity on the account's timeline.
pub fn act(
    store: &mut dyn Store,
    actor: &abm_core::tal::Actor,
    id: i64,
    action: &TaskAction,
    now: i64,
) -> Result<TaskRow, TaskError> {
    use abm_store::plays as stored;
    let Some(task) = stored::task(store.sql(), id)? else {
        return Err(TaskError::NotFound(id));
    };
    may_act_on(actor, &task)?;
    if task.status != "open" {
        return Err(TaskError::Invalid(format!(
            "task {id} is {} already",
            task.status
        )));
    }
    match action {
        TaskAction::Done(text) | TaskAction::Skip(text) => {
            let text = text.trim();
            if text.is_empty() || text.chars().count() > 2000 {
                return Err(TaskError::Invalid(
                    "the outcome (or reason) is 1 to 2,000 characters".into(),
                ));
            }
            let status = if matches!(action, TaskAction::Done(_)) {
                "done"
            } else {
                "skipped"
            };
            abm_store::sql::transaction(store.sql(), |sql| -> Result<(), TaskError> {
                if !stored::close_task(sql, id, status, Some(text), &actor.email, now)? {
                    return Err(TaskError::Invalid(format!("task {id} is not open")));
                }
                crate::team::log(
                    sql,
                    actor,
                    &format!("task {status}"),
                    &task.domain,
                    text,
                    now,
                )
                .map_err(|error| TaskError::Invalid(error.to_string()))?;
                Ok(())
            })?;
            if status == "done" {
                record_outcome(store, &task, text, now)?;
            }
        }
        TaskAction::Snooze(until) => {
            if *until <= now {
                return Err(TaskError::Invalid(
                    "a task is snoozed to a later time".into(),
                ));
            }
            stored::snooze_task(store.sql(), id, *until)?;
        }
    }
    stored::task(store.sql(), id)?.ok_or(TaskError::NotFound(id))
}
