//! Plays over the store. This part is the dry run: which accounts a play would enrol now,
//! the touches it would plan for their people over the coming days, and what the guard
//! would decide for each — from the data as stored, sending nothing and writing nothing.
//!
//! The simulation walks the touches in time order; a touch that would be sent counts toward
//! the caps of the touches after it, and a touch the guard holds is asked again when its
//! hold ends, as the scheduler will. What it cannot know it assumes and says so: nobody
//! engages, replies or opts out during the simulated days (so no exit fires and
//! `not_engaged` steps run).
//!
//! [`run`] is the scheduler that does it for real; [`deliver`] the channels.

pub mod deliver;
pub mod run;
pub mod tasks;
pub mod unsubscribe;

use abm_core::persona::{BuyingRole, PersonaConfig, TitleDictionary};
use abm_core::play::guard::{AccountFacts, Ask, Decision, PersonFacts, Rule, Sent};
use abm_core::play::template::BlockKeys;
use abm_core::play::{AccountView, Channel, Play, PlayTrigger, Setup, zone};
use abm_core::score::stage::Stage;
use abm_core::tal::Tier;
use abm_core::{AccountId, LawfulBasis};
use abm_store::plays::{self as stored, PlayAccount, PlayPerson};
use abm_store::{Store, StoreError};
use jiff::tz::TimeZone;
use std::collections::{BTreeMap, BinaryHeap};

const MICROS_PER_DAY: i64 = 86_400_000_000;
/// A trigger event enrols an account when it happened this recently.
pub const TRIGGER_WINDOW_DAYS: i64 = 14;
/// The guard counts touches sent this far back for the caps (the longest cap window).
const SENT_LOOKBACK_DAYS: i64 = 90;

/// One touch of a dry run and the guard's decision on it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SimulatedTouch {
    pub play: String,
    pub step: u32,
    pub channel: &'static str,
    /// The sales task, for task touches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<&'static str>,
    /// The account's domain.
    pub account: String,
    /// The person's email, for person-addressed touches.
    pub contact: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'static str>,
    /// `send`, `hold` (past the simulated days) or `suppress`.
    pub decision: &'static str,
    /// The rule that held or suppressed it.
    pub rule: Option<&'static str>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// When it would go, or until when it is held (RFC 3339).
    pub at: String,
    /// Microseconds, for sorting and scripts.
    pub at_micros: i64,
    /// Rules that delayed it before it went.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub delayed_by: Vec<&'static str>,
    /// For an email: the subject it would carry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// An account the play would enrol, and why.
#[derive(Debug, Clone)]
pub(crate) struct Enrolment {
    pub(crate) account: PlayAccount,
    /// The surge's topic, for the templates.
    pub(crate) topic: Option<String>,
    pub(crate) why: String,
    /// The trigger event's own key (a surge's `topic@week`), so it enrols once.
    pub(crate) event_key: Option<String>,
    /// When it began (microseconds): a step's condition looks at what happened since.
    pub(crate) enrolled_at: i64,
}

