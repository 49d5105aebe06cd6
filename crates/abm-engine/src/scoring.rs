//! Scoring over the store. [`load`] reads what scores are computed from — accounts,
//! opportunities, intent, and the activity log, scanned on every core over separate
//! connections and kept in a compact form (24 bytes an activity) — and prepares each
//! account's facts once. [`assess_all`] then scores every account as of any instant (the
//! backtest and `abm tune` assess the same load at several), learning the customer profile
//! as of that instant. [`rescore`] computes and saves.

use abm_core::AccountId;
use abm_core::entity::ActivityKind;
use abm_core::persona::TitleDictionary;
use abm_core::score::facts::{OpportunityFact, Person, ScoredActivity, TopicId};
use abm_core::score::fit::CustomerProfile;
use abm_core::score::intent::PageTopics;
use abm_core::score::{Assessment, ScoringConfig, assess};
use abm_core::trigger::TriggerConfig;
use abm_store::{SaveOutcome, SavedScore, ScoringAccount, Store, StoreError};
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;

type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

/// One account's assessment, with what the listings and the backtest need besides.
#[derive(Debug, Clone)]
pub struct ScoredAccount {
    pub id: AccountId,
    pub domain: String,
    pub name: Option<String>,
    pub owner: Option<String>,
    pub assessment: Assessment,
    /// Activities (not noise) in the 90 days before the scoring instant: the naive ranking
    /// the backtest compares against.
    pub recent_activities: u32,
    pub opportunities: Vec<OpportunityFact>,
}

/// The result of a scoring run.
#[derive(Debug, Clone)]
pub struct Scoring {
    pub as_of: i64,
    pub accounts: Vec<ScoredAccount>,
    /// Customers the fit profile learned from (0 when too few to learn).
    pub profile_customers: u32,
}

/// What scores are computed from, loaded once.
pub struct Loaded {
    /// Every account (for the customer profile), facts prepared (sorted, noise marked).
    pub accounts: Vec<ScoringAccount>,
    /// The positions in `accounts` to score: all, or those asked for.
    pub selected: Vec<usize>,
}

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Loads every account, and the activities and intent of `only` (or of all), known at
/// `until` (microseconds).
pub fn load(
    store: &mut dyn Store,
    config: &ScoringConfig,
    until: i64,
    only: Option<&[AccountId]>,
) -> Result<Loaded, StoreError> {
    let accounts = store.scoring_accounts()?;
    load_from(store, config, until, only, accounts)
}

/// One account's facts alone (`None` when no account has this id): what a page needs when
/// the customer profile comes from a [`ProfileStore`] instead of from every account.
pub fn load_one(
    store: &mut dyn Store,
    config: &ScoringConfig,
    until: i64,
    id: AccountId,
) -> Result<Option<Loaded>, StoreError> {
    let Some(account) = store.scoring_account(id)? else {
        return Ok(None);
    };
    load_from(store, config, until, Some(&[id]), vec![account]).map(Some)
}

