//! The import pipeline end to end on a real SQLite file: formats, bad input (each a clear
//! problem naming file, line, column and value, with nothing changed), idempotence and
//! re-resolution. The same pipeline on PostgreSQL is covered by the binary's tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use abm_core::identity::FreeMailDomains;
use abm_ingest::{
    Format, ImportError, ImportKind, ImportOptions, ImportReport, NoProgress, Source, import,
};
use abm_store::{Counts, Store};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

struct World {
    directory: tempfile::TempDir,
    store: Box<dyn Store>,
    _postgres: Option<abm_store::testing::PostgresDatabase>,
}

impl World {
    fn new() -> Self {
        let directory = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", directory.path().join("abm.db").display());
        let store = abm_store::open(&url).unwrap();
        Self {
            directory,
            store,
            _postgres: None,
        }
    }

    /// The same on PostgreSQL; `None` only when ABM_TEST_SKIP_POSTGRES=1.
    fn postgres() -> Option<Self> {
        let database = abm_store::testing::PostgresDatabase::create("abm_ingest")?;
        let store = abm_store::open(&database.url).unwrap();
        Some(Self {
            directory: tempfile::tempdir().unwrap(),
            store,
            _postgres: Some(database),
        })
    }

    fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.directory.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    fn import(&mut self, kind: ImportKind, files: &[&Path]) -> Result<ImportReport, ImportError> {
        self.import_with(kind, files, |_| {})
    }

    fn import_with(
        &mut self,
        kind: ImportKind,
        files: &[&Path],
        adjust: impl FnOnce(&mut ImportOptions),
    ) -> Result<ImportReport, ImportError> {
        let mut options = ImportOptions {
            kind,
            files: files.iter().map(|path| Source::from(*path)).collect(),
            format: None,
            overrides: Vec::new(),
            dry_run: false,
            free_mail: FreeMailDomains::default(),
            started_at: "2026-11-23T10:00:00Z".parse().unwrap(),
            watch: None,
        };
        adjust(&mut options);
        import(self.store.as_mut(), &options, &NoProgress)
    }

    /// Imports a file that must fail, checks nothing changed, and returns the problems as text.
    fn refused(&mut self, kind: ImportKind, name: &str, contents: impl AsRef<[u8]>) -> Vec<String> {
        let path = self.file(name, contents);
        let before = self.counts();
        let problems = match self.import(kind, &[&path]) {
            Err(ImportError::Problems(problems)) => problems,
            Err(other) => panic!("expected problems, got {other}"),
            Ok(report) => panic!(
                "expected problems, got a report of {} rows",
                report.rows_read
            ),
        };
        assert_eq!(
            self.counts(),
            before,
            "a refused import changed the database"
        );
        let dir = format!("{}/", self.directory.path().display());
        problems
            .listed
            .iter()
            .map(|problem| problem.to_string().replace(&dir, ""))
            .collect()
    }

    fn counts(&mut self) -> Counts {
        self.store.counts().unwrap()
    }
}

const SF_ACCOUNTS: &str = "\u{feff}Id,Name,Website,Industry,NumberOfEmployees,AnnualRevenue,BillingCountry,Type,Technologies__c,Segment__c\n\
001A,Acme Analytics,https://www.Acme.co.uk/about,Software,\"1,200\",\"$250,000,000\",United Kingdom,Customer - Direct,Salesforce;Snowflake,Enterprise\n\
\n\
001B,\"Globex, Inc.\",globex.com,Manufacturing,5000,,Germany,Prospect,\"SAP;\nOracle\",Enterprise\n";

fn accounts(world: &mut World) -> ImportReport {
    let path = world.file("accounts.csv", SF_ACCOUNTS);
    world.import(ImportKind::Accounts, &[&path]).unwrap()
}

