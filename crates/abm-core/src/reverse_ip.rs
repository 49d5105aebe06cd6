//! Reverse-IP: naming the company behind an anonymous website visitor from the network they
//! come from, as Demandbase and 6sense do, with databases the team provides (a MaxMind-format
//! `.mmdb` and a CSV of the team's own ranges). This module owns the rules; `abm-engine`
//! reads the files and asks the database.
//!
//! What it owns, and why each rule is as it is:
//! - [`IpRange`] and [`IpRangeTable`]: the team's ranges, sorted and non-overlapping, looked up
//!   by binary search. IPv4 is kept as IPv4-mapped IPv6 so one table holds both families and
//!   an address has one key however the socket reported it. An overlap is refused, never
//!   resolved by order: which of two claims about a network is right is for people to decide.
//! - [`Exclusions`]: networks that carry anyone's traffic (ISPs, mobile carriers, clouds,
//!   VPNs, hosting). A database names the *provider* there, not the visitor's company, so a
//!   match would be wrong however confident it looked.
//! - [`AccountNames`]: matching an organization name to an account name, exactly after
//!   normalisation, and never when two accounts share the name: a wrong account is worse
//!   than none.
//! - [`Identifier`]: the order of precedence (the team's exclusions, the team's ranges, then
//!   the database) and the confidence threshold.

use crate::score::config::Share;
use crate::value::{Domain, ValueError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `::ffff:0:0`, the start of the IPv4-mapped block: IPv4 keys live at `BASE | address`.
const V4_MAPPED_BASE: u128 = 0xffff_0000_0000;
const V4_MAPPED_MASK: u128 = !0xffff_ffff;

fn key_of(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => V4_MAPPED_BASE | u128::from(u32::from(v4)),
        // An IPv4-mapped IPv6 address gets the same key as its IPv4 form by construction.
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn is_v4_key(key: u128) -> bool {
    key & V4_MAPPED_MASK == V4_MAPPED_BASE
}

fn address_of(key: u128) -> IpAddr {
    if is_v4_key(key) {
        #[allow(clippy::cast_possible_truncation)]
        let low = (key & 0xffff_ffff) as u32;
        IpAddr::V4(Ipv4Addr::from(low))
    } else {
        IpAddr::V6(Ipv6Addr::from(key))
    }
}

/// An inclusive range of addresses of one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpRange {
    start: u128,
    end: u128,
}

impl IpRange {
    /// The addresses from `start` to `end`, both included; both of one family.
    pub fn new(start: IpAddr, end: IpAddr) -> Result<Self, ValueError> {
        let (start, end) = (start.to_canonical(), end.to_canonical());
        if start.is_ipv4() != end.is_ipv4() {
            return Err(ValueError::new(
                "start and end must both be IPv4 or both be IPv6",
            ));
        }
        let (start, end) = (key_of(start), key_of(end));
        if start > end {
            return Err(ValueError::new("the end comes before the start"));
        }
        Ok(Self { start, end })
    }

    /// One address.
    pub fn single(ip: IpAddr) -> Self {
        let key = key_of(ip.to_canonical());
        Self {
            start: key,
            end: key,
        }
    }

    /// Reads a network in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`) or a bare address (one
    /// address). Host bits must be clear: `10.1.2.3/8` is more likely a typo than a network,
    /// so the error names the network it would be.
    pub fn parse_cidr(text: &str) -> Result<Self, ValueError> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address.trim(), Some(prefix.trim())),
            None => (text, None),
        };
        let ip: IpAddr = address
            .parse()
            .map_err(|_| ValueError::new("not an IP network: use 10.0.0.0/8 or 2001:db8::/32"))?;
        let width: u32 = if ip.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            Some(prefix) => prefix
                .parse::<u32>()
                .ok()
                .filter(|prefix| *prefix <= width)
                .ok_or_else(|| {
                    ValueError::new(format!(
                        "the prefix length must be a whole number from 0 to {width}"
                    ))
                })?,
        };
        let bits = match ip {
            IpAddr::V4(v4) => u128::from(u32::from(v4)),
            IpAddr::V6(v6) => u128::from(v6),
        };
        let host_bits = width - prefix;
        let host_mask = if host_bits == 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        let (start, end) = (bits & !host_mask, bits | host_mask);
        let (start, end) = if ip.is_ipv4() {
            (V4_MAPPED_BASE | start, V4_MAPPED_BASE | end)
        } else {
            (start, end)
        };
        if bits & host_mask != 0 {
            return Err(ValueError::new(format!(
                "host bits are set: the network is {}/{prefix}",
                address_of(start)
            )));
        }
        Ok(Self { start, end })
    }

    pub fn start(&self) -> IpAddr {
        address_of(self.start)
    }

    pub fn end(&self) -> IpAddr {
        address_of(self.end)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        (self.start..=self.end).contains(&key_of(ip.to_canonical()))
    }

    fn overlaps(&self, other: &IpRange) -> bool {
        self.start <= other.end && other.start <= self.end
    }

    /// The prefix length when the range is exactly one CIDR network.
    fn prefix_len(&self) -> Option<u32> {
        let v4 = is_v4_key(self.start) && is_v4_key(self.end);
        let (start, end, width) = if v4 {
            (self.start & 0xffff_ffff, self.end & 0xffff_ffff, 32)
        } else {
            (self.start, self.end, 128)
        };
        let host = end - start;
        // Aligned when the size is a power of two (host bits all ones) and the start has
        // none of them set; `wrapping_add` covers the whole IPv6 space.
        (host & host.wrapping_add(1) == 0 && start & host == 0).then(|| width - host.count_ones())
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.prefix_len() {
            Some(prefix) => write!(formatter, "{}/{prefix}", self.start()),
            None => write!(formatter, "{}-{}", self.start(), self.end()),
        }
    }
}

/// Whether an address can reach a public website from a company network. Private,
/// loopback, link-local, carrier-grade NAT and the like identify no company; documentation
/// ranges (192.0.2.0/24, 2001:db8::/32) are public here so tests can use them.
pub fn is_public(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [first, second, ..] = v4.octets();
            let shared = first == 100 && (64..128).contains(&second);
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || shared
                || first == 0)
        }
        IpAddr::V6(v6) => {
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || v6.is_unique_local()
                || v6.is_unicast_link_local())
        }
    }
}

/// What the team's ranges say about one network.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeEntry {
    pub domain: Domain,
    /// How sure the team is, 0 to 1.
    pub confidence: f64,
    pub organization: Option<String>,
}

/// Why a list of ranges cannot make a table. Indexes are positions in the list given, so the
/// caller can name its lines.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RangeTableError {
    #[error("{second_range} overlaps {first_range}")]
    Overlap {
        first: usize,
        first_range: IpRange,
        second: usize,
        second_range: IpRange,
    },
    #[error("confidence must be a number from 0 to 1")]
    Confidence { index: usize },
}

/// Sorted, non-overlapping ranges, looked up by binary search.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IpRangeTable {
    ranges: Vec<(IpRange, RangeEntry)>,
}

