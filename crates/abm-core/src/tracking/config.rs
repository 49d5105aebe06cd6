//! `[tracking]` of `abm.toml`: whether the snippet collects at all, which privacy signals it
//! honours, what counts as a bot, which websites may call the collect endpoint, and which
//! pages say what a visitor is researching.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Browsers cap a cookie's lifetime at 400 days (Chrome since 2022, the cookie RFC draft
/// since); a longer lifetime would be silently shortened, so it is refused instead.
const MAX_VISITOR_DAYS: u32 = 400;
/// Above this a rate limit no longer limits anything a person could do.
const MAX_EVENTS_PER_MINUTE: u32 = 100_000;
/// The longest topic an event or a page prefix may name.
pub(super) const MAX_TOPIC_CHARS: usize = 100;

/// `[tracking]`: first-party website tracking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrackingConfig {
    /// Serve the collect endpoint at all.
    pub enabled: bool,
    /// A browser sending `DNT: 1` or `Sec-GPC: 1` is not tracked.
    pub honor_dnt: bool,
    /// Store only events whose consent flag is true (a consent banner's answer). Without it
    /// an explicit `consent: false` still refuses the event.
    pub require_consent: bool,
    /// A visitor sending more events than this within a minute is a bot for the rest of it.
    pub max_events_per_minute: u32,
    /// User-agent substrings (any case) that mark a bot, on top of the built-in list: a
    /// monitoring service or an internal crawler of the team's own.
    pub extra_bot_agents: Vec<String>,
    /// Origins allowed to call the collect endpoint from a browser, as browsers send them
    /// (`https://www.example.com`); empty allows any.
    pub allowed_origins: Vec<String>,
    /// URL path prefixes mapped to intent topics (`"/solutions/intent-data" = "Intent Data"`);
    /// the longest matching prefix names the topic of an event on that page.
    pub topics: BTreeMap<String, String>,
    /// Lifetime of the snippet's visitor cookie, in days. 395 (13 months) is the longest most
    /// European regulators accept for an audience-measurement cookie.
    pub visitor_days: u32,
}

impl Default for TrackingConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            honor_dnt: true,
            require_consent: false,
            max_events_per_minute: 120,
            extra_bot_agents: Vec::new(),
            allowed_origins: Vec::new(),
            topics: BTreeMap::new(),
            visitor_days: 395,
        }
    }
}

impl TrackingConfig {
    /// Checks what the types alone cannot. Errors name the key, like the other tables'.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=MAX_EVENTS_PER_MINUTE).contains(&self.max_events_per_minute) {
            return Err(format!(
                "max_events_per_minute: {} is out of range: allowed 1 to {MAX_EVENTS_PER_MINUTE}",
                self.max_events_per_minute
            ));
        }
        if !(1..=MAX_VISITOR_DAYS).contains(&self.visitor_days) {
            return Err(format!(
                "visitor_days: {} is out of range: allowed 1 to {MAX_VISITOR_DAYS} (browsers cap cookies at 400 days)",
                self.visitor_days
            ));
        }
        for agent in &self.extra_bot_agents {
            // An empty substring is in every user agent: every visitor would be a bot.
            if agent.trim().is_empty() {
                return Err(
                    "extra_bot_agents: an entry is empty; it would match every browser".into(),
                );
            }
        }
        for origin in &self.allowed_origins {
            check_origin(origin)
                .map_err(|problem| format!("allowed_origins: {origin:?} {problem}"))?;
        }
        for (prefix, topic) in &self.topics {
            if !prefix.starts_with('/') {
                return Err(format!(
                    "topics: {prefix:?} must be a URL path starting with '/', like \"/solutions/intent-data\""
                ));
            }
            let topic_chars = topic.trim().chars().count();
            if topic_chars == 0
                || topic_chars > MAX_TOPIC_CHARS
                || topic.chars().any(char::is_control)
            {
                return Err(format!(
                    "topics: {prefix:?} = {topic:?}: a topic has 1 to {MAX_TOPIC_CHARS} characters and no control characters"
                ));
            }
        }
        Ok(())
    }

    /// Whether a browser on `origin` may call the collect endpoint. With no list, any may; with
    /// one, a request without an `Origin` is refused: browsers send it with every `POST`, so
    /// its absence means the caller is not a page on the team's website.
    pub fn origin_allowed(&self, origin: Option<&str>) -> bool {
        if self.allowed_origins.is_empty() {
            return true;
        }
        let Some(origin) = origin.map(str::trim) else {
            return false;
        };
        // Scheme and host are case-insensitive; a trailing slash in the file is forgiven.
        self.allowed_origins
            .iter()
            .any(|allowed| allowed.trim_end_matches('/').eq_ignore_ascii_case(origin))
    }

    /// The topic of the longest `[tracking.topics]` prefix of `path`, compared without case
    /// (the intent page patterns are too): `/Solutions/` and `/solutions/` are one page to a
    /// marketer. Equal lengths (prefixes differing only in case) go to the first in key order.
    pub fn topic_for_path(&self, path: &str) -> Option<&str> {
        let mut best: Option<(usize, &str)> = None;
        for (prefix, topic) in &self.topics {
            let matches = path
                .get(..prefix.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(prefix));
            if matches && best.is_none_or(|(length, _)| prefix.len() > length) {
                best = Some((prefix.len(), topic.trim()));
            }
        }
        best.map(|(_, topic)| topic)
    }
}

