//! The event stream of the scale-out path: activities published to NATS JetStream on
//! subjects partitioned by account, and workers that take them from one durable pull
//! consumer (a consumer group), resolve them to accounts, store them through the same
//! idempotent import lane as files, acknowledge them only after the commit, and re-score the
//! accounts they touched.
//!
//! Two kinds of message share the stream: an activity (a file published by `abm import
//! --stream`) and a tracked event (what `abm serve --stream` collected from the website: the
//! activity, the first-party visitor, the email it identifies, the company its network
//! belongs to), told apart by the `Abm-Kind` header. A worker records tracked events exactly
//! as the collector of a single node does ([`crate::tracking::record`]): visitors,
//! identification and the joining of anonymous history live in the shared store.
//!
//! Re-scoring is coalesced: a worker gathers the accounts its batches touched for
//! `rescore_every` (one second by default) and re-scores them once, then acknowledges every
//! message of those batches. A worker killed before the re-score leaves them unacknowledged:
//! redelivered, they are found stored and their accounts re-scored by the next worker.
//!
//! Nothing is lost: a message is acknowledged after the transaction holding its activity
//! commits; a worker killed before that leaves it unacknowledged and JetStream redelivers it
//! to another worker after `ack_wait`. Nothing is stored twice: the log keeps one row per
//! activity id, and publishing sets `Nats-Msg-Id` to that id so a publisher's retry within the
//! stream's duplicate window is dropped by the server. Order across workers does not matter:
//! scores are computed from the stored log, whose engagement is order-independent.

use abm_core::identity::{FreeMailDomains, IdentityIndex, Resolver};
use abm_core::score::ScoringConfig;
use abm_core::trigger::TriggerConfig;
use abm_core::{AccountId, Activity, ActivityId, ActivityKind, Domain, Email, parse_timestamp};
use abm_store::{ActivityRow, ImportFigures, ImportRecord, SourceLine, Store, StoreError};
use async_nats::jetstream::{self, consumer, stream};
use futures::StreamExt;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::tracking::{NetworkMatch, TrackedEvent};

/// A connection to JetStream, for the crates that publish without naming async-nats.
pub type StreamContext = jetstream::Context;

/// The header that tells a tracked event from an activity.
const KIND_HEADER: &str = "Abm-Kind";
const TRACKED: &str = "tracked";

/// Subjects are `PREFIX.N` for N in `0..PARTITIONS`, N chosen by the account key's hash.
pub const PARTITIONS: u64 = 16;

/// Where the stream lives and what it is called.
#[derive(Debug, Clone)]
pub struct StreamSettings {
    /// `nats://host:port`.
    pub url: String,
    /// The JetStream stream (default `ABM_ACTIVITIES`).
    pub name: String,
    /// The subject prefix (default `abm.activities`).
    pub prefix: String,
}

impl StreamSettings {
    pub fn new(url: &str) -> StreamSettings {
        StreamSettings {
            url: url.to_owned(),
            name: "ABM_ACTIVITIES".to_owned(),
            prefix: "abm.activities".to_owned(),
        }
    }

    fn dead_letters(&self) -> String {
        format!("{}-dead", self.prefix)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("NATS {url}: {message}")]
    Nats { url: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the store's thread stopped: {0}")]
    Worker(String),
}

fn nats(settings: &StreamSettings, error: impl std::fmt::Display) -> StreamError {
    StreamError::Nats {
        url: settings.url.clone(),
        message: error.to_string(),
    }
}

/// One activity on the wire: the generic activities format's fields, versioned.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WireActivity {
    pub v: u32,
    pub id: String,
    /// RFC 3339.
    pub occurred_at: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
}

impl WireActivity {
    pub fn from_activity(activity: &Activity) -> WireActivity {
        WireActivity {
            v: 1,
            id: activity.id.as_str().to_owned(),
            occurred_at: activity.occurred_at.to_string(),
            kind: activity.kind.as_str().to_owned(),
            email: activity.email.as_ref().map(|e| e.as_str().to_owned()),
            domain: activity.domain.as_ref().map(|d| d.as_str().to_owned()),
            url: activity.url.clone(),
            topic: activity.topic.clone(),
            campaign: activity.campaign.clone(),
            channel: activity.channel.clone(),
        }
    }

