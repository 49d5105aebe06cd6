//! `abm webhook create|list`: the sources allowed to push activities to
//! `POST /api/v1/webhooks/SOURCE`, each with its own signing secret (admins only).

use super::config::Config;
use super::{Context, actor};
use abm_core::tal::UserRole;
use abm_store::tracking;
use anyhow::{Result, bail};
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum WebhookCommand {
    /// Register a source (or give it a new secret) and print its secret once:
    /// abm webhook create marketo
    Create {
        /// Lowercase letters, digits, - and _ (at most 40)
        source: String,
    },
    /// The registered sources (never their secrets)
    List,
}

pub fn run(context: &Context, command: &WebhookCommand) -> Result<ExitCode> {
    let config = Config::load(&context.config_path)?;
    let mut store = context.open_store()?;
    let acting = actor::resolve(context, &config, store.as_mut())?;
    match command {
        WebhookCommand::Create { source } => {
            if acting.role != UserRole::Admin && !acting.fresh_install {
                bail!(
                    "{} may not register webhooks: only administrators may",
                    acting.email
                );
            }
            if !abm_web::webhook::valid_source(source) {
                bail!(
                    "the source name {source:?} is not valid: use 1 to 40 lowercase letters, digits, - and _"
                );
            }
            let secret = abm_web::auth::new_secret();
            let now = jiff::Timestamp::now().as_microsecond();
            let name = abm_web::webhook::secret_name(source);
            let replaced = abm_store::sql::transaction(store.sql(), |sql| -> Result<bool> {
                let replaced = tracking::replace_secret(sql, &name, &secret, now)?;
                let what = if replaced { "new secret" } else { "registered" };
                abm_engine::team::log(sql, &acting, "webhook create", source, what, now)?;
                Ok(replaced)
            })?;
            if replaced {
                eprintln!(
                    "{source}: a new secret replaces the old one (calls signed with it are refused from now on)"
                );
            }
            eprintln!(
                "sign each call: X-Abm-Timestamp: UNIX_SECONDS and X-Abm-Signature: sha256=HMAC_SHA256(secret, TIMESTAMP.BODY); POST /api/v1/webhooks/{source}"
            );
            println!("{secret}");
        }
        WebhookCommand::List => {
            for (name, created_at) in tracking::secret_names(store.sql(), "webhook:")? {
                let source = name.trim_start_matches("webhook:");
                println!(
                    "{source}\t{}",
                    abm_engine::team::view::show_time(created_at)
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
