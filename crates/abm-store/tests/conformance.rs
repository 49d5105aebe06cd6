//! The storage conformance suite: every test runs against SQLite (a fresh file) and against a
//! real PostgreSQL server (a fresh, uniquely named database), and both must answer alike.
//! The server is `ABM_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`);
//! when it cannot be reached the tests fail, unless `ABM_TEST_SKIP_POSTGRES=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use abm_core::{
    Account, AccountId, Activity, ActivityId, ActivityKind, Consent, Contact, CrmId, Domain, Email,
    IntentSignal, Lead, Opportunity, Score, Topic,
};
use abm_store::{
    ActivityOutcome, ActivityRow, Counts, ImportFigures, ImportRecord, ImportTransaction,
    LeadOrigin, SourceLine, Store, Written,
};

/// Runs `test` on SQLite and on PostgreSQL with fresh databases; both must return the same.
fn on_both_backends<T: PartialEq + std::fmt::Debug>(
    test: impl Fn(&dyn Fn() -> Box<dyn Store>) -> T,
) {
    let directory = tempfile::tempdir().unwrap();
    let sqlite_url = format!("sqlite://{}", directory.path().join("abm.db").display());
    let on_sqlite = test(&|| abm_store::open(&sqlite_url).unwrap());
    if let Some(database) = abm_store::testing::PostgresDatabase::create("abm_store") {
        let url = database.url.clone();
        let on_postgres = test(&|| abm_store::open(&url).unwrap());
        assert_eq!(on_sqlite, on_postgres, "SQLite and PostgreSQL disagree");
    }
}

fn domain(text: &str) -> Domain {
    Domain::parse(text).unwrap()
}

fn email(text: &str) -> Email {
    Email::parse(text).unwrap()
}

fn crm(text: &str) -> CrmId {
    CrmId::parse(text).unwrap()
}

fn record(kind: &str) -> ImportRecord {
    ImportRecord {
        kind: kind.into(),
        files: vec!["test.csv".into()],
        started_at: "2026-11-23T10:00:00Z".parse().unwrap(),
        expected_rows: 0,
    }
}

fn commit(transaction: Box<dyn ImportTransaction + '_>) {
    transaction.commit(&ImportFigures::default()).unwrap();
}

fn account(text: &str, crm_id: Option<&str>) -> Account {
    let mut account = Account::new(domain(text));
    account.crm_id = crm_id.map(crm);
    account.name = Some(format!("{text} Inc."));
    account
}

fn activity_row(id: &str, who: &str, account: Option<AccountId>, line: u64) -> ActivityRow {
    let (email, domain_value) = if who.contains('@') {
        (Some(email(who)), None)
    } else {
        (None, Some(domain(who)))
    };
    let activity = Activity {
        id: ActivityId::parse(id).unwrap(),
        kind: ActivityKind::PageView,
        occurred_at: "2026-03-01T10:00:00.123456Z".parse().unwrap(),
        email: email.clone(),
        domain: domain_value.clone(),
        url: Some("https://x.io/pricing\twith tab\\and backslash".into()),
        topic: None,
        campaign: Some("Q3, ABM".into()),
        channel: Some("web".into()),
    };
    let fingerprint = activity.fingerprint();
    let account_key = if account.is_some() {
        None
    } else {
        email.map(|email| email.domain().clone()).or(domain_value)
    };
    ActivityRow {
        activity,
        account,
        contact: None,
        account_key,
        fingerprint,
        source: SourceLine { file: 0, line },
        visitor: None,
    }
}

#[test]
fn migrations_are_idempotent_and_an_empty_store_counts_nothing() {
    on_both_backends(|open| {
        drop(open());
        let mut store = open();
        store.counts().unwrap()
    });
}

#[test]
fn accounts_with_aliases_are_found_by_crm_id_domain_and_alias() {
    on_both_backends(|open| {
        let mut store = open();
        let mut acme = account("acme.com", Some("001A"));
        acme.aliases.insert(domain("acme-mail.com"));
        acme.technologies.insert("Salesforce".into());
        acme.employees = Some(1200);
        acme.revenue = Some(2.5e8);
        acme.attributes
            .insert("Segment__c".into(), "Enterprise".into());
        let mut transaction = store.begin_import(&record("accounts")).unwrap();
        let id = transaction.insert_account(&acme).unwrap();
        let (by_crm, stored) = transaction
            .find_account(Some(&crm("001A")), &domain("other.com"))
            .unwrap()
            .unwrap();
        assert_eq!((by_crm, &stored), (id, &acme));
        let (by_alias, _) = transaction
            .find_account(None, &domain("acme-mail.com"))
            .unwrap()
            .unwrap();
        assert_eq!(by_alias, id);
        assert_eq!(
            transaction
                .account_owning(&domain("acme-mail.com"))
                .unwrap(),
            Some(id)
        );
        assert_eq!(
            transaction.account_owning(&domain("globex.com")).unwrap(),
            None
        );
        // An update that moves the primary domain keeps the old one as an alias.
        let moved = account("acme.io", None).merged_over(&stored);
        transaction.update_account(id, &moved).unwrap();
        commit(transaction);
        let (_, reloaded) = store
            .account_by_domain(&domain("acme.com"))
            .unwrap()
            .unwrap();
        assert_eq!(reloaded.domain, domain("acme.io"));
        assert_eq!(reloaded.aliases.len(), 2);
        assert_eq!(
            reloaded.attributes.get("Segment__c").map(String::as_str),
            Some("Enterprise")
        );
        let index = store.identity_index().unwrap();
        assert_eq!(index.account_by_domain(&domain("acme.com")), Some(id));
        assert_eq!(index.account_by_domain(&domain("acme.io")), Some(id));
        assert_eq!(index.account_by_crm_id(&crm("001A")), Some(id));
        (reloaded, store.counts().unwrap())
    });
}

