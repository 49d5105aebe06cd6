//! PostgreSQL's partitioned schema (migration 0007): the large tables are partitioned by a hash
//! of the account, an account's rows live in one partition and move with it when they are
//! re-resolved, and a database written by the schema before partitioning keeps every row,
//! every id and its de-duplication when it migrates.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use abm_core::{Account, AccountId, Activity, ActivityId, ActivityKind, Domain, Email};
use abm_store::testing::PostgresDatabase;
use abm_store::{ActivityRow, ImportFigures, ImportRecord, SourceLine, Store};
use postgres::{Client, NoTls};

const PARTITIONED: [&str; 7] = [
    "activities",
    "intent_signals",
    "account_scores",
    "stage_changes",
    "rollup_account_weeks",
    "rollup_people_weeks",
    "rollup_item_weeks",
];

fn record(kind: &str) -> ImportRecord {
    ImportRecord {
        kind: kind.into(),
        files: vec!["test.csv".into()],
        started_at: "2026-11-23T10:00:00Z".parse().unwrap(),
        expected_rows: 0,
    }
}

fn row(id: &str, who: &str, account: Option<AccountId>, line: u64) -> ActivityRow {
    let email = Email::parse(who).unwrap();
    let activity = Activity {
        id: ActivityId::parse(id).unwrap(),
        kind: ActivityKind::PageView,
        occurred_at: "2026-03-01T10:00:00Z".parse().unwrap(),
        email: Some(email.clone()),
        domain: None,
        url: Some("https://x.io/pricing".into()),
        topic: None,
        campaign: None,
        channel: Some("web".into()),
    };
    let fingerprint = activity.fingerprint();
    ActivityRow {
        activity,
        account,
        contact: None,
        account_key: account.is_none().then(|| email.domain().clone()),
        fingerprint,
        source: SourceLine { file: 0, line },
        visitor: None,
    }
}

fn import(store: &mut dyn Store, rows: &[ActivityRow]) -> abm_store::ActivityOutcome {
    let mut transaction = store.begin_import(&record("activities")).unwrap();
    transaction.begin_activities(rows.len() as u64).unwrap();
    let mut outcome = transaction.write_activities(rows).unwrap();
    outcome.absorb(transaction.finish_activities().unwrap());
    transaction.commit(&ImportFigures::default()).unwrap();
    outcome
}

