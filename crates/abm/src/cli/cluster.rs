//! `abm cluster …`: clusters of 1:few accounts — suggested from the TAL's shared topics and
//! firmographics, or made by hand by trait or by members.

use super::config::Config;
use super::{Context, actor};
use crate::output::{self, OutputFormat};
use abm_core::cluster::{SuggestOptions, Trait};
use abm_engine::team::clusters;
use abm_store::team;
use anyhow::Result;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum ClusterCommand {
    /// Propose clusters among the TAL's accounts not in one yet (--apply creates them)
    Suggest {
        #[arg(long, default_value_t = 5)]
        min_size: usize,
        #[arg(long, default_value_t = 20)]
        max_size: usize,
        /// At most this many suggestions
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// Create the suggested clusters
        #[arg(long)]
        apply: bool,
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
    /// Create a cluster from traits (--trait industry=Software, repeatable) and/or members
    Create {
        name: String,
        #[arg(long = "trait", value_name = "KIND=VALUE")]
        traits: Vec<String>,
        /// Member domains; with traits and no members, every TAL account having the traits
        members: Vec<String>,
    },
    /// Add TAL accounts to a cluster (moving them from any other)
    Add { name: String, members: Vec<String> },
    /// Take accounts out of their cluster
    Remove { members: Vec<String> },
    /// Delete a cluster (its accounts stay on the TAL)
    Delete { name: String },
    /// Every cluster with its traits and members
    List {
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
}

pub fn run(context: &Context, command: &ClusterCommand) -> Result<ExitCode> {
    let config = Config::load(&context.config_path)?;
    let mut store = context.open_store()?;
    let now = jiff::Timestamp::now().as_microsecond();
    match command {
        ClusterCommand::Suggest {
            min_size,
            max_size,
            limit,
            apply,
            format,
        } => {
            let options = SuggestOptions {
                min_size: *min_size,
                max_size: *max_size,
            };
            let mut suggestions =
                clusters::suggest(store.as_mut(), &config.scoring(), &options, now)?;
            suggestions.truncate(*limit);
            if *format == OutputFormat::Json {
                println!("{}", serde_json::to_string_pretty(&suggestions)?);
            } else if suggestions.is_empty() {
                println!(
                    "No cluster of at least {min_size} TAL accounts shares a trait. Propose more accounts, or create clusters by hand."
                );
            } else {
                for suggestion in &suggestions {
                    let traits: Vec<String> =
                        suggestion.traits.iter().map(ToString::to_string).collect();
                    println!(
                        "{} ({} accounts; {})",
                        suggestion.name,
                        suggestion.members.len(),
                        traits.join("; ")
                    );
                    println!("    {}", suggestion.members.join(", "));
                }
            }
            if *apply {
                let actor = actor::resolve(context, &config, store.as_mut())?;
                for suggestion in &suggestions {
                    clusters::create(
                        store.as_mut(),
                        &actor,
                        &suggestion.name,
                        &suggestion.traits,
                        &suggestion.members,
                        "suggested",
                        now,
                    )?;
                }
                println!("Created {} clusters.", suggestions.len());
            }
        }
        ClusterCommand::Create {
            name,
            traits,
            members,
        } => {
            let traits = traits
                .iter()
                .map(|t| Trait::parse(t))
                .collect::<Result<Vec<_>, _>>()?;
            let actor = actor::resolve(context, &config, store.as_mut())?;
            let members = if members.is_empty() && !traits.is_empty() {
                let candidates = clusters::candidates(store.as_mut(), &config.scoring(), now)?;
                abm_core::cluster::members_of(&candidates, &traits)
            } else {
                members.clone()
            };
            clusters::create(
                store.as_mut(),
                &actor,
                name,
                &traits,
                &members,
                "manual",
                now,
            )?;
            println!(
                "Created the cluster {name:?} with {} accounts.",
                members.len()
            );
        }
        ClusterCommand::Add { name, members } => {
            let actor = actor::resolve(context, &config, store.as_mut())?;
            clusters::add(store.as_mut(), &actor, name, members, now)?;
            println!("Added {} accounts to {name:?}.", members.len());
        }
        ClusterCommand::Remove { members } => {
            let actor = actor::resolve(context, &config, store.as_mut())?;
            clusters::remove(store.as_mut(), &actor, members, now)?;
            println!("Took {} accounts out of their cluster.", members.len());
        }
        ClusterCommand::Delete { name } => {
            let actor = actor::resolve(context, &config, store.as_mut())?;
            clusters::delete(store.as_mut(), &actor, name, now)?;
            println!("Deleted the cluster {name:?}.");
        }
        ClusterCommand::List { format } => {
            let list = team::clusters(store.sql())?;
            match format {
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&list)?),
                _ => {
                    let rows: Vec<Vec<String>> = list
                        .iter()
                        .map(|c| {
                            vec![
                                c.name.clone(),
                                c.traits.clone(),
                                c.members.len().to_string(),
                                c.members.join(" "),
                            ]
                        })
                        .collect();
                    output::print_table(
                        &["cluster", "traits", "accounts", "members"],
                        &rows,
                        &["accounts"],
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
