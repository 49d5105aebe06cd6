//! The HTML interface in a real browser: `abm serve` on a temporary database, Chromium driven
//! through chromedriver's WebDriver API — sign in, the ranked list, an account page, a TAL
//! approval from the page, editing an account plan, and a tracked visit to a page of the
//! team's website that includes the snippet, which then shows on the account's timeline. Screenshots go to `ABM_SCREENSHOTS` when set (the README's come
//! from `ABM_SCREENSHOTS=docs/screenshots`).
//!
//! Chromium and chromedriver are required (`.ci/run` installs Debian's `chromium` and
//! `chromium-driver`); the test fails without them unless `ABM_TEST_SKIP_BROWSER=1`.
//!
//! WebDriver is a handful of JSON calls over HTTP, made here with the blocking HTTP client the
//! other tests use; a WebDriver crate would bring an async runtime and a TLS stack into the
//! tests for the same six calls.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{KillOnDrop, free_port, wait_for};

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn abm(directory: &Path, url: &str, args: &[&str], stdin: &str) -> String {
    let output = common::run(directory, url, args, stdin);
    assert!(
        output.status.success(),
        "abm {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A WebDriver session.
struct Browser {
    http: reqwest::blocking::Client,
    base: String,
}

impl Browser {
    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response: Value = request.send().unwrap().json().unwrap();
        assert!(
            response["value"].get("error").is_none(),
            "{path}: {response}"
        );
        response["value"].clone()
    }

    fn go(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })));
    }

    fn find(&self, css: &str) -> String {
        let element = self.call(
            reqwest::Method::POST,
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        );
        element
            .as_object()
            .and_then(|object| object.values().next())
            .and_then(Value::as_str)
            .unwrap()
            .to_owned()
    }

    fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css);
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        );
    }

    fn click(&self, css: &str) {
        let element = self.find(css);
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            Some(json!({})),
        );
    }

    /// Sets a text area's whole content (WebDriver's clear, then typing).
    fn replace_text(&self, css: &str, text: &str) {
        let element = self.find(css);
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/clear"),
            Some(json!({})),
        );
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        );
    }

    fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Waits (up to 15 s) for the page's URL to satisfy `done`: a click that submits a form
    /// returns before the next page has loaded.
    fn wait_for_url(&self, done: impl Fn(&str) -> bool) -> String {
        for _ in 0..300 {
            let url = self.url();
            if done(&url) {
                // The document of the new URL may still be loading.
                for _ in 0..100 {
                    let state = self.call(
                        reqwest::Method::POST,
                        "/execute/sync",
                        Some(json!({"script": "return document.readyState", "args": []})),
                    );
                    if state == "complete" {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                return url;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the page did not move on from {}", self.url());
    }

    fn screenshot(&self, name: &str) {
        let Some(directory) = std::env::var_os("ABM_SCREENSHOTS").map(PathBuf::from) else {
            return;
        };
        use base64::Engine as _;
        let encoded = self.call(reqwest::Method::GET, "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap())
            .unwrap();
        std::fs::create_dir_all(&directory).unwrap();
        std::fs::write(directory.join(format!("{name}.png")), png).unwrap();
    }
}

#[test]
fn sign_in_browse_and_approve_in_chromium() {
    if std::env::var("ABM_TEST_SKIP_BROWSER").as_deref() == Ok("1") {
        return;
    }
    let chromedriver =
        std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromedriver).exists() && Path::new(&chromium).exists(),
        "Chromium and chromedriver are required for this test ({chromium}, {chromedriver}): apt-get install chromium chromium-driver, or ABM_TEST_SKIP_BROWSER=1"
    );
    let directory = tempfile::tempdir().unwrap();
    let dir = directory.path();
    let url = "sqlite://./abm.db";
    abm(
        dir,
        url,
        &[
            "--database-url",
            url,
            "demo",
            "--accounts",
            "200",
            "--seed",
            "7",
        ],
        "",
    );
    abm(
        dir,
        url,
        &[
            "user",
            "add",
            "admin@ourco.com",
            "--role",
            "admin",
            "--name",
            "Avery Admin",
        ],
        "a long enough password\n",
    );
    let list: Value = serde_json::from_str(&abm(
        dir,
        url,
        &["accounts", "--top", "50", "--format", "json"],
        "",
    ))
    .unwrap();
    // The best account the demo's TAL left out.
    let tal: Value =
        serde_json::from_str(&abm(dir, url, &["tal", "list", "--format", "json"], "")).unwrap();
    let on_tal: Vec<&str> = tal
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["domain"].as_str().unwrap())
        .collect();
    let proposed = list
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["domain"].as_str().unwrap())
        .find(|domain| !on_tal.contains(domain))
        .expect("an account off the TAL")
        .to_owned();
    let other = list
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["domain"].as_str().unwrap().to_owned())
        .find(|domain| *domain != proposed)
        .unwrap();
    abm(
        dir,
        url,
        &[
            "tal",
            "propose",
            &proposed,
            "--reason",
            "surging on our topics",
            "--as",
            "admin@ourco.com",
        ],
        "",
    );

    // A play that gives the owner of a 1:1 account a call task; the admin owns one.
    std::fs::write(
        dir.join("abm.toml"),
        "[[plays]]\nname = \"strategic-call\"\ndescription = \"1:1: a call for the owner\"\ntrigger = { kind = \"tier\", tier = \"1:1\" }\naudience = { roles = [\"champion\", \"economic_buyer\", \"decision_maker\", \"user\"], max_people = 1 }\n\n[[plays.steps]]\nchannel = \"task\"\ntask = \"call\"\nnotes = \"Open with why now.\"\n",
    )
    .unwrap();
    let strategic = tal
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["tier"] == "1:1")
        .map(|row| row["domain"].as_str().unwrap().to_owned())
        .expect("the demo's TAL has 1:1 accounts");
    abm(
        dir,
        url,
        &[
            "tal",
            "owners",
            &strategic,
            "--sales",
            "admin@ourco.com",
            "--marketing",
            "mo@ourco.com",
            "--as",
            "admin@ourco.com",
        ],
        "",
    );
    abm(dir, url, &["run"], "");
    let (_server, site) = common::serve(dir, url);
    let driver_port = free_port();
    let _driver = KillOnDrop(
        Command::new(&chromedriver)
            .arg(format!("--port={driver_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let driver = format!("http://127.0.0.1:{driver_port}");
    wait_for(&format!("{driver}/status"));
    let profile = tempfile::tempdir().unwrap();
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let session: Value = http
        .post(format!("{driver}/session"))
        .json(&json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": chromium,
            // Headless Chromium says so in its user agent, and abm's collector ignores bots:
            // the test browses as the desktop browser it is.
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--user-agent=Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36",
                     "--disable-component-update", "--disable-sync", "--no-first-run",
                     "--window-size=1280,900", format!("--user-data-dir={}", profile.path().display())]
        }}}}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let id = session["value"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("{session}"))
        .to_owned();
    let browser = Browser {
        http: http.clone(),
        base: format!("{driver}/session/{id}"),
    };

    // Signed out, the pages send people to sign in.
    browser.go(&format!("{site}/accounts"));
    browser.wait_for_url(|url| url.ends_with("/login"));
    browser.screenshot("login");
    browser.type_into("input[name=email]", "admin@ourco.com");
    browser.type_into("input[name=password]", "a long enough password");
    browser.click("form[action='/login'] button");
    browser.wait_for_url(|url| url.ends_with("/accounts"));
    let accounts = browser.source();
    assert!(accounts.contains(&proposed) && accounts.contains("priority"));
    browser.screenshot("accounts");
    // Filter the list by search: only the proposed account stays; the export link keeps it.
    browser.type_into("#filters input[name=q]", &proposed);
    browser.click("#filters button");
    browser.wait_for_url(|url| url.contains("q="));
    let filtered = browser.source();
    assert!(filtered.contains(&proposed), "{filtered}");
    assert!(
        !filtered.contains(&format!("/accounts/{other}\"")),
        "the search leaves other accounts out"
    );
    assert!(filtered.contains("/accounts.csv?q="), "{filtered}");
    browser.go(&format!("{site}/accounts"));

    // An account page: why, scores with contributions, buying group.
    browser.click(&format!("a[href='/accounts/{other}']"));
    let account = browser.source();
    for part in [
        "Why this account",
        "Why now",
        "Why us",
        "Buying group",
        "Next best action",
        "engagement",
    ] {
        assert!(account.contains(part), "{part}");
    }
    browser.screenshot("account");

    // The TAL page: approve the proposal with a tier.
    browser.go(&format!("{site}/tal"));
    assert!(browser.source().contains(&proposed));
    browser.screenshot("tal");
    browser.click("form[action='/tal/approve'] button");
    browser.wait_for_url(|url| url.contains("/tal?"));
    let after = browser.source();
    assert!(after.contains(&format!("approve: {proposed}")), "{after}");
    let tal: Value =
        serde_json::from_str(&abm(dir, url, &["tal", "list", "--format", "json"], "")).unwrap();
    assert_eq!(tal[0]["status"], "approved");

    // Edit the approved account's plan in the page (a 1:few account).
    abm(
        dir,
        url,
        &["tal", "tier", &proposed, "1:few", "--as", "admin@ourco.com"],
        "",
    );
    browser.go(&format!("{site}/accounts/{proposed}"));
    assert!(browser.source().contains("Account plan"));
    browser.replace_text("textarea#plan", "objectives = [\"Land the data team\"]\n");
    browser.click("#save-plan");
    browser.wait_for_url(|url| url.contains("saved="));
    assert!(
        browser.source().contains("Saved version 1"),
        "{}",
        browser.source()
    );
    browser.screenshot("plan");
    // A broken plan is refused with its line and column, the text kept for fixing.
    browser.replace_text("textarea#plan", "objectives = [\n");
    browser.click("#save-plan");
    std::thread::sleep(Duration::from_millis(300));
    let refused = browser.source();
    assert!(
        refused.contains("plan-error") && refused.contains("line"),
        "{refused}"
    );
    let plan: Value = serde_json::from_str(&abm(
        dir,
        url,
        &["plan", "show", &proposed, "--format", "json"],
        "",
    ))
    .unwrap();
    assert_eq!(plan["version"], 1);
    assert_eq!(
        plan["plan"]["objectives"][0], "Land the data team",
        "{plan}"
    );

    // A tracked visit: the team's website (another origin) includes the snippet; a visitor
    // reads a page, then fills a form with their work email; the visit appears on the
    // account's timeline.
    let hot = list[0]["domain"].as_str().unwrap().to_owned();
    let view: Value =
        serde_json::from_str(&abm(dir, url, &["account", &hot, "--format", "json"], "")).unwrap();
    let email = view["contacts"][0]["email"].as_str().unwrap().to_owned();
    let website = TestSite::start(&format!(
        r#"<!doctype html><title>Pricing</title><script async src="{site}/t.js"></script>
<h1>Pricing</h1><form id="demo" onsubmit="return false"><input type="email" name="email"><button id="send">Request a demo</button></form>"#
    ));
    browser.go(&format!("{}/pricing", website.base));
    browser.type_into("input[name=email]", &email);
    browser.click("#send");
    let page_url = format!("{}/pricing", website.base);
    let mut seen = false;
    for _ in 0..100 {
        browser.go(&format!("{site}/accounts/{hot}"));
        let source = browser.source();
        if source.contains(&page_url)
            && source.contains("page_view")
            && source.contains("form_fill")
        {
            seen = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        seen,
        "the tracked visit to {page_url} is not on {hot}'s timeline"
    );
    browser.screenshot("account-timeline");
    // My day: the call task the play queued for the admin; done, with its outcome.
    browser.go(&format!("{site}/my-day"));
    let day = browser.source();
    assert!(
        day.contains("class=\"task\"") || day.contains("class=task"),
        "{day}"
    );
    assert!(day.contains(&strategic) || day.contains("Call "), "{day}");
    browser.screenshot("my-day");
    browser.type_into(
        "li.task form input[name=text]",
        "left a voicemail, will call Tuesday",
    );
    browser.click("li.task form button");
    browser.wait_for_url(|url| url.contains("/my-day?done="));
    let after = browser.source();
    assert!(after.contains("— done"), "{after}");
    let open: Value =
        serde_json::from_str(&abm(dir, url, &["task", "list", "--format", "json"], "")).unwrap();
    assert!(
        open.as_array()
            .unwrap()
            .iter()
            .all(|task| task["account"] != strategic.as_str()),
        "{open}"
    );
    // The server scores an account page from a cached customer profile and that account
    // alone; the CLI from every account: the same scores, contributions included.
    let token = abm(
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
    // Both recompute as of the stored scores' instant; the collector re-scores the account
    // the tracked visit touched on its own clock, so a stored score that moved between the two
    // reads is read again (at most for 10 s), and the last pair must agree.
    for _ in 0..2 {
        let mut attempts = 0;
        let (served, local) = loop {
            let served: Value = http
                .get(format!("{site}/api/v1/accounts/{other}"))
                .bearer_auth(&token)
                .send()
                .unwrap()
                .json()
                .unwrap();
            let local: Value =
                serde_json::from_str(&abm(dir, url, &["account", &other, "--format", "json"], ""))
                    .unwrap();
            attempts += 1;
            if served["scores"] == local["scores"] || attempts == 100 {
                break (served, local);
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        assert_eq!(served["scores"], local["scores"], "{served}");
        assert!(
            local["scores"]["fit"]["contributions"]
                .to_string()
                .contains("customers")
        );
    }
    // Plays: the play with its per-step results.
    browser.go(&format!("{site}/plays"));
    let plays = browser.source();
    assert!(
        plays.contains("strategic-call") && plays.contains("sent"),
        "{plays}"
    );
    browser.screenshot("plays");

    // Reports: the play's funnel with its chart, and the weekly summary page.
    browser.go(&format!("{site}/reports"));
    assert!(
        browser.source().contains("Weekly summary") || browser.source().contains("weekly summary")
    );
    browser.go(&format!("{site}/reports/plays"));
    let report = browser.source();
    assert!(
        report.contains("strategic-call")
            && report.contains("<svg")
            && report.contains("Definitions"),
        "{report}"
    );
    browser.screenshot("reports");
    browser.go(&format!("{site}/reports/weekly"));
    assert!(browser.source().contains("Pipeline"));
    browser.screenshot("weekly");

    // One-click unsubscribe: the signed link every email carries; the person is opted out
    // and their address suppressed.
    let links = abm(
        dir,
        url,
        &["link", &email, "msg-browser-1", "--base", &site],
        "",
    );
    let unsubscribe = links
        .lines()
        .find_map(|line| line.strip_prefix("unsubscribe\t"))
        .unwrap()
        .to_owned();
    browser.go(&unsubscribe);
    assert!(browser.source().contains(&email));
    browser.screenshot("unsubscribe");
    browser.click("#unsubscribe");
    let mut done = false;
    for _ in 0..50 {
        if browser.source().contains("will receive no more emails") {
            done = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(done, "the unsubscribe page did not confirm");
    let suppressed = abm(dir, url, &["suppress", "list", "--format", "json"], "");
    assert!(suppressed.contains(&email), "{suppressed}");
    let view: Value =
        serde_json::from_str(&abm(dir, url, &["account", &hot, "--format", "json"], "")).unwrap();
    let contact = view["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["email"] == email.as_str())
        .unwrap();
    assert_eq!(contact["opted_out"], true, "{contact}");
    // A mail client's one-click POST (RFC 8058), and a forged link refused.
    let other = view["contacts"][1]["email"].as_str().unwrap().to_owned();
    let links = abm(
        dir,
        url,
        &["link", &other, "msg-browser-2", "--base", &site],
        "",
    );
    let one_click = links
        .lines()
        .find_map(|line| line.strip_prefix("unsubscribe\t"))
        .unwrap()
        .to_owned();
    let response = http
        .post(&one_click)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .unwrap();
    assert!(response.status().is_success());
    assert!(abm(dir, url, &["suppress", "list"], "").contains(&other));
    let forged = format!("{}x", one_click);
    assert_eq!(http.post(&forged).send().unwrap().status().as_u16(), 400);
    // The preference page's other choice: fewer emails, which the guard then holds to.
    let third = view["contacts"][2]["email"].as_str().unwrap().to_owned();
    let links = abm(
        dir,
        url,
        &["link", &third, "msg-browser-3", "--base", &site],
        "",
    );
    let page_url = links
        .lines()
        .find_map(|line| line.strip_prefix("unsubscribe\t"))
        .unwrap()
        .to_owned();
    browser.go(&page_url);
    browser.click("#fewer");
    let mut saved = false;
    for _ in 0..50 {
        if browser.source().contains("at most 1 email a month") {
            saved = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(saved, "the preference page did not confirm");
    assert!(
        !abm(dir, url, &["suppress", "list"], "").contains(&third),
        "fewer is not unsubscribed"
    );

    browser.go(&format!("{site}/settings"));
    assert!(browser.source().contains("API tokens"));
    browser.screenshot("settings");
    let _ = http.delete(format!("{driver}/session/{id}")).send();
}

/// The team's website in the test: one page, whatever the path, on its own port (so the
/// snippet runs cross-origin, as on a real site).
struct TestSite {
    base: String,
}

impl TestSite {
    fn start(html: &str) -> Self {
        use std::io::{Read as _, Write as _};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let body = html.to_owned();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes());
            }
        });
        Self { base }
    }
}
