//! Reports as a marketing leader reads them, on a real SQLite file and a real PostgreSQL
//! server: a small world with known pipeline, coverage and match rate, whose figures must come
//! out exactly — in the JSON shapes scripts rely on, the same on both backends, over the API
//! as on the command line — and bad periods refused by name.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

fn write(directory: &Path, name: &str, contents: &str) {
    std::fs::write(directory.join(name), contents).unwrap();
}

fn ok(directory: &Path, url: &str, args: &[&str]) -> String {
    common::ok(directory, url, args, "")
}

fn json(directory: &Path, url: &str, args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    serde_json::from_str(&ok(directory, url, &all)).unwrap()
}

fn fails(directory: &Path, url: &str, args: &[&str]) -> String {
    let output = common::run(directory, url, args, "");
    assert!(!output.status.success(), "abm {args:?} should fail");
    String::from_utf8(output.stderr).unwrap()
}

const Q1: [&str; 4] = ["--from", "2026-01-01", "--to", "2026-03-31"];
const MARCH: [&str; 4] = ["--from", "2026-03-01", "--to", "2026-03-31"];

fn world(dir: &Path, url: &str) {
    write(
        dir,
        "accounts.csv",
        "Id,Name,Website,Industry\n\
         001A,Acme,acme.com,Software\n\
         001B,Globex,globex.de,Manufacturing\n\
         001C,Initech,initech.ca,Software\n\
         001D,Umbrella,umbrella.com,Pharma\n",
    );
    write(
        dir,
        "contacts.csv",
        "Id,AccountId,FirstName,LastName,Email,Title\n\
         003A,001A,Ann,Lee,ann@acme.com,CMO\n\
         003B,001A,Bo,Park,bo@acme.com,CFO\n\
         003C,001B,Cy,Kim,cy@globex.de,Head of Marketing\n",
    );
    write(
        dir,
        "opportunities.csv",
        "Id,AccountId,Name,StageName,Amount,CreatedDate,CloseDate,IsClosed,IsWon\n\
         006A,001A,Acme platform,Closed Won,100000,2026-01-10,2026-03-01,true,true\n\
         006B,001B,Globex pilot,Closed Lost,20000,2026-02-01,2026-02-11,true,false\n\
         006C,001B,Globex rollout,Closed Won,30000,2026-02-15,2026-03-17,true,true\n\
         006D,001D,Umbrella trial,Proposal,10000,2026-01-05,,false,false\n\
         006E,001C,Initech later,Proposal,5000,2026-04-01,,false,false\n",
    );
    // March: Ann fills two forms (16 points: engaged); Cy views three pages (3 points: not);
    // one visit from a company abm does not know.
    write(
        dir,
        "activities.csv",
        "id,occurred_at,type,email,domain,url,topic,campaign,channel\n\
         r1,2026-03-03T10:00:00Z,form_fill,ann@acme.com,,https://acme.example/demo,Data Privacy,,\n\
         r2,2026-03-04T10:00:00Z,form_fill,ann@acme.com,,https://acme.example/trial,Data Privacy,,\n\
         r3,2026-03-05T10:00:00Z,page_view,cy@globex.de,,https://ourco.com/pricing,,,\n\
         r4,2026-03-05T11:00:00Z,page_view,cy@globex.de,,https://ourco.com/pricing,,,\n\
         r5,2026-03-05T12:00:00Z,page_view,cy@globex.de,,https://ourco.com/pricing,,,\n\
         r6,2026-03-06T09:00:00Z,page_view,,unknown-co.com,https://ourco.com/,,,\n",
    );
    ok(dir, url, &["import", "accounts", "accounts.csv"]);
    ok(dir, url, &["import", "contacts", "contacts.csv"]);
    ok(dir, url, &["import", "opportunities", "opportunities.csv"]);
    ok(dir, url, &["import", "activities", "activities.csv"]);
    ok(dir, url, &["score"]);
    for (tier, domain) in [
        ("1:1", "acme.com"),
        ("1:many", "globex.de"),
        ("1:many", "initech.ca"),
    ] {
        ok(
            dir,
            url,
            &[
                "tal",
                "propose",
                "--reason",
                "ICP",
                "--tier",
                tier,
                "--sales-owner",
                "sam@ourco.com",
                "--marketing-owner",
                "mia@ourco.com",
                domain,
            ],
        );
        ok(dir, url, &["tal", "approve", "--reason", "agreed", domain]);
    }
}

