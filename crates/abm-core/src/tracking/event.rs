//! A collected event: the fields the `/t.js` snippet (or a site's own code) posts, checked one
//! by one into a [`CollectEvent`], and the activity it becomes.
//!
//! The rules, and their reasons:
//! - the event id is the client's (8–64 URL-safe characters, random per event) so a retried
//!   beacon is stored once: the activity's id is `web:{id}`;
//! - the visitor id is the first-party cookie's value (16–64 URL-safe characters): long
//!   enough to be random, short and plain enough to be a key;
//! - the time is the server's: a visitor's clock is wrong as often as not, and a client could
//!   otherwise write into the past of the scores;
//! - URLs are absolute `http`/`https` only, normalised, without credentials; with
//!   `[tracking] allowed_origins`, a page elsewhere (a scraped copy of the site still running
//!   the snippet, a staging host) is refused;
//! - values the snippet reads from the browser rather than from the site's code are lenient
//!   where strictness would lose a real visit: a referrer that is no web address (Android apps
//!   send `android-app://…`) is dropped, and so is an email a person mistyped into a form (the
//!   form fill itself is kept, just not identified);
//! - an identify is not an activity: it says who the visitor is, and the visitor's events
//!   (earlier ones too) become that person's.

use super::config::MAX_TOPIC_CHARS;
use super::{TrackingConfig, http_url};
use crate::entity::{Activity, ActivityKind};
use crate::value::{ActivityId, Email, Topic};
use jiff::Timestamp;

/// The channel of every website activity.
pub const CHANNEL: &str = "web";

/// The activity kinds a website may send as custom events. The others are sent by abm itself
/// (email opens and clicks, through signed links), by the CRM (meetings, calls) or by ad
/// platforms: accepting them from a browser would let anyone invent them.
pub const CUSTOM_KINDS: [ActivityKind; 5] = [
    ActivityKind::ContentDownload,
    ActivityKind::WebinarRegistered,
    ActivityKind::TrialSignup,
    ActivityKind::Chat,
    ActivityKind::Other,
];

const MAX_TITLE_CHARS: usize = 300;
const MAX_CAMPAIGN_CHARS: usize = 200;
/// The offending value is shown in an error up to this many characters.
const MAX_SHOWN_CHARS: usize = 80;

/// An event as posted, before any check: the web layer deserializes the JSON body into this
/// and hands it to [`CollectEvent::parse`]. Unknown fields are refused, so a typo in a site's
/// own tracking code is an error rather than data silently lost.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvent {
    pub id: Option<String>,
    pub visitor: Option<String>,
    #[serde(rename = "type")]
    pub r#type: Option<String>,
    pub url: Option<String>,
    pub referrer: Option<String>,
    pub title: Option<String>,
    pub email: Option<String>,
    /// The activity kind of a custom event (`content_download`, `trial_signup`, …).
    pub name: Option<String>,
    pub topic: Option<String>,
    pub campaign: Option<String>,
    pub consent: Option<bool>,
}

/// What kind of event the snippet sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    PageView,
    Identify,
    FormSubmit,
    Custom,
}

impl EventType {
    pub const ALL: [EventType; 4] = [
        Self::PageView,
        Self::Identify,
        Self::FormSubmit,
        Self::Custom,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PageView => "page_view",
            Self::Identify => "identify",
            Self::FormSubmit => "form_submit",
            Self::Custom => "custom",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == key)
    }
}

/// A field of an event that was refused: which one, why, and what it held (shortened to at
/// most 80 characters, so an error never echoes a megabyte back).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {message}{}", shown(value))]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
    pub value: String,
}

fn shown(value: &str) -> String {
    if value.is_empty() {
        String::new()
    } else {
        // Debug quoting escapes control characters: a log line stays one line.
        format!(" (received {value:?})")
    }
}

impl FieldError {
    fn new(field: &'static str, message: impl Into<String>, value: &str) -> Self {
        let value = if value.chars().count() > MAX_SHOWN_CHARS {
            let mut head: String = value.chars().take(MAX_SHOWN_CHARS - 1).collect();
            head.push('…');
            head
        } else {
            value.to_owned()
        };
        Self {
            field,
            message: message.into(),
            value,
        }
    }

    fn missing(field: &'static str, why: &str) -> Self {
        Self::new(field, format!("is required {why}"), "")
    }
}

