//! The `abm` binary: the command line, configuration of the run (database URL, output
//! format), and the wiring of store, ingest and core. It holds no domain logic of its own.

mod cli;
mod demo;
mod output;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

// Activity imports allocate and free millions of small strings on several threads (parsed
// on one, freed on another); mimalloc's per-thread free lists do that far more cheaply than
// the system allocator. The workspace builds mimalloc with `override`, so SQLite's own
// allocations (a copy of every bound text value, its page cache) go to it too: a profile of
// a bulk load had 6% of the writer thread in glibc's malloc and free.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The SQLite file used when no database URL is given.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./abm.db";

#[derive(Parser)]
#[command(name = "abm", version, about = "A self-hosted account-based marketing engine", long_about = None)]
struct Cli {
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB [default: sqlite://./abm.db]
    #[arg(long, global = true, env = "ABM_DATABASE_URL")]
    database_url: Option<String>,
    /// Configuration file (defaults apply when it is absent)
    #[arg(long, global = true, default_value = "./abm.toml")]
    config: std::path::PathBuf,
    /// Act as this registered user (the audit trail records who did what) [default: [cli] user of abm.toml, else the OS user]
    #[arg(long = "as", global = true, value_name = "EMAIL", env = "ABM_USER")]
    acting_as: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a demo world, import it into its own database, and summarise it
    Demo(demo::DemoArgs),
    /// Import CRM exports, intent files or activity logs (all-or-nothing)
    Import(cli::import::ImportArgs),
    /// Counts of what the database holds, and the lead-to-account match rate
    Status(cli::status::StatusArgs),
    /// Write abm.toml with documented defaults and create the database
    Init(cli::init::InitArgs),
    /// Compute every account's scores and journey stage, and save them
    Score(cli::scores::ScoreArgs),
    /// The accounts ranked by priority: domain,name,priority,fit,intent,engagement,stage,tier
    Accounts(cli::scores::AccountsArgs),
    /// One account: its scores (--why: every contribution), stage and stage history
    Account(cli::scores::AccountArgs),
    /// How well the scoring would have predicted new pipeline, from the team's own history
    Backtest(cli::backtest::BacktestArgs),
    /// Learn a priority from the team's history and write it as a config for review
    Tune(cli::tune::TuneArgs),
    /// The target account list: propose, approve, reject, remove, list, import, suggest, audit
    #[command(subcommand)]
    Tal(cli::tal::TalCommand),
    /// Clusters of 1:few accounts: suggest, create, add, remove, list, delete
    #[command(subcommand)]
    Cluster(cli::cluster::ClusterCommand),
    /// How job titles map to function, seniority and buying role
    Persona(cli::persona::PersonaArgs),
    /// Set a contact's buying role by hand (or `auto` to follow the title again)
    Role(cli::persona::RoleArgs),
    /// Account plans for 1:1 and 1:few accounts: show, edit, set, history
    #[command(subcommand)]
    Plan(cli::plan::PlanCommand),
    /// Trigger events: list them, or import events from a file (funding, merger, …)
    #[command(subcommand)]
    Triggers(cli::triggers::TriggersCommand),
    /// Plays: list them, or simulate one (a dry run that sends nothing)
    #[command(subcommand)]
    Play(cli::play::PlayCommand),
    /// Reports: coverage, engagement, buying-group, match-rate, pipeline, velocity, plays,
    /// efficiency, scoring; weekly --html (the summary page); list
    Report(cli::report::ReportArgs),
    /// Run the plays once: enrol, end what an exit stopped, send what is due through the guard
    Run(cli::run::RunArgs),
    /// Sales tasks from plays: list, done, skip, snooze
    #[command(subcommand)]
    Task(cli::run::TaskCommand),
    /// The suppression list: emails and domains no touch may reach
    #[command(subcommand)]
    Suppress(cli::run::SuppressCommand),
    /// Hold an account's touches until a date, or mark it do-not-contact
    Hold(cli::run::HoldArgs),
    /// Advocacy flags of an account: reference, case_study, advisory_board
    Flag(cli::triggers::FlagArgs),
    /// Users and their roles (admin, marketing, sales, viewer)
    #[command(subcommand)]
    User(cli::user::UserCommand),
    /// Who changed users, clusters, buying roles, flags and events, and when (TAL: abm tal audit)
    Audit(cli::user::AuditArgs),
    /// API tokens for scripts: abm token create EMAIL
    #[command(subcommand)]
    Token(cli::user::TokenCommand),
    /// Sources that push activities by signed webhook: abm webhook create marketo
    #[command(subcommand)]
    Webhook(cli::webhook::WebhookCommand),
    /// Signed tracking links (open pixel, click redirect) for an email sent outside abm
    Link(cli::link::LinkArgs),
    /// Serve the REST API (/api/v1, OpenAPI at /api/v1/openapi.json) and the HTML interface
    Serve(cli::serve::ServeArgs),
    /// Scale-out: take activities from the NATS JetStream stream, store and score them
    Worker(cli::worker::WorkerArgs),
}

fn main() -> ExitCode {
    quiet_on_closed_pipe();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ABM_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// `abm status | head` closes standard output early; `println!` then panics. That is the
/// reader's choice, not an error: exit quietly with the conventional status (128 + SIGPIPE).
fn quiet_on_closed_pipe() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .unwrap_or_default();
        if message.contains("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default_hook(info);
    }));
}

fn run(cli: Cli) -> Result<ExitCode> {
    let context = cli::Context {
        database_url: cli.database_url,
        config_path: cli.config,
        acting_as: cli.acting_as,
    };
    match cli.command {
        Command::Demo(args) => demo::run(&context, &args),
        Command::Import(args) => cli::import::run(&context, &args),
        Command::Status(args) => cli::status::run(&context, &args),
        Command::Init(args) => cli::init::run(&context, &args),
        Command::Score(args) => cli::scores::run_score(&context, &args),
        Command::Accounts(args) => cli::scores::run_accounts(&context, &args),
        Command::Account(args) => cli::scores::run_account(&context, &args),
        Command::Backtest(args) => cli::backtest::run(&context, &args),
        Command::Tune(args) => cli::tune::run(&context, &args),
        Command::Tal(command) => cli::tal::run(&context, &command),
        Command::Cluster(command) => cli::cluster::run(&context, &command),
        Command::Persona(args) => cli::persona::run(&context, &args),
        Command::Role(args) => cli::persona::run_role(&context, &args),
        Command::Plan(command) => cli::plan::run(&context, &command),
        Command::Triggers(command) => cli::triggers::run(&context, &command),
        Command::Flag(args) => cli::triggers::run_flag(&context, &args),
        Command::Play(command) => cli::play::run(&context, &command),
        Command::Report(args) => cli::report::run(&context, &args),
        Command::Run(args) => cli::run::run(&context, &args),
        Command::Task(command) => cli::run::run_task(&context, &command),
        Command::Suppress(command) => cli::run::run_suppress(&context, &command),
        Command::Hold(args) => cli::run::run_hold(&context, &args),
        Command::User(command) => cli::user::run(&context, &command),
        Command::Audit(args) => cli::user::run_audit(&context, &args),
        Command::Token(command) => cli::user::run_token(&context, &command),
        Command::Webhook(command) => cli::webhook::run(&context, &command),
        Command::Link(args) => cli::link::run(&context, &args),
        Command::Serve(args) => cli::serve::run(&context, &args),
        Command::Worker(args) => cli::worker::run(&context, &args),
    }
}
