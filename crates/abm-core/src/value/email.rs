//! `Email`: a normalised email address whose domain is a public one.

use super::{Domain, ValueError};
use std::fmt;

/// An email address, trimmed and lowercased, with a host on a public suffix. The local part
/// is lowercased too: mailbox providers treat it case-insensitively in practice, and a CRM
/// and a form fill must meet on the same key.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(transparent)]
pub struct Email {
    address: String,
    #[serde(skip)]
    domain: Domain,
}

// The domain follows from the address, so identity, hashing and order are the address's
// alone: hashing both would double the cost of every identity-index lookup.
impl PartialEq for Email {
    fn eq(&self, other: &Self) -> bool {
        self.address == other.address
    }
}

impl Eq for Email {}

impl std::hash::Hash for Email {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.address.hash(state);
    }
}

impl PartialOrd for Email {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Email {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.address.cmp(&other.address)
    }
}

impl Email {
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(ValueError::new("empty email address"));
        }
        if trimmed.len() > MAX_ADDRESS {
            return Err(address_too_long());
        }
        let Some(at) = trimmed.rfind('@') else {
            return Err(ValueError::new("not an email address: it has no '@'"));
        };
        let (local, host) = (&trimmed[..at], &trimmed[at + 1..]);
        if local.is_empty() || local.len() > MAX_LOCAL {
            return Err(bad_local_length());
        }
        if local.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(
                    c,
                    '@' | '<' | '>' | ',' | ';' | '"' | '(' | ')' | '[' | ']' | '\\'
                )
        }) {
            return Err(ValueError::new(
                "not an email address: the part before '@' has a character mail does not allow",
            ));
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(ValueError::new(
                "not an email address: misplaced '.' before '@'",
            ));
        }
        if host.is_empty() {
            return Err(ValueError::new("not an email address: nothing after '@'"));
        }
        // The host must itself be a public domain; its registrable part is checked by Domain.
        let (host, domain) = Domain::of_host(host)
            .map_err(|error| ValueError::new(format!("email domain: {error}")))?;
        // Built in place (no `format!`, no second copy of the host): this runs for most rows
        // of an activity file.
        let mut address = String::with_capacity(trimmed.len());
        if local.is_ascii() {
            address.push_str(local);
            address.make_ascii_lowercase();
        } else {
            address.push_str(&local.to_lowercase());
        }
        // Lowercasing and IDNA can lengthen an address (`Ⱥ` is two bytes, `ⱥ` three): the
        // limits hold for what is stored, which must parse again when it is read back.
        if address.len() > MAX_LOCAL {
            return Err(bad_local_length());
        }
        address.push('@');
        address.push_str(&host);
        if address.len() > MAX_ADDRESS {
            return Err(address_too_long());
        }
        Ok(Email { address, domain })
    }

    pub fn as_str(&self) -> &str {
        &self.address
    }

    /// The host after '@', e.g. `eu.acme.com`.
    pub fn host(&self) -> &str {
        self.address.rsplit_once('@').map_or("", |(_, host)| host)
    }

    /// The registrable domain of the host, e.g. `acme.com` for `jo@eu.acme.com`.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }
}

impl fmt::Display for Email {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.address)
    }
}

/// The limits of RFC 5321, in bytes: the part before '@', and the whole address.
const MAX_LOCAL: usize = 64;
const MAX_ADDRESS: usize = 254;

fn bad_local_length() -> ValueError {
    ValueError::new("not an email address: the part before '@' must have 1 to 64 characters")
}

fn address_too_long() -> ValueError {
    ValueError::new("email address is longer than 254 characters")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_normalise_or_explain() {
        let cases = [
            (" Jo.Smith@EU.Acme.COM ", "jo.smith@eu.acme.com / acme.com"),
            ("jo+news@acme.co.uk", "jo+news@acme.co.uk / acme.co.uk"),
            ("jo@müller.de", "jo@xn--mller-kva.de / xn--mller-kva.de"),
            ("ÉLodie.Ärger@Acme.fr.", "élodie.ärger@acme.fr / acme.fr"),
            (
                "ȺȺȺȺȺȺȺȺȺȺȺȺȺȺȺȺȺȺȺȺȺȺȺȺȺȺȺȺȺȺȺȺ@acme.com",
                "error: not an email address: the part before '@' must have 1 to 64 characters",
            ),
            ("jo.acme.com", "error: not an email address: it has no '@'"),
            (
                "jo@localhost",
                "error: email domain: not a public domain: a company domain has a dot and a public suffix (like acme.com)",
            ),
            (
                "jo@10.0.0.1",
                "error: email domain: an IP address is not a company domain",
            ),
            (
                "@acme.com",
                "error: not an email address: the part before '@' must have 1 to 64 characters",
            ),
            ("jo@", "error: not an email address: nothing after '@'"),
            (
                "jo smith@acme.com",
                "error: not an email address: the part before '@' has a character mail does not allow",
            ),
            ("", "error: empty email address"),
        ];
        for (input, expected) in cases {
            let got = match Email::parse(input) {
                Ok(email) => format!("{} / {}", email, email.domain()),
                Err(error) => format!("error: {error}"),
            };
            assert_eq!(got, expected, "input {input:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_round_trips(input in "\\PC{0,80}") {
            if let Ok(email) = Email::parse(&input) {
                proptest::prop_assert_eq!(Email::parse(email.as_str()), Ok(email.clone()));
                proptest::prop_assert!(Domain::from_host(email.host()).is_ok());
            }
        }

        #[test]
        fn addresslike_inputs_round_trip(input in "[a-zA-Z0-9._+-]{1,20}@([a-zA-Z0-9-]{1,10}\\.){1,2}(com|org|co\\.uk)") {
            if let Ok(email) = Email::parse(&input) {
                proptest::prop_assert_eq!(Email::parse(email.as_str()), Ok(email.clone()));
            }
        }
    }
}
