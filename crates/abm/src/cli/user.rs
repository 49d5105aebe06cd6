//! `abm user add|list`: the people who act on the data, with their role (admin, marketing,
//! sales, viewer). The web interface adds passwords and tokens; the CLI names users with --as.

use super::config::Config;
use super::{Context, actor};
use crate::output::{self, OutputFormat};
use abm_core::Email;
use abm_core::tal::UserRole;
use abm_engine::team::users;
use abm_store::team;
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
            let now = jiff::Timestamp::now().as_microsecond();
            // A password for the web comes on standard input when it is not a terminal
            // (`printf '%s' "$PASSWORD" | abm user add …`); none means a CLI-only user.
            let password = read_password()?;
            let password_hash = match &password {
                Some(password) => {
                    Some(abm_web::auth::hash_password(password).map_err(anyhow::Error::msg)?)
                }
                None => None,
            };
            let added = users::add_user(
                store.sql(),
                &acting,
                &users::NewUser {
                    email: email.clone(),
                    role,
                    name: name.clone(),
                    password_hash,
                },
                now,
            )?;
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
    /// The API tokens: the start of each one's digest (its name), user, creation time
    List,
    /// Revoke a token by the start of its digest, as `abm token list` shows it
    Revoke { digest: String },
}

pub fn run_token(context: &Context, command: &TokenCommand) -> Result<ExitCode> {
    let config = Config::load(&context.config_path)?;
    let mut store = context.open_store()?;
    let acting = actor::resolve(context, &config, store.as_mut())?;
    let email = match command {
        TokenCommand::Create { email } => email,
        TokenCommand::List => {
            let rows: Vec<Vec<String>> = team::tokens(store.sql())?
                .into_iter()
                .map(|(digest, email, created)| {
                    vec![
                        users::short_digest(&digest).to_owned(),
                        email,
                        super::when::show(created),
                    ]
                })
                .collect();
            output::print_table(&["token", "user", "created"], &rows, &[]);
            return Ok(ExitCode::SUCCESS);
        }
        TokenCommand::Revoke { digest } => {
            let prefix = digest.trim().to_lowercase();
            if prefix.len() < 8 {
                bail!("{digest:?}: give at least the 8 first characters `abm token list` shows");
            }
            let matching: Vec<String> = team::tokens(store.sql())?
                .into_iter()
                .map(|(digest, _, _)| digest)
                .filter(|digest| digest.starts_with(&prefix))
                .collect();
            let [found] = matching.as_slice() else {
                bail!(
                    "{} tokens start with {prefix:?}: give exactly one",
                    matching.len()
                );
            };
            let now = jiff::Timestamp::now().as_microsecond();
            users::revoke_token(store.sql(), &acting, found, now)?;
            println!("Revoked token {}.", users::short_digest(found));
            return Ok(ExitCode::SUCCESS);
        }
    };
    let Some(user) = team::user_by_email(store.sql(), email)? else {
        bail!("no user {email}: abm user add {email} --role …");
    };
    let token = abm_web::auth::new_secret();
    let now = jiff::Timestamp::now().as_microsecond();
    users::create_token(
        store.sql(),
        &acting,
        &user.email,
        &abm_web::auth::digest(&token),
        now,
    )?;
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}
