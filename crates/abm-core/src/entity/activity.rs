//! Activity: one thing that happened, from a closed set of kinds.

use crate::value::{ActivityId, Domain, Email, ValueError};
use jiff::Timestamp;

macro_rules! activity_kinds {
    ($($variant:ident => $name:literal),* $(,)?) => {
        /// What happened. A closed set: scoring weighs each kind, so an unknown kind in a
        /// file is an error rather than a silent zero.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum ActivityKind { $($variant),* }

        impl ActivityKind {
            pub const ALL: &'static [ActivityKind] = &[$(ActivityKind::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $(ActivityKind::$variant => $name),* }
            }

            /// The kind a canonical name (as stored) names.
            pub fn from_key(key: &str) -> Option<Self> {
                match key { $($name => Some(ActivityKind::$variant),)* _ => None }
            }
        }
    };
}

activity_kinds! {
    PageView => "page_view",
    FormFill => "form_fill",
    ContentDownload => "content_download",
    EmailSent => "email_sent",
    EmailOpen => "email_open",
    EmailClick => "email_click",
    EmailReply => "email_reply",
    AdImpression => "ad_impression",
    AdClick => "ad_click",
    WebinarRegistered => "webinar_registered",
    WebinarAttended => "webinar_attended",
    MeetingHeld => "meeting_held",
    Call => "call",
    DirectMail => "direct_mail",
    Chat => "chat",
    TrialSignup => "trial_signup",
    Other => "other",
}

impl ActivityKind {
    /// Something the team did to the account (a send), not something its people did: it
    /// never makes a person active or an account aware.
    pub fn is_outbound(self) -> bool {
        matches!(self, ActivityKind::EmailSent | ActivityKind::DirectMail)
    }

    /// Accepts the canonical names in any case and with spaces or hyphens (`Page View`,
    /// `email-open`), and the past-tense spellings marketing tools export (`email_opened`).
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        // Most files already hold abm's own names: those need no normalising copy.
        if let Some(kind) = Self::from_key(input) {
            return Ok(kind);
        }
        let key: String = input
            .trim()
            .chars()
            .map(|c| {
                if c == ' ' || c == '-' {
                    '_'
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect();
        let canonical = match key.as_str() {
            "pageview" | "visit" | "web_visit" => "page_view",
            "form_submit" | "form_submission" | "form_filled" => "form_fill",
            "download" | "content_downloaded" => "content_download",
            "email_delivered" | "email_send" => "email_sent",
            "email_opened" => "email_open",
            "email_clicked" => "email_click",
            "email_replied" => "email_reply",
            "ad_clicked" => "ad_click",
            "webinar_registration" => "webinar_registered",
            "webinar_attendance" => "webinar_attended",
            "meeting" | "meeting_completed" => "meeting_held",
            "phone_call" => "call",
            "trial" | "trial_started" => "trial_signup",
            other => other,
        };
        Self::from_key(canonical).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|kind| kind.as_str()).collect();
            ValueError::new(format!(
                "unknown activity type: use one of {}",
                names.join(", ")
            ))
        })
    }
}

/// One thing that happened. At least one of `email` and `domain` says who; an activity that
/// names neither can never be tied to an account and is refused at the edge.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub id: ActivityId,
    pub kind: ActivityKind,
    pub occurred_at: Timestamp,
    pub email: Option<Email>,
    pub domain: Option<Domain>,
    pub url: Option<String>,
    pub topic: Option<String>,
    pub campaign: Option<String>,
    pub channel: Option<String>,
}

impl Activity {
    /// A stable 64-bit fingerprint of everything the activity says (FNV-1a over its fields):
    /// the same id arriving with the same fingerprint is the same activity; with another
    /// fingerprint it is a conflict. Stable across abm versions, unlike `std`'s hasher, because
    /// fingerprints are stored.
    pub fn fingerprint(&self) -> i64 {
        let mut hash = Fnv1a::new();
        self.feed(&mut |bytes| hash.bytes(bytes));
        hash.0 as i64
    }

    /// The fingerprints of many activities, each equal to [`Activity::fingerprint`]'s.
    /// FNV-1a is a chain of dependent multiplications, one per byte, so one activity at a time
    /// leaves the multiplier idle most cycles; here four activities' chains run side by side.
    pub fn fingerprints<'a>(activities: impl IntoIterator<Item = &'a Activity>) -> Vec<i64> {
        let activities = activities.into_iter();
        let mut fingerprints = Vec::with_capacity(activities.size_hint().0);
        let mut inputs: [Vec<u8>; LANES] = Default::default();
        let mut filled = 0;
        for activity in activities {
            let input = &mut inputs[filled];
            input.clear();
            activity.feed(&mut |bytes| input.extend_from_slice(bytes));
            filled += 1;
            if filled == LANES {
                fingerprints.extend(fnv1a_lanes(&inputs).map(|hash| hash as i64));
                filled = 0;
            }
        }
        fingerprints.extend(inputs[..filled].iter().map(|input| {
            let mut hash = Fnv1a::new();
            hash.bytes(input);
            hash.0 as i64
        }));
        fingerprints
    }

    /// The bytes the fingerprint is taken over, in order. A separator byte that cannot occur
    /// in UTF-8 text keeps ("ab","c") apart from ("a","bc").
    fn feed(&self, sink: &mut impl FnMut(&[u8])) {
        fn field(sink: &mut impl FnMut(&[u8]), text: &str) {
            sink(text.as_bytes());
            sink(&[0xff]);
        }
        field(sink, self.id.as_str());
        field(sink, self.kind.as_str());
        sink(&self.occurred_at.as_microsecond().to_le_bytes());
        field(sink, self.email.as_ref().map_or("", Email::as_str));
        field(sink, self.domain.as_ref().map_or("", Domain::as_str));
        for text in [&self.url, &self.topic, &self.campaign, &self.channel] {
            field(sink, text.as_deref().unwrap_or(""));
        }
    }
}

