//! Identity resolution: which account (and which contact) a person, an activity or a signal
//! belongs to. Pure: the caller hands in an [`IdentityIndex`] built from the store.
//!
//! The rules, in order:
//! 1. an email that is a known contact's → that contact and its account;
//! 2. otherwise the email's registrable domain → the account with that primary domain or alias;
//! 3. otherwise a domain or website given with the record → the account with that domain;
//! 4. otherwise unresolved: the record is kept (as a lead or an unmatched activity) with its
//!    resolution key, and matched when the account or contact appears later.
//!
//! Free-mail and disposable domains (gmail.com, outlook.com, mailinator.com, …) never create
//! nor match an account: thousands of unrelated people share them.

use crate::entity::{AccountId, ContactId};
use crate::value::{CrmId, Domain, Email};
use std::collections::{HashMap, HashSet};

mod free_mail;

/// The set of domains that identify no company.
#[derive(Debug, Clone)]
pub struct FreeMailDomains {
    domains: HashSet<String, Fast>,
}

impl Default for FreeMailDomains {
    fn default() -> Self {
        Self::with_extra(std::iter::empty())
    }
}

impl FreeMailDomains {
    /// The maintained list plus the team's own additions. Resolution compares registrable
    /// domains, so an addition counts by its registrable domain (`mail.isp.example` → `isp.example`).
    pub fn with_extra(extra: impl IntoIterator<Item = Domain>) -> Self {
        let mut domains: HashSet<String, Fast> = free_mail::DOMAINS
            .iter()
            .map(|domain| (*domain).to_owned())
            .collect();
        domains.extend(extra.into_iter().map(|domain| domain.as_str().to_owned()));
        Self { domains }
    }

    pub fn contains(&self, domain: &Domain) -> bool {
        self.domains.contains(domain.as_str())
    }
}

/// How a record found its account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    Contact,
    EmailDomain,
    Domain,
    CrmId,
}

/// The outcome of resolving one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Resolution {
    pub account: Option<AccountId>,
    pub contact: Option<ContactId>,
    pub matched_by: Option<MatchedBy>,
}

impl Resolution {
    pub fn is_matched(&self) -> bool {
        self.account.is_some()
    }
}

/// A fast, deterministic hasher: the index is probed a few times for every imported row, and
/// its keys come from the team's own data, not from an adversary.
type Fast = foldhash::fast::FixedState;

/// What the store knows about identities: domains and aliases of accounts, contacts by email,
/// accounts by CRM id.
#[derive(Debug, Clone, Default)]
pub struct IdentityIndex {
    accounts_by_domain: HashMap<Domain, AccountId, Fast>,
    /// Keyed by the address alone (not the whole `Email`): half the entry size, so the
    /// table an import probes for nearly every row stays twice as dense in the cache.
    contacts_by_email: HashMap<Box<str>, (ContactId, AccountId), Fast>,
    accounts_by_crm_id: HashMap<CrmId, AccountId, Fast>,
}

impl IdentityIndex {
    pub fn add_account_domain(&mut self, domain: Domain, account: AccountId) {
        self.accounts_by_domain.insert(domain, account);
    }

    pub fn add_contact(&mut self, email: Email, contact: ContactId, account: AccountId) {
        self.contacts_by_email
            .insert(email.as_str().into(), (contact, account));
    }

    pub fn add_account_crm_id(&mut self, crm_id: CrmId, account: AccountId) {
        self.accounts_by_crm_id.insert(crm_id, account);
    }

    pub fn account_by_domain(&self, domain: &Domain) -> Option<AccountId> {
        self.accounts_by_domain.get(domain).copied()
    }

    pub fn account_by_crm_id(&self, crm_id: &CrmId) -> Option<AccountId> {
        self.accounts_by_crm_id.get(crm_id).copied()
    }

    pub fn contact_by_email(&self, email: &Email) -> Option<(ContactId, AccountId)> {
        self.contacts_by_email.get(email.as_str()).copied()
    }
}

/// Resolves people, activities and signals against an index, honouring the free-mail list.
#[derive(Debug, Clone, Copy)]
pub struct Resolver<'a> {
    pub index: &'a IdentityIndex,
    pub free_mail: &'a FreeMailDomains,
}

impl<'a> Resolver<'a> {
    pub fn new(index: &'a IdentityIndex, free_mail: &'a FreeMailDomains) -> Self {
        Self { index, free_mail }
    }

    /// The domain a record is to be matched by, now and on later re-resolution: the email's
    /// registrable domain unless it is free mail, else the given domain unless it is free mail.
    pub fn account_key(&self, email: Option<&Email>, domain: Option<&Domain>) -> Option<Domain> {
        email
            .map(Email::domain)
            .filter(|candidate| !self.free_mail.contains(candidate))
            .or_else(|| domain.filter(|candidate| !self.free_mail.contains(candidate)))
            .cloned()
    }

