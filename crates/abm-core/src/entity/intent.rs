//! Intent signal: a third party saw an account research a topic.

use crate::value::{Domain, Score, Topic};
use jiff::civil::Date;

/// account × topic × date × score × source. Stored once per (domain, topic, date, source);
/// the account is found through `domain`, and a signal for a domain not yet known as an
/// account is kept until that account appears.
#[derive(Debug, Clone, PartialEq)]
pub struct IntentSignal {
    pub domain: Domain,
    pub topic: Topic,
    pub date: Date,
    pub score: Score,
    pub source: String,
    pub company_name: Option<String>,
}
