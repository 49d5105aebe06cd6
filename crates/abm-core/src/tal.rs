//! The target account list (TAL) and its governance: who may propose, approve, reject and
//! remove an account, the tier an account gets by rule (and keeps when set by hand), and the
//! caps per tier. Pure decisions: the store applies them in one transaction and keeps the
//! audit trail; the decisions here say what is allowed and why not.
//!
//! The rules, and their reasons:
//! - marketing and sales propose; only the account's owner in sales (or an administrator)
//!   approves or rejects, because the TAL is the list both teams agreed on, and sales owns
//!   the accounts;
//! - a removal needs a reason and the same authority as an approval, so an agreed account
//!   never silently leaves the list;
//! - caps count approved accounts per tier; an approval or a tier change that would pass a cap
//!   is refused, never trimmed, since which account to drop is a decision for people;
//! - a 1:1 account has an owner pair, one from sales and one from marketing: a strategic
//!   account without a named person on each side is nobody's.

use crate::score::config::{Count, Threshold};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where an account stands on the TAL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TalStatus {
    Proposed,
    Approved,
    Rejected,
    Removed,
}

impl TalStatus {
    pub const ALL: [TalStatus; 4] = [
        Self::Proposed,
        Self::Approved,
        Self::Rejected,
        Self::Removed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Proposed => "proposed",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Removed => "removed",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == key)
    }
}

/// The depth of the programme an account gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Tier {
    /// Strategic: a handful, each with its own plan and owner pair.
    #[serde(rename = "1:1")]
    OneToOne,
    /// Clusters of 5–20 accounts sharing a trait.
    #[serde(rename = "1:few")]
    OneToFew,
    /// Programmatic.
    #[serde(rename = "1:many")]
    OneToMany,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Self::OneToOne, Self::OneToFew, Self::OneToMany];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OneToOne => "1:1",
            Self::OneToFew => "1:few",
            Self::OneToMany => "1:many",
        }
    }

    /// Reads `1:1`, `1:few`, `1:many` (also `one_to_one`, `one-to-few`, `1-many`…).
    pub fn parse(text: &str) -> Result<Self, TalError> {
        let key: String = text
            .trim()
            .to_ascii_lowercase()
            .chars()
            .map(|c| {
                if c == '-' || c == '_' || c == ' ' {
                    ':'
                } else {
                    c
                }
            })
            .collect();
        match key.as_str() {
            "1:1" | "one:to:one" | "one:one" => Ok(Self::OneToOne),
            "1:few" | "one:to:few" | "one:few" => Ok(Self::OneToFew),
            "1:many" | "one:to:many" | "one:many" => Ok(Self::OneToMany),
            _ => Err(TalError::UnknownTier(text.to_owned())),
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a user may do, in the CLI as on the web.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserRole {
    Admin,
    Marketing,
    Sales,
    Viewer,
}

impl UserRole {
    pub const ALL: [UserRole; 4] = [Self::Admin, Self::Marketing, Self::Sales, Self::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Marketing => "marketing",
            Self::Sales => "sales",
            Self::Viewer => "viewer",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == key)
    }
}

/// The person acting, with what the audit trail should say about their authority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub email: String,
    pub name: Option<String>,
    pub role: UserRole,
    /// No user is registered yet: the CLI user acts as an administrator until one is.
    pub fresh_install: bool,
}

impl Actor {
    /// Whether this person is the account's owner: the CRM owner field holds an email or a
    /// name, compared without case.
    pub fn owns(&self, owner: Option<&str>) -> bool {
        let Some(owner) = owner.map(str::trim).filter(|owner| !owner.is_empty()) else {
            return false;
        };
        let owner = owner.to_lowercase();
        owner == self.email.to_lowercase()
            || self
                .name
                .as_deref()
                .is_some_and(|name| owner == name.trim().to_lowercase())
    }

    /// How the actor's authority reads in the audit trail.
    pub fn authority(&self, owner: Option<&str>) -> String {
        if self.fresh_install {
            "as administrator (fresh install: no users registered yet)".to_owned()
        } else if self.role == UserRole::Admin {
            "as administrator".to_owned()
        } else if self.owns(owner) {
            "as the account's owner".to_owned()
        } else {
            format!("as {}", self.role.as_str())
        }
    }
}

