//! `abm tune`: learns a priority from the history known at a date, shows how it and the
//! current setup do at the latest complete horizon, and writes a complete config for review.
//! It never overwrites a file: the team decides, with `--config FILE` and a diff, whether
//! the tuned setup replaces theirs.

use super::Context;
use super::config::Config;
use super::when;
use abm_core::score::metrics::Evaluation;
use abm_engine::tune::{TuneOptions, tune};
use anyhow::{Result, bail};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct TuneArgs {
    /// Learn from what was known at this date (YYYY-MM-DD) [default: now]
    #[arg(long)]
    as_of: Option<String>,
    /// How long after a cut date an opportunity counts (90d, 12w)
    #[arg(long, default_value = "90d")]
    horizon: String,
    /// Training cut dates, a month apart
    #[arg(long, default_value_t = 6)]
    cuts: u32,
    /// Where to write the tuned config (must not exist)
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

pub fn run(context: &Context, args: &TuneArgs) -> Result<ExitCode> {
    let horizon = when::days(&args.horizon, "--horizon")?;
    if args.cuts == 0 || args.cuts > 36 {
        bail!("--cuts {}: expected 1 to 36", args.cuts);
    }
    if args.out.exists() {
        bail!(
            "{} exists: tune never overwrites a file; choose another name or remove it",
            args.out.display()
        );
    }
    let as_of = when::as_of(args.as_of.as_deref(), jiff::Timestamp::now())?;
    let config = Config::load(&context.config_path)?;
    let mut store = context.open_store()?;
    let tuned = tune(
        store.as_mut(),
        &config.scoring(),
        TuneOptions {
            as_of,
            horizon_days: horizon,
            cuts: args.cuts,
            step_days: 30,
        },
    )?;
    println!(
        "Learned from {} examples ({} with a new opportunity within {horizon} days) at {} cut dates: {}.",
        tuned.examples,
        tuned.positives,
        tuned.training_cuts.len(),
        tuned.training_cuts.join(", ")
    );
    println!(
        "Validated as of {} (the latest cut whose {horizon}-day horizon is complete):\n",
        tuned.validation_cut
    );
    println!(
        "  {:<38} {:>6} {:>9} {:>8}",
        "setup", "AUC", "lift@10%", "prec@50"
    );
    let line = |label: &str, e: &Evaluation| {
        println!(
            "  {label:<38} {:>6.3} {:>9.2} {:>8.2}",
            e.auc, e.lift_at_10, e.precision_at_50
        );
    };
    line(
        &format!("current ({})", context.config_path.display()),
        &tuned.current,
    );
    line(&format!("tuned ({})", args.out.display()), &tuned.tuned);
    line("activity count, last 90 days (naive)", &tuned.naive);
    if tuned.tuned.auc + 0.005 < tuned.current.auc {
        println!(
            "\nThe tuned setup ranks worse than the current one at validation: keep the current setup."
        );
    }
    if let Some(model) = &tuned.config.priority.model {
        println!(
            "\nLearned weights (per standard deviation of each feature; regularisation alpha {}),\nwith each feature's own AUC in training and at validation:",
            tuned.alpha
        );
        let mut weights: Vec<_> = model.features.iter().collect();
        weights.sort_by(|a, b| b.1.weight.abs().total_cmp(&a.1.weight.abs()));
        for (name, weight) in weights {
            let (train, valid) = tuned
                .feature_auc
                .iter()
                .find(|(feature, _, _)| feature == name)
                .map_or((0.5, 0.5), |(_, train, valid)| (*train, *valid));
            println!(
                "  {name:<18} {:+.3}   AUC {train:.3} / {valid:.3}",
                weight.weight
            );
        }
    }
    if let Some(lookalike) = &tuned.config.fit.lookalike {
        println!(
            "\nLook-alike fit learned from {} customers; the attribute values that weigh most:",
            tuned.lookalike_customers
        );
        let mut weights: Vec<_> = lookalike.weights.iter().collect();
        weights.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
        for (key, weight) in weights.into_iter().take(8) {
            println!("  {key:<40} {weight:+.3}");
        }
    }
    let text = config.with_scoring(tuned.config).to_toml()?;
    let header = format!(
        "# Written by `abm tune --as-of {} --horizon {horizon}d`: the current settings with a\n# learned [priority.model]. Validation as of {}: AUC {:.3} (current {:.3}), lift@10% {:.2}\n# (current {:.2}). Try it with `abm backtest --config FILE`; adopt it by replacing abm.toml.\n\n",
        when::show(as_of),
        tuned.validation_cut,
        tuned.tuned.auc,
        tuned.current.auc,
        tuned.tuned.lift_at_10,
        tuned.current.lift_at_10,
    );
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&args.out)
        .map_err(|error| anyhow::anyhow!("cannot create {}: {error}", args.out.display()))?;
    file.write_all(header.as_bytes())?;
    file.write_all(text.as_bytes())?;
    println!("\nWrote {} (nothing else changed).", args.out.display());
    Ok(ExitCode::SUCCESS)
}
