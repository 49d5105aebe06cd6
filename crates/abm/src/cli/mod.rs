//! The subcommands that read and write the user's database.

pub mod actor;
pub mod backtest;
pub mod cluster;
pub mod config;
pub mod import;
pub mod init;
pub mod link;
pub mod persona;
pub mod plan;
pub mod play;
pub mod report;
pub mod run;
pub mod scores;
pub mod serve;
pub mod small_csv;
pub mod status;
pub mod tal;
pub mod triggers;
pub mod tune;
pub mod user;
pub mod webhook;
pub mod when;
pub mod worker;

use anyhow::{Context as _, Result};
use std::path::PathBuf;

/// What every subcommand gets from the global options.
pub struct Context {
    /// As given with `--database-url` or `ABM_DATABASE_URL`; `None` means the default.
    pub database_url: Option<String>,
    pub config_path: PathBuf,
    /// `--as EMAIL`: who acts, for the audit trail and role checks.
    pub acting_as: Option<String>,
}

impl Context {
    pub fn database_url(&self) -> &str {
        self.database_url
            .as_deref()
            .unwrap_or(crate::DEFAULT_DATABASE_URL)
    }

    pub fn open_store(&self) -> Result<Box<dyn abm_store::Store>> {
        let url = self.database_url();
        abm_store::open(url).with_context(|| format!("cannot open the database {}", redact(url)))
    }
}

/// A URL fit for messages: any password is hidden.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            super::redact("postgres://abm:secret@db/abm"),
            "postgres://abm:***@db/abm"
        );
        assert_eq!(
            super::redact("postgres://abm@db/abm"),
            "postgres://abm@db/abm"
        );
        assert_eq!(super::redact("sqlite://./abm.db"), "sqlite://./abm.db");
    }
}
