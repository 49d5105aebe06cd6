//! `abm play list` (the configured plays) and `abm play simulate NAME` (the dry run: who the
//! play would reach over the coming days, on which channel, and what the guard would stop).

use super::config::Config;
use super::{Context, when};
use crate::output::{self, OutputFormat};
use anyhow::{Result, anyhow, bail};
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum PlayCommand {
    /// The plays of abm.toml: trigger, audience, steps
    List {
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
    /// What a play would do from now, to whom, and what the guard would stop; sends nothing
    Simulate {
        name: String,
        /// How many days ahead
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=365))]
        days: u32,
        /// Simulate as of this date (YYYY-MM-DD or RFC 3339) instead of now
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
}

pub fn run(context: &Context, command: &PlayCommand) -> Result<ExitCode> {
    let config = Config::load(&context.config_path)?;
    let setup = config
        .play_setup()
        .map_err(|error| anyhow!("{}: {error}", context.config_path.display()))?;
    match command {
        PlayCommand::List { format } => {
            list(&setup, *format)?;
            Ok(ExitCode::SUCCESS)
        }
        PlayCommand::Simulate {
            name,
            days,
            as_of,
            format,
        } => {
            let Some(play) = setup.play(name) else {
                let known: Vec<&str> = setup.plays.iter().map(|play| play.name.as_str()).collect();
                bail!(
                    "no play named {name:?} in {} (plays: {})",
                    context.config_path.display(),
                    if known.is_empty() {
                        "none; `abm init` writes two examples".to_owned()
                    } else {
                        known.join(", ")
                    }
                );
            };
            let now = when::as_of(as_of.as_deref(), jiff::Timestamp::now())?;
            let mut store = context.open_store()?;
            let touches = abm_engine::plays::simulate(
                store.as_mut(),
                &setup,
                &config.personas,
                play,
                now,
                *days,
            )?;
            match format {
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&touches)?),
                OutputFormat::Csv => {
                    let mut writer = csv::Writer::from_writer(std::io::stdout());
                    writer.write_record([
                        "play", "step", "channel", "task", "account", "contact", "decision",
                        "rule", "reason", "at",
                    ])?;
                    for touch in &touches {
                        writer.write_record([
                            touch.play.as_str(),
                            &touch.step.to_string(),
                            touch.channel,
                            touch.task.unwrap_or_default(),
                            &touch.account,
                            touch.contact.as_deref().unwrap_or_default(),
                            touch.decision,
                            touch.rule.unwrap_or_default(),
                            &touch.reason,
                            &touch.at,
                        ])?;
                    }
                    writer.flush()?;
                }
                OutputFormat::Table => {
                    let rows: Vec<Vec<String>> = touches
                        .iter()
                        .map(|touch| {
                            vec![
                                touch.at.replace('T', " ").trim_end_matches('Z').to_owned(),
                                touch.step.to_string(),
                                match touch.task {
                                    Some(task) => format!("task:{task}"),
                                    None => touch.channel.to_owned(),
                                },
                                touch.account.clone(),
                                touch.contact.clone().unwrap_or_else(|| "(account)".into()),
                                touch.decision.to_owned(),
                                match (touch.rule, touch.delayed_by.is_empty()) {
                                    (Some(rule), _) => rule.to_owned(),
                                    (None, false) => {
                                        format!("after {}", touch.delayed_by.join(", "))
                                    }
                                    (None, true) => String::new(),
                                },
                            ]
                        })
                        .collect();
                    output::print_table(
                        &[
                            "at (UTC)", "step", "channel", "account", "contact", "decision", "rule",
                        ],
                        &rows,
                        &[],
                    );
                    let count = |key: &str| touches.iter().filter(|t| t.decision == key).count();
                    let accounts: std::collections::BTreeSet<&str> =
                        touches.iter().map(|t| t.account.as_str()).collect();
                    println!(
                        "\n{}: {} accounts, {} touches in {days} days: {} send, {} held, {} suppressed (nothing was sent).",
                        play.name,
                        accounts.len(),
                        touches.len(),
                        count("send"),
                        count("hold"),
                        count("suppress"),
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn list(setup: &abm_core::play::Setup, format: OutputFormat) -> Result<()> {
    match format {
        OutputFormat::Json => {
            let plays: Vec<serde_json::Value> = setup
                .plays
                .iter()
                .map(|play| {
                    let mut value = serde_json::to_value(play).unwrap_or_default();
                    if let Some(object) = value.as_object_mut() {
                        object.insert("summary".into(), play.trigger.describe().into());
                    }
                    value
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&plays)?);
        }
        _ => {
            let rows: Vec<Vec<String>> = setup
                .plays
                .iter()
                .map(|play| {
                    let tiers: Vec<&str> = play
                        .audience
                        .tiers
                        .iter()
                        .map(|tier| tier.as_str())
                        .collect();
                    let steps: Vec<String> = play
                        .steps
                        .iter()
                        .map(|step| match step.task {
                            Some(task) => format!("+{}d task:{}", step.wait_days, task.as_str()),
                            None => format!("+{}d {}", step.wait_days, step.channel.as_str()),
                        })
                        .collect();
                    vec![
                        play.name.clone(),
                        play.trigger.describe(),
                        if tiers.is_empty() {
                            "any tier".to_owned()
                        } else {
                            tiers.join(", ")
                        },
                        steps.join(", "),
                        if play.paused { "paused" } else { "on" }.to_owned(),
                    ]
                })
                .collect();
            output::print_table(&["play", "trigger", "tiers", "steps", "state"], &rows, &[]);
        }
    }
    Ok(())
}
