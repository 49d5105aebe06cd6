//! Velocity and the waterfall, from the stored journey-stage changes: how many accounts
//! reached each stage from target to customer, the conversion from each stage to the next,
//! and the median days spent in each; TAL against everything else, beside the sales cycle,
//! win rate and deal size of the pipeline report.

use super::pipeline::Figures;
use super::{Definition, Period, define, median, ratio, round};
use crate::score::stage::Stage;
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

/// The funnel's stages in order; lost and re-engaged sit off it.
pub const FUNNEL: [Stage; 6] = [
    Stage::Target,
    Stage::Aware,
    Stage::Engaged,
    Stage::Qualified,
    Stage::Opportunity,
    Stage::Customer,
];

/// How far along the funnel a stage is: a lost deal had reached opportunity, a re-engaged
/// account had been engaged.
fn rank(stage: Stage) -> usize {
    match stage {
        Stage::Target => 0,
        Stage::Aware => 1,
        Stage::Engaged | Stage::ReEngaged => 2,
        Stage::Qualified => 3,
        Stage::Opportunity | Stage::Lost => 4,
        Stage::Customer => 5,
    }
}

/// A stage change: account, time (microseconds), the stage entered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    pub account_id: i64,
    pub at: i64,
    pub stage: Stage,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageRow {
    pub stage: &'static str,
    /// Accounts that had reached it (or a later stage) by the end of the period.
    pub reached: u64,
    /// Accounts that entered it during the period.
    pub entered: u64,
    /// Reached the next stage, divided by reached this one.
    pub conversion: Option<f64>,
    /// Median days from entering this stage to entering a later one, of the accounts that
    /// left it during the period.
    pub median_days: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Funnel {
    pub accounts: u64,
    pub stages: Vec<StageRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CycleFigures {
    pub win_rate: Option<f64>,
    pub avg_deal_size: Option<f64>,
    pub median_cycle_days: Option<f64>,
    pub opportunities: u64,
}

impl From<&Figures> for CycleFigures {
    fn from(figures: &Figures) -> Self {
        CycleFigures {
            win_rate: figures.win_rate,
            avg_deal_size: figures.avg_deal_size,
            median_cycle_days: figures.median_cycle_days,
            opportunities: figures.opportunities,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VelocityReport {
    pub period: Period,
    pub tal: Funnel,
    pub non_tal: Funnel,
    pub tal_cycle: CycleFigures,
    pub non_tal_cycle: CycleFigures,
    pub definitions: Vec<Definition>,
}

fn funnel(changes: &[Change], accounts: &HashSet<i64>, period: Period) -> Funnel {
    let (start, end) = period.micros();
    // Per account: the first time it reached each rank (a change into a later stage counts
    // for the stages it skipped), and the first time it entered each rank itself.
    let mut reached: BTreeMap<i64, [Option<i64>; 6]> = BTreeMap::new();
    let mut entered: BTreeMap<i64, [Option<i64>; 6]> = BTreeMap::new();
    for change in changes
        .iter()
        .filter(|c| c.at < end && accounts.contains(&c.account_id))
    {
        let r = rank(change.stage);
        let reach = reached.entry(change.account_id).or_insert([None; 6]);
        for slot in reach.iter_mut().take(r + 1) {
            if slot.is_none_or(|t| change.at < t) {
                *slot = Some(change.at);
            }
        }
        let enter = entered.entry(change.account_id).or_insert([None; 6]);
        if enter[r].is_none_or(|t| change.at < t) {
            enter[r] = Some(change.at);
        }
    }
    let mut stages = Vec::new();
    for (index, stage) in FUNNEL.iter().enumerate() {
        let count_reached = reached.values().filter(|r| r[index].is_some()).count() as u64;
        let count_next = (index + 1 < FUNNEL.len())
            .then(|| reached.values().filter(|r| r[index + 1].is_some()).count() as u64);
        let entered_in_period = entered
            .values()
            .filter(|e| e[index].is_some_and(|t| start <= t && t < end))
            .count() as u64;
        let mut days: Vec<f64> = entered
            .iter()
            .filter_map(|(account, enter)| {
                let since = enter[index]?;
                let left = reached.get(account)?.get(index + 1).copied().flatten()?;
                (start <= left && left < end && left >= since)
                    .then(|| (left - since) as f64 / 86_400_000_000.0)
            })
            .collect();
        stages.push(StageRow {
            stage: stage.as_str(),
            reached: count_reached,
            entered: entered_in_period,
            conversion: count_next
                .and_then(|next| ratio(next as f64, count_reached as f64))
                .map(|r| round(r, 4)),
            median_days: median(&mut days).map(|d| round(d, 1)),
        });
    }
    Funnel {
        accounts: accounts.len() as u64,
        stages,
    }
}

/// The velocity report. `all_accounts` are every account's ids; `tal` the approved TAL's.
pub fn velocity(
    period: Period,
    changes: &[Change],
    all_accounts: &HashSet<i64>,
    tal: &HashSet<i64>,
    tal_pipeline: &Figures,
    non_tal_pipeline: &Figures,
) -> VelocityReport {
    let others: HashSet<i64> = all_accounts.difference(tal).copied().collect();
    VelocityReport {
        period,
        tal: funnel(changes, tal, period),
        non_tal: funnel(changes, &others, period),
        tal_cycle: tal_pipeline.into(),
        non_tal_cycle: non_tal_pipeline.into(),
        definitions: vec![
            define(
                "reached",
                "accounts whose stored journey stage was this one or a later one at some time up to the end of the period (a lost deal had reached opportunity; re-engaged counts as engaged)",
            ),
            define(
                "conversion",
                "accounts that reached the next stage divided by those that reached this one",
            ),
            define(
                "days in stage",
                "median days from first entering a stage to first reaching a later one, for accounts that moved on during the period",
            ),
            define(
                "sales cycle",
                "median days from creation to close of the opportunities won, created in the period (as in the pipeline report)",
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use jiff::civil::Date;

    const DAY: i64 = 86_400_000_000;

    #[test]
    fn reached_conversion_and_days() {
        let period = Period::new(Date::constant(2026, 1, 1), Date::constant(2026, 12, 31)).unwrap();
        let (start, _) = period.micros();
        let change = |account_id, day: i64, stage| Change {
            account_id,
            at: start + day * DAY,
            stage,
        };
        let changes = vec![
            change(1, 0, Stage::Target),
            change(1, 10, Stage::Aware),
            change(1, 30, Stage::Qualified), // skips engaged
            change(1, 40, Stage::Opportunity),
            change(2, 0, Stage::Target),
            change(2, 20, Stage::Aware),
            change(3, 0, Stage::Target),
            change(3, 5, Stage::Engaged),
            change(3, 9, Stage::Lost),
            change(3, 400, Stage::Customer), // after the period
        ];
        let tal: HashSet<i64> = [1, 2].into();
        let all: HashSet<i64> = [1, 2, 3].into();
        let report = velocity(
            period,
            &changes,
            &all,
            &tal,
            &Figures::default(),
            &Figures::default(),
        );
        let rows = &report.tal.stages;
        assert_eq!(rows[0].reached, 2);
        assert_eq!(rows[1].reached, 2);
        assert_eq!(rows[2].reached, 1, "qualified implies engaged was passed");
        assert_eq!(rows[1].conversion, Some(0.5));
        // target → aware: 10 and 20 days.
        assert_eq!(rows[0].median_days, Some(15.0));
        // aware → a later stage: account 1, 20 days.
        assert_eq!(rows[1].median_days, Some(20.0));
        assert_eq!(rows[5].reached, 0);
        let others = &report.non_tal.stages;
        assert_eq!(others[4].reached, 1, "lost had reached opportunity");
        assert_eq!(
            others[5].reached, 0,
            "the customer stage came after the period"
        );
    }
}