#[test]
fn contacts_insert_update_and_enter_the_identity_index() {
    on_both_backends(|open| {
        let mut store = open();
        let mut transaction = store.begin_import(&record("contacts")).unwrap();
        let account_id = transaction
            .insert_account(&account("acme.com", None))
            .unwrap();
        let mut contact = Contact {
            crm_id: Some(crm("003A")),
            email: email("ann@acme.com"),
            first_name: Some("Ann".into()),
            last_name: None,
            title: Some("CMO".into()),
            account_id,
            consent: Consent {
                opted_out: true,
                lawful_basis: Some(abm_core::LawfulBasis::Consent),
            },
            attributes: Default::default(),
        };
        let id = transaction.write_contact(None, &contact).unwrap();
        contact.title = Some("Chief Marketing Officer".into());
        assert_eq!(transaction.write_contact(Some(id), &contact).unwrap(), id);
        let (found, stored) = transaction
            .find_contact(None, &email("ann@acme.com"))
            .unwrap()
            .unwrap();
        assert_eq!((found, &stored), (id, &contact));
        commit(transaction);
        let index = store.identity_index().unwrap();
        assert_eq!(
            index.contact_by_email(&email("ann@acme.com")),
            Some((id, account_id))
        );
        store.counts().unwrap()
    });
}

#[test]
fn a_contact_waiting_as_a_lead_is_promoted_when_its_account_arrives() {
    on_both_backends(|open| {
        let mut store = open();
        let lead = Lead {
            crm_id: Some(crm("003Z")),
            email: email("bo@hooli.com"),
            first_name: Some("Bo".into()),
            last_name: None,
            title: Some("CTO".into()),
            company: None,
            website: None,
            consent: Consent::default(),
            attributes: Default::default(),
        };
        let mut transaction = store.begin_import(&record("contacts")).unwrap();
        transaction
            .write_lead(
                None,
                &lead,
                LeadOrigin::Contact,
                None,
                Some(&domain("hooli.com")),
            )
            .unwrap();
        let (_, stored) = transaction
            .find_lead(Some(&crm("003Z")), &email("bo@hooli.com"))
            .unwrap()
            .unwrap();
        assert_eq!(stored, lead);
        assert_eq!(transaction.rematch().unwrap().leads, 0);
        commit(transaction);
        let waiting = store.counts().unwrap();
        assert_eq!(
            (waiting.contacts, waiting.leads, waiting.matched_leads),
            (0, 1, 0)
        );
        let mut transaction = store.begin_import(&record("accounts")).unwrap();
        transaction
            .insert_account(&account("hooli.com", None))
            .unwrap();
        let rematched = transaction.rematch().unwrap();
        assert_eq!(
            (rematched.leads, rematched.leads_promoted_to_contacts),
            (1, 1)
        );
        commit(transaction);
        let after = store.counts().unwrap();
        assert_eq!((after.contacts, after.leads), (1, 0));
        (waiting, after)
    });
}

#[test]
fn activities_are_stored_once_per_id_and_conflicts_name_both_lines() {
    on_both_backends(|open| {
        let mut store = open();
        let mut transaction = store.begin_import(&record("accounts")).unwrap();
        let acme = transaction
            .insert_account(&account("acme.com", None))
            .unwrap();
        commit(transaction);
        let batch = vec![
            activity_row("a-1", "jo@acme.com", Some(acme), 2),
            activity_row("a-2", "globex.com", None, 3),
            activity_row("a-1", "jo@acme.com", Some(acme), 4),
        ];
        let mut outcomes = Vec::new();
        let mut transaction = store.begin_import(&record("activities")).unwrap();
        let mut outcome = transaction.write_activities(&batch).unwrap();
        outcome.absorb(transaction.finish_activities().unwrap());
        outcomes.push(outcome);
        commit(transaction);

        // The same batch again: everything unchanged.
        let mut transaction = store.begin_import(&record("activities")).unwrap();
        let mut outcome = transaction.write_activities(&batch).unwrap();
        outcome.absorb(transaction.finish_activities().unwrap());
        outcomes.push(outcome);
        commit(transaction);

        // a-1 with other content: kept as stored (earlier import); a-9 twice with different
        // content in one import: a conflict naming both lines.
        let mut changed = activity_row("a-1", "jo@acme.com", Some(acme), 7);
        changed.fingerprint += 1;
        let mut second = activity_row("a-9", "jo@acme.com", Some(acme), 9);
        second.fingerprint += 1;
        let mut transaction = store.begin_import(&record("activities")).unwrap();
        let mut outcome = transaction
            .write_activities(&[
                changed,
                activity_row("a-9", "jo@acme.com", Some(acme), 8),
                second,
            ])
            .unwrap();
        outcome.absorb(transaction.finish_activities().unwrap());
        outcomes.push(outcome);
        drop(transaction);

        let summary: Vec<_> = outcomes
            .iter()
            .map(|o| {
                (
                    o.inserted,
                    o.unchanged,
                    o.kept_existing,
                    o.conflicts.clone(),
                )
            })
            .collect();
        assert_eq!((summary[0].0, summary[0].1), (2, 1));
        assert_eq!((summary[1].0, summary[1].1), (0, 3));
        assert_eq!((summary[2].2, summary[2].3.len()), (1, 1));
        let conflict = &summary[2].3[0];
        assert_eq!(
            (
                conflict.id.as_str(),
                conflict.first.map(|s| s.line),
                conflict.second.line
            ),
            ("a-9", Some(8), 9)
        );
        let counts = store.counts().unwrap();
        assert_eq!(
            (counts.activities, counts.unmatched_activities),
            (2, 1),
            "the dropped import left nothing"
        );
        (summary, counts)
    });
}

