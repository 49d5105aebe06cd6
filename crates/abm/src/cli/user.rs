//! `abm user add|list`: the people who act on the data, with their role (admin, marketing,
//! sales, viewer). The web interface adds passwords and tokens; the CLI names users with --as.

use super::config::Config;
use super::{Context, actor};
use crate::output::{self, OutputFormat};
use abm_core::Email;
use abm_core::tal::UserRole;
use abm_store::team::{self, UserRecord};
use anyhow::{Result, bail};
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum UserCommand {
    /// Register a user (or change their role): abm user add ana@ourco.com --role sales
    Add {
        email: String,
        /// admin, marketing, sales or viewer
        #[arg(long)]
        role: String,
        /// The name the CRM uses for this person as an account owner ("Ana Ruiz")
        #[arg(long)]
        name: Option<String>,
    },
    /// The registered users
    List {
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
}

pub fn run(context: &Context, command: &UserCommand) -> Result<ExitCode> {
    let config = Config::load(&context.config_path)?;
    let mut store = context.open_store()?;
    match command {
        UserCommand::Add { email, role, name } => {
            let Some(role) = UserRole::from_key(role.trim()) else {
                bail!("--role {role:?}: use admin, marketing, sales or viewer");
            };
            let email = match Email::parse(email) {
                Ok(email) => email,
                Err(error) => bail!("{email:?} is not an email address: {error}"),
            };
            let acting = actor::resolve(context, &config, store.as_mut())?;
            if acting.role != UserRole::Admin {
                bail!(
                    "{} may not add users: only an administrator may",
                    acting.email
                );
            }
            let first = team::user_count(store.sql())? == 0;
            if first && role != UserRole::Admin {
                bail!(
                    "the first user must be an administrator (--role admin), or nobody could manage users afterwards"
                );
            }
            let name = name
                .as_ref()
                .map(|n| n.trim().to_owned())
                .filter(|n| !n.is_empty());
            if name.as_ref().is_some_and(|n| n.chars().count() > 200) {
                bail!("--name is at most 200 characters");
            }
            let now = jiff::Timestamp::now().as_microsecond();
            let record = UserRecord {
                email: email.as_str().to_owned(),
                name,
                role: role.as_str().to_owned(),
                created_at: now,
            };
            // A password for the web comes on standard input when it is not a terminal
            // (`printf '%s' "$PASSWORD" | abm user add …`); none means a CLI-only user.
            let password = read_password()?;
            let password_hash = match &password {
                Some(password) => {
                    Some(abm_web::auth::hash_password(password).map_err(anyhow::Error::msg)?)
                }
                None => None,
            };
            let added = abm_store::sql::transaction(store.sql(), |sql| -> Result<bool> {
                let before = team::user_by_email(sql, &record.email)?;
                // Nobody could manage users again once the last administrator is gone.
                if before.as_ref().is_some_and(|user| user.role == "admin")
                    && role != UserRole::Admin
                    && team::users_with_role(sql, "admin")? <= 1
                {
                    bail!(
                        "{} is the last administrator: make someone else an administrator first",
                        record.email
                    );
                }
                let added = team::upsert_user(sql, &record)?;
                if let Some(hash) = &password_hash {
                    team::set_password_hash(sql, &record.email, Some(hash))?;
                }
                abm_engine::team::log(
                    sql,
                    &acting,
                    if added { "user add" } else { "user change" },
                    &record.email,
                    &format!(
                        "role {}{}",
                        record.role,
                        before
                            .map(|b| format!(" (was {})", b.role))
                            .unwrap_or_default()
                    ),
                    now,
                )?;
                Ok(added)
            })?;
            println!(
                "{} {} as {}{}.",
                if added { "Added" } else { "Updated" },
                email.as_str(),
                role.as_str(),
                if password.is_some() {
                    ", with a password for the web"
                } else {
                    ""
                }
            );
        }
        UserCommand::List { format } => {
            let users = team::users(store.sql())?;
            match format {
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&users)?),
                OutputFormat::Csv => {
                    println!("email,name,role");
                    for user in &users {
                        println!(
                            "{}",
                            output::csv_line(&[
                                user.email.clone(),
                                user.name.clone().unwrap_or_default(),
                                user.role.clone()
                            ])
                        );
                    }
                }
                OutputFormat::Table => {
                    if users.is_empty() {
                        println!(
                            "No users yet: the CLI user acts as an administrator until `abm user add EMAIL --role admin`."
                        );
                    }
                    let rows: Vec<Vec<String>> = users
                        .iter()
                        .map(|user| {
                            vec![
                                user.email.clone(),
                                user.name.clone().unwrap_or_default(),
                                user.role.clone(),
                            ]
                        })
                        .collect();
                    output::print_table(&["email", "name", "role"], &rows, &[]);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct AuditArgs {
    #[arg(long, value_enum, default_value = "table")]
    format: OutputFormat,
}

/// `abm audit`: the changes to users, clusters, buying roles, flags and imported events (the
/// TAL's own trail is `abm tal audit`; plans keep their history).
pub fn run_audit(context: &Context, args: &AuditArgs) -> Result<ExitCode> {
    let mut store = context.open_store()?;
    let log = team::audit_log(store.sql())?;
    match args.format {
        OutputFormat::Json => {
            let rows: Vec<serde_json::Value> = log
                .iter()
                .map(|entry| {
                    serde_json::json!({
                        "at": super::when::show(entry.at),
                        "actor": entry.actor,
                        "action": entry.action,
                        "subject": entry.subject,
                        "detail": entry.detail,
                    })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&rows)?);
        }
        OutputFormat::Csv | OutputFormat::Table => {
            let rows: Vec<Vec<String>> = log
                .iter()
                .map(|entry| {
                    vec![
                        super::when::show(entry.at),
                        entry.actor.clone(),
                        entry.action.clone(),
                        entry.subject.clone(),
                        entry.detail.clone(),
                    ]
                })
                .collect();
            if args.format == OutputFormat::Csv {
                println!("at,actor,action,subject,detail");
                for row in &rows {
                    println!("{}", output::csv_line(row));
                }
            } else {
                output::print_table(&["at", "by", "action", "subject", "detail"], &rows, &[]);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The password on standard input, when it is not a terminal: the first line, at most 1 KB.
fn read_password() -> Result<Option<String>> {
    use std::io::{IsTerminal as _, Read as _};
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(None);
    }
    let mut text = String::new();
    stdin.lock().take(1025).read_to_string(&mut text)?;
    let password = text.lines().next().unwrap_or_default().to_owned();
    if password.len() > 1024 {
        bail!("the password on standard input is longer than 1,024 bytes");
    }
    if password.is_empty() {
        return Ok(None);
    }
    if password.chars().count() < 10 {
        bail!("a password needs at least 10 characters");
    }
    Ok(Some(password))
}

#[derive(clap::Subcommand)]
pub enum TokenCommand {
    /// Print a new API token for a user (shown once; send it as Authorization: Bearer TOKEN)
    Create { email: String },
}

pub fn run_token(context: &Context, command: &TokenCommand) -> Result<ExitCode> {
    let TokenCommand::Create { email } = command;
    let config = Config::load(&context.config_path)?;
    let mut store = context.open_store()?;
    let acting = actor::resolve(context, &config, store.as_mut())?;
    let Some(user) = team::user_by_email(store.sql(), email)? else {
        bail!("no user {email}: abm user add {email} --role …");
    };
    if acting.role != UserRole::Admin && acting.email != user.email {
        bail!(
            "{} may not create tokens for {}: only the user or an administrator may",
            acting.email,
            user.email
        );
    }
    let token = abm_web::auth::new_secret();
    let now = jiff::Timestamp::now().as_microsecond();
    abm_store::sql::transaction(store.sql(), |sql| -> Result<()> {
        team::add_token(sql, &abm_web::auth::digest(&token), &user.email, now)?;
        abm_engine::team::log(sql, &acting, "token create", &user.email, "API token", now)?;
        Ok(())
    })?;
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}
