//! Reverse-IP over real files: MaxMind-format databases written by `mmdb-writer`
//! (`tests/fixtures/make_mmdb.py`, committed output) in the ISP and Enterprise layouts, and the
//! team's ranges CSV in both layouts, good and bad.

use abm_core::Domain;
use abm_core::reverse_ip::{AccountNames, Outcome, ReverseIpConfig};
use abm_core::score::config::Share;
use abm_engine::reverse_ip::{ReverseIp, ReverseIpError};
use std::net::IpAddr;
use std::path::PathBuf;

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

fn names() -> AccountNames {
    AccountNames::new(
        [
            ("Initech", "initech.com"),
            ("Globex", "globex.com"),
            ("Umbrella", "umbrella.com"),
            ("Umbrella Ltd", "umbrella.co.uk"),
        ]
        .map(|(name, domain)| (name, Domain::parse(domain).expect("domain"))),
    )
}

fn open(config: ReverseIpConfig) -> ReverseIp {
    ReverseIp::open(&config, names()).expect("open")
}

fn with_mmdb(name: &str) -> ReverseIpConfig {
    ReverseIpConfig {
        mmdb: Some(fixture(name)),
        ..ReverseIpConfig::default()
    }
}

/// One line per outcome: source, domain, organization, confidence.
fn summary(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Identified(found) => format!(
            "{} {} {} {}",
            found.source,
            found.domain.as_ref().map_or("-", Domain::as_str),
            found.organization.as_deref().unwrap_or("-"),
            found.confidence
        ),
        Outcome::Excluded(exclusion) => format!("excluded {exclusion}"),
        Outcome::Unknown => "unknown".to_owned(),
    }
}

fn check(reverse_ip: &ReverseIp, cases: &[(&str, &str)]) {
    for (address, expected) in cases {
        let ip: IpAddr = address.parse().expect("address");
        assert_eq!(
            summary(&reverse_ip.identify(ip)),
            *expected,
            "address {address}"
        );
    }
}

#[test]
fn the_isp_database_names_accounts_by_domain_and_by_name() {
    let reverse_ip = open(with_mmdb("isp-test.mmdb"));
    check(
        &reverse_ip,
        &[
            ("192.0.2.1", "mmdb_name initech.com Initech Corporation 0.6"),
            (
                "192.0.2.70",
                "mmdb_domain globex.com Globex Corporation 0.8",
            ),
            // Two accounts share the name: a company, but no account.
            ("192.0.2.130", "mmdb_name - Umbrella Corp 0.6"),
            ("192.0.2.200", "mmdb_name - Hooli 0.6"),
            ("198.51.100.1", "excluded cloud"),
            ("203.0.113.1", "excluded mobile_carrier"),
            ("203.0.113.200", "excluded isp"),
            ("2001:db8:1::5", "mmdb_name initech.com Initech Corp 0.6"),
            // An IPv4 visitor on a dual-stack socket.
            (
                "::ffff:192.0.2.1",
                "mmdb_name initech.com Initech Corporation 0.6",
            ),
            ("2001:db8:2::1", "excluded isp"),
            ("2001:db8:3::1", "excluded vpn"),
            ("2001:db8:9::1", "unknown"),
            ("8.8.8.8", "unknown"),
            // The database has 10.0.0.0/8, but a private address is never looked up.
            ("10.1.2.3", "unknown"),
            ("127.0.0.1", "unknown"),
            ("::1", "unknown"),
        ],
    );
    let private = reverse_ip
        .record("10.1.2.3".parse().expect("address"))
        .expect("the fixture has the private network");
    assert_eq!(private.organization.as_deref(), Some("Initech"));
}