/// What a TAL action changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TalAction {
    Propose,
    Approve,
    Reject,
    Remove,
    SetTier,
    SetOwners,
}

impl TalAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Propose => "propose",
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Remove => "remove",
            Self::SetTier => "tier",
            Self::SetOwners => "owners",
        }
    }
}

/// Why an action is refused. Each message says what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TalError {
    #[error("unknown tier {0:?}: use 1:1, 1:few or 1:many")]
    UnknownTier(String),
    #[error("{domain} is already {status} on the TAL")]
    AlreadyThere {
        domain: String,
        status: &'static str,
    },
    #[error("{domain} is not proposed (it is {status}): propose it first")]
    NotProposed {
        domain: String,
        status: &'static str,
    },
    #[error("{domain} is not on the TAL")]
    NotOnList { domain: String },
    #[error("{domain} is {status}: only approved or proposed accounts can be removed")]
    NotRemovable {
        domain: String,
        status: &'static str,
    },
    #[error(
        "{actor} may not {action} {domain}: only its owner in sales ({owner}) or an administrator may"
    )]
    NotOwner {
        actor: String,
        action: &'static str,
        domain: String,
        owner: String,
    },
    #[error("{actor} may not {action}: only an administrator may")]
    AdminOnly { actor: String, action: &'static str },
    #[error("{actor} is a viewer and may not change the TAL")]
    ReadOnly { actor: String },
    #[error("a reason is required to {action} {domain} (--reason)")]
    ReasonRequired {
        action: &'static str,
        domain: String,
    },
    #[error(
        "the {tier} tier is full: {approved} of {cap} approved accounts ([tal.caps] in abm.toml); remove one or move it to another tier first"
    )]
    CapExceeded { tier: Tier, approved: u64, cap: u64 },
    #[error("{domain} needs an owner pair for 1:1: {missing} (--sales-owner / --marketing-owner)")]
    OwnerPairMissing {
        domain: String,
        missing: &'static str,
    },
}

/// An account's row on the TAL as the decisions need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TalEntry {
    pub status: TalStatus,
    pub tier: Option<Tier>,
    /// A tier set by hand: kept over the rule until cleared.
    pub tier_override: Option<Tier>,
    pub strategic: bool,
    pub sales_owner: Option<String>,
    pub marketing_owner: Option<String>,
}

/// `[tal]` of abm.toml.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TalConfig {
    /// An account is in market when its intent reaches this (for `tal propose --in-market`).
    pub in_market_intent: Threshold,
    /// The most approved accounts per tier.
    pub caps: TierCaps,
    /// The rule that tiers an approved account when no tier is set by hand.
    pub tiers: TierRules,
}

impl Default for TalConfig {
    fn default() -> Self {
        Self {
            in_market_intent: Threshold(50.0),
            caps: TierCaps::default(),
            tiers: TierRules::default(),
        }
    }
}

/// `[tal.caps]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TierCaps {
    pub one_to_one: Count,
    pub one_to_few: Count,
    pub one_to_many: Count,
}

impl Default for TierCaps {
    fn default() -> Self {
        Self {
            one_to_one: Count(20),
            one_to_few: Count(200),
            one_to_many: Count(5000),
        }
    }
}

impl TierCaps {
    pub fn of(&self, tier: Tier) -> u64 {
        u64::from(match tier {
            Tier::OneToOne => self.one_to_one.get(),
            Tier::OneToFew => self.one_to_few.get(),
            Tier::OneToMany => self.one_to_many.get(),
        })
    }
}

/// `[tal.tiers]`: 1:1 for strategic accounts, or for the best fit at a high value; 1:few for
/// a good fit; 1:many for the rest.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TierRules {
    pub one_to_one_min_fit: Threshold,
    /// Annual revenue (in the CRM's currency) from which a best-fit account is worth 1:1.
    pub one_to_one_min_revenue: f64,
    pub one_to_few_min_fit: Threshold,
}

