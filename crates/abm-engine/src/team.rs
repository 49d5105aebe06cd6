//! The account team's actions over the store: each one loads what the core's rules need,
//! asks them, and writes the outcome with its audit line in one transaction. A batch (several
//! domains, a file) is all-or-nothing: one refusal refuses the batch and lists every reason.

pub mod buying_group;
pub mod clusters;
pub mod plans;
pub mod tal;
pub mod triggers;
pub mod users;
pub mod view;

use abm_store::Sql;
use abm_store::StoreError;
use abm_store::team::{self, AccountRef};

/// Why an action did not happen.
#[derive(Debug, thiserror::Error)]
pub enum TeamError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The action's rules refused it; nothing was changed.
    #[error("{}", refusal_text(.0))]
    Refused(Vec<String>),
}

fn refusal_text(reasons: &[String]) -> String {
    let shown: Vec<&str> = reasons.iter().take(20).map(String::as_str).collect();
    let more = reasons.len().saturating_sub(shown.len());
    let mut text = shown.join("\n");
    if more > 0 {
        text.push_str(&format!("\n… and {more} more"));
    }
    text.push_str("\nnothing was changed");
    text
}

impl TeamError {
    pub fn refused(reason: impl Into<String>) -> Self {
        Self::Refused(vec![reason.into()])
    }
}

pub type Result<T> = std::result::Result<T, TeamError>;

/// The account a user named by a domain, URL or alias; an unknown one is refused by name.
pub fn resolve_account(
    sql: &mut dyn Sql,
    text: &str,
) -> Result<std::result::Result<AccountRef, String>> {
    let domain = match abm_core::Domain::parse(text) {
        Ok(domain) => domain,
        Err(error) => return Ok(Err(format!("{text:?} is not a domain: {error}"))),
    };
    Ok(team::account_by_domain(sql, domain.as_str())?
        .ok_or_else(|| format!("no account {domain}: import it first (abm import accounts FILE)")))
}

/// Records a change in the general audit log (the TAL keeps its own trail).
pub fn log(
    sql: &mut dyn Sql,
    actor: &abm_core::tal::Actor,
    action: &str,
    subject: &str,
    detail: &str,
    at: i64,
) -> Result<()> {
    let authority = if actor.fresh_install {
        " (administrator: fresh install)"
    } else {
        ""
    };
    team::append_log(
        sql,
        &team::AuditEntry {
            at,
            actor: format!("{}{authority}", actor.email),
            action: action.to_owned(),
            subject: subject.to_owned(),
            detail: detail.to_owned(),
        },
    )?;
    Ok(())
}
