//! What scoring reads about one account: its firmographics, its people, its activities in a
//! compact form, its intent signals and its opportunities. The store fills these; scoring
//! never touches a database.

use crate::entity::{AccountType, ActivityKind};
use crate::persona::BuyingRole;
use jiff::civil::Date;

/// Who did an activity, as far as scoring cares: a known contact, an address that is not a
/// contact yet (a hash, stable within one scoring run, never stored), or an anonymous visitor
/// of the account (one bucket for all of them). Packed in four bytes, since scoring holds
/// one per activity: the top two bits say which, the other 30 hold the id or the hash (two
/// people of one account sharing them is a one-in-a-billion chance per pair).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Person(u32);

impl Person {
    pub const ANONYMOUS: Person = Person(0);
    const PAYLOAD: u32 = (1 << 30) - 1;

    pub fn contact(id: i64) -> Person {
        Person((1 << 30) | (id as u32 & Self::PAYLOAD))
    }

    pub fn address(hash: u64) -> Person {
        Person((2 << 30) | ((hash ^ (hash >> 32)) as u32 & Self::PAYLOAD))
    }

    pub fn is_anonymous(self) -> bool {
        self == Self::ANONYMOUS
    }
}

/// An index into [`AccountFacts::topics`], stored plus one so that `Option<TopicId>` takes
/// two bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicId(std::num::NonZeroU16);

impl TopicId {
    pub fn new(index: u16) -> Option<TopicId> {
        std::num::NonZeroU16::new(index.checked_add(1)?).map(TopicId)
    }

    pub fn index(self) -> usize {
        usize::from(self.0.get() - 1)
    }
}

/// One activity, reduced to what scoring weighs: sixteen bytes, since a full scoring run
/// holds every activity. Times are microseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredActivity {
    pub at: i64,
    pub kind: ActivityKind,
    pub person: Person,
    /// The research topic this activity shows (from its own topic column or its URL mapped
    /// by the `[intent.pages]` patterns).
    pub topic: Option<TopicId>,
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
    /// Topic names that [`ScoredActivity::topic`] indexes (shared by every account of one
    /// scoring run).
    pub topics: std::sync::Arc<Vec<String>>,
    pub intent: Vec<IntentWeek>,
    pub opportunities: Vec<OpportunityFact>,
    /// The account's people who hold a buying role (from their titles, or set by hand),
    /// sorted by person: breadth across roles and the qualified rule read these.
    pub roles: Vec<(Person, BuyingRole)>,
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

    /// The buying role a person holds at this account, if any.
    pub fn role_of(&self, person: Person) -> Option<BuyingRole> {
        self.roles
            .binary_search_by_key(&person, |(holder, _)| *holder)
            .ok()
            .map(|index| self.roles[index].1)
    }

    /// The index of a topic name, adding it when new.
    pub fn topic_index(&mut self, topic: &str) -> Option<TopicId> {
        if let Some(index) = self
            .topics
            .iter()
            .position(|t| t.eq_ignore_ascii_case(topic))
        {
            return TopicId::new(u16::try_from(index).ok()?);
        }
        let id = TopicId::new(u16::try_from(self.topics.len()).ok()?)?;
        std::sync::Arc::make_mut(&mut self.topics).push(topic.to_owned());
        Some(id)
    }

    /// True when the account was a customer as of `day`: a won deal closed by then, or
    /// typed customer in the CRM when no deal history says otherwise.
    pub fn customer_on(&self, day: Date) -> bool {
        let won = self
            .opportunities
            .iter()
            .any(|o| o.won && o.close_date.unwrap_or(o.created_on) <= day);
        // Only deals known by then: a deal created later must not decide the past.
        won || (self
            .opportunities
            .iter()
            .filter(|o| o.created_on <= day)
            .all(|o| !o.won)
            && self.account_type == Some(AccountType::Customer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_activity_takes_sixteen_bytes() {
        assert_eq!(std::mem::size_of::<ScoredActivity>(), 16);
        assert_eq!(TopicId::new(0).map(TopicId::index), Some(0));
        assert_eq!(TopicId::new(u16::MAX), None);
        assert_ne!(Person::contact(7), Person::address(7));
        assert!(!Person::contact(0).is_anonymous());
    }
}