#[test]
fn salesforce_accounts_import_with_bom_quotes_newlines_and_separators() {
    let mut world = World::new();
    let report = accounts(&mut world);
    assert_eq!(
        (report.rows_read, report.inserted, report.updated),
        (2, 2, 0)
    );
    assert_eq!(report.files[0].format, Format::Salesforce);
    assert_eq!(report.files[0].other_columns, vec!["Segment__c".to_owned()]);
    let (_, acme) = world
        .store
        .account_by_domain(&abm_core::Domain::parse("acme.co.uk").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(acme.employees, Some(1200));
    assert_eq!(acme.revenue, Some(250_000_000.0));
    assert_eq!(acme.account_type, Some(abm_core::AccountType::Customer));
    assert_eq!(
        acme.attributes.get("Segment__c").map(String::as_str),
        Some("Enterprise")
    );
    let (_, globex) = world
        .store
        .account_by_domain(&abm_core::Domain::parse("globex.com").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(globex.name.as_deref(), Some("Globex, Inc."));
    assert_eq!(
        globex.technologies.iter().cloned().collect::<Vec<_>>(),
        ["Oracle", "SAP"]
    );

    // Importing the same file again changes nothing.
    let again = accounts(&mut world);
    assert_eq!((again.inserted, again.updated, again.unchanged), (0, 0, 2));
}

#[test]
fn hubspot_leads_resolve_and_free_mail_never_matches() {
    let mut world = World::new();
    accounts(&mut world);
    let leads = world.file(
        "leads.csv",
        "Record ID,First Name,Last Name,Email,Job Title,Company Name,Website URL,Lifecycle Stage\n\
         1,Ann,Lee,ann@eu.acme.co.uk,CMO,Acme,,lead\n\
         2,Bo,Park,bo@gmail.com,VP Sales,Globex,https://globex.com,lead\n\
         3,Cy,Diaz,cy@gmail.com,Engineer,,,subscriber\n\
         4,Di,Ng,di@initech.com,CFO,Initech,,lead\n",
    );
    let report = world.import(ImportKind::Leads, &[&leads]).unwrap();
    assert_eq!(report.files[0].format, Format::Hubspot);
    assert_eq!((report.inserted, report.unmatched), (4, 2));
    assert_eq!(report.match_rate, Some(0.5));
    let counts = world.counts();
    assert_eq!((counts.leads, counts.matched_leads), (4, 2));

    // Initech appears later: its lead is matched by re-resolution; gmail still never is.
    let initech = world.file(
        "initech.csv",
        "domain,name\ninitech.com,Initech\ngmail.com,Google Mail\n",
    );
    let problems = match world.import(ImportKind::Accounts, &[&initech]) {
        Err(ImportError::Problems(problems)) => problems,
        other => panic!(
            "free-mail account must be refused: {:?}",
            other.map(|r| r.rows_read)
        ),
    };
    assert!(
        problems.listed[0]
            .to_string()
            .contains("gmail.com is a free-mail or disposable-mail domain"),
        "{:?}",
        problems.listed
    );
    let initech = world.file("initech2.csv", "domain,name\ninitech.com,Initech\n");
    let report = world.import(ImportKind::Accounts, &[&initech]).unwrap();
    assert_eq!(report.rematched.leads, 1);
    assert_eq!(world.counts().matched_leads, 3);
}

#[test]
fn contacts_without_account_are_kept_as_leads_and_promoted_later() {
    let mut world = World::new();
    accounts(&mut world);
    let contacts = world.file(
        "contacts.csv",
        "Id,AccountId,FirstName,LastName,Email,Title,HasOptedOutOfEmail\n\
         003A,001A,Ann,Lee,ann@acme.co.uk,CMO,false\n\
         003B,,Bo,Park,bo@globex.com,VP Sales,true\n\
         003C,001Z,Cy,Diaz,cy@hooli.com,CTO,false\n",
    );
    let report = world.import(ImportKind::Contacts, &[&contacts]).unwrap();
    assert_eq!((report.inserted, report.unmatched), (3, 1));
    let counts = world.counts();
    assert_eq!((counts.contacts, counts.leads), (2, 1));
    let hooli = world.file("hooli.csv", "Id,Name,Website\n001Z,Hooli,hooli.com\n");
    let report = world.import(ImportKind::Accounts, &[&hooli]).unwrap();
    assert_eq!(report.rematched.leads_promoted_to_contacts, 1);
    let counts = world.counts();
    assert_eq!((counts.contacts, counts.leads), (3, 0));
}

fn activities_file(rows: usize, bad_row: Option<usize>) -> String {
    let mut text = String::from("id,occurred_at,type,email,domain,url,topic,campaign,channel\n");
    for index in 0..rows {
        let date = if Some(index) == bad_row {
            "2026-02-30T10:00:00Z".to_owned()
        } else {
            format!("2026-03-{:02}T10:{:02}:00Z", 1 + index % 28, index % 60)
        };
        let who = match index % 4 {
            0 => "ann@acme.co.uk,,",
            1 => "someone@globex.com,,",
            2 => ",www.acme.co.uk,",
            _ => "x@unknown-startup.io,,",
        };
        writeln!(
            text,
            "act-{index},{date},page_view,{who}/pricing,Intent Data,Q3 ABM,web"
        )
        .unwrap();
    }
    text
}

#[test]
fn activities_resolve_deduplicate_and_rematch() {
    let mut world = World::new();
    let path = world.file("activities.csv", activities_file(400, None));
    // Activities may arrive before their accounts: kept unmatched, never dropped.
    let report = world.import(ImportKind::Activities, &[&path]).unwrap();
    assert_eq!((report.inserted, report.unmatched), (400, 400));
    accounts(&mut world);
    let contacts = world.file(
        "contacts.csv",
        "email,first_name,account_domain\nann@acme.co.uk,Ann,acme.co.uk\n",
    );
    let report = world.import(ImportKind::Contacts, &[&contacts]).unwrap();
    assert_eq!(report.inserted, 1);
    let counts = world.counts();
    assert_eq!(
        (counts.activities, counts.unmatched_activities),
        (400, 100),
        "only unknown-startup.io stays unmatched"
    );
    let again = world.import(ImportKind::Activities, &[&path]).unwrap();
    assert_eq!(
        (again.inserted, again.unchanged, again.unmatched),
        (0, 400, 100)
    );
    assert_eq!(world.counts().activities, 400);
}

#[test]
fn the_same_activity_twice_in_one_file() {
    let mut world = World::new();
    let same = "id,occurred_at,type,email\na-1,2026-03-01T10:00:00Z,page_view,jo@acme.com\na-1,2026-03-01T10:00:00Z,page_view,jo@acme.com\n";
    let report = world
        .import(ImportKind::Activities, &[&world.file("same.csv", same)])
        .unwrap();
    assert_eq!((report.inserted, report.unchanged), (1, 1));
    let problems = world.refused(
        ImportKind::Activities,
        "twice.csv",
        "id,occurred_at,type,email\nb-1,2026-03-01T10:00:00Z,page_view,jo@acme.com\nb-2,2026-03-01T10:00:00Z,page_view,jo@acme.com\nb-1,2026-03-02T10:00:00Z,email_open,jo@acme.com\n",
    );
    assert_eq!(
        problems,
        [
            "twice.csv:4: activity id \"b-1\" appears twice with different content (first at twice.csv:2); an id names exactly one activity"
        ]
    );
    let problems = world.refused(
        ImportKind::Accounts,
        "accounts-twice.csv",
        "Id,Website,Name\n001A,acme.com,Acme\n001A,acme.com,Acme Corp\n",
    );
    assert_eq!(
        problems,
        [
            "accounts-twice.csv:3: 001A appears twice with different content: lines 2 and 3; keep one"
        ]
    );
}

#[test]
fn a_bad_date_in_row_50000_of_100000_changes_nothing() {
    let mut world = World::new();
    let problems = world.refused(
        ImportKind::Activities,
        "big.csv",
        activities_file(100_000, Some(49_999)),
    );
    assert_eq!(
        problems,
        [
            "big.csv:50001: column \"occurred_at\", value \"2026-02-30T10:00:00Z\": not a timestamp: use RFC 3339, e.g. 2026-03-01T10:00:00Z"
        ]
    );
    assert_eq!(world.counts().activities, 0);
}

#[test]
fn all_or_nothing_across_files_and_up_to_twenty_problems() {
    let mut world = World::new();
    let good = world.file("good.csv", activities_file(10, None));
    let mut bad = String::from("id,occurred_at,type,email\n");
    for index in 0..30 {
        writeln!(bad, "z-{index},2026-03-01T10:00:00Z,teleport,jo@acme.com").unwrap();
    }
    let bad = world.file("bad.csv", bad);
    let problems = match world.import(ImportKind::Activities, &[&good, &bad]) {
        Err(ImportError::Problems(problems)) => problems,
        _ => panic!("expected problems"),
    };
    assert_eq!((problems.listed.len(), problems.total), (20, 30));
    assert!(problems.listed[0].to_string().ends_with("bad.csv:2: column \"type\", value \"teleport\": unknown activity type: use one of page_view, form_fill, content_download, email_sent, email_open, email_click, email_reply, ad_impression, ad_click, webinar_registered, webinar_attended, meeting_held, call, direct_mail, chat, trial_signup, other"), "{}", problems.listed[0]);
    assert_eq!(
        world.counts().activities,
        0,
        "the good file must not be imported either"
    );
}

#[test]
fn dry_run_counts_but_writes_nothing() {
    let mut world = World::new();
    let path = world.file("accounts.csv", SF_ACCOUNTS);
    let report = world
        .import_with(ImportKind::Accounts, &[&path], |options| {
            options.dry_run = true
        })
        .unwrap();
    assert_eq!((report.dry_run, report.inserted), (true, 2));
    assert_eq!(world.counts().accounts, 0);
}

#[test]
fn column_mapping_overrides() {
    let mut world = World::new();
    let path = world.file(
        "odd.csv",
        "Company,Web Address,Stack\nAcme,acme.com,Salesforce;Marketo\n",
    );
    let report = world
        .import_with(ImportKind::Accounts, &[&path], |options| {
            options.overrides = vec![
                abm_ingest::ColumnOverride::parse("Web Address=domain").unwrap(),
                abm_ingest::ColumnOverride::parse("Stack=technologies").unwrap(),
            ];
        })
        .unwrap();
    assert_eq!(report.inserted, 1);
    let (_, acme) = world
        .store
        .account_by_domain(&abm_core::Domain::parse("acme.com").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(acme.technologies.len(), 2);
}

#[test]
fn header_only_is_nothing_to_import() {
    let mut world = World::new();
    let path = world.file("header.csv", "id,occurred_at,type,email\n");
    let report = world.import(ImportKind::Activities, &[&path]).unwrap();
    assert_eq!((report.rows_read, report.inserted), (0, 0));
}

#[test]
fn bad_input_is_refused_with_file_line_column_and_value() {
    let mut world = World::new();
    let cases: Vec<(ImportKind, &str, Vec<u8>, &str)> = vec![
        (ImportKind::Accounts, "empty.csv", b"".to_vec(), "empty.csv: the file is empty: expected a header line and rows"),
        (ImportKind::Accounts, "missing.csv", b"Name,Industry\nAcme,Software\n".to_vec(), "missing.csv:1: missing required column \"domain\" for accounts (a header such as \"domain\", \"companydomainname\", \"website\", \"websiteurl\"); the file's columns are: Name, Industry; map one with --map SOURCE=domain"),
        (ImportKind::Accounts, "duplicate.csv", b"Website,Name,Name\nacme.com,A,B\n".to_vec(), "duplicate.csv:1: duplicate column \"Name\" (columns 2 and 3)"),
        (ImportKind::Accounts, "negative.csv", b"Website,Employees\nacme.com,-5\n".to_vec(), "negative.csv:2: column \"Employees\", value \"-5\": a count cannot be negative"),
        (ImportKind::Intent, "score.csv", b"Company Name,Domain,Topic Name,Composite Score,Date\nAcme,acme.com,Intent Data,140,2026-03-02\n".to_vec(), "score.csv:2: column \"Composite Score\", value \"140\": a score must be from 0 to 100"),
        (ImportKind::Contacts, "email.csv", b"Email,Title\njo.acme.com,CMO\n".to_vec(), "email.csv:2: column \"Email\", value \"jo.acme.com\": not an email address: it has no '@'"),
        (ImportKind::Accounts, "localhost.csv", b"Website\nlocalhost\n".to_vec(), "localhost.csv:2: column \"Website\", value \"localhost\": not a public domain: a company domain has a dot and a public suffix (like acme.com)"),
        (ImportKind::Accounts, "ip.csv", b"Website\nhttp://192.168.1.10/\n".to_vec(), "ip.csv:2: column \"Website\", value \"http://192.168.1.10/\": an IP address is not a company domain"),
        (ImportKind::Accounts, "latin1.csv", b"Website,Name\nacme.com,Soci\xe9t\xe9\n".to_vec(), "latin1.csv:2: column \"Name\", value \"Soci\u{fffd}t\u{fffd}\": not UTF-8 text (invalid byte at position 5): save the file as UTF-8"),
        // A character split across two fields: the row's bytes join into valid UTF-8, the fields do not.
        (ImportKind::Accounts, "split.csv", b"Website,Name,Industry\nacme.com,Soci\xc3,\xa9t\xc3\xa9\n".to_vec(), "split.csv:2: column \"Name\", value \"Soci\u{fffd}\": not UTF-8 text (invalid byte at position 5)"),
        (ImportKind::Activities, "split-activity.csv", b"id,occurred_at,type,domain,campaign,channel\na-1,2026-03-01T10:00:00Z,page_view,acme.com,Q\xc3,\xa9\n".to_vec(), "split-activity.csv:2: column \"campaign\", value \"Q\u{fffd}\": not UTF-8 text (invalid byte at position 2)"),
        (ImportKind::Accounts, "wide.csv", b"Website,Name\nacme.com,Acme,extra\n".to_vec(), "wide.csv:2: this row has 3 fields but the header has 2 (a stray comma or quote?)"),
        (ImportKind::Accounts, "binary.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec(), "binary.csv: this is not a CSV text file (it contains binary data)"),
        (ImportKind::Activities, "json.csv", b"{\"id\": 1, \"type\": \"page_view\"}\n".to_vec(), "json.csv:1: missing required column \"id\""),
        // The line a problem names is the row's own: after empty lines, and in Windows files.
        (ImportKind::Accounts, "gaps.csv", b"Website,Employees\nacme.com,5\n\n\n\nglobex.com,-5\n".to_vec(), "gaps.csv:6: column \"Employees\", value \"-5\""),
        (ImportKind::Accounts, "windows.csv", b"Website,Employees\r\nacme.com,5\r\nglobex.com,-5\r\n".to_vec(), "windows.csv:3: column \"Employees\", value \"-5\""),
        (ImportKind::Activities, "windows-gaps.csv", b"id,occurred_at,type,domain\r\na-1,2026-03-01T10:00:00Z,page_view,acme.com\r\n\r\na-2,yesterday,page_view,acme.com".to_vec(), "windows-gaps.csv:4: column \"occurred_at\", value \"yesterday\""),
    ];
    for (kind, name, contents, expected) in cases {
        let problems = world.refused(kind, name, contents);
        assert!(
            problems[0].starts_with(expected),
            "{name}: got {:?}\nexpected it to start with {expected:?}",
            problems[0]
        );
    }
}

#[test]
fn a_ten_megabyte_line_is_refused() {
    let mut world = World::new();
    let mut contents = b"Website,Name\nacme.com,".to_vec();
    contents.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
    contents.push(b'\n');
    let problems = world.refused(ImportKind::Accounts, "long.csv", contents);
    assert!(
        problems[0].starts_with("long.csv:2: column \"Name\", value \"xxxx"),
        "{}",
        problems[0]
    );
    assert!(
        problems[0]
            .ends_with("value is 10485760 bytes long; the limit is 65536 (an unclosed quote?)"),
        "{}",
        problems[0]
    );
}

/// Large enough (over 50,000 expected rows into a smaller table) for SQLite's bulk lane.
fn bulk_file(rows: usize, extra: &str) -> String {
    let mut text = activities_file(rows, None);
    text.push_str(extra);
    text
}

#[test]
fn the_bulk_lane_deduplicates_like_the_incremental_one() {
    bulk_lane(World::new(), World::new());
    if let (Some(world), Some(fresh)) = (World::postgres(), World::postgres()) {
        bulk_lane(world, fresh);
    }
}

#[test]
fn a_bad_row_on_postgresql_changes_nothing() {
    let Some(mut world) = World::postgres() else {
        return;
    };
    accounts(&mut world);
    let problems = world.refused(
        ImportKind::Activities,
        "big.csv",
        activities_file(2_000, Some(1_500)),
    );
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].starts_with("big.csv:1502: column \"occurred_at\""),
        "{}",
        problems[0]
    );
}

fn bulk_lane(mut world: World, mut fresh: World) {
    accounts(&mut world);
    let generated = activities_file(60_000, None);
    let line = |index: usize| generated.lines().nth(index + 1).unwrap().to_owned();
    // Stored earlier: act-5 with other content than the big file's, act-6 identical.
    let earlier = world.file("earlier.csv", format!("id,occurred_at,type,email,domain,url,topic,campaign,channel\nact-5,2026-01-01T00:00:00Z,call,ann@acme.co.uk,,,,,\n{}\n", line(6)));
    world.import(ImportKind::Activities, &[&earlier]).unwrap();
    // The big file also repeats its own act-7 row (harmless).
    let path = world.file("bulk.csv", bulk_file(60_000, &format!("{}\n", line(7))));
    let report = world.import(ImportKind::Activities, &[&path]).unwrap();
    assert_eq!(report.rows_read, 60_001);
    assert_eq!(
        (report.inserted, report.unchanged, report.kept_existing),
        (59_998, 2, 1),
        "act-5 kept as stored; act-6 and the repeated act-7 unchanged"
    );
    assert_eq!(world.counts().activities, 60_000);
    // The indexes are back: the same file again goes through the incremental lane.
    let again = world.import(ImportKind::Activities, &[&path]).unwrap();
    assert_eq!(
        (again.inserted, again.unchanged, again.kept_existing),
        (0, 60_000, 1)
    );

    // Conflicting repeats inside a bulk load are refused, naming both lines, listed by line
    // (not in the order of ids or of their hashes).
    let problems = fresh.refused(
        ImportKind::Activities,
        "conflict.csv",
        bulk_file(
            60_000,
            "act-30000,2026-03-10T10:09:00Z,email_open,ann@acme.co.uk,,,,,\nact-9,2026-03-10T10:09:00Z,email_open,ann@acme.co.uk,,,,,\nact-41234,2026-03-10T10:09:00Z,email_open,ann@acme.co.uk,,,,,\n",
        ),
    );
    assert_ne!(
        line(9),
        "act-9,2026-03-10T10:09:00Z,email_open,ann@acme.co.uk,,,,,"
    );
    assert_eq!(
        problems,
        [
            "conflict.csv:60002: activity id \"act-30000\" appears twice with different content (first at conflict.csv:30002); an id names exactly one activity",
            "conflict.csv:60003: activity id \"act-9\" appears twice with different content (first at conflict.csv:11); an id names exactly one activity",
            "conflict.csv:60004: activity id \"act-41234\" appears twice with different content (first at conflict.csv:41236); an id names exactly one activity",
        ]
    );
    assert_eq!(fresh.counts().activities, 0);
    let clean = fresh.file("clean.csv", bulk_file(60_000, ""));
    assert_eq!(
        fresh
            .import(ImportKind::Activities, &[&clean])
            .unwrap()
            .inserted,
        60_000,
        "the rolled-back bulk lane left its indexes in place"
    );
}

/// A re-import large enough for the parsing threads to look rows up in the stored log (SQLite
/// loads the stored ids for them): what they find stored is counted unchanged, everything else
/// still meets the writer's checks.
#[test]
fn a_large_reimport_with_changes_counts_every_row_once() {
    let mut world = World::new();
    accounts(&mut world);
    let generated = activities_file(60_000, None);
    let first = world.file("first.csv", &generated);
    assert_eq!(
        world
            .import(ImportKind::Activities, &[&first])
            .unwrap()
            .inserted,
        60_000
    );
    let header = "id,occurred_at,type,email,domain,url,topic,campaign,channel\n";
    let mut again = String::from(header);
    for (index, line) in generated.lines().skip(1).enumerate() {
        if index == 5 {
            // Other content under a stored id: the stored copy is kept.
            again.push_str("act-5,2026-01-01T00:00:00Z,call,ann@acme.co.uk,,,,,\n");
        } else {
            again.push_str(line);
            again.push('\n');
        }
    }
    for index in 0..100 {
        writeln!(
            again,
            "new-{index},2026-04-01T10:00:00Z,email_open,ann@acme.co.uk,,,,,"
        )
        .unwrap();
    }
    // A new row twice, the same both times: stored once.
    again.push_str("new-7,2026-04-01T10:00:00Z,email_open,ann@acme.co.uk,,,,,\n");
    let path = world.file("again.csv", &again);
    let report = world.import(ImportKind::Activities, &[&path]).unwrap();
    assert_eq!(
        (report.inserted, report.unchanged, report.kept_existing),
        (100, 60_000, 1)
    );
    assert_eq!(world.counts().activities, 60_100);

    // A new id twice with different content, among stored rows: refused, naming both lines.
    let mut conflict = String::from(&generated);
    conflict.push_str("late-1,2026-04-01T10:00:00Z,email_open,ann@acme.co.uk,,,,,\n");
    conflict.push_str("late-1,2026-04-02T10:00:00Z,email_open,ann@acme.co.uk,,,,,\n");
    let problems = world.refused(ImportKind::Activities, "conflict.csv", conflict);
    assert_eq!(
        problems,
        [
            "conflict.csv:60003: activity id \"late-1\" appears twice with different content (first at conflict.csv:60002); an id names exactly one activity"
        ]
    );
}
