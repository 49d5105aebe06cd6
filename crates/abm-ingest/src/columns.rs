//! Header recognition: which column of a file holds which abm field. Each field has the names
//! the formats people export use for it (Salesforce API names, HubSpot labels, Bombora
//! Company Surge headers, abm's generic names); a header is matched after lowercasing and
//! dropping everything but letters and digits, so `Company Domain Name`, `company_domain_name`
//! and `CompanyDomainName` are the same. `--map SOURCE=FIELD` overrides or adds a mapping.

use crate::{Format, ImportKind};
use std::collections::HashMap;

/// One field abm knows for a kind of record, and the header names that mean it, in order of
/// preference when a file has several (HubSpot exports both `Company Domain Name` and
/// `Website URL`: the first wins, the other is kept as an attribute).
pub(crate) struct FieldSpec {
    pub name: &'static str,
    pub required: bool,
    pub aliases: &'static [&'static str],
}

const fn field(name: &'static str, required: bool, aliases: &'static [&'static str]) -> FieldSpec {
    FieldSpec {
        name,
        required,
        aliases,
    }
}

const ACCOUNTS: &[FieldSpec] = &[
    field(
        "crm_id",
        false,
        &["crmid", "id", "accountid", "recordid", "companyid"],
    ),
    field(
        "domain",
        true,
        &[
            "domain",
            "companydomainname",
            "website",
            "websiteurl",
            "accountwebsite",
            "companywebsite",
            "url",
            "web",
        ],
    ),
    field(
        "name",
        false,
        &["name", "accountname", "companyname", "company"],
    ),
    field("industry", false, &["industry"]),
    field(
        "employees",
        false,
        &[
            "employees",
            "numberofemployees",
            "employeecount",
            "headcount",
        ],
    ),
    field("revenue", false, &["revenue", "annualrevenue"]),
    field(
        "country",
        false,
        &["country", "billingcountry", "countryregion", "hqcountry"],
    ),
    field("region", false, &["region", "salesregion", "territory"]),
    field(
        "technologies",
        false,
        &[
            "technologies",
            "technologiesc",
            "techstack",
            "technologystack",
            "technologiesused",
        ],
    ),
    field("type", false, &["type", "accounttype", "companytype"]),
    field(
        "owner",
        false,
        &[
            "owner",
            "ownername",
            "accountowner",
            "companyowner",
            "ownerid",
        ],
    ),
    field(
        "parent_crm_id",
        false,
        &[
            "parentcrmid",
            "parentid",
            "parentaccountid",
            "parentcompanyid",
        ],
    ),
    field("parent_domain", false, &["parentdomain"]),
    field(
        "aliases",
        false,
        &["aliases", "domains", "additionaldomains", "otherdomains"],
    ),
];

const CONTACTS: &[FieldSpec] = &[
    field("crm_id", false, &["crmid", "id", "contactid", "recordid"]),
    field("email", true, &["email", "emailaddress"]),
    field("first_name", false, &["firstname"]),
    field("last_name", false, &["lastname"]),
    field("title", false, &["title", "jobtitle"]),
    field(
        "account_crm_id",
        false,
        &[
            "accountcrmid",
            "accountid",
            "associatedcompanyid",
            "companyid",
            "associatedcompanyidprimary",
        ],
    ),
    field(
        "account_domain",
        false,
        &[
            "accountdomain",
            "companydomain",
            "companydomainname",
            "website",
            "websiteurl",
            "domain",
        ],
    ),
    field(
        "opted_out",
        false,
        &[
            "optedout",
            "hasoptedoutofemail",
            "unsubscribedfromallemail",
            "emailoptout",
            "donotemail",
            "unsubscribed",
        ],
    ),
    field(
        "lawful_basis",
        false,
        &[
            "lawfulbasis",
            "lawfulbasisc",
            "legalbasisforprocessingcontactsdata",
            "legalbasis",
        ],
    ),
];

const LEADS: &[FieldSpec] = &[
    field(
        "crm_id",
        false,
        &["crmid", "id", "leadid", "recordid", "contactid"],
    ),
    field("email", true, &["email", "emailaddress"]),
    field("first_name", false, &["firstname"]),
    field("last_name", false, &["lastname"]),
    field("title", false, &["title", "jobtitle"]),
    field(
        "company",
        false,
        &["company", "companyname", "associatedcompany", "accountname"],
    ),
    field(
        "website",
        false,
        &[
            "website",
            "websiteurl",
            "companywebsite",
            "companydomainname",
            "domain",
        ],
    ),
    field(
        "opted_out",
        false,
        &[
            "optedout",
            "hasoptedoutofemail",
            "unsubscribedfromallemail",
            "emailoptout",
            "donotemail",
            "unsubscribed",
        ],
    ),
    field(
        "lawful_basis",
        false,
        &[
            "lawfulbasis",
            "lawfulbasisc",
            "legalbasisforprocessingcontactsdata",
            "legalbasis",
        ],
    ),
];

const OPPORTUNITIES: &[FieldSpec] = &[
    field(
        "crm_id",
        true,
        &["crmid", "id", "opportunityid", "dealid", "recordid"],
    ),
    field(
        "account_crm_id",
        false,
        &[
            "accountcrmid",
            "accountid",
            "associatedcompanyid",
            "companyid",
        ],
    ),
    field(
        "account_domain",
        false,
        &[
            "accountdomain",
            "companydomain",
            "companydomainname",
            "domain",
            "website",
        ],
    ),
    field("name", false, &["name", "opportunityname", "dealname"]),
    field("amount", false, &["amount", "dealamount"]),
    field("stage", false, &["stage", "stagename", "dealstage"]),
    field(
        "created_on",
        true,
        &["createdon", "createddate", "createdate", "created"],
    ),
    field("close_date", false, &["closedate", "closedon"]),
    field("closed", false, &["closed", "isclosed"]),
    field("won", false, &["won", "iswon"]),
];

const INTENT: &[FieldSpec] = &[
    field(
        "domain",
        true,
        &["domain", "companydomain", "website", "companywebsite"],
    ),
    field("topic", true, &["topic", "topicname"]),
    field(
        "date",
        true,
        &["date", "weekof", "weekstartdate", "weekstarting"],
    ),
    field("score", true, &["score", "compositescore", "intentscore"]),
    field("source", false, &["source", "provider"]),
    field("company_name", false, &["companyname", "company", "name"]),
];

const ACTIVITIES: &[FieldSpec] = &[
    field("id", true, &["id", "activityid", "eventid", "messageid"]),
    field(
        "occurred_at",
        true,
        &["occurredat", "timestamp", "time", "activitydate", "date"],
    ),
    field(
        "type",
        true,
        &["type", "activitytype", "kind", "event", "eventtype"],
    ),
    field("email", false, &["email", "emailaddress", "contactemail"]),
    field(
        "domain",
        false,
        &["domain", "companydomain", "accountdomain", "website"],
    ),
    field("url", false, &["url", "pageurl", "link"]),
    field("topic", false, &["topic"]),
    field("campaign", false, &["campaign", "campaignname"]),
    field("channel", false, &["channel", "source", "medium"]),
];

pub(crate) fn fields(kind: ImportKind) -> &'static [FieldSpec] {
    match kind {
        ImportKind::Accounts => ACCOUNTS,
        ImportKind::Contacts => CONTACTS,
        ImportKind::Leads => LEADS,
        ImportKind::Opportunities => OPPORTUNITIES,
        ImportKind::Intent => INTENT,
        ImportKind::Activities => ACTIVITIES,
    }
}

