//! One account as people look at it: its scores with every contribution, stage and stage
//! history, its place on the TAL, buying group, recent triggers, flags, plan, and the "why
//! this account, why now, why us" summary. The CLI (`abm account`) and the API
//! (`GET /api/v1/accounts/{domain}`) show the same view, so their JSON is the same.

use crate::scoring;
use crate::team::buying_group::{self, AccountBuyingGroup};
use abm_core::next_action::{self, NextAction};
use abm_core::score::{Scores, ScoringConfig, Stage};
use abm_core::trigger::TriggerConfig;
use abm_core::why::{Why, WhyInputs, WhyUsConfig};
use abm_core::{Account, AccountId, Domain};
use abm_store::team::{PlanRow, TalRow, TriggerRow};
use abm_store::{StageChange, Store, StoreError};

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Everything the account's page shows.
#[derive(Debug, Clone)]
pub struct AccountView {
    pub id: AccountId,
    pub account: Account,
    pub as_of: i64,
    /// Rounded for display: the shown contributions add up to the shown values.
    pub scores: Scores,
    pub stage: Stage,
    pub stage_reason: String,
    pub history: Vec<StageChange>,
    pub tal: Option<TalRow>,
    /// The tier of an approved TAL account.
    pub tier: Option<String>,
    pub group: AccountBuyingGroup,
    pub triggers: Vec<TriggerRow>,
    pub flags: Vec<String>,
    pub plan: Option<PlanRow>,
    pub why: Why,
    /// What to do next, most urgent first, each with its reason.
    pub next_actions: Vec<NextAction>,
}

/// The settings the view reads.
#[derive(Debug, Clone, Copy)]
pub struct ViewSettings<'a> {
    pub scoring: &'a ScoringConfig,
    pub triggers: &'a TriggerConfig,
    pub why_us: &'a WhyUsConfig,
    /// Customer profiles kept between calls (a server's): the view then reads this account
    /// alone; without, it reads every account to learn the profile.
    pub profiles: Option<&'a scoring::ProfileStore>,
}

/// The view of the account owning `domain` as of `as_of` (default: when it was last scored,
/// else `now`); `None` when no account owns the domain.
pub fn account_view(
    store: &mut dyn Store,
    settings: ViewSettings<'_>,
    domain: &Domain,
    as_of: Option<i64>,
    now: i64,
) -> Result<Option<AccountView>, StoreError> {
    let Some((id, account)) = store.account_by_domain(domain)? else {
        return Ok(None);
    };
    let config = settings.scoring;
    // Contributions are recomputed as of the stored scores' instant (the same data gives
    // the same values), or as of the instant asked for.
    let as_of = match (as_of, store.stored_score(id)?) {
        (Some(as_of), _) => as_of,
        (None, Some(stored)) => stored.scored_at,
        (None, None) => now,
    };
    let (loaded, profile) = match settings.profiles {
        Some(profiles) => {
            let Some(loaded) = scoring::load_one(store, config, as_of, id)? else {
                return Ok(None);
            };
            let profile = profiles.profiles(store, config, &[as_of])?.pop();
            (loaded, profile)
        }
        None => (scoring::load(store, config, as_of, Some(&[id]))?, None),
    };
    let topics = loaded
        .selected
        .first()
        .map(|&position| {
            crate::team::clusters::recent_topics(
                &loaded.accounts[position].facts,
                config.intent.surge_threshold.get(),
                as_of,
            )
        })
        .unwrap_or_default();
    let scoring = match &profile {
        Some(profile) => scoring::assess_with(
            &loaded,
            config,
            as_of,
            scoring::Keep::Contributions,
            profile,
        ),
        None => scoring::assess_all(&loaded, config, as_of, scoring::Keep::Contributions),
    };
    let group = buying_group::with_loaded(store, config, &config.personas, id, as_of, &loaded)?;
    drop(loaded);
    let Some(scored) = scoring.accounts.into_iter().next() else {
        return Ok(None);
    };
    let scores = scored.assessment.scores.clone();
    let history = store.stage_history(id)?;
    let tal = abm_store::team::tal_entry(store.sql(), id.0)?;
    let tier = tal
        .as_ref()
        .filter(|entry| entry.status == "approved")
        .and_then(|entry| entry.tier.clone());
    let recent = as_of - i64::from(settings.triggers.recent_days.get()) * MICROS_PER_DAY;
    let triggers: Vec<TriggerRow> = abm_store::team::triggers(store.sql(), Some(id.0), recent)?
        .into_iter()
        .map(|(_, trigger)| trigger)
        .collect();
    let flags = abm_store::team::flags(store.sql(), id.0)?;
    let plan = abm_store::team::plan(store.sql(), id.0)?;
    let stories = match &account.industry {
        Some(industry) => abm_store::team::stories_in_industry(store.sql(), industry, id.0)?,
        None => Vec::new(),
    };
    let competitors: Vec<&str> = account
        .technologies
        .iter()
        .filter(|technology| {
            config
                .fit
                .competitors
                .technologies
                .iter()
                .any(|c| c.eq_ignore_ascii_case(technology))
        })
        .map(String::as_str)
        .collect();
    let why = abm_core::why::summarise(
        &scores,
        &WhyInputs {
            triggers: triggers
                .iter()
                .map(|t| (t.kind.as_str(), t.evidence.as_str()))
                .collect(),
            topics: topics.iter().map(String::as_str).collect(),
            competitors,
            stories: stories.iter().map(String::as_str).collect(),
            industry: account.industry.as_deref(),
        },
        settings.why_us,
    );
    let next_actions = next_action::suggest(&next_action::Inputs {
        stage: Some(scored.assessment.stage),
        stage_reason: &scored.assessment.stage_reason,
        tier: tier.as_deref(),
        tal_status: tal.as_ref().map(|entry| entry.status.as_str()),
        has_plan: plan.is_some(),
        fit: scores.fit.value,
        intent: scores.intent.value,
        engagement: scores.engagement.value,
        people: group
            .members
            .iter()
            .map(|member| next_action::Person {
                label: member.name.as_deref().unwrap_or(&member.email),
                role: member.role,
                engaged: member.engaged,
                opted_out: member.opted_out,
            })
            .collect(),
        missing_roles: group.coverage.missing.clone(),
        triggers: triggers
            .iter()
            .map(|t| (t.kind.as_str(), t.evidence.as_str()))
            .collect(),
        topics: topics.iter().map(String::as_str).collect(),
    });
    Ok(Some(AccountView {
        next_actions,
        id,
        as_of,
        scores: scores.rounded(),
        stage: scored.assessment.stage,
        stage_reason: scored.assessment.stage_reason,
        history,
        tal,
        tier,
        group,
        triggers,
        flags,
        plan,
        why,
        account,
    }))
}

