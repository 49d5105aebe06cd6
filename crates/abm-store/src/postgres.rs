//! The PostgreSQL backend, for teams: the same schema in native types (BOOLEAN, DATE,
//! TIMESTAMPTZ, JSONB), the large tables partitioned by a hash of the account (migration
//! 0007), migrations serialised by an advisory lock so two processes starting at once do not
//! collide, and a set-based activity lane: each batch is `COPY`ed into a temporary staging
//! table, and at the end the first copy of each new id claims it in `activity_ids` (`ON
//! CONFLICT (id) DO NOTHING`) and moves into the log, followed by one join that finds ids
//! repeated with other content. A load that more than doubles the log is `COPY`ed straight
//! into it with its indexes dropped and builds them, and the id key, by sorting.

use crate::codec::{self, AccountRow, OpportunityRow, PersonRow};
use crate::{
    ActivityConflict, ActivityOutcome, ActivityRow, Counts, ImportFigures, ImportRecord,
    ImportTransaction, LeadOrigin, Rematched, Result, SourceLine, Store, StoreError,
    UnmatchedDomain, Written,
};
use abm_core::identity::IdentityIndex;
use abm_core::{
    Account, AccountId, Contact, ContactId, CrmId, Domain, Email, IntentSignal, Lead, Opportunity,
};
use postgres::{Client, GenericClient, NoTls, Row, Transaction};
use std::io::Write;

/// A row of the timeline queries (id, kind, occurred_at, email, url, topic, campaign, channel,
/// visitor).
fn timeline_row(row: &postgres::Row) -> Result<crate::TimelineActivity> {
    Ok(crate::TimelineActivity {
        id: row.try_get(0)?,
        kind: row.try_get(1)?,
        occurred_at: row.try_get(2)?,
        email: row.try_get(3)?,
        url: row.try_get(4)?,
        topic: row.try_get(5)?,
        campaign: row.try_get(6)?,
        channel: row.try_get(7)?,
        visitor: row.try_get(8)?,
    })
}

const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        include_str!("../migrations/postgres/0001_foundation.sql"),
    ),
    (2, include_str!("../migrations/postgres/0002_scores.sql")),
    (3, include_str!("../migrations/postgres/0003_team.sql")),
    (4, include_str!("../migrations/postgres/0004_tracking.sql")),
    (5, include_str!("../migrations/postgres/0005_plays.sql")),
    (6, include_str!("../migrations/postgres/0006_reports.sql")),
    (
        7,
        include_str!("../migrations/postgres/0007_partitions.sql"),
    ),
];

mod copy;
mod scores;

/// The advisory lock key that serialises migrations ("abm" in ASCII).
const MIGRATION_LOCK: i64 = 0x0061_626d;

/// The activity log's indexes, exactly as the partitioning migration creates them (a test
/// checks): a load that more than doubles the log drops them and builds them again by
/// sorting. The seq index stays: rows arrive in seq order, so keeping it costs little, and
/// combing out repeats deletes by seq. (SQLite keeps its own: see `sqlite.rs`.)
const ACTIVITY_INDEXES: &[(&str, &str)] = &[
    (
        "activities_account",
        "CREATE INDEX activities_account ON activities(account_id, occurred_at);",
    ),
    (
        "activities_unmatched",
        "CREATE INDEX activities_unmatched ON activities(account_key) WHERE account_id IS NULL;",
    ),
    (
        "activities_without_contact",
        "CREATE INDEX activities_without_contact ON activities(email) WHERE contact_id IS NULL AND email IS NOT NULL;",
    ),
    (
        "activities_anonymous_visitor",
        "CREATE INDEX activities_anonymous_visitor ON activities(visitor) WHERE visitor IS NOT NULL AND contact_id IS NULL;",
    ),
];

/// The log is partitioned by account, so its ids are kept unique by `activity_ids`, whose
/// key a bulk load drops and builds again by sorting, like the log's indexes.
const ACTIVITY_ID_KEY_DROP: &str = "ALTER TABLE activity_ids DROP CONSTRAINT activity_ids_pkey";
const ACTIVITY_ID_KEY_ADD: &str =
    "ALTER TABLE activity_ids ADD CONSTRAINT activity_ids_pkey PRIMARY KEY (id)";

/// Below this many expected rows an activity import always goes through the staging table.
const BULK_MINIMUM_ROWS: u64 = 50_000;

pub struct PostgresStore {
    client: Client,
    /// Where it connected, for [`Store::reopen`].
    url: String,
}

impl PostgresStore {
    /// Connects and applies pending migrations.
    pub fn open(url: &str) -> Result<Self> {
        let client = Client::connect(url, NoTls)?;
        let mut store = Self {
            client,
            url: url.to_owned(),
        };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<()> {
        let mut transaction = self.client.transaction()?;
        transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
        transaction.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        )?;
        let current: i64 = transaction
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                &[],
            )?
            .get(0);
        let known = MIGRATIONS.last().map_or(0, |(version, _)| *version);
        if current > known {
            return Err(StoreError::NewerSchema {
                found: current,
                known,
            });
        }
        for (version, sql) in MIGRATIONS.iter().filter(|(version, _)| *version > current) {
            transaction.batch_execute(sql)?;
            transaction.execute(
                "INSERT INTO schema_migrations (version) VALUES ($1)",
                &[version],
            )?;
        }
        transaction.commit()?;
        Ok(())
    }
}

const ACCOUNT_SELECT: &str = "SELECT id, crm_id, domain, name, industry, employees, revenue, country, region, technologies::text, account_type, owner, parent_crm_id, parent_domain, attributes::text FROM accounts";

fn account_row(row: &Row) -> AccountRow {
    AccountRow {
        id: row.get(0),
        crm_id: row.get(1),
        domain: row.get(2),
        name: row.get(3),
        industry: row.get(4),
        employees: row.get(5),
        revenue: row.get(6),
        country: row.get(7),
        region: row.get(8),
        technologies: row.get(9),
        account_type: row.get(10),
        owner: row.get(11),
        parent_crm_id: row.get(12),
        parent_domain: row.get(13),
        attributes: row.get(14),
    }
}

