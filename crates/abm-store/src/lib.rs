//! Persistence for abm: one storage interface ([`Store`], [`ImportTransaction`]) with two
//! real backends, SQLite (embedded, the default) and PostgreSQL (for teams), chosen by URL.
//!
//! Invariants:
//! - one logical schema on both backends (migrations per backend under `migrations/`,
//!   never edited once released); the same data gives the same answers on both;
//! - the activity log is append-only: an activity is stored once per id and never changed
//!   by an import; re-resolution only fills in the account and contact it belongs to;
//! - every import runs in one transaction: it commits whole or changes nothing;
//! - bulk activity writes take a backend-specific fast lane (prepared statements in one
//!   transaction on SQLite, `COPY` into a staging table on PostgreSQL) behind the same call.
//!
//! This crate knows no file format and makes no identity decision: it stores what the
//! ingest pipeline resolved, and re-runs the join part of resolution in SQL when new
//! accounts or contacts arrive.

mod codec;
pub mod guard_data;
pub mod listing;
pub mod plays;
mod postgres;
pub mod reports;
pub mod rollup;
mod scores;
mod sorter;
pub mod sql;
mod sqlite;
pub mod team;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod tracking;

use abm_core::identity::IdentityIndex;
use abm_core::{
    Account, AccountId, Activity, Contact, ContactId, CrmId, Domain, Email, IntentSignal, Lead,
    Opportunity,
};

pub use crate::postgres::PostgresStore;
pub use crate::scores::{
    SaveOutcome, SavedScore, ScoringAccount, ScoringActivity, StageChange, StoredScore,
};
pub use crate::sql::Sql;
pub use crate::sqlite::SqliteStore;
use abm_core::score::facts::{IntentWeek, OpportunityFact};

/// Everything that can go wrong in the store. Database errors are the unexpected kind; the
/// others describe a conflict in the data the user can fix.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database URL {0:?} is not supported: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] ::postgres::Error),
    #[error("stored data is not readable: {0}")]
    Corrupt(String),
    #[error("internal error: an activity import was committed before finish_activities")]
    Unfinished,
    #[error("temporary sort file: {0}")]
    TemporaryFile(#[from] std::io::Error),
    #[error(
        "the database was written by a newer abm (schema version {found}, this abm knows {known})"
    )]
    NewerSchema { found: i64, known: i64 },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Opens (creating if needed) the store a URL names and brings its schema up to date.
/// `sqlite://PATH` (or a bare path ending in `.db`), `sqlite::memory:`, `postgres://…`.
pub fn open(url: &str) -> Result<Box<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Box::new(PostgresStore::open(url)?))
    } else if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let path = path.split('?').next().unwrap_or(path);
        Ok(Box::new(SqliteStore::open(path)?))
    } else if url.ends_with(".db") || url.ends_with(".sqlite") {
        Ok(Box::new(SqliteStore::open(url)?))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_owned()))
    }
}

/// Counts of what the store holds: the figures of `abm status`.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Counts {
    pub accounts: u64,
    pub contacts: u64,
    pub leads: u64,
    pub matched_leads: u64,
    pub activities: u64,
    pub unmatched_activities: u64,
    pub intent_signals: u64,
    pub unmatched_intent_signals: u64,
    pub opportunities: u64,
    pub unmatched_opportunities: u64,
}

/// A domain that unmatched records point at, and how many point at it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UnmatchedDomain {
    pub domain: String,
    pub records: u64,
}

/// The storage interface. Reads are plain calls; writes go through an [`ImportTransaction`].
pub trait Store {
    /// The connection as a portable query runner: the account team's tables (see [`team`])
    /// are read and written through it, in queries written once for both backends.
    fn sql(&mut self) -> &mut dyn Sql;
    /// The backend's SQL for the report rollups (see [`rollup`]).
    fn rollup_dialect(&self) -> rollup::Dialect;
    /// Brings the report rollups up to date with the activity log, in one transaction.
    fn refresh_rollups(
        &mut self,
        weights: rollup::Weights<'_>,
        now: i64,
    ) -> Result<rollup::Refreshed> {
        let dialect = self.rollup_dialect();
        rollup::refresh(self.sql(), dialect, weights, now)
    }
    fn counts(&mut self) -> Result<Counts>;
    /// The top domains of unmatched leads, activities and signals: what to add as accounts.
    fn top_unmatched_domains(&mut self, limit: u32) -> Result<Vec<UnmatchedDomain>>;
    /// Domains, aliases, CRM ids and contact emails: what identity resolution matches against.
    fn identity_index(&mut self) -> Result<IdentityIndex>;
    fn account_by_domain(&mut self, domain: &Domain) -> Result<Option<(AccountId, Account)>>;
    fn activity_count_for(&mut self, account: AccountId) -> Result<u64>;
    /// The parent an account was linked to from its parent CRM id or domain.
    fn parent_of(&mut self, account: AccountId) -> Result<Option<AccountId>>;
    /// Starts the one transaction an import runs in.
    fn begin_import(&mut self, record: &ImportRecord) -> Result<Box<dyn ImportTransaction + '_>>;