#[test]
fn unmatched_records_are_matched_when_their_account_or_contact_appears() {
    on_both_backends(|open| {
        let mut store = open();
        let mut transaction = store.begin_import(&record("activities")).unwrap();
        transaction
            .write_activities(&[
                activity_row("a-1", "initech.com", None, 2),
                activity_row("a-2", "ann@initech.com", None, 3),
            ])
            .unwrap();
        transaction.finish_activities().unwrap();
        let signal = IntentSignal {
            domain: domain("initech.com"),
            topic: Topic::parse("Intent Data").unwrap(),
            date: "2026-03-02".parse().unwrap(),
            score: Score::new(72).unwrap(),
            source: "bombora".into(),
            company_name: None,
        };
        assert_eq!(
            transaction.write_intent(&signal, None).unwrap(),
            Written::Inserted
        );
        assert_eq!(
            transaction.write_intent(&signal, None).unwrap(),
            Written::Unchanged
        );
        let higher = IntentSignal {
            score: Score::new(80).unwrap(),
            ..signal.clone()
        };
        assert_eq!(
            transaction.write_intent(&higher, None).unwrap(),
            Written::Updated
        );
        let opportunity = Opportunity {
            crm_id: crm("006A"),
            account_crm_id: Some(crm("001I")),
            account_domain: None,
            name: Some("Initech expansion".into()),
            amount: Some(50_000.0),
            stage: Some("Proposal".into()),
            created_on: "2026-01-10".parse().unwrap(),
            close_date: Some("2026-04-01".parse().unwrap()),
            closed: false,
            won: false,
        };
        transaction
            .write_opportunity(false, &opportunity, None)
            .unwrap();
        assert_eq!(
            transaction.find_opportunity(&crm("006A")).unwrap(),
            Some(opportunity)
        );
        commit(transaction);
        let before = store.counts().unwrap();
        assert_eq!(
            (
                before.unmatched_activities,
                before.unmatched_intent_signals,
                before.unmatched_opportunities
            ),
            (2, 1, 1)
        );
        let top = store.top_unmatched_domains(5).unwrap();
        assert_eq!((top[0].domain.as_str(), top[0].records), ("initech.com", 3));

        let mut transaction = store.begin_import(&record("accounts")).unwrap();
        let initech = transaction
            .insert_account(&account("initech.com", Some("001I")))
            .unwrap();
        let contact = Contact {
            crm_id: None,
            email: email("ann@initech.com"),
            first_name: None,
            last_name: None,
            title: None,
            account_id: initech,
            consent: Consent::default(),
            attributes: Default::default(),
        };
        transaction.write_contact(None, &contact).unwrap();
        let rematched = transaction.rematch().unwrap();
        commit(transaction);
        assert_eq!(
            (
                rematched.activities,
                rematched.intent_signals,
                rematched.opportunities
            ),
            (2, 1, 1)
        );
        let after = store.counts().unwrap();
        assert_eq!(
            after.unmatched_activities
                + after.unmatched_intent_signals
                + after.unmatched_opportunities,
            0
        );
        assert_eq!(store.activity_count_for(initech).unwrap(), 2);
        (before, after, rematched)
    });
}

#[test]
fn an_import_dropped_without_commit_changes_nothing() {
    on_both_backends(|open| {
        let mut store = open();
        let before: Counts = store.counts().unwrap();
        {
            let mut transaction = store.begin_import(&record("accounts")).unwrap();
            transaction
                .insert_account(&account("acme.com", None))
                .unwrap();
            transaction
                .write_activities(&[activity_row("a-1", "acme.com", None, 2)])
                .unwrap();
            transaction.finish_activities().unwrap();
        }
        assert_eq!(store.counts().unwrap(), before);
        assert!(
            store
                .account_by_domain(&domain("acme.com"))
                .unwrap()
                .is_none()
        );
        before
    });
}

