//! The SQLite backend: one file, WAL, foreign keys on. Imports take the write lock up front
//! (`BEGIN IMMEDIATE`) so a read-then-write never fails half-way with "database is locked",
//! and bulk activity writes reuse one prepared statement inside the import's transaction.
//!
//! The activity lane has two speeds. Into a table at least as large as the import, each row
//! is probed by id and inserted if new (idempotent, index maintained as it goes). Into a
//! smaller table (a first load), the activity indexes are dropped, rows are appended, and at
//! the end duplicates are found with one sort, resolved like the incremental lane would, and
//! the indexes rebuilt by sorting — several times faster than random B-tree inserts. Either
//! way it is one transaction: a failure leaves the table and its indexes as they were.
//! Activity imports run with foreign-key checks off: every account and contact id they write
//! comes from the identity index, and abm never deletes accounts or contacts.

use crate::codec::{self, AccountRow, OpportunityRow, PersonRow};
use crate::sorter::{self, SortRecord, Sorter};
use crate::{
    ActivityConflict, ActivityOutcome, ActivityRow, Counts, ImportFigures, ImportRecord,
    ImportTransaction, LeadOrigin, Rematched, Result, SourceLine, Store, StoreError,
    UnmatchedDomain, Written,
};
use abm_core::identity::IdentityIndex;
use abm_core::{
    Account, AccountId, Contact, ContactId, CrmId, Domain, Email, IntentSignal, Lead, Opportunity,
};
use rusqlite::{Connection, OptionalExtension, params};

mod scores;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/sqlite/0001_foundation.sql")),
    (
        2,
        include_str!("../migrations/sqlite/0002_activity_index_tables.sql"),
    ),
    (3, include_str!("../migrations/sqlite/0003_scores.sql")),
    (4, include_str!("../migrations/sqlite/0004_team.sql")),
    (5, include_str!("../migrations/sqlite/0005_tracking.sql")),
    (6, include_str!("../migrations/sqlite/0006_plays.sql")),
    (7, include_str!("../migrations/sqlite/0007_reports.sql")),
];

/// A row of the timeline queries (id, kind, occurred_at, email, url, topic, campaign, channel,
/// visitor).
fn timeline_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<crate::TimelineActivity> {
    Ok(crate::TimelineActivity {
        id: row.get(0)?,
        kind: row.get(1)?,
        occurred_at: row.get(2)?,
        email: row.get(3)?,
        url: row.get(4)?,
        topic: row.get(5)?,
        campaign: row.get(6)?,
        channel: row.get(7)?,
        visitor: row.get(8)?,
    })
}

/// The trigger that keeps `activity_timeline` current for rows inserted one by one; the bulk
/// lane drops it and writes the timeline itself. Identical to the line in migration 2.
const TIMELINE_INSERT_TRIGGER: &str =
    "CREATE TRIGGER activity_timeline_insert AFTER INSERT ON activities
    WHEN NEW.account_id IS NOT NULL
BEGIN
    INSERT INTO activity_timeline (account_id, occurred_at, seq)
        VALUES (NEW.account_id, NEW.occurred_at, NEW.seq);
END;";

/// The activity log's real SQLite indexes since migration 2, exactly as migration 1 created
/// them (a test checks): the bulk lane rebuilds them at its end, `activities_unmatched` only
/// if it stopped keeping it (see `UnmatchedIndex`).
const PARTIAL_ACTIVITY_INDEXES: &[(&str, &str)] = &[
    (
        UNMATCHED_INDEX,
        "CREATE INDEX activities_unmatched ON activities(account_key) WHERE account_id IS NULL;",
    ),
    (
        "activities_without_contact",
        "CREATE INDEX activities_without_contact ON activities(email) WHERE contact_id IS NULL AND email IS NOT NULL;",
    ),
];

const UNMATCHED_INDEX: &str = "activities_unmatched";

/// Whether a bulk load keeps `activities_unmatched` as it appends. Building a partial index
/// afterwards scans the whole log (about 440 instructions a stored row, whichever rows it
/// holds) and then sorts and writes its entries; keeping it costs a B-tree insert for each
/// unmatched row only (a few thousand instructions each, in the page cache). Most files name
/// accounts abm knows, so only a few rows are unmatched and keeping it is cheaper (in the
/// benchmark, where 5% of rows are unmatched: the writer's instructions 2% fewer, the 2-second
/// rebuild gone); a file of strangers' activity, or one imported before its accounts, is
/// mostly unmatched, and the index is dropped as soon as that shows and rebuilt by the scan at
/// the end. The choice is made once the first 65,536 rows are in and never reversed, so a
/// load of fewer rows keeps the index whatever it holds (a few tens of thousands of inserts).
#[derive(Debug)]
struct UnmatchedIndex {
    kept: bool,
    appended: u64,
    unmatched: u64,
}

impl UnmatchedIndex {
    /// Rows appended before the share of unmatched rows is trusted.
    const SETTLED_AFTER: u64 = 65_536;

    fn kept() -> Self {
        Self {
            kept: true,
            appended: 0,
            unmatched: 0,
        }
    }

    /// Counts a batch; true when the index is now to be dropped: more than one row in eight
    /// unmatched (the break-even of the two costs above is about one in six).
    fn count(&mut self, rows: u64, unmatched: u64) -> bool {
        self.appended += rows;
        self.unmatched += unmatched;
        let drop = self.kept
            && self.appended >= Self::SETTLED_AFTER
            && self.unmatched.saturating_mul(8) > self.appended;
        if drop {
            self.kept = false;
        }
        drop
    }
}

/// Rows per multi-row `INSERT` in the bulk lane: one statement for many rows spares SQLite
/// and rusqlite their per-statement work (about a fifth of an in-order insert's cost; 256
/// rows a statement wrote the id and timeline entries about 10% faster than 64).
const INSERT_CHUNK: usize = 256;

/// A multi-row `INSERT` of integer tuples into `target`, with a one-row statement for the
/// last, shorter chunk.
struct ChunkedInsert<'c> {
    connection: &'c Connection,
    full: rusqlite::Statement<'c>,
    target: &'static str,
    width: usize,
}

impl<'c> ChunkedInsert<'c> {
    fn new(connection: &'c Connection, target: &'static str, width: usize) -> Result<Self> {
        let full = connection.prepare(&chunk_sql(target, width, INSERT_CHUNK))?;
        Ok(Self {
            connection,
            full,
            target,
            width,
        })
    }

    /// Inserts `rows` tuples given as a flat run of values. `Ok(false)` when a row broke a
    /// uniqueness constraint: then the statement changed nothing.
    fn insert(&mut self, rows: usize, values: impl Iterator<Item = i64>) -> Result<bool> {
        if rows == 0 {
            return Ok(true);
        }
        let result = if rows == INSERT_CHUNK {
            for (index, value) in values.enumerate() {
                self.full.raw_bind_parameter(index + 1, value)?;
            }
            self.full.raw_execute()
        } else {
            self.connection
                .prepare_cached(&chunk_sql(self.target, self.width, rows))?
                .execute(rusqlite::params_from_iter(values))
        };
        match result {
            Ok(_) => Ok(true),
            Err(error)
                if error.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) =>
            {
                Ok(false)
            }
            Err(error) => Err(error.into()),
        }
    }
}

/// Sorted index entries handed from the merging thread to the writer at once. Each handoff
/// can wake the other thread, which costs the writer several microseconds on a virtual
/// machine; handing over 256 at a time, as they are inserted, those wakes took about a tenth
/// of the writer's time while it wrote the id and timeline entries.
const MERGED_HANDOFF: usize = 65_536;

fn chunk_sql(target: &str, width: usize, rows: usize) -> String {
    let tuple = format!("({})", vec!["?"; width].join(", "));
    format!(
        "INSERT INTO {target} VALUES {}",
        vec![tuple; rows].join(", ")
    )
}

/// Index entries held in memory per sorter before a sorted run is spilled to a file: 6 MiB
/// of id entries and 6 MiB of timeline entries, twice while a full run is spilled. Small runs
/// cost the merge more (it runs beside the writer, on the core the writer leaves idle), but
/// a run buffer's first use faults in fresh memory on the writer, which zeroes it: with runs
/// of 2 million entries (48 MiB) that was about 4% of the writer's time while appending.
const SORT_RUN_RECORDS: usize = 262_144;

/// Below this many expected rows the incremental lane is always used. Above it, the bulk lane
/// is taken when the import is expected to more than double the table (row estimates from
/// file sizes are rough, and a re-import of the same file must stay incremental).
const BULK_MINIMUM_ROWS: u64 = 50_000;

/// A database that lives in its connection's memory: no other connection can open it.
fn is_in_memory(path: &str) -> bool {
    path.is_empty() || path.starts_with(':') || path.contains("mode=memory")
}

/// The store connection's page cache, in KiB (negative, as `PRAGMA cache_size` takes it).
const STORE_CACHE_SIZE: i64 = -262_144;

/// The connection's page cache set to another size for a while: back to `STORE_CACHE_SIZE`
/// by `restore`, or when dropped on the way out of a failure.
struct ShrunkCache<'c> {
    connection: &'c Connection,
    restored: bool,
}

impl<'c> ShrunkCache<'c> {
    /// `size` as `PRAGMA cache_size` takes it (negative: KiB).
    fn new(connection: &'c Connection, size: i64) -> Result<Self> {
        connection.pragma_update(None, "cache_size", size)?;
        Ok(Self {
            connection,
            restored: false,
        })
    }

    fn restore(mut self) -> Result<()> {
        self.connection
            .pragma_update(None, "cache_size", STORE_CACHE_SIZE)?;
        self.restored = true;
        Ok(())
    }
}

