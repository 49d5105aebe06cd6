//! The durable scheduler: `run_once` enrols the accounts that meet a play's trigger, ends the
//! enrolments an exit fired for, and processes every touch that is due, through the guard,
//! out to its channel. Everything it decides lives in the store (enrolments, the outbox of
//! touches, the guard's log), so a restart picks up where the last run stopped.
//!
//! How a touch is never lost and never repeated:
//! - enrolment and its planned touches are written in one transaction; a touch's key
//!   (`play:enrolment:step:contact`) is unique, so planning twice plans once;
//! - a touch with an outside effect (email, webhook) is marked `sending`, with the id the
//!   channel de-duplicates by (the email's Message-ID, the webhook's Idempotency-Key), and
//!   committed *before* it goes out; it is marked `sent` (and the email logged as an
//!   `email_sent` activity, idempotent by that id) after. A crash between the two leaves it
//!   `sending`, and the next run sends it again with the same id: at-least-once delivery,
//!   de-duplicated by the receiver;
//! - tasks, audience members and write-backs have no outside effect: their row and the
//!   touch's `sent` are one transaction, exactly once.

use super::deliver::{self, Delivery, Outcome};
use super::{Enrolment, Person, account_facts, enrolments, people_of};
use abm_core::persona::{BuyingRole, PersonaConfig, TitleDictionary};
use abm_core::play::guard::{Ask, Decision, Rule};
use abm_core::play::{Channel, Exit, Play, PlayTrigger, Setup, TaskKind};
use abm_core::tal::Tier;
use abm_store::plays::{
    self as stored, EnrolmentRow, NewEnrolment, NewTouch, TouchRow, TouchUpdate,
};
use abm_store::sql::Sql;
use abm_store::{Store, StoreError, guard_data};
use std::collections::{BTreeMap, BTreeSet};

const MICROS_PER_DAY: i64 = 86_400_000_000;
/// A failing webhook or SMTP server is retried this many times, with growing waits, before
/// the touch goes to the dead-letter list (`status = 'dead'`).
pub const MAX_ATTEMPTS: i64 = 6;

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RunReport {
    pub enrolled: u64,
    pub exited: u64,
    pub completed: u64,
    pub sent: u64,
    pub held: u64,
    pub suppressed: u64,
    pub retried: u64,
    pub dead: u64,
    /// Touches whose step's condition did not hold.
    pub skipped: u64,
    /// Sent touches per channel.
    pub by_channel: BTreeMap<String, u64>,
    /// Export files written (ad audiences, direct-mail lists, the CRM write-back).
    pub files: Vec<std::path::PathBuf>,
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Export(String),
}

/// Runs every step once, as of `now`.
pub fn run_once(
    store: &mut dyn Store,
    setup: &Setup,
    personas: &PersonaConfig,
    delivery: &mut Delivery<'_>,
    now: i64,
) -> Result<RunReport, RunError> {
    let mut report = RunReport::default();
    for play in setup.plays.iter().filter(|play| !play.paused) {
        report.enrolled += enrol(store, setup, personas, play, now)?;
    }
    exits(store, setup, now, &mut report)?;
    process_due(store, setup, personas, delivery, now, &mut report)?;
    finish_completed(store.sql(), &mut report, now)?;
    report.files = deliver::write_exports(store, delivery).map_err(RunError::Export)?;
    Ok(report)
}

/// The key that keeps one trigger from enrolling an account twice.
fn trigger_key(play: &Play, enrolment: &Enrolment, now: i64) -> String {
    let day = jiff::Timestamp::from_microsecond(now)
        .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date().to_string())
        .unwrap_or_default();
    match &play.trigger {
        PlayTrigger::IntentSurge { .. } | PlayTrigger::TriggerEvent { .. } => {
            format!("event:{}", enrolment.event_key.as_deref().unwrap_or(&day))
        }
        PlayTrigger::Schedule { every_days } => format!(
            "schedule:{}",
            now / (i64::from(every_days.get()) * MICROS_PER_DAY)
        ),
        PlayTrigger::Stage { stage } => format!("stage:{}@{day}", stage.as_str()),
        PlayTrigger::Tier { tier } => format!("tier:{}@{day}", tier.as_str()),
        PlayTrigger::Cluster { cluster } => format!("cluster:{cluster}@{day}"),
    }
}

