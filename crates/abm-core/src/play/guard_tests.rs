use super::*;
use proptest::prelude::*;

const HOUR: i64 = 3_600_000_000;
const DAY: i64 = 24 * HOUR;
/// 2026-12-02 (a Wednesday) 15:00 UTC.
const WEDNESDAY_3PM: i64 = 1_796_223_600_000_000;

fn guard() -> Guard {
    Guard::new(&GuardConfig::default()).expect("the defaults are valid")
}

fn person() -> PersonFacts {
    PersonFacts {
        contact_id: 7,
        email: Some("ada@initech.com".to_owned()),
        opted_out: false,
        lawful_basis: None,
        hard_bounced: false,
        country: Some("United States".to_owned()),
        suppressed: false,
        max_emails_per_month: None,
    }
}

fn account() -> AccountFacts {
    AccountFacts {
        account_id: 1,
        ..AccountFacts::default()
    }
}

fn decide(
    guard: &Guard,
    channel: Channel,
    person: &PersonFacts,
    account: &AccountFacts,
    at: i64,
) -> Decision {
    guard.decide(&Ask {
        channel,
        person: Some(person),
        account,
        coordinated: false,
        at,
        zone: &TimeZone::UTC,
    })
}

#[test]
fn the_anchor_is_a_wednesday_afternoon() {
    let local = jiff::Timestamp::from_microsecond(WEDNESDAY_3PM)
        .expect("valid")
        .to_zoned(TimeZone::UTC);
    assert_eq!(local.weekday(), Weekday::Wednesday);
    assert_eq!(local.hour(), 15);
}

#[test]
fn a_plain_email_in_working_hours_goes() {
    assert_eq!(
        decide(
            &guard(),
            Channel::Email,
            &person(),
            &account(),
            WEDNESDAY_3PM
        ),
        Decision::Send
    );
}

#[test]
fn opt_out_suppression_and_bounces_stop_a_touch_for_good() {
    let guard = guard();
    let cases = [
        (
            PersonFacts {
                opted_out: true,
                ..person()
            },
            Rule::OptedOut,
        ),
        (
            PersonFacts {
                suppressed: true,
                ..person()
            },
            Rule::SuppressionList,
        ),
        (
            PersonFacts {
                hard_bounced: true,
                ..person()
            },
            Rule::HardBounce,
        ),
        (
            PersonFacts {
                email: None,
                ..person()
            },
            Rule::NoAddress,
        ),
    ];
    for (person, rule) in cases {
        let decision = decide(&guard, Channel::Email, &person, &account(), WEDNESDAY_3PM);
        assert_eq!(decision.rule(), Some(rule), "{decision:?}");
        assert_eq!(decision.key(), "suppress");
    }
    // Opted out reaches every person-addressed channel, tasks included.
    let opted_out = PersonFacts {
        opted_out: true,
        ..person()
    };
    for channel in [Channel::Task, Channel::DirectMail, Channel::AdAudience] {
        assert_eq!(
            decide(&guard, channel, &opted_out, &account(), WEDNESDAY_3PM).rule(),
            Some(Rule::OptedOut)
        );
    }
}

#[test]
fn gdpr_and_casl_need_a_basis_on_record() {
    let guard = guard();
    let german = |basis| PersonFacts {
        country: Some("Germany".to_owned()),
        lawful_basis: basis,
        ..person()
    };
    assert_eq!(
        decide(
            &guard,
            Channel::Email,
            &german(None),
            &account(),
            WEDNESDAY_3PM
        )
        .rule(),
        Some(Rule::LawfulBasis)
    );
    assert_eq!(
        decide(
            &guard,
            Channel::Email,
            &german(Some(LawfulBasis::None)),
            &account(),
            WEDNESDAY_3PM
        )
        .rule(),
        Some(Rule::LawfulBasis)
    );
    assert_eq!(
        decide(
            &guard,
            Channel::Email,
            &german(Some(LawfulBasis::LegitimateInterest)),
            &account(),
            WEDNESDAY_3PM
        ),
        Decision::Send
    );
    let canadian = |basis| PersonFacts {
        country: Some("CA".to_owned()),
        lawful_basis: basis,
        ..person()
    };
    // CASL: legitimate interest is not consent.
    assert_eq!(
        decide(
            &guard,
            Channel::Email,
            &canadian(Some(LawfulBasis::LegitimateInterest)),
            &account(),
            WEDNESDAY_3PM
        )
        .rule(),
        Some(Rule::LawfulBasis)
    );
    assert_eq!(
        decide(
            &guard,
            Channel::Email,
            &canadian(Some(LawfulBasis::Consent)),
            &account(),
            WEDNESDAY_3PM
        ),
        Decision::Send
    );
    // An unknown country is treated as the configured (strictest) regime.
    let nowhere = PersonFacts {
        country: None,
        ..person()
    };
    assert_eq!(
        decide(&guard, Channel::Email, &nowhere, &account(), WEDNESDAY_3PM).rule(),
        Some(Rule::LawfulBasis)
    );
}

