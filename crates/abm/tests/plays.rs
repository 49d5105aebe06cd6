//! Plays as a user runs them, on a real SQLite file and a real PostgreSQL server: the
//! configured plays listed, and the dry run of a play over a small world whose people test
//! every rule of the guard that data can reach (opt-out, GDPR and CASL lawful basis, a rep's
//! meeting, quiet hours), with bad configurations refused by name.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::days_ago;
use std::path::Path;

const CONFIG: &str = r#"
[channels.webhooks.sales-alerts]
url = "http://127.0.0.1:9/alerts"
format = "slack"

[templates.hello]
subject = "{{ account.name }}: a question"
body = "Hi {{ contact.first_name }},\n{{ blocks.proof }}\n"

[blocks.proof]
default = "Teams like yours use us."

[[plays]]
name = "many-hello"
trigger = { kind = "tier", tier = "1:many" }

[[plays.steps]]
channel = "email"
template = "hello"

[[plays.steps]]
channel = "task"
task = "call"
wait_days = 2

[[plays.steps]]
channel = "alert"
webhook = "sales-alerts"
"#;

fn write(directory: &Path, name: &str, contents: &str) {
    std::fs::write(directory.join(name), contents).unwrap();
}

fn ok(directory: &Path, url: &str, args: &[&str]) -> String {
    common::ok(directory, url, args, "")
}

fn fails(directory: &Path, url: &str, args: &[&str]) -> String {
    let output = common::run(directory, url, args, "");
    assert!(!output.status.success(), "abm {args:?} should fail");
    String::from_utf8(output.stderr).unwrap()
}

fn world(directory: &Path, url: &str) {
    write(
        directory,
        "accounts.csv",
        "Id,Name,Website,Industry,BillingCountry\n\
         001A,Acme,acme.com,Software,United States\n\
         001B,Globex,globex.de,Manufacturing,Germany\n\
         001C,Initech,initech.ca,Software,Canada\n",
    );
    write(
        directory,
        "contacts.csv",
        "Id,AccountId,FirstName,LastName,Email,Title,HasOptedOutOfEmail,Lawful_Basis__c\n\
         003A,001A,Ann,Lee,ann@acme.com,CMO,false,\n\
         003B,001A,Bo,Park,bo@acme.com,\"VP, Sales\",true,\n\
         003C,001B,Cy,Kim,cy@globex.de,Head of Marketing,false,\n\
         003D,001B,Di,Ng,di@globex.de,CFO,false,legitimate interest\n\
         003E,001C,Ed,Roy,ed@initech.ca,VP Marketing,false,legitimate interest\n\
         003F,001C,Flo,Ma,flo@initech.ca,CEO,false,consent\n",
    );
    // A rep met Acme yesterday: automated email waits out the conflict window.
    write(
        directory,
        "activities.csv",
        &format!(
            "id,occurred_at,type,email,domain,url,topic,campaign,channel\n\
             m1,{},meeting_held,ann@acme.com,,,,,\n",
            days_ago(1)
        ),
    );
    ok(directory, url, &["import", "accounts", "accounts.csv"]);
    ok(directory, url, &["import", "contacts", "contacts.csv"]);
    ok(directory, url, &["import", "activities", "activities.csv"]);
    ok(directory, url, &["score"]);
    let domains = ["acme.com", "globex.de", "initech.ca"];
    let mut propose = vec!["tal", "propose", "--reason", "ICP", "--tier", "1:many"];
    propose.extend(domains);
    ok(directory, url, &propose);
    let mut approve = vec!["tal", "approve", "--reason", "agreed"];
    approve.extend(domains);
    ok(directory, url, &approve);
}

fn touches_of<'a>(
    touches: &'a [serde_json::Value],
    contact: &str,
    channel: &str,
) -> Vec<&'a serde_json::Value> {
    touches
        .iter()
        .filter(|t| t["contact"] == contact && t["channel"] == channel)
        .collect()
}