fn load_from(
    store: &mut dyn Store,
    config: &ScoringConfig,
    until: i64,
    only: Option<&[AccountId]>,
    mut accounts: Vec<ScoringAccount>,
) -> Result<Loaded, StoreError> {
    let index: FastMap<i64, u32> = accounts
        .iter()
        .enumerate()
        .map(|(position, account)| (account.id.0, position as u32))
        .collect();
    let account_count = accounts.len();
    // Opportunities and intent are read on this connection while other threads scan the log.
    let mut meanwhile = |store: &mut dyn Store| -> Result<(), StoreError> {
        store.scoring_opportunities(&mut |account, opportunity| {
            if let Some(&position) = index.get(&account.0) {
                accounts[position as usize]
                    .facts
                    .opportunities
                    .push(opportunity);
            }
        })?;
        store.scoring_intent(only, &mut |account, week| {
            if let Some(&position) = index.get(&account.0) {
                accounts[position as usize].facts.intent.push(week);
            }
        })?;
        // Who holds a buying role: from the title, or as set by hand.
        let people = match only {
            Some(ids) if ids.len() <= 200 => {
                let mut people = Vec::new();
                for id in ids {
                    people.extend(abm_store::team::people(store.sql(), Some(id.0))?);
                }
                people
            }
            _ => abm_store::team::people(store.sql(), None)?,
        };
        let dictionary = TitleDictionary::new(&config.personas);
        for person in people {
            let Some(&position) = index.get(&person.account_id) else {
                continue;
            };
            let role =
                match crate::team::buying_group::stored_override(person.role_override.as_deref()) {
                    Some(role) => role,
                    None => {
                        let persona =
                            dictionary.classify(person.title.as_deref().unwrap_or_default());
                        persona.role.filter(|_| persona.relevant)
                    }
                };
            if let Some(role) = role {
                accounts[position as usize]
                    .facts
                    .roles
                    .push((Person::contact(person.contact_id), role));
            }
        }
        Ok(())
    };

    let topics = Topics::default();
    let mut unknown_kinds = 0;
    // Chunks are kept as they come and counted per account; each account's activities then
    // go into a vector of exactly its size (no growth, no copies, no slack).
    let mut chunks = Vec::new();
    let mut counts = vec![0u32; account_count];
    let mut consume = |chunk: Rows, unknown: u64| {
        unknown_kinds += unknown;
        for position in &chunk.positions {
            counts[*position as usize] += 1;
        }
        chunks.push(chunk);
    };
    scan_activities(
        store,
        config,
        until,
        only,
        &index,
        &topics,
        &mut meanwhile,
        &mut consume,
    )?;
    for (account, count) in accounts.iter_mut().zip(counts) {
        account.facts.activities = Vec::with_capacity(count as usize);
    }
    scatter(&mut accounts, &chunks);
    drop(chunks);
    for account in &mut accounts {
        account
            .facts
            .roles
            .sort_unstable_by_key(|(person, _)| *person);
    }
    let topics = Arc::new(topics.into_names());
    for account in &mut accounts {
        account.facts.topics = Arc::clone(&topics);
    }
    if unknown_kinds > 0 {
        tracing::warn!(
            unknown_kinds,
            "stored activities of a kind this abm does not know were skipped"
        );
    }

    let selected: Vec<usize> = match only {
        None => (0..accounts.len()).collect(),
        Some(only) => only
            .iter()
            .filter_map(|id| index.get(&id.0).map(|&p| p as usize))
            .collect(),
    };
    // Sorting and noise marking, once, on every core.
    let noise = &config.engagement.noise;
    parallel_chunks(&mut accounts, |part| {
        for account in part {
            account.facts.prepare(noise);
        }
    });
    Ok(Loaded { accounts, selected })
}

/// Topic names interned for one load, shared by the scan's threads (taken only for a
/// topic or URL a thread has not seen yet).
#[derive(Default)]
struct Topics(std::sync::Mutex<TopicTable>);

/// Topic names in id order, and each name's id.
type TopicTable = (Vec<String>, FastMap<Box<str>, TopicId>);

impl Topics {
    fn id(&self, topic: &str) -> Option<TopicId> {
        let mut guard = match self.0.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let (names, ids) = &mut *guard;
        if let Some(&id) = ids.get(topic) {
            return Some(id);
        }
        let id = TopicId::new(u16::try_from(names.len()).ok()?)?;
        names.push(topic.to_owned());
        ids.insert(topic.into(), id);
        Some(id)
    }

    fn into_names(self) -> Vec<String> {
        match self.0.into_inner() {
            Ok((names, _)) => names,
            Err(poisoned) => poisoned.into_inner().0,
        }
    }
}

/// Moves every chunked activity into its account's vector: one thread per share of the
/// accounts, each reading all chunks and writing only its own accounts.
fn scatter(accounts: &mut [ScoringAccount], chunks: &[Rows]) {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let size = accounts.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = accounts
            .chunks_mut(size)
            .enumerate()
            .map(|(part, share)| {
                scope.spawn(move || {
                    let first = (part * size) as u32;
                    let end = first + share.len() as u32;
                    for chunk in chunks {
                        for (position, activity) in chunk.positions.iter().zip(&chunk.activities) {
                            if (first..end).contains(position) {
                                share[(*position - first) as usize]
                                    .facts
                                    .activities
                                    .push(*activity);
                            }
                        }
                    }
                })
            })
            .collect();
        for handle in handles {
            if let Err(panic) = handle.join() {
                std::panic::resume_unwind(panic);
            }
        }
    });
}