fn person_row(row: &Row) -> PersonRow {
    PersonRow {
        id: row.get(0),
        crm_id: row.get(1),
        email: row.get(2),
        first_name: row.get(3),
        last_name: row.get(4),
        title: row.get(5),
        account_id: row.get(6),
        opted_out: row.get(7),
        lawful_basis: row.get(8),
        attributes: row.get(9),
        company: row.get(10),
        website: row.get(11),
    }
}

fn load_account(
    client: &mut impl GenericClient,
    account_id: i64,
) -> Result<Option<(AccountId, Account)>> {
    let Some(row) = client.query_opt(&format!("{ACCOUNT_SELECT} WHERE id = $1"), &[&account_id])?
    else {
        return Ok(None);
    };
    let aliases: Vec<String> = client
        .query("SELECT domain FROM account_domains WHERE account_id = $1 AND NOT is_primary ORDER BY domain", &[&account_id])?
        .iter()
        .map(|row| row.get(0))
        .collect();
    account_row(&row).into_account(aliases).map(Some)
}

/// The contact or lead with this CRM id, else with this email (the CRM id wins when both
/// match). `tail` names the table and its last two columns (company and website for leads).
fn find_person(
    client: &mut impl GenericClient,
    tail: &str,
    crm_id: Option<&CrmId>,
    email: &Email,
) -> Result<Option<PersonRow>> {
    let sql = format!(
        "SELECT id, crm_id, email, first_name, last_name, title, account_id, opted_out, lawful_basis, attributes::text, {tail} \
         WHERE crm_id = $1 OR email = $2 ORDER BY (crm_id IS NOT DISTINCT FROM $1) DESC LIMIT 1"
    );
    let row = client.query_opt(&sql, &[&crm_id.map(CrmId::as_str), &email.as_str()])?;
    Ok(row.map(|row| person_row(&row)))
}

fn account_owning(client: &mut impl GenericClient, domain: &Domain) -> Result<Option<i64>> {
    Ok(client
        .query_opt(
            "SELECT account_id FROM account_domains WHERE domain = $1",
            &[&domain.as_str()],
        )?
        .map(|row| row.get(0)))
}

fn counts_of(row: &Row, width: usize) -> Vec<i64> {
    (0..width).map(|index| row.get::<_, i64>(index)).collect()
}

impl Store for PostgresStore {
    fn sql(&mut self) -> &mut dyn crate::Sql {
        &mut self.client
    }

    fn rollup_dialect(&self) -> crate::rollup::Dialect {
        crate::rollup::POSTGRES
    }

    fn scoring_accounts(&mut self) -> Result<Vec<crate::ScoringAccount>> {
        scores::accounts(&mut self.client)
    }

    fn scoring_account(&mut self, id: AccountId) -> Result<Option<crate::ScoringAccount>> {
        scores::account(&mut self.client, id)
    }

    fn reopen(&self) -> Result<Box<dyn Store + Send>> {
        Ok(Box::new(PostgresStore::open(&self.url)?))
    }

    fn activity_seq_range(&mut self) -> Result<Option<(i64, i64)>> {
        let row = self
            .client
            .query_one("SELECT MIN(seq), MAX(seq) FROM activities", &[])?;
        Ok(row
            .get::<_, Option<i64>>(0)
            .zip(row.get::<_, Option<i64>>(1)))
    }

