//! Webhook signatures: a sender signs `{timestamp}.{body}` with HMAC-SHA256 and a secret it
//! shares with abm, and sends `sha256=HEX` with the timestamp (Unix seconds). abm checks both
//! for signed activity ingest, and signs its own outgoing webhooks the same way, so one
//! verifier serves a team's tools in both directions.
//!
//! Why the timestamp is signed and bounded: a signature alone proves who sent a body, not
//! when; a captured call could be replayed forever. Within the tolerance a replay is still
//! possible, which is harmless here because activities are idempotent by id.

use super::keyed_mac;
use hmac::Mac;

const MICROS_PER_SECOND: i64 = 1_000_000;
const PREFIX: &str = "sha256=";

/// Why a signed call was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// A header is absent or empty: `timestamp` or `signature`.
    #[error("the {0} is missing")]
    Missing(&'static str),
    #[error("{0}")]
    Malformed(&'static str),
    #[error(
        "the timestamp is {skew_seconds} s from the server's time, more than the {tolerance_seconds} s allowed: a replayed call, or a sender's clock to fix"
    )]
    Expired {
        skew_seconds: i64,
        tolerance_seconds: i64,
    },
    #[error("the signature does not match the body: another secret, or a body changed on the way")]
    Mismatch,
}

/// The signature header value for `body` sent at `timestamp` (Unix seconds, as text):
/// `sha256=` and the lowercase hex HMAC-SHA256 of `{timestamp}.{body}`.
pub fn sign_webhook(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    let digest = webhook_mac(secret, timestamp, body).finalize().into_bytes();
    let mut header = String::with_capacity(PREFIX.len() + 2 * digest.len());
    header.push_str(PREFIX);
    for byte in digest {
        header.push(char::from(HEX[usize::from(byte >> 4)]));
        header.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    header
}

/// Checks a signed call: the timestamp is Unix seconds within `tolerance_seconds` of
/// `now_micros` (either way: a sender's clock may run ahead), and the signature is the HMAC of
/// `{timestamp}.{body}` with `secret`, compared in constant time. The signature is checked
/// before the time, so an expired error is only ever given to the secret's holder.
pub fn verify_webhook(
    secret: &[u8],
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now_micros: i64,
    tolerance_seconds: i64,
) -> Result<(), WebhookError> {
    let timestamp = timestamp.trim();
    let signature = signature.trim();
    if timestamp.is_empty() {
        return Err(WebhookError::Missing("timestamp"));
    }
    if signature.is_empty() {
        return Err(WebhookError::Missing("signature"));
    }
    // Digits only (no sign, no spaces inside, at most 12: until the year 33658), so the signed
    // text has exactly one spelling per instant.
    if timestamp.len() > 12 || !timestamp.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(WebhookError::Malformed(
            "the timestamp must be Unix seconds (digits only)",
        ));
    }
    let sent_at: i64 = timestamp
        .parse()
        .map_err(|_| WebhookError::Malformed("the timestamp must be Unix seconds (digits only)"))?;
    let hex = signature
        .strip_prefix(PREFIX)
        .ok_or(WebhookError::Malformed(
            "the signature must read sha256=HEX",
        ))?;
    let expected = decode_hex(hex).ok_or(WebhookError::Malformed(
        "the signature must read sha256= and 64 hexadecimal digits",
    ))?;
    webhook_mac(secret, timestamp, body)
        .verify_slice(&expected)
        .map_err(|_| WebhookError::Mismatch)?;
    let now = now_micros.div_euclid(MICROS_PER_SECOND);
    let skew_seconds = now.saturating_sub(sent_at).saturating_abs();
    let tolerance_seconds = tolerance_seconds.max(0);
    if skew_seconds > tolerance_seconds {
        return Err(WebhookError::Expired {
            skew_seconds,
            tolerance_seconds,
        });
    }
    Ok(())
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn webhook_mac(secret: &[u8], timestamp: &str, body: &[u8]) -> super::HmacSha256 {
    let mut mac = keyed_mac(secret);
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// 32 bytes from 64 hex digits, either case.
fn decode_hex(hex: &str) -> Option<[u8; 32]> {
    let digits = hex.as_bytes();
    if digits.len() != 64 {
        return None;
    }
    let mut bytes = [0u8; 32];
    for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
        let high = char::from(pair[0]).to_digit(16)?;
        let low = char::from(pair[1]).to_digit(16)?;
        *byte = u8::try_from(high * 16 + low).ok()?;
    }
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_0123456789abcdef";
    const BODY: &[u8] =
        br#"{"activities":[{"id":"mkto-1","type":"webinar_attended","email":"jane@acme.com"}]}"#;
    const NOW_SECONDS: i64 = 1_767_225_600;
    const NOW: i64 = NOW_SECONDS * MICROS_PER_SECOND + 250_000;

    fn verify(timestamp: &str, signature: &str, body: &[u8]) -> Result<(), WebhookError> {
        verify_webhook(SECRET, timestamp, signature, body, NOW, 300)
    }

    #[test]
    fn a_known_vector() {
        // HMAC-SHA256 of "1767225600.{}" with key "key", computed independently
        // (`printf '1767225600.{}' | openssl dgst -sha256 -hmac key`).
        assert_eq!(
            sign_webhook(b"key", "1767225600", b"{}"),
            "sha256=df344de429b8ee672e1863e0008fdbd0080000536fbccdf0e4f89846acbbe872"
        );
    }

    #[test]
    fn a_signed_call_verifies_within_the_tolerance() {
        let timestamp = NOW_SECONDS.to_string();
        let signature = sign_webhook(SECRET, &timestamp, BODY);
        assert!(signature.starts_with("sha256=") && signature.len() == 7 + 64);
        assert_eq!(verify(&timestamp, &signature, BODY), Ok(()));
        assert_eq!(
            verify(
                &timestamp,
                &signature.to_uppercase().replacen("SHA256", "sha256", 1),
                BODY
            ),
            Ok(())
        );
        assert_eq!(
            verify(&format!(" {timestamp} "), &format!("{signature}\n"), BODY),
            Ok(())
        );
        for offset in [-300, 300] {
            let at = (NOW_SECONDS + offset).to_string();
            assert_eq!(
                verify(&at, &sign_webhook(SECRET, &at, BODY), BODY),
                Ok(()),
                "{offset}"
            );
        }
    }

    #[test]
    fn old_and_future_calls_are_expired() {
        for offset in [-301, 301, -86_400] {
            let at = (NOW_SECONDS + offset).to_string();
            let error = verify(&at, &sign_webhook(SECRET, &at, BODY), BODY).expect_err("expired");
            assert_eq!(
                error,
                WebhookError::Expired {
                    skew_seconds: offset.abs(),
                    tolerance_seconds: 300
                }
            );
        }
        let zero = verify_webhook(SECRET, "0", &sign_webhook(SECRET, "0", BODY), BODY, NOW, -5);
        assert!(matches!(
            zero,
            Err(WebhookError::Expired {
                tolerance_seconds: 0,
                ..
            })
        ));
    }

    #[test]
    fn another_body_time_or_secret_does_not_match() {
        let timestamp = NOW_SECONDS.to_string();
        let signature = sign_webhook(SECRET, &timestamp, BODY);
        let mut changed = BODY.to_vec();
        changed[10] ^= 1;
        assert_eq!(
            verify(&timestamp, &signature, &changed),
            Err(WebhookError::Mismatch)
        );
        let later = (NOW_SECONDS + 1).to_string();
        assert_eq!(
            verify(&later, &signature, BODY),
            Err(WebhookError::Mismatch)
        );
        let other = sign_webhook(b"another secret", &timestamp, BODY);
        assert_eq!(
            verify(&timestamp, &other, BODY),
            Err(WebhookError::Mismatch)
        );
        // Moving the dot between timestamp and body changes the signed text.
        let shifted = sign_webhook(
            SECRET,
            &timestamp[..9],
            &[&timestamp.as_bytes()[9..], b".", BODY].concat(),
        );
        assert_eq!(
            verify(&timestamp, &shifted, BODY),
            Err(WebhookError::Mismatch)
        );
    }

    #[test]
    fn missing_and_malformed_headers_are_named() {
        let timestamp = NOW_SECONDS.to_string();
        let signature = sign_webhook(SECRET, &timestamp, BODY);
        assert_eq!(
            verify("", &signature, BODY),
            Err(WebhookError::Missing("timestamp"))
        );
        assert_eq!(
            verify(&timestamp, " ", BODY),
            Err(WebhookError::Missing("signature"))
        );
        for bad_time in [
            "-1767225600",
            "+1767225600",
            "1767225600.5",
            "17672256OO",
            "9999999999999",
        ] {
            assert!(
                matches!(
                    verify(bad_time, &signature, BODY),
                    Err(WebhookError::Malformed(_))
                ),
                "{bad_time}"
            );
        }
        let digits = &signature[7..];
        for bad_signature in [
            digits.to_owned(),
            format!("sha1={digits}"),
            format!("sha256={}", &digits[..62]),
            format!("sha256={digits}00"),
            format!("sha256={}zz", &digits[..62]),
            format!("sha256= {digits}"),
        ] {
            assert!(
                matches!(
                    verify(&timestamp, &bad_signature, BODY),
                    Err(WebhookError::Malformed(_))
                ),
                "{bad_signature}"
            );
        }
    }

    #[test]
    fn messages_say_what_to_do() {
        let expired = WebhookError::Expired {
            skew_seconds: 900,
            tolerance_seconds: 300,
        };
        assert!(expired.to_string().contains("900 s"));
        assert!(
            WebhookError::Missing("timestamp")
                .to_string()
                .contains("timestamp")
        );
        assert!(WebhookError::Mismatch.to_string().contains("secret"));
    }

    #[test]
    fn hex_reads_both_cases_and_nothing_else() {
        assert_eq!(decode_hex(&"aB".repeat(32)), Some([0xab; 32]));
        assert_eq!(decode_hex(&"0g".repeat(32)), None);
        assert_eq!(decode_hex("ab"), None);
        assert_eq!(decode_hex(&"é".repeat(32)), None);
    }
}
