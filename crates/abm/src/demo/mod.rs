//! `abm demo`: generate a realistic B2B world, write it as the CSV files real tools export,
//! import them through the same pipeline a user's files take, and summarise. The demo keeps to
//! its own database file unless one is named, and never writes into a database holding data.

mod world;

use crate::cli::Context;
use crate::cli::import::{Bar, FormatArg, options};
use crate::cli::status::Status;
use crate::output;
use abm_ingest::ImportKind;
use anyhow::{Context as _, Result, bail};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The demo's own database, apart from the user's `./abm.db`.
const DEMO_DATABASE: &str = "./abm-demo.db";
/// Where the generated files are left, as examples of each import format.
const DEMO_DATA: &str = "./abm-demo-data";

#[derive(clap::Args)]
pub struct DemoArgs {
    /// How many accounts the world has
    #[arg(long, default_value_t = 3000)]
    accounts: usize,
    /// Seed of the generator: the same seed gives the same world
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

pub fn run(context: &Context, args: &DemoArgs) -> Result<ExitCode> {
    if args.accounts == 0 || args.accounts > 1_000_000 {
        bail!("--accounts must be between 1 and 1,000,000");
    }
    let own_database = context.database_url.is_none();
    let url = if own_database {
        remove_sqlite_file(Path::new(DEMO_DATABASE))?;
        format!("sqlite://{DEMO_DATABASE}")
    } else {
        context.database_url().to_owned()
    };
    let demo_context = Context {
        database_url: Some(url.clone()),
        config_path: context.config_path.clone(),
        acting_as: context.acting_as.clone(),
    };
    let mut store = demo_context.open_store()?;
    if !own_database {
        let counts = store.counts()?;
        if counts.accounts
            + counts.contacts
            + counts.leads
            + counts.activities
            + counts.intent_signals
            + counts.opportunities
            > 0
        {
            bail!(
                "{} already holds data; the demo only writes into an empty database (omit --database-url to use {DEMO_DATABASE})",
                crate::cli::redact(&url)
            );
        }
    }
    println!(
        "abm demo: a generated B2B world of {} accounts (seed {})",
        output::thousands(args.accounts as u64),
        args.seed
    );
    println!(
        "  database: {}{}",
        crate::cli::redact(&url),
        if own_database {
            " (the demo's own file; your ./abm.db is untouched)"
        } else {
            ""
        }
    );
    let directory = PathBuf::from(DEMO_DATA);
    std::fs::create_dir_all(&directory).with_context(|| format!("cannot create {DEMO_DATA}"))?;
    let today = jiff::Zoned::now().date();
    let files = world::write_world(
        &world::WorldSpec {
            accounts: args.accounts,
            seed: args.seed,
            today,
        },
        &directory,
    )?;
    println!(
        "  files:    {DEMO_DATA}/ (examples of the Salesforce, HubSpot, Bombora and generic formats)\n"
    );
    let steps = [
        (ImportKind::Accounts, &files.accounts),
        (ImportKind::Contacts, &files.contacts),
        (ImportKind::Leads, &files.leads),
        (ImportKind::Opportunities, &files.opportunities),
        (ImportKind::Intent, &files.intent),
        (ImportKind::Activities, &files.activities),
    ];
    println!("  import               rows   inserted  unmatched      match  format");
    for (kind, path) in steps {
        let import_options = options(
            &demo_context,
            kind,
            vec![path.clone()],
            FormatArg::Auto,
            &[],
            false,
        )?;
        let report = match abm_ingest::import(store.as_mut(), &import_options, &Bar::new()) {
            Ok(report) => report,
            Err(abm_ingest::ImportError::Problems(problems)) => {
                let listed: Vec<String> = problems.listed.iter().map(ToString::to_string).collect();
                bail!(
                    "the demo's own {} file did not import:\n{}",
                    kind.as_str(),
                    listed.join("\n")
                );
            }
            Err(error) => return Err(error.into()),
        };
        println!(
            "  {:<14} {:>10} {:>10} {:>10} {:>10}  {}",
            kind.as_str(),
            output::thousands(report.rows_read),
            output::thousands(report.inserted),
            output::thousands(report.unmatched),
            output::percent(report.match_rate),
            report.files.first().map_or("", |file| file.format.as_str()),
        );
    }
    println!("\nWhat the database holds:");
    Status::read(store.as_mut())?.print_table();
    let config = crate::cli::config::Config::load(&demo_context.config_path)?.scoring();
    let as_of = jiff::Timestamp::now().as_microsecond();
    // A year of weekly scoring replayed, so the demo has a stage history to look at.
    let scoring = abm_engine::scoring::replay(
        store.as_mut(),
        &config,
        &abm_core::trigger::TriggerConfig::default(),
        as_of,
        364,
        7,
    )?
    .scoring;
    let mut ranked: Vec<_> = scoring.accounts.iter().collect();
    ranked.sort_by(|a, b| {
        b.assessment
            .scores
            .priority
            .value
            .total_cmp(&a.assessment.scores.priority.value)
            .then_with(|| a.domain.cmp(&b.domain))
    });
    let qualified = scoring
        .accounts
        .iter()
        .filter(|a| a.assessment.stage == abm_core::score::Stage::Qualified)
        .count();
    println!(
        "\nScored {} accounts: {} qualified. The top 5 by priority:",
        output::thousands(scoring.accounts.len() as u64),
        output::thousands(qualified as u64)
    );
    for account in ranked.iter().take(5) {
        let scores = &account.assessment.scores;
        println!(
            "  {:<28} priority {:>3.0}  fit {:>3.0}  intent {:>3.0}  engagement {:>3.0}  {}",
            account.domain,
            scores.priority.value,
            scores.fit.value,
            scores.intent.value,
            scores.engagement.value,
            account.assessment.stage.as_str()
        );
    }
    let example = ranked.first().map(|a| a.domain.clone());
    let flag = if own_database {
        format!("--database-url sqlite://{DEMO_DATABASE} ")
    } else {
        String::new()
    };
    if let Some(domain) = example {
        println!(
            "\nWhy: `abm {flag}account {domain} --why`; the list: `abm {flag}accounts --top 50`."
        );
    }
    println!(
        "Next: `abm {flag}status`, or import your own files into ./abm.db with `abm import accounts FILE`."
    );
    Ok(ExitCode::SUCCESS)
}

/// Removes an earlier demo database so each run starts from the same world.
fn remove_sqlite_file(path: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                return Err(error).with_context(|| {
                    format!("cannot remove the old demo database {}", file.display())
                });
            }
        }
    }
    Ok(())
}
