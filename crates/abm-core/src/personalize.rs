//! Website personalization: which content variant (headline, case study, call to action, and
//! the team's own slots) a visitor sees, by the kind of account they come from — industry,
//! tier, cluster, journey stage, fit. The `[personalization]` table of abm.toml holds a
//! default and an ordered list of rules; the first rule whose conditions all hold wins.
//!
//! Why first-match rather than best-match: a marketer reads the list top to bottom and can
//! predict the page; a scoring of rules against each other would need explaining. An
//! anonymous visitor gets the default, so a page never shows a guess.

use crate::score::config::Threshold;
use crate::score::stage::Stage;
use crate::tal::Tier;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// What the website shows. Absent slots keep the page's own content.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Variant {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headline: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_study: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cta: Option<String>,
    /// The team's own slots (`[personalization.rules.variant.extra]`): a hero image, a
    /// logo wall, a chat greeting. A nested table, so a misspelt built-in slot is still an
    /// error rather than a silent extra.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
}

/// One `[[personalization.rules]]`: conditions and the variant they pick. An empty condition
/// list matches any account; all conditions given must hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Shown in reports and returned with the variant, so a marketer can tell which rule
    /// served a page.
    pub name: String,
    /// Industries, any case.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub industry: Vec<String>,
    /// Tiers: `1:1`, `1:few`, `1:many`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tier: Vec<String>,
    /// Clusters, any case.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cluster: Vec<String>,
    /// Journey stages: `target`, `aware`, `engaged`, `qualified`, `opportunity`, `customer`,
    /// `lost`, `re_engaged`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stage: Vec<String>,
    /// Fit at least this (0 to 100); an account without a fit score does not match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_fit: Option<Threshold>,
    /// An empty variant is allowed: it keeps the page as it is for the accounts it matches,
    /// before a broader rule below would change it.
    #[serde(default)]
    pub variant: Variant,
}

/// `[personalization]` of abm.toml.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PersonalizationConfig {
    /// For anonymous visitors and accounts no rule matches.
    pub default: Variant,
    /// Checked in order; the first that matches wins.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
}

/// What is known of the visitor's account.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    pub industry: Option<String>,
    pub tier: Option<Tier>,
    pub cluster: Option<String>,
    pub stage: Option<Stage>,
    /// Fit, 0 to 100.
    pub fit: Option<f64>,
}

/// Stage names as rules and the personalization endpoint write them (`re-engaged`,
/// `Re Engaged`, `re_engaged`); the error lists the names.
impl std::str::FromStr for Stage {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Stage::parse(text).ok_or_else(|| {
            let known: Vec<&str> = Stage::ALL.iter().map(|stage| stage.as_str()).collect();
            format!("unknown stage {text:?}: use {}", known.join(", "))
        })
    }
}

/// The variant picked, and the rule that picked it (`None`: the default).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Picked<'a> {
    pub rule: Option<&'a str>,
    pub variant: &'a Variant,
}

fn text_matches(wanted: &[String], actual: Option<&str>) -> bool {
    wanted.is_empty()
        || actual.is_some_and(|actual| {
            let actual = actual.trim();
            wanted
                .iter()
                .any(|wanted| wanted.trim().to_lowercase() == actual.to_lowercase())
        })
}

impl Rule {
    /// Whether every condition given holds for the profile. A tier or stage that does not
    /// parse matches nothing (`validate` refuses it before it gets here).
    pub fn matches(&self, profile: &Profile) -> bool {
        let tier_holds = self.tier.is_empty()
            || profile.tier.is_some_and(|tier| {
                self.tier
                    .iter()
                    .any(|wanted| Tier::parse(wanted).is_ok_and(|wanted| wanted == tier))
            });
        let stage_holds = self.stage.is_empty()
            || profile.stage.is_some_and(|stage| {
                self.stage
                    .iter()
                    .any(|wanted| Stage::parse(wanted) == Some(stage))
            });
        let fit_holds = self.min_fit.is_none_or(|min_fit| {
            profile
                .fit
                .is_some_and(|fit| fit.is_finite() && fit >= min_fit.get())
        });
        text_matches(&self.industry, profile.industry.as_deref())
            && text_matches(&self.cluster, profile.cluster.as_deref())
            && tier_holds
            && stage_holds
            && fit_holds
    }
}

