//! SQLite's activity index tables (schema migration 2): `activity_ids`, the id index the store
//! probes and writes itself, and `activity_timeline`, the matched activities by account and
//! time. Covers the migration of a version-1 database, the timeline following re-resolution,
//! linear probing past a key another id holds, and the bulk and incremental lanes writing the
//! same indexes. SQLite only, on real files; what both backends share is in `conformance.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use abm_core::{
    Account, AccountId, Activity, ActivityId, ActivityKind, Consent, Contact, Domain, Email,
};
use abm_store::{
    ActivityOutcome, ActivityRow, Counts, ImportFigures, ImportRecord, ImportTransaction,
    SourceLine, Store,
};
use jiff::Timestamp;
use rusqlite::{Connection, params};
use std::path::Path;

fn domain(text: &str) -> Domain {
    Domain::parse(text).unwrap()
}

fn email(text: &str) -> Email {
    Email::parse(text).unwrap()
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn record(kind: &str, expected_rows: u64) -> ImportRecord {
    ImportRecord {
        kind: kind.into(),
        files: vec!["test.csv".into()],
        started_at: "2026-11-23T10:00:00Z".parse().unwrap(),
        expected_rows,
    }
}

fn commit(transaction: Box<dyn ImportTransaction + '_>) {
    transaction.commit(&ImportFigures::default()).unwrap();
}

fn account(text: &str) -> Account {
    let mut account = Account::new(domain(text));
    account.name = Some(format!("{text} Inc."));
    account
}

fn open(path: &Path) -> Box<dyn Store> {
    abm_store::open(&format!("sqlite://{}", path.display())).unwrap()
}

/// An activity by someone (an email) or by some company (a domain).
fn activity(id: &str, who: &str, occurred_at: Timestamp) -> Activity {
    let (email, domain) = if who.contains('@') {
        (Some(email(who)), None)
    } else {
        (None, Some(domain(who)))
    };
    Activity {
        id: ActivityId::parse(id).unwrap(),
        kind: ActivityKind::PageView,
        occurred_at,
        email,
        domain,
        url: Some("https://x.io/pricing\twith tab\\and backslash".into()),
        topic: None,
        campaign: Some("Q3, ABM".into()),
        channel: Some("web".into()),
    }
}

/// The row the ingest pipeline writes: matched to `account`, else keyed by its domain.
fn activity_row(activity: Activity, account: Option<AccountId>, line: u64) -> ActivityRow {
    let fingerprint = activity.fingerprint();
    let account_key = match account {
        Some(_) => None,
        None => (activity.email.as_ref().map(|email| email.domain().clone()))
            .or_else(|| activity.domain.clone()),
    };
    ActivityRow {
        activity,
        account,
        contact: None,
        account_key,
        fingerprint,
        source: SourceLine { file: 0, line },
        visitor: None,
    }
}

/// Rows from (id, who, when, account), read from lines 2, 3, … of a file.
fn activity_rows(table: &[(&str, &str, &str, Option<AccountId>)]) -> Vec<ActivityRow> {
    (table.iter().zip(2..))
        .map(|(&(id, who, time, account), line)| {
            activity_row(activity(id, who, at(time)), account, line)
        })
        .collect()
}

fn create_accounts(store: &mut dyn Store, domains: &[&str]) -> Vec<AccountId> {
    let mut transaction = store.begin_import(&record("accounts", 0)).unwrap();
    let ids = (domains.iter())
        .map(|name| transaction.insert_account(&account(name)).unwrap())
        .collect();
    commit(transaction);
    ids
}

/// One activities import, announced as `expected` rows and written in batches of 1,000.
fn import_activities(
    store: &mut dyn Store,
    rows: &[ActivityRow],
    expected: u64,
) -> ActivityOutcome {
    let (mut transaction, mut outcome) = write_activities(store, rows, expected);
    outcome.absorb(transaction.finish_activities().unwrap());
    commit(transaction);
    outcome
}

/// An activities import with every row written in batches of 1,000, not yet finished.
fn write_activities<'s>(
    store: &'s mut dyn Store,
    rows: &[ActivityRow],
    expected: u64,
) -> (Box<dyn ImportTransaction + 's>, ActivityOutcome) {
    let mut transaction = store.begin_import(&record("activities", expected)).unwrap();
    transaction.begin_activities(expected).unwrap();
    let mut outcome = ActivityOutcome::default();
    for batch in rows.chunks(1_000) {
        outcome.absorb(transaction.write_activities(batch).unwrap());
    }
    (transaction, outcome)
}

