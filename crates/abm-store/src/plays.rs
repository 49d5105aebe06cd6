//! What plays read, written once for both backends: the approved TAL accounts a play's
//! audience is drawn from (with tier, cluster, stored stage and fit), their people with
//! consent and buying-role overrides, and recent trigger events.

use crate::Result;
use crate::sql::{Row, Sql};

/// An approved TAL account as a play sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlayAccount {
    pub id: i64,
    pub domain: String,
    pub name: Option<String>,
    pub industry: Option<String>,
    pub country: Option<String>,
    /// The TAL's sales owner (the account team's), else the CRM owner.
    pub owner: Option<String>,
    pub tier: Option<String>,
    pub cluster: Option<String>,
    /// From the latest scoring; `None` before the first.
    pub stage: Option<String>,
    pub fit: Option<f64>,
}

/// Every approved account of the TAL, by domain.
pub fn tal_accounts(sql: &mut dyn Sql) -> Result<Vec<PlayAccount>> {
    let rows = sql.query(
        "SELECT a.id, a.domain, a.name, a.industry, a.country, COALESCE(t.sales_owner, a.owner),
                t.tier, c.name, s.stage, s.fit
         FROM tal_entries t
         JOIN accounts a ON a.id = t.account_id
         LEFT JOIN account_scores s ON s.account_id = t.account_id
         LEFT JOIN cluster_members m ON m.account_id = t.account_id
         LEFT JOIN clusters c ON c.id = m.cluster_id
         WHERE t.status = 'approved'
         ORDER BY a.domain",
        &[],
    )?;
    rows.iter().map(play_account).collect()
}

fn play_account(row: &Row) -> Result<PlayAccount> {
    Ok(PlayAccount {
        id: row.int(0)?,
        domain: row.text(1)?,
        name: row.opt_text(2)?,
        industry: row.opt_text(3)?,
        country: row.opt_text(4)?,
        owner: row.opt_text(5)?,
        tier: row.opt_text(6)?,
        cluster: row.opt_text(7)?,
        stage: row.opt_text(8)?,
        fit: row.opt_real(9)?,
    })
}

/// A contact as the guard and the templates need them.
#[derive(Debug, Clone, PartialEq)]
pub struct PlayPerson {
    pub contact_id: i64,
    pub account_id: i64,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub title: Option<String>,
    /// The buying role set by hand (`none` for none).
    pub role_override: Option<String>,
    pub opted_out: bool,
    pub lawful_basis: Option<String>,
    /// The contact's attributes (JSON): a `country` or `time_zone` from the CRM.
    pub attributes: String,
}

/// The contacts of one account.
pub fn people(sql: &mut dyn Sql, account_id: i64) -> Result<Vec<PlayPerson>> {
    let rows = sql.query(
        "SELECT c.id, c.account_id, c.email, c.first_name, c.last_name, c.title, r.role,
                c.opted_out, c.lawful_basis, CAST(c.attributes AS TEXT)
         FROM contacts c LEFT JOIN contact_roles r ON r.contact_id = c.id
         WHERE c.account_id = $1 ORDER BY c.id",
        &[account_id.into()],
    )?;
    rows.iter()
        .map(|row| {
            Ok(PlayPerson {
                contact_id: row.int(0)?,
                account_id: row.int(1)?,
                email: row.text(2)?,
                first_name: row.opt_text(3)?,
                last_name: row.opt_text(4)?,
                title: row.opt_text(5)?,
                role_override: row.opt_text(6)?,
                opted_out: row.bool(7)?,
                lawful_basis: row.opt_text(8)?,
                attributes: row.text(9)?,
            })
        })
        .collect()
}

/// A stored trigger event.
#[derive(Debug, Clone, PartialEq)]
pub struct TriggerEvent {
    pub account_id: i64,
    pub kind: String,
    pub at: i64,
    pub key: String,
    pub evidence: String,
}

