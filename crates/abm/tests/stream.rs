//! The scale-out path for real: activities published to NATS JetStream (the server at
//! 127.0.0.1:4222, which must run: this test fails, never skips, without it), two `abm worker`
//! processes sharing one durable consumer into a fresh PostgreSQL database, one of them killed
//! with SIGKILL mid-stream. Nothing may be lost or stored twice: the counts and the scores
//! equal a single-node import of the same file. And the collector through the stream: two
//! `abm serve --stream` nodes publish what the website sends, store nothing themselves, and a
//! worker records it (visitors, reverse-IP, identify joining the anonymous history) and
//! re-scores.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const NATS: &str = "nats://127.0.0.1:4222";
const ROWS: usize = 20_000;

fn write_world(dir: &Path) {
    let mut accounts = String::from("Id,Name,Website,Industry\n");
    let mut contacts = String::from("Id,AccountId,FirstName,LastName,Email,Title\n");
    for a in 0..60 {
        accounts.push_str(&format!("001{a:03},Company {a},company{a}.com,Software\n"));
        for c in 0..3 {
            contacts.push_str(&format!(
                "003{a:03}{c},001{a:03},P{c},Person,p{c}@company{a}.com,Director\n"
            ));
        }
    }
    std::fs::write(dir.join("accounts.csv"), accounts).unwrap();
    std::fs::write(dir.join("contacts.csv"), contacts).unwrap();
    let kinds = [
        "page_view",
        "email_open",
        "form_fill",
        "content_download",
        "email_click",
    ];
    let mut activities =
        String::from("id,occurred_at,type,email,domain,url,topic,campaign,channel\n");
    for i in 0..ROWS {
        let who = match i % 10 {
            0 => format!(",company{}.com", i % 70), // some domains no account has
            1 => format!("someone{i}@gmail.com,"),
            n => format!("p{}@company{}.com,", n % 3, i % 60),
        };
        activities.push_str(&format!(
            "s-{i},2026-{:02}-{:02}T{:02}:00:00Z,{},{who},https://ourco.com/p{},,,\n",
            1 + i % 11,
            1 + i % 28,
            i % 24,
            kinds[i % kinds.len()],
            i % 40
        ));
    }
    std::fs::write(dir.join("activities.csv"), activities).unwrap();
}

fn count(url: &str, dir: &Path) -> (u64, u64) {
    let status: serde_json::Value =
        serde_json::from_str(&common::ok(dir, url, &["status", "--format", "json"], "")).unwrap();
    (
        status["activities"].as_u64().unwrap(),
        status["unmatched_activities"].as_u64().unwrap(),
    )
}