#[test]
fn do_not_contact_suppresses_and_owner_hold_delays() {
    let guard = guard();
    let blocked = AccountFacts {
        do_not_contact: true,
        ..account()
    };
    assert_eq!(
        decide(&guard, Channel::Task, &person(), &blocked, WEDNESDAY_3PM).rule(),
        Some(Rule::DoNotContact)
    );
    let held = AccountFacts {
        hold_until: Some(WEDNESDAY_3PM + 2 * DAY),
        ..account()
    };
    match decide(&guard, Channel::Email, &person(), &held, WEDNESDAY_3PM) {
        Decision::Hold { until, rule, .. } => {
            assert_eq!(rule, Rule::OwnerHold);
            assert_eq!(until, WEDNESDAY_3PM + 2 * DAY);
        }
        other => panic!("expected a hold, got {other:?}"),
    }
}

#[test]
fn a_reps_meeting_holds_automated_email_unless_the_play_is_coordinated() {
    let guard = guard();
    let meeting = WEDNESDAY_3PM + DAY;
    let busy = AccountFacts {
        meetings: vec![meeting],
        ..account()
    };
    let held = decide(&guard, Channel::Email, &person(), &busy, WEDNESDAY_3PM);
    assert_eq!(held.rule(), Some(Rule::Conflict));
    assert!(matches!(held, Decision::Hold { until, .. } if until == meeting + 3 * DAY));
    // A task is the rep's own call: no conflict.
    assert_eq!(
        decide(&guard, Channel::Task, &person(), &busy, WEDNESDAY_3PM),
        Decision::Send
    );
    let coordinated = guard.decide(&Ask {
        channel: Channel::Email,
        person: Some(&person()),
        account: &busy,
        coordinated: true,
        at: WEDNESDAY_3PM,
        zone: &TimeZone::UTC,
    });
    assert_eq!(coordinated, Decision::Send);
    // A meeting long past is no conflict.
    let old = AccountFacts {
        meetings: vec![WEDNESDAY_3PM - 10 * DAY],
        ..account()
    };
    assert_eq!(
        decide(&guard, Channel::Email, &person(), &old, WEDNESDAY_3PM),
        Decision::Send
    );
}

#[test]
fn caps_hold_until_the_oldest_touch_leaves_the_window() {
    let guard = guard();
    let sent = |at, contact| Sent {
        at,
        channel: Channel::Email,
        contact: Some(contact),
    };
    let account = AccountFacts {
        sent: vec![
            sent(WEDNESDAY_3PM - 5 * DAY, 7),
            sent(WEDNESDAY_3PM - DAY, 7),
        ],
        ..account()
    };
    let decision = decide(&guard, Channel::Email, &person(), &account, WEDNESDAY_3PM);
    assert_eq!(decision.rule(), Some(Rule::FrequencyCap));
    assert!(
        matches!(decision, Decision::Hold { until, .. } if until == WEDNESDAY_3PM + 2 * DAY),
        "{decision:?}"
    );
    // Another person at the account is under their own cap.
    let other = PersonFacts {
        contact_id: 8,
        ..person()
    };
    assert_eq!(
        decide(&guard, Channel::Email, &other, &account, WEDNESDAY_3PM),
        Decision::Send
    );
}

