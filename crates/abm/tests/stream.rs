//! The scale-out path for real: activities published to NATS JetStream (the server at
//! 127.0.0.1:4222, which must run: this test fails, never skips, without it), two `abm worker`
//! processes sharing one durable consumer into a fresh PostgreSQL database, one of them killed
//! with SIGKILL mid-stream. Nothing may be lost or stored twice: the counts and the scores
//! equal a single-node import of the same file.
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
    let unique = format!(
        "{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
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
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = async_nats::connect(NATS).await.unwrap();
        async_nats::jetstream::new(client)
            .delete_stream(&stream)
            .await
            .unwrap();
    });
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