/// Activities fingerprinted side by side by [`Activity::fingerprints`].
const LANES: usize = 4;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

struct Fnv1a(u64);

impl Fnv1a {
    fn new() -> Self {
        Self(FNV_OFFSET)
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(FNV_PRIME);
        }
    }
}

/// FNV-1a of each input: the bytes all inputs have, in lockstep; each input's rest alone.
fn fnv1a_lanes(inputs: &[Vec<u8>; LANES]) -> [u64; LANES] {
    let common = inputs.iter().map(Vec::len).min().unwrap_or(0);
    let [a, b, c, d] = inputs;
    let (mut ha, mut hb, mut hc, mut hd) = (FNV_OFFSET, FNV_OFFSET, FNV_OFFSET, FNV_OFFSET);
    for (((&xa, &xb), &xc), &xd) in a[..common]
        .iter()
        .zip(&b[..common])
        .zip(&c[..common])
        .zip(&d[..common])
    {
        ha = (ha ^ u64::from(xa)).wrapping_mul(FNV_PRIME);
        hb = (hb ^ u64::from(xb)).wrapping_mul(FNV_PRIME);
        hc = (hc ^ u64::from(xc)).wrapping_mul(FNV_PRIME);
        hd = (hd ^ u64::from(xd)).wrapping_mul(FNV_PRIME);
    }
    [(ha, a), (hb, b), (hc, c), (hd, d)].map(|(hash, input)| {
        let mut rest = Fnv1a(hash);
        rest.bytes(&input[common..]);
        rest.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_from_what_tools_export() {
        for (input, expected) in [
            ("page_view", "page_view"),
            ("Page View", "page_view"),
            ("email-opened", "email_open"),
            ("MEETING", "meeting_held"),
            ("webinar_attended", "webinar_attended"),
        ] {
            assert_eq!(
                ActivityKind::parse(input).map(ActivityKind::as_str),
                Ok(expected)
            );
        }
        assert!(ActivityKind::parse("teleport").is_err());
        assert!(ActivityKind::parse("").is_err());
        for kind in ActivityKind::ALL {
            assert_eq!(ActivityKind::parse(kind.as_str()), Ok(*kind));
        }
    }
}

#[cfg(test)]
mod fingerprint_tests {
    use super::*;

    fn activity(url: Option<&str>, campaign: Option<&str>) -> Activity {
        Activity {
            id: ActivityId::parse("a-1").expect("id"),
            kind: ActivityKind::PageView,
            occurred_at: "2026-03-01T10:00:00Z".parse().expect("time"),
            email: None,
            domain: Some(Domain::parse("acme.com").expect("domain")),
            url: url.map(str::to_owned),
            topic: None,
            campaign: campaign.map(str::to_owned),
            channel: None,
        }
    }

    #[test]
    fn fingerprints_side_by_side_equal_one_at_a_time() {
        // Every count up to past two groups of four, inputs of different lengths (the lanes
        // share a prefix, then each finishes alone), and empty optional fields.
        let all: Vec<Activity> = (0..11)
            .map(|index| {
                let url = format!("/page/{}", "x".repeat(index * 7));
                let mut activity = activity(
                    (index % 3 != 0).then_some(url.as_str()),
                    (index % 2 == 0).then_some("campaign"),
                );
                activity.id = ActivityId::parse(&format!("id-{index}")).expect("id");
                activity
            })
            .collect();
        for count in 0..=all.len() {
            let one_by_one: Vec<i64> = all[..count].iter().map(Activity::fingerprint).collect();
            assert_eq!(Activity::fingerprints(&all[..count]), one_by_one, "{count}");
        }
    }

    #[test]
    fn fingerprint_is_stable_and_sensitive() {
        let base = activity(Some("/pricing"), None);
        // A stored value: changing the hash function breaks stored fingerprints.
        assert_eq!(
            base.fingerprint(),
            activity(Some("/pricing"), None).fingerprint()
        );
        assert_ne!(
            base.fingerprint(),
            activity(Some("/pricing2"), None).fingerprint()
        );
        assert_ne!(
            activity(Some("/pricing"), Some("")).fingerprint(),
            activity(Some("/pricin"), Some("g")).fingerprint()
        );
        assert_eq!(
            base.fingerprint(),
            -5_467_906_748_483_380_434,
            "fingerprint changed: stored data would conflict"
        );
    }
}