#[test]
fn the_enterprise_layout_is_read_under_traits() {
    let reverse_ip = open(with_mmdb("enterprise-test.mmdb"));
    check(
        &reverse_ip,
        &[
            ("192.0.2.1", "mmdb_domain globex.com Globex 0.8"),
            ("198.51.100.1", "mmdb_name initech.com Initech LLC 0.6"),
            ("203.0.113.1", "excluded vpn"),
            ("203.0.113.200", "excluded hosting"),
            // An IPv6 address in an IPv4-only database: no record, no error.
            ("2001:db8::1", "unknown"),
        ],
    );
    let record = reverse_ip
        .record("198.51.100.1".parse().expect("address"))
        .expect("record");
    assert_eq!(
        record.autonomous_system_organization.as_deref(),
        Some("INITECH-AS")
    );
    assert_eq!(record.user_type.as_deref(), Some("business"));
}

#[test]
fn the_teams_ranges_win_and_listed_private_ranges_count() {
    let reverse_ip = open(ReverseIpConfig {
        ranges: Some(fixture("ranges.csv")),
        ..with_mmdb("isp-test.mmdb")
    });
    check(
        &reverse_ip,
        &[
            ("127.0.0.1", "ranges acme.com Acme (local test) 1"),
            ("192.0.2.1", "ranges initech.co.uk Initech UK 0.95"),
            // Under min_confidence: the team's doubt is final, the database is not asked.
            ("192.0.2.20", "unknown"),
            // Outside the team's ranges: the database.
            (
                "192.0.2.40",
                "mmdb_name initech.com Initech Corporation 0.6",
            ),
            ("2001:db8:ffff::1", "ranges acme.com Acme IPv6 0.9"),
            // Other private addresses stay unknown.
            ("10.1.2.3", "unknown"),
        ],
    );
}

#[test]
fn start_end_ranges_override_a_cloud_exclusion() {
    let reverse_ip = open(ReverseIpConfig {
        ranges: Some(fixture("ranges-start-end.csv")),
        ..with_mmdb("isp-test.mmdb")
    });
    check(
        &reverse_ip,
        &[
            ("127.0.0.1", "ranges acme.com Acme (local test) 1"),
            ("127.0.0.2", "unknown"),
            ("198.51.100.10", "ranges globex.com Globex proxy 0.9"),
            ("198.51.100.20", "ranges globex.com Globex proxy 0.9"),
            ("198.51.100.21", "excluded cloud"),
        ],
    );
}

#[test]
fn ranges_alone_work_without_a_database() {
    let reverse_ip = open(ReverseIpConfig {
        ranges: Some(fixture("ranges.csv")),
        ..ReverseIpConfig::default()
    });
    check(
        &reverse_ip,
        &[
            ("127.0.0.1", "ranges acme.com Acme (local test) 1"),
            ("192.0.2.40", "unknown"),
        ],
    );
    assert!(
        reverse_ip
            .record("192.0.2.40".parse().expect("address"))
            .is_none()
    );
}

#[test]
fn the_configuration_tunes_what_counts() {
    // Name matches are under 0.7; domains are not.
    let strict = open(ReverseIpConfig {
        min_confidence: Share(0.7),
        ..with_mmdb("isp-test.mmdb")
    });
    check(
        &strict,
        &[
            ("192.0.2.1", "unknown"),
            (
                "192.0.2.70",
                "mmdb_domain globex.com Globex Corporation 0.8",
            ),
        ],
    );
    let tuned = open(ReverseIpConfig {
        domain_confidence: Share(0.75),
        name_confidence: Share(0.65),
        exclude_cidrs: vec!["192.0.2.0/26".to_owned(), "2001:db8:1::/48".to_owned()],
        extra_exclusions: vec!["hooli".to_owned()],
        keep_organizations: vec!["Comcast Cable Communications".to_owned()],
        ..with_mmdb("isp-test.mmdb")
    });
    check(
        &tuned,
        &[
            ("192.0.2.1", "excluded listed"),
            ("2001:db8:1::5", "excluded listed"),
            ("192.0.2.200", "excluded listed"),
            (
                "192.0.2.70",
                "mmdb_domain globex.com Globex Corporation 0.75",
            ),
            ("192.0.2.130", "mmdb_name - Umbrella Corp 0.65"),
            // Kept: no longer excluded by the maintained ISP list.
            (
                "203.0.113.200",
                "mmdb_name - Comcast Cable Communications 0.65",
            ),
            // What the database measured still excludes.
            ("203.0.113.1", "excluded mobile_carrier"),
        ],
    );
}

