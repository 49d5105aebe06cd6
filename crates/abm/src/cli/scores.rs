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
    // Reports read weekly rollups of the log: bring them up to date while we are at it, so
    // the first report after an import answers at once.
    let started = std::time::Instant::now();
    let refreshed = abm_engine::reports::refresh(
        store.as_mut(),
        &config,
        jiff::Timestamp::now().as_microsecond(),
    )?;
    if refreshed.new_rows > 0 || refreshed.rebuilt_accounts > 0 {
        println!(
            "Report rollups: {} new activities, {} accounts rolled up again, in {:.1} s.",
            output::thousands(refreshed.new_rows as u64),
            output::thousands(refreshed.rebuilt_accounts as u64),
            started.elapsed().as_secs_f64()
        );
    }
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
    let now = jiff::Timestamp::now();
    let as_of = match &args.as_of {
        Some(text) => Some(when::as_of(Some(text), now)?),
        None => None,
    };
    let settings = abm_engine::team::view::ViewSettings {
        scoring: &config,
        triggers: &full_config.triggers,
        why_us: &full_config.why_us,
        profiles: None,
    };
    let Some(view) = abm_engine::team::view::account_view(
        store.as_mut(),
        settings,
        &domain,
        as_of,
        now.as_microsecond(),
    )?
    else {
        bail!("no account owns the domain {domain}; `abm accounts` lists the accounts");
    };
    if args.format == OutputFormat::Json {
        println!("{}", serde_json::to_string_pretty(&view.to_json())?);
        return Ok(ExitCode::SUCCESS);
    }
    let shown = &view.scores;
    println!(
        "{} — {}",
        view.account.domain,
        view.account.name.as_deref().unwrap_or("(no name)")
    );
    println!("  scored as of {}", when::show(view.as_of));
    println!("  stage {} ({})", view.stage.as_str(), view.stage_reason);
    match &view.tal {
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
    if !view.flags.is_empty() {
        println!("  advocacy: {}", view.flags.join(", "));
    }
    println!(
        "  priority {:.0}   fit {:.0}   intent {:.0}   engagement {:.0}",
        shown.priority.value, shown.fit.value, shown.intent.value, shown.engagement.value
    );
    for (title, lines) in [
        ("why this account:", &view.why.this_account),
        ("why now:", &view.why.now),
        ("why us:", &view.why.us),
    ] {
        println!(
            "{}{title}",
            if title.starts_with("why this") {
                "\n"
            } else {
                ""
            }
        );
        for line in lines {
            println!("    {line}");
        }
    }
    println!("next best action:");
    for action in &view.next_actions {
        println!("    {} — {}", action.action, action.because);
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
    print_buying_group(&view.group);
    if !view.triggers.is_empty() {
        println!("\ntrigger events:");
        for trigger in &view.triggers {
            println!(
                "  {}  {}: {}",
                when::show(trigger.at),
                trigger.kind,
                trigger.evidence
            );
        }
    }
    if let Some(plan) = &view.plan {
        println!(
            "\naccount plan: version {} ({} by {}): abm plan show {}",
            plan.version,
            when::show(plan.updated_at),
            plan.updated_by,
            view.account.domain
        );
    }
    print_history(&view.history);
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
