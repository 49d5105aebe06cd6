//! The account team's tables: users, the target account list and its audit trail, clusters,
//! buying-role overrides, trigger events, account plans with their history, advocacy flags.
//! Each query is written once ([`crate::sql`]) and runs on both backends. This module only
//! reads and writes rows: the decisions (who may approve, caps, tiers) are the core's, and the
//! engine runs each action in one transaction around them.

use crate::Result;
use crate::sql::{Row, Sql};

/// A registered user.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UserRecord {
    pub email: String,
    pub name: Option<String>,
    pub role: String,
    pub created_at: i64,
}

pub fn user_count(sql: &mut dyn Sql) -> Result<u64> {
    let row = sql.query_opt("SELECT COUNT(*) FROM users", &[])?;
    Ok(row.map_or(Ok(0), |row| row.int(0))?.max(0) as u64)
}

pub fn user_by_email(sql: &mut dyn Sql, email: &str) -> Result<Option<UserRecord>> {
    // Emails are stored normalised (abm_core::Email); comparing in SQL with `lower()` would
    // differ by backend beyond ASCII, so the caller's text is normalised here instead.
    let email = abm_core::Email::parse(email)
        .map(|email| email.as_str().to_owned())
        .unwrap_or_else(|_| email.trim().to_lowercase());
    sql.query_opt(
        "SELECT email, name, role, created_at FROM users WHERE email = $1",
        &[email.into()],
    )?
    .map(|row| user_row(&row))
    .transpose()
}

pub fn users(sql: &mut dyn Sql) -> Result<Vec<UserRecord>> {
    sql.query(
        "SELECT email, name, role, created_at FROM users ORDER BY email",
        &[],
    )?
    .iter()
    .map(user_row)
    .collect()
}

fn user_row(row: &Row) -> Result<UserRecord> {
    Ok(UserRecord {
        email: row.text(0)?,
        name: row.opt_text(1)?,
        role: row.text(2)?,
        created_at: row.int(3)?,
    })
}

/// Adds a user, or changes the name and role of the one with this email; true when added.
pub fn upsert_user(sql: &mut dyn Sql, user: &UserRecord) -> Result<bool> {
    let existed = user_by_email(sql, &user.email)?.is_some();
    sql.execute(
        "INSERT INTO users (email, name, role, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (email) DO UPDATE SET name = COALESCE(excluded.name, users.name), role = excluded.role",
        &[
            user.email.as_str().into(),
            user.name.clone().into(),
            user.role.as_str().into(),
            user.created_at.into(),
        ],
    )?;
    Ok(!existed)
}

/// An account as the team's actions name it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AccountRef {
    pub id: i64,
    pub domain: String,
    pub name: Option<String>,
    /// The CRM owner (a name or an email).
    pub owner: Option<String>,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub country: Option<String>,
    pub revenue: Option<f64>,
    pub account_type: Option<String>,
}

const ACCOUNT_REF: &str = "SELECT a.id, a.domain, a.name, a.owner, a.industry, a.region, a.country, a.revenue, a.account_type FROM accounts a";

fn account_ref(row: &Row) -> Result<AccountRef> {
    Ok(AccountRef {
        id: row.int(0)?,
        domain: row.text(1)?,
        name: row.opt_text(2)?,
        owner: row.opt_text(3)?,
        industry: row.opt_text(4)?,
        region: row.opt_text(5)?,
        country: row.opt_text(6)?,
        revenue: row.opt_real(7)?,
        account_type: row.opt_text(8)?,
    })
}

/// The account owning this domain (its primary domain or an alias).
pub fn account_by_domain(sql: &mut dyn Sql, domain: &str) -> Result<Option<AccountRef>> {
    sql.query_opt(
        &format!("{ACCOUNT_REF} JOIN account_domains d ON d.account_id = a.id WHERE d.domain = $1"),
        &[domain.into()],
    )?
    .map(|row| account_ref(&row))
    .transpose()
}

