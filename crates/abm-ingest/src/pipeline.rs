//! The import pipeline: open and check every file, map its columns, then stream rows through
//! parse → resolve → write inside one store transaction; commit only when no row of any file
//! had a problem. Activities, the one kind that reaches millions of rows, are read on one
//! thread, parsed and resolved on two more, and written in batches in file order, so every
//! core works and memory stays flat.

use crate::columns::{self, ColumnMap, ColumnOverride};
use crate::problem::{Problem, Problems};
use crate::reader::{CsvFile, Row, RowError};
use crate::rows::{self, Fields, PersonRecord};
use crate::source::Source;
use crate::{Format, ImportKind};
use abm_core::identity::{FreeMailDomains, Resolver};
use abm_core::{Account, AccountId, Activity, Contact, Lead};
use abm_store::{
    ActivityOutcome, ActivityRow, ImportFigures, ImportRecord, ImportTransaction, LeadOrigin,
    Rematched, SourceLine, Store, StoreError, Written,
};
use csv::ByteRecord;
use std::collections::HashMap;
use std::sync::mpsc;

/// Rows per batch handed from the reader to the parsers and on to the writer.
const ACTIVITY_BATCH: usize = 8192;

/// What to import and how.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub kind: ImportKind,
    /// Files, or texts in memory, all imported in one transaction.
    pub files: Vec<Source>,
    /// `None` detects each file's format from its headers.
    pub format: Option<Format>,
    pub overrides: Vec<ColumnOverride>,
    /// Validate, resolve and count everything, then roll back.
    pub dry_run: bool,
    pub free_mail: FreeMailDomains,
    pub started_at: jiff::Timestamp,
    /// What makes a change a trigger event; `None` records none (a dry run, a first look).
    pub watch: Option<Watch>,
}

/// The settings trigger detection reads during an account or contact import.
#[derive(Debug, Clone, Default)]
pub struct Watch {
    /// Technologies of competitors (`[fit.competitors]`): dropping one is a displacement window.
    pub competitors: Vec<String>,
    pub triggers: abm_core::trigger::TriggerConfig,
    pub personas: abm_core::persona::PersonaConfig,
}

/// Told how far the import has read, in bytes over all files.
pub trait Progress: Sync {
    fn start(&self, total_bytes: u64);
    fn advance(&self, position: u64);
    fn finish(&self);
}

/// For callers that show no progress.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _total_bytes: u64) {}
    fn advance(&self, _position: u64) {}
    fn finish(&self) {}
}

/// How one file was read.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileReport {
    pub file: String,
    pub format: Format,
    /// `(header, field)` for every recognised column.
    pub columns: Vec<(String, String)>,
    /// Columns kept as attributes (accounts, contacts, leads) or ignored (other kinds).
    pub other_columns: Vec<String>,
    pub rows: u64,
}

/// The summary of an import that went through (or would have, on a dry run).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImportReport {
    pub kind: ImportKind,
    pub dry_run: bool,
    pub files: Vec<FileReport>,
    pub rows_read: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Rows kept but not (yet) tied to an account.
    pub unmatched: u64,
    /// Activities already stored with other content by an earlier import (kept as stored).
    pub kept_existing: u64,
    /// Share of this import's rows tied to an account; `None` when there were no rows.
    pub match_rate: Option<f64>,
    /// Records from earlier imports matched thanks to this one.
    pub rematched: Rematched,
    /// The accounts whose scores the import may have changed: `None` means every account
    /// (CRM records change what fit learns from the customers), an empty list none.
    #[serde(skip)]
    pub touched_accounts: Option<Vec<AccountId>>,
}

/// Why an import changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{} problem(s) in the input; nothing was imported", .0.total)]
    Problems(Problems),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

struct Counter {
    figures: ImportFigures,
    kept_existing: u64,
    /// Accounts an import changed: (id, stored before, written), for trigger detection.
    changed_accounts: Vec<(AccountId, Account, Account)>,
    /// Contacts new to the database, with their account.
    new_contacts: Vec<(AccountId, Contact)>,
}

impl Counter {
    fn count(&mut self, written: Written, matched: bool) {
        match written {
            Written::Inserted => self.figures.inserted += 1,
            Written::Updated => self.figures.updated += 1,
            Written::Unchanged => self.figures.unchanged += 1,
        }
        if !matched {
            self.figures.unmatched += 1;
        }
    }
}

struct OpenFile {
    file: CsvFile,
    map: ColumnMap,
    format: Format,
    offset: u64,
}

