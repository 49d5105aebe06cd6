//! One-click unsubscribe (RFC 8058) and the unsubscribe page: a signed link in every email
//! names the recipient; following it opts the person out and puts the address on the
//! suppression list, in one transaction. The link is its own authority (no session): only
//! the server's key can make one, and it unsubscribes only the address it was made for.

use abm_core::tracking::link::{LinkPayload, verify_link};
use abm_store::{Store, StoreError, guard_data};

/// Why a link was refused.
#[derive(Debug, thiserror::Error)]
pub enum UnsubscribeError {
    #[error("this unsubscribe link is not valid ({0})")]
    BadLink(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Who a link unsubscribes, without changing anything (the page shows it first).
pub fn recipient(key: &[u8], token: &str) -> Result<LinkPayload, UnsubscribeError> {
    let payload =
        verify_link(key, token).map_err(|error| UnsubscribeError::BadLink(error.to_string()))?;
    if !payload.message_id.starts_with("unsubscribe:") || payload.url.is_some() {
        return Err(UnsubscribeError::BadLink("not an unsubscribe link".into()));
    }
    Ok(payload)
}

/// Opts the link's recipient out; returns their email. Doing it twice changes nothing.
pub fn unsubscribe(
    store: &mut dyn Store,
    key: &[u8],
    token: &str,
    now: i64,
) -> Result<String, UnsubscribeError> {
    let payload = recipient(key, token)?;
    let email = payload.email.trim().to_lowercase();
    let message = payload
        .message_id
        .trim_start_matches("unsubscribe:")
        .to_owned();
    abm_store::sql::transaction(store.sql(), |sql| -> Result<(), StoreError> {
        guard_data::opt_out(sql, &email)?;
        guard_data::suppress(
            sql,
            &guard_data::Suppression {
                value: email.clone(),
                kind: "email".into(),
                reason: format!("unsubscribed from {message}"),
                added_by: "the recipient".into(),
                added_at: now,
            },
        )?;
        Ok(())
    })?;
    Ok(email)
}

/// The preference page's other choice: fewer emails (at most `max_per_month` in 30 days),
/// which the guard then holds to. Returns the email.
pub fn prefer_fewer(
    store: &mut dyn Store,
    key: &[u8],
    token: &str,
    max_per_month: u32,
    now: i64,
) -> Result<String, UnsubscribeError> {
    let payload = recipient(key, token)?;
    let email = payload.email.trim().to_lowercase();
    guard_data::set_preference(store.sql(), &email, i64::from(max_per_month.max(1)), now)?;
    Ok(email)
}
