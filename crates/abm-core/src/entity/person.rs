//! People: contacts (known people at an account) and leads (people not yet tied to one).

use super::{AccountId, Attributes, keep_if_none};
use crate::value::{CrmId, Domain, Email, LawfulBasis};

/// What a person agreed to. `opted_out` always wins over any lawful basis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Consent {
    pub opted_out: bool,
    pub lawful_basis: Option<LawfulBasis>,
}

/// A known person at an account.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Contact {
    pub crm_id: Option<CrmId>,
    pub email: Email,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub title: Option<String>,
    pub account_id: AccountId,
    pub consent: Consent,
    pub attributes: Attributes,
}

impl Contact {
    /// Incoming values win, empty ones keep what is stored; an opt-out is never undone by an
    /// import that does not mention it.
    pub fn merged_over(mut self, stored: &Contact) -> Contact {
        keep_if_none(&mut self.crm_id, &stored.crm_id);
        keep_if_none(&mut self.first_name, &stored.first_name);
        keep_if_none(&mut self.last_name, &stored.last_name);
        keep_if_none(&mut self.title, &stored.title);
        keep_if_none(&mut self.consent.lawful_basis, &stored.consent.lawful_basis);
        self.consent.opted_out |= stored.consent.opted_out;
        for (key, value) in &stored.attributes {
            self.attributes
                .entry(key.clone())
                .or_insert_with(|| value.clone());
        }
        self
    }
}

/// A person who is not (yet) a contact: an inbound form fill, a list upload, or a CRM contact
/// whose account could not be found. `account_id` is set once resolution finds the account.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Lead {
    pub crm_id: Option<CrmId>,
    pub email: Email,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub title: Option<String>,
    pub company: Option<String>,
    /// The company website the person gave, used when the email is a free-mail address.
    pub website: Option<Domain>,
    pub consent: Consent,
    pub attributes: Attributes,
}

impl Lead {
    pub fn merged_over(mut self, stored: &Lead) -> Lead {
        keep_if_none(&mut self.crm_id, &stored.crm_id);
        keep_if_none(&mut self.first_name, &stored.first_name);
        keep_if_none(&mut self.last_name, &stored.last_name);
        keep_if_none(&mut self.title, &stored.title);
        keep_if_none(&mut self.company, &stored.company);
        keep_if_none(&mut self.website, &stored.website);
        keep_if_none(&mut self.consent.lawful_basis, &stored.consent.lawful_basis);
        self.consent.opted_out |= stored.consent.opted_out;
        for (key, value) in &stored.attributes {
            self.attributes
                .entry(key.clone())
                .or_insert_with(|| value.clone());
        }
        self
    }
}
