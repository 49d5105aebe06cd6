//! Play performance and efficiency: enrolled → touched → engaged → replied → meeting →
//! opportunity per play, the touches of each step by outcome, what the guard held and
//! suppressed, and what each play cost per engaged account and per pipeline dollar.

use super::pipeline::Opp;
use super::{Cost, Definition, Period, define, ratio, round};
use jiff::civil::Date;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// An account enrolled in a play (its first enrolment in the period).
#[derive(Debug, Clone, PartialEq)]
pub struct Enrolment {
    pub play: String,
    pub account_id: i64,
    pub enrolled_at: i64,
}

/// Touches of one step with one outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct StepTouches {
    pub play: String,
    pub step: i64,
    pub channel: String,
    pub status: String,
    pub touches: i64,
}

/// The latest activity of a kind on an enrolled account since its enrolment.
#[derive(Debug, Clone, PartialEq)]
pub struct After {
    pub play: String,
    pub account_id: i64,
    pub kind: String,
    pub last_at: i64,
}

/// A touch sent: play, step, account, time (microseconds).
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    pub play: String,
    pub step: i64,
    pub account_id: i64,
    pub at: i64,
}

/// A guard decision count.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardCount {
    pub play: String,
    pub decision: String,
    pub rule: Option<String>,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Stages {
    pub enrolled: u64,
    pub touched: u64,
    pub engaged: u64,
    pub replied: u64,
    pub meeting: u64,
    pub opportunity: u64,
    pub pipeline: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepRow {
    pub step: i64,
    pub channel: String,
    /// Touches by status: planned, held, sending, sent, suppressed, skipped, dead.
    pub statuses: BTreeMap<String, i64>,
    /// The funnel from this step on: accounts sent it (`touched`), and of them those that
    /// engaged, replied, met or opened an opportunity after it was first sent to them.
    pub funnel: Stages,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlayRow {
    pub play: String,
    #[serde(flatten)]
    pub stages: Stages,
    pub steps: Vec<StepRow>,
    /// Held and suppressed decisions of the guard, by rule.
    pub guard: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaysReport {
    pub period: Period,
    pub plays: Vec<PlayRow>,
    pub total: Stages,
    pub definitions: Vec<Definition>,
}

/// Kinds that show the account engaging back (outbound touches and impressions do not).
fn engaging(kind: &str) -> bool {
    !matches!(kind, "email_sent" | "ad_impression" | "direct_mail")
}

/// The play performance report.
pub fn plays(
    period: Period,
    enrolments: &[Enrolment],
    steps: &[StepTouches],
    sent: &[Sent],
    after: &[After],
    guard: &[GuardCount],
    opportunities: &[Opp],
) -> PlaysReport {
    let mut opps_by_account: HashMap<i64, Vec<&Opp>> = HashMap::new();
    for opp in opportunities {
        if let Some(account) = opp.account_id {
            opps_by_account.entry(account).or_default().push(opp);
        }
    }
    let mut after_by: HashMap<(&str, i64), Vec<&After>> = HashMap::new();
    for a in after {
        after_by
            .entry((a.play.as_str(), a.account_id))
            .or_default()
            .push(a);
    }
    // The first send of each step to each account.
    let mut first_sent: BTreeMap<(&str, i64, i64), i64> = BTreeMap::new();
    for touch in sent {
        first_sent
            .entry((touch.play.as_str(), touch.account_id, touch.step))
            .and_modify(|at| *at = (*at).min(touch.at))
            .or_insert(touch.at);
    }
    let touched: HashSet<(&str, i64)> = first_sent
        .keys()
        .map(|(play, account, _)| (*play, *account))
        .collect();
    let mut rows: BTreeMap<String, PlayRow> = BTreeMap::new();
    let mut total = Stages::default();
    // Per (play, step): the funnel of the enrolled accounts it was sent to.
    let mut step_funnels: BTreeMap<(String, i64), Stages> = BTreeMap::new();
    for enrolment in enrolments {
        let row = rows
            .entry(enrolment.play.clone())
            .or_insert_with(|| PlayRow {
                play: enrolment.play.clone(),
                stages: Stages::default(),
                steps: Vec::new(),
                guard: BTreeMap::new(),
            });
        let later = after_by
            .get(&(enrolment.play.as_str(), enrolment.account_id))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let opps: &[&Opp] = opps_by_account
            .get(&enrolment.account_id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let add = |stages: &mut Stages, since: i64, touched: bool| {
            stages.enrolled += 1;
            stages.touched += u64::from(touched);
            let after = |kind: &dyn Fn(&str) -> bool| {
                later.iter().any(|a| kind(&a.kind) && a.last_at >= since)
            };
            stages.engaged += u64::from(after(&engaging));
            stages.replied += u64::from(after(&|k| k == "email_reply"));
            stages.meeting += u64::from(after(&|k| k == "meeting_held"));
            let since_day = super::date_of_micros(since);
            let created: Vec<&&Opp> = opps
                .iter()
                .filter(|o| since_day.is_some_and(|day| o.created_on >= day))
                .collect();
            stages.opportunity += u64::from(!created.is_empty());
            stages.pipeline += created.iter().map(|o| o.amount).sum::<f64>();
        };
        let was_touched = touched.contains(&(enrolment.play.as_str(), enrolment.account_id));
        add(&mut row.stages, enrolment.enrolled_at, was_touched);
        add(&mut total, enrolment.enrolled_at, was_touched);
        for ((play, account, step), at) in first_sent.range(
            (enrolment.play.as_str(), enrolment.account_id, i64::MIN)
                ..=(enrolment.play.as_str(), enrolment.account_id, i64::MAX),
        ) {
            debug_assert_eq!(
                (*play, *account),
                (enrolment.play.as_str(), enrolment.account_id)
            );
            add(
                step_funnels
                    .entry((enrolment.play.clone(), *step))
                    .or_default(),
                *at,
                true,
            );
        }
    }
    for step in steps {
        let Some(row) = rows.get_mut(&step.play) else {
            continue;
        };
        match row.steps.iter_mut().find(|s| s.step == step.step) {
            Some(existing) => {
                *existing.statuses.entry(step.status.clone()).or_default() += step.touches;
            }
            None => row.steps.push(StepRow {
                step: step.step,
                channel: step.channel.clone(),
                statuses: BTreeMap::from([(step.status.clone(), step.touches)]),
                funnel: step_funnels
                    .get(&(step.play.clone(), step.step))
                    .cloned()
                    .unwrap_or_default(),
            }),
        }
    }
    for count in guard.iter().filter(|g| g.decision != "send") {
        if let Some(row) = rows.get_mut(&count.play) {
            let key = format!(
                "{}: {}",
                count.decision,
                count.rule.as_deref().unwrap_or("unknown")
            );
            *row.guard.entry(key).or_default() += count.count;
        }
    }
    for row in rows.values_mut() {
        row.steps.sort_by_key(|s| s.step);
        row.stages.pipeline = round(row.stages.pipeline, 2);
        for step in &mut row.steps {
            step.funnel.pipeline = round(step.funnel.pipeline, 2);
        }
    }
    total.pipeline = round(total.pipeline, 2);
    PlaysReport {
        period,
        plays: rows.into_values().collect(),
        total,
        definitions: plays_definitions(),
    }
}

fn plays_definitions() -> Vec<Definition> {
    vec![
        define(
            "enrolled",
            "accounts a play enrolled during the period (each counted once per play)",
        ),
        define(
            "touched",
            "enrolled accounts sent at least one of the play's touches",
        ),
        define(
            "engaged",
            "enrolled accounts with an activity of their own after the enrolment (not an email sent, an ad impression or a direct mail)",
        ),
        define(
            "replied",
            "enrolled accounts with an email reply after the enrolment",
        ),
        define(
            "meeting",
            "enrolled accounts with a meeting held after the enrolment",
        ),
        define(
            "opportunity",
            "enrolled accounts with an opportunity created on or after the day of the enrolment; pipeline is their amount",
        ),
        define(
            "guard",
            "the guard's decisions on the play's touches other than sent: held (wait and retry) or suppressed (never sent), by rule",
        ),
    ]
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EfficiencyRow {
    pub play: String,
    pub cost: f64,
    pub engaged: u64,
    pub pipeline: f64,
    pub cost_per_engaged_account: Option<f64>,
    pub cost_per_pipeline_dollar: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EfficiencyReport {
    pub period: Period,
    pub plays: Vec<EfficiencyRow>,
    pub total: EfficiencyRow,
    /// Costs entered for plays that enrolled no account in the period.
    pub unused_costs: Vec<Cost>,
    pub definitions: Vec<Definition>,
}

fn efficiency_row(play: String, cost: f64, engaged: u64, pipeline: f64) -> EfficiencyRow {
    EfficiencyRow {
        play,
        cost: round(cost, 2),
        engaged,
        pipeline: round(pipeline, 2),
        cost_per_engaged_account: ratio(cost, engaged as f64).map(|r| round(r, 2)),
        cost_per_pipeline_dollar: ratio(cost, pipeline).map(|r| round(r, 4)),
    }
}

/// Efficiency from the play report and the costs entered in `[[reports.costs]]`.
pub fn efficiency(report: &PlaysReport, costs: &[Cost]) -> EfficiencyReport {
    let mut by_play: HashMap<&str, f64> = HashMap::new();
    for cost in costs {
        *by_play.entry(cost.play.as_str()).or_default() += cost.amount;
    }
    let played: HashSet<&str> = report.plays.iter().map(|p| p.play.as_str()).collect();
    let rows: Vec<EfficiencyRow> = report
        .plays
        .iter()
        .map(|play| {
            efficiency_row(
                play.play.clone(),
                by_play.get(play.play.as_str()).copied().unwrap_or(0.0),
                play.stages.engaged,
                play.stages.pipeline,
            )
        })
        .collect();
    let total_cost: f64 = rows.iter().map(|r| r.cost).sum();
    let total = efficiency_row(
        "total".into(),
        total_cost,
        report.total.engaged,
        report.total.pipeline,
    );
    EfficiencyReport {
        period: report.period,
        plays: rows,
        total,
        unused_costs: costs
            .iter()
            .filter(|c| !played.contains(c.play.as_str()))
            .cloned()
            .collect(),
        definitions: vec![
            define(
                "cost",
                "the amounts entered for the play in [[reports.costs]] (all its channels), taken as the cost of the period reported",
            ),
            define(
                "cost per engaged account",
                "cost divided by the play's engaged accounts (see the plays report)",
            ),
            define(
                "cost per pipeline dollar",
                "cost divided by the amount of the opportunities its enrolled accounts created after enrolment",
            ),
        ],
    }
}

/// The days touches were sent to each account (what the pipeline report's influence reads).
pub fn touch_days(sent: &[Sent]) -> HashMap<i64, Vec<Date>> {
    let mut days: HashMap<i64, Vec<Date>> = HashMap::new();
    for touch in sent {
        if let Some(day) = super::date_of_micros(touch.at) {
            days.entry(touch.account_id).or_default().push(day);
        }
    }
    for list in days.values_mut() {
        list.sort();
        list.dedup();
    }
    days
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn funnel_per_play_and_efficiency() {
        let period = Period::new(Date::constant(2026, 1, 1), Date::constant(2026, 3, 31)).unwrap();
        let (start, _) = period.micros();
        let day = 86_400_000_000;
        let enrol = |play: &str, account| Enrolment {
            play: play.into(),
            account_id: account,
            enrolled_at: start + 10 * day,
        };
        let enrolments = vec![enrol("surge", 1), enrol("surge", 2), enrol("qualified", 3)];
        let sent = vec![
            Sent {
                play: "surge".into(),
                step: 1,
                account_id: 1,
                at: start + 11 * day,
            },
            Sent {
                play: "surge".into(),
                step: 2,
                account_id: 1,
                at: start + 13 * day,
            },
            Sent {
                play: "qualified".into(),
                step: 1,
                account_id: 3,
                at: start + 11 * day,
            },
        ];
        let after = |account, kind: &str| After {
            play: "surge".into(),
            account_id: account,
            kind: kind.into(),
            last_at: start + 12 * day,
        };
        let after = vec![
            after(1, "page_view"),
            after(1, "email_reply"),
            after(2, "email_sent"),
        ];
        let opportunities = vec![
            Opp {
                account_id: Some(1),
                amount: 50_000.0,
                created_on: Date::constant(2026, 2, 1),
                close_date: None,
                closed: false,
                won: false,
            },
            Opp {
                account_id: Some(2),
                amount: 70_000.0,
                created_on: Date::constant(2025, 12, 1), // before the enrolment
                close_date: None,
                closed: false,
                won: false,
            },
        ];
        let steps = vec![
            StepTouches {
                play: "surge".into(),
                step: 1,
                channel: "email".into(),
                status: "sent".into(),
                touches: 1,
            },
            StepTouches {
                play: "surge".into(),
                step: 1,
                channel: "email".into(),
                status: "suppressed".into(),
                touches: 1,
            },
        ];
        let guard = vec![GuardCount {
            play: "surge".into(),
            decision: "suppress".into(),
            rule: Some("opted_out".into()),
            count: 1,
        }];
        let report = plays(
            period,
            &enrolments,
            &steps,
            &sent,
            &after,
            &guard,
            &opportunities,
        );
        let surge = report.plays.iter().find(|p| p.play == "surge").unwrap();
        assert_eq!(surge.stages.enrolled, 2);
        assert_eq!(surge.stages.touched, 1);
        assert_eq!(surge.stages.engaged, 1, "an email sent is not engagement");
        assert_eq!(surge.stages.replied, 1);
        assert_eq!(surge.stages.opportunity, 1);
        assert_eq!(surge.stages.pipeline, 50_000.0);
        assert_eq!(surge.steps[0].statuses["sent"], 1);
        // Step 1 went out on day 11, before the reply of day 12.
        assert_eq!(surge.steps[0].funnel.touched, 1);
        assert_eq!(surge.steps[0].funnel.replied, 1);
        assert_eq!(surge.guard["suppress: opted_out"], 1);
        assert_eq!(report.total.enrolled, 3);

        let costs = vec![
            Cost {
                play: "surge".into(),
                channel: Some("email".into()),
                amount: 1_000.0,
                note: None,
            },
            Cost {
                play: "surge".into(),
                channel: Some("ads".into()),
                amount: 1_500.0,
                note: None,
            },
            Cost {
                play: "retired".into(),
                channel: None,
                amount: 99.0,
                note: None,
            },
        ];
        let efficiency = efficiency(&report, &costs);
        let row = efficiency.plays.iter().find(|p| p.play == "surge").unwrap();
        assert_eq!(row.cost, 2_500.0);
        assert_eq!(row.cost_per_engaged_account, Some(2_500.0));
        assert_eq!(row.cost_per_pipeline_dollar, Some(0.05));
        let qualified = efficiency
            .plays
            .iter()
            .find(|p| p.play == "qualified")
            .unwrap();
        assert_eq!(qualified.cost_per_engaged_account, None);
        assert_eq!(efficiency.unused_costs.len(), 1);
    }
}
