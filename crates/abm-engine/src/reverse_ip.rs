//! Reverse-IP with the team's files: loads the MaxMind-format database (`[reverse_ip] mmdb`)
//! and the team's ranges CSV (`[reverse_ip] ranges`), and answers "which company is behind
//! this address" with the rules of `abm_core::reverse_ip`.
//!
//! The reader flattens whichever layout the database has — GeoIP2 ISP and ASN
//! (`organization`, `isp`, `autonomous_system_organization`), Domain (`domain`),
//! Connection-Type (`connection_type`), Enterprise (the same fields under `traits`, plus
//! `user_type`) — into one `NetworkRecord`; deciding is left to the core.
//!
//! Loading is all or nothing: a ranges file with one bad line loads no range, because a
//! half-loaded file would identify some of the team's networks and silently not others.

use abm_core::Domain;
use abm_core::reverse_ip::{
    AccountNames, Identifier, IpRange, IpRangeTable, NetworkRecord, Outcome, RangeEntry,
    RangeTableError, ReverseIpConfig,
};
use std::fmt;
use std::net::IpAddr;
use std::path::Path;

/// Problems listed in one error; the count says how many more there were.
const MAX_PROBLEMS: usize = 20;

/// Why reverse-IP could not start. Each names the file and what to fix.
#[derive(Debug, thiserror::Error)]
pub enum ReverseIpError {
    #[error("[reverse_ip] {0}")]
    Config(String),
    #[error("{path}: cannot open the MaxMind database: {message}")]
    Mmdb { path: String, message: String },
    #[error("{path}: cannot read the ranges file: {message}")]
    RangesFile { path: String, message: String },
    #[error("{}", ranges_report(.path, .problems, *.total))]
    Ranges {
        path: String,
        /// The first problems, at most 20.
        problems: Vec<RangeProblem>,
        /// How many there were in all.
        total: usize,
    },
}

fn ranges_report(path: &str, problems: &[RangeProblem], total: usize) -> String {
    let mut report = format!(
        "{path}: {total} problem{} in the ranges file; no range was loaded:",
        if total == 1 { "" } else { "s" }
    );
    for problem in problems {
        report.push_str(&format!("\n  {problem}"));
    }
    if total > problems.len() {
        report.push_str(&format!("\n  … and {} more", total - problems.len()));
    }
    report
}

/// One bad spot in the ranges file: its line, column (header name) and value when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeProblem {
    pub line: u64,
    pub column: Option<String>,
    pub value: Option<String>,
    pub message: String,
}

impl fmt::Display for RangeProblem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "line {}", self.line)?;
        if let Some(column) = &self.column {
            write!(formatter, ", column {column}")?;
        }
        if let Some(value) = &self.value {
            write!(formatter, ", value {value:?}")?;
        }
        write!(formatter, ": {}", self.message)
    }
}

/// A database record in any of MaxMind's layouts. Every field is optional and unknown
/// fields are ignored: a database carries many (city, country, ASN numbers).
#[derive(Debug, Default, serde::Deserialize)]
struct MmdbRecord {
    domain: Option<String>,
    organization: Option<String>,
    isp: Option<String>,
    autonomous_system_organization: Option<String>,
    connection_type: Option<String>,
    user_type: Option<String>,
    mobile_country_code: Option<String>,
    /// GeoIP2 Enterprise keeps the network's fields under `traits`.
    traits: Option<Box<MmdbRecord>>,
}

impl MmdbRecord {
    /// Top-level fields first, `traits` for what the top level lacks.
    fn flatten(self) -> NetworkRecord {
        let traits = self.traits.map(|traits| *traits).unwrap_or_default();
        NetworkRecord {
            domain: self.domain.or(traits.domain),
            organization: self.organization.or(traits.organization),
            isp: self.isp.or(traits.isp),
            autonomous_system_organization: self
                .autonomous_system_organization
                .or(traits.autonomous_system_organization),
            connection_type: self.connection_type.or(traits.connection_type),
            user_type: self.user_type.or(traits.user_type),
            mobile_country_code: self.mobile_country_code.or(traits.mobile_country_code),
        }
    }
}

/// Reverse-IP, loaded. Shared across requests: the reader and the tables are read-only.
pub struct ReverseIp {
    identifier: Identifier,
    database: Option<maxminddb::Reader<Vec<u8>>>,
}

