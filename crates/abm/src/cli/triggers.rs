//! `abm triggers list|import` (trigger events on accounts: detected, or imported from a file of
//! funding rounds, mergers, launches, regulation…) and `abm flag` (advocacy flags).

use super::config::Config;
use super::{Context, actor, when};
use crate::output::{self, OutputFormat};
use abm_core::tal::UserRole;
use abm_core::trigger::TriggerKind;
use abm_store::sql;
use abm_store::team::{self, TriggerRow};
use anyhow::{Result, bail};
use std::process::ExitCode;

/// The advocacy flags a customer (or any account) can carry.
pub const FLAGS: [&str; 3] = ["reference", "case_study", "advisory_board"];

#[derive(clap::Subcommand)]
pub enum TriggersCommand {
    /// Trigger events, newest first: of one account, or of all
    List {
        domain: Option<String>,
        /// Only events since this date [default: 90 days ago]
        #[arg(long)]
        since: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
    /// Import events from a CSV file: domain,kind,date,evidence (kind: funding, merger,
    /// acquisition, product_launch, regulation, leadership_change, other); all or nothing
    Import { file: std::path::PathBuf },
}

#[derive(clap::Args)]
pub struct FlagArgs {
    domain: String,
    /// reference, case_study or advisory_board
    flag: String,
    /// Clear the flag instead of setting it
    #[arg(long)]
    off: bool,
}

pub fn run(context: &Context, command: &TriggersCommand) -> Result<ExitCode> {
    let config = Config::load(&context.config_path)?;
    let mut store = context.open_store()?;
    match command {
        TriggersCommand::List {
            domain,
            since,
            format,
        } => {
            let account = match domain {
                Some(domain) => match abm_engine::team::resolve_account(store.sql(), domain)? {
                    Ok(account) => Some(account.id),
                    Err(refusal) => bail!("{refusal}"),
                },
                None => None,
            };
            let now = jiff::Timestamp::now();
            let since = match since {
                Some(text) => when::as_of(Some(text), now)? - 86_400_000_000 + 1,
                None => {
                    now.as_microsecond()
                        - i64::from(config.triggers.recent_days.get()) * 86_400_000_000
                }
            };
            let rows = team::triggers(store.sql(), account, since)?;
            match format {
                OutputFormat::Json => {
                    let list: Vec<serde_json::Value> = rows
                        .iter()
                        .map(|(domain, t)| {
                            serde_json::json!({
                                "domain": domain, "kind": t.kind, "at": when::show(t.at),
                                "evidence": t.evidence, "source": t.source,
                            })
                        })
                        .collect();
                    println!("{}", serde_json::to_string_pretty(&list)?);
                }
                _ => {
                    let table: Vec<Vec<String>> = rows
                        .iter()
                        .map(|(domain, t)| {
                            vec![
                                when::show(t.at),
                                domain.clone(),
                                t.kind.clone(),
                                t.evidence.clone(),
                            ]
                        })
                        .collect();
                    output::print_table(&["at", "domain", "kind", "evidence"], &table, &[]);
                }
            }
        }
        TriggersCommand::Import { file } => {
            let actor = actor::resolve(context, &config, store.as_mut())?;
            if actor.role == UserRole::Viewer && !actor.fresh_install {
                bail!("{} is a viewer and may not import events", actor.email);
            }
            let count = import(store.as_mut(), &actor, file)?;
            println!(
                "Imported {count} new trigger events from {}.",
                file.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn import(
    store: &mut dyn abm_store::Store,
    actor: &abm_core::tal::Actor,
    file: &std::path::Path,
) -> Result<u64> {
    const MAX_ROWS: usize = 1_000_000;
    let csv_file = super::small_csv::SmallCsv::open(file)?;
    let shown = csv_file.shown.clone();
    let columns: Vec<Option<usize>> = ["domain", "kind", "date", "evidence"]
        .iter()
        .map(|name| csv_file.column(name))
        .collect();
    let column = |name: &str| match name {
        "domain" => columns[0],
        "kind" => columns[1],
        "date" => columns[2],
        _ => columns[3],
    };
    let mut reader = csv_file.reader();
    let mut missing = Vec::new();
    for name in ["domain", "kind", "date", "evidence"] {
        if column(name).is_none() {
            missing.push(name);
        }
    }
    if !missing.is_empty() {
        bail!(
            "{shown}: line 1: missing column(s) {} (need domain,kind,date,evidence)",
            missing.join(", ")
        );
    }
    let position = |name: &str| column(name).unwrap_or_default();
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let sql = store.sql();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                problems.push(format!("{shown}: {error}"));
                break;
            }
        };
        if rows.len() >= MAX_ROWS {
            bail!("{shown}: more than {MAX_ROWS} rows");
        }
        let line = csv_file.line(&record);
        let get = |name: &str| {
            record
                .get(position(name))
                .map(str::trim)
                .unwrap_or_default()
        };
        let problem = |name: &str, message: String| {
            super::small_csv::problem(&shown, line, column(name), &message)
        };
        let kind = match TriggerKind::from_key(&get("kind").to_ascii_lowercase()) {
            Some(kind) if kind.importable() => kind,
            _ => {
                let allowed: Vec<&str> = TriggerKind::ALL
                    .iter()
                    .filter(|k| k.importable())
                    .map(|k| k.as_str())
                    .collect();
                problems.push(problem(
                    "kind",
                    format!(
                        "{:?} is not an event kind a file may bring (use {})",
                        get("kind"),
                        allowed.join(", ")
                    ),
                ));
                continue;
            }
        };
        let at = match abm_core::parse_date(get("date")) {
            Ok(date) => date
                .to_zoned(jiff::tz::TimeZone::UTC)
                .map(|zoned| zoned.timestamp().as_microsecond())
                .unwrap_or_default(),
            Err(error) => {
                problems.push(problem("date", format!("{:?}: {error}", get("date"))));
                continue;
            }
        };
        let evidence = get("evidence");
        if evidence.is_empty() || evidence.chars().count() > 2000 {
            problems.push(problem(
                "evidence",
                "evidence must be 1 to 2,000 characters".into(),
            ));
            continue;
        }
        let account = match abm_engine::team::resolve_account(sql, get("domain"))? {
            Ok(account) => account,
            Err(refusal) => {
                problems.push(problem("domain", refusal));
                continue;
            }
        };
        rows.push(TriggerRow {
            account_id: account.id,
            kind: kind.as_str().to_owned(),
            at,
            evidence: evidence.to_owned(),
            source: "file".to_owned(),
            dedupe_key: format!("{}:{}", get("date"), evidence.to_lowercase()),
        });
    }
    if !problems.is_empty() {
        let count = problems.len();
        problems.truncate(20);
        bail!(
            "{}\n{count} problems; nothing was imported",
            problems.join("\n")
        );
    }
    if rows.is_empty() {
        println!("{shown}: no rows to import.");
        return Ok(0);
    }
    let now = jiff::Timestamp::now().as_microsecond();
    sql::transaction(sql, |sql| -> Result<u64> {
        let added = team::record_triggers(sql, &rows, now)?;
        abm_engine::team::log(
            sql,
            actor,
            "events import",
            &shown,
            &format!("{} rows, {added} new", rows.len()),
            now,
        )?;
        Ok(added)
    })
}

pub fn run_flag(context: &Context, args: &FlagArgs) -> Result<ExitCode> {
    let config = Config::load(&context.config_path)?;
    let flag = args
        .flag
        .trim()
        .to_ascii_lowercase()
        .replace([' ', '-'], "_");
    if !FLAGS.contains(&flag.as_str()) {
        bail!("unknown flag {:?}: use {}", args.flag, FLAGS.join(", "));
    }
    let mut store = context.open_store()?;
    let actor = actor::resolve(context, &config, store.as_mut())?;
    if actor.role == UserRole::Viewer && !actor.fresh_install {
        bail!("{} is a viewer and may not change flags", actor.email);
    }
    let account = match abm_engine::team::resolve_account(store.sql(), &args.domain)? {
        Ok(account) => account,
        Err(refusal) => bail!("{refusal}"),
    };
    let now = jiff::Timestamp::now().as_microsecond();
    sql::transaction(store.sql(), |sql| -> Result<()> {
        team::set_flag(sql, account.id, &flag, !args.off, &actor.email, now)?;
        let action = if args.off { "flag clear" } else { "flag set" };
        abm_engine::team::log(sql, &actor, action, &account.domain, &flag, now)?;
        Ok(())
    })?;
    let flags = team::flags(store.sql(), account.id)?;
    println!(
        "{}: {}",
        account.domain,
        if flags.is_empty() {
            "no flags".to_owned()
        } else {
            flags.join(", ")
        }
    );
    Ok(ExitCode::SUCCESS)
}
