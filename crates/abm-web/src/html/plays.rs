//! The plays pages: every play with its enrolments and per-step results; one play with what
//! the guard held or suppressed and why, and its dry run.

use crate::AppState;
use crate::plays_api::{self, PlaySummary};
use crate::problem::Problem;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};

use super::{SignedIn, escape, page};

fn counts(map: &std::collections::BTreeMap<String, i64>) -> String {
    if map.is_empty() {
        return "—".to_owned();
    }
    map.iter()
        .map(|(status, count)| format!("{count} {}", escape(status)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn steps_table(play: &PlaySummary) -> String {
    let rows: String = play
        .steps
        .iter()
        .map(|step| {
            format!(
                "<tr><td class=n>{}</td><td>{}</td><td class=n>+{}d</td><td>{}</td></tr>",
                step.step,
                escape(&step.channel),
                step.wait_days,
                counts(&step.touches)
            )
        })
        .collect();
    format!(
        "<table><tr><th>step</th><th>channel</th><th>wait</th><th>touches</th></tr>{rows}</table>"
    )
}

pub(super) async fn plays_page(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
) -> Response {
    let Some(setup) = state.settings().plays.clone() else {
        return page(
            "Plays",
            Some(&caller),
            "<h1>Plays</h1><p>No plays are configured.</p>",
        )
        .into_response();
    };
    let loaded = state
        .with_store(move |store| -> Result<Vec<PlaySummary>, Problem> {
            setup
                .plays
                .iter()
                .map(|play| plays_api::summarise(store, play))
                .collect()
        })
        .await;
    let plays = match loaded {
        Ok(Ok(plays)) => plays,
        Ok(Err(problem)) | Err(problem) => return problem.into_response(),
    };
    let mut body = String::from(
        "<h1>Plays</h1><p>Each play's trigger, audience tiers and steps, with its enrolments and what each step did. <code>abm run</code> (or this server) sends what is due through the guard.</p>",
    );
    if plays.is_empty() {
        body.push_str("<p>No plays are configured ([[plays]] in abm.toml).</p>");
    }
    for play in &plays {
        body.push_str(&format!(
            r#"<h2><a href="/plays/{name}">{name}</a>{paused}</h2><p>{description}</p><p>Trigger: {trigger}; tiers: {tiers}; enrolments: {enrolments}.</p>{steps}"#,
            name = escape(&play.name),
            paused = if play.paused { " (paused)" } else { "" },
            description = escape(&play.description),
            trigger = escape(&play.trigger),
            tiers = escape(&if play.tiers.is_empty() { "any".to_owned() } else { play.tiers.join(", ") }),
            enrolments = counts(&play.enrolments),
            steps = steps_table(play),
        ));
    }
    page("Plays", Some(&caller), &body).into_response()
}

#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct PlayQuery {
    /// Show the dry run over this many days.
    simulate: Option<u32>,
}

pub(super) async fn play_page(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(name): Path<String>,
    Query(query): Query<PlayQuery>,
) -> Response {
    let Some(setup) = state.settings().plays.clone() else {
        return Problem::not_found("plays are not configured").into_response();
    };
    let wanted = name.clone();
    let loaded = state
        .with_store(move |store| -> Result<_, Problem> {
            let play = setup
                .play(&wanted)
                .ok_or_else(|| Problem::not_found(format!("no play named {wanted:?}")))?;
            Ok((
                plays_api::summarise(store, play)?,
                plays_api::held_or_suppressed(store, &play.name)?,
            ))
        })
        .await;
    let (play, decisions) = match loaded {
        Ok(Ok(found)) => found,
        Ok(Err(problem)) | Err(problem) => return problem.into_response(),
    };
    let rows: String = decisions
        .iter()
        .map(|d| {
            format!(
                "<tr><td>{}</td><td class=n>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&d.at),
                d.step,
                escape(&d.channel),
                escape(&d.account),
                escape(d.contact.as_deref().unwrap_or("(account)")),
                escape(&d.decision),
                escape(d.rule.as_deref().unwrap_or_default()),
                escape(&match (&d.reason, &d.until) {
                    (Some(reason), Some(until)) => format!("{reason} (until {until})"),
                    (Some(reason), None) => reason.clone(),
                    _ => String::new(),
                }),
            )
        })
        .collect();
    let mut body = format!(
        r#"<h1>Play {name}</h1><p>{description}</p><p>Trigger: {trigger}; enrolments: {enrolments}.</p><h2>Steps</h2>{steps}<h2>What the guard held or suppressed</h2>{held}<h2>Dry run</h2><p><a href="/plays/{name}?simulate=14">Simulate the next 14 days</a> (sends nothing).</p>"#,
        name = escape(&play.name),
        description = escape(&play.description),
        trigger = escape(&play.trigger),
        enrolments = counts(&play.enrolments),
        steps = steps_table(&play),
        held = if rows.is_empty() {
            "<p>Nothing yet.</p>".to_owned()
        } else {
            format!(
                "<table id=guard><tr><th>at</th><th>step</th><th>channel</th><th>account</th><th>contact</th><th>decision</th><th>rule</th><th>why</th></tr>{rows}</table>"
            )
        },
    );
    if let Some(days) = query.simulate {
        if !(1..=365).contains(&days) {
            return Problem::bad_request("simulate", "1 to 365 days").into_response();
        }
        match plays_api::simulate(&state, name, days).await {
            Ok(touches) => {
                let rows: String = touches
                    .iter()
                    .take(500)
                    .map(|t| {
                        format!(
                            "<tr><td>{}</td><td class=n>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                            escape(&t.at),
                            t.step,
                            escape(&t.task.map_or(t.channel.to_owned(), |task| format!("task:{task}"))),
                            escape(&t.account),
                            escape(t.contact.as_deref().unwrap_or("(account)")),
                            escape(t.decision),
                            escape(t.rule.unwrap_or_default()),
                        )
                    })
                    .collect();
                body.push_str(&format!(
                    "<p>{} touches over {days} days.</p><table id=simulation><tr><th>at</th><th>step</th><th>channel</th><th>account</th><th>contact</th><th>decision</th><th>rule</th></tr>{rows}</table>",
                    touches.len()
                ));
            }
            Err(problem) => return problem.into_response(),
        }
    }
    page(&format!("Play {}", play.name), Some(&caller), &body).into_response()
}
