//! The guard: the one place that decides whether a touch may go, and says why not. Every
//! touch a play plans — automatic or a task, on every channel — passes here before it is
//! sent, and the decision is recorded with its rule.
//!
//! The rules are checked in a fixed order: first those that stop a touch for good
//! (*suppress*: opt-out, suppression list, hard bounce, lawful basis, do-not-contact), then
//! those that only delay it (*hold until*: an owner's hold, a rep's meeting, a frequency cap,
//! quiet hours). A suppression always wins over a hold, so a touch that is held and later
//! retried meets the suppressing rules again; no later state can let it through to a person
//! who said no.

use crate::score::config::{Count, Days};
use crate::value::LawfulBasis;
use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::Channel;

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Why a touch did not go (or when it may).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The person opted out (CAN-SPAM, GDPR objection, CASL withdrawal).
    OptedOut,
    /// The email or its domain is on the suppression list.
    SuppressionList,
    /// An earlier email to this address bounced hard.
    HardBounce,
    /// The person's country needs a lawful basis (GDPR) or express consent (CASL) that is
    /// not on record.
    LawfulBasis,
    /// The account is marked do-not-contact (in a deal, in legal review).
    DoNotContact,
    /// The account's owner put it on hold.
    OwnerHold,
    /// A rep has a call or meeting with the account within the conflict window.
    Conflict,
    /// The contact or the account got as many touches as the cap allows.
    FrequencyCap,
    /// Outside the person's sending hours, in their local time.
    QuietHours,
    /// The touch has no address (a contact without an email, no postal address).
    NoAddress,
    /// The email template cannot be rendered for this person (a value it needs is missing).
    Template,
}

impl Rule {
    pub const ALL: [Rule; 11] = [
        Rule::OptedOut,
        Rule::SuppressionList,
        Rule::HardBounce,
        Rule::LawfulBasis,
        Rule::DoNotContact,
        Rule::OwnerHold,
        Rule::Conflict,
        Rule::FrequencyCap,
        Rule::QuietHours,
        Rule::NoAddress,
        Rule::Template,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Rule::OptedOut => "opted_out",
            Rule::SuppressionList => "suppression_list",
            Rule::HardBounce => "hard_bounce",
            Rule::LawfulBasis => "lawful_basis",
            Rule::DoNotContact => "do_not_contact",
            Rule::OwnerHold => "owner_hold",
            Rule::Conflict => "conflict",
            Rule::FrequencyCap => "frequency_cap",
            Rule::QuietHours => "quiet_hours",
            Rule::NoAddress => "no_address",
            Rule::Template => "template",
        }
    }

    pub fn from_key(key: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|rule| rule.as_str() == key)
    }
}

/// What the guard decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    Send,
    /// Not now: ask again at `until` (microseconds).
    Hold {
        until: i64,
        rule: Rule,
        reason: String,
    },
    /// Never, for this touch.
    Suppress {
        rule: Rule,
        reason: String,
    },
}

impl Decision {
    pub fn key(&self) -> &'static str {
        match self {
            Decision::Send => "send",
            Decision::Hold { .. } => "hold",
            Decision::Suppress { .. } => "suppress",
        }
    }

    pub fn rule(&self) -> Option<Rule> {
        match self {
            Decision::Send => None,
            Decision::Hold { rule, .. } | Decision::Suppress { rule, .. } => Some(*rule),
        }
    }

    pub fn reason(&self) -> &str {
        match self {
            Decision::Send => "",
            Decision::Hold { reason, .. } | Decision::Suppress { reason, .. } => reason,
        }
    }
}

/// The privacy regime a country's people are contacted under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Regime {
    /// Opt-out: anyone may be emailed until they say no (US CAN-SPAM and alike).
    OptOut,
    /// GDPR / UK GDPR: consent, legitimate interest or a contract.
    Gdpr,
    /// CASL: consent (express, or implied by a business relationship: a contract).
    Casl,
}

/// A frequency cap: at most `max` sent touches in `days` days, per contact or per account,
/// on one channel or on all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cap {
    pub scope: CapScope,
    /// The channel counted; all channels when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    pub max: Count,
    pub days: Days,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CapScope {
    Contact,
    Account,
}

/// Sending hours in the person's local time: nothing between `start` and `end` (which may
/// wrap past midnight), nor on `days`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    /// `"20:00"`: quiet from this local time…
    pub start: String,
    /// `"08:00"`: …until this one.
    pub end: String,
    /// Whole days with no sends: `["saturday", "sunday"]`.
    #[serde(default)]
    pub days: Vec<String>,
}

