//! The account team's view as a user runs it, on a real SQLite file and a real PostgreSQL
//! server: TAL governance (who may approve, caps, owner pairs, all-or-nothing batches, the
//! audit trail), tiers in the ranked list, personas and buying groups, trigger events
//! (detected on re-import, imported from a file), clusters and account plans.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::days_ago;

use std::path::Path;
use std::process::{Command, Output};

fn abm(directory: &Path, url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_abm"))
        .current_dir(directory)
        .env("ABM_DATABASE_URL", url)
        .env("USER", "cli-user")
        .env_remove("ABM_LOG")
        .env_remove("ABM_USER")
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

fn json(directory: &Path, url: &str, args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&ok(directory, url, args)).unwrap()
}

fn write(directory: &Path, name: &str, contents: &str) {
    std::fs::write(directory.join(name), contents).unwrap();
}

fn import_world(directory: &Path, url: &str) {
    write(
        directory,
        "accounts.csv",
        "Id,Name,Website,Industry,NumberOfEmployees,AnnualRevenue,OwnerName,Technologies__c\n\
         001A,Acme,acme.com,Software,1200,5000000,Ana Ruiz,Salesforce;Marketo\n\
         001B,Globex,globex.com,Manufacturing,5000,90000000,bo@ourco.com,SAP\n\
         001C,Initech,initech.com,Software,300,,bo@ourco.com,\n",
    );
    write(
        directory,
        "contacts.csv",
        "Id,AccountId,FirstName,LastName,Email,Title\n\
         003A,001A,Ann,Lee,ann@acme.com,CMO\n\
         003B,001A,Bo,Park,bo@acme.com,\"VP, Sales\"\n\
         003C,001A,Cy,Kim,cy@acme.com,Head of RevOps\n\
         003D,001A,Dee,Fox,dee@acme.com,Registered Nurse\n\
         003E,001B,Di,Ng,di@globex.com,IT Manager\n",
    );
    write(
        directory,
        "activities.csv",
        &format!(
            "id,occurred_at,type,email,domain,url,topic,campaign,channel\n\
             a1,{},meeting_held,bo@acme.com,,,,,\n\
             a2,{},form_fill,cy@acme.com,,,,,web\n\
             a3,{},webinar_attended,ann@acme.com,,,,,\n",
            days_ago(4),
            days_ago(2),
            days_ago(200)
        ),
    );
    // Accounts.csv maps the owner through --map: the generic owner column.
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
    ok(directory, url, &["import", "activities", "activities.csv"]);
    ok(directory, url, &["score"]);
}

fn status_of(directory: &Path, url: &str, domain: &str) -> Option<String> {
    let list = json(directory, url, &["tal", "list", "--format", "json"]);
    list.as_array()
        .unwrap()
        .iter()
        .find(|row| row["domain"] == domain)
        .map(|row| row["status"].as_str().unwrap().to_owned())
}

