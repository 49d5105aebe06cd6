//! Scores that explain themselves: fit, intent, engagement and priority, each a value 0–100
//! that is exactly the sum of named contributions; journey stages; the backtest's metrics.
//!
//! Invariants:
//! - every [`Score`] is built from its contributions; nothing else sets its value, so the
//!   contributions always add up to what is shown (also after rounding, see
//!   [`Score::rounded`]);
//! - a score is computed *as of* an instant passed in: only what was known then counts and
//!   every decay is measured from it. No clock is read here;
//! - a transform that bends the sum (saturation, a cap at 100) is spread over the
//!   contributions or shown as a contribution of its own, never applied silently.

pub mod config;
pub mod engagement;
pub mod facts;
pub mod features;
pub mod fit;
pub mod intent;
pub mod metrics;
pub mod noise;
pub mod priority;
pub mod stage;

pub use config::ScoringConfig;
pub use facts::{AccountFacts, ScoredActivity};
pub use stage::Stage;

/// One named part of a score.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Contribution {
    pub name: String,
    pub points: f64,
}

/// A score 0–100 and the contributions it is the sum of, largest first.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Score {
    pub value: f64,
    pub contributions: Vec<Contribution>,
}

impl Score {
    /// The score whose value is the sum of these contributions. Zero contributions are kept
    /// when they explain something (an unknown attribute), so they are not filtered here.
    pub fn from_contributions(mut contributions: Vec<Contribution>) -> Self {
        contributions.sort_by(|a, b| {
            b.points
                .abs()
                .total_cmp(&a.points.abs())
                .then_with(|| a.name.cmp(&b.name))
        });
        let value: f64 = contributions.iter().map(|c| c.points).sum();
        // Floating-point leftovers (−0.0, 1e−15) are zero: a score never shows "−0".
        let value = if value.abs() < 1e-9 { 0.0 } else { value };
        Score {
            value,
            contributions,
        }
    }

    /// Keeps the sum within 0–100 by adding a contribution that says so, rather than
    /// changing the value behind the contributions' back.
    pub fn clamped(self) -> Self {
        let mut contributions = self.contributions;
        if self.value > 100.0 {
            contributions.push(Contribution {
                name: "capped at 100".into(),
                points: 100.0 - self.value,
            });
        } else if self.value < 0.0 {
            contributions.push(Contribution {
                name: "floored at 0".into(),
                points: -self.value,
            });
        }
        Score::from_contributions(contributions)
    }

    /// Bends an open-ended sum into 0–100 (`100·(1 − e^(−sum/scale))`, so the first points
    /// count most) and spreads the bend over the contributions in proportion, so each
    /// still says how much of the score it brought.
    pub fn saturated(raw: Vec<Contribution>, scale: f64) -> Self {
        let positive: f64 = raw.iter().map(|c| c.points.max(0.0)).sum();
        let negative: f64 = raw.iter().map(|c| c.points.min(0.0)).sum();
        let total = positive + negative;
        if total <= 0.0 || scale <= 0.0 {
            let zeroed = raw
                .into_iter()
                .map(|c| Contribution {
                    name: c.name,
                    points: 0.0,
                })
                .collect();
            return Score::from_contributions(zeroed);
        }
        let value = 100.0 * (1.0 - (-total / scale).exp());
        let factor = value / total;
        let contributions = raw
            .into_iter()
            .map(|c| Contribution {
                name: c.name,
                points: c.points * factor,
            })
            .collect();
        Score::from_contributions(contributions)
    }

