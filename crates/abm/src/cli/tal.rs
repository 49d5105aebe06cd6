//! `abm tal …`: the target account list. Proposals (by hand, by rule, from a file), approval
//! by the account's owner, rejection and removal with a reason, tiers and owner pairs, the
//! audit trail, and suggestions of the best accounts not on the list yet.

use super::config::Config;
use super::small_csv::problem;
use super::{Context, actor, when};
use crate::output::{self, OutputFormat};
use abm_core::tal::{TalAction, TalStatus, Tier};
use abm_engine::scoring;
use abm_engine::team::tal::{self as tal_actions, Decision, Proposal};
use abm_store::team::{self, TalRow};
use anyhow::{Result, bail};
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum TalCommand {
    /// Propose accounts: by domain, or by rule (--min-fit, --in-market) over the scored accounts
    Propose(ProposeArgs),
    /// Approve proposed accounts (their owner in sales, or an administrator)
    Approve(DecideArgs),
    /// Reject proposed accounts, with a reason
    Reject(ReasonArgs),
    /// Remove accounts from the TAL, with a reason
    Remove(ReasonArgs),
    /// The TAL: every account proposed, approved, rejected or removed
    List(ListArgs),
    /// Propose the accounts of a CSV file: domain[,reason,tier,strategic,sales_owner,marketing_owner]
    Import(ImportArgs),
    /// The best accounts not on the TAL yet, each with its why
    Suggest(SuggestArgs),
    /// Who changed what on the TAL, when and why
    Audit(AuditArgs),
    /// Set an account's tier by hand (remembered over the rule), or `auto` to follow the rule
    Tier { domain: String, tier: String },
    /// Name the owner pair (sales and marketing) of an account, or flag it strategic
    Owners(OwnersArgs),
    /// Apply the tier rule again to approved accounts without a tier set by hand
    Retier,
}

#[derive(clap::Args)]
pub struct ProposeArgs {
    /// Domains (or URLs) of the accounts
    domains: Vec<String>,
    /// Why these accounts (required for proposals by hand)
    #[arg(long)]
    reason: Option<String>,
    /// Ask for a tier (1:1, 1:few, 1:many), kept over the rule
    #[arg(long)]
    tier: Option<String>,
    /// Flag the accounts strategic (the tier rule makes them 1:1)
    #[arg(long)]
    strategic: bool,
    #[arg(long)]
    sales_owner: Option<String>,
    #[arg(long)]
    marketing_owner: Option<String>,
    /// Rule: accounts with at least this fit
    #[arg(long)]
    min_fit: Option<f64>,
    /// Rule: accounts in market (intent at least [tal] in_market_intent)
    #[arg(long)]
    in_market: bool,
    /// Rule: at most this many accounts, best priority first
    #[arg(long, default_value_t = 50)]
    limit: usize,
}

#[derive(clap::Args)]
pub struct DecideArgs {
    domains: Vec<String>,
    #[arg(long)]
    reason: Option<String>,
    /// Approve into this tier (kept over the rule); otherwise the rule tiers each account
    #[arg(long)]
    tier: Option<String>,
    #[arg(long)]
    sales_owner: Option<String>,
    #[arg(long)]
    marketing_owner: Option<String>,
}

#[derive(clap::Args)]
pub struct ReasonArgs {
    domains: Vec<String>,
    #[arg(long)]
    reason: String,
}

#[derive(clap::Args)]
pub struct ListArgs {
    /// Only this status: proposed, approved, rejected, removed
    #[arg(long)]
    status: Option<String>,
    /// Only this tier: 1:1, 1:few, 1:many
    #[arg(long)]
    tier: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    format: OutputFormat,
}

#[derive(clap::Args)]
pub struct ImportArgs {
    file: std::path::PathBuf,
}

#[derive(clap::Args)]
pub struct SuggestArgs {
    #[arg(long, default_value_t = 20)]
    limit: usize,
    #[arg(long, value_enum, default_value = "table")]
    format: OutputFormat,
}

#[derive(clap::Args)]
pub struct AuditArgs {
    domain: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    format: OutputFormat,
}

#[derive(clap::Args)]
pub struct OwnersArgs {
    domain: String,
    #[arg(long)]
    sales: Option<String>,
    #[arg(long)]
    marketing: Option<String>,
    /// Flag the account strategic (or --strategic false)
    #[arg(long)]
    strategic: Option<bool>,
}

