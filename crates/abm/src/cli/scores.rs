//! `abm score`, `abm accounts` and `abm account`: computing the scores, the ranked list, and
//! one account with every contribution. Stored scores are read when they answer the
//! question; `--as-of` computes afresh from what was known then.

use super::Context;
use super::config::Config;
use super::when;
use crate::output::{self, OutputFormat};
use abm_core::Domain;
use abm_core::score::{Score, ScoreValues, Stage};
use abm_engine::scoring::{self, ScoredAccount};
use abm_store::{StageChange, Store, StoredScore};
use anyhow::{Result, bail};
use std::collections::BTreeMap;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct ScoreArgs {
    /// Score as of this date (YYYY-MM-DD, the end of that day UTC) or RFC 3339 time [default: now]
    #[arg(long)]
    as_of: Option<String>,
    /// Rebuild the stage history from the data: score weekly over this period (52w, 365d)
    /// and replace the stored scores and stage changes with what that shows
    #[arg(long, value_name = "PERIOD")]
    replay: Option<String>,
}

#[derive(clap::Args)]
pub struct AccountsArgs {
    /// Only the N accounts of highest priority
    #[arg(long)]
    top: Option<usize>,
    /// Only accounts in this journey stage (target, aware, engaged, qualified, opportunity, customer, lost, re_engaged)
    #[arg(long)]
    stage: Option<String>,
    /// Only accounts approved on the TAL in this tier (1:1, 1:few, 1:many), or `none` for
    /// accounts not on it
    #[arg(long)]
    tier: Option<String>,
    /// Compute the scores as of this date instead of reading the stored ones
    #[arg(long)]
    as_of: Option<String>,
    /// table for people, csv or json for scripts
    #[arg(long, value_enum, default_value = "table")]
    format: OutputFormat,
}

#[derive(clap::Args)]
pub struct AccountArgs {
    /// The account's domain (or any of its aliases)
    domain: String,
    /// Every score with its contributions, largest first
    #[arg(long)]
    why: bool,
    /// Compute the scores as of this date instead of reading the stored ones
    #[arg(long)]
    as_of: Option<String>,
    /// table for people, json for scripts
    #[arg(long, value_enum, default_value = "table")]
    format: OutputFormat,
}

/// One row of the ranked list, whichever way it was obtained.
struct Ranked {
    id: i64,
    domain: String,
    name: Option<String>,
    values: ScoreValues,
    stage: Stage,
    stage_reason: String,
    /// The tier of an account approved on the TAL; none otherwise.
    tier: Option<String>,
}

impl Ranked {
    fn from_stored(stored: StoredScore) -> Self {
        Ranked {
            id: stored.account.0,
            domain: stored.domain,
            name: stored.name,
            values: stored.values,
            stage: stored.stage,
            stage_reason: stored.stage_reason,
            tier: None,
        }
    }

    fn from_scored(scored: ScoredAccount) -> Self {
        Ranked {
            id: scored.id.0,
            domain: scored.domain,
            name: scored.name,
            values: scored.assessment.scores.values(),
            stage: scored.assessment.stage,
            stage_reason: scored.assessment.stage_reason,
            tier: None,
        }
    }
}

fn sort_ranked(rows: &mut [Ranked]) {
    rows.sort_by(|a, b| {
        b.values
            .priority
            .total_cmp(&a.values.priority)
            .then_with(|| a.domain.cmp(&b.domain))
    });
}