/// The comparison key of a header: lowercase letters and digits only.
pub(crate) fn normalise(header: &str) -> String {
    header
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// A column mapping override from `--map SOURCE=FIELD` (`FIELD` may be `ignore`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnOverride {
    pub source: String,
    pub field: String,
}

impl ColumnOverride {
    pub fn parse(text: &str) -> Result<Self, String> {
        let Some((source, field)) = text.split_once('=') else {
            return Err(format!(
                "--map {text:?}: expected SOURCE=FIELD, e.g. --map \"Tech Stack=technologies\""
            ));
        };
        let (source, field) = (source.trim(), field.trim());
        if source.is_empty() || field.is_empty() {
            return Err(format!("--map {text:?}: both SOURCE and FIELD are needed"));
        }
        Ok(Self {
            source: source.to_owned(),
            field: field.to_owned(),
        })
    }
}

/// Where each field is in one file, and which columns are kept as attributes.
#[derive(Debug, Clone)]
pub(crate) struct ColumnMap {
    /// (field, index) of the fields the file has. Looked up for every field of every row: a
    /// dozen short names are found faster by comparing them in a list (length first) than by
    /// hashing (hashing and probing took a tenth of a parsing thread's instructions).
    positions: Vec<(&'static str, usize)>,
    /// (index, header) of columns abm has no field for.
    pub extra: Vec<(usize, String)>,
    pub headers: Vec<String>,
}

impl ColumnMap {
    pub fn get(&self, field: &str) -> Option<usize> {
        self.positions
            .iter()
            .find(|(name, _)| *name == field)
            .map(|&(_, index)| index)
    }

