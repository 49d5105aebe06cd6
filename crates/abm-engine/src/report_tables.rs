//! Reports as tables of text: what the CLI prints (`--format table`, and the main table as
//! `--format csv`), and what the pages and the weekly summary lay out beside their charts.

use crate::reports::Report;
use abm_core::report::pipeline::Figures;

/// A titled table; every row has one cell per column.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Table {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    fn new(title: &str, columns: &[&str]) -> Table {
        Table {
            title: title.to_owned(),
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }
}

/// A share as a percentage, or an em dash when there is nothing to divide.
pub fn pct(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

/// A whole amount with thousands separators.
pub fn money(value: f64) -> String {
    let rounded = value.round();
    let negative = rounded < 0.0;
    let digits = format!("{:.0}", rounded.abs());
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    if negative { format!("-{out}") } else { out }
}

fn opt_money(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), money)
}

fn opt_days(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |d| format!("{d:.1}"))
}

fn figures_row(name: &str, f: &Figures) -> Vec<String> {
    vec![
        name.to_owned(),
        f.opportunities.to_string(),
        money(f.amount),
        f.won.to_string(),
        money(f.won_amount),
        pct(f.win_rate),
        opt_money(f.avg_deal_size),
        opt_days(f.median_cycle_days),
    ]
}

const FIGURE_COLUMNS: [&str; 8] = [
    "group",
    "opportunities",
    "amount",
    "won",
    "won amount",
    "win rate",
    "avg deal size",
    "median cycle days",
];