pub fn account_by_id(sql: &mut dyn Sql, id: i64) -> Result<Option<AccountRef>> {
    sql.query_opt(&format!("{ACCOUNT_REF} WHERE a.id = $1"), &[id.into()])?
        .map(|row| account_ref(&row))
        .transpose()
}

/// An account's row on the TAL, with what listings show beside it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TalRow {
    pub account_id: i64,
    pub domain: String,
    pub name: Option<String>,
    /// The account's owner in the CRM.
    pub owner: Option<String>,
    pub status: String,
    pub tier: Option<String>,
    pub tier_override: Option<String>,
    pub tier_reason: Option<String>,
    pub strategic: bool,
    pub sales_owner: Option<String>,
    pub marketing_owner: Option<String>,
    pub source: String,
    pub reason: String,
    pub proposed_by: String,
    pub proposed_at: i64,
    pub updated_by: String,
    pub updated_at: i64,
    pub cluster: Option<String>,
}

const TAL_SELECT: &str = "SELECT t.account_id, a.domain, a.name, a.owner, t.status, t.tier, t.tier_override, t.tier_reason, t.strategic, t.sales_owner, t.marketing_owner, t.source, t.reason, t.proposed_by, t.proposed_at, t.updated_by, t.updated_at, c.name
    FROM tal_entries t JOIN accounts a ON a.id = t.account_id
    LEFT JOIN cluster_members m ON m.account_id = t.account_id
    LEFT JOIN clusters c ON c.id = m.cluster_id";

fn tal_row(row: &Row) -> Result<TalRow> {
    Ok(TalRow {
        account_id: row.int(0)?,
        domain: row.text(1)?,
        name: row.opt_text(2)?,
        owner: row.opt_text(3)?,
        status: row.text(4)?,
        tier: row.opt_text(5)?,
        tier_override: row.opt_text(6)?,
        tier_reason: row.opt_text(7)?,
        strategic: row.bool(8)?,
        sales_owner: row.opt_text(9)?,
        marketing_owner: row.opt_text(10)?,
        source: row.text(11)?,
        reason: row.text(12)?,
        proposed_by: row.text(13)?,
        proposed_at: row.int(14)?,
        updated_by: row.text(15)?,
        updated_at: row.int(16)?,
        cluster: row.opt_text(17)?,
    })
}

pub fn tal_entry(sql: &mut dyn Sql, account_id: i64) -> Result<Option<TalRow>> {
    sql.query_opt(
        &format!("{TAL_SELECT} WHERE t.account_id = $1"),
        &[account_id.into()],
    )?
    .map(|row| tal_row(&row))
    .transpose()
}

/// Every account ever proposed, by status then domain.
pub fn tal_entries(sql: &mut dyn Sql) -> Result<Vec<TalRow>> {
    sql.query(&format!("{TAL_SELECT} ORDER BY a.domain"), &[])?
        .iter()
        .map(tal_row)
        .collect()
}

/// The tier of each account on the TAL (approved), by account id: what score listings show.
pub fn approved_tiers(sql: &mut dyn Sql) -> Result<Vec<(i64, String)>> {
    sql.query(
        "SELECT account_id, tier FROM tal_entries WHERE status = 'approved' AND tier IS NOT NULL",
        &[],
    )?
    .iter()
    .map(|row| Ok((row.int(0)?, row.text(1)?)))
    .collect()
}

/// Approved accounts in a tier.
pub fn approved_in_tier(sql: &mut dyn Sql, tier: &str) -> Result<u64> {
    let row = sql.query_opt(
        "SELECT COUNT(*) FROM tal_entries WHERE status = 'approved' AND tier = $1",
        &[tier.into()],
    )?;
    Ok(row.map_or(Ok(0), |row| row.int(0))?.max(0) as u64)
}