/// Runs an import. On success the data is committed (unless `dry_run`); on any problem
/// nothing is changed and the problems are returned.
pub fn import(
    store: &mut dyn Store,
    options: &ImportOptions,
    progress: &dyn Progress,
) -> Result<ImportReport, ImportError> {
    let _span = tracing::info_span!(
        "import",
        kind = options.kind.as_str(),
        files = options.files.len()
    )
    .entered();
    let mut problems = Problems::default();
    let mut files = Vec::new();
    let mut offset = 0;
    for source in &options.files {
        let file = match CsvFile::open(source) {
            Ok(file) => file,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        match columns::map_columns(options.kind, &file.headers, &options.overrides) {
            Ok(map) => {
                let format = options
                    .format
                    .unwrap_or_else(|| columns::detect_format(options.kind, &file.headers));
                let size = file.size;
                files.push(OpenFile {
                    file,
                    map,
                    format,
                    offset,
                });
                offset += size;
            }
            Err(messages) => problems.extend(
                messages
                    .into_iter()
                    .map(|message| Problem::at(&file.name, 1, message)),
            ),
        }
    }
    if !problems.is_empty() {
        return Err(ImportError::Problems(problems));
    }
    progress.start(offset);
    let index = store.identity_index()?;
    let record = ImportRecord {
        kind: options.kind.as_str().to_owned(),
        files: options.files.iter().map(Source::name).collect(),
        started_at: options.started_at,
        expected_rows: if options.kind == ImportKind::Activities {
            expected_activity_rows(&files)
        } else {
            0
        },
    };
    let mut transaction = store.begin_import(&record)?;
    let resolver = Resolver::new(&index, &options.free_mail);
    let mut counter = Counter {
        figures: ImportFigures::default(),
        kept_existing: 0,
        changed_accounts: Vec::new(),
        new_contacts: Vec::new(),
    };
    let mut reports: Vec<FileReport> = files
        .iter()
        .map(|open| FileReport {
            file: open.file.name.clone(),
            format: open.format,
            columns: open.map.describe(),
            other_columns: open
                .map
                .extra
                .iter()
                .map(|(_, header)| header.clone())
                .collect(),
            rows: 0,
        })
        .collect();
    let names: Vec<String> = files.iter().map(|open| open.file.name.clone()).collect();
    let (rows_per_file, touched_accounts) = if options.kind == ImportKind::Activities {
        let (rows, touched) = import_activities(
            transaction.as_mut(),
            files,
            resolver,
            &names,
            progress,
            &mut counter,
            &mut problems,
        )?;
        (rows, Some(touched))
    } else {
        let rows = import_records(
            transaction.as_mut(),
            files,
            options.kind,
            resolver,
            progress,
            &mut counter,
            &mut problems,
        )?;
        (rows, None)
    };
    progress.finish();
    for (report, rows) in reports.iter_mut().zip(rows_per_file) {
        report.rows = rows;
    }
    if !problems.is_empty() {
        // Dropping the transaction rolls back whatever was written before the first problem.
        return Err(ImportError::Problems(problems));
    }
    if options.kind == ImportKind::Accounts {
        transaction.link_parents()?;
    }
    let finishing = std::time::Instant::now();
    // An activity import adds no account, contact or domain, so nothing stored earlier can
    // become matched by it: re-resolution is for the other kinds.
    let rematched = if options.kind == ImportKind::Activities {
        Rematched::default()
    } else {
        transaction.rematch()?
    };
    tracing::debug!(elapsed = ?finishing.elapsed(), "rematched");
    if let Some(watch) = &options.watch
        && !options.dry_run
    {
        let at = options.started_at.as_microsecond();
        record_triggers(transaction.as_mut(), watch, &counter, at)?;
    }
    let figures = counter.figures.clone();
    if options.dry_run {
        drop(transaction);
    } else {
        transaction.commit(&figures)?;
    }
    tracing::debug!(elapsed = ?finishing.elapsed(), "committed");
    let written = figures.inserted + figures.updated + figures.unchanged + counter.kept_existing;
    tracing::info!(
        rows = figures.rows_read,
        inserted = figures.inserted,
        updated = figures.updated,
        unchanged = figures.unchanged,
        unmatched = figures.unmatched,
        "import finished"
    );
    Ok(ImportReport {
        kind: options.kind,
        dry_run: options.dry_run,
        files: reports,
        rows_read: figures.rows_read,
        inserted: figures.inserted,
        updated: figures.updated,
        unchanged: figures.unchanged,
        unmatched: figures.unmatched,
        kept_existing: counter.kept_existing,
        match_rate: (written > 0)
            .then(|| (written - figures.unmatched.min(written)) as f64 / written as f64),
        rematched,
        touched_accounts: if options.dry_run {
            Some(Vec::new())
        } else {
            touched_accounts
        },
    })
}

/// Keeps the line and content of each key seen in this import, to tell a harmless repeated
/// row from the same id with different content.
#[derive(Default)]
struct SeenKeys {
    lines: HashMap<String, (u64, u64)>,
}

impl SeenKeys {
    /// `Ok(true)` if the key is new, `Ok(false)` if seen with the same content, `Err(line)` if
    /// seen with other content at `line`.
    fn check(&mut self, key: String, line: u64, content: u64) -> Result<bool, u64> {
        match self.lines.get(&key) {
            None => {
                self.lines.insert(key, (line, content));
                Ok(true)
            }
            Some((_, seen)) if *seen == content => Ok(false),
            Some((first, _)) => Err(*first),
        }
    }
}

/// What a row says, as one number: two rows with the same key and the same values are one
/// record repeated, not a conflict. Only compared within one import, so `std`'s hasher will do.
fn row_content(row: &Row<'_>, width: usize) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for index in 0..width {
        row.get(index).hash(&mut hasher);
    }
    hasher.finish()
}