fn worker(dir: &Path, url: &str, stream: &str, prefix: &str) -> common::KillOnDrop {
    common::KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_abm"))
            .current_dir(dir)
            .env("ABM_DATABASE_URL", url)
            .env("ABM_STREAM_NAME", stream)
            .env("ABM_STREAM_PREFIX", prefix)
            .args([
                "worker",
                "--stream",
                NATS,
                "--batch",
                "400",
                "--ack-wait",
                "4",
                "--idle-exit",
                "8",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

#[test]
fn two_workers_one_killed_lose_nothing_and_store_nothing_twice() {
    if std::net::TcpStream::connect("127.0.0.1:4222").is_err() {
        panic!(
            "NATS with JetStream is required at 127.0.0.1:4222 for the scale-out test (`nats-server -js`; .ci/run starts it)"
        );
    }
    let Some(shared) = abm_store::testing::PostgresDatabase::create("abm_stream") else {
        return;
    };
    let Some(single) = abm_store::testing::PostgresDatabase::create("abm_single") else {
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let dir = directory.path();
    write_world(dir);
    let unique = unique();
    let stream = format!("ABM_TEST_{unique}");
    let prefix = format!("abmtest.{unique}");

    // The single-node reference: the same files imported straight into the store.
    for (url, activities) in [(&single.url, true), (&shared.url, false)] {
        common::ok(dir, url, &["import", "accounts", "accounts.csv"], "");
        common::ok(dir, url, &["import", "contacts", "contacts.csv"], "");
        if activities {
            common::ok(dir, url, &["import", "activities", "activities.csv"], "");
        }
    }

    // Published twice: the second time every id is a repeat the stream drops.
    let publish = |dir: &Path| {
        let output = Command::new(env!("CARGO_BIN_EXE_abm"))
            .current_dir(dir)
            .env("ABM_STREAM_NAME", &stream)
            .env("ABM_STREAM_PREFIX", &prefix)
            .args(["import", "activities", "activities.csv", "--stream", NATS])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    // A file with a bad row publishes nothing (its good rows would reach the store and break
    // the counts below); the problems name file, line, column and value, as an import's do.
    std::fs::write(
        dir.join("bad.csv"),
        "id,When,type,email\nbad-1,2026-03-01T10:00:00Z,page_view,p0@company1.com\nbad-2,yesterday,page_view,\n",
    )
    .unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_abm"))
        .current_dir(dir)
        .env("ABM_STREAM_NAME", &stream)
        .env("ABM_STREAM_PREFIX", &prefix)
        .args([
            "import",
            "activities",
            "bad.csv",
            "--map",
            "When=occurred_at",
            "--stream",
            NATS,
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        stderr.contains("bad.csv:3:")
            && stderr.contains("yesterday")
            && stderr.contains("nothing was published"),
        "{stderr}"
    );
    let dry = common::ok(
        dir,
        &single.url,
        &[
            "import",
            "activities",
            "activities.csv",
            "--stream",
            NATS,
            "--dry-run",
        ],
        "",
    );
    assert!(dry.contains(&format!("{ROWS} activities checked")), "{dry}");
    let first = publish(dir);
    assert!(first.contains(&format!("{ROWS} new")), "{first}");
    let again = publish(dir);
    assert!(again.contains("0 new"), "{again}");

    // Two workers; one is killed (SIGKILL) once the store holds part of the stream.
    let mut doomed = worker(dir, &shared.url, &stream, &prefix);
    let survivor = worker(dir, &shared.url, &stream, &prefix);
    let started = Instant::now();
    loop {
        let (stored, _) = count(&shared.url, dir);
        if stored >= 2_000 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the workers store nothing"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    doomed.0.kill().unwrap();
    doomed.0.wait().unwrap();
    let (at_kill, _) = count(&shared.url, dir);
    assert!(
        at_kill < ROWS as u64,
        "the kill came after the end of the stream ({at_kill} stored): not mid-stream"
    );
    // The survivor takes the rest, and what the dead one held unacknowledged once its
    // ack wait passes; it stops when the stream stays quiet.
    let output = survivor.wait_with_output_taken();
    assert!(output.status.success(), "the surviving worker failed");
    let summary = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(summary.contains("messages"), "{summary}");
    eprintln!("killed at {at_kill} stored; the survivor: {summary}");

    let on_stream = count(&shared.url, dir);
    let on_single = count(&single.url, dir);
    assert_eq!(
        on_stream.0, ROWS as u64,
        "every activity stored once: {summary}"
    );
    assert_eq!(
        on_stream, on_single,
        "the same resolution as a single-node import"
    );

    // The same scores as the single-node run, as of the same instant.
    let scores = |url: &str| {
        common::ok(dir, url, &["score", "--as-of", "2026-12-31"], "");
        let ranked: serde_json::Value = serde_json::from_str(&common::ok(
            dir,
            url,
            &[
                "accounts",
                "--top",
                "100",
                "--as-of",
                "2026-12-31",
                "--format",
                "json",
            ],
            "",
        ))
        .unwrap();
        ranked
    };
    assert_eq!(scores(&shared.url), scores(&single.url));

    // The test's stream is removed (the server is shared).
    delete_stream(&stream);
}

fn unique() -> String {
    format!(
        "{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

fn delete_stream(stream: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = async_nats::connect(NATS).await.unwrap();
        async_nats::jetstream::new(client)
            .delete_stream(stream)
            .await
            .unwrap();
    });
}

const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";

/// Starts `abm serve --stream` on a free port.
fn serve_streaming(
    dir: &Path,
    url: &str,
    stream: &str,
    prefix: &str,
) -> (common::KillOnDrop, String) {
    let port = common::free_port();
    let server = common::KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_abm"))
            .current_dir(dir)
            .env("ABM_DATABASE_URL", url)
            .env("ABM_STREAM_NAME", stream)
            .env("ABM_STREAM_PREFIX", prefix)
            .args([
                "serve",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--insecure-cookies",
                "--stream",
                NATS,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    common::wait_for(&format!("{base}/healthz"));
    (server, base)
}

#[test]
fn serve_with_a_stream_publishes_and_a_worker_records_the_visits() {
    if std::net::TcpStream::connect("127.0.0.1:4222").is_err() {
        panic!(
            "NATS with JetStream is required at 127.0.0.1:4222 for the scale-out test (`nats-server -js`; .ci/run starts it)"
        );
    }
    let Some(database) = abm_store::testing::PostgresDatabase::create("abm_collect_stream") else {
        return;
    };
    let url = &database.url;
    let directory = tempfile::tempdir().unwrap();
    let dir = directory.path();
    // The test's own network is Globex's office (explicit ranges count even when private).
    std::fs::write(
        dir.join("abm.toml"),
        "[reverse_ip]\nranges = \"ranges.csv\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("ranges.csv"),
        "network,domain,confidence,organization\n127.0.0.0/8,globex.com,0.9,Globex Corporation\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("accounts.csv"),
        "Id,Name,Website,Industry\n001A,Acme,acme.com,Software\n001B,Globex Corporation,globex.com,Software\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("contacts.csv"),
        "Id,AccountId,Email,FirstName,LastName,Title\n003A,001A,jane@acme.com,Jane,Doe,VP Marketing\n",
    )
    .unwrap();
    common::ok(dir, url, &["import", "accounts", "accounts.csv"], "");
    common::ok(dir, url, &["import", "contacts", "contacts.csv"], "");
    common::ok(
        dir,
        url,
        &["user", "add", "admin@ourco.com", "--role", "admin"],
        "",
    );
    let token = common::ok(
        dir,
        url,
        &[
            "token",
            "create",
            "admin@ourco.com",
            "--as",
            "admin@ourco.com",
        ],
        "",
    )
    .trim()
    .to_owned();
    let id = unique();
    let (stream, prefix) = (format!("ABM_COLLECT_{id}"), format!("abmcollect.{id}"));

    // Two web nodes on one database and one stream; a visitor's calls reach either.
    let (_a, node_a) = serve_streaming(dir, url, &stream, &prefix);
    let (_b, node_b) = serve_streaming(dir, url, &stream, &prefix);
    let client = reqwest::blocking::Client::new();
    let collect = |base: &str, events: serde_json::Value| {
        let response = client
            .post(format!("{base}/t/collect"))
            .header("content-type", "text/plain")
            .header("user-agent", BROWSER)
            .body(serde_json::json!({ "events": events }).to_string())
            .send()
            .unwrap();
        assert_eq!(response.status(), 204, "{:?}", response.text());
    };
    let view = |id: &str, visitor: &str| serde_json::json!({"id": id, "visitor": visitor, "type": "page_view", "url": "https://www.example.com/pricing"});
    let jane = "visitor-jane-000001";
    collect(&node_a, serde_json::json!([view("stream-event-1", jane)]));
    collect(
        &node_b,
        serde_json::json!([view("stream-event-2", jane), view("stream-event-1", jane)]),
    );
    collect(
        &node_a,
        serde_json::json!([{"id": "stream-event-3", "visitor": jane, "type": "form_submit", "url": "https://www.example.com/demo", "email": "Jane@Acme.com"}]),
    );
    collect(
        &node_b,
        serde_json::json!([view("stream-event-4", "visitor-other-000002")]),
    );
    let stats = |base: &str| -> serde_json::Value {
        client
            .get(format!("{base}/api/v1/tracking"))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let (a, b) = (stats(&node_a), stats(&node_b));
    assert_eq!(
        (a["published"].as_u64(), a["stored"].as_u64()),
        (Some(2), Some(0)),
        "{a}"
    );
    // The retried st-1 is a repeat the stream drops.
    assert_eq!(
        (b["published"].as_u64(), b["unchanged"].as_u64()),
        (Some(2), Some(1)),
        "{b}"
    );
    // The activities API of a streaming node publishes too: a bad batch publishes nothing
    // and names the field; a good one is checked, then published; sent again, the stream
    // already holds it.
    let post = |base: &str, activities: serde_json::Value| {
        let response = client
            .post(format!("{base}/api/v1/activities"))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "activities": activities }))
            .send()
            .unwrap();
        (
            response.status().as_u16(),
            response.json::<serde_json::Value>().unwrap(),
        )
    };
    let meeting = serde_json::json!({"id": "api-meeting-1", "occurred_at": "2026-11-20T10:00:00Z", "type": "meeting_held", "email": "jane@acme.com"});
    let webinar = serde_json::json!({"id": "api-webinar-1", "occurred_at": "2026-11-21T10:00:00Z", "type": "webinar_attended", "domain": "globex.com"});
    let bad = serde_json::json!({"id": "api-bad-1", "occurred_at": "yesterday", "type": "meeting_held", "domain": "globex.com"});
    let (status, refused) = post(&node_a, serde_json::json!([meeting, bad]));
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused.to_string().contains("activities[1].occurred_at"),
        "{refused}"
    );
    let (status, published) = post(&node_a, serde_json::json!([meeting, webinar]));
    assert_eq!(status, 200, "{published}");
    assert_eq!(
        (
            published["published"].as_u64(),
            published["inserted"].as_u64()
        ),
        (Some(2), Some(0)),
        "{published}"
    );
    let (_, again) = post(&node_b, serde_json::json!([meeting, webinar]));
    assert_eq!(
        (again["published"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(2)),
        "{again}"
    );
    // The web nodes stored nothing: the stream holds the events until a worker takes them.
    assert_eq!(count(url, dir), (0, 0));

    let output = worker(dir, url, &stream, &prefix).wait_with_output_taken();
    assert!(output.status.success(), "the worker failed");
    let summary = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        summary.contains("6 messages (4 tracked events)"),
        "{summary}"
    );
    // Jane's two anonymous views joined her and Acme when she filled the form; the other
    // visitor's view is Globex's by its network; the API's two activities are Acme's and
    // Globex's; nothing is left unmatched.
    assert_eq!(count(url, dir), (6, 0), "{summary}");
    let timeline: serde_json::Value = client
        .get(format!("{node_b}/api/v1/accounts/acme.com/timeline"))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let kinds: Vec<&str> = timeline
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["what"] == "activity")
        .map(|entry| entry["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 4, "{timeline}");
    assert!(kinds.contains(&"form_fill"), "{timeline}");
    assert!(kinds.contains(&"meeting_held"), "{timeline}");
    // The worker re-scored the accounts the visits touched: their stored engagement moved.
    let ranked: serde_json::Value =
        serde_json::from_str(&common::ok(dir, url, &["accounts", "--format", "json"], "")).unwrap();
    for domain in ["acme.com", "globex.com"] {
        let row = ranked
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["domain"] == domain)
            .unwrap();
        assert!(
            row["engagement"].as_f64().unwrap() > 0.0,
            "{domain}: {ranked}"
        );
    }
    delete_stream(&stream);
}

trait WaitTaken {
    fn wait_with_output_taken(self) -> std::process::Output;
}

impl WaitTaken for common::KillOnDrop {
    fn wait_with_output_taken(mut self) -> std::process::Output {
        let child = std::mem::replace(&mut self.0, Command::new("true").spawn().unwrap());
        child.wait_with_output().unwrap()
    }
}