/// Inserts or replaces an account's TAL row (the cluster is not part of it).
pub fn write_tal(sql: &mut dyn Sql, row: &TalRow) -> Result<()> {
    sql.execute(
        "INSERT INTO tal_entries (account_id, status, tier, tier_override, tier_reason, strategic, sales_owner, marketing_owner, source, reason, proposed_by, proposed_at, updated_by, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT (account_id) DO UPDATE SET status = excluded.status, tier = excluded.tier,
            tier_override = excluded.tier_override, tier_reason = excluded.tier_reason,
            strategic = excluded.strategic, sales_owner = excluded.sales_owner,
            marketing_owner = excluded.marketing_owner, source = excluded.source,
            reason = excluded.reason, proposed_by = excluded.proposed_by,
            proposed_at = excluded.proposed_at, updated_by = excluded.updated_by,
            updated_at = excluded.updated_at",
        &[
            row.account_id.into(),
            row.status.as_str().into(),
            row.tier.clone().into(),
            row.tier_override.clone().into(),
            row.tier_reason.clone().into(),
            row.strategic.into(),
            row.sales_owner.clone().into(),
            row.marketing_owner.clone().into(),
            row.source.as_str().into(),
            row.reason.as_str().into(),
            row.proposed_by.as_str().into(),
            row.proposed_at.into(),
            row.updated_by.as_str().into(),
            row.updated_at.into(),
        ],
    )?;
    Ok(())
}

/// One line of the TAL's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditRow {
    pub domain: String,
    pub at: i64,
    pub actor: String,
    pub authority: String,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub tier: Option<String>,
    pub reason: String,
}

pub fn append_audit(sql: &mut dyn Sql, account_id: i64, row: &AuditRow) -> Result<()> {
    sql.execute(
        "INSERT INTO tal_audit (account_id, at, actor, authority, action, from_status, to_status, tier, reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            account_id.into(),
            row.at.into(),
            row.actor.as_str().into(),
            row.authority.as_str().into(),
            row.action.as_str().into(),
            row.from_status.clone().into(),
            row.to_status.as_str().into(),
            row.tier.clone().into(),
            row.reason.as_str().into(),
        ],
    )?;
    Ok(())
}

/// The audit trail, oldest first: of one account, or of all.
pub fn audit_trail(sql: &mut dyn Sql, account_id: Option<i64>) -> Result<Vec<AuditRow>> {
    let select = "SELECT a.domain, t.at, t.actor, t.authority, t.action, t.from_status, t.to_status, t.tier, t.reason
        FROM tal_audit t JOIN accounts a ON a.id = t.account_id";
    let rows = match account_id {
        Some(id) => sql.query(
            &format!("{select} WHERE t.account_id = $1 ORDER BY t.at, t.id"),
            &[id.into()],
        )?,
        None => sql.query(&format!("{select} ORDER BY t.at, t.id"), &[])?,
    };
    rows.iter()
        .map(|row| {
            Ok(AuditRow {
                domain: row.text(0)?,
                at: row.int(1)?,
                actor: row.text(2)?,
                authority: row.text(3)?,
                action: row.text(4)?,
                from_status: row.opt_text(5)?,
                to_status: row.text(6)?,
                tier: row.opt_text(7)?,
                reason: row.text(8)?,
            })
        })
        .collect()
}

/// A cluster with its members' domains.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ClusterRow {
    pub id: i64,
    pub name: String,
    /// Its traits as written: `industry = Software; topic = Intent Data`.
    pub traits: String,
    pub origin: String,
    pub created_by: String,
    pub created_at: i64,
    pub members: Vec<String>,
}

pub fn clusters(sql: &mut dyn Sql) -> Result<Vec<ClusterRow>> {
    let mut clusters: Vec<ClusterRow> = sql
        .query(
            "SELECT id, name, traits, origin, created_by, created_at FROM clusters ORDER BY name",
            &[],
        )?
        .iter()
        .map(|row| {
            Ok(ClusterRow {
                id: row.int(0)?,
                name: row.text(1)?,
                traits: row.text(2)?,
                origin: row.text(3)?,
                created_by: row.text(4)?,
                created_at: row.int(5)?,
                members: Vec::new(),
            })
        })
        .collect::<Result<_>>()?;
    let members = sql.query(
        "SELECT m.cluster_id, a.domain FROM cluster_members m JOIN accounts a ON a.id = m.account_id ORDER BY a.domain",
        &[],
    )?;
    for row in &members {
        let (cluster, domain) = (row.int(0)?, row.text(1)?);
        if let Some(entry) = clusters.iter_mut().find(|entry| entry.id == cluster) {
            entry.members.push(domain);
        }
    }
    Ok(clusters)
}