/// The figures every backend must give; returns the JSON documents compared across them.
fn reports_story(url: &str) -> Vec<serde_json::Value> {
    let directory = tempfile::tempdir().unwrap();
    let dir = directory.path();
    world(dir, url);

    let mut pipeline_args = vec!["report", "pipeline"];
    pipeline_args.extend(Q1);
    let pipeline = json(dir, url, &pipeline_args);
    let tal = &pipeline["tal"];
    assert_eq!(tal["opportunities"], 3, "{pipeline}");
    assert_eq!(tal["amount"], 150_000.0);
    assert_eq!(tal["won"], 2);
    assert_eq!(tal["won_amount"], 130_000.0);
    assert_eq!(tal["win_rate"], 0.6667);
    assert_eq!(tal["avg_deal_size"], 65_000.0);
    assert_eq!(tal["median_cycle_days"], 40.0, "50 and 30 days");
    let non_tal = &pipeline["non_tal"];
    assert_eq!(
        non_tal["opportunities"], 1,
        "Umbrella; Initech's comes in April"
    );
    assert_eq!(non_tal["amount"], 10_000.0);
    assert_eq!(non_tal["won"], 0);
    assert!(non_tal["win_rate"].is_null(), "nothing closed: no rate");
    assert_eq!(pipeline["by_tier"][0]["name"], "1:1");
    assert_eq!(pipeline["by_tier"][0]["amount"], 100_000.0);

    let mut coverage_args = vec!["report", "coverage"];
    coverage_args.extend(MARCH);
    let coverage = json(dir, url, &coverage_args);
    let tiers = coverage["tiers"].as_array().unwrap();
    assert_eq!(tiers.len(), 2);
    assert_eq!(
        (
            &tiers[0]["tier"],
            &tiers[0]["accounts"],
            &tiers[0]["engaged"],
            &tiers[0]["share"]
        ),
        (&"1:1".into(), &1.into(), &1.into(), &1.0.into())
    );
    assert_eq!(
        (
            &tiers[1]["tier"],
            &tiers[1]["accounts"],
            &tiers[1]["engaged"]
        ),
        (&"1:many".into(), &2.into(), &0.into())
    );
    assert_eq!(coverage["total"]["accounts"], 3);
    assert_eq!(coverage["total"]["engaged"], 1);
    assert_eq!(coverage["total"]["share"], 0.3333);
    assert!(
        coverage["definitions"][0]["meaning"]
            .as_str()
            .unwrap()
            .contains("10 points")
    );

    let mut match_args = vec!["report", "match-rate"];
    match_args.extend(MARCH);
    let matched = json(dir, url, &match_args);
    assert_eq!(matched["activities"], 6);
    assert_eq!(matched["unmatched"], 1);
    assert_eq!(matched["activity_match_rate"], 0.8333);
    assert_eq!(
        matched["top_unmatched_domains"][0]["domain"],
        "unknown-co.com"
    );

    let mut engagement_args = vec!["report", "engagement"];
    engagement_args.extend(MARCH);
    let engagement = json(dir, url, &engagement_args);
    assert_eq!(engagement["engaged_accounts"], 1);
    assert_eq!(
        engagement["people"]["top_accounts"][0]["domain"],
        "acme.com"
    );
    assert_eq!(engagement["topics"][0]["item"], "Data Privacy");

    // New activity is rolled up when a report is asked for: Globex's two forms engage it.
    write(
        dir,
        "more.csv",
        "id,occurred_at,type,email,domain,url,topic,campaign,channel\n\
         r7,2026-03-10T10:00:00Z,form_fill,cy@globex.de,,,,,\n\
         r8,2026-03-11T10:00:00Z,form_fill,cy@globex.de,,,,,\n",
    );
    ok(dir, url, &["import", "activities", "more.csv"]);
    let coverage = json(dir, url, &coverage_args);
    assert_eq!(coverage["total"]["engaged"], 2, "{coverage}");
    // The unknown company becomes an account: its visit is matched, the rate follows.
    write(
        dir,
        "unknown.csv",
        "Id,Name,Website\n001E,Unknown Co,unknown-co.com\n",
    );
    ok(dir, url, &["import", "accounts", "unknown.csv"]);
    let matched = json(dir, url, &match_args);
    assert_eq!(matched["unmatched"], 0, "{matched}");
    assert_eq!(matched["activity_match_rate"], 1.0);

    // Every report answers in all three formats, with its definitions.
    for name in [
        "coverage",
        "engagement",
        "buying-group",
        "match-rate",
        "pipeline",
        "velocity",
        "plays",
        "efficiency",
        "scoring",
    ] {
        let mut args = vec!["report", name];
        args.extend(Q1);
        let table = ok(dir, url, &args);
        assert!(table.contains("Definitions"), "{name}: {table}");
        args.extend(["--format", "csv"]);
        let csv = ok(dir, url, &args);
        assert!(csv.lines().count() >= 1, "{name}: {csv}");
        let mut json_args = vec!["report", name];
        json_args.extend(Q1);
        let document = json(dir, url, &json_args);
        assert!(
            document["definitions"]
                .as_array()
                .is_some_and(|d| !d.is_empty())
        );
    }
    let buying = json(
        dir,
        url,
        &[
            "report",
            "buying-group",
            "--from",
            "2026-03-01",
            "--to",
            "2026-03-31",
        ],
    );
    let one = buying["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tier"] == "1:1")
        .unwrap();
    assert_eq!(one["accounts"], 1);
    assert!(
        one["known_share"].as_f64().unwrap() > 0.0,
        "Acme's CMO and CFO hold roles: {buying}"
    );

    // The weekly summary: one self-contained page with its charts.
    ok(
        dir,
        url,
        &[
            "report",
            "weekly",
            "--html",
            "--to",
            "2026-03-31",
            "--out",
            "weekly.html",
        ],
    );
    let page = std::fs::read_to_string(dir.join("weekly.html")).unwrap();
    assert!(page.starts_with("<!doctype html>"));
    assert!(page.contains("<svg"), "charts are inline");
    assert!(!page.contains("src=\"http"), "no external asset");
    for section in ["Coverage", "Pipeline", "Velocity", "Plays", "Scoring"] {
        assert!(
            page.contains(&format!("<h2>{section}")),
            "{section} missing"
        );
    }

    // Bad input: named, nothing printed on standard output.
    let error = fails(dir, url, &["report", "pipeline", "--from", "2026-02-30"]);
    assert!(
        error.contains("--from") && error.contains("2026-02-30"),
        "{error}"
    );
    let error = fails(
        dir,
        url,
        &[
            "report",
            "pipeline",
            "--from",
            "2026-04-01",
            "--to",
            "2026-03-01",
        ],
    );
    assert!(error.contains("after"), "{error}");
    let error = fails(dir, url, &["report", "waterfalls"]);
    assert!(
        error.contains("waterfalls") && error.contains("pipeline"),
        "{error}"
    );

    vec![pipeline, coverage, matched]
}

