//! Plays: coordinated, multi-step, multi-channel sequences run against the accounts that meet
//! their trigger. This module owns the `[[plays]]` format and its validation, which accounts
//! and people a play reaches, and the touches it plans for one enrolment; [`guard`] decides
//! whether each touch may go; [`template`] renders emails.
//!
//! A play is data: a trigger, an audience, steps and exits. The tier decides how it runs —
//! for a 1:many account every step is sent by abm; for a 1:1 account an email step becomes a
//! personal email task for the account's owner, so a strategic account never gets an
//! automated message its team did not write.

pub mod channels;
pub mod guard;
pub mod template;
pub mod zone;

use crate::persona::BuyingRole;
use crate::score::config::{Days, Threshold};
use crate::score::stage::Stage;
use crate::tal::Tier;
use crate::trigger::TriggerKind;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Where a touch goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// An email abm sends over SMTP.
    Email,
    /// A sales task for the account's owner.
    Task,
    /// A message to a chat or generic webhook.
    Alert,
    /// The account and its people added to an ad audience export.
    AdAudience,
    /// A print vendor's mailing list entry.
    DirectMail,
    /// The account's scores and stage written back for the CRM.
    CrmWriteBack,
}

impl Channel {
    pub const ALL: [Channel; 6] = [
        Channel::Email,
        Channel::Task,
        Channel::Alert,
        Channel::AdAudience,
        Channel::DirectMail,
        Channel::CrmWriteBack,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Task => "task",
            Channel::Alert => "alert",
            Channel::AdAudience => "ad_audience",
            Channel::DirectMail => "direct_mail",
            Channel::CrmWriteBack => "crm_write_back",
        }
    }

    pub fn from_key(key: &str) -> Option<Channel> {
        Channel::ALL
            .into_iter()
            .find(|channel| channel.as_str() == key)
    }

    /// Touches addressed to a person (as opposed to the account or the team).
    pub fn reaches_person(self) -> bool {
        matches!(
            self,
            Channel::Email | Channel::Task | Channel::AdAudience | Channel::DirectMail
        )
    }

    pub(crate) fn needs_email(self) -> bool {
        matches!(self, Channel::Email | Channel::AdAudience)
    }

    /// Outreach abm sends on its own, which a rep's meeting must not collide with.
    pub(crate) fn is_automated_outreach(self) -> bool {
        matches!(self, Channel::Email | Channel::DirectMail)
    }

    pub(crate) fn keeps_quiet_hours(self) -> bool {
        self == Channel::Email
    }
}

/// What a sales task asks of the rep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    Call,
    LinkedinConnect,
    LinkedinMessage,
    PersonalEmail,
    MeetingAsk,
}

impl TaskKind {
    pub const ALL: [TaskKind; 5] = [
        TaskKind::Call,
        TaskKind::LinkedinConnect,
        TaskKind::LinkedinMessage,
        TaskKind::PersonalEmail,
        TaskKind::MeetingAsk,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::Call => "call",
            TaskKind::LinkedinConnect => "linkedin_connect",
            TaskKind::LinkedinMessage => "linkedin_message",
            TaskKind::PersonalEmail => "personal_email",
            TaskKind::MeetingAsk => "meeting_ask",
        }
    }

    pub fn from_key(key: &str) -> Option<TaskKind> {
        TaskKind::ALL.into_iter().find(|kind| kind.as_str() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            TaskKind::Call => "Call",
            TaskKind::LinkedinConnect => "Connect on LinkedIn with",
            TaskKind::LinkedinMessage => "Message on LinkedIn",
            TaskKind::PersonalEmail => "Write a personal email to",
            TaskKind::MeetingAsk => "Ask for a meeting with",
        }
    }
}

/// What enrols an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PlayTrigger {
    /// The account enters a journey stage.
    Stage { stage: Stage },
    /// A stored intent surge; on any of `topics` when given.
    IntentSurge {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        topics: Vec<String>,
    },
    /// A stored trigger event of this kind (`funding`, `leadership_change`, …).
    TriggerEvent { event: String },
    /// The account joins a tier of the TAL.
    Tier { tier: Tier },
    /// The account joins a cluster.
    Cluster { cluster: String },
    /// Every account of the audience, again every `every_days`.
    Schedule { every_days: Days },
}

