//! The small CSV files commands read besides imports (a TAL file, an events file): read whole
//! (up to `MAX_BYTES`), opened with their header, columns found by name (any case, a BOM
//! ignored), and problems named by file, line (the record's own, past blank lines) and column.
//! Large data goes through `abm-ingest` instead.

use anyhow::{Context as _, Result, bail};
use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;

/// The largest small file: a million rows of a few fields fit well within it.
const MAX_BYTES: u64 = 256 * 1024 * 1024;

pub struct SmallCsv {
    /// The file as messages name it.
    pub shown: String,
    pub reader: csv::Reader<Cursor<Arc<[u8]>>>,
    /// The whole file, for the line each record starts on ([`line`]).
    pub bytes: Arc<[u8]>,
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
        let bytes: Arc<[u8]> = std::fs::read(path)
            .with_context(|| format!("cannot read {shown}"))?
            .into();
        let mut reader = csv::ReaderBuilder::new().from_reader(Cursor::new(Arc::clone(&bytes)));
        let headers = reader
            .headers()
            .with_context(|| format!("{shown}: not a CSV file"))?
            .clone();
        Ok(Self {
            shown,
            reader,
            bytes,
            headers,
        })
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

/// The line `record`, read from `bytes`, starts on, as an editor numbers lines.
pub fn line(bytes: &[u8], record: &csv::StringRecord) -> u64 {
    abm_engine::csv_lines::record_line(bytes, record.position(), None)
}
