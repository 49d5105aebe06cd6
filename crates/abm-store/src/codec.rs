//! Conversions between domain values and the columns both backends store: JSON text for
//! lists and attribute maps, and re-parsing of stored text into validated newtypes (a row
//! that no longer parses is reported as corrupt, never trusted blindly).

use crate::{Result, StoreError};
use abm_core::{
    Account, AccountId, AccountType, Attributes, Consent, Contact, CrmId, Domain, Email,
    LawfulBasis, Lead, Opportunity,
};
use std::collections::BTreeSet;

pub(crate) fn encode_list(values: &BTreeSet<String>) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".to_owned())
}

pub(crate) fn encode_map(values: &Attributes) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "{}".to_owned())
}

fn decode_list(text: &str) -> Result<BTreeSet<String>> {
    serde_json::from_str(text)
        .map_err(|error| StoreError::Corrupt(format!("list {text:?}: {error}")))
}

fn decode_map(text: &str) -> Result<Attributes> {
    serde_json::from_str(text)
        .map_err(|error| StoreError::Corrupt(format!("attributes {text:?}: {error}")))
}

fn domain(text: &str) -> Result<Domain> {
    Domain::parse(text).map_err(|error| StoreError::Corrupt(format!("domain {text:?}: {error}")))
}

fn email(text: &str) -> Result<Email> {
    Email::parse(text).map_err(|error| StoreError::Corrupt(format!("email {text:?}: {error}")))
}

fn crm_id(text: Option<String>) -> Result<Option<CrmId>> {
    text.map(|text| {
        CrmId::parse(&text)
            .map_err(|error| StoreError::Corrupt(format!("CRM id {text:?}: {error}")))
    })
    .transpose()
}

fn lawful_basis(text: Option<String>) -> Result<Option<LawfulBasis>> {
    text.map(|text| {
        LawfulBasis::parse(&text)
            .map_err(|error| StoreError::Corrupt(format!("lawful basis {text:?}: {error}")))
    })
    .transpose()
}

pub(crate) fn date(text: &str) -> Result<jiff::civil::Date> {
    text.parse()
        .map_err(|error| StoreError::Corrupt(format!("date {text:?}: {error}")))
}

/// An account row as both backends read it.
pub(crate) struct AccountRow {
    pub id: i64,
    pub crm_id: Option<String>,
    pub domain: String,
    pub name: Option<String>,
    pub industry: Option<String>,
    pub employees: Option<i64>,
    pub revenue: Option<f64>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub technologies: String,
    pub account_type: Option<String>,
    pub owner: Option<String>,
    pub parent_crm_id: Option<String>,
    pub parent_domain: Option<String>,
    pub attributes: String,
}

pub(crate) const ACCOUNT_COLUMNS: &str = "id, crm_id, domain, name, industry, employees, revenue, country, region, technologies, account_type, owner, parent_crm_id, parent_domain, attributes";

impl AccountRow {
    pub(crate) fn into_account(self, aliases: Vec<String>) -> Result<(AccountId, Account)> {
        let mut account = Account::new(domain(&self.domain)?);
        account.crm_id = crm_id(self.crm_id)?;
        account.aliases = aliases
            .iter()
            .map(|alias| domain(alias))
            .collect::<Result<_>>()?;
        account.name = self.name;
        account.industry = self.industry;
        account.employees = self.employees.map(|count| count.max(0) as u64);
        account.revenue = self.revenue;
        account.country = self.country;
        account.region = self.region;
        account.technologies = decode_list(&self.technologies)?;
        account.account_type = self.account_type.as_deref().map(AccountType::from_crm);
        account.owner = self.owner;
        account.parent_crm_id = crm_id(self.parent_crm_id)?;
        account.parent_domain = self.parent_domain.as_deref().map(domain).transpose()?;
        account.attributes = decode_map(&self.attributes)?;
        Ok((AccountId(self.id), account))
    }
}

pub(crate) struct PersonRow {
    pub id: i64,
    pub crm_id: Option<String>,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub title: Option<String>,
    pub account_id: Option<i64>,
    pub opted_out: bool,
    pub lawful_basis: Option<String>,
    pub attributes: String,
    pub company: Option<String>,
    pub website: Option<String>,
}

