//! Value newtypes and the parsing of raw text into them. Each newtype has a private field and
//! a `parse` returning `Result`, so a value that exists is valid; every error says what was
//! wrong in words a RevOps user understands.

mod domain;
mod email;
mod scalar;
mod text;

pub use domain::Domain;
pub use email::Email;
pub use scalar::{parse_bool, parse_count, parse_date, parse_money, parse_timestamp};
pub use text::{ActivityId, CrmId, LawfulBasis, Score, Topic};

/// Why a raw value was refused. The message never repeats the value: callers show it next
/// to the file, line and column it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(pub String);

impl ValueError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}