impl fmt::Debug for ReverseIp {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ReverseIp")
            .field("ranges", &self.identifier.ranges().len())
            .field("account_names", &self.identifier.names().len())
            .field(
                "database_type",
                &self
                    .database
                    .as_ref()
                    .map(|reader| reader.metadata().database_type.as_str()),
            )
            .finish()
    }
}

impl ReverseIp {
    /// Checks the configuration, then loads the ranges file and the database, each when
    /// configured. Paths are used as written (relative ones from the working directory).
    pub fn open(config: &ReverseIpConfig, names: AccountNames) -> Result<Self, ReverseIpError> {
        config.validate().map_err(ReverseIpError::Config)?;
        let ranges = match &config.ranges {
            Some(path) => load_ranges(Path::new(path))?,
            None => IpRangeTable::default(),
        };
        let database = match &config.mmdb {
            Some(path) => Some(open_mmdb(path)?),
            None => None,
        };
        let range_count = ranges.len();
        let name_count = names.len();
        let identifier = Identifier::new(config, ranges, names).map_err(ReverseIpError::Config)?;
        tracing::info!(
            ranges = range_count,
            account_names = name_count,
            database_type = database
                .as_ref()
                .map(|reader| reader.metadata().database_type.as_str()),
            "reverse-IP loaded"
        );
        Ok(Self {
            identifier,
            database,
        })
    }

    /// The company behind an address, by the rules of `abm_core::reverse_ip::Identifier`.
    pub fn identify(&self, ip: IpAddr) -> Outcome {
        self.identifier.identify(ip, |ip| self.record(ip))
    }

    /// What the database says about an address, flattened; `None` without a database, when
    /// it has no record, or when the record cannot be read (an IPv6 address in an IPv4
    /// database, a field of an unexpected type).
    pub fn record(&self, ip: IpAddr) -> Option<NetworkRecord> {
        let reader = self.database.as_ref()?;
        let decoded = reader
            .lookup(ip.to_canonical())
            .and_then(|result| result.decode::<MmdbRecord>());
        match decoded {
            Ok(record) => record.map(MmdbRecord::flatten),
            Err(error) => {
                tracing::debug!(%ip, %error, "reverse-IP database record unreadable");
                None
            }
        }
    }
}

fn open_mmdb(path: &str) -> Result<maxminddb::Reader<Vec<u8>>, ReverseIpError> {
    maxminddb::Reader::open_readfile(path).map_err(|error| ReverseIpError::Mmdb {
        path: path.to_owned(),
        message: error.to_string(),
    })
}

/// The columns of a ranges file; the header names them, in any order, any case.
#[derive(Debug, Default)]
struct Columns {
    network: Option<usize>,
    start: Option<usize>,
    end: Option<usize>,
    domain: Option<usize>,
    confidence: Option<usize>,
    organization: Option<usize>,
}

const HEADER_HELP: &str = "the header must be network,domain,confidence[,organization] or start,end,domain,confidence[,organization]";

impl Columns {
    fn read(headers: &csv::StringRecord) -> Result<(Self, Vec<String>), RangeProblem> {
        let mut columns = Columns::default();
        let names: Vec<String> = headers
            .iter()
            .map(|name| name.trim().to_lowercase())
            .collect();
        let problem = |column: Option<&str>, message: String| RangeProblem {
            line: headers.position().map_or(1, csv::Position::line),
            column: column.map(str::to_owned),
            value: None,
            message,
        };
        for (index, name) in names.iter().enumerate() {
            let slot = match name.as_str() {
                "network" => &mut columns.network,
                "start" => &mut columns.start,
                "end" => &mut columns.end,
                "domain" => &mut columns.domain,
                "confidence" => &mut columns.confidence,
                "organization" => &mut columns.organization,
                _ => {
                    return Err(problem(
                        Some(name),
                        format!("unknown column; {HEADER_HELP}"),
                    ));
                }
            };
            if slot.replace(index).is_some() {
                return Err(problem(Some(name), "the column appears twice".to_owned()));
            }
        }
        let layout_ok = matches!(
            (columns.network, columns.start, columns.end),
            (Some(_), None, None) | (None, Some(_), Some(_))
        );
        if !layout_ok || columns.domain.is_none() || columns.confidence.is_none() {
            return Err(problem(None, HEADER_HELP.to_owned()));
        }
        Ok((columns, names))
    }
}