impl PlayTrigger {
    pub fn describe(&self) -> String {
        match self {
            PlayTrigger::Stage { stage } => format!("enters stage {}", stage.as_str()),
            PlayTrigger::IntentSurge { topics } if topics.is_empty() => {
                "intent surge on any topic".to_owned()
            }
            PlayTrigger::IntentSurge { topics } => {
                format!("intent surge on {}", topics.join(" or "))
            }
            PlayTrigger::TriggerEvent { event } => format!("trigger event {event}"),
            PlayTrigger::Tier { tier } => format!("joins tier {}", tier.as_str()),
            PlayTrigger::Cluster { cluster } => format!("joins cluster {cluster}"),
            PlayTrigger::Schedule { every_days } => format!("every {} days", every_days.get()),
        }
    }
}

/// Which accounts, and within each which people.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Audience {
    /// Tiers of the TAL; any approved account when empty (accounts off the TAL are never
    /// in a play's audience).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<Tier>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub clusters: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<Stage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_fit: Option<Threshold>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_fit: Option<Threshold>,
    /// The buying roles to reach; every known contact when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<BuyingRole>,
    /// At most this many people per account (the most senior roles first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_people: Option<u32>,
}

/// One step: a channel, what it carries, and how long after the previous step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub channel: Channel,
    /// Days after the previous step (after enrolment for the first).
    #[serde(default)]
    pub wait_days: u32,
    /// The email template (`email`; also the draft of a personal email task).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// `task`: what the rep does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskKind>,
    /// `task`: talking points, in the rep's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// `alert`: the webhook (`[channels.webhooks.NAME]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
    /// `ad_audience`: the audience's name (its export file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// `direct_mail`: what is sent (the vendor's item code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// Only when this holds at the step's time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<Condition>,
}

/// A step's condition, checked when it comes due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// The person has not opened, clicked or replied to the play's emails.
    NotEngaged,
    /// The person opened or clicked one of the play's emails.
    Engaged,
}

/// What ends an enrolment (for the account, or for one person).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exit {
    Replied,
    MeetingHeld,
    OpportunityCreated,
    OptedOut,
    LeftTal,
}

impl Exit {
    pub fn as_str(self) -> &'static str {
        match self {
            Exit::Replied => "replied",
            Exit::MeetingHeld => "meeting_held",
            Exit::OpportunityCreated => "opportunity_created",
            Exit::OptedOut => "opted_out",
            Exit::LeftTal => "left_tal",
        }
    }
}

fn default_exits() -> Vec<Exit> {
    vec![
        Exit::Replied,
        Exit::MeetingHeld,
        Exit::OpportunityCreated,
        Exit::OptedOut,
        Exit::LeftTal,
    ]
}

/// How a tier runs the play.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// abm sends every step.
    Automatic,
    /// Email steps become personal email tasks for the owner; the rest run as written.
    Tasks,
}

/// Per-tier modes: 1:1 runs as tasks unless said otherwise; the others run automatically.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Automation {
    #[serde(rename = "1:1", default = "tasks")]
    pub one_to_one: Mode,
    #[serde(rename = "1:few", default = "automatic")]
    pub one_to_few: Mode,
    #[serde(rename = "1:many", default = "automatic")]
    pub one_to_many: Mode,
}

fn tasks() -> Mode {
    Mode::Tasks
}

fn automatic() -> Mode {
    Mode::Automatic
}

impl Default for Automation {
    fn default() -> Self {
        Automation {
            one_to_one: Mode::Tasks,
            one_to_few: Mode::Automatic,
            one_to_many: Mode::Automatic,
        }
    }
}

impl Automation {
    pub fn mode(&self, tier: Option<Tier>) -> Mode {
        match tier {
            Some(Tier::OneToOne) => self.one_to_one,
            Some(Tier::OneToFew) => self.one_to_few,
            Some(Tier::OneToMany) | None => self.one_to_many,
        }
    }
}

/// One `[[plays]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Play {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub trigger: PlayTrigger,
    #[serde(default)]
    pub audience: Audience,
    pub steps: Vec<Step>,
    #[serde(default = "default_exits")]
    pub exits: Vec<Exit>,
    #[serde(default)]
    pub automation: Automation,
    /// Planned with the reps: the guard's conflict rule does not hold its touches.
    #[serde(default)]
    pub coordinated: bool,
    /// An account enrols again no sooner than this after its last enrolment ended.
    #[serde(default = "default_reenter")]
    pub reenter_after_days: Days,
    /// A paused play enrols nobody and sends nothing.
    #[serde(default)]
    pub paused: bool,
}

fn default_reenter() -> Days {
    Days(90)
}

/// What validation needs to know besides the plays: the templates and webhooks defined.
pub struct Known<'a> {
    pub templates: &'a dyn Fn(&str) -> bool,
    pub webhooks: &'a dyn Fn(&str) -> bool,
}

