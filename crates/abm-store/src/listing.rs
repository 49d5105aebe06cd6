//! The ranked list of scored accounts, filtered, sorted and paged by the database: the
//! accounts page, its CSV export, the API's list and a rep's day read it, and none of them
//! loads every account to show fifty.
//!
//! The query is assembled from fixed fragments chosen by the filter's shape; every value a
//! user gave is a bound parameter. Rows come in a total order (the sort value, then the
//! domain), so a cursor — the last row's value and domain — resumes exactly where a page ended.

use crate::Result;
use crate::sql::{Sql, Value};

/// The order of the list: one of the scores, highest first, or the domain, A to Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListSort {
    #[default]
    Priority,
    Fit,
    Intent,
    Engagement,
    Domain,
}

impl ListSort {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "priority" => Self::Priority,
            "fit" => Self::Fit,
            "intent" => Self::Intent,
            "engagement" => Self::Engagement,
            "domain" => Self::Domain,
            _ => return None,
        })
    }

    fn column(self) -> &'static str {
        match self {
            Self::Priority => "s.priority",
            Self::Fit => "s.fit",
            Self::Intent => "s.intent",
            Self::Engagement => "s.engagement",
            Self::Domain => "a.domain",
        }
    }
}

/// Which TAL tier to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TierFilter {
    /// Approved on the TAL in this tier (`1:1`, `1:few`, `1:many`).
    In(String),
    /// Not an approved, tiered TAL account.
    None,
}

/// The filters of the list; each one that is set narrows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListFilter {
    pub tier: Option<TierFilter>,
    /// A journey stage's key.
    pub stage: Option<String>,
    /// Qualified accounts: at the qualified stage or past it into an open opportunity
    /// (`Some(true)`), or all the others (`Some(false)`).
    pub qualified: Option<bool>,
    /// Names an owner goes by (an email, a name), compared without case against the CRM
    /// owner and the TAL's sales and marketing owners.
    pub owner: Vec<String>,
    /// A cluster's name.
    pub cluster: Option<String>,
    /// Part of the domain or the name, without case.
    pub search: Option<String>,
}

/// Where the previous page ended.
#[derive(Debug, Clone, PartialEq)]
pub struct ListCursor {
    /// The last row's sort value (ignored when sorting by domain).
    pub value: f64,
    pub domain: String,
}

/// One row of the list.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ListedAccount {
    pub id: i64,
    pub domain: String,
    pub name: Option<String>,
    pub owner: Option<String>,
    pub priority: f64,
    pub fit: f64,
    pub intent: f64,
    pub engagement: f64,
    pub stage: String,
    pub tier: Option<String>,
    pub cluster: Option<String>,
}

impl ListedAccount {
    /// This row's value under `sort` (0 for the domain order).
    pub fn sort_value(&self, sort: ListSort) -> f64 {
        match sort {
            ListSort::Priority => self.priority,
            ListSort::Fit => self.fit,
            ListSort::Intent => self.intent,
            ListSort::Engagement => self.engagement,
            ListSort::Domain => 0.0,
        }
    }
}

/// The stages a qualified account is at.
const QUALIFIED_STAGES: &str = "('qualified', 'opportunity')";

