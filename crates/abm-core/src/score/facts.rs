//! What scoring reads about one account: its firmographics, its people, its activities in a
//! compact form, its intent signals and its opportunities. The store fills these; scoring
//! never touches a database.

use crate::entity::{AccountType, ActivityKind};
use jiff::civil::Date;

/// Who did an activity, as far as scoring cares: a known contact, an address that is not a
/// contact yet, or an anonymous visitor of the account (one bucket for all of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Person {
    Contact(i64),
    /// A hash of the address: stable within one scoring run, never stored.
    Address(u64),
    Anonymous,
}

/// One activity, reduced to what scoring weighs. Times are microseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredActivity {
    pub at: i64,
    pub kind: ActivityKind,
    pub person: Person,
    /// The research topic this activity shows (from its own topic column or its URL mapped
    /// by the `[intent.pages]` patterns), as an index into [`AccountFacts::topics`].
    pub topic: Option<u16>,
    /// Set by [`crate::score::noise::mark`]: a bot-like burst or a machine open.
    pub noise: bool,
}

/// One week of third-party intent for one topic.
#[derive(Debug, Clone, PartialEq)]
pub struct IntentWeek {
    pub topic: String,
    pub date: Date,
    pub score: u8,
}

/// An opportunity, as the stages and the backtest need it.
#[derive(Debug, Clone, PartialEq)]
pub struct OpportunityFact {
    pub created_on: Date,
    pub close_date: Option<Date>,
    pub closed: bool,
    pub won: bool,
    pub amount: Option<f64>,
}

/// Everything scoring knows about one account.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountFacts {
    pub industry: Option<String>,
    pub employees: Option<u64>,
    pub revenue: Option<f64>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub technologies: Vec<String>,
    pub account_type: Option<AccountType>,
    /// Known contacts (including those without activity).
    pub contacts: u32,
    /// Activities in time order (callers sort; [`AccountFacts::sort`] does it).
    pub activities: Vec<ScoredActivity>,
    /// Topic names that [`ScoredActivity::topic`] indexes.
    pub topics: Vec<String>,
    pub intent: Vec<IntentWeek>,
    pub opportunities: Vec<OpportunityFact>,
}

impl AccountFacts {
    /// Puts activities in time order (then by person and kind, so equal times are stable)
    /// and marks noise; scoring expects both.
    pub fn prepare(&mut self, noise: &crate::score::config::NoiseConfig) {
        self.activities.sort_by(|a, b| {
            a.at.cmp(&b.at)
                .then(a.person.cmp(&b.person))
                .then(a.kind.cmp(&b.kind))
        });
        crate::score::noise::mark(noise, &mut self.activities);
    }

    /// The index of a topic name, adding it when new.
    pub fn topic_index(&mut self, topic: &str) -> Option<u16> {
        if let Some(index) = self
            .topics
            .iter()
            .position(|t| t.eq_ignore_ascii_case(topic))
        {
            return u16::try_from(index).ok();
        }
        let index = u16::try_from(self.topics.len()).ok()?;
        self.topics.push(topic.to_owned());
        Some(index)
    }

    /// True when the account was a customer as of `day`: a won deal closed by then, or
    /// typed customer in the CRM when no deal history says otherwise.
    pub fn customer_on(&self, day: Date) -> bool {
        let won = self
            .opportunities
            .iter()
            .any(|o| o.won && o.close_date.unwrap_or(o.created_on) <= day);
        won || (self.opportunities.iter().all(|o| !o.won)
            && self.account_type == Some(AccountType::Customer))
    }
}