/// Checks every play; the error names the play and the step.
pub fn validate(plays: &[Play], known: &Known<'_>) -> Result<(), String> {
    let mut names = BTreeSet::new();
    for (index, play) in plays.iter().enumerate() {
        let name = play.name.trim();
        if name.is_empty() || name.len() > 80 {
            return Err(format!(
                "plays[{index}]: a play needs a name of 1 to 80 characters"
            ));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "play {name:?}: a name is letters, digits, '-' and '_' (it is used on the command line and in URLs)"
            ));
        }
        if !names.insert(name.to_owned()) {
            return Err(format!("play {name:?}: two plays have this name"));
        }
        let at = format!("play {name:?}");
        if play.steps.is_empty() {
            return Err(format!("{at}: a play needs at least one step"));
        }
        if let PlayTrigger::TriggerEvent { event } = &play.trigger
            && TriggerKind::from_key(event.trim()).is_none()
        {
            return Err(format!(
                "{at}: trigger event {event:?} is not one of {}",
                TriggerKind::ALL
                    .iter()
                    .map(|kind| kind.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if let PlayTrigger::Cluster { cluster } = &play.trigger
            && cluster.trim().is_empty()
        {
            return Err(format!("{at}: trigger cluster is empty"));
        }
        if let (Some(min), Some(max)) = (play.audience.min_fit, play.audience.max_fit)
            && min.get() > max.get()
        {
            return Err(format!("{at}: audience min_fit is above max_fit"));
        }
        for (number, step) in play.steps.iter().enumerate() {
            let at = format!("{at} step {}", number + 1);
            if step.wait_days > 365 {
                return Err(format!("{at}: wait_days is at most 365"));
            }
            let needs = |field: &str, value: &Option<String>| -> Result<(), String> {
                match value.as_deref().map(str::trim) {
                    Some(text) if !text.is_empty() => Ok(()),
                    _ => Err(format!(
                        "{at}: a {} step needs `{field}`",
                        step.channel.as_str()
                    )),
                }
            };
            match step.channel {
                Channel::Email => needs("template", &step.template)?,
                Channel::Task => {
                    if step.task.is_none() {
                        return Err(format!(
                            "{at}: a task step needs `task` (one of {})",
                            TaskKind::ALL.map(TaskKind::as_str).join(", ")
                        ));
                    }
                }
                Channel::Alert => needs("webhook", &step.webhook)?,
                Channel::AdAudience => needs("audience", &step.audience)?,
                Channel::DirectMail => needs("item", &step.item)?,
                Channel::CrmWriteBack => {}
            }
            if let Some(template) = &step.template
                && !(known.templates)(template)
            {
                return Err(format!(
                    "{at}: no template named {template:?} in [templates]"
                ));
            }
            if let Some(webhook) = &step.webhook
                && !(known.webhooks)(webhook)
            {
                return Err(format!(
                    "{at}: no webhook named {webhook:?} in [channels.webhooks]"
                ));
            }
            if let Some(audience) = &step.audience
                && !audience
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(format!(
                    "{at}: audience {audience:?} is letters, digits, '-' and '_' (it names a file)"
                ));
            }
        }
    }
    Ok(())
}

/// What the audience check needs of an account.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountView<'a> {
    /// The TAL tier, for approved accounts only.
    pub tier: Option<Tier>,
    pub on_tal: bool,
    pub cluster: Option<&'a str>,
    pub stage: Option<Stage>,
    pub fit: Option<f64>,
}

impl Audience {
    pub fn admits(&self, account: &AccountView<'_>) -> bool {
        if !account.on_tal {
            return false;
        }
        if !self.tiers.is_empty() && !account.tier.is_some_and(|tier| self.tiers.contains(&tier)) {
            return false;
        }
        if !self.clusters.is_empty()
            && !account.cluster.is_some_and(|cluster| {
                self.clusters
                    .iter()
                    .any(|wanted| wanted.trim().eq_ignore_ascii_case(cluster.trim()))
            })
        {
            return false;
        }
        if !self.stages.is_empty()
            && !account
                .stage
                .is_some_and(|stage| self.stages.contains(&stage))
        {
            return false;
        }
        let fit = account.fit;
        if let Some(min) = self.min_fit
            && !fit.is_some_and(|fit| fit >= min.get())
        {
            return false;
        }
        if let Some(max) = self.max_fit
            && !fit.is_some_and(|fit| fit <= max.get())
        {
            return false;
        }
        true
    }

