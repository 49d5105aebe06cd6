//! The types scoring reads and writes through the [`crate::Store`]: accounts and activities
//! in the compact form scoring needs, and stored scores with their stage history. Shared by
//! both backends, so both store and return the same thing.

use abm_core::AccountId;
use abm_core::score::facts::AccountFacts;
use abm_core::score::{ScoreValues, Stage};

/// One account as scoring reads it: identity and firmographics (activities, intent and
/// opportunities are read separately and added by the caller).
#[derive(Debug, Clone)]
pub struct ScoringAccount {
    pub id: AccountId,
    pub domain: String,
    pub name: Option<String>,
    pub owner: Option<String>,
    pub facts: AccountFacts,
}

/// One activity as scoring reads it, borrowed from the database row.
#[derive(Debug, Clone, Copy)]
pub struct ScoringActivity<'a> {
    pub account: AccountId,
    /// Microseconds since the Unix epoch.
    pub at: i64,
    /// The stored bytes of kind, email and URL: scoring matches and hashes them as they are,
    /// so a scan of millions of rows spares checking their UTF-8.
    pub kind: &'a [u8],
    pub contact: Option<i64>,
    pub email: Option<&'a [u8]>,
    pub url: Option<&'a [u8]>,
    pub topic: Option<&'a str>,
}

/// The scores of one account to store.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedScore {
    pub account: AccountId,
    pub values: ScoreValues,
    pub stage: Stage,
    pub stage_reason: String,
}

/// What a save did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SaveOutcome {
    pub saved: u64,
    pub stage_changes: u64,
    /// Accounts whose stored scores were newer than this run's: left as they were.
    pub skipped_newer: u64,
}

/// Stored scores with the account they belong to.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredScore {
    pub account: AccountId,
    pub domain: String,
    pub name: Option<String>,
    pub scored_at: i64,
    pub values: ScoreValues,
    pub stage: Stage,
    pub stage_reason: String,
}

/// A journey stage change.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StageChange {
    /// Microseconds since the Unix epoch.
    pub changed_at: i64,
    pub from: Option<Stage>,
    pub to: Stage,
    pub reason: String,
}

pub(crate) fn decode_stage(text: &str) -> crate::Result<Stage> {
    Stage::parse(text).ok_or_else(|| crate::StoreError::Corrupt(format!("stage {text:?}")))
}

/// What a save writes, decided from what is stored (account → (scored_at, stage)): the
/// scores to write, and the stage changes with the stage they leave.
pub(crate) struct SavePlan<'a> {
    pub writes: Vec<&'a SavedScore>,
    pub changes: Vec<(&'a SavedScore, Option<String>)>,
    pub outcome: SaveOutcome,
}

pub(crate) fn plan<'a>(
    stored: &std::collections::HashMap<i64, (i64, String)>,
    scored_at: i64,
    rows: &'a [SavedScore],
) -> SavePlan<'a> {
    let mut plan = SavePlan {
        writes: Vec::with_capacity(rows.len()),
        changes: Vec::new(),
        outcome: SaveOutcome::default(),
    };
    for row in rows {
        match stored.get(&row.account.0) {
            Some((stored_at, _)) if *stored_at > scored_at => plan.outcome.skipped_newer += 1,
            previous => {
                plan.writes.push(row);
                let from = previous.map(|(_, stage)| stage.clone());
                if from.as_deref() != Some(row.stage.as_str()) {
                    plan.changes.push((row, from));
                }
            }
        }
    }
    plan.outcome.saved = plan.writes.len() as u64;
    plan.outcome.stage_changes = plan.changes.len() as u64;
    plan
}

/// The query for the accounts scoring reads, in this column order on both backends;
/// `technologies` is the backend's expression for the JSON list as text.
pub(crate) fn accounts_query(technologies: &str) -> String {
    format!(
        "SELECT a.id, a.domain, a.name, a.owner, a.industry, a.employees, a.revenue, a.country, a.region, {technologies}, a.account_type, COALESCE(c.contacts, 0) \
         FROM accounts a LEFT JOIN (SELECT account_id, COUNT(*) AS contacts FROM contacts GROUP BY account_id) c ON c.account_id = a.id \
         ORDER BY a.id"
    )
}

/// [`accounts_query`] for one account (`{p}` is the backend's first placeholder).
pub(crate) fn account_query(technologies: &str, p: &str) -> String {
    format!(
        "SELECT a.id, a.domain, a.name, a.owner, a.industry, a.employees, a.revenue, a.country, a.region, {technologies}, a.account_type, \
                (SELECT COUNT(*) FROM contacts c WHERE c.account_id = a.id) \
         FROM accounts a WHERE a.id = {p}"
    )
}

/// The raw columns of [`accounts_query`], turned into a [`ScoringAccount`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn scoring_account(
    id: i64,
    domain: String,
    name: Option<String>,
    owner: Option<String>,
    industry: Option<String>,
    employees: Option<i64>,
    revenue: Option<f64>,
    country: Option<String>,
    region: Option<String>,
    technologies_json: &str,
    account_type: Option<String>,
    contacts: i64,
) -> ScoringAccount {
    ScoringAccount {
        id: AccountId(id),
        domain,
        name,
        owner,
        facts: AccountFacts {
            industry,
            employees: employees.and_then(|e| u64::try_from(e).ok()),
            revenue,
            country,
            region,
            technologies: technologies(technologies_json),
            account_type: account_type.as_deref().map(abm_core::AccountType::from_crm),
            contacts: u32::try_from(contacts).unwrap_or(u32::MAX),
            ..AccountFacts::default()
        },
    }
}

pub(crate) fn technologies(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}
