//! `abm serve` as a team uses it, over real HTTP on a real SQLite file and a real PostgreSQL
//! database: tokens and sessions, roles, CSRF, the ranked list with cursor pagination, one
//! account, TAL actions with their governance, problem+json errors, the OpenAPI document,
//! the sign-in rate limit and escaping in the pages.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{days_ago, ok, serve as start};

fn web_story(url: &str) {
    let directory = tempfile::tempdir().unwrap();
    let dir = directory.path();
    std::fs::write(
        dir.join("accounts.csv"),
        "Id,Name,Website,Industry,OwnerName\n001A,Acme <script>alert(1)</script>,acme.com,Software,ana@ourco.com\n001B,Globex,globex.com,Software,bo@ourco.com\n001C,Initech,initech.com,Retail,bo@ourco.com\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("activities.csv"),
        format!(
            "id,occurred_at,type,email,domain,url,topic,campaign,channel\na1,{},meeting_held,x@acme.com,,,,,\na2,{},page_view,,globex.com,https://globex.com/,,,web\n",
            days_ago(3),
            days_ago(2)
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
    ok(dir, url, &["import", "activities", "activities.csv"], "");
    ok(dir, url, &["score"], "");
    let out = ok(
        dir,
        url,
        &["user", "add", "admin@ourco.com", "--role", "admin"],
        "correct horse battery\n",
    );
    assert!(out.contains("with a password"), "{out}");
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
        "ana's long password\n",
    );
    ok(
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
    let ana = ok(
        dir,
        url,
        &["token", "create", "ana@ourco.com", admin[0], admin[1]],
        "",
    )
    .trim()
    .to_owned();
    let viewer = ok(
        dir,
        url,
        &["token", "create", "vi@ourco.com", admin[0], admin[1]],
        "",
    )
    .trim()
    .to_owned();
    assert_eq!(ana.len(), 64);

    let (_server, base) = start(dir, url);
    let client = reqwest::blocking::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // The OpenAPI document is generated from the handlers.
    let openapi: serde_json::Value = client
        .get(format!("{base}/api/v1/openapi.json"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    for path in [
        "/api/v1/accounts",
        "/api/v1/accounts/{domain}",
        "/api/v1/tal/{action}",
        "/api/v1/personas",
        "/api/v1/plays",
        "/api/v1/plays/{name}",
        "/api/v1/plays/{name}/simulate",
        "/api/v1/tasks",
        "/api/v1/tasks/{id}",
    ] {
        assert!(
            openapi["paths"].get(path).is_some(),
            "{path} in {}",
            openapi["paths"]
        );
    }
    assert_eq!(
        openapi["openapi"].as_str().unwrap().chars().next(),
        Some('3')
    );

    // No credentials: a problem, as JSON.
    let response = client
        .get(format!("{base}/api/v1/accounts"))
        .send()
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );

    // The ranked list, page by page.
    let get = |path: &str, token: &str| {
        client
            .get(format!("{base}{path}"))
            .bearer_auth(token)
            .send()
            .unwrap()
    };
    let first: serde_json::Value = get("/api/v1/accounts?limit=2", &ana).json().unwrap();
    assert_eq!(first["accounts"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let second: serde_json::Value = get(
        &format!("/api/v1/accounts?limit=2&cursor={}", urlencode(&cursor)),
        &ana,
    )
    .json()
    .unwrap();
    let mut seen: Vec<String> = first["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["accounts"].as_array().unwrap())
        .map(|a| a["domain"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(seen.len(), 3);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 3, "no account twice across pages");
    assert!(second["next_cursor"].is_null());
    let bad = get("/api/v1/accounts?limit=0", &ana);
    assert_eq!(bad.status(), 400);
    let problem: serde_json::Value = bad.json().unwrap();
    assert_eq!(problem["field"], "limit");
    let only: serde_json::Value = get("/api/v1/accounts?q=glob", &ana).json().unwrap();
    assert_eq!(only["accounts"][0]["domain"], "globex.com");
    let domains = |path: &str, token: &str| -> Vec<String> {
        let page: serde_json::Value = get(path, token).json().unwrap();
        let mut domains: Vec<String> = page["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["domain"].as_str().unwrap().to_owned())
            .collect();
        domains.sort();
        domains
    };
    assert_eq!(
        domains("/api/v1/accounts?owner=BO@ourco.com", &ana),
        ["globex.com", "initech.com"],
        "the owner filter, without case"
    );
    assert_eq!(domains("/api/v1/accounts?owner=me", &ana), ["acme.com"]);
    assert_eq!(
        domains("/api/v1/accounts?qualified=true", &ana),
        Vec::<String>::new()
    );
    assert_eq!(domains("/api/v1/accounts?qualified=false", &ana).len(), 3);
    assert_eq!(
        domains("/api/v1/accounts?cluster=&tier=&stage=", &ana).len(),
        3,
        "an empty field, as a form sends it, is no filter"
    );
    let problem: serde_json::Value = get("/api/v1/accounts?qualified=maybe", &ana)
        .json()
        .unwrap();
    assert_eq!(problem["field"], "qualified");
    let by_domain: serde_json::Value = get("/api/v1/accounts?sort=domain", &ana).json().unwrap();
    assert_eq!(by_domain["accounts"][0]["domain"], "acme.com");
    assert_eq!(by_domain["accounts"][0]["owner"], "ana@ourco.com");
    // The same list as CSV, for a token (scripts) as for a session.
    let export = get("/accounts.csv?owner=bo%40ourco.com&sort=domain", &ana);
    assert_eq!(export.status(), 200);
    assert_eq!(export.headers()["content-type"], "text/csv; charset=utf-8");
    let text = export.text().unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("domain,name,priority,fit,intent,engagement,stage,tier,cluster,owner")
    );
    let exported: Vec<&str> = lines.map(|line| line.split(',').next().unwrap()).collect();
    assert_eq!(exported, ["globex.com", "initech.com"]);
    assert_eq!(get("/accounts.csv?tier=2:2", &ana).status(), 400);

    // One account, its contributions adding up.
    let account: serde_json::Value = get("/api/v1/accounts/acme.com", &ana).json().unwrap();
    for name in ["fit", "intent", "engagement", "priority"] {
        let score = &account["scores"][name];
        let sum: f64 = score["contributions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["points"].as_f64().unwrap())
            .sum();
        assert!(
            (score["value"].as_f64().unwrap() - sum).abs() < 1e-6,
            "{name}"
        );
    }
    let actions = account["next_best_actions"].as_array().unwrap();
    assert!(
        (1..=3).contains(&actions.len()),
        "one to three next best actions: {actions:?}"
    );
    for action in actions {
        assert!(!action["action"].as_str().unwrap().is_empty());
        assert!(!action["because"].as_str().unwrap().is_empty());
    }
    assert_eq!(get("/api/v1/accounts/nowhere-corp.com", &ana).status(), 404);

    // TAL actions: roles and ownership, as in the CLI; audited as the caller.
    let post = |path: &str, token: &str, body: serde_json::Value| {
        client
            .post(format!("{base}{path}"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .unwrap()
    };
    let body = serde_json::json!({"domains": ["acme.com"], "reason": "fit"});
    assert_eq!(
        post("/api/v1/tal/propose", &viewer, body.clone()).status(),
        403
    );
    assert_eq!(
        post("/api/v1/tal/propose", &ana, body.clone()).status(),
        200
    );
    // Plays and tasks: anyone signed in reads; a viewer acts on no task; mistakes are named.
    let plays = get("/api/v1/plays", &viewer);
    assert_eq!(plays.status(), 200);
    assert!(plays.json::<serde_json::Value>().unwrap().is_array());
    assert_eq!(get("/api/v1/plays/nope", &viewer).status(), 404);
    assert_eq!(get("/api/v1/tasks?mine=true", &viewer).status(), 200);
    let task = serde_json::json!({"action": "complete", "text": "done"});
    assert_eq!(post("/api/v1/tasks/1", &viewer, task.clone()).status(), 403);
    assert_eq!(post("/api/v1/tasks/1", &ana, task).status(), 404);
    let bad = post(
        "/api/v1/tasks/1",
        &ana,
        serde_json::json!({"action": "explode"}),
    );
    assert_eq!(bad.status(), 400);
    assert!(bad.text().unwrap().contains("action"));
    let refused = post(
        "/api/v1/tal/propose",
        &ana,
        serde_json::json!({"domains": ["globex.com"], "reason": "fit", "extra": 1}),
    );
    assert_eq!(refused.status(), 400);
    let approved: serde_json::Value = post(
        "/api/v1/tal/approve",
        &ana,
        serde_json::json!({"domains": ["acme.com"]}),
    )
    .json()
    .unwrap();
    assert_eq!(approved[0]["status"], "approved");
    let audit = ok(dir, url, &["tal", "audit", "--format", "json"], "");
    assert!(audit.contains("\"actor\": \"ana@ourco.com\""), "{audit}");

    // Activities through the API: validated, idempotent, all or nothing, scores current.
    let before: serde_json::Value = get("/api/v1/accounts/globex.com", &ana).json().unwrap();
    let batch = serde_json::json!({"activities": [
        {"id": "api-1", "occurred_at": days_ago(1), "type": "meeting_held", "email": "cfo@globex.com"},
        {"id": "api-2", "occurred_at": days_ago(1), "type": "email_reply", "email": "vp@globex.com"},
    ]});
    let bad = serde_json::json!({"activities": [
        {"id": "api-3", "occurred_at": days_ago(1), "type": "page_view", "domain": "globex.com"},
        {"id": "api-4", "occurred_at": "yesterday", "type": "page_view", "domain": "globex.com"},
    ]});
    let refused = post("/api/v1/activities", &ana, bad);
    assert_eq!(refused.status(), 400);
    let problem: serde_json::Value = refused.json().unwrap();
    assert_eq!(problem["field"], "activities[1].occurred_at", "{problem}");
    assert_eq!(
        post("/api/v1/activities", &viewer, batch.clone()).status(),
        403
    );
    let stored: serde_json::Value = post("/api/v1/activities", &ana, batch.clone())
        .json()
        .unwrap();
    assert_eq!(
        (stored["inserted"].as_u64(), stored["rescored"].as_u64()),
        (Some(2), Some(1)),
        "{stored}"
    );
    let again: serde_json::Value = post("/api/v1/activities", &ana, batch).json().unwrap();
    assert_eq!(
        (again["inserted"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(2))
    );
    let after: serde_json::Value = get("/api/v1/accounts/globex.com", &ana).json().unwrap();
    assert!(
        after["scores"]["engagement"]["value"].as_f64().unwrap()
            > before["scores"]["engagement"]["value"].as_f64().unwrap(),
        "{after}"
    );

    // Signing in: wrong password, right password, session cookie, CSRF on writes.
    let login = |email: &str, password: &str| {
        client
            .post(format!("{base}/login"))
            .form(&[("email", email), ("password", password)])
            .send()
            .unwrap()
    };
    let wrong = login("ana@ourco.com", "not it at all");
    assert_eq!(wrong.headers()["location"], "/login?error=1");
    let right = login("ana@ourco.com", "ana's long password");
    assert_eq!(right.headers()["location"], "/accounts");
    let page = client
        .get(format!("{base}/accounts"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        page.contains("acme.com") && page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
    assert!(!page.contains("<script>alert(1)"));
    let account_page = client
        .get(format!("{base}/accounts/acme.com"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(account_page.contains("Why now") && account_page.contains("Buying group"));
    let no_csrf = client
        .post(format!("{base}/api/v1/tal/propose"))
        .json(&serde_json::json!({"domains": ["globex.com"], "reason": "x"}))
        .send()
        .unwrap();
    assert_eq!(no_csrf.status(), 403);
    // The page's forms carry the session's token; with it the same write goes through.
    let csrf = account_page
        .split(r#"name="csrf" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let with_csrf = client
        .post(format!("{base}/api/v1/tal/propose"))
        .header("x-csrf-token", &csrf)
        .json(&serde_json::json!({"domains": ["globex.com"], "reason": "x"}))
        .send()
        .unwrap();
    assert_eq!(with_csrf.status(), 200);
    // The TAL page: globex.com waits for its owner (bo); ana's approval is refused, shown.
    let tal = client
        .get(format!("{base}/tal"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        tal.contains("Waiting for a decision") && tal.contains("globex.com"),
        "{tal}"
    );
    let refused = client
        .post(format!("{base}/tal/approve"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("domain", "globex.com"),
            ("reason", ""),
            ("tier", ""),
        ])
        .send()
        .unwrap();
    let location = refused.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/tal?error="), "{location}");
    let shown = client
        .get(format!("{base}{location}"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(shown.contains("may not approve globex.com"), "{shown}");
    let forged = client
        .post(format!("{base}/tal/reject"))
        .form(&[
            ("csrf", "forged"),
            ("domain", "globex.com"),
            ("reason", "x"),
            ("tier", ""),
        ])
        .send()
        .unwrap();
    assert_eq!(forged.status(), 403);
    // My day shows the rep's own accounts only; settings are for administrators.
    let day = client
        .get(format!("{base}/my-day"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let hottest = day.split("Hottest accounts").nth(1).unwrap();
    assert!(
        hottest.contains("acme.com") && !hottest.contains("globex.com"),
        "{day}"
    );
    assert_eq!(
        client
            .get(format!("{base}/settings"))
            .send()
            .unwrap()
            .status(),
        403
    );
    // Signing out ends the session.
    let out = client
        .post(format!("{base}/logout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .unwrap();
    assert_eq!(out.headers()["location"], "/login");
    let after = client.get(format!("{base}/accounts")).send().unwrap();
    assert_eq!(after.headers()["location"], "/login");

    // Settings, signed in as the administrator: users, tokens, the configuration.
    assert_eq!(
        login("admin@ourco.com", "correct horse battery").headers()["location"],
        "/accounts"
    );
    let settings = client
        .get(format!("{base}/settings"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(settings.contains("admin@ourco.com") && settings.contains("API tokens"));
    let csrf = settings
        .split(r#"name="csrf" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let form = |path: &str, fields: &[(&str, &str)]| {
        client
            .post(format!("{base}{path}"))
            .form(fields)
            .send()
            .unwrap()
    };
    let added = form(
        "/settings/users",
        &[
            ("csrf", &csrf),
            ("email", "Cy@OurCo.com"),
            ("name", "Cy Lee"),
            ("role", "marketing"),
            ("password", "cy's long password"),
        ],
    );
    let location = added.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/settings?done=Added"), "{location}");
    let short = form(
        "/settings/users",
        &[
            ("csrf", &csrf),
            ("email", "dee@ourco.com"),
            ("role", "sales"),
            ("password", "short"),
        ],
    );
    assert!(
        short.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/settings?error="),
        "a short password is refused"
    );
    let listed: serde_json::Value =
        serde_json::from_str(&ok(dir, url, &["user", "list", "--format", "json"], "")).unwrap();
    let cy = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|user| user["email"] == "cy@ourco.com")
        .unwrap();
    assert_eq!(
        (cy["role"].as_str(), cy["name"].as_str()),
        (Some("marketing"), Some("Cy Lee"))
    );
    assert!(!listed.to_string().contains("dee@ourco.com"));
    // A new token is shown once, in the page; it works until it is revoked.
    let created = form(
        "/settings/tokens",
        &[("csrf", &csrf), ("email", "cy@ourco.com")],
    )
    .text()
    .unwrap();
    let token = created
        .split(r#"<code id="new-token">"#)
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap()
        .to_owned();
    assert_eq!(token.len(), 64);
    assert_eq!(get("/api/v1/accounts", &token).status(), 200);
    let digest = created
        .split(r#"name="digest" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let revoked = form(
        "/settings/tokens/revoke",
        &[("csrf", &csrf), ("digest", &digest)],
    );
    assert!(
        revoked.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/settings?done=Revoked"),
    );
    assert_eq!(get("/api/v1/accounts", &token).status(), 401);
    assert_eq!(
        form(
            "/settings/tokens",
            &[("csrf", "forged"), ("email", "cy@ourco.com")]
        )
        .status(),
        403,
        "settings forms check the CSRF token"
    );
    // The configuration: a broken one is refused with its line, a valid one saved.
    let broken = form(
        "/settings/config",
        &[("csrf", &csrf), ("toml", "[scoring\n"), ("action", "save")],
    )
    .text()
    .unwrap();
    assert!(
        broken.contains("config-error") && broken.contains("line 1"),
        "{broken}"
    );
    assert!(
        !dir.join("abm.toml").exists()
            || std::fs::read_to_string(dir.join("abm.toml")).unwrap() != "[scoring\n"
    );
    let text = "# saved from the settings page\n";
    let saved = form(
        "/settings/config",
        &[("csrf", &csrf), ("toml", text), ("action", "save")],
    )
    .text()
    .unwrap();
    assert!(saved.contains("config-ok"), "{saved}");
    assert_eq!(std::fs::read_to_string(dir.join("abm.toml")).unwrap(), text);
    let audit = ok(dir, url, &["audit", "--format", "json"], "");
    for action in ["user add", "token create", "token revoke", "config save"] {
        assert!(audit.contains(action), "{action} in {audit}");
    }
    form("/logout", &[("csrf", &csrf)]);

    // Five failures lock the email for a while, even with the right password after.
    for _ in 0..5 {
        login("admin@ourco.com", "wrong wrong wrong");
    }
    let limited = login("admin@ourco.com", "correct horse battery");
    assert_eq!(limited.headers()["location"], "/login?error=limited");
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn web_on_sqlite() {
    web_story("sqlite://./abm.db");
}

#[test]
fn web_on_postgres() {
    let Some(database) = abm_store::testing::PostgresDatabase::create("abm_web") else {
        return;
    };
    web_story(&database.url);
}
