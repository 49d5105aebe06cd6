//! Recording tracked website events, on SQLite and on a real PostgreSQL server: anonymous
//! visits, reverse-IP identification, an identify joining the visitor's earlier events to the
//! contact and account, leads from unknown emails, and retries stored once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use abm_core::identity::FreeMailDomains;
use abm_core::{Account, Activity, ActivityId, ActivityKind, Contact, Domain, Email};
use abm_engine::tracking::{NetworkMatch, Recorded, TrackedEvent, Writers, record};
use abm_store::{ImportFigures, ImportRecord, Store};

fn on_both_backends(test: impl Fn(&mut dyn Store)) {
    let directory = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", directory.path().join("abm.db").display());
    test(abm_store::open(&url).unwrap().as_mut());
    if let Some(database) = abm_store::testing::PostgresDatabase::create("abm_tracking") {
        test(abm_store::open(&database.url).unwrap().as_mut());
    }
}

const T0: i64 = 1_780_000_000_000_000;

fn page_view(id: &str, at: i64, email: Option<&str>) -> Activity {
    Activity {
        id: ActivityId::parse(&format!("web:{id}")).unwrap(),
        kind: ActivityKind::PageView,
        occurred_at: jiff::Timestamp::from_microsecond(at).unwrap(),
        email: email.map(|email| Email::parse(email).unwrap()),
        domain: None,
        url: Some("https://www.example.com/pricing".into()),
        topic: None,
        campaign: None,
        channel: Some("web".into()),
    }
}

fn view(id: &str, visitor: &str, at: i64) -> TrackedEvent {
    TrackedEvent {
        activity: Some(page_view(id, at, None)),
        visitor: Some(visitor.into()),
        identifies: None,
        network: None,
        at,
    }
}

fn identify(visitor: &str, email: &str, at: i64) -> TrackedEvent {
    TrackedEvent {
        activity: None,
        visitor: Some(visitor.into()),
        identifies: Some(Email::parse(email).unwrap()),
        network: None,
        at,
    }
}

fn seed(store: &mut dyn Store) -> (i64, i64) {
    let mut transaction = store
        .begin_import(&ImportRecord {
            kind: "accounts".into(),
            files: vec![],
            started_at: jiff::Timestamp::from_microsecond(T0).unwrap(),
            expected_rows: 0,
        })
        .unwrap();
    let acme = transaction
        .insert_account(&Account::new(Domain::parse("acme.com").unwrap()))
        .unwrap();
    let globex = transaction
        .insert_account(&Account::new(Domain::parse("globex.com").unwrap()))
        .unwrap();
    transaction
        .write_contact(
            None,
            &Contact {
                crm_id: None,
                email: Email::parse("jane@acme.com").unwrap(),
                first_name: Some("Jane".into()),
                last_name: None,
                title: Some("VP Marketing".into()),
                account_id: acme,
                consent: Default::default(),
                attributes: Default::default(),
            },
        )
        .unwrap();
    transaction.commit(&ImportFigures::default()).unwrap();
    (acme.0, globex.0)
}

fn run(store: &mut dyn Store, events: &[TrackedEvent]) -> Recorded {
    record(
        store,
        events,
        &FreeMailDomains::default(),
        jiff::Timestamp::from_microsecond(T0).unwrap(),
        Writers::One,
    )
    .unwrap()
}

#[test]
fn anonymous_history_joins_the_contact_when_the_visitor_identifies() {
    on_both_backends(|store| {
        let (acme, _) = seed(store);
        let visitor = "v1v1v1v1v1v1v1v1";
        let first = run(
            store,
            &[
                view("e1aaaaaa", visitor, T0),
                view("e2aaaaaa", visitor, T0 + 1),
            ],
        );
        assert_eq!((first.inserted, first.anonymous), (2, 2));
        assert!(first.touched.is_empty());
        assert_eq!(
            store.activity_count_for(abm_core::AccountId(acme)).unwrap(),
            0
        );

        // A form on the next page: the earlier views join Jane and Acme.
        let second = run(
            store,
            &[
                identify(visitor, "Jane@Acme.com", T0 + 2),
                view("e3aaaaaa", visitor, T0 + 3),
            ],
        );
        assert_eq!(second.identified, 1);
        assert_eq!(second.linked, 2, "the two anonymous views");
        assert_eq!(second.leads, 0, "Jane is a contact");
        assert_eq!(second.touched, vec![abm_core::AccountId(acme)]);
        assert_eq!(
            store.activity_count_for(abm_core::AccountId(acme)).unwrap(),
            3
        );
        let stored = abm_store::tracking::visitor(store.sql(), visitor)
            .unwrap()
            .unwrap();
        assert_eq!(stored.account_id, Some(acme));
        assert!(stored.contact_id.is_some());
        assert_eq!(stored.identified_by.as_deref(), Some("identify"));
        assert_eq!(stored.events, 3);
        assert_eq!(stored.email.as_deref(), Some("jane@acme.com"));
        let timeline = store
            .recent_activities(abm_core::AccountId(acme), 2)
            .unwrap();
        let ids: Vec<&str> = timeline.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(
            ids,
            ["web:e3aaaaaa", "web:e2aaaaaa"],
            "newest first, limited"
        );
        assert_eq!(timeline[0].visitor.as_deref(), Some(visitor));
        assert_eq!(timeline[0].occurred_at, T0 + 3);
        assert_eq!(timeline[0].channel.as_deref(), Some("web"));

        // A beacon retried: stored once.
        let again = run(store, &[view("e1aaaaaa", visitor, T0 + 10)]);
        assert_eq!((again.inserted, again.unchanged), (0, 1));
        assert_eq!(
            store.activity_count_for(abm_core::AccountId(acme)).unwrap(),
            3
        );

        // Later views of the identified visitor go straight to the account.
        let later = run(store, &[view("e4aaaaaa", visitor, T0 + 20)]);
        assert_eq!((later.inserted, later.anonymous), (1, 0));
        assert_eq!(
            store.activity_count_for(abm_core::AccountId(acme)).unwrap(),
            4
        );
    });
}

