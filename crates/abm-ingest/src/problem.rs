//! Problems found in input files: each names the file, the line, the column and the value,
//! so a RevOps user can open the file and fix it. An import lists up to the first 20.

use std::fmt;

/// How many problems an import lists before it only counts them.
pub const MAX_LISTED: usize = 20;

/// One thing wrong with an input file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub file: String,
    pub line: Option<u64>,
    pub column: Option<String>,
    pub value: Option<String>,
    pub message: String,
}

impl Problem {
    pub fn file(file: &str, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            line: None,
            column: None,
            value: None,
            message: message.into(),
        }
    }

    pub fn at(file: &str, line: u64, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            line: Some(line),
            column: None,
            value: None,
            message: message.into(),
        }
    }

    pub fn value(
        file: &str,
        line: u64,
        column: &str,
        value: &str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            file: file.to_owned(),
            line: Some(line),
            column: Some(column.to_owned()),
            value: Some(shorten(value)),
            message: message.into(),
        }
    }
}

/// Values are shown as the user wrote them, cut to a readable length (a 10 MB value must not
/// flood the terminal).
fn shorten(value: &str) -> String {
    const LIMIT: usize = 80;
    if value.chars().count() <= LIMIT {
        value.to_owned()
    } else {
        let head: String = value.chars().take(LIMIT).collect();
        format!("{head}… ({} characters)", value.chars().count())
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(formatter, ":{line}")?;
        }
        if let Some(column) = &self.column {
            write!(formatter, ": column {column:?}")?;
        }
        if let Some(value) = &self.value {
            write!(formatter, ", value {value:?}")?;
        }
        write!(formatter, ": {}", self.message)
    }
}

/// The problems of one import: the first [`MAX_LISTED`] kept, all counted.
#[derive(Debug, Clone, Default)]
pub struct Problems {
    pub listed: Vec<Problem>,
    pub total: u64,
}

impl Problems {
    pub fn push(&mut self, problem: Problem) {
        self.total += 1;
        if self.listed.len() < MAX_LISTED {
            self.listed.push(problem);
        }
    }

    pub fn extend(&mut self, problems: impl IntoIterator<Item = Problem>) {
        for problem in problems {
            self.push(problem);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    pub fn absorb(&mut self, other: Problems) {
        let unlisted = other.total - other.listed.len() as u64;
        self.extend(other.listed);
        self.total += unlisted;
    }
}