#[test]
fn parents_link_by_crm_id_and_domain() {
    on_both_backends(|open| {
        let mut store = open();
        let mut transaction = store.begin_import(&record("accounts")).unwrap();
        let parent = account("globex.com", Some("001P"));
        let mut child = account("globex.de", Some("001C"));
        child.parent_crm_id = Some(crm("001P"));
        let mut orphan = account("initech.com", None);
        orphan.parent_domain = Some(domain("nowhere.com"));
        let child_id = transaction.insert_account(&child).unwrap();
        let parent_id = transaction.insert_account(&parent).unwrap();
        let orphan_id = transaction.insert_account(&orphan).unwrap();
        transaction.link_parents().unwrap();
        commit(transaction);
        assert_eq!(store.parent_of(child_id).unwrap(), Some(parent_id));
        assert_eq!(store.parent_of(orphan_id).unwrap(), None);
        assert_eq!(store.parent_of(parent_id).unwrap(), None);
        store.counts().unwrap()
    });
}

#[test]
fn an_unfinished_bulk_load_is_refused_at_commit_and_changes_nothing() {
    on_both_backends(|open| {
        let mut store = open();
        let record = ImportRecord {
            expected_rows: 60_000,
            ..record("activities")
        };
        let mut transaction = store.begin_import(&record).unwrap();
        transaction.begin_activities(60_000).unwrap();
        transaction
            .write_activities(&[activity_row("a-1", "x@unknown.io", None, 2)])
            .unwrap();
        assert!(transaction.commit(&ImportFigures::default()).is_err());
        let counts = store.counts().unwrap();
        assert_eq!(counts.activities, 0);
        counts
    });
}

/// Several processes (the workers of the stream) saving one account's scores at once record
/// its stage change once: saves take turns, and each reads the stage the one before stored.
#[test]
fn concurrent_saves_of_one_account_record_its_stage_change_once() {
    use abm_core::score::{ScoreValues, Stage};
    use abm_store::SavedScore;
    let directory = tempfile::tempdir().unwrap();
    let mut urls = vec![format!(
        "sqlite://{}",
        directory.path().join("abm.db").display()
    )];
    let postgres = abm_store::testing::PostgresDatabase::create("abm_store_race");
    urls.extend(postgres.as_ref().map(|database| database.url.clone()));
    for url in &urls {
        let mut store = abm_store::open(url).unwrap();
        let id = {
            let mut transaction = store.begin_import(&record("accounts")).unwrap();
            let id = transaction
                .insert_account(&account("acme.com", None))
                .unwrap();
            commit(transaction);
            id
        };
        let saved = |stage: Stage| SavedScore {
            account: id,
            values: ScoreValues::default(),
            stage,
            stage_reason: "race".into(),
        };
        store.save_scores(1_000, &[saved(Stage::Aware)]).unwrap();
        const SAVERS: i64 = 6;
        let barrier = std::sync::Barrier::new(SAVERS as usize);
        std::thread::scope(|scope| {
            for n in 0..SAVERS {
                let barrier = &barrier;
                scope.spawn(move || {
                    let mut store = abm_store::open(url).unwrap();
                    barrier.wait();
                    store
                        .save_scores(2_000 + n, &[saved(Stage::Engaged)])
                        .unwrap();
                });
            }
        });
        let history = store.stage_history(id).unwrap();
        let engaged = history
            .iter()
            .filter(|change| change.to == Stage::Engaged)
            .count();
        assert_eq!(engaged, 1, "{url}: {history:?}");
    }
}

/// Scores are stored with their contributions; a stage change is recorded only when the stage
/// changes; a run older than the stored scores changes nothing; the scoring reads return what
/// was imported.
#[test]
fn scores_and_stage_changes_are_stored_alike() {
    use abm_core::score::{ScoreValues, Stage};
    use abm_store::SavedScore;
    on_both_backends(|open| {
        let mut store = open();
        let id = {
            let mut transaction = store.begin_import(&record("accounts")).unwrap();
            let mut acme = account("acme.com", Some("001A"));
            acme.industry = Some("Software".into());
            acme.employees = Some(1200);
            acme.technologies = ["Salesforce".to_owned()].into();
            let id = transaction.insert_account(&acme).unwrap();
            commit(transaction);
            id
        };
        let values = |fit: f64| ScoreValues {
            fit,
            intent: 12.5,
            engagement: 40.25,
            priority: fit / 2.0,
        };
        let saved = |fit: f64, stage: Stage| SavedScore {
            account: id,
            values: values(fit),
            stage,
            stage_reason: format!("because {fit}"),
        };
        let first = store
            .save_scores(1_000, &[saved(25.0, Stage::Aware)])
            .unwrap();
        let same_stage = store
            .save_scores(2_000, &[saved(30.0, Stage::Aware)])
            .unwrap();
        let older = store
            .save_scores(1_500, &[saved(99.0, Stage::Customer)])
            .unwrap();
        let changed = store
            .save_scores(3_000, &[saved(40.0, Stage::Engaged)])
            .unwrap();
        let stored = store.stored_score(id).unwrap().unwrap();
        let listed = store.stored_scores().unwrap();
        let history = store.stage_history(id).unwrap();
        let accounts = store.scoring_accounts().unwrap();
        assert_eq!((first.saved, first.stage_changes), (1, 1));
        assert_eq!((same_stage.saved, same_stage.stage_changes), (1, 0));
        assert_eq!(
            (older.saved, older.skipped_newer),
            (0, 1),
            "an older run rewrites nothing"
        );
        assert_eq!(changed.stage_changes, 1);
        assert_eq!(stored.stage, Stage::Engaged);
        assert_eq!(stored.scored_at, 3_000);
        assert_eq!(
            history.iter().map(|c| (c.from, c.to)).collect::<Vec<_>>(),
            [(None, Stage::Aware), (Some(Stage::Aware), Stage::Engaged)]
        );
        assert_eq!(accounts[0].facts.employees, Some(1200));
        // One account read alone is the same as in the list of all.
        let one = store.scoring_account(id).unwrap().unwrap();
        assert_eq!(one.domain, accounts[0].domain);
        assert_eq!(one.facts.industry, accounts[0].facts.industry);
        assert_eq!(one.facts.technologies, accounts[0].facts.technologies);
        assert_eq!(one.facts.employees, accounts[0].facts.employees);
        assert!(
            store
                .scoring_account(AccountId(id.0 + 1000))
                .unwrap()
                .is_none()
        );
        assert!(
            store.profile_version().unwrap() > 0,
            "an accounts import was recorded"
        );
        let firmographics = accounts.first().map(|a| {
            (
                a.domain.clone(),
                a.facts.industry.clone(),
                a.facts.employees,
                a.facts.technologies.clone(),
            )
        });
        (
            [first, same_stage, older, changed],
            (
                stored.values.fit,
                stored.stage,
                stored.scored_at,
                stored.domain.clone(),
            ),
            stored.values == values(40.0),
            listed.len(),
            history,
            firmographics,
        )
    });
}