fn parse_tier(text: Option<&String>) -> Result<Option<Tier>> {
    text.map(|text| Tier::parse(text).map_err(anyhow::Error::from))
        .transpose()
}

fn now() -> i64 {
    jiff::Timestamp::now().as_microsecond()
}

pub fn run(context: &Context, command: &TalCommand) -> Result<ExitCode> {
    let config = Config::load(&context.config_path)?;
    let mut store = context.open_store()?;
    match command {
        TalCommand::List(args) => return list(store.as_mut(), args),
        TalCommand::Audit(args) => return audit(store.as_mut(), args),
        TalCommand::Suggest(args) => return suggest(store.as_mut(), &config, args),
        _ => {}
    }
    let actor = actor::resolve(context, &config, store.as_mut())?;
    let at = now();
    match command {
        TalCommand::Propose(args) => {
            let tier = parse_tier(args.tier.as_ref())?;
            let rule = args.min_fit.is_some() || args.in_market;
            let proposals: Vec<Proposal> = if rule {
                if !args.domains.is_empty() {
                    bail!("name domains or give a rule (--min-fit, --in-market), not both");
                }
                rule_proposals(store.as_mut(), &config, args)?
            } else {
                if args.domains.is_empty() {
                    bail!(
                        "name the accounts to propose (domains), or a rule: --min-fit 70 --in-market"
                    );
                }
                let reason = args.reason.clone().unwrap_or_default();
                args.domains
                    .iter()
                    .map(|domain| Proposal {
                        domain: domain.clone(),
                        reason: reason.clone(),
                        tier,
                        strategic: args.strategic,
                        sales_owner: args.sales_owner.clone(),
                        marketing_owner: args.marketing_owner.clone(),
                        source: "manual".to_owned(),
                        origin: None,
                    })
                    .collect()
            };
            if proposals.is_empty() {
                println!("No account matches the rule outside the TAL.");
                return Ok(ExitCode::SUCCESS);
            }
            let rows = tal_actions::propose(store.sql(), &actor, &proposals, at)?;
            report("Proposed", &rows);
        }
        TalCommand::Approve(args) => {
            let decision = Decision {
                reason: args.reason.clone().unwrap_or_default(),
                tier: parse_tier(args.tier.as_ref())?,
                sales_owner: args.sales_owner.clone(),
                marketing_owner: args.marketing_owner.clone(),
            };
            need_domains(&args.domains)?;
            let rows = tal_actions::approve(
                store.sql(),
                &actor,
                &args.domains,
                &decision,
                &config.tal,
                at,
            )?;
            report("Approved", &rows);
        }
        TalCommand::Reject(args) => {
            need_domains(&args.domains)?;
            let rows = tal_actions::reject_or_remove(
                store.sql(),
                &actor,
                TalAction::Reject,
                &args.domains,
                &args.reason,
                at,
            )?;
            report("Rejected", &rows);
        }
        TalCommand::Remove(args) => {
            need_domains(&args.domains)?;
            let rows = tal_actions::reject_or_remove(
                store.sql(),
                &actor,
                TalAction::Remove,
                &args.domains,
                &args.reason,
                at,
            )?;
            report("Removed", &rows);
        }
        TalCommand::Import(args) => {
            let proposals = read_file(&args.file)?;
            let rows = tal_actions::propose(store.sql(), &actor, &proposals, at)?;
            report("Proposed", &rows);
        }
        TalCommand::Tier { domain, tier } => {
            let tier = if tier.trim().eq_ignore_ascii_case("auto") {
                None
            } else {
                Some(Tier::parse(tier)?)
            };
            let row = tal_actions::set_tier(store.sql(), &actor, domain, tier, &config.tal, at)?;
            println!(
                "{} is {} ({}).",
                row.domain,
                row.tier.as_deref().unwrap_or("untiered"),
                row.tier_reason.as_deref().unwrap_or_default()
            );
        }
        TalCommand::Owners(args) => {
            let row = tal_actions::set_owners(
                store.sql(),
                &actor,
                &args.domain,
                args.sales.clone(),
                args.marketing.clone(),
                args.strategic,
                at,
            )?;
            println!(
                "{}: sales {}, marketing {}{}.",
                row.domain,
                row.sales_owner.as_deref().unwrap_or("—"),
                row.marketing_owner.as_deref().unwrap_or("—"),
                if row.strategic { ", strategic" } else { "" }
            );
        }
        TalCommand::Retier => {
            let (changed, held) = tal_actions::retier(store.sql(), &actor, &config.tal, at)?;
            for change in &changed {
                println!(
                    "{}: {} → {} ({})",
                    change.domain,
                    change.from.as_deref().unwrap_or("untiered"),
                    change.to,
                    change.reason
                );
            }
            for line in &held {
                println!("{line}");
            }
            println!("{} accounts re-tiered, {} held.", changed.len(), held.len());
        }
        TalCommand::List(_) | TalCommand::Audit(_) | TalCommand::Suggest(_) => {}
    }
    if actor.fresh_install {
        println!(
            "(acting as {} with administrator rights: no users are registered yet)",
            actor.email
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn need_domains(domains: &[String]) -> Result<()> {
    if domains.is_empty() {
        bail!("name at least one account (its domain)");
    }
    Ok(())
}

fn report(verb: &str, rows: &[TalRow]) {
    for row in rows {
        println!(
            "{verb} {}{}.",
            row.domain,
            row.tier
                .as_deref()
                .map(|tier| format!(" as {tier}"))
                .unwrap_or_default()
        );
    }
}

/// The accounts a rule picks among the stored scores, best priority first, not on the TAL.
fn rule_proposals(
    store: &mut dyn abm_store::Store,
    config: &Config,
    args: &ProposeArgs,
) -> Result<Vec<Proposal>> {
    let on_list: std::collections::HashSet<i64> = team::tal_entries(store.sql())?
        .into_iter()
        // A rule never brings back an account people already decided on (rejected, removed).
        .map(|row| row.account_id)
        .collect();
    let in_market = config.tal.in_market_intent.get();
    let mut picked = Vec::new();
    for stored in store.stored_scores()? {
        if on_list.contains(&stored.account.0) {
            continue;
        }
        let values = stored.values;
        if args.min_fit.is_some_and(|min| values.fit < min)
            || (args.in_market && values.intent < in_market)
        {
            continue;
        }
        let mut reasons = Vec::new();
        if let Some(min) = args.min_fit {
            reasons.push(format!("fit {:.0} ≥ {min}", values.fit));
        }
        if args.in_market {
            reasons.push(format!(
                "in market: intent {:.0} ≥ {in_market}",
                values.intent
            ));
        }
        picked.push(Proposal {
            domain: stored.domain,
            reason: format!("rule: {}", reasons.join(" and ")),
            tier: parse_tier(args.tier.as_ref())?,
            strategic: args.strategic,
            sales_owner: args.sales_owner.clone(),
            marketing_owner: args.marketing_owner.clone(),
            source: "rule".to_owned(),
            origin: None,
        });
        if picked.len() >= args.limit {
            break;
        }
    }
    Ok(picked)
}

/// Reads a TAL file: a header with `domain` and optionally reason, tier, strategic,
/// sales_owner, marketing_owner. Every problem is named by line, column and value.
fn read_file(path: &std::path::Path) -> Result<Vec<Proposal>> {
    const MAX_ROWS: usize = 100_000;
    let file = super::small_csv::SmallCsv::open(path)?;
    let shown = file.shown.clone();
    let Some(domain_column) = file.column("domain") else {
        bail!(
            "{shown}: line 1: no `domain` column (columns: domain, reason, tier, strategic, sales_owner, marketing_owner)"
        );
    };
    let known = [
        "domain",
        "reason",
        "tier",
        "strategic",
        "sales_owner",
        "marketing_owner",
    ];
    if let Some((index, header)) = file
        .header_names()
        .enumerate()
        .find(|(_, header)| !known.iter().any(|k| k.eq_ignore_ascii_case(header)))
    {
        bail!(
            "{}",
            problem(
                &shown,
                1,
                Some(index),
                &format!("unknown column {header:?} (use {})", known.join(", "))
            )
        );
    }
    let columns: Vec<Option<usize>> = known.iter().map(|name| file.column(name)).collect();
    let column = |name: &str| {
        known
            .iter()
            .position(|k| *k == name)
            .and_then(|i| columns[i])
    };
    let mut reader = file.reader();
    let mut proposals = Vec::new();
    let mut problems = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                problems.push(format!("{shown}: {error}"));
                break;
            }
        };
        let line = file.line(&record);
        let field = |name: &str| {
            column(name)
                .and_then(|i| record.get(i))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let domain = record.get(domain_column).map(str::trim).unwrap_or_default();
        if domain.is_empty() {
            problems.push(problem(
                &shown,
                line,
                Some(domain_column),
                "domain is empty",
            ));
            continue;
        }
        let tier = match field("tier").map(Tier::parse).transpose() {
            Ok(tier) => tier,
            Err(error) => {
                problems.push(problem(&shown, line, column("tier"), &error.to_string()));
                continue;
            }
        };
        let strategic = match field("strategic").map(abm_core::parse_bool).transpose() {
            Ok(value) => value.unwrap_or(false),
            Err(error) => {
                let value = field("strategic").unwrap_or_default();
                problems.push(problem(
                    &shown,
                    line,
                    column("strategic"),
                    &format!("{value:?}: {error}"),
                ));
                continue;
            }
        };
        proposals.push(Proposal {
            domain: domain.to_owned(),
            reason: field("reason").unwrap_or("from a file").to_owned(),
            tier,
            strategic,
            sales_owner: field("sales_owner").map(str::to_owned),
            marketing_owner: field("marketing_owner").map(str::to_owned),
            source: "file".to_owned(),
            origin: Some(format!(
                "{shown}: line {line}, column {}",
                domain_column + 1
            )),
        });
        if proposals.len() > MAX_ROWS {
            bail!("{shown}: more than {MAX_ROWS} rows: a TAL is not that long; split the file");
        }
    }
    if !problems.is_empty() {
        let count = problems.len();
        problems.truncate(20);
        bail!(
            "{}\n{count} problems; nothing was changed",
            problems.join("\n")
        );
    }
    if proposals.is_empty() {
        bail!("{shown}: no rows to import");
    }
    Ok(proposals)
}

/// The JSON row of `abm tal list`; its keys are a stable contract.
#[derive(serde::Serialize)]
struct ListRow<'a> {
    domain: &'a str,
    name: Option<&'a str>,
    status: &'a str,
    tier: Option<&'a str>,
    tier_set_by_hand: bool,
    tier_reason: Option<&'a str>,
    cluster: Option<&'a str>,
    owner: Option<&'a str>,
    sales_owner: Option<&'a str>,
    marketing_owner: Option<&'a str>,
    strategic: bool,
    source: &'a str,
    reason: &'a str,
    proposed_by: &'a str,
    updated_by: &'a str,
    updated_at: String,
}

