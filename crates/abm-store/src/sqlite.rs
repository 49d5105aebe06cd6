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

const MIGRATIONS: &[(i64, &str)] = &[(1, include_str!("../migrations/sqlite/0001_foundation.sql"))];

/// Below this many expected rows the incremental lane is always used. Above it, the bulk lane
/// is taken when the import is expected to more than double the table (row estimates from
/// file sizes are rough, and a re-import of the same file must stay incremental).
const BULK_MINIMUM_ROWS: u64 = 50_000;

const INSERT_ACTIVITY: &str = "INSERT INTO activities (id, kind, occurred_at, account_id, contact_id, email, account_key, url, topic, campaign, channel, fingerprint, import_id, source_file, source_line) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";

pub struct SqliteStore {
    connection: Connection,
}

impl SqliteStore {
    /// Opens or creates the database file and applies pending migrations.
    pub fn open(path: &str) -> Result<Self> {
        let connection = Connection::open(path)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        connection.pragma_update(None, "busy_timeout", 10_000)?;
        // 256 MiB of page cache keeps the activity id index hot during large imports while
        // staying well under the 1 GiB memory budget.
        connection.pragma_update(None, "cache_size", -262_144)?;
        // Index builds after a bulk load sort more than fits in memory: let the sorter spill to
        // temporary files (temp_store FILE) and use a second thread.
        connection.pragma_update(None, "temp_store", "FILE")?;
        connection.pragma_update(None, "threads", 2)?;
        let mut store = Self { connection };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<()> {
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
            transaction.execute(
                "INSERT INTO schema_migrations (version) VALUES (?1)",
                [version],
            )?;
        }
        transaction.commit()?;
        Ok(())
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
            "SELECT COUNT(*) FROM activities WHERE account_id = ?1",
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
        // The pragma is a no-op inside a transaction, so it is decided here, by kind.
        let activities = record.kind == "activities";
        if activities {
            self.connection.pragma_update(None, "foreign_keys", "OFF")?;
        }
        if let Err(error) = self.connection.execute_batch("BEGIN IMMEDIATE") {
            let _ = self.connection.pragma_update(None, "foreign_keys", "ON");
            return Err(error.into());
        }
        let inserted = self.connection.execute(
            "INSERT INTO imports (kind, files, started_at) VALUES (?1, ?2, ?3)",
            params![
                record.kind,
                record.files.join("\n"),
                record.started_at.as_microsecond()
            ],
        );
        if let Err(error) = inserted {
            let _ = self.connection.execute_batch("ROLLBACK");
            let _ = self.connection.pragma_update(None, "foreign_keys", "ON");
            return Err(error.into());
        }
        let import_id = self.connection.last_insert_rowid();
        Ok(Box::new(SqliteImport {
            connection: &mut self.connection,
            import_id,
            open: true,
            lane: None,
            foreign_keys_off: activities,
        }))
    }
}

struct SqliteImport<'a> {
    connection: &'a mut Connection,
    import_id: i64,
    open: bool,
    lane: Option<Lane>,
    foreign_keys_off: bool,
}

/// How this import writes activities.
#[derive(Debug, Clone, Copy)]
enum Lane {
    Incremental,
    /// Indexes dropped; rows with `seq > first_seq_before` are this import's.
    Bulk {
        seq_before: i64,
        appended: u64,
    },
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
    }
}

/// What the store holds of an activity id: fingerprint, import id, source file and line.
type StoredCopy = (i64, Option<i64>, Option<u32>, Option<i64>);

/// An activity seen again: what the incremental and bulk lanes both need to classify it.
struct ProbeRow {
    id: abm_core::ActivityId,
    fingerprint: i64,
    source: SourceLine,
}

fn classify_repeat(
    outcome: &mut ActivityOutcome,
    import_id: i64,
    row: &ActivityRow,
    fingerprint: i64,
    stored_import: Option<i64>,
    stored_line: Option<(u32, i64)>,
) {
    let probe = ProbeRow {
        id: row.activity.id.clone(),
        fingerprint: row.fingerprint,
        source: row.source,
    };
    classify(
        outcome,
        import_id,
        &probe,
        fingerprint,
        stored_import,
        stored_line,
    );
}