    // Scoring reads (see `scores` for the types).

    /// Every account with the firmographics scoring reads and its count of contacts.
    fn scoring_accounts(&mut self) -> Result<Vec<ScoringAccount>>;
    /// One account as [`Store::scoring_accounts`] reads it.
    fn scoring_account(&mut self, id: AccountId) -> Result<Option<ScoringAccount>>;
    /// The version of what the customer profile is learned from: it changes with every
    /// import of accounts or opportunities (a cache of profiles is keyed by it).
    fn profile_version(&mut self) -> Result<i64> {
        Ok(self
            .sql()
            .query_opt(
                "SELECT COALESCE(MAX(id), 0) FROM imports WHERE kind IN ('accounts', 'opportunities')",
                &[],
            )?
            .map(|row| row.int(0))
            .transpose()?
            .unwrap_or(0))
    }
    /// A second connection to the same database, for a scan on another thread.
    fn reopen(&self) -> Result<Box<dyn Store + Send>>;
    /// An account's latest activities, newest first (its timeline).
    fn recent_activities(
        &mut self,
        account: AccountId,
        limit: u32,
    ) -> Result<Vec<TimelineActivity>>;
    /// An account's activities with `from <= occurred_at < until`, oldest first (what the
    /// guard reads: a rep's meetings, the touches already sent).
    fn activities_between(
        &mut self,
        account: AccountId,
        from: i64,
        until: i64,
    ) -> Result<Vec<TimelineActivity>>;
    /// Makes every commit of this connection durable before it returns, power loss included
    /// (the collector answers only after its commit). PostgreSQL commits are already.
    fn durable_commits(&mut self) -> Result<()> {
        Ok(())
    }
    /// This connection's commits stop copying the write-ahead log into the database file
    /// (SQLite's automatic checkpoint, which a commit otherwise runs every thousand pages);
    /// another connection's [`Store::checkpoint`] does it instead, so a commit waits only for
    /// its own log write and sync. Durability is unchanged: a commit is durable once its log
    /// is synced. Nothing to do on PostgreSQL.
    fn defer_checkpoints(&mut self) -> Result<()> {
        Ok(())
    }
    /// Copies what is committed in the write-ahead log into the database file without
    /// blocking writers or readers (SQLite `PASSIVE`). When the whole log is copied as a
    /// commit begins, that commit starts the log afresh instead of growing it. Nothing to do
    /// on PostgreSQL.
    fn checkpoint(&mut self) -> Result<Checkpoint> {
        Ok(Checkpoint::default())
    }
    /// The lowest and highest activity `seq`: the range a scan can be split by.
    fn activity_seq_range(&mut self) -> Result<Option<(i64, i64)>>;
    /// Calls `visit` for each matched activity that occurred at or before `until`
    /// (microseconds), of the given accounts or of all (then optionally only those whose
    /// `seq` lies in the inclusive range). Order is unspecified.
    fn scoring_activities(
        &mut self,
        accounts: Option<&[AccountId]>,
        until: i64,
        seqs: Option<(i64, i64)>,
        visit: &mut dyn FnMut(ScoringActivity<'_>),
    ) -> Result<()>;
    /// Every matched intent signal, with its account.
    fn scoring_intent(
        &mut self,
        accounts: Option<&[AccountId]>,
        visit: &mut dyn FnMut(AccountId, IntentWeek),
    ) -> Result<()>;
    /// Every matched opportunity, with its account.
    fn scoring_opportunities(
        &mut self,
        visit: &mut dyn FnMut(AccountId, OpportunityFact),
    ) -> Result<()>;

    // Scores.

    /// Stores the scores of these accounts as of `scored_at`, in one transaction, and a
    /// stage change for each account whose stage differs from its latest one. Scores older
    /// than the stored ones are ignored (a late or past run never rewrites newer state).
    fn save_scores(&mut self, scored_at: i64, scores: &[SavedScore]) -> Result<SaveOutcome>;
    /// Replaces every stored score and the whole stage history, in one transaction: what a
    /// replay of the history (`abm score --replay`) rebuilt.
    fn replace_history(
        &mut self,
        scored_at: i64,
        scores: &[SavedScore],
        changes: &[(AccountId, StageChange)],
    ) -> Result<()>;
    /// The stored scores with each account's domain and name, best priority first.
    fn stored_scores(&mut self) -> Result<Vec<StoredScore>>;
    /// The stored scores of one account.
    fn stored_score(&mut self, account: AccountId) -> Result<Option<StoredScore>>;
    /// One account's stage changes, oldest first.
    fn stage_history(&mut self, account: AccountId) -> Result<Vec<StageChange>>;
}

/// A checkpoint's figures, in pages of the write-ahead log (SQLite's frames).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checkpoint {
    /// Pages in the log when the checkpoint began.
    pub log: u64,
    /// Pages of the log now in the database file (by this checkpoint or earlier ones).
    pub copied: u64,
}

