//! `abm.toml`: the team's configuration, validated on load. An unknown key, a wrong type or
//! a value out of range is an error naming the key and its line. A missing file means the
//! defaults, which `abm init` writes out with their documentation.

use abm_core::Domain;
use abm_core::identity::FreeMailDomains;
use abm_core::persona::PersonaConfig;
use abm_core::score::ScoringConfig;
use abm_core::score::config::{
    EngagementConfig, FitConfig, IntentConfig, PriorityConfig, StagesConfig,
};
use abm_core::tal::TalConfig;
use abm_core::trigger::TriggerConfig;
use abm_core::why::WhyUsConfig;
use anyhow::{Result, bail};
use std::collections::BTreeMap;
use std::path::Path;

/// The file `abm init` writes: every default, documented.
pub const DEFAULT_FILE: &str = include_str!("abm.default.toml");

#[derive(Debug, Default, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub identity: IdentityConfig,
    #[serde(default)]
    pub fit: FitConfig,
    #[serde(default)]
    pub intent: IntentConfig,
    #[serde(default)]
    pub engagement: EngagementConfig,
    #[serde(default)]
    pub priority: PriorityConfig,
    #[serde(default)]
    pub stages: StagesConfig,
    #[serde(default)]
    pub tal: TalConfig,
    #[serde(default)]
    pub personas: PersonaConfig,
    #[serde(default)]
    pub triggers: TriggerConfig,
    #[serde(default)]
    pub why_us: WhyUsConfig,
    #[serde(default)]
    pub tracking: abm_core::tracking::TrackingConfig,
    #[serde(default)]
    pub reverse_ip: abm_core::reverse_ip::ReverseIpConfig,
    #[serde(default)]
    pub personalization: abm_core::personalize::PersonalizationConfig,
    #[serde(default)]
    pub cli: CliConfig,
    /// `[guard]`: consent, caps, conflicts and quiet hours for every touch.
    #[serde(default)]
    pub guard: abm_core::play::guard::GuardConfig,
    /// `[channels]`: the sender, webhooks and export folder.
    #[serde(default)]
    pub channels: abm_core::play::channels::ChannelsConfig,
    /// `[reports]`: what counts as engaged and influenced; costs per play.
    #[serde(default)]
    pub reports: abm_core::report::ReportsConfig,
    /// `[templates.NAME]`: email templates.
    #[serde(default)]
    pub templates: BTreeMap<String, abm_core::play::template::EmailTemplate>,
    /// `[blocks.NAME]`: modular template blocks.
    #[serde(default)]
    pub blocks: BTreeMap<String, abm_core::play::template::Block>,
    /// `[[plays]]`: last, as arrays of tables are written after every table.
    #[serde(default)]
    pub plays: Vec<abm_core::play::Play>,
}

