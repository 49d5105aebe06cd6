//! The ranked accounts: filters (tier, stage, owner, cluster, qualified), search, sortable
//! columns, pages, and the same list as a CSV file (`/accounts.csv` with the same query).

use crate::AppState;
use crate::api::{AccountQuery, AccountRow};
use crate::auth::Caller;
use crate::problem::Problem;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::{SignedIn, escape, page, percent};

const STAGES: [&str; 8] = [
    "target",
    "aware",
    "engaged",
    "qualified",
    "opportunity",
    "customer",
    "lost",
    "re_engaged",
];

/// The largest CSV export, in rows: the whole list at the scale the product is built for.
const EXPORT_LIMIT: u64 = 1_000_000;

pub(super) async fn accounts(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Query(query): Query<AccountQuery>,
) -> Response {
    let listed =
        crate::api::list_accounts(State(state.clone()), caller.clone(), Query(query.clone())).await;
    let accounts = match listed {
        Ok(axum::Json(page)) => page,
        Err(problem) => return problem.into_response(),
    };
    let choices = state
        .with_store(|store| -> Result<(Vec<String>, Vec<String>), Problem> {
            let clusters = abm_store::team::clusters(store.sql())?
                .into_iter()
                .map(|cluster| cluster.name)
                .collect();
            Ok((clusters, abm_store::listing::owners(store.sql(), 500)?))
        })
        .await;
    let (clusters, owners) = match choices {
        Ok(Ok(choices)) => choices,
        Ok(Err(problem)) | Err(problem) => return problem.into_response(),
    };
    let rows: String = accounts.accounts.iter().map(row).collect();
    let more = accounts
        .next_cursor
        .map(|cursor| {
            let next = AccountQuery {
                cursor: Some(cursor),
                ..query.clone()
            };
            format!(
                r#"<p><a id="next-page" href="/accounts?{}">Next page</a></p>"#,
                escape(&query_string(&next))
            )
        })
        .unwrap_or_default();
    let export = AccountQuery {
        cursor: None,
        limit: None,
        ..query.clone()
    };
    let header_cell = |key: &str, label: &str| {
        let sorted = AccountQuery {
            sort: Some(key.to_owned()),
            cursor: None,
            ..query.clone()
        };
        let current = query.sort.as_deref().unwrap_or("priority") == key;
        format!(
            r#"<th{}><a href="/accounts?{}">{label}</a></th>"#,
            if current {
                r#" aria-sort="descending""#
            } else {
                ""
            },
            escape(&query_string(&sorted))
        )
    };
    let body = format!(
        r#"<h1>Accounts</h1>{filters}
<p><a id="export" href="/accounts.csv?{export}">Export these accounts as CSV</a></p>
<table id="accounts"><thead><tr>{domain}<th>name</th>{priority}{fit}{intent}{engagement}<th>stage</th><th>tier</th><th>cluster</th><th>owner</th></tr></thead><tbody>{rows}</tbody></table>{more}"#,
        filters = filter_form(&query, &caller, &clusters, &owners),
        export = escape(&query_string(&export)),
        domain = header_cell("domain", "domain"),
        priority = header_cell("priority", "priority"),
        fit = header_cell("fit", "fit"),
        intent = header_cell("intent", "intent"),
        engagement = header_cell("engagement", "engagement"),
    );
    page("Accounts", Some(&caller), &body).into_response()
}

fn row(row: &AccountRow) -> String {
    format!(
        r#"<tr><td><a href="/accounts/{d}">{d}</a></td><td>{}</td><td class=n>{:.0}</td><td class=n>{:.0}</td><td class=n>{:.0}</td><td class=n>{:.0}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
        escape(row.name.as_deref().unwrap_or("")),
        row.priority,
        row.fit,
        row.intent,
        row.engagement,
        escape(&row.stage),
        escape(row.tier.as_deref().unwrap_or("-")),
        escape(row.cluster.as_deref().unwrap_or("-")),
        escape(row.owner.as_deref().unwrap_or("-")),
        d = escape(&row.domain),
    )
}