impl Checkpoint {
    /// Everything the log held is in the database file.
    pub fn complete(&self) -> bool {
        self.copied >= self.log
    }
}

/// One activity on an account's timeline.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TimelineActivity {
    pub id: String,
    pub kind: String,
    /// Microseconds since the epoch.
    pub occurred_at: i64,
    pub email: Option<String>,
    pub url: Option<String>,
    pub topic: Option<String>,
    pub campaign: Option<String>,
    pub channel: Option<String>,
    /// The first-party visitor id of a tracked website event.
    pub visitor: Option<String>,
}

/// What an import is, for its row in the `imports` table (the audit of who loaded what).
#[derive(Debug, Clone)]
pub struct ImportRecord {
    pub kind: String,
    pub files: Vec<String>,
    pub started_at: jiff::Timestamp,
    /// Rows the import expects to write, roughly (from file sizes); 0 when unknown. Lets a
    /// backend prepare a bulk load before its transaction begins.
    pub expected_rows: u64,
}

/// The provenance of a row: which file of the import and which line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SourceLine {
    pub file: u32,
    pub line: u64,
}

/// One activity ready to store: resolved, fingerprinted, with its provenance.
#[derive(Debug, Clone)]
pub struct ActivityRow {
    pub activity: Activity,
    pub account: Option<AccountId>,
    pub contact: Option<ContactId>,
    /// The domain to match this activity by later, when it is still unmatched.
    pub account_key: Option<Domain>,
    pub fingerprint: i64,
    pub source: SourceLine,
    /// The first-party visitor id a tracked website event came with; `None` for imports.
    /// Only the row-by-row lanes store it (a bulk load is a file, which has no visitors).
    pub visitor: Option<String>,
}

/// An activity id seen twice with different content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityConflict {
    pub id: String,
    /// Where the stored copy came from, when it came from this same import.
    pub first: Option<SourceLine>,
    pub second: SourceLine,
}

/// What happened to the activities of one import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityOutcome {
    pub inserted: u64,
    /// Already stored with the same content (a re-import), or repeated within this import.
    pub unchanged: u64,
    /// Already stored by an earlier import with other content: the stored copy is kept,
    /// since the activity log is append-only.
    pub kept_existing: u64,
    /// The same id twice within this import with different content: an error in the file.
    pub conflicts: Vec<ActivityConflict>,
}

impl ActivityOutcome {
    pub fn absorb(&mut self, other: ActivityOutcome) {
        self.inserted += other.inserted;
        self.unchanged += other.unchanged;
        self.kept_existing += other.kept_existing;
        self.conflicts.extend(other.conflicts);
    }
}

/// What a write of one record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Inserted,
    Updated,
    Unchanged,
}

/// Records matched by a re-resolution pass after an import.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Rematched {
    pub leads: u64,
    pub leads_promoted_to_contacts: u64,
    pub activities: u64,
    pub intent_signals: u64,
    pub opportunities: u64,
}

