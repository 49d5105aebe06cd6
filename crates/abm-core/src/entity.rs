//! The records abm keeps: accounts, contacts, leads, activities, intent signals and
//! opportunities. Each is built from already-valid values, so holding one means it is valid.

mod account;
mod activity;
mod intent;
mod opportunity;
mod person;

pub use account::{Account, AccountType, Attributes};
pub use activity::{Activity, ActivityKind};
pub use intent::IntentSignal;
pub use opportunity::Opportunity;
pub use person::{Consent, Contact, Lead};

/// The store's key for an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct AccountId(pub i64);

/// The store's key for a contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct ContactId(pub i64);

/// Fills the fields an incoming record leaves empty from the stored one: a file that lacks a
/// column (a HubSpot export without technologies) must not erase what another source said.
pub(crate) fn keep_if_none<T: Clone>(incoming: &mut Option<T>, stored: &Option<T>) {
    if incoming.is_none() {
        incoming.clone_from(stored);
    }
}