enum Parsed {
    Account(Account),
    Person(PersonRecord),
    Opportunity(abm_core::Opportunity),
    Intent(abm_core::IntentSignal),
}

fn parse_row(kind: ImportKind, fields: Fields<'_>, format: Format) -> Result<Parsed, Vec<Problem>> {
    match kind {
        ImportKind::Accounts => rows::account(fields).map(Parsed::Account),
        ImportKind::Contacts => rows::person(fields, "account_domain").map(Parsed::Person),
        ImportKind::Leads => rows::person(fields, "website").map(Parsed::Person),
        ImportKind::Opportunities => rows::opportunity(fields).map(Parsed::Opportunity),
        ImportKind::Intent => rows::intent(fields, format).map(Parsed::Intent),
        ImportKind::Activities => Err(Vec::new()),
    }
}

/// The key that identifies a record within one import, and a second key that must not be
/// shared by two different records (an account's domain, a person's email).
fn keys(parsed: &Parsed) -> (String, Option<String>) {
    match parsed {
        Parsed::Account(account) => (
            account.crm_id.as_ref().map_or_else(
                || format!("domain:{}", account.domain),
                |id| format!("crm:{id}"),
            ),
            Some(account.domain.to_string()),
        ),
        Parsed::Person(person) => (
            person.crm_id.as_ref().map_or_else(
                || format!("email:{}", person.email),
                |id| format!("crm:{id}"),
            ),
            Some(person.email.to_string()),
        ),
        Parsed::Opportunity(opportunity) => (opportunity.crm_id.to_string(), None),
        Parsed::Intent(signal) => (
            format!(
                "{}\t{}\t{}\t{}",
                signal.domain, signal.topic, signal.date, signal.source
            ),
            None,
        ),
    }
}

fn import_records(
    transaction: &mut dyn ImportTransaction,
    files: Vec<OpenFile>,
    kind: ImportKind,
    resolver: Resolver<'_>,
    progress: &dyn Progress,
    counter: &mut Counter,
    problems: &mut Problems,
) -> Result<Vec<u64>, ImportError> {
    let mut seen = SeenKeys::default();
    let mut seen_secondary: HashMap<String, (u64, String)> = HashMap::new();
    let mut rows_per_file = Vec::new();
    let mut record = ByteRecord::new();
    for OpenFile {
        mut file,
        map,
        format,
        offset,
    } in files
    {
        let mut rows_in_file = 0;
        let name = file.name.clone();
        loop {
            let row = match file.next_row(&mut record) {
                Ok(Some(row)) => row,
                Ok(None) => break,
                Err(RowError::Row(problem)) => {
                    counter.figures.rows_read += 1;
                    problems.push(problem);
                    continue;
                }
                Err(RowError::Fatal(problem)) => {
                    problems.push(problem);
                    break;
                }
            };
            counter.figures.rows_read += 1;
            rows_in_file += 1;
            let line = row.line;
            let parsed = match parse_row(kind, Fields::new(&name, &row, &map), format) {
                Ok(parsed) => parsed,
                Err(row_problems) => {
                    problems.extend(row_problems);
                    continue;
                }
            };
            let (key, secondary) = keys(&parsed);
            let display_key = key
                .split_once(':')
                .map_or(key.as_str(), |(_, rest)| rest)
                .replace('\t', " / ");
            match seen.check(key.clone(), line, row_content(&row, map.headers.len())) {
                Ok(true) => {}
                Ok(false) => {
                    counter.figures.unchanged += 1;
                    continue;
                }
                Err(first) => {
                    problems.push(Problem::at(&name, line, format!("{display_key} appears twice with different content: lines {first} and {line}; keep one")));
                    continue;
                }
            }
            if let Some(secondary) = secondary {
                if let Some((first, first_key)) = seen_secondary.get(&secondary)
                    && *first_key != key
                {
                    problems.push(Problem::at(
                        &name,
                        line,
                        format!(
                            "{secondary} is used by two different records: lines {first} and {line}"
                        ),
                    ));
                    continue;
                }
                seen_secondary.insert(secondary, (line, key));
            }
            if problems.is_empty() {
                match apply(transaction, parsed, kind, resolver, counter) {
                    Ok(()) => {}
                    Err(Applied::Problem(message)) => {
                        problems.push(Problem::at(&name, line, message))
                    }
                    Err(Applied::Store(error)) => return Err(error.into()),
                }
            }
            if rows_in_file % 4096 == 0 {
                progress.advance(offset + file.bytes_read());
            }
        }
        rows_per_file.push(rows_in_file);
    }
    Ok(rows_per_file)
}

