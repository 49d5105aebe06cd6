//! One account's buying group: each contact's persona (from the title dictionary, or the role
//! set by hand), when they were last active, and the coverage of the roles a complete group
//! has — which are known, which engaged, which missing.

use crate::scoring;
use abm_core::AccountId;
use abm_core::persona::{self, BuyingGroup, BuyingRole, Persona, PersonaConfig, TitleDictionary};
use abm_core::score::ScoringConfig;
use abm_core::score::engagement::EngagementState;
use abm_core::score::facts::Person;
use abm_store::{Store, StoreError, team};

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// A contact in the buying group.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Member {
    pub email: String,
    pub name: Option<String>,
    pub title: Option<String>,
    pub persona: Persona,
    /// The role that counts: the one set by hand, else the persona's.
    pub role: Option<BuyingRole>,
    /// `title` or `set by hand`.
    pub role_source: &'static str,
    /// Microseconds; `None` when never active.
    pub last_active: Option<i64>,
    pub engaged: bool,
    pub opted_out: bool,
}

/// The account's members and its coverage.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AccountBuyingGroup {
    pub members: Vec<Member>,
    pub coverage: BuyingGroup,
}

/// A role set by hand, as stored: a role key, or `none`.
pub fn stored_override(text: Option<&str>) -> Option<Option<BuyingRole>> {
    match text? {
        "none" => Some(None),
        key => BuyingRole::from_key(key).map(Some),
    }
}

/// The buying group of one account as of `as_of` (microseconds).
pub fn for_account(
    store: &mut dyn Store,
    scoring_config: &ScoringConfig,
    config: &PersonaConfig,
    account: AccountId,
    as_of: i64,
) -> Result<AccountBuyingGroup, StoreError> {
    let loaded = scoring::load(store, scoring_config, as_of, Some(&[account]))?;
    with_loaded(store, scoring_config, config, account, as_of, &loaded)
}

/// [`for_account`] over a load that selected this account (the account page has one):
/// a second load would read every account again.
pub fn with_loaded(
    store: &mut dyn Store,
    scoring_config: &ScoringConfig,
    config: &PersonaConfig,
    account: AccountId,
    as_of: i64,
    loaded: &scoring::Loaded,
) -> Result<AccountBuyingGroup, StoreError> {
    let dictionary = TitleDictionary::new(config);
    let people = team::people(store.sql(), Some(account.0))?;
    let state = loaded.selected.first().map(|&position| {
        EngagementState::from_facts(
            &scoring_config.engagement,
            &loaded.accounts[position].facts,
            as_of,
        )
    });
    let engaged_since = as_of - i64::from(config.engaged_days.get()) * MICROS_PER_DAY;
    let members: Vec<Member> = people
        .into_iter()
        .map(|person| {
            let persona = dictionary.classify(person.title.as_deref().unwrap_or_default());
            let (role, role_source) = match stored_override(person.role_override.as_deref()) {
                Some(role) => (role, "set by hand"),
                None => (persona.role, "title"),
            };
            let last_active = state
                .as_ref()
                .and_then(|state| state.last_active(Person::contact(person.contact_id)));
            let name = match (&person.first_name, &person.last_name) {
                (Some(first), Some(last)) => Some(format!("{first} {last}")),
                (Some(one), None) | (None, Some(one)) => Some(one.clone()),
                (None, None) => None,
            };
            Member {
                email: person.email,
                name,
                title: person.title,
                engaged: last_active.is_some_and(|at| at >= engaged_since),
                persona,
                role,
                role_source,
                last_active,
                opted_out: person.opted_out,
            }
        })
        .collect();
    let coverage = persona::buying_group(
        config,
        members
            .iter()
            .filter(|member| member.persona.relevant || member.role_source == "set by hand")
            .map(|member| (member.role, member.engaged)),
    );
    Ok(AccountBuyingGroup { members, coverage })
}