fn outcome(inserted: u64, unchanged: u64, kept_existing: u64) -> ActivityOutcome {
    ActivityOutcome {
        inserted,
        unchanged,
        kept_existing,
        conflicts: Vec::new(),
    }
}

/// Rows of three integers, read from a store's file behind its back.
fn query(path: &Path, sql: &str) -> Vec<(i64, i64, i64)> {
    let db = Connection::open(path).unwrap();
    let mut statement = db.prepare(sql).unwrap();
    let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)));
    rows.unwrap().map(Result::unwrap).collect()
}

/// Checks both index tables against the activity log they index: one `activity_ids` entry
/// per stored activity (same seq, same fingerprint), one timeline entry per matched activity.
/// Returns the timeline as (account, time) pairs, which do not depend on seq numbering.
fn check_indexes_against_the_log(path: &Path) -> Vec<(i64, i64)> {
    let ids = "SELECT seq, fingerprint, 0 FROM activity_ids ORDER BY seq";
    let log = "SELECT seq, fingerprint, 0 FROM activities ORDER BY seq";
    assert_eq!(
        query(path, ids),
        query(path, log),
        "one activity_ids entry per activity"
    );
    let timeline = query(
        path,
        "SELECT account_id, occurred_at, seq FROM activity_timeline ORDER BY 1, 2, 3",
    );
    let matched = "SELECT account_id, occurred_at, seq FROM activities WHERE account_id IS NOT NULL ORDER BY 1, 2, 3";
    assert_eq!(
        timeline,
        query(path, matched),
        "one timeline entry per matched activity"
    );
    check_partial_indexes(path);
    timeline
        .into_iter()
        .map(|(account, time, _)| (account, time))
        .collect()
}