/// Trigger events of `kind` that happened at or after `since`, oldest first.
pub fn triggers_since(sql: &mut dyn Sql, kind: &str, since: i64) -> Result<Vec<TriggerEvent>> {
    let rows = sql.query(
        "SELECT account_id, kind, at, dedupe_key, evidence FROM triggers
         WHERE kind = $1 AND at >= $2 ORDER BY at, id",
        &[kind.into(), since.into()],
    )?;
    rows.iter()
        .map(|row| {
            Ok(TriggerEvent {
                account_id: row.int(0)?,
                kind: row.text(1)?,
                at: row.int(2)?,
                key: row.text(3)?,
                evidence: row.text(4)?,
            })
        })
        .collect()
}

/// A new enrolment.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEnrolment<'a> {
    pub play: &'a str,
    pub account_id: i64,
    pub trigger_key: &'a str,
    pub topic: Option<&'a str>,
    pub why: &'a str,
    pub enrolled_at: i64,
}

/// Enrols an account; `None` when this (play, account, trigger key) was enrolled before.
pub fn insert_enrolment(sql: &mut dyn Sql, new: &NewEnrolment<'_>) -> Result<Option<i64>> {
    let row = sql.query_opt(
        "INSERT INTO play_enrolments (play, account_id, trigger_key, topic, why, enrolled_at, status)
         VALUES ($1, $2, $3, $4, $5, $6, 'active')
         ON CONFLICT (play, account_id, trigger_key) DO NOTHING RETURNING id",
        &[
            new.play.into(),
            new.account_id.into(),
            new.trigger_key.into(),
            new.topic.into(),
            new.why.into(),
            new.enrolled_at.into(),
        ],
    )?;
    row.map(|row| row.int(0)).transpose()
}

/// An enrolment as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct EnrolmentRow {
    pub id: i64,
    pub play: String,
    pub account_id: i64,
    pub trigger_key: String,
    pub topic: Option<String>,
    pub why: String,
    pub enrolled_at: i64,
    pub status: String,
    pub exit_reason: Option<String>,
    pub ended_at: Option<i64>,
}

const ENROLMENT_SELECT: &str = "SELECT id, play, account_id, trigger_key, topic, why, enrolled_at, status, exit_reason, ended_at FROM play_enrolments";

fn enrolment_row(row: &Row) -> Result<EnrolmentRow> {
    Ok(EnrolmentRow {
        id: row.int(0)?,
        play: row.text(1)?,
        account_id: row.int(2)?,
        trigger_key: row.text(3)?,
        topic: row.opt_text(4)?,
        why: row.text(5)?,
        enrolled_at: row.int(6)?,
        status: row.text(7)?,
        exit_reason: row.opt_text(8)?,
        ended_at: row.opt_int(9)?,
    })
}

/// The enrolments of a play (or of all), newest first.
pub fn enrolments(sql: &mut dyn Sql, play: Option<&str>) -> Result<Vec<EnrolmentRow>> {
    let rows = match play {
        Some(play) => sql.query(
            &format!("{ENROLMENT_SELECT} WHERE play = $1 ORDER BY enrolled_at DESC, id DESC"),
            &[play.into()],
        )?,
        None => sql.query(
            &format!("{ENROLMENT_SELECT} ORDER BY enrolled_at DESC, id DESC"),
            &[],
        )?,
    };
    rows.iter().map(enrolment_row).collect()
}

/// Active enrolments.
pub fn active_enrolments(sql: &mut dyn Sql) -> Result<Vec<EnrolmentRow>> {
    let rows = sql.query(
        &format!("{ENROLMENT_SELECT} WHERE status = 'active' ORDER BY id"),
        &[],
    )?;
    rows.iter().map(enrolment_row).collect()
}

