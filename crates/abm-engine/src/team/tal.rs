//! TAL actions: propose, approve, reject, remove, set a tier or the owner pair, re-tier by
//! rule. Each checks the core's governance rules for every account named, then writes the
//! entries and their audit lines in one transaction, or refuses the whole batch.

use super::{Result, TeamError, resolve_account};
use abm_core::tal::{self, Actor, TalAction, TalConfig, TalEntry, TalStatus, Tier, TierInputs};
use abm_store::sql::{self, Sql};
use abm_store::team::{self, AccountRef, AuditRow, TalRow};

/// One account to propose.
#[derive(Debug, Clone, Default)]
pub struct Proposal {
    /// A domain, URL or alias naming the account.
    pub domain: String,
    pub reason: String,
    /// A tier asked for by hand: kept over the rule once approved.
    pub tier: Option<Tier>,
    pub strategic: bool,
    pub sales_owner: Option<String>,
    pub marketing_owner: Option<String>,
    /// Where the proposal came from, for the record: `manual`, `rule`, `file`, `suggestion`.
    pub source: String,
    /// Where it was read, when from a file ("accounts.csv:12"): prefixes its refusals.
    pub origin: Option<String>,
}

/// The owners and tier an approval may set at the same time.
#[derive(Debug, Clone, Default)]
pub struct Decision {
    pub reason: String,
    pub tier: Option<Tier>,
    pub sales_owner: Option<String>,
    pub marketing_owner: Option<String>,
}

fn entry_of(row: &TalRow) -> TalEntry {
    TalEntry {
        status: TalStatus::from_key(&row.status).unwrap_or(TalStatus::Proposed),
        tier: row.tier.as_deref().and_then(|tier| Tier::parse(tier).ok()),
        tier_override: row
            .tier_override
            .as_deref()
            .and_then(|tier| Tier::parse(tier).ok()),
        strategic: row.strategic,
        sales_owner: row.sales_owner.clone(),
        marketing_owner: row.marketing_owner.clone(),
    }
}

// One audit line names all of these; a struct for them would only be filled here.
#[allow(clippy::too_many_arguments)]
fn audit(
    sql: &mut dyn Sql,
    actor: &Actor,
    account: &AccountRef,
    action: TalAction,
    from: Option<&str>,
    to: &TalRow,
    reason: &str,
    at: i64,
) -> Result<()> {
    team::append_audit(
        sql,
        account.id,
        &AuditRow {
            domain: account.domain.clone(),
            at,
            actor: actor.email.clone(),
            authority: actor.authority(account.owner.as_deref()),
            action: action.as_str().to_owned(),
            from_status: from.map(str::to_owned),
            to_status: to.status.clone(),
            tier: to.tier.clone(),
            reason: reason.to_owned(),
        },
    )?;
    Ok(())
}

/// The longest reason kept with a TAL change: a paragraph, not a document.
pub const MAX_REASON_CHARS: usize = 2_000;

/// The longest owner name or email kept.
pub const MAX_NAME_CHARS: usize = 200;

fn name_too_long(field: &str, value: Option<&str>) -> Option<String> {
    value
        .filter(|value| value.chars().count() > MAX_NAME_CHARS)
        .map(|_| format!("{field} is at most {MAX_NAME_CHARS} characters"))
}

fn owners_too_long(sales: Option<&str>, marketing: Option<&str>) -> Option<String> {
    name_too_long("the sales owner", sales)
        .or_else(|| name_too_long("the marketing owner", marketing))
}

fn too_long(reason: &str) -> Option<String> {
    (reason.chars().count() > MAX_REASON_CHARS)
        .then(|| format!("a reason is at most {MAX_REASON_CHARS} characters"))
}

