//! The features a careful analyst would build for "will this account open an opportunity
//! soon?", as of an instant: the three scores, recency of research, distinct active days,
//! people and buying roles in the last 30 days, the trend of the last 30 days against the 60 before, surging
//! intent weeks, known contacts, and whether the account is a customer or lost a deal.
//! `abm tune` learns a weight for each; a tuned priority is computed from them.

use crate::score::config::{EngagementConfig, IntentConfig};
use crate::score::engagement::EngagementState;
use crate::score::facts::AccountFacts;
use crate::score::{MICROS_PER_DAY, Scores};

/// The feature names, in the order of [`Features::values`]; config keys of `[priority.model]`.
pub const NAMES: [&str; 12] = [
    "fit",
    "intent",
    "engagement",
    "research_recency",
    "active_days_30",
    "people_30",
    "buying_roles_30",
    "trend",
    "surge_weeks",
    "contacts",
    "customer",
    "lost_before",
];

/// One account's features as of one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Features {
    pub values: [f64; NAMES.len()],
    /// The plain figures behind the transformed values, for contribution names.
    pub shown: [f64; NAMES.len()],
}

impl Features {
    pub fn index(name: &str) -> Option<usize> {
        NAMES.iter().position(|n| *n == name)
    }

    /// How a feature's value reads in a contribution's name.
    pub fn describe(&self, index: usize) -> String {
        let shown = self.shown[index];
        match NAMES[index] {
            "fit" | "intent" | "engagement" => format!("{} {shown:.0}", NAMES[index]),
            "research_recency" if shown < 0.0 => "no research yet".into(),
            "research_recency" => format!(
                "research {}",
                crate::score::days_ago((shown as i64) * crate::score::MICROS_PER_DAY)
            ),
            "active_days_30" => format!("{shown:.0} active days in 30"),
            "people_30" => format!("{shown:.0} people active in 30 days"),
            "buying_roles_30" => format!("{shown:.0} buying roles active in 30 days"),
            "trend" => format!("last 30 days at {shown:.1}× the 60 before"),
            "surge_weeks" => format!("{shown:.0} surging intent weeks"),
            "contacts" => format!("{shown:.0} known contacts"),
            "customer" if shown > 0.0 => "a customer".into(),
            "customer" => "not a customer".into(),
            "lost_before" if shown > 0.0 => "lost a deal before".into(),
            _ => "no lost deal".into(),
        }
    }
}

/// Computes the features of one account as of `as_of` from its prepared facts and scores.
pub fn features(
    facts: &AccountFacts,
    scores: &Scores,
    engagement: &EngagementState,
    engagement_config: &EngagementConfig,
    intent_config: &IntentConfig,
    as_of: i64,
) -> Features {
    let mut values = [0.0; NAMES.len()];
    let mut shown = [0.0; NAMES.len()];
    let mut set = |name: &str, value: f64, plain: f64| {
        if let Some(index) = Features::index(name) {
            values[index] = value;
            shown[index] = plain;
        }
    };
    set("fit", scores.fit.value / 100.0, scores.fit.value);
    set("intent", scores.intent.value / 100.0, scores.intent.value);
    set(
        "engagement",
        scores.engagement.value / 100.0,
        scores.engagement.value,
    );

    let weights = engagement_config.weights.table();
    let day = |at: i64| at.div_euclid(MICROS_PER_DAY);
    let today = day(as_of);
    let mut last_research = None;
    let mut active_days = Vec::new();
    let (mut recent, mut before) = (0.0, 0.0);
    for activity in facts
        .activities
        .iter()
        .filter(|a| a.at <= as_of && !a.noise)
    {
        let weight = weights[activity.kind as usize];
        let age_days = today - day(activity.at);
        if activity.topic.is_some() {
            last_research = Some(age_days);
        }
        if age_days < 30 {
            recent += weight;
            if weight >= 1.0 {
                active_days.push(day(activity.at));
            }
        } else if age_days < 90 {
            before += weight;
        }
    }
    match last_research {
        Some(age) => set("research_recency", (-(age as f64) / 30.0).exp(), age as f64),
        None => set("research_recency", 0.0, -1.0),
    }
    active_days.dedup();
    let days = active_days.len() as f64;
    set("active_days_30", days.ln_1p(), days);
    let people = f64::from(engagement.people_active_since(as_of - 30 * MICROS_PER_DAY));
    set("people_30", people.ln_1p(), people);
    let roles = engagement
        .roles_active_since(&facts.roles, as_of - 30 * MICROS_PER_DAY)
        .0
        .len() as f64;
    set("buying_roles_30", roles.ln_1p(), roles);
    let ratio = (recent + 1.0) / (before / 2.0 + 1.0);
    set("trend", ratio.ln(), ratio);

    let threshold = intent_config.surge_threshold.0;
    let window = i64::from(intent_config.window_weeks.0) * 7;
    let surging = match crate::score::day_of(as_of) {
        Some(date) => crate::score::intent::known_weeks(&facts.intent, date)
            .into_iter()
            .filter(|week| {
                week.date <= date
                    && f64::from(week.score) >= threshold
                    && date
                        .since(week.date)
                        .is_ok_and(|span| i64::from(span.get_days()) < window)
            })
            .count(),
        None => 0,
    } as f64;
    set("surge_weeks", surging.ln_1p(), surging);
    let contacts = f64::from(facts.contacts);
    set("contacts", contacts.ln_1p(), contacts);
    if let Some(date) = crate::score::day_of(as_of) {
        let customer = facts.customer_on(date);
        set(
            "customer",
            f64::from(u8::from(customer)),
            f64::from(u8::from(customer)),
        );
        let lost = facts
            .opportunities
            .iter()
            .any(|o| o.closed && !o.won && o.close_date.unwrap_or(o.created_on) <= date);
        set(
            "lost_before",
            f64::from(u8::from(lost)),
            f64::from(u8::from(lost)),
        );
    }
    Features { values, shown }
}
