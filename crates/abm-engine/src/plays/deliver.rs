//! The channels: what happens to a touch the guard let through. Email over SMTP (lettre),
//! sales tasks, alerts to chat and signed webhooks (reqwest), and the files ad platforms,
//! print vendors and the CRM take (ad audiences, direct-mail lists, the write-back).

use super::{Enrolment, sender, template_context};
use abm_core::persona::BuyingRole;
use abm_core::play::channels::WebhookFormat;
use abm_core::play::guard::Rule;
use abm_core::play::template::BlockKeys;
use abm_core::play::{Channel, Play, Setup, Step, TaskKind};
use abm_store::plays::{self as stored, NewTask, PlayPerson, TouchRow, TouchUpdate};
use abm_store::{ActivityRow, ImportFigures, ImportRecord, SourceLine, Store, StoreError};
use sha2::Digest;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// What a delivery came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Sent,
    /// The channel refused for good (a rejected address, no postal address, a template that
    /// cannot render for this person).
    Suppressed(Rule, String),
    /// A failure worth retrying (the server is down, a timeout).
    Failed(String),
    /// Another runner (a second `abm serve`, an `abm run` beside it) took the touch first.
    Taken,
}

/// The channels' settings and state for one run.
pub struct Delivery<'a> {
    /// `smtp://…` or `smtps://…`; email touches fail (and are retried) without one.
    pub smtp_url: Option<String>,
    mailer: Option<lettre::SmtpTransport>,
    http: reqwest::blocking::Client,
    /// Signs the unsubscribe links (the server's `link` secret).
    pub link_key: Vec<u8>,
    pub exports: PathBuf,
    /// Reads a webhook's secret from the environment variable its `secret_env` names.
    pub secret: &'a dyn Fn(&str) -> Option<String>,
    /// Called after a touch went out and before it is recorded: the crash tests stop the
    /// process here.
    pub after_send: &'a dyn Fn(&TouchRow),
    audiences: BTreeSet<(String, String)>,
    write_back: bool,
}

impl<'a> Delivery<'a> {
    pub fn new(
        smtp_url: Option<String>,
        link_key: Vec<u8>,
        exports: PathBuf,
        secret: &'a dyn Fn(&str) -> Option<String>,
        after_send: &'a dyn Fn(&TouchRow),
    ) -> Delivery<'a> {
        let http = reqwest::blocking::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap_or_else(|_| reqwest::blocking::Client::new());
        Delivery {
            smtp_url,
            mailer: None,
            http,
            link_key,
            exports,
            secret,
            after_send,
            audiences: BTreeSet::new(),
            write_back: false,
        }
    }
}

/// The Message-ID of a touch's email: the same for every attempt, so a receiver can tell a
/// retry after a crash from a new email. Also the `email_sent` activity's id.
pub fn message_id(idem_key: &str, from: &str) -> String {
    let digest = sha2::Sha256::digest(idem_key.as_bytes());
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    let (_, address) = sender(from);
    let domain = address.rsplit_once('@').map_or("abm.invalid", |(_, d)| d);
    format!("abm-{hex}@{domain}")
}