/// Which accounts of the TAL a play's trigger and audience take in at `now`.
fn enrolments(store: &mut dyn Store, play: &Play, now: i64) -> Result<Vec<Enrolment>, StoreError> {
    let accounts = stored::tal_accounts(store.sql())?;
    let since = now - TRIGGER_WINDOW_DAYS * MICROS_PER_DAY;
    // account id → (topic, evidence, key) of the trigger event that enrols it.
    let mut events: BTreeMap<i64, (Option<String>, String, String)> = BTreeMap::new();
    match &play.trigger {
        PlayTrigger::IntentSurge { topics } => {
            for event in stored::triggers_since(store.sql(), "intent_surge", since)? {
                let topic = event.key.split('@').next().unwrap_or_default().to_owned();
                let wanted = topics.is_empty()
                    || topics
                        .iter()
                        .any(|wanted| wanted.trim().eq_ignore_ascii_case(&topic));
                if wanted {
                    let named = topics
                        .iter()
                        .find(|wanted| wanted.trim().eq_ignore_ascii_case(&topic))
                        .cloned()
                        .unwrap_or(topic);
                    events.insert(event.account_id, (Some(named), event.evidence, event.key));
                }
            }
        }
        PlayTrigger::TriggerEvent { event } => {
            for found in stored::triggers_since(store.sql(), event.trim(), since)? {
                events.insert(found.account_id, (None, found.evidence, found.key));
            }
        }
        _ => {}
    }
    let mut taken = Vec::new();
    for account in accounts {
        let tier = account
            .tier
            .as_deref()
            .and_then(|tier| Tier::parse(tier).ok());
        let stage = account.stage.as_deref().and_then(Stage::parse);
        let view = AccountView {
            tier,
            on_tal: true,
            cluster: account.cluster.as_deref(),
            stage,
            fit: account.fit,
        };
        if !play.audience.admits(&view) {
            continue;
        }
        let mut event_key = None;
        let (topic, why) = match &play.trigger {
            PlayTrigger::Stage { stage: wanted } => {
                if stage != Some(*wanted) {
                    continue;
                }
                (None, format!("is at stage {}", wanted.as_str()))
            }
            PlayTrigger::Tier { tier: wanted } => {
                if tier != Some(*wanted) {
                    continue;
                }
                (None, format!("is in tier {}", wanted.as_str()))
            }
            PlayTrigger::Cluster { cluster } => {
                if !view
                    .cluster
                    .is_some_and(|held| held.trim().eq_ignore_ascii_case(cluster.trim()))
                {
                    continue;
                }
                (None, format!("is in cluster {cluster}"))
            }
            PlayTrigger::Schedule { every_days } => (
                None,
                format!("is in the audience (every {} days)", every_days.get()),
            ),
            PlayTrigger::IntentSurge { .. } | PlayTrigger::TriggerEvent { .. } => {
                match events.get(&account.id) {
                    Some((topic, evidence, key)) => {
                        event_key = Some(key.clone());
                        (topic.clone(), evidence.clone())
                    }
                    None => continue,
                }
            }
        };
        let name = account
            .name
            .clone()
            .unwrap_or_else(|| account.domain.clone());
        let why = match &play.trigger {
            PlayTrigger::IntentSurge { .. } | PlayTrigger::TriggerEvent { .. } => why,
            _ => format!("{name} {why}."),
        };
        taken.push(Enrolment {
            account,
            topic,
            why,
            event_key,
            enrolled_at: now,
        });
    }
    Ok(taken)
}

/// A person of an enrolled account, with what the guard and the templates need.
pub(crate) struct Person {
    pub(crate) row: PlayPerson,
    pub(crate) role: Option<BuyingRole>,
    pub(crate) facts: PersonFacts,
    pub(crate) zone: TimeZone,
}

fn attribute(attributes: &str, key: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(attributes).ok()?;
    value
        .get(key)
        .and_then(serde_json::Value::as_str)
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

/// The person's zone: their own `time_zone` attribute, else their country's, else the
/// account's, else the guard's default.
pub fn zone_of(country: Option<&str>, own: Option<&str>, default: &str) -> TimeZone {
    own.and_then(|name| TimeZone::get(name).ok())
        .or_else(|| {
            country
                .and_then(zone::zone_name)
                .and_then(|name| TimeZone::get(name).ok())
        })
        .or_else(|| TimeZone::get(default).ok())
        .unwrap_or(TimeZone::UTC)
}

pub(crate) fn people_of(
    store: &mut dyn Store,
    dictionary: &TitleDictionary,
    setup: &Setup,
    account: &PlayAccount,
) -> Result<Vec<Person>, StoreError> {
    let rows = stored::people(store.sql(), account.id)?;
    let mut listed = Vec::with_capacity(rows.len());
    for row in &rows {
        listed.push((
            abm_store::guard_data::is_suppressed(store.sql(), &row.email)?,
            abm_store::guard_data::hard_bounced(store.sql(), &row.email)?,
            abm_store::guard_data::preference(store.sql(), &row.email)?,
        ));
    }
    Ok(rows
        .into_iter()
        .zip(listed)
        .map(|(row, (suppressed, hard_bounced, max_emails_per_month))| {
            let role =
                match crate::team::buying_group::stored_override(row.role_override.as_deref()) {
                    Some(role) => role,
                    None => {
                        let persona = dictionary.classify(row.title.as_deref().unwrap_or_default());
                        persona.role.filter(|_| persona.relevant)
                    }
                };
            let country = attribute(&row.attributes, "country").or(account.country.clone());
            let zone = zone_of(
                country.as_deref(),
                attribute(&row.attributes, "time_zone").as_deref(),
                &setup.guard.config().default_time_zone,
            );
            let facts = PersonFacts {
                contact_id: row.contact_id,
                email: Some(row.email.clone()),
                opted_out: row.opted_out,
                lawful_basis: row
                    .lawful_basis
                    .as_deref()
                    .and_then(|text| LawfulBasis::parse(text).ok()),
                hard_bounced,
                country,
                suppressed,
                max_emails_per_month,
            };
            Person {
                row,
                role,
                facts,
                zone,
            }
        })
        .collect())
}

/// The guard's facts of an account from its activities: a rep's calls and meetings around
/// the simulated days, and the touches sent before.
pub(crate) fn account_facts(
    store: &mut dyn Store,
    setup: &Setup,
    account: &PlayAccount,
    people: &[Person],
    now: i64,
    until: i64,
) -> Result<AccountFacts, StoreError> {
    let conflict = i64::from(setup.guard.config().conflict_days.get()) * MICROS_PER_DAY;
    let from = now - SENT_LOOKBACK_DAYS * MICROS_PER_DAY;
    let by_email: BTreeMap<&str, i64> = people
        .iter()
        .map(|person| (person.row.email.as_str(), person.row.contact_id))
        .collect();
    let mut facts = AccountFacts {
        account_id: account.id,
        ..AccountFacts::default()
    };
    for activity in store.activities_between(
        AccountId(account.id),
        from.min(now - conflict),
        until + conflict,
    )? {
        match activity.kind.as_str() {
            "meeting_held" | "call" => facts.meetings.push(activity.occurred_at),
            // abm's own sends are counted from the outbox below.
            "email_sent" | "direct_mail"
                if activity.occurred_at <= now && !activity.id.starts_with("abm-") =>
            {
                facts.sent.push(Sent {
                    at: activity.occurred_at,
                    channel: if activity.kind == "email_sent" {
                        Channel::Email
                    } else {
                        Channel::DirectMail
                    },
                    contact: activity
                        .email
                        .as_deref()
                        .and_then(|email| by_email.get(email).copied()),
                });
            }
            _ => {}
        }
    }
    for (at, channel, contact) in stored::account_touches_sent_since(store.sql(), account.id, from)?
    {
        if let Some(channel) = Channel::from_key(&channel) {
            facts.sent.push(Sent {
                at,
                channel,
                contact,
            });
        }
    }
    Ok(facts)
}

/// A touch waiting in the simulation, earliest first.
#[derive(PartialEq, Eq)]
struct Due {
    at: i64,
    order: usize,
}

impl Ord for Due {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other
            .at
            .cmp(&self.at)
            .then_with(|| other.order.cmp(&self.order))
    }
}

impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

pub(crate) fn rfc3339(micros: i64) -> String {
    jiff::Timestamp::from_microsecond(micros)
        .map(|t| t.round(jiff::Unit::Second).unwrap_or(t).to_string())
        .unwrap_or_default()
}

/// The dry run of `play` from `now` (microseconds) over `days` days.
pub fn simulate(
    store: &mut dyn Store,
    setup: &Setup,
    personas: &PersonaConfig,
    play: &Play,
    now: i64,
    days: u32,
) -> Result<Vec<SimulatedTouch>, StoreError> {
    let until = now + i64::from(days) * MICROS_PER_DAY;
    let dictionary = TitleDictionary::new(personas);
    // A paused play is simulated too: the dry run is how one checks it before resuming it.
    let mut out = Vec::new();
    let sender = sender(&setup.channels.email.from);
    for (number, enrolment) in enrolments(store, play, now)?.into_iter().enumerate() {
        let account = &enrolment.account;
        let people = people_of(store, &dictionary, setup, account)?;
        let mut facts = account_facts(store, setup, account, &people, now, until)?;
        run::guard_extras(store.sql(), &mut facts, account.id, now)?;
        let roles: Vec<(i64, Option<BuyingRole>)> = people
            .iter()
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
        let touches = abm_core::play::plan(play, number as i64 + 1, now, tier, &chosen);
        let mut queue: BinaryHeap<Due> = touches
            .iter()
            .enumerate()
            .filter(|(_, touch)| touch.due <= until)
            .map(|(order, touch)| Due {
                at: touch.due,
                order,
            })
            .collect();
        let mut delays: Vec<Vec<&'static str>> = vec![Vec::new(); touches.len()];
        while let Some(Due { at, order }) = queue.pop() {
            let touch = &touches[order];
            let person = touch
                .contact
                .and_then(|id| people.iter().find(|person| person.row.contact_id == id));
            let zone = person.map_or(TimeZone::UTC, |person| person.zone.clone());
            let mut decision = setup.guard.decide(&Ask {
                channel: touch.channel,
                person: person.map(|person| &person.facts),
                account: &facts,
                coordinated: play.coordinated,
                at,
                zone: &zone,
            });
            let mut subject = None;
            if decision == Decision::Send
                && touch.channel == Channel::Email
                && let Some(template) = &play.steps[touch.step as usize - 1].template
            {
                let context = template_context(
                    play,
                    &enrolment,
                    person.map(|person| &person.row),
                    person.and_then(|person| person.role),
                    &sender,
                    &setup.channels.email.public_url,
                );
                let keys = BlockKeys {
                    industry: account.industry.as_deref(),
                    cluster: account.cluster.as_deref(),
                    tier: account.tier.as_deref(),
                    role: person
                        .and_then(|person| person.role)
                        .map(BuyingRole::as_str),
                };
                match setup.templates.render(template, &context, &keys) {
                    Ok(rendered) => subject = Some(rendered.subject),
                    Err(error) => {
                        decision = Decision::Suppress {
                            rule: Rule::Template,
                            reason: error,
                        }
                    }
                }
            }
            if let Decision::Hold {
                until: later, rule, ..
            } = &decision
                && *later <= until
            {
                delays[order].push(rule.as_str());
                queue.push(Due { at: *later, order });
                continue;
            }
            if decision == Decision::Send {
                facts.sent.push(Sent {
                    at,
                    channel: touch.channel,
                    contact: touch.contact,
                });
            }
            let at_micros = match &decision {
                Decision::Hold { until, .. } => *until,
                _ => at,
            };
            out.push(SimulatedTouch {
                play: play.name.clone(),
                step: touch.step,
                channel: touch.channel.as_str(),
                task: touch.task.map(|task| task.as_str()),
                account: account.domain.clone(),
                contact: person.map(|person| person.row.email.clone()),
                role: person
                    .and_then(|person| person.role)
                    .map(BuyingRole::as_str),
                decision: decision.key(),
                rule: decision.rule().map(Rule::as_str),
                reason: decision.reason().to_owned(),
                at: rfc3339(at_micros),
                at_micros,
                delayed_by: std::mem::take(&mut delays[order]),
                subject,
            });
        }
    }
    out.sort_by(|a, b| {
        (a.at_micros, &a.account, a.step, &a.contact).cmp(&(
            b.at_micros,
            &b.account,
            b.step,
            &b.contact,
        ))
    });
    Ok(out)
}