/// `[guard]` of abm.toml.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GuardConfig {
    /// Country codes (ISO 3166 alpha-2) whose people need a GDPR lawful basis.
    pub gdpr_countries: Vec<String>,
    /// Country codes whose people need CASL consent.
    pub casl_countries: Vec<String>,
    /// The regime for a person whose country is not known: the strictest one the team
    /// sells into is the safe choice.
    pub unknown_country: Regime,
    pub caps: Vec<Cap>,
    /// No automated email or mail to an account whose rep has a call or meeting this many
    /// days before or after, unless the play is coordinated with it.
    pub conflict_days: Days,
    pub quiet_hours: QuietHours,
    /// The zone used when neither the contact nor the account tells one.
    pub default_time_zone: String,
}

impl Default for GuardConfig {
    fn default() -> Self {
        let countries = [
            "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
            "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS",
            "LI", "NO", "GB", "CH",
        ];
        GuardConfig {
            gdpr_countries: countries.iter().map(|c| (*c).to_owned()).collect(),
            casl_countries: vec!["CA".to_owned()],
            unknown_country: Regime::Gdpr,
            caps: vec![
                Cap {
                    scope: CapScope::Contact,
                    channel: Some(Channel::Email),
                    max: Count(2),
                    days: Days(7),
                },
                Cap {
                    scope: CapScope::Account,
                    channel: Some(Channel::Email),
                    max: Count(6),
                    days: Days(7),
                },
                Cap {
                    scope: CapScope::Contact,
                    channel: None,
                    max: Count(4),
                    days: Days(7),
                },
            ],
            conflict_days: Days(3),
            quiet_hours: QuietHours {
                start: "19:00".to_owned(),
                end: "08:00".to_owned(),
                days: vec!["saturday".to_owned(), "sunday".to_owned()],
            },
            default_time_zone: "UTC".to_owned(),
        }
    }
}

impl GuardConfig {
    pub fn validate(&self) -> Result<(), String> {
        for (key, list) in [
            ("gdpr_countries", &self.gdpr_countries),
            ("casl_countries", &self.casl_countries),
        ] {
            for code in list {
                if code.len() != 2 || !code.chars().all(|c| c.is_ascii_alphabetic()) {
                    return Err(format!("{key}: {code:?} is not a two-letter country code"));
                }
            }
        }
        for (index, cap) in self.caps.iter().enumerate() {
            if cap.max.get() == 0 {
                return Err(format!(
                    "caps[{index}]: max must be at least 1 (to stop a channel, leave it out of the plays)"
                ));
            }
        }
        self.quiet()?;
        Ok(())
    }

    /// The quiet hours, parsed.
    pub fn quiet(&self) -> Result<Quiet, String> {
        let time = |key: &str, text: &str| {
            text.parse::<Time>()
                .map_err(|_| format!("quiet_hours.{key}: {text:?} is not a time such as \"08:00\""))
        };
        let mut days = Vec::new();
        for day in &self.quiet_hours.days {
            days.push(
                parse_weekday(day)
                    .ok_or_else(|| format!("quiet_hours.days: {day:?} is not a day of the week"))?,
            );
        }
        Ok(Quiet {
            start: time("start", &self.quiet_hours.start)?,
            end: time("end", &self.quiet_hours.end)?,
            days,
        })
    }

    fn regime(&self, country: Option<&str>) -> Regime {
        let Some(country) = country.map(str::trim).filter(|c| !c.is_empty()) else {
            return self.unknown_country;
        };
        let code = super::zone::country_code(country);
        let Some(code) = code else {
            return self.unknown_country;
        };
        if self
            .casl_countries
            .iter()
            .any(|c| c.eq_ignore_ascii_case(code))
        {
            Regime::Casl
        } else if self
            .gdpr_countries
            .iter()
            .any(|c| c.eq_ignore_ascii_case(code))
        {
            Regime::Gdpr
        } else {
            Regime::OptOut
        }
    }
}

fn parse_weekday(text: &str) -> Option<Weekday> {
    match text.trim().to_ascii_lowercase().as_str() {
        "monday" | "mon" => Some(Weekday::Monday),
        "tuesday" | "tue" => Some(Weekday::Tuesday),
        "wednesday" | "wed" => Some(Weekday::Wednesday),
        "thursday" | "thu" => Some(Weekday::Thursday),
        "friday" | "fri" => Some(Weekday::Friday),
        "saturday" | "sat" => Some(Weekday::Saturday),
        "sunday" | "sun" => Some(Weekday::Sunday),
        _ => None,
    }
}

/// Quiet hours, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Quiet {
    pub start: Time,
    pub end: Time,
    pub days: Vec<Weekday>,
}