enum Applied {
    Problem(String),
    Store(StoreError),
}

impl From<StoreError> for Applied {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

fn apply(
    transaction: &mut dyn ImportTransaction,
    parsed: Parsed,
    kind: ImportKind,
    resolver: Resolver<'_>,
    counter: &mut Counter,
) -> Result<(), Applied> {
    match parsed {
        Parsed::Account(account) => apply_account(transaction, account, resolver, counter),
        Parsed::Person(person) if kind == ImportKind::Contacts => {
            apply_contact(transaction, person, resolver, counter)
        }
        Parsed::Person(person) => {
            apply_lead(transaction, person, resolver, counter, LeadOrigin::Lead)
        }
        Parsed::Opportunity(opportunity) => {
            let resolution = resolver.resolve_account_ref(
                opportunity.account_crm_id.as_ref(),
                opportunity.account_domain.as_ref(),
            );
            let stored = transaction.find_opportunity(&opportunity.crm_id)?;
            let written = match &stored {
                Some(stored) => {
                    let merged = opportunity.merged_over(stored);
                    if merged == *stored {
                        Written::Unchanged
                    } else {
                        transaction.write_opportunity(true, &merged, resolution.account)?;
                        Written::Updated
                    }
                }
                None => {
                    transaction.write_opportunity(false, &opportunity, resolution.account)?;
                    Written::Inserted
                }
            };
            counter.count(written, resolution.is_matched());
            Ok(())
        }
        Parsed::Intent(signal) => {
            let resolution = resolver.resolve(None, Some(&signal.domain));
            let written = transaction.write_intent(&signal, resolution.account)?;
            counter.count(written, resolution.is_matched());
            Ok(())
        }
    }
}

fn apply_account(
    transaction: &mut dyn ImportTransaction,
    account: Account,
    resolver: Resolver<'_>,
    counter: &mut Counter,
) -> Result<(), Applied> {
    for domain in account.domains() {
        if resolver.free_mail.contains(domain) {
            return Err(Applied::Problem(format!(
                "{domain} is a free-mail or disposable-mail domain: it identifies no company, so no account can have it"
            )));
        }
    }
    let stored = transaction.find_account(account.crm_id.as_ref(), &account.domain)?;
    let stored_id = stored.as_ref().map(|(id, _)| *id);
    if let Some((_, existing)) = &stored
        && let (Some(stored_crm), Some(incoming_crm)) = (&existing.crm_id, &account.crm_id)
        && stored_crm != incoming_crm
    {
        return Err(Applied::Problem(format!(
            "{} already belongs to the account with CRM id {stored_crm}, not {incoming_crm}: two CRM accounts share a domain; merge them in the CRM or give this one its own domain",
            account.domain
        )));
    }
    for domain in account.domains() {
        if let Some(owner) = transaction.account_owning(domain)?
            && Some(owner) != stored_id
        {
            return Err(Applied::Problem(format!(
                "{domain} already belongs to another account (id {})",
                owner.0
            )));
        }
    }
    let written = match stored {
        Some((id, existing)) => {
            let merged = account.merged_over(&existing);
            if merged == existing {
                Written::Unchanged
            } else {
                transaction.update_account(id, &merged)?;
                counter
                    .changed_accounts
                    .push((id, existing.clone(), merged));
                Written::Updated
            }
        }
        None => {
            transaction.insert_account(&account)?;
            Written::Inserted
        }
    };
    counter.count(written, true);
    Ok(())
}

fn apply_contact(
    transaction: &mut dyn ImportTransaction,
    person: PersonRecord,
    resolver: Resolver<'_>,
    counter: &mut Counter,
) -> Result<(), Applied> {
    // The CRM's own link wins; then the account domain the row gives; then the email.
    let by_reference =
        resolver.resolve_account_ref(person.account_crm_id.as_ref(), person.domain.as_ref());
    let account = by_reference
        .account
        .or_else(|| resolver.resolve(Some(&person.email), None).account);
    let Some(account_id) = account else {
        return apply_lead(transaction, person, resolver, counter, LeadOrigin::Contact);
    };
    let contact = Contact {
        crm_id: person.crm_id,
        email: person.email,
        first_name: person.first_name,
        last_name: person.last_name,
        title: person.title,
        account_id,
        consent: person.consent,
        attributes: person.attributes,
    };
    let stored = transaction.find_contact(contact.crm_id.as_ref(), &contact.email)?;
    let written = match stored {
        Some((id, existing)) => {
            let merged = contact.merged_over(&existing);
            if merged == existing {
                Written::Unchanged
            } else {
                transaction.write_contact(Some(id), &merged)?;
                Written::Updated
            }
        }
        None => {
            transaction.write_contact(None, &contact)?;
            counter.new_contacts.push((account_id, contact));
            Written::Inserted
        }
    };
    counter.count(written, true);
    Ok(())
}

fn apply_lead(
    transaction: &mut dyn ImportTransaction,
    person: PersonRecord,
    resolver: Resolver<'_>,
    counter: &mut Counter,
    origin: LeadOrigin,
) -> Result<(), Applied> {
    let resolution = resolver.resolve(Some(&person.email), person.domain.as_ref());
    let key = resolver.account_key(Some(&person.email), person.domain.as_ref());
    let lead = Lead {
        crm_id: person.crm_id,
        email: person.email,
        first_name: person.first_name,
        last_name: person.last_name,
        title: person.title,
        company: person.company,
        website: person.domain,
        consent: person.consent,
        attributes: person.attributes,
    };
    let stored = transaction.find_lead(lead.crm_id.as_ref(), &lead.email)?;
    let written = match stored {
        Some((id, existing)) => {
            let merged = lead.merged_over(&existing);
            if merged == existing {
                Written::Unchanged
            } else {
                transaction.write_lead(
                    Some(id),
                    &merged,
                    origin,
                    resolution.account,
                    key.as_ref(),
                )?;
                Written::Updated
            }
        }
        None => {
            transaction.write_lead(None, &lead, origin, resolution.account, key.as_ref())?;
            Written::Inserted
        }
    };
    counter.count(written, resolution.is_matched());
    Ok(())
}

/// Threads that check, parse and resolve activity rows while the caller writes.
const ACTIVITY_WORKERS: usize = 2;

/// Records read by the reader thread: parsed by any worker, written in `number` order, then
/// sent back to the reader so their buffers are reused.
struct RawBatch {
    number: u64,
    file: usize,
    records: Vec<ByteRecord>,
    lines: Vec<u64>,
    /// A problem that stopped reading the file after these records.
    fatal: Option<Problem>,
}

/// One batch after parsing: its rows in file order and the problems of its lines.
struct ParsedBatch {
    number: u64,
    file: usize,
    rows: Vec<ActivityRow>,
    problems: Vec<Problem>,
    rows_read: u64,
    rows_ok: u64,
    unmatched: u64,
    /// Rows a reader found stored already, same id and content, and took out of `rows`.
    unchanged: u64,
    /// Parsing this batch failed unexpectedly (a bug, not a problem in the data).
    failed: bool,
}

/// Account ids an activity import resolved rows to; the keys are abm's own numbers.
type TouchedAccounts = std::collections::HashSet<i64, foldhash::fast::FixedState>;

/// Activities, the one kind that reaches millions of rows: one thread reads CSV records, two
/// workers check, parse and resolve them, and the caller's thread writes the batches to the
/// store in file order (so problems are listed by line and the stored order is the file's).
fn import_activities(
    transaction: &mut dyn ImportTransaction,
    files: Vec<OpenFile>,
    resolver: Resolver<'_>,
    names: &[String],
    progress: &dyn Progress,
    counter: &mut Counter,
    problems: &mut Problems,
) -> Result<(Vec<u64>, Vec<AccountId>), ImportError> {
    let mut outcome = ActivityOutcome::default();
    transaction.begin_activities(expected_activity_rows(&files))?;
    // A large re-import's unchanged rows are found by the workers, on both cores; the writer
    // then only writes what is new.
    let mut readers = transaction.stored_id_readers(ACTIVITY_WORKERS)?.into_iter();
    let shapes: Vec<(crate::reader::FileShape, ColumnMap)> = files
        .iter()
        .map(|open| (open.file.shape(), open.map.clone()))
        .collect();
    let mut rows_per_file = vec![0u64; files.len()];
    let mut store_error = None;
    let mut failed_file = None;
    let mut rows_read = 0;
    let mut unmatched = 0;
    let mut touched = TouchedAccounts::default();
    std::thread::scope(|scope| -> Result<(), ImportError> {
        // Created inside the scope: on an early return every channel end is dropped, so no
        // thread already started waits forever.
        let (to_workers, from_reader) = mpsc::sync_channel::<RawBatch>(2 * ACTIVITY_WORKERS);
        let (to_writer, from_workers) = mpsc::sync_channel::<ParsedBatch>(2 * ACTIVITY_WORKERS);
        let (recycle, recycled) = mpsc::channel::<RawBatch>();
        let from_reader = std::sync::Arc::new(std::sync::Mutex::new(from_reader));
        let spawn_error = |error: std::io::Error| {
            ImportError::Internal(format!("cannot start a thread: {error}"))
        };
        let mut workers = Vec::with_capacity(ACTIVITY_WORKERS);
        for worker in 0..ACTIVITY_WORKERS {
            let to_writer = to_writer.clone();
            let recycle = recycle.clone();
            let from_reader = std::sync::Arc::clone(&from_reader);
            let (shapes, resolver) = (&shapes, &resolver);
            let mut reader = readers.next();
            let spawned = std::thread::Builder::new()
                .name(format!("abm-parse-{worker}"))
                .spawn_scoped(scope, move || {
                    // The accounts this worker's rows resolved to, each once: gathered here,
                    // not by the writer, the thread every other waits for. One insert a row:
                    // a fast hasher (std's SipHash made this 4% of a worker's time).
                    let mut touched = TouchedAccounts::default();
                    loop {
                        let next = match from_reader.lock() {
                            Ok(receiver) => receiver.recv(),
                            Err(_) => return touched,
                        };
                        let Ok(batch) = next else { return touched };
                        let mut parsed = parse_guarded(&batch, |batch| {
                            parse_activities(batch, shapes, resolver)
                        });
                        touched.extend(
                            parsed
                                .rows
                                .iter()
                                .filter_map(|row| row.account.map(|account| account.0)),
                        );
                        if let Some(reader) = &mut reader
                            && parsed.problems.is_empty()
                        {
                            drop_stored(&mut parsed, reader.as_mut());
                        }
                        // The reader may be done already; a batch it does not take back is dropped.
                        let _ = recycle.send(batch);
                        if to_writer.send(parsed).is_err() {
                            return touched;
                        }
                    }
                })
                .map_err(spawn_error)?;
            workers.push(spawned);
        }
        // Written batches are freed on another thread: millions of small strings would
        // otherwise cost the writer, the one thread every other waits for.
        let (discard, discarded) = mpsc::sync_channel::<Vec<ActivityRow>>(2);
        std::thread::Builder::new()
            .name("abm-free".into())
            .spawn_scoped(scope, move || discarded.into_iter().for_each(drop))
            .map_err(spawn_error)?;
        // The reader starts last: if a worker could not start, nothing is read.
        std::thread::Builder::new()
            .name("abm-read".into())
            .spawn_scoped(scope, move || {
                read_activities(files, progress, &to_workers, &recycled)
            })
            .map_err(spawn_error)?;
        drop((to_writer, recycle));
        // Workers finish out of order; batches are written strictly in the order read.
        let mut waiting = std::collections::BTreeMap::new();
        let mut next = 0;
        for parsed in from_workers {
            waiting.insert(parsed.number, parsed);
            while let Some(batch) = waiting.remove(&next) {
                next += 1;
                if batch.failed && failed_file.is_none() {
                    failed_file = Some(batch.file);
                }
                rows_read += batch.rows_read;
                outcome.unchanged += batch.unchanged;
                unmatched += batch.unmatched;
                if let Some(rows) = rows_per_file.get_mut(batch.file) {
                    *rows += batch.rows_ok;
                }
                problems.extend(batch.problems);
                if problems.is_empty() && store_error.is_none() && failed_file.is_none() {
                    match transaction.write_activities(&batch.rows) {
                        Ok(batch_outcome) => outcome.absorb(batch_outcome),
                        Err(error) => store_error = Some(error),
                    }
                }
                let _ = discard.send(batch.rows);
            }
        }
        drop(discard);
        for worker in workers {
            let worker_touched = worker.join().map_err(|_| {
                ImportError::Internal("a thread parsing activities stopped unexpectedly".into())
            })?;
            touched.extend(worker_touched);
        }
        Ok(())
    })?;
    if let Some(error) = store_error {
        return Err(error.into());
    }
    if let Some(file) = failed_file {
        return Err(ImportError::Internal(format!(
            "parsing {} failed unexpectedly; nothing was imported",
            names.get(file).map_or("a file", String::as_str)
        )));
    }
    counter.figures.rows_read += rows_read;
    counter.figures.unmatched += unmatched;
    if problems.is_empty() {
        outcome.absorb(transaction.finish_activities()?);
    }
    // Listed by line whatever order the store found them in (key order, id order…).
    outcome
        .conflicts
        .sort_by(|a, b| (a.second, &a.id).cmp(&(b.second, &b.id)));
    for conflict in &outcome.conflicts {
        let name = |line: &SourceLine| names.get(line.file as usize).cloned().unwrap_or_default();
        let first = conflict.first.map_or_else(String::new, |first| {
            format!(" (first at {}:{})", name(&first), first.line)
        });
        problems.push(Problem::at(
            &name(&conflict.second),
            conflict.second.line,
            format!("activity id {:?} appears twice with different content{first}; an id names exactly one activity", conflict.id),
        ));
    }
    counter.figures.inserted += outcome.inserted;
    counter.figures.unchanged += outcome.unchanged;
    counter.kept_existing += outcome.kept_existing;
    // Nothing new: nothing to rescore (a re-import must not cost a rescore of everyone).
    let touched = if outcome.inserted == 0 {
        Vec::new()
    } else {
        let mut touched: Vec<i64> = touched.into_iter().collect();
        touched.sort_unstable();
        touched.into_iter().map(AccountId).collect()
    };
    Ok((rows_per_file, touched))
}

/// The rows the files hold, estimated from each file's first lines; the store only needs
/// the scale (a bulk load or not), but it must not take a re-import for a first load.
fn expected_activity_rows(files: &[OpenFile]) -> u64 {
    files.iter().map(|open| open.file.estimated_rows).sum()
}

/// The reader thread: cuts every file into batches of records, reusing returned buffers.
fn read_activities(
    files: Vec<OpenFile>,
    progress: &dyn Progress,
    to_workers: &mpsc::SyncSender<RawBatch>,
    recycled: &mpsc::Receiver<RawBatch>,
) {
    let mut number = 0;
    for (file_index, mut open) in files.into_iter().enumerate() {
        let mut finished = false;
        while !finished {
            let mut batch = recycled.try_recv().unwrap_or_else(|_| RawBatch {
                number: 0,
                file: 0,
                records: Vec::new(),
                lines: Vec::new(),
                fatal: None,
            });
            batch.number = number;
            batch.file = file_index;
            batch.lines.clear();
            batch.fatal = None;
            while batch.lines.len() < ACTIVITY_BATCH {
                let slot = batch.lines.len();
                if batch.records.len() == slot {
                    batch.records.push(ByteRecord::new());
                }
                match open.file.next_record(&mut batch.records[slot]) {
                    Ok(Some(line)) => batch.lines.push(line),
                    Ok(None) => {
                        finished = true;
                        break;
                    }
                    Err(problem) => {
                        batch.fatal = Some(problem);
                        finished = true;
                        break;
                    }
                }
            }
            number += 1;
            if to_workers.send(batch).is_err() {
                return;
            }
            progress.advance(open.offset + open.file.bytes_read());
        }
    }
}

/// Takes out of a parsed batch the rows the store holds already with the same content,
/// counting them unchanged, as the writer would have.
fn drop_stored(parsed: &mut ParsedBatch, reader: &mut dyn abm_store::StoredIds) {
    let stored = reader.stored_unchanged(&parsed.rows);
    let mut flags = stored.iter();
    let before = parsed.rows.len();
    parsed
        .rows
        .retain(|_| !flags.next().copied().unwrap_or(false));
    parsed.unchanged += (before - parsed.rows.len()) as u64;
}

impl ParsedBatch {
    /// Nothing parsed yet: `batch`'s records all read, none checked.
    fn of(batch: &RawBatch) -> Self {
        Self {
            number: batch.number,
            file: batch.file,
            rows: Vec::new(),
            problems: Vec::new(),
            rows_read: batch.lines.len() as u64,
            rows_ok: 0,
            unmatched: 0,
            unchanged: 0,
            failed: false,
        }
    }
}

/// `parse` applied to `batch`. A panic in it (a bug) fails this batch, in its turn: the
/// import then ends with an error and nothing written, instead of every later batch piling
/// up behind the one that never came.
fn parse_guarded(batch: &RawBatch, parse: impl FnOnce(&RawBatch) -> ParsedBatch) -> ParsedBatch {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse(batch))).unwrap_or_else(|_| {
        ParsedBatch {
            failed: true,
            ..ParsedBatch::of(batch)
        }
    })
}