/// Checks the log's partial indexes: each exists (`INDEXED BY` fails otherwise) and finds
/// exactly the rows a scan of the log finds, and SQLite's own check of every index passes.
fn check_partial_indexes(path: &Path) {
    for (index, condition) in [
        ("activities_unmatched", "account_id IS NULL"),
        (
            "activities_without_contact",
            "contact_id IS NULL AND email IS NOT NULL",
        ),
    ] {
        let through = |how: &str| {
            query(
                path,
                &format!("SELECT seq, 0, 0 FROM activities {how} WHERE {condition} ORDER BY seq"),
            )
        };
        assert_eq!(
            through(&format!("INDEXED BY {index}")),
            through("NOT INDEXED"),
            "{index} holds the rows it should"
        );
    }
    let db = Connection::open(path).unwrap();
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

/// Writes a version-1 database by hand, as an abm from before migration 2 left it: one
/// earlier import, the account acme.com, and `activities` as that import stored them.
fn create_version_1_database(path: &Path, activities: &[ActivityRow]) {
    let db = Connection::open(path).unwrap();
    db.execute_batch("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL DEFAULT (unixepoch()))").unwrap();
    db.execute_batch(include_str!("../migrations/sqlite/0001_foundation.sql"))
        .unwrap();
    db.execute_batch(
        "INSERT INTO schema_migrations (version) VALUES (1);
         INSERT INTO imports (id, kind, files, started_at) VALUES (1, 'activities', 'old.csv', 0);
         INSERT INTO accounts (id, domain, name) VALUES (1, 'acme.com', 'acme.com Inc.');
         INSERT INTO account_domains (domain, account_id, is_primary) VALUES ('acme.com', 1, 1);",
    )
    .unwrap();
    for (seq, row) in (1_i64..).zip(activities) {
        let activity = &row.activity;
        db.execute(
            "INSERT INTO activities (seq, id, kind, occurred_at, account_id, contact_id, email, account_key, url, topic, campaign, channel, fingerprint, import_id, source_file, source_line) \
             VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 1, 0, ?13)",
            params![
                seq,
                activity.id.as_str(),
                activity.kind.as_str(),
                activity.occurred_at.as_microsecond(),
                row.account.map(|id| id.0),
                activity.email.as_ref().map(Email::as_str),
                row.account_key.as_ref().map(Domain::as_str),
                activity.url,
                activity.topic,
                activity.campaign,
                activity.channel,
                row.fingerprint,
                row.source.line as i64,
            ],
        )
        .unwrap();
    }
}

#[test]
fn a_version_1_database_is_migrated_and_its_activities_stay_deduplicated() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("version-1.db");
    let acme = AccountId(1); // as create_version_1_database stores it
    // Three activities of acme.com, one of globex.com (no account, keyed by its domain).
    let stored = activity_rows(&[
        ("evt-1", "jo@acme.com", "2026-03-01T10:00:00Z", Some(acme)),
        ("evt-2", "acme.com", "2026-03-01T10:00:00Z", Some(acme)),
        ("evt-3", "ann@acme.com", "2026-03-02T09:30:00Z", Some(acme)),
        ("evt-4", "bo@globex.com", "2026-03-02T11:00:00Z", None),
    ]);
    create_version_1_database(&path, &stored);

    let expected = Counts {
        accounts: 1,
        activities: 4,
        unmatched_activities: 1,
        ..Counts::default()
    };
    let mut store = open(&path);
    assert_eq!(store.counts().unwrap(), expected);
    assert_eq!(store.activity_count_for(acme).unwrap(), 3);
    drop(store);
    check_indexes_against_the_log(&path);

    // Reopened: the id hash must be seeded as when migration 2 indexed the stored ids.
    let mut store = open(&path);
    assert_eq!(import_activities(&mut *store, &stored, 0), outcome(0, 4, 0));
    assert_eq!(store.counts().unwrap(), expected);

    // evt-1 with other content keeps the stored copy (the log is append-only); evt-5 is new.
    let mut edited = activity("evt-1", "jo@acme.com", at("2026-03-01T10:00:00Z"));
    edited.url = Some("https://x.io/blog".into());
    let new = activity("evt-5", "jo@acme.com", at("2026-03-03T08:00:00Z"));
    let rows = [
        activity_row(edited, Some(acme), 2),
        activity_row(new, Some(acme), 3),
    ];
    assert_eq!(import_activities(&mut *store, &rows, 0), outcome(1, 0, 1));
    assert_eq!(store.activity_count_for(acme).unwrap(), 4);
    assert_eq!(store.counts().unwrap().activities, 5);
    drop(store);
    check_indexes_against_the_log(&path);
}

#[test]
fn the_timeline_follows_rematching() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("abm.db");
    let mut store = open(&path);
    let acme = create_accounts(&mut *store, &["acme.com"])[0];
    // Visits from initech.com, not an account yet, and one from cy@acme.com, matched to
    // acme.com by its domain.
    let rows = activity_rows(&[
        ("w-1", "initech.com", "2026-03-01T10:00:00Z", None),
        ("w-2", "ann@initech.com", "2026-03-01T10:00:00Z", None),
        ("w-3", "bo@initech.com", "2026-03-04T16:45:00Z", None),
        ("m-1", "cy@acme.com", "2026-03-02T12:00:00Z", Some(acme)),
    ]);
    assert_eq!(import_activities(&mut *store, &rows, 0), outcome(4, 0, 0));
    assert_eq!(store.counts().unwrap().unmatched_activities, 3);
    assert_eq!(store.activity_count_for(acme).unwrap(), 1);

    // initech.com arrives, with Cy as its contact: a known person wins over a domain.
    let mut transaction = store.begin_import(&record("accounts", 0)).unwrap();
    let initech = transaction.insert_account(&account("initech.com")).unwrap();
    let cy = Contact {
        crm_id: None,
        email: email("cy@acme.com"),
        first_name: Some("Cy".into()),
        last_name: None,
        title: None,
        account_id: initech,
        consent: Consent::default(),
        attributes: Default::default(),
    };
    transaction.write_contact(None, &cy).unwrap();
    assert_eq!(transaction.rematch().unwrap().activities, 3);
    commit(transaction);

    assert_eq!(store.counts().unwrap().unmatched_activities, 0);
    assert_eq!(store.activity_count_for(initech).unwrap(), 4);
    assert_eq!(store.activity_count_for(acme).unwrap(), 0); // m-1 moved to initech.com
    drop(store);
    check_indexes_against_the_log(&path);
}