    fn scoring_activities(
        &mut self,
        accounts: Option<&[AccountId]>,
        until: i64,
        seqs: Option<(i64, i64)>,
        visit: &mut dyn FnMut(crate::ScoringActivity<'_>),
    ) -> Result<()> {
        scores::activities(&mut self.client, accounts, until, seqs, visit)
    }

    fn scoring_intent(
        &mut self,
        accounts: Option<&[AccountId]>,
        visit: &mut dyn FnMut(AccountId, abm_core::score::facts::IntentWeek),
    ) -> Result<()> {
        scores::intent(&mut self.client, accounts, visit)
    }

    fn scoring_opportunities(
        &mut self,
        visit: &mut dyn FnMut(AccountId, abm_core::score::facts::OpportunityFact),
    ) -> Result<()> {
        scores::opportunities(&mut self.client, visit)
    }

    fn save_scores(
        &mut self,
        scored_at: i64,
        rows: &[crate::SavedScore],
    ) -> Result<crate::SaveOutcome> {
        scores::save(&mut self.client, scored_at, rows)
    }

    fn replace_history(
        &mut self,
        scored_at: i64,
        rows: &[crate::SavedScore],
        changes: &[(AccountId, crate::StageChange)],
    ) -> Result<()> {
        scores::replace_history(&mut self.client, scored_at, rows, changes)
    }

    fn stored_scores(&mut self) -> Result<Vec<crate::StoredScore>> {
        scores::stored(&mut self.client)
    }

    fn stored_score(&mut self, account: AccountId) -> Result<Option<crate::StoredScore>> {
        scores::stored_one(&mut self.client, account)
    }

    fn stage_history(&mut self, account: AccountId) -> Result<Vec<crate::StageChange>> {
        scores::history(&mut self.client, account)
    }

    fn counts(&mut self) -> Result<Counts> {
        let row = self.client.query_one(codec::COUNTS, &[])?;
        let values = counts_of(&row, 10);
        let mut array = [0i64; 10];
        array.copy_from_slice(&values);
        Ok(codec::counts(array))
    }

    fn top_unmatched_domains(&mut self, limit: u32) -> Result<Vec<UnmatchedDomain>> {
        let rows = self
            .client
            .query(codec::TOP_UNMATCHED, &[&i64::from(limit)])?;
        Ok(rows
            .iter()
            .map(|row| UnmatchedDomain {
                domain: row.get(0),
                records: row.get::<_, i64>(1).max(0) as u64,
            })
            .collect())
    }

    fn identity_index(&mut self) -> Result<IdentityIndex> {
        let mut index = IdentityIndex::default();
        for row in self
            .client
            .query("SELECT domain, account_id FROM account_domains", &[])?
        {
            if let Ok(domain) = Domain::parse(row.get(0)) {
                index.add_account_domain(domain, AccountId(row.get(1)));
            }
        }
        for row in self.client.query(
            "SELECT crm_id, id FROM accounts WHERE crm_id IS NOT NULL",
            &[],
        )? {
            if let Ok(crm_id) = CrmId::parse(row.get(0)) {
                index.add_account_crm_id(crm_id, AccountId(row.get(1)));
            }
        }
        for row in self
            .client
            .query("SELECT email, id, account_id FROM contacts", &[])?
        {
            if let Ok(email) = Email::parse(row.get(0)) {
                index.add_contact(email, ContactId(row.get(1)), AccountId(row.get(2)));
            }
        }
        Ok(index)
    }

    fn account_by_domain(&mut self, domain: &Domain) -> Result<Option<(AccountId, Account)>> {
        match account_owning(&mut self.client, domain)? {
            Some(id) => load_account(&mut self.client, id),
            None => Ok(None),
        }
    }

    fn recent_activities(
        &mut self,
        account: AccountId,
        limit: u32,
    ) -> Result<Vec<crate::TimelineActivity>> {
        let rows = self.client.query(
            "SELECT id, kind, (EXTRACT(EPOCH FROM occurred_at) * 1000000)::BIGINT, email, url, topic, campaign, channel, visitor
             FROM activities WHERE account_id = $1 ORDER BY occurred_at DESC, seq DESC LIMIT $2",
            &[&account.0, &i64::from(limit)],
        )?;
        rows.iter().map(timeline_row).collect()
    }

    fn activities_between(
        &mut self,
        account: AccountId,
        from: i64,
        until: i64,
    ) -> Result<Vec<crate::TimelineActivity>> {
        let rows = self.client.query(
            "SELECT id, kind, (EXTRACT(EPOCH FROM occurred_at) * 1000000)::BIGINT, email, url, topic, campaign, channel, visitor
             FROM activities
             WHERE account_id = $1 AND occurred_at >= TIMESTAMPTZ 'epoch' + $2::BIGINT * INTERVAL '1 microsecond'
               AND occurred_at < TIMESTAMPTZ 'epoch' + $3::BIGINT * INTERVAL '1 microsecond'
             ORDER BY occurred_at, seq",
            &[&account.0, &from, &until],
        )?;
        rows.iter().map(timeline_row).collect()
    }

    fn activity_count_for(&mut self, account: AccountId) -> Result<u64> {
        let count: i64 = self
            .client
            .query_one(
                "SELECT COUNT(*) FROM activities WHERE account_id = $1",
                &[&account.0],
            )?
            .get(0);
        Ok(count.max(0) as u64)
    }

    fn parent_of(&mut self, account: AccountId) -> Result<Option<AccountId>> {
        let row = self.client.query_opt(
            "SELECT parent_id FROM accounts WHERE id = $1",
            &[&account.0],
        )?;
        Ok(row
            .and_then(|row| row.get::<_, Option<i64>>(0))
            .map(AccountId))
    }

    fn begin_import(&mut self, record: &ImportRecord) -> Result<Box<dyn ImportTransaction + '_>> {
        let mut transaction = self.client.transaction()?;
        // An import's statements are many and short, or large and index-bound: compiling
        // them (JIT) costs more than it saves, and a stale estimate can trigger it per batch.
        transaction.batch_execute("SET LOCAL jit = off")?;
        let import_id: i64 = transaction
            .query_one(
                "INSERT INTO imports (kind, files, started_at) VALUES ($1, $2, $3) RETURNING id",
                &[&record.kind, &record.files.join("\n"), &record.started_at],
            )?
            .get(0);
        Ok(Box::new(PostgresImport {
            transaction: Some(transaction),
            import_id,
            staged: false,
            direct: None,
            direct_unfinished: false,
        }))
    }
}

/// One import's transaction. `transaction` is `None` only after commit; dropping it
/// uncommitted rolls back.
struct PostgresImport<'a> {
    transaction: Option<Transaction<'a>>,
    import_id: i64,
    staged: bool,
    /// A bulk load: rows `COPY`ed straight into the log with its indexes dropped.
    direct: Option<DirectLoad>,
    /// A direct load began and its indexes are not built yet: committing would keep the log
    /// without them.
    direct_unfinished: bool,
}

/// A bulk load in progress. Its rows are numbered here: the locks the load took keep every
/// other writer of the log waiting, so the sequence is the load's alone until it ends.
struct DirectLoad {
    /// How many rows were `COPY`ed.
    appended: u64,
    /// The last `seq` before the load.
    base: i64,
    /// The `seq` of the next row.
    next_seq: i64,
}

impl<'a> PostgresImport<'a> {
    fn tx(&mut self) -> Result<&mut Transaction<'a>> {
        self.transaction.as_mut().ok_or_else(|| {
            StoreError::Corrupt("the import transaction is already committed".into())
        })
    }

    fn write_domains(&mut self, id: i64, account: &Account) -> Result<()> {
        let transaction = self.tx()?;
        transaction.execute("DELETE FROM account_domains WHERE account_id = $1", &[&id])?;
        let insert = transaction.prepare(
            "INSERT INTO account_domains (domain, account_id, is_primary) VALUES ($1, $2, $3)",
        )?;
        for domain in account.domains() {
            transaction.execute(
                &insert,
                &[&domain.as_str(), &id, &(*domain == account.domain)],
            )?;
        }
        Ok(())
    }

    fn unmatched_counts(&mut self) -> Result<[i64; 5]> {
        let row = self.tx()?.query_one(codec::UNMATCHED_COUNTS, &[])?;
        let values = counts_of(&row, 5);
        let mut array = [0i64; 5];
        array.copy_from_slice(&values);
        Ok(array)
    }
}

