//! The small CSV files commands read besides imports (a TAL file, an events file): opened
//! with their header, columns found by name (any case, a BOM ignored), and problems named by
//! file, line and column. Large data goes through `abm-ingest` instead.

use anyhow::{Context as _, Result};
use std::path::Path;

pub struct SmallCsv {
    /// The file as messages name it.
    pub shown: String,
    pub reader: csv::Reader<std::io::BufReader<std::fs::File>>,
    headers: csv::StringRecord,
}

impl SmallCsv {
    pub fn open(path: &Path) -> Result<Self> {
        let shown = path.display().to_string();
        let file = std::fs::File::open(path).with_context(|| format!("cannot read {shown}"))?;
        let mut reader = csv::ReaderBuilder::new().from_reader(std::io::BufReader::new(file));
        let headers = reader
            .headers()
            .with_context(|| format!("{shown}: not a CSV file"))?
            .clone();
        Ok(Self {
            shown,
            reader,
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
