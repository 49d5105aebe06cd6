//! Engagement: what the people at an account did, as decayed accumulators. Each activity
//! adds its kind's weight to its person's sum and to the account's per-kind sums, each
//! decayed by a half-life from its own latest time, so one activity changes the state in
//! O(1) and the state is the same whatever order the activities arrive in. Reading the
//! score applies the diminishing returns per person (one person's 200 page views never
//! outweigh five people's visits), breadth across people, and recency.

use crate::entity::ActivityKind;
use crate::persona::BuyingRole;
use crate::score::config::EngagementConfig;
use crate::score::facts::{AccountFacts, Person, ScoredActivity};
use crate::score::{Contribution, Score, days, decay};
use std::collections::HashMap;

const KINDS: usize = ActivityKind::ALL.len();

/// Half-lives of the trend's two sums: the last week or two against the last quarter.
const TREND_SHORT_DAYS: u32 = 7;
const TREND_LONG_DAYS: u32 = 45;
/// Below this much short-term weight a trend is one event, not a trend.
const TREND_MIN_WEIGHT: f64 = 4.0;

/// A sum of weights decayed to its latest event: `value(T) = sum · 2^(−(T − latest)/h)`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Decayed {
    sum: f64,
    latest: i64,
}

impl Decayed {
    const EMPTY: Decayed = Decayed {
        sum: 0.0,
        latest: i64::MIN,
    };

    fn add(&mut self, weight: f64, at: i64, half_life_days: u32) {
        if self.latest == i64::MIN {
            *self = Decayed {
                sum: weight,
                latest: at,
            };
        } else if at > self.latest {
            self.sum = self.sum * decay(at - self.latest, half_life_days) + weight;
            self.latest = at;
        } else {
            self.sum += weight * decay(self.latest - at, half_life_days);
        }
    }

    fn value(&self, as_of: i64, half_life_days: u32) -> f64 {
        if self.latest == i64::MIN {
            0.0
        } else {
            self.sum * decay(as_of - self.latest, half_life_days)
        }
    }
}

/// An activity weighing less than this (an open, an impression) does not make its person
/// "active" for breadth and recency: it is too weak a sign that someone was there.
const ACTIVE_MIN_WEIGHT: f64 = 1.0;

/// One person's accumulator and the latest activity that made them active.
#[derive(Debug, Clone, Copy, PartialEq)]
struct PersonSum {
    sum: Decayed,
    active: i64,
}

/// One account's engagement accumulators.
#[derive(Debug, Clone)]
pub struct EngagementState {
    people: HashMap<Person, PersonSum>,
    kinds: [Decayed; KINDS],
    counts: [u32; KINDS],
    /// The latest activity that made its person active.
    latest: i64,
    /// All weight with a short and a long half-life: their ratio is the trend.
    short: Decayed,
    long: Decayed,
    weights: [f64; KINDS],
    half_life_days: u32,
}

impl EngagementState {
    pub fn new(config: &EngagementConfig) -> Self {
        EngagementState {
            people: HashMap::new(),
            kinds: [Decayed::EMPTY; KINDS],
            counts: [0; KINDS],
            latest: i64::MIN,
            short: Decayed::EMPTY,
            long: Decayed::EMPTY,
            weights: config.weights.table(),
            half_life_days: config.half_life_days.0,
        }
    }

    /// The state from an account's activities known as of `as_of` (noise already marked).
    pub fn from_facts(config: &EngagementConfig, facts: &AccountFacts, as_of: i64) -> Self {
        let mut state = EngagementState::new(config);
        for activity in &facts.activities {
            if activity.at <= as_of {
                state.add(activity);
            }
        }
        state
    }

    /// Adds one activity: O(1), and commutative with every other `add`.
    pub fn add(&mut self, activity: &ScoredActivity) {
        let kind = activity.kind as usize;
        let weight = self.weights[kind];
        if activity.noise || weight <= 0.0 {
            return;
        }
        let person = self.people.entry(activity.person).or_insert(PersonSum {
            sum: Decayed::EMPTY,
            active: i64::MIN,
        });
        person.sum.add(weight, activity.at, self.half_life_days);
        if weight >= ACTIVE_MIN_WEIGHT && !activity.kind.is_outbound() {
            person.active = person.active.max(activity.at);
            self.latest = self.latest.max(activity.at);
        }
        self.kinds[kind].add(weight, activity.at, self.half_life_days);
        self.counts[kind] += 1;
        self.short.add(weight, activity.at, TREND_SHORT_DAYS);
        self.long.add(weight, activity.at, TREND_LONG_DAYS);
    }