impl IpRangeTable {
    /// Builds the table, or says every overlap (each range against the widest one before it
    /// that it overlaps) and every confidence out of range. Nothing is dropped or merged.
    pub fn new(entries: Vec<(IpRange, RangeEntry)>) -> Result<Self, Vec<RangeTableError>> {
        let mut errors: Vec<RangeTableError> = entries
            .iter()
            .enumerate()
            .filter(|(_, (_, entry))| {
                !(entry.confidence.is_finite() && (0.0..=1.0).contains(&entry.confidence))
            })
            .map(|(index, _)| RangeTableError::Confidence { index })
            .collect();
        let mut indexed: Vec<(usize, (IpRange, RangeEntry))> =
            entries.into_iter().enumerate().collect();
        indexed.sort_by_key(|(index, (range, _))| (range.start, range.end, *index));
        // The range reaching furthest so far: any later range starting before its end
        // overlaps it, which finds every overlapping range, not only neighbours.
        let mut widest: Option<(usize, IpRange)> = None;
        for (index, (range, _)) in &indexed {
            match widest {
                Some((first, first_range)) if first_range.overlaps(range) => {
                    errors.push(RangeTableError::Overlap {
                        first,
                        first_range,
                        second: *index,
                        second_range: *range,
                    });
                    if range.end > first_range.end {
                        widest = Some((*index, *range));
                    }
                }
                _ => widest = Some((*index, *range)),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            ranges: indexed.into_iter().map(|(_, pair)| pair).collect(),
        })
    }

    pub fn lookup(&self, ip: IpAddr) -> Option<&RangeEntry> {
        let key = key_of(ip.to_canonical());
        let after = self.ranges.partition_point(|(range, _)| range.start <= key);
        let (range, entry) = self.ranges.get(after.checked_sub(1)?)?;
        (key <= range.end).then_some(entry)
    }

    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
}

/// Why a network identifies nobody.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    /// A consumer or business internet provider's own pool (home lines, dynamic addresses).
    Isp,
    MobileCarrier,
    Cloud,
    /// A VPN or a secure web gateway: many companies' people behind one address.
    Vpn,
    Hosting,
    /// The team's own list: `exclude_cidrs` or `extra_exclusions`.
    Listed,
}

impl Exclusion {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Isp => "isp",
            Self::MobileCarrier => "mobile_carrier",
            Self::Cloud => "cloud",
            Self::Vpn => "vpn",
            Self::Hosting => "hosting",
            Self::Listed => "listed",
        }
    }
}

impl fmt::Display for Exclusion {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

// The maintained lists: a documented heuristic, not a truth. Phrases are whole words of the
// name, lowercased, punctuation as spaces ("T-Mobile" is `t mobile`, "AT&T" is `at t`), so
// `o2` never matches "CO2 Solutions" nor `ovh` a word that merely contains it.
//
// "Strong" names are providers whatever else the record says. Clouds, VPNs and hosting count
// in the organization or the ISP field: a company's block on AWS is its servers or a relay,
// not its people. ISPs and mobile carriers count in the organization only (the ISP field when
// there is no organization): "Acme Corp" on a Comcast Business line is Acme's office.

const VPN_NAMES: &[&str] = &[
    "vpn",
    "nordvpn",
    "expressvpn",
    "mullvad",
    "protonvpn",
    "proton ag",
    "proton technologies",
    "private internet access",
    "surfshark",
    "cyberghost",
    "ipvanish",
    "windscribe",
    "tunnelbear",
    "hidemyass",
    "private relay",
    // Secure web gateways: whole companies egress through them, so they name nobody.
    "zscaler",
    "netskope",
];

const CLOUD_NAMES: &[&str] = &[
    "amazon",
    "aws",
    "amazon web services",
    "google cloud",
    "google llc",
    "googleusercontent",
    "microsoft azure",
    "azure",
    "digitalocean",
    "linode",
    "akamai",
    "ovh",
    "ovhcloud",
    "hetzner",
    "cloudflare",
    "oracle cloud",
    "alibaba",
    "aliyun",
    "tencent cloud",
    "vultr",
    "choopa",
    "scaleway",
    "fastly",
    "ibm cloud",
    "softlayer",
    "rackspace",
    "huawei cloud",
    "upcloud",
];

const HOSTING_NAMES: &[&str] = &[
    "hosting",
    "datacenter",
    "datacentre",
    "data center",
    "data centre",
    "colocation",
    "dedicated server",
    "dedicated servers",
    "vps",
    "leaseweb",
    "contabo",
    "m247",
    "hostinger",
    "godaddy",
    "ionos",
];

const MOBILE_NAMES: &[&str] = &[
    "vodafone",
    "t mobile",
    "verizon wireless",
    "cellco partnership",
    "at t mobility",
    "sprint",
    "ee limited",
    "hutchison 3g",
    "three uk",
    "telstra",
    "airtel",
    "reliance jio",
    "china mobile",
    "china unicom",
    "ntt docomo",
    "softbank mobile",
    "rogers wireless",
    "bell mobility",
    "telus mobility",
    "us cellular",
    "united states cellular",
    "cricket wireless",
    "metropcs",
    "boost mobile",
    "free mobile",
    "bouygues telecom",
    "movistar",
    "mtn",
];

const ISP_NAMES: &[&str] = &[
    "comcast",
    "xfinity",
    "charter communications",
    "time warner cable",
    "cox communications",
    "centurylink",
    "frontier communications",
    "windstream",
    "mediacom",
    "altice",
    "cablevision",
    "suddenlink",
    "verizon",
    "at t",
    "deutsche telekom",
    "british telecommunications",
    "virgin media",
    "talktalk",
    "plusnet",
    "sky broadband",
    "proxad",
    "telefonica",
    "swisscom",
    "telenor",
    "telia",
    "kpn",
    "ziggo",
    "optus",
    "shaw communications",
    "rogers communications",
    "bell canada",
    "videotron",
];

// "Weak" words say "telecom provider" only when the organization holding the block is its
// ISP too (or no organization is given): that is the provider's own pool. Alone they would
// exclude "General Cable" or "Acme Communications", a PR firm, on their office lines.
const MOBILE_WORDS: &[&str] = &["mobile", "mobility", "wireless", "cellular", "orange", "o2"];
const ISP_WORDS: &[&str] = &[
    "telecom",
    "telekom",
    "telecommunications",
    "telecommunication",
    "telco",
    "broadband",
    "cable",
    "communications",
    "internet",
    "isp",
    "dsl",
    "fiber",
    "fibre",
    "telephone",
    "spectrum",
    "charter",
    "cox",
    "bt",
];

/// Registrable domains that name a provider, not a visitor's company: what a domain
/// database returns for home lines, phones and servers.
const PROVIDER_DOMAINS: &[(&str, Exclusion)] = &[
    ("amazonaws.com", Exclusion::Cloud),
    ("cloudfront.net", Exclusion::Cloud),
    ("googleusercontent.com", Exclusion::Cloud),
    ("cloudapp.net", Exclusion::Cloud),
    ("azure.com", Exclusion::Cloud),
    ("your-server.de", Exclusion::Cloud),
    ("linodeusercontent.com", Exclusion::Cloud),
    ("rr.com", Exclusion::Isp),
    ("cox.net", Exclusion::Isp),
    ("att.net", Exclusion::Isp),
    ("sbcglobal.net", Exclusion::Isp),
    ("bellsouth.net", Exclusion::Isp),
    ("frontiernet.net", Exclusion::Isp),
    ("qwest.net", Exclusion::Isp),
    ("optonline.net", Exclusion::Isp),
    ("btcentralplus.com", Exclusion::Isp),
    ("virginm.net", Exclusion::Isp),
    ("t-ipconnect.de", Exclusion::Isp),
    ("wanadoo.fr", Exclusion::Isp),
    ("myvzw.com", Exclusion::MobileCarrier),
    ("tmodns.net", Exclusion::MobileCarrier),
    ("mycingular.net", Exclusion::MobileCarrier),
];

fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_owned)
        .collect()
}