fn open_error(config: &ReverseIpConfig) -> ReverseIpError {
    ReverseIp::open(config, names()).expect_err("must not open")
}

/// The problems a ranges file has, as the error lists them.
fn ranges_problems(text: &[u8]) -> Vec<String> {
    let directory = tempfile::tempdir().expect("temporary directory");
    let path = directory.path().join("ranges.csv");
    std::fs::write(&path, text).expect("write");
    let config = ReverseIpConfig {
        ranges: Some(path.display().to_string()),
        ..ReverseIpConfig::default()
    };
    match open_error(&config) {
        ReverseIpError::Ranges {
            path: named,
            problems,
            total,
        } => {
            assert_eq!(named, path.display().to_string());
            assert_eq!(total, problems.len());
            problems.iter().map(ToString::to_string).collect()
        }
        other => vec![format!("not a ranges error: {other}")],
    }
}

#[test]
fn bad_ranges_name_line_column_and_value_and_load_nothing() {
    let problems = ranges_problems(
        b"network,domain,confidence,organization\n\
          192.0.2.0/24,acme.com,1,Acme\n\
          192.0.2.1/24,acme.com,1,\n\
          10.0.0.0/33,localhost,1.5,\n\
          # a comment line is skipped and keeps the numbering\n\
          198.51.100.0/24,globex.com,high,Globex\n\
          203.0.113.0/24,initech.com\n\
          2001:db8::/32,acme.com,0.9,Acme\n\
          2001:db8:1::/48,initech.com,0.8,Initech\n",
    );
    assert_eq!(
        problems,
        [
            "line 3, column network, value \"192.0.2.1/24\": host bits are set: the network is 192.0.2.0/24",
            "line 4, column network, value \"10.0.0.0/33\": the prefix length must be a whole number from 0 to 32",
            "line 4, column domain, value \"localhost\": not a public domain: a company domain has a dot and a public suffix (like acme.com)",
            "line 4, column confidence, value \"1.5\": confidence must be a number from 0 to 1 (like 0.9)",
            "line 6, column confidence, value \"high\": confidence must be a number from 0 to 1 (like 0.9)",
            "line 7: 2 fields where the header has 4",
        ]
    );
}

#[test]
fn overlapping_ranges_name_both_lines() {
    let problems = ranges_problems(
        b"network,domain,confidence\n\
          10.0.0.0/8,acme.com,1\n\
          2001:db8::/32,acme.com,0.9\n\
          10.20.0.0/16,globex.com,1\n\
          2001:db8:5::/48,initech.com,0.8\n",
    );
    assert_eq!(
        problems,
        [
            "line 4, column network, value \"10.20.0.0/16\": overlaps 10.0.0.0/8 on line 2",
            "line 5, column network, value \"2001:db8:5::/48\": overlaps 2001:db8::/32 on line 3",
        ]
    );
}

#[test]
fn bad_start_end_ranges_are_reported_per_column() {
    let problems = ranges_problems(
        b"start,end,domain,confidence\n\
          192.0.2.9,192.0.2.1,acme.com,1\n\
          192.0.2.300,nonsense,acme.com,1\n\
          192.0.2.1,2001:db8::1,acme.com,1\n\
          198.51.100.1,198.51.100.9,acme.com,1\n\
          198.51.100.5,198.51.100.20,globex.com,1\n",
    );
    assert_eq!(
        problems,
        [
            "line 2, column end, value \"192.0.2.1\": the end comes before the start",
            "line 3, column start, value \"192.0.2.300\": not an IP address",
            "line 3, column end, value \"nonsense\": not an IP address",
            "line 4, column end, value \"2001:db8::1\": start and end must both be IPv4 or both be IPv6",
        ]
    );
    // Once the rows are right, the overlap between lines 5 and 6 is found.
    let problems = ranges_problems(
        b"start,end,domain,confidence\n\
          198.51.100.1,198.51.100.9,acme.com,1\n\
          198.51.100.5,198.51.100.20,globex.com,1\n",
    );
    assert_eq!(
        problems,
        [
            "line 3, column start, value \"198.51.100.5-198.51.100.20\": overlaps 198.51.100.1-198.51.100.9 on line 2"
        ]
    );
}