/// Puts evt-1 (seq 1) at the key `id` hashes to, as a hash collision would leave it; returns
/// that key.
fn occupy_the_key_of(path: &Path, id: &str) -> i64 {
    let seed = "SELECT value, 0, 0 FROM store_settings WHERE name = 'activity_id_seed'";
    let seed = query(path, seed)[0].0 as u64;
    let key = (xxhash_rust::xxh3::xxh3_64_with_seed(id.as_bytes(), seed) >> 1) as i64;
    let occupy = "INSERT INTO activity_ids (key, fingerprint, seq) VALUES (?1, 0, 1)";
    let db = Connection::open(path).unwrap();
    db.execute(occupy, [key]).unwrap();
    key
}

fn key_holding(path: &Path, seq: i64) -> i64 {
    let sql = format!("SELECT key, 0, 0 FROM activity_ids WHERE seq = {seq}");
    query(path, &sql)[0].0
}

#[test]
fn an_id_whose_key_is_taken_by_another_id_probes_on_to_the_next_key() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("abm.db");
    let mut store = open(&path);
    let row = |id| activity_rows(&[(id, "jo@acme.com", "2026-03-01T10:00:00Z", None)]);
    let mut import =
        |rows: &[ActivityRow], expected| import_activities(&mut *store, rows, expected);
    assert_eq!(import(&row("evt-1"), 0), outcome(1, 0, 0));

    // The incremental lane: evt-2 (seq 2) walks past evt-1, and is found there again.
    let key = occupy_the_key_of(&path, "evt-2");
    assert_eq!(import(&row("evt-2"), 0), outcome(1, 0, 0));
    assert_eq!(import(&row("evt-2"), 0), outcome(0, 1, 0));
    assert_eq!(key_holding(&path, 2), key + 1);

    // The bulk lane (announced as a first load of 50,000 rows): evt-3 (seq 3) likewise.
    let key = occupy_the_key_of(&path, "evt-3");
    let rows = [row("evt-3"), row("evt-2")].concat();
    assert_eq!(import(&rows, 50_000), outcome(1, 1, 0));
    assert_eq!(import(&rows, 0), outcome(0, 2, 0));
    assert_eq!(key_holding(&path, 3), key + 1);
    assert_eq!(store.counts().unwrap().activities, 3);
}

/// Rows in the activity file of the lane test.
const FILE_ROWS: usize = 60_000;

/// Activity `n` of the lane test: by turns at acme.com (3 in 7), globex.com (2 in 7),
/// initech.com (1 in 7) and hooli.com, no account; three activities a second.
fn lane_activity(n: usize, accounts: &[AccountId]) -> ActivityRow {
    let (company, account) = match n % 7 {
        0..=2 => ("acme.com", Some(accounts[0])),
        3 | 4 => ("globex.com", Some(accounts[1])),
        5 => ("initech.com", Some(accounts[2])),
        _ => ("hooli.com", None),
    };
    let who = format!("person{}@{company}", n % 40);
    let time = Timestamp::from_second(1_772_000_000 + (n / 3) as i64).unwrap();
    activity_row(activity(&format!("act-{n}"), &who, time), account, n as u64)
}

/// Every 20th row of the file repeats, with the same content, the activity 7 rows before it.
fn repeats_an_earlier_row(line: usize) -> bool {
    line % 20 == 19
}

fn lane_test_file(accounts: &[AccountId]) -> Vec<ActivityRow> {
    (0..FILE_ROWS)
        .map(|line| {
            let n = line - if repeats_an_earlier_row(line) { 7 } else { 0 };
            let mut row = lane_activity(n, accounts);
            row.source.line = line as u64;
            row
        })
        .collect()
}

fn max_seq(path: &Path) -> i64 {
    query(path, "SELECT MAX(seq), 0, 0 FROM activities")[0].0
}