/// Runs `step` for every named account inside one transaction, collecting refusals; any
/// refusal rolls the whole batch back.
fn batch<T>(
    sql: &mut dyn Sql,
    names: &[(String, Option<String>)],
    mut step: impl FnMut(&mut dyn Sql, &AccountRef, usize) -> Result<std::result::Result<T, String>>,
) -> Result<Vec<T>> {
    sql::transaction(sql, |sql| {
        let mut done = Vec::new();
        let mut refusals = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (index, (name, origin)) in names.iter().enumerate() {
            let prefix = origin
                .as_ref()
                .map(|origin| format!("{origin}: "))
                .unwrap_or_default();
            let account = match resolve_account(sql, name)? {
                Ok(account) => account,
                Err(refusal) => {
                    refusals.push(format!("{prefix}{refusal}"));
                    continue;
                }
            };
            if !seen.insert(account.id) {
                refusals.push(format!("{prefix}{} is named twice", account.domain));
                continue;
            }
            match step(sql, &account, index)? {
                Ok(value) => done.push(value),
                Err(refusal) => refusals.push(format!("{prefix}{refusal}")),
            }
        }
        if refusals.is_empty() {
            Ok(done)
        } else {
            Err(TeamError::Refused(refusals))
        }
    })
}

/// Proposes accounts for the TAL.
pub fn propose(
    sql: &mut dyn Sql,
    actor: &Actor,
    proposals: &[Proposal],
    at: i64,
) -> Result<Vec<TalRow>> {
    let names: Vec<_> = proposals
        .iter()
        .map(|proposal| (proposal.domain.clone(), proposal.origin.clone()))
        .collect();
    batch(sql, &names, |sql, account, index| {
        let proposal = &proposals[index];
        let current = team::tal_entry(sql, account.id)?;
        if let Err(refusal) = tal::check_propose(
            actor,
            &account.domain,
            current.as_ref().map(entry_of).as_ref(),
        ) {
            return Ok(Err(refusal.to_string()));
        }
        if let Some(refusal) = too_long(&proposal.reason).or_else(|| {
            owners_too_long(
                proposal.sales_owner.as_deref(),
                proposal.marketing_owner.as_deref(),
            )
        }) {
            return Ok(Err(format!("{}: {refusal}", account.domain)));
        }
        if proposal.reason.trim().is_empty() {
            return Ok(Err(format!(
                "a reason is required to propose {} (--reason)",
                account.domain
            )));
        }
        let row = TalRow {
            account_id: account.id,
            domain: account.domain.clone(),
            name: account.name.clone(),
            owner: account.owner.clone(),
            status: TalStatus::Proposed.as_str().to_owned(),
            tier: proposal.tier.map(|tier| tier.as_str().to_owned()),
            tier_override: proposal.tier.map(|tier| tier.as_str().to_owned()),
            tier_reason: proposal.tier.map(|_| format!("set by {}", actor.email)),
            strategic: proposal.strategic,
            sales_owner: proposal
                .sales_owner
                .clone()
                .or_else(|| account.owner.clone()),
            marketing_owner: proposal.marketing_owner.clone(),
            source: proposal.source.clone(),
            reason: proposal.reason.trim().to_owned(),
            proposed_by: actor.email.clone(),
            proposed_at: at,
            updated_by: actor.email.clone(),
            updated_at: at,
            cluster: current.as_ref().and_then(|row| row.cluster.clone()),
        };
        team::write_tal(sql, &row)?;
        audit(
            sql,
            actor,
            account,
            TalAction::Propose,
            current.as_ref().map(|row| row.status.as_str()),
            &row,
            &row.reason,
            at,
        )?;
        Ok(Ok(row))
    })
}

/// The tier an approval gives: the one asked for now, else the one set by hand earlier, else
/// the rule's from the stored fit.
fn tier_for(
    sql: &mut dyn Sql,
    config: &TalConfig,
    account: &AccountRef,
    entry: &TalEntry,
    asked: Option<Tier>,
    actor: &Actor,
) -> Result<(Tier, Option<Tier>, String)> {
    if let Some(tier) = asked {
        return Ok((tier, Some(tier), format!("set by {}", actor.email)));
    }
    if let Some(tier) = entry.tier_override {
        return Ok((tier, Some(tier), "set by hand".to_owned()));
    }
    let fit = team::stored_values(sql, account.id)?.map_or(0.0, |(values, _)| values[0]);
    let (tier, reason) = tal::rule_tier(
        &config.tiers,
        TierInputs {
            fit,
            revenue: account.revenue,
            strategic: entry.strategic,
        },
    );
    Ok((tier, None, format!("rule: {reason}")))
}