    /// The score and its contributions to one decimal, with the contributions' rounding
    /// settled (largest remainder) so that the shown parts add up to the shown value.
    pub fn rounded(&self) -> Score {
        let value_tenths = (self.value * 10.0).round() as i64;
        let mut parts: Vec<(usize, i64, f64)> = self
            .contributions
            .iter()
            .enumerate()
            .map(|(index, c)| {
                let tenths = c.points * 10.0;
                let floor = tenths.floor();
                (index, floor as i64, tenths - floor)
            })
            .collect();
        let mut missing = value_tenths - parts.iter().map(|p| p.1).sum::<i64>();
        let mut order: Vec<usize> = (0..parts.len()).collect();
        order.sort_by(|&a, &b| parts[b].2.total_cmp(&parts[a].2).then(a.cmp(&b)));
        let len = order.len().max(1);
        let mut step = 0usize;
        while missing != 0 && !parts.is_empty() {
            let slot = order[step % len];
            if missing > 0 {
                parts[slot].1 += 1;
                missing -= 1;
            } else {
                parts[slot].1 -= 1;
                missing += 1;
            }
            step += 1;
        }
        let contributions = parts
            .into_iter()
            .map(|(index, tenths, _)| Contribution {
                name: self.contributions[index].name.clone(),
                points: tenths as f64 / 10.0,
            })
            .collect();
        Score {
            value: value_tenths as f64 / 10.0 + 0.0,
            contributions,
        }
    }

    /// The contributions' sum; equal to `value` by construction (tests check it).
    pub fn sum_of_contributions(&self) -> f64 {
        self.contributions.iter().map(|c| c.points).sum()
    }
}

/// The four scores of one account as of one instant.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Scores {
    pub fit: Score,
    pub intent: Score,
    pub engagement: Score,
    pub priority: Score,
}

/// The four values without their contributions: what is stored and listed.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct ScoreValues {
    pub fit: f64,
    pub intent: f64,
    pub engagement: f64,
    pub priority: f64,
}

impl Scores {
    pub fn values(&self) -> ScoreValues {
        ScoreValues {
            fit: self.fit.value,
            intent: self.intent.value,
            engagement: self.engagement.value,
            priority: self.priority.value,
        }
    }

    /// Drops the contributions (keeping the values): a full scoring run keeps only what it
    /// stores; `--why` recomputes the one account it explains.
    pub fn forget_contributions(&mut self) {
        for score in [
            &mut self.fit,
            &mut self.intent,
            &mut self.engagement,
            &mut self.priority,
        ] {
            score.contributions = Vec::new();
        }
    }

    pub fn rounded(&self) -> Scores {
        Scores {
            fit: self.fit.rounded(),
            intent: self.intent.rounded(),
            engagement: self.engagement.rounded(),
            priority: self.priority.rounded(),
        }
    }
}

/// Everything scoring says about one account as of one instant.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Assessment {
    pub scores: Scores,
    pub stage: Stage,
    /// Why the account is in its stage, in words.
    pub stage_reason: String,
    /// Distinct people active within the qualification window.
    pub active_people: u32,
    /// What a learned priority (and `abm tune`) reads.
    #[serde(skip)]
    pub features: features::Features,
}

/// Scores one account as of `as_of` (microseconds since the Unix epoch).
pub fn assess(
    config: &ScoringConfig,
    profile: &fit::CustomerProfile,
    facts: &AccountFacts,
    as_of: i64,
) -> Assessment {
    let fit = fit::score(&config.fit, profile, facts);
    let intent = intent::score(&config.intent, facts, as_of);
    let engagement_state =
        engagement::EngagementState::from_facts(&config.engagement, facts, as_of);
    let engagement = engagement_state.score(&config.engagement, &facts.roles, as_of);
    let mut scores = Scores {
        fit,
        intent,
        engagement,
        priority: Score::default(),
    };
    let features = features::features(
        facts,
        &scores,
        &engagement_state,
        &config.engagement,
        &config.intent,
        as_of,
    );
    scores.priority = priority::score(
        &config.priority,
        &scores.fit,
        &scores.intent,
        &scores.engagement,
        &features,
    );
    let active_people =
        engagement_state.people_active_since(as_of - days(config.stages.qualified_window_days.0));
    let (stage, stage_reason) =
        stage::stage_of(&config.stages, facts, &scores, &engagement_state, as_of);
    Assessment {
        scores,
        stage,
        stage_reason,
        active_people,
        features,
    }
}

