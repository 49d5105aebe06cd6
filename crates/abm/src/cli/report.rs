//! `abm report NAME [--from DATE --to DATE] [--format table|csv|json]`: the account-based
//! measurement reports; `abm report weekly --html` writes the weekly summary page;
//! `abm report list` names them.

use super::Context;
use super::config::Config;
use crate::output::{self, OutputFormat};
use abm_core::report::NAMES;
use abm_engine::report_tables::tables;
use abm_engine::reports::{self, ReportSettings};
use abm_web::html::reports::{weekly_document, weekly_periods, weekly_uses_trend};
use anyhow::{Context as _, Result, bail};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct ReportArgs {
    /// coverage, engagement, buying-group, match-rate, pipeline, velocity, plays, efficiency,
    /// scoring; weekly (every report on one page, with --html); list; refresh (the rollups)
    name: String,
    /// First day of the period, YYYY-MM-DD (default: 90 days ending with --to)
    #[arg(long)]
    from: Option<String>,
    /// Last day of the period, YYYY-MM-DD (default: today, UTC)
    #[arg(long)]
    to: Option<String>,
    /// table for people; csv (the main table) or json for scripts
    #[arg(long, value_enum, default_value = "table")]
    format: OutputFormat,
    /// weekly: the summary as a self-contained HTML page (charts inline, prints to PDF)
    #[arg(long)]
    html: bool,
    /// Write the output to this file instead of standard output
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// refresh: rebuild the rollups from the whole activity log
    #[arg(long)]
    rebuild: bool,
}

pub fn run(context: &Context, args: &ReportArgs) -> Result<ExitCode> {
    if args.name == "list" {
        for (name, description) in NAMES {
            println!("{name:<13} {description}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let config = Config::load(&context.config_path)?;
    let scoring = config.scoring();
    let settings = ReportSettings {
        scoring: &scoring,
        reports: &config.reports,
    };
    let period = reports::period(args.from.as_deref(), args.to.as_deref(), reports::today())
        .map_err(|(field, detail)| anyhow::anyhow!("--{field}: {detail}"))?;
    let now = jiff::Timestamp::now().as_microsecond();
    let mut store = context.open_store()?;
    if args.name == "refresh" {
        if args.rebuild {
            abm_store::rollup::reset(store.sql())?;
        }
        let started = std::time::Instant::now();
        let refreshed = reports::refresh(store.as_mut(), &scoring, now)?;
        println!(
            "Report rollups up to date: {} activities rolled up, {} accounts rolled up again, in {:.1} s.",
            output::thousands(refreshed.new_rows as u64),
            output::thousands(refreshed.rebuilt_accounts as u64),
            started.elapsed().as_secs_f64()
        );
        return Ok(ExitCode::SUCCESS);
    }
    if args.name == "weekly" {
        if !args.html && args.format != OutputFormat::Json {
            bail!("abm report weekly: add --html for the page, or --format json");
        }
        let (week, trend) = weekly_periods(period.to);
        let mut all = Vec::new();
        for (name, _) in NAMES {
            let period = if weekly_uses_trend(name) { trend } else { week };
            all.push((
                *name,
                reports::build(store.as_mut(), settings, name, period, now)?,
            ));
        }
        let text = if args.html {
            let generated = jiff::Timestamp::now()
                .strftime("%Y-%m-%d %H:%M UTC")
                .to_string();
            weekly_document(week, trend, &all, &generated)
        } else {
            let map: serde_json::Map<String, serde_json::Value> = all
                .iter()
                .map(|(name, report)| Ok(((*name).to_owned(), serde_json::to_value(report)?)))
                .collect::<Result<_>>()?;
            serde_json::to_string_pretty(&map)?
        };
        return write_out(args, &text);
    }
    if args.html {
        bail!("--html is for abm report weekly; use --format table|csv|json for one report");
    }
    let report = reports::build(store.as_mut(), settings, &args.name, period, now)?;
    let text = match args.format {
        OutputFormat::Json => serde_json::to_string_pretty(&report)?,
        OutputFormat::Csv => {
            let tables = tables(&report);
            let Some(main) = tables.first() else {
                return Ok(ExitCode::SUCCESS);
            };
            let mut writer = csv::Writer::from_writer(Vec::new());
            writer.write_record(&main.columns)?;
            for row in &main.rows {
                writer.write_record(row)?;
            }
            String::from_utf8(writer.into_inner()?)?
        }
        OutputFormat::Table => {
            if args.out.is_some() {
                bail!("--out takes --format csv or json (a table is for the terminal)");
            }
            println!("{} report, {} to {}", args.name, period.from, period.to);
            for table in tables(&report) {
                println!("\n{}", table.title);
                if table.rows.is_empty() {
                    println!("  nothing in this period");
                    continue;
                }
                let headers: Vec<&str> = table.columns.iter().map(String::as_str).collect();
                // Numbers to the right, words to the left.
                let numeric = |index: usize| {
                    table.rows.iter().all(|row| {
                        row.get(index).is_some_and(|cell| {
                            cell.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '—')
                        })
                    })
                };
                let right: Vec<&str> = headers
                    .iter()
                    .enumerate()
                    .filter(|(index, _)| *index > 0 && numeric(*index))
                    .map(|(_, header)| *header)
                    .collect();
                output::print_table(&headers, &table.rows, &right);
            }
            println!("\nDefinitions");
            for definition in report.definitions() {
                println!("  {}: {}", definition.term, definition.meaning);
            }
            return Ok(ExitCode::SUCCESS);
        }
    };
    write_out(args, &text)
}

fn write_out(args: &ReportArgs, text: &str) -> Result<ExitCode> {
    match &args.out {
        Some(path) => {
            std::fs::write(path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            if !text.ends_with('\n') {
                stdout.write_all(b"\n")?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