/// Rows one scan thread hands over at once.
const SCAN_CHUNK: usize = 1 << 15;

/// One part of the scan: rows turned into compact activities, handed on in chunks.
struct ScanPart<'a> {
    index: &'a FastMap<i64, u32>,
    pages: &'a PageTopics,
    topics: &'a Topics,
    /// Topic ids already looked up by this part, by topic text and by URL.
    topic_ids: FastMap<Box<str>, Option<TopicId>>,
    url_topics: FastMap<Box<[u8]>, Option<TopicId>>,
    rows: Rows,
    unknown_kinds: u64,
    hasher: foldhash::fast::FixedState,
}

impl<'a> ScanPart<'a> {
    fn new(index: &'a FastMap<i64, u32>, pages: &'a PageTopics, topics: &'a Topics) -> Self {
        ScanPart {
            index,
            pages,
            topics,
            topic_ids: FastMap::default(),
            url_topics: FastMap::default(),
            rows: Rows::with_capacity(SCAN_CHUNK),
            unknown_kinds: 0,
            hasher: foldhash::fast::FixedState::with_seed(0x5eed),
        }
    }

    /// Adds a row; returns a full chunk to hand on.
    fn visit(&mut self, row: abm_store::ScoringActivity<'_>) -> Option<Rows> {
        let &position = self.index.get(&row.account.0)?;
        let Some(kind) = std::str::from_utf8(row.kind)
            .ok()
            .and_then(ActivityKind::from_key)
        else {
            self.unknown_kinds += 1;
            return None;
        };
        let person = match (row.contact, row.email) {
            (Some(contact), _) => Person::contact(contact),
            (None, Some(email)) => Person::address(self.hasher.hash_one(email)),
            (None, None) => Person::ANONYMOUS,
        };
        let topic = match (row.topic, row.url) {
            (Some(topic), _) if !topic.is_empty() => match self.topic_ids.get(topic) {
                Some(&id) => id,
                None => {
                    let id = self.topics.id(topic);
                    self.topic_ids.insert(topic.into(), id);
                    id
                }
            },
            (_, Some(url)) => match self.url_topics.get(url) {
                Some(&id) => id,
                None => {
                    let id = std::str::from_utf8(url)
                        .ok()
                        .and_then(|url| self.pages.topic_of(url))
                        .and_then(|name| self.topics.id(name));
                    self.url_topics.insert(url.into(), id);
                    id
                }
            },
            _ => None,
        };
        self.rows.positions.push(position);
        self.rows.activities.push(ScoredActivity {
            at: row.at,
            kind,
            person,
            topic,
            noise: false,
        });
        (self.rows.positions.len() >= SCAN_CHUNK)
            .then(|| std::mem::replace(&mut self.rows, Rows::with_capacity(SCAN_CHUNK)))
    }
}

/// Scanned activities and the account position of each, side by side (20 bytes a row
/// rather than the 24 of a tuple).
#[derive(Default)]
struct Rows {
    positions: Vec<u32>,
    activities: Vec<ScoredActivity>,
}

impl Rows {
    fn with_capacity(capacity: usize) -> Self {
        Rows {
            positions: Vec::with_capacity(capacity),
            activities: Vec::with_capacity(capacity),
        }
    }
}

type Chunk = (Rows, u64);