/// Approves proposed accounts, tiering each.
pub fn approve(
    sql: &mut dyn Sql,
    actor: &Actor,
    domains: &[String],
    decision: &Decision,
    config: &TalConfig,
    at: i64,
) -> Result<Vec<TalRow>> {
    let names: Vec<_> = domains
        .iter()
        .map(|domain| (domain.clone(), None))
        .collect();
    batch(sql, &names, |sql, account, _| {
        let Some(mut row) = team::tal_entry(sql, account.id)? else {
            return Ok(Err(format!(
                "{} is not proposed: propose it first",
                account.domain
            )));
        };
        let entry = entry_of(&row);
        if let Some(refusal) = too_long(&decision.reason).or_else(|| {
            owners_too_long(
                decision.sales_owner.as_deref(),
                decision.marketing_owner.as_deref(),
            )
        }) {
            return Ok(Err(refusal));
        }
        if let Err(refusal) = tal::check_decide(
            actor,
            TalAction::Approve,
            &account.domain,
            account.owner.as_deref(),
            Some(&entry),
        ) {
            return Ok(Err(refusal.to_string()));
        }
        let (tier, tier_override, tier_reason) =
            tier_for(sql, config, account, &entry, decision.tier, actor)?;
        // Approvals earlier in this batch are already written in its transaction, so the
        // count includes them.
        let approved = team::approved_in_tier(sql, tier.as_str())?;
        if let Err(refusal) = tal::check_cap(&config.caps, tier, approved) {
            return Ok(Err(format!("{}: {refusal}", account.domain)));
        }
        let sales_owner = decision.sales_owner.clone().or(row.sales_owner.clone());
        let marketing_owner = decision
            .marketing_owner
            .clone()
            .or(row.marketing_owner.clone());
        if let Err(refusal) = tal::check_owner_pair(
            &account.domain,
            tier,
            sales_owner.as_deref(),
            marketing_owner.as_deref(),
        ) {
            return Ok(Err(refusal.to_string()));
        }
        row.status = TalStatus::Approved.as_str().to_owned();
        row.tier = Some(tier.as_str().to_owned());
        row.tier_override = tier_override.map(|tier| tier.as_str().to_owned());
        row.tier_reason = Some(tier_reason);
        row.sales_owner = sales_owner;
        row.marketing_owner = marketing_owner;
        row.updated_by = actor.email.clone();
        row.updated_at = at;
        if !decision.reason.trim().is_empty() {
            row.reason = decision.reason.trim().to_owned();
        }
        team::write_tal(sql, &row)?;
        let reason = if decision.reason.trim().is_empty() {
            "approved".to_owned()
        } else {
            decision.reason.trim().to_owned()
        };
        audit(
            sql,
            actor,
            account,
            TalAction::Approve,
            Some("proposed"),
            &row,
            &reason,
            at,
        )?;
        Ok(Ok(row))
    })
}

/// Rejects proposed accounts (a reason is required) or removes accounts from the TAL.
pub fn reject_or_remove(
    sql: &mut dyn Sql,
    actor: &Actor,
    action: TalAction,
    domains: &[String],
    reason: &str,
    at: i64,
) -> Result<Vec<TalRow>> {
    let names: Vec<_> = domains
        .iter()
        .map(|domain| (domain.clone(), None))
        .collect();
    batch(sql, &names, |sql, account, _| {
        if let Some(refusal) = too_long(reason) {
            return Ok(Err(refusal));
        }
        let current = team::tal_entry(sql, account.id)?;
        let entry = current.as_ref().map(entry_of);
        let checked = if action == TalAction::Remove {
            tal::check_remove(
                actor,
                &account.domain,
                account.owner.as_deref(),
                entry.as_ref(),
                reason,
            )
        } else if reason.trim().is_empty() {
            Err(tal::TalError::ReasonRequired {
                action: "reject",
                domain: account.domain.clone(),
            })
        } else {
            tal::check_decide(
                actor,
                action,
                &account.domain,
                account.owner.as_deref(),
                entry.as_ref(),
            )
        };
        if let Err(refusal) = checked {
            return Ok(Err(refusal.to_string()));
        }
        let Some(mut row) = current else {
            return Ok(Err(format!("{} is not on the TAL", account.domain)));
        };
        let from = row.status.clone();
        row.status = if action == TalAction::Remove {
            TalStatus::Removed
        } else {
            TalStatus::Rejected
        }
        .as_str()
        .to_owned();
        row.reason = reason.trim().to_owned();
        row.updated_by = actor.email.clone();
        row.updated_at = at;
        team::write_tal(sql, &row)?;
        // Clusters hold TAL accounts only.
        team::remove_cluster_member(sql, account.id)?;
        row.cluster = None;
        audit(
            sql,
            actor,
            account,
            action,
            Some(&from),
            &row,
            reason.trim(),
            at,
        )?;
        Ok(Ok(row))
    })
}