fn plays_story(url: &str) {
    let directory = tempfile::tempdir().unwrap();
    let dir = directory.path();
    write(dir, "abm.toml", CONFIG);
    world(dir, url);

    let list: serde_json::Value =
        serde_json::from_str(&ok(dir, url, &["play", "list", "--format", "json"])).unwrap();
    assert_eq!(list[0]["name"], "many-hello");
    assert_eq!(list[0]["steps"].as_array().unwrap().len(), 3);

    let out = ok(
        dir,
        url,
        &[
            "play",
            "simulate",
            "many-hello",
            "--days",
            "10",
            "--format",
            "json",
        ],
    );
    let touches: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    for touch in &touches {
        for key in [
            "play", "step", "channel", "account", "contact", "decision", "rule", "at",
        ] {
            assert!(touch.get(key).is_some(), "{key} missing in {touch}");
        }
        assert_eq!(touch["play"], "many-hello");
    }
    // Three accounts, six people: two person steps each, one alert per account.
    assert_eq!(touches.len(), 6 * 2 + 3, "{out}");
    let email = |contact| touches_of(&touches, contact, "email")[0].clone();
    let call = |contact| touches_of(&touches, contact, "task")[0].clone();

    // Bo opted out: no email, no call.
    assert_eq!(email("bo@acme.com")["decision"], "suppress");
    assert_eq!(email("bo@acme.com")["rule"], "opted_out");
    assert_eq!(call("bo@acme.com")["rule"], "opted_out");
    // Ann's account met a rep yesterday: the email goes once the conflict window passes.
    let ann = email("ann@acme.com");
    assert_eq!(ann["decision"], "send", "{ann}");
    assert_eq!(ann["delayed_by"][0], "conflict", "{ann}");
    assert_eq!(ann["subject"], "Acme: a question");
    // The call is the rep's own: no conflict.
    assert!(call("ann@acme.com")["delayed_by"].get(0) != Some(&"conflict".into()));
    // GDPR: no basis on record → suppressed; legitimate interest → sent.
    assert_eq!(email("cy@globex.de")["rule"], "lawful_basis");
    assert_eq!(email("di@globex.de")["decision"], "send");
    // CASL: legitimate interest is not consent.
    assert_eq!(email("ed@initech.ca")["rule"], "lawful_basis");
    assert_eq!(email("flo@initech.ca")["decision"], "send");
    // Alerts go to the team, once per account.
    let alerts: Vec<_> = touches.iter().filter(|t| t["channel"] == "alert").collect();
    assert_eq!(alerts.len(), 3);
    assert!(
        alerts
            .iter()
            .all(|t| t["contact"].is_null() && t["decision"] == "send")
    );

    // The table says what happened and that nothing was sent.
    let table = ok(dir, url, &["play", "simulate", "many-hello"]);
    assert!(table.contains("3 accounts, 15 touches"), "{table}");
    assert!(table.contains("nothing was sent"), "{table}");

    // Nothing was written: a second run gives the same touches.
    let again: Vec<serde_json::Value> = serde_json::from_str(&ok(
        dir,
        url,
        &[
            "play",
            "simulate",
            "many-hello",
            "--days",
            "10",
            "--format",
            "json",
        ],
    ))
    .unwrap();
    assert_eq!(again.len(), touches.len());

    // The suppression list and an account's holds reach the dry run.
    ok(
        dir,
        url,
        &["suppress", "add", "globex.de", "--reason", "legal asked"],
    );
    ok(
        dir,
        url,
        &[
            "hold",
            "acme.com",
            "--do-not-contact",
            "--reason",
            "in a deal",
        ],
    );
    let touches: Vec<serde_json::Value> = serde_json::from_str(&ok(
        dir,
        url,
        &[
            "play",
            "simulate",
            "many-hello",
            "--days",
            "10",
            "--format",
            "json",
        ],
    ))
    .unwrap();
    let email = |contact| touches_of(&touches, contact, "email")[0].clone();
    assert_eq!(email("di@globex.de")["rule"], "suppression_list");
    assert_eq!(email("ann@acme.com")["rule"], "do_not_contact");
    assert_eq!(email("flo@initech.ca")["decision"], "send");
    ok(dir, url, &["hold", "acme.com", "--do-not-contact", "--off"]);
    ok(dir, url, &["suppress", "remove", "globex.de"]);
    let until = common::days_ago(-20);
    ok(
        dir,
        url,
        &[
            "hold",
            "acme.com",
            "--until",
            &until[..10],
            "--reason",
            "renewal talks",
        ],
    );
    let touches: Vec<serde_json::Value> = serde_json::from_str(&ok(
        dir,
        url,
        &[
            "play",
            "simulate",
            "many-hello",
            "--days",
            "10",
            "--format",
            "json",
        ],
    ))
    .unwrap();
    let ann = touches_of(&touches, "ann@acme.com", "email")[0].clone();
    assert_eq!(ann["decision"], "hold", "{ann}");
    assert_eq!(ann["rule"], "owner_hold", "{ann}");
    assert_eq!(
        touches_of(&touches, "di@globex.de", "email")[0]["decision"],
        "send"
    );

    // Mistakes are named.
    let error = fails(dir, url, &["play", "simulate", "nope"]);
    assert!(
        error.contains("no play named \"nope\"") && error.contains("many-hello"),
        "{error}"
    );
    write(
        dir,
        "abm.toml",
        &CONFIG.replace("contact.first_name", "contact.nickname"),
    );
    let error = fails(dir, url, &["play", "list"]);
    assert!(
        error.contains("abm.toml") && error.contains("contact.nickname"),
        "{error}"
    );
    write(
        dir,
        "abm.toml",
        &CONFIG.replace("webhook = \"sales-alerts\"", "webhook = \"nowhere\""),
    );
    let error = fails(dir, url, &["play", "list"]);
    assert!(error.contains("no webhook named \"nowhere\""), "{error}");
}

#[test]
fn plays_on_sqlite() {
    plays_story("sqlite://./abm.db");
}

#[test]
fn plays_on_postgres() {
    let Some(database) = abm_store::testing::PostgresDatabase::create("abm_plays") else {
        return;
    };
    plays_story(&database.url);
}

#[test]
fn the_examples_of_abm_init_are_valid_and_listed() {
    let directory = tempfile::tempdir().unwrap();
    let dir = directory.path();
    ok(dir, "sqlite://./abm.db", &["init"]);
    let list: serde_json::Value = serde_json::from_str(&ok(
        dir,
        "sqlite://./abm.db",
        &["play", "list", "--format", "json"],
    ))
    .unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|play| play["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["intent-surge-nurture", "qualified-one-to-one"]);
    // The examples ship paused: nothing runs until the team says so.
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|play| play["paused"] == true)
    );
    // An empty database: the dry run has nobody to enrol, and says so.
    let out = ok(
        dir,
        "sqlite://./abm.db",
        &["play", "simulate", "qualified-one-to-one"],
    );
    assert!(out.contains("0 accounts, 0 touches"), "{out}");
}
