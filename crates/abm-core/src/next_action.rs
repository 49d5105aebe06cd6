//! The next best action on an account: a short, ordered list of what the team should do
//! now, each with the reason it comes from (the stage, a trigger, a surge, a gap in the
//! buying group, a missing plan). Pure rules over what the account page already shows, so
//! every suggestion explains itself and the same account always gets the same advice.
//!
//! Nobody who opted out is ever suggested as someone to contact.

use crate::persona::BuyingRole;
use crate::score::Stage;

/// One person at the account, as the rules need them.
#[derive(Debug, Clone, PartialEq)]
pub struct Person<'a> {
    /// How to name them: their name, else their email.
    pub label: &'a str,
    pub role: Option<BuyingRole>,
    pub engaged: bool,
    pub opted_out: bool,
}

/// What the rules read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inputs<'a> {
    pub stage: Option<Stage>,
    pub stage_reason: &'a str,
    /// The approved TAL tier (`1:1`, `1:few`, `1:many`).
    pub tier: Option<&'a str>,
    /// The TAL status, when the account was ever proposed.
    pub tal_status: Option<&'a str>,
    pub has_plan: bool,
    pub fit: f64,
    pub intent: f64,
    pub engagement: f64,
    pub people: Vec<Person<'a>>,
    /// Expected buying roles nobody holds.
    pub missing_roles: Vec<BuyingRole>,
    /// Recent trigger events, newest first: (kind, evidence).
    pub triggers: Vec<(&'a str, &'a str)>,
    /// Topics the account is surging on.
    pub topics: Vec<&'a str>,
}

/// What kind of step an action is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Meeting,
    Outreach,
    Content,
    Prospect,
    Plan,
    Tal,
    Nurture,
}

/// One suggestion and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NextAction {
    pub kind: Kind,
    pub action: String,
    pub because: String,
}

/// At most this many suggestions: a list, not a backlog.
pub const MAX_ACTIONS: usize = 3;

/// Fit and intent at which an account off the TAL is worth proposing.
const PROPOSE_FIT: f64 = 60.0;
const PROPOSE_INTENT: f64 = 50.0;
/// Engagement under which researching accounts should get content first.
const LOW_ENGAGEMENT: f64 = 30.0;

