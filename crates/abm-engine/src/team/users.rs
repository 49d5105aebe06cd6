//! Users and their API tokens, as the CLI (`abm user add`, `abm token create`) and the
//! settings page change them: only an administrator manages users, the first user is an
//! administrator, the last administrator stays one, and every change is in the audit log.
//! Passwords arrive hashed and tokens as their digest: no secret reaches the database.

use super::{Result, TeamError, log};
use abm_core::Email;
use abm_core::tal::{Actor, UserRole};
use abm_store::Sql;
use abm_store::team::{self, UserRecord};

/// The longest name kept for a user.
pub const MAX_NAME_CHARS: usize = 200;

/// A user to add or change.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: Email,
    pub role: UserRole,
    /// The name the CRM uses for this person as an account owner.
    pub name: Option<String>,
    /// An argon2 hash, when the user signs in to the web.
    pub password_hash: Option<String>,
}

/// Adds the user, or changes their role (and name and password when given), in one
/// transaction with its audit line. `Ok(true)` when the user is new.
pub fn add_user(sql: &mut dyn Sql, acting: &Actor, user: &NewUser, now: i64) -> Result<bool> {
    if acting.role != UserRole::Admin {
        return Err(TeamError::refused(format!(
            "{} may not add users: only an administrator may",
            acting.email
        )));
    }
    let name = user
        .name
        .as_ref()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty());
    if name
        .as_ref()
        .is_some_and(|name| name.chars().count() > MAX_NAME_CHARS)
    {
        return Err(TeamError::refused(format!(
            "a name is at most {MAX_NAME_CHARS} characters"
        )));
    }
    let record = UserRecord {
        email: user.email.as_str().to_owned(),
        name,
        role: user.role.as_str().to_owned(),
        created_at: now,
    };
    abm_store::sql::transaction(sql, |sql| -> Result<bool> {
        if team::user_count(sql)? == 0 && user.role != UserRole::Admin {
            return Err(TeamError::refused(
                "the first user must be an administrator, or nobody could manage users afterwards",
            ));
        }
        let before = team::user_by_email(sql, &record.email)?;
        // Nobody could manage users again once the last administrator is gone.
        if before.as_ref().is_some_and(|user| user.role == "admin")
            && user.role != UserRole::Admin
            && team::users_with_role(sql, "admin")? <= 1
        {
            return Err(TeamError::refused(format!(
                "{} is the last administrator: make someone else an administrator first",
                record.email
            )));
        }
        let added = team::upsert_user(sql, &record)?;
        if let Some(hash) = &user.password_hash {
            team::set_password_hash(sql, &record.email, Some(hash))?;
        }
        log(
            sql,
            acting,
            if added { "user add" } else { "user change" },
            &record.email,
            &format!(
                "role {}{}{}",
                record.role,
                before
                    .map(|b| format!(" (was {})", b.role))
                    .unwrap_or_default(),
                if user.password_hash.is_some() {
                    ", password set"
                } else {
                    ""
                }
            ),
            now,
        )?;
        Ok(added)
    })
}

/// Who may create or revoke `owner`'s tokens: the user themself or an administrator.
fn may_manage_tokens(acting: &Actor, owner: &str) -> Result<()> {
    if acting.role == UserRole::Admin || acting.email.eq_ignore_ascii_case(owner) {
        Ok(())
    } else {
        Err(TeamError::refused(format!(
            "{} may not manage the tokens of {owner}: only the user or an administrator may",
            acting.email
        )))
    }
}

/// Stores a new token (its digest) for `email`, audited.
pub fn create_token(
    sql: &mut dyn Sql,
    acting: &Actor,
    email: &str,
    token_digest: &str,
    now: i64,
) -> Result<()> {
    abm_store::sql::transaction(sql, |sql| -> Result<()> {
        let Some(user) = team::user_by_email(sql, email)? else {
            return Err(TeamError::refused(format!(
                "no user {email}: add the user first"
            )));
        };
        may_manage_tokens(acting, &user.email)?;
        team::add_token(sql, token_digest, &user.email, now)?;
        log(sql, acting, "token create", &user.email, "API token", now)?;
        Ok(())
    })
}

/// Revokes the token with this digest, audited. `Ok(false)` when there is no such token.
pub fn revoke_token(
    sql: &mut dyn Sql,
    acting: &Actor,
    token_digest: &str,
    now: i64,
) -> Result<bool> {
    abm_store::sql::transaction(sql, |sql| -> Result<bool> {
        let Some(owner) = team::token_owner(sql, token_digest)? else {
            return Ok(false);
        };
        may_manage_tokens(acting, &owner)?;
        team::delete_token(sql, token_digest)?;
        log(
            sql,
            acting,
            "token revoke",
            &owner,
            &format!("API token {}", short_digest(token_digest)),
            now,
        )?;
        Ok(true)
    })
}

/// How a token is named on screen and in the audit log: the start of its digest (which
/// reveals nothing of the token).
pub fn short_digest(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}