/// Scans the activities, handing chunks of (account position, activity) to `consume` on
/// this thread, and runs `meanwhile` on this thread's connection. A full scan is split by
/// seq range over one connection per core; a few accounts are read through the (account,
/// time) index on this connection.
#[allow(clippy::too_many_arguments)]
fn scan_activities(
    store: &mut dyn Store,
    config: &ScoringConfig,
    until: i64,
    only: Option<&[AccountId]>,
    index: &FastMap<i64, u32>,
    topics: &Topics,
    meanwhile: &mut dyn FnMut(&mut dyn Store) -> Result<(), StoreError>,
    consume: &mut dyn FnMut(Rows, u64),
) -> Result<(), StoreError> {
    let pages = PageTopics::new(&config.intent.pages);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let ranges = match only {
        None => match store.activity_seq_range()? {
            Some((low, high)) if high - low > 100_000 && threads > 1 => split(low, high, threads),
            _ => Vec::new(),
        },
        Some(_) => Vec::new(),
    };
    let mut connections = Vec::new();
    for _ in &ranges {
        match store.reopen() {
            Ok(connection) => connections.push(connection),
            Err(error) => {
                tracing::debug!(%error, "no second connection: the scan runs on one");
                connections.clear();
                break;
            }
        }
    }
    if connections.is_empty() {
        meanwhile(store)?;
        let mut part = ScanPart::new(index, &pages, topics);
        store.scoring_activities(only, until, None, &mut |row| {
            if let Some(chunk) = part.visit(row) {
                consume(chunk, 0);
            }
        })?;
        consume(std::mem::take(&mut part.rows), part.unknown_kinds);
        return Ok(());
    }
    std::thread::scope(|scope| {
        // Unbounded: every chunk is kept until the scan ends anyway, and the scan must not
        // wait while this thread reads opportunities and intent.
        let (sender, receiver) = std::sync::mpsc::channel::<Chunk>();
        let pages = &pages;
        let mut handles = Vec::new();
        for (mut connection, range) in connections.into_iter().zip(ranges) {
            let sender = sender.clone();
            handles.push(scope.spawn(move || -> Result<(), StoreError> {
                let mut part = ScanPart::new(index, pages, topics);
                let mut stopped = false;
                connection.scoring_activities(None, until, Some(range), &mut |row| {
                    if let Some(chunk) = part.visit(row) {
                        stopped |= sender.send((chunk, 0)).is_err();
                    }
                })?;
                if !stopped {
                    let _ = sender.send((std::mem::take(&mut part.rows), part.unknown_kinds));
                }
                Ok(())
            }));
        }
        drop(sender);
        let mut result = meanwhile(store);
        for (chunk, unknown) in receiver {
            consume(chunk, unknown);
        }
        for handle in handles {
            match handle.join() {
                Ok(Err(error)) if result.is_ok() => result = Err(error),
                Ok(_) => {}
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        result
    })
}

/// Splits `low..=high` into `parts` inclusive ranges.
fn split(low: i64, high: i64, parts: usize) -> Vec<(i64, i64)> {
    let span = (high - low + 1).max(1);
    let size = (span + parts as i64 - 1) / parts as i64;
    (0..parts as i64)
        .map(|part| (low + part * size, (low + (part + 1) * size - 1).min(high)))
        .filter(|(first, last)| first <= last)
        .collect()
}

/// Runs `work` over contiguous parts of `items`, one per core.
fn parallel_chunks<T: Send>(items: &mut [T], work: impl Fn(&mut [T]) + Sync) {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let size = items.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let work = &work;
        let handles: Vec<_> = items
            .chunks_mut(size)
            .map(|part| scope.spawn(move || work(part)))
            .collect();
        for handle in handles {
            if let Err(panic) = handle.join() {
                std::panic::resume_unwind(panic);
            }
        }
    });
}

/// Whether a scoring run keeps every contribution (to explain) or only the values (to rank
/// and store: a full run's contributions would take hundreds of MB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    Values,
    Contributions,
}

/// Scores the selected accounts of a load as of `as_of`, on every core.
pub fn assess_all(loaded: &Loaded, config: &ScoringConfig, as_of: i64, keep: Keep) -> Scoring {
    assess_all_cached(loaded, config, as_of, keep, &mut ProfileCache::default())
}

/// The customer profile learned for one set of customers, kept while the set stays the same:
/// scoring a load at several instants (a trend, a replay) learns again only when a customer
/// was won or lost between two of them.
#[derive(Default)]
pub struct ProfileCache {
    customers: Vec<bool>,
    profile: Option<CustomerProfile>,
}