#[test]
fn reports_on_sqlite_and_postgres_agree() {
    let on_sqlite = reports_story("sqlite://./abm.db");
    let Some(database) = abm_store::testing::PostgresDatabase::create("abm_reports") else {
        return;
    };
    let on_postgres = reports_story(&database.url);
    assert_eq!(on_sqlite, on_postgres, "SQLite and PostgreSQL disagree");
}

#[test]
fn reports_over_the_api_and_pages_are_the_cli_reports() {
    let directory = tempfile::tempdir().unwrap();
    let dir = directory.path();
    let url = "sqlite://./abm.db";
    world(dir, url);
    common::ok(
        dir,
        url,
        &["user", "add", "admin@ourco.com", "--role", "admin"],
        "correct horse battery\n",
    );
    let admin = ["--as", "admin@ourco.com"];
    common::ok(
        dir,
        url,
        &[
            "user",
            "add",
            "vi@ourco.com",
            "--role",
            "viewer",
            admin[0],
            admin[1],
        ],
        "",
    );
    let token = ok(
        dir,
        url,
        &["token", "create", "vi@ourco.com", admin[0], admin[1]],
    )
    .trim()
    .to_owned();
    let mut args = vec!["report", "pipeline"];
    args.extend(Q1);
    let from_cli = json(dir, url, &args);
    let (_server, base) = common::serve(dir, url);
    let client = reqwest::blocking::Client::new();

    let list: serde_json::Value = client
        .get(format!("{base}/api/v1/reports"))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "velocity")
    );
    let response = client
        .get(format!(
            "{base}/api/v1/reports/pipeline?from=2026-01-01&to=2026-03-31"
        ))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let from_api: serde_json::Value = response.json().unwrap();
    assert_eq!(from_api, from_cli);

    let response = client
        .get(format!("{base}/api/v1/reports/pipeline?from=yesterday"))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(response.status(), 400);
    let problem: serde_json::Value = response.json().unwrap();
    assert!(problem.to_string().contains("from"), "{problem}");
    let response = client
        .get(format!("{base}/api/v1/reports/nope"))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(response.status(), 404);
    let response = client
        .get(format!("{base}/api/v1/reports/pipeline"))
        .send()
        .unwrap();
    assert_eq!(response.status(), 401, "no token, no report");

    let page = client
        .get(format!(
            "{base}/reports/coverage?from=2026-03-01&to=2026-03-31"
        ))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        page.contains("<svg") && page.contains("Definitions"),
        "{page}"
    );
    let weekly = client
        .get(format!("{base}/reports/weekly?to=2026-03-31"))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(weekly.contains("Weekly summary") && weekly.contains("<svg"));
}
