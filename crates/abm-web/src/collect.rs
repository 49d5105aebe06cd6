//! The collector: one thread that writes tracked events in batches (group commit: every
//! request waits for the commit that holds its events, so a 2xx means stored), and one that
//! rescores the accounts those events touched, coalescing bursts, so scores follow the
//! website within a second without a rescore per event.
//!
//! On SQLite a third thread copies the write-ahead log into the database file once a second
//! (a checkpoint), beside the writer: a commit waits only for its own log sync, and a
//! page many commits wrote is copied once. SQLite starts the log afresh only when a write
//! transaction begins with the whole log copied: when the writer pauses, that happens by
//! itself; a writer busy without a pause would grow the log for ever, so once the log passes
//! [`RESTART_LOG_PAGES`] the writer copies the little left between two commits itself (a
//! pause of a few milliseconds, every few seconds at full load), and its next commit
//! restarts the log.
//!
//! Requests never write the store themselves: they validate, filter and queue. A full queue
//! answers 503 (the snippet's beacon is dropped, a retried call comes back later), so a burst
//! can not grow memory without bound.
//!
//! In scale-out (`abm serve --stream`) none of those threads run: each request publishes its
//! events to the JetStream stream and answers once the stream has acknowledged them (stored
//! on the stream's disk), and workers record them in the shared store and re-score
//! (`abm_engine::stream`). The web node then holds nothing another node would need.

use abm_core::AccountId;
use abm_core::identity::FreeMailDomains;
use abm_core::score::ScoringConfig;
use abm_core::trigger::TriggerConfig;
use abm_engine::stream::{StreamContext, StreamSettings};
use abm_engine::tracking::{Recorded, TrackedEvent};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Events one commit takes at most; a deeper queue waits for the next commit.
const MAX_BATCH_EVENTS: usize = 5_000;
/// Requests waiting for a commit before new ones are refused.
const QUEUE_REQUESTS: usize = 20_000;
/// How long touched accounts gather before a rescore.
const RESCORE_EVERY: Duration = Duration::from_millis(500);
/// Passes a checkpoint makes at most, each copying what was committed during the one before.
const CHECKPOINT_PASSES: usize = 6;
/// Pages a pass may have copied for the writer to copy the rest itself: about what two
/// commits of a full batch write.
const LEFT_TO_THE_WRITER: u64 = 500;
/// Pages of write-ahead log (128 MiB of 4 KiB pages) past which the writer copies the rest
/// itself, so that the log restarts.
const RESTART_LOG_PAGES: u64 = 32_768;
/// How long commits gather in the write-ahead log before a checkpoint copies them into the
/// database file. Each commit of a batch dirties a few pages per event (the visitor, the id
/// index, the visitor index), mostly the same few thousand pages again and again: copied
/// once per interval instead of once per commit. Measured at full load (`bench/collect.sh`):
/// every 250 ms, 19,100 events/s; every second, 20,700; every two seconds a little more, for a
/// log twice as long for readers to search.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(1000);
/// Collect calls publishing to the stream at once before new ones are refused.
const STREAM_IN_FLIGHT: usize = 4_096;

/// What the collector has done since the server started.
#[derive(Debug, Default)]
pub struct Counters {
    pub received: AtomicU64,
    pub stored: AtomicU64,
    pub published: AtomicU64,
    pub unchanged: AtomicU64,
    pub bots: AtomicU64,
    pub refused_privacy: AtomicU64,
    pub invalid: AtomicU64,
    pub overloaded: AtomicU64,
    pub identified: AtomicU64,
    pub linked: AtomicU64,
    pub rescored: AtomicU64,
    pub commits: AtomicU64,
}

/// A snapshot of [`Counters`].
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CollectorStats {
    /// Events received (valid and not), since the server started
    pub received: u64,
    /// Events newly stored in the activity log (0 with `--stream`: workers store them)
    pub stored: u64,
    /// Events published to the stream for workers to store (`abm serve --stream`)
    pub published: u64,
    /// Events already stored, or already on the stream (a retried id)
    pub unchanged: u64,
    /// Events refused as bots (user agent or rate)
    pub bots: u64,
    /// Events refused by Do-Not-Track, Global Privacy Control or missing consent
    pub refused_privacy: u64,
    /// Events refused as malformed
    pub invalid: u64,
    /// Requests refused because the write queue was full
    pub overloaded: u64,
    /// Visitors identified by an email
    pub identified: u64,
    /// Earlier anonymous events joined to a contact or account
    pub linked: u64,
    /// Account rescores after tracked events
    pub rescored: u64,
    /// Batched commits
    pub commits: u64,
}