/// The same id again: same content is unchanged; other content from this import is a
/// conflict naming both lines; other content from an earlier import keeps the stored copy.
fn classify(
    outcome: &mut ActivityOutcome,
    import_id: i64,
    row: &ProbeRow,
    stored_fingerprint: i64,
    stored_import: Option<i64>,
    stored_line: Option<(u32, i64)>,
) {
    if stored_fingerprint == row.fingerprint {
        outcome.unchanged += 1;
    } else if stored_import == Some(import_id) {
        outcome.conflicts.push(ActivityConflict {
            id: row.id.as_str().to_owned(),
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

    /// Removes the later copies of every id stored more than once after a bulk append,
    /// classifying each like the incremental lane would; returns how many were removed.
    fn remove_bulk_duplicates(
        &self,
        seq_before: i64,
        outcome: &mut ActivityOutcome,
    ) -> Result<u64> {
        let mut groups = self.connection.prepare(
            "SELECT seq, id, fingerprint, import_id, source_file, source_line FROM activities \
             WHERE id IN (SELECT id FROM activities GROUP BY id HAVING COUNT(*) > 1) ORDER BY id, seq",
        )?;
        type Stored = (i64, String, i64, Option<i64>, Option<u32>, Option<i64>);
        let rows = groups
            .query_map([], |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<Stored>>>()?;
        // Within each id the lowest seq is the one kept (stored earlier, or first in file
        // order); every later copy is this import's.
        let mut remove = Vec::new();
        let mut kept: Option<&Stored> = None;
        for entry in &rows {
            match kept {
                Some(first) if first.1 == entry.1 => {
                    let (seq, id, fingerprint, _, file, line) = entry;
                    if *seq <= seq_before {
                        return Err(StoreError::Corrupt(format!(
                            "activity id {id:?} is stored twice"
                        )));
                    }
                    let activity_id = abm_core::ActivityId::parse(id)
                        .map_err(|_| StoreError::Corrupt(format!("activity id {id:?}")))?;
                    let source = SourceLine {
                        file: file.unwrap_or(0),
                        line: line.unwrap_or(0).max(0) as u64,
                    };
                    let probe = ProbeRow {
                        id: activity_id,
                        fingerprint: *fingerprint,
                        source,
                    };
                    classify(
                        outcome,
                        self.import_id,
                        &probe,
                        first.2,
                        first.3,
                        first.4.zip(first.5),
                    );
                    remove.push(*seq);
                }
                _ => kept = Some(entry),
            }
        }
        let mut delete = self
            .connection
            .prepare_cached("DELETE FROM activities WHERE seq = ?1")?;
        for seq in &remove {
            delete.execute([seq])?;
        }
        Ok(remove.len() as u64)
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
        let stored: i64 = self.connection.query_row(
            "SELECT COALESCE(MAX(seq), 0) FROM activities",
            [],
            |row| row.get(0),
        )?;
        let lane = if expected_rows >= BULK_MINIMUM_ROWS && expected_rows > 2 * stored.max(0) as u64
        {
            for (name, _) in codec::ACTIVITY_INDEXES {
                self.connection
                    .execute_batch(&format!("DROP INDEX {name}"))?;
            }
            Lane::Bulk {
                seq_before: stored,
                appended: 0,
            }
        } else {
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
        let mut outcome = ActivityOutcome::default();
        let mut insert = self.connection.prepare_cached(INSERT_ACTIVITY)?;
        let bulk = matches!(self.lane, Some(Lane::Bulk { .. }));
        let mut existing = self.connection.prepare_cached(
            "SELECT fingerprint, import_id, source_file, source_line FROM activities WHERE id = ?1",
        )?;
        for row in batch {
            let activity = &row.activity;
            if !bulk {
                // Probe first: a re-import then costs one index read per row and no write.
                let found: Option<StoredCopy> = existing
                    .query_row([activity.id.as_str()], |found| {
                        Ok((found.get(0)?, found.get(1)?, found.get(2)?, found.get(3)?))
                    })
                    .optional()?;
                if let Some((fingerprint, import_id, file, line)) = found {
                    classify_repeat(
                        &mut outcome,
                        self.import_id,
                        row,
                        fingerprint,
                        import_id,
                        file.zip(line),
                    );
                    continue;
                }
            }
            insert.execute(params![
                activity.id.as_str(),
                activity.kind.as_str(),
                activity.occurred_at.as_microsecond(),
                row.account.map(|id| id.0),
                row.contact.map(|id| id.0),
                activity.email.as_ref().map(Email::as_str),
                row.account_key.as_ref().map(Domain::as_str),
                activity.url,
                activity.topic,
                activity.campaign,
                activity.channel,
                row.fingerprint,
                self.import_id,
                row.source.file,
                row.source.line as i64,
            ])?;
            if !bulk {
                outcome.inserted += 1;
            }
        }
        if let Some(Lane::Bulk { appended, .. }) = &mut self.lane {
            *appended += batch.len() as u64;
        }
        Ok(outcome)
    }

    fn finish_activities(&mut self) -> Result<ActivityOutcome> {
        let Some(Lane::Bulk {
            seq_before,
            appended,
        }) = self.lane.take()
        else {
            return Ok(ActivityOutcome::default());
        };
        let started = std::time::Instant::now();
        // Optimistic: building the unique id index is the one sort a clean load needs. Only
        // when it finds a repeated id is the load combed for duplicates, and built again.
        let (unique_id_name, unique_id_index) = codec::ACTIVITY_INDEXES[0];
        self.connection.execute_batch("SAVEPOINT activity_ids")?;
        let mut outcome = ActivityOutcome::default();
        let mut removed = 0;
        match self.connection.execute_batch(unique_id_index) {
            Ok(()) => self.connection.execute_batch("RELEASE activity_ids")?,
            Err(error)
                if error.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) =>
            {
                self.connection
                    .execute_batch("ROLLBACK TO activity_ids; RELEASE activity_ids")?;
                removed = self.remove_bulk_duplicates(seq_before, &mut outcome)?;
                self.connection.execute_batch(unique_id_index)?;
            }
            Err(error) => return Err(error.into()),
        }
        tracing::debug!(elapsed = ?started.elapsed(), duplicates = removed, index = unique_id_name, "bulk lane: ids unique");
        // The bulk lane counts its insertions here: what was appended and not removed.
        outcome.inserted = appended.saturating_sub(removed);
        for (name, create) in &codec::ACTIVITY_INDEXES[1..] {
            self.connection.execute_batch(create)?;
            tracing::debug!(elapsed = ?started.elapsed(), index = name, "bulk lane: index rebuilt");
        }
        Ok(outcome)
    }

    fn link_parents(&mut self) -> Result<()> {
        self.connection.execute(codec::LINK_PARENTS, [])?;
        Ok(())
    }

    fn rematch(&mut self) -> Result<Rematched> {
        let before = self.unmatched_counts()?;
        for sql in codec::REMATCH_LEADS
            .iter()
            .chain(codec::PROMOTE_LEADS)
            .chain(codec::REMATCH_OTHERS)
        {
            self.connection.execute(sql, [])?;
        }
        let after = self.unmatched_counts()?;
        Ok(codec::rematched(before, after))
    }

    fn commit(mut self: Box<Self>, figures: &ImportFigures) -> Result<()> {
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
    #[test]
    fn the_rebuilt_indexes_are_the_migrations() {
        let migration = include_str!("../migrations/sqlite/0001_foundation.sql");
        for (name, create) in crate::codec::ACTIVITY_INDEXES {
            assert!(
                migration.contains(create),
                "{name} differs from the migration"
            );
        }
        assert_eq!(
            migration.matches("ON activities(").count(),
            crate::codec::ACTIVITY_INDEXES.len()
        );
    }
}
