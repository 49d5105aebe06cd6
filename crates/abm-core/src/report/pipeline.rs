//! Pipeline from the TAL against everything else: opportunities created, pipeline amount,
//! revenue won, win rate, average deal size and sales-cycle length, by tier and cluster, and
//! the pipeline plays influenced.

use super::{Definition, Period, define, median, ratio, round};
use jiff::civil::Date;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// An opportunity as the report reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Opp {
    pub account_id: Option<i64>,
    pub amount: f64,
    pub created_on: Date,
    pub close_date: Option<Date>,
    pub closed: bool,
    pub won: bool,
}

/// Where an approved TAL account sits.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Segment {
    pub tier: Option<String>,
    pub cluster: Option<String>,
}

/// The figures of one group of opportunities.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Figures {
    pub opportunities: u64,
    pub amount: f64,
    pub closed: u64,
    pub won: u64,
    pub won_amount: f64,
    /// Won among closed; `null` when none closed.
    pub win_rate: Option<f64>,
    /// Won amount per won opportunity.
    pub avg_deal_size: Option<f64>,
    /// Median days from creation to close of the won ones.
    pub median_cycle_days: Option<f64>,
    pub accounts: u64,
}

#[derive(Default)]
struct Tally {
    opportunities: u64,
    amount: f64,
    closed: u64,
    won: u64,
    won_amount: f64,
    cycles: Vec<f64>,
    accounts: std::collections::BTreeSet<i64>,
}

impl Tally {
    fn add(&mut self, opp: &Opp) {
        self.opportunities += 1;
        self.amount += opp.amount;
        if let Some(account) = opp.account_id {
            self.accounts.insert(account);
        }
        if opp.closed {
            self.closed += 1;
        }
        if opp.closed && opp.won {
            self.won += 1;
            self.won_amount += opp.amount;
            if let Some(close) = opp.close_date {
                let days = (close - opp.created_on).get_days();
                self.cycles.push(f64::from(days.max(0)));
            }
        }
    }