pub(crate) const CONTACT_COLUMNS: &str = "id, crm_id, email, first_name, last_name, title, account_id, opted_out, lawful_basis, attributes, NULL, NULL";
pub(crate) const LEAD_COLUMNS: &str = "id, crm_id, email, first_name, last_name, title, account_id, opted_out, lawful_basis, attributes, company, website";

impl PersonRow {
    fn consent(&mut self) -> Result<Consent> {
        Ok(Consent {
            opted_out: self.opted_out,
            lawful_basis: lawful_basis(self.lawful_basis.take())?,
        })
    }

    pub(crate) fn into_contact(mut self) -> Result<Contact> {
        let consent = self.consent()?;
        Ok(Contact {
            crm_id: crm_id(self.crm_id)?,
            email: email(&self.email)?,
            first_name: self.first_name,
            last_name: self.last_name,
            title: self.title,
            account_id: AccountId(
                self.account_id
                    .ok_or_else(|| StoreError::Corrupt("contact without account".into()))?,
            ),
            consent,
            attributes: decode_map(&self.attributes)?,
        })
    }

    pub(crate) fn into_lead(mut self) -> Result<Lead> {
        let consent = self.consent()?;
        Ok(Lead {
            crm_id: crm_id(self.crm_id)?,
            email: email(&self.email)?,
            first_name: self.first_name,
            last_name: self.last_name,
            title: self.title,
            company: self.company,
            website: self.website.as_deref().map(domain).transpose()?,
            consent,
            attributes: decode_map(&self.attributes)?,
        })
    }
}

pub(crate) struct OpportunityRow {
    pub crm_id: String,
    pub account_crm_id: Option<String>,
    pub account_domain: Option<String>,
    pub name: Option<String>,
    pub amount: Option<f64>,
    pub stage: Option<String>,
    pub created_on: jiff::civil::Date,
    pub close_date: Option<jiff::civil::Date>,
    pub closed: bool,
    pub won: bool,
}

pub(crate) const OPPORTUNITY_COLUMNS: &str = "crm_id, account_crm_id, account_domain, name, amount, stage, created_on, close_date, closed, won";

impl OpportunityRow {
    pub(crate) fn into_opportunity(self) -> Result<Opportunity> {
        Ok(Opportunity {
            crm_id: crm_id(Some(self.crm_id))?
                .ok_or_else(|| StoreError::Corrupt("opportunity without id".into()))?,
            account_crm_id: crm_id(self.account_crm_id)?,
            account_domain: self.account_domain.as_deref().map(domain).transpose()?,
            name: self.name,
            amount: self.amount,
            stage: self.stage,
            created_on: self.created_on,
            close_date: self.close_date,
            closed: self.closed,
            won: self.won,
        })
    }
}