    /// The activity, validated as an import validates a row; the error names the field.
    pub fn activity(&self) -> Result<Activity, String> {
        if self.v != 1 {
            return Err(format!("v: version {} is not known (1 is)", self.v));
        }
        let field = |name: &str, error: &dyn std::fmt::Display, value: &str| {
            format!("{name}: {value:?}: {error}")
        };
        Ok(Activity {
            id: ActivityId::parse(&self.id).map_err(|e| field("id", &e, &self.id))?,
            kind: ActivityKind::parse(&self.kind).map_err(|e| field("type", &e, &self.kind))?,
            occurred_at: parse_timestamp(&self.occurred_at)
                .map_err(|e| field("occurred_at", &e, &self.occurred_at))?,
            email: self
                .email
                .as_deref()
                .filter(|e| !e.is_empty())
                .map(|e| Email::parse(e).map_err(|error| field("email", &error, e)))
                .transpose()?,
            domain: self
                .domain
                .as_deref()
                .filter(|d| !d.is_empty())
                .map(|d| Domain::parse(d).map_err(|error| field("domain", &error, d)))
                .transpose()?,
            url: self.url.clone(),
            topic: self.topic.clone(),
            campaign: self.campaign.clone(),
            channel: self.channel.clone(),
        })
    }
}

/// One tracked event on the wire: the collector's [`TrackedEvent`], versioned.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WireTracked {
    pub v: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<WireActivity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifies: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<WireNetwork>,
    /// When the collector received it, microseconds since the epoch.
    pub at: i64,
}

/// A reverse-IP identification on the wire.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WireNetwork {
    pub domain: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    pub confidence: f64,
}

impl WireTracked {
    pub fn from_event(event: &TrackedEvent) -> WireTracked {
        WireTracked {
            v: 1,
            activity: event.activity.as_ref().map(WireActivity::from_activity),
            visitor: event.visitor.clone(),
            identifies: event.identifies.as_ref().map(|e| e.as_str().to_owned()),
            network: event.network.as_ref().map(|network| WireNetwork {
                domain: network.domain.as_str().to_owned(),
                organization: network.organization.clone(),
                confidence: network.confidence,
            }),
            at: event.at,
        }
    }

    /// The event, validated; the error names the field.
    pub fn event(&self) -> Result<TrackedEvent, String> {
        if self.v != 1 {
            return Err(format!("v: version {} is not known (1 is)", self.v));
        }
        let activity = self
            .activity
            .as_ref()
            .map(|activity| activity.activity().map_err(|e| format!("activity.{e}")))
            .transpose()?;
        let identifies = self
            .identifies
            .as_deref()
            .map(|e| Email::parse(e).map_err(|error| format!("identifies: {e:?}: {error}")))
            .transpose()?;
        let network = self
            .network
            .as_ref()
            .map(|network| {
                if !(0.0..=1.0).contains(&network.confidence) {
                    return Err(format!(
                        "network.confidence: {} is not between 0 and 1",
                        network.confidence
                    ));
                }
                Ok(NetworkMatch {
                    domain: Domain::parse(&network.domain)
                        .map_err(|e| format!("network.domain: {:?}: {e}", network.domain))?,
                    organization: network.organization.clone(),
                    confidence: network.confidence,
                })
            })
            .transpose()?;
        if activity.is_none() && identifies.is_none() {
            return Err("activity: an event without an activity identifies someone".into());
        }
        Ok(TrackedEvent {
            activity,
            visitor: self.visitor.clone(),
            identifies,
            network,
            at: self.at,
        })
    }

    /// The id the stream de-duplicates a publisher's retry by.
    fn message_id(&self) -> String {
        match &self.activity {
            Some(activity) => activity.id.clone(),
            None => format!(
                "identify:{}:{}:{}",
                self.visitor.as_deref().unwrap_or(""),
                self.identifies.as_deref().unwrap_or(""),
                self.at
            ),
        }
    }
}

/// The partition of an activity: its account key (the email's domain, else its domain)
/// hashed with FNV-1a, stable across versions and machines, so one account's activities
/// always share a subject.
pub fn partition(activity: &Activity) -> u64 {
    let key = activity
        .email
        .as_ref()
        .map(|email| email.domain().as_str())
        .or(activity.domain.as_ref().map(Domain::as_str))
        .unwrap_or("");
    hash_partition(key)
}