/// Up to `limit` rows (all when `None`) after `cursor`, in the order of `sort`.
pub fn list_accounts(
    sql: &mut dyn Sql,
    filter: &ListFilter,
    sort: ListSort,
    cursor: Option<&ListCursor>,
    limit: Option<u64>,
) -> Result<Vec<ListedAccount>> {
    let mut conditions: Vec<String> = Vec::new();
    let mut params: Vec<Value> = Vec::new();
    let bind = |params: &mut Vec<Value>, value: Value| -> String {
        params.push(value);
        format!("${}", params.len())
    };
    match &filter.tier {
        Some(TierFilter::In(tier)) => {
            let p = bind(&mut params, tier.as_str().into());
            conditions.push(format!("t.status = 'approved' AND t.tier = {p}"));
        }
        Some(TierFilter::None) => conditions
            .push("(t.account_id IS NULL OR t.status <> 'approved' OR t.tier IS NULL)".to_owned()),
        None => {}
    }
    if let Some(stage) = &filter.stage {
        let p = bind(&mut params, stage.as_str().into());
        conditions.push(format!("s.stage = {p}"));
    }
    match filter.qualified {
        Some(true) => conditions.push(format!("s.stage IN {QUALIFIED_STAGES}")),
        Some(false) => conditions.push(format!("s.stage NOT IN {QUALIFIED_STAGES}")),
        None => {}
    }
    if !filter.owner.is_empty() {
        let names: Vec<String> = filter
            .owner
            .iter()
            .map(|name| bind(&mut params, name.trim().to_lowercase().into()))
            .collect();
        let names = names.join(", ");
        conditions.push(format!(
            "(lower(trim(a.owner)) IN ({names}) OR lower(trim(t.sales_owner)) IN ({names}) OR lower(trim(t.marketing_owner)) IN ({names}))"
        ));
    }
    if let Some(cluster) = &filter.cluster {
        let p = bind(&mut params, cluster.as_str().into());
        conditions.push(format!("c.name = {p}"));
    }
    if let Some(search) = filter.search.as_deref().filter(|s| !s.is_empty()) {
        let p = bind(&mut params, like_pattern(&search.to_lowercase()).into());
        conditions.push(format!(
            "(a.domain LIKE {p} ESCAPE '\\' OR lower(a.name) LIKE {p} ESCAPE '\\')"
        ));
    }
    let column = sort.column();
    if let Some(cursor) = cursor {
        let d = bind(&mut params, cursor.domain.as_str().into());
        if sort == ListSort::Domain {
            conditions.push(format!("a.domain > {d}"));
        } else {
            let v = bind(&mut params, cursor.value.into());
            conditions.push(format!(
                "({column} < {v} OR ({column} = {v} AND a.domain > {d}))"
            ));
        }
    }
    let order = if sort == ListSort::Domain {
        "a.domain".to_owned()
    } else {
        format!("{column} DESC, a.domain")
    };
    let mut query = String::from(
        "SELECT a.id, a.domain, a.name, a.owner, s.priority, s.fit, s.intent, s.engagement, s.stage,
                CASE WHEN t.status = 'approved' THEN t.tier END, c.name
         FROM account_scores s
         JOIN accounts a ON a.id = s.account_id
         LEFT JOIN tal_entries t ON t.account_id = s.account_id
         LEFT JOIN cluster_members m ON m.account_id = s.account_id
         LEFT JOIN clusters c ON c.id = m.cluster_id",
    );
    if !conditions.is_empty() {
        query.push_str(" WHERE ");
        query.push_str(&conditions.join(" AND "));
    }
    query.push_str(" ORDER BY ");
    query.push_str(&order);
    if let Some(limit) = limit {
        let p = bind(&mut params, (limit.min(i64::MAX as u64) as i64).into());
        query.push_str(&format!(" LIMIT {p}"));
    }
    sql.query(&query, &params)?
        .iter()
        .map(|row| {
            Ok(ListedAccount {
                id: row.int(0)?,
                domain: row.text(1)?,
                name: row.opt_text(2)?,
                owner: row.opt_text(3)?,
                priority: row.opt_real(4)?.unwrap_or(0.0),
                fit: row.opt_real(5)?.unwrap_or(0.0),
                intent: row.opt_real(6)?.unwrap_or(0.0),
                engagement: row.opt_real(7)?.unwrap_or(0.0),
                stage: row.text(8)?,
                tier: row.opt_text(9)?,
                cluster: row.opt_text(10)?,
            })
        })
        .collect()
}

/// The owners the list can be filtered by: CRM owners and TAL owners, each once.
pub fn owners(sql: &mut dyn Sql, limit: u32) -> Result<Vec<String>> {
    sql.query(
        "SELECT owner FROM (
             SELECT owner FROM accounts WHERE owner IS NOT NULL
             UNION SELECT sales_owner FROM tal_entries WHERE sales_owner IS NOT NULL
             UNION SELECT marketing_owner FROM tal_entries WHERE marketing_owner IS NOT NULL
         ) o ORDER BY owner LIMIT $1",
        &[i64::from(limit).into()],
    )?
    .iter()
    .map(|row| row.text(0))
    .collect()
}

/// `%text%` for LIKE, with LIKE's own wildcards in `text` taken literally.
fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_wildcards_are_literal() {
        assert_eq!(super::like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
