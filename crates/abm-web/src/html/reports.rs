//! The reports pages: the list with a period picker, one report with its charts (SVG drawn
//! on the server, no external asset), tables and definitions, and the weekly summary as one
//! self-contained document that prints (the CLI's `abm report weekly --html` writes the same).

use crate::AppState;
use crate::chart::{BarChart, BarSeries, LineChart, Series};
use crate::reports_api::{self, PeriodQuery};
use abm_core::report::{NAMES, Period, epoch_day};
use abm_engine::report_tables::{Table, tables};
use abm_engine::reports::Report;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use jiff::civil::Date;

use super::{SignedIn, escape, page};

const DAY: i64 = 86_400_000_000;

fn at(date: Date) -> i64 {
    epoch_day(date) * DAY
}

fn share(value: Option<f64>) -> f64 {
    value.map_or(f64::NAN, |v| v * 100.0)
}

/// The charts of a report, as SVG documents.
pub fn charts(report: &Report) -> Vec<String> {
    match report {
        Report::Coverage(r) => {
            let mut series = vec![Series {
                name: "all tiers".into(),
                points: r
                    .weekly
                    .iter()
                    .map(|w| (at(w.week), share(w.share)))
                    .collect(),
            }];
            for tier in r.tiers.iter().map(|t| &t.tier) {
                series.push(Series {
                    name: tier.clone(),
                    points: r
                        .weekly
                        .iter()
                        .map(|w| (at(w.week), share(w.tiers.get(tier).copied().flatten())))
                        .collect(),
                });
            }
            vec![
                LineChart {
                    title: "Share of the TAL engaged, by week".into(),
                    y_label: Some("% engaged".into()),
                    y_range: Some((0.0, 100.0)),
                    series,
                }
                .svg(720, 260),
                BarChart {
                    title: "Accounts and engaged accounts by tier".into(),
                    categories: r.tiers.iter().map(|t| t.tier.clone()).collect(),
                    series: vec![
                        BarSeries {
                            name: "accounts".into(),
                            values: r.tiers.iter().map(|t| t.accounts as f64).collect(),
                        },
                        BarSeries {
                            name: "engaged".into(),
                            values: r.tiers.iter().map(|t| t.engaged as f64).collect(),
                        },
                    ],
                    stacked: false,
                    horizontal: false,
                }
                .svg(720, 240),
            ]
        }
        Report::Engagement(r) => vec![
            BarChart {
                title: "TAL accounts by engagement band".into(),
                categories: r.bands.iter().map(|b| b.band.to_owned()).collect(),
                series: vec![BarSeries {
                    name: "accounts".into(),
                    values: r.bands.iter().map(|b| b.accounts as f64).collect(),
                }],
                stacked: false,
                horizontal: false,
            }
            .svg(720, 220),
            LineChart {
                title: "TAL accounts active, by week".into(),
                y_label: Some("accounts".into()),
                y_range: None,
                series: vec![Series {
                    name: "active accounts".into(),
                    points: r
                        .weekly
                        .iter()
                        .map(|w| (at(w.week), w.active_accounts as f64))
                        .collect(),
                }],
            }
            .svg(720, 240),
        ],
        Report::BuyingGroup(r) => vec![
            BarChart {
                title: "Expected buying roles known and engaged, by tier (%)".into(),
                categories: r.tiers.iter().map(|t| t.tier.clone()).collect(),
                series: vec![
                    BarSeries {
                        name: "known".into(),
                        values: r.tiers.iter().map(|t| share(t.known_share)).collect(),
                    },
                    BarSeries {
                        name: "engaged".into(),
                        values: r.tiers.iter().map(|t| share(t.engaged_share)).collect(),
                    },
                ],
                stacked: false,
                horizontal: false,
            }
            .svg(720, 240),
        ],
        Report::MatchRate(r) => vec![
            LineChart {
                title: "Activities matched to an account, by week".into(),
                y_label: Some("% matched".into()),
                y_range: Some((0.0, 100.0)),
                series: vec![Series {
                    name: "match rate".into(),
                    points: r
                        .weekly
                        .iter()
                        .map(|w| (at(w.week), share(w.match_rate)))
                        .collect(),
                }],
            }
            .svg(720, 240),
            BarChart {
                title: "Top unmatched domains (activities)".into(),
                categories: r
                    .top_unmatched_domains
                    .iter()
                    .take(10)
                    .map(|d| d.domain.clone())
                    .collect(),
                series: vec![BarSeries {
                    name: "activities".into(),
                    values: r
                        .top_unmatched_domains
                        .iter()
                        .take(10)
                        .map(|d| d.activities as f64)
                        .collect(),
                }],
                stacked: false,
                horizontal: true,
            }
            .svg(720, 300),
        ],
        Report::Pipeline(r) => vec![
            BarChart {
                title: "Pipeline and revenue won: TAL against everything else".into(),
                categories: vec![
                    "pipeline".into(),
                    "won".into(),
                    "influenced by plays".into(),
                ],
                series: vec![
                    BarSeries {
                        name: "TAL".into(),
                        values: vec![r.tal.amount, r.tal.won_amount, f64::NAN],
                    },
                    BarSeries {
                        name: "non-TAL".into(),
                        values: vec![r.non_tal.amount, r.non_tal.won_amount, f64::NAN],
                    },
                    BarSeries {
                        name: "influenced".into(),
                        values: vec![f64::NAN, f64::NAN, r.influenced.amount],
                    },
                ],
                stacked: false,
                horizontal: false,
            }
            .svg(720, 260),
            BarChart {
                title: "Pipeline created by week".into(),
                categories: r.weekly.iter().map(|w| w.week.to_string()).collect(),
                series: vec![
                    BarSeries {
                        name: "TAL".into(),
                        values: r.weekly.iter().map(|w| w.tal).collect(),
                    },
                    BarSeries {
                        name: "non-TAL".into(),
                        values: r.weekly.iter().map(|w| w.non_tal).collect(),
                    },
                ],
                stacked: true,
                horizontal: false,
            }
            .svg(720, 260),
        ],
        Report::Velocity(r) => vec![
            BarChart {
                title: "Waterfall: accounts that reached each stage".into(),
                categories: r.tal.stages.iter().map(|s| s.stage.to_owned()).collect(),
                series: vec![
                    BarSeries {
                        name: "TAL".into(),
                        values: r.tal.stages.iter().map(|s| s.reached as f64).collect(),
                    },
                    BarSeries {
                        name: "non-TAL".into(),
                        values: r.non_tal.stages.iter().map(|s| s.reached as f64).collect(),
                    },
                ],
                stacked: false,
                horizontal: true,
            }
            .svg(720, 300),
        ],
        Report::Plays(r) => {
            let stages = [
                "enrolled",
                "touched",
                "engaged",
                "replied",
                "meeting",
                "opportunity",
            ];
            let values = |s: &abm_core::report::plays::Stages| {
                vec![
                    s.enrolled as f64,
                    s.touched as f64,
                    s.engaged as f64,
                    s.replied as f64,
                    s.meeting as f64,
                    s.opportunity as f64,
                ]
            };
            vec![
                BarChart {
                    title: "Plays: enrolled to opportunity (accounts)".into(),
                    categories: stages.iter().map(|s| (*s).to_owned()).collect(),
                    series: r
                        .plays
                        .iter()
                        .map(|p| BarSeries {
                            name: p.play.clone(),
                            values: values(&p.stages),
                        })
                        .collect(),
                    stacked: false,
                    horizontal: true,
                }
                .svg(720, 320),
            ]
        }
        Report::Efficiency(r) => vec![
            BarChart {
                title: "Cost per engaged account, by play".into(),
                categories: r.plays.iter().map(|p| p.play.clone()).collect(),
                series: vec![BarSeries {
                    name: "cost per engaged account".into(),
                    values: r
                        .plays
                        .iter()
                        .map(|p| p.cost_per_engaged_account.unwrap_or(f64::NAN))
                        .collect(),
                }],
                stacked: false,
                horizontal: true,
            }
            .svg(720, 240),
        ],
        Report::Scoring(r) => {
            let bins: Vec<(String, f64)> = r
                .backtest
                .as_ref()
                .and_then(|b| b.result["priority"]["calibration"].as_array())
                .map(|bins| {
                    bins.iter()
                        .filter(|bin| bin["accounts"].as_u64().unwrap_or(0) > 0)
                        .map(|bin| {
                            (
                                format!(
                                    "{:.0}–{:.0}",
                                    bin["from"].as_f64().unwrap_or(0.0),
                                    bin["to"].as_f64().unwrap_or(0.0)
                                ),
                                bin["rate"].as_f64().unwrap_or(f64::NAN) * 100.0,
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            if bins.is_empty() {
                return Vec::new();
            }
            vec![
                BarChart {
                    title: "Calibration: % with a new opportunity, by priority band".into(),
                    categories: bins.iter().map(|(band, _)| band.clone()).collect(),
                    series: vec![BarSeries {
                        name: "% converted".into(),
                        values: bins.iter().map(|(_, rate)| *rate).collect(),
                    }],
                    stacked: false,
                    horizontal: false,
                }
                .svg(720, 240),
            ]
        }
    }
}

fn table_html(table: &Table) -> String {
    let head: String = table
        .columns
        .iter()
        .map(|c| format!("<th>{}</th>", escape(c)))
        .collect();
    let rows: String = table
        .rows
        .iter()
        .map(|row| {
            let cells: String = row
                .iter()
                .enumerate()
                .map(|(index, cell)| {
                    if index == 0 {
                        format!("<td>{}</td>", escape(cell))
                    } else {
                        format!("<td class=n>{}</td>", escape(cell))
                    }
                })
                .collect();
            format!("<tr>{cells}</tr>")
        })
        .collect();
    let body = if table.rows.is_empty() {
        "<p class=empty>Nothing in this period.</p>".to_owned()
    } else {
        format!("<table><tr>{head}</tr>{rows}</table>")
    };
    format!("<h3>{}</h3>{body}", escape(&table.title))
}

/// A report's charts, tables and definitions, as an HTML fragment.
pub fn report_html(report: &Report) -> String {
    let mut out = String::new();
    for svg in charts(report) {
        out.push_str(&format!("<figure>{svg}</figure>"));
    }
    for table in tables(report) {
        out.push_str(&table_html(&table));
    }
    let definitions: String = report
        .definitions()
        .iter()
        .map(|d| format!("<dt>{}</dt><dd>{}</dd>", escape(d.term), escape(&d.meaning)))
        .collect();
    out.push_str(&format!(
        "<details open><summary>Definitions</summary><dl>{definitions}</dl></details>"
    ));
    out
}

fn title_of(name: &str) -> String {
    let mut title = name.replace('-', " ");
    if let Some(first) = title.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    title
}

fn period_form(action: &str, period: Period) -> String {
    format!(
        r#"<form method="get" action="{action}" class="period">From <input type="date" name="from" value="{}"> to <input type="date" name="to" value="{}"> <button>Show</button></form>"#,
        period.from, period.to
    )
}

pub(super) async fn reports_page(
    SignedIn(caller): SignedIn,
    Query(query): Query<PeriodQuery>,
) -> Response {
    let period = match query.period() {
        Ok(period) => period,
        Err(problem) => return problem.into_response(),
    };
    let links: String = NAMES
        .iter()
        .map(|(name, description)| {
            format!(
                r#"<li><a href="/reports/{name}?from={}&amp;to={}">{}</a> — {}</li>"#,
                period.from,
                period.to,
                escape(&title_of(name)),
                escape(description)
            )
        })
        .collect();
    let body = format!(
        r#"<h1>Reports</h1>{}<ul class=reports>{links}</ul><p><a href="/reports/weekly?to={}">The weekly summary</a>: every report on one page to print or send, for sales and marketing to review together (also <code>abm report weekly --html</code>).</p>"#,
        period_form("/reports", period),
        period.to
    );
    page("Reports", Some(&caller), &body).into_response()
}

pub(super) async fn report_page(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(name): Path<String>,
    Query(query): Query<PeriodQuery>,
) -> Response {
    if name == "weekly" {
        return weekly_page(State(state), SignedIn(caller), Query(query)).await;
    }
    let period = match query.period() {
        Ok(period) => period,
        Err(problem) => return problem.into_response(),
    };
    let report = match reports_api::load(&state, name.clone(), period).await {
        Ok(report) => report,
        Err(problem) => return problem.into_response(),
    };
    let body = format!(
        r#"<p><a href="/reports">Reports</a></p><h1>{} <small>{} to {}</small></h1>{}{}<p><a href="/api/v1/reports/{}?from={}&amp;to={}">JSON</a></p>"#,
        escape(&title_of(&name)),
        period.from,
        period.to,
        period_form(&format!("/reports/{}", escape(&name)), period),
        report_html(&report),
        escape(&name),
        period.from,
        period.to
    );
    page(&title_of(&name), Some(&caller), &body).into_response()
}

/// The weekly summary's period: the seven days ending with `to`; trends look back twelve
/// weeks.
pub fn weekly_periods(to: Date) -> (Period, Period) {
    let week_from = to.checked_sub(jiff::Span::new().days(6)).unwrap_or(to);
    let trend_from = to.checked_sub(jiff::Span::new().days(83)).unwrap_or(to);
    (
        Period {
            from: week_from,
            to,
        },
        Period {
            from: trend_from,
            to,
        },
    )
}

/// Which reports the weekly summary draws over the twelve-week trend rather than the week.
pub fn weekly_uses_trend(name: &str) -> bool {
    matches!(name, "coverage" | "engagement" | "match-rate" | "pipeline")
}

/// The weekly summary as a complete, self-contained HTML document.
pub fn weekly_document(
    week: Period,
    trend: Period,
    reports: &[(&str, Report)],
    generated: &str,
) -> String {
    let sections: String = reports
        .iter()
        .map(|(name, report)| {
            let period = if weekly_uses_trend(name) { trend } else { week };
            format!(
                r#"<section><h2>{} <small>{} to {}</small></h2>{}</section>"#,
                escape(&title_of(name)),
                period.from,
                period.to,
                report_html(report)
            )
        })
        .collect();
    format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>abm weekly summary, {from} to {to}</title>
<style>body{{font:13px system-ui,sans-serif;margin:1.5em auto;max-width:60em;color:#222}}h1{{margin-bottom:.2em}}h2{{border-top:2px solid #1d3557;padding-top:.6em;margin-top:1.6em}}small{{color:#666;font-weight:normal;font-size:.7em}}table{{border-collapse:collapse;margin:.4em 0 1em}}td,th{{padding:.25em .6em;border-bottom:1px solid #ddd;text-align:left}}td.n{{text-align:right;font-variant-numeric:tabular-nums}}figure{{margin:.5em 0}}dt{{font-weight:600}}dd{{margin:0 0 .4em 1em;color:#444}}.empty{{color:#666}}@media print{{section{{break-inside:avoid-page}}details{{display:block}}}}</style></head>
<body><h1>Weekly summary</h1><p>The week {from} to {to}; trends over the twelve weeks from {trend_from}. Generated {generated} by abm from its own store. Every figure follows the definitions under it.</p>{sections}</body></html>"#,
        from = week.from,
        to = week.to,
        trend_from = trend.from,
        generated = escape(generated),
    )
}

pub(super) async fn weekly_page(
    State(state): State<AppState>,
    SignedIn(_caller): SignedIn,
    Query(query): Query<PeriodQuery>,
) -> Response {
    let to = match query.period() {
        Ok(period) => period.to,
        Err(problem) => return problem.into_response(),
    };
    let (week, trend) = weekly_periods(to);
    let mut reports = Vec::new();
    for (name, _) in NAMES {
        let period = if weekly_uses_trend(name) { trend } else { week };
        match reports_api::load(&state, (*name).to_owned(), period).await {
            Ok(report) => reports.push((*name, report)),
            Err(problem) => return problem.into_response(),
        }
    }
    let generated = jiff::Timestamp::now()
        .strftime("%Y-%m-%d %H:%M UTC")
        .to_string();
    Html(weekly_document(week, trend, &reports, &generated)).into_response()
}