/// Creates a cluster; returns its id.
pub fn create_cluster(
    sql: &mut dyn Sql,
    name: &str,
    traits: &str,
    origin: &str,
    actor: &str,
    at: i64,
) -> Result<i64> {
    let row = sql.query_opt(
        "INSERT INTO clusters (name, traits, origin, created_by, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        &[name.into(), traits.into(), origin.into(), actor.into(), at.into()],
    )?;
    row.map_or_else(
        || {
            Err(crate::StoreError::Corrupt(
                "INSERT … RETURNING returned nothing".into(),
            ))
        },
        |row| row.int(0),
    )
}

/// Puts an account in a cluster (moving it from any other).
pub fn set_cluster_member(
    sql: &mut dyn Sql,
    cluster_id: i64,
    account_id: i64,
    actor: &str,
    at: i64,
) -> Result<()> {
    sql.execute(
        "INSERT INTO cluster_members (account_id, cluster_id, added_by, added_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (account_id) DO UPDATE SET cluster_id = excluded.cluster_id, added_by = excluded.added_by, added_at = excluded.added_at",
        &[account_id.into(), cluster_id.into(), actor.into(), at.into()],
    )?;
    Ok(())
}

pub fn remove_cluster_member(sql: &mut dyn Sql, account_id: i64) -> Result<bool> {
    Ok(sql.execute(
        "DELETE FROM cluster_members WHERE account_id = $1",
        &[account_id.into()],
    )? > 0)
}

pub fn delete_cluster(sql: &mut dyn Sql, cluster_id: i64) -> Result<()> {
    sql.execute(
        "DELETE FROM cluster_members WHERE cluster_id = $1",
        &[cluster_id.into()],
    )?;
    sql.execute("DELETE FROM clusters WHERE id = $1", &[cluster_id.into()])?;
    Ok(())
}

/// A contact as the buying group sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PersonRow {
    pub contact_id: i64,
    pub account_id: i64,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub title: Option<String>,
    /// The buying role set by hand (`none` for none), kept over the dictionary.
    pub role_override: Option<String>,
    pub opted_out: bool,
}

const PERSON_SELECT: &str =
    "SELECT c.id, c.account_id, c.email, c.first_name, c.last_name, c.title, r.role, c.opted_out
    FROM contacts c LEFT JOIN contact_roles r ON r.contact_id = c.id";

fn person_row(row: &Row) -> Result<PersonRow> {
    Ok(PersonRow {
        contact_id: row.int(0)?,
        account_id: row.int(1)?,
        email: row.text(2)?,
        first_name: row.opt_text(3)?,
        last_name: row.opt_text(4)?,
        title: row.opt_text(5)?,
        role_override: row.opt_text(6)?,
        opted_out: row.bool(7)?,
    })
}

/// The contacts of one account, or of all.
pub fn people(sql: &mut dyn Sql, account_id: Option<i64>) -> Result<Vec<PersonRow>> {
    let rows = match account_id {
        Some(id) => sql.query(
            &format!("{PERSON_SELECT} WHERE c.account_id = $1 ORDER BY c.email"),
            &[id.into()],
        )?,
        None => sql.query(&format!("{PERSON_SELECT} ORDER BY c.id"), &[])?,
    };
    rows.iter().map(person_row).collect()
}

pub fn person_by_email(sql: &mut dyn Sql, email: &str) -> Result<Option<PersonRow>> {
    sql.query_opt(
        &format!("{PERSON_SELECT} WHERE c.email = $1"),
        &[email.into()],
    )?
    .map(|row| person_row(&row))
    .transpose()
}