    fn figures(mut self) -> Figures {
        Figures {
            opportunities: self.opportunities,
            amount: round(self.amount, 2),
            closed: self.closed,
            won: self.won,
            won_amount: round(self.won_amount, 2),
            win_rate: ratio(self.won as f64, self.closed as f64).map(|r| round(r, 4)),
            avg_deal_size: ratio(self.won_amount, self.won as f64).map(|r| round(r, 2)),
            median_cycle_days: median(&mut self.cycles).map(|d| round(d, 1)),
            accounts: self.accounts.len() as u64,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupFigures {
    pub name: String,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PipelineReport {
    pub period: Period,
    pub tal: Figures,
    pub non_tal: Figures,
    pub by_tier: Vec<GroupFigures>,
    pub by_cluster: Vec<GroupFigures>,
    /// Opportunities whose account had a play's touch sent in the `influence_days` before.
    pub influenced: Figures,
    /// Opportunities created per week, TAL and not: (week start, TAL amount, non-TAL amount).
    pub weekly: Vec<WeekAmounts>,
    pub definitions: Vec<Definition>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeekAmounts {
    pub week: Date,
    pub tal: f64,
    pub non_tal: f64,
}

/// The pipeline report. `touches` holds, per account, the days a play's touch was sent to it.
pub fn pipeline(
    period: Period,
    opportunities: &[Opp],
    tal: &HashMap<i64, Segment>,
    touches: &HashMap<i64, Vec<Date>>,
    influence_days: u32,
) -> PipelineReport {
    let mut in_tal = Tally::default();
    let mut outside = Tally::default();
    let mut influenced = Tally::default();
    let mut tiers: BTreeMap<String, Tally> = BTreeMap::new();
    let mut clusters: BTreeMap<String, Tally> = BTreeMap::new();
    let mut weeks: BTreeMap<Date, (f64, f64)> = BTreeMap::new();
    for opp in opportunities
        .iter()
        .filter(|opp| period.contains(opp.created_on))
    {
        let segment = opp.account_id.and_then(|account| tal.get(&account));
        let week = super::week_start(super::week_of_day(super::epoch_day(opp.created_on)))
            .unwrap_or(opp.created_on);
        let entry = weeks.entry(week).or_default();
        match segment {
            Some(segment) => {
                in_tal.add(opp);
                entry.0 += opp.amount;
                tiers
                    .entry(segment.tier.clone().unwrap_or_else(|| "none".into()))
                    .or_default()
                    .add(opp);
                if let Some(cluster) = &segment.cluster {
                    clusters.entry(cluster.clone()).or_default().add(opp);
                }
            }
            None => {
                outside.add(opp);
                entry.1 += opp.amount;
            }
        }
        let touched = opp
            .account_id
            .and_then(|account| touches.get(&account))
            .is_some_and(|days| {
                days.iter().any(|day| {
                    let before = (opp.created_on - *day).get_days();
                    *day <= opp.created_on && before <= influence_days as i32
                })
            });
        if touched {
            influenced.add(opp);
        }
    }
    let group = |map: BTreeMap<String, Tally>| -> Vec<GroupFigures> {
        map.into_iter()
            .map(|(name, tally)| GroupFigures {
                name,
                figures: tally.figures(),
            })
            .collect()
    };
    PipelineReport {
        period,
        tal: in_tal.figures(),
        non_tal: outside.figures(),
        by_tier: group(tiers),
        by_cluster: group(clusters),
        influenced: influenced.figures(),
        weekly: weeks
            .into_iter()
            .map(|(week, (tal, non_tal))| WeekAmounts {
                week,
                tal: round(tal, 2),
                non_tal: round(non_tal, 2),
            })
            .collect(),
        definitions: vec![
            define(
                "pipeline",
                "opportunities created in the period and their amounts, open or closed",
            ),
            define(
                "TAL",
                "accounts approved on the target account list now; non-TAL is every other opportunity, with or without an account",
            ),
            define(
                "won",
                "of the opportunities created in the period, those closed as won (by the CRM's IsWon)",
            ),
            define("win rate", "won divided by closed, of those opportunities"),
            define(
                "average deal size",
                "won amount divided by won opportunities",
            ),
            define(
                "sales cycle",
                "median days from creation to close date of the won opportunities",
            ),
            define(
                "influenced",
                format!(
                    "an opportunity whose account was sent a play's touch in the {influence_days} days before it was created ([reports] influence_days)"
                ),
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn opp(account: Option<i64>, amount: f64, created: Date, close: Option<(Date, bool)>) -> Opp {
        Opp {
            account_id: account,
            amount,
            created_on: created,
            close_date: close.map(|(d, _)| d),
            closed: close.is_some(),
            won: close.is_some_and(|(_, won)| won),
        }
    }

    #[test]
    fn tal_against_the_rest() {
        let d = |m, d| Date::constant(2026, m, d);
        let period = Period::new(d(1, 1), d(3, 31)).unwrap();
        let tal = HashMap::from([
            (
                1,
                Segment {
                    tier: Some("1:1".into()),
                    cluster: Some("fintech".into()),
                },
            ),
            (
                2,
                Segment {
                    tier: Some("1:many".into()),
                    cluster: None,
                },
            ),
        ]);
        let opps = vec![
            opp(Some(1), 100_000.0, d(1, 10), Some((d(3, 1), true))), // 50 days
            opp(Some(2), 20_000.0, d(2, 1), Some((d(2, 11), false))),
            opp(Some(2), 30_000.0, d(2, 15), Some((d(3, 17), true))), // 30 days
            opp(Some(3), 10_000.0, d(1, 5), None),
            opp(None, 5_000.0, d(3, 1), Some((d(3, 2), true))), // 1 day
            opp(Some(1), 999.0, d(4, 1), None),                 // outside the period
        ];
        let touches = HashMap::from([(1, vec![d(1, 2)]), (3, vec![d(6, 1)])]);
        let report = pipeline(period, &opps, &tal, &touches, 90);
        assert_eq!(report.tal.opportunities, 3);
        assert_eq!(report.tal.amount, 150_000.0);
        assert_eq!(report.tal.won, 2);
        assert_eq!(report.tal.closed, 3);
        assert_eq!(report.tal.won_amount, 130_000.0);
        assert_eq!(report.tal.win_rate, Some(0.6667));
        assert_eq!(report.tal.avg_deal_size, Some(65_000.0));
        assert_eq!(report.tal.median_cycle_days, Some(40.0));
        assert_eq!(report.non_tal.opportunities, 2);
        assert_eq!(report.non_tal.win_rate, Some(1.0));
        assert_eq!(report.non_tal.median_cycle_days, Some(1.0));
        assert_eq!(report.by_tier.len(), 2);
        assert_eq!(report.by_tier[0].name, "1:1");
        assert_eq!(report.by_tier[0].figures.amount, 100_000.0);
        assert_eq!(report.by_cluster[0].name, "fintech");
        // Account 1 was touched 8 days before its opportunity; account 3 only after.
        assert_eq!(report.influenced.opportunities, 1);
        assert_eq!(report.influenced.amount, 100_000.0);
        let weekly_total: f64 = report.weekly.iter().map(|w| w.tal + w.non_tal).sum();
        assert_eq!(weekly_total, 165_000.0);
    }

    #[test]
    fn nothing_closed_has_no_rates() {
        let d = |m, d| Date::constant(2026, m, d);
        let period = Period::new(d(1, 1), d(1, 31)).unwrap();
        let report = pipeline(
            period,
            &[opp(Some(1), 10.0, d(1, 2), None)],
            &HashMap::new(),
            &HashMap::new(),
            90,
        );
        assert_eq!(report.non_tal.win_rate, None);
        assert_eq!(report.non_tal.avg_deal_size, None);
        assert_eq!(report.tal, Figures::default());
    }
}
