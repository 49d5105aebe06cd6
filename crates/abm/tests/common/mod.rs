//! What the binary's integration tests share: running `abm` as a user would, processes that
//! stop with the test, free ports, recent times.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// Runs `abm` in `directory` against `url` as the OS user `cli-user`, with `stdin` as its
/// standard input (not a terminal).
pub fn run(directory: &Path, url: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_abm"))
        .current_dir(directory)
        .env("ABM_DATABASE_URL", url)
        .env("USER", "cli-user")
        .env_remove("ABM_LOG")
        .env_remove("ABM_USER")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// A process killed when the test ends, however it ends.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port free right now on the loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (up to 15 s) until `url` answers.
pub fn wait_for(url: &str) {
    for _ in 0..300 {
        if reqwest::blocking::get(url).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{url} did not answer");
}

/// Days ago, as an RFC 3339 time (scores decay from now, so test data must be recent).
pub fn days_ago(days: i64) -> String {
    jiff::Timestamp::now()
        .checked_sub(jiff::Span::new().hours(24 * days))
        .unwrap()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Runs `abm` as [`run`] does and returns its standard output; a failure fails the test with
/// abm's message.
pub fn ok(directory: &Path, url: &str, args: &[&str], stdin: &str) -> String {
    let output = run(directory, url, args, stdin);
    assert!(
        output.status.success(),
        "abm {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Starts `abm serve` (plain-HTTP cookies) in `directory` on a free port; returns the process,
/// stopped with the test, and the base URL once it answers.
pub fn serve(directory: &Path, url: &str) -> (KillOnDrop, String) {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_abm"))
        .current_dir(directory)
        .env("ABM_DATABASE_URL", url)
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--insecure-cookies",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = KillOnDrop(child);
    let base = format!("http://127.0.0.1:{port}");
    wait_for(&format!("{base}/healthz"));
    (server, base)
}
