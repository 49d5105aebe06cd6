use super::*;

#[derive(serde::Deserialize)]
struct File {
    plays: Vec<Play>,
}

fn parse(text: &str) -> Result<Vec<Play>, String> {
    let file: File = toml::from_str(text).map_err(|error| error.to_string())?;
    let known = Known {
        templates: &|name| name == "nurture-1" || name == "nurture-2",
        webhooks: &|name| name == "sales-slack",
    };
    validate(&file.plays, &known)?;
    Ok(file.plays)
}

const NURTURE: &str = r#"
[[plays]]
name = "intent-surge-nurture"
trigger = { kind = "intent_surge", topics = ["Intent Data"] }
audience = { tiers = ["1:many", "1:1"], roles = ["economic_buyer", "champion"], max_people = 3 }

[[plays.steps]]
channel = "email"
template = "nurture-1"

[[plays.steps]]
channel = "email"
template = "nurture-2"
wait_days = 4
condition = "not_engaged"

[[plays.steps]]
channel = "alert"
webhook = "sales-slack"
wait_days = 1
"#;

#[test]
fn a_play_reads_and_validates() {
    let plays = parse(NURTURE).expect("valid");
    let play = &plays[0];
    assert_eq!(play.steps.len(), 3);
    assert_eq!(play.exits.len(), 5, "every exit by default");
    assert_eq!(play.automation.mode(Some(Tier::OneToOne)), Mode::Tasks);
    assert_eq!(play.automation.mode(Some(Tier::OneToMany)), Mode::Automatic);
    assert_eq!(
        play.trigger.describe(),
        "intent surge on Intent Data".to_owned()
    );
}

#[test]
fn mistakes_are_named() {
    let cases = [
        (
            NURTURE.replace("nurture-2", "nurture-9"),
            "no template named \"nurture-9\"",
        ),
        (
            NURTURE.replace("sales-slack", "nowhere"),
            "no webhook named \"nowhere\"",
        ),
        (
            NURTURE.replace("template = \"nurture-1\"", ""),
            "step 1: a email step needs `template`",
        ),
        (
            NURTURE
                .replace("intent_surge\"", "stage\", stage = \"hot\"")
                .replace(", topics = [\"Intent Data\"]", ""),
            "unknown variant `hot`",
        ),
        (
            NURTURE.replace("\"champion\"", "\"boss\""),
            "unknown variant `boss`",
        ),
        (
            NURTURE.replace("intent-surge-nurture", "intent surge"),
            "letters, digits",
        ),
        (format!("{NURTURE}\n{NURTURE}"), "two plays have this name"),
        (
            NURTURE.replace("wait_days = 4", "wait_days = 400"),
            "step 2: wait_days is at most 365",
        ),
        (
            NURTURE.replace("channel = \"alert\"", "channel = \"fax\""),
            "unknown variant `fax`",
        ),
    ];
    for (text, expected) in cases {
        let error = parse(&text).expect_err(expected);
        assert!(
            error.contains(expected),
            "{error} should contain {expected}"
        );
    }
    let event = NURTURE.replace(
        "trigger = { kind = \"intent_surge\", topics = [\"Intent Data\"] }",
        "trigger = { kind = \"trigger_event\", event = \"lunch\" }",
    );
    assert!(parse(&event).expect_err("event").contains("is not one of"));
}

#[test]
fn the_audience_admits_tal_accounts_that_match() {
    let plays = parse(NURTURE).expect("valid");
    let audience = &plays[0].audience;
    let many = AccountView {
        tier: Some(Tier::OneToMany),
        on_tal: true,
        ..AccountView::default()
    };
    assert!(audience.admits(&many));
    assert!(!audience.admits(&AccountView {
        on_tal: false,
        ..many.clone()
    }));
    assert!(!audience.admits(&AccountView {
        tier: Some(Tier::OneToFew),
        ..many.clone()
    }));
    let fit = Audience {
        min_fit: Some(Threshold(60.0)),
        ..Audience::default()
    };
    assert!(!fit.admits(&many), "no fit score: not admitted");
    assert!(fit.admits(&AccountView {
        fit: Some(61.0),
        ..many.clone()
    }));
}

#[test]
fn people_come_in_role_order_once_each() {
    let plays = parse(NURTURE).expect("valid");
    let people = [
        (3, Some(BuyingRole::Champion)),
        (1, Some(BuyingRole::User)),
        (2, Some(BuyingRole::EconomicBuyer)),
        (4, Some(BuyingRole::Champion)),
        (5, Some(BuyingRole::Champion)),
    ];
    let chosen: Vec<i64> = plays[0]
        .audience
        .people(&people)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        chosen,
        vec![2, 3, 4],
        "economic buyer first, then champions, at most 3"
    );
}

#[test]
fn the_tier_decides_between_sending_and_tasks() {
    let plays = parse(NURTURE).expect("valid");
    let day = 86_400_000_000;
    let many = plan(&plays[0], 9, 0, Some(Tier::OneToMany), &[11, 12]);
    assert_eq!(many.len(), 5, "two people × two emails, one alert");
    assert!(
        many[..4]
            .iter()
            .all(|touch| touch.channel == Channel::Email)
    );
    assert_eq!(many[2].due, 4 * day);
    assert_eq!(many[4].channel, Channel::Alert);
    assert_eq!(many[4].contact, None);
    assert_eq!(many[4].due, 5 * day);
    assert_eq!(many[0].key, "9:1:11");
    let strategic = plan(&plays[0], 9, 0, Some(Tier::OneToOne), &[11]);
    assert!(
        strategic[..2]
            .iter()
            .all(|touch| touch.channel == Channel::Task
                && touch.task == Some(TaskKind::PersonalEmail))
    );
    assert_eq!(strategic[2].channel, Channel::Alert);
    let keys: BTreeSet<_> = many.iter().map(|touch| touch.key.clone()).collect();
    assert_eq!(keys.len(), many.len(), "every touch has its own key");
}
