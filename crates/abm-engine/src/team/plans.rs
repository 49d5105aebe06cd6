//! Account plans: the living document of a 1:1 or 1:few account. Each save is a new version
//! with the changes against the one before, so the plan's history can be read back.

use super::{Result, TeamError};
use abm_core::plan::{AccountPlan, PlanContext};
use abm_core::tal::{Actor, UserRole};
use abm_store::sql::{self, Sql};
use abm_store::team::{self, AccountRef, PlanRow};

/// The stored plan (or an empty one) and its version (0 when none was saved).
pub fn current(sql: &mut dyn Sql, account: &AccountRef) -> Result<(AccountPlan, Option<PlanRow>)> {
    let Some(row) = team::plan(sql, account.id)? else {
        return Ok((AccountPlan::default(), None));
    };
    let plan = serde_json::from_str(&row.body).map_err(|error| {
        abm_store::StoreError::Corrupt(format!(
            "the plan of {} is unreadable: {error}",
            account.domain
        ))
    })?;
    Ok((plan, Some(row)))
}

/// Plans are for accounts on the TAL in tier 1:1 or 1:few.
pub fn check_plannable(sql: &mut dyn Sql, account: &AccountRef) -> Result<String> {
    let entry = team::tal_entry(sql, account.id)?;
    match entry
        .as_ref()
        .and_then(|row| row.tier.clone().filter(|_| row.status == "approved"))
    {
        Some(tier) if tier == "1:1" || tier == "1:few" => Ok(tier),
        Some(tier) => Err(TeamError::refused(format!(
            "{} is {tier}: account plans are for 1:1 and 1:few accounts (abm tal tier {} 1:few)",
            account.domain, account.domain
        ))),
        None => Err(TeamError::refused(format!(
            "{} is not an approved TAL account: account plans are for 1:1 and 1:few accounts",
            account.domain
        ))),
    }
}

/// Saves a new version of the plan when it differs from the stored one; returns the changes
/// (empty when nothing changed, and then nothing is written).
pub fn save(
    sql: &mut dyn Sql,
    actor: &Actor,
    account: &AccountRef,
    plan: &AccountPlan,
    at: i64,
) -> Result<Vec<String>> {
    if actor.role == UserRole::Viewer && !actor.fresh_install {
        return Err(TeamError::refused(format!(
            "{} is a viewer and may not edit plans",
            actor.email
        )));
    }
    sql::transaction(sql, |sql| {
        check_plannable(sql, account)?;
        let (stored, row) = current(sql, account)?;
        let changes = plan.changes_since(&stored);
        if changes.is_empty() && row.is_some() {
            return Ok(Vec::new());
        }
        let body = serde_json::to_string(plan)
            .map_err(|error| abm_store::StoreError::Corrupt(error.to_string()))?;
        let version = row.map_or(1, |row| row.version + 1);
        team::write_plan(
            sql,
            account.id,
            &PlanRow {
                body,
                version,
                updated_by: actor.email.clone(),
                updated_at: at,
            },
            &changes,
        )?;
        Ok(if changes.is_empty() {
            vec!["created (empty)".to_owned()]
        } else {
            changes
        })
    })
}

/// What the plan editor shows around the plan, read-only: owners, cluster, recent triggers.
pub fn context(sql: &mut dyn Sql, account: &AccountRef, now: i64) -> Result<PlanContext> {
    let entry = team::tal_entry(sql, account.id)?;
    let mut lines = Vec::new();
    if let Some(entry) = &entry {
        lines.push(format!(
            "owners: sales {}, marketing {}",
            entry.sales_owner.as_deref().unwrap_or("—"),
            entry.marketing_owner.as_deref().unwrap_or("—")
        ));
        if let Some(cluster) = &entry.cluster {
            lines.push(format!("cluster: {cluster}"));
        }
    }
    let since = now - 90 * 86_400_000_000;
    for (_, trigger) in team::triggers(sql, Some(account.id), since)?
        .iter()
        .take(10)
    {
        lines.push(format!(
            "trigger {} {}: {}",
            super::view::show_time(trigger.at),
            trigger.kind,
            trigger.evidence
        ));
    }
    Ok(PlanContext {
        domain: account.domain.clone(),
        name: account.name.clone(),
        tier: entry.and_then(|entry| entry.tier),
        context_lines: lines,
    })
}