impl Drop for ShrunkCache<'_> {
    fn drop(&mut self) {
        if !self.restored {
            let _ = self
                .connection
                .pragma_update(None, "cache_size", STORE_CACHE_SIZE);
        }
    }
}

pub struct SqliteStore {
    connection: Connection,
    /// Where it was opened, for [`Store::reopen`].
    path: String,
    /// Seeds the activity id hash (see migration 2).
    id_seed: u64,
}

impl SqliteStore {
    /// Opens or creates the database file and applies pending migrations.
    pub fn open(path: &str) -> Result<Self> {
        let connection = Connection::open(path)?;
        connection.pragma_update(None, "busy_timeout", 10_000)?;
        // While another process bulk-loads under a rollback journal (see
        // `switch_to_rollback_journal`) the mode cannot change; that import restores WAL
        // when it ends, so this connection works in the current mode meanwhile.
        match connection.query_row("PRAGMA journal_mode = WAL", [], |row| {
            row.get::<_, String>(0)
        }) {
            Ok(_) => {}
            Err(error) if error.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => {
                tracing::debug!("database busy: journal mode left as it is");
            }
            Err(error) => return Err(error.into()),
        }
        connection.pragma_update(None, "foreign_keys", "ON")?;
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        // 256 MiB of page cache keeps the activity id index hot during large imports while
        // staying well under the 1 GiB memory budget.
        connection.pragma_update(None, "cache_size", STORE_CACHE_SIZE)?;
        // Index builds after a bulk load sort more than fits in memory: let the sorter spill to
        // temporary files (temp_store FILE) and use a second thread.
        connection.pragma_update(None, "temp_store", "FILE")?;
        connection.pragma_update(None, "threads", 2)?;
        // The collector's batches and the portable queries prepare a few dozen statement
        // texts (multi-row writes of several sizes): all stay prepared.
        connection.set_prepared_statement_cache_capacity(64);
        let mut store = Self {
            connection,
            path: path.to_owned(),
            id_seed: 0,
        };
        store.migrate()?;
        store.id_seed = store.connection.query_row(
            "SELECT value FROM store_settings WHERE name = 'activity_id_seed'",
            [],
            |row| row.get::<_, i64>(0),
        )? as u64;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<()> {
        // Read first: an up-to-date database needs no write lock, so opening it never waits
        // for an import running in another process.
        let known = MIGRATIONS.last().map_or(0, |(version, _)| *version);
        let current: Option<i64> = self
            .connection
            .query_row("SELECT MAX(version) FROM schema_migrations", [], |row| {
                row.get(0)
            })
            .optional()
            .ok()
            .flatten()
            .flatten();
        if current == Some(known) {
            return Ok(());
        }
        let transaction = self
            .connection
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        transaction.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL DEFAULT (unixepoch()))",
        )?;
        let current: i64 = transaction.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |row| row.get(0),
        )?;
        let known = MIGRATIONS.last().map_or(0, |(version, _)| *version);
        if current > known {
            return Err(StoreError::NewerSchema {
                found: current,
                known,
            });
        }
        for (version, sql) in MIGRATIONS.iter().filter(|(version, _)| *version > current) {
            transaction.execute_batch(sql)?;
            if *version == 2 {
                index_stored_activity_ids(&transaction)?;
            }
            transaction.execute(
                "INSERT INTO schema_migrations (version) VALUES (?1)",
                [version],
            )?;
        }
        transaction.commit()?;
        Ok(())
    }
}

/// Migration 2's step in Rust: a random seed for the id hash, then every stored activity id
/// into `activity_ids`.
fn index_stored_activity_ids(connection: &Connection) -> Result<()> {
    let seed = rand::random::<u64>();
    connection.execute(
        "INSERT INTO store_settings (name, value) VALUES ('activity_id_seed', ?1)",
        [seed as i64],
    )?;
    // Sorted first, like a bulk load, so each insert appends.
    let mut entries = Sorter::new(SORT_RUN_RECORDS);
    let mut stored = connection.prepare("SELECT seq, id, fingerprint FROM activities")?;
    let mut rows = stored.query([])?;
    while let Some(row) = rows.next()? {
        let (seq, id, fingerprint): (i64, String, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
        entries.push(IdEntry {
            key: id_key(seed, &id),
            seq,
            fingerprint,
        })?;
    }
    let mut sorted = entries.sorted()?;
    let mut insert = connection.prepare(
        "INSERT INTO activity_ids (key, fingerprint, seq) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
    )?;
    while let Some(entry) = sorted.next()? {
        // Version 1 kept ids unique, so a taken key is another id with the same hash.
        let mut key = entry.key;
        while insert.execute(params![key, entry.fingerprint, entry.seq])? == 0 {
            key = next_key(key);
        }
    }
    Ok(())
}

/// Where an activity id starts its probe in `activity_ids`: a seeded hash, 63 bits so every
/// key is a positive SQLite integer.
fn id_key(seed: u64, id: &str) -> i64 {
    (xxhash_rust::xxh3::xxh3_64_with_seed(id.as_bytes(), seed) >> 1) as i64
}

/// The next key to try when `key` holds another id.
fn next_key(key: i64) -> i64 {
    key.wrapping_add(1) & i64::MAX
}

/// What the store holds at an id's key.
enum Probe {
    /// Not stored: `key` is free for it.
    Free(i64),
    /// Stored with the same fingerprint. The fingerprint covers the id and every field, so
    /// with the id's own key matching too this is the same activity (two different ids would
    /// need a collision of the seeded 63-bit key and of the 64-bit fingerprint at once).
    Same,
    /// The same id stored with other content.
    Other { seq: i64, fingerprint: i64 },
}

/// Looks an activity id up in `activity_ids`, walking past keys that hold other ids.
fn probe(connection: &Connection, seed: u64, id: &str, fingerprint: i64) -> Result<Probe> {
    let mut key = id_key(seed, id);
    loop {
        let found: Option<(i64, i64)> = connection
            .prepare_cached("SELECT fingerprint, seq FROM activity_ids WHERE key = ?1")?
            .query_row([key], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        match found {
            None => return Ok(Probe::Free(key)),
            Some((stored, _)) if stored == fingerprint => return Ok(Probe::Same),
            Some((stored, seq)) => {
                if stored_copy(connection, seq)?.0 == id {
                    return Ok(Probe::Other {
                        seq,
                        fingerprint: stored,
                    });
                }
                key = next_key(key);
            }
        }
    }
}

/// A stored activity's id, import and source line (file index, line).
type StoredCopy = (String, Option<i64>, Option<(u32, i64)>);

/// A stored activity's id, import and source line.
fn stored_copy(connection: &Connection, seq: i64) -> Result<StoredCopy> {
    let (id, import_id, file, line): (String, Option<i64>, Option<u32>, Option<i64>) = connection
        .prepare_cached(
            "SELECT id, import_id, source_file, source_line FROM activities WHERE seq = ?1",
        )?
        .query_row([seq], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })?;
    Ok((id, import_id, file.zip(line)))
}

/// An entry of the id index, sorted by key (then file order) before it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct IdEntry {
    key: i64,
    seq: i64,
    fingerprint: i64,
}

impl SortRecord for IdEntry {
    const SIZE: usize = 24;
    fn encode(&self, into: &mut Vec<u8>) {
        for value in [self.key, self.seq, self.fingerprint] {
            sorter::put(into, value);
        }
    }
    fn decode(bytes: &[u8]) -> Self {
        Self {
            key: sorter::get(bytes, 0),
            seq: sorter::get(bytes, 1),
            fingerprint: sorter::get(bytes, 2),
        }
    }
}

/// An entry of the account timeline, in its table's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct TimelineEntry {
    account_id: i64,
    occurred_at: i64,
    seq: i64,
}

impl SortRecord for TimelineEntry {
    const SIZE: usize = 24;
    fn encode(&self, into: &mut Vec<u8>) {
        for value in [self.account_id, self.occurred_at, self.seq] {
            sorter::put(into, value);
        }
    }
    fn decode(bytes: &[u8]) -> Self {
        Self {
            account_id: sorter::get(bytes, 0),
            occurred_at: sorter::get(bytes, 1),
            seq: sorter::get(bytes, 2),
        }
    }
}

fn account_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<AccountRow> {
    Ok(AccountRow {
        id: row.get(0)?,
        crm_id: row.get(1)?,
        domain: row.get(2)?,
        name: row.get(3)?,
        industry: row.get(4)?,
        employees: row.get(5)?,
        revenue: row.get(6)?,
        country: row.get(7)?,
        region: row.get(8)?,
        technologies: row.get(9)?,
        account_type: row.get(10)?,
        owner: row.get(11)?,
        parent_crm_id: row.get(12)?,
        parent_domain: row.get(13)?,
        attributes: row.get(14)?,
    })
}

fn person_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<PersonRow> {
    Ok(PersonRow {
        id: row.get(0)?,
        crm_id: row.get(1)?,
        email: row.get(2)?,
        first_name: row.get(3)?,
        last_name: row.get(4)?,
        title: row.get(5)?,
        account_id: row.get(6)?,
        opted_out: row.get(7)?,
        lawful_basis: row.get(8)?,
        attributes: row.get(9)?,
        company: row.get(10)?,
        website: row.get(11)?,
    })
}

