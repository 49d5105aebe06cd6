//! First-party tracking and the account's API over real HTTP, on a real SQLite file and a real
//! PostgreSQL database: the snippet, the collect endpoint (bots, Do-Not-Track, malformed and
//! oversized payloads, retries, rate), reverse-IP from a ranges file, identify joining the
//! anonymous history, personalization, signed email links, signed webhooks, and the account's
//! timeline, trend, intent, contacts and plan routes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{days_ago, ok, serve as start};
use serde_json::{Value, json};

const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";

const CONFIG: &str = r#"
[tracking]
max_events_per_minute = 120

[tracking.topics]
"/solutions/intent" = "Intent Data"

[reverse_ip]
ranges = "ranges.csv"

[personalization.default]
headline = "Account-based marketing on your own data"

[[personalization.rules]]
name = "software 1:1"
industry = ["Software"]
tier = ["1:1"]

[personalization.rules.variant]
headline = "Built for software teams"
case_study = "globex-story"
"#;

fn story(url: &str) {
    let directory = tempfile::tempdir().unwrap();
    let dir = directory.path();
    std::fs::write(dir.join("abm.toml"), CONFIG).unwrap();
    // The office network of the tests is Globex's (explicit ranges count even when private).
    std::fs::write(
        dir.join("ranges.csv"),
        "network,domain,confidence,organization\n127.0.0.0/8,globex.com,0.9,Globex Corporation\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("accounts.csv"),
        "Id,Name,Website,Industry,OwnerName\n001A,Acme,acme.com,Software,ana@ourco.com\n001B,Globex Corporation,globex.com,Software,bo@ourco.com\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("contacts.csv"),
        "Id,AccountId,Email,FirstName,LastName,Title\n003A,001A,jane@acme.com,Jane,Doe,VP Marketing\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("intent.csv"),
        format!(
            "Company Name,Domain,Topic Name,Composite Score,Date\nAcme,acme.com,Intent Data,82,{}\n",
            &days_ago(3)[..10]
        ),
    )
    .unwrap();
    ok(
        dir,
        url,
        &[
            "import",
            "accounts",
            "accounts.csv",
            "--map",
            "OwnerName=owner",
        ],
        "",
    );
    ok(dir, url, &["import", "contacts", "contacts.csv"], "");
    ok(dir, url, &["import", "intent", "intent.csv"], "");
    ok(dir, url, &["score"], "");
    ok(
        dir,
        url,
        &["user", "add", "admin@ourco.com", "--role", "admin"],
        "",
    );
    let admin = ["--as", "admin@ourco.com"];
    ok(
        dir,
        url,
        &[
            "user",
            "add",
            "ana@ourco.com",
            "--role",
            "sales",
            admin[0],
            admin[1],
        ],
        "",
    );
    ok(
        dir,
        url,
        &[
            "user",
            "add",
            "bo@ourco.com",
            "--role",
            "sales",
            admin[0],
            admin[1],
        ],
        "",
    );
    ok(
        dir,
        url,
        &[
            "tal", "propose", "acme.com", "--reason", "fit", "--tier", "1:1", admin[0], admin[1],
        ],
        "",
    );
    ok(
        dir,
        url,
        &[
            "tal",
            "approve",
            "acme.com",
            "--sales-owner",
            "ana@ourco.com",
            "--marketing-owner",
            "admin@ourco.com",
            admin[0],
            admin[1],
        ],
        "",
    );
    let token = |email: &str| {
        ok(
            dir,
            url,
            &["token", "create", email, admin[0], admin[1]],
            "",
        )
        .trim()
        .to_owned()
    };
    let (admin_token, ana, bo) = (
        token("admin@ourco.com"),
        token("ana@ourco.com"),
        token("bo@ourco.com"),
    );
    let secret = ok(
        dir,
        url,
        &["webhook", "create", "marketo", admin[0], admin[1]],
        "",
    )
    .trim()
    .to_owned();
    let links = ok(
        dir,
        url,
        &[
            "link",
            "jane@acme.com",
            "msg-1",
            "--url",
            "https://www.example.com/pricing",
        ],
        "",
    );

    let (_server, base) = start(dir, url);
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let stats = || -> Value {
        client
            .get(format!("{base}/api/v1/tracking"))
            .bearer_auth(&admin_token)
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let collect = |body: String, agent: &str, extra: &[(&str, &str)]| {
        let mut request = client
            .post(format!("{base}/t/collect"))
            .header("content-type", "text/plain")
            .header("user-agent", agent)
            .header("origin", "https://www.example.com")
            .body(body);
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        request.send().unwrap()
    };
    let event = |id: &str, visitor: &str, kind: &str, more: Value| -> String {
        let mut event = json!({"id": id, "visitor": visitor, "type": kind, "url": "https://www.example.com/solutions/intent-data"});
        if let (Some(event), Some(more)) = (event.as_object_mut(), more.as_object()) {
            event.extend(more.clone());
        }
        json!({ "events": [event] }).to_string()
    };

    // The snippet: small, JavaScript, cacheable.
    let snippet = client.get(format!("{base}/t.js")).send().unwrap();
    assert_eq!(snippet.status(), 200);
    assert!(
        snippet.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/javascript")
    );
    let text = snippet.text().unwrap();
    assert!(text.len() < 8 * 1024 && text.contains("/t/collect"));

    // An anonymous page view from Globex's network: stored, on Globex's timeline.
    let visitor = "visitor-0000000001";
    let response = collect(
        event("ev-00000001", visitor, "page_view", json!({})),
        BROWSER,
        &[],
    );
    assert_eq!(response.status(), 204, "{:?}", response.text());
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://www.example.com"
    );
    assert_eq!(stats()["stored"], 1);
    let timeline: Value = client
        .get(format!("{base}/api/v1/accounts/globex.com/timeline"))
        .bearer_auth(&ana)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let first = &timeline[0];
    assert_eq!(first["kind"], "page_view", "{timeline}");
    assert!(
        first["detail"].as_str().unwrap().contains("Intent Data"),
        "the path's topic: {first}"
    );

    // The same beacon again: stored once.
    collect(
        event("ev-00000001", visitor, "page_view", json!({})),
        BROWSER,
        &[],
    );
    let now = stats();
    assert_eq!(
        (now["stored"].as_u64(), now["unchanged"].as_u64()),
        (Some(1), Some(1))
    );

    // Bots and people who said no are not stored.
    let bot = collect(
        event("ev-00000002", visitor, "page_view", json!({})),
        "Googlebot/2.1 (+http://www.google.com/bot.html)",
        &[],
    );
    assert_eq!(bot.status(), 204);
    let dnt = collect(
        event("ev-00000003", visitor, "page_view", json!({})),
        BROWSER,
        &[("dnt", "1")],
    );
    assert_eq!(dnt.status(), 204);
    let gpc = collect(
        event("ev-00000004", visitor, "page_view", json!({})),
        BROWSER,
        &[("sec-gpc", "1")],
    );
    assert_eq!(gpc.status(), 204);
    let refused = collect(
        event(
            "ev-00000005",
            visitor,
            "page_view",
            json!({"consent": false}),
        ),
        BROWSER,
        &[],
    );
    assert_eq!(refused.status(), 204);
    let now = stats();
    assert_eq!(now["stored"], 1);
    assert_eq!(now["bots"], 1);
    assert_eq!(now["refused_privacy"], 3);

    // Malformed and oversized payloads: a problem naming the field, nothing stored.
    let bad = collect("{\"events\": [".into(), BROWSER, &[]);
    assert_eq!(bad.status(), 400);
    assert_eq!(bad.headers()["content-type"], "application/problem+json");
    let bad: Value = collect(
        event(
            "ev-00000006",
            visitor,
            "page_view",
            json!({"url": "javascript:alert(1)"}),
        ),
        BROWSER,
        &[],
    )
    .json()
    .unwrap();
    assert_eq!(bad["field"], "events[0].url", "{bad}");
    let bad: Value = collect(
        event("ev-00000007", "short", "page_view", json!({})),
        BROWSER,
        &[],
    )
    .json()
    .unwrap();
    assert_eq!(bad["field"], "events[0].visitor", "{bad}");
    let bad: Value = collect(
        event("ev-00000008", visitor, "page_view", json!({"extra": 1})),
        BROWSER,
        &[],
    )
    .json()
    .unwrap();
    assert_eq!(bad["field"], "events", "{bad}");
    let huge = collect("x".repeat(70 * 1024), BROWSER, &[]);
    assert_eq!(huge.status(), 413);
    let many: Vec<Value> = (0..51)
        .map(|n| json!({"id": format!("many-{n:05}"), "visitor": visitor, "type": "page_view", "url": "https://www.example.com/"}))
        .collect();
    assert_eq!(
        collect(json!({"events": many}).to_string(), BROWSER, &[]).status(),
        400
    );
    assert_eq!(stats()["stored"], 1);

    // The visitor fills a form: the anonymous history joins Jane and Acme.
    let form = collect(
        event(
            "ev-00000009",
            visitor,
            "form_submit",
            json!({"email": "Jane@Acme.com"}),
        ),
        BROWSER,
        &[],
    );
    assert_eq!(form.status(), 204);
    let now = stats();
    assert_eq!(
        (now["identified"].as_u64(), now["linked"].as_u64()),
        (Some(1), Some(1))
    );
    let acme: Value = client
        .get(format!("{base}/api/v1/accounts/acme.com/timeline"))
        .bearer_auth(&ana)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let kinds: Vec<&str> = acme
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["what"] == "activity")
        .map(|entry| entry["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["form_fill", "page_view"], "{acme}");
    assert!(
        acme.as_array()
            .unwrap()
            .iter()
            .any(|entry| entry["what"] == "intent")
    );

    // Personalization: the identified visitor's account and the rule's variant.
    let picked: Value = client
        .get(format!("{base}/t/personalize?visitor={visitor}"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(picked["known"], true);
    assert_eq!(picked["account"], "acme.com");
    assert_eq!(picked["tier"], "1:1");
    assert_eq!(picked["rule"], "software 1:1");
    assert_eq!(picked["variant"]["case_study"], "globex-story");
    let anonymous: Value = client
        .get(format!("{base}/t/personalize?visitor=someone-else-0000001"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        anonymous["account"], "globex.com",
        "by its network: {anonymous}"
    );
    assert_eq!(anonymous["rule"], Value::Null);

    // Behaviour: faster than a person browses is a bot for the minute.
    let fast = "visitor-fast-000001";
    for batch in 0..3 {
        let events: Vec<Value> = (0..50)
            .map(|n| json!({"id": format!("fast-{batch}-{n:04}"), "visitor": fast, "type": "page_view", "url": "https://www.example.com/"}))
            .collect();
        assert_eq!(
            collect(json!({"events": events}).to_string(), BROWSER, &[]).status(),
            204
        );
    }
    let now = stats();
    assert_eq!(now["stored"], 1 + 1 + 120);
    assert_eq!(now["bots"], 1 + 30);

    // Signed email links: the open pixel and the click redirect; a forged token is refused.
    let open = links
        .lines()
        .find_map(|line| line.strip_prefix("open\t"))
        .unwrap();
    let click = links
        .lines()
        .find_map(|line| line.strip_prefix("click\t"))
        .unwrap();
    let pixel = client
        .get(open.replace("http://127.0.0.1:8080", &base))
        .send()
        .unwrap();
    assert_eq!(pixel.status(), 200);
    assert_eq!(pixel.headers()["content-type"], "image/gif");
    let redirect = client
        .get(click.replace("http://127.0.0.1:8080", &base))
        .send()
        .unwrap();
    assert_eq!(redirect.status(), 303);
    assert_eq!(
        redirect.headers()["location"],
        "https://www.example.com/pricing"
    );
    let mut forged = click.replace("http://127.0.0.1:8080", &base);
    forged.push('x');
    assert_eq!(client.get(forged).send().unwrap().status(), 404);
    let acme: Value = client
        .get(format!("{base}/api/v1/accounts/acme.com/timeline"))
        .bearer_auth(&ana)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let kinds: Vec<&str> = acme
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"email_open") && kinds.contains(&"email_click"),
        "{kinds:?}"
    );

    // Signed webhooks: accepted when signed, refused otherwise.
    let body = json!({"activities": [{"id": "mkto-1", "occurred_at": days_ago(1), "type": "webinar_attended", "email": "jane@acme.com"}]}).to_string();
    let webhook = |timestamp: String, signature: String, source: &str| {
        client
            .post(format!("{base}/api/v1/webhooks/{source}"))
            .header("content-type", "application/json")
            .header("x-abm-timestamp", timestamp)
            .header("x-abm-signature", signature)
            .body(body.clone())
            .send()
            .unwrap()
    };
    let now_s = jiff::Timestamp::now().as_second().to_string();
    let signature = abm_core::tracking::sign_webhook(secret.as_bytes(), &now_s, body.as_bytes());
    let accepted = webhook(now_s.clone(), signature.clone(), "marketo");
    assert_eq!(accepted.status(), 200);
    let accepted: Value = accepted.json().unwrap();
    assert_eq!(accepted["inserted"], 1);
    assert_eq!(
        webhook(now_s.clone(), signature.replace('a', "b"), "marketo").status(),
        401
    );
    assert_eq!(
        webhook(now_s.clone(), signature.clone(), "hubspot").status(),
        401
    );
    let old = (jiff::Timestamp::now().as_second() - 3600).to_string();
    let old_signature = abm_core::tracking::sign_webhook(secret.as_bytes(), &old, body.as_bytes());
    assert_eq!(webhook(old, old_signature, "marketo").status(), 401);

    // The account's parts.
    let get = |path: &str, token: &str| -> Value {
        let response = client
            .get(format!("{base}{path}"))
            .bearer_auth(token)
            .send()
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        response.json().unwrap()
    };
    let trend = get("/api/v1/accounts/acme.com/trend?weeks=4", &ana);
    assert_eq!(trend.as_array().unwrap().len(), 5);
    let intent = get("/api/v1/accounts/acme.com/intent", &ana);
    assert_eq!(intent[0]["topic"], "Intent Data");
    let contacts = get("/api/v1/accounts/acme.com/contacts", &ana);
    assert_eq!(contacts["contacts"][0]["email"], "jane@acme.com");
    let account = get("/api/v1/accounts/acme.com", &ana);
    assert!(account["timeline"].as_array().unwrap().len() >= 4);
    assert_eq!(account["plan"]["version"], 0);

    // The plan: validated with line and column, versioned, owners only among sales.
    let plan = get("/api/v1/accounts/acme.com/plan", &ana);
    let toml = plan["toml"]
        .as_str()
        .unwrap()
        .replace("objectives = []", "objectives = [\"Land the data team\"]");
    let put = |token: &str, body: Value| {
        client
            .put(format!("{base}/api/v1/accounts/acme.com/plan"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .unwrap()
    };
    let broken = put(&ana, json!({"toml": "objectives = [\n", "base_version": 0}));
    assert_eq!(broken.status(), 400);
    let broken: Value = broken.json().unwrap();
    assert_eq!(broken["field"], "toml");
    assert!(
        broken["detail"].as_str().unwrap().contains("line"),
        "{broken}"
    );
    assert_eq!(
        put(&bo, json!({"toml": toml, "base_version": 0})).status(),
        403,
        "Bo does not own Acme"
    );
    let saved = put(&ana, json!({"toml": toml, "base_version": 0}));
    assert_eq!(saved.status(), 200);
    let saved: Value = saved.json().unwrap();
    assert_eq!(saved["version"], 1);
    assert_eq!(
        put(&ana, json!({"toml": toml, "base_version": 0})).status(),
        409,
        "stale base"
    );
    let plan = get("/api/v1/accounts/acme.com/plan", &ana);
    assert_eq!(plan["plan"]["objectives"][0], "Land the data team");

    // Every new route is in the OpenAPI document.
    let openapi = get("/api/v1/openapi.json", &ana);
    for path in [
        "/api/v1/accounts/{domain}/timeline",
        "/api/v1/accounts/{domain}/intent",
        "/api/v1/accounts/{domain}/contacts",
        "/api/v1/accounts/{domain}/trend",
        "/api/v1/accounts/{domain}/plan",
        "/api/v1/webhooks/{source}",
        "/api/v1/tracking",
    ] {
        assert!(openapi["paths"].get(path).is_some(), "{path}");
    }
    // Sales users do not see the collector's figures.
    let forbidden = client
        .get(format!("{base}/api/v1/tracking"))
        .bearer_auth(&ana)
        .send()
        .unwrap();
    assert_eq!(forbidden.status(), 403);
}

#[test]
fn tracking_on_sqlite() {
    let directory = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", directory.path().join("abm.db").display());
    story(&url);
}

#[test]
fn tracking_on_postgres() {
    if let Some(database) = abm_store::testing::PostgresDatabase::create("abm_tracking_web") {
        story(&database.url);
    }
}
