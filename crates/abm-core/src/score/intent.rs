//! Intent: is the account researching what we sell, now? Third-party topic surges (a
//! week's score at or above the threshold; a sustained surge counts more than a one-week
//! spike, a recent one more than an old one) and first-party research (pages mapped to
//! topics, or activities that carry a topic), each weighted by the topic's relevance.

use crate::score::config::IntentConfig;
use crate::score::facts::{AccountFacts, IntentWeek};
use crate::score::{Contribution, MICROS_PER_DAY, Score, decay};
use jiff::civil::Date;
use std::collections::BTreeMap;

/// URL patterns (`*` matches any run of characters, case-insensitive) mapped to topics.
#[derive(Debug, Clone, Default)]
pub struct PageTopics {
    patterns: Vec<(Vec<String>, bool, bool, String)>,
}

impl PageTopics {
    pub fn new(pages: &BTreeMap<String, String>) -> Self {
        let patterns = pages
            .iter()
            .map(|(pattern, topic)| {
                let lower = pattern.to_lowercase();
                let anchored_start = !lower.starts_with('*');
                let anchored_end = !lower.ends_with('*');
                let pieces = lower
                    .split('*')
                    .filter(|piece| !piece.is_empty())
                    .map(str::to_owned)
                    .collect();
                (pieces, anchored_start, anchored_end, topic.clone())
            })
            .collect();
        PageTopics { patterns }
    }

    /// The topic of the first pattern (in key order) the URL matches.
    pub fn topic_of(&self, url: &str) -> Option<&str> {
        let url = url.to_lowercase();
        self.patterns
            .iter()
            .find(|(pieces, start, end, _)| wildcard_match(&url, pieces, *start, *end))
            .map(|(_, _, _, topic)| topic.as_str())
    }
}

fn wildcard_match(text: &str, pieces: &[String], anchored_start: bool, anchored_end: bool) -> bool {
    let mut rest = text;
    for (index, piece) in pieces.iter().enumerate() {
        if index == 0 && anchored_start {
            match rest.strip_prefix(piece.as_str()) {
                Some(after) => rest = after,
                None => return false,
            }
            continue;
        }
        let last = index + 1 == pieces.len();
        if last && anchored_end {
            return rest.ends_with(piece.as_str());
        }
        match rest.find(piece.as_str()) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    !anchored_end || rest.is_empty() || pieces.is_empty()
}

/// The weeks known at `today`, one per (topic, date) with its highest score: a week is known
/// once it has ended (a file dated by its Monday describes the six days after), and two
/// sources or two domains reporting the same week count it once.
pub(crate) fn known_weeks(intent: &[IntentWeek], today: Date) -> Vec<&IntentWeek> {
    let mut weeks: BTreeMap<(&str, Date), &IntentWeek> = BTreeMap::new();
    for week in intent {
        let ended = week
            .date
            .checked_add(jiff::Span::new().days(6))
            .unwrap_or(week.date);
        if ended > today {
            continue;
        }
        let entry = weeks
            .entry((week.topic.as_str(), week.date))
            .or_insert(week);
        if week.score > entry.score {
            *entry = week;
        }
    }
    weeks.into_values().collect()
}

fn relevance(config: &IntentConfig, topic: &str) -> f64 {
    config
        .topics
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(topic))
        .map_or(config.default_relevance.0, |(_, share)| share.0)
}

fn day_of(micros: i64) -> Option<Date> {
    let timestamp = jiff::Timestamp::from_microsecond(micros).ok()?;
    Some(timestamp.to_zoned(jiff::tz::TimeZone::UTC).date())
}

/// The intent score of one account as of `as_of` (microseconds).
pub fn score(config: &IntentConfig, facts: &AccountFacts, as_of: i64) -> Score {
    let mut parts = Vec::new();
    if let Some(today) = day_of(as_of) {
        third_party(config, facts, today, &mut parts);
    }
    first_party(config, facts, as_of, &mut parts);
    Score::saturated(parts, config.scale.0)
}

fn third_party(
    config: &IntentConfig,
    facts: &AccountFacts,
    today: Date,
    parts: &mut Vec<Contribution>,
) {
    let window_days = i64::from(config.window_weeks.0) * 7;
    let threshold = config.surge_threshold.0;
    // topic → (surging weeks, latest surge date, strongest score)
    let mut topics: BTreeMap<&str, (u32, Date, u8)> = BTreeMap::new();
    for week in known_weeks(&facts.intent, today) {
        let Ok(span) = today.since(week.date) else {
            continue;
        };
        let age_days = i64::from(span.get_days());
        if week.date > today || age_days >= window_days || f64::from(week.score) < threshold {
            continue;
        }
        let entry = topics
            .entry(week.topic.as_str())
            .or_insert((0, week.date, 0));
        entry.0 += 1;
        entry.1 = entry.1.max(week.date);
        entry.2 = entry.2.max(week.score);
    }
    for (topic, (weeks, latest, strongest)) in topics {
        let age = today
            .since(latest)
            .map_or(0, |span| i64::from(span.get_days()));
        let sustained = 1.0 - 0.5f64.powi(weeks.min(30) as i32);
        let strength = 0.6
            + 0.4
                * ((f64::from(strongest) - threshold) / (100.0 - threshold).max(1.0))
                    .clamp(0.0, 1.0);
        let points = config.surge_points.0
            * relevance(config, topic)
            * sustained
            * strength
            * decay(age * MICROS_PER_DAY, config.half_life_days.0);
        let when = match age {
            0..=6 => "this week".to_owned(),
            _ => format!("latest {} weeks ago", (age + 6) / 7),
        };
        parts.push(Contribution {
            name: format!(
                "'{topic}' surging {weeks} of the last {} weeks ({when})",
                config.window_weeks.0
            ),
            points,
        });
    }
}