/// Reads a ranges file. Every problem is collected (the first 20 are listed) and nothing is
/// returned unless the whole file is right, overlaps included.
pub fn load_ranges(path: &Path) -> Result<IpRangeTable, ReverseIpError> {
    let label = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|error| ReverseIpError::RangesFile {
        path: label.clone(),
        message: error.to_string(),
    })?;
    parse_ranges(&label, &bytes)
}

/// [`load_ranges`] over bytes already read; `label` names them in errors.
pub fn parse_ranges(label: &str, bytes: &[u8]) -> Result<IpRangeTable, ReverseIpError> {
    let fail = |problems: Vec<RangeProblem>| {
        let total = problems.len();
        ReverseIpError::Ranges {
            path: label.to_owned(),
            problems: problems.into_iter().take(MAX_PROBLEMS).collect(),
            total,
        }
    };
    // `#` lines are comments, so a team can say whose network each range is.
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers = match reader.headers() {
        Ok(headers) => headers.clone(),
        Err(error) => return Err(fail(vec![csv_problem(&error, &[], bytes)])),
    };
    let (columns, names) = Columns::read(&headers).map_err(|problem| fail(vec![problem]))?;
    let mut problems = Vec::new();
    let mut entries = Vec::new();
    let mut lines = Vec::new();
    for row in reader.records() {
        let row = match row {
            Ok(row) => row,
            Err(error) => {
                problems.push(csv_problem(&error, &names, bytes));
                continue;
            }
        };
        let line = crate::csv_lines::record_line(bytes, row.position(), Some(b'#'));
        match parse_row(&row, &columns, &names, line) {
            Ok(entry) => {
                entries.push(entry);
                lines.push(line);
            }
            Err(mut row_problems) => problems.append(&mut row_problems),
        }
    }
    if !problems.is_empty() {
        return Err(fail(problems));
    }
    let first_column = if columns.network.is_some() {
        "network"
    } else {
        "start"
    };
    IpRangeTable::new(entries).map_err(|errors| {
        let line_of = |index: usize| lines.get(index).copied().unwrap_or(0);
        fail(
            errors
                .into_iter()
                .map(|error| match error {
                    RangeTableError::Overlap {
                        first,
                        first_range,
                        second,
                        second_range,
                    } => RangeProblem {
                        line: line_of(second),
                        column: Some(first_column.to_owned()),
                        value: Some(second_range.to_string()),
                        message: format!("overlaps {first_range} on line {}", line_of(first)),
                    },
                    RangeTableError::Confidence { index } => RangeProblem {
                        line: line_of(index),
                        column: Some("confidence".to_owned()),
                        value: None,
                        message: error.to_string(),
                    },
                })
                .collect(),
        )
    })
}

fn csv_problem(error: &csv::Error, names: &[String], bytes: &[u8]) -> RangeProblem {
    let line = crate::csv_lines::record_line(bytes, error.position(), Some(b'#'));
    match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => RangeProblem {
            line,
            column: None,
            value: None,
            message: format!(
                "{len} field{} where the header has {expected_len}",
                if *len == 1 { "" } else { "s" }
            ),
        },
        csv::ErrorKind::Utf8 { err, .. } => RangeProblem {
            line,
            column: names.get(err.field()).cloned(),
            value: None,
            message: "not UTF-8 text: save the file as UTF-8".to_owned(),
        },
        _ => RangeProblem {
            line,
            column: None,
            value: None,
            message: error.to_string(),
        },
    }
}