    /// When this person last did something that makes them active (not an open, an
    /// impression or our own send), if ever.
    pub fn last_active(&self, person: Person) -> Option<i64> {
        self.people
            .get(&person)
            .map(|sum| sum.active)
            .filter(|&active| active != i64::MIN)
    }

    /// Distinct known people (not the anonymous bucket) with an activity at or after `since`.
    pub fn people_active_since(&self, since: i64) -> u32 {
        self.people
            .iter()
            .filter(|(person, sum)| !person.is_anonymous() && sum.active >= since)
            .count() as u32
    }

    /// The buying roles (distinct, sorted) held by people active at or after `since`, and
    /// how many such people there are. `roles` is sorted by person.
    pub fn roles_active_since(
        &self,
        roles: &[(Person, BuyingRole)],
        since: i64,
    ) -> (Vec<BuyingRole>, u32) {
        let mut active_roles = Vec::new();
        let mut people = 0;
        for (person, role) in roles {
            if self
                .people
                .get(person)
                .is_some_and(|sum| sum.active >= since)
            {
                people += 1;
                if !active_roles.contains(role) {
                    active_roles.push(*role);
                }
            }
        }
        active_roles.sort();
        (active_roles, people)
    }

    /// The score as of `as_of`, which must not precede the latest activity added; `roles` are
    /// the account's people holding a buying role, sorted by person.
    pub fn score(
        &self,
        config: &EngagementConfig,
        roles: &[(Person, BuyingRole)],
        as_of: i64,
    ) -> Score {
        let half_life = self.half_life_days;
        let cap = config.person_cap.0.max(f64::MIN_POSITIVE);
        let volume: f64 = self
            .people
            .values()
            .map(|person| cap * (1.0 - (-person.sum.value(as_of, half_life) / cap).exp()))
            .sum();
        let mut parts = Vec::new();
        // The volume, after diminishing returns, is shown by kind in proportion to each
        // kind's decayed weight: "meetings +12" rather than one opaque figure.
        let by_kind: Vec<(usize, f64)> = (0..KINDS)
            .map(|kind| (kind, self.kinds[kind].value(as_of, half_life)))
            .filter(|(_, value)| *value > 0.0)
            .collect();
        let total: f64 = by_kind.iter().map(|(_, value)| value).sum();
        if total > 0.0 {
            for (kind, value) in by_kind {
                parts.push(Contribution {
                    name: format!(
                        "{} × {} (latest {})",
                        self.counts[kind],
                        ActivityKind::ALL[kind].as_str(),
                        crate::score::days_ago(as_of - self.kinds[kind].latest)
                    ),
                    points: volume * value / total,
                });
            }
        }
        let active = self.people_active_since(as_of - days(config.breadth_window_days.0));
        let counted = active.min(config.breadth_max_people.0);
        if counted > 1 {
            parts.push(Contribution {
                name: format!(
                    "{active} people active in the last {} days",
                    config.breadth_window_days.0
                ),
                points: config.breadth_points.0 * f64::from(counted - 1),
            });
        }
        let (active_roles, _) =
            self.roles_active_since(roles, as_of - days(config.breadth_window_days.0));
        if !active_roles.is_empty() {
            let names: Vec<&str> = active_roles.iter().map(|role| role.label()).collect();
            parts.push(Contribution {
                name: format!(
                    "{} buying-group role{} active in the last {} days: {}",
                    active_roles.len(),
                    if active_roles.len() == 1 { "" } else { "s" },
                    config.breadth_window_days.0,
                    names.join(", ")
                ),
                points: config.role_points.0 * active_roles.len() as f64,
            });
        }
        if let Some((ratio, points)) = self.trend(config, as_of) {
            parts.push(Contribution {
                name: format!("activity rising: {ratio:.1}× its usual rate"),
                points,
            });
        }
        if self.latest != i64::MIN {
            let age = as_of - self.latest;
            parts.push(Contribution {
                name: format!("latest activity {}", crate::score::days_ago(age)),
                points: config.recency_points.0 * decay(age, config.recency_days.0),
            });
        }
        Score::saturated(parts, config.scale.0)
    }

    /// The recent rate of weighted activity against the longer-term rate (each sum divided by
    /// its half-life estimates a rate), and the points a rise earns: full points at 4×.
    fn trend(&self, config: &EngagementConfig, as_of: i64) -> Option<(f64, f64)> {
        let short = self.short.value(as_of, TREND_SHORT_DAYS);
        let long = self.long.value(as_of, TREND_LONG_DAYS);
        if short < TREND_MIN_WEIGHT || long <= 0.0 {
            return None;
        }
        let ratio = (short / f64::from(TREND_SHORT_DAYS)) / (long / f64::from(TREND_LONG_DAYS));
        let points = config.trend_points.0 * (ratio.log2() / 2.0).clamp(0.0, 1.0);
        (points > 0.0).then_some((ratio, points))
    }

