//! What plays read, written once for both backends: the approved TAL accounts a play's
//! audience is drawn from (with tier, cluster, stored stage and fit), their people with
//! consent and buying-role overrides, and recent trigger events.

use crate::Result;
use crate::sql::{Row, Sql};

/// An approved TAL account as a play sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlayAccount {
    pub id: i64,
    pub domain: String,
    pub name: Option<String>,
    pub industry: Option<String>,
    pub country: Option<String>,
    /// The CRM owner, else the TAL's sales owner.
    pub owner: Option<String>,
    pub tier: Option<String>,
    pub cluster: Option<String>,
    /// From the latest scoring; `None` before the first.
    pub stage: Option<String>,
    pub fit: Option<f64>,
}

/// Every approved account of the TAL, by domain.
pub fn tal_accounts(sql: &mut dyn Sql) -> Result<Vec<PlayAccount>> {
    let rows = sql.query(
        "SELECT a.id, a.domain, a.name, a.industry, a.country, COALESCE(a.owner, t.sales_owner),
                t.tier, c.name, s.stage, s.fit
         FROM tal_entries t
         JOIN accounts a ON a.id = t.account_id
         LEFT JOIN account_scores s ON s.account_id = t.account_id
         LEFT JOIN cluster_members m ON m.account_id = t.account_id
         LEFT JOIN clusters c ON c.id = m.cluster_id
         WHERE t.status = 'approved'
         ORDER BY a.domain",
        &[],
    )?;
    rows.iter().map(play_account).collect()
}

fn play_account(row: &Row) -> Result<PlayAccount> {
    Ok(PlayAccount {
        id: row.int(0)?,
        domain: row.text(1)?,
        name: row.opt_text(2)?,
        industry: row.opt_text(3)?,
        country: row.opt_text(4)?,
        owner: row.opt_text(5)?,
        tier: row.opt_text(6)?,
        cluster: row.opt_text(7)?,
        stage: row.opt_text(8)?,
        fit: row.opt_real(9)?,
    })
}

/// A contact as the guard and the templates need them.
#[derive(Debug, Clone, PartialEq)]
pub struct PlayPerson {
    pub contact_id: i64,
    pub account_id: i64,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub title: Option<String>,
    /// The buying role set by hand (`none` for none).
    pub role_override: Option<String>,
    pub opted_out: bool,
    pub lawful_basis: Option<String>,
    /// The contact's attributes (JSON): a `country` or `time_zone` from the CRM.
    pub attributes: String,
}

/// The contacts of one account.
pub fn people(sql: &mut dyn Sql, account_id: i64) -> Result<Vec<PlayPerson>> {
    let rows = sql.query(
        "SELECT c.id, c.account_id, c.email, c.first_name, c.last_name, c.title, r.role,
                c.opted_out, c.lawful_basis, CAST(c.attributes AS TEXT)
         FROM contacts c LEFT JOIN contact_roles r ON r.contact_id = c.id
         WHERE c.account_id = $1 ORDER BY c.id",
        &[account_id.into()],
    )?;
    rows.iter()
        .map(|row| {
            Ok(PlayPerson {
                contact_id: row.int(0)?,
                account_id: row.int(1)?,
                email: row.text(2)?,
                first_name: row.opt_text(3)?,
                last_name: row.opt_text(4)?,
                title: row.opt_text(5)?,
                role_override: row.opt_text(6)?,
                opted_out: row.bool(7)?,
                lawful_basis: row.opt_text(8)?,
                attributes: row.text(9)?,
            })
        })
        .collect()
}

/// A stored trigger event.
#[derive(Debug, Clone, PartialEq)]
pub struct TriggerEvent {
    pub account_id: i64,
    pub kind: String,
    pub at: i64,
    pub key: String,
    pub evidence: String,
}

/// Trigger events of `kind` that happened at or after `since`, oldest first.
pub fn triggers_since(sql: &mut dyn Sql, kind: &str, since: i64) -> Result<Vec<TriggerEvent>> {
    let rows = sql.query(
        "SELECT account_id, kind, at, dedupe_key, evidence FROM triggers
         WHERE kind = $1 AND at >= $2 ORDER BY at, id",
        &[kind.into(), since.into()],
    )?;
    rows.iter()
        .map(|row| {
            Ok(TriggerEvent {
                account_id: row.int(0)?,
                kind: row.text(1)?,
                at: row.int(2)?,
                key: row.text(3)?,
                evidence: row.text(4)?,
            })
        })
        .collect()
}