pub fn run_score(context: &Context, args: &ScoreArgs) -> Result<ExitCode> {
    let full_config = Config::load(&context.config_path)?;
    let config = full_config.scoring();
    let as_of = when::as_of(args.as_of.as_deref(), jiff::Timestamp::now())?;
    let mut store = context.open_store()?;
    let started = std::time::Instant::now();
    let (scoring, saved) = match &args.replay {
        Some(period) => {
            let days = when::days(period, "--replay")?;
            let replay = scoring::replay(
                store.as_mut(),
                &config,
                &full_config.triggers,
                as_of,
                days,
                7,
            )?;
            println!(
                "Replayed {} weekly instants: {} stage changes rebuilt.",
                replay.instants,
                output::thousands(replay.stage_changes as u64)
            );
            let saved = abm_store::SaveOutcome {
                saved: replay.scoring.accounts.len() as u64,
                stage_changes: replay.stage_changes as u64,
                skipped_newer: 0,
            };
            (replay.scoring, saved)
        }
        None => scoring::rescore(store.as_mut(), &config, &full_config.triggers, as_of, None)?,
    };
    let elapsed = started.elapsed();
    let mut stages: BTreeMap<Stage, u64> = BTreeMap::new();
    for account in &scoring.accounts {
        *stages.entry(account.assessment.stage).or_default() += 1;
    }
    println!(
        "Scored {} accounts as of {} in {:.1} s.",
        output::thousands(scoring.accounts.len() as u64),
        when::show(as_of),
        elapsed.as_secs_f64()
    );
    if scoring.profile_customers > 0 {
        println!(
            "Fit learned what {} customers share (add ICP rules to abm.toml to state it yourself).",
            output::thousands(u64::from(scoring.profile_customers))
        );
    } else if config.fit.profile.enabled {
        println!(
            "Fit: too few customers to learn from (fewer than {}); only ICP rules count.",
            config.fit.profile.min_customers.0
        );
    }
    let stage_list: Vec<String> = stages
        .iter()
        .map(|(stage, count)| format!("{} {}", stage.as_str(), output::thousands(*count)))
        .collect();
    if stage_list.is_empty() {
        println!("No accounts yet: import them with `abm import accounts FILE`.");
    } else {
        println!("Stages: {}.", stage_list.join(", "));
    }
    println!(
        "Saved {} scores, {} stage changes{}.",
        output::thousands(saved.saved),
        output::thousands(saved.stage_changes),
        if saved.skipped_newer > 0 {
            format!(
                "; {} accounts kept their newer stored scores",
                output::thousands(saved.skipped_newer)
            )
        } else {
            String::new()
        }
    );
    let mut ranked: Vec<Ranked> = scoring
        .accounts
        .into_iter()
        .map(Ranked::from_scored)
        .collect();
    sort_ranked(&mut ranked);
    ranked.truncate(10);
    if !ranked.is_empty() {
        println!(
            "\nTop {} by priority (abm accounts --top 50 for more):",
            ranked.len()
        );
        print_ranked(&ranked, OutputFormat::Table)?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_accounts(context: &Context, args: &AccountsArgs) -> Result<ExitCode> {
    let stage = match &args.stage {
        Some(text) => match Stage::parse(text) {
            Some(stage) => Some(stage),
            None => bail!(
                "--stage {text:?}: expected one of {}",
                Stage::ALL.map(Stage::as_str).join(", ")
            ),
        },
        None => None,
    };
    let full_config = Config::load(&context.config_path)?;
    let config = full_config.scoring();
    let mut store = context.open_store()?;
    let mut rows: Vec<Ranked> = match &args.as_of {
        Some(as_of) => {
            let as_of = when::as_of(Some(as_of), jiff::Timestamp::now())?;
            scoring::compute(store.as_mut(), &config, as_of, None, scoring::Keep::Values)?
                .accounts
                .into_iter()
                .map(Ranked::from_scored)
                .collect()
        }
        None => {
            let stored = store.stored_scores()?;
            if stored.is_empty() && store.counts()?.accounts > 0 {
                // Never scored: score now, so the first look at the list is not empty.
                let as_of = jiff::Timestamp::now().as_microsecond();
                scoring::rescore(store.as_mut(), &config, &full_config.triggers, as_of, None)?;
                store
                    .stored_scores()?
                    .into_iter()
                    .map(Ranked::from_stored)
                    .collect()
            } else {
                stored.into_iter().map(Ranked::from_stored).collect()
            }
        }
    };
    let tiers: std::collections::HashMap<i64, String> =
        abm_store::team::approved_tiers(store.sql())?
            .into_iter()
            .collect();
    for row in &mut rows {
        row.tier = tiers.get(&row.id).cloned();
    }
    if let Some(stage) = stage {
        rows.retain(|row| row.stage == stage);
    }
    match args.tier.as_deref().map(str::trim) {
        None => {}
        Some("none") => rows.retain(|row| row.tier.is_none()),
        Some(text) => {
            let tier = abm_core::tal::Tier::parse(text)?;
            rows.retain(|row| row.tier.as_deref() == Some(tier.as_str()));
        }
    }
    sort_ranked(&mut rows);
    if let Some(top) = args.top {
        rows.truncate(top);
    }
    print_ranked(&rows, args.format)?;
    Ok(ExitCode::SUCCESS)
}

/// The JSON and CSV row of `abm accounts`; the key names are a stable contract.
#[derive(serde::Serialize)]
struct AccountRow<'a> {
    domain: &'a str,
    name: Option<&'a str>,
    priority: f64,
    fit: f64,
    intent: f64,
    engagement: f64,
    stage: &'a str,
    tier: Option<&'a str>,
}

fn one_decimal(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

fn print_ranked(rows: &[Ranked], format: OutputFormat) -> Result<()> {
    let records: Vec<AccountRow<'_>> = rows
        .iter()
        .map(|row| AccountRow {
            domain: &row.domain,
            name: row.name.as_deref(),
            priority: one_decimal(row.values.priority),
            fit: one_decimal(row.values.fit),
            intent: one_decimal(row.values.intent),
            engagement: one_decimal(row.values.engagement),
            stage: row.stage.as_str(),
            tier: row.tier.as_deref(),
        })
        .collect();
    match format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&records)?),
        OutputFormat::Csv => {
            println!("domain,name,priority,fit,intent,engagement,stage,tier");
            for r in &records {
                println!(
                    "{}",
                    output::csv_line(&[
                        r.domain.to_owned(),
                        r.name.unwrap_or_default().to_owned(),
                        format!("{:.1}", r.priority),
                        format!("{:.1}", r.fit),
                        format!("{:.1}", r.intent),
                        format!("{:.1}", r.engagement),
                        r.stage.to_owned(),
                        r.tier.unwrap_or_default().to_owned(),
                    ])
                );
            }
        }
        OutputFormat::Table => {
            let table: Vec<Vec<String>> = records
                .iter()
                .enumerate()
                .map(|(rank, r)| {
                    vec![
                        (rank + 1).to_string(),
                        r.domain.to_owned(),
                        truncate(r.name.unwrap_or_default(), 32),
                        format!("{:.0}", r.priority),
                        format!("{:.0}", r.fit),
                        format!("{:.0}", r.intent),
                        format!("{:.0}", r.engagement),
                        r.stage.to_owned(),
                        r.tier.unwrap_or("-").to_owned(),
                    ]
                })
                .collect();
            output::print_table(
                &[
                    "#",
                    "domain",
                    "name",
                    "priority",
                    "fit",
                    "intent",
                    "engagement",
                    "stage",
                    "tier",
                ],
                &table,
                &["#", "priority", "fit", "intent", "engagement"],
            );
        }
    }
    Ok(())
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(width - 1).collect();
        cut.push('…');
        cut
    }
}