/// A replayed history replaces the stored scores and stage changes whole.
#[test]
fn a_replayed_history_replaces_scores_and_changes() {
    use abm_core::score::{ScoreValues, Stage};
    use abm_store::{SavedScore, StageChange};
    on_both_backends(|open| {
        let mut store = open();
        let id = {
            let mut transaction = store.begin_import(&record("accounts")).unwrap();
            let id = transaction
                .insert_account(&account("acme.com", None))
                .unwrap();
            commit(transaction);
            id
        };
        let saved = |stage: Stage| SavedScore {
            account: id,
            values: ScoreValues::default(),
            stage,
            stage_reason: "live".into(),
        };
        store.save_scores(5_000, &[saved(Stage::Aware)]).unwrap();
        let change = |at: i64, from: Option<Stage>, to: Stage| StageChange {
            changed_at: at,
            from,
            to,
            reason: format!("replayed {at}"),
        };
        let changes = [
            (id, change(1_000, None, Stage::Target)),
            (id, change(2_000, Some(Stage::Target), Stage::Engaged)),
            (id, change(3_000, Some(Stage::Engaged), Stage::Qualified)),
        ];
        store
            .replace_history(3_000, &[saved(Stage::Qualified)], &changes)
            .unwrap();
        let history = store.stage_history(id).unwrap();
        assert_eq!(
            history,
            changes.iter().map(|(_, c)| c.clone()).collect::<Vec<_>>()
        );
        let stored = store.stored_score(id).unwrap().unwrap();
        assert_eq!((stored.stage, stored.scored_at), (Stage::Qualified, 3_000));
        (history, stored.stage)
    });
}