#[test]
fn bulk_and_incremental_lanes_write_the_same_timeline() {
    let companies = ["acme.com", "globex.com", "initech.com"];
    let directory = tempfile::tempdir().unwrap();
    let bulk_path = directory.path().join("bulk.db");
    let incremental_path = directory.path().join("incremental.db");

    let mut bulk = open(&bulk_path);
    let accounts = create_accounts(&mut *bulk, &companies);
    let file = lane_test_file(&accounts);
    let bulk_outcome = import_activities(&mut *bulk, &file, FILE_ROWS as u64);

    let mut incremental = open(&incremental_path);
    assert_eq!(create_accounts(&mut *incremental, &companies), accounts);
    let mut incremental_outcome = ActivityOutcome::default();
    for part in file.chunks(10_000) {
        incremental_outcome.absorb(import_activities(&mut *incremental, part, 0));
    }

    let repeats = (FILE_ROWS / 20) as u64;
    let distinct = FILE_ROWS as u64 - repeats;
    assert_eq!(bulk_outcome, outcome(distinct, repeats, 0));
    assert_eq!(incremental_outcome, bulk_outcome);

    let counts = bulk.counts().unwrap();
    assert_eq!(counts, incremental.counts().unwrap());
    assert_eq!(counts.activities, distinct);
    // What each account should count: its activities among the distinct ones in the file.
    let stored: Vec<_> = (0..FILE_ROWS)
        .filter(|&n| !repeats_an_earlier_row(n))
        .map(|n| lane_activity(n, &accounts).account)
        .collect();
    let expected = |account| stored.iter().filter(|&&stored| stored == account).count() as u64;
    for &account in &accounts {
        let counted =
            [&mut bulk, &mut incremental].map(|store| store.activity_count_for(account).unwrap());
        assert_eq!(counted, [expected(Some(account)); 2]);
    }
    assert_eq!(counts.unmatched_activities, expected(None));

    // The bulk lane appends every row and removes repeats when it finishes, leaving gaps in
    // seq; the incremental lane never stores a repeat. Proof that each store took its lane.
    assert!(
        max_seq(&bulk_path) > distinct as i64,
        "the bulk lane was not taken"
    );
    assert_eq!(max_seq(&incremental_path), distinct as i64);
    assert_eq!(
        check_indexes_against_the_log(&bulk_path),
        check_indexes_against_the_log(&incremental_path)
    );

    // The same file again, announced at its size: the ids the bulk lane indexed find every row.
    let again = import_activities(&mut *bulk, &file, FILE_ROWS as u64);
    assert_eq!(again, outcome(0, FILE_ROWS as u64, 0));
    assert_eq!(bulk.counts().unwrap(), counts);
    // And a new activity after the bulk load enters the timeline (its trigger is back).
    let late = lane_activity(FILE_ROWS, &accounts);
    let late_account = late.account.unwrap();
    let before = bulk.activity_count_for(late_account).unwrap();
    assert_eq!(import_activities(&mut *bulk, &[late], 0), outcome(1, 0, 0));
    assert_eq!(bulk.activity_count_for(late_account).unwrap(), before + 1);
    drop(bulk);
    check_indexes_against_the_log(&bulk_path);
}

