//! `abm persona TITLE…` (how titles map to function, seniority and buying role, from the
//! dictionary and `[personas]` of abm.toml) and `abm role EMAIL ROLE` (a contact's buying role
//! set by hand, kept over the title).

use super::config::Config;
use super::{Context, actor};
use crate::output::{self, OutputFormat};
use abm_core::persona::{BuyingRole, TitleDictionary};
use abm_core::tal::UserRole;
use abm_store::team;
use anyhow::{Result, bail};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct PersonaArgs {
    /// Job titles, each one argument ("VP, Demand Gen" "Sr. Dir. of Sales Ops")
    #[arg(required = true)]
    titles: Vec<String>,
    #[arg(long, value_enum, default_value = "table")]
    format: OutputFormat,
}

#[derive(clap::Args)]
pub struct RoleArgs {
    /// The contact's email
    email: String,
    /// economic_buyer, decision_maker, technical_evaluator, champion, influencer, user,
    /// procurement, blocker; `none` for no role; `auto` to follow the title again
    role: String,
}

/// The JSON row of `abm persona`; its keys are a stable contract.
#[derive(serde::Serialize)]
struct PersonaRow<'a> {
    title: &'a str,
    function: Option<&'static str>,
    seniority: &'static str,
    role: Option<&'static str>,
    relevant: bool,
}

pub fn run(context: &Context, args: &PersonaArgs) -> Result<ExitCode> {
    let config = Config::load(&context.config_path)?;
    let dictionary = TitleDictionary::new(&config.personas);
    let rows: Vec<PersonaRow<'_>> = args
        .titles
        .iter()
        .map(|title| {
            let persona = dictionary.classify(title);
            PersonaRow {
                title,
                function: persona.function.map(|f| f.as_str()),
                seniority: persona.seniority.as_str(),
                role: persona.role.map(BuyingRole::as_str),
                relevant: persona.relevant,
            }
        })
        .collect();
    match args.format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
        OutputFormat::Csv => {
            println!("title,function,seniority,role,relevant");
            for row in &rows {
                println!(
                    "{}",
                    output::csv_line(&[
                        row.title.to_owned(),
                        row.function.unwrap_or_default().to_owned(),
                        row.seniority.to_owned(),
                        row.role.unwrap_or_default().to_owned(),
                        row.relevant.to_string(),
                    ])
                );
            }
        }
        OutputFormat::Table => {
            let table: Vec<Vec<String>> = rows
                .iter()
                .map(|row| {
                    vec![
                        row.title.to_owned(),
                        row.function.unwrap_or("-").to_owned(),
                        row.seniority.to_owned(),
                        row.role
                            .unwrap_or(if row.relevant { "-" } else { "- (not a buyer)" })
                            .to_owned(),
                    ]
                })
                .collect();
            output::print_table(
                &["title", "function", "seniority", "buying role"],
                &table,
                &[],
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_role(context: &Context, args: &RoleArgs) -> Result<ExitCode> {
    let config = Config::load(&context.config_path)?;
    let key = args
        .role
        .trim()
        .to_ascii_lowercase()
        .replace([' ', '-'], "_");
    let role = match key.as_str() {
        "auto" => None,
        "none" => Some("none"),
        other => match BuyingRole::from_key(other) {
            Some(role) => Some(role.as_str()),
            None => bail!(
                "unknown buying role {:?}: use {}, none or auto",
                args.role,
                BuyingRole::ALL
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    };
    let mut store = context.open_store()?;
    let actor = actor::resolve(context, &config, store.as_mut())?;
    if actor.role == UserRole::Viewer && !actor.fresh_install {
        bail!(
            "{} is a viewer and may not change buying roles",
            actor.email
        );
    }
    let email = args.email.trim().to_lowercase();
    let Some(person) = team::person_by_email(store.sql(), &email)? else {
        bail!("no contact {email}: import contacts first (abm import contacts FILE)");
    };
    let now = jiff::Timestamp::now().as_microsecond();
    abm_store::sql::transaction(store.sql(), |sql| -> Result<()> {
        team::set_role_override(sql, person.contact_id, role, &actor.email, now)?;
        let detail = role.unwrap_or("auto (from the title)");
        abm_engine::team::log(sql, &actor, "buying role", &email, detail, now)?;
        Ok(())
    })?;
    match role {
        None => {
            let persona = TitleDictionary::new(&config.personas)
                .classify(person.title.as_deref().unwrap_or_default());
            println!(
                "{email} follows the title again: {}",
                persona.role.map_or("no buying role", BuyingRole::label)
            );
        }
        Some("none") => println!("{email} holds no buying role (set by hand)."),
        Some(role) => println!(
            "{email} is {} (set by hand).",
            BuyingRole::from_key(role).map_or(role, BuyingRole::label)
        ),
    }
    Ok(ExitCode::SUCCESS)
}
