//! The import pipeline: open and check every file, map its columns, then stream rows through
//! parse → resolve → write inside one store transaction; commit only when no row of any file
//! had a problem. Activities, the one kind that reaches millions of rows, are parsed on a
//! second thread and written in batches so both cores work and memory stays flat.

use crate::columns::{self, ColumnMap, ColumnOverride};
use crate::problem::{Problem, Problems};
use crate::reader::{CsvFile, Row, RowError};
use crate::rows::{self, Fields, PersonRecord};
use crate::{Format, ImportKind};
use abm_core::identity::{FreeMailDomains, Resolver};
use abm_core::{Account, Contact, Lead};
use abm_store::{
    ActivityOutcome, ActivityRow, ImportFigures, ImportRecord, ImportTransaction, LeadOrigin,
    Rematched, SourceLine, Store, StoreError, Written,
};
use csv::ByteRecord;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc;

/// Rows per batch handed from the parser thread to the writer.
const ACTIVITY_BATCH: usize = 8192;

/// What to import and how.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub kind: ImportKind,
    pub files: Vec<PathBuf>,
    /// `None` detects each file's format from its headers.
    pub format: Option<Format>,
    pub overrides: Vec<ColumnOverride>,
    /// Validate, resolve and count everything, then roll back.
    pub dry_run: bool,
    pub free_mail: FreeMailDomains,
    pub started_at: jiff::Timestamp,
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
    for path in &options.files {
        let file = match CsvFile::open(path) {
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
        files: options
            .files
            .iter()
            .map(|path| path.display().to_string())
            .collect(),
        started_at: options.started_at,
    };
    let mut transaction = store.begin_import(&record)?;
    let resolver = Resolver::new(&index, &options.free_mail);
    let mut counter = Counter {
        figures: ImportFigures::default(),
        kept_existing: 0,
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
    let rows_per_file = if options.kind == ImportKind::Activities {
        import_activities(
            transaction.as_mut(),
            files,
            resolver,
            &names,
            progress,
            &mut counter,
            &mut problems,
        )?
    } else {
        import_records(
            transaction.as_mut(),
            files,
            options.kind,
            resolver,
            progress,
            &mut counter,
            &mut problems,
        )?
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
    let rematched = transaction.rematch()?;
    tracing::debug!(elapsed = ?finishing.elapsed(), "rematched");
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

/// What the parser thread found, besides the batches it sent.
struct ParseOutcome {
    problems: Problems,
    rows_read: u64,
    unmatched: u64,
    rows_per_file: Vec<u64>,
}

fn import_activities(
    transaction: &mut dyn ImportTransaction,
    files: Vec<OpenFile>,
    resolver: Resolver<'_>,
    names: &[String],
    progress: &dyn Progress,
    counter: &mut Counter,
    problems: &mut Problems,
) -> Result<Vec<u64>, ImportError> {
    let mut outcome = ActivityOutcome::default();
    // About 100 bytes per row in typical activity exports; the store only needs the scale.
    let expected_rows = files.iter().map(|open| open.file.size).sum::<u64>() / 100;
    transaction.begin_activities(expected_rows)?;
    let parsed = std::thread::scope(|scope| -> Result<ParseOutcome, ImportError> {
        let (sender, receiver) = mpsc::sync_channel::<Vec<ActivityRow>>(4);
        let parser = std::thread::Builder::new()
            .name("abm-parse".into())
            .spawn_scoped(scope, move || {
                parse_activities(files, resolver, progress, &sender)
            })
            .map_err(|error| {
                ImportError::Internal(format!("cannot start the parser thread: {error}"))
            })?;
        let mut store_error = None;
        for batch in receiver {
            if store_error.is_none() {
                match transaction.write_activities(&batch) {
                    Ok(batch_outcome) => outcome.absorb(batch_outcome),
                    Err(error) => store_error = Some(error),
                }
            }
        }
        let parsed = parser.join().map_err(|_| {
            ImportError::Internal("the activity parser stopped unexpectedly".into())
        })?;
        match store_error {
            Some(error) => Err(error.into()),
            None => Ok(parsed),
        }
    })?;
    counter.figures.rows_read += parsed.rows_read;
    counter.figures.unmatched += parsed.unmatched;
    problems.absorb(parsed.problems);
    if problems.is_empty() {
        outcome.absorb(transaction.finish_activities()?);
    }
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
    Ok(parsed.rows_per_file)
}

fn parse_activities(
    files: Vec<OpenFile>,
    resolver: Resolver<'_>,
    progress: &dyn Progress,
    sender: &mpsc::SyncSender<Vec<ActivityRow>>,
) -> ParseOutcome {
    let mut outcome = ParseOutcome {
        problems: Problems::default(),
        rows_read: 0,
        unmatched: 0,
        rows_per_file: Vec::new(),
    };
    let mut batch = Vec::with_capacity(ACTIVITY_BATCH);
    let mut record = ByteRecord::new();
    let mut receiver_gone = false;
    for (
        file_index,
        OpenFile {
            mut file,
            map,
            offset,
            ..
        },
    ) in files.into_iter().enumerate()
    {
        let name = file.name.clone();
        let mut rows_in_file = 0;
        loop {
            let row = match file.next_row(&mut record) {
                Ok(Some(row)) => row,
                Ok(None) => break,
                Err(RowError::Row(problem)) => {
                    outcome.rows_read += 1;
                    outcome.problems.push(problem);
                    continue;
                }
                Err(RowError::Fatal(problem)) => {
                    outcome.problems.push(problem);
                    break;
                }
            };
            outcome.rows_read += 1;
            rows_in_file += 1;
            let line = row.line;
            match rows::activity(Fields::new(&name, &row, &map)) {
                Ok(activity) => {
                    if !outcome.problems.is_empty() || receiver_gone {
                        continue;
                    }
                    let resolution =
                        resolver.resolve(activity.email.as_ref(), activity.domain.as_ref());
                    if !resolution.is_matched() {
                        outcome.unmatched += 1;
                    }
                    let account_key = if resolution.is_matched() {
                        None
                    } else {
                        resolver.account_key(activity.email.as_ref(), activity.domain.as_ref())
                    };
                    let fingerprint = activity.fingerprint();
                    batch.push(ActivityRow {
                        activity,
                        account: resolution.account,
                        contact: resolution.contact,
                        account_key,
                        fingerprint,
                        source: SourceLine {
                            file: file_index as u32,
                            line,
                        },
                    });
                    if batch.len() == ACTIVITY_BATCH {
                        let full =
                            std::mem::replace(&mut batch, Vec::with_capacity(ACTIVITY_BATCH));
                        receiver_gone = sender.send(full).is_err();
                        progress.advance(offset + file.bytes_read());
                    }
                }
                Err(row_problems) => outcome.problems.extend(row_problems),
            }
        }
        outcome.rows_per_file.push(rows_in_file);
    }
    if !batch.is_empty() && outcome.problems.is_empty() && !receiver_gone {
        let _ = sender.send(batch);
    }
    outcome
}