/// The variant for a visitor: the first rule matching their account's profile, else the
/// default; an anonymous visitor (`None`) always gets the default.
pub fn pick<'a>(config: &'a PersonalizationConfig, profile: Option<&Profile>) -> Picked<'a> {
    let rule = profile.and_then(|profile| config.rules.iter().find(|rule| rule.matches(profile)));
    match rule {
        Some(rule) => Picked {
            rule: Some(&rule.name),
            variant: &rule.variant,
        },
        None => Picked {
            rule: None,
            variant: &config.default,
        },
    }
}

impl PersonalizationConfig {
    /// Checks what the types alone cannot: rule names present and unique (any case), tiers
    /// and stages that exist, no blank condition. Errors name the rule.
    pub fn validate(&self) -> Result<(), String> {
        let mut names = BTreeSet::new();
        for (index, rule) in self.rules.iter().enumerate() {
            let name = rule.name.trim();
            if name.is_empty() {
                return Err(format!("rules[{index}]: the rule needs a name"));
            }
            let at = format!("rule {name:?}");
            if !names.insert(name.to_lowercase()) {
                return Err(format!(
                    "{at}: two rules have this name; names tell rules apart in reports"
                ));
            }
            for tier in &rule.tier {
                Tier::parse(tier).map_err(|error| format!("{at}: tier: {error}"))?;
            }
            for stage in &rule.stage {
                stage
                    .parse::<Stage>()
                    .map_err(|error| format!("{at}: {error}"))?;
            }
            for (key, list) in [("industry", &rule.industry), ("cluster", &rule.cluster)] {
                if list.iter().any(|value| value.trim().is_empty()) {
                    return Err(format!("{at}: {key}: an entry is empty"));
                }
            }
            // `Threshold` refuses out-of-range numbers while the file is read; this guards a
            // config built in code.
            if let Some(min_fit) = rule.min_fit
                && !(min_fit.get().is_finite() && (0.0..=100.0).contains(&min_fit.get()))
            {
                return Err(format!("{at}: min_fit must be from 0 to 100"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
[personalization.default]
headline = "Account-based marketing that explains itself"
cta = "Book a demo"

[[personalization.rules]]
name = "strategic banks"
industry = ["Banking", "financial services"]
tier = ["1:1"]
stage = ["engaged", "qualified"]
min_fit = 60

[personalization.rules.variant]
headline = "How Globex Bank found its buying group in 3 weeks"
case_study = "globex-bank"
cta = "Talk to your account team"

[personalization.rules.variant.extra]
hero_image = "/img/banking.png"
chat_greeting = "Hello from the banking team"

[[personalization.rules]]
name = "customers"
stage = ["customer"]

[personalization.rules.variant]
cta = "Open the customer portal"
"#;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        personalization: PersonalizationConfig,
    }

    fn example() -> PersonalizationConfig {
        toml::from_str::<File>(EXAMPLE)
            .expect("example")
            .personalization
    }

    #[test]
    fn the_example_reads_validates_and_round_trips() {
        let config = example();
        assert_eq!(config.validate(), Ok(()));
        assert_eq!(config.rules.len(), 2);
        let banks = &config.rules[0];
        assert_eq!(banks.min_fit, Some(Threshold(60.0)));
        assert_eq!(
            banks.variant.extra.get("hero_image").map(String::as_str),
            Some("/img/banking.png")
        );
        assert_eq!(config.rules[1].variant.headline, None);
        let written = toml::to_string(&File {
            personalization: config.clone(),
        })
        .expect("write");
        let again = toml::from_str::<File>(&written).expect("read again");
        assert_eq!(again.personalization, config, "{written}");
    }

    fn profile(
        industry: Option<&str>,
        tier: Option<Tier>,
        stage: Option<Stage>,
        fit: Option<f64>,
    ) -> Profile {
        Profile {
            industry: industry.map(str::to_owned),
            tier,
            cluster: None,
            stage,
            fit,
        }
    }

    #[test]
    fn the_first_matching_rule_wins() {
        let config = example();
        let one = Some(Tier::OneToOne);
        let cases = [
            (
                profile(Some("BANKING"), one, Some(Stage::Engaged), Some(75.0)),
                Some("strategic banks"),
            ),
            (
                profile(
                    Some(" Financial Services "),
                    one,
                    Some(Stage::Qualified),
                    Some(60.0),
                ),
                Some("strategic banks"),
            ),
            // Each condition must hold.
            (
                profile(Some("Banking"), one, Some(Stage::Engaged), Some(59.9)),
                None,
            ),
            (
                profile(Some("Banking"), one, Some(Stage::Engaged), None),
                None,
            ),
            (
                profile(
                    Some("Banking"),
                    Some(Tier::OneToFew),
                    Some(Stage::Engaged),
                    Some(90.0),
                ),
                None,
            ),
            (
                profile(Some("Retail"), one, Some(Stage::Engaged), Some(90.0)),
                None,
            ),
            (profile(None, one, Some(Stage::Engaged), Some(90.0)), None),
            (
                profile(Some("Banking"), one, Some(Stage::Aware), Some(90.0)),
                None,
            ),
            // Empty lists match anything.
            (
                profile(Some("Retail"), None, Some(Stage::Customer), None),
                Some("customers"),
            ),
            (profile(None, None, None, None), None),
        ];
        for (profile, expected) in cases {
            let picked = pick(&config, Some(&profile));
            assert_eq!(picked.rule, expected, "{profile:?}");
            let variant = match expected {
                Some(name) => {
                    &config
                        .rules
                        .iter()
                        .find(|rule| rule.name == name)
                        .expect("rule")
                        .variant
                }
                None => &config.default,
            };
            assert_eq!(picked.variant, variant);
        }
    }

    #[test]
    fn anonymous_visitors_get_the_default() {
        let config = example();
        let picked = pick(&config, None);
        assert_eq!(picked.rule, None);
        assert_eq!(picked.variant.cta.as_deref(), Some("Book a demo"));
        // No rules at all: the (empty) default for everyone.
        let empty = PersonalizationConfig::default();
        let picked = pick(&empty, Some(&Profile::default()));
        assert_eq!((picked.rule, picked.variant), (None, &Variant::default()));
    }

    #[test]
    fn rules_compare_clusters_without_case_and_read_tier_spellings() {
        let rule = Rule {
            name: "fintech cluster".into(),
            industry: vec![],
            tier: vec!["one-to-few".into()],
            cluster: vec!["Fintech EU".into()],
            stage: vec!["re-engaged".into()],
            min_fit: None,
            variant: Variant::default(),
        };
        let mut visitor = Profile {
            cluster: Some("fintech eu".into()),
            tier: Some(Tier::OneToFew),
            stage: Some(Stage::ReEngaged),
            ..Profile::default()
        };
        assert!(rule.matches(&visitor));
        visitor.cluster = Some("Fintech US".into());
        assert!(!rule.matches(&visitor));
        assert_eq!("Re Engaged".parse::<Stage>(), Ok(Stage::ReEngaged));
    }

    #[test]
    fn invalid_rules_are_refused_naming_the_rule() {
        let with = |change: fn(&mut PersonalizationConfig)| {
            let mut config = example();
            change(&mut config);
            config.validate().err().unwrap_or_default()
        };
        let cases = [
            (
                with(|c| c.rules[1].name = " ".into()),
                "rules[1]: the rule needs a name",
            ),
            (
                with(|c| c.rules[1].name = "Strategic Banks".into()),
                "rule \"Strategic Banks\": two rules have this name; names tell rules apart in reports",
            ),
            (
                with(|c| c.rules[0].tier = vec!["1:2".into()]),
                "rule \"strategic banks\": tier: unknown tier \"1:2\": use 1:1, 1:few or 1:many",
            ),
            (
                with(|c| c.rules[1].stage = vec!["won".into()]),
                "rule \"customers\": unknown stage \"won\": use target, aware, engaged, qualified, opportunity, customer, lost, re_engaged",
            ),
            (
                with(|c| c.rules[0].industry.push(String::new())),
                "rule \"strategic banks\": industry: an entry is empty",
            ),
            (
                with(|c| c.rules[0].min_fit = Some(Threshold(101.0))),
                "rule \"strategic banks\": min_fit must be from 0 to 100",
            ),
            (with(|_| {}), ""),
        ];
        for (got, expected) in cases {
            assert_eq!(got, expected);
        }
    }

    #[test]
    fn unknown_keys_and_out_of_range_numbers_fail_while_reading() {
        let error = |text: &str| {
            toml::from_str::<File>(text)
                .err()
                .map(|error| error.message().to_owned())
                .unwrap_or_default()
        };
        assert!(
            error("[personalization.default]\nheadlin = \"x\"\n")
                .starts_with("unknown field `headlin`")
        );
        assert!(
            error("[[personalization.rules]]\nname = \"a\"\nindustri = [\"x\"]\n")
                .starts_with("unknown field `industri`")
        );
        assert_eq!(
            error("[[personalization.rules]]\nname = \"a\"\nmin_fit = 120\n"),
            "120 is out of range: allowed 0 to 100"
        );
        assert!(error("[[personalization.rules]]\nstage = [\"aware\"]\n").contains("name"));
    }
}