/// The partition of a tracked event: its visitor's (a visitor's events share a subject), else
/// its activity's.
pub fn tracked_partition(event: &TrackedEvent) -> u64 {
    match (&event.visitor, &event.activity) {
        (Some(visitor), _) => hash_partition(visitor),
        (None, Some(activity)) => partition(activity),
        (None, None) => 0,
    }
}

fn hash_partition(key: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash % PARTITIONS
}

/// Connects and makes sure the stream exists (file storage, work-queue retention, subjects
/// `PREFIX.*` and the dead letters `PREFIX-dead`, a two-minute duplicate window).
pub async fn connect(settings: &StreamSettings) -> Result<jetstream::Context, StreamError> {
    let client = async_nats::connect(&settings.url)
        .await
        .map_err(|e| nats(settings, e))?;
    let context = jetstream::new(client);
    context
        .get_or_create_stream(stream::Config {
            name: settings.name.clone(),
            subjects: vec![format!("{}.*", settings.prefix), settings.dead_letters()],
            storage: stream::StorageType::File,
            // A work queue: a message leaves the stream once a worker acknowledged it (the
            // store holds it then); the dead letters stay until someone reads them.
            retention: stream::RetentionPolicy::WorkQueue,
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        })
        .await
        .map_err(|e| nats(settings, e))?;
    Ok(context)
}

/// Publishes activities and waits for every acknowledgement: when it returns, each one is
/// stored in the stream. Returns how many the server took as new (a repeat of an id inside
/// the duplicate window is acknowledged as a duplicate).
pub async fn publish(
    context: &jetstream::Context,
    settings: &StreamSettings,
    activities: &[Activity],
) -> Result<u64, StreamError> {
    let mut fresh = 0;
    // Pipelined: up to a window of publishes in flight, then their acknowledgements.
    for chunk in activities.chunks(512) {
        let mut pending = Vec::with_capacity(chunk.len());
        for activity in chunk {
            let body = serde_json::to_vec(&WireActivity::from_activity(activity))
                .map_err(|e| nats(settings, e))?;
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Nats-Msg-Id", activity.id.as_str());
            let subject = format!("{}.{}", settings.prefix, partition(activity));
            pending.push(
                context
                    .publish_with_headers(subject, headers, body.into())
                    .await
                    .map_err(|e| nats(settings, e))?,
            );
        }
        for ack in pending {
            let ack = ack.await.map_err(|e| nats(settings, e))?;
            fresh += u64::from(!ack.duplicate);
        }
    }
    Ok(fresh)
}

/// Publishes tracked events (what `abm serve --stream` collected) and waits for every
/// acknowledgement, as [`publish`] does; a worker records them as the single-node collector
/// would. Returns how many the server took as new.
pub async fn publish_tracked(
    context: &jetstream::Context,
    settings: &StreamSettings,
    events: &[TrackedEvent],
) -> Result<u64, StreamError> {
    let mut pending = Vec::with_capacity(events.len());
    for event in events {
        let wire = WireTracked::from_event(event);
        let body = serde_json::to_vec(&wire).map_err(|e| nats(settings, e))?;
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", wire.message_id().as_str());
        headers.insert(KIND_HEADER, TRACKED);
        let subject = format!("{}.{}", settings.prefix, tracked_partition(event));
        pending.push(
            context
                .publish_with_headers(subject, headers, body.into())
                .await
                .map_err(|e| nats(settings, e))?,
        );
    }
    let mut fresh = 0;
    for ack in pending {
        let ack = ack.await.map_err(|e| nats(settings, e))?;
        fresh += u64::from(!ack.duplicate);
    }
    Ok(fresh)
}

/// Batches failing one after the other before a worker gives up.
const MAX_FAILURES: u32 = 5;

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// The durable consumer every worker shares (the consumer group).
    pub durable: String,
    /// Messages fetched and stored per transaction.
    pub batch: usize,
    /// Stop after this long without a message (`None`: run until stopped).
    pub idle_exit: Option<Duration>,
    /// How long a delivered message may stay unacknowledged before JetStream gives it to
    /// another worker (set when the consumer group is created).
    pub ack_wait: Duration,
    /// How long the accounts touched by stored batches gather before one re-score; the
    /// batches' messages are acknowledged after it.
    pub rescore_every: Duration,
    pub free_mail: FreeMailDomains,
    pub scoring: ScoringConfig,
    pub triggers: TriggerConfig,
}