/// Whether `id` can be an event id: 8 to 64 letters, digits, `-` and `_`.
pub fn valid_event_id(id: &str) -> bool {
    url_safe(id, 8, 64)
}

/// Whether `id` can be a visitor id: 16 to 64 letters, digits, `-` and `_`.
pub fn valid_visitor_id(id: &str) -> bool {
    url_safe(id, 16, 64)
}

fn url_safe(text: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&text.len())
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

/// A present, non-blank value; blank ones count as absent (a page without a title).
fn present(value: Option<String>) -> Option<String> {
    value.filter(|text| !text.trim().is_empty())
}

/// Whitespace collapsed (titles and names carry line breaks and tabs from the page), at most
/// `max` characters, no other control character.
fn short_text(
    field: &'static str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, FieldError> {
    let Some(value) = present(value) else {
        return Ok(None);
    };
    let collapsed = value.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("is longer than {max} characters"),
            &value,
        ));
    }
    if collapsed.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "contains a control character",
            &value,
        ));
    }
    Ok(Some(collapsed))
}

/// One collected event, valid: holding one means every field passed its rule.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectEvent {
    id: String,
    activity_id: ActivityId,
    visitor: String,
    event_type: EventType,
    custom_kind: Option<ActivityKind>,
    url: Option<url::Url>,
    referrer: Option<String>,
    title: Option<String>,
    email: Option<Email>,
    topic: Option<String>,
    campaign: Option<String>,
    occurred_at: Timestamp,
}

