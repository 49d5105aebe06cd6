//! Signed email links: the open pixel (`/t/o/{token}.gif`) and the tracked click
//! (`/t/c/{token}`). The token carries the message, the recipient and, for a click, the
//! destination, under an HMAC-SHA256 made with a key only the server holds.
//!
//! Why signed rather than looked up: the server keeps no table of links (any email sent
//! anywhere can carry one), and nobody can forge an open, attribute a click to someone else,
//! or turn the click route into an open redirect to a URL of their choosing.
//!
//! Format: base64url (no padding) of `1 | field | field | flag [field] | mac`, where each
//! field is a LEB128 byte length and UTF-8 bytes, the flag says whether a URL follows, and
//! the MAC is the first 16 bytes of HMAC-SHA256 over a domain label and everything before it.
//! 128 bits of MAC are plenty against forgery of a URL token and keep links short.

use super::keyed_mac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::Mac;

/// The longest token accepted, in characters: decoding is bounded before anything else runs.
pub const MAX_TOKEN_LEN: usize = 4096;
const VERSION: u8 = 1;
const MAC_LEN: usize = 16;
/// Separates these MACs from any other made with the same key.
const DOMAIN_LABEL: &[u8] = b"abm link v1\0";

/// What a signed link says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkPayload {
    /// The email's message id (or any id unique to that email).
    pub message_id: String,
    /// The recipient.
    pub email: String,
    /// Where a click goes; `None` for the open pixel.
    pub url: Option<String>,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the link is longer than {MAX_TOKEN_LEN} characters")]
    TooLong,
    #[error("the link is malformed")]
    Malformed,
    #[error("the link's signature does not match: it was altered or signed with another key")]
    BadSignature,
    #[error("the link's destination {0}")]
    BadUrl(&'static str),
}

/// Signs `payload` with `key`. Any payload signs; [`verify_link`] refuses what could not be
/// served (a destination that is not http/https, a token over [`MAX_TOKEN_LEN`]), so a caller
/// that must be sure verifies the token it made.
pub fn sign_link(key: &[u8], payload: &LinkPayload) -> String {
    let mut bytes = vec![VERSION];
    push_field(&mut bytes, &payload.message_id);
    push_field(&mut bytes, &payload.email);
    match &payload.url {
        Some(url) => {
            bytes.push(1);
            push_field(&mut bytes, url);
        }
        None => bytes.push(0),
    }
    let mac = link_mac(key, &bytes);
    bytes.extend_from_slice(&mac.finalize().into_bytes()[..MAC_LEN]);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Checks a token's signature with `key` (in constant time) and reads it. A click's
/// destination must be an absolute http/https URL, checked here too: a link signed before a
/// rule tightened is still refused. The URL returned is the normalised one, safe to put in a
/// `Location` header.
pub fn verify_link(key: &[u8], token: &str) -> Result<LinkPayload, TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::TooLong);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| TokenError::Malformed)?;
    if bytes.len() < 1 + MAC_LEN {
        return Err(TokenError::Malformed);
    }
    let (signed, mac) = bytes.split_at(bytes.len() - MAC_LEN);
    link_mac(key, signed)
        .verify_truncated_left(mac)
        .map_err(|_| TokenError::BadSignature)?;
    let mut reader = Reader { rest: signed };
    if reader.byte()? != VERSION {
        return Err(TokenError::Malformed);
    }
    let message_id = reader.field()?;
    let email = reader.field()?;
    let url = match reader.byte()? {
        0 => None,
        1 => Some(reader.field()?),
        _ => return Err(TokenError::Malformed),
    };
    if !reader.rest.is_empty() || message_id.is_empty() || email.is_empty() {
        return Err(TokenError::Malformed);
    }
    let url = match url {
        Some(url) => Some(String::from(
            super::http_url(&url).map_err(TokenError::BadUrl)?,
        )),
        None => None,
    };
    Ok(LinkPayload {
        message_id,
        email,
        url,
    })
}

fn link_mac(key: &[u8], signed: &[u8]) -> super::HmacSha256 {
    let mut mac = keyed_mac(key);
    mac.update(DOMAIN_LABEL);
    mac.update(signed);
    mac
}

