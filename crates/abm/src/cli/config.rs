//! `abm.toml`: the team's configuration, validated on load. An unknown key, a wrong type or a
//! bad value is an error naming the key and its line. A missing file means the defaults.
//! This settings are the identity ones; scoring settings join them later.

use abm_core::Domain;
use abm_core::identity::FreeMailDomains;
use anyhow::{Result, bail};
use std::path::Path;

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub identity: IdentityConfig,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityConfig {
    /// Domains to treat as free mail in addition to abm's maintained list (for example a
    /// regional ISP's mail domain).
    #[serde(default)]
    pub free_mail_domains: Vec<toml::Spanned<String>>,
}

impl Config {
    /// Loads the file if it exists; defaults otherwise.
    pub fn load(path: &Path) -> Result<Self> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self::default());
            }
            Err(error) => bail!("cannot read {}: {error}", path.display()),
        };
        let config: Config = match toml::from_str(&text) {
            Ok(config) => config,
            Err(error) => bail!("{}: {error}", path.display()),
        };
        for entry in &config.identity.free_mail_domains {
            if let Err(error) = Domain::parse(entry.get_ref()) {
                let line = text[..entry.span().start.min(text.len())]
                    .lines()
                    .count()
                    .max(1);
                bail!(
                    "{}:{line}: identity.free_mail_domains: {:?} is not a domain ({error})",
                    path.display(),
                    entry.get_ref()
                );
            }
        }
        Ok(config)
    }

    pub fn free_mail(&self) -> FreeMailDomains {
        // Entries were checked in `load`; an unparsable one cannot reach here.
        FreeMailDomains::with_extra(
            self.identity
                .free_mail_domains
                .iter()
                .filter_map(|entry| Domain::parse(entry.get_ref()).ok()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Config> {
        let directory = tempfile::tempdir()?;
        let path = directory.path().join("abm.toml");
        std::fs::write(&path, text)?;
        Config::load(&path)
    }

    #[test]
    fn config_is_validated_with_line_numbers() {
        let config =
            load("[identity]\nfree_mail_domains = [\"isp-mail.example.com\"]\n").expect("valid");
        assert!(
            config
                .free_mail()
                .contains(&Domain::parse("example.com").expect("domain"))
        );
        let error = format!(
            "{:#}",
            load("[identity]\nfree_mail = []\n").expect_err("unknown key")
        );
        assert!(
            error.contains("unknown field `free_mail`") && error.contains("line 2"),
            "{error}"
        );
        let error = format!(
            "{:#}",
            load("[identity]\n\nfree_mail_domains = [\"localhost\"]\n").expect_err("bad domain")
        );
        assert!(
            error.contains(":3: identity.free_mail_domains: \"localhost\""),
            "{error}"
        );
        assert!(Config::load(Path::new("/nonexistent/abm.toml")).is_ok());
    }
}