fn source_line(file: Option<i32>, line: Option<i64>) -> Option<SourceLine> {
    file.zip(line).map(|(file, line)| SourceLine {
        file: file.max(0) as u32,
        line: line.max(0) as u64,
    })
}

/// Staged rows whose id is stored with other content: conflicts within this import, or
/// activities an earlier import stored first (kept as stored).
///
/// The stored copy is looked up by seq one differing row at a time (LATERAL … LIMIT 1): there
/// are seldom any, and a join lets the planner, which does not know that seq is unique in the
/// partitioned log, merge the whole log's seq index instead.
fn classify_differing(
    transaction: &mut Transaction<'_>,
    import_id: i64,
    outcome: &mut ActivityOutcome,
) -> Result<()> {
    let differing = transaction.query(
        "SELECT s.id, s.source_file, s.source_line, a.import_id, a.source_file, a.source_line \
         FROM activity_staging s JOIN activity_ids i ON i.id = s.id \
         CROSS JOIN LATERAL (SELECT import_id, source_file, source_line FROM activities a WHERE a.seq = i.seq LIMIT 1) a \
         WHERE i.fingerprint <> s.fingerprint ORDER BY s.source_file, s.source_line",
        &[],
    )?;
    for row in &differing {
        if row.get::<_, Option<i64>>(3) == Some(import_id) {
            let Some(second) = source_line(row.get(1), row.get(2)) else {
                continue;
            };
            outcome.conflicts.push(ActivityConflict {
                id: row.get(0),
                first: source_line(row.get(4), row.get(5)),
                second,
            });
        } else {
            outcome.kept_existing += 1;
        }
    }
    Ok(())
}

/// Into a log at least half the size of the load: the first copy of each new id (in file
/// order) claims its id in `activity_ids` and goes into the log, maintaining the indexes as
/// it goes. A concurrent writer of the same id waits for this transaction and skips it.
fn load_incrementally(
    transaction: &mut Transaction<'_>,
    import_id: i64,
) -> Result<ActivityOutcome> {
    // A re-import is mostly rows already stored with the same content: drop them from the
    // staging table with one hash join first, so the insert only meets what is new.
    transaction.batch_execute("SET LOCAL work_mem = '256MB'")?;
    transaction.execute(
        "DELETE FROM activity_staging s USING activity_ids i WHERE i.id = s.id AND i.fingerprint = s.fingerprint",
        &[],
    )?;
    let inserted = transaction.execute(
        "WITH first AS (SELECT DISTINCT ON (id) * FROM activity_staging ORDER BY id, source_file, source_line), \
         fresh AS (INSERT INTO activity_ids (id, seq, fingerprint) \
             SELECT id, nextval('activity_seq'), fingerprint \
             FROM (SELECT id, fingerprint FROM first ORDER BY source_file, source_line) in_file_order \
             ON CONFLICT (id) DO NOTHING RETURNING id, seq) \
         INSERT INTO activities (seq, id, kind, occurred_at, account_id, contact_id, email, account_key, url, topic, campaign, channel, fingerprint, import_id, source_file, source_line, visitor) \
         SELECT fresh.seq, f.id, f.kind, f.occurred_at, f.account_id, f.contact_id, f.email, f.account_key, f.url, f.topic, f.campaign, f.channel, f.fingerprint, $1, f.source_file, f.source_line, f.visitor \
         FROM first f JOIN fresh ON fresh.id = f.id ORDER BY fresh.seq",
        &[&import_id],
    )?;
    let mut outcome = ActivityOutcome {
        inserted,
        ..ActivityOutcome::default()
    };
    classify_differing(transaction, import_id, &mut outcome)?;
    Ok(outcome)
}

/// Drops the log's indexes and the id key for a bulk load, and returns the load's first
/// `seq`: every row the load writes is numbered from it. Taken after the drops, which wait for
/// every other writer of the log and keep new ones waiting until the load commits.
fn drop_indexes_for_bulk_load(transaction: &mut Transaction<'_>) -> Result<i64> {
    transaction.batch_execute("SET LOCAL maintenance_work_mem = '512MB'")?;
    for (name, _) in ACTIVITY_INDEXES {
        transaction.batch_execute(&format!("DROP INDEX {name}"))?;
    }
    transaction.batch_execute(ACTIVITY_ID_KEY_DROP)?;
    Ok(transaction
        .query_one("SELECT nextval('activity_seq')", &[])?
        .get(0))
}

/// Into a smaller log (a first load): repeated ids are found by set operations first, then
/// the indexes are dropped, the new rows appended, and the indexes built again by sorting,
/// which is several times faster than maintaining a unique index row by row.
fn load_rebuilding_indexes(
    transaction: &mut Transaction<'_>,
    import_id: i64,
) -> Result<ActivityOutcome> {
    let mut outcome = ActivityOutcome::default();
    // Ids already stored: the staged copies are unchanged or kept as stored.
    classify_differing(transaction, import_id, &mut outcome)?;
    let base = drop_indexes_for_bulk_load(transaction)? - 1;
    let appended = transaction.execute(
        "INSERT INTO activities (id, kind, occurred_at, account_id, contact_id, email, account_key, url, topic, campaign, channel, fingerprint, import_id, source_file, source_line, visitor) \
         SELECT id, kind, occurred_at, account_id, contact_id, email, account_key, url, topic, campaign, channel, fingerprint, $1::bigint, source_file, source_line, visitor \
         FROM activity_staging s WHERE NOT EXISTS (SELECT 1 FROM activity_ids i WHERE i.id = s.id) ORDER BY source_file, source_line",
        &[&import_id],
    )?;
    // Unchanged rows are counted by the caller from what was staged.
    let mut repeats = ActivityOutcome::default();
    let removed = index_bulk_load(transaction, import_id, base, false, &mut repeats)?;
    outcome.conflicts.extend(repeats.conflicts);
    outcome.kept_existing += repeats.kept_existing;
    outcome.inserted = appended.saturating_sub(removed);
    Ok(outcome)
}