/// Enrols the accounts the play's trigger and audience take in now: not while an enrolment
/// of the account in this play is active, nor within `reenter_after_days` of its end.
fn enrol(
    store: &mut dyn Store,
    setup: &Setup,
    personas: &PersonaConfig,
    play: &Play,
    now: i64,
) -> Result<u64, StoreError> {
    let dictionary = TitleDictionary::new(personas);
    let reenter = i64::from(play.reenter_after_days.get()) * MICROS_PER_DAY;
    let mut count = 0;
    for enrolment in enrolments(store, play, now)? {
        let account = &enrolment.account;
        if let Some(latest) = stored::latest_enrolment(store.sql(), &play.name, account.id)? {
            let recent = latest.ended_at.is_none_or(|ended| ended + reenter > now);
            if latest.status == "active" || recent {
                continue;
            }
        }
        let people = people_of(store, &dictionary, setup, account)?;
        let roles: Vec<(i64, Option<BuyingRole>)> = people
            .iter()
            .filter(|person| !person.facts.opted_out)
            .map(|person| (person.row.contact_id, person.role))
            .collect();
        let chosen: Vec<i64> = play
            .audience
            .people(&roles)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let tier = account
            .tier
            .as_deref()
            .and_then(|tier| Tier::parse(tier).ok());
        let key = trigger_key(play, &enrolment, now);
        let inserted = abm_store::sql::transaction(store.sql(), |sql| {
            let Some(id) = stored::insert_enrolment(
                sql,
                &NewEnrolment {
                    play: &play.name,
                    account_id: account.id,
                    trigger_key: &key,
                    topic: enrolment.topic.as_deref(),
                    why: &enrolment.why,
                    enrolled_at: now,
                },
            )?
            else {
                return Ok::<_, StoreError>(false);
            };
            for touch in abm_core::play::plan(play, id, now, tier, &chosen) {
                let idem = format!("{}:{}", play.name, touch.key);
                stored::insert_touch(
                    sql,
                    &NewTouch {
                        enrolment_id: id,
                        play: &play.name,
                        step: i64::from(touch.step),
                        channel: touch.channel.as_str(),
                        task_kind: touch.task.map(TaskKind::as_str),
                        account_id: account.id,
                        contact_id: touch.contact,
                        due_at: touch.due,
                        idem_key: &idem,
                    },
                )?;
            }
            Ok(true)
        })?;
        count += u64::from(inserted);
    }
    Ok(count)
}

/// Ends the active enrolments an exit fired for since they began, and skips the pending
/// touches of people who opted out.
fn exits(
    store: &mut dyn Store,
    setup: &Setup,
    now: i64,
    report: &mut RunReport,
) -> Result<(), StoreError> {
    let on_tal: BTreeSet<i64> = stored::tal_accounts(store.sql())?
        .into_iter()
        .map(|account| account.id)
        .collect();
    for enrolment in stored::active_enrolments(store.sql())? {
        let Some(play) = setup.play(&enrolment.play) else {
            // The play was removed from the configuration: its enrolments end.
            stored::end_enrolment(
                store.sql(),
                enrolment.id,
                "exited",
                Some("play_removed"),
                now,
            )?;
            report.exited += 1;
            continue;
        };
        if let Some(exit) = fired_exit(store, play, &enrolment, &on_tal, now)? {
            stored::end_enrolment(
                store.sql(),
                enrolment.id,
                "exited",
                Some(exit.as_str()),
                now,
            )?;
            report.exited += 1;
            continue;
        }
        if play.exits.contains(&Exit::OptedOut) {
            for person in stored::people(store.sql(), enrolment.account_id)? {
                if person.opted_out {
                    stored::skip_person(store.sql(), enrolment.id, person.contact_id, "opted_out")?;
                }
            }
        }
    }
    Ok(())
}

