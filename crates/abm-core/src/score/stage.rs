//! Journey stages: target → aware → engaged → qualified → opportunity → customer, and lost /
//! re-engaged after a lost deal. Checked from the bottom of the funnel up, as Demandbase
//! does: the first rule that holds names the stage, with its reason in words.

use crate::score::config::StagesConfig;
use crate::score::engagement::EngagementState;
use crate::score::facts::AccountFacts;
use crate::score::{Scores, days};
use jiff::civil::Date;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Target,
    Aware,
    Engaged,
    Qualified,
    Opportunity,
    Customer,
    Lost,
    ReEngaged,
}

impl Stage {
    pub const ALL: [Stage; 8] = [
        Stage::Target,
        Stage::Aware,
        Stage::Engaged,
        Stage::Qualified,
        Stage::Opportunity,
        Stage::Customer,
        Stage::Lost,
        Stage::ReEngaged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Target => "target",
            Stage::Aware => "aware",
            Stage::Engaged => "engaged",
            Stage::Qualified => "qualified",
            Stage::Opportunity => "opportunity",
            Stage::Customer => "customer",
            Stage::Lost => "lost",
            Stage::ReEngaged => "re_engaged",
        }
    }

    pub fn parse(text: &str) -> Option<Stage> {
        let key = text.trim().to_lowercase().replace(['-', ' '], "_");
        Stage::ALL.into_iter().find(|stage| stage.as_str() == key)
    }
}

fn day_of(micros: i64) -> Option<Date> {
    let timestamp = jiff::Timestamp::from_microsecond(micros).ok()?;
    Some(timestamp.to_zoned(jiff::tz::TimeZone::UTC).date())
}