fn list(store: &mut dyn abm_store::Store, args: &ListArgs) -> Result<ExitCode> {
    let status = match &args.status {
        Some(text) => match TalStatus::from_key(text.trim()) {
            Some(status) => Some(status.as_str()),
            None => bail!("--status {text:?}: use proposed, approved, rejected or removed"),
        },
        None => None,
    };
    let tier = parse_tier(args.tier.as_ref())?;
    let rows: Vec<TalRow> = team::tal_entries(store.sql())?
        .into_iter()
        .filter(|row| status.is_none_or(|status| row.status == status))
        .filter(|row| tier.is_none_or(|tier| row.tier.as_deref() == Some(tier.as_str())))
        .collect();
    let records: Vec<ListRow<'_>> = rows
        .iter()
        .map(|row| ListRow {
            domain: &row.domain,
            name: row.name.as_deref(),
            status: &row.status,
            tier: row.tier.as_deref(),
            tier_set_by_hand: row.tier_override.is_some(),
            tier_reason: row.tier_reason.as_deref(),
            cluster: row.cluster.as_deref(),
            owner: row.sales_owner.as_deref().or(row.owner.as_deref()),
            sales_owner: row.sales_owner.as_deref(),
            marketing_owner: row.marketing_owner.as_deref(),
            strategic: row.strategic,
            source: &row.source,
            reason: &row.reason,
            proposed_by: &row.proposed_by,
            updated_by: &row.updated_by,
            updated_at: when::show(row.updated_at),
        })
        .collect();
    match args.format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&records)?),
        OutputFormat::Csv => {
            println!("domain,name,status,tier,cluster,owner,marketing_owner,reason,updated_at");
            for r in &records {
                println!(
                    "{}",
                    output::csv_line(&[
                        r.domain.to_owned(),
                        r.name.unwrap_or_default().to_owned(),
                        r.status.to_owned(),
                        r.tier.unwrap_or_default().to_owned(),
                        r.cluster.unwrap_or_default().to_owned(),
                        r.owner.unwrap_or_default().to_owned(),
                        r.marketing_owner.unwrap_or_default().to_owned(),
                        r.reason.to_owned(),
                        r.updated_at.clone(),
                    ])
                );
            }
        }
        OutputFormat::Table => {
            if records.is_empty() {
                println!(
                    "The TAL is empty: `abm tal suggest` lists good candidates, `abm tal propose DOMAIN --reason …` proposes one."
                );
                return Ok(ExitCode::SUCCESS);
            }
            let table: Vec<Vec<String>> = records
                .iter()
                .map(|r| {
                    vec![
                        r.domain.to_owned(),
                        r.status.to_owned(),
                        format!(
                            "{}{}",
                            r.tier.unwrap_or("-"),
                            if r.tier_set_by_hand { "*" } else { "" }
                        ),
                        r.cluster.unwrap_or("-").to_owned(),
                        r.owner.unwrap_or("-").to_owned(),
                        r.marketing_owner.unwrap_or("-").to_owned(),
                        r.reason.to_owned(),
                    ]
                })
                .collect();
            output::print_table(
                &[
                    "domain",
                    "status",
                    "tier",
                    "cluster",
                    "sales owner",
                    "marketing owner",
                    "reason",
                ],
                &table,
                &[],
            );
            let mut counts = std::collections::BTreeMap::new();
            for row in rows.iter().filter(|row| row.status == "approved") {
                *counts
                    .entry(row.tier.clone().unwrap_or_default())
                    .or_insert(0u64) += 1;
            }
            let summary: Vec<String> = counts
                .iter()
                .map(|(tier, count)| format!("{tier} {count}"))
                .collect();
            println!(
                "\napproved: {} (* = tier set by hand)",
                if summary.is_empty() {
                    "none".to_owned()
                } else {
                    summary.join(", ")
                }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn audit(store: &mut dyn abm_store::Store, args: &AuditArgs) -> Result<ExitCode> {
    let account = match &args.domain {
        Some(domain) => match abm_engine::team::resolve_account(store.sql(), domain)? {
            Ok(account) => Some(account.id),
            Err(refusal) => bail!("{refusal}"),
        },
        None => None,
    };
    let trail = team::audit_trail(store.sql(), account)?;
    match args.format {
        OutputFormat::Json => {
            let rows: Vec<serde_json::Value> = trail
                .iter()
                .map(|row| {
                    serde_json::json!({
                        "domain": row.domain, "at": when::show(row.at), "actor": row.actor,
                        "authority": row.authority, "action": row.action, "from": row.from_status,
                        "to": row.to_status, "tier": row.tier, "reason": row.reason,
                    })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&rows)?);
        }
        OutputFormat::Csv | OutputFormat::Table => {
            let table: Vec<Vec<String>> = trail
                .iter()
                .map(|row| {
                    vec![
                        when::show(row.at),
                        row.domain.clone(),
                        row.action.clone(),
                        format!(
                            "{} → {}",
                            row.from_status.as_deref().unwrap_or("-"),
                            row.to_status
                        ),
                        row.tier.clone().unwrap_or_else(|| "-".into()),
                        format!("{} ({})", row.actor, row.authority),
                        row.reason.clone(),
                    ]
                })
                .collect();
            if args.format == OutputFormat::Csv {
                println!("at,domain,action,change,tier,actor,reason");
                for row in &table {
                    println!("{}", output::csv_line(row));
                }
            } else {
                output::print_table(
                    &["at", "domain", "action", "change", "tier", "by", "reason"],
                    &table,
                    &[],
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The best accounts (by stored priority) with no TAL entry, each explained by its largest
/// contributions.
fn suggest(
    store: &mut dyn abm_store::Store,
    config: &Config,
    args: &SuggestArgs,
) -> Result<ExitCode> {
    let known: std::collections::HashSet<i64> = team::tal_entries(store.sql())?
        .into_iter()
        .map(|row| row.account_id)
        .collect();
    let mut stored = store.stored_scores()?;
    if stored.is_empty() {
        bail!("no scores yet: run `abm score` first");
    }
    stored.retain(|score| !known.contains(&score.account.0) && score.stage.as_str() != "customer");
    stored.truncate(args.limit);
    let ids: Vec<abm_core::AccountId> = stored.iter().map(|score| score.account).collect();
    let as_of = stored
        .iter()
        .map(|score| score.scored_at)
        .max()
        .unwrap_or_else(now);
    let scoring = scoring::compute(
        store,
        &config.scoring(),
        as_of,
        Some(&ids),
        scoring::Keep::Contributions,
    )?;
    let mut rows = Vec::new();
    for score in &stored {
        let Some(scored) = scoring.accounts.iter().find(|a| a.id == score.account) else {
            continue;
        };
        let scores = scored.assessment.scores.rounded();
        let mut parts: Vec<(String, f64)> = Vec::new();
        for (label, s) in [
            ("fit", &scores.fit),
            ("intent", &scores.intent),
            ("engagement", &scores.engagement),
        ] {
            for c in s
                .contributions
                .iter()
                .filter(|c| c.points > 0.0 && !c.name.starts_with("baseline"))
            {
                parts.push((format!("{label}: {}", c.name), c.points));
            }
        }
        parts.sort_by(|a, b| b.1.total_cmp(&a.1));
        let why: Vec<String> = parts
            .iter()
            .take(3)
            .map(|(name, points)| format!("{name} {points:+.0}"))
            .collect();
        rows.push(serde_json::json!({
            "domain": score.domain, "name": score.name,
            "priority": (score.values.priority * 10.0).round() / 10.0,
            "fit": (score.values.fit * 10.0).round() / 10.0,
            "intent": (score.values.intent * 10.0).round() / 10.0,
            "engagement": (score.values.engagement * 10.0).round() / 10.0,
            "stage": score.stage.as_str(), "why": why,
        }));
    }
    match args.format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
        OutputFormat::Csv | OutputFormat::Table => {
            let table: Vec<Vec<String>> = rows
                .iter()
                .map(|row| {
                    vec![
                        row["domain"].as_str().unwrap_or_default().to_owned(),
                        format!("{:.0}", row["priority"].as_f64().unwrap_or_default()),
                        format!("{:.0}", row["fit"].as_f64().unwrap_or_default()),
                        format!("{:.0}", row["intent"].as_f64().unwrap_or_default()),
                        format!("{:.0}", row["engagement"].as_f64().unwrap_or_default()),
                        row["stage"].as_str().unwrap_or_default().to_owned(),
                        row["why"]
                            .as_array()
                            .map(|why| {
                                why.iter()
                                    .filter_map(|w| w.as_str())
                                    .collect::<Vec<_>>()
                                    .join("; ")
                            })
                            .unwrap_or_default(),
                    ]
                })
                .collect();
            output::print_table(
                &[
                    "domain",
                    "priority",
                    "fit",
                    "intent",
                    "engagement",
                    "stage",
                    "why",
                ],
                &table,
                &["priority", "fit", "intent", "engagement"],
            );
            println!("\nPropose with: abm tal propose DOMAIN… --reason \"…\"");
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn read(text: &str) -> Result<Vec<Proposal>> {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("tal.csv");
        std::fs::write(&path, text).unwrap();
        read_file(&path)
    }

    #[test]
    fn a_tal_file_names_each_rows_own_line() {
        // Saved from Excel on Windows, with a gap between the rows.
        let proposals =
            read("domain,tier,reason\r\nacme.com,1:1,champion\r\n\r\nglobex.com,,\r\n").unwrap();
        let origins: Vec<&str> = proposals
            .iter()
            .filter_map(|proposal| proposal.origin.as_deref())
            .collect();
        assert!(
            origins[0].ends_with("tal.csv: line 2, column 1"),
            "{origins:?}"
        );
        assert!(
            origins[1].ends_with("tal.csv: line 4, column 1"),
            "{origins:?}"
        );
        assert_eq!(proposals[1].reason, "from a file");
        let error = read("domain,tier\nacme.com,1:1\n\n\nglobex.com,2:2\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("line 5, column 2"), "{error}");
        assert!(error.contains("nothing was changed"), "{error}");
    }
}
