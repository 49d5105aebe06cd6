//! Trigger events: changes that open a buying window — a new leader in a function we sell to,
//! a technology added or dropped, a surge on a topic the account never researched before, a
//! spike of engagement from people never seen before, headcount growth — detected when data
//! changes, and events a team imports from a file (funding, merger, product launch,
//! regulation). Each carries its time, its evidence in words, and a key that makes the same
//! event detected twice (a rescore, a re-import) one event.

use crate::entity::Account;
use crate::score::config::{Count, Days, Share, Weeks};
use crate::score::facts::{IntentWeek, ScoredActivity};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

const MICROS_PER_DAY: i64 = 86_400_000_000;

macro_rules! trigger_kinds {
    ($($variant:ident => $name:literal, $imported:literal;)*) => {
        /// What kind of change a trigger event is.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum TriggerKind { $($variant),* }

        impl TriggerKind {
            pub const ALL: &'static [TriggerKind] = &[$(TriggerKind::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $(TriggerKind::$variant => $name),* }
            }

            pub fn from_key(key: &str) -> Option<Self> {
                match key { $($name => Some(TriggerKind::$variant),)* _ => None }
            }

            /// Whether a file may bring this kind (the others are detected by abm).
            pub fn importable(self) -> bool {
                match self { $(TriggerKind::$variant => $imported),* }
            }
        }
    };
}

trigger_kinds! {
    LeadershipChange => "leadership_change", true;
    TechnologyAdded => "technology_added", false;
    TechnologyRemoved => "technology_removed", false;
    IntentSurge => "intent_surge", false;
    EngagementSpike => "engagement_spike", false;
    EmployeeGrowth => "employee_growth", false;
    Funding => "funding", true;
    Merger => "merger", true;
    Acquisition => "acquisition", true;
    ProductLaunch => "product_launch", true;
    Regulation => "regulation", true;
    Other => "other", true;
}

/// One trigger event, before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    pub kind: TriggerKind,
    /// When it happened, microseconds since the epoch.
    pub at: i64,
    pub evidence: String,
    /// The same event detected again has the same key.
    pub key: String,
}

/// `[triggers]` of abm.toml.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TriggerConfig {
    /// Headcount growth between two imports that counts as a trigger (0.10 = 10%).
    pub employee_growth: Share,
    /// New people active within `spike_days` that make an engagement spike.
    pub spike_min_new_people: Count,
    pub spike_days: Days,
    /// A person is new when not active in this many days before the spike.
    pub spike_lookback_days: Days,
    /// Intent weeks (ended) in which a new surge is looked for at each scoring.
    pub surge_recent_weeks: Weeks,
    /// A surge is on a new topic when the topic did not surge in this many weeks before.
    pub surge_lookback_weeks: Weeks,
    /// How long a trigger stays recent: "why now" and the account's page show these.
    pub recent_days: Days,
}

impl Default for TriggerConfig {
    fn default() -> Self {
        Self {
            employee_growth: Share(0.10),
            spike_min_new_people: Count(3),
            spike_days: Days(7),
            spike_lookback_days: Days(90),
            surge_recent_weeks: Weeks(4),
            surge_lookback_weeks: Weeks(12),
            recent_days: Days(90),
        }
    }
}

fn day_key(at: i64) -> String {
    jiff::Timestamp::from_microsecond(at)
        .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date().to_string())
        .unwrap_or_else(|_| at.to_string())
}