impl Default for TierRules {
    fn default() -> Self {
        Self {
            one_to_one_min_fit: Threshold(85.0),
            one_to_one_min_revenue: 1_000_000_000.0,
            one_to_few_min_fit: Threshold(60.0),
        }
    }
}

/// What the tier rule sees of an account.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TierInputs {
    pub fit: f64,
    pub revenue: Option<f64>,
    pub strategic: bool,
}

/// The tier the rule gives, with the reason in words.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
pub fn rule_tier(rules: &TierRules, inputs: TierInputs) -> (Tier, String) {
    let fit = inputs.fit;
    if inputs.strategic {
        return (Tier::OneToOne, "flagged strategic".to_owned());
    }
    if fit >= rules.one_to_one_min_fit.get()
        && inputs
            .revenue
            .is_some_and(|revenue| revenue >= rules.one_to_one_min_revenue)
    {
        return (
            Tier::OneToOne,
            format!(
                "fit {fit:.0} ≥ {} and revenue ≥ {}",
                rules.one_to_one_min_fit.get(),
                crate::score::thousands(rules.one_to_one_min_revenue as u64)
            ),
        );
    }
    if fit >= rules.one_to_few_min_fit.get() {
        return (
            Tier::OneToFew,
            format!("fit {fit:.0} ≥ {}", rules.one_to_few_min_fit.get()),
        );
    }
    (
        Tier::OneToMany,
        format!("fit {fit:.0} < {}", rules.one_to_few_min_fit.get()),
    )
}

/// The tier an entry has: the one set by hand, else the rule's.
pub fn effective_tier(entry_override: Option<Tier>, rule: Tier) -> Tier {
    entry_override.unwrap_or(rule)
}

fn writable(actor: &Actor) -> Result<(), TalError> {
    if actor.role == UserRole::Viewer && !actor.fresh_install {
        return Err(TalError::ReadOnly {
            actor: actor.email.clone(),
        });
    }
    Ok(())
}

fn may_decide(
    actor: &Actor,
    action: TalAction,
    domain: &str,
    owner: Option<&str>,
) -> Result<(), TalError> {
    writable(actor)?;
    // Ownership grants the decision only to sales: an account's owner is a sales rep, and a
    // marketer whose email happens to be in the owner field does not decide for sales.
    if actor.fresh_install
        || actor.role == UserRole::Admin
        || (actor.role == UserRole::Sales && actor.owns(owner))
    {
        return Ok(());
    }
    Err(TalError::NotOwner {
        actor: actor.email.clone(),
        action: action.as_str(),
        domain: domain.to_owned(),
        owner: owner.unwrap_or("no owner in the CRM").to_owned(),
    })
}

/// Whether `actor` may propose `domain`; a rejected or removed account may be proposed again.
pub fn check_propose(
    actor: &Actor,
    domain: &str,
    current: Option<&TalEntry>,
) -> Result<(), TalError> {
    writable(actor)?;
    match current.map(|entry| entry.status) {
        None | Some(TalStatus::Rejected | TalStatus::Removed) => Ok(()),
        Some(status) => Err(TalError::AlreadyThere {
            domain: domain.to_owned(),
            status: status.as_str(),
        }),
    }
}

/// Whether `actor` may approve or reject a proposed `domain` owned by `owner`.
pub fn check_decide(
    actor: &Actor,
    action: TalAction,
    domain: &str,
    owner: Option<&str>,
    current: Option<&TalEntry>,
) -> Result<(), TalError> {
    let Some(entry) = current else {
        return Err(TalError::NotOnList {
            domain: domain.to_owned(),
        });
    };
    if entry.status != TalStatus::Proposed {
        return Err(TalError::NotProposed {
            domain: domain.to_owned(),
            status: entry.status.as_str(),
        });
    }
    may_decide(actor, action, domain, owner)
}

