//! `abm run` (the scheduler, once: enrol, exits, due touches through the guard to their
//! channels), `abm task` (the sales tasks plays queue), `abm suppress` (the suppression list)
//! and `abm hold` (do-not-contact and the owner's hold).

use super::config::Config;
use super::{Context, actor, when};
use crate::output::{self, OutputFormat};
use abm_core::tal::UserRole;
use abm_engine::plays::tasks::TaskAction;
use abm_store::guard_data::{self, Hold, Suppression};
use abm_store::plays as stored;
use abm_store::sql;
use anyhow::{Result, anyhow, bail};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct RunArgs {
    /// Run as of this instant (YYYY-MM-DD or RFC 3339) instead of now
    #[arg(long)]
    as_of: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    format: OutputFormat,
}

/// Runs the plays once as of `now`; what `abm run` and `abm serve`'s loop call.
pub fn run_plays(
    store: &mut dyn abm_store::Store,
    config: &Config,
    setup: &abm_core::play::Setup,
    now: i64,
) -> Result<abm_engine::plays::run::RunReport> {
    let link_key =
        abm_store::tracking::secret(store.sql(), "link", now, abm_web::auth::new_secret)?;
    let smtp_url = std::env::var("ABM_SMTP_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
        .or_else(|| config.channels.email.smtp_url.clone());
    let secret = |name: &str| std::env::var(name).ok();
    // The crash tests stop the process between a send and its record, as a power cut would.
    let crash = std::env::var("ABM_TEST_CRASH_AFTER_SEND").is_ok();
    let after_send = move |_: &stored::TouchRow| {
        if crash {
            std::process::exit(70);
        }
    };
    let mut delivery = abm_engine::plays::deliver::Delivery::new(
        smtp_url,
        link_key.into_bytes(),
        std::path::PathBuf::from(&config.channels.exports.directory),
        &secret,
        &after_send,
    );
    Ok(abm_engine::plays::run::run_once(
        store,
        setup,
        &config.personas,
        &mut delivery,
        now,
    )?)
}

pub fn run(context: &Context, args: &RunArgs) -> Result<ExitCode> {
    let config = Config::load(&context.config_path)?;
    let setup = config
        .play_setup()
        .map_err(|error| anyhow!("{}: {error}", context.config_path.display()))?;
    let now = when::as_of(args.as_of.as_deref(), jiff::Timestamp::now())?;
    let mut store = context.open_store()?;
    let report = run_plays(store.as_mut(), &config, &setup, now)?;
    match args.format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        _ => {
            let channels: Vec<String> = report
                .by_channel
                .iter()
                .map(|(channel, count)| format!("{channel} {count}"))
                .collect();
            println!(
                "{} enrolled, {} exited, {} completed; {} sent{}, {} held, {} suppressed, {} to retry, {} dead.",
                report.enrolled,
                report.exited,
                report.completed,
                report.sent,
                if channels.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", channels.join(", "))
                },
                report.held,
                report.suppressed,
                report.retried,
                report.dead,
            );
            for file in &report.files {
                println!("wrote {}", file.display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Subcommand)]
pub enum TaskCommand {
    /// Open tasks, due first: yours (--mine), one owner's, or all
    List {
        #[arg(long)]
        owner: Option<String>,
        /// Only the tasks of the user acting (--as)
        #[arg(long)]
        mine: bool,
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
    /// Mark a task done, with its outcome (recorded on the account's timeline)
    Done {
        id: i64,
        #[arg(long)]
        outcome: String,
    },
    /// Skip a task, with the reason
    Skip {
        id: i64,
        #[arg(long)]
        reason: String,
    },
    /// Move a task to a later date
    Snooze {
        id: i64,
        #[arg(long)]
        until: String,
    },
}

pub fn run_task(context: &Context, command: &TaskCommand) -> Result<ExitCode> {
    let config = Config::load(&context.config_path)?;
    let mut store = context.open_store()?;
    let now = jiff::Timestamp::now();
    // Reading the list needs no registered user; acting on a task (or --mine) does.
    if let TaskCommand::List {
        owner,
        mine,
        format,
    } = command
    {
        let owner = if *mine {
            Some(actor::resolve(context, &config, store.as_mut())?.email)
        } else {
            owner.clone()
        };
        return list_tasks(store.as_mut(), owner.as_deref(), *format);
    }
    let actor = actor::resolve(context, &config, store.as_mut())?;
    match command {
        TaskCommand::List { .. } => {}
        TaskCommand::Done { id, outcome }
        | TaskCommand::Skip {
            id,
            reason: outcome,
        } => {
            let action = match command {
                TaskCommand::Done { .. } => TaskAction::Done(outcome.clone()),
                _ => TaskAction::Skip(outcome.clone()),
            };
            let task = abm_engine::plays::tasks::act(
                store.as_mut(),
                &actor,
                *id,
                &action,
                now.as_microsecond(),
            )?;
            println!("Task {id} {}: {}", task.status, task.title);
        }
        TaskCommand::Snooze { id, until } => {
            let until = when::as_of(Some(until), now)?;
            let task = abm_engine::plays::tasks::act(
                store.as_mut(),
                &actor,
                *id,
                &TaskAction::Snooze(until),
                now.as_microsecond(),
            )?;
            println!("Task {id} snoozed until {}", when::show(task.due_at));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn list_tasks(
    store: &mut dyn abm_store::Store,
    owner: Option<&str>,
    format: OutputFormat,
) -> Result<ExitCode> {
    let tasks = stored::open_tasks(store.sql(), owner)?;
    match format {
        OutputFormat::Json => {
            let list: Vec<serde_json::Value> = tasks
                .iter()
                .map(|t| {
                    serde_json::json!({
                        "id": t.id, "play": t.play, "account": t.domain, "contact": t.email,
                        "owner": t.owner, "kind": t.kind, "title": t.title,
                        "context": t.context, "due": when::show(t.due_at), "status": t.status,
                    })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&list)?);
        }
        _ => {
            let rows: Vec<Vec<String>> = tasks
                .iter()
                .map(|t| {
                    vec![
                        t.id.to_string(),
                        when::show(t.due_at),
                        t.owner.clone().unwrap_or_default(),
                        t.title.clone(),
                    ]
                })
                .collect();
            output::print_table(&["id", "due", "owner", "task"], &rows, &["id"]);
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Subcommand)]
pub enum SuppressCommand {
    /// Add an email or a whole domain: no touch reaches it again
    Add {
        value: String,
        #[arg(long)]
        reason: String,
    },
    /// Remove an entry
    Remove { value: String },
    /// The list
    List {
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
}

pub fn run_suppress(context: &Context, command: &SuppressCommand) -> Result<ExitCode> {
    let config = Config::load(&context.config_path)?;
    let mut store = context.open_store()?;
    let now = jiff::Timestamp::now().as_microsecond();
    let actor = match command {
        SuppressCommand::List { .. } => abm_core::tal::Actor {
            email: String::new(),
            name: None,
            role: UserRole::Viewer,
            fresh_install: false,
        },
        _ => actor::resolve(context, &config, store.as_mut())?,
    };
    let writer = |actor: &abm_core::tal::Actor| -> Result<()> {
        if actor.fresh_install || matches!(actor.role, UserRole::Admin | UserRole::Marketing) {
            Ok(())
        } else {
            bail!(
                "{} may not change the suppression list (marketing or admin)",
                actor.email
            )
        }
    };
    match command {
        SuppressCommand::Add { value, reason } => {
            writer(&actor)?;
            let value = value.trim().to_lowercase();
            let kind = if value.contains('@') {
                abm_core::Email::parse(&value).map_err(|error| anyhow!("{value:?}: {error}"))?;
                "email"
            } else {
                abm_core::Domain::parse(&value).map_err(|error| anyhow!("{value:?}: {error}"))?;
                "domain"
            };
            if reason.trim().is_empty() {
                bail!("--reason is required");
            }
            let added = sql::transaction(store.sql(), |sql| -> Result<bool> {
                let added = guard_data::suppress(
                    sql,
                    &Suppression {
                        value: value.clone(),
                        kind: kind.to_owned(),
                        reason: reason.trim().to_owned(),
                        added_by: actor.email.clone(),
                        added_at: now,
                    },
                )?;
                abm_engine::team::log(sql, &actor, "suppress add", &value, reason.trim(), now)?;
                Ok(added)
            })?;
            println!(
                "{value} ({kind}) {}",
                if added {
                    "suppressed"
                } else {
                    "was already suppressed"
                }
            );
        }
        SuppressCommand::Remove { value } => {
            writer(&actor)?;
            let value = value.trim().to_lowercase();
            let removed = sql::transaction(store.sql(), |sql| -> Result<bool> {
                let removed = guard_data::unsuppress(sql, &value)?;
                abm_engine::team::log(sql, &actor, "suppress remove", &value, "", now)?;
                Ok(removed)
            })?;
            if !removed {
                bail!("{value} is not on the suppression list");
            }
            println!("{value} removed from the suppression list");
        }
        SuppressCommand::List { format } => {
            let list = guard_data::suppressions(store.sql())?;
            match format {
                OutputFormat::Json => {
                    let rows: Vec<serde_json::Value> = list
                        .iter()
                        .map(|s| serde_json::json!({"value": s.value, "kind": s.kind, "reason": s.reason, "added_by": s.added_by, "added_at": when::show(s.added_at)}))
                        .collect();
                    println!("{}", serde_json::to_string_pretty(&rows)?);
                }
                _ => {
                    let rows: Vec<Vec<String>> = list
                        .iter()
                        .map(|s| {
                            vec![
                                s.value.clone(),
                                s.kind.clone(),
                                s.reason.clone(),
                                s.added_by.clone(),
                            ]
                        })
                        .collect();
                    output::print_table(&["value", "kind", "reason", "added by"], &rows, &[]);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct HoldArgs {
    domain: String,
    /// Hold every touch to the account until this date (YYYY-MM-DD or RFC 3339)
    #[arg(long, conflicts_with = "do_not_contact")]
    until: Option<String>,
    /// Mark the account do-not-contact (in a deal, in legal review): touches are suppressed
    #[arg(long)]
    do_not_contact: bool,
    /// Why (required to set)
    #[arg(long)]
    reason: Option<String>,
    /// Lift the hold (or, with --do-not-contact, the do-not-contact mark)
    #[arg(long)]
    off: bool,
}

pub fn run_hold(context: &Context, args: &HoldArgs) -> Result<ExitCode> {
    let config = Config::load(&context.config_path)?;
    let mut store = context.open_store()?;
    let actor = actor::resolve(context, &config, store.as_mut())?;
    let account = match abm_engine::team::resolve_account(store.sql(), &args.domain)? {
        Ok(account) => account,
        Err(refusal) => bail!("{refusal}"),
    };
    let owns = actor.owns(account.owner.as_deref());
    if !(actor.fresh_install || actor.role == UserRole::Admin || owns) {
        bail!(
            "{} may not hold {}: its owner or an administrator may",
            actor.email,
            account.domain
        );
    }
    let now = jiff::Timestamp::now();
    let kind = if args.do_not_contact {
        "do_not_contact"
    } else {
        "hold"
    };
    if args.off {
        let cleared = sql::transaction(store.sql(), |sql| -> Result<bool> {
            let cleared = guard_data::clear_hold(sql, account.id, kind)?;
            abm_engine::team::log(
                sql,
                &actor,
                &format!("{kind} off"),
                &account.domain,
                "",
                now.as_microsecond(),
            )?;
            Ok(cleared)
        })?;
        if !cleared {
            bail!("{} has no {kind}", account.domain);
        }
        println!("{}: {kind} lifted", account.domain);
        return Ok(ExitCode::SUCCESS);
    }
    let reason = args
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|reason| !reason.is_empty())
        .ok_or_else(|| anyhow!("--reason is required"))?;
    let until = match (&args.until, args.do_not_contact) {
        (Some(until), _) => Some(when::as_of(Some(until), now)?),
        (None, true) => None,
        (None, false) => bail!("give --until DATE for a hold, or --do-not-contact"),
    };
    sql::transaction(store.sql(), |sql| -> Result<()> {
        guard_data::set_hold(
            sql,
            &Hold {
                account_id: account.id,
                kind: kind.to_owned(),
                until,
                reason: reason.to_owned(),
                set_by: actor.email.clone(),
                set_at: now.as_microsecond(),
            },
        )?;
        abm_engine::team::log(
            sql,
            &actor,
            kind,
            &account.domain,
            reason,
            now.as_microsecond(),
        )?;
        Ok(())
    })?;
    match until {
        Some(until) => println!("{}: on hold until {}", account.domain, when::show(until)),
        None => println!("{}: do-not-contact", account.domain),
    }
    Ok(ExitCode::SUCCESS)
}