/// Technologies added and dropped, and headcount growth, between the stored account and the
/// same account as an import brings it. `competitors` are the technologies of
/// `[fit.competitors]`: dropping one is a displacement window, adding one a warning.
pub fn account_changes(
    before: &Account,
    after: &Account,
    competitors: &[String],
    config: &TriggerConfig,
    at: i64,
) -> Vec<Trigger> {
    let mut triggers = Vec::new();
    let lower = |set: &std::collections::BTreeSet<String>| -> BTreeMap<String, String> {
        set.iter()
            .map(|technology| (technology.to_lowercase(), technology.clone()))
            .collect()
    };
    let competitor = |technology: &str| {
        competitors
            .iter()
            .any(|c| c.eq_ignore_ascii_case(technology))
    };
    let (old, new) = (lower(&before.technologies), lower(&after.technologies));
    // A source that brings no technologies at all says nothing about them: not a removal.
    if !after.technologies.is_empty() {
        for (key, technology) in &old {
            if !new.contains_key(key) {
                let note = if competitor(technology) {
                    " — a competitor's product: a displacement window"
                } else {
                    ""
                };
                triggers.push(Trigger {
                    kind: TriggerKind::TechnologyRemoved,
                    at,
                    evidence: format!("dropped {technology}{note}"),
                    key: format!("{key}@{}", day_key(at)),
                });
            }
        }
        for (key, technology) in &new {
            if !old.contains_key(key) && !before.technologies.is_empty() {
                let note = if competitor(technology) {
                    " — a competitor's product"
                } else {
                    ""
                };
                triggers.push(Trigger {
                    kind: TriggerKind::TechnologyAdded,
                    at,
                    evidence: format!("added {technology}{note}"),
                    key: format!("{key}@{}", day_key(at)),
                });
            }
        }
    }
    if let (Some(old), Some(new)) = (before.employees, after.employees)
        && old > 0
    {
        #[allow(clippy::cast_precision_loss)]
        let growth = (new as f64 - old as f64) / old as f64;
        if growth >= config.employee_growth.get() {
            triggers.push(Trigger {
                kind: TriggerKind::EmployeeGrowth,
                at,
                evidence: format!(
                    "employees {} → {} (+{:.0}%)",
                    crate::score::thousands(old),
                    crate::score::thousands(new),
                    growth * 100.0
                ),
                key: format!("{old}->{new}"),
            });
        }
    }
    triggers
}

/// A new contact in a senior role of a function the team sells to: a leadership change.
pub fn new_leader(who: &str, title: &str, at: i64) -> Trigger {
    Trigger {
        kind: TriggerKind::LeadershipChange,
        at,
        evidence: format!("new {title}: {who}"),
        key: who.to_lowercase(),
    }
}

/// Surges in the last `surge_recent_weeks` ended weeks on topics that did not surge in the
/// `surge_lookback_weeks` before: research on something new. A week counts once it has
/// ended (its date plus six days), like in the intent score.
pub fn intent_surges(
    intent: &[IntentWeek],
    surge_threshold: f64,
    config: &TriggerConfig,
    as_of: i64,
) -> Vec<Trigger> {
    let Some(today) = jiff::Timestamp::from_microsecond(as_of)
        .ok()
        .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date())
    else {
        return Vec::new();
    };
    let ended = |week: &IntentWeek| {
        week.date
            .checked_add(jiff::Span::new().days(6))
            .is_ok_and(|end| end <= today)
    };
    let days_before = |week: &IntentWeek| i64::from((today - week.date).get_days());
    let recent = i64::from(config.surge_recent_weeks.get()) * 7 + 6;
    let lookback = i64::from(config.surge_lookback_weeks.get()) * 7;
    // "No surge before" means something only where the source covered the account that far
    // back: a first load of recent weeks is history arriving, not research changing.
    let Some(first_week) = intent.iter().map(|week| week.date).min() else {
        return Vec::new();
    };
    let mut triggers: BTreeMap<String, Trigger> = BTreeMap::new();
    for week in intent {
        if i64::from((week.date - first_week).get_days()) < lookback {
            continue;
        }
        if f64::from(week.score) < surge_threshold || !ended(week) || days_before(week) > recent {
            continue;
        }
        let topic = week.topic.to_lowercase();
        let surged_before = intent.iter().any(|other| {
            other.topic.eq_ignore_ascii_case(&week.topic)
                && f64::from(other.score) >= surge_threshold
                && other.date < week.date
                && i64::from((week.date - other.date).get_days()) <= lookback
        });
        if surged_before {
            continue;
        }
        let end = week.date.saturating_add(jiff::Span::new().days(6));
        let at = end
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map_or(as_of, |zoned| zoned.timestamp().as_microsecond());
        let key = format!("{topic}@{}", week.date);
        triggers.entry(key.clone()).or_insert(Trigger {
            kind: TriggerKind::IntentSurge,
            at,
            evidence: format!(
                "new surge on \"{}\" (score {}, week of {}); no surge on it in the {} weeks before",
                week.topic,
                week.score,
                week.date,
                config.surge_lookback_weeks.get()
            ),
            key,
        });
    }
    triggers.into_values().collect()
}