impl Quiet {
    /// The first instant at or after `at` outside quiet hours in `zone`, or `None` when
    /// `at` is already outside them.
    pub fn next_open(&self, at: i64, zone: &TimeZone) -> Option<i64> {
        let timestamp = jiff::Timestamp::from_microsecond(at).ok()?;
        let local = timestamp.to_zoned(zone.clone());
        if !self.is_quiet(local.datetime()) {
            return None;
        }
        // Walk forward to the next opening (the end time on a day that is not quiet); a
        // week always holds one unless every day is quiet, which validation cannot forbid
        // sensibly, so the walk stops after eight days.
        let mut day = local.date();
        for _ in 0..9 {
            let open = day.to_datetime(self.end);
            if open > local.datetime() && !self.is_quiet(open) {
                let zoned = open.to_zoned(zone.clone()).ok()?;
                return Some(zoned.timestamp().as_microsecond());
            }
            // A window that does not wrap opens again at `end` the same day, or at midnight
            // after a quiet day; try the start of the next day too.
            day = day.tomorrow().ok()?;
            let midnight = day.to_datetime(Time::midnight());
            if !self.is_quiet(midnight) {
                let zoned = midnight.to_zoned(zone.clone()).ok()?;
                return Some(zoned.timestamp().as_microsecond());
            }
        }
        None
    }

    fn is_quiet(&self, local: jiff::civil::DateTime) -> bool {
        if self.days.contains(&local.weekday()) {
            return true;
        }
        let time = local.time();
        if self.start == self.end {
            false
        } else if self.start < self.end {
            time >= self.start && time < self.end
        } else {
            time >= self.start || time < self.end
        }
    }
}

/// A touch sent earlier, for the caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub at: i64,
    pub channel: Channel,
    /// The contact it went to; `None` for an account-level touch.
    pub contact: Option<i64>,
}

/// What the guard knows of the person a touch goes to.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PersonFacts {
    pub contact_id: i64,
    pub email: Option<String>,
    pub opted_out: bool,
    pub lawful_basis: Option<LawfulBasis>,
    pub hard_bounced: bool,
    /// The person's country, else the account's.
    pub country: Option<String>,
    /// The email or its domain is on the suppression list.
    pub suppressed: bool,
    /// What the person asked for on the preference page: at most this many emails in 30 days.
    pub max_emails_per_month: Option<u32>,
}

/// What the guard knows of the account.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AccountFacts {
    pub account_id: i64,
    pub do_not_contact: bool,
    /// The owner's hold: until this instant.
    pub hold_until: Option<i64>,
    /// Calls and meetings a rep has had or has planned with the account.
    pub meetings: Vec<i64>,
    /// Touches sent to the account and its people.
    pub sent: Vec<Sent>,
}

/// The touch to decide on.
#[derive(Debug, Clone)]
pub struct Ask<'a> {
    pub channel: Channel,
    /// The person it goes to; `None` for an account-level touch (an alert, an account
    /// audience, a write-back).
    pub person: Option<&'a PersonFacts>,
    pub account: &'a AccountFacts,
    /// The play is coordinated with the reps: the conflict rule does not apply.
    pub coordinated: bool,
    /// When it would go (microseconds).
    pub at: i64,
    /// The person's local time zone.
    pub zone: &'a TimeZone,
}

/// The guard itself: the configuration, parsed once.
#[derive(Debug, Clone)]
pub struct Guard {
    config: GuardConfig,
    quiet: Quiet,
}

impl Guard {
    pub fn new(config: &GuardConfig) -> Result<Guard, String> {
        config.validate()?;
        Ok(Guard {
            quiet: config.quiet()?,
            config: config.clone(),
        })
    }

    pub fn config(&self) -> &GuardConfig {
        &self.config
    }

    /// Decides one touch.
    pub fn decide(&self, ask: &Ask<'_>) -> Decision {
        if let Some(decision) = self.suppression(ask) {
            return decision;
        }
        self.hold(ask).unwrap_or(Decision::Send)
    }

    fn suppression(&self, ask: &Ask<'_>) -> Option<Decision> {
        let suppress = |rule: Rule, reason: String| Some(Decision::Suppress { rule, reason });
        if ask.account.do_not_contact && ask.channel != Channel::Alert {
            return suppress(
                Rule::DoNotContact,
                "the account is marked do-not-contact".to_owned(),
            );
        }
        let person = ask.person?;
        if person.opted_out {
            return suppress(Rule::OptedOut, "the person opted out".to_owned());
        }
        if person.suppressed {
            return suppress(
                Rule::SuppressionList,
                "the email or its domain is on the suppression list".to_owned(),
            );
        }
        if ask.channel.needs_email() {
            if person.email.is_none() {
                return suppress(Rule::NoAddress, "the person has no email".to_owned());
            }
            if person.hard_bounced {
                return suppress(
                    Rule::HardBounce,
                    "an earlier email to this address bounced".to_owned(),
                );
            }
        }
        let basis = person.lawful_basis;
        match self.config.regime(person.country.as_deref()) {
            Regime::OptOut => {}
            Regime::Gdpr => {
                if !matches!(
                    basis,
                    Some(
                        LawfulBasis::Consent
                            | LawfulBasis::LegitimateInterest
                            | LawfulBasis::Contract
                    )
                ) {
                    return suppress(
                        Rule::LawfulBasis,
                        "GDPR: no consent, legitimate interest or contract on record".to_owned(),
                    );
                }
            }
            Regime::Casl => {
                if !matches!(basis, Some(LawfulBasis::Consent | LawfulBasis::Contract)) {
                    return suppress(
                        Rule::LawfulBasis,
                        "CASL: no express or implied consent on record".to_owned(),
                    );
                }
            }
        }
        None
    }