#[test]
fn a_bad_header_or_encoding_is_reported() {
    assert_eq!(
        ranges_problems(b"cidr,domain,confidence\n10.0.0.0/8,acme.com,1\n"),
        [
            "line 1, column cidr: unknown column; the header must be network,domain,confidence[,organization] or start,end,domain,confidence[,organization]"
        ]
    );
    assert_eq!(
        ranges_problems(b"network,domain,confidence,organization\n10.0.0.0/8,acme.com,1,Caf\xe9\n"),
        ["line 2, column organization: not UTF-8 text: save the file as UTF-8"]
    );
    // A byte-order mark (Excel's "CSV UTF-8") is not part of the first column's name.
    let directory = tempfile::tempdir().expect("temporary directory");
    let path = directory.path().join("bom.csv");
    std::fs::write(
        &path,
        b"\xef\xbb\xbfnetwork,domain,confidence\n10.0.0.0/8,acme.com,1\n",
    )
    .expect("write");
    let reverse_ip = open(ReverseIpConfig {
        ranges: Some(path.display().to_string()),
        ..ReverseIpConfig::default()
    });
    check(&reverse_ip, &[("10.9.9.9", "ranges acme.com - 1")]);
}

#[test]
fn the_whole_error_names_the_file() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let path = directory.path().join("ranges.csv");
    std::fs::write(&path, "network,domain,confidence\nnonsense,acme.com,1\n").expect("write");
    let config = ReverseIpConfig {
        ranges: Some(path.display().to_string()),
        ..with_mmdb("isp-test.mmdb")
    };
    assert_eq!(
        open_error(&config).to_string(),
        format!(
            "{}: 1 problem in the ranges file; no range was loaded:\n  line 2, column network, value \"nonsense\": not an IP network: use 10.0.0.0/8 or 2001:db8::/32",
            path.display()
        )
    );
}

#[test]
fn missing_and_broken_files_are_errors_naming_them() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let missing = directory.path().join("missing.mmdb").display().to_string();
    let error = open_error(&ReverseIpConfig {
        mmdb: Some(missing.clone()),
        ..ReverseIpConfig::default()
    });
    assert!(matches!(error, ReverseIpError::Mmdb { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("{missing}: cannot open the MaxMind database: ")),
        "{message}"
    );
    assert!(message.contains("No such file"), "{message}");

    let missing_csv = directory.path().join("missing.csv").display().to_string();
    let error = open_error(&ReverseIpConfig {
        ranges: Some(missing_csv.clone()),
        ..with_mmdb("isp-test.mmdb")
    });
    assert!(
        matches!(error, ReverseIpError::RangesFile { .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with(&format!("{missing_csv}: cannot read the ranges file: ")),
        "{error}"
    );

    // Not a MaxMind database at all.
    let broken = directory.path().join("broken.mmdb");
    std::fs::write(&broken, b"network,domain,confidence\n").expect("write");
    let error = open_error(&ReverseIpConfig {
        mmdb: Some(broken.display().to_string()),
        ..ReverseIpConfig::default()
    });
    assert!(matches!(error, ReverseIpError::Mmdb { .. }), "{error:?}");
}

#[test]
fn an_invalid_configuration_opens_nothing() {
    let error = open_error(&ReverseIpConfig {
        exclude_cidrs: vec!["10.0.0.1/8".to_owned()],
        ..with_mmdb("isp-test.mmdb")
    });
    assert_eq!(
        error.to_string(),
        "[reverse_ip] exclude_cidrs: \"10.0.0.1/8\": host bits are set: the network is 10.0.0.0/8"
    );
}

#[test]
fn one_instance_serves_every_request() {
    // The web keeps one `ReverseIp` behind an `Arc` for all requests.
    fn shared<T: Send + Sync>() {}
    shared::<ReverseIp>();
}
