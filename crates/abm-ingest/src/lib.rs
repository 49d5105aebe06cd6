//! File formats and the import pipeline: CSV exports from Salesforce, HubSpot and Bombora,
//! and abm's generic formats, parsed and validated at the edge, resolved to accounts and
//! written through the store's import transaction.
//!
//! Invariants: an import is all-or-nothing (any problem in any row of any file rolls back
//! everything and lists up to the first 20 problems with file, line, column and value);
//! memory stays flat in the size of an activity file (rows stream in batches); the pipeline
//! makes no identity decision of its own, it asks `abm_core::identity`.

mod columns;
mod pipeline;
mod problem;
mod read;
mod reader;
mod rows;
mod source;

pub use columns::ColumnOverride;
pub use pipeline::{
    FileReport, ImportError, ImportOptions, ImportReport, NoProgress, Progress, Watch, import,
};
pub use problem::{MAX_LISTED, Problem, Problems};
pub use read::{ReadError, read_activities};
pub use source::Source;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportKind {
    Accounts,
    Contacts,
    Leads,
    Opportunities,
    Activities,
    Intent,
}

impl ImportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accounts => "accounts",
            Self::Contacts => "contacts",
            Self::Leads => "leads",
            Self::Opportunities => "opportunities",
            Self::Activities => "activities",
            Self::Intent => "intent",
        }
    }
}

/// Which tool exported a file. Headers are recognised by name whatever the format; the
/// format decides defaults (an intent signal's source) and is shown in the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Salesforce,
    Hubspot,
    Bombora,
    Generic,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Salesforce => "salesforce",
            Self::Hubspot => "hubspot",
            Self::Bombora => "bombora",
            Self::Generic => "generic",
        }
    }

    /// The `source` of intent signals from a file that has no source column.
    pub fn default_source(self) -> &'static str {
        match self {
            Self::Bombora => "bombora",
            Self::Salesforce => "salesforce",
            Self::Hubspot => "hubspot",
            Self::Generic => "file",
        }
    }
}