pub fn run_account(context: &Context, args: &AccountArgs) -> Result<ExitCode> {
    let domain = match Domain::parse(&args.domain) {
        Ok(domain) => domain,
        Err(error) => bail!("{:?} is not a domain: {error}", args.domain),
    };
    let full_config = Config::load(&context.config_path)?;
    let config = full_config.scoring();
    let mut store = context.open_store()?;
    let Some((id, account)) = store.account_by_domain(&domain)? else {
        bail!("no account owns the domain {domain}; `abm accounts` lists the accounts");
    };
    // The stored scores say when the account was last scored; its contributions are
    // recomputed as of that instant (the same data gives the same values), or as of --as-of.
    let as_of = match (&args.as_of, store.stored_score(id)?) {
        (Some(text), _) => when::as_of(Some(text), jiff::Timestamp::now())?,
        (None, Some(stored)) => stored.scored_at,
        (None, None) => jiff::Timestamp::now().as_microsecond(),
    };
    let loaded = scoring::load(store.as_mut(), &config, as_of, Some(&[id]))?;
    let topics = loaded
        .selected
        .first()
        .map(|&position| {
            abm_engine::team::clusters::recent_topics(
                &loaded.accounts[position].facts,
                config.intent.surge_threshold.get(),
                as_of,
            )
        })
        .unwrap_or_default();
    let scoring = scoring::assess_all(&loaded, &config, as_of, scoring::Keep::Contributions);
    drop(loaded);
    let Some(scored) = scoring.accounts.into_iter().next() else {
        bail!("the account {domain} could not be scored");
    };
    let scores = scored.assessment.scores.clone();
    let (mut row, scored_at) = (Ranked::from_scored(scored), as_of);
    let history = store.stage_history(id)?;
    let entry = abm_store::team::tal_entry(store.sql(), id.0)?;
    row.tier = entry
        .as_ref()
        .filter(|entry| entry.status == "approved")
        .and_then(|entry| entry.tier.clone());
    let group = abm_engine::team::buying_group::for_account(
        store.as_mut(),
        &config,
        &full_config.personas,
        id,
        as_of,
    )?;
    let recent = as_of - i64::from(full_config.triggers.recent_days.get()) * 86_400_000_000;
    let triggers = abm_store::team::triggers(store.sql(), Some(id.0), recent)?;
    let flags = abm_store::team::flags(store.sql(), id.0)?;
    let plan = abm_store::team::plan(store.sql(), id.0)?;
    let stories = match &account.industry {
        Some(industry) => abm_store::team::stories_in_industry(store.sql(), industry, id.0)?,
        None => Vec::new(),
    };
    let competitors: Vec<&str> = account
        .technologies
        .iter()
        .filter(|technology| {
            config
                .fit
                .competitors
                .technologies
                .iter()
                .any(|c| c.eq_ignore_ascii_case(technology))
        })
        .map(String::as_str)
        .collect();
    let why = abm_core::why::summarise(
        &scores,
        &abm_core::why::WhyInputs {
            triggers: triggers
                .iter()
                .map(|(_, t)| (t.kind.as_str(), t.evidence.as_str()))
                .collect(),
            topics: topics.iter().map(String::as_str).collect(),
            competitors,
            stories: stories.iter().map(String::as_str).collect(),
            industry: account.industry.as_deref(),
        },
        &full_config.why_us,
    );
    let shown = scores.rounded();
    let coverage: Vec<serde_json::Value> = group
        .coverage
        .roles
        .iter()
        .map(|role| {
            serde_json::json!({
                "role": role.role.as_str(),
                "known": role.known,
                "engaged": role.engaged,
                "expected": role.expected,
            })
        })
        .collect();
    match args.format {
        OutputFormat::Json => {
            let history: Vec<serde_json::Value> = history
                .iter()
                .map(|change| {
                    serde_json::json!({
                        "changed_at": when::show(change.changed_at),
                        "from": change.from.map(Stage::as_str),
                        "to": change.to.as_str(),
                        "reason": change.reason,
                    })
                })
                .collect();
            let members: Vec<serde_json::Value> = group
                .members
                .iter()
                .map(|member| {
                    serde_json::json!({
                        "email": member.email,
                        "name": member.name,
                        "title": member.title,
                        "function": member.persona.function.map(|f| f.as_str()),
                        "seniority": member.persona.seniority.as_str(),
                        "role": member.role.map(|r| r.as_str()),
                        "role_source": member.role_source,
                        "engaged": member.engaged,
                        "last_active": member.last_active.map(when::show),
                        "opted_out": member.opted_out,
                    })
                })
                .collect();
            let value = serde_json::json!({
                "domain": row.domain,
                "name": row.name,
                "scored_at": when::show(scored_at),
                "stage": row.stage.as_str(),
                "stage_reason": row.stage_reason,
                "tier": row.tier,
                "tal": entry.as_ref().map(|entry| serde_json::json!({
                    "status": entry.status,
                    "tier": entry.tier,
                    "cluster": entry.cluster,
                    "sales_owner": entry.sales_owner,
                    "marketing_owner": entry.marketing_owner,
                    "reason": entry.reason,
                })),
                "scores": {
                    "fit": shown.fit,
                    "intent": shown.intent,
                    "engagement": shown.engagement,
                    "priority": shown.priority,
                },
                "buying_group": coverage,
                "buying_group_coverage": {
                    "known": group.coverage.known_share,
                    "engaged": group.coverage.engaged_share,
                    "missing": group.coverage.missing.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
                },
                "contacts": members,
                "triggers": triggers.iter().map(|(_, t)| serde_json::json!({
                    "kind": t.kind,
                    "at": when::show(t.at),
                    "evidence": t.evidence,
                    "source": t.source,
                })).collect::<Vec<_>>(),
                "flags": flags,
                "plan_version": plan.as_ref().map(|plan| plan.version),
                "why": why,
                "stage_history": history,
            });
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
        OutputFormat::Table | OutputFormat::Csv => {
            println!(
                "{} — {}",
                row.domain,
                row.name.as_deref().unwrap_or("(no name)")
            );
            println!("  scored as of {}", when::show(scored_at));
            println!("  stage {} ({})", row.stage.as_str(), row.stage_reason);
            match &entry {
                Some(entry) => println!(
                    "  TAL {}{}{}; sales {}, marketing {}",
                    entry.status,
                    entry
                        .tier
                        .as_deref()
                        .map(|t| format!(", {t}"))
                        .unwrap_or_default(),
                    entry
                        .cluster
                        .as_deref()
                        .map(|c| format!(", cluster {c}"))
                        .unwrap_or_default(),
                    entry.sales_owner.as_deref().unwrap_or("—"),
                    entry.marketing_owner.as_deref().unwrap_or("—"),
                ),
                None => println!("  not on the TAL"),
            }
            if !flags.is_empty() {
                println!("  advocacy: {}", flags.join(", "));
            }
            println!(
                "  priority {:.0}   fit {:.0}   intent {:.0}   engagement {:.0}",
                shown.priority.value, shown.fit.value, shown.intent.value, shown.engagement.value
            );
            println!();
            println!("why this account:");
            for line in &why.this_account {
                println!("    {line}");
            }
            println!("why now:");
            for line in &why.now {
                println!("    {line}");
            }
            println!("why us:");
            for line in &why.us {
                println!("    {line}");
            }
            if args.why {
                for (name, score) in [
                    ("priority", &shown.priority),
                    ("fit", &shown.fit),
                    ("intent", &shown.intent),
                    ("engagement", &shown.engagement),
                ] {
                    println!();
                    print_why(name, score);
                }
            }
            print_buying_group(&group);
            if !triggers.is_empty() {
                println!("\ntrigger events:");
                for (_, trigger) in &triggers {
                    println!(
                        "  {}  {}: {}",
                        when::show(trigger.at),
                        trigger.kind,
                        trigger.evidence
                    );
                }
            }
            if let Some(plan) = &plan {
                println!(
                    "\naccount plan: version {} ({} by {}): abm plan show {}",
                    plan.version,
                    when::show(plan.updated_at),
                    plan.updated_by,
                    row.domain
                );
            }
            print_history(&history);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_buying_group(group: &abm_engine::team::buying_group::AccountBuyingGroup) {
    let coverage = &group.coverage;
    println!(
        "\nbuying group: {:.0}% of roles known, {:.0}% engaged{}",
        coverage.known_share * 100.0,
        coverage.engaged_share * 100.0,
        if coverage.missing.is_empty() {
            String::new()
        } else {
            format!(
                "; missing {}",
                coverage
                    .missing
                    .iter()
                    .map(|r| r.label())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    let rows: Vec<Vec<String>> = group
        .members
        .iter()
        .filter(|member| member.role.is_some())
        .map(|member| {
            vec![
                member
                    .role
                    .map(|r| r.label())
                    .unwrap_or_default()
                    .to_owned(),
                member.name.clone().unwrap_or_else(|| member.email.clone()),
                member.title.clone().unwrap_or_default(),
                if member.engaged {
                    "engaged".to_owned()
                } else {
                    member.last_active.map_or("never active".to_owned(), |at| {
                        format!("last active {}", when::show(at))
                    })
                },
                if member.role_source == "set by hand" {
                    "set by hand".to_owned()
                } else {
                    String::new()
                },
            ]
        })
        .collect();
    if !rows.is_empty() {
        output::print_table(&["role", "person", "title", "activity", ""], &rows, &[]);
    }
}

fn print_why(name: &str, score: &Score) {
    let parts: Vec<String> = score
        .contributions
        .iter()
        .filter(|c| c.points != 0.0 || c.name.contains("unknown"))
        .map(|c| format!("{} {:+.1}", c.name, c.points))
        .collect();
    if parts.is_empty() {
        println!("{name} {:.1}: nothing counts yet", score.value);
        return;
    }
    println!("{name} {:.1} =", score.value);
    for part in parts {
        println!("    {part}");
    }
}

fn print_history(history: &[StageChange]) {
    if history.is_empty() {
        return;
    }
    println!("\nstage history:");
    for change in history {
        println!(
            "  {}  {} → {}  ({})",
            when::show(change.changed_at),
            change.from.map_or("-", Stage::as_str),
            change.to.as_str(),
            change.reason
        );
    }
}

/// After an import: the touched accounts' scores, recomputed and saved, so the next
/// `abm accounts` shows them. Returns how many were rescored.
pub fn rescore_after_import(
    store: &mut dyn Store,
    config: &Config,
    touched: Option<&[abm_core::AccountId]>,
) -> Result<u64> {
    if touched.is_some_and(<[_]>::is_empty) {
        return Ok(0);
    }
    // Reading a few accounts' activities goes through the (account, time) index; past a
    // quarter of all accounts one scan of the log is cheaper than that many range reads.
    let accounts = store.counts()?.accounts;
    let touched = touched.filter(|list| (list.len() as u64) * 4 < accounts);
    let as_of = jiff::Timestamp::now().as_microsecond();
    let (scoring, _) =
        scoring::rescore(store, &config.scoring(), &config.triggers, as_of, touched)?;
    Ok(scoring.accounts.len() as u64)
}