fn has_phrase(words: &[String], phrase: &str) -> bool {
    let phrase: Vec<&str> = phrase.split(' ').filter(|w| !w.is_empty()).collect();
    !phrase.is_empty()
        && words
            .windows(phrase.len())
            .any(|window| window.iter().zip(&phrase).all(|(word, want)| word == want))
}

fn any_phrase(words: &[String], phrases: &[&str]) -> bool {
    phrases.iter().any(|phrase| has_phrase(words, phrase))
}

fn non_blank(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|text| !text.is_empty())
}

/// The exclusion lists: the maintained ones, the team's extra substrings, and the
/// organizations the team keeps (a team selling to telecoms keeps its telecom accounts).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exclusions {
    /// Lowercased substrings: `extra_exclusions`.
    extra: Vec<String>,
    /// Normalised company names: `keep_organizations`.
    keep: Vec<String>,
}

impl Exclusions {
    pub fn new(extra: &[String], keep: &[String]) -> Self {
        Self {
            extra: extra
                .iter()
                .map(|text| text.trim().to_lowercase())
                .filter(|text| !text.is_empty())
                .collect(),
            keep: keep
                .iter()
                .map(|name| normalise_company_name(name))
                .filter(|name| !name.is_empty())
                .collect(),
        }
    }

    fn listed(&self, texts: &[Option<&str>]) -> bool {
        texts.iter().flatten().any(|text| {
            let text = text.to_lowercase();
            self.extra.iter().any(|extra| text.contains(extra.as_str()))
        })
    }

    fn kept(&self, name: &str) -> bool {
        let name = normalise_company_name(name);
        self.keep.contains(&name)
    }

    /// Why a network with these database fields identifies nobody, if it does not. In order:
    /// the team's `extra_exclusions`; the connection type and MaxMind's user type (what the
    /// database measured); the organizations the team keeps; then the maintained names.
    pub fn classify(
        &self,
        organization: Option<&str>,
        isp: Option<&str>,
        connection_type: Option<&str>,
        user_type: Option<&str>,
    ) -> Option<Exclusion> {
        let (organization, isp) = (non_blank(organization), non_blank(isp));
        if self.listed(&[organization, isp]) {
            return Some(Exclusion::Listed);
        }
        if non_blank(connection_type).is_some_and(|kind| kind.eq_ignore_ascii_case("cellular")) {
            return Some(Exclusion::MobileCarrier);
        }
        if let Some(exclusion) = non_blank(user_type).and_then(user_type_exclusion) {
            return Some(exclusion);
        }
        let holder = organization.or(isp)?;
        if self.kept(holder) {
            return None;
        }
        let holder_words = words(holder);
        let isp_words = isp.map(words).unwrap_or_default();
        for (exclusion, names) in [
            (Exclusion::Vpn, VPN_NAMES),
            (Exclusion::Cloud, CLOUD_NAMES),
            (Exclusion::Hosting, HOSTING_NAMES),
        ] {
            if any_phrase(&holder_words, names) || any_phrase(&isp_words, names) {
                return Some(exclusion);
            }
        }
        if any_phrase(&holder_words, MOBILE_NAMES) {
            return Some(Exclusion::MobileCarrier);
        }
        if any_phrase(&holder_words, ISP_NAMES) {
            return Some(Exclusion::Isp);
        }
        let provider_pool = match (organization, isp) {
            (Some(organization), Some(isp)) => {
                normalise_company_name(organization) == normalise_company_name(isp)
            }
            (None, Some(_)) => true,
            _ => false,
        };
        if provider_pool {
            if any_phrase(&holder_words, MOBILE_WORDS) {
                return Some(Exclusion::MobileCarrier);
            }
            if any_phrase(&holder_words, ISP_WORDS) {
                return Some(Exclusion::Isp);
            }
        }
        None
    }

    /// Why a domain from the database names a provider, if it does: the team's extra
    /// substrings, the maintained provider domains, then the maintained names over the
    /// domain's own label (`comcast.net`, `vodafone.de`).
    pub fn classify_domain(&self, domain: &Domain) -> Option<Exclusion> {
        if self.listed(&[Some(domain.as_str())]) {
            return Some(Exclusion::Listed);
        }
        let label = domain.as_str().split('.').next().unwrap_or_default();
        if self.kept(label) {
            return None;
        }
        // Cloud host names can be public suffixes themselves (`compute-1.amazonaws.com`), so
        // a provider's domain matches as an ending too.
        let name = domain.as_str();
        if let Some((_, exclusion)) = PROVIDER_DOMAINS.iter().find(|(provider, _)| {
            name == *provider
                || name
                    .strip_suffix(provider)
                    .is_some_and(|rest| rest.ends_with('.'))
        }) {
            return Some(*exclusion);
        }
        let label_words = words(label);
        [
            (Exclusion::Vpn, VPN_NAMES),
            (Exclusion::Cloud, CLOUD_NAMES),
            (Exclusion::Hosting, HOSTING_NAMES),
            (Exclusion::MobileCarrier, MOBILE_NAMES),
            (Exclusion::Isp, ISP_NAMES),
        ]
        .into_iter()
        .find(|(_, names)| any_phrase(&label_words, names))
        .map(|(exclusion, _)| exclusion)
    }
}

/// MaxMind's `user_type` (GeoIP2 Enterprise and Insights). Business, government, school and
/// the like are people at an organization, so they are not excluded; a search engine's
/// spider is a machine in a data centre.
fn user_type_exclusion(user_type: &str) -> Option<Exclusion> {
    match user_type.to_ascii_lowercase().as_str() {
        "cellular" => Some(Exclusion::MobileCarrier),
        "residential" => Some(Exclusion::Isp),
        "consumer_privacy" => Some(Exclusion::Vpn),
        "hosting" | "content_delivery_network" | "search_engine_spider" => Some(Exclusion::Hosting),
        _ => None,
    }
}

/// [`Exclusions::classify`] with the maintained lists alone.
pub fn excluded(
    organization: Option<&str>,
    isp: Option<&str>,
    connection_type: Option<&str>,
    user_type: Option<&str>,
) -> Option<Exclusion> {
    Exclusions::default().classify(organization, isp, connection_type, user_type)
}