fn load_account(connection: &Connection, account_id: i64) -> Result<Option<(AccountId, Account)>> {
    let row = connection
        .prepare_cached(&format!(
            "SELECT {} FROM accounts WHERE id = ?1",
            codec::ACCOUNT_COLUMNS
        ))?
        .query_row([account_id], account_row)
        .optional()?;
    let Some(row) = row else { return Ok(None) };
    let aliases = connection
        .prepare_cached("SELECT domain FROM account_domains WHERE account_id = ?1 AND is_primary = 0 ORDER BY domain")?
        .query_map([account_id], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    row.into_account(aliases).map(Some)
}

/// The contact or lead with this CRM id, else with this email (the CRM id wins when both match).
fn find_person(
    connection: &Connection,
    columns: &str,
    table: &str,
    crm_id: Option<&CrmId>,
    email: &Email,
) -> Result<Option<PersonRow>> {
    let sql = format!(
        "SELECT {columns} FROM {table} WHERE crm_id = ?1 OR email = ?2 ORDER BY (crm_id = ?1) DESC LIMIT 1"
    );
    Ok(connection
        .prepare_cached(&sql)?
        .query_row(
            params![crm_id.map(CrmId::as_str), email.as_str()],
            person_row,
        )
        .optional()?)
}

fn account_owning(connection: &Connection, domain: &Domain) -> Result<Option<i64>> {
    Ok(connection
        .prepare_cached("SELECT account_id FROM account_domains WHERE domain = ?1")?
        .query_row([domain.as_str()], |row| row.get(0))
        .optional()?)
}

impl Store for SqliteStore {
    fn sql(&mut self) -> &mut dyn crate::Sql {
        &mut self.connection
    }

    fn rollup_dialect(&self) -> crate::rollup::Dialect {
        crate::rollup::SQLITE
    }

    fn scoring_accounts(&mut self) -> Result<Vec<crate::ScoringAccount>> {
        scores::accounts(&self.connection)
    }

    fn scoring_account(&mut self, id: AccountId) -> Result<Option<crate::ScoringAccount>> {
        scores::account(&self.connection, id)
    }

    fn recent_activities(
        &mut self,
        account: AccountId,
        limit: u32,
    ) -> Result<Vec<crate::TimelineActivity>> {
        let mut statement = self.connection.prepare_cached(
            "SELECT a.id, a.kind, a.occurred_at, a.email, a.url, a.topic, a.campaign, a.channel, a.visitor
             FROM activity_timeline t JOIN activities a ON a.seq = t.seq
             WHERE t.account_id = ?1 ORDER BY t.occurred_at DESC, t.seq DESC LIMIT ?2",
        )?;
        let rows = statement
            .query_map(params![account.0, limit], timeline_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn activities_between(
        &mut self,
        account: AccountId,
        from: i64,
        until: i64,
    ) -> Result<Vec<crate::TimelineActivity>> {
        let mut statement = self.connection.prepare_cached(
            "SELECT a.id, a.kind, a.occurred_at, a.email, a.url, a.topic, a.campaign, a.channel, a.visitor
             FROM activity_timeline t JOIN activities a ON a.seq = t.seq
             WHERE t.account_id = ?1 AND t.occurred_at >= ?2 AND t.occurred_at < ?3
             ORDER BY t.occurred_at, t.seq",
        )?;
        let rows = statement
            .query_map(params![account.0, from, until], timeline_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn durable_commits(&mut self) -> Result<()> {
        // In WAL mode NORMAL survives a crash of the process but not of the machine.
        self.connection.pragma_update(None, "synchronous", "FULL")?;
        Ok(())
    }

    fn defer_checkpoints(&mut self) -> Result<()> {
        self.connection
            .pragma_update(None, "wal_autocheckpoint", 0)?;
        Ok(())
    }

    fn checkpoint(&mut self) -> Result<crate::Checkpoint> {
        // (busy, frames in the log, frames copied); -1 frames when not in WAL mode, and a
        // busy checkpoint (another one running) copied nothing more.
        let (_busy, log, copied): (i64, i64, i64) =
            self.connection
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })?;
        Ok(crate::Checkpoint {
            log: log.max(0) as u64,
            copied: copied.max(0) as u64,
        })
    }

    fn reopen(&self) -> Result<Box<dyn Store + Send>> {
        if is_in_memory(&self.path) {
            return Err(StoreError::Corrupt(
                "an in-memory SQLite database has no second connection".into(),
            ));
        }
        let store = SqliteStore::open(&self.path)?;
        // A scan reads every page once: a large page cache would only add to the memory
        // of the process, not save any read.
        store
            .connection
            .pragma_update(None, "cache_size", -16_384)?;
        Ok(Box::new(store))
    }

    fn activity_seq_range(&mut self) -> Result<Option<(i64, i64)>> {
        Ok(self.connection.query_row(
            // Two subqueries: SQLite answers a lone MIN or MAX of the rowid from the b-tree's
            // ends, but both in one SELECT scan the table.
            "SELECT (SELECT MIN(seq) FROM activities), (SELECT MAX(seq) FROM activities)",
            [],
            |row| {
                Ok(row
                    .get::<_, Option<i64>>(0)?
                    .zip(row.get::<_, Option<i64>>(1)?))
            },
        )?)
    }

    fn scoring_activities(
        &mut self,
        accounts: Option<&[AccountId]>,
        until: i64,
        seqs: Option<(i64, i64)>,
        visit: &mut dyn FnMut(crate::ScoringActivity<'_>),
    ) -> Result<()> {
        scores::activities(&self.connection, accounts, until, seqs, visit)
    }

    fn scoring_intent(
        &mut self,
        accounts: Option<&[AccountId]>,
        visit: &mut dyn FnMut(AccountId, abm_core::score::facts::IntentWeek),
    ) -> Result<()> {
        scores::intent(&self.connection, accounts, visit)
    }

    fn scoring_opportunities(
        &mut self,
        visit: &mut dyn FnMut(AccountId, abm_core::score::facts::OpportunityFact),
    ) -> Result<()> {
        scores::opportunities(&self.connection, visit)
    }

    fn save_scores(
        &mut self,
        scored_at: i64,
        rows: &[crate::SavedScore],
    ) -> Result<crate::SaveOutcome> {
        scores::save(&mut self.connection, scored_at, rows)
    }

    fn replace_history(
        &mut self,
        scored_at: i64,
        rows: &[crate::SavedScore],
        changes: &[(AccountId, crate::StageChange)],
    ) -> Result<()> {
        scores::replace_history(&mut self.connection, scored_at, rows, changes)
    }

    fn stored_scores(&mut self) -> Result<Vec<crate::StoredScore>> {
        scores::stored(&self.connection)
    }

    fn stored_score(&mut self, account: AccountId) -> Result<Option<crate::StoredScore>> {
        scores::stored_one(&self.connection, account)
    }

    fn stage_history(&mut self, account: AccountId) -> Result<Vec<crate::StageChange>> {
        scores::history(&self.connection, account)
    }

    fn counts(&mut self) -> Result<Counts> {
        let values = self.connection.query_row(codec::COUNTS, [], |row| {
            let mut values = [0i64; 10];
            for (index, value) in values.iter_mut().enumerate() {
                *value = row.get(index)?;
            }
            Ok(values)
        })?;
        Ok(codec::counts(values))
    }

    fn top_unmatched_domains(&mut self, limit: u32) -> Result<Vec<UnmatchedDomain>> {
        let mut statement = self.connection.prepare(codec::TOP_UNMATCHED)?;
        let rows = statement.query_map([limit], |row| {
            Ok(UnmatchedDomain {
                domain: row.get(0)?,
                records: row.get::<_, i64>(1)?.max(0) as u64,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn identity_index(&mut self) -> Result<IdentityIndex> {
        let mut index = IdentityIndex::default();
        let mut domains = self
            .connection
            .prepare("SELECT domain, account_id FROM account_domains")?;
        for row in domains.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })? {
            let (domain, account) = row?;
            if let Ok(domain) = Domain::parse(&domain) {
                index.add_account_domain(domain, AccountId(account));
            }
        }
        let mut crm_ids = self
            .connection
            .prepare("SELECT crm_id, id FROM accounts WHERE crm_id IS NOT NULL")?;
        for row in crm_ids.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })? {
            let (crm_id, account) = row?;
            if let Ok(crm_id) = CrmId::parse(&crm_id) {
                index.add_account_crm_id(crm_id, AccountId(account));
            }
        }
        let mut contacts = self
            .connection
            .prepare("SELECT email, id, account_id FROM contacts")?;
        for row in contacts.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
            ))
        })? {
            let (email, contact, account) = row?;
            if let Ok(email) = Email::parse(&email) {
                index.add_contact(email, ContactId(contact), AccountId(account));
            }
        }
        Ok(index)
    }

    fn account_by_domain(&mut self, domain: &Domain) -> Result<Option<(AccountId, Account)>> {
        match account_owning(&self.connection, domain)? {
            Some(id) => load_account(&self.connection, id),
            None => Ok(None),
        }
    }

    fn activity_count_for(&mut self, account: AccountId) -> Result<u64> {
        let count: i64 = self.connection.query_row(
            "SELECT COUNT(*) FROM activity_timeline WHERE account_id = ?1",
            [account.0],
            |row| row.get(0),
        )?;
        Ok(count.max(0) as u64)
    }

    fn parent_of(&mut self, account: AccountId) -> Result<Option<AccountId>> {
        let parent: Option<Option<i64>> = self
            .connection
            .query_row(
                "SELECT parent_id FROM accounts WHERE id = ?1",
                [account.0],
                |row| row.get(0),
            )
            .optional()?;
        Ok(parent.flatten().map(AccountId))
    }

    fn begin_import(&mut self, record: &ImportRecord) -> Result<Box<dyn ImportTransaction + '_>> {
        // The import is a guard from here on: whatever fails below, its `Drop` restores the
        // connection's settings.
        let mut import = SqliteImport {
            connection: &mut self.connection,
            path: &self.path,
            readers_help: None,
            import_id: 0,
            open: false,
            lane: None,
            bulk_unfinished: false,
            foreign_keys_off: false,
            rollback_journal: false,
            id_seed: self.id_seed,
        };
        // Both pragmas are no-ops inside a transaction, so they are decided here, by kind.
        if record.kind == "activities" {
            if takes_bulk_lane(record.expected_rows, stored_seq(import.connection)?) {
                import.rollback_journal = switch_to_rollback_journal(import.connection);
            }
            import.foreign_keys_off = true;
            import
                .connection
                .pragma_update(None, "foreign_keys", "OFF")?;
        }
        import.connection.execute_batch("BEGIN IMMEDIATE")?;
        import.open = true;
        import.connection.execute(
            "INSERT INTO imports (kind, files, started_at) VALUES (?1, ?2, ?3)",
            params![
                record.kind,
                record.files.join("\n"),
                record.started_at.as_microsecond()
            ],
        )?;
        import.import_id = import.connection.last_insert_rowid();
        Ok(Box::new(import))
    }
}