/// A worker's step: check, parse and resolve one batch of records.
fn parse_activities(
    batch: &RawBatch,
    shapes: &[(crate::reader::FileShape, ColumnMap)],
    resolver: &Resolver<'_>,
) -> ParsedBatch {
    let mut parsed = ParsedBatch::of(batch);
    let Some((shape, map)) = shapes.get(batch.file) else {
        return parsed;
    };
    parsed.rows.reserve_exact(batch.lines.len());
    for (record, &line) in batch.records.iter().zip(&batch.lines) {
        let row = match shape.check(line, record) {
            Ok(row) => row,
            Err(problem) => {
                parsed.problems.push(problem);
                continue;
            }
        };
        parsed.rows_ok += 1;
        match rows::activity(Fields::new(&shape.name, &row, map)) {
            Ok(activity) => {
                if !parsed.problems.is_empty() {
                    continue;
                }
                // Fingerprint and resolution are filled in by the passes below, in place:
                // collecting the activities first and building the rows after (two large
                // vectors a batch instead of one) took 2.5 s more user CPU on 10M rows.
                parsed.rows.push(ActivityRow {
                    activity,
                    account: None,
                    contact: None,
                    account_key: None,
                    fingerprint: 0,
                    source: SourceLine {
                        file: batch.file as u32,
                        line,
                    },
                    visitor: None,
                });
            }
            Err(row_problems) => parsed.problems.extend(row_problems),
        }
    }
    parsed.problems.extend(batch.fatal.clone());
    let fingerprints = Activity::fingerprints(parsed.rows.iter().map(|row| &row.activity));
    // Resolved in a pass of their own: each lookup waits on memory (the identity index is
    // larger than the caches), and back to back, with no parsing between them, the processor
    // overlaps one row's waits with the next row's.
    for (row, fingerprint) in parsed.rows.iter_mut().zip(fingerprints) {
        row.fingerprint = fingerprint;
        let (email, domain) = (row.activity.email.as_ref(), row.activity.domain.as_ref());
        let resolution = resolver.resolve(email, domain);
        row.account = resolution.account;
        row.contact = resolution.contact;
        if !resolution.is_matched() {
            parsed.unmatched += 1;
            row.account_key = resolver.account_key(email, domain);
        }
    }
    parsed
}