/// The latest enrolment of an account in a play.
pub fn latest_enrolment(
    sql: &mut dyn Sql,
    play: &str,
    account_id: i64,
) -> Result<Option<EnrolmentRow>> {
    sql.query_opt(
        &format!(
            "{ENROLMENT_SELECT} WHERE play = $1 AND account_id = $2 ORDER BY enrolled_at DESC, id DESC LIMIT 1"
        ),
        &[play.into(), account_id.into()],
    )?
    .as_ref()
    .map(enrolment_row)
    .transpose()
}

/// Ends an enrolment (`completed` or `exited`, with the exit) and skips its pending touches.
pub fn end_enrolment(
    sql: &mut dyn Sql,
    id: i64,
    status: &str,
    reason: Option<&str>,
    at: i64,
) -> Result<u64> {
    sql.execute(
        "UPDATE play_enrolments SET status = $2, exit_reason = $3, ended_at = $4 WHERE id = $1 AND status = 'active'",
        &[id.into(), status.into(), reason.into(), at.into()],
    )?;
    sql.execute(
        "UPDATE play_touches SET status = 'skipped', rule = 'exit', reason = $2
         WHERE enrolment_id = $1 AND status IN ('planned', 'held')",
        &[id.into(), reason.unwrap_or("completed").into()],
    )
}

/// Skips one person's pending touches of an enrolment (they left, or opted out).
pub fn skip_person(
    sql: &mut dyn Sql,
    enrolment_id: i64,
    contact_id: i64,
    reason: &str,
) -> Result<u64> {
    sql.execute(
        "UPDATE play_touches SET status = 'skipped', rule = 'exit', reason = $3
         WHERE enrolment_id = $1 AND contact_id = $2 AND status IN ('planned', 'held')",
        &[enrolment_id.into(), contact_id.into(), reason.into()],
    )
}

/// A new touch of the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTouch<'a> {
    pub enrolment_id: i64,
    pub play: &'a str,
    pub step: i64,
    pub channel: &'a str,
    pub task_kind: Option<&'a str>,
    pub account_id: i64,
    pub contact_id: Option<i64>,
    pub due_at: i64,
    pub idem_key: &'a str,
}

/// Plans a touch; nothing when its key exists.
pub fn insert_touch(sql: &mut dyn Sql, new: &NewTouch<'_>) -> Result<u64> {
    sql.execute(
        "INSERT INTO play_touches (enrolment_id, play, step, channel, task_kind, account_id, contact_id, due_at, status, idem_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'planned', $9)
         ON CONFLICT (idem_key) DO NOTHING",
        &[
            new.enrolment_id.into(),
            new.play.into(),
            new.step.into(),
            new.channel.into(),
            new.task_kind.into(),
            new.account_id.into(),
            new.contact_id.into(),
            new.due_at.into(),
            new.idem_key.into(),
        ],
    )
}

/// A touch as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct TouchRow {
    pub id: i64,
    pub enrolment_id: i64,
    pub play: String,
    pub step: i64,
    pub channel: String,
    pub task_kind: Option<String>,
    pub account_id: i64,
    pub contact_id: Option<i64>,
    pub due_at: i64,
    pub status: String,
    pub idem_key: String,
    pub attempts: i64,
    pub rule: Option<String>,
    pub reason: Option<String>,
    pub message_id: Option<String>,
    pub sent_at: Option<i64>,
    pub last_error: Option<String>,
}

const TOUCH_SELECT: &str = "SELECT id, enrolment_id, play, step, channel, task_kind, account_id, contact_id, due_at, status, idem_key, attempts, rule, reason, message_id, sent_at, last_error FROM play_touches";

fn touch_row(row: &Row) -> Result<TouchRow> {
    Ok(TouchRow {
        id: row.int(0)?,
        enrolment_id: row.int(1)?,
        play: row.text(2)?,
        step: row.int(3)?,
        channel: row.text(4)?,
        task_kind: row.opt_text(5)?,
        account_id: row.int(6)?,
        contact_id: row.opt_int(7)?,
        due_at: row.int(8)?,
        status: row.text(9)?,
        idem_key: row.text(10)?,
        attempts: row.int(11)?,
        rule: row.opt_text(12)?,
        reason: row.opt_text(13)?,
        message_id: row.opt_text(14)?,
        sent_at: row.opt_int(15)?,
        last_error: row.opt_text(16)?,
    })
}

