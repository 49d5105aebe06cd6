//! `abm status`: what the database holds and how much of it is tied to accounts.

use super::Context;
use crate::output::{self, OutputFormat};
use abm_store::{Counts, Store, UnmatchedDomain};
use anyhow::Result;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct StatusArgs {
    /// table for people, json or csv for scripts
    #[arg(long, value_enum, default_value = "table")]
    format: OutputFormat,
}

/// The figures of `abm status --format json`; key names are a stable contract.
#[derive(Debug, serde::Serialize)]
pub struct Status {
    pub accounts: u64,
    pub contacts: u64,
    pub leads: u64,
    pub matched_leads: u64,
    /// All stored activities, matched or not.
    pub activities: u64,
    /// The part of `activities` not yet tied to an account.
    pub unmatched_activities: u64,
    pub intent_signals: u64,
    pub unmatched_intent_signals: u64,
    pub opportunities: u64,
    pub unmatched_opportunities: u64,
    /// Leads tied to an account ÷ all leads; `null` when there are no leads.
    pub match_rate: Option<f64>,
    /// The domains most unmatched records point at: the accounts to add next.
    pub top_unmatched_domains: Vec<UnmatchedDomain>,
}

impl Status {
    pub fn read(store: &mut dyn Store) -> Result<Self> {
        let Counts {
            accounts,
            contacts,
            leads,
            matched_leads,
            activities,
            unmatched_activities,
            intent_signals,
            unmatched_intent_signals,
            opportunities,
            unmatched_opportunities,
        } = store.counts()?;
        Ok(Self {
            accounts,
            contacts,
            leads,
            matched_leads,
            activities,
            unmatched_activities,
            intent_signals,
            unmatched_intent_signals,
            opportunities,
            unmatched_opportunities,
            match_rate: (leads > 0).then(|| matched_leads as f64 / leads as f64),
            top_unmatched_domains: store.top_unmatched_domains(10)?,
        })
    }

    pub fn print_table(&self) {
        let with_unmatched = |total: u64, unmatched: u64| {
            if unmatched == 0 {
                output::thousands(total)
            } else {
                format!(
                    "{}  ({} unmatched)",
                    output::thousands(total),
                    output::thousands(unmatched)
                )
            }
        };
        output::print_pairs(&[
            ("accounts", output::thousands(self.accounts)),
            ("contacts", output::thousands(self.contacts)),
            (
                "leads",
                format!(
                    "{}  ({} matched to an account)",
                    output::thousands(self.leads),
                    output::thousands(self.matched_leads)
                ),
            ),
            (
                "activities",
                with_unmatched(self.activities, self.unmatched_activities),
            ),
            (
                "intent signals",
                with_unmatched(self.intent_signals, self.unmatched_intent_signals),
            ),
            (
                "opportunities",
                with_unmatched(self.opportunities, self.unmatched_opportunities),
            ),
            (
                "lead-to-account match rate",
                output::percent(self.match_rate),
            ),
        ]);
        if !self.top_unmatched_domains.is_empty() {
            println!(
                "\n  Most frequent unmatched domains (add them as accounts to match their records):"
            );
            for entry in &self.top_unmatched_domains {
                println!(
                    "    {:<32} {:>8}",
                    entry.domain,
                    output::thousands(entry.records)
                );
            }
        }
    }
}

pub fn run(context: &Context, args: &StatusArgs) -> Result<ExitCode> {
    let mut store = context.open_store()?;
    let status = Status::read(store.as_mut())?;
    match args.format {
        OutputFormat::Table => status.print_table(),
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&status)?),
        OutputFormat::Csv => {
            println!(
                "accounts,contacts,leads,matched_leads,activities,unmatched_activities,intent_signals,unmatched_intent_signals,opportunities,unmatched_opportunities,match_rate"
            );
            let values = [
                status.accounts,
                status.contacts,
                status.leads,
                status.matched_leads,
                status.activities,
                status.unmatched_activities,
                status.intent_signals,
                status.unmatched_intent_signals,
                status.opportunities,
                status.unmatched_opportunities,
            ];
            let mut line: Vec<String> = values.iter().map(u64::to_string).collect();
            line.push(
                status
                    .match_rate
                    .map_or_else(String::new, |rate| format!("{rate:.6}")),
            );
            println!("{}", output::csv_line(&line));
        }
    }
    Ok(ExitCode::SUCCESS)
}