#[test]
fn a_network_identifies_the_company_and_an_identify_overrides_it() {
    on_both_backends(|store| {
        let (acme, globex) = seed(store);
        let visitor = "v2v2v2v2v2v2v2v2";
        let mut event = view("n1aaaaaa", visitor, T0);
        event.network = Some(NetworkMatch {
            domain: Domain::parse("globex.com").unwrap(),
            organization: Some("Globex Corporation".into()),
            confidence: 0.8,
        });
        let first = run(store, &[event]);
        assert_eq!(first.anonymous, 0);
        assert_eq!(first.touched, vec![abm_core::AccountId(globex)]);
        let stored = abm_store::tracking::visitor(store.sql(), visitor)
            .unwrap()
            .unwrap();
        assert_eq!(stored.identified_by.as_deref(), Some("reverse_ip"));
        assert_eq!(stored.confidence, Some(0.8));
        assert_eq!(stored.organization.as_deref(), Some("Globex Corporation"));

        // The person says who they are: a contact of Acme (a shared office network, say).
        let second = run(store, &[identify(visitor, "jane@acme.com", T0 + 1)]);
        assert_eq!(second.linked, 1);
        assert_eq!(
            store.activity_count_for(abm_core::AccountId(acme)).unwrap(),
            1
        );
        assert_eq!(
            store
                .activity_count_for(abm_core::AccountId(globex))
                .unwrap(),
            0
        );
    });
}

#[test]
fn unknown_emails_become_leads_and_free_mail_names_no_company() {
    on_both_backends(|store| {
        let (_, globex) = seed(store);
        let bob = "v3v3v3v3v3v3v3v3";
        let recorded = run(
            store,
            &[
                view("b1aaaaaa", bob, T0),
                identify(bob, "bob@globex.com", T0 + 1),
            ],
        );
        assert_eq!(recorded.leads, 1);
        assert_eq!(recorded.linked, 1);
        assert_eq!(
            store
                .activity_count_for(abm_core::AccountId(globex))
                .unwrap(),
            1
        );
        let stored = abm_store::tracking::visitor(store.sql(), bob)
            .unwrap()
            .unwrap();
        assert_eq!((stored.account_id, stored.contact_id), (Some(globex), None));

        let private = "v4v4v4v4v4v4v4v4";
        let recorded = run(
            store,
            &[
                view("p1aaaaaa", private, T0),
                identify(private, "someone@gmail.com", T0 + 1),
            ],
        );
        assert_eq!(
            (recorded.leads, recorded.linked, recorded.anonymous),
            (1, 0, 1)
        );
        assert!(recorded.touched.is_empty());
        assert_eq!(store.counts().unwrap().leads, 2);
    });
}

#[test]
fn an_email_open_resolves_by_its_email() {
    on_both_backends(|store| {
        let (acme, _) = seed(store);
        let mut open = page_view("o1aaaaaa", T0, Some("jane@acme.com"));
        open.kind = ActivityKind::EmailOpen;
        let event = TrackedEvent {
            activity: Some(open),
            visitor: None,
            identifies: None,
            network: None,
            at: T0,
        };
        let recorded = run(store, &[event.clone(), event]);
        assert_eq!((recorded.inserted, recorded.unchanged), (1, 1));
        assert_eq!(recorded.touched, vec![abm_core::AccountId(acme)]);
    });
}