/// What a worker did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct WorkerReport {
    pub messages: u64,
    pub inserted: u64,
    /// Already stored (a redelivery, or the same activity published twice).
    pub unchanged: u64,
    /// Refused (not a valid activity): moved to the dead-letter subject with the reason.
    pub dead: u64,
    /// Of the messages, tracked events (from `abm serve --stream`).
    pub tracked: u64,
    /// Messages given back to the stream because their batch failed to store (stored on a
    /// later try).
    pub retried: u64,
    pub batches: u64,
    /// Re-scores run, each for the accounts of the batches gathered since the one before.
    pub rescores: u64,
    pub rescored_accounts: u64,
}

/// Resolution as the file import does it, on an index reloaded whenever accounts, contacts
/// or leads were imported since.
struct Identity {
    index: IdentityIndex,
    version: i64,
}

fn identity_version(store: &mut dyn Store) -> Result<i64, StoreError> {
    Ok(store
        .sql()
        .query_opt(
            "SELECT COALESCE(MAX(id), 0) FROM imports WHERE kind IN ('accounts', 'contacts', 'leads')",
            &[],
        )?
        .map(|row| row.int(0))
        .transpose()?
        .unwrap_or(0))
}

/// Stores one batch in one import transaction; returns the accounts it touched.
fn store_batch(
    store: &mut dyn Store,
    identity: &mut Option<Identity>,
    settings: &WorkerSettings,
    activities: &[Activity],
    report: &mut WorkerReport,
) -> Result<Vec<AccountId>, StoreError> {
    if activities.is_empty() {
        return Ok(Vec::new());
    }
    let version = identity_version(store)?;
    if identity
        .as_ref()
        .is_none_or(|known| known.version != version)
    {
        *identity = Some(Identity {
            index: store.identity_index()?,
            version,
        });
    }
    let Some(identity) = identity.as_ref() else {
        return Ok(Vec::new());
    };
    let resolver = Resolver::new(&identity.index, &settings.free_mail);
    let mut touched = BTreeSet::new();
    let rows: Vec<ActivityRow> = activities
        .iter()
        .enumerate()
        .map(|(index, activity)| {
            let resolution = resolver.resolve(activity.email.as_ref(), activity.domain.as_ref());
            let account_key = if resolution.is_matched() {
                None
            } else {
                resolver.account_key(activity.email.as_ref(), activity.domain.as_ref())
            };
            touched.extend(resolution.account);
            ActivityRow {
                activity: activity.clone(),
                account: resolution.account,
                contact: resolution.contact,
                account_key,
                fingerprint: activity.fingerprint(),
                source: SourceLine {
                    file: 0,
                    line: index as u64 + 1,
                },
                visitor: None,
            }
        })
        .collect();
    let started_at = jiff::Timestamp::now();
    let mut transaction = store.begin_import(&ImportRecord {
        kind: "stream".into(),
        files: Vec::new(),
        started_at,
        expected_rows: rows.len() as u64,
    })?;
    let mut outcome = transaction.write_activities(&rows)?;
    outcome.absorb(transaction.finish_activities()?);
    transaction.commit(&ImportFigures {
        rows_read: rows.len() as u64,
        inserted: outcome.inserted,
        updated: 0,
        unchanged: outcome.unchanged + outcome.kept_existing,
        unmatched: 0,
    })?;
    report.inserted += outcome.inserted;
    report.unchanged += outcome.unchanged + outcome.kept_existing;
    Ok(touched.into_iter().collect())
}

/// Runs a worker until `stop` is set (or it stays idle for `idle_exit`). The store is used
/// on a blocking thread between awaits, and is given back with the result: a synchronous
/// database client must be dropped outside the async runtime.
pub async fn run_worker(
    context: &jetstream::Context,
    settings: &StreamSettings,
    worker: &WorkerSettings,
    store: Box<dyn Store + Send>,
    stop: &tokio::sync::watch::Receiver<bool>,
) -> (
    Option<Box<dyn Store + Send>>,
    Result<WorkerReport, StreamError>,
) {
    let mut slot = Some(Local {
        store,
        identity: None,
    });
    let result = work(context, settings, worker, &mut slot, stop).await;
    (slot.map(|local| local.store), result)
}