/// The re-resolution statements, identical on both backends (UPDATE … FROM is supported by
/// SQLite ≥ 3.33 and PostgreSQL). Order matters: leads first so promoted contacts can match
/// activities, contacts before domains so a known person wins over a domain.
pub(crate) const REMATCH_LEADS: &[&str] = &[
    "UPDATE leads SET account_id = c.account_id FROM contacts c WHERE leads.account_id IS NULL AND c.email = leads.email",
    "UPDATE leads SET account_id = d.account_id FROM account_domains d WHERE leads.account_id IS NULL AND d.domain = leads.account_key",
];
pub(crate) const PROMOTE_LEADS: &[&str] = &[
    "INSERT INTO contacts (crm_id, email, first_name, last_name, title, account_id, opted_out, lawful_basis, attributes) \
     SELECT crm_id, email, first_name, last_name, title, account_id, opted_out, lawful_basis, attributes FROM leads \
     WHERE origin = 'contact' AND account_id IS NOT NULL ON CONFLICT DO NOTHING",
    "DELETE FROM leads WHERE origin = 'contact' AND account_id IS NOT NULL",
];
pub(crate) const REMATCH_OTHERS: &[&str] = &[
    "UPDATE activities SET contact_id = c.id, account_id = c.account_id FROM contacts c \
     WHERE activities.contact_id IS NULL AND activities.email IS NOT NULL AND activities.email = c.email",
    "UPDATE activities SET account_id = d.account_id FROM account_domains d \
     WHERE activities.account_id IS NULL AND activities.account_key = d.domain",
    "UPDATE intent_signals SET account_id = d.account_id FROM account_domains d \
     WHERE intent_signals.account_id IS NULL AND intent_signals.domain = d.domain",
    "UPDATE opportunities SET account_id = a.id FROM accounts a \
     WHERE opportunities.account_id IS NULL AND opportunities.account_crm_id = a.crm_id",
    "UPDATE opportunities SET account_id = d.account_id FROM account_domains d \
     WHERE opportunities.account_id IS NULL AND opportunities.account_domain = d.domain",
];
pub(crate) const LINK_PARENTS: &str = "UPDATE accounts SET parent_id = COALESCE(\
     (SELECT p.id FROM accounts p WHERE p.crm_id = accounts.parent_crm_id AND p.id <> accounts.id), \
     (SELECT d.account_id FROM account_domains d WHERE d.domain = accounts.parent_domain AND d.account_id <> accounts.id)) \
     WHERE parent_crm_id IS NOT NULL OR parent_domain IS NOT NULL";

/// Counts of unmatched rows, before and after a rematch, give what it matched.
pub(crate) const UNMATCHED_COUNTS: &str = "SELECT \
     (SELECT COUNT(*) FROM leads WHERE account_id IS NULL), \
     (SELECT COUNT(*) FROM leads WHERE origin = 'contact'), \
     (SELECT COUNT(*) FROM activities WHERE account_id IS NULL), \
     (SELECT COUNT(*) FROM intent_signals WHERE account_id IS NULL), \
     (SELECT COUNT(*) FROM opportunities WHERE account_id IS NULL)";

pub(crate) const COUNTS: &str = "SELECT \
     (SELECT COUNT(*) FROM accounts), (SELECT COUNT(*) FROM contacts), \
     (SELECT COUNT(*) FROM leads), (SELECT COUNT(*) FROM leads WHERE account_id IS NOT NULL), \
     (SELECT COUNT(*) FROM activities), (SELECT COUNT(*) FROM activities WHERE account_id IS NULL), \
     (SELECT COUNT(*) FROM intent_signals), (SELECT COUNT(*) FROM intent_signals WHERE account_id IS NULL), \
     (SELECT COUNT(*) FROM opportunities), (SELECT COUNT(*) FROM opportunities WHERE account_id IS NULL)";

pub(crate) const TOP_UNMATCHED: &str = "SELECT domain, COUNT(*) AS records FROM (\
     SELECT account_key AS domain FROM leads WHERE account_id IS NULL AND account_key IS NOT NULL \
     UNION ALL SELECT account_key FROM activities WHERE account_id IS NULL AND account_key IS NOT NULL \
     UNION ALL SELECT domain FROM intent_signals WHERE account_id IS NULL) AS unmatched \
     GROUP BY domain ORDER BY records DESC, domain LIMIT $1";

pub(crate) fn rematched(before: [i64; 5], after: [i64; 5]) -> crate::Rematched {
    let gone = |index: usize| (before[index] - after[index]).max(0) as u64;
    crate::Rematched {
        leads: gone(0),
        leads_promoted_to_contacts: gone(1),
        activities: gone(2),
        intent_signals: gone(3),
        opportunities: gone(4),
    }
}

pub(crate) fn counts(values: [i64; 10]) -> crate::Counts {
    let value = |index: usize| values[index].max(0) as u64;
    crate::Counts {
        accounts: value(0),
        contacts: value(1),
        leads: value(2),
        matched_leads: value(3),
        activities: value(4),
        unmatched_activities: value(5),
        intent_signals: value(6),
        unmatched_intent_signals: value(7),
        opportunities: value(8),
        unmatched_opportunities: value(9),
    }
}