/// People active in the last `spike_days` who were not active in the `spike_lookback_days`
/// before: when at least `spike_min_new_people`, new people are looking at us. Noise, our
/// own sends and anonymous visitors do not count. One per week at most (the key is the week).
pub fn engagement_spike(
    activities: &[ScoredActivity],
    config: &TriggerConfig,
    as_of: i64,
) -> Option<Trigger> {
    let window_start = as_of - i64::from(config.spike_days.get()) * MICROS_PER_DAY;
    let lookback_start =
        window_start - i64::from(config.spike_lookback_days.get()) * MICROS_PER_DAY;
    let mut recent = HashSet::new();
    let mut before = HashSet::new();
    let mut latest = i64::MIN;
    for activity in activities {
        if activity.noise
            || activity.kind.is_outbound()
            || activity.person.is_anonymous()
            || activity.at > as_of
            || activity.at < lookback_start
        {
            continue;
        }
        if activity.at >= window_start {
            recent.insert(activity.person);
            latest = latest.max(activity.at);
        } else {
            before.insert(activity.person);
        }
    }
    // Only where the log reaches back over the whole lookback: after a first import of the
    // last few days, everyone looks new.
    let covered = activities
        .iter()
        .any(|activity| activity.at <= lookback_start && !activity.noise);
    if !covered {
        return None;
    }
    let new_people = recent.difference(&before).count();
    if new_people < config.spike_min_new_people.get() as usize {
        return None;
    }
    let week = jiff::Timestamp::from_microsecond(latest)
        .ok()
        .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date())
        .map(|date| {
            let iso = date.iso_week_date();
            format!("{}-W{:02}", iso.year(), iso.week())
        })
        .unwrap_or_default();
    Some(Trigger {
        kind: TriggerKind::EngagementSpike,
        at: latest,
        evidence: format!(
            "{new_people} new people active in {} days (none of them active in the {} days before)",
            config.spike_days.get(),
            config.spike_lookback_days.get()
        ),
        key: week,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::ActivityKind;
    use crate::score::facts::Person;
    use crate::value::Domain;

    fn micros(date: &str) -> i64 {
        let date: jiff::civil::Date = date.parse().expect("date");
        date.to_zoned(jiff::tz::TimeZone::UTC)
            .expect("zoned")
            .timestamp()
            .as_microsecond()
    }

    fn account(technologies: &[&str], employees: Option<u64>) -> Account {
        let mut account = Account::new(Domain::parse("acme.com").expect("domain"));
        account.technologies = technologies.iter().map(|t| (*t).to_owned()).collect();
        account.employees = employees;
        account
    }

    #[test]
    fn dropping_a_competitor_is_a_displacement_window() {
        let at = micros("2026-11-02");
        let config = TriggerConfig::default();
        let triggers = account_changes(
            &account(&["Salesforce", "Marketo"], Some(1000)),
            &account(&["salesforce", "HubSpot"], Some(1150)),
            &["Marketo".to_owned()],
            &config,
            at,
        );
        let evidence: Vec<(&str, &str)> = triggers
            .iter()
            .map(|t| (t.kind.as_str(), t.evidence.as_str()))
            .collect();
        assert_eq!(
            evidence,
            [
                (
                    "technology_removed",
                    "dropped Marketo — a competitor's product: a displacement window"
                ),
                ("technology_added", "added HubSpot"),
                ("employee_growth", "employees 1,000 → 1,150 (+15%)"),
            ]
        );
        // The same change seen again (a re-import) has the same keys.
        let again = account_changes(
            &account(&["Salesforce", "Marketo"], Some(1000)),
            &account(&["salesforce", "HubSpot"], Some(1150)),
            &[],
            &config,
            at,
        );
        assert_eq!(
            triggers.iter().map(|t| &t.key).collect::<Vec<_>>(),
            again.iter().map(|t| &t.key).collect::<Vec<_>>()
        );
    }

    #[test]
    fn first_loads_and_silent_sources_are_not_changes() {
        let config = TriggerConfig::default();
        // No technologies before: a first enrichment, not a purchase.
        assert!(
            account_changes(
                &account(&[], None),
                &account(&["Slack"], None),
                &[],
                &config,
                0
            )
            .is_empty()
        );
        // A file without the column says nothing about removals.
        assert!(
            account_changes(
                &account(&["Slack"], None),
                &account(&[], None),
                &[],
                &config,
                0
            )
            .is_empty()
        );
        // Growth under the threshold is not an event; shrinking never is.
        assert!(
            account_changes(
                &account(&[], Some(100)),
                &account(&[], Some(105)),
                &[],
                &config,
                0
            )
            .is_empty()
        );
        assert!(
            account_changes(
                &account(&[], Some(100)),
                &account(&[], Some(50)),
                &[],
                &config,
                0
            )
            .is_empty()
        );
    }

    fn week(topic: &str, date: &str, score: u8) -> IntentWeek {
        IntentWeek {
            topic: topic.to_owned(),
            date: date.parse().expect("date"),
            score,
        }
    }

    #[test]
    fn a_surge_is_new_only_on_a_topic_quiet_before() {
        let config = TriggerConfig::default();
        let intent = [
            // The source's first week: history reaches back over the lookback.
            week("CRM", "2026-05-04", 20),
            week("CRM", "2026-08-03", 70),
            week("CRM", "2026-11-02", 75),
            week("Intent Data", "2026-10-26", 40),
            week("Intent Data", "2026-11-02", 80),
            // Not ended by the scoring day: not known yet.
            week("ABM", "2026-11-09", 90),
        ];
        // CRM surged 13 weeks before its new surge: within a 14-week lookback it is not new.
        let longer = TriggerConfig {
            surge_lookback_weeks: Weeks(14),
            ..config.clone()
        };
        let triggers = intent_surges(&intent, 60.0, &longer, micros("2026-11-10"));
        assert_eq!(triggers.len(), 1, "{triggers:?}");
        assert_eq!(triggers[0].kind, TriggerKind::IntentSurge);
        assert!(
            triggers[0]
                .evidence
                .starts_with("new surge on \"Intent Data\" (score 80, week of 2026-11-02)")
        );
        assert_eq!(triggers[0].at, micros("2026-11-08"));
        // Outside the default 12 weeks it is new again.
        let keys: Vec<String> = intent_surges(&intent, 60.0, &config, micros("2026-11-10"))
            .into_iter()
            .map(|t| t.key)
            .collect();
        assert_eq!(keys, ["crm@2026-11-02", "intent data@2026-11-02"]);
    }

    fn activity(at: i64, person: i64, kind: ActivityKind) -> ScoredActivity {
        ScoredActivity {
            at,
            kind,
            person: Person::contact(person),
            topic: None,
            noise: false,
        }
    }

    #[test]
    fn a_spike_needs_new_people_not_more_activity() {
        let config = TriggerConfig::default();
        let now = micros("2026-11-10");
        let day = MICROS_PER_DAY;
        let mut activities = vec![
            // The log reaches back over the lookback.
            activity(now - 120 * day, 9, ActivityKind::PageView),
            activity(now - 30 * day, 1, ActivityKind::PageView),
            activity(now - day, 1, ActivityKind::PageView),
            activity(now - day, 2, ActivityKind::PageView),
            activity(now - 2 * day, 3, ActivityKind::FormFill),
            // Our own send does not make anyone active.
            activity(now - day, 4, ActivityKind::EmailSent),
        ];
        assert_eq!(engagement_spike(&activities, &config, now), None);
        activities.push(activity(now - 3 * day, 5, ActivityKind::WebinarAttended));
        let spike = engagement_spike(&activities, &config, now).expect("spike");
        assert_eq!(
            spike.evidence,
            "3 new people active in 7 days (none of them active in the 90 days before)"
        );
        assert_eq!(spike.key, "2026-W46");
    }

    #[test]
    fn a_first_load_of_recent_data_is_not_a_trigger() {
        let config = TriggerConfig::default();
        let now = micros("2026-11-10");
        let day = MICROS_PER_DAY;
        // Intent that starts two weeks ago: nothing was known before, so nothing is "new".
        let recent_only = [week("CRM", "2026-10-26", 80), week("CRM", "2026-11-02", 85)];
        assert!(intent_surges(&recent_only, 60.0, &config, now).is_empty());
        // Activities of the last few days only: everyone looks new, but that is the load.
        let first_days: Vec<ScoredActivity> = (1..=4)
            .map(|person| activity(now - day, person, ActivityKind::FormFill))
            .collect();
        assert_eq!(engagement_spike(&first_days, &config, now), None);
    }

    #[test]
    fn imported_kinds_are_the_events_a_file_brings() {
        assert!(TriggerKind::Funding.importable());
        assert!(!TriggerKind::IntentSurge.importable());
        assert_eq!(
            TriggerKind::from_key("product_launch"),
            Some(TriggerKind::ProductLaunch)
        );
    }
}