/// `[cli]`: who the command line acts as when `--as` is not given.
#[derive(Debug, Default, Clone, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct CliConfig {
    /// A registered user's email (`abm user list`); the OS user when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize, serde::Serialize)]
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
        Self::parse(&text, path)
    }

    /// Loads a file that must exist (`--config OTHER.toml` of the backtest).
    pub fn load_existing(path: &Path) -> Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, path),
            Err(error) => bail!("cannot read {}: {error}", path.display()),
        }
    }

    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let config: Config = match toml::from_str(text) {
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
        if let Err(error) = config.scoring().validate() {
            bail!("{}: {error}", path.display());
        }
        if let Err(error) = config.tracking.validate() {
            bail!("{}: [tracking] {error}", path.display());
        }
        if let Err(error) = config.reverse_ip.validate() {
            bail!("{}: [reverse_ip] {error}", path.display());
        }
        if let Err(error) = config.personalization.validate() {
            bail!("{}: [personalization] {error}", path.display());
        }
        if let Err(error) = config.reports.validate() {
            bail!("{}: {error}", path.display());
        }
        if let Err(error) = config.play_setup() {
            bail!("{}: {error}", path.display());
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

    /// The same identity settings with another scoring setup (what `abm tune` writes).
    pub fn with_scoring(&self, scoring: ScoringConfig) -> Config {
        Config {
            identity: IdentityConfig {
                free_mail_domains: self.identity.free_mail_domains.clone(),
            },
            fit: scoring.fit,
            intent: scoring.intent,
            engagement: scoring.engagement,
            priority: scoring.priority,
            stages: scoring.stages,
            tal: self.tal.clone(),
            personas: scoring.personas,
            triggers: self.triggers.clone(),
            why_us: self.why_us.clone(),
            tracking: self.tracking.clone(),
            reverse_ip: self.reverse_ip.clone(),
            personalization: self.personalization.clone(),
            cli: self.cli.clone(),
            guard: self.guard.clone(),
            channels: self.channels.clone(),
            reports: self.reports.clone(),
            templates: self.templates.clone(),
            blocks: self.blocks.clone(),
            plays: self.plays.clone(),
        }
    }

    /// The plays with the guard, templates and channels they use, checked together.
    pub fn play_setup(&self) -> std::result::Result<abm_core::play::Setup, String> {
        abm_core::play::Setup::new(
            &self.plays,
            &self.guard,
            &self.templates,
            &self.blocks,
            &self.channels,
        )
    }

    /// The file's text: every setting, loadable with `--config`.
    pub fn to_toml(&self) -> Result<String> {
        Ok(toml::to_string_pretty(self)?)
    }

    pub fn scoring(&self) -> ScoringConfig {
        ScoringConfig {
            fit: self.fit.clone(),
            intent: self.intent.clone(),
            engagement: self.engagement.clone(),
            priority: self.priority.clone(),
            stages: self.stages.clone(),
            personas: self.personas.clone(),
        }
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

    #[test]
    fn the_written_defaults_are_the_defaults() {
        let config = Config::parse(DEFAULT_FILE, Path::new("abm.toml")).expect("default file");
        assert_eq!(config.scoring(), ScoringConfig::default());
        assert_eq!(config.tal, TalConfig::default());
        assert_eq!(config.personas, PersonaConfig::default());
        assert_eq!(config.triggers, TriggerConfig::default());
        assert_eq!(
            config.tracking,
            abm_core::tracking::TrackingConfig::default()
        );
        assert_eq!(
            config.reverse_ip,
            abm_core::reverse_ip::ReverseIpConfig::default()
        );
        assert_eq!(
            config.personalization,
            abm_core::personalize::PersonalizationConfig::default()
        );
        assert!(config.identity.free_mail_domains.is_empty());
        assert_eq!(config.guard, abm_core::play::guard::GuardConfig::default());
        assert_eq!(
            config.channels.email,
            abm_core::play::channels::EmailChannel::default()
        );
        let names: Vec<_> = config.plays.iter().map(|play| play.name.as_str()).collect();
        assert_eq!(names, ["intent-surge-nurture", "qualified-one-to-one"]);
        let setup = config.play_setup().expect("the example plays are valid");
        assert!(setup.templates.contains("surge-intro"));
        // What the file says round-trips through `to_toml` (what `abm tune` writes).
        let again = Config::parse(&config.to_toml().expect("toml"), Path::new("again.toml"))
            .expect("written back");
        assert_eq!(again.plays, config.plays);
        assert_eq!(again.guard, config.guard);
    }

    #[test]
    fn scoring_values_are_checked_with_their_line() {
        let cases = [
            (
                "[engagement]\nhalf_life_days = 0\n",
                "line 2",
                "out of range",
            ),
            (
                "[stages]\n\nqualified_min_fit = 140\n",
                "line 3",
                "allowed 0 to 100",
            ),
            (
                "[intent]\nsurge_threshold = \"high\"\n",
                "line 2",
                "invalid type",
            ),
            (
                "[engagement.weights]\npage_views = 1\n",
                "line 2",
                "unknown field `page_views`",
            ),
            ("[fit]\nunknown_share = 1.5\n", "line 2", "allowed 0 to 1"),
            (
                "[engagement]\nbreadth_max_people = 2.5\n",
                "line 2",
                "whole number",
            ),
            ("[scoring]\n", "line 1", "unknown field `scoring`"),
        ];
        for (text, line, message) in cases {
            let error = format!("{:#}", load(text).expect_err(text));
            assert!(
                error.contains(line) && error.contains(message),
                "{text}: {error}"
            );
        }
        let error = format!(
            "{:#}",
            load("[fit]\nemployees = [{ min = 500, max = 100, points = 5 }]\n").expect_err("band")
        );
        assert!(error.contains("fit.employees[0]"), "{error}");
    }
}