impl CollectEvent {
    /// Checks a raw event received at `received_at` (microseconds since the epoch, the
    /// server's clock). The first field that fails is named; `consent` is not looked at here
    /// (it is [`privacy`](super::privacy::privacy)'s).
    pub fn parse(
        raw: RawEvent,
        received_at: i64,
        config: &TrackingConfig,
    ) -> Result<Self, FieldError> {
        let id = raw
            .id
            .ok_or_else(|| FieldError::missing("id", "(a random id per event)"))?;
        if !valid_event_id(&id) {
            return Err(FieldError::new(
                "id",
                "must be 8 to 64 letters, digits, '-' or '_'",
                &id,
            ));
        }
        let activity_id = ActivityId::parse(&format!("web:{id}"))
            .map_err(|error| FieldError::new("id", error.0, &id))?;
        let visitor = raw
            .visitor
            .ok_or_else(|| FieldError::missing("visitor", "(the visitor cookie's id)"))?;
        if !valid_visitor_id(&visitor) {
            return Err(FieldError::new(
                "visitor",
                "must be 16 to 64 letters, digits, '-' or '_'",
                &visitor,
            ));
        }
        let type_names = || {
            EventType::ALL
                .iter()
                .map(|kind| kind.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let raw_type = raw
            .r#type
            .ok_or_else(|| FieldError::missing("type", &format!("(one of {})", type_names())))?;
        let event_type = EventType::from_key(&raw_type).ok_or_else(|| {
            FieldError::new(
                "type",
                format!("must be one of {}", type_names()),
                &raw_type,
            )
        })?;

        let url = match present(raw.url) {
            Some(text) => Some(page_url(&text, config)?),
            None if matches!(event_type, EventType::PageView | EventType::FormSubmit) => {
                return Err(FieldError::missing(
                    "url",
                    &format!("for a {} event", event_type.as_str()),
                ));
            }
            None => None,
        };
        let referrer = present(raw.referrer)
            .and_then(|text| http_url(&text).ok())
            .map(String::from);
        let title = short_text("title", raw.title, MAX_TITLE_CHARS)?;
        let email = match (present(raw.email), event_type) {
            (Some(text), EventType::FormSubmit) => Email::parse(&text).ok(),
            (Some(text), _) => Some(
                Email::parse(&text).map_err(|error| FieldError::new("email", error.0, &text))?,
            ),
            (None, EventType::Identify) => {
                return Err(FieldError::missing("email", "for an identify event"));
            }
            (None, _) => None,
        };
        let custom_kind = match (present(raw.name), event_type) {
            (Some(name), EventType::Custom) => Some(custom_kind(&name)?),
            (None, EventType::Custom) => {
                return Err(FieldError::missing(
                    "name",
                    &format!("for a custom event (one of {})", custom_names()),
                ));
            }
            (Some(name), _) => {
                return Err(FieldError::new("name", "is only for custom events", &name));
            }
            (None, _) => None,
        };
        let topic = match present(raw.topic) {
            Some(text) => {
                let topic = Topic::parse(&text)
                    .map_err(|error| FieldError::new("topic", error.0, &text))?;
                if topic.as_str().chars().count() > MAX_TOPIC_CHARS {
                    return Err(FieldError::new(
                        "topic",
                        format!("is longer than {MAX_TOPIC_CHARS} characters"),
                        &text,
                    ));
                }
                Some(topic.as_str().to_owned())
            }
            None => None,
        };
        let campaign = short_text("campaign", raw.campaign, MAX_CAMPAIGN_CHARS)?;
        let occurred_at = Timestamp::from_microsecond(received_at).map_err(|_| {
            FieldError::new(
                "received_at",
                "is out of range: the server's clock is wrong",
                &received_at.to_string(),
            )
        })?;
        Ok(Self {
            id,
            activity_id,
            visitor,
            event_type,
            custom_kind,
            url,
            referrer,
            title,
            email,
            topic,
            campaign,
            occurred_at,
        })
    }

    /// The client's event id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The id the activity is stored under: `web:{id}`.
    pub fn activity_id(&self) -> String {
        self.activity_id.as_str().to_owned()
    }

    pub fn visitor(&self) -> &str {
        &self.visitor
    }

    pub fn event_type(&self) -> EventType {
        self.event_type
    }

    /// The activity this event is: page views and form submits, and custom events by their
    /// name; `None` for an identify, which links the visitor but is not itself an activity.
    pub fn kind(&self) -> Option<ActivityKind> {
        match self.event_type {
            EventType::PageView => Some(ActivityKind::PageView),
            EventType::FormSubmit => Some(ActivityKind::FormFill),
            EventType::Custom => self.custom_kind,
            EventType::Identify => None,
        }
    }

    /// The person this event says the visitor is: an identify, or a form submitted with an
    /// email.
    pub fn identifies(&self) -> Option<&Email> {
        self.email.as_ref()
    }

    /// The page, normalised.
    pub fn url(&self) -> Option<&str> {
        self.url.as_ref().map(url::Url::as_str)
    }

    pub fn referrer(&self) -> Option<&str> {
        self.referrer.as_deref()
    }

    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    pub fn campaign(&self) -> Option<&str> {
        self.campaign.as_deref()
    }

    /// When the server received the event.
    pub fn occurred_at(&self) -> Timestamp {
        self.occurred_at
    }

    /// The event's topic: the one it names, else the `[tracking.topics]` topic of its page's
    /// path. Any event on a page counts (a form filled on the intent-data page is research on
    /// intent data too).
    pub fn topic(&self, config: &TrackingConfig) -> Option<String> {
        if let Some(topic) = &self.topic {
            return Some(topic.clone());
        }
        let url = self.url.as_ref()?;
        config.topic_for_path(url.path()).map(str::to_owned)
    }

    /// The activity to store, `None` for an identify. It carries the event's email when it
    /// has one, so identity resolution ties it to the person; otherwise it is the visitor's,
    /// and the store ties it to whoever the visitor is known to be (or later becomes).
    pub fn activity(&self, config: &TrackingConfig) -> Option<Activity> {
        Some(Activity {
            id: self.activity_id.clone(),
            kind: self.kind()?,
            occurred_at: self.occurred_at,
            email: self.email.clone(),
            domain: None,
            url: self.url().map(str::to_owned),
            topic: self.topic(config),
            campaign: self.campaign.clone(),
            channel: Some(CHANNEL.to_owned()),
        })
    }
}

fn page_url(text: &str, config: &TrackingConfig) -> Result<url::Url, FieldError> {
    let url = http_url(text).map_err(|problem| FieldError::new("url", problem, text))?;
    if !config.origin_allowed(Some(&url.origin().ascii_serialization())) {
        return Err(FieldError::new(
            "url",
            "is not on a site of [tracking] allowed_origins",
            text,
        ));
    }
    Ok(url)
}

fn custom_names() -> String {
    CUSTOM_KINDS
        .iter()
        .map(|kind| kind.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A custom event's name, in the spellings [`ActivityKind::parse`] reads (`Content
/// Download`, `trial`), limited to [`CUSTOM_KINDS`].
fn custom_kind(name: &str) -> Result<ActivityKind, FieldError> {
    ActivityKind::parse(name)
        .ok()
        .filter(|kind| CUSTOM_KINDS.contains(kind))
        .ok_or_else(|| FieldError::new("name", format!("must be one of {}", custom_names()), name))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECEIVED: i64 = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z
    const VISITOR: &str = "4f9c2a7be01d4c3a9e8f";

    fn raw(kind: &str) -> RawEvent {
        RawEvent {
            id: Some("ev-00000001".into()),
            visitor: Some(VISITOR.into()),
            r#type: Some(kind.into()),
            url: Some("https://www.example.com/solutions/intent-data?utm_source=ads".into()),
            ..RawEvent::default()
        }
    }

    fn config() -> TrackingConfig {
        TrackingConfig {
            topics: [("/solutions/intent".to_owned(), "Intent Data".to_owned())].into(),
            ..TrackingConfig::default()
        }
    }

    fn parse(raw: RawEvent) -> Result<CollectEvent, FieldError> {
        CollectEvent::parse(raw, RECEIVED, &config())
    }

    #[test]
    fn a_page_view_becomes_a_web_activity_at_the_servers_time() {
        let config = config();
        let event = CollectEvent::parse(
            RawEvent {
                url: Some("HTTPS://WWW.Example.com/solutions/intent-data?utm_source=ads".into()),
                referrer: Some("https://www.google.com/".into()),
                title: Some("  Intent data\n  | Example ".into()),
                campaign: Some("Q1 launch".into()),
                consent: Some(true),
                ..raw("page_view")
            },
            RECEIVED,
            &config,
        )
        .expect("valid page view");
        assert_eq!(event.id(), "ev-00000001");
        assert_eq!(event.activity_id(), "web:ev-00000001");
        assert_eq!(event.visitor(), VISITOR);
        assert_eq!(event.event_type(), EventType::PageView);
        assert_eq!(event.kind(), Some(ActivityKind::PageView));
        assert_eq!(event.identifies(), None);
        assert_eq!(event.title(), Some("Intent data | Example"));
        assert_eq!(event.referrer(), Some("https://www.google.com/"));
        assert_eq!(event.occurred_at().as_microsecond(), RECEIVED);
        let activity = event.activity(&config).expect("an activity");
        assert_eq!(activity.id.as_str(), "web:ev-00000001");
        assert_eq!(activity.kind, ActivityKind::PageView);
        assert_eq!(activity.occurred_at.as_microsecond(), RECEIVED);
        assert_eq!(
            activity.url.as_deref(),
            Some("https://www.example.com/solutions/intent-data?utm_source=ads")
        );
        assert_eq!(activity.topic.as_deref(), Some("Intent Data"));
        assert_eq!(activity.campaign.as_deref(), Some("Q1 launch"));
        assert_eq!(activity.channel.as_deref(), Some("web"));
        assert_eq!((activity.email, activity.domain), (None, None));
    }

    #[test]
    fn an_identify_links_the_visitor_but_is_no_activity() {
        let event = parse(RawEvent {
            email: Some(" Jane@Acme.com ".into()),
            url: None,
            ..raw("identify")
        })
        .expect("valid identify");
        assert_eq!(event.kind(), None);
        assert_eq!(event.activity(&config()), None);
        assert_eq!(event.identifies().map(Email::as_str), Some("jane@acme.com"));
    }

    #[test]
    fn a_form_submit_with_an_email_identifies_and_carries_it() {
        let event = parse(RawEvent {
            email: Some("Jane@Acme.com".into()),
            ..raw("form_submit")
        })
        .expect("valid form submit");
        assert_eq!(event.kind(), Some(ActivityKind::FormFill));
        assert_eq!(event.identifies().map(Email::as_str), Some("jane@acme.com"));
        let activity = event.activity(&config()).expect("an activity");
        assert_eq!(
            activity.email.as_ref().map(Email::as_str),
            Some("jane@acme.com")
        );
        assert_eq!(activity.topic.as_deref(), Some("Intent Data"));
    }

    #[test]
    fn a_mistyped_form_email_keeps_the_form_fill_unidentified() {
        let event = parse(RawEvent {
            email: Some("jane@acme".into()),
            ..raw("form_submit")
        })
        .expect("the fill is kept");
        assert_eq!(event.identifies(), None);
        assert_eq!(event.kind(), Some(ActivityKind::FormFill));
    }

    #[test]
    fn custom_events_name_a_kind_a_website_may_send() {
        for (name, kind) in [
            ("content_download", ActivityKind::ContentDownload),
            ("Content Download", ActivityKind::ContentDownload),
            ("webinar_registered", ActivityKind::WebinarRegistered),
            ("trial", ActivityKind::TrialSignup),
            ("chat", ActivityKind::Chat),
            ("other", ActivityKind::Other),
        ] {
            let event = parse(RawEvent {
                name: Some(name.into()),
                topic: Some("  Customer   Data ".into()),
                url: None,
                ..raw("custom")
            })
            .expect(name);
            assert_eq!(event.kind(), Some(kind), "{name}");
            let activity = event.activity(&config()).expect("an activity");
            assert_eq!(activity.kind, kind);
            assert_eq!(activity.topic.as_deref(), Some("Customer Data"));
            assert_eq!(activity.url, None);
        }
    }

    #[test]
    fn an_explicit_topic_wins_over_the_pages() {
        let event = parse(RawEvent {
            topic: Some("Pricing".into()),
            ..raw("page_view")
        })
        .expect("valid");
        assert_eq!(event.topic(&config()).as_deref(), Some("Pricing"));
        let elsewhere = parse(RawEvent {
            url: Some("https://www.example.com/about".into()),
            ..raw("page_view")
        })
        .expect("valid");
        assert_eq!(elsewhere.topic(&config()), None);
    }

    #[test]
    fn a_referrer_that_is_no_web_address_is_dropped_not_refused() {
        for referrer in [
            "android-app://com.google.android.gm/",
            "javascript:void(0)",
            "",
            "  ",
        ] {
            let event = parse(RawEvent {
                referrer: Some(referrer.into()),
                ..raw("page_view")
            })
            .expect(referrer);
            assert_eq!(event.referrer(), None, "{referrer}");
        }
    }

    #[test]
    fn each_bad_field_is_named() {
        let long = |n: usize| Some("x".repeat(n));
        let cases: Vec<(RawEvent, &str)> = vec![
            (
                RawEvent {
                    id: None,
                    ..raw("page_view")
                },
                "id",
            ),
            (
                RawEvent {
                    id: Some("short".into()),
                    ..raw("page_view")
                },
                "id",
            ),
            (
                RawEvent {
                    id: long(65),
                    ..raw("page_view")
                },
                "id",
            ),
            (
                RawEvent {
                    id: Some("ev 0000001".into()),
                    ..raw("page_view")
                },
                "id",
            ),
            (
                RawEvent {
                    id: Some("ev-é000001".into()),
                    ..raw("page_view")
                },
                "id",
            ),
            (
                RawEvent {
                    visitor: None,
                    ..raw("page_view")
                },
                "visitor",
            ),
            (
                RawEvent {
                    visitor: Some("short".into()),
                    ..raw("page_view")
                },
                "visitor",
            ),
            (
                RawEvent {
                    visitor: Some("visitor/000000000001".into()),
                    ..raw("page_view")
                },
                "visitor",
            ),
            (
                RawEvent {
                    r#type: None,
                    ..raw("page_view")
                },
                "type",
            ),
            (raw("pageview"), "type"),
            (raw("email_open"), "type"),
            (
                RawEvent {
                    url: None,
                    ..raw("page_view")
                },
                "url",
            ),
            (
                RawEvent {
                    url: Some(" ".into()),
                    ..raw("form_submit")
                },
                "url",
            ),
            (
                RawEvent {
                    url: Some("javascript:alert(1)".into()),
                    ..raw("page_view")
                },
                "url",
            ),
            (
                RawEvent {
                    url: Some("/pricing".into()),
                    ..raw("page_view")
                },
                "url",
            ),
            (
                RawEvent {
                    url: Some(format!("https://example.com/{}", "a".repeat(2048))),
                    ..raw("page_view")
                },
                "url",
            ),
            (
                RawEvent {
                    url: Some("ftp://example.com/".into()),
                    ..raw("custom")
                },
                "url",
            ),
            (
                RawEvent {
                    title: long(301),
                    ..raw("page_view")
                },
                "title",
            ),
            (
                RawEvent {
                    title: Some("a\u{0}b".into()),
                    ..raw("page_view")
                },
                "title",
            ),
            (
                RawEvent {
                    email: None,
                    ..raw("identify")
                },
                "email",
            ),
            (
                RawEvent {
                    email: Some("jane".into()),
                    ..raw("identify")
                },
                "email",
            ),
            (
                RawEvent {
                    email: Some("jane@acme".into()),
                    ..raw("custom")
                },
                "email",
            ),
            (raw("custom"), "name"),
            (
                RawEvent {
                    name: Some("email_open".into()),
                    ..raw("custom")
                },
                "name",
            ),
            (
                RawEvent {
                    name: Some("meeting_held".into()),
                    ..raw("custom")
                },
                "name",
            ),
            (
                RawEvent {
                    name: Some("teleport".into()),
                    ..raw("custom")
                },
                "name",
            ),
            (
                RawEvent {
                    name: Some("chat".into()),
                    ..raw("page_view")
                },
                "name",
            ),
            (
                RawEvent {
                    topic: long(101),
                    ..raw("page_view")
                },
                "topic",
            ),
            (
                RawEvent {
                    topic: Some("a\u{7}b".into()),
                    ..raw("page_view")
                },
                "topic",
            ),
            (
                RawEvent {
                    campaign: long(201),
                    ..raw("page_view")
                },
                "campaign",
            ),
        ];
        for (index, (raw, field)) in cases.into_iter().enumerate() {
            let error = parse(raw).expect_err(field);
            assert_eq!(error.field, field, "case {index}: {error}");
            assert!(!error.message.is_empty());
        }
        // At the limits: accepted.
        let edges = RawEvent {
            id: Some("a".repeat(8)),
            visitor: Some("V_-".repeat(5) + "x"),
            title: long(300),
            topic: long(100),
            campaign: long(200),
            ..raw("page_view")
        };
        assert!(parse(edges).is_ok());
        assert!(
            parse(RawEvent {
                id: long(64),
                visitor: long(64),
                ..raw("page_view")
            })
            .is_ok()
        );
    }

    #[test]
    fn allowed_origins_refuse_pages_elsewhere() {
        let config = TrackingConfig {
            allowed_origins: vec!["https://www.example.com".into()],
            ..TrackingConfig::default()
        };
        assert!(CollectEvent::parse(raw("page_view"), RECEIVED, &config).is_ok());
        let copy = RawEvent {
            url: Some("https://www.example-clone.test/solutions/intent-data".into()),
            ..raw("page_view")
        };
        let error = CollectEvent::parse(copy, RECEIVED, &config).expect_err("elsewhere");
        assert_eq!(error.field, "url");
    }

    #[test]
    fn errors_show_a_shortened_value_and_read_as_a_sentence() {
        let error = parse(RawEvent {
            url: Some(format!("javascript:{}", "x".repeat(500))),
            ..raw("page_view")
        })
        .expect_err("refused");
        assert_eq!(error.value.chars().count(), 80);
        assert!(error.value.ends_with('…'));
        let text = error.to_string();
        assert!(
            text.starts_with("url must be an http or https URL (received \"javascript:"),
            "{text}"
        );
        let missing = parse(RawEvent {
            id: None,
            ..raw("page_view")
        })
        .expect_err("no id");
        assert_eq!(
            missing.to_string(),
            "id is required (a random id per event)"
        );
        let line = parse(RawEvent {
            visitor: Some("a\nb".into()),
            ..raw("page_view")
        })
        .expect_err("bad visitor")
        .to_string();
        assert!(!line.contains('\n'), "{line}");
    }

    #[test]
    fn a_clock_out_of_range_is_an_error_not_a_panic() {
        let error = CollectEvent::parse(raw("page_view"), i64::MAX, &config()).expect_err("range");
        assert_eq!(error.field, "received_at");
    }

    #[test]
    fn raw_events_read_the_type_key_and_refuse_unknown_keys() {
        // The web layer reads JSON; TOML goes through the same serde derive.
        let read: RawEvent =
            toml::from_str("id = \"ev-00000001\"\ntype = \"page_view\"\nconsent = false")
                .expect("known keys");
        assert_eq!(read.r#type.as_deref(), Some("page_view"));
        assert_eq!(read.consent, Some(false));
        assert!(toml::from_str::<RawEvent>("type = \"page_view\"\nextra = 1").is_err());
    }

    #[test]
    fn ids_follow_their_alphabet_and_lengths() {
        assert!(valid_event_id("ev-00000"));
        assert!(!valid_event_id("ev-0000"));
        assert!(valid_visitor_id("0123456789abcdef"));
        assert!(!valid_visitor_id("0123456789abcde"));
        assert!(!valid_visitor_id(&"a".repeat(65)));
        assert!(!valid_visitor_id("0123456789abcdef.."));
        for kind in EventType::ALL {
            assert_eq!(EventType::from_key(kind.as_str()), Some(kind));
        }
    }
}