impl ProfileCache {
    fn profile(&mut self, loaded: &Loaded, config: &ScoringConfig, as_of: i64) -> &CustomerProfile {
        let day = day_of(as_of);
        let customers: Vec<bool> = loaded
            .accounts
            .iter()
            .map(|account| day.is_some_and(|d| account.facts.customer_on(d)))
            .collect();
        if self.profile.is_none() || customers != self.customers {
            self.profile = Some(CustomerProfile::learn(
                loaded
                    .accounts
                    .iter()
                    .zip(&customers)
                    .map(|(account, &customer)| (&account.facts, customer)),
                config.fit.profile.min_customers.0,
            ));
            self.customers = customers;
        }
        self.profile.get_or_insert_with(CustomerProfile::default)
    }
}

/// [`assess_all`] with a profile cache shared across instants of the same load.
pub fn assess_all_cached(
    loaded: &Loaded,
    config: &ScoringConfig,
    as_of: i64,
    keep: Keep,
    cache: &mut ProfileCache,
) -> Scoring {
    let profile = cache.profile(loaded, config, as_of);
    assess_with(loaded, config, as_of, keep, profile)
}

/// Customer profiles by day, learned from every account and kept until accounts or
/// opportunities are imported again (the store's [`Store::profile_version`]). A page that
/// scores one account then reads that account alone ([`load_one`]) instead of all of them.
#[derive(Default)]
pub struct ProfileStore {
    entries: std::sync::Mutex<(i64, HashMap<i64, Arc<CustomerProfile>>)>,
}

impl std::fmt::Debug for ProfileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProfileStore").finish_non_exhaustive()
    }
}

