//! Account-based measurement: the reports marketing leaders and sales review, computed from
//! rows the store reads (its weekly rollups, opportunities, stage changes, plays). Pure: the
//! period and every input come in as arguments.
//!
//! Each report states its definitions (what counts as engaged, as pipeline, as influenced)
//! beside its figures, with the values of `[reports]` it used, so a number is never read
//! without its meaning.

pub mod funnel;
pub mod pipeline;
pub mod plays;
pub mod quality;
pub mod reach;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// The reports abm knows, in the order the weekly summary shows them.
pub const NAMES: &[(&str, &str)] = &[
    (
        "coverage",
        "Share of the TAL engaged, by tier and cluster, over time",
    ),
    (
        "engagement",
        "Accounts by engagement band and trend; engaged people; content and topics",
    ),
    (
        "buying-group",
        "Buying roles known and engaged per account, by tier",
    ),
    (
        "match-rate",
        "Activities matched to an account, by week; the unmatched domains",
    ),
    (
        "pipeline",
        "Opportunities, pipeline and revenue won: TAL against everything else",
    ),
    (
        "velocity",
        "Stage-to-stage conversion, days per stage, the waterfall, cycle length",
    ),
    (
        "plays",
        "Enrolled → touched → engaged → replied → meeting → opportunity, per play and step",
    ),
    (
        "efficiency",
        "Cost per engaged account and per pipeline dollar, per play",
    ),
    (
        "scoring",
        "The latest backtest, and qualified accounts that became opportunities",
    ),
];

/// The report a name asks for: one of [`NAMES`], or `waterfall` (the velocity report, which
/// holds the waterfall).
pub fn canonical(name: &str) -> Option<&'static str> {
    match name {
        "waterfall" => Some("velocity"),
        _ => NAMES
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(known, _)| *known),
    }
}

/// `[reports]`: the definitions reports use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportsConfig {
    /// An account is engaged in a window when its engagement points there (the activities
    /// weighted by `[engagement.weights]`, without decay) reach this.
    pub engaged_points: f64,
    /// Weeks in each point of an "over time" series (a trailing window).
    pub window_weeks: u32,
    /// A play influenced an opportunity when the account had a touch sent this many days
    /// or fewer before the opportunity was created.
    pub influence_days: u32,
    /// Engagement score bands: high from `high`, medium from `medium`, low above 0.
    pub bands: Bands,
    /// Costs entered per play (and optionally channel) for the efficiency report.
    pub costs: Vec<Cost>,
}

impl Default for ReportsConfig {
    fn default() -> Self {
        ReportsConfig {
            engaged_points: 10.0,
            window_weeks: 4,
            influence_days: 90,
            bands: Bands::default(),
            costs: Vec::new(),
        }
    }
}