    pub fn header(&self, index: usize) -> &str {
        self.headers.get(index).map_or("?", String::as_str)
    }

    /// The mapping as `header → field` pairs, for the summary.
    pub fn describe(&self) -> Vec<(String, String)> {
        let mut pairs: Vec<_> = self
            .positions
            .iter()
            .map(|(field, index)| (self.header(*index).to_owned(), (*field).to_owned()))
            .collect();
        pairs.sort_by_key(|(_, field)| field.clone());
        pairs
    }
}

/// Why a header row cannot be used. Each is a complete sentence for the user.
pub(crate) fn map_columns(
    kind: ImportKind,
    headers: &[String],
    overrides: &[ColumnOverride],
) -> Result<ColumnMap, Vec<String>> {
    let specs = fields(kind);
    let mut problems = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (index, header) in headers.iter().enumerate() {
        if header.trim().is_empty() {
            continue;
        }
        if let Some(first) = seen.insert(header.trim(), index) {
            problems.push(format!(
                "duplicate column {:?} (columns {} and {})",
                header.trim(),
                first + 1,
                index + 1
            ));
        }
    }
    let normalised: Vec<String> = headers.iter().map(|header| normalise(header)).collect();
    let mut positions: HashMap<&'static str, usize> = HashMap::new();
    let mut taken = vec![false; headers.len()];
    for entry in overrides {
        let Some(index) = normalised
            .iter()
            .position(|header| *header == normalise(&entry.source))
        else {
            problems.push(format!(
                "--map {}={}: there is no column {:?} in this file",
                entry.source, entry.field, entry.source
            ));
            continue;
        };
        taken[index] = true;
        if entry.field.eq_ignore_ascii_case("ignore") {
            continue;
        }
        match specs.iter().find(|spec| spec.name == entry.field) {
            Some(spec) => {
                positions.insert(spec.name, index);
            }
            None => problems.push(format!(
                "--map {}={}: {} has no field {:?}; fields are: {}, or ignore",
                entry.source,
                entry.field,
                kind.as_str(),
                entry.field,
                specs
                    .iter()
                    .map(|spec| spec.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
    for spec in specs {
        if positions.contains_key(spec.name) {
            continue;
        }
        let found = spec.aliases.iter().find_map(|alias| {
            normalised
                .iter()
                .enumerate()
                .position(|(index, header)| !taken[index] && header == alias)
        });
        if let Some(index) = found {
            taken[index] = true;
            positions.insert(spec.name, index);
        }
    }
    for spec in specs
        .iter()
        .filter(|spec| spec.required && !positions.contains_key(spec.name))
    {
        let shown: Vec<&str> = headers
            .iter()
            .map(|header| header.as_str())
            .take(30)
            .collect();
        problems.push(format!(
            "missing required column {:?} for {} (a header such as {}); the file's columns are: {}; map one with --map SOURCE={}",
            spec.name,
            kind.as_str(),
            spec.aliases.iter().take(4).map(|alias| format!("{alias:?}")).collect::<Vec<_>>().join(", "),
            if shown.is_empty() { "(none)".to_owned() } else { shown.join(", ") },
            spec.name
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let extra = headers
        .iter()
        .enumerate()
        .filter(|(index, header)| !taken[*index] && !header.trim().is_empty())
        .map(|(index, header)| (index, header.trim().to_owned()))
        .collect();
    Ok(ColumnMap {
        // In the kind's field order, so the same file always maps the same way.
        positions: specs
            .iter()
            .filter_map(|spec| Some((spec.name, *positions.get(spec.name)?)))
            .collect(),
        extra,
        headers: headers.to_vec(),
    })
}

/// Guesses which tool exported a file from its headers.
pub(crate) fn detect_format(kind: ImportKind, headers: &[String]) -> Format {
    let names: Vec<String> = headers.iter().map(|header| normalise(header)).collect();
    let has = |name: &str| names.iter().any(|header| header == name);
    if has("compositescore") || (kind == ImportKind::Intent && has("topicname")) {
        return Format::Bombora;
    }
    // Salesforce writes API names (CamelCase, custom fields ending in __c); HubSpot writes
    // labels with spaces, so `Annual Revenue` is HubSpot and `AnnualRevenue` Salesforce.
    let salesforce = headers.iter().any(|header| {
        let header = header.trim();
        header.ends_with("__c")
            || [
                "Id",
                "NumberOfEmployees",
                "HasOptedOutOfEmail",
                "StageName",
                "IsWon",
                "IsClosed",
                "BillingCountry",
                "AnnualRevenue",
                "AccountId",
            ]
            .contains(&header)
    });
    if salesforce {
        return Format::Salesforce;
    }
    if [
        "recordid",
        "companydomainname",
        "associatedcompany",
        "countryregion",
        "jobtitle",
        "lifecyclestage",
        "dealstage",
    ]
    .iter()
    .any(|name| has(name))
    {
        return Format::Hubspot;
    }
    Format::Generic
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(line: &str) -> Vec<String> {
        line.split(',').map(str::to_owned).collect()
    }

    #[test]
    fn salesforce_hubspot_bombora_generic_headers_map() {
        let sf = headers(
            "Id,Name,Website,Industry,NumberOfEmployees,AnnualRevenue,BillingCountry,Type,Technologies__c,Segment__c",
        );
        let map = map_columns(ImportKind::Accounts, &sf, &[]).expect("maps");
        assert_eq!(map.get("crm_id"), Some(0));
        assert_eq!(map.get("domain"), Some(2));
        assert_eq!(map.get("technologies"), Some(8));
        assert_eq!(map.extra, vec![(9, "Segment__c".to_owned())]);
        assert_eq!(detect_format(ImportKind::Accounts, &sf), Format::Salesforce);

        let hubspot = headers(
            "Record ID,Company name,Company Domain Name,Website URL,Number of Employees,Annual Revenue,Industry,Country/Region",
        );
        let map = map_columns(ImportKind::Accounts, &hubspot, &[]).expect("maps");
        assert_eq!(
            map.get("domain"),
            Some(2),
            "Company Domain Name wins over Website URL"
        );
        assert_eq!(map.get("country"), Some(7));
        assert_eq!(map.extra, vec![(3, "Website URL".to_owned())]);
        assert_eq!(
            detect_format(ImportKind::Accounts, &hubspot),
            Format::Hubspot
        );

        let bombora = headers("Company Name,Domain,Topic Name,Composite Score,Date,Metro Area");
        let map = map_columns(ImportKind::Intent, &bombora, &[]).expect("maps");
        assert_eq!((map.get("topic"), map.get("score")), (Some(2), Some(3)));
        assert_eq!(detect_format(ImportKind::Intent, &bombora), Format::Bombora);

        let generic = headers("id,occurred_at,type,email,domain,url,topic,campaign,channel");
        assert!(map_columns(ImportKind::Activities, &generic, &[]).is_ok());
        assert_eq!(
            detect_format(ImportKind::Activities, &generic),
            Format::Generic
        );
    }

    #[test]
    fn overrides_missing_and_duplicate_columns() {
        let file = headers("Company,Tech Stack Used,Web");
        let map = map_columns(
            ImportKind::Accounts,
            &file,
            &[ColumnOverride::parse("Tech Stack Used=technologies").expect("parses")],
        )
        .expect("maps");
        assert_eq!(map.get("technologies"), Some(1));
        assert_eq!(map.get("domain"), Some(2));

        let problems = map_columns(ImportKind::Accounts, &headers("Name,Industry"), &[])
            .expect_err("no domain");
        assert!(
            problems[0].starts_with("missing required column \"domain\""),
            "{problems:?}"
        );

        let problems = map_columns(ImportKind::Accounts, &headers("Website,Name,Website"), &[])
            .expect_err("duplicate");
        assert_eq!(
            problems,
            vec!["duplicate column \"Website\" (columns 1 and 3)".to_owned()]
        );

        let problems = map_columns(
            ImportKind::Accounts,
            &headers("Website"),
            &[ColumnOverride::parse("Nope=name").expect("parses")],
        )
        .expect_err("bad map");
        assert!(
            problems[0].contains("there is no column \"Nope\""),
            "{problems:?}"
        );
        assert!(ColumnOverride::parse("novalue").is_err());
    }
}