/// Legal forms and group words dropped from the end of a company name: "Acme Holdings Inc."
/// and "ACME-CORP" are the same company as "Acme".
const LEGAL_SUFFIXES: &[&str] = &[
    "inc",
    "incorporated",
    "llc",
    "llp",
    "lp",
    "pllc",
    "ltd",
    "limited",
    "gmbh",
    "mbh",
    "ag",
    "kg",
    "kgaa",
    "se",
    "sa",
    "sas",
    "sarl",
    "sl",
    "srl",
    "spa",
    "bv",
    "nv",
    "plc",
    "corp",
    "corporation",
    "company",
    "co",
    "group",
    "holdings",
    "holding",
    "pty",
    "pte",
    "oy",
    "oyj",
    "ab",
    "as",
    "asa",
    "aps",
    "kk",
    "bhd",
    "sdn",
    "ev",
];

/// Web endings people leave in company names ("Amazon.com, Inc.").
const WEB_ENDINGS: &[&str] = &[".com", ".net", ".org", ".io"];

fn fold_accent(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => "a",
        'ç' => "c",
        'è' | 'é' | 'ê' | 'ë' => "e",
        'ì' | 'í' | 'î' | 'ï' => "i",
        'ñ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => "o",
        'ù' | 'ú' | 'û' | 'ü' => "u",
        'ý' | 'ÿ' => "y",
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        _ => return None,
    })
}

/// A company name as compared: lowercase, common accents folded, punctuation gone (dots and
/// apostrophes join, so "J.P. Morgan" is "jp morgan" and "McDonald's" "mcdonalds"; the rest
/// separates words), "and"/"the" dropped, and legal forms dropped from the end (never the
/// last word left: "Holdings Inc" stays "holdings").
pub fn normalise_company_name(name: &str) -> String {
    let mut cleaned = String::with_capacity(name.len());
    for raw in name.split(|c: char| c.is_whitespace() || c == ',') {
        let mut word = raw.to_lowercase();
        while word.ends_with('.') {
            word.pop();
        }
        if let Some(ending) = WEB_ENDINGS
            .iter()
            .find(|ending| word.len() > ending.len() && word.ends_with(*ending))
        {
            word.truncate(word.len() - ending.len());
        }
        for c in word.chars() {
            if let Some(folded) = fold_accent(c) {
                cleaned.push_str(folded);
            } else if c.is_alphanumeric() {
                cleaned.push(c);
            } else if !matches!(c, '.' | '\'' | '’') {
                cleaned.push(' ');
            }
        }
        cleaned.push(' ');
    }
    let mut words: Vec<&str> = cleaned
        .split_whitespace()
        .filter(|word| !matches!(*word, "and" | "the"))
        .collect();
    while words.len() > 1
        && words
            .last()
            .is_some_and(|word| LEGAL_SUFFIXES.contains(word))
    {
        words.pop();
    }
    words.join(" ")
}

/// Account names for matching an organization name from a database: exact after
/// normalisation. A name two accounts share matches neither.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountNames {
    /// `None`: two accounts of different domains share the name.
    by_name: BTreeMap<String, Option<Domain>>,
}

impl AccountNames {
    pub fn new<N: AsRef<str>>(accounts: impl IntoIterator<Item = (N, Domain)>) -> Self {
        let mut by_name: BTreeMap<String, Option<Domain>> = BTreeMap::new();
        for (name, domain) in accounts {
            let key = normalise_company_name(name.as_ref());
            if key.is_empty() {
                continue;
            }
            by_name
                .entry(key)
                .and_modify(|known| {
                    if known.as_ref() != Some(&domain) {
                        *known = None;
                    }
                })
                .or_insert(Some(domain));
        }
        Self { by_name }
    }

    /// The domain of the one account with this name.
    pub fn lookup(&self, organization: &str) -> Option<&Domain> {
        self.by_name
            .get(&normalise_company_name(organization))?
            .as_ref()
    }

    /// Names that match one account.
    pub fn len(&self) -> usize {
        self.by_name
            .values()
            .filter(|domain| domain.is_some())
            .count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `[reverse_ip]` of abm.toml. Without `mmdb` and `ranges` reverse-IP is off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReverseIpConfig {
    /// A MaxMind-format database (GeoIP2 ISP, ASN, Domain, Connection-Type or Enterprise, or
    /// a vendor's file in that format).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mmdb: Option<String>,
    /// The team's own ranges: a CSV with `network,domain,confidence[,organization]` or
    /// `start,end,domain,confidence[,organization]`. Checked before the database, and
    /// private ranges listed here count (an office network, a test on 127.0.0.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ranges: Option<String>,
    /// Matches less confident than this are ignored. Setting it above `name_confidence`
    /// turns matching by name off.
    pub min_confidence: Share,
    /// The confidence of a database record carrying a domain.
    pub domain_confidence: Share,
    /// The confidence of a database organization matched to an account name.
    pub name_confidence: Share,
    /// Organization, ISP or domain substrings (any case) that identify nobody.
    pub extra_exclusions: Vec<String>,
    /// Organizations the maintained exclusion lists never exclude: a team selling to
    /// telecoms or clouds keeps its accounts among them here.
    pub keep_organizations: Vec<String>,
    /// Networks never identified, like the office VPN or a monitoring service.
    pub exclude_cidrs: Vec<String>,
}

impl Default for ReverseIpConfig {
    fn default() -> Self {
        Self {
            mmdb: None,
            ranges: None,
            min_confidence: Share(0.5),
            domain_confidence: Share(0.8),
            name_confidence: Share(0.6),
            extra_exclusions: Vec::new(),
            keep_organizations: Vec::new(),
            exclude_cidrs: Vec::new(),
        }
    }
}

impl ReverseIpConfig {
    /// Checks what the types alone cannot. Errors name the key and the value.
    pub fn validate(&self) -> Result<(), String> {
        for (key, path) in [("mmdb", &self.mmdb), ("ranges", &self.ranges)] {
            if path.as_deref().is_some_and(|path| path.trim().is_empty()) {
                return Err(format!(
                    "{key}: the path is empty; leave the key out instead"
                ));
            }
        }
        for (key, list) in [
            ("extra_exclusions", &self.extra_exclusions),
            ("keep_organizations", &self.keep_organizations),
        ] {
            if let Some(index) = list.iter().position(|text| text.trim().is_empty()) {
                return Err(format!("{key}[{index}]: an entry is empty"));
            }
        }
        self.exclude_networks().map(|_| ())
    }

    /// `exclude_cidrs`, read.
    pub fn exclude_networks(&self) -> Result<Vec<IpRange>, String> {
        self.exclude_cidrs
            .iter()
            .map(|cidr| {
                IpRange::parse_cidr(cidr)
                    .map_err(|error| format!("exclude_cidrs: {cidr:?}: {error}"))
            })
            .collect()
    }
}

/// The company a visitor's network belongs to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Identification {
    /// The account's domain; `None` when the database names an organization that matches no
    /// account (or two): a company is known, but not one of ours.
    pub domain: Option<Domain>,
    pub organization: Option<String>,
    pub confidence: f64,
    /// `ranges`, `mmdb_domain` or `mmdb_name`.
    pub source: &'static str,
}

/// What reverse-IP concluded about one address.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Identified(Identification),
    Excluded(Exclusion),
    Unknown,
}