/// After an append (rows above `base`) that kept every copy of repeated ids: keeps the first
/// copy of each id (stored earlier, or first in file order) and classifies and deletes the
/// later ones, which are all this import's: same content is unchanged; other content is a
/// conflict naming both lines when the first copy is this import's too, and is kept as stored
/// when it is older. Returns how many rows were deleted.
fn remove_repeats(
    transaction: &mut Transaction<'_>,
    import_id: i64,
    base: i64,
    outcome: &mut ActivityOutcome,
) -> Result<u64> {
    let repeated = transaction.query(
        "WITH load AS (SELECT id FROM activities WHERE seq > $1), \
         repeated AS (SELECT id FROM load GROUP BY id HAVING COUNT(*) > 1 \
                      UNION SELECT l.id FROM load l JOIN activity_ids i ON i.id = l.id) \
         SELECT seq, id, source_file, source_line, fingerprint, import_id FROM activities \
         WHERE id IN (SELECT id FROM repeated) ORDER BY id, seq",
        &[&base],
    )?;
    type Kept = (String, Option<SourceLine>, i64, Option<i64>);
    let mut kept: Option<Kept> = None;
    let mut later = Vec::new();
    for row in &repeated {
        let (seq, id, line, fingerprint, from): (
            i64,
            String,
            Option<SourceLine>,
            i64,
            Option<i64>,
        ) = (
            row.get(0),
            row.get(1),
            source_line(row.get(2), row.get(3)),
            row.get(4),
            row.get(5),
        );
        match &kept {
            Some((kept_id, kept_line, kept_fingerprint, kept_from)) if *kept_id == id => {
                if *kept_fingerprint == fingerprint {
                    outcome.unchanged += 1;
                } else if *kept_from == Some(import_id) {
                    if let Some(second) = line {
                        outcome.conflicts.push(ActivityConflict {
                            id,
                            first: *kept_line,
                            second,
                        });
                    }
                } else {
                    outcome.kept_existing += 1;
                }
                later.push(seq);
            }
            _ => kept = Some((id, line, fingerprint, from)),
        }
    }
    let removed = transaction.execute(
        "DELETE FROM activities a USING unnest($1::bigint[]) AS later(seq) WHERE a.seq = later.seq",
        &[&later],
    )?;
    Ok(removed)
}

/// Claims the ids of a bulk load's rows (those above `base`) in `activity_ids`, unless the
/// load `claimed` them as it wrote, and builds its key (optimistic: a clean load needs only
/// this sort; a repeated id makes it fail, and the repeats are removed before claiming again),
/// then the log's indexes. Returns the rows removed as repeats.
fn index_bulk_load(
    transaction: &mut Transaction<'_>,
    import_id: i64,
    base: i64,
    claimed: bool,
    outcome: &mut ActivityOutcome,
) -> Result<u64> {
    let claim = "INSERT INTO activity_ids (id, seq, fingerprint) SELECT id, seq, fingerprint FROM activities WHERE seq > $1";
    let started = std::time::Instant::now();
    transaction.batch_execute("SAVEPOINT activity_ids")?;
    if !claimed {
        transaction.execute(claim, &[&base])?;
        tracing::debug!(elapsed = ?started.elapsed(), "activity ids claimed");
    }
    let mut removed = 0;
    if let Err(error) = transaction.batch_execute(ACTIVITY_ID_KEY_ADD) {
        if error.code() != Some(&postgres::error::SqlState::UNIQUE_VIOLATION) {
            return Err(error.into());
        }
        transaction.batch_execute("ROLLBACK TO SAVEPOINT activity_ids")?;
        // Claims the load wrote as it went include the repeats: they go, and the rows that
        // stay claim their ids again.
        transaction.execute("DELETE FROM activity_ids WHERE seq > $1", &[&base])?;
        removed = remove_repeats(transaction, import_id, base, outcome)?;
        transaction.execute(claim, &[&base])?;
        transaction.batch_execute(ACTIVITY_ID_KEY_ADD)?;
    }
    transaction.batch_execute("RELEASE SAVEPOINT activity_ids")?;
    tracing::debug!(elapsed = ?started.elapsed(), removed, "activity ids unique");
    for (name, create) in ACTIVITY_INDEXES {
        transaction.batch_execute(create)?;
        tracing::debug!(elapsed = ?started.elapsed(), index = name, "built");
    }
    Ok(removed)
}

/// Sends one binary `COPY` stream.
fn copy_in(transaction: &mut Transaction<'_>, statement: &str, stream: &[u8]) -> Result<()> {
    let mut writer = transaction.copy_in(statement)?;
    writer
        .write_all(stream)
        .map_err(|error| StoreError::Corrupt(format!("COPY to PostgreSQL failed: {error}")))?;
    writer.finish()?;
    Ok(())
}

fn account_values(account: &Account) -> (Option<&str>, Option<i64>, String, String) {
    (
        account.crm_id.as_ref().map(CrmId::as_str),
        account.employees.map(|count| count as i64),
        codec::encode_list(&account.technologies),
        codec::encode_map(&account.attributes),
    )
}