/// Touches due at `now`: planned or held ones whose time came, and those a crash left in
/// `sending` (sent or not: the channel de-duplicates by the touch's key).
pub fn due_touches(sql: &mut dyn Sql, now: i64, limit: i64) -> Result<Vec<TouchRow>> {
    let rows = sql.query(
        &format!(
            "{TOUCH_SELECT} WHERE status IN ('planned', 'held', 'sending') AND due_at <= $1 ORDER BY due_at, id LIMIT $2"
        ),
        &[now.into(), limit.into()],
    )?;
    rows.iter().map(touch_row).collect()
}

/// The touches of an enrolment, or of a play, in order.
pub fn touches(sql: &mut dyn Sql, play: Option<&str>, limit: i64) -> Result<Vec<TouchRow>> {
    let rows = match play {
        Some(play) => sql.query(
            &format!("{TOUCH_SELECT} WHERE play = $1 ORDER BY due_at, id LIMIT $2"),
            &[play.into(), limit.into()],
        )?,
        None => sql.query(
            &format!("{TOUCH_SELECT} ORDER BY due_at, id LIMIT $1"),
            &[limit.into()],
        )?,
    };
    rows.iter().map(touch_row).collect()
}

/// Touches of an account sent since `since`: (at, channel, contact).
pub fn account_touches_sent_since(
    sql: &mut dyn Sql,
    account_id: i64,
    since: i64,
) -> Result<Vec<(i64, String, Option<i64>)>> {
    let rows = sql.query(
        "SELECT sent_at, channel, contact_id FROM play_touches
         WHERE account_id = $1 AND status = 'sent' AND sent_at >= $2",
        &[account_id.into(), since.into()],
    )?;
    rows.iter()
        .map(|row| Ok((row.int(0)?, row.text(1)?, row.opt_int(2)?)))
        .collect()
}

/// A touch's new state.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TouchUpdate<'a> {
    pub status: &'a str,
    pub due_at: Option<i64>,
    pub rule: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub message_id: Option<&'a str>,
    pub sent_at: Option<i64>,
    pub last_error: Option<&'a str>,
    pub count_attempt: bool,
}

/// Moves a touch to its new state; returns 0 when another runner moved it first (only a
/// touch still pending — planned, held or sending — is moved).
pub fn update_touch(sql: &mut dyn Sql, id: i64, update: &TouchUpdate<'_>) -> Result<u64> {
    sql.execute(
        "UPDATE play_touches SET status = $2, due_at = COALESCE($3, due_at), rule = $4, reason = $5,
                message_id = COALESCE($6, message_id), sent_at = COALESCE($7, sent_at),
                last_error = $8, attempts = attempts + $9
         WHERE id = $1 AND status IN ('planned', 'held', 'sending')",
        &[
            id.into(),
            update.status.into(),
            update.due_at.into(),
            update.rule.into(),
            update.reason.into(),
            update.message_id.into(),
            update.sent_at.into(),
            update.last_error.into(),
            i64::from(update.count_attempt).into(),
        ],
    )
}

/// Appends the guard's decision on a touch.
pub fn log_decision(
    sql: &mut dyn Sql,
    touch_id: i64,
    at: i64,
    decision: &str,
    rule: Option<&str>,
    reason: Option<&str>,
    until: Option<i64>,
) -> Result<()> {
    sql.execute(
        "INSERT INTO guard_log (touch_id, at, decision, rule, reason, until_at) VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            touch_id.into(),
            at.into(),
            decision.into(),
            rule.into(),
            reason.into(),
            until.into(),
        ],
    )?;
    Ok(())
}

