//! The `abm` binary as a user runs it: real processes, real SQLite files and a real
//! PostgreSQL server (a fresh database per test), exit codes and messages.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn abm(directory: &Path, database_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_abm"))
        .current_dir(directory)
        .env("ABM_DATABASE_URL", database_url)
        .env_remove("ABM_LOG")
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write(directory: &Path, name: &str, contents: &str) -> PathBuf {
    let path = directory.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn sample_files(directory: &Path) {
    write(
        directory,
        "accounts.csv",
        "Id,Name,Website,Industry,NumberOfEmployees,Technologies__c\n001A,Acme,https://www.acme.co.uk,Software,\"1,200\",Salesforce;Marketo\n001B,Globex,globex.com,Manufacturing,5000,SAP\n",
    );
    write(
        directory,
        "contacts.csv",
        "Id,AccountId,FirstName,LastName,Email,Title\n003A,001A,Ann,Lee,ann@acme.co.uk,CMO\n003B,001Z,Bo,Park,bo@hooli.com,CTO\n",
    );
    write(
        directory,
        "leads.csv",
        "Record ID,Email,Job Title,Website URL\n1,cy@globex.com,Engineer,\n2,di@gmail.com,CFO,\n",
    );
    write(
        directory,
        "opportunities.csv",
        "Id,AccountId,Name,StageName,Amount,CreatedDate,CloseDate,IsClosed,IsWon\n006A,001A,Acme expansion,Closed Won,\"50,000\",2026-01-10,2026-03-01,true,true\n",
    );
    write(
        directory,
        "intent.csv",
        "Company Name,Domain,Topic Name,Composite Score,Date\nAcme,acme.co.uk,Intent Data,72,2026-03-02\nNobody,nobody-corp.com,Intent Data,61,2026-03-02\n",
    );
    write(
        directory,
        "activities.csv",
        "id,occurred_at,type,email,domain,url,topic,campaign,channel\na1,2026-03-01T10:00:00Z,page_view,ann@acme.co.uk,,https://x.io/pricing,,,web\na2,2026-03-01T10:01:00Z,email_open,,globex.com,,,,email\na3,2026-03-01T10:02:00Z,page_view,someone@gmail.com,,,,,web\n",
    );
}

fn import_all(directory: &Path, url: &str) {
    for kind in [
        "accounts",
        "contacts",
        "leads",
        "opportunities",
        "intent",
        "activities",
    ] {
        let output = abm(directory, url, &["import", kind, &format!("{kind}.csv")]);
        assert!(
            output.status.success(),
            "import {kind}: {}",
            text(&output.stderr)
        );
    }
}

fn status_json(directory: &Path, url: &str) -> serde_json::Value {
    let output = abm(directory, url, &["status", "--format", "json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn the_same_imports_give_the_same_status_on_sqlite_and_postgresql() {
    let directory = tempfile::tempdir().unwrap();
    sample_files(directory.path());
    let sqlite = "sqlite://./abm.db";
    import_all(directory.path(), sqlite);
    let on_sqlite = status_json(directory.path(), sqlite);
    assert_eq!(on_sqlite["accounts"], 2);
    assert_eq!(on_sqlite["contacts"], 1);
    assert_eq!(
        on_sqlite["leads"], 3,
        "bo@hooli.com waits as a lead until Hooli is imported"
    );
    assert_eq!(on_sqlite["activities"], 3);
    assert_eq!(on_sqlite["unmatched_activities"], 1);
    assert_eq!(on_sqlite["intent_signals"], 2);
    assert_eq!(on_sqlite["opportunities"], 1);
    assert_eq!(on_sqlite["match_rate"], 1.0 / 3.0);
    // Importing everything again changes nothing.
    import_all(directory.path(), sqlite);
    assert_eq!(status_json(directory.path(), sqlite), on_sqlite);

    if let Some(database) = abm_store::testing::PostgresDatabase::create("abm_cli") {
        import_all(directory.path(), &database.url);
        assert_eq!(status_json(directory.path(), &database.url), on_sqlite);
    }
}

#[test]
fn problems_go_to_stderr_with_a_failing_exit_code_and_change_nothing() {
    let directory = tempfile::tempdir().unwrap();
    write(
        directory.path(),
        "bad.csv",
        "Website,Employees\nacme.com,12\nglobex.com,-3\n",
    );
    let output = abm(
        directory.path(),
        "sqlite://./abm.db",
        &["import", "accounts", "bad.csv"],
    );
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(
            "error: bad.csv:3: column \"Employees\", value \"-3\": a count cannot be negative"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("Nothing was imported"), "{stderr}");
    assert_eq!(
        status_json(directory.path(), "sqlite://./abm.db")["accounts"],
        0
    );

    write(directory.path(), "header.csv", "Website,Employees\n");
    let output = abm(
        directory.path(),
        "sqlite://./abm.db",
        &["import", "accounts", "header.csv"],
    );
    assert!(output.status.success());
    assert!(
        text(&output.stdout).contains("Nothing to import: header.csv has a header but no rows.")
    );

    let output = abm(directory.path(), "mysql://nope", &["status"]);
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("is not supported: use sqlite://PATH or postgres://"));
}

#[test]
fn import_summary_and_dry_run() {
    let directory = tempfile::tempdir().unwrap();
    sample_files(directory.path());
    let url = "sqlite://./abm.db";
    let output = abm(
        directory.path(),
        url,
        &[
            "import",
            "accounts",
            "accounts.csv",
            "--dry-run",
            "--report",
            "json",
        ],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        (report["dry_run"].clone(), report["inserted"].clone()),
        (true.into(), 2.into())
    );
    assert_eq!(status_json(directory.path(), url)["accounts"], 0);
    let output = abm(
        directory.path(),
        url,
        &["import", "accounts", "accounts.csv"],
    );
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("accounts.csv (salesforce format, 2 rows)"),
        "{stdout}"
    );
    assert!(stdout.contains("inserted    2"), "{stdout}");
}

#[test]
fn the_demo_uses_its_own_database_and_refuses_a_database_with_data() {
    let directory = tempfile::tempdir().unwrap();
    let run_demo = || {
        let output = Command::new(env!("CARGO_BIN_EXE_abm"))
            .current_dir(directory.path())
            .env_remove("ABM_DATABASE_URL")
            .args(["demo", "--accounts", "150", "--seed", "3"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", text(&output.stderr));
        text(&output.stdout)
    };
    let first = run_demo();
    assert!(
        first.contains(
            "database: sqlite://./abm-demo.db (the demo's own file; your ./abm.db is untouched)"
        ),
        "{first}"
    );
    assert!(first.contains("lead-to-account match rate"), "{first}");
    assert!(directory.path().join("abm-demo.db").exists());
    assert!(!directory.path().join("abm.db").exists());
    let status = status_json(directory.path(), "sqlite://./abm-demo.db");
    assert_eq!(status["accounts"], 150);
    assert!(status["activities"].as_u64().unwrap() > 1000, "{status}");
    assert!(
        status["unmatched_activities"].as_u64().unwrap() > 0,
        "the demo has noise that stays unmatched"
    );
    // A second run starts from the same world.
    run_demo();
    assert_eq!(
        status_json(directory.path(), "sqlite://./abm-demo.db"),
        status
    );

    // Into a named database that holds data: refused, nothing added.
    let output = abm(
        directory.path(),
        "sqlite://./abm-demo.db",
        &["demo", "--accounts", "10"],
    );
    assert!(!output.status.success());
    assert!(
        text(&output.stderr)
            .contains("already holds data; the demo only writes into an empty database")
    );
    assert_eq!(
        status_json(directory.path(), "sqlite://./abm-demo.db"),
        status
    );
}

/// A bulk load killed part-way (SIGKILL, as a crash would stop it) leaves the database as it
/// was, and the same import then goes through whole. (A load large enough to spill pages into
/// the file before it is killed — hundreds of MB — was checked by hand: the next command rolls
/// the hot journal back; see bench/README.md.)
#[test]
fn a_bulk_import_killed_part_way_leaves_the_database_as_it_was() {
    let directory = tempfile::tempdir().unwrap();
    let database = directory.path().join("abm.db");
    let url = format!("sqlite://{}", database.display());
    sample_files(directory.path());
    assert!(
        abm(
            directory.path(),
            &url,
            &["import", "accounts", "accounts.csv"]
        )
        .status
        .success()
    );
    let mut rows = String::from("id,occurred_at,type,email,domain,url,topic,campaign,channel\n");
    for index in 0..300_000 {
        rows.push_str(&format!(
            "bulk-{index},2026-03-01T10:00:00Z,page_view,p{}@acme.co.uk,,https://www.acme.co.uk/pricing?ref={index},,Q3 ABM Tier 1,web\n",
            index % 500
        ));
    }
    write(directory.path(), "bulk.csv", &rows);
    let mut import = Command::new(env!("CARGO_BIN_EXE_abm"))
        .current_dir(directory.path())
        .env("ABM_DATABASE_URL", &url)
        .args(["import", "activities", "bulk.csv"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The rollback journal appears with the load's first write to the file.
    let journal = directory.path().join("abm.db-journal");
    let started = std::time::Instant::now();
    while !journal.exists() && import.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the import never wrote"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let killed_mid_load = import.try_wait().unwrap().is_none();
    import.kill().unwrap();
    import.wait().unwrap();
    assert!(
        killed_mid_load,
        "the import finished before it could be killed"
    );
    let status = abm(directory.path(), &url, &["status", "--format", "json"]);
    assert!(status.status.success(), "{}", text(&status.stderr));
    let counts: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(counts["accounts"], 2);
    assert_eq!(counts["activities"], 0);
    let again = abm(
        directory.path(),
        &url,
        &["import", "activities", "bulk.csv"],
    );
    assert!(again.status.success(), "{}", text(&again.stderr));
    let status = abm(directory.path(), &url, &["status", "--format", "json"]);
    let counts: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(counts["activities"], 300_000);
}