/// An origin as a browser's `Origin` header carries it: scheme, host, optional port, nothing
/// else.
fn check_origin(origin: &str) -> Result<(), &'static str> {
    if origin == "*" {
        return Err("is not an origin: leave allowed_origins empty to allow any");
    }
    let trimmed = origin.trim_end_matches('/');
    let parsed = url::Url::parse(trimmed).map_err(
        |_| "is not an origin: write it as the browser sends it, like \"https://www.example.com\"",
    )?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("must start with http:// or https://");
    }
    if parsed.path() != "/" || parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(
            "has a path: an origin is scheme, host and port only, like \"https://www.example.com\"",
        );
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("has a user name: an origin is scheme, host and port only");
    }
    // What the browser would send for this origin, compared without case like the check.
    if !parsed
        .origin()
        .ascii_serialization()
        .eq_ignore_ascii_case(trimmed)
    {
        return Err(
            "is not written as browsers send it (a default port, a non-ASCII host?): use the form \"https://www.example.com\"",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_topics(pairs: &[(&str, &str)]) -> TrackingConfig {
        TrackingConfig {
            topics: pairs
                .iter()
                .map(|(prefix, topic)| ((*prefix).to_owned(), (*topic).to_owned()))
                .collect(),
            ..TrackingConfig::default()
        }
    }

    #[test]
    fn an_empty_table_is_the_default_and_valid() {
        let config: TrackingConfig = toml::from_str("").expect("empty table");
        assert_eq!(config, TrackingConfig::default());
        assert!(config.enabled && config.honor_dnt && !config.require_consent);
        assert_eq!(
            (config.max_events_per_minute, config.visitor_days),
            (120, 395)
        );
        assert_eq!(config.validate(), Ok(()));
    }

    #[test]
    fn a_full_table_reads_and_unknown_keys_are_refused() {
        let config: TrackingConfig = toml::from_str(
            r#"
            enabled = true
            honor_dnt = false
            require_consent = true
            max_events_per_minute = 60
            extra_bot_agents = ["AcmeMonitor"]
            allowed_origins = ["https://www.example.com", "https://example.com"]
            visitor_days = 180
            [topics]
            "/solutions/intent-data" = "Intent Data"
            "#,
        )
        .expect("valid table");
        assert_eq!(config.validate(), Ok(()));
        assert!(!config.honor_dnt && config.require_consent);
        assert_eq!(config.topics["/solutions/intent-data"], "Intent Data");
        let unknown = toml::from_str::<TrackingConfig>("honour_dnt = true");
        assert!(unknown.is_err_and(|error| error.to_string().contains("honour_dnt")));
    }

    #[test]
    fn out_of_range_values_name_their_key() {
        let cases: Vec<(TrackingConfig, &str)> = vec![
            (
                TrackingConfig {
                    max_events_per_minute: 0,
                    ..TrackingConfig::default()
                },
                "max_events_per_minute",
            ),
            (
                TrackingConfig {
                    max_events_per_minute: 100_001,
                    ..TrackingConfig::default()
                },
                "max_events_per_minute",
            ),
            (
                TrackingConfig {
                    visitor_days: 0,
                    ..TrackingConfig::default()
                },
                "visitor_days",
            ),
            (
                TrackingConfig {
                    visitor_days: 401,
                    ..TrackingConfig::default()
                },
                "visitor_days",
            ),
            (
                TrackingConfig {
                    extra_bot_agents: vec!["  ".into()],
                    ..TrackingConfig::default()
                },
                "extra_bot_agents",
            ),
            (
                TrackingConfig {
                    allowed_origins: vec!["*".into()],
                    ..TrackingConfig::default()
                },
                "allowed_origins",
            ),
            (with_topics(&[("solutions", "Intent Data")]), "topics"),
            (with_topics(&[("/solutions", " ")]), "topics"),
            (with_topics(&[("/solutions", &"x".repeat(101))]), "topics"),
            (with_topics(&[("/solutions", "Intent\nData")]), "topics"),
        ];
        for (config, key) in cases {
            let error = config.validate().expect_err(key);
            assert!(error.starts_with(key), "{error}");
        }
        let edges = TrackingConfig {
            max_events_per_minute: 100_000,
            visitor_days: 400,
            ..with_topics(&[("/", &"x".repeat(100))])
        };
        assert_eq!(edges.validate(), Ok(()));
    }

    #[test]
    fn origins_are_written_as_browsers_send_them() {
        for good in [
            "https://www.example.com",
            "https://www.example.com/",
            "http://localhost:8080",
            "https://Example.COM",
        ] {
            assert_eq!(check_origin(good), Ok(()), "{good}");
        }
        for bad in [
            "*",
            "www.example.com",
            "https://www.example.com/pricing",
            "https://www.example.com?x=1",
            "https://user@www.example.com",
            "https://www.example.com:443",
            "ftp://example.com",
            "",
        ] {
            assert!(check_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn origins_are_allowed_by_the_list_or_by_its_absence() {
        let open = TrackingConfig::default();
        assert!(open.origin_allowed(Some("https://anything.example")));
        assert!(open.origin_allowed(None));
        let listed = TrackingConfig {
            allowed_origins: vec!["https://www.example.com/".into()],
            ..TrackingConfig::default()
        };
        assert!(listed.origin_allowed(Some("https://www.example.com")));
        assert!(listed.origin_allowed(Some("https://WWW.example.com")));
        assert!(!listed.origin_allowed(Some("http://www.example.com")));
        assert!(!listed.origin_allowed(Some("https://www.example.com.evil.test")));
        assert!(!listed.origin_allowed(Some("https://example.com")));
        assert!(!listed.origin_allowed(Some("null")));
        assert!(!listed.origin_allowed(None));
    }

    #[test]
    fn the_longest_prefix_names_the_topic() {
        let config = with_topics(&[
            ("/solutions", "Solutions"),
            ("/solutions/intent", "Intent Data"),
            ("/solutions/intent-data/pricing", "Pricing"),
            ("/blog", " Blog "),
        ]);
        for (path, topic) in [
            ("/solutions/intent-data", Some("Intent Data")),
            ("/Solutions/Intent-Data/", Some("Intent Data")),
            ("/solutions/intent-data/pricing/enterprise", Some("Pricing")),
            ("/solutions/", Some("Solutions")),
            ("/solutions", Some("Solutions")),
            ("/solution", None),
            ("/blog/post", Some("Blog")),
            ("/", None),
            ("", None),
            // A multi-byte character where a prefix would end is no match, and no panic.
            ("/solutionsé", Some("Solutions")),
            ("/solutioné", None),
        ] {
            assert_eq!(config.topic_for_path(path), topic, "{path}");
        }
        assert_eq!(TrackingConfig::default().topic_for_path("/solutions"), None);
    }
}