/// One line of the guard's log, with its touch.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardLine {
    pub at: i64,
    pub play: String,
    pub step: i64,
    pub channel: String,
    pub domain: String,
    pub email: Option<String>,
    pub decision: String,
    pub rule: Option<String>,
    pub reason: Option<String>,
    pub until: Option<i64>,
}

/// The guard's latest decisions (of one play, or all), newest first.
pub fn guard_log(sql: &mut dyn Sql, play: Option<&str>, limit: i64) -> Result<Vec<GuardLine>> {
    const SELECT: &str = "SELECT g.at, t.play, t.step, t.channel, a.domain, c.email, g.decision, g.rule, g.reason, g.until_at
         FROM guard_log g JOIN play_touches t ON t.id = g.touch_id
         JOIN accounts a ON a.id = t.account_id LEFT JOIN contacts c ON c.id = t.contact_id";
    let rows = match play {
        Some(play) => sql.query(
            &format!("{SELECT} WHERE t.play = $1 ORDER BY g.id DESC LIMIT $2"),
            &[play.into(), limit.into()],
        )?,
        None => sql.query(
            &format!("{SELECT} ORDER BY g.id DESC LIMIT $1"),
            &[limit.into()],
        )?,
    };
    rows.iter()
        .map(|row| {
            Ok(GuardLine {
                at: row.int(0)?,
                play: row.text(1)?,
                step: row.int(2)?,
                channel: row.text(3)?,
                domain: row.text(4)?,
                email: row.opt_text(5)?,
                decision: row.text(6)?,
                rule: row.opt_text(7)?,
                reason: row.opt_text(8)?,
                until: row.opt_int(9)?,
            })
        })
        .collect()
}

/// Counts of touches by status for a play.
pub fn touch_counts(sql: &mut dyn Sql, play: &str) -> Result<Vec<(i64, String, i64)>> {
    let rows = sql.query(
        "SELECT step, status, COUNT(*) FROM play_touches WHERE play = $1 GROUP BY step, status ORDER BY step, status",
        &[play.into()],
    )?;
    rows.iter()
        .map(|row| Ok((row.int(0)?, row.text(1)?, row.int(2)?)))
        .collect()
}

/// One enrolment.
pub fn enrolment(sql: &mut dyn Sql, id: i64) -> Result<Option<EnrolmentRow>> {
    sql.query_opt(&format!("{ENROLMENT_SELECT} WHERE id = $1"), &[id.into()])?
        .as_ref()
        .map(enrolment_row)
        .transpose()
}

/// Whether an enrolment has touches still to do.
pub fn has_pending(sql: &mut dyn Sql, enrolment_id: i64) -> Result<bool> {
    Ok(sql
        .query_opt(
            "SELECT 1 FROM play_touches WHERE enrolment_id = $1 AND status IN ('planned', 'held', 'sending') LIMIT 1",
            &[enrolment_id.into()],
        )?
        .is_some())
}

/// Whether the account has an opportunity created on or after `day` (YYYY-MM-DD).
pub fn opportunity_since(sql: &mut dyn Sql, account_id: i64, day: &str) -> Result<bool> {
    // Dates compare as text on SQLite (ISO dates) and as dates on PostgreSQL.
    Ok(sql
        .query_opt(
            "SELECT 1 FROM opportunities WHERE account_id = $1 AND CAST(created_on AS TEXT) >= $2 LIMIT 1",
            &[account_id.into(), day.into()],
        )?
        .is_some())
}

/// Adds a person to an ad audience or a direct-mail list (once).
pub fn add_member(
    sql: &mut dyn Sql,
    audience: &str,
    channel: &str,
    account_id: i64,
    contact_id: i64,
    at: i64,
) -> Result<()> {
    sql.execute(
        "INSERT INTO audience_members (audience, channel, account_id, contact_id, added_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (audience, channel, contact_id) DO NOTHING",
        &[audience.into(), channel.into(), account_id.into(), contact_id.into(), at.into()],
    )?;
    Ok(())
}

