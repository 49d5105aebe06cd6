//! Priority: the one ranking number, a weighted mean of fit, intent and engagement, whose
//! contributions are the three scores' weighted shares.

use crate::score::config::PriorityConfig;
use crate::score::{Contribution, Score};

pub fn score(config: &PriorityConfig, fit: &Score, intent: &Score, engagement: &Score) -> Score {
    let total = config.fit.0 + config.intent.0 + config.engagement.0;
    if total <= 0.0 {
        return Score::default();
    }
    let part = |name: &str, score: &Score, weight: f64| Contribution {
        name: format!("{name} {:.0} × {:.0}%", score.value, 100.0 * weight / total),
        points: score.value * weight / total,
    };
    Score::from_contributions(vec![
        part("fit", fit, config.fit.0),
        part("intent", intent, config.intent.0),
        part("engagement", engagement, config.engagement.0),
    ])
}