/// Trigger events in what this import changed: technologies added or dropped and headcount
/// growth on re-imported accounts, and a new senior contact in a function we sell to at an
/// account that already had contacts (on a first load every contact is new: no change).
fn record_triggers(
    transaction: &mut dyn ImportTransaction,
    watch: &Watch,
    counter: &Counter,
    at: i64,
) -> Result<(), ImportError> {
    use abm_core::trigger;
    let mut rows = Vec::new();
    let mut push = |account: AccountId, found: trigger::Trigger| {
        rows.push(abm_store::team::TriggerRow {
            account_id: account.0,
            kind: found.kind.as_str().to_owned(),
            at: found.at,
            evidence: found.evidence,
            source: "detected".to_owned(),
            dedupe_key: found.key,
        });
    };
    for (id, before, after) in &counter.changed_accounts {
        for found in
            trigger::account_changes(before, after, &watch.competitors, &watch.triggers, at)
        {
            push(*id, found);
        }
    }
    let mut sql = transaction.sql()?;
    let sql = sql.as_mut();
    if !counter.new_contacts.is_empty() {
        let dictionary = abm_core::persona::TitleDictionary::new(&watch.personas);
        let mut new_per_account: HashMap<i64, u64> = HashMap::new();
        let mut had_contacts: HashMap<i64, bool> = HashMap::new();
        for (account, _) in &counter.new_contacts {
            *new_per_account.entry(account.0).or_default() += 1;
        }
        for (account, contact) in &counter.new_contacts {
            let Some(title) = contact.title.as_deref() else {
                continue;
            };
            let persona = dictionary.classify(title);
            let buys = persona.function.is_some_and(|function| {
                watch.personas.buying_functions.contains(&function)
                    || function == abm_core::persona::Function::Executive
            });
            if !(persona.relevant && persona.seniority.is_senior() && buys) {
                continue;
            }
            // Counted once per account: an import of thousands of contacts at one account
            // must not read its contacts once per new leader.
            let stored = match had_contacts.get(&account.0) {
                Some(stored) => *stored,
                None => {
                    let count = abm_store::team::contact_count(sql, account.0)?;
                    let had = count > new_per_account.get(&account.0).copied().unwrap_or(0);
                    had_contacts.insert(account.0, had);
                    had
                }
            };
            if !stored {
                continue;
            }
            let who = match (&contact.first_name, &contact.last_name) {
                (Some(first), Some(last)) => format!("{first} {last} <{}>", contact.email.as_str()),
                _ => contact.email.as_str().to_owned(),
            };
            push(*account, trigger::new_leader(&who, title, at));
        }
    }
    abm_store::team::record_triggers(sql, &rows, at)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch() -> RawBatch {
        RawBatch {
            number: 7,
            file: 1,
            records: vec![ByteRecord::from(vec!["a"]), ByteRecord::from(vec!["b"])],
            lines: vec![2, 3],
            fatal: None,
        }
    }

    #[test]
    fn a_panic_while_parsing_fails_that_batch_in_its_turn() {
        let parsed = parse_guarded(&batch(), |_| panic!("a bug in a parser"));
        assert!(parsed.failed);
        // Its number keeps the writer's order; its rows count as read, none as parsed.
        assert_eq!((parsed.number, parsed.file), (7, 1));
        assert_eq!((parsed.rows_read, parsed.rows_ok), (2, 0));
        assert!(parsed.rows.is_empty() && parsed.problems.is_empty());
    }

    #[test]
    fn a_batch_parsed_without_panic_is_passed_on_as_it_is() {
        let parsed = parse_guarded(&batch(), |batch| ParsedBatch {
            rows_ok: 2,
            ..ParsedBatch::of(batch)
        });
        assert!(!parsed.failed);
        assert_eq!((parsed.number, parsed.rows_read, parsed.rows_ok), (7, 2, 2));
    }
}
