//! `abm backtest`: scores as of a past date against the opportunities created afterwards,
//! beside the naive ranking by activity count, and optionally a second config side by side.

use super::Context;
use super::config::Config;
use super::when;
use crate::output::OutputFormat;
use abm_core::score::metrics::Evaluation;
use abm_engine::backtest::{Backtest, evaluate_scoring};
use abm_engine::scoring;
use anyhow::{Result, bail};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct BacktestArgs {
    /// The date to score as of (YYYY-MM-DD: the end of that day, UTC)
    #[arg(long)]
    as_of: String,
    /// How long after the date an opportunity counts as predicted (90d, 12w)
    #[arg(long, default_value = "90d")]
    horizon: String,
    /// A second configuration to compare with the current one
    #[arg(long = "compare", value_name = "OTHER.toml")]
    compare: Option<PathBuf>,
    /// table for people, json for scripts
    #[arg(long, value_enum, default_value = "table")]
    format: OutputFormat,
}

pub fn run(context: &Context, args: &BacktestArgs) -> Result<ExitCode> {
    let horizon = when::days(&args.horizon, "--horizon")?;
    let as_of = when::as_of(Some(&args.as_of), jiff::Timestamp::now())?;
    let mut setups = vec![(
        context.config_path.display().to_string(),
        Config::load(&context.config_path)?.scoring(),
    )];
    if let Some(other) = &args.compare {
        setups.push((
            other.display().to_string(),
            Config::load_existing(other)?.scoring(),
        ));
    }
    let mut store = context.open_store()?;
    let mut results: Vec<(String, Backtest)> = Vec::new();
    for (name, config) in &setups {
        let scoring = scoring::compute(store.as_mut(), config, as_of, None, scoring::Keep::Values)?;
        let Some(backtest) = evaluate_scoring(&scoring, horizon) else {
            bail!("--as-of {}: not a date abm can score at", args.as_of);
        };
        results.push((name.clone(), backtest));
    }
    // The scoring report shows the latest backtest of the team's own configuration.
    if let Some((name, backtest)) = results.first() {
        abm_store::reports::save_backtest(
            store.sql(),
            &abm_store::reports::BacktestRun {
                run_at: jiff::Timestamp::now().as_microsecond(),
                as_of,
                horizon_days: i64::from(horizon),
                config: name.clone(),
                auc: (backtest.priority.positives > 0).then_some(backtest.priority.auc),
                body: serde_json::to_string(backtest)?,
            },
        )?;
    }
    if args.format == OutputFormat::Json {
        let value: Vec<serde_json::Value> = results
            .iter()
            .map(|(name, backtest)| serde_json::json!({"config": name, "backtest": backtest}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(ExitCode::SUCCESS);
    }
    let Some((_, first)) = results.first() else {
        return Ok(ExitCode::SUCCESS);
    };
    println!(
        "Backtest as of {} with a {}-day horizon: {} accounts, {} with a new opportunity ({} left out: an opportunity was already open).",
        first.as_of,
        first.horizon_days,
        first.priority.accounts,
        first.priority.positives,
        first.excluded_open
    );
    if first.priority.positives == 0 {
        println!(
            "No opportunity was created in the horizon: choose an earlier --as-of (the history must reach past it)."
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!();
    println!(
        "  {:<34} {:>6} {:>8} {:>8}",
        "ranking", "AUC", "lift@10%", "prec@50"
    );
    let line = |label: String, e: &Evaluation| {
        println!(
            "  {label:<34} {:>6.3} {:>8.2} {:>8.2}",
            e.auc, e.lift_at_10, e.precision_at_50
        );
    };
    for (name, backtest) in &results {
        line(format!("priority ({name})"), &backtest.priority);
        line("  fit".into(), &backtest.fit);
        line("  intent".into(), &backtest.intent);
        line("  engagement".into(), &backtest.engagement);
    }
    line(
        "activity count, last 90 days (naive)".into(),
        &first.activity_count,
    );
    for (name, backtest) in &results {
        println!("\nCalibration of priority ({name}): share with a new opportunity by band");
        for bin in backtest
            .priority
            .calibration
            .iter()
            .filter(|b| b.accounts > 0)
        {
            println!(
                "  {:>3.0}–{:<3.0} {:>7} accounts {:>6} with one  {:>6.1}%",
                bin.from,
                bin.to,
                bin.accounts,
                bin.positives,
                100.0 * bin.rate
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