    fn hold(&self, ask: &Ask<'_>) -> Option<Decision> {
        let hold = |until: i64, rule: Rule, reason: String| {
            Some(Decision::Hold {
                until: until.max(ask.at + 1),
                rule,
                reason,
            })
        };
        if let Some(until) = ask.account.hold_until
            && until > ask.at
        {
            return hold(
                until,
                Rule::OwnerHold,
                "the account owner put it on hold".into(),
            );
        }
        if ask.channel.is_automated_outreach() && !ask.coordinated {
            let window = i64::from(self.config.conflict_days.get()) * MICROS_PER_DAY;
            let clash = ask
                .account
                .meetings
                .iter()
                .filter(|meeting| (**meeting - ask.at).abs() <= window)
                .max();
            if let Some(meeting) = clash {
                return hold(
                    meeting + window,
                    Rule::Conflict,
                    format!(
                        "a rep has a call or meeting with the account within {} days",
                        self.config.conflict_days.get()
                    ),
                );
            }
        }
        if let (Some(max), Some(person), Channel::Email) = (
            ask.person.and_then(|p| p.max_emails_per_month),
            ask.person,
            ask.channel,
        ) {
            let window = 30 * MICROS_PER_DAY;
            let mut counted: Vec<i64> = ask
                .account
                .sent
                .iter()
                .filter(|sent| {
                    sent.channel == Channel::Email && sent.contact == Some(person.contact_id)
                })
                .filter(|sent| sent.at <= ask.at && sent.at > ask.at - window)
                .map(|sent| sent.at)
                .collect();
            let max = (max as usize).max(1);
            if counted.len() >= max {
                counted.sort_unstable();
                return hold(
                    counted[counted.len() - max] + window,
                    Rule::FrequencyCap,
                    format!("the person asked for at most {max} emails a month"),
                );
            }
        }
        for cap in &self.config.caps {
            if let Some(until) = self.capped(cap, ask) {
                let scope = match cap.scope {
                    CapScope::Contact => "the person",
                    CapScope::Account => "the account",
                };
                let channel = cap.channel.map_or("all channels", Channel::as_str);
                return hold(
                    until,
                    Rule::FrequencyCap,
                    format!(
                        "{scope} had {} touches ({channel}) in {} days",
                        cap.max.get(),
                        cap.days.get()
                    ),
                );
            }
        }
        if ask.channel.keeps_quiet_hours()
            && ask.person.is_some()
            && let Some(open) = self.quiet.next_open(ask.at, ask.zone)
        {
            return hold(
                open,
                Rule::QuietHours,
                "outside sending hours in the person's time zone".to_owned(),
            );
        }
        None
    }

    /// When the cap is reached, the instant the oldest counted touch leaves the window.
    fn capped(&self, cap: &Cap, ask: &Ask<'_>) -> Option<i64> {
        if cap.channel.is_some_and(|channel| channel != ask.channel) {
            return None;
        }
        let contact = match cap.scope {
            CapScope::Contact => Some(ask.person?.contact_id),
            CapScope::Account => None,
        };
        let window = i64::from(cap.days.get()) * MICROS_PER_DAY;
        let mut counted: Vec<i64> = ask
            .account
            .sent
            .iter()
            .filter(|sent| cap.channel.is_none_or(|channel| channel == sent.channel))
            .filter(|sent| contact.is_none() || sent.contact == contact)
            .filter(|sent| sent.at <= ask.at && sent.at > ask.at - window)
            .map(|sent| sent.at)
            .collect();
        let max = (cap.max.get() as usize).max(1);
        if counted.len() < max {
            return None;
        }
        counted.sort_unstable();
        // The touch may go once all but `max - 1` of the counted ones have left the window.
        let leaving = counted[counted.len() - max];
        Some(leaving + window)
    }
}

#[cfg(test)]
#[path = "guard_tests.rs"]
mod tests;