fn first_party(
    config: &IntentConfig,
    facts: &AccountFacts,
    as_of: i64,
    parts: &mut Vec<Contribution>,
) {
    // topic index → (decayed visits, visits, latest)
    let mut research: BTreeMap<crate::score::facts::TopicId, (f64, u32, i64)> = BTreeMap::new();
    for activity in &facts.activities {
        if activity.at > as_of || activity.noise {
            continue;
        }
        let Some(topic) = activity.topic else {
            continue;
        };
        let entry = research.entry(topic).or_insert((0.0, 0, i64::MIN));
        entry.0 += decay(as_of - activity.at, config.research_half_life_days.0);
        entry.1 += 1;
        entry.2 = entry.2.max(activity.at);
    }
    for (topic, (decayed, visits, latest)) in research {
        let Some(name) = facts.topics.get(topic.index()) else {
            continue;
        };
        // Five recent visits on a topic say most of what fifty would.
        let points = config.research_points.0
            * relevance(config, name)
            * 5.0
            * (1.0 - (-decayed / 5.0).exp());
        parts.push(Contribution {
            name: format!(
                "research '{name}': {}, latest {}",
                crate::score::count(visits, "visit"),
                crate::score::days_ago(as_of - latest)
            ),
            points,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::ActivityKind;
    use crate::score::facts::{IntentWeek, Person, ScoredActivity};

    fn date(text: &str) -> Date {
        text.parse().expect("date")
    }

    fn micros(day: &str) -> i64 {
        date(day)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .expect("zoned")
            .timestamp()
            .as_microsecond()
    }

    fn weeks(topic: &str, scores: &[(&str, u8)]) -> Vec<IntentWeek> {
        scores
            .iter()
            .map(|(day, score)| IntentWeek {
                topic: topic.into(),
                date: date(day),
                score: *score,
            })
            .collect()
    }

    #[test]
    fn a_sustained_surge_beats_a_spike() {
        let config = IntentConfig::default();
        let sustained = AccountFacts {
            intent: weeks(
                "Intent Data",
                &[("2026-02-09", 70), ("2026-02-16", 72), ("2026-02-23", 70)],
            ),
            ..Default::default()
        };
        let spike = AccountFacts {
            intent: weeks(
                "Intent Data",
                &[("2026-02-09", 40), ("2026-02-16", 40), ("2026-02-23", 72)],
            ),
            ..Default::default()
        };
        let as_of = micros("2026-03-01");
        let a = score(&config, &sustained, as_of);
        let b = score(&config, &spike, as_of);
        assert!(a.value > b.value && b.value > 0.0, "{a:?} {b:?}");
        assert!(
            a.contributions[0]
                .name
                .contains("surging 3 of the last 8 weeks"),
            "{a:?}"
        );
        assert!((a.sum_of_contributions() - a.value).abs() < 1e-9);
        // Known only later: nothing counts as of a date before it.
        assert_eq!(score(&config, &sustained, micros("2026-02-01")).value, 0.0);
    }

    #[test]
    fn a_week_counts_once_and_only_once_it_has_ended() {
        let config = IntentConfig::default();
        let mut weeks = weeks("Intent Data", &[("2026-02-16", 70)]);
        weeks.push(IntentWeek {
            topic: "Intent Data".into(),
            date: date("2026-02-16"),
            score: 80,
        });
        let facts = AccountFacts {
            intent: weeks,
            ..Default::default()
        };
        let score = score(&config, &facts, micros("2026-03-01"));
        assert!(
            score.contributions[0]
                .name
                .contains("surging 1 of the last 8 weeks"),
            "{score:?}"
        );
        // The week of 2026-02-16 ends on the 22nd: on the 18th it is not known yet.
        assert_eq!(
            self::score(&config, &facts, micros("2026-02-18")).value,
            0.0
        );
    }

    #[test]
    fn research_pages_count_with_diminishing_returns() {
        let config = IntentConfig::default();
        let pages = PageTopics::new(&config.pages);
        assert_eq!(
            pages.topic_of("https://www.example.com/pricing?plan=pro"),
            Some("Pricing")
        );
        assert_eq!(pages.topic_of("https://example.com/blog/x"), None);
        let mut facts = AccountFacts::default();
        let topic = facts.topic_index("Pricing");
        let visit = |day: &str| ScoredActivity {
            at: micros(day),
            kind: ActivityKind::PageView,
            person: Person::contact(1),
            topic,
            noise: false,
        };
        facts.activities = vec![visit("2026-02-25")];
        let one = score(&config, &facts, micros("2026-03-01")).value;
        facts.activities = vec![visit("2026-02-25"); 5];
        let five = score(&config, &facts, micros("2026-03-01")).value;
        facts.activities = vec![visit("2026-02-25"); 50];
        let fifty = score(&config, &facts, micros("2026-03-01")).value;
        assert!(
            one < five && five < fifty && fifty < five * 2.0,
            "{one} {five} {fifty}"
        );
    }
}