impl ProfileStore {
    /// The profiles as of each instant (by its UTC day), learning what is missing from one
    /// load of every account.
    pub fn profiles(
        &self,
        store: &mut dyn Store,
        config: &ScoringConfig,
        instants: &[i64],
    ) -> Result<Vec<Arc<CustomerProfile>>, StoreError> {
        let version = store.profile_version()?;
        let day = |instant: i64| instant.div_euclid(MICROS_PER_DAY);
        let missing: Vec<i64> = {
            let mut guard = match self.entries.lock() {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
            if guard.0 != version {
                *guard = (version, HashMap::new());
            }
            instants
                .iter()
                .copied()
                .filter(|&instant| !guard.1.contains_key(&day(instant)))
                .collect()
        };
        if !missing.is_empty() {
            let latest = missing.iter().copied().max().unwrap_or(0);
            let loaded = load(store, config, latest, Some(&[]))?;
            let mut cache = ProfileCache::default();
            let learned: Vec<(i64, Arc<CustomerProfile>)> = missing
                .iter()
                .map(|&instant| {
                    (
                        day(instant),
                        Arc::new(cache.profile(&loaded, config, instant).clone()),
                    )
                })
                .collect();
            let mut guard = match self.entries.lock() {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
            if guard.0 == version {
                // Old days are rarely asked again: keep the cache small.
                if guard.1.len() > 400 {
                    guard.1.clear();
                }
                guard.1.extend(learned);
            }
        }
        let guard = match self.entries.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut out = Vec::with_capacity(instants.len());
        for &instant in instants {
            match guard.1.get(&day(instant)) {
                Some(profile) => out.push(Arc::clone(profile)),
                // Another import raced this one: learn it here, uncached.
                None => {
                    drop(guard);
                    let loaded = load(store, config, instant, Some(&[]))?;
                    return Ok(instants
                        .iter()
                        .map(|&at| {
                            Arc::new(ProfileCache::default().profile(&loaded, config, at).clone())
                        })
                        .collect());
                }
            }
        }
        Ok(out)
    }
}

/// Scores the selected accounts of a load as of `as_of` with a profile given.
pub fn assess_with(
    loaded: &Loaded,
    config: &ScoringConfig,
    as_of: i64,
    keep: Keep,
    profile: &CustomerProfile,
) -> Scoring {
    let mut slots: Vec<Option<ScoredAccount>> = vec![None; loaded.selected.len()];
    let mut work: Vec<(usize, &mut Option<ScoredAccount>)> = loaded
        .selected
        .iter()
        .copied()
        .zip(slots.iter_mut())
        .collect();
    parallel_chunks(&mut work, |part| {
        for (position, slot) in part.iter_mut() {
            let mut scored = assess_one(config, profile, &loaded.accounts[*position], as_of);
            if keep == Keep::Values {
                scored.assessment.scores.forget_contributions();
            }
            **slot = Some(scored);
        }
    });
    Scoring {
        as_of,
        accounts: slots.into_iter().flatten().collect(),
        profile_customers: if profile.is_learned() {
            profile.customers
        } else {
            0
        },
    }
}

fn assess_one(
    config: &ScoringConfig,
    profile: &CustomerProfile,
    account: &ScoringAccount,
    as_of: i64,
) -> ScoredAccount {
    let facts = &account.facts;
    let assessment = assess(config, profile, facts, as_of);
    let since = as_of - 90 * MICROS_PER_DAY;
    let recent_activities = facts
        .activities
        .iter()
        .filter(|a| !a.noise && a.at > since && a.at <= as_of)
        .count() as u32;
    ScoredAccount {
        id: account.id,
        domain: account.domain.clone(),
        name: account.name.clone(),
        owner: account.owner.clone(),
        assessment,
        recent_activities,
        opportunities: facts.opportunities.clone(),
    }
}

/// Scores every account (or only `only`) as of `as_of` (microseconds), without saving.
pub fn compute(
    store: &mut dyn Store,
    config: &ScoringConfig,
    as_of: i64,
    only: Option<&[AccountId]>,
    keep: Keep,
) -> Result<Scoring, StoreError> {
    let started = std::time::Instant::now();
    let loaded = load(store, config, as_of, only)?;
    tracing::debug!(elapsed = ?started.elapsed(), "loaded");
    let scoring = assess_all(&loaded, config, as_of, keep);
    tracing::debug!(elapsed = ?started.elapsed(), "assessed");
    Ok(scoring)
}

/// Scores and saves: every account, or only those given (the ones an import touched), and
/// records the trigger events the data shows as of `as_of`.
pub fn rescore(
    store: &mut dyn Store,
    config: &ScoringConfig,
    triggers: &TriggerConfig,
    as_of: i64,
    only: Option<&[AccountId]>,
) -> Result<(Scoring, SaveOutcome), StoreError> {
    let started = std::time::Instant::now();
    let loaded = load(store, config, as_of, only)?;
    let scoring = assess_all(&loaded, config, as_of, Keep::Values);
    tracing::debug!(elapsed = ?started.elapsed(), "assessed");
    let detected = crate::team::triggers::detect(&loaded, &config.intent, triggers, as_of);
    drop(loaded);
    let outcome = store.save_scores(as_of, &saved_rows(&scoring))?;
    abm_store::sql::transaction(store.sql(), |sql| {
        abm_store::team::record_triggers(sql, &detected, as_of)
    })?;
    tracing::debug!(elapsed = ?started.elapsed(), "saved");
    Ok((scoring, outcome))
}

/// What a scoring run stores per account.
fn saved_rows(scoring: &Scoring) -> Vec<SavedScore> {
    scoring
        .accounts
        .iter()
        .map(|account| SavedScore {
            account: account.id,
            values: account.assessment.scores.values(),
            stage: account.assessment.stage,
            stage_reason: account.assessment.stage_reason.clone(),
        })
        .collect()
}

pub(crate) fn day_of(micros: i64) -> Option<jiff::civil::Date> {
    let timestamp = jiff::Timestamp::from_microsecond(micros).ok()?;
    Some(timestamp.to_zoned(jiff::tz::TimeZone::UTC).date())
}

/// What a replay rebuilt.
#[derive(Debug, Clone)]
pub struct Replay {
    pub scoring: Scoring,
    pub instants: usize,
    pub stage_changes: usize,
}

/// Rebuilds the stage history from the data: scores every account as of each `step_days`
/// over `days` before `now` (the customer profile learned as of each instant, so no instant
/// sees later data), records each account's stage changes at the instant they show, and
/// replaces the stored scores and history with these (one load, one transaction).
pub fn replay(
    store: &mut dyn Store,
    config: &ScoringConfig,
    triggers: &TriggerConfig,
    now: i64,
    days: u32,
    step_days: u32,
) -> Result<Replay, StoreError> {
    let loaded = load(store, config, now, None)?;
    let step = i64::from(step_days.max(1)) * MICROS_PER_DAY;
    let mut instants: Vec<i64> = (1..=(days / step_days.max(1)))
        .rev()
        .map(|k| now - i64::from(k) * step)
        .collect();
    instants.push(now);
    let mut latest: Vec<Option<abm_core::score::Stage>> = vec![None; loaded.selected.len()];
    let mut changes = Vec::new();
    let mut last = None;
    let mut detected = Vec::new();
    let mut cache = ProfileCache::default();
    for &instant in &instants {
        let scoring = assess_all_cached(&loaded, config, instant, Keep::Values, &mut cache);
        detected.extend(crate::team::triggers::detect(
            &loaded,
            &config.intent,
            triggers,
            instant,
        ));
        for (slot, account) in latest.iter_mut().zip(&scoring.accounts) {
            let stage = account.assessment.stage;
            if *slot != Some(stage) {
                changes.push((
                    account.id,
                    abm_store::StageChange {
                        changed_at: instant,
                        from: *slot,
                        to: stage,
                        reason: account.assessment.stage_reason.clone(),
                    },
                ));
                *slot = Some(stage);
            }
        }
        last = Some(scoring);
    }
    let scoring = last.unwrap_or(Scoring {
        as_of: now,
        accounts: Vec::new(),
        profile_customers: 0,
    });
    store.replace_history(now, &saved_rows(&scoring), &changes)?;
    abm_store::sql::transaction(store.sql(), |sql| {
        abm_store::team::record_triggers(sql, &detected, now)
    })?;
    Ok(Replay {
        scoring,
        instants: instants.len(),
        stage_changes: changes.len(),
    })
}

/// One point of an account's score trend.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct TrendPoint {
    /// Microseconds since the epoch.
    pub at: i64,
    pub fit: f64,
    pub intent: f64,
    pub engagement: f64,
    pub priority: f64,
}

/// An account's scores as of each of the last `weeks` weeks and now, each computed only from
/// what was known then (one load; the customer profile learned as of each instant, as in
/// [`replay`]). Empty when no account has this id.
pub fn trend(
    store: &mut dyn Store,
    config: &ScoringConfig,
    account: AccountId,
    now: i64,
    weeks: u32,
    profiles: Option<&ProfileStore>,
) -> Result<Vec<TrendPoint>, StoreError> {
    let step = 7 * MICROS_PER_DAY;
    let instants: Vec<i64> = (0..=i64::from(weeks))
        .rev()
        .map(|k| now - k * step)
        .collect();
    let (loaded, learned) = match profiles {
        Some(profiles) => match load_one(store, config, now, account)? {
            Some(loaded) => (loaded, Some(profiles.profiles(store, config, &instants)?)),
            None => return Ok(Vec::new()),
        },
        None => (load(store, config, now, Some(&[account]))?, None),
    };
    let mut points = Vec::with_capacity(weeks as usize + 1);
    let mut cache = ProfileCache::default();
    for (index, &instant) in instants.iter().enumerate() {
        let scoring = match learned.as_ref().and_then(|learned| learned.get(index)) {
            Some(profile) => assess_with(&loaded, config, instant, Keep::Values, profile),
            None => assess_all_cached(&loaded, config, instant, Keep::Values, &mut cache),
        };
        if let Some(scored) = scoring.accounts.iter().find(|scored| scored.id == account) {
            let values = scored.assessment.scores.values();
            points.push(TrendPoint {
                at: instant,
                fit: values.fit,
                intent: values.intent,
                engagement: values.engagement,
                priority: values.priority,
            });
        }
    }
    Ok(points)
}