    /// Resolves a person or an activity by its email and/or domain (rules 1–3).
    pub fn resolve(&self, email: Option<&Email>, domain: Option<&Domain>) -> Resolution {
        if let Some((contact, account)) = email.and_then(|email| self.index.contact_by_email(email))
        {
            return Resolution {
                account: Some(account),
                contact: Some(contact),
                matched_by: Some(MatchedBy::Contact),
            };
        }
        let by_domain = |candidate: &Domain, how: MatchedBy| {
            if self.free_mail.contains(candidate) {
                return None;
            }
            self.index
                .account_by_domain(candidate)
                .map(|account| Resolution {
                    account: Some(account),
                    contact: None,
                    matched_by: Some(how),
                })
        };
        email
            .and_then(|email| by_domain(email.domain(), MatchedBy::EmailDomain))
            .or_else(|| domain.and_then(|domain| by_domain(domain, MatchedBy::Domain)))
            .unwrap_or_default()
    }

    /// Resolves a record that names its account by CRM id, falling back to a domain.
    pub fn resolve_account_ref(
        &self,
        crm_id: Option<&CrmId>,
        domain: Option<&Domain>,
    ) -> Resolution {
        if let Some(account) = crm_id.and_then(|crm_id| self.index.account_by_crm_id(crm_id)) {
            return Resolution {
                account: Some(account),
                contact: None,
                matched_by: Some(MatchedBy::CrmId),
            };
        }
        self.resolve(None, domain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(text: &str) -> Email {
        Email::parse(text).expect("test email")
    }

    fn domain(text: &str) -> Domain {
        Domain::parse(text).expect("test domain")
    }

    fn world() -> IdentityIndex {
        let mut index = IdentityIndex::default();
        index.add_account_domain(domain("acme.co.uk"), AccountId(1));
        index.add_account_domain(domain("acme-mail.com"), AccountId(1));
        index.add_account_domain(domain("globex.com"), AccountId(2));
        index.add_contact(email("jo@gmail.com"), ContactId(10), AccountId(2));
        index.add_account_crm_id(CrmId::parse("001A").expect("id"), AccountId(1));
        index
    }

    #[test]
    fn resolution_rules_in_order() {
        let index = world();
        let free_mail = FreeMailDomains::default();
        let resolver = Resolver::new(&index, &free_mail);
        let describe = |e: Option<&str>, d: Option<&str>| {
            let (e, d) = (e.map(email), d.map(domain));
            let r = resolver.resolve(e.as_ref(), d.as_ref());
            let key = resolver.account_key(e.as_ref(), d.as_ref());
            format!(
                "{:?} {:?} {:?} key={}",
                r.account.map(|a| a.0),
                r.contact.map(|c| c.0),
                r.matched_by,
                key.map_or("-".into(), |k| k.to_string())
            )
        };
        let cases = [
            // a known contact wins even on free mail
            (
                (Some("Jo@Gmail.com"), None),
                "Some(2) Some(10) Some(Contact) key=-",
            ),
            // email domain, primary or alias, any subdomain
            (
                (Some("ann@eu.acme.co.uk"), None),
                "Some(1) None Some(EmailDomain) key=acme.co.uk",
            ),
            (
                (Some("ann@acme-mail.com"), None),
                "Some(1) None Some(EmailDomain) key=acme-mail.com",
            ),
            // free mail never matches by domain, falls through to the given domain
            (
                (Some("ann@gmail.com"), Some("globex.com")),
                "Some(2) None Some(Domain) key=globex.com",
            ),
            ((Some("ann@gmail.com"), None), "None None None key=-"),
            ((Some("ann@mailinator.com"), None), "None None None key=-"),
            // domain alone
            (
                (None, Some("https://www.globex.com/x")),
                "Some(2) None Some(Domain) key=globex.com",
            ),
            // unknown: unresolved but keyed for later
            (
                (Some("bo@initech.com"), None),
                "None None None key=initech.com",
            ),
            ((None, Some("gmail.com")), "None None None key=-"),
        ];
        for ((e, d), expected) in cases {
            assert_eq!(describe(e, d), expected, "email {e:?} domain {d:?}");
        }
    }

    #[test]
    fn crm_id_then_domain() {
        let index = world();
        let free_mail = FreeMailDomains::default();
        let resolver = Resolver::new(&index, &free_mail);
        let crm = CrmId::parse("001A").expect("id");
        assert_eq!(
            resolver.resolve_account_ref(Some(&crm), None).account,
            Some(AccountId(1))
        );
        let other = CrmId::parse("001Z").expect("id");
        assert_eq!(
            resolver
                .resolve_account_ref(Some(&other), Some(&domain("globex.com")))
                .account,
            Some(AccountId(2))
        );
    }

    #[test]
    fn free_mail_list_is_configurable() {
        let free_mail = FreeMailDomains::with_extra([domain("Example-Isp.com")]);
        assert!(free_mail.contains(&domain("example-isp.com")));
        assert!(free_mail.contains(&domain("outlook.com")));
        assert!(!free_mail.contains(&domain("acme.com")));
    }
}