#[test]
fn a_large_batch_counts_each_visitor_once_and_stores_a_repeated_event_once() {
    on_both_backends(|store| {
        let (acme, _) = seed(store);
        // Jane was identified earlier; her next visit keeps her identity.
        let jane = "vjvjvjvjvjvjvjvj";
        run(store, &[identify(jane, "jane@acme.com", T0)]);
        // 200 visitors, more than one statement reads or writes; each visits twice, and
        // the first event comes again (a retried beacon) in the same batch.
        let mut events = Vec::new();
        for round in 0..2 {
            for number in 0..200 {
                let visitor = format!("visitor{number:09}");
                events.push(view(
                    &format!("r{round}v{number:06}"),
                    &visitor,
                    T0 + 10 + round,
                ));
            }
        }
        events.push(view("r0v000000", "visitor000000000", T0 + 10));
        events.push(view("jane0001", jane, T0 + 20));
        // A new visitor identifies after two anonymous views in the same batch.
        events.push(view("late0001", "vlvlvlvlvlvlvlvl", T0 + 30));
        events.push(view("late0002", "vlvlvlvlvlvlvlvl", T0 + 31));
        events.push(identify("vlvlvlvlvlvlvlvl", "jane@acme.com", T0 + 32));
        let recorded = run(store, &events);
        assert_eq!(
            (recorded.received, recorded.inserted, recorded.unchanged),
            (405, 403, 1)
        );
        assert_eq!((recorded.identified, recorded.linked), (1, 2));
        assert_eq!(
            recorded.anonymous, 403,
            "the views of unknown visitors, the retried one, and the two before the identify"
        );
        assert_eq!(recorded.touched, vec![abm_core::AccountId(acme)]);
        assert_eq!(
            store.activity_count_for(abm_core::AccountId(acme)).unwrap(),
            3
        );

        let stored = |store: &mut dyn Store, id: &str| {
            abm_store::tracking::visitor(store.sql(), id)
                .unwrap()
                .unwrap()
        };
        let first = stored(store, "visitor000000000");
        assert_eq!((first.first_seen, first.last_seen), (T0 + 10, T0 + 11));
        assert_eq!(first.events, 3, "two views and the retried one received");
        assert_eq!(stored(store, "visitor000000199").events, 2);
        let jane_now = stored(store, jane);
        assert_eq!(jane_now.account_id, Some(acme));
        assert_eq!(jane_now.identified_by.as_deref(), Some("identify"));
        assert_eq!((jane_now.events, jane_now.last_seen), (1, T0 + 20));
        let late = stored(store, "vlvlvlvlvlvlvlvl");
        assert_eq!((late.account_id, late.events), (Some(acme), 2));
        assert!(late.contact_id.is_some());

        // The whole batch again (a retried request): nothing new, visits counted again.
        let again = run(store, &events);
        assert_eq!((again.inserted, again.unchanged), (0, 405 - 1));
        assert_eq!(stored(store, "visitor000000000").events, 6);
        assert_eq!(
            store.activity_count_for(abm_core::AccountId(acme)).unwrap(),
            3
        );
    });
}

/// The workers of the stream record one visitor's events at once, on one PostgreSQL database:
/// no visit is lost from the visitor's count, and an identify another writer stored while a
/// batch was being recorded still takes that batch's anonymous events.
#[test]
fn many_writers_of_the_same_visitors_lose_no_visit_and_no_identity() {
    let Some(database) = abm_store::testing::PostgresDatabase::create("abm_tracking_many") else {
        return;
    };
    let mut store = abm_store::open(&database.url).unwrap();
    let (acme, _) = seed(store.as_mut());
    const WRITERS: usize = 4;
    const BATCHES: usize = 30;
    const VISITORS: usize = 8;
    let visitor = |v: usize| format!("visitor-many-{v:04}");
    std::thread::scope(|scope| {
        for writer in 0..WRITERS {
            let url = database.url.clone();
            scope.spawn(move || {
                let mut store = abm_store::open(&url).unwrap();
                for batch in 0..BATCHES {
                    let at = T0 + (batch * WRITERS + writer) as i64;
                    let mut events: Vec<TrackedEvent> = (0..VISITORS)
                        .map(|v| view(&format!("w{writer}b{batch:02}v{v}x"), &visitor(v), at))
                        .collect();
                    if writer == 0 && batch == BATCHES / 2 {
                        events.extend(
                            (0..VISITORS).map(|v| identify(&visitor(v), "jane@acme.com", at)),
                        );
                    }
                    record(
                        store.as_mut(),
                        &events,
                        &FreeMailDomains::default(),
                        jiff::Timestamp::from_microsecond(T0).unwrap(),
                        Writers::Many,
                    )
                    .unwrap();
                }
            });
        }
    });
    let sql = store.sql();
    let left = sql
        .query_opt(
            "SELECT COUNT(*) FROM activities WHERE visitor IS NOT NULL AND (contact_id IS NULL OR account_id <> $1)",
            &[acme.into()],
        )
        .unwrap()
        .unwrap()
        .int(0)
        .unwrap();
    assert_eq!(
        left, 0,
        "every event of an identified visitor joins the contact and account"
    );
    let events = sql
        .query_opt(
            "SELECT CAST(SUM(events) AS BIGINT), COUNT(*) FROM visitors",
            &[],
        )
        .unwrap()
        .unwrap();
    assert_eq!(
        (events.int(0).unwrap(), events.int(1).unwrap()),
        ((WRITERS * BATCHES * VISITORS) as i64, VISITORS as i64)
    );
}