/// What a database says about a network, whatever its layout (ISP, ASN, Domain, Enterprise's
/// `traits`): the reader flattens it into this.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkRecord {
    pub domain: Option<String>,
    pub organization: Option<String>,
    pub isp: Option<String>,
    pub autonomous_system_organization: Option<String>,
    pub connection_type: Option<String>,
    pub user_type: Option<String>,
    /// Present for mobile networks only (GeoIP2 ISP).
    pub mobile_country_code: Option<String>,
}

/// The rules of reverse-IP with the team's data: the order of precedence and the thresholds.
/// The database is asked through a closure, so the rules are the same with any reader.
#[derive(Debug, Clone, PartialEq)]
pub struct Identifier {
    exclude: Vec<IpRange>,
    ranges: IpRangeTable,
    names: AccountNames,
    exclusions: Exclusions,
    min_confidence: f64,
    domain_confidence: f64,
    name_confidence: f64,
}

impl Identifier {
    pub fn new(
        config: &ReverseIpConfig,
        ranges: IpRangeTable,
        names: AccountNames,
    ) -> Result<Self, String> {
        config.validate()?;
        Ok(Self {
            exclude: config.exclude_networks()?,
            ranges,
            names,
            exclusions: Exclusions::new(&config.extra_exclusions, &config.keep_organizations),
            min_confidence: config.min_confidence.get(),
            domain_confidence: config.domain_confidence.get(),
            name_confidence: config.name_confidence.get(),
        })
    }

    /// The company behind `ip`: the team's `exclude_cidrs` first, then the team's ranges (its
    /// own knowledge wins, and explicit ranges count even when private), then — for public
    /// addresses only — the database. A match under `min_confidence` is unknown.
    pub fn identify(
        &self,
        ip: IpAddr,
        database: impl FnOnce(IpAddr) -> Option<NetworkRecord>,
    ) -> Outcome {
        let ip = ip.to_canonical();
        if self.exclude.iter().any(|range| range.contains(ip)) {
            return Outcome::Excluded(Exclusion::Listed);
        }
        if let Some(entry) = self.ranges.lookup(ip) {
            return self.confident(Identification {
                domain: Some(entry.domain.clone()),
                organization: entry.organization.clone(),
                confidence: entry.confidence,
                source: "ranges",
            });
        }
        if !is_public(ip) {
            return Outcome::Unknown;
        }
        match database(ip) {
            Some(record) => self.classify(&record),
            None => Outcome::Unknown,
        }
    }

    /// What one database record says: exclusions first (a provider's record names the
    /// provider, domain or not), then its domain, then its organization's name.
    pub fn classify(&self, record: &NetworkRecord) -> Outcome {
        let organization = non_blank(record.organization.as_deref())
            .or(non_blank(record.autonomous_system_organization.as_deref()));
        let isp = non_blank(record.isp.as_deref());
        if let Some(exclusion) = self.exclusions.classify(
            organization,
            isp,
            record.connection_type.as_deref(),
            record.user_type.as_deref(),
        ) {
            return Outcome::Excluded(exclusion);
        }
        if non_blank(record.mobile_country_code.as_deref()).is_some() {
            return Outcome::Excluded(Exclusion::MobileCarrier);
        }
        let organization = organization.map(str::to_owned);
        // A domain that does not parse (`localhost`, an IP) is no domain: the name may
        // still match.
        if let Some(domain) =
            non_blank(record.domain.as_deref()).and_then(|d| Domain::parse(d).ok())
        {
            if let Some(exclusion) = self.exclusions.classify_domain(&domain) {
                return Outcome::Excluded(exclusion);
            }
            return self.confident(Identification {
                domain: Some(domain),
                organization,
                confidence: self.domain_confidence,
                source: "mmdb_domain",
            });
        }
        let Some(name) = organization else {
            return Outcome::Unknown;
        };
        self.confident(Identification {
            domain: self.names.lookup(&name).cloned(),
            organization: Some(name),
            confidence: self.name_confidence,
            source: "mmdb_name",
        })
    }

    fn confident(&self, identification: Identification) -> Outcome {
        if identification.confidence < self.min_confidence {
            Outcome::Unknown
        } else {
            Outcome::Identified(identification)
        }
    }

    pub fn ranges(&self) -> &IpRangeTable {
        &self.ranges
    }