/// The ranked list filters, sorts and pages in the database, alike on both backends.
#[test]
fn the_ranked_list_filters_sorts_and_pages() {
    use abm_core::score::{ScoreValues, Stage};
    use abm_store::SavedScore;
    use abm_store::listing::{ListCursor, ListFilter, ListSort, TierFilter, list_accounts};
    on_both_backends(|open| {
        let mut store = open();
        let specs = [
            ("alpha.com", Some("Ana Ruiz"), 90.0, Stage::Qualified),
            ("beta.com", Some("bo@ourco.com"), 80.0, Stage::Engaged),
            ("gamma.com", None, 80.0, Stage::Opportunity),
            ("delta_x.com", Some("ana ruiz "), 10.0, Stage::Target),
            ("epsilon.com", None, 50.0, Stage::Aware),
        ];
        let mut ids = Vec::new();
        {
            let mut transaction = store.begin_import(&record("accounts")).unwrap();
            for (name, owner, _, _) in &specs {
                let mut account = account(&name.replace('_', "-"), None);
                account.owner = owner.map(str::to_owned);
                ids.push(transaction.insert_account(&account).unwrap());
            }
            commit(transaction);
        }
        let saved: Vec<SavedScore> = specs
            .iter()
            .zip(&ids)
            .map(|((_, _, priority, stage), id)| SavedScore {
                account: *id,
                values: ScoreValues {
                    fit: 100.0 - priority,
                    intent: 0.0,
                    engagement: 0.0,
                    priority: *priority,
                },
                stage: *stage,
                stage_reason: String::new(),
            })
            .collect();
        store.save_scores(1_000, &saved).unwrap();
        let sql = store.sql();
        let tal = |id: AccountId, tier: &str, sales: Option<&str>| abm_store::team::TalRow {
            account_id: id.0,
            domain: String::new(),
            name: None,
            owner: None,
            status: "approved".into(),
            tier: Some(tier.into()),
            tier_override: None,
            tier_reason: None,
            strategic: false,
            sales_owner: sales.map(str::to_owned),
            marketing_owner: None,
            source: "test".into(),
            reason: "test".into(),
            proposed_by: "t".into(),
            proposed_at: 1,
            updated_by: "t".into(),
            updated_at: 1,
            cluster: None,
        };
        abm_store::team::write_tal(sql, &tal(ids[1], "1:1", None)).unwrap();
        abm_store::team::write_tal(sql, &tal(ids[4], "1:few", Some("Bo@OurCo.com"))).unwrap();
        let cluster =
            abm_store::team::create_cluster(sql, "Fintech", "[]", "manual", "t", 1).unwrap();
        abm_store::team::set_cluster_member(sql, cluster, ids[4].0, "t", 1).unwrap();
        let domains = |sql: &mut dyn abm_store::sql::Sql,
                       filter: ListFilter,
                       sort: ListSort,
                       cursor: Option<ListCursor>,
                       limit: Option<u64>| {
            list_accounts(sql, &filter, sort, cursor.as_ref(), limit)
                .unwrap()
                .into_iter()
                .map(|row| row.domain)
                .collect::<Vec<_>>()
        };
        let all = domains(sql, ListFilter::default(), ListSort::Priority, None, None);
        assert_eq!(
            all,
            [
                "alpha.com",
                "beta.com",
                "gamma.com",
                "epsilon.com",
                "delta-x.com"
            ],
            "priority, highest first, ties by domain"
        );
        let first_page = domains(
            sql,
            ListFilter::default(),
            ListSort::Priority,
            None,
            Some(2),
        );
        let second_page = domains(
            sql,
            ListFilter::default(),
            ListSort::Priority,
            Some(ListCursor {
                value: 80.0,
                domain: "beta.com".into(),
            }),
            Some(2),
        );
        assert_eq!(first_page, ["alpha.com", "beta.com"]);
        assert_eq!(
            second_page,
            ["gamma.com", "epsilon.com"],
            "the cursor resumes after a tie"
        );
        let by_domain = domains(sql, ListFilter::default(), ListSort::Domain, None, None);
        assert_eq!(by_domain[0], "alpha.com");
        let filtered = |sql: &mut dyn abm_store::sql::Sql, filter: ListFilter| {
            domains(sql, filter, ListSort::Priority, None, None)
        };
        let mine = filtered(
            sql,
            ListFilter {
                owner: vec!["ANA RUIZ".into()],
                ..Default::default()
            },
        );
        assert_eq!(
            mine,
            ["alpha.com", "delta-x.com"],
            "the CRM owner without case or spaces"
        );
        let bos = filtered(
            sql,
            ListFilter {
                owner: vec!["bo@ourco.com".into()],
                ..Default::default()
            },
        );
        assert_eq!(
            bos,
            ["beta.com", "epsilon.com"],
            "the CRM owner or the TAL's sales owner"
        );
        let qualified = filtered(
            sql,
            ListFilter {
                qualified: Some(true),
                ..Default::default()
            },
        );
        assert_eq!(qualified, ["alpha.com", "gamma.com"]);
        let tier = filtered(
            sql,
            ListFilter {
                tier: Some(TierFilter::In("1:1".into())),
                ..Default::default()
            },
        );
        assert_eq!(tier, ["beta.com"]);
        let untiered = filtered(
            sql,
            ListFilter {
                tier: Some(TierFilter::None),
                ..Default::default()
            },
        );
        assert_eq!(untiered, ["alpha.com", "gamma.com", "delta-x.com"]);
        let fintech = filtered(
            sql,
            ListFilter {
                cluster: Some("Fintech".into()),
                ..Default::default()
            },
        );
        assert_eq!(fintech, ["epsilon.com"]);
        let stage = filtered(
            sql,
            ListFilter {
                stage: Some("engaged".into()),
                ..Default::default()
            },
        );
        assert_eq!(stage, ["beta.com"]);
        let search = filtered(
            sql,
            ListFilter {
                search: Some("A.COM".into()),
                ..Default::default()
            },
        );
        assert_eq!(
            search,
            ["alpha.com", "beta.com", "gamma.com"],
            "part of the domain, without case"
        );
        let literal = filtered(
            sql,
            ListFilter {
                search: Some("%".into()),
                ..Default::default()
            },
        );
        assert!(
            literal.is_empty(),
            "a LIKE wildcard in the search is taken literally"
        );
        let rows = list_accounts(
            sql,
            &ListFilter::default(),
            ListSort::Priority,
            None,
            Some(5),
        )
        .unwrap();
        let epsilon = rows.iter().find(|row| row.domain == "epsilon.com").unwrap();
        assert_eq!(
            (epsilon.tier.as_deref(), epsilon.cluster.as_deref()),
            (Some("1:few"), Some("Fintech"))
        );
        let owners = abm_store::listing::owners(sql, 10).unwrap();
        (all, mine, bos, qualified, untiered, owners)
    });
}

/// Every row of the report rollups, in order, as text.
fn rollup_snapshot(store: &mut dyn Store) -> Vec<String> {
    let mut lines = Vec::new();
    for query in [
        "SELECT account_id, week, activities, points FROM rollup_account_weeks ORDER BY 1, 2",
        "SELECT week, activities FROM rollup_weeks ORDER BY 1",
        "SELECT account_id, week, contact_id, n FROM rollup_people_weeks ORDER BY 1, 2, 3",
        "SELECT account_id, week, dimension, item, n FROM rollup_item_weeks ORDER BY 1, 2, 3, 4",
    ] {
        for row in store.sql().query(query, &[]).unwrap() {
            lines.push(format!("{row:?}"));
        }
        lines.push("--".into());
    }
    lines
}