/// The highest activity seq stored (0 when there is none).
fn stored_seq(connection: &Connection) -> Result<i64> {
    Ok(
        connection.query_row("SELECT COALESCE(MAX(seq), 0) FROM activities", [], |row| {
            row.get(0)
        })?,
    )
}

/// Below `BULK_MINIMUM_ROWS` expected rows the incremental lane is always used. Above it, the
/// bulk lane is taken when the import is expected to more than double the log (row estimates
/// from file sizes are rough, and a re-import of the same file must stay incremental).
fn takes_bulk_lane(expected_rows: u64, stored: i64) -> bool {
    expected_rows >= BULK_MINIMUM_ROWS && expected_rows > 2 * stored.max(0) as u64
}

/// For a bulk load, leaves WAL for a rollback journal when no other connection has the
/// database open: pages appended past the end of the file then need no journal at all, so
/// the load is written once instead of twice (to the WAL, then checkpointed). Atomicity is
/// the same: a crash leaves a hot journal that the next open rolls back. With `FULL`
/// synchronisation, as SQLite advises for rollback journals. Returns whether it switched.
fn switch_to_rollback_journal(connection: &Connection) -> bool {
    // Another connection holds the database: wait for nobody, stay in WAL.
    let _ = connection.pragma_update(None, "busy_timeout", 0);
    let mode: rusqlite::Result<String> =
        connection.query_row("PRAGMA journal_mode = DELETE", [], |row| row.get(0));
    let _ = connection.pragma_update(None, "busy_timeout", 10_000);
    let switched = matches!(mode.as_deref(), Ok("delete"));
    if switched {
        let _ = connection.pragma_update(None, "synchronous", "FULL");
    }
    tracing::debug!(switched, "bulk lane: rollback journal");
    switched
}

fn restore_wal(connection: &Connection) {
    let _ = connection.pragma_update(None, "synchronous", "NORMAL");
    let _ = connection.query_row("PRAGMA journal_mode = WAL", [], |row| {
        row.get::<_, String>(0)
    });
}

struct SqliteImport<'a> {
    connection: &'a mut Connection,
    /// The database file, for the readers of `stored_id_readers` and the bulk lane's syncs.
    path: &'a str,
    /// The incremental lane of a large import into a log that holds rows (at most this many):
    /// readers on other threads can find its unchanged rows.
    readers_help: Option<usize>,
    import_id: i64,
    open: bool,
    lane: Option<Lane>,
    /// A bulk lane began and `finish_activities` has not completed: committing now would
    /// keep rows without their index entries.
    bulk_unfinished: bool,
    foreign_keys_off: bool,
    rollback_journal: bool,
    id_seed: u64,
}

/// How this import writes activities.
#[expect(
    clippy::large_enum_variant,
    reason = "one per import, held by the import itself: its size costs nothing"
)]
enum Lane {
    Incremental,
    /// Rows appended with the timeline trigger dropped; their index entries collected and
    /// sorted, written by `finish_activities`. Rows with `seq > seq_before` are this import's.
    Bulk {
        seq_before: i64,
        next_seq: i64,
        ids: Sorter<IdEntry>,
        timeline: Sorter<TimelineEntry>,
        unmatched: UnmatchedIndex,
        /// Has the kernel write the load out while it runs (under a rollback journal only).
        _syncs: Option<Syncer>,
    },
}

/// During a bulk load under a rollback journal, has the kernel write the file system's dirty
/// pages once a second on a thread of its own (`syncfs`), so the disk takes the appended
/// pages while the load goes on and the commit's own sync finds little left to write. It only
/// adds writes, so what a crash leaves is unchanged. It goes through a descriptor of the
/// database's *directory*, never of the database file: closing any descriptor of that file
/// would drop every POSIX lock the process holds on it, SQLite's included. Stops when dropped
/// (the thread ends at its next wake-up). Linux only; elsewhere the commit syncs it all.
struct Syncer {
    _stop: std::sync::mpsc::Sender<()>,
}

impl Syncer {
    #[cfg(target_os = "linux")]
    fn start(path: &str) -> Option<Self> {
        let directory = match std::path::Path::new(path).parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        let directory = std::fs::File::open(directory).ok()?;
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("abm-sync".into())
            .spawn(move || {
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(std::time::Duration::from_secs(1))
                {
                    if let Err(error) = rustix::fs::syncfs(&directory) {
                        tracing::debug!(%error, "bulk lane: background sync failed");
                        return;
                    }
                }
            })
            .ok()?;
        Some(Self { _stop: stop })
    }

    #[cfg(not(target_os = "linux"))]
    fn start(_path: &str) -> Option<Self> {
        None
    }
}

/// The ids stored before an import, loaded for the threads parsing it (see
/// `ImportTransaction::stored_id_readers`): every `activity_ids` entry's key and fingerprint,
/// in key order, with a table of where each top-bits bucket starts. Read in one sequential
/// pass on a thread of its own, it answers a look-up in two cache misses where a probe of the
/// B-tree costs the writer a descent. Not loaded past `STORED_KEYS_LIMIT` entries (256 MiB).
struct StoredKeys {
    entries: Vec<(i64, i64)>,
    /// `starts[b]` is the first entry whose key's top `BUCKET_BITS` bits are `b` or more.
    starts: Vec<u32>,
}

const BUCKET_BITS: u32 = 20;
const STORED_KEYS_LIMIT: i64 = 16_000_000;

impl StoredKeys {
    fn bucket(key: i64) -> usize {
        // Keys are 63-bit: the top bits of a positive i64 after the sign.
        (key as u64 >> (63 - BUCKET_BITS)) as usize
    }

    /// Reads `activity_ids` in key order, stopping early (`None`) once nobody waits for it.
    /// `stored` (the highest seq, at least the number of entries) sizes the list up front.
    fn load(
        connection: &Connection,
        wanted: &std::sync::Weak<StoredKeysSlot>,
        stored: usize,
    ) -> Result<Option<Self>> {
        let mut statement =
            connection.prepare("SELECT key, fingerprint FROM activity_ids ORDER BY key")?;
        let mut rows = statement.query([])?;
        let mut entries = Vec::with_capacity(stored);
        while let Some(row) = rows.next()? {
            let key: i64 = row.get(0)?;
            // Keys are 63-bit, so never negative, and there are no more entries than seqs
            // (give or take an entry written by hand): anything else is not what this store
            // wrote, and is left to the writer's probes. This also bounds the memory taken.
            if key < 0 || entries.len() >= stored + stored / 8 + 1_024 {
                return Ok(None);
            }
            entries.push((key, row.get::<_, i64>(1)?));
            if entries.len() % 65_536 == 0 && wanted.strong_count() == 0 {
                return Ok(None);
            }
        }
        Ok(Some(Self::new(entries)))
    }

    /// From entries in key order.
    fn new(entries: Vec<(i64, i64)>) -> Self {
        let mut starts = vec![0u32; (1 << BUCKET_BITS) + 1];
        let mut next = 0usize;
        for (index, (key, _)) in entries.iter().enumerate() {
            let bucket = Self::bucket(*key);
            while next <= bucket {
                if let Some(start) = starts.get_mut(next) {
                    *start = index as u32;
                }
                next += 1;
            }
        }
        for start in starts.iter_mut().skip(next) {
            *start = entries.len() as u32;
        }
        Self { entries, starts }
    }

    fn holds(&self, key: i64, fingerprint: i64) -> bool {
        let bucket = Self::bucket(key);
        let (Some(&from), Some(&to)) = (self.starts.get(bucket), self.starts.get(bucket + 1))
        else {
            return false;
        };
        let Some(range) = self.entries.get(from as usize..to as usize) else {
            return false;
        };
        range
            .binary_search_by_key(&key, |(stored, _)| *stored)
            .is_ok_and(|index| {
                range
                    .get(index)
                    .is_some_and(|(_, stored)| *stored == fingerprint)
            })
    }
}

/// Where the loading thread leaves the stored keys; readers look rows up once it is filled.
type StoredKeysSlot = std::sync::OnceLock<StoredKeys>;

/// Loads the stored keys on a thread of its own, through a read-only connection that sees
/// what was committed before the import (the import holds the write lock, so nothing else
/// commits meanwhile; its own rows are not seen, and are the writer's to look up).
fn load_stored_keys(path: &str, slot: &std::sync::Arc<StoredKeysSlot>, stored: usize) {
    let path = path.to_owned();
    let wanted = std::sync::Arc::downgrade(slot);
    let spawned = std::thread::Builder::new()
        .name("abm-stored-ids".into())
        .spawn(move || {
            let started = std::time::Instant::now();
            let loaded = open_reader(&path).and_then(|connection| {
                let _snapshot = connection.unchecked_transaction()?;
                StoredKeys::load(&connection, &wanted, stored)
            });
            match loaded {
                Ok(Some(keys)) => {
                    tracing::debug!(entries = keys.entries.len(), elapsed = ?started.elapsed(), "stored ids loaded");
                    if let Some(slot) = wanted.upgrade() {
                        let _ = slot.set(keys);
                    }
                }
                Ok(None) => tracing::debug!("stored ids: no longer wanted"),
                // The writer looks every row up itself: slower, the same result.
                Err(error) => tracing::debug!(%error, "stored ids: not loaded"),
            }
        });
    if let Err(error) = spawned {
        tracing::debug!(%error, "stored ids: no thread to load them");
    }
}