/// What the blocking side of a worker holds between batches.
struct Local {
    store: Box<dyn Store + Send>,
    identity: Option<Identity>,
}

/// Runs `job` on the store in a blocking thread.
async fn on_store<T: Send + 'static>(
    slot: &mut Option<Local>,
    job: impl FnOnce(&mut Local) -> T + Send + 'static,
) -> Result<T, StreamError> {
    let Some(mut local) = slot.take() else {
        return Err(StreamError::Worker("the store was lost".into()));
    };
    let (local, out) = tokio::task::spawn_blocking(move || {
        let out = job(&mut local);
        (local, out)
    })
    .await
    .map_err(|e| StreamError::Worker(e.to_string()))?;
    *slot = Some(local);
    Ok(out)
}

/// A fetched message as the worker reads it.
enum Parsed {
    Activity(Activity),
    Tracked(TrackedEvent),
}

fn parse(message: &jetstream::Message) -> Result<Parsed, String> {
    let tracked = message
        .headers
        .as_ref()
        .and_then(|headers| headers.get(KIND_HEADER))
        .is_some_and(|kind| kind.as_str() == TRACKED);
    if tracked {
        serde_json::from_slice::<WireTracked>(&message.payload)
            .map_err(|e| format!("not a tracked event: {e}"))
            .and_then(|wire| wire.event())
            .map(Parsed::Tracked)
    } else {
        serde_json::from_slice::<WireActivity>(&message.payload)
            .map_err(|e| format!("not an activity: {e}"))
            .and_then(|wire| wire.activity())
            .map(Parsed::Activity)
    }
}

/// Messages stored but not yet acknowledged, and the accounts they touched: settled by one
/// re-score, then the acknowledgements.
#[derive(Default)]
struct Held {
    messages: Vec<jetstream::Message>,
    touched: BTreeSet<AccountId>,
    since: Option<Instant>,
}

async fn settle(
    held: &mut Held,
    slot: &mut Option<Local>,
    settings: &StreamSettings,
    worker: &WorkerSettings,
    report: &mut WorkerReport,
) -> Result<(), StreamError> {
    held.since = None;
    if held.messages.is_empty() {
        return Ok(());
    }
    let touched: Vec<AccountId> = std::mem::take(&mut held.touched).into_iter().collect();
    if !touched.is_empty() {
        let (scoring, triggers) = (worker.scoring.clone(), worker.triggers.clone());
        let count = touched.len() as u64;
        on_store(slot, move |local| {
            let now = jiff::Timestamp::now().as_microsecond();
            crate::scoring::rescore(
                local.store.as_mut(),
                &scoring,
                &triggers,
                now,
                Some(&touched),
            )
        })
        .await??;
        report.rescored_accounts += count;
        report.rescores += 1;
    }
    // Acknowledged only now: the messages are committed and their accounts re-scored.
    for message in held.messages.drain(..) {
        message
            .ack()
            .await
            .map_err(|e| nats(settings, e.to_string()))?;
        report.messages += 1;
    }
    Ok(())
}

