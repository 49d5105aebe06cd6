//! Scoring as a user runs it: `abm init`, scores that follow imports, `abm accounts`,
//! `abm account --why`, `abm backtest`, on a real SQLite file and a real PostgreSQL server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::days_ago;

use std::path::Path;
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

fn ok(directory: &Path, url: &str, args: &[&str]) -> String {
    let output = abm(directory, url, args);
    assert!(
        output.status.success(),
        "abm {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn fails(directory: &Path, url: &str, args: &[&str]) -> String {
    let output = abm(directory, url, args);
    assert!(!output.status.success(), "abm {args:?} should fail");
    String::from_utf8(output.stderr).unwrap()
}

fn write_world(directory: &Path) {
    let files = [
        (
            "accounts.csv",
            "Id,Name,Website,Industry,NumberOfEmployees,Technologies__c\n001A,Acme,acme.com,Software,\"1,200\",Salesforce\n001B,Globex,globex.com,Manufacturing,5000,SAP\n001C,Initech,initech.com,,,\n".to_owned(),
        ),
        (
            "contacts.csv",
            "Id,AccountId,FirstName,LastName,Email,Title\n003A,001A,Ann,Lee,ann@acme.com,CMO\n003B,001A,Bo,Park,bo@acme.com,VP Sales\n003C,001A,Cy,Kim,cy@acme.com,RevOps Manager\n003D,001B,Di,Ng,di@globex.com,Engineer\n".to_owned(),
        ),
        (
            "opportunities.csv",
            "Id,AccountId,Name,StageName,Amount,CreatedDate,CloseDate,IsClosed,IsWon\n006A,001B,Globex deal,Closed Won,\"50,000\",2025-01-10,2025-03-01,true,true\n".to_owned(),
        ),
        (
            "intent.csv",
            format!(
                "Company Name,Domain,Topic Name,Composite Score,Date\nAcme,acme.com,Intent Data,72,{}\nAcme,acme.com,Intent Data,75,{}\n",
                &days_ago(17)[..10],
                &days_ago(10)[..10]
            ),
        ),
        (
            "activities.csv",
            format!(
                "id,occurred_at,type,email,domain,url,topic,campaign,channel\n\
                 a1,{},page_view,ann@acme.com,,https://acme.example/pricing,,,web\n\
                 a2,{},meeting_held,bo@acme.com,,,,,\n\
                 a3,{},form_fill,cy@acme.com,,,,,web\n\
                 a4,{},email_open,di@globex.com,,,,,email\n",
                days_ago(5),
                days_ago(4),
                days_ago(2),
                days_ago(20)
            ),
        ),
    ];
    for (name, contents) in files {
        std::fs::write(directory.join(name), contents).unwrap();
    }
}

fn import_world(directory: &Path, url: &str) {
    for kind in [
        "accounts",
        "contacts",
        "opportunities",
        "intent",
        "activities",
    ] {
        ok(directory, url, &["import", kind, &format!("{kind}.csv")]);
    }
}

/// Every score's shown contributions add up to its shown value.
fn assert_contributions_add_up(account: &serde_json::Value) {
    for name in ["fit", "intent", "engagement", "priority"] {
        let score = &account["scores"][name];
        let value = score["value"].as_f64().unwrap();
        let sum: f64 = score["contributions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["points"].as_f64().unwrap())
            .sum();
        assert!(
            (value - sum).abs() < 1e-6,
            "{name}: {value} vs {sum}: {score}"
        );
        assert!((0.0..=100.0).contains(&value), "{name} {value}");
    }
}

#[test]
fn init_writes_documented_defaults_once_and_checks_an_existing_file() {
    let directory = tempfile::tempdir().unwrap();
    let url = "sqlite://./abm.db";
    let out = ok(directory.path(), url, &["init"]);
    assert!(out.contains("Wrote ./abm.toml"), "{out}");
    assert!(directory.path().join("abm.db").exists());
    let written = std::fs::read_to_string(directory.path().join("abm.toml")).unwrap();
    assert!(written.contains("[engagement.weights]") && written.contains("# "));
    // A second init keeps the file (even edited) and says it is valid.
    std::fs::write(directory.path().join("abm.toml"), "[priority]\nfit = 0.5\n").unwrap();
    assert!(ok(directory.path(), url, &["init"]).contains("exists and is valid"));
    assert_eq!(
        std::fs::read_to_string(directory.path().join("abm.toml")).unwrap(),
        "[priority]\nfit = 0.5\n"
    );
    // A bad value is refused with its line, by every command that reads the file.
    std::fs::write(
        directory.path().join("abm.toml"),
        "[priority]\n\nfit = 140\n",
    )
    .unwrap();
    let error = fails(directory.path(), url, &["init"]);
    assert!(
        error.contains("line 3") && error.contains("allowed 0 to 100"),
        "{error}"
    );
    let error = fails(directory.path(), url, &["score"]);
    assert!(error.contains("line 3"), "{error}");
}

#[test]
fn scores_follow_imports_and_explain_themselves_on_both_backends() {
    let directory = tempfile::tempdir().unwrap();
    write_world(directory.path());
    let mut urls = vec!["sqlite://./abm.db".to_owned()];
    let database = abm_store::testing::PostgresDatabase::create("abm_scores");
    if let Some(database) = &database {
        urls.push(database.url.clone());
    }
    let mut listings = Vec::new();
    for url in &urls {
        import_world(directory.path(), url);
        // The imports scored the accounts: the list is there without `abm score`.
        let csv = ok(directory.path(), url, &["accounts", "--format", "csv"]);
        let mut lines = csv.lines();
        assert_eq!(
            lines.next(),
            Some("domain,name,priority,fit,intent,engagement,stage,tier")
        );
        let first = lines.next().unwrap();
        assert!(
            first.starts_with("acme.com,Acme,"),
            "Acme is in a buying cycle: {csv}"
        );
        assert_eq!(csv.lines().count(), 4);

        let why: serde_json::Value = serde_json::from_str(&ok(
            directory.path(),
            url,
            &["account", "acme.com", "--why", "--format", "json"],
        ))
        .unwrap();
        assert_contributions_add_up(&why);
        let names: Vec<&str> = why["scores"]["intent"]["contributions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert!(
            names
                .iter()
                .any(|n| n.starts_with("'Intent Data' surging 2 of the last 8 weeks")),
            "{names:?}"
        );
        assert!(
            names.iter().any(|n| n.starts_with("research 'Pricing'")),
            "{names:?}"
        );
        // No ICP rules and too few customers to learn from: fit cannot qualify Acme, but its
        // three active people make it engaged.
        assert_eq!(why["stage"], "engaged", "{why}");
        let globex: serde_json::Value = serde_json::from_str(&ok(
            directory.path(),
            url,
            &["account", "globex.com", "--format", "json"],
        ))
        .unwrap();
        assert_eq!(globex["stage"], "customer", "{url}: {globex}");
        // Scored as a target when its account was imported, a customer once its won deal was.
        let history = globex["stage_history"].as_array().unwrap();
        assert_eq!(history.len(), 2, "{globex}");
        assert_eq!(
            (&history[0]["from"], &history[0]["to"]),
            (&serde_json::Value::Null, &"target".into())
        );
        assert_eq!(
            (&history[1]["from"], &history[1]["to"]),
            (&"target".into(), &"customer".into())
        );
        let unknown: serde_json::Value = serde_json::from_str(&ok(
            directory.path(),
            url,
            &["account", "initech.com", "--why", "--format", "json"],
        ))
        .unwrap();
        assert_contributions_add_up(&unknown);

        // A new meeting shows in the stored scores right after its import.
        let before = engagement_of(directory.path(), url, "globex.com");
        std::fs::write(
            directory.path().join("more.csv"),
            format!(
                "id,occurred_at,type,email,domain,url,topic,campaign,channel\nm1,{},meeting_held,di@globex.com,,,,,\n",
                days_ago(1)
            ),
        )
        .unwrap();
        let out = ok(directory.path(), url, &["import", "activities", "more.csv"]);
        assert!(out.contains("rescored"), "{out}");
        assert!(engagement_of(directory.path(), url, "globex.com") > before);

        // As of a past date only what was known then counts: nothing had happened yet.
        let past = ok(
            directory.path(),
            url,
            &["accounts", "--as-of", "2024-01-01", "--format", "json"],
        );
        let past: serde_json::Value = serde_json::from_str(&past).unwrap();
        assert!(
            past.as_array()
                .unwrap()
                .iter()
                .all(|a| a["engagement"] == 0.0 && a["intent"] == 0.0),
            "{past}"
        );
        listings.push(past);
        let top = ok(
            directory.path(),
            url,
            &["accounts", "--top", "1", "--stage", "customer"],
        );
        assert!(
            top.contains("globex.com") && !top.contains("acme.com"),
            "{top}"
        );
    }
    if listings.len() == 2 {
        assert_eq!(
            listings[0], listings[1],
            "SQLite and PostgreSQL score alike"
        );
    }
}

fn engagement_of(directory: &Path, url: &str, domain: &str) -> f64 {
    let json: serde_json::Value =
        serde_json::from_str(&ok(directory, url, &["accounts", "--format", "json"])).unwrap();
    json.as_array()
        .unwrap()
        .iter()
        .find(|a| a["domain"] == domain)
        .unwrap()["engagement"]
        .as_f64()
        .unwrap()
}

#[test]
fn bad_arguments_are_clear_errors() {
    let directory = tempfile::tempdir().unwrap();
    write_world(directory.path());
    let url = "sqlite://./abm.db";
    import_world(directory.path(), url);
    let cases: [(&[&str], &str); 5] = [
        (
            &["account", "nosuch.com"],
            "no account owns the domain nosuch.com",
        ),
        (&["account", "localhost"], "is not a domain"),
        (
            &["accounts", "--as-of", "March"],
            "--as-of \"March\": expected a date",
        ),
        (
            &["accounts", "--stage", "hot"],
            "expected one of target, aware",
        ),
        (
            &["backtest", "--as-of", "2026-01-01", "--horizon", "0d"],
            "--horizon \"0d\"",
        ),
    ];
    for (args, message) in cases {
        let error = fails(directory.path(), url, args);
        assert!(error.contains(message), "{args:?}: {error}");
    }
}

#[test]
fn the_demo_is_scored_and_the_backtest_compares_with_the_naive_ranking() {
    let directory = tempfile::tempdir().unwrap();
    let url = "sqlite://./world.db";
    let out = ok(
        directory.path(),
        url,
        &["demo", "--accounts", "600", "--seed", "11"],
    );
    assert!(out.contains("Scored 600 accounts"), "{out}");
    // The demo replays a year of weekly scoring: customers show how they got there, in order.
    let csv = ok(
        directory.path(),
        url,
        &["accounts", "--stage", "customer", "--format", "csv"],
    );
    // Customers who won within the replayed year show the way there (one who won earlier
    // shows only "customer"); every history reads in order and ends at customer.
    let mut chosen = None;
    for line in csv.lines().skip(1).take(30) {
        let domain = line.split(',').next().unwrap().to_owned();
        let account: serde_json::Value = serde_json::from_str(&ok(
            directory.path(),
            url,
            &["account", &domain, "--format", "json"],
        ))
        .unwrap();
        let history = account["stage_history"].as_array().unwrap().clone();
        assert!(!history.is_empty(), "{account}");
        assert_eq!(history.last().unwrap()["to"], "customer");
        for pair in history.windows(2) {
            assert_eq!(pair[0]["to"], pair[1]["from"], "{account}");
            assert!(pair[0]["changed_at"].as_str() < pair[1]["changed_at"].as_str());
        }
        if history.len() >= 2 && chosen.is_none() {
            chosen = Some((domain, history));
        }
    }
    let (customer, history) = chosen.expect("a customer won within the replayed year");
    // Replaying again rebuilds the history rather than adding to it.
    ok(directory.path(), url, &["score", "--replay", "8w"]);
    let again: serde_json::Value = serde_json::from_str(&ok(
        directory.path(),
        url,
        &["account", &customer, "--format", "json"],
    ))
    .unwrap();
    let rebuilt = again["stage_history"].as_array().unwrap();
    assert!(
        !rebuilt.is_empty() && rebuilt.len() <= history.len(),
        "{again}"
    );
    let as_of = days_ago(150);
    let json: serde_json::Value = serde_json::from_str(&ok(
        directory.path(),
        url,
        &["backtest", "--as-of", &as_of[..10], "--format", "json"],
    ))
    .unwrap();
    let backtest = &json[0]["backtest"];
    assert!(
        backtest["priority"]["positives"].as_u64().unwrap() > 0,
        "{backtest}"
    );
    for ranking in ["priority", "fit", "intent", "engagement", "activity_count"] {
        let auc = backtest[ranking]["auc"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&auc), "{ranking}: {auc}");
    }
    let table = ok(
        directory.path(),
        url,
        &["backtest", "--as-of", &as_of[..10]],
    );
    assert!(
        table.contains("activity count, last 90 days (naive)") && table.contains("Calibration"),
        "{table}"
    );
}

#[test]
fn tune_learns_from_history_writes_a_usable_config_and_never_overwrites() {
    let directory = tempfile::tempdir().unwrap();
    let url = "sqlite://./world.db";
    ok(
        directory.path(),
        url,
        &["demo", "--accounts", "1500", "--seed", "21"],
    );
    let out = ok(directory.path(), url, &["tune", "--out", "tuned.toml"]);
    assert!(
        out.contains("Learned from") && out.contains("Validated as of"),
        "{out}"
    );
    assert!(
        out.contains("tuned (tuned.toml)") && out.contains("Wrote tuned.toml"),
        "{out}"
    );
    let written = std::fs::read_to_string(directory.path().join("tuned.toml")).unwrap();
    assert!(written.starts_with("# Written by `abm tune") && written.contains("[priority.model]"));
    assert!(
        written.contains("[fit.lookalike"),
        "the demo has enough customers to learn from"
    );
    // The file is a complete config: the scores can be listed and explained with it, and a
    // learned priority still adds up.
    let json = ok(
        directory.path(),
        url,
        &[
            "--config",
            "tuned.toml",
            "accounts",
            "--as-of",
            &days_ago(1)[..10],
            "--top",
            "3",
            "--format",
            "json",
        ],
    );
    let top: serde_json::Value = serde_json::from_str(&json).unwrap();
    let domain = top[0]["domain"].as_str().unwrap().to_owned();
    let why: serde_json::Value = serde_json::from_str(&ok(
        directory.path(),
        url,
        &[
            "--config",
            "tuned.toml",
            "account",
            &domain,
            "--why",
            "--as-of",
            &days_ago(1)[..10],
            "--format",
            "json",
        ],
    ))
    .unwrap();
    assert_contributions_add_up(&why);
    assert!(
        why["scores"]["fit"]["contributions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "look-alike base rate"),
        "{why}"
    );
    assert!(
        why["scores"]["priority"]["contributions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "base rate (learned)"),
        "{why}"
    );
    // Never overwritten.
    let error = fails(directory.path(), url, &["tune", "--out", "tuned.toml"]);
    assert!(error.contains("tuned.toml exists"), "{error}");
    assert_eq!(
        std::fs::read_to_string(directory.path().join("tuned.toml")).unwrap(),
        written
    );
    // Too little history is a clear error, not a model of noise.
    let small = "sqlite://./small.db";
    write_world(directory.path());
    import_world(directory.path(), small);
    let error = fails(directory.path(), small, &["tune", "--out", "small.toml"]);
    assert!(error.contains("too little history"), "{error}");
    assert!(!directory.path().join("small.toml").exists());
}