/// Sets an account's tier by hand (`Some`), remembered over the rule, or hands it back to the
/// rule (`None`).
pub fn set_tier(
    sql: &mut dyn Sql,
    actor: &Actor,
    domain: &str,
    tier: Option<Tier>,
    config: &TalConfig,
    at: i64,
) -> Result<TalRow> {
    let names = [(domain.to_owned(), None)];
    let mut rows = batch(sql, &names, |sql, account, _| {
        let current = team::tal_entry(sql, account.id)?;
        let entry = current.as_ref().map(entry_of);
        if let Err(refusal) = tal::check_change(
            actor,
            TalAction::SetTier,
            &account.domain,
            account.owner.as_deref(),
            entry.as_ref(),
        ) {
            return Ok(Err(refusal.to_string()));
        }
        let (Some(mut row), Some(mut entry)) = (current, entry) else {
            return Ok(Err(format!("{} is not on the TAL", account.domain)));
        };
        entry.tier_override = None;
        let (new_tier, tier_override, tier_reason) =
            tier_for(sql, config, account, &entry, tier, actor)?;
        if row.status == "approved" && row.tier.as_deref() != Some(new_tier.as_str()) {
            let approved = team::approved_in_tier(sql, new_tier.as_str())?;
            if let Err(refusal) = tal::check_cap(&config.caps, new_tier, approved) {
                return Ok(Err(format!("{}: {refusal}", account.domain)));
            }
        }
        if let Err(refusal) = tal::check_owner_pair(
            &account.domain,
            new_tier,
            row.sales_owner.as_deref(),
            row.marketing_owner.as_deref(),
        ) {
            return Ok(Err(refusal.to_string()));
        }
        row.tier = Some(new_tier.as_str().to_owned());
        row.tier_override = tier_override.map(|tier| tier.as_str().to_owned());
        row.tier_reason = Some(tier_reason.clone());
        row.updated_by = actor.email.clone();
        row.updated_at = at;
        team::write_tal(sql, &row)?;
        let status = row.status.clone();
        audit(
            sql,
            actor,
            account,
            TalAction::SetTier,
            Some(&status),
            &row,
            &tier_reason,
            at,
        )?;
        Ok(Ok(row))
    })?;
    rows.pop()
        .ok_or_else(|| TeamError::refused(format!("{domain} is not on the TAL")))
}

