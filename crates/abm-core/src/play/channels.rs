//! `[channels]` of abm.toml: where touches go — the sender and SMTP server for email, the
//! incoming webhooks alerts are posted to, and the folder audience, direct-mail and
//! write-back files are written in. Data only; the engine does the sending.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChannelsConfig {
    pub email: EmailChannel,
    pub webhooks: BTreeMap<String, Webhook>,
    pub exports: Exports,
}

/// `[channels.email]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailChannel {
    /// `"Ana at OurCo <ana@ourco.com>"`.
    pub from: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// `smtp://user:pass@host:587` (STARTTLS), `smtps://…:465` (TLS), or
    /// `smtp://host:25?tls=none` for a relay on the same network; `ABM_SMTP_URL` overrides.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_url: Option<String>,
    /// Where `abm serve` is reachable from the recipient's mail client: the unsubscribe
    /// links and the open pixel point here.
    pub public_url: String,
}

impl Default for EmailChannel {
    fn default() -> Self {
        EmailChannel {
            from: "Marketing <marketing@example.com>".to_owned(),
            reply_to: None,
            smtp_url: None,
            public_url: "http://localhost:8080".to_owned(),
        }
    }
}

/// How a webhook wants its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    /// `{"text": "…"}`: Slack and Mattermost incoming webhooks.
    Slack,
    /// A MessageCard: Microsoft Teams incoming webhooks.
    Teams,
    /// A JSON event, signed with HMAC-SHA256 in `X-Abm-Signature`.
    Generic,
}

/// `[channels.webhooks.NAME]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    pub url: String,
    pub format: WebhookFormat,
    /// The environment variable holding the signing secret (generic webhooks): a secret
    /// does not belong in a file that is committed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_env: Option<String>,
}

/// `[channels.exports]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Exports {
    /// Audience, direct-mail and CRM write-back files go here (relative to the working
    /// directory).
    pub directory: String,
}

impl Default for Exports {
    fn default() -> Self {
        Exports {
            directory: "abm-exports".to_owned(),
        }
    }
}

impl ChannelsConfig {
    pub fn validate(&self) -> Result<(), String> {
        let email = &self.email;
        if !mailbox_ok(&email.from) {
            return Err(format!(
                "email.from: {:?} is not an address such as \"Ana <ana@ourco.com>\"",
                email.from
            ));
        }
        if let Some(reply_to) = &email.reply_to
            && !mailbox_ok(reply_to)
        {
            return Err(format!("email.reply_to: {reply_to:?} is not an address"));
        }
        if let Some(url) = &email.smtp_url
            && !(url.starts_with("smtp://") || url.starts_with("smtps://"))
        {
            return Err("email.smtp_url: use smtp://… or smtps://…".to_owned());
        }
        if !(email.public_url.starts_with("http://") || email.public_url.starts_with("https://")) {
            return Err(format!(
                "email.public_url: {:?} is not an http(s) URL",
                email.public_url
            ));
        }
        for (name, webhook) in &self.webhooks {
            if !(webhook.url.starts_with("http://") || webhook.url.starts_with("https://")) {
                return Err(format!("webhooks.{name}.url: not an http(s) URL"));
            }
            if webhook.format == WebhookFormat::Generic && webhook.secret_env.is_none() {
                return Err(format!(
                    "webhooks.{name}: a generic webhook is signed: set secret_env to the variable holding its secret"
                ));
            }
        }
        if self.exports.directory.trim().is_empty() {
            return Err("exports.directory is empty".to_owned());
        }
        Ok(())
    }
}

fn mailbox_ok(text: &str) -> bool {
    let address = match (text.rfind('<'), text.rfind('>')) {
        (Some(open), Some(close)) if open < close => &text[open + 1..close],
        _ => text,
    };
    crate::value::Email::parse(address.trim()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_are_checked() {
        assert!(ChannelsConfig::default().validate().is_ok());
        let mut config = ChannelsConfig::default();
        config.email.from = "nobody".to_owned();
        assert!(config.validate().expect_err("from").contains("email.from"));
        let mut config = ChannelsConfig::default();
        config.webhooks.insert(
            "ops".to_owned(),
            Webhook {
                url: "https://hooks.example.com/x".to_owned(),
                format: WebhookFormat::Generic,
                secret_env: None,
            },
        );
        assert!(
            config
                .validate()
                .expect_err("secret")
                .contains("secret_env")
        );
    }
}