    /// True when both states hold the same sums (to floating-point rounding).
    pub fn approx_eq(&self, other: &EngagementState) -> bool {
        let close = |a: &Decayed, b: &Decayed| {
            a.latest == b.latest && (a.sum - b.sum).abs() <= 1e-9 * a.sum.abs().max(1.0)
        };
        self.latest == other.latest
            && self.counts == other.counts
            && self.people.len() == other.people.len()
            && self.people.iter().all(|(person, sum)| {
                other
                    .people
                    .get(person)
                    .is_some_and(|o| o.active == sum.active && close(&sum.sum, &o.sum))
            })
            && self
                .kinds
                .iter()
                .zip(&other.kinds)
                .all(|(a, b)| close(a, b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DAY: i64 = crate::score::MICROS_PER_DAY;

    fn act(day: i64, kind: ActivityKind, person: i64) -> ScoredActivity {
        ScoredActivity {
            at: day * DAY + 3_600_000_000,
            kind,
            person: Person::contact(person),
            topic: None,
            noise: false,
        }
    }

    fn score_of(activities: Vec<ScoredActivity>, as_of_day: i64) -> Score {
        let config = EngagementConfig::default();
        let facts = AccountFacts {
            activities,
            ..Default::default()
        };
        EngagementState::from_facts(&config, &facts, as_of_day * DAY).score(
            &config,
            &[],
            as_of_day * DAY,
        )
    }

    #[test]
    fn five_people_beat_one_persons_two_hundred_views() {
        let one = score_of(
            (0..200)
                .map(|i| act(100 + i % 10, ActivityKind::PageView, 1))
                .collect(),
            111,
        );
        let five = score_of(
            (0..10)
                .map(|i| act(105 + i % 5, ActivityKind::PageView, i % 5))
                .collect(),
            111,
        );
        assert!(five.value > one.value, "five {five:?} one {one:?}");
        for s in [&one, &five] {
            assert!((s.sum_of_contributions() - s.value).abs() < 1e-9);
        }
    }

    #[test]
    fn meetings_outweigh_opens_and_old_activity_fades() {
        let meeting = score_of(vec![act(100, ActivityKind::MeetingHeld, 1)], 101);
        let opens = score_of(
            (0..10)
                .map(|i| act(100, ActivityKind::EmailOpen, i))
                .collect(),
            101,
        );
        assert!(meeting.value > 2.0 * opens.value, "{meeting:?} {opens:?}");
        let later = score_of(vec![act(100, ActivityKind::MeetingHeld, 1)], 250);
        assert!(later.value < meeting.value / 4.0);
    }

    #[test]
    fn noise_counts_nothing() {
        let mut burst = act(100, ActivityKind::PageView, 1);
        burst.noise = true;
        assert_eq!(score_of(vec![burst; 300], 101).value, 0.0);
    }

    fn arbitrary_activity() -> impl Strategy<Value = ScoredActivity> {
        (0i64..400 * DAY, 0usize..KINDS, 0i64..6, any::<bool>()).prop_map(
            |(at, kind, person, anonymous)| ScoredActivity {
                at,
                kind: ActivityKind::ALL[kind],
                person: if anonymous {
                    Person::ANONYMOUS
                } else {
                    Person::contact(person)
                },
                topic: None,
                noise: false,
            },
        )
    }

    proptest! {
        /// Live updates in any order give the state (and the score) of a full recompute.
        #[test]
        fn incremental_updates_in_any_order_equal_a_full_recompute(
            mut activities in prop::collection::vec(arbitrary_activity(), 0..200),
            seed in any::<u64>(),
        ) {
            let config = EngagementConfig::default();
            let mut facts = AccountFacts { activities: activities.clone(), ..Default::default() };
            facts.prepare(&config.noise);
            let as_of = 400 * DAY;
            let full = EngagementState::from_facts(&config, &facts, as_of);
            // The same activities, noise as marked on the whole, in a shuffled order.
            activities = facts.activities.clone();
            let mut state = seed;
            for i in (1..activities.len()).rev() {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                activities.swap(i, (state >> 33) as usize % (i + 1));
            }
            let mut live = EngagementState::new(&config);
            for activity in &activities {
                live.add(activity);
            }
            prop_assert!(live.approx_eq(&full));
            let (a, b) = (live.score(&config, &[], as_of), full.score(&config, &[], as_of));
            prop_assert!((a.value - b.value).abs() < 1e-6);
        }
    }
}
