//! The data's and the scoring's own quality: how much of the activity is matched to an
//! account (by week, with the unmatched remainder's top domains), and whether qualified
//! accounts became opportunities (beside the latest backtest, which the engine attaches).

use super::funnel::Change;
use super::pipeline::Opp;
use super::{Definition, Period, date_of_micros, define, median, ratio, round, week_start};
use crate::score::stage::Stage;
use jiff::civil::Date;
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchWeek {
    pub week: Date,
    pub activities: i64,
    pub unmatched: i64,
    pub match_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeadWeek {
    pub week: Date,
    /// The day of the observation.
    pub observed: Date,
    pub leads: i64,
    pub matched: i64,
    pub match_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnmatchedDomain {
    pub domain: String,
    pub activities: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchRateReport {
    pub period: Period,
    /// Activities of the period matched to an account.
    pub activity_match_rate: Option<f64>,
    pub activities: i64,
    pub unmatched: i64,
    /// Leads tied to an account now, of all leads (leads carry no date: not by week).
    pub lead_match_rate: Option<f64>,
    pub leads: u64,
    pub weekly: Vec<MatchWeek>,
    /// The lead match rate as abm observed it, the last observation of each week.
    pub lead_weekly: Vec<LeadWeek>,
    pub top_unmatched_domains: Vec<UnmatchedDomain>,
    pub definitions: Vec<Definition>,
}

/// `weeks`: (week, activities, unmatched) per week of the period; `lead_days`: (epoch day,
/// leads, matched) as observed, by day.
pub fn match_rate(
    period: Period,
    weeks: &[(i64, i64, i64)],
    leads: u64,
    matched_leads: u64,
    lead_days: &[(i64, i64, i64)],
    domains: Vec<(String, i64)>,
) -> MatchRateReport {
    let mut last_of_week: std::collections::BTreeMap<i64, (i64, i64, i64)> =
        std::collections::BTreeMap::new();
    for &(day, leads, matched) in lead_days {
        let week = super::week_of_day(day);
        if last_of_week
            .get(&week)
            .is_none_or(|(seen, _, _)| *seen <= day)
        {
            last_of_week.insert(week, (day, leads, matched));
        }
    }
    let lead_weekly = last_of_week
        .into_iter()
        .filter_map(|(week, (day, leads, matched))| {
            Some(LeadWeek {
                week: week_start(week)?,
                observed: super::date_of_day(day)?,
                leads,
                matched,
                match_rate: ratio(matched as f64, leads as f64).map(|r| round(r, 4)),
            })
        })
        .collect();
    let activities: i64 = weeks.iter().map(|w| w.1).sum();
    let unmatched: i64 = weeks.iter().map(|w| w.2).sum();
    let rate =
        |all: i64, unmatched: i64| ratio((all - unmatched) as f64, all as f64).map(|r| round(r, 4));
    MatchRateReport {
        period,
        activity_match_rate: rate(activities, unmatched),
        activities,
        unmatched,
        lead_match_rate: ratio(matched_leads as f64, leads as f64).map(|r| round(r, 4)),
        leads,
        weekly: weeks
            .iter()
            .filter_map(|&(week, all, unmatched)| {
                Some(MatchWeek {
                    week: week_start(week)?,
                    activities: all,
                    unmatched,
                    match_rate: rate(all, unmatched),
                })
            })
            .collect(),
        lead_weekly,
        top_unmatched_domains: domains
            .into_iter()
            .map(|(domain, activities)| UnmatchedDomain { domain, activities })
            .collect(),
        definitions: vec![
            define(
                "matched",
                "an activity tied to an account by its contact, its email's domain or its domain; free-mail and disposable domains never match",
            ),
            define(
                "week",
                "weeks start on Monday; a week counts when one of its days is in the period",
            ),
            define(
                "lead match rate",
                "leads tied to an account divided by all leads; leads carry no date, so over time it is the rate abm observed (each refresh and each match-rate report records the day's), the last observation of each week",
            ),
            define(
                "unmatched domains",
                "the domains unmatched activities point at: the accounts to add (importing them matches their activities)",
            ),
        ],
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conversion {
    /// Accounts that entered the qualified stage in the period.
    pub qualified: u64,
    /// Of those, accounts with an opportunity created on or after the day they qualified.
    pub became_opportunities: u64,
    pub share: Option<f64>,
    /// Median days from qualified to the opportunity's creation.
    pub median_days: Option<f64>,
}

/// Qualified accounts of the period that became opportunities.
pub fn qualified_conversion(
    period: Period,
    changes: &[Change],
    opportunities: &[Opp],
) -> Conversion {
    let (start, end) = period.micros();
    let mut qualified: HashMap<i64, i64> = HashMap::new();
    for change in changes
        .iter()
        .filter(|c| c.stage == Stage::Qualified && start <= c.at && c.at < end)
    {
        qualified
            .entry(change.account_id)
            .and_modify(|at| *at = (*at).min(change.at))
            .or_insert(change.at);
    }
    let mut days = Vec::new();
    for (account, at) in &qualified {
        let Some(day) = date_of_micros(*at) else {
            continue;
        };
        let first = opportunities
            .iter()
            .filter(|o| o.account_id == Some(*account) && o.created_on >= day)
            .map(|o| o.created_on)
            .min();
        if let Some(created) = first {
            days.push(f64::from((created - day).get_days()));
        }
    }
    Conversion {
        qualified: qualified.len() as u64,
        became_opportunities: days.len() as u64,
        share: ratio(days.len() as f64, qualified.len() as f64).map(|r| round(r, 4)),
        median_days: median(&mut days).map(|d| round(d, 1)),
    }
}

pub fn scoring_definitions() -> Vec<Definition> {
    vec![
        define(
            "backtest",
            "the latest `abm backtest` run: every account scored as of a past date, against the opportunities created in the horizon after it (AUC: the chance a converting account ranks above one that did not; lift: conversion in the top decile over the base rate; calibration: predicted against observed by band)",
        ),
        define(
            "qualified → opportunity",
            "accounts whose journey stage became qualified during the period, and of those, the ones with an opportunity created on or after that day",
        ),
    ]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn match_rate_by_week() {
        let period = Period::new(Date::constant(2026, 3, 2), Date::constant(2026, 3, 15)).unwrap();
        let (first, last) = period.weeks();
        let report = match_rate(
            period,
            &[(first, 100, 25), (last, 0, 0)],
            10,
            7,
            &[
                (first * 7 - 3, 10, 4),
                (first * 7 - 1, 10, 6),
                (last * 7 - 3, 10, 7),
            ],
            vec![("gmail-like.example".into(), 20)],
        );
        assert_eq!(report.activity_match_rate, Some(0.75));
        assert_eq!(report.weekly[1].match_rate, None);
        assert_eq!(report.lead_match_rate, Some(0.7));
        assert_eq!(report.top_unmatched_domains[0].activities, 20);
        // The week's last observation: 6 of 10, then 7 of 10.
        assert_eq!(report.lead_weekly.len(), 2);
        assert_eq!(report.lead_weekly[0].match_rate, Some(0.6));
        assert_eq!(report.lead_weekly[1].match_rate, Some(0.7));
    }

    #[test]
    fn qualified_accounts_that_became_opportunities() {
        let period = Period::new(Date::constant(2026, 1, 1), Date::constant(2026, 3, 31)).unwrap();
        let (start, _) = period.micros();
        let day = 86_400_000_000;
        let changes = vec![
            Change {
                account_id: 1,
                at: start + 10 * day,
                stage: Stage::Qualified,
            },
            Change {
                account_id: 2,
                at: start + 20 * day,
                stage: Stage::Qualified,
            },
            Change {
                account_id: 3,
                at: start - day, // before the period
                stage: Stage::Qualified,
            },
        ];
        let opp = |account, created| Opp {
            account_id: Some(account),
            amount: 1.0,
            created_on: created,
            close_date: None,
            closed: false,
            won: false,
        };
        let opps = vec![
            opp(1, Date::constant(2026, 1, 25)), // 14 days after 2026-01-11
            opp(2, Date::constant(2026, 1, 2)),  // before it qualified
            opp(3, Date::constant(2026, 2, 1)),
        ];
        let conversion = qualified_conversion(period, &changes, &opps);
        assert_eq!(conversion.qualified, 2);
        assert_eq!(conversion.became_opportunities, 1);
        assert_eq!(conversion.share, Some(0.5));
        assert_eq!(conversion.median_days, Some(14.0));
    }
}
