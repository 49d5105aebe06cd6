//! `abm plan show|edit|set|history DOMAIN`: the account plan of a 1:1 or 1:few account. `edit`
//! opens $EDITOR on the plan as TOML (with the account's tier, triggers and buying group as
//! comments), validates on save, and keeps every version with its changes.

use super::config::Config;
use super::{Context, actor, when};
use crate::output::OutputFormat;
use abm_core::plan::{self, AccountPlan, PlanContext};
use abm_engine::team::plans;
use abm_store::team::{self, AccountRef};
use anyhow::{Context as _, Result, bail};
use std::io::IsTerminal as _;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum PlanCommand {
    /// The plan as TOML (or JSON), with overdue steps and renewals coming up
    Show {
        domain: String,
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
    /// Edit the plan in $EDITOR; it is validated when you save and close
    Edit { domain: String },
    /// Replace the plan with a TOML file (the format `show` prints), validated first
    Set {
        domain: String,
        file: std::path::PathBuf,
    },
    /// Every saved version: who, when, what changed
    History { domain: String },
}

fn account(store: &mut dyn abm_store::Store, domain: &str) -> Result<AccountRef> {
    match abm_engine::team::resolve_account(store.sql(), domain)? {
        Ok(account) => Ok(account),
        Err(refusal) => bail!("{refusal}"),
    }
}

fn context_of(store: &mut dyn abm_store::Store, account: &AccountRef) -> Result<PlanContext> {
    Ok(plans::context(
        store.sql(),
        account,
        jiff::Timestamp::now().as_microsecond(),
    )?)
}

pub fn run(context: &Context, command: &PlanCommand) -> Result<ExitCode> {
    let config = Config::load(&context.config_path)?;
    let mut store = context.open_store()?;
    match command {
        PlanCommand::Show { domain, format } => {
            let account = account(store.as_mut(), domain)?;
            let (plan, row) = plans::current(store.sql(), &account)?;
            if *format == OutputFormat::Json {
                let value = serde_json::json!({
                    "domain": account.domain,
                    "version": row.as_ref().map_or(0, |row| row.version),
                    "updated_by": row.as_ref().map(|row| row.updated_by.clone()),
                    "updated_at": row.as_ref().map(|row| when::show(row.updated_at)),
                    "plan": plan,
                });
                println!("{}", serde_json::to_string_pretty(&value)?);
                return Ok(ExitCode::SUCCESS);
            }
            let plan_context = context_of(store.as_mut(), &account)?;
            print!("{}", plan::render(&plan, &plan_context));
            let today = jiff::Zoned::now().date();
            for step in plan.overdue(today) {
                eprintln!(
                    "overdue: {} ({}, due {})",
                    step.action, step.owner, step.due
                );
            }
            for competitor in plan.renewals_within(today, 90) {
                if let Some(renewal) = competitor.contract_renewal {
                    eprintln!("renewal within 90 days: {} on {renewal}", competitor.name);
                }
            }
        }
        PlanCommand::Edit { domain } => {
            let account = account(store.as_mut(), domain)?;
            let actor = actor::resolve(context, &config, store.as_mut())?;
            plans::check_plannable(store.sql(), &account)?;
            let (plan, _) = plans::current(store.sql(), &account)?;
            let plan_context = context_of(store.as_mut(), &account)?;
            let directory = tempfile::tempdir()?;
            let path = directory
                .path()
                .join(format!("plan-{}.toml", account.domain));
            std::fs::write(&path, plan::render(&plan, &plan_context))?;
            let edited = loop {
                run_editor(&path)?;
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                match plan::parse(&text) {
                    Ok(edited) => break edited,
                    Err(error) => {
                        eprintln!("the plan is not valid: {error}");
                        if !(std::io::stdin().is_terminal() && ask("Edit again? [Y/n] ")?) {
                            bail!("the plan of {} was not saved: {error}", account.domain);
                        }
                    }
                }
            };
            save(store.as_mut(), &actor, &account, &edited)?;
        }
        PlanCommand::Set { domain, file } => {
            let account = account(store.as_mut(), domain)?;
            let actor = actor::resolve(context, &config, store.as_mut())?;
            let metadata = std::fs::metadata(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            if metadata.len() > 1_000_000 {
                bail!("{}: a plan file is at most 1 MB", file.display());
            }
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let plan = match plan::parse(&text) {
                Ok(plan) => plan,
                Err(error) => bail!("{}: {error}", file.display()),
            };
            save(store.as_mut(), &actor, &account, &plan)?;
        }
        PlanCommand::History { domain } => {
            let account = account(store.as_mut(), domain)?;
            let history = team::plan_history(store.sql(), account.id)?;
            if history.is_empty() {
                println!(
                    "{} has no plan yet: abm plan edit {}",
                    account.domain, account.domain
                );
            }
            for version in history {
                println!(
                    "version {} — {} by {}",
                    version.version,
                    when::show(version.changed_at),
                    version.changed_by
                );
                for change in version.changes {
                    println!("    {change}");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn save(
    store: &mut dyn abm_store::Store,
    actor: &abm_core::tal::Actor,
    account: &AccountRef,
    plan: &AccountPlan,
) -> Result<()> {
    let changes = plans::save(
        store.sql(),
        actor,
        account,
        plan,
        jiff::Timestamp::now().as_microsecond(),
    )?;
    if changes.is_empty() {
        println!("No change to the plan of {}.", account.domain);
    } else {
        println!("Saved the plan of {}:", account.domain);
        for change in changes {
            println!("    {change}");
        }
    }
    Ok(())
}

/// Runs $VISUAL or $EDITOR (else `vi`) on the file; the command may carry arguments.
fn run_editor(path: &std::path::Path) -> Result<()> {
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".to_owned());
    let mut parts = editor.split_whitespace();
    let Some(program) = parts.next() else {
        bail!("$EDITOR is empty");
    };
    let status = std::process::Command::new(program)
        .args(parts)
        .arg(path)
        .status()
        .with_context(|| format!("cannot start the editor {editor:?} (set $EDITOR)"))?;
    if !status.success() {
        bail!("the editor {editor:?} exited with {status}; the plan was not saved");
    }
    Ok(())
}

fn ask(question: &str) -> Result<bool> {
    eprint!("{question}");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(!answer.trim().eq_ignore_ascii_case("n"))
}