#[test]
fn a_persons_own_preference_caps_their_email() {
    let guard = guard();
    let fewer = PersonFacts {
        max_emails_per_month: Some(1),
        ..person()
    };
    let account = AccountFacts {
        sent: vec![Sent {
            at: WEDNESDAY_3PM - 10 * DAY,
            channel: Channel::Email,
            contact: Some(7),
        }],
        ..account()
    };
    let decision = decide(&guard, Channel::Email, &fewer, &account, WEDNESDAY_3PM);
    assert_eq!(decision.rule(), Some(Rule::FrequencyCap));
    assert!(
        matches!(decision, Decision::Hold { until, .. } if until == WEDNESDAY_3PM + 20 * DAY),
        "{decision:?}"
    );
    // Without the preference the default caps allow it; a task is not an email.
    assert_eq!(
        decide(&guard, Channel::Email, &person(), &account, WEDNESDAY_3PM),
        Decision::Send
    );
    assert_eq!(
        decide(&guard, Channel::Task, &fewer, &account, WEDNESDAY_3PM),
        Decision::Send
    );
}

#[test]
fn quiet_hours_follow_the_persons_zone() {
    let guard = guard();
    // 15:00 UTC is 02:00 the next morning in Sydney (summer, UTC+11): held until 08:00.
    let sydney = TimeZone::get("Australia/Sydney");
    let Ok(sydney) = sydney else {
        // No zone database on this machine: the engine bundles one; core tests need not.
        return;
    };
    let decision = guard.decide(&Ask {
        channel: Channel::Email,
        person: Some(&person()),
        account: &account(),
        coordinated: false,
        at: WEDNESDAY_3PM,
        zone: &sydney,
    });
    assert_eq!(decision.rule(), Some(Rule::QuietHours));
    if let Decision::Hold { until, .. } = decision {
        let local = jiff::Timestamp::from_microsecond(until)
            .expect("valid")
            .to_zoned(sydney);
        assert_eq!((local.hour(), local.minute()), (8, 0));
        assert_eq!(local.weekday(), Weekday::Thursday);
    }
    // Saturday noon UTC waits for Monday 08:00.
    let saturday_noon = WEDNESDAY_3PM + 3 * DAY - 3 * HOUR;
    match decide(&guard, Channel::Email, &person(), &account(), saturday_noon) {
        Decision::Hold { until, rule, .. } => {
            assert_eq!(rule, Rule::QuietHours);
            let local = jiff::Timestamp::from_microsecond(until)
                .expect("valid")
                .to_zoned(TimeZone::UTC);
            assert_eq!(local.weekday(), Weekday::Monday);
            assert_eq!(local.hour(), 8);
        }
        other => panic!("expected a hold, got {other:?}"),
    }
    // Alerts go to the team, not the person: no quiet hours.
    assert_eq!(
        guard.decide(&Ask {
            channel: Channel::Alert,
            person: None,
            account: &account(),
            coordinated: false,
            at: saturday_noon,
            zone: &TimeZone::UTC,
        }),
        Decision::Send
    );
}

#[test]
fn bad_guard_settings_are_refused() {
    let mut config = GuardConfig::default();
    config.quiet_hours.start = "25:00".to_owned();
    assert!(Guard::new(&config).is_err());
    let mut config = GuardConfig::default();
    config.quiet_hours.days = vec!["someday".to_owned()];
    assert!(Guard::new(&config).is_err());
    let config = GuardConfig {
        gdpr_countries: vec!["Germany".to_owned()],
        ..GuardConfig::default()
    };
    assert!(Guard::new(&config).is_err());
    let mut config = GuardConfig::default();
    config.caps[0].max = Count(0);
    assert!(Guard::new(&config).is_err());
}

/// An event in a contact's life, in any order.
#[derive(Debug, Clone)]
enum Event {
    OptOut,
    /// A CRM import that says nothing of the opt-out (or says "not opted out").
    Import(Option<LawfulBasis>),
    Bounce,
    Suppress,
    Meeting(i64),
    Hold(i64),
    Send(i64),
    Wait(i64),
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        Just(Event::OptOut),
        prop_oneof![
            Just(None),
            Just(Some(LawfulBasis::Consent)),
            Just(Some(LawfulBasis::LegitimateInterest)),
            Just(Some(LawfulBasis::Contract)),
        ]
        .prop_map(Event::Import),
        Just(Event::Bounce),
        Just(Event::Suppress),
        (-5 * DAY..5 * DAY).prop_map(Event::Meeting),
        (0..10 * DAY).prop_map(Event::Hold),
        (0..2 * DAY).prop_map(Event::Send),
        (0..3 * DAY).prop_map(Event::Wait),
    ]
}

fn channel() -> impl Strategy<Value = Channel> {
    prop::sample::select(Channel::ALL.to_vec())
}

