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
    let tal = demo_tal(store.as_mut(), &ranked, &demo_context, as_of)?;
    println!(
        "\nThe target account list: {} accounts approved ({} 1:1, {} 1:few, {} 1:many); plays: `abm init`, then `abm play simulate intent-surge-nurture`.",
        tal.iter().sum::<usize>(),
        tal[0],
        tal[1],
        tal[2]
    );
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

/// The demo's TAL, so plays and the TAL pages have something to work on: the best accounts
/// by priority that are not customers, proposed and approved by the demo's marketing lead;
/// the first few 1:1, the next ones 1:few, the rest 1:many, a tenth of the world at most.
/// Returns the count per tier.
fn demo_tal(
    store: &mut dyn abm_store::Store,
    ranked: &[&abm_engine::ScoredAccount],
    context: &Context,
    at: i64,
) -> Result<[usize; 3]> {
    use abm_core::tal::{Actor, Tier, UserRole};
    const TIERS: [(Tier, usize); 3] = [
        (Tier::OneToOne, 8),
        (Tier::OneToFew, 40),
        (Tier::OneToMany, 250),
    ];
    let actor = Actor {
        email: "demo@ourco.example".to_owned(),
        name: Some("The demo".to_owned()),
        role: UserRole::Admin,
        fresh_install: true,
    };
    use abm_core::score::Stage;
    // Qualified accounts first: they are the 1:1 play's trigger.
    let mut ordered: Vec<&&abm_engine::ScoredAccount> = ranked
        .iter()
        .filter(|account| {
            account.assessment.stage != Stage::Customer
                && account.assessment.stage != Stage::Opportunity
        })
        .collect();
    ordered.sort_by_key(|account| account.assessment.stage != Stage::Qualified);
    let mut candidates = ordered.into_iter();
    let mut proposals = Vec::new();
    let mut counts = [0usize; 3];
    // A tenth of the world at most, so accounts remain to propose by hand.
    let mut room = ranked.len() / 10;
    for (index, (tier, count)) in TIERS.iter().enumerate() {
        let take = (*count).min(room);
        room -= take;
        for account in candidates.by_ref().take(take) {
            counts[index] += 1;
            proposals.push(abm_engine::team::tal::Proposal {
                domain: account.domain.clone(),
                reason: format!(
                    "demo: priority {:.0} ({})",
                    account.assessment.scores.priority.value,
                    account.assessment.stage.as_str()
                ),
                tier: Some(*tier),
                strategic: *tier == Tier::OneToOne,
                source: "rule".to_owned(),
                sales_owner: Some(
                    account
                        .owner
                        .clone()
                        .unwrap_or_else(|| "sales@ourco.example".to_owned()),
                ),
                marketing_owner: Some("marketing@ourco.example".to_owned()),
                origin: None,
            });
        }
    }
    let config = crate::cli::config::Config::load(&context.config_path)?;
    abm_engine::team::tal::propose(store.sql(), &actor, &proposals, at)?;
    let domains: Vec<String> = proposals.iter().map(|p| p.domain.clone()).collect();
    abm_engine::team::tal::approve(
        store.sql(),
        &actor,
        &domains,
        &abm_engine::team::tal::Decision {
            reason: "demo: approved with the plan".to_owned(),
            ..Default::default()
        },
        &config.tal,
        at,
    )?;
    Ok(counts)
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