/// Microseconds as `YYYY-MM-DD HH:MM UTC`.
pub fn show_time(micros: i64) -> String {
    match jiff::Timestamp::from_microsecond(micros) {
        Ok(timestamp) => timestamp
            .to_zoned(jiff::tz::TimeZone::UTC)
            .strftime("%Y-%m-%d %H:%M UTC")
            .to_string(),
        Err(_) => micros.to_string(),
    }
}

impl AccountView {
    /// The view as JSON: the contract of `abm account --format json` and of the API.
    pub fn to_json(&self) -> serde_json::Value {
        let history: Vec<serde_json::Value> = self
            .history
            .iter()
            .map(|change| {
                serde_json::json!({
                    "changed_at": show_time(change.changed_at),
                    "from": change.from.map(Stage::as_str),
                    "to": change.to.as_str(),
                    "reason": change.reason,
                })
            })
            .collect();
        let members: Vec<serde_json::Value> = self
            .group
            .members
            .iter()
            .map(|member| {
                serde_json::json!({
                    "email": member.email,
                    "name": member.name,
                    "title": member.title,
                    "function": member.persona.function.map(|f| f.as_str()),
                    "seniority": member.persona.seniority.as_str(),
                    "role": member.role.map(|r| r.as_str()),
                    "role_source": member.role_source,
                    "engaged": member.engaged,
                    "last_active": member.last_active.map(show_time),
                    "opted_out": member.opted_out,
                })
            })
            .collect();
        let coverage: Vec<serde_json::Value> = self
            .group
            .coverage
            .roles
            .iter()
            .map(|role| {
                serde_json::json!({
                    "role": role.role.as_str(),
                    "known": role.known,
                    "engaged": role.engaged,
                    "expected": role.expected,
                })
            })
            .collect();
        serde_json::json!({
            "domain": self.account.domain.as_str(),
            "name": self.account.name,
            "scored_at": show_time(self.as_of),
            "stage": self.stage.as_str(),
            "stage_reason": self.stage_reason,
            "tier": self.tier,
            "tal": self.tal.as_ref().map(|entry| serde_json::json!({
                "status": entry.status,
                "tier": entry.tier,
                "cluster": entry.cluster,
                "sales_owner": entry.sales_owner,
                "marketing_owner": entry.marketing_owner,
                "reason": entry.reason,
            })),
            "scores": {
                "fit": self.scores.fit,
                "intent": self.scores.intent,
                "engagement": self.scores.engagement,
                "priority": self.scores.priority,
            },
            "buying_group": coverage,
            "buying_group_coverage": {
                "known": self.group.coverage.known_share,
                "engaged": self.group.coverage.engaged_share,
                "missing": self.group.coverage.missing.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            },
            "contacts": members,
            "triggers": self.triggers.iter().map(|t| serde_json::json!({
                "kind": t.kind,
                "at": show_time(t.at),
                "evidence": t.evidence,
                "source": t.source,
            })).collect::<Vec<_>>(),
            "flags": self.flags,
            "plan_version": self.plan.as_ref().map(|plan| plan.version),
            "why": self.why,
            "next_best_actions": self.next_actions,
            "stage_history": history,
        })
    }
}