/// The stage of an account as of `as_of`, and why.
pub fn stage_of(
    config: &StagesConfig,
    facts: &AccountFacts,
    scores: &Scores,
    engagement: &EngagementState,
    as_of: i64,
) -> (Stage, String) {
    let Some(today) = day_of(as_of) else {
        return (Stage::Target, "no valid date".into());
    };
    let known: Vec<_> = facts
        .opportunities
        .iter()
        .filter(|o| o.created_on <= today)
        .collect();
    let closed_on = |o: &&crate::score::facts::OpportunityFact| {
        o.closed
            .then(|| o.close_date.unwrap_or(o.created_on))
            .filter(|day| *day <= today)
    };
    if let Some(won) = known.iter().filter(|o| o.won).filter_map(closed_on).max() {
        return (Stage::Customer, format!("closed-won deal on {won}"));
    }
    if known.is_empty() && facts.customer_on(today) {
        return (Stage::Customer, "a customer in the CRM".into());
    }
    if let Some(open) = known
        .iter()
        .filter(|o| closed_on(o).is_none())
        .map(|o| o.created_on)
        .max()
    {
        return (Stage::Opportunity, format!("open opportunity since {open}"));
    }
    let lost_on = known.iter().filter_map(closed_on).max();

    let fit = scores.fit.value;
    let signal = (scores.intent.value + scores.engagement.value) / 2.0;
    // Buying-group people when the account's contacts have known roles; anyone otherwise (a
    // CRM without titles must not make every account unqualifiable).
    let window_start = as_of - days(config.qualified_window_days.0);
    let (people, who) = if facts.roles.is_empty() {
        (engagement.people_active_since(window_start), "people")
    } else {
        (
            engagement.roles_active_since(&facts.roles, window_start).1,
            "buying-group people",
        )
    };
    let qualified = fit >= config.qualified_min_fit.0
        && signal >= config.qualified_min_signal.0
        && people >= config.qualified_min_people.0;
    let engaged_people =
        engagement.people_active_since(as_of - days(config.qualified_window_days.0));
    let engaged = scores.engagement.value >= config.engaged_min_engagement.0
        && engaged_people >= config.engaged_min_people.0;
    if let Some(lost) = lost_on {
        // Re-engaged needs people active after the loss, not the activity that preceded it.
        let after_loss = lost
            .tomorrow()
            .ok()
            .and_then(|day| day.to_zoned(jiff::tz::TimeZone::UTC).ok())
            .map_or(i64::MAX, |zoned| zoned.timestamp().as_microsecond());
        let since = after_loss.max(as_of - days(config.qualified_window_days.0));
        let active_since_loss = engagement.people_active_since(since);
        if (qualified || engaged) && active_since_loss >= config.engaged_min_people.0.max(1) {
            return (
                Stage::ReEngaged,
                format!("engaged again after a deal lost on {lost}"),
            );
        }
        return (Stage::Lost, format!("deal lost on {lost}"));
    }
    if qualified {
        return (
            Stage::Qualified,
            format!(
                "fit {fit:.0} ≥ {:.0}, intent and engagement {signal:.0} ≥ {:.0}, {people} {who} active in {} days",
                config.qualified_min_fit.0,
                config.qualified_min_signal.0,
                config.qualified_window_days.0
            ),
        );
    }
    if engaged {
        return (
            Stage::Engaged,
            format!(
                "engagement {:.0} ≥ {:.0} from {engaged_people} people",
                scores.engagement.value, config.engaged_min_engagement.0
            ),
        );
    }
    let aware_since = as_of - days(config.aware_window_days.0);
    if facts
        .activities
        .iter()
        .any(|a| !a.noise && !a.kind.is_outbound() && a.at <= as_of && a.at >= aware_since)
    {
        return (
            Stage::Aware,
            format!("activity in the last {} days", config.aware_window_days.0),
        );
    }
    (Stage::Target, "no recent activity".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::ActivityKind;
    use crate::score::config::ScoringConfig;
    use crate::score::facts::{OpportunityFact, Person, ScoredActivity};
    use crate::score::fit::CustomerProfile;

    fn micros(day: &str) -> i64 {
        let date: Date = day.parse().expect("date");
        date.to_zoned(jiff::tz::TimeZone::UTC)
            .expect("zoned")
            .timestamp()
            .as_microsecond()
            + 12 * 3_600_000_000
    }

    fn meetings(day: &str) -> Vec<ScoredActivity> {
        (0..3)
            .map(|person| ScoredActivity {
                at: micros(day),
                kind: ActivityKind::MeetingHeld,
                person: Person::contact(person),
                topic: None,
                noise: false,
            })
            .collect()
    }

    fn stage(facts: &AccountFacts, as_of: &str) -> Stage {
        crate::score::assess(
            &ScoringConfig::default(),
            &CustomerProfile::default(),
            facts,
            micros(as_of),
        )
        .stage
    }

    #[test]
    fn re_engaged_needs_people_active_after_the_loss() {
        let lost = OpportunityFact {
            created_on: "2026-01-10".parse().expect("date"),
            close_date: Some("2026-02-28".parse().expect("date")),
            closed: true,
            won: false,
            amount: None,
        };
        let before = AccountFacts {
            activities: meetings("2026-02-20"),
            opportunities: vec![lost.clone()],
            ..Default::default()
        };
        assert_eq!(stage(&before, "2026-03-01"), Stage::Lost);
        let after = AccountFacts {
            activities: meetings("2026-03-05"),
            opportunities: vec![lost],
            ..Default::default()
        };
        assert_eq!(stage(&after, "2026-03-06"), Stage::ReEngaged);
    }

    #[test]
    fn a_later_deal_does_not_decide_the_past() {
        let mut facts = AccountFacts {
            account_type: Some(crate::entity::AccountType::Customer),
            opportunities: vec![OpportunityFact {
                created_on: "2026-05-01".parse().expect("date"),
                close_date: Some("2026-06-01".parse().expect("date")),
                closed: true,
                won: true,
                amount: None,
            }],
            ..Default::default()
        };
        let march: Date = "2026-03-01".parse().expect("date");
        assert!(
            facts.customer_on(march),
            "a CRM customer before any known deal"
        );
        facts.opportunities[0].won = false;
        assert!(
            facts.customer_on(march),
            "a later lost deal changes nothing then"
        );
    }

    #[test]
    fn qualified_counts_buying_group_people_when_roles_are_known() {
        use crate::persona::BuyingRole;
        // Three meetings from three people: qualified by people alone when nobody has a role.
        let mut config = ScoringConfig::default();
        config.stages.qualified_min_fit = crate::score::config::Threshold(0.0);
        config.stages.qualified_min_signal = crate::score::config::Threshold(0.0);
        let assess = |facts: &AccountFacts| {
            crate::score::assess(
                &config,
                &CustomerProfile::default(),
                facts,
                micros("2026-03-02"),
            )
        };
        let mut facts = AccountFacts {
            activities: meetings("2026-03-01"),
            ..Default::default()
        };
        let anyone = assess(&facts);
        assert_eq!(anyone.stage, Stage::Qualified, "{}", anyone.stage_reason);
        assert!(
            anyone.stage_reason.contains("3 people active"),
            "{}",
            anyone.stage_reason
        );
        // Once roles are known, only the people holding one count: one champion is not enough.
        facts.roles = vec![(Person::contact(0), BuyingRole::Champion)];
        let one_role = assess(&facts);
        assert_ne!(
            one_role.stage,
            Stage::Qualified,
            "{}",
            one_role.stage_reason
        );
        facts.roles = vec![
            (Person::contact(0), BuyingRole::Champion),
            (Person::contact(1), BuyingRole::EconomicBuyer),
            (Person::contact(2), BuyingRole::User),
        ];
        facts.roles.sort_by_key(|(person, _)| *person);
        let group = assess(&facts);
        assert_eq!(group.stage, Stage::Qualified);
        assert!(
            group.stage_reason.contains("3 buying-group people active"),
            "{}",
            group.stage_reason
        );
        // And engagement names the roles it counted.
        let roles = group
            .scores
            .engagement
            .contributions
            .iter()
            .find(|c| c.name.starts_with("3 buying-group roles active"))
            .expect("roles contribution");
        assert!(
            roles.name.ends_with("economic buyer, champion, user"),
            "{}",
            roles.name
        );
        assert!(roles.points > 0.0);
    }
}
