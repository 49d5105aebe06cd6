//! Account: a company, identified by its registrable domain.

use super::keep_if_none;
use crate::value::{CrmId, Domain};
use std::collections::{BTreeMap, BTreeSet};

/// Columns of a source file that abm has no field for, kept by their header name.
pub type Attributes = BTreeMap<String, String>;

/// Whether the company already buys from us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountType {
    Prospect,
    Customer,
}

impl AccountType {
    /// Reads CRM type values: `Customer`, `Customer - Direct`, `Customer - Channel` are
    /// customers; `Prospect`, `Partner`, `Other` and anything else are prospects, since abm
    /// only needs to know who already buys.
    pub fn from_crm(value: &str) -> Self {
        if value.to_ascii_lowercase().contains("customer") {
            Self::Customer
        } else {
            Self::Prospect
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Prospect => "prospect",
            Self::Customer => "customer",
        }
    }
}

/// A company. Its identity is `domain`; `aliases` are other domains it owns (mail or
/// regional domains) that resolve to it too.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Account {
    pub crm_id: Option<CrmId>,
    pub domain: Domain,
    pub aliases: BTreeSet<Domain>,
    pub name: Option<String>,
    pub industry: Option<String>,
    pub employees: Option<u64>,
    pub revenue: Option<f64>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub technologies: BTreeSet<String>,
    pub account_type: Option<AccountType>,
    pub owner: Option<String>,
    /// The parent company, by CRM id or by domain, as the source gave it.
    pub parent_crm_id: Option<CrmId>,
    pub parent_domain: Option<Domain>,
    pub attributes: Attributes,
}

impl Account {
    pub fn new(domain: Domain) -> Self {
        Self {
            crm_id: None,
            domain,
            aliases: BTreeSet::new(),
            name: None,
            industry: None,
            employees: None,
            revenue: None,
            country: None,
            region: None,
            technologies: BTreeSet::new(),
            account_type: None,
            owner: None,
            parent_crm_id: None,
            parent_domain: None,
            attributes: Attributes::new(),
        }
    }

    /// Every domain that identifies this account: the primary one and its aliases.
    pub fn domains(&self) -> impl Iterator<Item = &Domain> {
        std::iter::once(&self.domain).chain(self.aliases.iter())
    }

    /// The account after `self` (incoming from a file) is laid over `stored`: incoming values
    /// win, empty incoming fields keep the stored value, aliases and attributes are merged.
    /// A changed primary domain keeps the old one as an alias, so history still resolves.
    pub fn merged_over(mut self, stored: &Account) -> Account {
        keep_if_none(&mut self.crm_id, &stored.crm_id);
        keep_if_none(&mut self.name, &stored.name);
        keep_if_none(&mut self.industry, &stored.industry);
        keep_if_none(&mut self.employees, &stored.employees);
        keep_if_none(&mut self.revenue, &stored.revenue);
        keep_if_none(&mut self.country, &stored.country);
        keep_if_none(&mut self.region, &stored.region);
        keep_if_none(&mut self.account_type, &stored.account_type);
        keep_if_none(&mut self.owner, &stored.owner);
        keep_if_none(&mut self.parent_crm_id, &stored.parent_crm_id);
        keep_if_none(&mut self.parent_domain, &stored.parent_domain);
        if self.technologies.is_empty() {
            self.technologies.clone_from(&stored.technologies);
        }
        self.aliases.extend(stored.aliases.iter().cloned());
        if stored.domain != self.domain {
            self.aliases.insert(stored.domain.clone());
        }
        self.aliases.remove(&self.domain);
        for (key, value) in &stored.attributes {
            self.attributes
                .entry(key.clone())
                .or_insert_with(|| value.clone());
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain(text: &str) -> Domain {
        Domain::parse(text).expect("test domain")
    }

    #[test]
    fn merge_keeps_what_the_file_does_not_say() {
        let mut stored = Account::new(domain("acme.com"));
        stored.name = Some("Acme".into());
        stored.technologies.insert("Salesforce".into());
        stored.attributes.insert("Tier__c".into(), "A".into());
        let mut incoming = Account::new(domain("acme.io"));
        incoming.employees = Some(1200);
        incoming
            .attributes
            .insert("Segment".into(), "Enterprise".into());
        let merged = incoming.merged_over(&stored);
        assert_eq!(merged.domain, domain("acme.io"));
        assert_eq!(
            merged
                .aliases
                .iter()
                .map(Domain::as_str)
                .collect::<Vec<_>>(),
            ["acme.com"]
        );
        assert_eq!(merged.name.as_deref(), Some("Acme"));
        assert_eq!(merged.employees, Some(1200));
        assert!(merged.technologies.contains("Salesforce"));
        assert_eq!(merged.attributes.len(), 2);
    }

    #[test]
    fn crm_types() {
        assert_eq!(
            AccountType::from_crm("Customer - Direct"),
            AccountType::Customer
        );
        assert_eq!(AccountType::from_crm("Partner"), AccountType::Prospect);
    }
}