fn parse_row(
    row: &csv::StringRecord,
    columns: &Columns,
    names: &[String],
    line: u64,
) -> Result<(IpRange, RangeEntry), Vec<RangeProblem>> {
    let mut problems = Vec::new();
    let cell = |index: usize| row.get(index).unwrap_or_default();
    let mut problem = |index: usize, message: String| {
        problems.push(RangeProblem {
            line,
            column: names.get(index).cloned(),
            value: Some(cell(index).to_owned()),
            message,
        });
    };
    let range = match (columns.network, columns.start, columns.end) {
        (Some(network), _, _) => IpRange::parse_cidr(cell(network))
            .map_err(|error| problem(network, error.to_string()))
            .ok(),
        (None, Some(start), Some(end)) => {
            let address = |index: usize| cell(index).parse::<IpAddr>();
            match (address(start), address(end)) {
                (Ok(first), Ok(last)) => IpRange::new(first, last)
                    .map_err(|error| problem(end, error.to_string()))
                    .ok(),
                (first, last) => {
                    if first.is_err() {
                        problem(start, "not an IP address".to_owned());
                    }
                    if last.is_err() {
                        problem(end, "not an IP address".to_owned());
                    }
                    None
                }
            }
        }
        // `Columns::read` accepts no other layout.
        _ => None,
    };
    let domain = columns.domain.and_then(|index| {
        Domain::parse(cell(index))
            .map_err(|error| problem(index, error.to_string()))
            .ok()
    });
    let confidence = columns.confidence.and_then(|index| {
        cell(index)
            .parse::<f64>()
            .ok()
            .filter(|value| value.is_finite() && (0.0..=1.0).contains(value))
            .or_else(|| {
                problem(
                    index,
                    "confidence must be a number from 0 to 1 (like 0.9)".to_owned(),
                );
                None
            })
    });
    let organization = columns
        .organization
        .map(cell)
        .filter(|name| !name.is_empty())
        .map(str::to_owned);
    match (range, domain, confidence) {
        (Some(range), Some(domain), Some(confidence)) if problems.is_empty() => Ok((
            range,
            RangeEntry {
                domain,
                confidence,
                organization,
            },
        )),
        _ => Err(problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        match parse_ranges("ranges.csv", text.as_bytes()) {
            Ok(table) => vec![format!("ok: {} ranges", table.len())],
            Err(ReverseIpError::Ranges { problems, .. }) => {
                problems.iter().map(ToString::to_string).collect()
            }
            Err(other) => vec![other.to_string()],
        }
    }

    #[test]
    fn lines_count_comments_and_blank_lines() {
        let text =
            "network,domain,confidence\n# one\n# two\n\n\r\nnonsense,acme.com,1\n# three\nshort\n";
        assert_eq!(
            problems(text),
            [
                "line 6, column network, value \"nonsense\": not an IP network: use 10.0.0.0/8 or 2001:db8::/32",
                "line 8: 1 field where the header has 3",
            ]
        );
    }

    #[test]
    fn headers_name_the_layout() {
        let cases = [
            ("network,domain,confidence\n", "ok: 0 ranges"),
            (
                "Domain , Confidence, Network, Organization\n",
                "ok: 0 ranges",
            ),
            ("start,end,domain,confidence\n", "ok: 0 ranges"),
            (
                "network,domain,confidence,owner\n",
                "line 1, column owner: unknown column; the header must be network,domain,confidence[,organization] or start,end,domain,confidence[,organization]",
            ),
            (
                "network,domain,domain,confidence\n",
                "line 1, column domain: the column appears twice",
            ),
            (
                "network,start,end,domain,confidence\n",
                "line 1: the header must be network,domain,confidence[,organization] or start,end,domain,confidence[,organization]",
            ),
            (
                "start,domain,confidence\n",
                "line 1: the header must be network,domain,confidence[,organization] or start,end,domain,confidence[,organization]",
            ),
            (
                "",
                "line 1: the header must be network,domain,confidence[,organization] or start,end,domain,confidence[,organization]",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(problems(text), [expected], "{text:?}");
        }
    }

    #[test]
    fn the_list_stops_at_twenty_and_counts_the_rest() {
        let mut text = "network,domain,confidence\n".to_owned();
        for _ in 0..25 {
            text.push_str("nonsense,acme.com,1\n");
        }
        let error = parse_ranges("ranges.csv", text.as_bytes()).expect_err("bad");
        let ReverseIpError::Ranges {
            problems, total, ..
        } = &error
        else {
            panic!("{error}");
        };
        assert_eq!((problems.len(), *total), (20, 25));
        let report = error.to_string();
        assert!(
            report.starts_with("ranges.csv: 25 problems in the ranges file; no range was loaded:")
        );
        assert!(report.ends_with("\n  … and 5 more"), "{report}");
    }

    #[test]
    fn enterprise_traits_fill_what_the_top_level_lacks() {
        let record = MmdbRecord {
            organization: Some("Top".into()),
            traits: Some(Box::new(MmdbRecord {
                organization: Some("Nested".into()),
                domain: Some("acme.com".into()),
                ..MmdbRecord::default()
            })),
            ..MmdbRecord::default()
        }
        .flatten();
        assert_eq!(record.organization.as_deref(), Some("Top"));
        assert_eq!(record.domain.as_deref(), Some("acme.com"));
    }
}