impl ImportTransaction for PostgresImport<'_> {
    fn sql(&mut self) -> Result<Box<dyn crate::Sql + '_>> {
        Ok(Box::new(self.tx()?))
    }

    fn find_account(
        &mut self,
        crm_id: Option<&CrmId>,
        domain: &Domain,
    ) -> Result<Option<(AccountId, Account)>> {
        let transaction = self.tx()?;
        if let Some(crm_id) = crm_id
            && let Some(row) = transaction.query_opt(
                "SELECT id FROM accounts WHERE crm_id = $1",
                &[&crm_id.as_str()],
            )?
        {
            return load_account(transaction, row.get(0));
        }
        match account_owning(transaction, domain)? {
            Some(id) => load_account(transaction, id),
            None => Ok(None),
        }
    }

    fn account_owning(&mut self, domain: &Domain) -> Result<Option<AccountId>> {
        Ok(account_owning(self.tx()?, domain)?.map(AccountId))
    }

    fn insert_account(&mut self, account: &Account) -> Result<AccountId> {
        let (crm_id, employees, technologies, attributes) = account_values(account);
        let id: i64 = self
            .tx()?
            .query_one(
                "INSERT INTO accounts (crm_id, domain, name, industry, employees, revenue, country, region, technologies, account_type, owner, parent_crm_id, parent_domain, attributes) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::jsonb, $10, $11, $12, $13, $14::text::jsonb) RETURNING id",
                &[
                    &crm_id, &account.domain.as_str(), &account.name, &account.industry, &employees, &account.revenue,
                    &account.country, &account.region, &technologies, &account.account_type.map(|kind| kind.as_str()),
                    &account.owner, &account.parent_crm_id.as_ref().map(CrmId::as_str),
                    &account.parent_domain.as_ref().map(Domain::as_str), &attributes,
                ],
            )?
            .get(0);
        self.write_domains(id, account)?;
        Ok(AccountId(id))
    }

    fn update_account(&mut self, id: AccountId, account: &Account) -> Result<()> {
        let (crm_id, employees, technologies, attributes) = account_values(account);
        self.tx()?.execute(
            "UPDATE accounts SET crm_id = $1, domain = $2, name = $3, industry = $4, employees = $5, revenue = $6, country = $7, region = $8, technologies = $9::text::jsonb, account_type = $10, owner = $11, parent_crm_id = $12, parent_domain = $13, attributes = $14::text::jsonb WHERE id = $15",
            &[
                &crm_id, &account.domain.as_str(), &account.name, &account.industry, &employees, &account.revenue,
                &account.country, &account.region, &technologies, &account.account_type.map(|kind| kind.as_str()),
                &account.owner, &account.parent_crm_id.as_ref().map(CrmId::as_str),
                &account.parent_domain.as_ref().map(Domain::as_str), &attributes, &id.0,
            ],
        )?;
        self.write_domains(id.0, account)
    }

    fn find_contact(
        &mut self,
        crm_id: Option<&CrmId>,
        email: &Email,
    ) -> Result<Option<(ContactId, Contact)>> {
        find_person(
            self.tx()?,
            "NULL::text, NULL::text FROM contacts",
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
        let crm_id = contact.crm_id.as_ref().map(CrmId::as_str);
        let basis = contact.consent.lawful_basis.map(|basis| basis.as_str());
        let attributes = codec::encode_map(&contact.attributes);
        let transaction = self.tx()?;
        match existing {
            Some(id) => {
                transaction.execute(
                    "UPDATE contacts SET crm_id = $1, email = $2, first_name = $3, last_name = $4, title = $5, account_id = $6, opted_out = $7, lawful_basis = $8, attributes = $9::text::jsonb WHERE id = $10",
                    &[&crm_id, &contact.email.as_str(), &contact.first_name, &contact.last_name, &contact.title, &contact.account_id.0, &contact.consent.opted_out, &basis, &attributes, &id.0],
                )?;
                Ok(id)
            }
            None => {
                let id: i64 = transaction
                    .query_one(
                        "INSERT INTO contacts (crm_id, email, first_name, last_name, title, account_id, opted_out, lawful_basis, attributes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::jsonb) RETURNING id",
                        &[&crm_id, &contact.email.as_str(), &contact.first_name, &contact.last_name, &contact.title, &contact.account_id.0, &contact.consent.opted_out, &basis, &attributes],
                    )?
                    .get(0);
                Ok(ContactId(id))
            }
        }
    }

    fn find_lead(&mut self, crm_id: Option<&CrmId>, email: &Email) -> Result<Option<(i64, Lead)>> {
        find_person(self.tx()?, "company, website FROM leads", crm_id, email)?
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
        let crm_id = lead.crm_id.as_ref().map(CrmId::as_str);
        let website = lead.website.as_ref().map(Domain::as_str);
        let account = account.map(|id| id.0);
        let key = account_key.map(Domain::as_str);
        let basis = lead.consent.lawful_basis.map(|basis| basis.as_str());
        let attributes = codec::encode_map(&lead.attributes);
        let values: [&(dyn postgres::types::ToSql + Sync); 13] = [
            &crm_id,
            &lead.email.as_str(),
            &lead.first_name,
            &lead.last_name,
            &lead.title,
            &lead.company,
            &website,
            &origin.as_str(),
            &account,
            &key,
            &lead.consent.opted_out,
            &basis,
            &attributes,
        ];
        let transaction = self.tx()?;
        match existing {
            Some(id) => {
                let mut with_id = values.to_vec();
                with_id.push(&id);
                transaction.execute(
                    "UPDATE leads SET crm_id = $1, email = $2, first_name = $3, last_name = $4, title = $5, company = $6, website = $7, origin = $8, account_id = $9, account_key = $10, opted_out = $11, lawful_basis = $12, attributes = $13::text::jsonb WHERE id = $14",
                    &with_id,
                )?
            }
            None => transaction.execute(
                "INSERT INTO leads (crm_id, email, first_name, last_name, title, company, website, origin, account_id, account_key, opted_out, lawful_basis, attributes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::text::jsonb)",
                &values,
            )?,
        };
        Ok(())
    }

    fn find_opportunity(&mut self, crm_id: &CrmId) -> Result<Option<Opportunity>> {
        let row = self.tx()?.query_opt(
            &format!(
                "SELECT {} FROM opportunities WHERE crm_id = $1",
                codec::OPPORTUNITY_COLUMNS
            ),
            &[&crm_id.as_str()],
        )?;
        row.map(|row| {
            OpportunityRow {
                crm_id: row.get(0),
                account_crm_id: row.get(1),
                account_domain: row.get(2),
                name: row.get(3),
                amount: row.get(4),
                stage: row.get(5),
                created_on: row.get(6),
                close_date: row.get(7),
                closed: row.get(8),
                won: row.get(9),
            }
            .into_opportunity()
        })
        .transpose()
    }

    fn write_opportunity(
        &mut self,
        exists: bool,
        opportunity: &Opportunity,
        account: Option<AccountId>,
    ) -> Result<()> {
        let sql = if exists {
            "UPDATE opportunities SET account_id = $2, account_crm_id = $3, account_domain = $4, name = $5, amount = $6, stage = $7, created_on = $8, close_date = $9, closed = $10, won = $11 WHERE crm_id = $1"
        } else {
            "INSERT INTO opportunities (crm_id, account_id, account_crm_id, account_domain, name, amount, stage, created_on, close_date, closed, won) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        };
        self.tx()?.execute(
            sql,
            &[
                &opportunity.crm_id.as_str(),
                &account.map(|id| id.0),
                &opportunity.account_crm_id.as_ref().map(CrmId::as_str),
                &opportunity.account_domain.as_ref().map(Domain::as_str),
                &opportunity.name,
                &opportunity.amount,
                &opportunity.stage,
                &opportunity.created_on,
                &opportunity.close_date,
                &opportunity.closed,
                &opportunity.won,
            ],
        )?;
        Ok(())
    }

    fn write_intent(
        &mut self,
        signal: &IntentSignal,
        account: Option<AccountId>,
    ) -> Result<Written> {
        let score = i16::from(signal.score.value());
        let transaction = self.tx()?;
        // By its key without the account: the signal is found whichever partition holds it.
        let key: [&(dyn postgres::types::ToSql + Sync); 4] = [
            &signal.domain.as_str(),
            &signal.topic.as_str(),
            &signal.date,
            &signal.source,
        ];
        let existing = transaction.query_opt(
            "SELECT score FROM intent_signals WHERE domain = $1 AND topic = $2 AND date = $3 AND source = $4",
            &key,
        )?;
        match existing.map(|row| row.get::<_, i16>(0)) {
            Some(stored) if stored == score => Ok(Written::Unchanged),
            Some(_) => {
                transaction.execute(
                    "UPDATE intent_signals SET score = $5, company_name = COALESCE($6, company_name) \
                     WHERE domain = $1 AND topic = $2 AND date = $3 AND source = $4",
                    &[key[0], key[1], key[2], key[3], &score, &signal.company_name],
                )?;
                Ok(Written::Updated)
            }
            None => {
                transaction.execute(
                    "INSERT INTO intent_signals (account_id, domain, topic, date, score, source, company_name) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    &[&account.map(|id| id.0), &signal.domain.as_str(), &signal.topic.as_str(), &signal.date, &score, &signal.source, &signal.company_name],
                )?;
                Ok(Written::Inserted)
            }
        }
    }

    fn begin_activities(&mut self, expected_rows: u64) -> Result<()> {
        let transaction = self.tx()?;
        let stored: i64 = transaction
            .query_one("SELECT COALESCE(MAX(seq), 0) FROM activities", &[])?
            .get(0);
        if expected_rows >= BULK_MINIMUM_ROWS && expected_rows > 2 * stored.max(0) as u64 {
            // A first load: straight into the log without its indexes, built again by sorting
            // at the end. The rows are written once, in file order, with no staging table.
            let next_seq = drop_indexes_for_bulk_load(transaction)?;
            self.direct = Some(DirectLoad {
                appended: 0,
                base: next_seq - 1,
                next_seq,
            });
            self.direct_unfinished = true;
        }
        tracing::debug!(
            expected_rows,
            stored,
            direct = self.direct.is_some(),
            "activity lane"
        );
        Ok(())
    }

    fn write_activities(&mut self, batch: &[ActivityRow]) -> Result<ActivityOutcome> {
        let import_id = self.import_id;
        // A direct load numbers its rows and claims their ids as it goes (the key on the
        // claims is built at the end); a staged one leaves both to `finish_activities`.
        let first_seq = self.direct.as_ref().map(|direct| direct.next_seq);
        if let Some(direct) = &mut self.direct {
            direct.appended += batch.len() as u64;
            direct.next_seq += batch.len() as i64;
        } else if !self.staged {
            self.tx()?.batch_execute(
                "CREATE TEMP TABLE activity_staging (id TEXT COLLATE \"C\", kind TEXT, occurred_at TIMESTAMPTZ, account_id BIGINT, contact_id BIGINT, \
                 email TEXT, account_key TEXT, url TEXT, topic TEXT, campaign TEXT, channel TEXT, fingerprint BIGINT, \
                 source_file INTEGER, source_line BIGINT, visitor TEXT) ON COMMIT DROP",
            )?;
            self.staged = true;
        }
        let mut rows = copy::BinaryRows::with_capacity(batch.len() * 200);
        let mut ids = first_seq.map(|_| copy::BinaryRows::with_capacity(batch.len() * 48));
        for (offset, row) in batch.iter().enumerate() {
            let activity = &row.activity;
            let seq = first_seq.map(|first| first + offset as i64);
            rows.row(if seq.is_some() { 17 } else { 15 });
            if seq.is_some() {
                rows.int8(seq);
                rows.int8(Some(import_id));
            }
            rows.text(Some(activity.id.as_str()))?;
            rows.text(Some(activity.kind.as_str()))?;
            rows.timestamptz(activity.occurred_at.as_microsecond());
            rows.int8(row.account.map(|id| id.0));
            rows.int8(row.contact.map(|id| id.0));
            rows.text(activity.email.as_ref().map(Email::as_str))?;
            rows.text(row.account_key.as_ref().map(Domain::as_str))?;
            rows.text(activity.url.as_deref())?;
            rows.text(activity.topic.as_deref())?;
            rows.text(activity.campaign.as_deref())?;
            rows.text(activity.channel.as_deref())?;
            rows.int8(Some(row.fingerprint));
            rows.int4(i32::try_from(row.source.file).unwrap_or(i32::MAX));
            rows.int8(Some(i64::try_from(row.source.line).unwrap_or(i64::MAX)));
            rows.text(row.visitor.as_deref())?;
            if let Some(ids) = &mut ids {
                ids.row(3);
                ids.text(Some(activity.id.as_str()))?;
                ids.int8(seq);
                ids.int8(Some(row.fingerprint));
            }
        }
        let columns = "id, kind, occurred_at, account_id, contact_id, email, account_key, url, topic, campaign, channel, fingerprint, source_file, source_line, visitor";
        let into = if first_seq.is_some() {
            format!("COPY activities (seq, import_id, {columns}) FROM STDIN (FORMAT binary)")
        } else {
            format!("COPY activity_staging ({columns}) FROM STDIN (FORMAT binary)")
        };
        let transaction = self.tx()?;
        copy_in(transaction, &into, &rows.finish())?;
        if let Some(ids) = ids {
            copy_in(
                transaction,
                "COPY activity_ids (id, seq, fingerprint) FROM STDIN (FORMAT binary)",
                &ids.finish(),
            )?;
        }
        Ok(ActivityOutcome::default())
    }

    fn finish_activities(&mut self) -> Result<ActivityOutcome> {
        if let Some(direct) = self.direct.take() {
            let DirectLoad {
                appended,
                base,
                next_seq,
            } = direct;
            let import_id = self.import_id;
            let started = std::time::Instant::now();
            let mut outcome = ActivityOutcome::default();
            let transaction = self.tx()?;
            transaction.execute("SELECT setval('activity_seq', $1, false)", &[&next_seq])?;
            let removed = index_bulk_load(transaction, import_id, base, true, &mut outcome)?;
            outcome.inserted = appended.saturating_sub(removed);
            tracing::debug!(elapsed = ?started.elapsed(), appended, removed, "activities indexed after a direct load");
            self.direct_unfinished = false;
            return Ok(outcome);
        }
        if !self.staged {
            return Ok(ActivityOutcome::default());
        }
        let import_id = self.import_id;
        let transaction = self.tx()?;
        let started = std::time::Instant::now();
        // A fresh staging table has no statistics; without them the planner may nest loops.
        transaction.batch_execute("ANALYZE activity_staging")?;
        let staged: i64 = transaction
            .query_one("SELECT COUNT(*) FROM activity_staging", &[])?
            .get(0);
        let stored: i64 = transaction
            .query_one("SELECT COALESCE(MAX(seq), 0) FROM activities", &[])?
            .get(0);
        let rebuild = staged >= BULK_MINIMUM_ROWS as i64 && staged > 2 * stored;
        let mut outcome = if rebuild {
            load_rebuilding_indexes(transaction, import_id)?
        } else {
            load_incrementally(transaction, import_id)?
        };
        let accounted = outcome.inserted + outcome.kept_existing + outcome.conflicts.len() as u64;
        outcome.unchanged = (staged.max(0) as u64).saturating_sub(accounted);
        transaction.batch_execute("DROP TABLE activity_staging")?;
        tracing::debug!(elapsed = ?started.elapsed(), staged, stored, rebuild, inserted = outcome.inserted, "activities loaded from staging");
        self.staged = false;
        Ok(outcome)
    }

    fn link_parents(&mut self) -> Result<()> {
        self.tx()?.execute(codec::LINK_PARENTS, &[])?;
        Ok(())
    }

    fn rematch(&mut self) -> Result<Rematched> {
        let before = self.unmatched_counts()?;
        let transaction = self.tx()?;
        for sql in codec::REMATCH_LEADS.iter().chain(codec::PROMOTE_LEADS) {
            transaction.execute(*sql, &[])?;
        }
        crate::rollup::mark_rematch(&mut *ImportTransaction::sql(self)?)?;
        let transaction = self.tx()?;
        for sql in codec::REMATCH_OTHERS {
            transaction.execute(*sql, &[])?;
        }
        let after = self.unmatched_counts()?;
        Ok(codec::rematched(before, after))
    }

    fn commit(mut self: Box<Self>, figures: &ImportFigures) -> Result<()> {
        if self.direct_unfinished {
            // The log's indexes are dropped until `finish_activities` builds them again.
            return Err(StoreError::Unfinished);
        }
        let import_id = self.import_id;
        let Some(mut transaction) = self.transaction.take() else {
            return Err(StoreError::Corrupt(
                "the import transaction is already committed".into(),
            ));
        };
        transaction.execute(
            "UPDATE imports SET rows_read = $1, inserted = $2, updated = $3, unchanged = $4, unmatched = $5 WHERE id = $6",
            &[
                &(figures.rows_read as i64), &(figures.inserted as i64), &(figures.updated as i64),
                &(figures.unchanged as i64), &(figures.unmatched as i64), &import_id,
            ],
        )?;
        transaction.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_rebuilt_indexes_are_the_migrations() {
        let migration = include_str!("../migrations/postgres/0007_partitions.sql");
        for (name, create) in super::ACTIVITY_INDEXES {
            assert!(
                migration.contains(create),
                "{name} differs from the migration"
            );
        }
        assert_eq!(
            migration.matches("ON activities(").count(),
            super::ACTIVITY_INDEXES.len() + 1
        );
        assert!(migration.contains("CREATE INDEX activities_seq ON activities(seq);"));
        assert!(migration.contains("CONSTRAINT activity_ids_pkey PRIMARY KEY (id)"));
    }
}
