//! "Why this account, why now, why us": a short summary per account, made from its data —
//! the fit contributions (why this account), recent triggers and the strongest intent and
//! engagement contributions (why now), and the use cases its research matches, competitor
//! displacement and customer stories from its industry (why us). Every line points back at
//! data the account's page shows in full.

use crate::score::{Score, Scores};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `[why_us]` of abm.toml: what the team can say for itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WhyUsConfig {
    /// Research topic (as intent sources and page patterns name it) → the use case it points
    /// at, e.g. "Intent Data" = "Find in-market accounts before competitors do".
    pub use_cases: BTreeMap<String, String>,
}

/// What the summary reads besides the scores.
#[derive(Debug, Clone, Default)]
pub struct WhyInputs<'a> {
    /// Recent trigger events, newest first: (kind, evidence).
    pub triggers: Vec<(&'a str, &'a str)>,
    /// Topics the account researched or surged on recently.
    pub topics: Vec<&'a str>,
    /// Competitor technologies the account uses.
    pub competitors: Vec<&'a str>,
    /// Customer accounts in the same industry flagged reference or case study.
    pub stories: Vec<&'a str>,
    pub industry: Option<&'a str>,
}

/// The three answers, each a few lines.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Why {
    pub this_account: Vec<String>,
    pub now: Vec<String>,
    pub us: Vec<String>,
}

fn strongest(score: &Score, label: &str, take: usize) -> Vec<String> {
    let mut parts: Vec<_> = score
        .contributions
        .iter()
        // The baseline is every account's starting point: it explains nothing about this one.
        .filter(|contribution| {
            contribution.points > 0.5 && !contribution.name.starts_with("baseline")
        })
        .collect();
    parts.sort_by(|a, b| b.points.total_cmp(&a.points));
    parts
        .into_iter()
        .take(take)
        .map(|c| format!("{label}: {} {:+.0}", c.name, c.points))
        .collect()
}

/// The summary of one account from its scores (with contributions) and `inputs`.
pub fn summarise(scores: &Scores, inputs: &WhyInputs<'_>, config: &WhyUsConfig) -> Why {
    let mut why = Why {
        this_account: strongest(&scores.fit, "fit", 3),
        ..Why::default()
    };
    if why.this_account.is_empty() {
        why.this_account.push(
            "nothing in its firmographics stands out yet (fit explains itself with --why)"
                .to_owned(),
        );
    }
    for (kind, evidence) in inputs.triggers.iter().take(3) {
        why.now
            .push(format!("{}: {evidence}", kind.replace('_', " ")));
    }
    why.now.extend(strongest(&scores.intent, "intent", 2));
    why.now
        .extend(strongest(&scores.engagement, "engagement", 2));
    if why.now.is_empty() {
        why.now
            .push("no recent trigger, intent or engagement: not in market yet".to_owned());
    }
    let mut matched: Vec<String> = Vec::new();
    for topic in &inputs.topics {
        if let Some((name, use_case)) = config
            .use_cases
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(topic))
            && !matched.iter().any(|m| m.contains(use_case.as_str()))
        {
            matched.push(format!("use case: {use_case} (researching \"{name}\")"));
        }
    }
    why.us.extend(matched.into_iter().take(3));
    for competitor in inputs.competitors.iter().take(2) {
        why.us.push(format!(
            "displacement: uses {competitor}, a competitor's product"
        ));
    }
    if !inputs.stories.is_empty() {
        let shown: Vec<&str> = inputs.stories.iter().take(3).copied().collect();
        why.us.push(format!(
            "customer stories in {}: {}",
            inputs.industry.unwrap_or("its industry"),
            shown.join(", ")
        ));
    }
    if why.us.is_empty() {
        why.us.push(
            "no use case, competitor or customer story matches yet ([why_us.use_cases] in abm.toml maps topics to use cases)"
                .to_owned(),
        );
    }
    why
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::{Contribution, Score};

    fn score(parts: &[(&str, f64)]) -> Score {
        Score::from_contributions(
            parts
                .iter()
                .map(|(name, points)| Contribution {
                    name: (*name).to_owned(),
                    points: *points,
                })
                .collect(),
        )
    }

    #[test]
    fn each_answer_comes_from_the_accounts_own_data() {
        let scores = Scores {
            fit: score(&[
                ("industry Software", 25.0),
                ("baseline", 40.0),
                ("uses Salesforce", 15.0),
                ("employees unknown", 0.0),
            ]),
            intent: score(&[("\"Intent Data\" surging 3 of 4 weeks", 30.0)]),
            engagement: score(&[("5 people active in 14 days", 20.0), ("opens", 0.2)]),
            priority: score(&[("fit", 10.0)]),
        };
        let config = WhyUsConfig {
            use_cases: [(
                "intent data".to_owned(),
                "Find in-market accounts".to_owned(),
            )]
            .into(),
        };
        let inputs = WhyInputs {
            triggers: vec![(
                "technology_removed",
                "dropped Marketo — a competitor's product",
            )],
            topics: vec!["Intent Data", "Pricing"],
            competitors: vec!["Demandbase"],
            stories: vec!["globex.com"],
            industry: Some("Software"),
        };
        let why = summarise(&scores, &inputs, &config);
        assert_eq!(
            why.this_account,
            ["fit: industry Software +25", "fit: uses Salesforce +15"]
        );
        assert_eq!(
            why.now[0],
            "technology removed: dropped Marketo — a competitor's product"
        );
        assert!(
            why.now
                .contains(&"intent: \"Intent Data\" surging 3 of 4 weeks +30".to_owned())
        );
        assert!(!why.now.iter().any(|line| line.contains("opens")));
        assert_eq!(
            why.us,
            [
                "use case: Find in-market accounts (researching \"intent data\")",
                "displacement: uses Demandbase, a competitor's product",
                "customer stories in Software: globex.com",
            ]
        );
    }

    #[test]
    fn an_account_without_signals_says_so() {
        let empty = Scores {
            fit: score(&[]),
            intent: score(&[]),
            engagement: score(&[]),
            priority: score(&[]),
        };
        let why = summarise(&empty, &WhyInputs::default(), &WhyUsConfig::default());
        assert!(why.now[0].contains("not in market yet"));
        assert!(why.us[0].contains("[why_us.use_cases]"));
    }
}