fn team_story(url: &str) {
    let directory = tempfile::tempdir().unwrap();
    let dir = directory.path();
    import_world(dir, url);

    // A fresh install: the CLI user acts as administrator, and the audit trail says so.
    let out = ok(
        dir,
        url,
        &["tal", "propose", "acme.com", "--reason", "ICP match"],
    );
    assert!(out.contains("administrator rights"), "{out}");
    let list = json(dir, url, &["tal", "list", "--format", "json"]);
    let acme = &list[0];
    for key in [
        "domain",
        "status",
        "tier",
        "cluster",
        "owner",
        "reason",
        "updated_at",
    ] {
        assert!(acme.get(key).is_some(), "{key}: {acme}");
    }
    assert_eq!(acme["status"], "proposed");
    assert_eq!(acme["owner"], "Ana Ruiz");
    assert_eq!(acme["reason"], "ICP match");

    // Users: the first must be an administrator; then roles apply.
    let error = fails(
        dir,
        url,
        &["user", "add", "ana@ourco.com", "--role", "sales"],
    );
    assert!(
        error.contains("first user must be an administrator"),
        "{error}"
    );
    ok(
        dir,
        url,
        &["user", "add", "admin@ourco.com", "--role", "admin"],
    );
    let admin = ["--as", "admin@ourco.com"];
    for (email, role, name) in [
        ("ana@ourco.com", "sales", "Ana Ruiz"),
        ("bo@ourco.com", "sales", "Bo Smith"),
        ("mo@ourco.com", "marketing", "Mo Diaz"),
        ("vi@ourco.com", "viewer", "Vi Tran"),
    ] {
        let mut args = vec!["user", "add", email, "--role", role, "--name", name];
        args.extend(admin);
        ok(dir, url, &args);
    }
    let error = fails(dir, url, &["tal", "approve", "acme.com"]);
    assert!(
        error.contains("\"cli-user\" is not a registered user"),
        "{error}"
    );
    // Emails compare normalised, the same on both backends, beyond ASCII too.
    ok(
        dir,
        url,
        &[
            "user",
            "add",
            "ÉVA@ourco.com",
            "--role",
            "viewer",
            "--as",
            "admin@ourco.com",
        ],
    );
    ok(dir, url, &["tal", "list", "--as", "éva@ourco.com"]);
    // The last administrator cannot step down; viewers do not import.
    let error = fails(
        dir,
        url,
        &[
            "user",
            "add",
            "admin@ourco.com",
            "--role",
            "sales",
            "--as",
            "admin@ourco.com",
        ],
    );
    assert!(error.contains("last administrator"), "{error}");
    let error = fails(
        dir,
        url,
        &["import", "accounts", "accounts.csv", "--as", "vi@ourco.com"],
    );
    assert!(error.contains("is a viewer and may not import"), "{error}");

    // Only the owner in sales (or an administrator) approves; a refusal changes nothing.
    for who in ["bo@ourco.com", "mo@ourco.com", "vi@ourco.com"] {
        let error = fails(dir, url, &["tal", "approve", "acme.com", "--as", who]);
        assert!(
            error.contains("may not") && error.contains("nothing was changed"),
            "{who}: {error}"
        );
    }
    assert_eq!(status_of(dir, url, "acme.com").as_deref(), Some("proposed"));
    let out = ok(
        dir,
        url,
        &["tal", "approve", "acme.com", "--as", "ana@ourco.com"],
    );
    assert!(out.contains("Approved acme.com as 1:"), "{out}");

    // A batch is all or nothing: an unknown domain refuses the whole proposal.
    let error = fails(
        dir,
        url,
        &[
            "tal",
            "propose",
            "globex.com",
            "nowhere-corp.com",
            "--reason",
            "expansion",
            "--as",
            "mo@ourco.com",
        ],
    );
    assert!(error.contains("no account nowhere-corp.com"), "{error}");
    assert_eq!(status_of(dir, url, "globex.com"), None);
    let long = "x".repeat(2001);
    let error = fails(
        dir,
        url,
        &[
            "tal",
            "propose",
            "globex.com",
            "--reason",
            &long,
            "--as",
            "mo@ourco.com",
        ],
    );
    assert!(error.contains("at most 2000 characters"), "{error}");
    ok(
        dir,
        url,
        &[
            "tal",
            "propose",
            "globex.com",
            "initech.com",
            "--reason",
            "expansion",
            "--as",
            "mo@ourco.com",
        ],
    );

    // 1:1 needs an owner pair; the cap per tier is enforced.
    let error = fails(
        dir,
        url,
        &[
            "tal",
            "approve",
            "globex.com",
            "--tier",
            "1:1",
            "--as",
            "bo@ourco.com",
        ],
    );
    assert!(error.contains("no marketing owner"), "{error}");
    write(dir, "abm.toml", "[tal.caps]\none_to_one = 1\n");
    ok(
        dir,
        url,
        &[
            "tal",
            "approve",
            "globex.com",
            "--tier",
            "1:1",
            "--marketing-owner",
            "mo@ourco.com",
            "--as",
            "bo@ourco.com",
        ],
    );
    let error = fails(
        dir,
        url,
        &[
            "tal",
            "approve",
            "initech.com",
            "--tier",
            "1:1",
            "--marketing-owner",
            "mo@ourco.com",
            "--as",
            "bo@ourco.com",
        ],
    );
    assert!(error.contains("the 1:1 tier is full: 1 of 1"), "{error}");
    ok(
        dir,
        url,
        &[
            "tal",
            "approve",
            "initech.com",
            "--tier",
            "1:few",
            "--as",
            "bo@ourco.com",
        ],
    );
    // Re-tiering the whole TAL is for administrators.
    for who in ["vi@ourco.com", "mo@ourco.com", "bo@ourco.com"] {
        let error = fails(dir, url, &["tal", "retier", "--as", who]);
        assert!(
            error.contains("only an administrator may"),
            "{who}: {error}"
        );
    }
    let long = "o".repeat(201);
    let error = fails(
        dir,
        url,
        &[
            "tal",
            "owners",
            "globex.com",
            "--marketing",
            &long,
            "--as",
            "bo@ourco.com",
        ],
    );
    assert!(error.contains("at most 200 characters"), "{error}");
    // A tier set by hand is remembered over the rule.
    ok(dir, url, &["tal", "retier", "--as", "admin@ourco.com"]);
    let list = json(dir, url, &["tal", "list", "--format", "json"]);
    let globex = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["domain"] == "globex.com")
        .unwrap();
    assert_eq!(globex["tier"], "1:1");
    assert_eq!(globex["tier_set_by_hand"], true);

    // Tiers show in the ranked list and filter it.
    let csv = ok(dir, url, &["accounts", "--tier", "1:1", "--format", "csv"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(
        lines[1].starts_with("globex.com,Globex,") && lines[1].ends_with(",1:1"),
        "{csv}"
    );

    // Removal needs a reason; the audit trail keeps who, when, why and on whose authority.
    let error = fails(
        dir,
        url,
        &[
            "tal",
            "remove",
            "initech.com",
            "--reason",
            " ",
            "--as",
            "bo@ourco.com",
        ],
    );
    assert!(error.contains("a reason is required"), "{error}");
    ok(
        dir,
        url,
        &[
            "tal",
            "remove",
            "initech.com",
            "--reason",
            "acquired by a customer",
            "--as",
            "bo@ourco.com",
        ],
    );
    let audit = json(dir, url, &["tal", "audit", "--format", "json"]);
    let actions: Vec<(String, String)> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["domain"].as_str().unwrap().to_owned(),
                row["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        actions.first().unwrap(),
        &("acme.com".to_owned(), "propose".to_owned())
    );
    assert!(
        audit[0]["authority"]
            .as_str()
            .unwrap()
            .contains("fresh install")
    );
    let removal = audit.as_array().unwrap().last().unwrap();
    assert_eq!(removal["action"], "remove");
    assert_eq!(removal["actor"], "bo@ourco.com");
    assert_eq!(removal["reason"], "acquired by a customer");
    assert_eq!(removal["authority"], "as the account's owner");

    // Buying group: roles from titles, engaged from activity, the nurse never counts.
    let account = json(dir, url, &["account", "acme.com", "--format", "json"]);
    let role = |account: &serde_json::Value, name: &str| {
        account["buying_group"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["role"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(role(&account, "economic_buyer")["known"], 2, "{account}");
    assert_eq!(role(&account, "economic_buyer")["engaged"], 1, "{account}");
    assert_eq!(role(&account, "decision_maker")["known"], 1);
    assert_eq!(role(&account, "decision_maker")["engaged"], 1);
    assert_eq!(account["buying_group"].as_array().unwrap().len(), 8);
    assert!(account["tier"].as_str().unwrap().starts_with("1:"));
    // A role set by hand wins over the title.
    ok(
        dir,
        url,
        &["role", "ann@acme.com", "champion", "--as", "mo@ourco.com"],
    );
    let account = json(dir, url, &["account", "acme.com", "--format", "json"]);
    assert_eq!(role(&account, "economic_buyer")["known"], 1);
    assert_eq!(role(&account, "champion")["known"], 1);
    let error = fails(
        dir,
        url,
        &["role", "ann@acme.com", "boss", "--as", "mo@ourco.com"],
    );
    assert!(error.contains("unknown buying role \"boss\""), "{error}");

    // Triggers: a re-import that drops a competitor's product and grows headcount, a new
    // senior contact, and events from a file.
    write(
        dir,
        "abm.toml",
        "[tal.caps]\none_to_one = 1\n\n[fit.competitors]\ntechnologies = [\"Marketo\"]\npoints = 10\n",
    );
    write(
        dir,
        "accounts2.csv",
        "Id,Name,Website,NumberOfEmployees,Technologies__c\n001A,Acme,acme.com,1500,Salesforce;HubSpot\n",
    );
    ok(
        dir,
        url,
        &[
            "import",
            "accounts",
            "accounts2.csv",
            "--as",
            "mo@ourco.com",
        ],
    );
    write(
        dir,
        "contacts2.csv",
        "Id,AccountId,FirstName,LastName,Email,Title\n003F,001A,Eve,Ho,eve@acme.com,VP Marketing\n",
    );
    ok(
        dir,
        url,
        &[
            "import",
            "contacts",
            "contacts2.csv",
            "--as",
            "mo@ourco.com",
        ],
    );
    write(
        dir,
        "events.csv",
        "domain,kind,date,evidence\nacme.com,funding,2026-11-20,Series C $40M\nacme.com,party,2026-11-21,x\n",
    );
    let error = fails(
        dir,
        url,
        &["triggers", "import", "events.csv", "--as", "mo@ourco.com"],
    );
    assert!(
        error.contains("line 3, column 2") && error.contains("\"party\""),
        "{error}"
    );
    // Saved from Excel on Windows, with a gap: the problem names the row's own line.
    write(
        dir,
        "events.csv",
        "domain,kind,date,evidence\r\nacme.com,funding,2026-11-20,Series C $40M\r\n\r\n\r\nacme.com,party,2026-11-21,x\r\n",
    );
    let error = fails(
        dir,
        url,
        &["triggers", "import", "events.csv", "--as", "mo@ourco.com"],
    );
    assert!(
        error.contains("line 5, column 2") && error.contains("\"party\""),
        "{error}"
    );
    write(
        dir,
        "events.csv",
        "domain,kind,date,evidence\nacme.com,funding,2026-11-20,Series C $40M\n",
    );
    ok(
        dir,
        url,
        &["triggers", "import", "events.csv", "--as", "mo@ourco.com"],
    );
    ok(
        dir,
        url,
        &["triggers", "import", "events.csv", "--as", "mo@ourco.com"],
    );
    let account = json(dir, url, &["account", "acme.com", "--format", "json"]);
    let triggers: Vec<(String, String)> = account["triggers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["kind"].as_str().unwrap().to_owned(),
                t["evidence"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for expected in [
        (
            "technology_removed",
            "dropped Marketo — a competitor's product: a displacement window",
        ),
        ("technology_added", "added HubSpot"),
        ("employee_growth", "employees 1,200 → 1,500 (+25%)"),
        (
            "leadership_change",
            "new VP Marketing: Eve Ho <eve@acme.com>",
        ),
        ("funding", "Series C $40M"),
    ] {
        let found = triggers
            .iter()
            .filter(|(k, e)| k == expected.0 && e == expected.1)
            .count();
        assert_eq!(found, 1, "{expected:?} in {triggers:?}");
    }
    assert!(
        account["why"]["now"]
            .as_array()
            .unwrap()
            .iter()
            .any(|line| line.as_str().unwrap().contains("new VP Marketing")),
        "{}",
        account["why"]
    );

    // Clusters and plans.
    ok(
        dir,
        url,
        &[
            "cluster",
            "create",
            "Software leaders",
            "--trait",
            "industry=Software",
            "acme.com",
            "--as",
            "mo@ourco.com",
        ],
    );
    let clusters = json(dir, url, &["cluster", "list", "--format", "json"]);
    assert_eq!(clusters[0]["members"], serde_json::json!(["acme.com"]));
    assert_eq!(clusters[0]["traits"], "industry = Software");
    let error = fails(
        dir,
        url,
        &[
            "cluster",
            "add",
            "Software leaders",
            "initech.com",
            "--as",
            "mo@ourco.com",
        ],
    );
    assert!(error.contains("initech.com is not on the TAL"), "{error}");

    let plan = "objectives = [\"Replace Marketo by Q3\"]\n\n[[next_steps]]\naction = \"Send the ROI model\"\nowner = \"Ana Ruiz\"\ndue = 2027-01-15\n";
    write(dir, "plan.toml", plan);
    let out = ok(
        dir,
        url,
        &[
            "plan",
            "set",
            "globex.com",
            "plan.toml",
            "--as",
            "ana@ourco.com",
        ],
    );
    assert!(out.contains("Saved the plan of globex.com"), "{out}");
    write(dir, "bad.toml", "objectives = [\"x\"]\nobjectivs = []\n");
    let error = fails(
        dir,
        url,
        &[
            "plan",
            "set",
            "globex.com",
            "bad.toml",
            "--as",
            "ana@ourco.com",
        ],
    );
    assert!(
        error.contains("line 2") && error.contains("objectivs"),
        "{error}"
    );
    let shown = json(
        dir,
        url,
        &["plan", "show", "globex.com", "--format", "json"],
    );
    assert_eq!(shown["version"], 1);
    assert_eq!(shown["plan"]["next_steps"][0]["owner"], "Ana Ruiz");
    // Edit through $EDITOR: a script that appends a pain point.
    let editor = dir.join("editor.sh");
    write(
        dir,
        "editor.sh",
        "#!/bin/sh\nsed -i 's/^pains = \\[\\]/pains = [\"Lead routing is manual\"]/' \"$1\"\n",
    );
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_abm"))
        .current_dir(dir)
        .env("ABM_DATABASE_URL", url)
        .env("EDITOR", &editor)
        .env_remove("VISUAL")
        .args(["plan", "edit", "globex.com", "--as", "ana@ourco.com"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let history = ok(dir, url, &["plan", "history", "globex.com"]);
    assert!(
        history.contains("version 2") && history.contains("Lead routing is manual"),
        "{history}"
    );
    // Plans are for 1:1 and 1:few accounts only.
    let error = fails(
        dir,
        url,
        &[
            "plan",
            "set",
            "initech.com",
            "plan.toml",
            "--as",
            "admin@ourco.com",
        ],
    );
    assert!(error.contains("not an approved TAL account"), "{error}");

    // An account leaving the TAL leaves its cluster; a rule never brings it back.
    ok(
        dir,
        url,
        &[
            "tal",
            "remove",
            "acme.com",
            "--reason",
            "bought elsewhere",
            "--as",
            "ana@ourco.com",
        ],
    );
    let clusters = json(dir, url, &["cluster", "list", "--format", "json"]);
    assert_eq!(clusters[0]["members"], serde_json::json!([]));
    let out = ok(
        dir,
        url,
        &["tal", "propose", "--min-fit", "0", "--as", "mo@ourco.com"],
    );
    assert!(
        !out.contains("acme.com") && !out.contains("initech.com"),
        "{out}"
    );

    // Every other change is in the general audit log, with who made it.
    ok(
        dir,
        url,
        &["flag", "globex.com", "reference", "--as", "mo@ourco.com"],
    );
    let log = json(dir, url, &["audit", "--format", "json"]);
    let entries: Vec<(String, String)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["actor"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for (action, actor) in [
        ("user add", "admin@ourco.com"),
        ("buying role", "mo@ourco.com"),
        ("events import", "mo@ourco.com"),
        ("cluster create", "mo@ourco.com"),
        ("flag set", "mo@ourco.com"),
    ] {
        assert!(
            entries.iter().any(|(a, b)| a == action && b == actor),
            "{action} by {actor} in {entries:?}"
        );
    }
}

#[test]
fn team_view_on_sqlite() {
    team_story("sqlite://./abm.db");
}

#[test]
fn team_view_on_postgres() {
    let Some(database) = abm_store::testing::PostgresDatabase::create("abm_team") else {
        return;
    };
    team_story(&database.url);
}

#[test]
fn personas_of_real_titles() {
    let directory = tempfile::tempdir().unwrap();
    let rows = json(
        directory.path(),
        "sqlite://./abm.db",
        &[
            "persona",
            "VP, Demand Gen",
            "Sr. Dir. of Sales Ops",
            "CMO",
            "Head of RevOps",
            "Registered Nurse",
            "--format",
            "json",
        ],
    );
    let got: Vec<(String, String, String, Option<String>)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["title"].as_str().unwrap().to_owned(),
                row["function"].as_str().unwrap_or("-").to_owned(),
                row["seniority"].as_str().unwrap().to_owned(),
                row["role"].as_str().map(str::to_owned),
            )
        })
        .collect();
    let expected = [
        ("VP, Demand Gen", "marketing", "vp", Some("economic_buyer")),
        (
            "Sr. Dir. of Sales Ops",
            "revenue_ops",
            "director",
            Some("decision_maker"),
        ),
        ("CMO", "marketing", "c_level", Some("economic_buyer")),
        (
            "Head of RevOps",
            "revenue_ops",
            "director",
            Some("decision_maker"),
        ),
        ("Registered Nurse", "-", "individual_contributor", None),
    ];
    for ((title, function, seniority, role), got) in expected.iter().zip(&got) {
        assert_eq!(got.0, *title);
        if *title != "Registered Nurse" {
            assert_eq!(got.1, *function, "{title}");
        }
        assert_eq!(got.2, *seniority, "{title}");
        assert_eq!(got.3.as_deref(), *role, "{title}");
    }
}

#[test]
fn a_batch_approval_counts_each_account_once_against_the_cap() {
    let directory = tempfile::tempdir().unwrap();
    let dir = directory.path();
    let url = "sqlite://./abm.db";
    write(
        dir,
        "accounts.csv",
        "Id,Name,Website\n001A,Acme,acme.com\n001B,Globex,globex.com\n001C,Initech,initech.com\n",
    );
    ok(dir, url, &["import", "accounts", "accounts.csv"]);
    write(dir, "abm.toml", "[tal.caps]\none_to_many = 2\n");
    ok(
        dir,
        url,
        &[
            "tal",
            "propose",
            "acme.com",
            "globex.com",
            "initech.com",
            "--reason",
            "test",
        ],
    );
    // Two fit exactly; a third in the same batch would pass the cap and refuses the batch.
    let error = fails(
        dir,
        url,
        &["tal", "approve", "acme.com", "globex.com", "initech.com"],
    );
    assert!(error.contains("the 1:many tier is full: 2 of 2"), "{error}");
    assert_eq!(status_of(dir, url, "acme.com").as_deref(), Some("proposed"));
    ok(dir, url, &["tal", "approve", "acme.com", "globex.com"]);
    assert_eq!(
        status_of(dir, url, "globex.com").as_deref(),
        Some("approved")
    );
}