/// A member of an audience or list, with what the export files need.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub company: Option<String>,
    pub domain: String,
    pub country: Option<String>,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// The contact's attributes (JSON): a postal address from the CRM.
    pub attributes: String,
    /// The person opted out since they were added: left out of every file.
    pub opted_out: bool,
}

pub fn members(sql: &mut dyn Sql, audience: &str, channel: &str) -> Result<Vec<Member>> {
    let rows = sql.query(
        "SELECT a.name, a.domain, a.country, c.email, c.first_name, c.last_name, CAST(c.attributes AS TEXT), c.opted_out
         FROM audience_members m JOIN accounts a ON a.id = m.account_id JOIN contacts c ON c.id = m.contact_id
         WHERE m.audience = $1 AND m.channel = $2 ORDER BY a.domain, c.email",
        &[audience.into(), channel.into()],
    )?;
    rows.iter()
        .map(|row| {
            Ok(Member {
                company: row.opt_text(0)?,
                domain: row.text(1)?,
                country: row.opt_text(2)?,
                email: row.text(3)?,
                first_name: row.opt_text(4)?,
                last_name: row.opt_text(5)?,
                attributes: row.text(6)?,
                opted_out: row.bool(7)?,
            })
        })
        .collect()
}

/// One account's row of the CRM write-back.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteBack {
    pub crm_id: Option<String>,
    pub domain: String,
    pub fit: f64,
    pub intent: f64,
    pub engagement: f64,
    pub priority: f64,
    pub stage: String,
    pub tier: Option<String>,
    pub scored_at: i64,
}

/// Every scored account, by domain.
pub fn write_back(sql: &mut dyn Sql) -> Result<Vec<WriteBack>> {
    let rows = sql.query(
        "SELECT a.crm_id, a.domain, s.fit, s.intent, s.engagement, s.priority, s.stage,
                CASE WHEN t.status = 'approved' THEN t.tier END, s.scored_at
         FROM account_scores s JOIN accounts a ON a.id = s.account_id
         LEFT JOIN tal_entries t ON t.account_id = s.account_id ORDER BY a.domain",
        &[],
    )?;
    rows.iter()
        .map(|row| {
            Ok(WriteBack {
                crm_id: row.opt_text(0)?,
                domain: row.text(1)?,
                fit: row.opt_real(2)?.unwrap_or(0.0),
                intent: row.opt_real(3)?.unwrap_or(0.0),
                engagement: row.opt_real(4)?.unwrap_or(0.0),
                priority: row.opt_real(5)?.unwrap_or(0.0),
                stage: row.text(6)?,
                tier: row.opt_text(7)?,
                scored_at: row.int(8)?,
            })
        })
        .collect()
}

/// A sales task.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTask<'a> {
    pub touch_id: i64,
    pub play: &'a str,
    pub account_id: i64,
    pub contact_id: Option<i64>,
    pub owner: Option<&'a str>,
    pub kind: &'a str,
    pub title: &'a str,
    pub context: &'a str,
    pub due_at: i64,
}

/// Queues a task (once per touch).
pub fn insert_task(sql: &mut dyn Sql, task: &NewTask<'_>) -> Result<()> {
    sql.execute(
        "INSERT INTO tasks (touch_id, play, account_id, contact_id, owner, kind, title, context, due_at, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open') ON CONFLICT (touch_id) DO NOTHING",
        &[
            task.touch_id.into(),
            task.play.into(),
            task.account_id.into(),
            task.contact_id.into(),
            task.owner.into(),
            task.kind.into(),
            task.title.into(),
            task.context.into(),
            task.due_at.into(),
        ],
    )?;
    Ok(())
}

