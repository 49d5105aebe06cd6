//! The backtest: scores as of a past instant against what happened next. An account is a
//! positive when an opportunity was created within the horizon after the instant; accounts
//! with an opportunity already open at the instant are left out (their outcome is not a
//! prediction). The same accounts are ranked by the naive count of recent activities, so
//! every figure has its baseline beside it.

use crate::scoring::{ScoredAccount, Scoring, day_of};
use abm_core::score::metrics::{Evaluation, evaluate};
use jiff::civil::Date;

/// The figures of one backtest.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Backtest {
    /// `YYYY-MM-DD`.
    pub as_of: String,
    pub horizon_days: u32,
    /// Accounts left out because an opportunity was open at the instant.
    pub excluded_open: usize,
    pub priority: Evaluation,
    pub fit: Evaluation,
    pub intent: Evaluation,
    pub engagement: Evaluation,
    /// The naive ranking: activities in the 90 days before.
    pub activity_count: Evaluation,
}

/// True when an opportunity was open at `day` (created by then, not closed by then). A deal
/// closed without a close date may have been open then: it counts as open, so its account
/// is left out rather than guessed at.
pub fn open_at(account: &ScoredAccount, day: Date) -> bool {
    account.opportunities.iter().any(|o| {
        o.created_on <= day && !(o.closed && o.close_date.is_some_and(|close| close <= day))
    })
}

/// True when an opportunity was created in `(day, day + horizon]`.
pub fn converted(account: &ScoredAccount, day: Date, horizon_days: u32) -> bool {
    let end = day.saturating_add(jiff::Span::new().days(i64::from(horizon_days)));
    account
        .opportunities
        .iter()
        .any(|o| o.created_on > day && o.created_on <= end)
}

/// Evaluates a scoring run (computed as of the backtest instant) against the history.
pub fn evaluate_scoring(scoring: &Scoring, horizon_days: u32) -> Option<Backtest> {
    let day = day_of(scoring.as_of)?;
    let mut excluded_open = 0;
    let mut rows = Vec::new();
    for account in &scoring.accounts {
        if open_at(account, day) {
            excluded_open += 1;
            continue;
        }
        rows.push((account, converted(account, day, horizon_days)));
    }
    let by = |value: &dyn Fn(&ScoredAccount) -> f64| -> Evaluation {
        let pairs: Vec<(f64, bool)> = rows.iter().map(|(a, label)| (value(a), *label)).collect();
        evaluate(&pairs)
    };
    Some(Backtest {
        as_of: day.to_string(),
        horizon_days,
        excluded_open,
        priority: by(&|a| a.assessment.scores.priority.value),
        fit: by(&|a| a.assessment.scores.fit.value),
        intent: by(&|a| a.assessment.scores.intent.value),
        engagement: by(&|a| a.assessment.scores.engagement.value),
        activity_count: by(&|a| f64::from(a.recent_activities)),
    })
}