/// The report's tables, the main one first.
pub fn tables(report: &Report) -> Vec<Table> {
    match report {
        Report::Coverage(r) => {
            let mut tiers = Table::new(
                "Coverage by tier",
                &["tier", "accounts", "engaged", "share"],
            );
            for t in &r.tiers {
                tiers.row(vec![
                    t.tier.clone(),
                    t.accounts.to_string(),
                    t.engaged.to_string(),
                    pct(t.share),
                ]);
            }
            tiers.row(vec![
                "total".into(),
                r.total.accounts.to_string(),
                r.total.engaged.to_string(),
                pct(r.total.share),
            ]);
            let mut clusters = Table::new(
                "Coverage by cluster",
                &["cluster", "accounts", "engaged", "share"],
            );
            for c in &r.clusters {
                clusters.row(vec![
                    c.cluster.clone(),
                    c.accounts.to_string(),
                    c.engaged.to_string(),
                    pct(c.share),
                ]);
            }
            let mut weekly = Table::new("Engaged over time", &["week", "engaged", "share"]);
            for w in &r.weekly {
                weekly.row(vec![
                    w.week.to_string(),
                    w.engaged.to_string(),
                    pct(w.share),
                ]);
            }
            vec![tiers, clusters, weekly]
        }
        Report::Engagement(r) => {
            let mut bands = Table::new("Engagement bands (latest scores)", &["band", "accounts"]);
            for b in &r.bands {
                bands.row(vec![b.band.to_owned(), b.accounts.to_string()]);
            }
            let mut weekly = Table::new(
                "TAL engagement by week",
                &["week", "active accounts", "activities", "points"],
            );
            for w in &r.weekly {
                weekly.row(vec![
                    w.week.to_string(),
                    w.active_accounts.to_string(),
                    w.activities.to_string(),
                    format!("{:.1}", w.points),
                ]);
            }
            let mut people = Table::new("Engaged people per engaged account", &["tier", "mean"]);
            for (tier, mean) in &r.people.tiers {
                people.row(vec![
                    tier.clone(),
                    mean.map_or_else(|| "—".into(), |m| format!("{m:.2}")),
                ]);
            }
            let mut consumed = Table::new(
                "What engaged accounts consumed",
                &["kind", "item", "accounts", "activities"],
            );
            for (kind, list) in [("topic", &r.topics), ("content", &r.content)] {
                for c in list {
                    consumed.row(vec![
                        kind.into(),
                        c.item.clone(),
                        c.accounts.to_string(),
                        c.activities.to_string(),
                    ]);
                }
            }
            vec![bands, weekly, people, consumed]
        }
        Report::BuyingGroup(r) => {
            let mut tiers = Table::new(
                "Buying-group coverage by tier",
                &[
                    "tier",
                    "accounts",
                    "roles known",
                    "roles engaged",
                    "complete",
                ],
            );
            for t in r.tiers.iter().chain(std::iter::once(&r.total)) {
                tiers.row(vec![
                    t.tier.clone(),
                    t.accounts.to_string(),
                    pct(t.known_share),
                    pct(t.engaged_share),
                    t.complete.to_string(),
                ]);
            }
            let mut roles = Table::new(
                "Roles across the TAL",
                &["role", "expected", "known", "engaged"],
            );
            for role in &r.total.roles {
                roles.row(vec![
                    role.role.to_owned(),
                    if role.expected { "yes" } else { "no" }.into(),
                    pct(role.known),
                    pct(role.engaged),
                ]);
            }
            let mut missing = Table::new("Roles to map", &["account", "tier", "missing"]);
            for m in &r.most_missing {
                missing.row(vec![m.domain.clone(), m.tier.clone(), m.missing.join(", ")]);
            }
            vec![tiers, roles, missing]
        }
        Report::MatchRate(r) => {
            let mut weekly = Table::new(
                "Activities matched to an account, by week",
                &["week", "activities", "unmatched", "match rate"],
            );
            for w in &r.weekly {
                weekly.row(vec![
                    w.week.to_string(),
                    w.activities.to_string(),
                    w.unmatched.to_string(),
                    pct(w.match_rate),
                ]);
            }
            weekly.row(vec![
                "period".into(),
                r.activities.to_string(),
                r.unmatched.to_string(),
                pct(r.activity_match_rate),
            ]);
            let mut domains = Table::new("Top unmatched domains", &["domain", "activities"]);
            for d in &r.top_unmatched_domains {
                domains.row(vec![d.domain.clone(), d.activities.to_string()]);
            }
            let mut leads = Table::new(
                "Lead-to-account match rate as observed",
                &["week", "observed", "leads", "matched", "match rate"],
            );
            for w in &r.lead_weekly {
                leads.row(vec![
                    w.week.to_string(),
                    w.observed.to_string(),
                    w.leads.to_string(),
                    w.matched.to_string(),
                    pct(w.match_rate),
                ]);
            }
            leads.row(vec![
                "now".into(),
                "—".into(),
                r.leads.to_string(),
                "—".into(),
                pct(r.lead_match_rate),
            ]);
            vec![weekly, domains, leads]
        }
        Report::Pipeline(r) => {
            let mut main = Table::new("Pipeline: TAL against everything else", &FIGURE_COLUMNS);
            main.row(figures_row("TAL", &r.tal));
            main.row(figures_row("non-TAL", &r.non_tal));
            main.row(figures_row("influenced by plays", &r.influenced));
            let mut tiers = Table::new("TAL pipeline by tier", &FIGURE_COLUMNS);
            for g in &r.by_tier {
                tiers.row(figures_row(&g.name, &g.figures));
            }
            let mut clusters = Table::new("TAL pipeline by cluster", &FIGURE_COLUMNS);
            for g in &r.by_cluster {
                clusters.row(figures_row(&g.name, &g.figures));
            }
            vec![main, tiers, clusters]
        }
        Report::Velocity(r) => {
            let mut stages = Table::new(
                "Waterfall and velocity",
                &[
                    "stage",
                    "TAL reached",
                    "TAL conversion",
                    "TAL median days",
                    "non-TAL reached",
                    "non-TAL conversion",
                    "non-TAL median days",
                ],
            );
            for (tal, other) in r.tal.stages.iter().zip(&r.non_tal.stages) {
                stages.row(vec![
                    tal.stage.to_owned(),
                    tal.reached.to_string(),
                    pct(tal.conversion),
                    opt_days(tal.median_days),
                    other.reached.to_string(),
                    pct(other.conversion),
                    opt_days(other.median_days),
                ]);
            }
            let mut cycle = Table::new(
                "Sales cycle",
                &[
                    "group",
                    "opportunities",
                    "win rate",
                    "avg deal size",
                    "median cycle days",
                ],
            );
            for (name, c) in [("TAL", &r.tal_cycle), ("non-TAL", &r.non_tal_cycle)] {
                cycle.row(vec![
                    name.into(),
                    c.opportunities.to_string(),
                    pct(c.win_rate),
                    opt_money(c.avg_deal_size),
                    opt_days(c.median_cycle_days),
                ]);
            }
            vec![stages, cycle]
        }
        Report::Plays(r) => {
            let columns = [
                "play",
                "enrolled",
                "touched",
                "engaged",
                "replied",
                "meeting",
                "opportunity",
                "pipeline",
            ];
            let mut main = Table::new("Play performance", &columns);
            let stage_row = |name: &str, s: &abm_core::report::plays::Stages| {
                vec![
                    name.to_owned(),
                    s.enrolled.to_string(),
                    s.touched.to_string(),
                    s.engaged.to_string(),
                    s.replied.to_string(),
                    s.meeting.to_string(),
                    s.opportunity.to_string(),
                    money(s.pipeline),
                ]
            };
            for p in &r.plays {
                main.row(stage_row(&p.play, &p.stages));
            }
            main.row(stage_row("total", &r.total));
            let mut steps = Table::new(
                "Per step",
                &[
                    "play",
                    "step",
                    "channel",
                    "outcomes",
                    "accounts sent",
                    "engaged after",
                    "replied after",
                    "meeting after",
                    "opportunity after",
                ],
            );
            let mut guard = Table::new(
                "What the guard held or suppressed",
                &["play", "decision: rule", "touches"],
            );
            for p in &r.plays {
                for s in &p.steps {
                    let outcomes: Vec<String> = s
                        .statuses
                        .iter()
                        .map(|(status, n)| format!("{status} {n}"))
                        .collect();
                    steps.row(vec![
                        p.play.clone(),
                        s.step.to_string(),
                        s.channel.clone(),
                        outcomes.join(", "),
                        s.funnel.touched.to_string(),
                        s.funnel.engaged.to_string(),
                        s.funnel.replied.to_string(),
                        s.funnel.meeting.to_string(),
                        s.funnel.opportunity.to_string(),
                    ]);
                }
                for (rule, n) in &p.guard {
                    guard.row(vec![p.play.clone(), rule.clone(), n.to_string()]);
                }
            }
            vec![main, steps, guard]
        }
        Report::Efficiency(r) => {
            let mut main = Table::new(
                "Efficiency",
                &[
                    "play",
                    "cost",
                    "engaged accounts",
                    "cost per engaged account",
                    "pipeline",
                    "cost per pipeline dollar",
                ],
            );
            for row in r.plays.iter().chain(std::iter::once(&r.total)) {
                main.row(vec![
                    row.play.clone(),
                    money(row.cost),
                    row.engaged.to_string(),
                    opt_money(row.cost_per_engaged_account),
                    money(row.pipeline),
                    row.cost_per_pipeline_dollar
                        .map_or_else(|| "—".into(), |c| format!("{c:.4}")),
                ]);
            }
            vec![main]
        }
        Report::Scoring(r) => {
            let mut main = Table::new("The scoring's own quality", &["measure", "value"]);
            match &r.backtest {
                Some(backtest) => {
                    let field = |path: &[&str]| -> String {
                        let mut value = &backtest.result;
                        for key in path {
                            value = &value[*key];
                        }
                        match value {
                            serde_json::Value::Number(n) => n
                                .as_f64()
                                .map_or_else(|| n.to_string(), |f| format!("{f:.3}")),
                            serde_json::Value::String(s) => s.clone(),
                            _ => "—".into(),
                        }
                    };
                    main.row(vec!["backtest as of".into(), field(&["as_of"])]);
                    main.row(vec!["horizon days".into(), field(&["horizon_days"])]);
                    main.row(vec!["AUC (priority)".into(), field(&["priority", "auc"])]);
                    main.row(vec![
                        "lift at 10% (priority)".into(),
                        field(&["priority", "lift_at_10"]),
                    ]);
                    main.row(vec![
                        "AUC (naive activity count)".into(),
                        field(&["activity_count", "auc"]),
                    ]);
                }
                None => main.row(vec![
                    "backtest".into(),
                    "none yet: run abm backtest --as-of DATE".into(),
                ]),
            }
            main.row(vec![
                "accounts qualified in the period".into(),
                r.qualified.qualified.to_string(),
            ]);
            main.row(vec![
                "of them, with an opportunity since".into(),
                r.qualified.became_opportunities.to_string(),
            ]);
            main.row(vec!["share".into(), pct(r.qualified.share)]);
            main.row(vec![
                "median days qualified → opportunity".into(),
                opt_days(r.qualified.median_days),
            ]);
            let mut calibration = Table::new(
                "Calibration of priority (latest backtest)",
                &["band", "accounts", "with an opportunity", "rate"],
            );
            if let Some(bins) = r
                .backtest
                .as_ref()
                .and_then(|b| b.result["priority"]["calibration"].as_array())
            {
                for bin in bins {
                    let accounts = bin["accounts"].as_u64().unwrap_or(0);
                    if accounts == 0 {
                        continue;
                    }
                    calibration.row(vec![
                        format!(
                            "{:.0}–{:.0}",
                            bin["from"].as_f64().unwrap_or(0.0),
                            bin["to"].as_f64().unwrap_or(0.0)
                        ),
                        accounts.to_string(),
                        bin["positives"].as_u64().unwrap_or(0).to_string(),
                        pct(bin["rate"].as_f64()),
                    ]);
                }
            }
            vec![main, calibration]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_shares() {
        assert_eq!(money(1_234_567.4), "1,234,567");
        assert_eq!(money(999.0), "999");
        assert_eq!(money(-1_000.0), "-1,000");
        assert_eq!(money(0.0), "0");
        assert_eq!(pct(Some(0.4567)), "45.7%");
        assert_eq!(pct(None), "—");
    }
}