/// Asks a reader about `rows` until it has loaded the stored ids (it loads them on a thread
/// of its own and finds nothing meanwhile), for at most 20 seconds.
fn once_loaded(reader: &mut dyn abm_store::StoredIds, rows: &[ActivityRow]) -> Vec<bool> {
    let started = std::time::Instant::now();
    loop {
        let found = reader.stored_unchanged(rows);
        if found.iter().any(|&found| found) || started.elapsed().as_secs() >= 20 {
            return found;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn readers_for_a_large_reimport_find_only_what_was_stored_unchanged() {
    let companies = ["acme.com", "globex.com", "initech.com"];
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("abm.db");
    let mut store = open(&path);
    let accounts = create_accounts(&mut *store, &companies);
    // evt-moved is stored one key past its own: a reader, which reads only the id's own key,
    // must leave it to the writer.
    occupy_the_key_of(&path, "evt-moved");
    let moved = activity_rows(&[("evt-moved", "jo@acme.com", "2026-03-01T10:00:00Z", None)]);
    let file: Vec<ActivityRow> = (0..FILE_ROWS)
        .map(|n| lane_activity(n, &accounts))
        .collect();
    assert_eq!(
        import_activities(&mut *store, &[file.clone(), moved.clone()].concat(), 0),
        outcome(FILE_ROWS as u64 + 1, 0, 0)
    );

    // A small import, and a bulk load, get no readers.
    let mut transaction = store.begin_import(&record("activities", 100)).unwrap();
    transaction.begin_activities(100).unwrap();
    assert!(transaction.stored_id_readers(2).unwrap().is_empty());
    drop(transaction);
    let mut transaction = store.begin_import(&record("activities", 500_000)).unwrap();
    transaction.begin_activities(500_000).unwrap();
    assert!(transaction.stored_id_readers(2).unwrap().is_empty());
    drop(transaction);

    // A re-import of the file's size: the incremental lane, with a reader per parsing thread.
    let mut transaction = store
        .begin_import(&record("activities", FILE_ROWS as u64))
        .unwrap();
    transaction.begin_activities(FILE_ROWS as u64).unwrap();
    let mut readers = transaction.stored_id_readers(2).unwrap();
    assert_eq!(readers.len(), 2);
    let mut changed = lane_activity(11, &accounts);
    changed.activity.campaign = Some("another campaign".into());
    changed.fingerprint = changed.activity.fingerprint();
    let new = lane_activity(FILE_ROWS + 1, &accounts);
    let asked = [
        file[10].clone(),
        changed,
        new.clone(),
        moved[0].clone(),
        file[FILE_ROWS - 1].clone(),
    ];
    let found = once_loaded(readers[0].as_mut(), &asked);
    assert_eq!(found, [true, false, false, false, true]);
    assert_eq!(readers[1].stored_unchanged(&asked), found);

    // The import's own rows are not seen by the readers: they look at what was committed.
    assert_eq!(
        transaction
            .write_activities(std::slice::from_ref(&new))
            .unwrap(),
        outcome(1, 0, 0)
    );
    assert_eq!(readers[0].stored_unchanged(&[new]), [false]);
    drop(readers);
    transaction.finish_activities().unwrap();
    commit(transaction);
    assert_eq!(store.counts().unwrap().activities, FILE_ROWS as u64 + 2);
}

/// Whether the log's `activities_unmatched` index exists, asked inside an import.
fn unmatched_index_exists(transaction: &mut dyn ImportTransaction) -> bool {
    let sql =
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'activities_unmatched'";
    let rows = transaction.sql().unwrap().query(sql, &[]).unwrap();
    rows[0].int(0).unwrap() == 1
}

/// The bulk lane keeps `activities_unmatched` as it appends while few rows are unmatched,
/// and drops it to rebuild it at the end once many are: either way the index ends up holding
/// exactly the unmatched rows, and an import abandoned after the drop leaves it as it was.
#[test]
fn the_unmatched_index_is_kept_or_rebuilt_and_right_either_way() {
    for (one_in, kept) in [(20, true), (2, false)] {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("activities.db");
        let mut store = open(&path);
        let accounts = create_accounts(&mut *store, &["acme.com"]);
        let rows: Vec<ActivityRow> = (0..100_000u64)
            .map(|n| {
                let (who, account) = if n % one_in == 0 {
                    (format!("person{}@hooli.com", n % 40), None)
                } else {
                    (format!("person{}@acme.com", n % 40), Some(accounts[0]))
                };
                let time = Timestamp::from_second(1_772_000_000 + n as i64).unwrap();
                activity_row(activity(&format!("act-{n}"), &who, time), account, n + 2)
            })
            .collect();
        let expected = rows.len() as u64;
        // Abandoned once every row is written: nothing of it stays, the index included.
        {
            let (mut transaction, _) = write_activities(&mut *store, &rows, expected);
            assert_eq!(
                unmatched_index_exists(&mut *transaction),
                kept,
                "1 in {one_in}"
            );
        }
        assert_eq!(store.counts().unwrap().activities, 0);
        check_partial_indexes(&path);

        let (mut transaction, mut outcome) = write_activities(&mut *store, &rows, expected);
        assert_eq!(
            unmatched_index_exists(&mut *transaction),
            kept,
            "1 in {one_in}"
        );
        outcome.absorb(transaction.finish_activities().unwrap());
        commit(transaction);
        assert_eq!(outcome, self::outcome(expected, 0, 0));
        assert_eq!(
            store.counts().unwrap().unmatched_activities,
            expected / one_in
        );
        drop(store);
        check_indexes_against_the_log(&path);
    }
}