#[test]
fn report_rollups_follow_the_log_as_rows_move() {
    on_both_backends(|open| {
        let mut store = open();
        let weights: &[(&str, f64)] = &[("page_view", 1.5), ("form_fill", 8.0)];
        let mut transaction = store.begin_import(&record("accounts")).unwrap();
        let globex = transaction
            .insert_account(&account("globex.com", None))
            .unwrap();
        commit(transaction);

        let mut topical = activity_row("r-3", "globex.com", Some(globex), 4);
        topical.activity.topic = Some("Data Privacy".into());
        let mut visiting = activity_row("r-4", "unknown-co.com", None, 5);
        visiting.visitor = Some("visitor-1".into());
        let mut transaction = store.begin_import(&record("activities")).unwrap();
        transaction
            .write_activities(&[
                activity_row("r-1", "initech.com", None, 2),
                activity_row("r-2", "ann@initech.com", None, 3),
                topical,
                visiting,
            ])
            .unwrap();
        transaction.finish_activities().unwrap();
        commit(transaction);
        let first = store.refresh_rollups(weights, 1).unwrap();
        assert_eq!((first.new_rows, first.rebuilt_accounts), (4, 0));
        let before = rollup_snapshot(store.as_mut());
        assert!(
            before.iter().any(|line| line.contains("initech.com")),
            "unmatched domains are rolled up under account 0: {before:?}"
        );

        // Re-resolution moves two rolled-up rows to Initech, one of them to Ann.
        let mut transaction = store.begin_import(&record("accounts")).unwrap();
        let initech = transaction
            .insert_account(&account("initech.com", None))
            .unwrap();
        transaction
            .write_contact(
                None,
                &Contact {
                    crm_id: None,
                    email: email("ann@initech.com"),
                    first_name: None,
                    last_name: None,
                    title: None,
                    account_id: initech,
                    consent: Consent::default(),
                    attributes: Default::default(),
                },
            )
            .unwrap();
        transaction.rematch().unwrap();
        commit(transaction);
        // A visitor identifies: their anonymous row joins Globex.
        abm_store::tracking::link_visitor_activities(
            store.sql(),
            "visitor-1",
            Some(globex.0),
            None,
        )
        .unwrap();
        assert!(abm_store::rollup::is_stale(store.sql(), weights).unwrap());
        let second = store.refresh_rollups(weights, 2).unwrap();
        assert_eq!(second.new_rows, 0);
        assert!(
            second.rebuilt_accounts >= 3,
            "0, Initech and Globex: {second:?}"
        );
        assert!(!abm_store::rollup::is_stale(store.sql(), weights).unwrap());
        let incremental = rollup_snapshot(store.as_mut());
        assert!(!incremental.iter().any(|line| line.contains("initech.com")));

        // Other weights rebuild everything from the log; back to ours, the same rollups.
        store.refresh_rollups(&[("page_view", 2.0)], 3).unwrap();
        let rebuilt = store.refresh_rollups(weights, 4).unwrap();
        assert_eq!(rebuilt.new_rows, 4);
        assert_eq!(rollup_snapshot(store.as_mut()), incremental);
        (before, incremental)
    });
}

#[test]
fn visitors_are_read_and_written_many_a_statement() {
    use abm_store::tracking::{VisitorRecord, VisitorWrite, save_visitors, visitors};
    on_both_backends(|open| {
        let mut store = open();
        let visitor = |number: usize| VisitorRecord {
            id: format!("visitor-{number:04}"),
            first_seen: 10,
            last_seen: 20,
            events: 1,
            account_id: None,
            contact_id: None,
            email: None,
            identified_by: None,
            confidence: None,
            organization: None,
        };
        // More than one statement holds, with a shorter last chunk; new visitors are
        // inserted whole whichever way they are written.
        let mut all: Vec<VisitorRecord> = (0..150).map(visitor).collect();
        all[7].email = Some("jane@acme.com".into());
        all[7].identified_by = Some("identify".into());
        all[7].confidence = Some(1.0);
        all[8].organization = Some("Globex".into());
        all[8].identified_by = Some("reverse_ip".into());
        all[8].confidence = Some(0.8);
        let (first, rest) = all.split_at(100);
        save_visitors(
            store.sql(),
            &first.iter().collect::<Vec<_>>(),
            VisitorWrite::Visits,
        )
        .unwrap();
        save_visitors(
            store.sql(),
            &rest.iter().collect::<Vec<_>>(),
            VisitorWrite::Whole,
        )
        .unwrap();

        // Every id read back at once; an id asked twice is read once, one never stored is not.
        let mut ids: Vec<&str> = all.iter().map(|visitor| visitor.id.as_str()).collect();
        ids.insert(3, "nobody-at-all");
        ids.push(all[42].id.as_str());
        let mut found = visitors(store.sql(), &ids).unwrap();
        found.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(found, all);
        assert_eq!(visitors(store.sql(), &[]).unwrap(), vec![]);

        // Visits write only the visits: the identity stays as stored, even when the record
        // written carries none. Whole replaces the identity too. Visits add up and the seen
        // times only widen, so two writers of one visitor lose nothing.
        let mut visit = visitor(7);
        (visit.first_seen, visit.last_seen, visit.events) = (5, 30, 4);
        save_visitors(store.sql(), &[&visit], VisitorWrite::Visits).unwrap();
        let mut late = visitor(7);
        (late.first_seen, late.last_seen, late.events) = (12, 25, 2);
        save_visitors(store.sql(), &[&late], VisitorWrite::Visits).unwrap();
        let mut changed = all[8].clone();
        changed.organization = None;
        changed.identified_by = Some("identify".into());
        changed.email = Some("ann@globex.com".into());
        changed.events = 9;
        save_visitors(store.sql(), &[&changed], VisitorWrite::Whole).unwrap();
        let read = visitors(store.sql(), &[visit.id.as_str(), changed.id.as_str()]).unwrap();
        let mut read: Vec<VisitorRecord> = read;
        read.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(
            (read[0].first_seen, read[0].last_seen, read[0].events),
            (5, 30, 1 + 4 + 2)
        );
        assert_eq!(read[0].email.as_deref(), Some("jane@acme.com"));
        assert_eq!(read[0].identified_by.as_deref(), Some("identify"));
        assert_eq!(
            read[1],
            VisitorRecord {
                events: 1 + 9,
                ..changed
            }
        );
        read
    });
}