fn push_field(bytes: &mut Vec<u8>, text: &str) {
    let mut length = text.len();
    loop {
        // LEB128: seven bits at a time, the high bit says more follow.
        let low = (length & 0x7f) as u8;
        length >>= 7;
        if length == 0 {
            bytes.push(low);
            break;
        }
        bytes.push(low | 0x80);
    }
    bytes.extend_from_slice(text.as_bytes());
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, TokenError> {
        let (&first, rest) = self.rest.split_first().ok_or(TokenError::Malformed)?;
        self.rest = rest;
        Ok(first)
    }

    fn field(&mut self) -> Result<String, TokenError> {
        let mut length: usize = 0;
        // A token is at most 4 KB, so three length bytes (21 bits) are more than any field.
        for shift in [0, 7, 14] {
            let byte = self.byte()?;
            length |= usize::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                if length > self.rest.len() {
                    return Err(TokenError::Malformed);
                }
                let (text, rest) = self.rest.split_at(length);
                self.rest = rest;
                return String::from_utf8(text.to_vec()).map_err(|_| TokenError::Malformed);
            }
        }
        Err(TokenError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"a link key of the server, 32 bytes+";

    fn open() -> LinkPayload {
        LinkPayload {
            message_id: "<CAF=msg-1@mail.acme.com>".into(),
            email: "jane@acme.com".into(),
            url: None,
        }
    }

    fn click(url: &str) -> LinkPayload {
        LinkPayload {
            url: Some(url.into()),
            ..open()
        }
    }

    #[test]
    fn opens_and_clicks_round_trip_in_url_safe_tokens() {
        for payload in [
            open(),
            click("https://www.example.com/pricing?utm_campaign=q1#plans"),
            LinkPayload {
                message_id: "m".repeat(300),
                email: "zoë@例え.jp".into(),
                url: Some("http://example.com/".into()),
            },
        ] {
            let token = sign_link(KEY, &payload);
            assert!(
                token
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'),
                "{token}"
            );
            assert_eq!(verify_link(KEY, &token), Ok(payload));
        }
        // Compact: an open link for a typical message stays well under 100 characters.
        assert!(sign_link(KEY, &open()).len() < 100);
    }

    #[test]
    fn any_altered_byte_is_refused() {
        let token = sign_link(KEY, &click("https://www.example.com/pricing"));
        let bytes = URL_SAFE_NO_PAD.decode(&token).expect("own token");
        for index in 0..bytes.len() {
            for flip in [0x01, 0x80] {
                let mut altered = bytes.clone();
                altered[index] ^= flip;
                let forged = URL_SAFE_NO_PAD.encode(&altered);
                assert_eq!(
                    verify_link(KEY, &forged),
                    Err(TokenError::BadSignature),
                    "byte {index}"
                );
            }
        }
        // The same on the token's characters: no other spelling of a token verifies.
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for index in 0..token.len() {
            for replacement in alphabet.chars().filter(|c| !token[index..].starts_with(*c)) {
                let mut altered = token.clone();
                altered.replace_range(index..=index, &replacement.to_string());
                assert!(verify_link(KEY, &altered).is_err(), "{altered}");
            }
        }
        // Cut short or extended: refused too.
        assert!(verify_link(KEY, &token[..token.len() - 1]).is_err());
        assert!(verify_link(KEY, &format!("{token}AA")).is_err());
    }

    #[test]
    fn another_key_is_refused() {
        let token = sign_link(KEY, &open());
        assert_eq!(
            verify_link(b"another key", &token),
            Err(TokenError::BadSignature)
        );
        assert_eq!(verify_link(b"", &token), Err(TokenError::BadSignature));
    }

    #[test]
    fn a_destination_must_be_http_or_https() {
        for url in [
            "javascript:alert(document.cookie)",
            "JavaScript:alert(1)",
            "data:text/html;base64,PHNjcmlwdD4=",
            "//evil.example/",
            "/relative",
            "mailto:jane@acme.com",
        ] {
            let token = sign_link(KEY, &click(url));
            assert!(
                matches!(verify_link(KEY, &token), Err(TokenError::BadUrl(_))),
                "{url}"
            );
        }
    }

    #[test]
    fn the_destination_comes_back_normalised_for_a_location_header() {
        let token = sign_link(
            KEY,
            &click("https://User:pw@WWW.Example.com/a b\r\nSet-Cookie: x=1"),
        );
        let url = verify_link(KEY, &token).expect("valid").url.expect("a url");
        assert!(!url.contains(['\r', '\n', ' ']), "{url}");
        assert!(url.starts_with("https://www.example.com/a%20b"), "{url}");
        assert!(!url.contains("pw"));
    }

    #[test]
    fn garbage_and_oversized_tokens_are_refused_before_any_work() {
        assert_eq!(verify_link(KEY, ""), Err(TokenError::Malformed));
        assert_eq!(verify_link(KEY, "not base64!"), Err(TokenError::Malformed));
        assert_eq!(verify_link(KEY, "AAAA"), Err(TokenError::Malformed));
        assert_eq!(
            verify_link(KEY, &"A".repeat(MAX_TOKEN_LEN + 1)),
            Err(TokenError::TooLong)
        );
        let huge = click(&format!("https://example.com/{}", "a".repeat(4000)));
        assert_eq!(
            verify_link(KEY, &sign_link(KEY, &huge)),
            Err(TokenError::TooLong)
        );
    }

    #[test]
    fn well_signed_but_ill_formed_payloads_are_malformed() {
        let sign_raw = |payload: &[u8]| {
            let mut bytes = payload.to_vec();
            let mac = link_mac(KEY, &bytes).finalize().into_bytes();
            bytes.extend_from_slice(&mac[..MAC_LEN]);
            URL_SAFE_NO_PAD.encode(bytes)
        };
        for payload in [
            &[2, 1, b'm', 1, b'e', 0][..], // unknown version
            &[1, 1, b'm', 1, b'e', 2],     // unknown flag
            &[1, 1, b'm', 1, b'e', 0, 9],  // trailing bytes
            &[1, 9, b'm', 1, b'e', 0],     // length past the end
            &[1, 0, 1, b'e', 0],           // empty message id
            &[1, 1, b'm', 0, 0],           // empty email
            &[1, 1, 0xff, 1, b'e', 0],     // not UTF-8
            &[1, 0xff, 0xff, 0xff, 0x01],  // a length that never ends
            &[1, 1, b'm', 1, b'e'],        // no flag
        ] {
            assert_eq!(
                verify_link(KEY, &sign_raw(payload)),
                Err(TokenError::Malformed),
                "{payload:?}"
            );
        }
        assert!(verify_link(KEY, &sign_raw(&[1, 1, b'm', 1, b'e', 0])).is_ok());
    }

    #[test]
    fn field_lengths_use_more_than_one_byte_when_needed() {
        let mut bytes = Vec::new();
        push_field(&mut bytes, &"x".repeat(300));
        assert_eq!(&bytes[..2], &[0xac, 0x02]);
        let mut reader = Reader { rest: &bytes };
        assert_eq!(reader.field(), Ok("x".repeat(300)));
        assert!(reader.rest.is_empty());
    }
}