/// The unsubscribe link of an email.
pub fn unsubscribe_url(public_url: &str, key: &[u8], message_id: &str, email: &str) -> String {
    let token = abm_core::tracking::link::sign_link(
        key,
        &abm_core::tracking::link::LinkPayload {
            message_id: format!("unsubscribe:{message_id}"),
            email: email.to_owned(),
            url: None,
        },
    );
    format!("{}/u/{token}", public_url.trim_end_matches('/'))
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn deliver(
    store: &mut dyn Store,
    setup: &Setup,
    play: &Play,
    step: &Step,
    touch: &TouchRow,
    enrolment: &Enrolment,
    person: Option<(&PlayPerson, Option<BuyingRole>)>,
    delivery: &mut Delivery<'_>,
    now: i64,
) -> Result<Outcome, StoreError> {
    let channel = Channel::from_key(&touch.channel).unwrap_or(Channel::Alert);
    match channel {
        Channel::Email => email(
            store, setup, play, step, touch, enrolment, person, delivery, now,
        ),
        Channel::Task => task(store, setup, play, step, touch, enrolment, person, now),
        Channel::Alert => alert(store, setup, play, step, touch, enrolment, delivery, now),
        Channel::AdAudience | Channel::DirectMail => {
            let Some((row, _)) = person else {
                return Ok(Outcome::Suppressed(Rule::NoAddress, "no person".into()));
            };
            let name = match channel {
                Channel::AdAudience => step.audience.clone(),
                _ => step.item.clone(),
            }
            .unwrap_or_default();
            if channel == Channel::DirectMail && postal_address(&row.attributes).is_none() {
                return Ok(Outcome::Suppressed(
                    Rule::NoAddress,
                    "no postal address on record (street, city, postal_code)".into(),
                ));
            }
            let claimed = abm_store::sql::transaction(store.sql(), |sql| {
                if mark_sent(sql, touch.id, None, now)? == 0 {
                    return Ok::<_, StoreError>(false);
                }
                stored::add_member(
                    sql,
                    &name,
                    channel.as_str(),
                    touch.account_id,
                    row.contact_id,
                    now,
                )?;
                Ok(true)
            })?;
            if !claimed {
                return Ok(Outcome::Taken);
            }
            delivery
                .audiences
                .insert((channel.as_str().to_owned(), name));
            Ok(Outcome::Sent)
        }
        Channel::CrmWriteBack => {
            if mark_sent(store.sql(), touch.id, None, now)? == 0 {
                return Ok(Outcome::Taken);
            }
            delivery.write_back = true;
            Ok(Outcome::Sent)
        }
    }
}

fn mark_sent(
    sql: &mut dyn abm_store::sql::Sql,
    touch: i64,
    message_id: Option<&str>,
    now: i64,
) -> Result<u64, StoreError> {
    stored::update_touch(
        sql,
        touch,
        &TouchUpdate {
            status: "sent",
            message_id,
            sent_at: Some(now),
            ..TouchUpdate::default()
        },
    )
}

/// Claims the touch before its outside effect; false when another runner has it.
fn mark_sending(
    sql: &mut dyn abm_store::sql::Sql,
    touch: &TouchRow,
    message_id: &str,
) -> Result<bool, StoreError> {
    stored::claim_touch(sql, touch.id, message_id)
}

#[allow(clippy::too_many_arguments)]
fn email(
    store: &mut dyn Store,
    setup: &Setup,
    play: &Play,
    step: &Step,
    touch: &TouchRow,
    enrolment: &Enrolment,
    person: Option<(&PlayPerson, Option<BuyingRole>)>,
    delivery: &mut Delivery<'_>,
    now: i64,
) -> Result<Outcome, StoreError> {
    let Some((row, role)) = person else {
        return Ok(Outcome::Suppressed(Rule::NoAddress, "no person".into()));
    };
    let Some(template) = &step.template else {
        return Ok(Outcome::Suppressed(Rule::Template, "no template".into()));
    };
    let config = &setup.channels.email;
    let id = message_id(&touch.idem_key, &config.from);
    let rendered = match render(setup, play, template, enrolment, row, role) {
        Ok(rendered) => rendered,
        Err(error) => return Ok(Outcome::Suppressed(Rule::Template, error)),
    };
    let Some(url) = delivery.smtp_url.clone() else {
        return Ok(Outcome::Failed(
            "no SMTP server configured (channels.email.smtp_url or ABM_SMTP_URL)".into(),
        ));
    };
    if touch.status != "sending" && !mark_sending(store.sql(), touch, &id)? {
        return Ok(Outcome::Taken);
    }
    let unsubscribe = unsubscribe_url(&config.public_url, &delivery.link_key, &id, &row.email);
    let body = format!(
        "{}\n\n--\nYou receive this because of your work at {}. Unsubscribe: {unsubscribe}\n",
        rendered.body.trim_end(),
        enrolment
            .account
            .name
            .as_deref()
            .unwrap_or(&enrolment.account.domain),
    );
    let message = match build_message(config, row, &rendered.subject, &body, &id, &unsubscribe) {
        Ok(message) => message,
        Err(error) => return Ok(Outcome::Suppressed(Rule::NoAddress, error)),
    };
    if delivery.mailer.is_none() {
        match lettre::SmtpTransport::from_url(&url) {
            Ok(builder) => delivery.mailer = Some(builder.build()),
            Err(error) => return Ok(Outcome::Failed(format!("SMTP URL: {error}"))),
        }
    }
    let Some(mailer) = &delivery.mailer else {
        return Ok(Outcome::Failed("no SMTP transport".into()));
    };
    use lettre::Transport as _;
    if let Err(error) = mailer.send(&message) {
        // Only a refused mailbox is a bounce (550 unavailable, 551 not local, 553 name not
        // allowed); any other error, permanent or not, is the server's and is retried.
        let refused_mailbox = error
            .status()
            .is_some_and(|code| matches!(code.to_string().as_str(), "550" | "551" | "553"));
        if error.is_permanent() && refused_mailbox {
            abm_store::guard_data::record_bounce(
                store.sql(),
                &row.email,
                true,
                now,
                &error.to_string(),
            )?;
            return Ok(Outcome::Suppressed(Rule::HardBounce, error.to_string()));
        }
        return Ok(Outcome::Failed(error.to_string()));
    }
    (delivery.after_send)(touch);
    record_email_sent(store, touch, play, row, &id, now)?;
    Ok(Outcome::Sent)
}

fn build_message(
    config: &abm_core::play::channels::EmailChannel,
    row: &PlayPerson,
    subject: &str,
    body: &str,
    id: &str,
    unsubscribe: &str,
) -> Result<lettre::Message, String> {
    use lettre::message::header::{ContentType, HeaderName, HeaderValue};
    let from: lettre::message::Mailbox = config
        .from
        .parse()
        .map_err(|error| format!("channels.email.from: {error}"))?;
    let name = [row.first_name.as_deref(), row.last_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let to = lettre::message::Mailbox::new(
        (!name.is_empty()).then_some(name),
        row.email
            .parse()
            .map_err(|error| format!("{}: {error}", row.email))?,
    );
    let mut builder = lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .message_id(Some(format!("<{id}>")))
        .header(ContentType::TEXT_PLAIN)
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe"),
            format!("<{unsubscribe}>"),
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
            "List-Unsubscribe=One-Click".to_owned(),
        ));
    if let Some(reply_to) = &config.reply_to
        && let Ok(mailbox) = reply_to.parse()
    {
        builder = builder.reply_to(mailbox);
    }
    builder
        .body(body.to_owned())
        .map_err(|error| error.to_string())
}