/// A read-only connection, not `Store::reopen`'s full store: opening a store checks migrations
/// and sets the journal mode, which has no business beside an import holding the write lock.
fn open_reader(path: &str) -> Result<Connection> {
    use rusqlite::OpenFlags;
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )?;
    connection.pragma_update(None, "busy_timeout", 1_000)?;
    Ok(connection)
}

/// One parsing thread's view of the stored keys: until they are loaded it finds nothing, and
/// the writer looks those rows up itself.
struct SqliteStoredIds {
    keys: std::sync::Arc<StoredKeysSlot>,
    seed: u64,
}

impl crate::StoredIds for SqliteStoredIds {
    fn stored_unchanged(&mut self, rows: &[ActivityRow]) -> Vec<bool> {
        let Some(keys) = self.keys.get() else {
            return vec![false; rows.len()];
        };
        // Only the id's own key is looked at: an id moved on by a hash collision, or stored
        // with other content, is left to the writer's full probe.
        rows.iter()
            .map(|row| keys.holds(id_key(self.seed, row.activity.id.as_str()), row.fingerprint))
            .collect()
    }
}

impl std::fmt::Debug for Lane {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Lane::Incremental => formatter.write_str("Incremental"),
            Lane::Bulk { seq_before, .. } => {
                write!(formatter, "Bulk {{ seq_before: {seq_before} }}")
            }
        }
    }
}

impl Drop for SqliteImport<'_> {
    fn drop(&mut self) {
        if self.open {
            // Nothing of an unfinished import may stay: roll back (dropped indexes come back
            // with it); a failure to roll back leaves SQLite to discard the transaction when
            // the connection closes.
            let _ = self.connection.execute_batch("ROLLBACK");
        }
        if self.foreign_keys_off {
            let _ = self.connection.pragma_update(None, "foreign_keys", "ON");
        }
        if self.rollback_journal {
            restore_wal(self.connection);
        }
    }
}

/// An activity seen again, with where this import read it.
struct Repeat<'a> {
    id: &'a str,
    fingerprint: i64,
    source: SourceLine,
}

/// The same id again: same content is unchanged; other content from this import is a
/// conflict naming both lines; other content from an earlier import keeps the stored copy.
fn classify_repeat(
    outcome: &mut ActivityOutcome,
    import_id: i64,
    row: &Repeat<'_>,
    stored_fingerprint: i64,
    stored_import: Option<i64>,
    stored_line: Option<(u32, i64)>,
) {
    if stored_fingerprint == row.fingerprint {
        outcome.unchanged += 1;
    } else if stored_import == Some(import_id) {
        outcome.conflicts.push(ActivityConflict {
            id: row.id.to_owned(),
            first: stored_line.map(|(file, line)| SourceLine {
                file,
                line: line.max(0) as u64,
            }),
            second: row.source,
        });
    } else {
        outcome.kept_existing += 1;
    }
}

/// `classify_repeat` for a row of an incremental batch.
fn classify(
    outcome: &mut ActivityOutcome,
    import_id: i64,
    id: &str,
    row: &ActivityRow,
    stored_fingerprint: i64,
    stored_import: Option<i64>,
    stored_line: Option<(u32, i64)>,
) {
    let repeat = Repeat {
        id,
        fingerprint: row.fingerprint,
        source: row.source,
    };
    classify_repeat(
        outcome,
        import_id,
        &repeat,
        stored_fingerprint,
        stored_import,
        stored_line,
    );
}

/// The values `bind_activity` binds: `VISITOR_INSERT`'s columns but the visitor.
const ACTIVITY_WIDTH: usize = 16;

/// `INSERT` of one activity row with its visitor id (the row-by-row lane).
const VISITOR_INSERT: &str = "INSERT INTO activities (seq, id, kind, occurred_at, account_id, contact_id, email, account_key, url, topic, campaign, channel, fingerprint, import_id, source_file, source_line, visitor) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)";

/// Binds one activity row's values from parameter `first` on, with a NULL seq: SQLite picks it.
fn bind_activity(
    statement: &mut rusqlite::Statement<'_>,
    first: usize,
    import_id: i64,
    row: &ActivityRow,
) -> Result<()> {
    // The seq is SQLite's to pick.
    statement.raw_bind_parameter(first, rusqlite::types::Null)?;
    bind_content(statement, first + 1, row)?;
    statement.raw_bind_parameter(first + 13, import_id)?;
    statement.raw_bind_parameter(first + 14, row.source.file)?;
    statement.raw_bind_parameter(first + 15, row.source.line as i64)?;
    Ok(())
}

/// Binds an activity's own twelve values, `id` to `fingerprint` in the table's column order,
/// from parameter `first` on.
fn bind_content(
    statement: &mut rusqlite::Statement<'_>,
    first: usize,
    row: &ActivityRow,
) -> Result<()> {
    let activity = &row.activity;
    statement.raw_bind_parameter(first, activity.id.as_str())?;
    statement.raw_bind_parameter(first + 1, activity.kind.as_str())?;
    statement.raw_bind_parameter(first + 2, activity.occurred_at.as_microsecond())?;
    statement.raw_bind_parameter(first + 3, row.account.map(|id| id.0))?;
    statement.raw_bind_parameter(first + 4, row.contact.map(|id| id.0))?;
    statement.raw_bind_parameter(first + 5, activity.email.as_ref().map(Email::as_str))?;
    statement.raw_bind_parameter(first + 6, row.account_key.as_ref().map(Domain::as_str))?;
    statement.raw_bind_parameter(first + 7, activity.url.as_deref())?;
    statement.raw_bind_parameter(first + 8, activity.topic.as_deref())?;
    statement.raw_bind_parameter(first + 9, activity.campaign.as_deref())?;
    statement.raw_bind_parameter(first + 10, activity.channel.as_deref())?;
    statement.raw_bind_parameter(first + 11, row.fingerprint)?;
    Ok(())
}

/// The columns the bulk lane binds per row: all but `seq` (SQLite numbers appended rows
/// itself, without the look-up an explicit rowid costs) and `import_id` (one parameter, `?1`,
/// for the whole statement).
const APPENDED_WIDTH: usize = 14;

