//! `abm import KIND FILE…`: the import pipeline with a progress bar on a terminal and a
//! summary at the end; problems go to standard error and the exit code is non-zero.

use super::Context;
use super::config::Config;
use crate::output;
use abm_ingest::{
    ColumnOverride, Format, ImportError, ImportKind, ImportOptions, ImportReport, MAX_LISTED,
    Progress, Source,
};
use anyhow::{Result, anyhow};
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    Accounts,
    Contacts,
    Leads,
    Opportunities,
    Activities,
    Intent,
}

impl From<KindArg> for ImportKind {
    fn from(kind: KindArg) -> Self {
        match kind {
            KindArg::Accounts => ImportKind::Accounts,
            KindArg::Contacts => ImportKind::Contacts,
            KindArg::Leads => ImportKind::Leads,
            KindArg::Opportunities => ImportKind::Opportunities,
            KindArg::Activities => ImportKind::Activities,
            KindArg::Intent => ImportKind::Intent,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Auto,
    Salesforce,
    Hubspot,
    Bombora,
    Generic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
}

#[derive(clap::Args)]
pub struct ImportArgs {
    /// What the files hold
    #[arg(value_enum)]
    kind: KindArg,
    /// CSV files (UTF-8, with a header line); all are imported in one transaction
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Which tool exported the files; auto detects it from the headers
    #[arg(long, value_enum, default_value = "auto")]
    format: FormatArg,
    /// Map a column to a field: --map "Tech Stack=technologies" (FIELD may be `ignore`)
    #[arg(long = "map", value_name = "SOURCE=FIELD")]
    maps: Vec<String>,
    /// Check and count everything, then change nothing
    #[arg(long)]
    dry_run: bool,
    /// Do not rescore the accounts the import touched (for a series of bulk loads: run
    /// `abm score` once after the last)
    #[arg(long)]
    no_score: bool,
    /// How to print the summary
    #[arg(long, value_enum, default_value = "table")]
    report: ReportFormat,
    /// Activities only: publish them to this NATS JetStream server (nats://host:4222) for
    /// `abm worker` to store, instead of storing them here (checked as an import checks them)
    #[arg(long, value_name = "URL")]
    stream: Option<String>,
}

/// A progress bar on standard error, drawn only when it is a terminal.
pub struct Bar(ProgressBar);

impl Bar {
    pub fn new() -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        if std::io::stderr().is_terminal() {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        Self(bar)
    }
}

impl Progress for Bar {
    fn start(&self, total_bytes: u64) {
        self.0.set_length(total_bytes);
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} {bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        ) {
            self.0.set_style(style);
        }
    }

    fn advance(&self, position: u64) {
        self.0.set_position(position);
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

pub fn options(
    context: &Context,
    kind: ImportKind,
    files: Vec<PathBuf>,
    format: FormatArg,
    maps: &[String],
    dry_run: bool,
) -> Result<ImportOptions> {
    let config = Config::load(&context.config_path)?;
    let overrides = maps
        .iter()
        .map(|text| ColumnOverride::parse(text).map_err(|message| anyhow!(message)))
        .collect::<Result<Vec<_>>>()?;
    Ok(ImportOptions {
        kind,
        files: files.into_iter().map(Source::from).collect(),
        format: match format {
            FormatArg::Auto => None,
            FormatArg::Salesforce => Some(Format::Salesforce),
            FormatArg::Hubspot => Some(Format::Hubspot),
            FormatArg::Bombora => Some(Format::Bombora),
            FormatArg::Generic => Some(Format::Generic),
        },
        overrides,
        dry_run,
        free_mail: config.free_mail(),
        started_at: jiff::Timestamp::now(),
        watch: Some(abm_ingest::Watch {
            competitors: config.fit.competitors.technologies.clone(),
            triggers: config.triggers.clone(),
            personas: config.personas.clone(),
        }),
    })
}

pub fn run(context: &Context, args: &ImportArgs) -> Result<ExitCode> {
    if let Some(url) = &args.stream {
        if !matches!(args.kind, KindArg::Activities) {
            return Err(anyhow!(
                "--stream publishes activities only; import accounts, contacts and the rest into the shared database"
            ));
        }
        let overrides = args
            .maps
            .iter()
            .map(|text| ColumnOverride::parse(text).map_err(|message| anyhow!(message)))
            .collect::<Result<Vec<_>>>()?;
        return super::worker::publish_files(&args.files, url, &overrides, args.dry_run);
    }
    let options = options(
        context,
        args.kind.into(),
        args.files.clone(),
        args.format,
        &args.maps,
        args.dry_run,
    )?;
    let config = Config::load(&context.config_path)?;
    let mut store = context.open_store()?;
    // Imports change what governance reads (an account's owner): once users exist, only a
    // registered user who may write imports.
    let actor = super::actor::resolve(context, &config, store.as_mut())?;
    if actor.role == abm_core::tal::UserRole::Viewer && !args.dry_run {
        anyhow::bail!(
            "{} is a viewer and may not import (try --dry-run)",
            actor.email
        );
    }
    match abm_ingest::import(store.as_mut(), &options, &Bar::new()) {
        Ok(report) => {
            match args.report {
                ReportFormat::Table => print_report(&report),
                ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
            }
            // Scores follow the data: the accounts this import touched are rescored now.
            let rescored = if args.no_score {
                0
            } else {
                super::scores::rescore_after_import(
                    store.as_mut(),
                    &config,
                    report.touched_accounts.as_deref(),
                )?
            };
            if rescored > 0 && args.report == ReportFormat::Table {
                println!("  {:<14}  {}", "rescored", output::thousands(rescored));
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(ImportError::Problems(problems)) => {
            for problem in &problems.listed {
                eprintln!("error: {problem}");
            }
            if problems.total > MAX_LISTED as u64 {
                eprintln!(
                    "… and {} more problems",
                    output::thousands(problems.total - MAX_LISTED as u64)
                );
            }
            eprintln!("Nothing was imported: fix the problems above and run the import again.");
            Ok(ExitCode::FAILURE)
        }
        Err(error) => Err(error.into()),
    }
}

pub fn print_report(report: &ImportReport) {
    if report.rows_read == 0 {
        for file in &report.files {
            println!("Nothing to import: {} has a header but no rows.", file.file);
        }
        return;
    }
    let verb = if report.dry_run {
        "Checked (dry run, nothing written)"
    } else {
        "Imported"
    };
    println!("{verb} {}:", report.kind.as_str());
    for file in &report.files {
        println!(
            "  {} ({} format, {} rows)",
            file.file,
            file.format.as_str(),
            output::thousands(file.rows)
        );
        if !file.other_columns.is_empty() {
            let what = match report.kind {
                ImportKind::Accounts | ImportKind::Contacts | ImportKind::Leads => {
                    "kept as attributes"
                }
                _ => "ignored",
            };
            println!(
                "    other columns, {what}: {}",
                file.other_columns.join(", ")
            );
        }
    }
    let mut pairs = vec![
        ("rows read", output::thousands(report.rows_read)),
        ("inserted", output::thousands(report.inserted)),
        ("updated", output::thousands(report.updated)),
        ("unchanged", output::thousands(report.unchanged)),
        (
            "unmatched",
            format!(
                "{}  (kept; matched when their account or contact appears)",
                output::thousands(report.unmatched)
            ),
        ),
        ("match rate", output::percent(report.match_rate)),
    ];
    if report.kept_existing > 0 {
        pairs.push((
            "kept as stored",
            format!(
                "{}  (ids already stored with other content)",
                output::thousands(report.kept_existing)
            ),
        ));
    }
    let rematched = &report.rematched;
    let earlier = [
        (rematched.leads, "leads"),
        (
            rematched.leads_promoted_to_contacts,
            "leads became contacts",
        ),
        (rematched.activities, "activities"),
        (rematched.intent_signals, "intent signals"),
        (rematched.opportunities, "opportunities"),
    ];
    let earlier: Vec<String> = earlier
        .iter()
        .filter(|(count, _)| *count > 0)
        .map(|(count, what)| format!("{} {what}", output::thousands(*count)))
        .collect();
    if !earlier.is_empty() {
        pairs.push(("newly matched", earlier.join(", ")));
    }
    output::print_pairs(&pairs);
}