/// The email logged as an `email_sent` activity (its id the Message-ID, so a second record
/// after a crash changes nothing) and the touch marked sent, in one transaction.
fn record_email_sent(
    store: &mut dyn Store,
    touch: &TouchRow,
    play: &Play,
    row: &PlayPerson,
    id: &str,
    now: i64,
) -> Result<(), StoreError> {
    let activity = abm_core::Activity {
        id: abm_core::ActivityId::parse(id).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        kind: abm_core::ActivityKind::EmailSent,
        occurred_at: jiff::Timestamp::from_microsecond(now)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        email: abm_core::Email::parse(&row.email).ok(),
        domain: None,
        url: None,
        topic: None,
        campaign: Some(play.name.clone()),
        channel: Some("email".to_owned()),
    };
    let started_at = activity.occurred_at;
    let fingerprint = activity.fingerprint();
    let mut transaction = store.begin_import(&ImportRecord {
        kind: "plays".into(),
        files: Vec::new(),
        started_at,
        expected_rows: 1,
    })?;
    let mut outcome = transaction.write_activities(&[ActivityRow {
        activity,
        account: Some(abm_core::AccountId(touch.account_id)),
        contact: Some(abm_core::ContactId(row.contact_id)),
        account_key: None,
        fingerprint,
        source: SourceLine { file: 0, line: 1 },
        visitor: None,
    }])?;
    outcome.absorb(transaction.finish_activities()?);
    {
        let mut sql = transaction.sql()?;
        mark_sent(sql.as_mut(), touch.id, Some(id), now)?;
    }
    transaction.commit(&ImportFigures {
        rows_read: 1,
        inserted: outcome.inserted,
        updated: 0,
        unchanged: outcome.unchanged + outcome.kept_existing,
        unmatched: 0,
    })?;
    Ok(())
}