/// Sets (Some) or clears (None) a contact's buying role by hand.
pub fn set_role_override(
    sql: &mut dyn Sql,
    contact_id: i64,
    role: Option<&str>,
    actor: &str,
    at: i64,
) -> Result<()> {
    match role {
        Some(role) => sql.execute(
            "INSERT INTO contact_roles (contact_id, role, set_by, set_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (contact_id) DO UPDATE SET role = excluded.role, set_by = excluded.set_by, set_at = excluded.set_at",
            &[contact_id.into(), role.into(), actor.into(), at.into()],
        )?,
        None => sql.execute(
            "DELETE FROM contact_roles WHERE contact_id = $1",
            &[contact_id.into()],
        )?,
    };
    Ok(())
}

/// A trigger event on an account.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TriggerRow {
    pub account_id: i64,
    pub kind: String,
    /// When it happened (microseconds).
    pub at: i64,
    pub evidence: String,
    /// `detected` or `file`.
    pub source: String,
    /// What makes two detections the same event (e.g. the technology, the topic and week).
    pub dedupe_key: String,
}

/// Records triggers, once per (account, kind, key); returns how many were new.
pub fn record_triggers(
    sql: &mut dyn Sql,
    triggers: &[TriggerRow],
    recorded_at: i64,
) -> Result<u64> {
    let mut added = 0;
    for trigger in triggers {
        added += sql.execute(
            "INSERT INTO triggers (account_id, kind, at, evidence, source, dedupe_key, recorded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (account_id, kind, dedupe_key) DO NOTHING",
            &[
                trigger.account_id.into(),
                trigger.kind.as_str().into(),
                trigger.at.into(),
                trigger.evidence.as_str().into(),
                trigger.source.as_str().into(),
                trigger.dedupe_key.as_str().into(),
                recorded_at.into(),
            ],
        )?;
    }
    Ok(added)
}

/// Triggers of one account or of all, newest first, at or after `since` (microseconds).
pub fn triggers(
    sql: &mut dyn Sql,
    account_id: Option<i64>,
    since: i64,
) -> Result<Vec<(String, TriggerRow)>> {
    let select = "SELECT a.domain, t.account_id, t.kind, t.at, t.evidence, t.source, t.dedupe_key
        FROM triggers t JOIN accounts a ON a.id = t.account_id";
    let rows = match account_id {
        Some(id) => sql.query(
            &format!(
                "{select} WHERE t.account_id = $1 AND t.at >= $2 ORDER BY t.at DESC, t.id DESC"
            ),
            &[id.into(), since.into()],
        )?,
        None => sql.query(
            &format!("{select} WHERE t.at >= $1 ORDER BY t.at DESC, t.id DESC"),
            &[since.into()],
        )?,
    };
    rows.iter()
        .map(|row| {
            Ok((
                row.text(0)?,
                TriggerRow {
                    account_id: row.int(1)?,
                    kind: row.text(2)?,
                    at: row.int(3)?,
                    evidence: row.text(4)?,
                    source: row.text(5)?,
                    dedupe_key: row.text(6)?,
                },
            ))
        })
        .collect()
}

/// The stored plan of an account: its JSON body and version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PlanRow {
    pub body: String,
    pub version: i64,
    pub updated_by: String,
    pub updated_at: i64,
}

pub fn plan(sql: &mut dyn Sql, account_id: i64) -> Result<Option<PlanRow>> {
    sql.query_opt(
        "SELECT body, version, updated_by, updated_at FROM account_plans WHERE account_id = $1",
        &[account_id.into()],
    )?
    .map(|row| {
        Ok(PlanRow {
            body: row.text(0)?,
            version: row.int(1)?,
            updated_by: row.text(2)?,
            updated_at: row.int(3)?,
        })
    })
    .transpose()
}