impl Counters {
    pub fn snapshot(&self) -> CollectorStats {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        CollectorStats {
            received: read(&self.received),
            stored: read(&self.stored),
            published: read(&self.published),
            unchanged: read(&self.unchanged),
            bots: read(&self.bots),
            refused_privacy: read(&self.refused_privacy),
            invalid: read(&self.invalid),
            overloaded: read(&self.overloaded),
            identified: read(&self.identified),
            linked: read(&self.linked),
            rescored: read(&self.rescored),
            commits: read(&self.commits),
        }
    }

    pub fn add(counter: &AtomicU64, value: u64) {
        counter.fetch_add(value, Ordering::Relaxed);
    }
}

/// Why a batch was not stored.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CollectError {
    #[error("the collector is busy: try again shortly")]
    Overloaded,
    #[error("the collector has stopped")]
    Stopped,
    #[error("the events could not be stored: {0}")]
    Store(String),
    #[error("the events could not be published to the stream: {0}")]
    Stream(String),
}

struct Job {
    events: Vec<TrackedEvent>,
    done: tokio::sync::oneshot::Sender<Result<(), CollectError>>,
}

/// The stream collected events are published to (`abm serve --stream`), connected.
#[derive(Clone)]
pub struct StreamTarget {
    pub settings: StreamSettings,
    pub context: StreamContext,
}

impl std::fmt::Debug for StreamTarget {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("StreamTarget")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Where events go: the writer thread of this node, or the stream.
#[derive(Clone)]
enum Sink {
    Store(mpsc::SyncSender<Job>),
    Stream(Arc<StreamSink>),
}

struct StreamSink {
    target: StreamTarget,
    /// Calls publishing now; a call past [`STREAM_IN_FLIGHT`] is refused (503).
    in_flight: tokio::sync::Semaphore,
}

/// The handle requests queue events through.
#[derive(Clone)]
pub struct Collector {
    sink: Sink,
    pub counters: Arc<Counters>,
    /// Per-visitor event rates, for the behaviour half of bot filtering.
    pub rates: Arc<Mutex<abm_core::tracking::RateFilter>>,
}

/// What the collector's threads need.
pub struct CollectorSettings {
    pub database_url: String,
    pub scoring: ScoringConfig,
    pub triggers: TriggerConfig,
    pub free_mail: FreeMailDomains,
    pub max_events_per_minute: u32,
    /// Publish to this stream instead of writing the store (`abm serve --stream`).
    pub stream: Option<StreamTarget>,
}

impl Collector {
    /// Starts the writer and rescorer threads; they stop when the last handle is dropped.
    pub fn start(settings: CollectorSettings) -> Result<Self, abm_store::StoreError> {
        let counters = Arc::new(Counters::default());
        let rates = Arc::new(Mutex::new(abm_core::tracking::RateFilter::new(
            settings.max_events_per_minute,
            100_000,
        )));
        if let Some(target) = settings.stream {
            return Ok(Self {
                sink: Sink::Stream(Arc::new(StreamSink {
                    target,
                    in_flight: tokio::sync::Semaphore::new(STREAM_IN_FLIGHT),
                })),
                counters,
                rates,
            });
        }
        let mut writer_store = abm_store::open(&settings.database_url)?.reopen()?;
        writer_store.durable_commits()?;
        let rescore_store = abm_store::open(&settings.database_url)?.reopen()?;
        let checkpoint_store = abm_store::open(&settings.database_url)?.reopen()?;
        let (queue, jobs) = mpsc::sync_channel::<Job>(QUEUE_REQUESTS);
        let (touched_tx, touched_rx) = mpsc::channel::<Vec<AccountId>>();
        let (committed_tx, committed_rx) = mpsc::channel::<()>();
        let finish_checkpoint = Arc::new(AtomicBool::new(false));
        let spawn = |name: &str| std::thread::Builder::new().name(name.to_owned());
        // The checkpointer runs before the writer leaves checkpoints to it.
        {
            let finish_checkpoint = Arc::clone(&finish_checkpoint);
            spawn("abm-checkpoint")
                .spawn(move || checkpoint_loop(checkpoint_store, &committed_rx, &finish_checkpoint))
                .map_err(|error| abm_store::StoreError::Corrupt(error.to_string()))?;
        }
        writer_store.defer_checkpoints()?;
        {
            let counters = Arc::clone(&counters);
            let free_mail = settings.free_mail.clone();
            let outputs = WriterOutputs {
                touched: touched_tx,
                committed: committed_tx,
                finish_checkpoint,
            };
            spawn("abm-collect")
                .spawn(move || write_loop(writer_store, &jobs, &outputs, &counters, &free_mail))
                .map_err(|error| abm_store::StoreError::Corrupt(error.to_string()))?;
        }
        {
            let counters = Arc::clone(&counters);
            let (scoring, triggers) = (settings.scoring.clone(), settings.triggers.clone());
            spawn("abm-rescore")
                .spawn(move || {
                    rescore_loop(rescore_store, &touched_rx, &counters, &scoring, &triggers)
                })
                .map_err(|error| abm_store::StoreError::Corrupt(error.to_string()))?;
        }
        Ok(Self {
            sink: Sink::Store(queue),
            counters,
            rates,
        })
    }