/// A task as stored, with its account and person.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRow {
    pub id: i64,
    pub play: String,
    pub domain: String,
    pub account_id: i64,
    pub contact_id: Option<i64>,
    pub email: Option<String>,
    pub owner: Option<String>,
    pub kind: String,
    pub title: String,
    pub context: String,
    pub due_at: i64,
    pub status: String,
    pub snoozed_until: Option<i64>,
    pub outcome: Option<String>,
    pub closed_by: Option<String>,
    pub closed_at: Option<i64>,
}

const TASK_SELECT: &str = "SELECT t.id, t.play, a.domain, t.account_id, t.contact_id, c.email, t.owner, t.kind, t.title, t.context,
        t.due_at, t.status, t.snoozed_until, t.outcome, t.closed_by, t.closed_at
     FROM tasks t JOIN accounts a ON a.id = t.account_id LEFT JOIN contacts c ON c.id = t.contact_id";

fn task_row(row: &Row) -> Result<TaskRow> {
    Ok(TaskRow {
        id: row.int(0)?,
        play: row.text(1)?,
        domain: row.text(2)?,
        account_id: row.int(3)?,
        contact_id: row.opt_int(4)?,
        email: row.opt_text(5)?,
        owner: row.opt_text(6)?,
        kind: row.text(7)?,
        title: row.text(8)?,
        context: row.text(9)?,
        due_at: row.int(10)?,
        status: row.text(11)?,
        snoozed_until: row.opt_int(12)?,
        outcome: row.opt_text(13)?,
        closed_by: row.opt_text(14)?,
        closed_at: row.opt_int(15)?,
    })
}

/// Open tasks (of one owner, compared without case, or of all), due first.
pub fn open_tasks(sql: &mut dyn Sql, owner: Option<&str>) -> Result<Vec<TaskRow>> {
    let rows = match owner {
        Some(owner) => sql.query(
            &format!("{TASK_SELECT} WHERE t.status = 'open' AND LOWER(t.owner) = LOWER($1) ORDER BY t.due_at, t.id"),
            &[owner.into()],
        )?,
        None => sql.query(
            &format!("{TASK_SELECT} WHERE t.status = 'open' ORDER BY t.due_at, t.id"),
            &[],
        )?,
    };
    rows.iter().map(task_row).collect()
}

pub fn task(sql: &mut dyn Sql, id: i64) -> Result<Option<TaskRow>> {
    sql.query_opt(&format!("{TASK_SELECT} WHERE t.id = $1"), &[id.into()])?
        .as_ref()
        .map(task_row)
        .transpose()
}

/// Closes an open task (`done` or `skipped`) with its outcome; false when it was not open.
pub fn close_task(
    sql: &mut dyn Sql,
    id: i64,
    status: &str,
    outcome: Option<&str>,
    by: &str,
    at: i64,
) -> Result<bool> {
    Ok(sql.execute(
        "UPDATE tasks SET status = $2, outcome = $3, closed_by = $4, closed_at = $5 WHERE id = $1 AND status = 'open'",
        &[id.into(), status.into(), outcome.into(), by.into(), at.into()],
    )? > 0)
}

/// Moves an open task's due time; false when it was not open.
pub fn snooze_task(sql: &mut dyn Sql, id: i64, until: i64) -> Result<bool> {
    Ok(sql.execute(
        "UPDATE tasks SET due_at = $2, snoozed_until = $2 WHERE id = $1 AND status = 'open'",
        &[id.into(), until.into()],
    )? > 0)
}

/// Claims a planned or held touch for sending (the id the channel de-duplicates by goes
/// with it); false when another runner claimed or settled it first.
pub fn claim_touch(sql: &mut dyn Sql, id: i64, message_id: &str) -> Result<bool> {
    Ok(sql.execute(
        "UPDATE play_touches SET status = 'sending', message_id = $2
         WHERE id = $1 AND status IN ('planned', 'held')",
        &[id.into(), message_id.into()],
    )? > 0)
}