/// Names the owner pair of an account on the TAL (either side may be left as it is).
pub fn set_owners(
    sql: &mut dyn Sql,
    actor: &Actor,
    domain: &str,
    sales_owner: Option<String>,
    marketing_owner: Option<String>,
    strategic: Option<bool>,
    at: i64,
) -> Result<TalRow> {
    let names = [(domain.to_owned(), None)];
    let mut rows = batch(sql, &names, |sql, account, _| {
        let current = team::tal_entry(sql, account.id)?;
        if let Err(refusal) = tal::check_change(
            actor,
            TalAction::SetOwners,
            &account.domain,
            account.owner.as_deref(),
            current.as_ref().map(entry_of).as_ref(),
        ) {
            return Ok(Err(refusal.to_string()));
        }
        if let Some(refusal) = owners_too_long(sales_owner.as_deref(), marketing_owner.as_deref()) {
            return Ok(Err(refusal));
        }
        let Some(mut row) = current else {
            return Ok(Err(format!("{} is not on the TAL", account.domain)));
        };
        if let Some(owner) = &sales_owner {
            row.sales_owner = Some(owner.trim().to_owned()).filter(|owner| !owner.is_empty());
        }
        if let Some(owner) = &marketing_owner {
            row.marketing_owner = Some(owner.trim().to_owned()).filter(|owner| !owner.is_empty());
        }
        if let Some(strategic) = strategic {
            row.strategic = strategic;
        }
        if let Some(tier) = row.tier.as_deref().and_then(|tier| Tier::parse(tier).ok())
            && let Err(refusal) = tal::check_owner_pair(
                &account.domain,
                tier,
                row.sales_owner.as_deref(),
                row.marketing_owner.as_deref(),
            )
        {
            return Ok(Err(refusal.to_string()));
        }
        row.updated_by = actor.email.clone();
        row.updated_at = at;
        team::write_tal(sql, &row)?;
        let reason = format!(
            "owners: sales {}, marketing {}{}",
            row.sales_owner.as_deref().unwrap_or("—"),
            row.marketing_owner.as_deref().unwrap_or("—"),
            if row.strategic { "; strategic" } else { "" }
        );
        let status = row.status.clone();
        audit(
            sql,
            actor,
            account,
            TalAction::SetOwners,
            Some(&status),
            &row,
            &reason,
            at,
        )?;
        Ok(Ok(row))
    })?;
    rows.pop()
        .ok_or_else(|| TeamError::refused(format!("{domain} is not on the TAL")))
}

/// One tier change `retier` made or would make.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Retiered {
    pub domain: String,
    pub from: Option<String>,
    pub to: String,
    pub reason: String,
}

/// Re-applies the tier rule to every approved account without a tier set by hand (after a
/// rescore or a change of the rule). Accounts a cap or a missing owner pair stops stay where
/// they are and are reported, so the rule never overrides people.
pub fn retier(
    sql: &mut dyn Sql,
    actor: &Actor,
    config: &TalConfig,
    at: i64,
) -> Result<(Vec<Retiered>, Vec<String>)> {
    if let Err(refusal) = tal::check_retier(actor) {
        return Err(TeamError::refused(refusal.to_string()));
    }
    sql::transaction(sql, |sql| {
        let mut changed = Vec::new();
        let mut held = Vec::new();
        for mut row in team::tal_entries(sql)? {
            if row.status != "approved" || row.tier_override.is_some() {
                continue;
            }
            let Some(account) = team::account_by_id(sql, row.account_id)? else {
                continue;
            };
            let entry = entry_of(&row);
            let (tier, _, reason) = tier_for(sql, config, &account, &entry, None, actor)?;
            if row.tier.as_deref() == Some(tier.as_str()) {
                continue;
            }
            let approved = team::approved_in_tier(sql, tier.as_str())?;
            if let Err(refusal) = tal::check_cap(&config.caps, tier, approved) {
                held.push(format!(
                    "{} stays {}: {refusal}",
                    account.domain,
                    row.tier.as_deref().unwrap_or("untiered")
                ));
                continue;
            }
            if let Err(refusal) = tal::check_owner_pair(
                &account.domain,
                tier,
                row.sales_owner.as_deref(),
                row.marketing_owner.as_deref(),
            ) {
                held.push(format!(
                    "{} stays {}: {refusal}",
                    account.domain,
                    row.tier.as_deref().unwrap_or("untiered")
                ));
                continue;
            }
            let from = row.tier.clone();
            row.tier = Some(tier.as_str().to_owned());
            row.tier_reason = Some(reason.clone());
            row.updated_by = actor.email.clone();
            row.updated_at = at;
            team::write_tal(sql, &row)?;
            audit(
                sql,
                actor,
                &account,
                TalAction::SetTier,
                Some("approved"),
                &row,
                &reason,
                at,
            )?;
            changed.push(Retiered {
                domain: account.domain,
                from,
                to: tier.as_str().to_owned(),
                reason,
            });
        }
        Ok((changed, held))
    })
}
