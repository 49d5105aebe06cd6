//! First-party tracking, the pure half: what the `[tracking]` table of `abm.toml` says, which
//! callers are bots (by their user agent and by their rate), which privacy signals refuse an
//! event, how a raw event from the `/t.js` snippet becomes a valid [`CollectEvent`] and then an
//! [`Activity`](crate::entity::Activity), and the signatures that protect the routes taking no
//! sign-in: signed email links (open pixel, click redirect) and signed webhooks.
//!
//! Invariant: like the rest of `abm-core`, nothing here reads a clock, a random source or the
//! network. The server passes in the time it received a request, the headers' values and the
//! keys it keeps in its store; the decisions are made here so they are tested once and the same
//! for every route.
//!
//! The layout follows the collect path:
//! - [`config`]: `[tracking]`, its defaults and its checks;
//! - [`bots`]: the user-agent list, and [`RateFilter`] for bots that claim to be browsers;
//! - [`privacy`](mod@privacy): Do-Not-Track, Global Privacy Control and consent;
//! - [`event`]: a raw event's fields checked one by one, then an activity;
//! - [`link`] and [`webhook`]: HMAC-SHA256 tokens and signatures.

pub mod bots;
pub mod config;
pub mod event;
pub mod link;
pub mod privacy;
pub mod webhook;

pub use bots::{BUILT_IN_BOT_AGENTS, RateFilter, bot_agent};
pub use config::TrackingConfig;
pub use event::{
    CHANNEL, CUSTOM_KINDS, CollectEvent, EventType, FieldError, RawEvent, valid_event_id,
    valid_visitor_id,
};
pub use link::{LinkPayload, MAX_TOKEN_LEN, TokenError, sign_link, verify_link};
pub use privacy::{Refusal, privacy};
pub use webhook::{WebhookError, sign_webhook, verify_webhook};

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The longest URL kept (page, referrer, click destination): what browsers and servers
/// reliably handle; anything longer is more likely an attack than a page.
pub const MAX_URL_LEN: usize = 2048;

/// An HMAC-SHA256 keyed with `key`.
fn keyed_mac(key: &[u8]) -> HmacSha256 {
    // HMAC takes a key of any length (a longer one is hashed first), so this cannot fail: the
    // `Result` only exists because the trait also serves fixed-key MACs.
    #[allow(clippy::expect_used)]
    HmacSha256::new_from_slice(key).expect("HMAC accepts a key of any length")
}

/// An absolute `http`/`https` URL of at most [`MAX_URL_LEN`] characters, normalised by the
/// `url` crate (host lowercased, control characters and spaces percent-encoded), with any
/// `user:password@` removed: a credential in a page's address must never be stored.
///
/// Normalising matters beyond tidiness: a click redirect puts the URL in a `Location` header,
/// and the serialised form never holds a character a header refuses.
fn http_url(text: &str) -> Result<url::Url, &'static str> {
    if text.chars().count() > MAX_URL_LEN {
        return Err("is longer than 2048 characters");
    }
    let mut parsed = url::Url::parse(text).map_err(|_| "is not an absolute URL")?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("must be an http or https URL");
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("has no host");
    }
    // Both setters only fail for URLs without a host, excluded above.
    let _ = parsed.set_username("");
    let _ = parsed.set_password(None);
    if parsed.as_str().len() > MAX_URL_LEN {
        return Err("is longer than 2048 characters once encoded");
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_urls_are_absolute_http_and_lose_credentials() {
        let url =
            http_url("HTTPS://User:Secret@WWW.Example.com/Pricing?plan=pro#top").expect("url");
        assert_eq!(url.as_str(), "https://www.example.com/Pricing?plan=pro#top");
        assert_eq!(
            http_url("https://www.example.com/a b\n").map(String::from),
            Ok("https://www.example.com/a%20b".to_owned())
        );
        for refused in [
            "javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "ftp://example.com/file",
            "file:///etc/passwd",
            "/relative/path",
            "www.example.com",
            "",
            "mailto:jane@acme.com",
        ] {
            assert!(http_url(refused).is_err(), "{refused}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(http_url(&long), Err("is longer than 2048 characters"));
        // Short as typed, too long once its characters are percent-encoded.
        let encoded = format!("https://example.com/{}", "é".repeat(400));
        assert_eq!(
            http_url(&encoded),
            Err("is longer than 2048 characters once encoded")
        );
    }

    #[test]
    fn the_mac_takes_keys_of_any_length() {
        for key in [&b""[..], b"k", &[7u8; 64], &[9u8; 200]] {
            let mut mac = keyed_mac(key);
            mac.update(b"message");
            assert_eq!(mac.finalize().into_bytes().len(), 32);
        }
    }
}
