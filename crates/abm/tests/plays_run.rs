//! The scheduler for real, on a real SQLite file and a real PostgreSQL server: `abm run`
//! sends email to a real SMTP server (aiosmtpd), posts alerts to a real HTTP receiver, queues
//! tasks, writes the audience and write-back files; a second run sends nothing twice; a run
//! killed between a send and its record loses nothing and repeats only the touch in flight,
//! with the same Message-ID; a failing webhook is retried, then dead-lettered.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{KillOnDrop, free_port};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

const SECRET: &str = "a webhook secret for the tests";

fn config(smtp_port: u16, hook_port: u16) -> String {
    format!(
        r#"
[guard]
unknown_country = "opt_out"

[guard.quiet_hours]
start = "00:00"
end = "00:00"
days = []

[channels.email]
from = "Ana at OurCo <ana@ourco.com>"
smtp_url = "smtp://127.0.0.1:{smtp_port}"
public_url = "https://abm.ourco.example"

[channels.webhooks.ops]
url = "http://127.0.0.1:{hook_port}/hook"
format = "generic"
secret_env = "ABM_TEST_HOOK_SECRET"

[channels.exports]
directory = "exports"

[templates.hello]
subject = "{{{{ account.name }}}}: a question"
body = "Hi {{{{ contact.first_name }}}},\n{{{{ blocks.proof }}}}\n"

[blocks.proof]
default = "Teams like yours use us."

[[plays]]
name = "hello"
trigger = {{ kind = "tier", tier = "1:many" }}

[[plays.steps]]
channel = "email"
template = "hello"

[[plays.steps]]
channel = "task"
task = "call"
notes = "Ask about their rollout."

[[plays.steps]]
channel = "alert"
webhook = "ops"

[[plays.steps]]
channel = "ad_audience"
audience = "hello-audience"

[[plays.steps]]
channel = "crm_write_back"

[[plays.steps]]
channel = "email"
template = "hello"
wait_days = 3
condition = "not_engaged"
"#
    )
}