/// The suggestions, most urgent first.
pub fn suggest(inputs: &Inputs<'_>) -> Vec<NextAction> {
    let mut actions = Vec::new();
    let reachable: Vec<&Person<'_>> = inputs.people.iter().filter(|p| !p.opted_out).collect();
    // Who to talk to first: an engaged holder of the most decisive role, else anyone engaged.
    let lead_contact = [
        BuyingRole::Champion,
        BuyingRole::EconomicBuyer,
        BuyingRole::DecisionMaker,
        BuyingRole::TechnicalEvaluator,
    ]
    .iter()
    .find_map(|role| {
        reachable
            .iter()
            .find(|p| p.engaged && p.role == Some(*role))
    })
    .or_else(|| reachable.iter().find(|p| p.engaged))
    .copied();
    let named = |person: &Person<'_>| match person.role {
        Some(role) => format!("{} ({})", person.label, role.label()),
        None => person.label.to_owned(),
    };
    match inputs.stage {
        Some(Stage::Qualified) => actions.push(NextAction {
            kind: Kind::Meeting,
            action: match lead_contact {
                Some(person) => {
                    format!("Hand over to sales: book a meeting with {}", named(person))
                }
                None => "Hand over to sales: book a first meeting".to_owned(),
            },
            because: format!("the account is qualified: {}", inputs.stage_reason),
        }),
        Some(Stage::ReEngaged) => actions.push(NextAction {
            kind: Kind::Outreach,
            action: match lead_contact {
                Some(person) => format!("Reopen the conversation with {}", named(person)),
                None => "Reopen the conversation".to_owned(),
            },
            because: format!("a lost account is active again: {}", inputs.stage_reason),
        }),
        _ => {}
    }
    if let Some((kind, evidence)) = inputs.triggers.first() {
        actions.push(NextAction {
            kind: Kind::Outreach,
            action: match lead_contact {
                Some(person) => format!("Reach out to {} about it", named(person)),
                None => "Reach out while it is news".to_owned(),
            },
            because: format!("{}: {evidence}", kind.replace('_', " ")),
        });
    }
    if !inputs.topics.is_empty() && inputs.engagement < LOW_ENGAGEMENT {
        let topics = inputs.topics.join(", ");
        actions.push(NextAction {
            kind: Kind::Content,
            action: format!("Send content on {topics}"),
            because: format!(
                "intent is surging on {topics} while engagement with us is low ({:.0})",
                inputs.engagement
            ),
        });
    }
    if let Some(role) = inputs.missing_roles.first() {
        let others = inputs.missing_roles.len() - 1;
        actions.push(NextAction {
            kind: Kind::Prospect,
            action: format!("Find the {}", role.label()),
            because: if others == 0 {
                format!("nobody known at the account is the {}", role.label())
            } else {
                format!(
                    "nobody known at the account is the {} ({others} more expected role{} missing)",
                    role.label(),
                    if others == 1 { "" } else { "s" }
                )
            },
        });
    }
    // A role somebody holds but nobody holding it is engaged: the gap a touch can close.
    let unengaged = reachable.iter().find(|person| {
        person.role.is_some_and(|role| {
            !inputs
                .people
                .iter()
                .any(|other| other.role == Some(role) && other.engaged)
        })
    });
    if let Some(person) = unengaged {
        actions.push(NextAction {
            kind: Kind::Outreach,
            action: format!("Engage {}", named(person)),
            because: "their buying role is known but nobody holding it has engaged".to_owned(),
        });
    }
    if matches!(inputs.tier, Some("1:1" | "1:few")) && !inputs.has_plan {
        actions.push(NextAction {
            kind: Kind::Plan,
            action: "Write the account plan".to_owned(),
            because: format!(
                "a {} account is worked from a plan",
                inputs.tier.unwrap_or_default()
            ),
        });
    }
    if inputs.tal_status.is_none()
        && inputs.fit >= PROPOSE_FIT
        && inputs.intent >= PROPOSE_INTENT
        && !matches!(inputs.stage, Some(Stage::Customer))
    {
        actions.push(NextAction {
            kind: Kind::Tal,
            action: "Propose it for the target account list".to_owned(),
            because: format!(
                "fit {:.0} and intent {:.0}, and it is not on the TAL",
                inputs.fit, inputs.intent
            ),
        });
    }
    if actions.is_empty() {
        actions.push(NextAction {
            kind: Kind::Nurture,
            action: "Keep it in the 1:many nurture".to_owned(),
            because: match inputs.stage {
                Some(stage) => format!("nothing calls for a person yet (stage {})", stage.as_str()),
                None => "nothing calls for a person yet".to_owned(),
            },
        });
    }
    actions.truncate(MAX_ACTIONS);
    actions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(label: &str, role: Option<BuyingRole>, engaged: bool) -> Person<'_> {
        Person {
            label,
            role,
            engaged,
            opted_out: false,
        }
    }

    #[test]
    fn a_qualified_account_goes_to_sales_with_its_engaged_champion() {
        let inputs = Inputs {
            stage: Some(Stage::Qualified),
            stage_reason: "fit 70, 3 people active",
            people: vec![
                person("Ivy", Some(BuyingRole::User), true),
                person("Cam", Some(BuyingRole::Champion), true),
            ],
            ..Default::default()
        };
        let actions = suggest(&inputs);
        assert_eq!(actions[0].kind, Kind::Meeting);
        assert_eq!(
            actions[0].action,
            "Hand over to sales: book a meeting with Cam (champion)"
        );
        assert!(actions[0].because.contains("fit 70"));
    }

    #[test]
    fn an_opted_out_person_is_never_suggested() {
        let inputs = Inputs {
            stage: Some(Stage::Qualified),
            people: vec![Person {
                label: "Olga",
                role: Some(BuyingRole::Champion),
                engaged: true,
                opted_out: true,
            }],
            triggers: vec![("funding", "Series B")],
            ..Default::default()
        };
        for action in suggest(&inputs) {
            assert!(!action.action.contains("Olga"), "{action:?}");
        }
    }

    #[test]
    fn triggers_surges_and_gaps_come_in_order_and_at_most_three() {
        let inputs = Inputs {
            stage: Some(Stage::Engaged),
            engagement: 10.0,
            topics: vec!["intent data"],
            triggers: vec![("new_senior_contact", "Pat joined as CFO")],
            missing_roles: vec![BuyingRole::EconomicBuyer, BuyingRole::Procurement],
            people: vec![person("Dee", Some(BuyingRole::DecisionMaker), false)],
            tier: Some("1:1"),
            ..Default::default()
        };
        let actions = suggest(&inputs);
        let kinds: Vec<Kind> = actions.iter().map(|a| a.kind).collect();
        assert_eq!(kinds, [Kind::Outreach, Kind::Content, Kind::Prospect]);
        assert_eq!(actions[0].because, "new senior contact: Pat joined as CFO");
        assert_eq!(actions[2].action, "Find the economic buyer");
        assert!(actions[2].because.contains("1 more expected role missing"));
    }

    #[test]
    fn known_but_unengaged_roles_a_missing_plan_and_the_tal_follow() {
        let inputs = Inputs {
            stage: Some(Stage::Aware),
            people: vec![
                person("Dee", Some(BuyingRole::DecisionMaker), false),
                person("Cam", Some(BuyingRole::Champion), true),
            ],
            tier: Some("1:few"),
            ..Default::default()
        };
        let actions = suggest(&inputs);
        assert_eq!(actions[0].action, "Engage Dee (decision maker)");
        assert_eq!(actions[1].kind, Kind::Plan);
        let off_list = Inputs {
            fit: 80.0,
            intent: 60.0,
            ..Default::default()
        };
        assert_eq!(suggest(&off_list)[0].kind, Kind::Tal);
        let proposed = Inputs {
            tal_status: Some("proposed"),
            ..off_list
        };
        assert_eq!(suggest(&proposed)[0].kind, Kind::Nurture);
    }
}