    /// The people to reach among `people` (contact id, role), in the order of the audience's
    /// roles, at most `max_people`. Without roles, everyone with a role first, then the rest.
    pub fn people(&self, people: &[(i64, Option<BuyingRole>)]) -> Vec<(i64, Option<BuyingRole>)> {
        let mut chosen: Vec<(i64, Option<BuyingRole>)> = if self.roles.is_empty() {
            let mut all = people.to_vec();
            all.sort_by_key(|(id, role)| (role.is_none(), role.map(|r| r as u8), *id));
            all
        } else {
            let mut wanted = Vec::new();
            for role in &self.roles {
                let mut holders: Vec<_> = people
                    .iter()
                    .filter(|(_, held)| *held == Some(*role))
                    .copied()
                    .collect();
                holders.sort_by_key(|(id, _)| *id);
                wanted.extend(holders);
            }
            wanted
        };
        let mut seen = BTreeSet::new();
        chosen.retain(|(id, _)| seen.insert(*id));
        if let Some(max) = self.max_people {
            chosen.truncate(max as usize);
        }
        chosen
    }
}

/// One touch a play plans for an enrolment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedTouch {
    /// 1-based.
    pub step: u32,
    pub channel: Channel,
    /// The task, when the channel is `task` (also a personal email replacing an email).
    pub task: Option<TaskKind>,
    /// The person, for person-addressed channels.
    pub contact: Option<i64>,
    /// When it comes due (microseconds).
    pub due: i64,
    /// A key unique to this touch of this enrolment: the channel de-duplicates by it.
    pub key: String,
}

/// The touches of one enrolment that started at `enrolled_at`: each step for each person
/// (person-addressed channels) or once for the account.
pub fn plan(
    play: &Play,
    enrolment: i64,
    enrolled_at: i64,
    tier: Option<Tier>,
    people: &[i64],
) -> Vec<PlannedTouch> {
    let mode = play.automation.mode(tier);
    let mut due = enrolled_at;
    let mut touches = Vec::new();
    for (index, step) in play.steps.iter().enumerate() {
        due += i64::from(step.wait_days) * MICROS_PER_DAY;
        let number = index as u32 + 1;
        let (channel, task) = match (step.channel, mode) {
            (Channel::Email, Mode::Tasks) => (Channel::Task, Some(TaskKind::PersonalEmail)),
            (channel, _) => (channel, step.task),
        };
        if channel.reaches_person() {
            for contact in people {
                touches.push(PlannedTouch {
                    step: number,
                    channel,
                    task,
                    contact: Some(*contact),
                    due,
                    key: format!("{enrolment}:{number}:{contact}"),
                });
            }
        } else {
            touches.push(PlannedTouch {
                step: number,
                channel,
                task,
                contact: None,
                due,
                key: format!("{enrolment}:{number}:account"),
            });
        }
    }
    touches
}

/// Everything plays need, validated together: the plays, the guard, the templates and the
/// channels they name.
#[derive(Debug)]
pub struct Setup {
    pub plays: Vec<Play>,
    pub guard: guard::Guard,
    pub templates: template::Templates,
    pub channels: channels::ChannelsConfig,
}

impl Setup {
    /// Each error says which table it is about (`[guard]`, `[templates]`, a play…).
    pub fn new(
        plays: &[Play],
        guard: &guard::GuardConfig,
        templates: &BTreeMap<String, template::EmailTemplate>,
        blocks: &BTreeMap<String, template::Block>,
        channels: &channels::ChannelsConfig,
    ) -> Result<Setup, String> {
        let guard = guard::Guard::new(guard).map_err(|error| format!("[guard] {error}"))?;
        let compiled = template::Templates::new(templates, blocks)
            .map_err(|error| format!("[templates] {error}"))?;
        channels
            .validate()
            .map_err(|error| format!("[channels] {error}"))?;
        validate(
            plays,
            &Known {
                templates: &|name| templates.contains_key(name),
                webhooks: &|name| channels.webhooks.contains_key(name),
            },
        )
        .map_err(|error| format!("[[plays]] {error}"))?;
        Ok(Setup {
            plays: plays.to_vec(),
            guard,
            templates: compiled,
            channels: channels.clone(),
        })
    }

    pub fn play(&self, name: &str) -> Option<&Play> {
        by_name(&self.plays, name)
    }
}

/// The plays, by name.
pub fn by_name<'a>(plays: &'a [Play], name: &str) -> Option<&'a Play> {
    plays.iter().find(|play| play.name == name)
}

#[cfg(test)]
mod tests;
