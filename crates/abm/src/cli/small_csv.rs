//! The small CSV files commands read besides imports (a TAL file, an events file): read whole
//! (up to `MAX_BYTES`), opened with their header, columns found by name (any case, a BOM
//! ignored), and problems named by file, line (the record's own, past blank lines) and column.
//! Large data goes through `abm-ingest` instead.

use anyhow::{Context as _, Result, bail};
use std::path::Path;

/// The largest small file: a million rows of a few fields fit well within it.
const MAX_BYTES: u64 = 256 * 1024 * 1024;

pub struct SmallCsv {
    /// The file as messages name it.
    pub shown: String,
    /// The whole file: records are read from it, and their lines counted in it.
    bytes: Vec<u8>,
    headers: csv::StringRecord,
}

impl SmallCsv {
    pub fn open(path: &Path) -> Result<Self> {
        let shown = path.display().to_string();
        let size = std::fs::metadata(path)
            .with_context(|| format!("cannot read {shown}"))?
            .len();
        if size > MAX_BYTES {
            bail!("{shown}: {size} bytes; the limit for this file is {MAX_BYTES} bytes (256 MiB)");
        }
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {shown}"))?;
        let headers = csv::Reader::from_reader(bytes.as_slice())
            .headers()
            .with_context(|| format!("{shown}: not a CSV file"))?
            .clone();
        Ok(Self {
            shown,
            bytes,
            headers,
        })
    }

    /// A reader of the records after the header.
    pub fn reader(&self) -> csv::Reader<&[u8]> {
        csv::Reader::from_reader(self.bytes.as_slice())
    }

    /// The line `record`, read by [`SmallCsv::reader`], starts on, as an editor numbers lines.
    pub fn line(&self, record: &csv::StringRecord) -> u64 {
        abm_engine::csv_lines::record_line(&self.bytes, record.position(), None)
    }

    /// The headers, trimmed and without a BOM.
    pub fn header_names(&self) -> impl Iterator<Item = &str> {
        self.headers
            .iter()
            .map(|header| header.trim().trim_start_matches('\u{feff}'))
    }

    /// The index of the column with this name.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header_names()
            .position(|header| header.eq_ignore_ascii_case(name))
    }
}

/// "FILE: line N, column C: message", with C counted from 1 (the index is from 0).
pub fn problem(shown: &str, line: u64, column: Option<usize>, message: &str) -> String {
    format!(
        "{shown}: line {line}, column {}: {message}",
        column.map_or(0, |index| index + 1)
    )
}