    /// Queues events and waits until the commit that holds them.
    pub async fn store(&self, events: Vec<TrackedEvent>) -> Result<(), CollectError> {
        if events.is_empty() {
            return Ok(());
        }
        let queue = match &self.sink {
            Sink::Store(queue) => queue,
            Sink::Stream(sink) => {
                let StreamSink { target, in_flight } = sink.as_ref();
                let Ok(_permit) = in_flight.try_acquire() else {
                    Counters::add(&self.counters.overloaded, 1);
                    return Err(CollectError::Overloaded);
                };
                let fresh = abm_engine::stream::publish_tracked(
                    &target.context,
                    &target.settings,
                    &events,
                )
                .await
                .map_err(|error| {
                    tracing::error!(%error, events = events.len(), "tracked events not published");
                    CollectError::Stream(error.to_string())
                })?;
                Counters::add(&self.counters.published, fresh);
                Counters::add(&self.counters.unchanged, events.len() as u64 - fresh);
                return Ok(());
            }
        };
        let (done, finished) = tokio::sync::oneshot::channel();
        match queue.try_send(Job { events, done }) {
            Ok(()) => {}
            Err(mpsc::TrySendError::Full(_)) => {
                Counters::add(&self.counters.overloaded, 1);
                return Err(CollectError::Overloaded);
            }
            Err(mpsc::TrySendError::Disconnected(_)) => return Err(CollectError::Stopped),
        }
        finished.await.map_err(|_| CollectError::Stopped)?
    }
}

/// Where the writer tells what its commits did.
struct WriterOutputs {
    /// The accounts to rescore.
    touched: mpsc::Sender<Vec<AccountId>>,
    /// One message per commit, for the checkpointer.
    committed: mpsc::Sender<()>,
    /// Set by the checkpointer when the log has grown past [`RESTART_LOG_PAGES`]: the writer
    /// copies what is left before its next transaction, which then restarts the log.
    finish_checkpoint: Arc<AtomicBool>,
}

fn write_loop(
    mut store: Box<dyn abm_store::Store + Send>,
    jobs: &mpsc::Receiver<Job>,
    outputs: &WriterOutputs,
    counters: &Counters,
    free_mail: &FreeMailDomains,
) {
    // Blocks for the first job; then takes whatever queued while the last commit ran.
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        let mut events = batch[0].events.len();
        while events < MAX_BATCH_EVENTS {
            match jobs.try_recv() {
                Ok(job) => {
                    events += job.events.len();
                    batch.push(job);
                }
                Err(_) => break,
            }
        }
        let all: Vec<TrackedEvent> = batch
            .iter_mut()
            .flat_map(|job| std::mem::take(&mut job.events))
            .collect();
        let started = Instant::now();
        let result = abm_engine::tracking::record(
            store.as_mut(),
            &all,
            free_mail,
            jiff::Timestamp::now(),
            abm_engine::tracking::Writers::One,
        );
        let reply = match result {
            Ok(recorded) => {
                count(counters, &recorded);
                let _ = outputs.committed.send(());
                if !recorded.touched.is_empty() {
                    let _ = outputs.touched.send(recorded.touched);
                }
                Ok(())
            }
            Err(error) => {
                tracing::error!(%error, events = all.len(), "tracked events not stored");
                Err(CollectError::Store(error.to_string()))
            }
        };
        tracing::debug!(events = all.len(), requests = batch.len(), elapsed = ?started.elapsed(), "collect commit");
        for job in batch {
            let _ = job.done.send(reply.clone());
        }
        if outputs.finish_checkpoint.swap(false, Ordering::Relaxed) {
            let started = Instant::now();
            match store.checkpoint() {
                Ok(checkpoint) => {
                    tracing::debug!(?checkpoint, elapsed = ?started.elapsed(), "collector checkpoint finished");
                }
                Err(error) => {
                    tracing::warn!(%error, "checkpoint of the collector's commits failed")
                }
            }
        }
    }
}

