//! Scoring over the store: load what scores are computed from (accounts, opportunities,
//! intent, activities — the last streamed, never all rows at once as rows), learn the
//! customer profile as of the scoring instant, assess every account on all cores, and save.

use abm_core::AccountId;
use abm_core::entity::ActivityKind;
use abm_core::score::facts::{AccountFacts, Person, ScoredActivity};
use abm_core::score::fit::CustomerProfile;
use abm_core::score::intent::PageTopics;
use abm_core::score::{Assessment, ScoringConfig, assess};
use abm_store::{SaveOutcome, SavedScore, Store, StoreError};
use std::collections::HashMap;
use std::hash::BuildHasher;

/// One account's assessment, with what the listings and the backtest need besides.
#[derive(Debug, Clone)]
pub struct ScoredAccount {
    pub id: AccountId,
    pub domain: String,
    pub name: Option<String>,
    pub owner: Option<String>,
    pub assessment: Assessment,
    /// Activities (not noise) in the 90 days before the scoring instant: the naive ranking
    /// the backtest compares against.
    pub recent_activities: u32,
    pub opportunities: Vec<abm_core::score::facts::OpportunityFact>,
}

/// The result of a scoring run.
#[derive(Debug, Clone)]
pub struct Scoring {
    pub as_of: i64,
    pub accounts: Vec<ScoredAccount>,
    /// Customers the fit profile learned from (0 when too few to learn).
    pub profile_customers: u32,
}

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Scores every account (or only `only`) as of `as_of` (microseconds), without saving.
pub fn compute(
    store: &mut dyn Store,
    config: &ScoringConfig,
    as_of: i64,
    only: Option<&[AccountId]>,
) -> Result<Scoring, StoreError> {
    let mut accounts = store.scoring_accounts()?;
    let index: HashMap<i64, usize> = accounts
        .iter()
        .enumerate()
        .map(|(position, account)| (account.id.0, position))
        .collect();
    store.scoring_opportunities(&mut |account, opportunity| {
        if let Some(&position) = index.get(&account.0) {
            accounts[position].facts.opportunities.push(opportunity);
        }
    })?;
    let day = day_of(as_of);
    let profile = CustomerProfile::learn(
        accounts.iter().map(|account| {
            (
                &account.facts,
                day.is_some_and(|d| account.facts.customer_on(d)),
            )
        }),
        config.fit.profile.min_customers.0,
    );
    store.scoring_intent(only, &mut |account, week| {
        if let Some(&position) = index.get(&account.0) {
            accounts[position].facts.intent.push(week);
        }
    })?;

    let pages = PageTopics::new(&config.intent.pages);
    let mut page_topics: HashMap<Box<str>, Option<Box<str>>> = HashMap::new();
    let hasher = foldhash::quality::FixedState::with_seed(0x5eed);
    let mut unknown_kinds = 0u64;
    store.scoring_activities(only, as_of, &mut |row| {
        let Some(&position) = index.get(&row.account.0) else {
            return;
        };
        let Some(kind) = ActivityKind::from_key(row.kind) else {
            unknown_kinds += 1;
            return;
        };
        let person = match (row.contact, row.email) {
            (Some(contact), _) => Person::Contact(contact),
            (None, Some(email)) => Person::Address(hasher.hash_one(email)),
            (None, None) => Person::Anonymous,
        };
        let facts = &mut accounts[position].facts;
        let topic = match (row.topic, row.url) {
            (Some(topic), _) if !topic.is_empty() => facts.topic_index(topic),
            (_, Some(url)) => {
                let topic = page_topics
                    .entry(url.into())
                    .or_insert_with(|| pages.topic_of(url).map(Into::into));
                match topic {
                    Some(topic) => facts.topic_index(topic),
                    None => None,
                }
            }
            _ => None,
        };
        facts.activities.push(ScoredActivity {
            at: row.at,
            kind,
            person,
            topic,
            noise: false,
        });
    })?;
    if unknown_kinds > 0 {
        tracing::warn!(
            unknown_kinds,
            "stored activities of a kind this abm does not know were skipped"
        );
    }

    let selected: Vec<_> = match only {
        None => accounts,
        Some(only) => {
            let wanted: std::collections::HashSet<i64> = only.iter().map(|a| a.0).collect();
            accounts
                .into_iter()
                .filter(|a| wanted.contains(&a.id.0))
                .collect()
        }
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let chunk = selected.len().div_ceil(threads).max(1);
    let mut scored = Vec::with_capacity(selected.len());
    std::thread::scope(|scope| {
        let mut remaining = selected;
        let mut handles = Vec::new();
        while !remaining.is_empty() {
            let rest = remaining.split_off(chunk.min(remaining.len()));
            let part = std::mem::replace(&mut remaining, rest);
            let profile = &profile;
            handles.push(scope.spawn(move || {
                part.into_iter()
                    .map(|account| assess_one(config, profile, account, as_of))
                    .collect::<Vec<_>>()
            }));
        }
        for handle in handles {
            // A panic in scoring is a bug; it is re-raised here rather than hidden.
            match handle.join() {
                Ok(part) => scored.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    Ok(Scoring {
        as_of,
        accounts: scored,
        profile_customers: if profile.is_learned() {
            profile.customers
        } else {
            0
        },
    })
}

fn assess_one(
    config: &ScoringConfig,
    profile: &CustomerProfile,
    account: abm_store::ScoringAccount,
    as_of: i64,
) -> ScoredAccount {
    let mut facts: AccountFacts = account.facts;
    facts.prepare(&config.engagement.noise);
    let assessment = assess(config, profile, &facts, as_of);
    let since = as_of - 90 * MICROS_PER_DAY;
    let recent_activities = facts
        .activities
        .iter()
        .filter(|a| !a.noise && a.at > since && a.at <= as_of)
        .count() as u32;
    ScoredAccount {
        id: account.id,
        domain: account.domain,
        name: account.name,
        owner: account.owner,
        assessment,
        recent_activities,
        opportunities: facts.opportunities,
    }
}

/// Scores and saves: every account, or only those given (the ones an import touched).
pub fn rescore(
    store: &mut dyn Store,
    config: &ScoringConfig,
    as_of: i64,
    only: Option<&[AccountId]>,
) -> Result<(Scoring, SaveOutcome), StoreError> {
    let scoring = compute(store, config, as_of, only)?;
    let rows: Vec<SavedScore> = scoring
        .accounts
        .iter()
        .map(|account| SavedScore {
            account: account.id,
            scores: account.assessment.scores.clone(),
            stage: account.assessment.stage,
            stage_reason: account.assessment.stage_reason.clone(),
        })
        .collect();
    let outcome = store.save_scores(as_of, &rows)?;
    Ok((scoring, outcome))
}

pub(crate) fn day_of(micros: i64) -> Option<jiff::civil::Date> {
    let timestamp = jiff::Timestamp::from_microsecond(micros).ok()?;
    Some(timestamp.to_zoned(jiff::tz::TimeZone::UTC).date())
}
