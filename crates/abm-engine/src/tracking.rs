//! Recording first-party tracked events (website page views, form submits, identifies, email
//! opens and clicks) in the store: one batch in one transaction, through the activity log's
//! own idempotent lane, each event tied to its visitor's contact and account.
//!
//! How an event finds its account, in order: the email it carries (a form, an email open or
//! click) → the contact, else the email's company domain; the visitor's identity as stored
//! (an earlier identify); the company the visitor's network belongs to (reverse-IP, with a
//! confidence). An identify also moves the visitor's earlier anonymous events to the contact
//! and account, and an email nobody knows yet becomes a lead, as a form fill would in a CRM.

use abm_core::identity::FreeMailDomains;
use abm_core::{AccountId, Activity, ContactId, Domain, Email, Lead};
use abm_store::tracking::{self, VisitorRecord, VisitorWrite};
use abm_store::{
    ActivityRow, ImportFigures, ImportRecord, ImportTransaction, LeadOrigin, SourceLine, Store,
    StoreError,
};
use std::collections::{BTreeMap, BTreeSet};

/// One event to record.
#[derive(Debug, Clone)]
pub struct TrackedEvent {
    /// What is stored in the activity log; `None` for an identify alone.
    pub activity: Option<Activity>,
    /// The first-party visitor id; `None` for email opens and clicks (they carry the email).
    pub visitor: Option<String>,
    /// The email this event says the visitor is (identify, a form submit with an email).
    pub identifies: Option<Email>,
    /// The company of the visitor's network, when reverse-IP identified one.
    pub network: Option<NetworkMatch>,
    /// When the server received it, microseconds since the epoch.
    pub at: i64,
}

/// A reverse-IP identification.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkMatch {
    pub domain: Domain,
    pub organization: Option<String>,
    pub confidence: f64,
}

/// What a batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Recorded {
    pub received: u64,
    pub inserted: u64,
    /// Already stored (a retried event id).
    pub unchanged: u64,
    /// Stored without an account (anonymous visitors).
    pub anonymous: u64,
    /// Visitors identified by email in this batch.
    pub identified: u64,
    /// Earlier events moved to a contact or account by an identify.
    pub linked: u64,
    /// Leads created from emails nobody knew.
    pub leads: u64,
    /// The accounts whose activity changed, each once: to rescore.
    pub touched: Vec<AccountId>,
}

/// Who else records the same visitors at the same time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writers {
    /// This is the only writer (a node's collector thread): the visitors it read stay current.
    One,
    /// Others may record the same visitors at once (the workers of the stream): after writing,
    /// the visitors whose events this batch stored without a person are read again, and an
    /// identity another writer stored meanwhile takes those events too.
    Many,
}