fn fired_exit(
    store: &mut dyn Store,
    play: &Play,
    enrolment: &EnrolmentRow,
    on_tal: &BTreeSet<i64>,
    now: i64,
) -> Result<Option<Exit>, StoreError> {
    if play.exits.contains(&Exit::LeftTal) && !on_tal.contains(&enrolment.account_id) {
        return Ok(Some(Exit::LeftTal));
    }
    let activities = store.activities_between(
        abm_core::AccountId(enrolment.account_id),
        enrolment.enrolled_at,
        now + 1,
    )?;
    for (exit, kind) in [
        (Exit::Replied, "email_reply"),
        (Exit::MeetingHeld, "meeting_held"),
    ] {
        if play.exits.contains(&exit) && activities.iter().any(|a| a.kind == kind) {
            return Ok(Some(exit));
        }
    }
    if play.exits.contains(&Exit::OpportunityCreated) {
        let day = jiff::Timestamp::from_microsecond(enrolment.enrolled_at)
            .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date().to_string())
            .unwrap_or_default();
        if stored::opportunity_since(store.sql(), enrolment.account_id, &day)? {
            return Ok(Some(Exit::OpportunityCreated));
        }
    }
    Ok(None)
}

/// Enrolments with no touch left to do are completed.
fn finish_completed(sql: &mut dyn Sql, report: &mut RunReport, now: i64) -> Result<(), StoreError> {
    for enrolment in stored::active_enrolments(sql)? {
        if !stored::has_pending(sql, enrolment.id)? {
            stored::end_enrolment(sql, enrolment.id, "completed", None, now)?;
            report.completed += 1;
        }
    }
    Ok(())
}

/// What the run knows of an account while it processes its touches.
struct AccountState {
    enrolments: BTreeMap<i64, Enrolment>,
    people: Vec<Person>,
    facts: abm_core::play::guard::AccountFacts,
}

fn process_due(
    store: &mut dyn Store,
    setup: &Setup,
    personas: &PersonaConfig,
    delivery: &mut Delivery<'_>,
    now: i64,
    report: &mut RunReport,
) -> Result<(), RunError> {
    let dictionary = TitleDictionary::new(personas);
    let accounts: BTreeMap<i64, abm_store::plays::PlayAccount> = stored::tal_accounts(store.sql())?
        .into_iter()
        .map(|account| (account.id, account))
        .collect();
    let mut states: BTreeMap<i64, AccountState> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    loop {
        let due = stored::due_touches(store.sql(), now, 200)?;
        let fresh: Vec<TouchRow> = due.into_iter().filter(|t| seen.insert(t.id)).collect();
        if fresh.is_empty() {
            break;
        }
        for touch in fresh {
            // A paused play sends nothing: its touches wait, planned, until it resumes.
            let Some(play) = setup.play(&touch.play).filter(|play| !play.paused) else {
                continue;
            };
            let Some(account) = accounts.get(&touch.account_id) else {
                // Off the TAL since it was planned: the exit pass ends the enrolment.
                continue;
            };
            let state = match states.entry(touch.account_id) {
                std::collections::btree_map::Entry::Occupied(entry) => entry.into_mut(),
                std::collections::btree_map::Entry::Vacant(entry) => {
                    let people = people_of(store, &dictionary, setup, account)?;
                    let mut facts = account_facts(store, setup, account, &people, now, now)?;
                    guard_extras(store.sql(), &mut facts, account.id, now)?;
                    entry.insert(AccountState {
                        enrolments: BTreeMap::new(),
                        people,
                        facts,
                    })
                }
            };
            if let std::collections::btree_map::Entry::Vacant(entry) =
                state.enrolments.entry(touch.enrolment_id)
            {
                let Some(row) = stored::enrolment(store.sql(), touch.enrolment_id)? else {
                    continue;
                };
                entry.insert(Enrolment {
                    account: account.clone(),
                    topic: row.topic.clone(),
                    why: row.why.clone(),
                    event_key: None,
                    enrolled_at: row.enrolled_at,
                });
            }
            process_one(store, setup, play, &touch, state, delivery, now, report)?;
        }
    }
    Ok(())
}