pub(crate) const MICROS_PER_DAY: i64 = 86_400_000_000;

/// A number of days in microseconds.
pub(crate) fn days(count: u32) -> i64 {
    i64::from(count) * MICROS_PER_DAY
}

/// `2^(−age/half_life)`: the weight left after `age` microseconds.
pub(crate) fn decay(age: i64, half_life_days: u32) -> f64 {
    let half_life = days(half_life_days.max(1)) as f64;
    (-(age.max(0) as f64) / half_life).exp2()
}

/// The UTC calendar day of an instant (microseconds).
pub(crate) fn day_of(micros: i64) -> Option<jiff::civil::Date> {
    let timestamp = jiff::Timestamp::from_microsecond(micros).ok()?;
    Some(timestamp.to_zoned(jiff::tz::TimeZone::UTC).date())
}

/// A logistic model's score as contributions: `100·σ(b + Σ termᵢ)` split into the base rate
/// `100·σ(b)` (named `base`) and each term's share of the rise from it, through σ's secant
/// slope between b and the total (bounded, so no share is inflated; the parts add up
/// exactly). A non-finite total gives an empty score rather than a NaN.
pub(crate) fn logistic_parts(base: &str, intercept: f64, terms: Vec<(String, f64)>) -> Score {
    let sigmoid = |z: f64| 1.0 / (1.0 + (-z).exp());
    let z = intercept + terms.iter().map(|(_, term)| term).sum::<f64>();
    if !z.is_finite() || !intercept.is_finite() {
        return Score::default();
    }
    let base_rate = 100.0 * sigmoid(intercept);
    let value = 100.0 * sigmoid(z);
    let slope = if (z - intercept).abs() > 1e-12 {
        (value - base_rate) / (z - intercept)
    } else {
        100.0 * sigmoid(intercept) * (1.0 - sigmoid(intercept))
    };
    let mut parts = vec![Contribution {
        name: base.to_owned(),
        points: base_rate,
    }];
    parts.extend(terms.into_iter().map(|(name, term)| Contribution {
        name,
        points: slope * term,
    }));
    Score::from_contributions(parts)
}

/// `1 visit`, `3 visits`.
pub(crate) fn count(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{} {noun}s", thousands(n))
    }
}

/// `today`, `yesterday`, `5 days ago`.
pub(crate) fn days_ago(micros: i64) -> String {
    match micros / MICROS_PER_DAY {
        ..=0 => "today".into(),
        1 => "yesterday".into(),
        days => format!("{days} days ago"),
    }
}

/// A number the way people read it: `1,200`.
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(points: &[f64]) -> Vec<Contribution> {
        points
            .iter()
            .enumerate()
            .map(|(i, &points)| Contribution {
                name: format!("c{i}"),
                points,
            })
            .collect()
    }

    #[test]
    fn saturation_is_spread_over_the_contributions() {
        let score = Score::saturated(parts(&[30.0, 20.0, 10.0]), 60.0);
        assert!(score.value < 100.0 && score.value > 60.0);
        assert!((score.sum_of_contributions() - score.value).abs() < 1e-9);
        assert!(score.contributions[0].points > score.contributions[1].points);
    }

    #[test]
    fn caps_are_contributions() {
        let score = Score::from_contributions(parts(&[80.0, 40.0])).clamped();
        assert_eq!(score.value, 100.0);
        assert!(
            score
                .contributions
                .iter()
                .any(|c| c.name == "capped at 100")
        );
        let score = Score::from_contributions(parts(&[-20.0, 5.0])).clamped();
        assert_eq!(score.value, 0.0);
    }

    #[test]
    fn rounding_keeps_the_sum() {
        let score = Score::from_contributions(parts(&[33.333, 33.333, 33.334, 0.04, 0.04]));
        let shown = score.rounded();
        let sum: f64 = shown.contributions.iter().map(|c| c.points).sum();
        assert!((sum - shown.value).abs() < 1e-9, "{shown:?}");
        assert_eq!(shown.value, 100.1);
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(1200), "1,200");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