async fn work(
    context: &jetstream::Context,
    settings: &StreamSettings,
    worker: &WorkerSettings,
    slot: &mut Option<Local>,
    stop: &tokio::sync::watch::Receiver<bool>,
) -> Result<WorkerReport, StreamError> {
    let consumer: consumer::PullConsumer = context
        .get_stream(&settings.name)
        .await
        .map_err(|e| nats(settings, e))?
        .get_or_create_consumer(
            &worker.durable,
            consumer::pull::Config {
                durable_name: Some(worker.durable.clone()),
                filter_subject: format!("{}.*", settings.prefix),
                ack_policy: consumer::AckPolicy::Explicit,
                ack_wait: worker.ack_wait,
                max_ack_pending: 100_000,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| nats(settings, e))?;
    let mut report = WorkerReport::default();
    let mut held = Held::default();
    let mut idle_since = Instant::now();
    let mut failures = 0u32;
    while !*stop.borrow() {
        // While messages wait for their re-score, fetch in short waits so the re-score is
        // not late; otherwise wait longer for the next message.
        let wait = if held.since.is_some() {
            Duration::from_millis(100)
        } else {
            Duration::from_millis(500)
        };
        let mut batch = consumer
            .fetch()
            .max_messages(worker.batch)
            .expires(wait)
            .messages()
            .await
            .map_err(|e| nats(settings, e))?;
        let mut messages = Vec::new();
        while let Some(message) = batch.next().await {
            messages.push(message.map_err(|e| nats(settings, e))?);
        }
        if messages.is_empty() {
            // Quiet: settle what is held at once.
            settle(&mut held, slot, settings, worker, &mut report).await?;
            if worker
                .idle_exit
                .is_some_and(|limit| idle_since.elapsed() >= limit)
            {
                break;
            }
            continue;
        }
        idle_since = Instant::now();
        let mut activities = Vec::with_capacity(messages.len());
        let mut tracked = Vec::new();
        let mut dead = Vec::new();
        for (index, message) in messages.iter().enumerate() {
            match parse(message) {
                Ok(Parsed::Activity(activity)) => activities.push(activity),
                Ok(Parsed::Tracked(event)) => tracked.push(event),
                Err(reason) => dead.push((index, reason)),
            }
        }
        // Refused messages go to the dead letters with their reason, then are acknowledged:
        // a bad message must not come back forever, and is kept to be looked at.
        for (index, reason) in &dead {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Abm-Refused", reason.as_str());
            context
                .publish_with_headers(
                    settings.dead_letters(),
                    headers,
                    messages[*index].payload.clone(),
                )
                .await
                .map_err(|e| nats(settings, e))?
                .await
                .map_err(|e| nats(settings, e))?;
            tracing::warn!(reason, "stream: a message refused to the dead letters");
        }
        report.dead += dead.len() as u64;
        // The refused are kept in the dead letters now: acknowledged at once, and out of the
        // batch, so a retried batch does not refuse them twice.
        let mut kept = Vec::with_capacity(messages.len() - dead.len());
        let mut dead_indexes = dead.iter().map(|(index, _)| *index).peekable();
        for (index, message) in messages.into_iter().enumerate() {
            if dead_indexes.next_if_eq(&index).is_some() {
                message
                    .ack()
                    .await
                    .map_err(|e| nats(settings, e.to_string()))?;
                report.messages += 1;
            } else {
                kept.push(message);
            }
        }
        let messages = kept;
        let worker_settings = worker.clone();
        let mut local_report = WorkerReport::default();
        let stored = on_store(slot, move |local| {
            let mut touched = store_batch(
                local.store.as_mut(),
                &mut local.identity,
                &worker_settings,
                &activities,
                &mut local_report,
            )?;
            if !tracked.is_empty() {
                let recorded = crate::tracking::record(
                    local.store.as_mut(),
                    &tracked,
                    &worker_settings.free_mail,
                    jiff::Timestamp::now(),
                    crate::tracking::Writers::Many,
                )?;
                local_report.tracked += recorded.received;
                local_report.inserted += recorded.inserted;
                local_report.unchanged += recorded.unchanged;
                touched.extend(recorded.touched);
            }
            Ok::<_, StoreError>((touched, local_report))
        })
        .await?;
        let (touched, local_report) = match stored {
            Ok(stored) => {
                failures = 0;
                stored
            }
            Err(error) => {
                // A deadlock, a lost connection, a server restarting: the batch's
                // transaction rolled back, so its messages go back to the stream for another
                // try (here or on another worker), on a fresh connection. Only a failure that
                // keeps coming back stops the worker.
                failures += 1;
                tracing::warn!(%error, failures, "stream: a batch was not stored; its messages go back to the stream");
                for message in &messages {
                    let _ = message
                        .ack_with(jetstream::AckKind::Nak(Some(Duration::from_secs(1))))
                        .await;
                }
                report.retried += messages.len() as u64;
                if failures >= MAX_FAILURES {
                    return Err(error.into());
                }
                on_store(slot, |local| {
                    if let Ok(fresh) = local.store.reopen() {
                        local.store = fresh;
                    }
                    local.identity = None;
                })
                .await?;
                tokio::time::sleep(Duration::from_millis(500 * u64::from(failures))).await;
                continue;
            }
        };
        report.inserted += local_report.inserted;
        report.unchanged += local_report.unchanged;
        report.tracked += local_report.tracked;
        report.batches += 1;
        held.touched.extend(touched);
        held.messages.extend(messages);
        let since = *held.since.get_or_insert_with(Instant::now);
        if since.elapsed() >= worker.rescore_every {
            settle(&mut held, slot, settings, worker, &mut report).await?;
        }
    }
    // Stopping (or idle): what is stored is re-scored and acknowledged before leaving.
    settle(&mut held, slot, settings, worker, &mut report).await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn activity(email: Option<&str>, domain: Option<&str>) -> Activity {
        Activity {
            id: ActivityId::parse("a-1").unwrap(),
            kind: ActivityKind::PageView,
            occurred_at: "2026-03-01T10:00:00Z".parse().unwrap(),
            email: email.map(|e| Email::parse(e).unwrap()),
            domain: domain.map(|d| Domain::parse(d).unwrap()),
            url: Some("https://x.io/p".into()),
            topic: None,
            campaign: None,
            channel: None,
        }
    }

    #[test]
    fn one_account_keeps_one_partition() {
        let by_email = activity(Some("ann@acme.com"), None);
        let by_domain = activity(None, Some("acme.com"));
        assert_eq!(partition(&by_email), partition(&by_domain));
        assert!(partition(&by_email) < PARTITIONS);
        // Stable across versions: FNV-1a of "acme.com".
        assert_eq!(partition(&by_email), 0x4b54_b467_e5e0_0820_u64 % PARTITIONS);
    }

    #[test]
    fn the_wire_format_round_trips_and_refuses_by_field() {
        let original = activity(Some("ann@acme.com"), None);
        let wire = WireActivity::from_activity(&original);
        let text = serde_json::to_string(&wire).unwrap();
        let back: WireActivity = serde_json::from_str(&text).unwrap();
        assert_eq!(back.activity().unwrap(), original);
        let bad = WireActivity {
            email: Some("not-an-email".into()),
            ..wire.clone()
        };
        assert!(bad.activity().unwrap_err().starts_with("email:"));
        let future = WireActivity { v: 2, ..wire };
        assert!(future.activity().unwrap_err().starts_with("v:"));
    }

    #[test]
    fn a_tracked_event_round_trips_and_refuses_by_field() {
        let event = TrackedEvent {
            activity: Some(activity(None, None)),
            visitor: Some("visitor-0001".into()),
            identifies: Some(Email::parse("ann@acme.com").unwrap()),
            network: Some(NetworkMatch {
                domain: Domain::parse("globex.com").unwrap(),
                organization: Some("Globex".into()),
                confidence: 0.9,
            }),
            at: 1_780_000_000_000_000,
        };
        let wire = WireTracked::from_event(&event);
        let back: WireTracked =
            serde_json::from_str(&serde_json::to_string(&wire).unwrap()).unwrap();
        let again = back.event().unwrap();
        assert_eq!(again.activity, event.activity);
        assert_eq!(again.visitor, event.visitor);
        assert_eq!(again.identifies, event.identifies);
        assert_eq!(again.network, event.network);
        assert_eq!(again.at, event.at);
        assert_eq!(wire.message_id(), "a-1");
        // A visitor's events share a partition whatever their activity says.
        let other = TrackedEvent {
            activity: Some(activity(Some("bob@initech.com"), None)),
            ..event.clone()
        };
        assert_eq!(tracked_partition(&event), tracked_partition(&other));

        let bad_network = WireTracked {
            network: Some(WireNetwork {
                domain: "globex.com".into(),
                organization: None,
                confidence: 3.0,
            }),
            ..wire.clone()
        };
        assert!(
            bad_network
                .event()
                .unwrap_err()
                .starts_with("network.confidence:")
        );
        let bad_activity = WireTracked {
            activity: Some(WireActivity {
                kind: "teleport".into(),
                ..wire.activity.clone().unwrap()
            }),
            ..wire.clone()
        };
        assert!(
            bad_activity
                .event()
                .unwrap_err()
                .starts_with("activity.type:")
        );
        let empty = WireTracked {
            activity: None,
            identifies: None,
            ..wire
        };
        assert!(empty.event().is_err());
    }
}