/// The partitions holding `account`'s activities (NULL: the unmatched ones).
fn partitions_of(client: &mut Client, account: Option<i64>) -> Vec<String> {
    client
        .query(
            "SELECT DISTINCT tableoid::regclass::text FROM activities WHERE account_id IS NOT DISTINCT FROM $1",
            &[&account],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[test]
fn the_large_tables_are_partitioned_by_account_and_rows_move_with_their_account() {
    let Some(database) = PostgresDatabase::create("abm_partitions") else {
        return;
    };
    let mut store = abm_store::open(&database.url).unwrap();
    let mut client = Client::connect(&database.url, NoTls).unwrap();
    for table in PARTITIONED {
        let row = client
            .query_one(
                "SELECT c.relkind::text, pg_get_partkeydef(c.oid), \
                 (SELECT COUNT(*) FROM pg_inherits i WHERE i.inhparent = c.oid) \
                 FROM pg_class c WHERE c.relname = $1 AND c.relnamespace = 'public'::regnamespace",
                &[&table],
            )
            .unwrap();
        let (kind, key, partitions): (String, String, i64) = (row.get(0), row.get(1), row.get(2));
        assert_eq!(
            (kind.as_str(), key.as_str(), partitions),
            ("p", "HASH (account_id)", 16),
            "{table}"
        );
    }

    let mut transaction = store.begin_import(&record("accounts")).unwrap();
    let accounts: Vec<AccountId> = (0..8)
        .map(|n| {
            transaction
                .insert_account(&Account::new(
                    Domain::parse(&format!("company{n}.com")).unwrap(),
                ))
                .unwrap()
        })
        .collect();
    transaction.commit(&ImportFigures::default()).unwrap();

    // 40 rows for each of 8 accounts, and 40 at a domain not known yet.
    let mut rows = Vec::new();
    for (n, account) in accounts.iter().enumerate() {
        for k in 0..40 {
            let id = format!("a{n}-{k}");
            rows.push(row(&id, &format!("p{k}@company{n}.com"), Some(*account), 0));
        }
    }
    for k in 0..40 {
        rows.push(row(
            &format!("late-{k}"),
            &format!("p{k}@latecomer.io"),
            None,
            0,
        ));
    }
    for (line, row) in rows.iter_mut().enumerate() {
        row.source.line = line as u64 + 2;
    }
    let outcome = import(&mut *store, &rows);
    assert_eq!(outcome.inserted, rows.len() as u64);
    for account in &accounts {
        assert_eq!(
            partitions_of(&mut client, Some(account.0)).len(),
            1,
            "an account's rows live in one partition"
        );
    }
    let spread: std::collections::BTreeSet<String> = accounts
        .iter()
        .flat_map(|account| partitions_of(&mut client, Some(account.0)))
        .collect();
    assert!(spread.len() > 1, "8 accounts all hashed to one partition");
    assert_eq!(partitions_of(&mut client, None), ["activities_p00"]);

    // The latecomer's account arrives: re-resolution moves its rows into its partition.
    let mut transaction = store.begin_import(&record("accounts")).unwrap();
    let latecomer = transaction
        .insert_account(&Account::new(Domain::parse("latecomer.io").unwrap()))
        .unwrap();
    let rematched = transaction.rematch().unwrap();
    transaction.commit(&ImportFigures::default()).unwrap();
    assert_eq!(rematched.activities, 40);
    let moved = partitions_of(&mut client, Some(latecomer.0));
    assert_eq!(moved.len(), 1);
    assert_eq!(store.activity_count_for(latecomer).unwrap(), 40);
    assert!(partitions_of(&mut client, None).is_empty());

    // The same rows again (each id once in activity_ids, whichever partition holds it).
    let again = import(&mut *store, &rows);
    assert_eq!((again.inserted, again.unchanged), (0, rows.len() as u64));
    let ids: i64 = client
        .query_one("SELECT COUNT(*) FROM activity_ids", &[])
        .unwrap()
        .get(0);
    assert_eq!(ids, rows.len() as i64);
    let counts = store.counts().unwrap();
    assert_eq!(
        (counts.activities, counts.unmatched_activities),
        (rows.len() as u64, 0)
    );
}

/// A database written before partitioning (schema version 6) keeps its rows, their seqs and
/// their de-duplication through the migration.
#[test]
fn a_database_from_before_partitioning_migrates_with_every_row() {
    let Some(database) = PostgresDatabase::create("abm_partitions") else {
        return;
    };
    let mut client = Client::connect(&database.url, NoTls).unwrap();
    let before = [
        include_str!("../migrations/postgres/0001_foundation.sql"),
        include_str!("../migrations/postgres/0002_scores.sql"),
        include_str!("../migrations/postgres/0003_team.sql"),
        include_str!("../migrations/postgres/0004_tracking.sql"),
        include_str!("../migrations/postgres/0005_plays.sql"),
        include_str!("../migrations/postgres/0006_reports.sql"),
    ];
    client
        .batch_execute(
            "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        )
        .unwrap();
    for (version, sql) in before.iter().enumerate() {
        client.batch_execute(sql).unwrap();
        client
            .execute(
                "INSERT INTO schema_migrations (version) VALUES ($1)",
                &[&(version as i64 + 1)],
            )
            .unwrap();
    }
    client
        .batch_execute(
            "INSERT INTO accounts (id, domain) VALUES (1, 'acme.com'), (2, 'globex.com');
             SELECT setval(pg_get_serial_sequence('accounts', 'id'), 2);
             INSERT INTO account_domains (domain, account_id, is_primary) VALUES ('acme.com', 1, true), ('globex.com', 2, true);
             INSERT INTO activities (seq, id, kind, occurred_at, account_id, email, fingerprint, source_file, source_line)
                 VALUES (10, 'old-1', 'page_view', '2026-03-01T10:00:00Z', 1, 'jo@acme.com', 111, 0, 2),
                        (11, 'old-2', 'page_view', '2026-03-02T10:00:00Z', 2, 'al@globex.com', 222, 0, 3),
                        (12, 'old-3', 'page_view', '2026-03-03T10:00:00Z', NULL, 'x@initech.com', 333, 0, 4);
             UPDATE activities SET account_key = 'initech.com' WHERE id = 'old-3';
             INSERT INTO account_scores VALUES (1, 5, 10, 20, 30, 40, 'aware', 'why'), (2, 5, 1, 2, 3, 4, 'unaware', 'why');
             INSERT INTO stage_changes (account_id, changed_at, from_stage, to_stage, reason) VALUES (1, 5, NULL, 'aware', 'why');
             INSERT INTO rollup_account_weeks VALUES (1, 2900, 1, 1.5), (2, 2900, 1, 1.5);
             INSERT INTO rollup_people_weeks VALUES (1, 2900, 7, 1);
             INSERT INTO rollup_item_weeks VALUES (0, 2900, 'domain', 'initech.com', 1);
             INSERT INTO intent_signals (id, account_id, domain, topic, date, score, source)
                 VALUES (5, 1, 'acme.com', 'crm', '2026-03-02', 70, 'bombora'),
                        (6, NULL, 'initech.com', 'crm', '2026-03-02', 40, 'bombora');",
        )
        .unwrap();

    let mut store = abm_store::open(&database.url).unwrap();
    let version: i64 = client
        .query_one("SELECT MAX(version) FROM schema_migrations", &[])
        .unwrap()
        .get(0);
    assert_eq!(version, 7);
    for (table, expected) in [
        ("activities", 3),
        ("activity_ids", 3),
        ("account_scores", 2),
        ("stage_changes", 1),
        ("rollup_account_weeks", 2),
        ("rollup_people_weeks", 1),
        ("rollup_item_weeks", 1),
        ("intent_signals", 2),
    ] {
        let count: i64 = client
            .query_one(&format!("SELECT COUNT(*) FROM {table}"), &[])
            .unwrap()
            .get(0);
        assert_eq!(count, expected, "{table}");
    }
    let seqs: Vec<(String, i64)> = client
        .query("SELECT id, seq FROM activity_ids ORDER BY seq", &[])
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    assert_eq!(
        seqs,
        [
            ("old-1".into(), 10),
            ("old-2".into(), 11),
            ("old-3".into(), 12)
        ]
    );
    let counts = store.counts().unwrap();
    assert_eq!((counts.activities, counts.unmatched_activities), (3, 1));
    assert_eq!(store.activity_count_for(AccountId(1)).unwrap(), 1);

    // An old id with other content is kept as stored; a new one is stored after the old seqs.
    let mut old = row("old-1", "jo@acme.com", Some(AccountId(1)), 2);
    old.fingerprint = 999;
    let outcome = import(
        &mut *store,
        &[old, row("new-1", "jo@acme.com", Some(AccountId(1)), 3)],
    );
    assert_eq!((outcome.inserted, outcome.kept_existing), (1, 1));
    let new_seq: i64 = client
        .query_one("SELECT seq FROM activities WHERE id = 'new-1'", &[])
        .unwrap()
        .get(0);
    assert!(new_seq > 12, "{new_seq}");
    assert_eq!(store.activity_count_for(AccountId(1)).unwrap(), 2);
    // Stage history survived with its account.
    assert_eq!(store.stage_history(AccountId(1)).unwrap().len(), 1);

    // A stored intent signal is found by its key (unchanged, then updated); a new one is
    // numbered after the old ids; initech's signal moves to its account when it arrives.
    let signal = |domain: &str, score: u8| abm_core::IntentSignal {
        domain: Domain::parse(domain).unwrap(),
        topic: abm_core::Topic::parse("crm").unwrap(),
        date: "2026-03-02".parse().unwrap(),
        score: abm_core::Score::new(score).unwrap(),
        source: "bombora".into(),
        company_name: None,
    };
    let mut transaction = store.begin_import(&record("intent")).unwrap();
    let written = [
        transaction
            .write_intent(&signal("acme.com", 70), Some(AccountId(1)))
            .unwrap(),
        transaction
            .write_intent(&signal("initech.com", 45), None)
            .unwrap(),
        transaction
            .write_intent(&signal("globex.com", 10), Some(AccountId(2)))
            .unwrap(),
    ];
    assert_eq!(
        written,
        [
            abm_store::Written::Unchanged,
            abm_store::Written::Updated,
            abm_store::Written::Inserted
        ]
    );
    let initech = transaction
        .insert_account(&Account::new(Domain::parse("initech.com").unwrap()))
        .unwrap();
    let rematched = transaction.rematch().unwrap();
    transaction.commit(&ImportFigures::default()).unwrap();
    assert_eq!((rematched.activities, rematched.intent_signals), (1, 1));
    let rows: Vec<(i64, Option<i64>, i16)> = client
        .query(
            "SELECT id, account_id, score FROM intent_signals ORDER BY id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect();
    assert_eq!(
        rows,
        [(5, Some(1), 70), (6, Some(initech.0), 45), (7, Some(2), 10)]
    );
    assert_eq!(store.counts().unwrap().unmatched_activities, 0);
}