/// The sender's name and address from `"Name <address>"`.
pub(crate) fn sender(from: &str) -> (String, String) {
    match (from.rfind('<'), from.rfind('>')) {
        (Some(open), Some(close)) if open < close => (
            from[..open].trim().trim_matches('"').to_owned(),
            from[open + 1..close].trim().to_owned(),
        ),
        _ => (from.trim().to_owned(), from.trim().to_owned()),
    }
}

/// The variables of a template for one account and person; values unknown are left out, so
/// a template that needs one fails to render rather than send a blank.
pub fn template_context(
    play: &Play,
    enrolment_topic_and_why: &impl TemplateFacts,
    person: Option<&PlayPerson>,
    role: Option<BuyingRole>,
    sender: &(String, String),
    public_url: &str,
) -> serde_json::Value {
    let mut account = serde_json::Map::new();
    let facts = enrolment_topic_and_why.account();
    let put =
        |map: &mut serde_json::Map<String, serde_json::Value>, key: &str, value: Option<&str>| {
            if let Some(value) = value.map(str::trim).filter(|value| !value.is_empty()) {
                map.insert(key.to_owned(), value.into());
            }
        };
    put(
        &mut account,
        "name",
        facts.name.as_deref().or(Some(&facts.domain)),
    );
    put(&mut account, "domain", Some(&facts.domain));
    put(&mut account, "industry", facts.industry.as_deref());
    put(&mut account, "country", facts.country.as_deref());
    put(&mut account, "tier", facts.tier.as_deref());
    put(&mut account, "cluster", facts.cluster.as_deref());
    put(&mut account, "stage", facts.stage.as_deref());
    put(&mut account, "owner", facts.owner.as_deref());
    let mut contact = serde_json::Map::new();
    if let Some(person) = person {
        put(&mut contact, "first_name", person.first_name.as_deref());
        put(&mut contact, "last_name", person.last_name.as_deref());
        put(&mut contact, "email", Some(&person.email));
        put(&mut contact, "title", person.title.as_deref());
        put(&mut contact, "role", role.map(BuyingRole::label));
    }
    let mut context = serde_json::json!({
        "account": account,
        "contact": contact,
        "play": {"name": play.name},
        "sender": {"name": sender.0, "email": sender.1},
        "unsubscribe_url": format!("{}/unsubscribe", public_url.trim_end_matches('/')),
        "why_now": enrolment_topic_and_why.why(),
    });
    if let Some(topic) = enrolment_topic_and_why.topic()
        && let Some(object) = context.as_object_mut()
    {
        object.insert("topic".to_owned(), topic.into());
    }
    context
}

/// What a template needs to know of an enrolment.
pub trait TemplateFacts {
    fn account(&self) -> &PlayAccount;
    fn topic(&self) -> Option<&str>;
    fn why(&self) -> String;
}

impl TemplateFacts for Enrolment {
    fn account(&self) -> &PlayAccount {
        &self.account
    }
    fn topic(&self) -> Option<&str> {
        self.topic.as_deref()
    }
    fn why(&self) -> String {
        self.why.clone()
    }
}