fn count(counters: &Counters, recorded: &Recorded) {
    Counters::add(&counters.stored, recorded.inserted);
    Counters::add(&counters.unchanged, recorded.unchanged);
    Counters::add(&counters.identified, recorded.identified);
    Counters::add(&counters.linked, recorded.linked);
    Counters::add(&counters.commits, 1);
}

/// Copies the writer's commits from the write-ahead log into the database file, at most once
/// per [`CHECKPOINT_EVERY`], and a last time when the writer stops.
fn checkpoint_loop(
    mut store: Box<dyn abm_store::Store + Send>,
    committed: &mpsc::Receiver<()>,
    finish_checkpoint: &AtomicBool,
) {
    while committed.recv().is_ok() {
        std::thread::sleep(CHECKPOINT_EVERY);
        while committed.try_recv().is_ok() {}
        let started = Instant::now();
        let mut copied_before = None;
        for pass in 1..=CHECKPOINT_PASSES {
            match store.checkpoint() {
                Ok(checkpoint) => {
                    // The pages this pass copied were committed during the one before; few
                    // means few are being committed during this one: the writer copies those.
                    let copied_now = copied_before.map_or(checkpoint.copied, |before| {
                        checkpoint.copied.saturating_sub(before)
                    });
                    copied_before = Some(checkpoint.copied);
                    tracing::debug!(pass, ?checkpoint, copied_now, elapsed = ?started.elapsed(), "collector checkpoint");
                    if copied_now <= LEFT_TO_THE_WRITER || pass == CHECKPOINT_PASSES {
                        if checkpoint.log >= RESTART_LOG_PAGES {
                            finish_checkpoint.store(true, Ordering::Relaxed);
                        }
                        break;
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "checkpoint of the collector's commits failed");
                    break;
                }
            }
        }
    }
    if let Err(error) = store.checkpoint() {
        tracing::warn!(%error, "checkpoint of the collector's commits failed");
    }
}

fn rescore_loop(
    mut store: Box<dyn abm_store::Store + Send>,
    touched: &mpsc::Receiver<Vec<AccountId>>,
    counters: &Counters,
    scoring: &ScoringConfig,
    triggers: &TriggerConfig,
) {
    while let Ok(first) = touched.recv() {
        let mut accounts: BTreeSet<AccountId> = first.into_iter().collect();
        let deadline = Instant::now() + RESCORE_EVERY;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match touched.recv_timeout(left) {
                Ok(more) => accounts.extend(more),
                Err(mpsc::RecvTimeoutError::Timeout) => break,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        let accounts: Vec<AccountId> = accounts.into_iter().collect();
        let now = jiff::Timestamp::now().as_microsecond();
        match abm_engine::scoring::rescore(store.as_mut(), scoring, triggers, now, Some(&accounts))
        {
            Ok(_) => Counters::add(&counters.rescored, accounts.len() as u64),
            Err(error) => tracing::error!(%error, "rescoring after tracked events failed"),
        }
    }
}