/// Stores a new version of a plan and its history line: the changes against the last one.
pub fn write_plan(
    sql: &mut dyn Sql,
    account_id: i64,
    plan: &PlanRow,
    changes: &[String],
) -> Result<()> {
    let changes = serde_json::to_string(changes)
        .map_err(|error| crate::StoreError::Corrupt(error.to_string()))?;
    sql.execute(
        "INSERT INTO account_plans (account_id, body, version, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (account_id) DO UPDATE SET body = excluded.body, version = excluded.version, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        &[
            account_id.into(),
            plan.body.as_str().into(),
            plan.version.into(),
            plan.updated_by.as_str().into(),
            plan.updated_at.into(),
        ],
    )?;
    sql.execute(
        "INSERT INTO account_plan_history (account_id, version, body, changes, changed_by, changed_at) VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            account_id.into(),
            plan.version.into(),
            plan.body.as_str().into(),
            changes.into(),
            plan.updated_by.as_str().into(),
            plan.updated_at.into(),
        ],
    )?;
    Ok(())
}

/// One version in a plan's history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PlanVersion {
    pub version: i64,
    pub changed_by: String,
    pub changed_at: i64,
    pub changes: Vec<String>,
}

pub fn plan_history(sql: &mut dyn Sql, account_id: i64) -> Result<Vec<PlanVersion>> {
    sql.query(
        "SELECT version, changed_by, changed_at, changes FROM account_plan_history WHERE account_id = $1 ORDER BY version",
        &[account_id.into()],
    )?
    .iter()
    .map(|row| {
        Ok(PlanVersion {
            version: row.int(0)?,
            changed_by: row.text(1)?,
            changed_at: row.int(2)?,
            changes: serde_json::from_str(&row.text(3)?)
                .map_err(|error| crate::StoreError::Corrupt(error.to_string()))?,
        })
    })
    .collect()
}

/// The advocacy flags of an account, sorted.
pub fn flags(sql: &mut dyn Sql, account_id: i64) -> Result<Vec<String>> {
    sql.query(
        "SELECT flag FROM account_flags WHERE account_id = $1 ORDER BY flag",
        &[account_id.into()],
    )?
    .iter()
    .map(|row| row.text(0))
    .collect()
}

pub fn set_flag(
    sql: &mut dyn Sql,
    account_id: i64,
    flag: &str,
    on: bool,
    actor: &str,
    at: i64,
) -> Result<()> {
    if on {
        sql.execute(
            "INSERT INTO account_flags (account_id, flag, set_by, set_at) VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, flag) DO NOTHING",
            &[account_id.into(), flag.into(), actor.into(), at.into()],
        )?;
    } else {
        sql.execute(
            "DELETE FROM account_flags WHERE account_id = $1 AND flag = $2",
            &[account_id.into(), flag.into()],
        )?;
    }
    Ok(())
}

/// An account's stored scores (fit, intent, engagement, priority) and stage, if scored.
pub fn stored_values(sql: &mut dyn Sql, account_id: i64) -> Result<Option<([f64; 4], String)>> {
    sql.query_opt(
        "SELECT fit, intent, engagement, priority, stage FROM account_scores WHERE account_id = $1",
        &[account_id.into()],
    )?
    .map(|row| {
        let value = |index| row.opt_real(index).map(Option::unwrap_or_default);
        Ok(([value(0)?, value(1)?, value(2)?, value(3)?], row.text(4)?))
    })
    .transpose()
}

/// Other accounts of an industry flagged reference or case study: customer stories to tell.
/// Industries compare without case in Rust (SQL `lower()` differs by backend beyond ASCII).
pub fn stories_in_industry(sql: &mut dyn Sql, industry: &str, except: i64) -> Result<Vec<String>> {
    let wanted = industry.trim().to_lowercase();
    let mut stories: Vec<String> = sql
        .query(
            "SELECT DISTINCT a.domain, a.industry FROM account_flags f JOIN accounts a ON a.id = f.account_id
             WHERE f.flag IN ('case_study', 'reference') AND a.industry IS NOT NULL AND a.id <> $1",
            &[except.into()],
        )?
        .iter()
        .filter_map(|row| match (row.text(0), row.opt_text(1)) {
            (Ok(domain), Ok(Some(industry))) if industry.trim().to_lowercase() == wanted => {
                Some(Ok(domain))
            }
            (Err(error), _) | (_, Err(error)) => Some(Err(error)),
            _ => None,
        })
        .collect::<Result<_>>()?;
    stories.sort();
    stories.dedup();
    stories.truncate(5);
    Ok(stories)
}