fn abm(directory: &Path, url: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_abm"));
    command
        .current_dir(directory)
        .env("ABM_DATABASE_URL", url)
        .env("USER", "cli-user")
        .env("ABM_TEST_HOOK_SECRET", SECRET)
        .env_remove("ABM_LOG")
        .env_remove("ABM_USER")
        .env_remove("ABM_SMTP_URL")
        .env_remove("ABM_TEST_CRASH_AFTER_SEND")
        .args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

fn ok(directory: &Path, url: &str, args: &[&str]) -> String {
    let output = abm(directory, url, args, &[]);
    assert!(
        output.status.success(),
        "abm {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn write(directory: &Path, name: &str, contents: &str) {
    std::fs::write(directory.join(name), contents).unwrap();
}

/// The real SMTP server: a Python process that appends each message to a file.
struct Smtp {
    _process: KillOnDrop,
    out: PathBuf,
    port: u16,
}

impl Smtp {
    fn start(directory: &Path, refused: &[&str]) -> Smtp {
        let port = free_port();
        let out = directory.join("smtp.jsonl");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smtp_sink.py");
        let mut child = Command::new("/usr/bin/python3")
            .arg(script)
            .arg(port.to_string())
            .arg(&out)
            .args(refused)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 with aiosmtpd (apt-get install python3-aiosmtpd)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the SMTP sink did not start");
        Smtp {
            _process: KillOnDrop(child),
            out,
            port,
        }
    }

    fn messages(&self) -> Vec<serde_json::Value> {
        match std::fs::read_to_string(&self.out) {
            Ok(text) => text
                .lines()
                .map(|line| serde_json::from_str(line).unwrap())
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

fn header<'a>(content: &'a str, name: &str) -> Option<&'a str> {
    let head = content.split("\r\n\r\n").next().unwrap_or(content);
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

/// A request the receiver got: its headers (lower-case names) and body.
type Request = (Vec<(String, String)>, String);

/// A real HTTP receiver: answers each request with the next status of `statuses` (then 200),
/// and keeps (headers, body).
struct Hooks {
    port: u16,
    seen: Arc<Mutex<Vec<Request>>>,
}

impl Hooks {
    fn start(statuses: Vec<u16>) -> Hooks {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let kept = seen.clone();
        std::thread::spawn(move || {
            let mut statuses = statuses.into_iter();
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut headers = Vec::new();
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                loop {
                    line.clear();
                    reader.read_line(&mut line).unwrap();
                    let trimmed = line.trim_end();
                    if trimmed.is_empty() {
                        break;
                    }
                    if let Some((key, value)) = trimmed.split_once(':') {
                        headers.push((key.trim().to_lowercase(), value.trim().to_owned()));
                    }
                }
                let length: usize = headers
                    .iter()
                    .find(|(key, _)| key == "content-length")
                    .map_or(0, |(_, value)| value.parse().unwrap());
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                kept.lock()
                    .unwrap()
                    .push((headers, String::from_utf8(body).unwrap()));
                let status = statuses.next().unwrap_or(200);
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        });
        Hooks { port, seen }
    }

    fn bodies(&self) -> Vec<Request> {
        self.seen.lock().unwrap().clone()
    }
}

fn get<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers
        .iter()
        .find(|(key, _)| key == name)
        .map_or("", |(_, value)| value.as_str())
}

fn world(directory: &Path, url: &str) {
    write(
        directory,
        "accounts.csv",
        "Id,Name,Website,Industry,BillingCountry,OwnerName\n\
         001A,Acme,acme.com,Software,United States,bo@ourco.com\n\
         001B,Globex,globex.de,Manufacturing,Germany,bo@ourco.com\n",
    );
    write(
        directory,
        "contacts.csv",
        "Id,AccountId,FirstName,LastName,Email,Title,HasOptedOutOfEmail,Lawful_Basis__c\n\
         003A,001A,Ann,Lee,ann@acme.com,CMO,false,\n\
         003B,001A,Bo,Park,bo@acme.com,\"VP, Sales\",true,\n\
         003C,001B,Cy,Kim,cy@globex.de,Head of Marketing,false,\n\
         003D,001B,Di,Ng,di@globex.de,CFO,false,legitimate interest\n",
    );
    ok(
        directory,
        url,
        &[
            "import",
            "accounts",
            "accounts.csv",
            "--map",
            "OwnerName=owner",
        ],
    );
    ok(directory, url, &["import", "contacts", "contacts.csv"]);
    ok(directory, url, &["score"]);
    ok(
        directory,
        url,
        &[
            "tal",
            "propose",
            "acme.com",
            "globex.de",
            "--reason",
            "ICP",
            "--tier",
            "1:many",
        ],
    );
    ok(
        directory,
        url,
        &[
            "tal",
            "approve",
            "acme.com",
            "globex.de",
            "--reason",
            "agreed",
        ],
    );
}

fn run_story(url: &str) {
    let directory = tempfile::tempdir().unwrap();
    let dir = directory.path();
    let smtp = Smtp::start(dir, &[]);
    let hooks = Hooks::start(vec![]);
    write(dir, "abm.toml", &config(smtp.port, hooks.port));
    world(dir, url);

    let report: serde_json::Value =
        serde_json::from_str(&ok(dir, url, &["run", "--format", "json"])).unwrap();
    assert_eq!(report["enrolled"], 2, "{report}");
    // Ann and Di: email, task, audience each; two alerts; two write-backs.
    assert_eq!(report["by_channel"]["email"], 2, "{report}");
    assert_eq!(report["by_channel"]["task"], 2, "{report}");
    assert_eq!(report["by_channel"]["alert"], 2, "{report}");
    assert_eq!(report["by_channel"]["ad_audience"], 2, "{report}");
    assert_eq!(report["by_channel"]["crm_write_back"], 2, "{report}");
    // Bo opted out: never enrolled. Cy has no GDPR basis: her 3 person steps suppressed.
    assert_eq!(report["suppressed"], 3, "{report}");

    let messages = smtp.messages();
    let mut to: Vec<&str> = messages
        .iter()
        .map(|m| m["rcpt_tos"][0].as_str().unwrap())
        .collect();
    to.sort_unstable();
    assert_eq!(to, ["ann@acme.com", "di@globex.de"]);
    for message in &messages {
        let content = message["content"].as_str().unwrap();
        assert!(
            header(content, "Message-ID").unwrap().starts_with("<abm-"),
            "{content}"
        );
        assert!(
            header(content, "List-Unsubscribe")
                .unwrap()
                .starts_with("<https://abm.ourco.example/u/")
        );
        assert_eq!(
            header(content, "List-Unsubscribe-Post"),
            Some("List-Unsubscribe=One-Click")
        );
        assert!(content.contains("Teams like yours use us."));
    }
    let ann = messages
        .iter()
        .find(|m| m["rcpt_tos"][0] == "ann@acme.com")
        .unwrap();
    assert!(
        header(ann["content"].as_str().unwrap(), "Subject")
            .unwrap()
            .contains("Acme: a question")
    );

    // Alerts: signed, with the touch's idempotency key.
    let alerts = hooks.bodies();
    assert_eq!(alerts.len(), 2);
    for (headers, body) in &alerts {
        let event: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(event["event"], "play.alert");
        assert!(!get(headers, "idempotency-key").is_empty());
        abm_core::tracking::webhook::verify_webhook(
            SECRET.as_bytes(),
            get(headers, "x-abm-timestamp"),
            get(headers, "x-abm-signature"),
            body.as_bytes(),
            jiff::Timestamp::now().as_microsecond(),
            600,
        )
        .expect("a valid signature");
    }

    // Tasks for the owner, with the context a rep needs.
    let tasks: serde_json::Value =
        serde_json::from_str(&ok(dir, url, &["task", "list", "--format", "json"])).unwrap();
    let tasks = tasks.as_array().unwrap();
    assert_eq!(tasks.len(), 2);
    assert!(tasks.iter().all(|t| t["owner"] == "bo@ourco.com"));
    let ann_task = tasks
        .iter()
        .find(|t| t["contact"] == "ann@acme.com")
        .unwrap();
    assert!(
        ann_task["title"]
            .as_str()
            .unwrap()
            .starts_with("Call Ann Lee"),
        "{ann_task}"
    );
    assert!(
        ann_task["context"]
            .as_str()
            .unwrap()
            .contains("Ask about their rollout.")
    );
    let id = ann_task["id"].to_string();
    ok(dir, url, &["task", "done", &id, "--outcome", "demo booked"]);
    let left: serde_json::Value =
        serde_json::from_str(&ok(dir, url, &["task", "list", "--format", "json"])).unwrap();
    assert_eq!(left.as_array().unwrap().len(), 1);

    // Files: the audience (companies, hashed emails) and the write-back.
    let companies =
        std::fs::read_to_string(dir.join("exports/audiences/hello-audience-companies.csv"))
            .unwrap();
    assert!(companies.starts_with("companyname,companywebsite"));
    assert!(companies.contains("acme.com") && companies.contains("globex.de"));
    let contacts =
        std::fs::read_to_string(dir.join("exports/audiences/hello-audience-contacts.csv")).unwrap();
    // sha256("di@globex.de")
    assert_eq!(contacts.lines().count(), 3, "{contacts}");
    let write_back = std::fs::read_to_string(dir.join("exports/crm-write-back.csv")).unwrap();
    assert!(write_back.starts_with("crm_id,domain,abm_fit"));
    assert!(write_back.contains("001A,acme.com"));

    // A second run: nothing is due, nothing goes twice.
    let again: serde_json::Value =
        serde_json::from_str(&ok(dir, url, &["run", "--format", "json"])).unwrap();
    assert_eq!(again["sent"], 0, "{again}");
    assert_eq!(again["enrolled"], 0, "{again}");
    assert_eq!(smtp.messages().len(), 2);
    assert_eq!(hooks.bodies().len(), 2);

    // Ann opts out in the CRM: her second email never goes. Di clicked the first: the second
    // is for those who did not engage, so it is skipped too.
    write(
        dir,
        "optout.csv",
        "Id,AccountId,Email,HasOptedOutOfEmail\n003A,001A,ann@acme.com,true\n",
    );
    ok(dir, url, &["import", "contacts", "optout.csv"]);
    write(
        dir,
        "clicks.csv",
        &format!(
            "id,occurred_at,type,email,domain,url,topic,campaign,channel\nc1,{},email_click,di@globex.de,,https://ourco.com/x,,hello,email\n",
            jiff::Timestamp::now()
                .checked_add(jiff::SignedDuration::from_hours(2))
                .unwrap()
                .strftime("%Y-%m-%dT%H:%M:%SZ")
        ),
    );
    ok(dir, url, &["import", "activities", "clicks.csv"]);
    let later = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(24 * 4))
        .unwrap()
        .to_string();
    let report: serde_json::Value = serde_json::from_str(&ok(
        dir,
        url,
        &["run", "--as-of", &later, "--format", "json"],
    ))
    .unwrap();
    assert_eq!(report["sent"], 0, "{report}");
    assert_eq!(report["skipped"], 1, "Di's step by its condition: {report}");
    assert_eq!(
        smtp.messages().len(),
        2,
        "Ann and Di got their first email only"
    );

    // The plays report: both accounts enrolled and touched; both engaged back after the first
    // email (Acme on the rep's call that booked a demo, Globex by Di's click), though neither
    // replied; the emails sent themselves are not engagement. The guard's decisions by rule.
    let plays: serde_json::Value =
        serde_json::from_str(&ok(dir, url, &["report", "plays", "--format", "json"])).unwrap();
    let hello = &plays["plays"][0];
    assert_eq!(hello["play"], "hello", "{plays}");
    assert_eq!(hello["enrolled"], 2, "{plays}");
    assert_eq!(hello["touched"], 2, "{plays}");
    assert_eq!(hello["engaged"], 2, "{plays}");
    assert_eq!(hello["replied"], 0);
    let first = &hello["steps"][0];
    assert_eq!(first["channel"], "email");
    assert_eq!(first["statuses"]["sent"], 2, "{first}");
    assert_eq!(first["funnel"]["touched"], 2, "{first}");
    assert_eq!(first["funnel"]["engaged"], 2, "{first}");
    let last = &hello["steps"][5];
    assert_eq!(last["statuses"]["skipped"], 2, "{last}");
    assert_eq!(
        last["funnel"]["touched"], 0,
        "nothing of the last step went: {last}"
    );
    assert_eq!(
        hello["guard"]["suppress: lawful_basis"], 4,
        "Cy has no GDPR basis: {plays}"
    );

    // The suppression list and holds reach the guard.
    ok(
        dir,
        url,
        &["suppress", "add", "globex.de", "--reason", "legal asked"],
    );
    let list = ok(dir, url, &["suppress", "list"]);
    assert!(
        list.contains("globex.de") && list.contains("legal asked"),
        "{list}"
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
}

#[test]
fn run_on_sqlite() {
    run_story("sqlite://./abm.db");
}

#[test]
fn run_on_postgres() {
    let Some(database) = abm_store::testing::PostgresDatabase::create("abm_run") else {
        return;
    };
    run_story(&database.url);
}

/// Killed between the SMTP server's "accepted" and the record: the next run sends that email
/// again with the same Message-ID (the receiver de-duplicates by it) and nothing else twice;
/// no touch is lost.
#[test]
fn a_crash_between_send_and_record_loses_nothing() {
    let directory = tempfile::tempdir().unwrap();
    let dir = directory.path();
    let url = "sqlite://./abm.db";
    let smtp = Smtp::start(dir, &[]);
    let hooks = Hooks::start(vec![]);
    write(dir, "abm.toml", &config(smtp.port, hooks.port));
    world(dir, url);
    let crashed = abm(dir, url, &["run"], &[("ABM_TEST_CRASH_AFTER_SEND", "1")]);
    assert_eq!(
        crashed.status.code(),
        Some(70),
        "{}",
        String::from_utf8_lossy(&crashed.stderr)
    );
    let first = smtp.messages();
    assert_eq!(
        first.len() + hooks.bodies().len(),
        1,
        "stopped after the first send"
    );
    // The next run finds the touch in flight and sends it again, then everything else.
    ok(dir, url, &["run"]);
    let messages = smtp.messages();
    let ids: Vec<String> = messages
        .iter()
        .map(|m| {
            header(m["content"].as_str().unwrap(), "Message-ID")
                .unwrap()
                .to_owned()
        })
        .collect();
    let distinct: std::collections::BTreeSet<&String> = ids.iter().collect();
    // Both email touches went out, each under one Message-ID; the only repeat is the touch
    // in flight at the crash.
    assert_eq!(distinct.len(), 2, "{ids:?}");
    let keys: Vec<String> = hooks
        .bodies()
        .iter()
        .map(|(headers, _)| get(headers, "idempotency-key").to_owned())
        .collect();
    let distinct_keys: std::collections::BTreeSet<&String> = keys.iter().collect();
    assert_eq!(distinct_keys.len(), 2, "{keys:?}");
    assert_eq!(
        (ids.len() - distinct.len()) + (keys.len() - distinct_keys.len()),
        1,
        "exactly the touch in flight was repeated: {ids:?} {keys:?}"
    );
    if let Some(first) = first.first() {
        let id = header(first["content"].as_str().unwrap(), "Message-ID").unwrap();
        assert_eq!(ids.iter().filter(|other| *other == id).count(), 2);
    }
    // Recorded once: the touches are sent, the email_sent activities exist once each.
    let report: serde_json::Value =
        serde_json::from_str(&ok(dir, url, &["run", "--format", "json"])).unwrap();
    assert_eq!(report["sent"], 0);
    let status = ok(dir, url, &["status", "--format", "json"]);
    assert!(status.contains("\"activities\": 2"), "{status}");
}

/// A webhook that keeps failing is retried with growing waits, then dead-lettered.
#[test]
fn a_failing_webhook_is_retried_then_dead_lettered() {
    let directory = tempfile::tempdir().unwrap();
    let dir = directory.path();
    let url = "sqlite://./abm.db";
    let smtp = Smtp::start(dir, &["di@globex.de"]);
    let hooks = Hooks::start(vec![500; 100]);
    write(dir, "abm.toml", &config(smtp.port, hooks.port));
    world(dir, url);
    let first: serde_json::Value =
        serde_json::from_str(&ok(dir, url, &["run", "--format", "json"])).unwrap();
    assert_eq!(first["retried"], 2, "{first}");
    // Di's mailbox does not exist: a hard bounce, recorded, and her other touches stop.
    assert_eq!(smtp.messages().len(), 1);
    let mut dead = 0;
    for day in 1..=8 {
        let as_of = jiff::Timestamp::now()
            .checked_add(jiff::SignedDuration::from_hours(24 * day))
            .unwrap()
            .to_string();
        let report: serde_json::Value = serde_json::from_str(&ok(
            dir,
            url,
            &["run", "--as-of", &as_of, "--format", "json"],
        ))
        .unwrap();
        dead += report["dead"].as_u64().unwrap();
    }
    assert_eq!(dead, 2, "both alerts end on the dead-letter list");
    assert_eq!(hooks.bodies().len(), 12, "six attempts each");
}

/// A paused play enrols nobody and sends nothing; resumed, it runs.
#[test]
fn a_paused_play_sends_nothing() {
    let directory = tempfile::tempdir().unwrap();
    let dir = directory.path();
    let url = "sqlite://./abm.db";
    let smtp = Smtp::start(dir, &[]);
    let hooks = Hooks::start(vec![]);
    let config = config(smtp.port, hooks.port);
    write(
        dir,
        "abm.toml",
        &config.replace("name = \"hello\"\n", "name = \"hello\"\npaused = true\n"),
    );
    world(dir, url);
    let report: serde_json::Value =
        serde_json::from_str(&ok(dir, url, &["run", "--format", "json"])).unwrap();
    assert_eq!(report["enrolled"], 0, "{report}");
    assert_eq!(report["sent"], 0, "{report}");
    assert!(smtp.messages().is_empty());
    write(dir, "abm.toml", &config);
    let report: serde_json::Value =
        serde_json::from_str(&ok(dir, url, &["run", "--format", "json"])).unwrap();
    assert_eq!(report["enrolled"], 2, "{report}");
    assert_eq!(smtp.messages().len(), 2);
}