/// The account's holds (do-not-contact, the owner's hold), added to the facts from the log.
pub(crate) fn guard_extras(
    sql: &mut dyn Sql,
    facts: &mut abm_core::play::guard::AccountFacts,
    account_id: i64,
    now: i64,
) -> Result<(), StoreError> {
    for hold in guard_data::holds_of(sql, account_id)? {
        match hold.kind.as_str() {
            "do_not_contact" => facts.do_not_contact = true,
            "hold" => facts.hold_until = hold.until.filter(|until| *until > now),
            _ => {}
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn process_one(
    store: &mut dyn Store,
    setup: &Setup,
    play: &Play,
    touch: &TouchRow,
    state: &mut AccountState,
    delivery: &mut Delivery<'_>,
    now: i64,
    report: &mut RunReport,
) -> Result<(), RunError> {
    let channel = Channel::from_key(&touch.channel).unwrap_or(Channel::Alert);
    let position = touch
        .contact_id
        .and_then(|id| state.people.iter().position(|p| p.row.contact_id == id));
    // The person's suppression, bounce and preference were read with them this run
    // (`people_of`); a bounce met during the run is added to their facts where it happens.
    if position.is_none() && touch.contact_id.is_some() {
        // The contact is gone (merged or deleted): nothing to reach.
        let update = TouchUpdate {
            status: "suppressed",
            rule: Some(Rule::NoAddress.as_str()),
            reason: Some("the contact no longer exists"),
            ..TouchUpdate::default()
        };
        stored::update_touch(store.sql(), touch.id, &update)?;
        report.suppressed += 1;
        return Ok(());
    }
    let person = position.map(|index| &state.people[index]);
    let step = &play.steps[(touch.step as usize)
        .saturating_sub(1)
        .min(play.steps.len() - 1)];
    // A step's condition: has the person opened, clicked or replied to an email since the
    // enrolment began?
    if let (Some(condition), Some(person), true) =
        (step.condition, person, touch.status != "sending")
        && let Some(enrolment) = state.enrolments.get(&touch.enrolment_id)
    {
        let engaged = store
            .activities_between(
                abm_core::AccountId(touch.account_id),
                enrolment.enrolled_at,
                now + 1,
            )?
            .iter()
            .any(|activity| {
                matches!(
                    activity.kind.as_str(),
                    "email_open" | "email_click" | "email_reply"
                ) && activity
                    .email
                    .as_deref()
                    .is_some_and(|email| email.eq_ignore_ascii_case(&person.row.email))
            });
        let holds = match condition {
            abm_core::play::Condition::NotEngaged => !engaged,
            abm_core::play::Condition::Engaged => engaged,
        };
        if !holds {
            let reason = if engaged {
                "the person engaged: a step for those who did not"
            } else {
                "the person did not engage: a step for those who did"
            };
            abm_store::sql::transaction(store.sql(), |sql| {
                stored::log_decision(
                    sql,
                    touch.id,
                    now,
                    "skip",
                    Some("condition"),
                    Some(reason),
                    None,
                )?;
                stored::update_touch(
                    sql,
                    touch.id,
                    &TouchUpdate {
                        status: "skipped",
                        rule: Some("condition"),
                        reason: Some(reason),
                        ..TouchUpdate::default()
                    },
                )
            })?;
            report.skipped += 1;
            return Ok(());
        }
    }
    // A touch a crash left in `sending` was already allowed: it goes again as it was.
    let decision = if touch.status == "sending" {
        Decision::Send
    } else {
        let zone = person.map_or(jiff::tz::TimeZone::UTC, |p| p.zone.clone());
        setup.guard.decide(&Ask {
            channel,
            person: person.map(|p| &p.facts),
            account: &state.facts,
            coordinated: play.coordinated,
            at: now,
            zone: &zone,
        })
    };
    let Some(enrolment) = state.enrolments.get(&touch.enrolment_id) else {
        return Ok(());
    };
    match decision {
        Decision::Hold {
            until,
            rule,
            reason,
        } => {
            abm_store::sql::transaction(store.sql(), |sql| {
                stored::log_decision(
                    sql,
                    touch.id,
                    now,
                    "hold",
                    Some(rule.as_str()),
                    Some(&reason),
                    Some(until),
                )?;
                stored::update_touch(
                    sql,
                    touch.id,
                    &TouchUpdate {
                        status: "held",
                        due_at: Some(until),
                        rule: Some(rule.as_str()),
                        reason: Some(&reason),
                        ..TouchUpdate::default()
                    },
                )
            })?;
            report.held += 1;
        }
        Decision::Suppress { rule, reason } => {
            suppress(store.sql(), touch.id, now, rule, &reason)?;
            report.suppressed += 1;
        }
        Decision::Send => {
            if touch.status != "sending" {
                stored::log_decision(store.sql(), touch.id, now, "send", None, None, None)?;
            }
            let outcome = deliver::deliver(
                store,
                setup,
                play,
                step,
                touch,
                enrolment,
                person.map(|p| (&p.row, p.role)),
                delivery,
                now,
            )?;
            match outcome {
                Outcome::Sent => {
                    state.facts.sent.push(abm_core::play::guard::Sent {
                        at: now,
                        channel,
                        contact: touch.contact_id,
                    });
                    report.sent += 1;
                    *report.by_channel.entry(touch.channel.clone()).or_default() += 1;
                }
                Outcome::Taken => {}
                Outcome::Suppressed(rule, reason) => {
                    if rule == Rule::HardBounce
                        && let Some(index) = position
                    {
                        state.people[index].facts.hard_bounced = true;
                    }
                    suppress(store.sql(), touch.id, now, rule, &reason)?;
                    report.suppressed += 1;
                }
                Outcome::Failed(error) => {
                    let attempts = touch.attempts + 1;
                    if attempts >= MAX_ATTEMPTS {
                        stored::update_touch(
                            store.sql(),
                            touch.id,
                            &TouchUpdate {
                                status: "dead",
                                last_error: Some(&error),
                                count_attempt: true,
                                ..TouchUpdate::default()
                            },
                        )?;
                        report.dead += 1;
                    } else {
                        // 1, 4, 16, 64, 256 minutes.
                        let wait = 60_000_000 * 4_i64.pow((attempts - 1) as u32);
                        stored::update_touch(
                            store.sql(),
                            touch.id,
                            &TouchUpdate {
                                status: "planned",
                                due_at: Some(now + wait),
                                last_error: Some(&error),
                                count_attempt: true,
                                ..TouchUpdate::default()
                            },
                        )?;
                        report.retried += 1;
                    }
                }
            }
        }
    }
    Ok(())
}

fn suppress(
    sql: &mut dyn Sql,
    touch: i64,
    now: i64,
    rule: Rule,
    reason: &str,
) -> Result<(), StoreError> {
    abm_store::sql::transaction(sql, |sql| {
        stored::log_decision(
            sql,
            touch,
            now,
            "suppress",
            Some(rule.as_str()),
            Some(reason),
            None,
        )?;
        stored::update_touch(
            sql,
            touch,
            &TouchUpdate {
                status: "suppressed",
                rule: Some(rule.as_str()),
                reason: Some(reason),
                ..TouchUpdate::default()
            },
        )
    })?;
    Ok(())
}