/// Whether `actor` may remove `domain`, with `reason`.
pub fn check_remove(
    actor: &Actor,
    domain: &str,
    owner: Option<&str>,
    current: Option<&TalEntry>,
    reason: &str,
) -> Result<(), TalError> {
    let Some(entry) = current else {
        return Err(TalError::NotOnList {
            domain: domain.to_owned(),
        });
    };
    if !matches!(entry.status, TalStatus::Approved | TalStatus::Proposed) {
        return Err(TalError::NotRemovable {
            domain: domain.to_owned(),
            status: entry.status.as_str(),
        });
    }
    if reason.trim().is_empty() {
        return Err(TalError::ReasonRequired {
            action: "remove",
            domain: domain.to_owned(),
        });
    }
    may_decide(actor, TalAction::Remove, domain, owner)
}

/// Whether `actor` may change an approved account's tier or owners.
pub fn check_change(
    actor: &Actor,
    action: TalAction,
    domain: &str,
    owner: Option<&str>,
    current: Option<&TalEntry>,
) -> Result<(), TalError> {
    match current {
        Some(entry) if matches!(entry.status, TalStatus::Approved | TalStatus::Proposed) => {
            may_decide(actor, action, domain, owner)
        }
        _ => Err(TalError::NotOnList {
            domain: domain.to_owned(),
        }),
    }
}

/// Whether `actor` may re-apply the tier rule to the whole TAL: administrators only, since it
/// changes accounts of every owner at once.
pub fn check_retier(actor: &Actor) -> Result<(), TalError> {
    if actor.fresh_install || actor.role == UserRole::Admin {
        return Ok(());
    }
    Err(TalError::AdminOnly {
        actor: actor.email.clone(),
        action: "re-tier the whole TAL",
    })
}

/// Whether one more approved account fits in `tier`, with `approved` already there.
pub fn check_cap(caps: &TierCaps, tier: Tier, approved: u64) -> Result<(), TalError> {
    let cap = caps.of(tier);
    if approved >= cap {
        return Err(TalError::CapExceeded {
            tier,
            approved,
            cap,
        });
    }
    Ok(())
}

