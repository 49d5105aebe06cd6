//! Priority: the one ranking number. By default a weighted mean of fit, intent and
//! engagement, whose contributions are the three scores' weighted shares; with a learned
//! `[priority.model]`, 100 × the modelled chance of new pipeline, whose contributions are the
//! base rate and each feature's share of the log-odds.

use crate::score::config::{PriorityConfig, PriorityModel};
use crate::score::features::{Features, NAMES};
use crate::score::{Contribution, Score};

pub fn score(
    config: &PriorityConfig,
    fit: &Score,
    intent: &Score,
    engagement: &Score,
    features: &Features,
) -> Score {
    if let Some(model) = &config.model {
        return learned(model, features);
    }
    let total = config.fit.0 + config.intent.0 + config.engagement.0;
    if total <= 0.0 {
        return Score::default();
    }
    let part = |name: &str, score: &Score, weight: f64| Contribution {
        name: format!("{name} {:.1} × {:.0}%", score.value, 100.0 * weight / total),
        points: score.value * weight / total,
    };
    Score::from_contributions(vec![
        part("fit", fit, config.fit.0),
        part("intent", intent, config.intent.0),
        part("engagement", engagement, config.engagement.0),
    ])
}

/// `100·σ(b + Σ wᵢ·(xᵢ − mᵢ)/sᵢ)`. The rise from the base rate `100·σ(b)` is shared among the
/// features in proportion to their log-odds terms, through the secant slope of σ between b
/// and z (bounded, so no share is ever inflated), which keeps the sum exact.
fn learned(model: &PriorityModel, features: &Features) -> Score {
    let terms: Vec<(usize, f64)> = model
        .features
        .iter()
        .filter_map(|(name, weight)| {
            let index = Features::index(name)?;
            let term = weight.weight * (features.values[index] - weight.mean) / weight.scale;
            Some((index, term))
        })
        .collect();
    let terms = terms
        .into_iter()
        .map(|(index, term)| {
            (
                format!("{} ({})", features.describe(index), NAMES[index]),
                term,
            )
        })
        .collect();
    crate::score::logistic_parts("base rate (learned)", model.intercept, terms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::config::FeatureWeight;

    #[test]
    fn a_learned_priority_is_a_probability_whose_parts_add_up() {
        let model = PriorityModel {
            horizon_days: crate::score::config::Days(90),
            intercept: -3.0,
            features: [
                (
                    "engagement".to_owned(),
                    FeatureWeight {
                        weight: 1.5,
                        mean: 0.2,
                        scale: 0.2,
                    },
                ),
                (
                    "customer".to_owned(),
                    FeatureWeight {
                        weight: -0.8,
                        mean: 0.1,
                        scale: 0.3,
                    },
                ),
            ]
            .into(),
        };
        let mut features = Features {
            values: [0.0; NAMES.len()],
            shown: [0.0; NAMES.len()],
        };
        for (engagement, customer) in [(0.9, 0.0), (0.2, 0.1), (0.0, 1.0)] {
            features.values[2] = engagement;
            features.values[9] = customer;
            let score = learned(&model, &features);
            assert!((0.0..=100.0).contains(&score.value));
            assert!(
                (score.sum_of_contributions() - score.value).abs() < 1e-9,
                "{score:?}"
            );
        }
        features.values[2] = 0.9;
        features.values[9] = 0.0;
        let high = learned(&model, &features).value;
        features.values[2] = 0.0;
        assert!(learned(&model, &features).value < high);
    }
}