/// Records a batch, all or nothing. The batch's visitors are read together first and written
/// together last, a few statements for the whole batch rather than two per event.
pub fn record(
    store: &mut dyn Store,
    events: &[TrackedEvent],
    free_mail: &FreeMailDomains,
    started_at: jiff::Timestamp,
    writers: Writers,
) -> Result<Recorded, StoreError> {
    let mut recorded = Recorded {
        received: events.len() as u64,
        ..Recorded::default()
    };
    let mut transaction = store.begin_import(&ImportRecord {
        kind: "collect".into(),
        files: Vec::new(),
        started_at,
        expected_rows: 0,
    })?;
    let mut visitors = stored_visitors(transaction.as_mut(), events)?;
    // The account owning each network's domain, asked once a batch.
    let mut network_owners: BTreeMap<Domain, Option<AccountId>> = BTreeMap::new();
    let mut rows = Vec::with_capacity(events.len());
    let mut touched = BTreeSet::new();
    // Visitors with events stored here without a person: what another writer may have
    // identified meanwhile.
    let mut without_person = BTreeSet::new();
    for (index, event) in events.iter().enumerate() {
        let mut visitor = match &event.visitor {
            Some(id) => Some(visitor_entry(&mut visitors, id, event.at)?),
            None => None,
        };
        if let Some(visitor) = visitor.as_deref_mut() {
            visitor.record.last_seen = visitor.record.last_seen.max(event.at);
            visitor.record.first_seen = visitor.record.first_seen.min(event.at);
            if event.activity.is_some() {
                visitor.record.events += 1;
            }
            if let Some(email) = &event.identifies {
                let (contact, account) = person(transaction.as_mut(), email, free_mail)?;
                if contact.is_none() && lead_needed(transaction.as_mut(), email)? {
                    write_lead(transaction.as_mut(), email, account, free_mail)?;
                    recorded.leads += 1;
                }
                let record = &mut visitor.record;
                record.email = Some(email.as_str().to_owned());
                record.contact_id = contact.map(|id| id.0);
                record.account_id = account.map(|id| id.0).or(record.account_id);
                record.identified_by = Some("identify".into());
                record.confidence = Some(1.0);
                visitor.link = true;
                recorded.identified += 1;
            } else if visitor.record.identified_by.as_deref() != Some("identify") {
                let owner = match &event.network {
                    Some(network) => match network_owners.get(&network.domain) {
                        Some(owner) => *owner,
                        None => {
                            let owner = transaction.account_owning(&network.domain)?;
                            network_owners.insert(network.domain.clone(), owner);
                            owner
                        }
                    },
                    None => None,
                };
                if let Some(network) = &event.network
                    && let Some(account) = owner
                {
                    let record = &mut visitor.record;
                    record.account_id = Some(account.0);
                    record.identified_by = Some("reverse_ip".into());
                    record.confidence = Some(network.confidence);
                    record.organization = network.organization.clone();
                }
            } else if visitor.record.contact_id.is_none()
                && !visitor.tried_contact
                && let Some(email) = visitor.record.email.as_deref()
                && let Ok(email) = Email::parse(email)
            {
                // Identified before the contact existed: the contact may have been imported
                // since; then the visitor's events join it now.
                visitor.tried_contact = true;
                if let Some((contact, stored)) = transaction.find_contact(None, &email)? {
                    visitor.record.contact_id = Some(contact.0);
                    visitor.record.account_id = Some(stored.account_id.0);
                    visitor.link = true;
                }
            }
        }
        let Some(activity) = &event.activity else {
            continue;
        };
        let (account, contact) = match (activity.email.as_ref(), &visitor) {
            (Some(email), _) => {
                let (contact, account) = person(transaction.as_mut(), email, free_mail)?;
                (account, contact)
            }
            (None, Some(visitor)) => (
                visitor.record.account_id.map(AccountId),
                visitor.record.contact_id.map(ContactId),
            ),
            (None, None) => (None, None),
        };
        let account_key = match account {
            Some(_) => None,
            None => activity
                .email
                .as_ref()
                .map(Email::domain)
                .filter(|domain| !free_mail.contains(domain))
                .cloned(),
        };
        if account.is_none() {
            recorded.anonymous += 1;
        }
        if contact.is_none()
            && let Some(visitor) = &event.visitor
        {
            without_person.insert(visitor.as_str());
        }
        touched.extend(account);
        rows.push(ActivityRow {
            activity: activity.clone(),
            account,
            contact,
            account_key,
            fingerprint: activity.fingerprint(),
            source: SourceLine {
                file: 0,
                line: index as u64 + 1,
            },
            visitor: event.visitor.clone(),
        });
    }
    if !rows.is_empty() {
        let mut outcome = transaction.write_activities(&rows)?;
        outcome.absorb(transaction.finish_activities()?);
        recorded.inserted = outcome.inserted;
        recorded.unchanged = outcome.unchanged + outcome.kept_existing;
    }
    {
        let mut sql = transaction.sql()?;
        // A visitor whose identity this batch changed is written whole; the others (new
        // ones, and returning ones as they were) only with their visits.
        // Each written with this batch's events alone: the store adds them to its count.
        let mut whole = Vec::new();
        let mut visits = Vec::with_capacity(visitors.len());
        for visitor in visitors.values() {
            let written = VisitorRecord {
                events: visitor.record.events - visitor.stored.as_ref().map_or(0, |s| s.events),
                ..visitor.record.clone()
            };
            if visitor.identity_changed() {
                whole.push(written);
            } else {
                visits.push(written);
            }
        }
        let whole: Vec<&VisitorRecord> = whole.iter().collect();
        let visits: Vec<&VisitorRecord> = visits.iter().collect();
        tracking::save_visitors(sql.as_mut(), &whole, VisitorWrite::Whole)?;
        tracking::save_visitors(sql.as_mut(), &visits, VisitorWrite::Visits)?;
        for visitor in visitors.values() {
            if visitor.link {
                recorded.linked += tracking::link_visitor_activities(
                    sql.as_mut(),
                    &visitor.record.id,
                    visitor.record.account_id,
                    visitor.record.contact_id,
                )?;
                touched.extend(visitor.record.account_id.map(AccountId));
            }
        }
        if writers == Writers::Many && !without_person.is_empty() {
            let ids: Vec<&str> = without_person.into_iter().collect();
            for stored in tracking::visitors(sql.as_mut(), &ids)? {
                let Some(seen) = visitors.get(&stored.id) else {
                    continue;
                };
                let moved = (stored.account_id, stored.contact_id)
                    != (seen.record.account_id, seen.record.contact_id);
                if moved && !seen.link && stored.account_id.is_some() {
                    recorded.linked += tracking::link_visitor_activities(
                        sql.as_mut(),
                        &stored.id,
                        stored.account_id,
                        stored.contact_id,
                    )?;
                    touched.extend(stored.account_id.map(AccountId));
                }
            }
        }
    }
    transaction.commit(&ImportFigures {
        rows_read: recorded.received,
        inserted: recorded.inserted,
        updated: recorded.linked,
        unchanged: recorded.unchanged,
        unmatched: recorded.anonymous,
    })?;
    recorded.touched = touched.into_iter().collect();
    Ok(recorded)
}