/// The filter form, showing the filters in force.
fn filter_form(
    query: &AccountQuery,
    caller: &Caller,
    clusters: &[String],
    owners: &[String],
) -> String {
    let chosen = |value: &Option<String>, option: &str| {
        if value.as_deref() == Some(option) {
            " selected"
        } else {
            ""
        }
    };
    let options = |value: &Option<String>, items: &[(&str, &str)]| -> String {
        items
            .iter()
            .map(|(key, label)| {
                format!(
                    r#"<option value="{}"{}>{}</option>"#,
                    escape(key),
                    chosen(value, key),
                    escape(label)
                )
            })
            .collect()
    };
    let tiers = options(
        &query.tier,
        &[
            ("", "any tier"),
            ("1:1", "1:1"),
            ("1:few", "1:few"),
            ("1:many", "1:many"),
            ("none", "not on the TAL"),
        ],
    );
    let mut stage_items = vec![("", "any stage")];
    stage_items.extend(STAGES.iter().map(|stage| (*stage, *stage)));
    let stages = options(&query.stage, &stage_items);
    let qualified = options(
        &query.qualified,
        &[
            ("", "qualified or not"),
            ("true", "qualified"),
            ("false", "not qualified"),
        ],
    );
    let mut cluster_items = vec![("", "any cluster")];
    cluster_items.extend(clusters.iter().map(|name| (name.as_str(), name.as_str())));
    let clusters = options(&query.cluster, &cluster_items);
    let owner_list: String = std::iter::once("me")
        .chain(owners.iter().map(String::as_str))
        .map(|owner| format!(r#"<option value="{}">"#, escape(owner)))
        .collect();
    format!(
        r#"<form method="get" id="filters" class="filters"><input name="q" placeholder="domain or name" value="{q}" aria-label="search">
<select name="tier" aria-label="tier">{tiers}</select> <select name="stage" aria-label="stage">{stages}</select>
<select name="qualified" aria-label="qualified">{qualified}</select> <select name="cluster" aria-label="cluster">{clusters}</select>
<input name="owner" list="owners" placeholder="owner (me, an email or a name)" value="{owner}" aria-label="owner" title="{you}"><datalist id="owners">{owner_list}</datalist>
<input type="hidden" name="sort" value="{sort}"> <button>Filter</button> <a href="/accounts">clear</a></form>"#,
        q = escape(query.q.as_deref().unwrap_or("")),
        owner = escape(query.owner.as_deref().unwrap_or("")),
        you = escape(&format!("me: {}", caller.user.email)),
        sort = escape(query.sort.as_deref().unwrap_or("priority")),
    )
}

/// The query string that shows the same list (the fields that are set, in a stable order).
fn query_string(query: &AccountQuery) -> String {
    let limit = query.limit.map(|limit| limit.to_string());
    [
        ("q", &query.q),
        ("tier", &query.tier),
        ("stage", &query.stage),
        ("qualified", &query.qualified),
        ("cluster", &query.cluster),
        ("owner", &query.owner),
        ("sort", &query.sort),
        ("limit", &limit),
        ("cursor", &query.cursor),
    ]
    .iter()
    .filter_map(|(key, value)| {
        value
            .as_deref()
            .filter(|value| !value.is_empty())
            .map(|value| format!("{key}={}", percent(value)))
    })
    .collect::<Vec<_>>()
    .join("&")
}

/// `/accounts.csv`: every account the filters select, in the list's order, as CSV (for a
/// session or a token: scripts may call it).
pub(super) async fn export(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Query(query): Query<AccountQuery>,
) -> Response {
    let (filter, sort) = match crate::api::list_filter(&query, &caller) {
        Ok(parsed) => parsed,
        Err(problem) => return problem.into_response(),
    };
    let rows = state
        .with_store(move |store| {
            abm_store::listing::list_accounts(store.sql(), &filter, sort, None, Some(EXPORT_LIMIT))
        })
        .await;
    let rows = match rows {
        Ok(Ok(rows)) => rows,
        Ok(Err(error)) => return Problem::from(error).into_response(),
        Err(problem) => return problem.into_response(),
    };
    match csv_of(rows.into_iter().map(AccountRow::from)) {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    r#"attachment; filename="accounts.csv""#,
                ),
            ],
            body,
        )
            .into_response(),
        Err(problem) => problem.into_response(),
    }
}

fn csv_of(rows: impl Iterator<Item = AccountRow>) -> Result<Vec<u8>, Problem> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record([
            "domain",
            "name",
            "priority",
            "fit",
            "intent",
            "engagement",
            "stage",
            "tier",
            "cluster",
            "owner",
        ])
        .map_err(Problem::internal)?;
    for row in rows {
        writer
            .write_record([
                row.domain,
                row.name.map(|name| formula_safe(&name)).unwrap_or_default(),
                row.priority.to_string(),
                row.fit.to_string(),
                row.intent.to_string(),
                row.engagement.to_string(),
                row.stage,
                row.tier.unwrap_or_default(),
                row.cluster
                    .map(|cluster| formula_safe(&cluster))
                    .unwrap_or_default(),
                row.owner
                    .map(|owner| formula_safe(&owner))
                    .unwrap_or_default(),
            ])
            .map_err(Problem::internal)?;
    }
    writer.into_inner().map_err(Problem::internal)
}

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) gets a leading
/// quote: the export is opened in spreadsheets, and names come from imported files.
fn formula_safe(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_query_string_keeps_the_filters_in_force() {
        let query = crate::api::AccountQuery {
            tier: Some("1:few".into()),
            owner: Some("Ana Ruiz".into()),
            q: Some(String::new()),
            ..Default::default()
        };
        assert_eq!(super::query_string(&query), "tier=1%3Afew&owner=Ana%20Ruiz");
    }

    #[test]
    fn spreadsheet_formulas_are_defused() {
        assert_eq!(super::formula_safe("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(super::formula_safe("Ana"), "Ana");
    }
}