impl ReportsConfig {
    /// Checks the values; the error names the key.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.engaged_points.is_finite() && self.engaged_points > 0.0) {
            return Err(format!(
                "reports.engaged_points: {} is not a positive number",
                self.engaged_points
            ));
        }
        if !(1..=52).contains(&self.window_weeks) {
            return Err(format!(
                "reports.window_weeks: {} is not between 1 and 52",
                self.window_weeks
            ));
        }
        if self.influence_days > 730 {
            return Err(format!(
                "reports.influence_days: {} is more than 730",
                self.influence_days
            ));
        }
        let Bands { high, medium } = self.bands;
        if !(0.0 < medium && medium < high && high <= 100.0) {
            return Err(format!(
                "reports.bands: medium {medium} and high {high} must satisfy 0 < medium < high <= 100"
            ));
        }
        for (index, cost) in self.costs.iter().enumerate() {
            if !(cost.amount.is_finite() && cost.amount >= 0.0) {
                return Err(format!(
                    "reports.costs[{index}].amount: {} is not a non-negative number",
                    cost.amount
                ));
            }
            if cost.play.trim().is_empty() {
                return Err(format!("reports.costs[{index}].play: is empty"));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bands {
    pub high: f64,
    pub medium: f64,
}

impl Default for Bands {
    fn default() -> Self {
        Bands {
            high: 70.0,
            medium: 40.0,
        }
    }
}

/// What a play (optionally one of its channels) cost over the periods reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cost {
    pub play: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    pub amount: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The days a report covers, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub from: Date,
    pub to: Date,
}

const MICROS_PER_DAY: i64 = 86_400_000_000;

impl Period {
    pub fn new(from: Date, to: Date) -> Result<Period, String> {
        if from > to {
            return Err(format!("--from {from} is after --to {to}"));
        }
        Ok(Period { from, to })
    }

    pub fn contains(&self, day: Date) -> bool {
        self.from <= day && day <= self.to
    }

    /// `[start, end)` in microseconds since the epoch, UTC.
    pub fn micros(&self) -> (i64, i64) {
        (
            epoch_day(self.from) * MICROS_PER_DAY,
            (epoch_day(self.to) + 1) * MICROS_PER_DAY,
        )
    }

    /// The rollup weeks the period touches (a week counts when one of its days is in it).
    pub fn weeks(&self) -> (i64, i64) {
        (
            week_of_day(epoch_day(self.from)),
            week_of_day(epoch_day(self.to)),
        )
    }
}

/// Days since 1970-01-01.
pub fn epoch_day(date: Date) -> i64 {
    let epoch = Date::constant(1970, 1, 1);
    i64::from((date - epoch).get_days())
}

/// The date of an epoch day, if it is one jiff can represent.
pub fn date_of_day(day: i64) -> Option<Date> {
    let epoch = Date::constant(1970, 1, 1);
    let days = i32::try_from(day).ok()?;
    epoch.checked_add(jiff::Span::new().days(days)).ok()
}

/// The date of a time in microseconds, UTC.
pub fn date_of_micros(micros: i64) -> Option<Date> {
    date_of_day(micros.div_euclid(MICROS_PER_DAY))
}

/// Weeks start on Monday; week 0 starts on 1969-12-29 (the rollups' numbering).
pub fn week_of_day(day: i64) -> i64 {
    (day + 3).div_euclid(7)
}

/// The Monday a week starts on.
pub fn week_start(week: i64) -> Option<Date> {
    date_of_day(week * 7 - 3)
}

/// A term and what it means in the report that uses it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Definition {
    pub term: &'static str,
    pub meaning: String,
}

pub(crate) fn define(term: &'static str, meaning: impl Into<String>) -> Definition {
    Definition {
        term,
        meaning: meaning.into(),
    }
}

/// `part / whole`, or `None` when there is no whole.
pub fn ratio(part: f64, whole: f64) -> Option<f64> {
    (whole > 0.0).then(|| part / whole)
}

/// The median of some values (the mean of the middle two for an even count).
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[middle - 1] + values[middle]) / 2.0
    } else {
        values[middle]
    })
}

/// Rounds for display and JSON: reports carry figures, not float noise.
pub fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn weeks_start_on_monday() {
        let monday = Date::constant(2026, 11, 30);
        let sunday = Date::constant(2026, 12, 6);
        let week = week_of_day(epoch_day(monday));
        assert_eq!(week, week_of_day(epoch_day(sunday)));
        assert_eq!(week + 1, week_of_day(epoch_day(sunday) + 1));
        assert_eq!(week_start(week), Some(monday));
        assert_eq!(week_of_day(0), 0, "1970-01-01 is a Thursday of week 0");
    }

    #[test]
    fn a_period_is_inclusive_and_ordered() {
        let period = Period::new(Date::constant(2026, 1, 1), Date::constant(2026, 1, 31)).unwrap();
        assert!(period.contains(Date::constant(2026, 1, 31)));
        assert!(!period.contains(Date::constant(2026, 2, 1)));
        let (start, end) = period.micros();
        assert_eq!(end - start, 31 * MICROS_PER_DAY);
        assert!(Period::new(Date::constant(2026, 2, 1), Date::constant(2026, 1, 1)).is_err());
    }

    #[test]
    fn waterfall_is_the_velocity_report() {
        assert_eq!(canonical("waterfall"), Some("velocity"));
        assert_eq!(canonical("pipeline"), Some("pipeline"));
        assert_eq!(canonical("nope"), None);
    }

    #[test]
    fn medians() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }

    #[test]
    fn config_errors_name_the_key() {
        let config = ReportsConfig {
            engaged_points: 0.0,
            ..ReportsConfig::default()
        };
        assert!(
            config
                .validate()
                .unwrap_err()
                .contains("reports.engaged_points")
        );
        let config = ReportsConfig {
            bands: Bands {
                high: 30.0,
                medium: 40.0,
            },
            ..ReportsConfig::default()
        };
        assert!(config.validate().unwrap_err().contains("reports.bands"));
        assert!(ReportsConfig::default().validate().is_ok());
    }
}