/// Both bulk lanes — a load announced at its size (on PostgreSQL `COPY`ed straight into the
/// log) and an unannounced one (staged first) — keep one copy per id when a load repeats an
/// id or meets one stored before, and find an id repeated with other content; a re-import
/// then changes nothing.
#[test]
fn bulk_loads_keep_one_copy_per_id_and_name_conflicts() {
    for announced in [true, false] {
        on_both_backends(|open| {
            let mut store = open();
            let mut transaction = store.begin_import(&record("accounts")).unwrap();
            let acme = transaction
                .insert_account(&account("acme.com", None))
                .unwrap();
            commit(transaction);
            let mut earlier = vec![
                activity_row("old-same", "jo@acme.com", Some(acme), 2),
                activity_row("old-other", "jo@acme.com", Some(acme), 3),
            ];
            earlier[1].fingerprint += 1;
            let mut transaction = store.begin_import(&record("activities")).unwrap();
            transaction.write_activities(&earlier).unwrap();
            transaction.finish_activities().unwrap();
            commit(transaction);

            let mut load: Vec<ActivityRow> = (0..50_000)
                .map(|n| {
                    let who = if n % 10 == 0 {
                        "unknown.io"
                    } else {
                        "jo@acme.com"
                    };
                    let account = (n % 10 != 0).then_some(acme);
                    activity_row(&format!("n-{n}"), who, account, 0)
                })
                .collect();
            load.push(activity_row("old-same", "jo@acme.com", Some(acme), 0));
            load.push(activity_row("old-other", "jo@acme.com", Some(acme), 0));
            load.push(activity_row("n-5", "jo@acme.com", Some(acme), 0));
            load.insert(100, activity_row("n-7", "jo@acme.com", Some(acme), 0));
            for (line, row) in load.iter_mut().enumerate() {
                row.source.line = line as u64 + 2;
            }
            let run = |store: &mut Box<dyn Store>, rows: &[ActivityRow], commit_it: bool| {
                let expected = if announced { rows.len() as u64 } else { 0 };
                let record = ImportRecord {
                    expected_rows: expected,
                    ..record("activities")
                };
                let mut transaction = store.begin_import(&record).unwrap();
                transaction.begin_activities(expected).unwrap();
                let mut outcome = ActivityOutcome::default();
                for batch in rows.chunks(7_000) {
                    outcome.absorb(transaction.write_activities(batch).unwrap());
                }
                outcome.absorb(transaction.finish_activities().unwrap());
                if commit_it {
                    commit(transaction);
                }
                (
                    outcome.inserted,
                    outcome.unchanged,
                    outcome.kept_existing,
                    outcome
                        .conflicts
                        .iter()
                        .map(|c| {
                            (
                                c.id.as_str().to_owned(),
                                c.first.map(|s| s.line),
                                c.second.line,
                            )
                        })
                        .collect::<Vec<_>>(),
                )
            };
            // First, a load repeating an id with other content: a conflict naming both lines.
            let mut conflicting: Vec<ActivityRow> = (0..50_000)
                .map(|n| activity_row(&format!("m-{n}"), "jo@acme.com", Some(acme), n + 2))
                .collect();
            let mut other = activity_row("m-9", "jo@acme.com", Some(acme), 50_002);
            other.fingerprint += 1;
            conflicting.push(other);
            let refused = run(&mut store, &conflicting, false);
            assert_eq!(refused.3, [("m-9".to_owned(), Some(11), 50_002)]);
            assert_eq!(
                store.counts().unwrap().activities,
                2,
                "the refused load left nothing"
            );
            let first = run(&mut store, &load, true);
            // n-5 and n-7 twice with the same content, old-same unchanged, old-other kept.
            assert_eq!(first, (50_000, 3, 1, vec![]), "announced: {announced}");
            let counts = store.counts().unwrap();
            assert_eq!(
                (counts.activities, counts.unmatched_activities),
                (50_002, 5_000)
            );
            assert_eq!(store.activity_count_for(acme).unwrap(), 45_002);

            let again = run(&mut store, &load, true);
            assert_eq!(again, (0, 50_003, 1, vec![]));

            (first, again, refused, counts)
        });
    }
}