/// A visitor as this batch sees it.
struct Visitor {
    record: VisitorRecord,
    /// The record as stored before this batch; `None` for a new visitor.
    stored: Option<VisitorRecord>,
    /// Identified in this batch: its anonymous events join the contact and account.
    link: bool,
    tried_contact: bool,
}

impl Visitor {
    /// The visitor's account, contact, email or identification differs from what is stored
    /// (nothing, for a new visitor).
    fn identity_changed(&self) -> bool {
        let identity = |record: &VisitorRecord| {
            (
                record.account_id,
                record.contact_id,
                record.email.clone(),
                record.identified_by.clone(),
                record.confidence.map(f64::to_bits),
                record.organization.clone(),
            )
        };
        let stored = self.stored.as_ref().map(identity);
        let unknown = (None, None, None, None, None, None);
        identity(&self.record) != stored.unwrap_or(unknown)
    }
}

/// The batch's visitors as stored, read in a few statements.
fn stored_visitors(
    transaction: &mut dyn ImportTransaction,
    events: &[TrackedEvent],
) -> Result<BTreeMap<String, Visitor>, StoreError> {
    let ids: Vec<&str> = events
        .iter()
        .filter_map(|event| event.visitor.as_deref())
        .collect();
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let stored = tracking::visitors(transaction.sql()?.as_mut(), &ids)?;
    Ok(stored
        .into_iter()
        .map(|record| {
            let visitor = Visitor {
                stored: Some(record.clone()),
                record,
                link: false,
                tried_contact: false,
            };
            (visitor.record.id.clone(), visitor)
        })
        .collect())
}

/// The batch's visitor `id`: as stored, or new (first seen `at`).
fn visitor_entry<'a>(
    visitors: &'a mut BTreeMap<String, Visitor>,
    id: &str,
    at: i64,
) -> Result<&'a mut Visitor, StoreError> {
    if !visitors.contains_key(id) {
        visitors.insert(
            id.to_owned(),
            Visitor {
                record: VisitorRecord {
                    id: id.to_owned(),
                    first_seen: at,
                    last_seen: at,
                    events: 0,
                    account_id: None,
                    contact_id: None,
                    email: None,
                    identified_by: None,
                    confidence: None,
                    organization: None,
                },
                stored: None,
                link: false,
                tried_contact: false,
            },
        );
    }
    visitors
        .get_mut(id)
        .ok_or_else(|| StoreError::Corrupt("a visitor vanished from its batch".into()))
}

/// The contact with this email and its account, else the account of the email's company
/// domain (never a free-mail domain).
fn person(
    transaction: &mut dyn ImportTransaction,
    email: &Email,
    free_mail: &FreeMailDomains,
) -> Result<(Option<ContactId>, Option<AccountId>), StoreError> {
    if let Some((contact, stored)) = transaction.find_contact(None, email)? {
        return Ok((Some(contact), Some(stored.account_id)));
    }
    if free_mail.contains(email.domain()) {
        return Ok((None, None));
    }
    Ok((None, transaction.account_owning(email.domain())?))
}

fn lead_needed(transaction: &mut dyn ImportTransaction, email: &Email) -> Result<bool, StoreError> {
    Ok(transaction.find_lead(None, email)?.is_none())
}

fn write_lead(
    transaction: &mut dyn ImportTransaction,
    email: &Email,
    account: Option<AccountId>,
    free_mail: &FreeMailDomains,
) -> Result<(), StoreError> {
    let lead = Lead {
        crm_id: None,
        email: email.clone(),
        first_name: None,
        last_name: None,
        title: None,
        company: None,
        website: None,
        consent: Default::default(),
        attributes: Default::default(),
    };
    let key = (account.is_none() && !free_mail.contains(email.domain())).then(|| email.domain());
    transaction.write_lead(None, &lead, LeadOrigin::Lead, account, key)
}
