//! A rep's day.

use crate::AppState;
use crate::problem::Problem;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};

use super::{SignedIn, csrf_field, escape, page, percent};

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// A rep's day: their accounts that became qualified this week, their hottest accounts, and
/// the trigger events on their accounts in the last two weeks.
pub(super) async fn my_day(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Query(notice): Query<Notice>,
) -> Response {
    let tasks = match crate::plays_api::my_tasks(&state, &caller, true).await {
        Ok(tasks) => tasks,
        Err(problem) => return problem.into_response(),
    };
    let names: Vec<String> = std::iter::once(caller.user.email.clone())
        .chain(caller.user.name.clone())
        .collect();
    let now = jiff::Timestamp::now().as_microsecond();
    type Day = (
        Vec<(String, i64, String)>,
        Vec<(String, f64, String)>,
        Vec<(String, String, i64, String)>,
    );
    let loaded = state
        .with_store(move |store| -> Result<Day, Problem> {
            // The rep's accounts (CRM owner or TAL owner), highest priority first.
            let filter = abm_store::listing::ListFilter {
                owner: names,
                ..Default::default()
            };
            let owned = abm_store::listing::list_accounts(
                store.sql(),
                &filter,
                abm_store::listing::ListSort::Priority,
                None,
                None,
            )?;
            let mine: std::collections::HashMap<i64, String> = owned
                .iter()
                .map(|row| (row.id, row.domain.clone()))
                .collect();
            let qualified = abm_store::team::entered_stage_since(
                store.sql(),
                "qualified",
                now - 7 * MICROS_PER_DAY,
            )?
            .into_iter()
            .filter_map(|(id, at, reason)| mine.get(&id).map(|domain| (domain.clone(), at, reason)))
            .collect();
            let hot = owned
                .into_iter()
                .take(10)
                .map(|row| (row.domain, row.priority, row.stage))
                .collect();
            let triggers = abm_store::team::triggers(store.sql(), None, now - 14 * MICROS_PER_DAY)?
                .into_iter()
                .filter(|(_, trigger)| mine.contains_key(&trigger.account_id))
                .map(|(domain, trigger)| (domain, trigger.kind, trigger.at, trigger.evidence))
                .take(50)
                .collect();
            Ok((qualified, hot, triggers))
        })
        .await;
    let (qualified, hot, triggers) = match loaded {
        Ok(Ok(day)) => day,
        Ok(Err(problem)) | Err(problem) => return problem.into_response(),
    };
    let link = |domain: &str| format!(r#"<a href="/accounts/{d}">{d}</a>"#, d = escape(domain));
    let or_none = |items: String, none: &str| {
        if items.is_empty() {
            format!("<li>{none}</li>")
        } else {
            items
        }
    };
    let qualified: String = qualified
        .iter()
        .map(|(domain, at, reason)| {
            format!(
                "<li>{} — {} ({})</li>",
                link(domain),
                escape(&abm_engine::team::view::show_time(*at)),
                escape(reason)
            )
        })
        .collect();
    let hot: String = hot
        .iter()
        .map(|(domain, priority, stage)| {
            format!(
                "<li>{} — priority {priority:.0}, {}</li>",
                link(domain),
                escape(stage)
            )
        })
        .collect();
    let triggers: String = triggers
        .iter()
        .map(|(domain, kind, at, evidence)| {
            format!(
                "<li>{} — {} {}: {}</li>",
                link(domain),
                escape(&abm_engine::team::view::show_time(*at)),
                escape(kind),
                escape(evidence)
            )
        })
        .collect();
    let csrf = csrf_field(&caller);
    let tasks: String = tasks
        .iter()
        .map(|task| {
            format!(
                r#"<li class=task id="task-{id}"><strong>{title}</strong> — due {due}, play {play}<pre>{context}</pre>
<form method="post" action="/tasks/{id}">{csrf}<input type="hidden" name="action" value="complete"><input name="text" placeholder="outcome" required maxlength="2000"><button>Done</button></form>
<form method="post" action="/tasks/{id}">{csrf}<input type="hidden" name="action" value="skip"><input name="text" placeholder="why skip" required maxlength="2000"><button>Skip</button></form>
<form method="post" action="/tasks/{id}">{csrf}<input type="hidden" name="action" value="snooze"><input type="date" name="until" required><button>Snooze</button></form></li>"#,
                id = task.id,
                title = escape(&task.title),
                due = escape(&abm_engine::team::view::show_time(task.due_at)),
                play = escape(&task.play),
                context = escape(&task.context),
            )
        })
        .collect();
    let notice = match (&notice.done, &notice.error) {
        (_, Some(error)) => format!(r#"<p class=error id=notice>{}</p>"#, escape(error)),
        (Some(done), None) => format!(r#"<p id=notice>{}</p>"#, escape(done)),
        (None, None) => String::new(),
    };
    page(
        "My day",
        Some(&caller),
        &format!(
            "<h1>My day</h1>{notice}<p>Accounts you own in the CRM or on the TAL ({}).</p><h2>Tasks</h2><ul id=tasks>{}</ul><h2>Newly qualified this week</h2><ul>{}</ul><h2>Hottest accounts</h2><ul>{}</ul><h2>Trigger events, last 14 days</h2><ul>{}</ul>",
            escape(&caller.user.email),
            or_none(tasks, "no open tasks"),
            or_none(qualified, "none this week"),
            or_none(hot, "no scored accounts are yours"),
            or_none(triggers, "none"),
        ),
    )
    .into_response()
}

#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct Notice {
    done: Option<String>,
    error: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct TaskForm {
    csrf: String,
    action: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    until: Option<String>,
}

/// A task's form on My day: the same action as the API.
pub(super) async fn task_form(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(id): Path<i64>,
    Form(form): Form<TaskForm>,
) -> Response {
    let caller = match super::form_caller(caller, &form.csrf) {
        Ok(caller) => caller,
        Err(problem) => return problem.into_response(),
    };
    let request = crate::plays_api::TaskRequest {
        action: form.action,
        text: form.text,
        until: form.until,
    };
    let query = match crate::plays_api::act(&state, &caller, id, &request).await {
        Ok(task) => format!(
            "done={}",
            percent(&format!("{} — {}", task.title, task.status))
        ),
        Err(problem) => format!("error={}", percent(&problem.detail)),
    };
    Redirect::to(&format!("/my-day?{query}")).into_response()
}