    pub fn names(&self) -> &AccountNames {
        &self.names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    fn domain(text: &str) -> Domain {
        Domain::parse(text).expect("domain")
    }

    fn cidr(text: &str) -> IpRange {
        IpRange::parse_cidr(text).expect("cidr")
    }

    fn entry(name: &str, confidence: f64) -> RangeEntry {
        RangeEntry {
            domain: domain(name),
            confidence,
            organization: None,
        }
    }

    #[test]
    fn networks_parse_and_print_as_written() {
        let cases = [
            ("10.0.0.0/8", "10.0.0.0/8"),
            (" 192.0.2.0 / 24 ", "192.0.2.0/24"),
            ("192.0.2.7", "192.0.2.7/32"),
            ("0.0.0.0/0", "0.0.0.0/0"),
            ("2001:db8::/32", "2001:db8::/32"),
            ("::/0", "::/0"),
            ("::1", "::1/128"),
            // An IPv4-mapped IPv6 network is the IPv4 network.
            ("::ffff:10.0.0.0/104", "10.0.0.0/8"),
            (
                "10.1.2.3/8",
                "error: host bits are set: the network is 10.0.0.0/8",
            ),
            (
                "10.0.0.0/33",
                "error: the prefix length must be a whole number from 0 to 32",
            ),
            (
                "2001:db8::/129",
                "error: the prefix length must be a whole number from 0 to 128",
            ),
            (
                "10.0.0.0/x",
                "error: the prefix length must be a whole number from 0 to 32",
            ),
            (
                "acme.com/8",
                "error: not an IP network: use 10.0.0.0/8 or 2001:db8::/32",
            ),
            (
                "",
                "error: not an IP network: use 10.0.0.0/8 or 2001:db8::/32",
            ),
        ];
        for (input, expected) in cases {
            let got = match IpRange::parse_cidr(input) {
                Ok(range) => range.to_string(),
                Err(error) => format!("error: {error}"),
            };
            assert_eq!(got, expected, "input {input:?}");
        }
    }

    #[test]
    fn start_end_ranges_check_family_and_order() {
        let range = IpRange::new(ip("192.0.2.10"), ip("192.0.2.20")).expect("range");
        assert_eq!(range.to_string(), "192.0.2.10-192.0.2.20");
        assert!(range.contains(ip("192.0.2.10")) && range.contains(ip("192.0.2.20")));
        assert!(range.contains(ip("::ffff:192.0.2.15")));
        assert!(!range.contains(ip("192.0.2.21")));
        // Exactly a network prints as one.
        let aligned = IpRange::new(ip("192.0.2.0"), ip("192.0.2.255")).expect("range");
        assert_eq!(aligned.to_string(), "192.0.2.0/24");
        assert_eq!(
            IpRange::new(ip("192.0.2.20"), ip("192.0.2.10")).map_err(|e| e.to_string()),
            Err("the end comes before the start".to_owned())
        );
        assert_eq!(
            IpRange::new(ip("192.0.2.1"), ip("2001:db8::1")).map_err(|e| e.to_string()),
            Err("start and end must both be IPv4 or both be IPv6".to_owned())
        );
        assert_eq!(
            IpRange::single(ip("2001:db8::1")).to_string(),
            "2001:db8::1/128"
        );
    }

    #[test]
    fn the_table_finds_the_range_holding_an_address() {
        let table = IpRangeTable::new(vec![
            (cidr("198.51.100.0/24"), entry("globex.com", 0.9)),
            (cidr("192.0.2.0/25"), entry("acme.com", 1.0)),
            (cidr("2001:db8::/32"), entry("initech.com", 0.7)),
            (
                IpRange::new(ip("203.0.113.10"), ip("203.0.113.19")).expect("range"),
                entry("hooli.com", 0.8),
            ),
        ])
        .expect("table");
        assert_eq!(table.len(), 4);
        let found = |text: &str| table.lookup(ip(text)).map(|e| e.domain.to_string());
        let cases = [
            ("192.0.2.0", Some("acme.com")),
            ("192.0.2.127", Some("acme.com")),
            ("192.0.2.128", None),
            ("::ffff:192.0.2.1", Some("acme.com")),
            ("198.51.100.255", Some("globex.com")),
            ("203.0.113.9", None),
            ("203.0.113.10", Some("hooli.com")),
            ("203.0.113.19", Some("hooli.com")),
            ("203.0.113.20", None),
            ("2001:db8:ffff::1", Some("initech.com")),
            ("2001:db9::", None),
            ("0.0.0.0", None),
            ("::", None),
            ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", None),
        ];
        for (address, expected) in cases {
            assert_eq!(found(address).as_deref(), expected, "address {address}");
        }
        assert_eq!(IpRangeTable::default().lookup(ip("192.0.2.1")), None);
    }

    #[test]
    fn overlaps_are_refused_naming_both_ranges() {
        let errors = IpRangeTable::new(vec![
            (cidr("10.0.0.0/8"), entry("acme.com", 1.0)),
            (cidr("192.0.2.0/24"), entry("globex.com", 1.0)),
            (cidr("10.1.0.0/16"), entry("initech.com", 1.0)),
            (cidr("10.200.0.0/16"), entry("hooli.com", 1.0)),
            (cidr("192.0.2.128/25"), entry("hooli.com", 1.5)),
        ])
        .expect_err("overlaps");
        let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "confidence must be a number from 0 to 1",
                "10.1.0.0/16 overlaps 10.0.0.0/8",
                "10.200.0.0/16 overlaps 10.0.0.0/8",
                "192.0.2.128/25 overlaps 192.0.2.0/24",
            ]
        );
        assert!(matches!(
            errors[0],
            RangeTableError::Confidence { index: 4 }
        ));
        assert!(matches!(
            errors[1],
            RangeTableError::Overlap {
                first: 0,
                second: 2,
                ..
            }
        ));
        // Adjacent ranges touch without overlapping.
        assert!(
            IpRangeTable::new(vec![
                (cidr("192.0.2.0/25"), entry("acme.com", 1.0)),
                (cidr("192.0.2.128/25"), entry("globex.com", 1.0)),
            ])
            .is_ok()
        );
    }

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for address in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(ip(address)), "{address} is not public");
        }
        for address in ["192.0.2.1", "8.8.8.8", "100.128.0.1", "2001:db8::1"] {
            assert!(is_public(ip(address)), "{address} is public");
        }
    }

    #[test]
    fn providers_are_excluded_companies_are_not() {
        use Exclusion::*;
        // (organization, isp, connection_type, user_type, expected)
        type Case<'a> = (
            Option<&'a str>,
            Option<&'a str>,
            Option<&'a str>,
            Option<&'a str>,
            Option<Exclusion>,
        );
        let cases: &[Case] = &[
            (
                Some("Acme Corp"),
                Some("Comcast Business"),
                None,
                None,
                None,
            ),
            (
                Some("Acme Corp"),
                None,
                Some("Cellular"),
                None,
                Some(MobileCarrier),
            ),
            (Some("Acme Corp"), None, Some("Corporate"), None, None),
            (Some("Acme Corp"), None, None, Some("business"), None),
            (
                Some("Acme Corp"),
                None,
                None,
                Some("residential"),
                Some(Isp),
            ),
            (
                Some("Acme Corp"),
                None,
                None,
                Some("hosting"),
                Some(Hosting),
            ),
            (None, None, None, Some("consumer_privacy"), Some(Vpn)),
            (None, None, None, Some("cellular"), Some(MobileCarrier)),
            (
                None,
                None,
                None,
                Some("search_engine_spider"),
                Some(Hosting),
            ),
            (
                Some("Amazon.com, Inc."),
                Some("Amazon.com"),
                None,
                None,
                Some(Cloud),
            ),
            (Some("AMAZON-02"), None, None, None, Some(Cloud)),
            // A company's block on a cloud is its servers, not its people.
            (
                Some("Acme Corp"),
                Some("Amazon Web Services"),
                None,
                None,
                Some(Cloud),
            ),
            (Some("Google LLC"), None, None, None, Some(Cloud)),
            (Some("DigitalOcean, LLC"), None, None, None, Some(Cloud)),
            (Some("Hetzner Online GmbH"), None, None, None, Some(Cloud)),
            (Some("NordVPN S.A."), None, None, None, Some(Vpn)),
            (Some("Mullvad VPN AB"), None, None, None, Some(Vpn)),
            (Some("Zscaler, Inc."), None, None, None, Some(Vpn)),
            (Some("Proton AG"), None, None, None, Some(Vpn)),
            (Some("Acme Hosting Ltd"), None, None, None, Some(Hosting)),
            (
                Some("Vodafone GmbH"),
                Some("Vodafone GmbH"),
                None,
                None,
                Some(MobileCarrier),
            ),
            (
                Some("T-Mobile USA, Inc."),
                None,
                None,
                None,
                Some(MobileCarrier),
            ),
            (
                Some("AT&T Mobility LLC"),
                None,
                None,
                None,
                Some(MobileCarrier),
            ),
            (
                Some("Verizon Wireless"),
                None,
                None,
                None,
                Some(MobileCarrier),
            ),
            (Some("Verizon Business"), None, None, None, Some(Isp)),
            (Some("AT&T Services, Inc."), None, None, None, Some(Isp)),
            (
                Some("Comcast Cable Communications, LLC"),
                None,
                None,
                None,
                Some(Isp),
            ),
            (Some("Deutsche Telekom AG"), None, None, None, Some(Isp)),
            // Weak words: only the provider's own pool (organization = ISP, or ISP alone).
            (
                Some("Acme Telecom"),
                Some("Acme Telecom Inc"),
                None,
                None,
                Some(Isp),
            ),
            (None, Some("Midwest Broadband"), None, None, Some(Isp)),
            (
                Some("Orange S.A."),
                Some("Orange"),
                None,
                None,
                Some(MobileCarrier),
            ),
            (
                Some("Acme Communications Inc"),
                Some("Comcast"),
                None,
                None,
                None,
            ),
            (Some("General Cable Corporation"), None, None, None, None),
            // A false positive the heuristic accepts (a hospital with its own network named
            // like a cable brand); `keep_organizations` is the remedy.
            (
                Some("Spectrum Health"),
                Some("Spectrum Health"),
                None,
                None,
                Some(Isp),
            ),
            (
                Some("Spectrum Health"),
                Some("Charter Communications"),
                None,
                None,
                None,
            ),
            // Whole words only.
            (
                Some("CO2 Solutions"),
                Some("CO2 Solutions"),
                None,
                None,
                None,
            ),
            (Some("Tim Hortons"), None, None, None, None),
            (
                Some("Coxswain Partners"),
                Some("Coxswain Partners"),
                None,
                None,
                None,
            ),
            (None, None, None, None, None),
            (Some("  "), Some(""), None, None, None),
        ];
        for (organization, isp, connection, user, expected) in cases {
            assert_eq!(
                excluded(*organization, *isp, *connection, *user),
                *expected,
                "{organization:?} / {isp:?} / {connection:?} / {user:?}"
            );
        }
    }

    #[test]
    fn the_team_extends_and_narrows_the_lists() {
        let exclusions = Exclusions::new(
            &["Guest WiFi".to_owned(), " ".to_owned()],
            &["Vodafone Group".to_owned(), "Amazon".to_owned()],
        );
        assert_eq!(
            exclusions.classify(Some("Marriott Guest WiFi"), None, None, None),
            Some(Exclusion::Listed)
        );
        // Kept: the maintained lists no longer exclude them …
        assert_eq!(
            exclusions.classify(Some("Vodafone Group Plc"), None, None, None),
            None
        );
        assert_eq!(
            exclusions.classify(Some("Amazon.com, Inc."), None, None, None),
            None
        );
        // … but what the database measured still does.
        assert_eq!(
            exclusions.classify(Some("Vodafone Group Plc"), None, Some("cellular"), None),
            Some(Exclusion::MobileCarrier)
        );
        assert_eq!(exclusions.classify_domain(&domain("vodafone.de")), None);
        assert_eq!(
            exclusions.classify_domain(&domain("guestwifi.com")),
            None,
            "substrings match the text as written"
        );
    }

    #[test]
    fn provider_domains_are_excluded() {
        let exclusions = Exclusions::default();
        let cases = [
            ("amazonaws.com", Some(Exclusion::Cloud)),
            // On the public suffix list: the registrable domain is the customer's host.
            ("acme.cloudapp.net", Some(Exclusion::Cloud)),
            ("cpe-1-2-3-4.nyc.res.rr.com", Some(Exclusion::Isp)),
            ("comcast.net", Some(Exclusion::Isp)),
            ("rr.com", Some(Exclusion::Isp)),
            ("t-mobile.com", Some(Exclusion::MobileCarrier)),
            ("myvzw.com", Some(Exclusion::MobileCarrier)),
            ("vodafone.de", Some(Exclusion::MobileCarrier)),
            ("nordvpn.com", Some(Exclusion::Vpn)),
            ("acme.com", None),
            ("google.com", None),
        ];
        for (name, expected) in cases {
            assert_eq!(
                exclusions.classify_domain(&domain(name)),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn company_names_normalise() {
        let cases = [
            ("Acme, Inc.", "acme"),
            ("ACME-CORP", "acme"),
            ("Acme Holdings Group Ltd", "acme"),
            ("Acme GmbH & Co. KG", "acme"),
            ("Acme S.A.", "acme"),
            ("Amazon.com, Inc.", "amazon"),
            ("J.P. Morgan Chase & Co.", "jp morgan chase"),
            ("McDonald’s Corporation", "mcdonalds"),
            ("Johnson and Johnson", "johnson johnson"),
            ("Johnson & Johnson", "johnson johnson"),
            ("The Home Depot", "home depot"),
            ("Société Générale S.A.", "societe generale"),
            ("Holdings Inc", "holdings"),
            ("Co-operative Bank plc", "co operative bank"),
            ("  ", ""),
            ("&&", ""),
        ];
        for (name, expected) in cases {
            assert_eq!(normalise_company_name(name), expected, "{name:?}");
        }
    }

    #[test]
    fn names_match_one_account_or_none() {
        let names = AccountNames::new([
            ("Initech", domain("initech.com")),
            ("Initech Inc.", domain("initech.com")),
            ("Umbrella", domain("umbrella.com")),
            ("Umbrella Ltd", domain("umbrella.co.uk")),
            ("---", domain("dashes.com")),
        ]);
        assert_eq!(names.len(), 1);
        assert_eq!(
            names.lookup("INITECH CORPORATION").map(Domain::as_str),
            Some("initech.com")
        );
        assert_eq!(names.lookup("Umbrella Corp"), None, "ambiguous");
        assert_eq!(names.lookup("Initech Europe"), None, "exact names only");
        assert_eq!(names.lookup(""), None);
        assert!(AccountNames::default().is_empty());
    }

    #[test]
    fn the_config_reads_with_defaults_and_validates() {
        let config: ReverseIpConfig = toml::from_str(
            r#"
            mmdb = "data/GeoIP2-ISP.mmdb"
            min_confidence = 0.7
            exclude_cidrs = ["192.0.2.0/24", "2001:db8::/32"]
            extra_exclusions = ["Guest WiFi"]
            "#,
        )
        .expect("config");
        assert_eq!(config.mmdb.as_deref(), Some("data/GeoIP2-ISP.mmdb"));
        assert_eq!(config.ranges, None);
        assert_eq!(config.min_confidence, Share(0.7));
        assert_eq!(config.domain_confidence, Share(0.8));
        assert_eq!(config.name_confidence, Share(0.6));
        assert_eq!(config.validate(), Ok(()));
        let again: ReverseIpConfig =
            toml::from_str(&toml::to_string(&config).expect("write")).expect("read again");
        assert_eq!(again, config);
        assert_eq!(
            toml::from_str::<ReverseIpConfig>("").expect("empty"),
            ReverseIpConfig::default()
        );

        let refused = |text: &str| match toml::from_str::<ReverseIpConfig>(text) {
            Ok(config) => config.validate().err().unwrap_or_default(),
            Err(error) => error.message().to_owned(),
        };
        assert_eq!(
            refused(r#"exclude_cidrs = ["10.0.0.1/8"]"#),
            "exclude_cidrs: \"10.0.0.1/8\": host bits are set: the network is 10.0.0.0/8"
        );
        assert_eq!(
            refused(r#"mmdb = " ""#),
            "mmdb: the path is empty; leave the key out instead"
        );
        assert_eq!(
            refused(r#"extra_exclusions = ["a", ""]"#),
            "extra_exclusions[1]: an entry is empty"
        );
        assert_eq!(
            refused("min_confidence = 1.5"),
            "1.5 is out of range: allowed 0 to 1"
        );
        assert!(refused("mdb = \"x\"").starts_with("unknown field `mdb`"));
    }

    fn identifier(config: ReverseIpConfig) -> Identifier {
        let ranges = IpRangeTable::new(vec![
            (cidr("127.0.0.0/8"), entry("acme.com", 1.0)),
            (cidr("198.51.100.0/24"), entry("globex.com", 0.9)),
            (cidr("203.0.113.0/24"), entry("hooli.com", 0.3)),
        ])
        .expect("ranges");
        let names = AccountNames::new([
            ("Initech", domain("initech.com")),
            ("Globex", domain("globex.com")),
        ]);
        Identifier::new(&config, ranges, names).expect("identifier")
    }

    fn record(organization: &str) -> NetworkRecord {
        NetworkRecord {
            organization: Some(organization.to_owned()),
            ..NetworkRecord::default()
        }
    }

    fn summary(outcome: &Outcome) -> String {
        match outcome {
            Outcome::Identified(found) => format!(
                "{} {} {:?} {}",
                found.source,
                found.domain.as_ref().map_or("-", Domain::as_str),
                found.organization,
                found.confidence
            ),
            Outcome::Excluded(exclusion) => format!("excluded {exclusion}"),
            Outcome::Unknown => "unknown".to_owned(),
        }
    }

    #[test]
    fn precedence_is_the_teams_lists_then_the_database() {
        let config = ReverseIpConfig {
            exclude_cidrs: vec!["198.51.100.128/25".to_owned()],
            ..ReverseIpConfig::default()
        };
        let identifier = identifier(config);
        let asked = std::cell::Cell::new(0);
        let database = |answer: Option<NetworkRecord>| {
            let asked = &asked;
            move |_: IpAddr| {
                asked.set(asked.get() + 1);
                answer
            }
        };
        let initech = Some(record("Initech LLC"));
        let cases = [
            // exclude_cidrs beat the team's own ranges.
            ("198.51.100.200", initech.clone(), "excluded listed", 0),
            (
                "198.51.100.1",
                initech.clone(),
                "ranges globex.com None 0.9",
                0,
            ),
            // A private range listed explicitly counts.
            ("127.0.0.1", None, "ranges acme.com None 1", 0),
            // A range under min_confidence is final: the team's doubt wins too.
            ("203.0.113.1", initech.clone(), "unknown", 0),
            // Private addresses never reach the database.
            ("10.0.0.1", initech.clone(), "unknown", 0),
            ("::1", initech.clone(), "unknown", 0),
            (
                "192.0.2.1",
                initech.clone(),
                "mmdb_name initech.com Some(\"Initech LLC\") 0.6",
                1,
            ),
            (
                "::ffff:192.0.2.1",
                initech.clone(),
                "mmdb_name initech.com Some(\"Initech LLC\") 0.6",
                1,
            ),
            ("192.0.2.1", None, "unknown", 1),
        ];
        for (address, answer, expected, asks) in cases {
            asked.set(0);
            let outcome = identifier.identify(ip(address), database(answer));
            assert_eq!(summary(&outcome), expected, "address {address}");
            assert_eq!(asked.get(), asks, "database asked for {address}");
        }
    }

    #[test]
    fn a_record_is_classified_exclusions_then_domain_then_name() {
        let identifier = identifier(ReverseIpConfig::default());
        let with = |change: fn(&mut NetworkRecord)| {
            let mut record = NetworkRecord::default();
            change(&mut record);
            summary(&identifier.classify(&record))
        };
        let cases = [
            (
                with(|r| {
                    r.domain = Some("www.Globex.com".into());
                    r.organization = Some("Globex Corporation".into());
                }),
                "mmdb_domain globex.com Some(\"Globex Corporation\") 0.8",
            ),
            (
                // A provider's record names the provider, even with a domain.
                with(|r| {
                    r.domain = Some("globex.com".into());
                    r.organization = Some("Amazon.com".into());
                }),
                "excluded cloud",
            ),
            (
                with(|r| r.domain = Some("comcast.net".into())),
                "excluded isp",
            ),
            (
                // An unusable domain falls back to the name.
                with(|r| {
                    r.domain = Some("localhost".into());
                    r.organization = Some("Initech".into());
                }),
                "mmdb_name initech.com Some(\"Initech\") 0.6",
            ),
            (
                // "AS" is a legal form too, so AS names match their company.
                with(|r| r.autonomous_system_organization = Some("INITECH-AS".into())),
                "mmdb_name initech.com Some(\"INITECH-AS\") 0.6",
            ),
            (
                with(|r| r.autonomous_system_organization = Some("Initech Inc".into())),
                "mmdb_name initech.com Some(\"Initech Inc\") 0.6",
            ),
            (
                // Known company, not one of ours.
                with(|r| r.organization = Some("Hooli".into())),
                "mmdb_name - Some(\"Hooli\") 0.6",
            ),
            (
                with(|r| {
                    r.organization = Some("Initech".into());
                    r.mobile_country_code = Some("262".into());
                }),
                "excluded mobile_carrier",
            ),
            (
                with(|r| {
                    r.organization = Some("Initech".into());
                    r.user_type = Some("consumer_privacy".into());
                }),
                "excluded vpn",
            ),
            (with(|r| r.isp = Some("".into())), "unknown"),
            (with(|_| {}), "unknown"),
        ];
        for (got, expected) in cases {
            assert_eq!(got, expected);
        }
    }

    #[test]
    fn min_confidence_drops_weak_sources() {
        let identifier = identifier(ReverseIpConfig {
            min_confidence: Share(0.7),
            ..ReverseIpConfig::default()
        });
        assert_eq!(identifier.classify(&record("Initech")), Outcome::Unknown);
        let mut with_domain = record("Initech");
        with_domain.domain = Some("initech.com".into());
        assert!(matches!(
            identifier.classify(&with_domain),
            Outcome::Identified(Identification {
                source: "mmdb_domain",
                ..
            })
        ));
    }

    #[test]
    fn an_invalid_config_makes_no_identifier() {
        let config = ReverseIpConfig {
            exclude_cidrs: vec!["nonsense".to_owned()],
            ..ReverseIpConfig::default()
        };
        assert_eq!(
            Identifier::new(&config, IpRangeTable::default(), AccountNames::default()).err(),
            Some(
                "exclude_cidrs: \"nonsense\": not an IP network: use 10.0.0.0/8 or 2001:db8::/32"
                    .to_owned()
            )
        );
    }

    proptest::proptest! {
        #[test]
        fn lookup_agrees_with_a_linear_scan(
            starts in proptest::collection::vec(0u32..10_000, 0..20),
            probes in proptest::collection::vec(0u32..10_100, 1..50),
        ) {
            // Non-overlapping ranges from sorted distinct starts, each ending before the next.
            let mut starts = starts;
            starts.sort_unstable();
            starts.dedup();
            let ranges: Vec<IpRange> = starts
                .iter()
                .enumerate()
                .map(|(index, start)| {
                    let next = starts.get(index + 1).copied().unwrap_or(10_050);
                    let end = start + (next - start - 1) / 2;
                    IpRange::new(IpAddr::V4((*start).into()), IpAddr::V4(end.into()))
                        .expect("range")
                })
                .collect();
            let table = IpRangeTable::new(
                ranges.iter().map(|range| (*range, entry("acme.com", 1.0))).collect(),
            )
            .expect("table");
            for probe in probes {
                let address = IpAddr::V4(probe.into());
                let linear = ranges.iter().any(|range| range.contains(address));
                proptest::prop_assert_eq!(table.lookup(address).is_some(), linear);
            }
        }

        #[test]
        fn cidr_parsing_never_panics(text in "\\PC{0,40}") {
            let _ = IpRange::parse_cidr(&text);
            let _ = normalise_company_name(&text);
            let _ = excluded(Some(&text), Some(&text), Some(&text), Some(&text));
        }
    }
}