/// `INSERT` of `rows` activity rows in one statement for the bulk lane: `?1` is the import,
/// each row's own values follow from `?2` on.
fn appended_insert_sql(rows: usize) -> String {
    let tuples: Vec<String> = (0..rows)
        .map(|row| {
            let first = 2 + row * APPENDED_WIDTH;
            let own: Vec<String> = (first..first + APPENDED_WIDTH)
                .map(|number| format!("?{number}"))
                .collect();
            // The import id goes between channel/fingerprint and source_file/source_line.
            let (before, after) = own.split_at(APPENDED_WIDTH - 2);
            format!("({}, ?1, {})", before.join(", "), after.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO activities (id, kind, occurred_at, account_id, contact_id, email, account_key, url, topic, campaign, channel, fingerprint, import_id, source_file, source_line) VALUES {}",
        tuples.join(", ")
    )
}

/// Binds one appended row's own values from parameter `first` on, in `appended_insert_sql`'s
/// order.
fn bind_appended(
    statement: &mut rusqlite::Statement<'_>,
    first: usize,
    row: &ActivityRow,
) -> Result<()> {
    bind_content(statement, first, row)?;
    statement.raw_bind_parameter(first + 12, row.source.file)?;
    statement.raw_bind_parameter(first + 13, row.source.line as i64)?;
    Ok(())
}

/// Appends a batch, `INSERT_CHUNK` rows per statement, where the log's next seq is
/// `first_seq`: SQLite gives an appended row the highest rowid plus one, and the import holds
/// the write lock, so the rows take `first_seq`, `first_seq + 1`, … — checked after each
/// statement, since the index entries already collected name those seqs.
fn append_activities(
    connection: &Connection,
    import_id: i64,
    batch: &[ActivityRow],
    first_seq: i64,
) -> Result<()> {
    // Built once a process: the full chunk's statement text is about 20 kilobytes, and this
    // runs on the writer, the thread a bulk load waits for.
    static FULL_CHUNK: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let full_chunk = FULL_CHUNK.get_or_init(|| appended_insert_sql(INSERT_CHUNK));
    // Taken from the statement cache once a batch, not once a chunk: each take hashes and
    // compares the whole text, and each return clears every binding.
    let mut full = connection.prepare_cached(full_chunk)?;
    full.raw_bind_parameter(1, import_id)?;
    let mut last_seq = first_seq - 1;
    for chunk in batch.chunks(INSERT_CHUNK) {
        let mut last;
        let statement = if chunk.len() == INSERT_CHUNK {
            &mut full
        } else {
            last = connection.prepare_cached(&appended_insert_sql(chunk.len()))?;
            last.raw_bind_parameter(1, import_id)?;
            &mut last
        };
        for (index, row) in chunk.iter().enumerate() {
            bind_appended(statement, 2 + index * APPENDED_WIDTH, row)?;
        }
        statement.raw_execute()?;
        last_seq += chunk.len() as i64;
        if connection.last_insert_rowid() != last_seq {
            return Err(StoreError::Corrupt(format!(
                "appended activities were numbered up to {}, expected {last_seq}",
                connection.last_insert_rowid()
            )));
        }
    }
    Ok(())
}

fn opt_str<T: AsRef<str>>(value: &Option<T>) -> Option<&str> {
    value.as_ref().map(AsRef::as_ref)
}

impl SqliteImport<'_> {
    fn write_domains(&self, id: i64, account: &Account) -> Result<()> {
        self.connection
            .prepare_cached("DELETE FROM account_domains WHERE account_id = ?1")?
            .execute([id])?;
        let mut insert = self.connection.prepare_cached(
            "INSERT INTO account_domains (domain, account_id, is_primary) VALUES (?1, ?2, ?3)",
        )?;
        for domain in account.domains() {
            insert.execute(params![domain.as_str(), id, *domain == account.domain])?;
        }
        Ok(())
    }

    /// Writes one bulk-loaded id entry at its key or the next free one (`probe`, as the
    /// incremental lane does); the same id found stored makes the entry a repeat: classified,
    /// and its row deleted.
    fn index_one_id(
        &self,
        entry: IdEntry,
        outcome: &mut ActivityOutcome,
        removed: &mut std::collections::HashSet<i64>,
    ) -> Result<()> {
        let connection = &*self.connection;
        let (id, _, line) = stored_copy(connection, entry.seq)?;
        let stored_fingerprint = match probe(connection, self.id_seed, &id, entry.fingerprint)? {
            Probe::Free(key) => {
                connection
                    .prepare_cached(
                        "INSERT INTO activity_ids (key, fingerprint, seq) VALUES (?1, ?2, ?3)",
                    )?
                    .execute(params![key, entry.fingerprint, entry.seq])?;
                return Ok(());
            }
            Probe::Same => {
                outcome.unchanged += 1;
                None
            }
            Probe::Other { seq, fingerprint } => Some((seq, fingerprint)),
        };
        if let Some((stored_seq, stored_fingerprint)) = stored_fingerprint {
            let (_, stored_import, stored_line) = stored_copy(connection, stored_seq)?;
            let source = line.map_or(SourceLine { file: 0, line: 0 }, |(file, line)| SourceLine {
                file,
                line: line.max(0) as u64,
            });
            let repeat = Repeat {
                id: &id,
                fingerprint: entry.fingerprint,
                source,
            };
            classify_repeat(
                outcome,
                self.import_id,
                &repeat,
                stored_fingerprint,
                stored_import,
                stored_line,
            );
        }
        connection
            .prepare_cached("DELETE FROM activities WHERE seq = ?1")?
            .execute([entry.seq])?;
        removed.insert(entry.seq);
        Ok(())
    }

    fn unmatched_counts(&self) -> Result<[i64; 5]> {
        Ok(self
            .connection
            .query_row(codec::UNMATCHED_COUNTS, [], |row| {
                Ok([
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                ])
            })?)
    }
}

impl ImportTransaction for SqliteImport<'_> {
    fn sql(&mut self) -> Result<Box<dyn crate::Sql + '_>> {
        Ok(Box::new(crate::sql::InImport(&mut *self.connection)))
    }

    fn find_account(
        &mut self,
        crm_id: Option<&CrmId>,
        domain: &Domain,
    ) -> Result<Option<(AccountId, Account)>> {
        if let Some(crm_id) = crm_id {
            let by_crm: Option<i64> = self
                .connection
                .prepare_cached("SELECT id FROM accounts WHERE crm_id = ?1")?
                .query_row([crm_id.as_str()], |row| row.get(0))
                .optional()?;
            if let Some(id) = by_crm {
                return load_account(self.connection, id);
            }
        }
        match account_owning(self.connection, domain)? {
            Some(id) => load_account(self.connection, id),
            None => Ok(None),
        }
    }

    fn account_owning(&mut self, domain: &Domain) -> Result<Option<AccountId>> {
        Ok(account_owning(self.connection, domain)?.map(AccountId))
    }

    fn insert_account(&mut self, account: &Account) -> Result<AccountId> {
        self.connection.prepare_cached(
            "INSERT INTO accounts (crm_id, domain, name, industry, employees, revenue, country, region, technologies, account_type, owner, parent_crm_id, parent_domain, attributes) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )?.execute(params![
            opt_str(&account.crm_id.as_ref().map(CrmId::as_str)),
            account.domain.as_str(),
            account.name, account.industry,
            account.employees.map(|count| count as i64),
            account.revenue, account.country, account.region,
            codec::encode_list(&account.technologies),
            account.account_type.map(|kind| kind.as_str()),
            account.owner,
            account.parent_crm_id.as_ref().map(CrmId::as_str),
            account.parent_domain.as_ref().map(Domain::as_str),
            codec::encode_map(&account.attributes),
        ])?;
        let id = self.connection.last_insert_rowid();
        self.write_domains(id, account)?;
        Ok(AccountId(id))
    }

    fn update_account(&mut self, id: AccountId, account: &Account) -> Result<()> {
        self.connection.prepare_cached(
            "UPDATE accounts SET crm_id = ?1, domain = ?2, name = ?3, industry = ?4, employees = ?5, revenue = ?6, country = ?7, region = ?8, technologies = ?9, account_type = ?10, owner = ?11, parent_crm_id = ?12, parent_domain = ?13, attributes = ?14 WHERE id = ?15",
        )?.execute(params![
            account.crm_id.as_ref().map(CrmId::as_str),
            account.domain.as_str(),
            account.name, account.industry,
            account.employees.map(|count| count as i64),
            account.revenue, account.country, account.region,
            codec::encode_list(&account.technologies),
            account.account_type.map(|kind| kind.as_str()),
            account.owner,
            account.parent_crm_id.as_ref().map(CrmId::as_str),
            account.parent_domain.as_ref().map(Domain::as_str),
            codec::encode_map(&account.attributes),
            id.0,
        ])?;
        self.write_domains(id.0, account)
    }

    fn find_contact(
        &mut self,
        crm_id: Option<&CrmId>,
        email: &Email,
    ) -> Result<Option<(ContactId, Contact)>> {
        find_person(
            self.connection,
            codec::CONTACT_COLUMNS,
            "contacts",
            crm_id,
            email,
        )?
        .map(|row| {
            let id = row.id;
            row.into_contact().map(|contact| (ContactId(id), contact))
        })
        .transpose()
    }

    fn write_contact(
        &mut self,
        existing: Option<ContactId>,
        contact: &Contact,
    ) -> Result<ContactId> {
        let values = params![
            contact.crm_id.as_ref().map(CrmId::as_str),
            contact.email.as_str(),
            contact.first_name,
            contact.last_name,
            contact.title,
            contact.account_id.0,
            contact.consent.opted_out,
            contact.consent.lawful_basis.map(|basis| basis.as_str()),
            codec::encode_map(&contact.attributes),
        ];
        match existing {
            Some(id) => {
                self.connection.prepare_cached(
                    "UPDATE contacts SET crm_id = ?1, email = ?2, first_name = ?3, last_name = ?4, title = ?5, account_id = ?6, opted_out = ?7, lawful_basis = ?8, attributes = ?9 WHERE id = ?10",
                )?.execute(rusqlite::params_from_iter(values.iter().copied().chain(std::iter::once(&id.0 as &dyn rusqlite::ToSql))))?;
                Ok(id)
            }
            None => {
                self.connection.prepare_cached(
                    "INSERT INTO contacts (crm_id, email, first_name, last_name, title, account_id, opted_out, lawful_basis, attributes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )?.execute(values)?;
                Ok(ContactId(self.connection.last_insert_rowid()))
            }
        }
    }

    fn find_lead(&mut self, crm_id: Option<&CrmId>, email: &Email) -> Result<Option<(i64, Lead)>> {
        find_person(self.connection, codec::LEAD_COLUMNS, "leads", crm_id, email)?
            .map(|row| {
                let id = row.id;
                row.into_lead().map(|lead| (id, lead))
            })
            .transpose()
    }

    fn write_lead(
        &mut self,
        existing: Option<i64>,
        lead: &Lead,
        origin: LeadOrigin,
        account: Option<AccountId>,
        account_key: Option<&Domain>,
    ) -> Result<()> {
        let values = params![
            lead.crm_id.as_ref().map(CrmId::as_str),
            lead.email.as_str(),
            lead.first_name,
            lead.last_name,
            lead.title,
            lead.company,
            lead.website.as_ref().map(Domain::as_str),
            origin.as_str(),
            account.map(|id| id.0),
            account_key.map(Domain::as_str),
            lead.consent.opted_out,
            lead.consent.lawful_basis.map(|basis| basis.as_str()),
            codec::encode_map(&lead.attributes),
        ];
        match existing {
            Some(id) => self.connection.prepare_cached(
                "UPDATE leads SET crm_id = ?1, email = ?2, first_name = ?3, last_name = ?4, title = ?5, company = ?6, website = ?7, origin = ?8, account_id = ?9, account_key = ?10, opted_out = ?11, lawful_basis = ?12, attributes = ?13 WHERE id = ?14",
            )?.execute(rusqlite::params_from_iter(values.iter().copied().chain(std::iter::once(&id as &dyn rusqlite::ToSql))))?,
            None => self.connection.prepare_cached(
                "INSERT INTO leads (crm_id, email, first_name, last_name, title, company, website, origin, account_id, account_key, opted_out, lawful_basis, attributes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?.execute(values)?,
        };
        Ok(())
    }

    fn find_opportunity(&mut self, crm_id: &CrmId) -> Result<Option<Opportunity>> {
        let sql = format!(
            "SELECT {} FROM opportunities WHERE crm_id = ?1",
            codec::OPPORTUNITY_COLUMNS
        );
        let row = self
            .connection
            .prepare_cached(&sql)?
            .query_row([crm_id.as_str()], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                    row.get::<_, String>(6)?,
                    row.get::<_, Option<String>>(7)?,
                    row.get(8)?,
                    row.get(9)?,
                ))
            })
            .optional()?;
        let Some((
            crm_id,
            account_crm_id,
            account_domain,
            name,
            amount,
            stage,
            created_on,
            close_date,
            closed,
            won,
        )) = row
        else {
            return Ok(None);
        };
        OpportunityRow {
            crm_id,
            account_crm_id,
            account_domain,
            name,
            amount,
            stage,
            created_on: codec::date(&created_on)?,
            close_date: close_date.as_deref().map(codec::date).transpose()?,
            closed,
            won,
        }
        .into_opportunity()
        .map(Some)
    }

    fn write_opportunity(
        &mut self,
        exists: bool,
        opportunity: &Opportunity,
        account: Option<AccountId>,
    ) -> Result<()> {
        let sql = if exists {
            "UPDATE opportunities SET account_id = ?2, account_crm_id = ?3, account_domain = ?4, name = ?5, amount = ?6, stage = ?7, created_on = ?8, close_date = ?9, closed = ?10, won = ?11 WHERE crm_id = ?1"
        } else {
            "INSERT INTO opportunities (crm_id, account_id, account_crm_id, account_domain, name, amount, stage, created_on, close_date, closed, won) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        };
        self.connection.prepare_cached(sql)?.execute(params![
            opportunity.crm_id.as_str(),
            account.map(|id| id.0),
            opportunity.account_crm_id.as_ref().map(CrmId::as_str),
            opportunity.account_domain.as_ref().map(Domain::as_str),
            opportunity.name,
            opportunity.amount,
            opportunity.stage,
            opportunity.created_on.to_string(),
            opportunity.close_date.map(|date| date.to_string()),
            opportunity.closed,
            opportunity.won,
        ])?;
        Ok(())
    }

    fn write_intent(
        &mut self,
        signal: &IntentSignal,
        account: Option<AccountId>,
    ) -> Result<Written> {
        let existing: Option<(i64, i64)> = self.connection
            .prepare_cached("SELECT id, score FROM intent_signals WHERE domain = ?1 AND topic = ?2 AND date = ?3 AND source = ?4")?
            .query_row(params![signal.domain.as_str(), signal.topic.as_str(), signal.date.to_string(), signal.source], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        match existing {
            Some((_, score)) if score == i64::from(signal.score.value()) => Ok(Written::Unchanged),
            Some((id, _)) => {
                self.connection.prepare_cached("UPDATE intent_signals SET score = ?1, company_name = COALESCE(?2, company_name) WHERE id = ?3")?
                    .execute(params![signal.score.value(), signal.company_name, id])?;
                Ok(Written::Updated)
            }
            None => {
                self.connection.prepare_cached(
                    "INSERT INTO intent_signals (account_id, domain, topic, date, score, source, company_name) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?.execute(params![
                    account.map(|id| id.0), signal.domain.as_str(), signal.topic.as_str(),
                    signal.date.to_string(), signal.score.value(), signal.source, signal.company_name,
                ])?;
                Ok(Written::Inserted)
            }
        }
    }

    fn begin_activities(&mut self, expected_rows: u64) -> Result<()> {
        let stored = stored_seq(self.connection)?;
        let lane = if takes_bulk_lane(expected_rows, stored) {
            self.bulk_unfinished = true;
            self.connection
                .execute_batch("DROP TRIGGER activity_timeline_insert")?;
            // The partial indexes cover a minority of rows: built once by SQLite at the end,
            // they cost a scan; kept, they cost a random insert for each row they hold.
            // `activities_without_contact` holds too many for that; `activities_unmatched`
            // is kept while `UnmatchedIndex` finds few rows for it.
            for (name, _) in PARTIAL_ACTIVITY_INDEXES {
                if *name != UNMATCHED_INDEX {
                    self.connection
                        .execute_batch(&format!("DROP INDEX {name}"))?;
                }
            }
            Lane::Bulk {
                seq_before: stored,
                next_seq: stored + 1,
                ids: Sorter::new(SORT_RUN_RECORDS),
                timeline: Sorter::new(SORT_RUN_RECORDS),
                unmatched: UnmatchedIndex::kept(),
                _syncs: if self.rollback_journal {
                    Syncer::start(self.path)
                } else {
                    None
                },
            }
        } else {
            // The stored keys are loaded only while they fit the memory budget.
            // Readers beside a writer need WAL (under a rollback journal the writer's spills
            // and commit would wait for their shared locks).
            self.readers_help = (expected_rows >= BULK_MINIMUM_ROWS
                && !self.rollback_journal
                && stored > 0
                && stored <= STORED_KEYS_LIMIT)
                .then_some(stored as usize);
            Lane::Incremental
        };
        tracing::debug!(?lane, expected_rows, stored, "activity lane");
        self.lane = Some(lane);
        Ok(())
    }

    fn write_activities(&mut self, batch: &[ActivityRow]) -> Result<ActivityOutcome> {
        if self.lane.is_none() {
            self.begin_activities(0)?;
        }
        let connection = &*self.connection;
        if let Some(Lane::Bulk {
            next_seq,
            ids,
            timeline,
            unmatched,
            ..
        }) = &mut self.lane
        {
            // Appended now; whether a row repeats a stored id is settled in key order by
            // `finish_activities`.
            let first_seq = *next_seq;
            let mut unmatched_rows = 0;
            for (seq, row) in (first_seq..).zip(batch) {
                ids.push(IdEntry {
                    key: id_key(self.id_seed, row.activity.id.as_str()),
                    seq,
                    fingerprint: row.fingerprint,
                })?;
                if let Some(account) = row.account {
                    timeline.push(TimelineEntry {
                        account_id: account.0,
                        occurred_at: row.activity.occurred_at.as_microsecond(),
                        seq,
                    })?;
                } else {
                    unmatched_rows += 1;
                }
            }
            *next_seq += batch.len() as i64;
            if unmatched.count(batch.len() as u64, unmatched_rows) {
                tracing::debug!(
                    ?unmatched,
                    "bulk lane: unmatched index dropped, rebuilt at the end"
                );
                connection.execute_batch(&format!("DROP INDEX {UNMATCHED_INDEX}"))?;
            }
            append_activities(connection, self.import_id, batch, first_seq)?;
            return Ok(ActivityOutcome::default());
        }
        let mut outcome = ActivityOutcome::default();
        // Row by row, the visitor column is written too (the bulk statement leaves it out:
        // files carry no visitors).
        let mut insert = connection.prepare_cached(VISITOR_INSERT)?;
        for row in batch {
            let id = row.activity.id.as_str();
            match probe(connection, self.id_seed, id, row.fingerprint)? {
                Probe::Same => outcome.unchanged += 1,
                Probe::Other { seq, fingerprint } => {
                    let (_, import_id, line) = stored_copy(connection, seq)?;
                    classify(
                        &mut outcome,
                        self.import_id,
                        id,
                        row,
                        fingerprint,
                        import_id,
                        line,
                    );
                }
                Probe::Free(key) => {
                    bind_activity(&mut insert, 1, self.import_id, row)?;
                    insert.raw_bind_parameter(ACTIVITY_WIDTH + 1, row.visitor.as_deref())?;
                    insert.raw_execute()?;
                    let seq = connection.last_insert_rowid();
                    connection
                        .prepare_cached(
                            "INSERT INTO activity_ids (key, fingerprint, seq) VALUES (?1, ?2, ?3)",
                        )?
                        .execute(params![key, row.fingerprint, seq])?;
                    outcome.inserted += 1;
                }
            }
        }
        Ok(outcome)
    }

    fn finish_activities(&mut self) -> Result<ActivityOutcome> {
        let Some(Lane::Bulk {
            seq_before,
            next_seq,
            ids,
            timeline,
            unmatched,
            _syncs: _syncing_until_finished,
        }) = self.lane.take()
        else {
            return Ok(ActivityOutcome::default());
        };
        let started = std::time::Instant::now();
        let connection = &*self.connection;
        let mut outcome = ActivityOutcome::default();
        // Ids in key order: each insert appends to the index. A taken key is either the same
        // id again (stored earlier, or earlier in this import) or another id with the same
        // hash, which moves on to the next key.
        let mut removed = std::collections::HashSet::new();
        let mut insert_ids =
            ChunkedInsert::new(connection, "activity_ids (key, fingerprint, seq)", 3)?;
        let mut sorted = ids.sorted()?.in_background(MERGED_HANDOFF);
        while let Some(merged) = sorted.next_chunk()? {
            for chunk in merged.chunks(INSERT_CHUNK) {
                let values = chunk
                    .iter()
                    .flat_map(|entry| [entry.key, entry.fingerprint, entry.seq]);
                // The whole chunk in one statement; if a key in it is taken, the statement
                // changes nothing and its entries go one by one.
                if !insert_ids.insert(chunk.len(), values)? {
                    for entry in chunk {
                        self.index_one_id(*entry, &mut outcome, &mut removed)?;
                    }
                }
            }
        }
        tracing::debug!(elapsed = ?started.elapsed(), repeats = removed.len(), "bulk lane: ids indexed");
        let mut insert_timeline = ChunkedInsert::new(
            connection,
            "activity_timeline (account_id, occurred_at, seq)",
            3,
        )?;
        let mut sorted = timeline.sorted()?.in_background(MERGED_HANDOFF);
        while let Some(mut merged) = sorted.next_chunk()? {
            if !removed.is_empty() {
                merged.retain(|entry| !removed.contains(&entry.seq));
            }
            for chunk in merged.chunks(INSERT_CHUNK) {
                let values = chunk
                    .iter()
                    .flat_map(|entry| [entry.account_id, entry.occurred_at, entry.seq]);
                if !insert_timeline.insert(chunk.len(), values)? {
                    return Err(StoreError::Corrupt(
                        "an activity is in the timeline twice".into(),
                    ));
                }
            }
        }
        connection.execute_batch(TIMELINE_INSERT_TRIGGER)?;
        tracing::debug!(elapsed = ?started.elapsed(), "bulk lane: timeline written");
        // SQLite's sorter sorts runs of up to the page cache's size: with the 256 MiB cache a
        // partial index's entries are one run, sorted by this thread alone after the scan;
        // with 32 MiB, runs are sorted on a second thread (`PRAGMA threads`) while the scan
        // goes on (2.6 s → 1.5 s for 3 million entries). Dirty pages beyond 32 MiB are
        // spilled as the builds need room, instead of at the commit.
        let shrunk = ShrunkCache::new(connection, -32_768)?;
        for (name, create) in PARTIAL_ACTIVITY_INDEXES {
            if *name == UNMATCHED_INDEX && unmatched.kept {
                continue;
            }
            connection.execute_batch(create)?;
            tracing::debug!(elapsed = ?started.elapsed(), index = name, "bulk lane: index rebuilt");
        }
        shrunk.restore()?;
        // The bulk lane counts its insertions here: what was appended and not removed.
        outcome.inserted =
            ((next_seq - 1 - seq_before).max(0) as u64).saturating_sub(removed.len() as u64);
        self.bulk_unfinished = false;
        Ok(outcome)
    }

    fn stored_id_readers(&mut self, count: usize) -> Result<Vec<Box<dyn crate::StoredIds>>> {
        let mut readers: Vec<Box<dyn crate::StoredIds>> = Vec::new();
        let Some(stored) = self.readers_help else {
            return Ok(readers);
        };
        if is_in_memory(self.path) {
            return Ok(readers);
        }
        let slot = std::sync::Arc::new(StoredKeysSlot::new());
        load_stored_keys(self.path, &slot, stored);
        for _ in 0..count {
            readers.push(Box::new(SqliteStoredIds {
                keys: std::sync::Arc::clone(&slot),
                seed: self.id_seed,
            }));
        }
        Ok(readers)
    }

    fn link_parents(&mut self) -> Result<()> {
        self.connection.execute(codec::LINK_PARENTS, [])?;
        Ok(())
    }

    fn rematch(&mut self) -> Result<Rematched> {
        let before = self.unmatched_counts()?;
        for sql in codec::REMATCH_LEADS.iter().chain(codec::PROMOTE_LEADS) {
            self.connection.execute(sql, [])?;
        }
        crate::rollup::mark_rematch(&mut *ImportTransaction::sql(self)?)?;
        for sql in codec::REMATCH_OTHERS {
            self.connection.execute(sql, [])?;
        }
        let after = self.unmatched_counts()?;
        Ok(codec::rematched(before, after))
    }

    fn commit(mut self: Box<Self>, figures: &ImportFigures) -> Result<()> {
        if self.bulk_unfinished {
            // Its id and timeline entries are not (all) written: committing would lose them.
            return Err(StoreError::Unfinished);
        }
        self.connection.execute(
            "UPDATE imports SET rows_read = ?1, inserted = ?2, updated = ?3, unchanged = ?4, unmatched = ?5 WHERE id = ?6",
            params![figures.rows_read as i64, figures.inserted as i64, figures.updated as i64, figures.unchanged as i64, figures.unmatched as i64, self.import_id],
        )?;
        self.connection.execute_batch("COMMIT")?;
        self.open = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use abm_core::Domain;
    use rusqlite::params;

    use super::{BUCKET_BITS, StoredKeys};

    #[test]
    fn stored_keys_are_found_in_every_bucket_and_only_with_their_fingerprint() {
        let bucket = 1i64 << (63 - BUCKET_BITS);
        let keys = [
            0,
            1,
            bucket - 1,
            bucket,
            bucket + 5,
            7 * bucket,
            i64::MAX - 1,
            i64::MAX,
        ];
        let entries: Vec<(i64, i64)> = keys.iter().map(|&key| (key, key ^ 0x55)).collect();
        let stored = StoredKeys::new(entries.clone());
        for &(key, fingerprint) in &entries {
            assert!(stored.holds(key, fingerprint), "key {key}");
            assert!(
                !stored.holds(key, fingerprint + 1),
                "key {key}, other content"
            );
        }
        for key in [
            2,
            bucket - 2,
            bucket + 1,
            6 * bucket,
            8 * bucket,
            i64::MAX - 2,
        ] {
            assert!(!stored.holds(key, key ^ 0x55), "key {key} is not stored");
        }
        assert!(!StoredKeys::new(Vec::new()).holds(0, 0x55));
        // A negative key is not one this store writes; built from one anyway, nothing panics.
        assert!(!StoredKeys::new(vec![(-5, 1)]).holds(-5, 1));
    }

    #[test]
    fn the_unmatched_index_is_dropped_once_more_than_one_row_in_eight_is_unmatched() {
        use super::UnmatchedIndex;
        // Every row unmatched: kept until the share is settled, then dropped, once.
        let mut index = UnmatchedIndex::kept();
        let drops: Vec<bool> = (0..10).map(|_| index.count(8_192, 8_192)).collect();
        assert_eq!(drops.iter().position(|&drop| drop), Some(7));
        assert_eq!(drops.iter().filter(|&&drop| drop).count(), 1);
        assert!(!index.kept);
        // One in ten: kept to the end.
        let mut index = UnmatchedIndex::kept();
        assert!((0..1_000).all(|_| !index.count(8_190, 819)));
        assert!(index.kept);
        // A file that turns unmatched half-way through: dropped when the share passes 1/8.
        let mut index = UnmatchedIndex::kept();
        assert!((0..100).all(|_| !index.count(1_000, 0)));
        let dropped_after = (1..=100).find(|_| index.count(1_000, 1_000));
        // 100,000 matched rows, then n thousand unmatched: n / (100 + n) > 1/8 from n = 15.
        assert_eq!(dropped_after, Some(15));
    }

    #[test]
    fn the_recreated_trigger_is_the_migrations() {
        let migration = include_str!("../migrations/sqlite/0002_activity_index_tables.sql");
        assert!(migration.contains(super::TIMELINE_INSERT_TRIGGER));
        let first = include_str!("../migrations/sqlite/0001_foundation.sql");
        for (name, create) in super::PARTIAL_ACTIVITY_INDEXES {
            assert!(first.contains(create), "{name} differs from the migration");
            assert!(!migration.contains(name), "{name} changed by migration 2");
        }
    }

    /// Two ids whose keys collide cannot be found by chance, so the test makes the situation:
    /// it stores "evt-other", then puts a second entry for it at the key "evt-1" hashes to.
    /// "evt-1" must then walk past it to the next key, be found there again, and "evt-other"
    /// must stay found at its own key.
    #[test]
    fn an_id_whose_key_is_taken_moves_to_the_next_key_and_is_found_again() {
        use crate::{ActivityRow, ImportFigures, ImportRecord, SourceLine, Store};
        use abm_core::{Activity, ActivityId, ActivityKind};
        let directory = tempfile::tempdir().expect("directory");
        let path = directory.path().join("abm.db");
        let mut store = super::SqliteStore::open(&path.display().to_string()).expect("open");
        let row = |id: &str| {
            let activity = Activity {
                id: ActivityId::parse(id).expect("id"),
                kind: ActivityKind::PageView,
                occurred_at: "2026-03-01T10:00:00Z".parse().expect("time"),
                email: None,
                domain: Some(Domain::parse("acme.com").expect("domain")),
                url: None,
                topic: None,
                campaign: None,
                channel: None,
            };
            let fingerprint = activity.fingerprint();
            ActivityRow {
                activity,
                account: None,
                contact: None,
                account_key: None,
                fingerprint,
                source: SourceLine { file: 0, line: 2 },
                visitor: None,
            }
        };
        let record = ImportRecord {
            kind: "activities".into(),
            files: vec!["t.csv".into()],
            started_at: "2026-11-23T10:00:00Z".parse().expect("time"),
            expected_rows: 0,
        };
        let import = |store: &mut super::SqliteStore, ids: &[&str]| {
            let mut transaction = store.begin_import(&record).expect("begin");
            let rows: Vec<ActivityRow> = ids.iter().map(|id| row(id)).collect();
            let outcome = transaction.write_activities(&rows).expect("write");
            transaction.finish_activities().expect("finish");
            transaction
                .commit(&ImportFigures::default())
                .expect("commit");
            (outcome.inserted, outcome.unchanged)
        };
        assert_eq!(import(&mut store, &["evt-other"]), (1, 0));
        let seed = store.id_seed;
        let taken = super::id_key(seed, "evt-1");
        let other = super::id_key(seed, "evt-other");
        store
            .connection
            .execute(
                "INSERT INTO activity_ids (key, fingerprint, seq) SELECT ?1, fingerprint, seq FROM activity_ids WHERE key = ?2",
                params![taken, other],
            )
            .expect("occupy the key");
        assert_eq!(import(&mut store, &["evt-1"]), (1, 0));
        let keys: Vec<i64> = store
            .connection
            .prepare("SELECT key FROM activity_ids ORDER BY key")
            .expect("prepare")
            .query_map([], |found| found.get(0))
            .expect("query")
            .collect::<rusqlite::Result<_>>()
            .expect("keys");
        let mut expected = vec![other, taken, super::next_key(taken)];
        expected.sort_unstable();
        assert_eq!(keys, expected);
        assert_eq!(import(&mut store, &["evt-1", "evt-other"]), (0, 2));
        assert_eq!(store.counts().expect("counts").activities, 2);
    }

    #[test]
    fn probing_walks_past_other_ids_and_wraps() {
        assert_eq!(super::next_key(7), 8);
        assert_eq!(super::next_key(i64::MAX), 0);
        let key = super::id_key(42, "evt-1");
        assert!(key >= 0);
        assert_eq!(key, super::id_key(42, "evt-1"));
        assert_ne!(key, super::id_key(43, "evt-1"));
    }
}