/// A 1:1 account needs both owners named.
pub fn check_owner_pair(
    domain: &str,
    tier: Tier,
    sales_owner: Option<&str>,
    marketing_owner: Option<&str>,
) -> Result<(), TalError> {
    if tier != Tier::OneToOne {
        return Ok(());
    }
    let blank = |owner: Option<&str>| owner.is_none_or(|owner| owner.trim().is_empty());
    let missing = match (blank(sales_owner), blank(marketing_owner)) {
        (false, false) => return Ok(()),
        (true, true) => "no sales owner and no marketing owner",
        (true, false) => "no sales owner",
        (false, true) => "no marketing owner",
    };
    Err(TalError::OwnerPairMissing {
        domain: domain.to_owned(),
        missing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: UserRole) -> Actor {
        Actor {
            email: "ana@ourco.com".into(),
            name: Some("Ana Ruiz".into()),
            role,
            fresh_install: false,
        }
    }

    fn entry(status: TalStatus) -> TalEntry {
        TalEntry {
            status,
            tier: None,
            tier_override: None,
            strategic: false,
            sales_owner: None,
            marketing_owner: None,
        }
    }

    #[test]
    fn tiers_parse_in_the_spellings_people_type() {
        for (text, tier) in [
            ("1:1", Tier::OneToOne),
            ("one-to-few", Tier::OneToFew),
            ("1_many", Tier::OneToMany),
            (" 1:FEW ", Tier::OneToFew),
        ] {
            assert_eq!(Tier::parse(text), Ok(tier), "{text}");
        }
        assert!(
            Tier::parse("2:1")
                .expect_err("refused")
                .to_string()
                .contains("1:1, 1:few or 1:many")
        );
    }

    #[test]
    fn only_the_owner_or_an_administrator_approves() {
        let proposed = entry(TalStatus::Proposed);
        let decide = |actor: &Actor, owner| {
            check_decide(
                actor,
                TalAction::Approve,
                "acme.com",
                owner,
                Some(&proposed),
            )
        };
        assert!(decide(&actor(UserRole::Sales), Some("ana@ourco.com")).is_ok());
        assert!(decide(&actor(UserRole::Sales), Some("ANA RUIZ")).is_ok());
        assert!(decide(&actor(UserRole::Admin), Some("bo@ourco.com")).is_ok());
        let refused = decide(&actor(UserRole::Sales), Some("bo@ourco.com")).expect_err("refused");
        assert!(
            refused
                .to_string()
                .contains("only its owner in sales (bo@ourco.com)")
        );
        assert!(decide(&actor(UserRole::Marketing), Some("bo@ourco.com")).is_err());
        // A marketer named as the owner still does not decide for sales.
        assert!(decide(&actor(UserRole::Marketing), Some("ana@ourco.com")).is_err());
        let eva = Actor {
            email: "éva@ourco.com".into(),
            ..actor(UserRole::Sales)
        };
        assert!(eva.owns(Some("ÉVA@OURCO.COM")), "case folds beyond ASCII");
        assert!(matches!(
            decide(&actor(UserRole::Viewer), Some("ana@ourco.com")),
            Err(TalError::ReadOnly { .. })
        ));
        let fresh = Actor {
            fresh_install: true,
            ..actor(UserRole::Admin)
        };
        assert!(decide(&fresh, None).is_ok());
        assert!(fresh.authority(None).contains("fresh install"));
    }

    #[test]
    fn statuses_move_only_forward_from_a_proposal() {
        let sales = actor(UserRole::Sales);
        assert!(check_propose(&sales, "acme.com", None).is_ok());
        assert!(check_propose(&sales, "acme.com", Some(&entry(TalStatus::Removed))).is_ok());
        assert!(check_propose(&sales, "acme.com", Some(&entry(TalStatus::Approved))).is_err());
        let approved = entry(TalStatus::Approved);
        assert!(matches!(
            check_decide(
                &sales,
                TalAction::Approve,
                "acme.com",
                Some("ana@ourco.com"),
                Some(&approved)
            ),
            Err(TalError::NotProposed { .. })
        ));
        assert!(matches!(
            check_remove(
                &sales,
                "acme.com",
                Some("ana@ourco.com"),
                Some(&approved),
                " "
            ),
            Err(TalError::ReasonRequired { .. })
        ));
        assert!(
            check_remove(
                &sales,
                "acme.com",
                Some("ana@ourco.com"),
                Some(&approved),
                "churned"
            )
            .is_ok()
        );
        assert!(matches!(
            check_remove(
                &sales,
                "acme.com",
                Some("ana@ourco.com"),
                Some(&entry(TalStatus::Rejected)),
                "x"
            ),
            Err(TalError::NotRemovable { .. })
        ));
    }

    #[test]
    fn caps_refuse_the_one_too_many() {
        let caps = TierCaps::default();
        assert!(check_cap(&caps, Tier::OneToOne, 19).is_ok());
        let error = check_cap(&caps, Tier::OneToOne, 20).expect_err("refused");
        assert_eq!(
            error.to_string(),
            "the 1:1 tier is full: 20 of 20 approved accounts ([tal.caps] in abm.toml); remove one or move it to another tier first"
        );
    }

    #[test]
    fn tier_rule_reads_strategic_fit_and_value() {
        let rules = TierRules::default();
        let tier = |fit, revenue, strategic| {
            rule_tier(
                &rules,
                TierInputs {
                    fit,
                    revenue,
                    strategic,
                },
            )
            .0
        };
        assert_eq!(tier(10.0, None, true), Tier::OneToOne);
        assert_eq!(tier(90.0, Some(2e9), false), Tier::OneToOne);
        assert_eq!(tier(90.0, Some(2e6), false), Tier::OneToFew);
        assert_eq!(tier(90.0, None, false), Tier::OneToFew);
        assert_eq!(tier(59.9, Some(9e9), false), Tier::OneToMany);
        assert_eq!(
            effective_tier(Some(Tier::OneToOne), Tier::OneToMany),
            Tier::OneToOne
        );
    }

    #[test]
    fn one_to_one_needs_both_owners() {
        assert!(check_owner_pair("a.com", Tier::OneToFew, None, None).is_ok());
        assert!(check_owner_pair("a.com", Tier::OneToOne, Some("Ana"), Some("Bo")).is_ok());
        let error =
            check_owner_pair("a.com", Tier::OneToOne, Some("Ana"), Some(" ")).expect_err("refused");
        assert!(error.to_string().contains("no marketing owner"));
    }
}
