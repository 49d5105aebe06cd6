//! Who is acting: `--as EMAIL`, else the `[cli] user` of abm.toml, else the OS user. On a
//! fresh install (no users registered yet) that person acts as an administrator, and the audit
//! trail says so; once users exist, the person must be one of them and acts in their role.

use super::Context;
use super::config::Config;
use abm_core::tal::{Actor, UserRole};
use abm_store::team;
use anyhow::{Result, bail};

/// The name the CLI acts under before any check.
pub fn acting_name(context: &Context, config: &Config) -> String {
    if let Some(name) = context
        .acting_as
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        return name.to_owned();
    }
    if let Some(name) = config
        .cli
        .user
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        return name.to_owned();
    }
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|key| {
            std::env::var(key)
                .ok()
                .filter(|value| !value.trim().is_empty())
        })
        .unwrap_or_else(|| "cli".to_owned())
}

/// The actor for a command that changes the team's data.
pub fn resolve(
    context: &Context,
    config: &Config,
    store: &mut dyn abm_store::Store,
) -> Result<Actor> {
    let name = acting_name(context, config);
    if team::user_count(store.sql())? == 0 {
        return Ok(Actor {
            email: name,
            name: None,
            role: UserRole::Admin,
            fresh_install: true,
        });
    }
    let Some(user) = team::user_by_email(store.sql(), &name)? else {
        bail!(
            "{name:?} is not a registered user: act --as one of `abm user list`, or have an administrator run `abm user add {name} --role …`"
        );
    };
    let Some(role) = UserRole::from_key(&user.role) else {
        bail!(
            "the user {} has an unknown role {:?}",
            user.email,
            user.role
        );
    };
    Ok(Actor {
        email: user.email,
        name: user.name,
        role,
        fresh_install: false,
    })
}