/// The writes of one import, all in one database transaction. Dropping it without
/// [`ImportTransaction::commit`] rolls everything back.
pub trait ImportTransaction {
    /// The stored account with this CRM id, else the one owning this domain (primary or alias).
    fn find_account(
        &mut self,
        crm_id: Option<&CrmId>,
        domain: &Domain,
    ) -> Result<Option<(AccountId, Account)>>;
    /// The account that owns a domain (primary or alias), if any.
    fn account_owning(&mut self, domain: &Domain) -> Result<Option<AccountId>>;
    fn insert_account(&mut self, account: &Account) -> Result<AccountId>;
    fn update_account(&mut self, id: AccountId, account: &Account) -> Result<()>;

    fn find_contact(
        &mut self,
        crm_id: Option<&CrmId>,
        email: &Email,
    ) -> Result<Option<(ContactId, Contact)>>;
    fn write_contact(
        &mut self,
        existing: Option<ContactId>,
        contact: &Contact,
    ) -> Result<ContactId>;

    /// `origin` says whether the person came as a lead or as a CRM contact whose account was
    /// not found; the latter becomes a contact once its account appears.
    fn find_lead(&mut self, crm_id: Option<&CrmId>, email: &Email) -> Result<Option<(i64, Lead)>>;
    fn write_lead(
        &mut self,
        existing: Option<i64>,
        lead: &Lead,
        origin: LeadOrigin,
        account: Option<AccountId>,
        account_key: Option<&Domain>,
    ) -> Result<()>;

    fn find_opportunity(&mut self, crm_id: &CrmId) -> Result<Option<Opportunity>>;
    fn write_opportunity(
        &mut self,
        exists: bool,
        opportunity: &Opportunity,
        account: Option<AccountId>,
    ) -> Result<()>;

    /// Stores signals once per (domain, topic, date, source); a changed score updates it.
    fn write_intent(
        &mut self,
        signal: &IntentSignal,
        account: Option<AccountId>,
    ) -> Result<Written>;

    /// Announces an activity import of about `expected_rows` rows, before the first batch,
    /// so a backend can choose its fastest lane (SQLite rebuilds its indexes after a bulk load
    /// into a table smaller than the import).
    fn begin_activities(&mut self, expected_rows: u64) -> Result<()> {
        let _ = expected_rows;
        Ok(())
    }

    /// Appends a batch of activities (idempotent by id). Conflicts may be reported here or,
    /// on backends that stage rows, by [`ImportTransaction::finish_activities`].
    fn write_activities(&mut self, batch: &[ActivityRow]) -> Result<ActivityOutcome>;
    fn finish_activities(&mut self) -> Result<ActivityOutcome>;

    /// After [`ImportTransaction::begin_activities`]: up to `count` readers of the ids stored
    /// before this import, for the threads that parse its rows, so a large re-import finds
    /// its unchanged rows on several cores instead of on the one writer. Empty when the lane
    /// chosen gains nothing from them (a bulk load, a small import, an empty log) or the
    /// backend has none; the import is the same either way.
    fn stored_id_readers(&mut self, count: usize) -> Result<Vec<Box<dyn StoredIds>>> {
        let _ = count;
        Ok(Vec::new())
    }

    /// Sets each account's parent from the parent CRM id or domain the sources gave.
    fn link_parents(&mut self) -> Result<()>;
    /// Matches what was unmatched against the accounts and contacts now known.
    fn rematch(&mut self) -> Result<Rematched>;
    /// The import's open transaction as a portable query runner: trigger events an import
    /// detects are written through it, so they commit (or roll back) with the import.
    fn sql(&mut self) -> Result<Box<dyn Sql + '_>>;
    /// Records the import's figures and commits.
    fn commit(self: Box<Self>, summary: &ImportFigures) -> Result<()>;
}

/// Looks activities up in the log as it was committed, from a thread other than the writer.
pub trait StoredIds: Send {
    /// For each row, whether the log holds it already: the same id with the same content.
    /// The log is append-only, so such a row stays stored and the writer can count it
    /// unchanged without looking again; every other row (new, other content, or not looked
    /// up because reading failed) is left to the writer.
    fn stored_unchanged(&mut self, rows: &[ActivityRow]) -> Vec<bool>;
}

/// Where a lead came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadOrigin {
    Lead,
    Contact,
}

impl LeadOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lead => "lead",
            Self::Contact => "contact",
        }
    }
}

/// The figures kept with each import.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportFigures {
    pub rows_read: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub unmatched: u64,
}