fn country() -> impl Strategy<Value = Option<String>> {
    prop::sample::select(vec![
        None,
        Some("US".to_owned()),
        Some("Germany".to_owned()),
        Some("Canada".to_owned()),
        Some("Japan".to_owned()),
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// No sequence of events ever lets a touch through to a person who opted out, or whose
    /// address is suppressed or bounced: imports that do not repeat the opt-out, new consent,
    /// holds lifting, caps clearing and time passing change nothing. The contact is merged
    /// through `Contact::merged_over`, as every import does.
    #[test]
    fn no_touch_ever_reaches_a_person_who_said_no(
        events in prop::collection::vec(event(), 1..40),
        channels in prop::collection::vec(channel(), 1..6),
        country in country(),
        coordinated in any::<bool>(),
    ) {
        let guard = guard();
        let email = crate::Email::parse("ada@initech.com").expect("valid");
        let mut stored = crate::Contact {
            crm_id: None,
            email: email.clone(),
            first_name: None,
            last_name: None,
            title: None,
            account_id: crate::AccountId(1),
            consent: crate::Consent::default(),
            attributes: Default::default(),
        };
        let mut said_no = false;
        let mut bounced = false;
        let mut suppressed = false;
        let mut account = account();
        let mut now = WEDNESDAY_3PM;
        for event in events {
            match event {
                Event::OptOut => {
                    let incoming = crate::Contact {
                        consent: crate::Consent { opted_out: true, lawful_basis: None },
                        ..stored.clone()
                    };
                    stored = incoming.merged_over(&stored);
                    said_no = true;
                }
                Event::Import(basis) => {
                    let incoming = crate::Contact {
                        consent: crate::Consent { opted_out: false, lawful_basis: basis },
                        ..stored.clone()
                    };
                    stored = incoming.merged_over(&stored);
                }
                Event::Bounce => bounced = true,
                Event::Suppress => suppressed = true,
                Event::Meeting(offset) => account.meetings.push(now + offset),
                Event::Hold(length) => account.hold_until = Some(now + length),
                Event::Send(ago) => account.sent.push(Sent {
                    at: now - ago,
                    channel: Channel::Email,
                    contact: Some(7),
                }),
                Event::Wait(length) => now += length,
            }
            let facts = PersonFacts {
                contact_id: 7,
                email: Some(stored.email.as_str().to_owned()),
                opted_out: stored.consent.opted_out,
                lawful_basis: stored.consent.lawful_basis,
                hard_bounced: bounced,
                country: country.clone(),
                suppressed,
                max_emails_per_month: None,
            };
            for channel in &channels {
                if !channel.reaches_person() {
                    continue;
                }
                let decision = guard.decide(&Ask {
                    channel: *channel,
                    person: Some(&facts),
                    account: &account,
                    coordinated,
                    at: now,
                    zone: &TimeZone::UTC,
                });
                if said_no || suppressed {
                    prop_assert!(decision != Decision::Send, "{channel:?} sent after a no: {decision:?}");
                    prop_assert_eq!(decision.key(), "suppress");
                }
                if bounced && channel.needs_email() {
                    prop_assert!(decision != Decision::Send);
                }
                if let Decision::Hold { until, .. } = decision {
                    prop_assert!(until > now, "a hold must end in the future");
                }
            }
        }
    }

    /// A held touch asked again at the end of its hold is never held again by the same
    /// rule for the same reason at the same instant: holds make progress.
    #[test]
    fn holds_make_progress(
        offsets in prop::collection::vec(0..6 * DAY, 0..6),
        meetings in prop::collection::vec(-4 * DAY..4 * DAY, 0..3),
        start in 0..7 * DAY,
    ) {
        let guard = guard();
        let at = WEDNESDAY_3PM + start;
        let account = AccountFacts {
            sent: offsets.iter().map(|ago| Sent { at: at - ago, channel: Channel::Email, contact: Some(7) }).collect(),
            meetings: meetings.iter().map(|offset| at + offset).collect(),
            ..account()
        };
        let mut now = at;
        for _ in 0..12 {
            match decide(&guard, Channel::Email, &person(), &account, now) {
                Decision::Send => return Ok(()),
                Decision::Hold { until, .. } => {
                    prop_assert!(until > now);
                    now = until;
                }
                Decision::Suppress { .. } => prop_assert!(false, "nothing here suppresses"),
            }
        }
        prop_assert!(false, "still held after 12 rounds");
    }
}
