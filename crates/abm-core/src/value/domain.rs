//! `Domain`: a registrable domain (the public suffix plus one label), the identity of an
//! account. Parsing accepts what people paste into a CRM's website field.

use super::ValueError;
use std::fmt;

/// A registrable domain such as `acme.co.uk`: lowercase, ASCII (IDNA), on a public suffix
/// known to the public suffix list. Never an IP address, `localhost` or a bare suffix.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Domain(String);

/// Longest host name DNS allows.
const MAX_HOST_LEN: usize = 253;

impl Domain {
    /// Parses a website, URL, host name or domain (`https://www.Acme.co.uk/about`,
    /// `WWW.ACME.CO.UK`, `acme.co.uk`) into its registrable domain (`acme.co.uk`).
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let host = host_of(input.trim())?;
        Self::from_host(&host)
    }

    /// The registrable domain of a host name (no scheme, path or port).
    pub fn from_host(host: &str) -> Result<Self, ValueError> {
        Self::of_host(host).map(|(_, domain)| domain)
    }

    /// A host name normalised (lowercase, IDNA, no trailing dot) and its registrable domain:
    /// an email address keeps the one and is tied to an account by the other.
    pub(crate) fn of_host(host: &str) -> Result<(String, Self), ValueError> {
        let mut normalised = normalise_host(host)?;
        normalised.truncate(normalised.trim_end_matches('.').len());
        let domain = Self::registrable(&normalised)?;
        Ok((normalised, domain))
    }

    fn registrable(host: &str) -> Result<Self, ValueError> {
        if !host.contains('.') {
            return Err(ValueError::new(
                "not a public domain: a company domain has a dot and a public suffix (like acme.com)",
            ));
        }
        let Some(registrable) = psl::domain(host.as_bytes()) else {
            return Err(ValueError::new(
                "not a registrable domain: it is a public suffix itself (like co.uk)",
            ));
        };
        if !registrable.suffix().is_known() {
            return Err(ValueError::new(
                "not a public domain: its ending is not on the public suffix list",
            ));
        }
        let text = std::str::from_utf8(registrable.as_bytes())
            .map_err(|_| ValueError::new("domain is not ASCII"))?;
        Ok(Domain(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// Extracts the host from a website field: a full URL, a URL without scheme, or a bare host.
fn host_of(input: &str) -> Result<String, ValueError> {
    if input.is_empty() {
        return Err(ValueError::new("empty domain"));
    }
    if input.len() > 2048 {
        return Err(ValueError::new("website is longer than 2048 characters"));
    }
    if input.chars().any(char::is_whitespace) {
        return Err(ValueError::new("a domain has no spaces"));
    }
    // A bare host of letters, digits, dots and hyphens (most domain columns) is its own host:
    // no URL parse needed. `from_host` still checks it, IP addresses included.
    if input
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'.')
    {
        return Ok(input.to_owned());
    }
    let with_scheme;
    let candidate = if input.contains("://") {
        input
    } else {
        with_scheme = format!("http://{input}");
        &with_scheme
    };
    let url = url::Url::parse(candidate)
        .map_err(|error| ValueError::new(format!("not a website: {error}")))?;
    match url.host() {
        Some(url::Host::Domain(host)) => Ok(host.to_owned()),
        Some(url::Host::Ipv4(_)) | Some(url::Host::Ipv6(_)) => {
            Err(ValueError::new("an IP address is not a company domain"))
        }
        None => Err(ValueError::new("not a website: it has no host")),
    }
}

/// Lowercases and IDNA-normalises a host; the fast path skips IDNA for plain ASCII hosts,
/// which are nearly all of them (the activity import calls this millions of times).
fn normalise_host(host: &str) -> Result<String, ValueError> {
    if host.is_empty() {
        return Err(ValueError::new("empty domain"));
    }
    if host.len() > MAX_HOST_LEN + 1 {
        return Err(ValueError::new("domain is longer than 253 characters"));
    }
    let plain = host
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'.');
    let lower = if plain {
        host.to_ascii_lowercase()
    } else {
        match url::Host::parse(host) {
            Ok(url::Host::Domain(domain)) => domain,
            Ok(_) => return Err(ValueError::new("an IP address is not a company domain")),
            Err(error) => return Err(ValueError::new(format!("not a domain: {error}"))),
        }
    };
    if lower.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err(ValueError::new("an IP address is not a company domain"));
    }
    // One pass over the labels (trailing dots end the name: they make no empty label).
    let (mut bad_length, mut bad_hyphen) = (false, false);
    for label in lower.trim_end_matches('.').split('.') {
        bad_length |= label.is_empty() || label.len() > 63;
        bad_hyphen |= label.starts_with('-') || label.ends_with('-');
    }
    if bad_length {
        return Err(ValueError::new("not a domain: empty or over-long label"));
    }
    if bad_hyphen {
        return Err(ValueError::new(
            "not a domain: a label starts or ends with '-'",
        ));
    }
    Ok(lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(input: &str) -> String {
        match Domain::parse(input) {
            Ok(domain) => domain.0,
            Err(error) => format!("error: {error}"),
        }
    }

    #[test]
    fn websites_become_registrable_domains() {
        let cases = [
            ("https://www.Acme.co.uk/about", "acme.co.uk"),
            ("WWW.ACME.CO.UK", "acme.co.uk"),
            ("acme.com", "acme.com"),
            ("http://shop.eu.acme.com:8080/x?y=1", "acme.com"),
            ("acme.github.io", "acme.github.io"),
            ("www.bücher.de", "xn--bcher-kva.de"),
            ("acme.com.", "acme.com"),
            (
                "localhost",
                "error: not a public domain: a company domain has a dot and a public suffix (like acme.com)",
            ),
            ("127.0.0.1", "error: an IP address is not a company domain"),
            // Shorthand IPv4 forms are refused too (as hosts without a public suffix).
            (
                "127.1",
                "error: not a public domain: its ending is not on the public suffix list",
            ),
            (
                "0x7f.0.0.1",
                "error: not a public domain: its ending is not on the public suffix list",
            ),
            (
                "http://0x7f.0.0.1/",
                "error: an IP address is not a company domain",
            ),
            (
                "http://[::1]/",
                "error: an IP address is not a company domain",
            ),
            (
                "co.uk",
                "error: not a registrable domain: it is a public suffix itself (like co.uk)",
            ),
            (
                "acme.notatld",
                "error: not a public domain: its ending is not on the public suffix list",
            ),
            ("", "error: empty domain"),
            ("acme .com", "error: a domain has no spaces"),
        ];
        for (input, expected) in cases {
            assert_eq!(parsed(input), expected, "input {input:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_round_trips(input in "\\PC{0,80}") {
            if let Ok(domain) = Domain::parse(&input) {
                let again = Domain::parse(domain.as_str());
                proptest::prop_assert_eq!(again, Ok(domain));
            }
        }

        #[test]
        fn hostlike_inputs_round_trip(input in "([a-zA-Z0-9-]{1,12}\\.){1,3}(com|co\\.uk|de|io|fr)") {
            if let Ok(domain) = Domain::parse(&input) {
                proptest::prop_assert_eq!(Domain::parse(domain.as_str()), Ok(domain.clone()));
                proptest::prop_assert_eq!(domain.as_str(), domain.as_str().to_ascii_lowercase());
            }
        }
    }
}