/// One line of the general audit log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
}

pub fn append_log(sql: &mut dyn Sql, entry: &AuditEntry) -> Result<()> {
    sql.execute(
        "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)",
        &[
            entry.at.into(),
            entry.actor.as_str().into(),
            entry.action.as_str().into(),
            entry.subject.as_str().into(),
            entry.detail.as_str().into(),
        ],
    )?;
    Ok(())
}

/// The general audit log, oldest first.
pub fn audit_log(sql: &mut dyn Sql) -> Result<Vec<AuditEntry>> {
    sql.query(
        "SELECT at, actor, action, subject, detail FROM audit_log ORDER BY at, id",
        &[],
    )?
    .iter()
    .map(|row| {
        Ok(AuditEntry {
            at: row.int(0)?,
            actor: row.text(1)?,
            action: row.text(2)?,
            subject: row.text(3)?,
            detail: row.text(4)?,
        })
    })
    .collect()
}

/// How many users have this role.
pub fn users_with_role(sql: &mut dyn Sql, role: &str) -> Result<u64> {
    let row = sql.query_opt("SELECT COUNT(*) FROM users WHERE role = $1", &[role.into()])?;
    Ok(row.map_or(Ok(0), |row| row.int(0))?.max(0) as u64)
}

/// How many contacts an account has.
pub fn contact_count(sql: &mut dyn Sql, account_id: i64) -> Result<u64> {
    let row = sql.query_opt(
        "SELECT COUNT(*) FROM contacts WHERE account_id = $1",
        &[account_id.into()],
    )?;
    Ok(row.map_or(Ok(0), |row| row.int(0))?.max(0) as u64)
}

/// Sets (or clears) a user's password hash (an argon2 PHC string).
pub fn set_password_hash(sql: &mut dyn Sql, email: &str, hash: Option<&str>) -> Result<()> {
    sql.execute(
        "UPDATE users SET password_hash = $1 WHERE email = $2",
        &[hash.map(str::to_owned).into(), email.into()],
    )?;
    Ok(())
}

/// A user's password hash, if they have a password.
pub fn password_hash(sql: &mut dyn Sql, email: &str) -> Result<Option<String>> {
    Ok(sql
        .query_opt(
            "SELECT password_hash FROM users WHERE email = $1",
            &[email.into()],
        )?
        .map(|row| row.opt_text(0))
        .transpose()?
        .flatten())
}

/// Stores an API token's hash for a user.
pub fn add_token(sql: &mut dyn Sql, token_hash: &str, email: &str, at: i64) -> Result<()> {
    sql.execute(
        "INSERT INTO api_tokens (token_hash, email, created_at) VALUES ($1, $2, $3)",
        &[token_hash.into(), email.into(), at.into()],
    )?;
    Ok(())
}

/// Whose token this hash is.
pub fn token_owner(sql: &mut dyn Sql, token_hash: &str) -> Result<Option<String>> {
    sql.query_opt(
        "SELECT email FROM api_tokens WHERE token_hash = $1",
        &[token_hash.into()],
    )?
    .map(|row| row.text(0))
    .transpose()
}

pub fn delete_token(sql: &mut dyn Sql, token_hash: &str) -> Result<()> {
    sql.execute(
        "DELETE FROM api_tokens WHERE token_hash = $1",
        &[token_hash.into()],
    )?;
    Ok(())
}

/// Every API token: (hash, user, created at), newest first.
pub fn tokens(sql: &mut dyn Sql) -> Result<Vec<(String, String, i64)>> {
    sql.query(
        "SELECT token_hash, email, created_at FROM api_tokens ORDER BY created_at DESC, token_hash",
        &[],
    )?
    .iter()
    .map(|row| Ok((row.text(0)?, row.text(1)?, row.int(2)?)))
    .collect()
}