fn render(
    setup: &Setup,
    play: &Play,
    template: &str,
    enrolment: &Enrolment,
    row: &PlayPerson,
    role: Option<BuyingRole>,
) -> Result<abm_core::play::template::Rendered, String> {
    let context = template_context(
        play,
        enrolment,
        Some(row),
        role,
        &sender(&setup.channels.email.from),
        &setup.channels.email.public_url,
    );
    let account = &enrolment.account;
    let keys = BlockKeys {
        industry: account.industry.as_deref(),
        cluster: account.cluster.as_deref(),
        tier: account.tier.as_deref(),
        role: role.map(BuyingRole::as_str),
    };
    setup.templates.render(template, &context, &keys)
}

#[allow(clippy::too_many_arguments)]
fn task(
    store: &mut dyn Store,
    setup: &Setup,
    play: &Play,
    step: &Step,
    touch: &TouchRow,
    enrolment: &Enrolment,
    person: Option<(&PlayPerson, Option<BuyingRole>)>,
    now: i64,
) -> Result<Outcome, StoreError> {
    let kind = touch
        .task_kind
        .as_deref()
        .and_then(TaskKind::from_key)
        .unwrap_or(TaskKind::Call);
    let account = &enrolment.account;
    let company = account
        .name
        .clone()
        .unwrap_or_else(|| account.domain.clone());
    let who = match person {
        Some((row, role)) => {
            let name = [row.first_name.as_deref(), row.last_name.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            let name = if name.is_empty() {
                row.email.clone()
            } else {
                name
            };
            match (row.title.as_deref(), role) {
                (Some(title), Some(role)) => format!("{name} ({title}, {})", role.label()),
                (Some(title), None) => format!("{name} ({title})"),
                (None, Some(role)) => format!("{name} ({})", role.label()),
                (None, None) => name,
            }
        }
        None => "the account team".to_owned(),
    };
    let title = format!("{} {who} at {company}", kind.label());
    let mut context = format!(
        "Why now: {}\nPlay: {} (step {})",
        enrolment.why, play.name, touch.step
    );
    if let Some(notes) = &step.notes {
        context.push_str(&format!("\nTalking points: {notes}"));
    }
    if let (Some(template), Some((row, role))) = (&step.template, person)
        && let Ok(draft) = render(setup, play, template, enrolment, row, role)
    {
        context.push_str(&format!(
            "\nDraft — {}\n{}",
            draft.subject,
            draft.body.trim()
        ));
    }
    let claimed = abm_store::sql::transaction(store.sql(), |sql| {
        if mark_sent(sql, touch.id, None, now)? == 0 {
            return Ok::<_, StoreError>(false);
        }
        stored::insert_task(
            sql,
            &NewTask {
                touch_id: touch.id,
                play: &play.name,
                account_id: touch.account_id,
                contact_id: touch.contact_id,
                owner: account.owner.as_deref(),
                kind: kind.as_str(),
                title: &title,
                context: &context,
                due_at: now,
            },
        )?;
        Ok(true)
    })?;
    Ok(if claimed {
        Outcome::Sent
    } else {
        Outcome::Taken
    })
}

#[allow(clippy::too_many_arguments)]
fn alert(
    store: &mut dyn Store,
    setup: &Setup,
    play: &Play,
    step: &Step,
    touch: &TouchRow,
    enrolment: &Enrolment,
    delivery: &mut Delivery<'_>,
    now: i64,
) -> Result<Outcome, StoreError> {
    let Some(webhook) = step
        .webhook
        .as_ref()
        .and_then(|name| setup.channels.webhooks.get(name))
    else {
        return Ok(Outcome::Failed(
            "the step's webhook is not configured".into(),
        ));
    };
    let account = &enrolment.account;
    let company = account
        .name
        .clone()
        .unwrap_or_else(|| account.domain.clone());
    let text = format!(
        "{company} ({}{}): {} Play {}, step {}.",
        account.domain,
        account
            .tier
            .as_deref()
            .map(|t| format!(", {t}"))
            .unwrap_or_default(),
        enrolment.why.trim_end_matches('.').to_owned() + ".",
        play.name,
        touch.step,
    );
    let body = match webhook.format {
        WebhookFormat::Slack => serde_json::json!({ "text": text }),
        WebhookFormat::Teams => serde_json::json!({
            "@type": "MessageCard", "@context": "https://schema.org/extensions",
            "summary": format!("{company}: {}", play.name), "text": text,
        }),
        WebhookFormat::Generic => serde_json::json!({
            "event": "play.alert", "id": touch.idem_key, "play": play.name, "step": touch.step,
            "account": {"domain": account.domain, "name": account.name, "tier": account.tier,
                        "stage": account.stage, "owner": account.owner},
            "why": enrolment.why, "text": text,
        }),
    };
    let body = serde_json::to_vec(&body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    if touch.status != "sending" && !mark_sending(store.sql(), touch, &touch.idem_key)? {
        return Ok(Outcome::Taken);
    }
    let mut request = delivery
        .http
        .post(&webhook.url)
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", &touch.idem_key);
    if webhook.format == WebhookFormat::Generic {
        let Some(secret) = webhook
            .secret_env
            .as_deref()
            .and_then(|name| (delivery.secret)(name))
        else {
            return Ok(Outcome::Failed(format!(
                "the webhook's secret is not set (environment variable {})",
                webhook.secret_env.as_deref().unwrap_or_default()
            )));
        };
        let timestamp = (now / 1_000_000).to_string();
        let signature =
            abm_core::tracking::webhook::sign_webhook(secret.as_bytes(), &timestamp, &body);
        request = request
            .header("X-Abm-Timestamp", timestamp)
            .header("X-Abm-Signature", signature);
    }
    match request.body(body).send() {
        Ok(response) if response.status().is_success() => {
            (delivery.after_send)(touch);
            mark_sent(store.sql(), touch.id, Some(&touch.idem_key), now)?;
            Ok(Outcome::Sent)
        }
        Ok(response) => Ok(Outcome::Failed(format!(
            "the webhook answered {}",
            response.status()
        ))),
        Err(error) => Ok(Outcome::Failed(format!(
            "the webhook cannot be reached: {error}"
        ))),
    }
}

/// A postal address from a contact's CRM attributes (`street`/`mailing_street`, `city`,
/// `postal_code`/`zip`, `region`/`state`, `country`).
pub fn postal_address(attributes: &str) -> Option<[String; 5]> {
    let value: serde_json::Value = serde_json::from_str(attributes).ok()?;
    let pick = |keys: &[&str]| {
        keys.iter()
            .find_map(|key| value.get(*key).and_then(serde_json::Value::as_str))
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    };
    let street = pick(&["street", "mailing_street", "mailingstreet", "address"])?;
    let city = pick(&["city", "mailing_city", "mailingcity"])?;
    let postal = pick(&[
        "postal_code",
        "mailing_postal_code",
        "mailingpostalcode",
        "zip",
    ])?;
    let region = pick(&["region", "state", "mailing_state", "mailingstate"]).unwrap_or_default();
    let country = pick(&["country", "mailing_country", "mailingcountry"]).unwrap_or_default();
    Some([street, city, postal, region, country])
}

/// Rewrites the export files the run touched: each from everything stored, so a file is
/// always whole and a re-run writes the same bytes.
pub fn write_exports(
    store: &mut dyn Store,
    delivery: &Delivery<'_>,
) -> Result<Vec<PathBuf>, String> {
    let mut written = Vec::new();
    for (channel, name) in &delivery.audiences {
        let members = stored::members(store.sql(), name, channel).map_err(|e| e.to_string())?;
        let members: Vec<_> = members.into_iter().filter(|m| !m.opted_out).collect();
        if channel == Channel::AdAudience.as_str() {
            let directory = delivery.exports.join("audiences");
            let mut companies: Vec<Vec<String>> = members
                .iter()
                .map(|m| {
                    vec![
                        m.company.clone().unwrap_or_else(|| m.domain.clone()),
                        format!("https://{}", m.domain),
                        m.domain.clone(),
                        m.country.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            companies.dedup();
            written.push(write_csv(
                &directory.join(format!("{name}-companies.csv")),
                &[
                    "companyname",
                    "companywebsite",
                    "companyemaildomain",
                    "companycountry",
                ],
                &companies,
            )?);
            let contacts: Vec<Vec<String>> = members
                .iter()
                .map(|m| {
                    let normalised = m.email.trim().to_lowercase();
                    let digest = sha2::Sha256::digest(normalised.as_bytes());
                    vec![digest.iter().map(|b| format!("{b:02x}")).collect()]
                })
                .collect();
            written.push(write_csv(
                &directory.join(format!("{name}-contacts.csv")),
                &["sha256_email"],
                &contacts,
            )?);
        } else {
            let rows: Vec<Vec<String>> = members
                .iter()
                .filter_map(|m| {
                    let [street, city, postal, region, country] = postal_address(&m.attributes)?;
                    Some(vec![
                        name.clone(),
                        m.first_name.clone().unwrap_or_default(),
                        m.last_name.clone().unwrap_or_default(),
                        m.company.clone().unwrap_or_else(|| m.domain.clone()),
                        street,
                        city,
                        postal,
                        region,
                        if country.is_empty() {
                            m.country.clone().unwrap_or_default()
                        } else {
                            country
                        },
                    ])
                })
                .collect();
            written.push(write_csv(
                &delivery
                    .exports
                    .join("direct-mail")
                    .join(format!("{name}.csv")),
                &[
                    "item",
                    "first_name",
                    "last_name",
                    "company",
                    "street",
                    "city",
                    "postal_code",
                    "region",
                    "country",
                ],
                &rows,
            )?);
        }
    }
    if delivery.write_back {
        written.push(write_crm_write_back(store, &delivery.exports)?);
    }
    Ok(written)
}

/// `crm-write-back.csv`: every scored account's scores, stage, qualified flag and tier, keyed
/// by CRM id, for re-import into the CRM.
pub fn write_crm_write_back(
    store: &mut dyn Store,
    exports: &std::path::Path,
) -> Result<PathBuf, String> {
    let rows: Vec<Vec<String>> = stored::write_back(store.sql())
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|row| {
            let qualified = matches!(row.stage.as_str(), "qualified" | "opportunity");
            vec![
                row.crm_id.unwrap_or_default(),
                row.domain,
                format!("{:.0}", row.fit),
                format!("{:.0}", row.intent),
                format!("{:.0}", row.engagement),
                format!("{:.0}", row.priority),
                row.stage,
                qualified.to_string(),
                row.tier.unwrap_or_default(),
                super::rfc3339(row.scored_at),
            ]
        })
        .collect();
    write_csv(
        &exports.join("crm-write-back.csv"),
        &[
            "crm_id",
            "domain",
            "abm_fit",
            "abm_intent",
            "abm_engagement",
            "abm_priority",
            "abm_stage",
            "abm_qualified",
            "abm_tier",
            "abm_scored_at",
        ],
        &rows,
    )
}

/// Writes a CSV file whole: to a temporary file beside it, then renamed over it.
fn write_csv(
    path: &std::path::Path,
    header: &[&str],
    rows: &[Vec<String>],
) -> Result<PathBuf, String> {
    let directory = path.parent().unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(directory).map_err(|e| format!("{}: {e}", directory.display()))?;
    let temporary = path.with_extension("csv.tmp");
    {
        let mut writer = csv::Writer::from_path(&temporary)
            .map_err(|e| format!("{}: {e}", temporary.display()))?;
        writer.write_record(header).map_err(|e| e.to_string())?;
        for row in rows {
            writer.write_record(row).map_err(|e| e.to_string())?;
        }
        writer
            .flush()
            .map_err(|e| format!("{}: {e}", temporary.display()))?;
    }
    std::fs::rename(&temporary, path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path.to_path_buf())
}