/// The user an API token's hash belongs to.
pub fn user_by_token(sql: &mut dyn Sql, token_hash: &str) -> Result<Option<UserRecord>> {
    sql.query_opt(
        "SELECT u.email, u.name, u.role, u.created_at FROM api_tokens t JOIN users u ON u.email = t.email WHERE t.token_hash = $1",
        &[token_hash.into()],
    )?
    .map(|row| user_row(&row))
    .transpose()
}

/// A web session: its user and CSRF token, while it has not expired at `now`.
pub fn session(
    sql: &mut dyn Sql,
    session_hash: &str,
    now: i64,
) -> Result<Option<(UserRecord, String)>> {
    sql.query_opt(
        "SELECT u.email, u.name, u.role, u.created_at, s.csrf FROM sessions s JOIN users u ON u.email = s.email WHERE s.session_hash = $1 AND s.expires_at > $2",
        &[session_hash.into(), now.into()],
    )?
    .map(|row| Ok((user_row(&row)?, row.text(4)?)))
    .transpose()
}

pub fn add_session(
    sql: &mut dyn Sql,
    session_hash: &str,
    email: &str,
    csrf: &str,
    at: i64,
    expires_at: i64,
) -> Result<()> {
    sql.execute(
        "INSERT INTO sessions (session_hash, email, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        &[session_hash.into(), email.into(), csrf.into(), at.into(), expires_at.into()],
    )?;
    Ok(())
}

pub fn delete_session(sql: &mut dyn Sql, session_hash: &str) -> Result<()> {
    sql.execute(
        "DELETE FROM sessions WHERE session_hash = $1",
        &[session_hash.into()],
    )?;
    Ok(())
}

/// An account's id, domain, name and CRM owner.
pub type OwnedAccount = (i64, String, Option<String>, Option<String>);

/// Every account with its CRM owner: "my accounts" are chosen from these.
pub fn account_owners(sql: &mut dyn Sql) -> Result<Vec<OwnedAccount>> {
    sql.query(
        "SELECT id, domain, name, owner FROM accounts WHERE owner IS NOT NULL ORDER BY domain",
        &[],
    )?
    .iter()
    .map(|row| {
        Ok((
            row.int(0)?,
            row.text(1)?,
            row.opt_text(2)?,
            row.opt_text(3)?,
        ))
    })
    .collect()
}

/// Stage changes into `stage` at or after `since`: (account id, when, reason).
pub fn entered_stage_since(
    sql: &mut dyn Sql,
    stage: &str,
    since: i64,
) -> Result<Vec<(i64, i64, String)>> {
    sql.query(
        "SELECT account_id, changed_at, reason FROM stage_changes WHERE to_stage = $1 AND changed_at >= $2 ORDER BY changed_at DESC",
        &[stage.into(), since.into()],
    )?
    .iter()
    .map(|row| Ok((row.int(0)?, row.int(1)?, row.text(2)?)))
    .collect()
}

/// One intent signal on an account's timeline.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct IntentRow {
    pub topic: String,
    /// YYYY-MM-DD
    pub date: String,
    pub score: i64,
    pub source: String,
}

/// An account's latest intent signals, newest first.
pub fn recent_intent(sql: &mut dyn Sql, account_id: i64, limit: u32) -> Result<Vec<IntentRow>> {
    sql.query(
        "SELECT topic, CAST(date AS TEXT), score, source FROM intent_signals
         WHERE account_id = $1 ORDER BY date DESC, topic LIMIT $2",
        &[account_id.into(), i64::from(limit).into()],
    )?
    .iter()
    .map(|row| {
        Ok(IntentRow {
            topic: row.text(0)?,
            date: row.text(1)?,
            score: row.int(2)?,
            source: row.text(3)?,
        })
    })
    .collect()
}
