//! The account plan: the living document for a 1:1 or 1:few account (objectives, pains,
//! business priorities, competitors, the buying group, next steps, notes). This module owns
//! the plan's shape, its TOML rendering for editing in `$EDITOR`, the parsing and checking
//! of the edited text, the differences between two versions (for the plan's history) and the
//! questions asked of a plan on a given day (overdue steps, upcoming renewals).
//!
//! The rendering is written for a person: a read-only comment header with the account's
//! context, a one-line comment above every field, examples where a field is empty, and text
//! fields as multi-line strings. It parses back to the same plan. Parsing is strict (an
//! unknown key is an error, not silently dropped, so a typo never loses an edit) and every
//! error names its line and column, because the user goes back to the editor to fix it.
//!
//! Dates are TOML local dates (`due = 2027-03-31`); a quoted `"2027-03-31"` is accepted too,
//! since people type either. jiff's `serde` feature is not enabled in this workspace, so the
//! dates go through this module's own (de)serializer (`date_wire`), which also reads TOML's
//! date literal; other formats (JSON) see the date as a `"2027-03-31"` string.

use jiff::civil::Date;
use std::fmt::Write as _;

/// At most this many items in each list: a plan is read by people, and the limit keeps one
/// broken paste from producing a plan nobody can open.
pub const MAX_LIST_ITEMS: usize = 100;
/// At most this many characters in each text (a list item, a note, a name).
pub const MAX_TEXT_CHARS: usize = 20_000;

/// The plan for one account. Every string is trimmed once parsed.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccountPlan {
    pub objectives: Vec<String>,
    pub pains: Vec<String>,
    pub business_priorities: Vec<String>,
    pub competitors: Vec<Competitor>,
    pub buying_group_notes: String,
    pub next_steps: Vec<NextStep>,
    pub notes: String,
}

/// A competitor present at the account.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Competitor {
    pub name: String,
    #[serde(default)]
    pub product: Option<String>,
    /// When their contract renews: the window to displace them.
    #[serde(
        default,
        serialize_with = "date_wire::serialize_option",
        deserialize_with = "date_wire::deserialize_option"
    )]
    pub contract_renewal: Option<Date>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// One agreed next step: what, who, by when.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NextStep {
    pub action: String,
    pub owner: String,
    #[serde(
        serialize_with = "date_wire::serialize",
        deserialize_with = "date_wire::deserialize"
    )]
    pub due: Date,
    #[serde(default)]
    pub done: bool,
}

/// What the rendering shows around the plan as read-only comments (the current tier,
/// triggers, buying group), so the editor sees the context.
#[derive(Debug, Clone, Default)]
pub struct PlanContext {
    pub domain: String,
    pub name: Option<String>,
    pub tier: Option<String>,
    pub context_lines: Vec<String>,
}

/// Why an edited plan was refused, at a 1-based line and column of the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct PlanError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl PlanError {
    /// The error at byte `offset` of `text`.
    fn at(text: &str, offset: usize, message: impl Into<String>) -> PlanError {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
        PlanError {
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
            message: message.into(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------

/// The plan as TOML for editing: a comment header (domain, name, tier, how to edit, the
/// context lines), then every field under a one-line comment. Empty lists show `[]` with an
/// example; competitors and next steps are `[[competitors]]` / `[[next_steps]]` tables,
/// and when there are none an example block is shown commented out (a `competitors = []`
/// line would clash with the `[[competitors]]` the user adds, and TOML puts plain keys
/// before tables, so the text fields come before them).
pub fn render(plan: &AccountPlan, context: &PlanContext) -> String {
    let mut out = String::new();
    let title = match &context.name {
        Some(name) if !name.trim().is_empty() => format!("{} ({})", name.trim(), context.domain),
        _ => context.domain.clone(),
    };
    comment(&mut out, &format!("Account plan: {title}"));
    if let Some(tier) = context
        .tier
        .as_deref()
        .filter(|tier| !tier.trim().is_empty())
    {
        comment(&mut out, &format!("Tier: {}", tier.trim()));
    }
    comment(&mut out, "");
    comment(
        &mut out,
        "This file is TOML. Lines starting with # are comments and are ignored (the context",
    );
    comment(
        &mut out,
        "below is read-only). Edit the values, save and close; abm checks the plan and shows",
    );
    comment(
        &mut out,
        "the line of any mistake. Dates look like 2027-03-31.",
    );
    if !context.context_lines.is_empty() {
        comment(&mut out, "");
        comment(&mut out, "Context:");
        for context_line in &context.context_lines {
            for part in context_line.split('\n') {
                comment(&mut out, &format!("  {part}"));
            }
        }
    }

    string_list(
        &mut out,
        "objectives",
        "What we want to achieve at this account, one item each.",
        r#"["Replace their three ABM tools with ours", "Land the data team in EMEA"]"#,
        &plan.objectives,
    );
    string_list(
        &mut out,
        "pains",
        "Problems the account has that we solve, in their words.",
        r#"["No single view of an account across tools"]"#,
        &plan.pains,
    );
    string_list(
        &mut out,
        "business_priorities",
        "What the account's leadership is focused on this year.",
        r#"["Expand into Germany", "Cut software spend by 10%"]"#,
        &plan.business_priorities,
    );
    text_field(
        &mut out,
        "buying_group_notes",
        "The buying group: who holds which role, who is missing, who could block.",
        &plan.buying_group_notes,
    );
    text_field(
        &mut out,
        "notes",
        "Anything else the team should know.",
        &plan.notes,
    );

    out.push('\n');
    comment(
        &mut out,
        "Competitors at the account: name, product, contract_renewal (a date), notes; all but name optional.",
    );
    if plan.competitors.is_empty() {
        comment(
            &mut out,
            "None yet. To add one, copy these lines without the \"# \":",
        );
        comment(&mut out, "[[competitors]]");
        comment(&mut out, r#"name = "Gong""#);
        comment(&mut out, r#"product = "Revenue Intelligence""#);
        comment(&mut out, "contract_renewal = 2027-03-31");
        comment(&mut out, r#"notes = "Signed by the former CRO""#);
    }
    for competitor in &plan.competitors {
        out.push_str("[[competitors]]\n");
        key_value(&mut out, "name", &quoted(&competitor.name));
        optional_key_value(
            &mut out,
            "product",
            competitor.product.as_deref().map(quoted),
            r#""Revenue Intelligence""#,
        );
        optional_key_value(
            &mut out,
            "contract_renewal",
            competitor.contract_renewal.map(date_literal),
            "2027-03-31",
        );
        optional_key_value(
            &mut out,
            "notes",
            competitor.notes.as_deref().map(quoted),
            r#""Signed by the former CRO""#,
        );
        out.push('\n');
    }

    if plan.competitors.is_empty() {
        out.push('\n');
    }
    comment(
        &mut out,
        "Next steps: action (what), owner (who), due (by when); set done = true once finished.",
    );
    if plan.next_steps.is_empty() {
        comment(
            &mut out,
            "None yet. To add one, copy these lines without the \"# \":",
        );
        comment(&mut out, "[[next_steps]]");
        comment(&mut out, r#"action = "Send the ROI model""#);
        comment(&mut out, r#"owner = "Ana""#);
        comment(&mut out, "due = 2027-01-15");
        comment(&mut out, "done = false");
    }
    for step in &plan.next_steps {
        out.push_str("[[next_steps]]\n");
        key_value(&mut out, "action", &quoted(&step.action));
        key_value(&mut out, "owner", &quoted(&step.owner));
        key_value(&mut out, "due", &date_literal(step.due));
        key_value(&mut out, "done", if step.done { "true" } else { "false" });
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// Appends `text` as comment lines. TOML allows no control character but tab in a
/// comment, so a newline in the text starts another comment line and the others become
/// spaces (the context comes from data, which may hold anything).
fn comment(out: &mut String, text: &str) {
    for part in text.split('\n') {
        let cleaned: String = part
            .chars()
            .map(|character| {
                if character.is_control() && character != '\t' {
                    ' '
                } else {
                    character
                }
            })
            .collect();
        let cleaned = cleaned.trim_end();
        if cleaned.is_empty() {
            out.push_str("#\n");
        } else {
            out.push_str("# ");
            out.push_str(cleaned);
            out.push('\n');
        }
    }
}

fn key_value(out: &mut String, key: &str, value: &str) {
    let _ = writeln!(out, "{key} = {value}");
}

/// A present optional value, or the key commented out with an example, so the user sees
/// what can be added.
fn optional_key_value(out: &mut String, key: &str, value: Option<String>, example: &str) {
    match value {
        Some(value) => key_value(out, key, &value),
        None => comment(out, &format!("{key} = {example}")),
    }
}

fn string_list(out: &mut String, key: &str, about: &str, example: &str, items: &[String]) {
    out.push('\n');
    comment(out, about);
    if items.is_empty() {
        comment(out, &format!("For example: {key} = {example}"));
        let _ = writeln!(out, "{key} = []");
        return;
    }
    let _ = writeln!(out, "{key} = [");
    for item in items {
        let _ = writeln!(out, "  {},", quoted(item));
    }
    out.push_str("]\n");
}

fn text_field(out: &mut String, key: &str, about: &str, text: &str) {
    out.push('\n');
    comment(
        out,
        &format!("{about} Free text between the triple quotes."),
    );
    let _ = writeln!(out, "{key} = {}", multiline(text));
}

/// A TOML basic string: `"…"` with quotes, backslashes and control characters escaped.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            control if control.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(control));
            }
            other => out.push(other),
        }
    }
    out.push('"');
    out
}

/// A multi-line TOML string for free text. A literal one (`'''…'''`) when the text allows
/// it, because there a backslash or a quote the user types is just that character; else a
/// basic one (`"""…"""`) with backslashes, control characters and every third quote in a
/// row escaped. The newline after the opening delimiter is not part of the value; the one
/// before the closing delimiter is, and parsing trims it.
fn multiline(text: &str) -> String {
    let closing_newline = if text.is_empty() { "" } else { "\n" };
    let literal_fits = !text.contains("'''")
        && text
            .chars()
            .all(|character| matches!(character, '\n' | '\t') || !character.is_control());
    if literal_fits {
        return format!("'''\n{text}{closing_newline}'''");
    }
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str("\"\"\"\n");
    let mut quotes_in_a_row = 0;
    for character in text.chars() {
        match character {
            // Two quotes may stand together; a third would close the string.
            '"' if quotes_in_a_row == 2 => {
                out.push_str("\\\"");
                quotes_in_a_row = 0;
                continue;
            }
            '"' => {
                out.push('"');
                quotes_in_a_row += 1;
                continue;
            }
            '\\' => out.push_str("\\\\"),
            '\n' | '\t' => out.push(character),
            '\r' => out.push_str("\\r"),
            control if control.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(control));
            }
            other => out.push(other),
        }
        quotes_in_a_row = 0;
    }
    out.push_str(closing_newline);
    out.push_str("\"\"\"");
    out
}

/// A TOML local date, or a quoted string for the years TOML dates cannot hold (before 0
/// or after 9999; jiff can).
fn date_literal(date: Date) -> String {
    if (0..=9999).contains(&date.year()) {
        date.to_string()
    } else {
        quoted(&date.to_string())
    }
}

// ---------------------------------------------------------------------------------------
// Parsing and checking
// ---------------------------------------------------------------------------------------

/// Parses an edited plan: TOML syntax, no unknown key, the right types, real dates; then
/// every string trimmed and checked (no empty list item, a name for each competitor, an
/// action and an owner for each next step, at most [`MAX_LIST_ITEMS`] items per list and
/// [`MAX_TEXT_CHARS`] characters per text). Errors point at the offending line and column.
pub fn parse(text: &str) -> Result<AccountPlan, PlanError> {
    let plan: AccountPlan = toml::from_str(text).map_err(|error| {
        let offset = error.span().map_or(0, |span| span.start);
        PlanError::at(text, offset, error.message().trim())
    })?;
    cleaned(plan)
        .map_err(|problem| PlanError::at(text, locate(text, &problem.path), problem.message))
}

/// One step of the way to a value in the document.
#[derive(Debug, Clone, Copy)]
enum PathStep {
    Key(&'static str),
    Index(usize),
}

/// A value that parsed but breaks a rule, and where it is.
struct Problem {
    path: Vec<PathStep>,
    message: String,
}

/// The byte offset of the value at `path`, or of the deepest part of it found (0 when
/// even the first key is missing).
fn locate(text: &str, path: &[PathStep]) -> usize {
    let Ok(root) = toml::de::DeTable::parse(text) else {
        return 0;
    };
    let root = toml::de::DeValue::Table(root.into_inner());
    let mut current = &root;
    let mut offset = 0;
    for step in path {
        let next = match *step {
            PathStep::Key(key) => current.get(key),
            PathStep::Index(index) => current.get(index),
        };
        let Some(next) = next else { break };
        offset = next.span().start;
        current = next.get_ref();
    }
    offset
}

/// "12,345": the limits read better with a separator.
fn with_thousands(number: usize) -> String {
    let digits = number.to_string();
    let mut out = String::new();
    for (position, digit) in digits.chars().enumerate() {
        if position > 0 && (digits.len() - position).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Trims `text` in place and checks its length.
fn clean_text(text: &mut String, path: Vec<PathStep>, what: &str) -> Result<(), Problem> {
    let trimmed = text.trim();
    if trimmed.len() != text.len() {
        *text = trimmed.to_owned();
    }
    let characters = text.chars().count();
    if characters > MAX_TEXT_CHARS {
        return Err(Problem {
            path,
            message: format!(
                "{what} has {} characters, at most {} are allowed",
                with_thousands(characters),
                with_thousands(MAX_TEXT_CHARS)
            ),
        });
    }
    Ok(())
}

/// Trims a required text and refuses it empty.
fn clean_required(text: &mut String, path: Vec<PathStep>, what: &str) -> Result<(), Problem> {
    clean_text(text, path.clone(), what)?;
    if text.is_empty() {
        return Err(Problem {
            path,
            message: format!("{what} must not be empty"),
        });
    }
    Ok(())
}

/// Trims an optional text; an empty one becomes absent.
fn clean_optional(
    text: &mut Option<String>,
    path: Vec<PathStep>,
    what: &str,
) -> Result<(), Problem> {
    if let Some(value) = text {
        clean_text(value, path, what)?;
        if value.is_empty() {
            *text = None;
        }
    }
    Ok(())
}

fn check_count(key: &'static str, count: usize) -> Result<(), Problem> {
    if count > MAX_LIST_ITEMS {
        return Err(Problem {
            path: vec![PathStep::Key(key)],
            message: format!("{key} has {count} items, at most {MAX_LIST_ITEMS} are allowed"),
        });
    }
    Ok(())
}

fn clean_list(key: &'static str, items: &mut [String]) -> Result<(), Problem> {
    check_count(key, items.len())?;
    for (index, item) in items.iter_mut().enumerate() {
        let path = vec![PathStep::Key(key), PathStep::Index(index)];
        let what = format!("{key} item {}", index + 1);
        clean_text(item, path.clone(), &what)?;
        if item.is_empty() {
            return Err(Problem {
                path,
                message: format!("{what} is empty; remove it or write something"),
            });
        }
    }
    Ok(())
}

/// The plan with every string trimmed, or the first rule it breaks.
fn cleaned(mut plan: AccountPlan) -> Result<AccountPlan, Problem> {
    clean_list("objectives", &mut plan.objectives)?;
    clean_list("pains", &mut plan.pains)?;
    clean_list("business_priorities", &mut plan.business_priorities)?;

    check_count("competitors", plan.competitors.len())?;
    for (index, competitor) in plan.competitors.iter_mut().enumerate() {
        let at = |key| {
            vec![
                PathStep::Key("competitors"),
                PathStep::Index(index),
                PathStep::Key(key),
            ]
        };
        let number = index + 1;
        clean_required(
            &mut competitor.name,
            at("name"),
            &format!("competitor {number}: name"),
        )?;
        clean_optional(
            &mut competitor.product,
            at("product"),
            &format!("competitor {number}: product"),
        )?;
        clean_optional(
            &mut competitor.notes,
            at("notes"),
            &format!("competitor {number}: notes"),
        )?;
    }

    clean_text(
        &mut plan.buying_group_notes,
        vec![PathStep::Key("buying_group_notes")],
        "buying_group_notes",
    )?;

    check_count("next_steps", plan.next_steps.len())?;
    for (index, step) in plan.next_steps.iter_mut().enumerate() {
        let at = |key| {
            vec![
                PathStep::Key("next_steps"),
                PathStep::Index(index),
                PathStep::Key(key),
            ]
        };
        let number = index + 1;
        clean_required(
            &mut step.action,
            at("action"),
            &format!("next step {number}: action"),
        )?;
        clean_required(
            &mut step.owner,
            at("owner"),
            &format!("next step {number}: owner"),
        )?;
    }

    clean_text(&mut plan.notes, vec![PathStep::Key("notes")], "notes")?;
    Ok(plan)
}

/// Dates on the wire: written as `"2027-03-31"`, read from that string or from a TOML
/// local date literal. (jiff's own serde support is not enabled in this workspace, and it
/// would not read TOML's date literal anyway.)
mod date_wire {
    use jiff::civil::Date;
    use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
    use serde::{Serialize, Serializer};
    use std::fmt;

    struct WireDate(Date);

    impl Serialize for WireDate {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_str(&self.0)
        }
    }

    impl<'de> Deserialize<'de> for WireDate {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_any(DateVisitor).map(WireDate)
        }
    }

    struct DateVisitor;

    impl<'de> Visitor<'de> for DateVisitor {
        type Value = Date;

        fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
            formatter.write_str("a date like 2027-03-31")
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Date, E> {
            parse_text(text.trim()).map_err(E::custom)
        }

        /// TOML hands its date-time literals over as a one-entry map.
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Date, A::Error> {
            let literal =
                toml::value::Datetime::deserialize(de::value::MapAccessDeserializer::new(map))?;
            from_toml(&literal).map_err(de::Error::custom)
        }
    }

    /// Only a date: "2027-03-31" (or jiff's signed six-digit years). A date with a time is
    /// refused rather than cut, so "due by 9am" is never silently read as the day.
    fn parse_text(text: &str) -> Result<Date, String> {
        let looks_like_a_date = !text.is_empty()
            && text.chars().all(|character| {
                character.is_ascii_digit() || character == '-' || character == '+'
            });
        if !looks_like_a_date {
            return Err(format!("expected a date like 2027-03-31, found {text:?}"));
        }
        text.parse::<Date>()
            .map_err(|error| format!("{text:?} is not a date: {error}"))
    }

    fn from_toml(literal: &toml::value::Datetime) -> Result<Date, String> {
        match literal {
            toml::value::Datetime {
                date: Some(date),
                time: None,
                offset: None,
            } => {
                let year = i16::try_from(date.year).map_err(|error| error.to_string())?;
                Date::new(year, date.month as i8, date.day as i8)
                    .map_err(|error| format!("{literal} is not a date: {error}"))
            }
            _ => Err(format!(
                "expected a date like 2027-03-31, found the date-time {literal}"
            )),
        }
    }

    pub(super) fn serialize<S: Serializer>(date: &Date, serializer: S) -> Result<S::Ok, S::Error> {
        WireDate(*date).serialize(serializer)
    }

    pub(super) fn serialize_option<S: Serializer>(
        date: &Option<Date>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        date.map(WireDate).serialize(serializer)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Date, D::Error> {
        WireDate::deserialize(deserializer).map(|wire| wire.0)
    }

    pub(super) fn deserialize_option<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Date>, D::Error> {
        Option::<WireDate>::deserialize(deserializer).map(|wire| wire.map(|wire| wire.0))
    }
}

// ---------------------------------------------------------------------------------------
// Questions asked of a plan
// ---------------------------------------------------------------------------------------

/// Pairs the items of two versions of a list by `key`, in order: each newer item takes the
/// first older item with the same key not yet taken. Returns the older items left over
/// (removed) and, for each newer item, its older counterpart if any.
fn pair_up<'a, T, K: PartialEq>(
    older: &'a [T],
    newer: &'a [T],
    key: impl Fn(&T) -> K,
) -> (Vec<&'a T>, Vec<(Option<&'a T>, &'a T)>) {
    let mut taken = vec![false; older.len()];
    let mut paired = Vec::with_capacity(newer.len());
    for item in newer {
        let wanted = key(item);
        let counterpart = older
            .iter()
            .enumerate()
            .position(|(index, candidate)| !taken[index] && key(candidate) == wanted);
        if let Some(index) = counterpart {
            taken[index] = true;
        }
        paired.push((counterpart.map(|index| &older[index]), item));
    }
    let removed = older
        .iter()
        .zip(&taken)
        .filter(|(_, taken)| !**taken)
        .map(|(item, _)| item)
        .collect();
    (removed, paired)
}

fn list_changes(field: &str, older: &[String], newer: &[String], lines: &mut Vec<String>) {
    let (removed, paired) = pair_up(older, newer, |item| item.clone());
    for item in removed {
        lines.push(format!("{field}: - {item}"));
    }
    for (counterpart, item) in paired {
        if counterpart.is_none() {
            lines.push(format!("{field}: + {item}"));
        }
    }
}

fn text_changes(field: &str, older: &str, newer: &str, lines: &mut Vec<String>) {
    let change = match (older.is_empty(), newer.is_empty()) {
        _ if older == newer => return,
        (true, _) => "written",
        (_, true) => "cleared",
        _ => "edited",
    };
    lines.push(format!("{field}: {change}"));
}

fn or_none(value: Option<impl ToString>) -> String {
    value.map_or_else(|| "none".to_owned(), |value| value.to_string())
}

/// "Gong (Revenue Intelligence), renews 2027-03-31"
fn describe_competitor(competitor: &Competitor) -> String {
    let mut description = competitor.name.clone();
    if let Some(product) = &competitor.product {
        let _ = write!(description, " ({product})");
    }
    if let Some(renewal) = competitor.contract_renewal {
        let _ = write!(description, ", renews {renewal}");
    }
    description
}

/// "Send ROI model (Ana, 2027-01-15)"
fn describe_step(step: &NextStep) -> String {
    format!("{} ({}, {})", step.action, step.owner, step.due)
}

impl AccountPlan {
    /// The plan's changes against an older version, one human line each, field by field
    /// ("objectives: + Consolidate tools", "next_steps: ✓ Send ROI model (Ana, 2027-01-15)")
    /// — for the plan's history. Items are matched by their text (competitors by name,
    /// next steps by action); a reordering is not a change. Marks: `+` added, `-` removed,
    /// `~` changed, `✓` done, `↺` reopened; a text field is "written", "edited" or "cleared".
    pub fn changes_since(&self, older: &AccountPlan) -> Vec<String> {
        let mut lines = Vec::new();
        list_changes(
            "objectives",
            &older.objectives,
            &self.objectives,
            &mut lines,
        );
        list_changes("pains", &older.pains, &self.pains, &mut lines);
        list_changes(
            "business_priorities",
            &older.business_priorities,
            &self.business_priorities,
            &mut lines,
        );

        let (removed, paired) = pair_up(&older.competitors, &self.competitors, |competitor| {
            competitor.name.clone()
        });
        for competitor in removed {
            lines.push(format!("competitors: - {}", competitor.name));
        }
        for (before, now) in paired {
            let Some(before) = before else {
                lines.push(format!("competitors: + {}", describe_competitor(now)));
                continue;
            };
            let mut changed = Vec::new();
            if before.product != now.product {
                changed.push(format!(
                    "product {} → {}",
                    or_none(before.product.as_deref()),
                    or_none(now.product.as_deref())
                ));
            }
            if before.contract_renewal != now.contract_renewal {
                changed.push(format!(
                    "contract_renewal {} → {}",
                    or_none(before.contract_renewal),
                    or_none(now.contract_renewal)
                ));
            }
            if before.notes != now.notes {
                changed.push("notes edited".to_owned());
            }
            if !changed.is_empty() {
                lines.push(format!(
                    "competitors: ~ {}: {}",
                    now.name,
                    changed.join(", ")
                ));
            }
        }

        text_changes(
            "buying_group_notes",
            &older.buying_group_notes,
            &self.buying_group_notes,
            &mut lines,
        );

        let (removed, paired) = pair_up(&older.next_steps, &self.next_steps, |step| {
            step.action.clone()
        });
        for step in removed {
            lines.push(format!("next_steps: - {}", describe_step(step)));
        }
        for (before, now) in paired {
            let Some(before) = before else {
                lines.push(format!("next_steps: + {}", describe_step(now)));
                if now.done {
                    lines.push(format!("next_steps: ✓ {}", describe_step(now)));
                }
                continue;
            };
            let mut changed = Vec::new();
            if before.owner != now.owner {
                changed.push(format!("owner {} → {}", before.owner, now.owner));
            }
            if before.due != now.due {
                changed.push(format!("due {} → {}", before.due, now.due));
            }
            if !changed.is_empty() {
                lines.push(format!(
                    "next_steps: ~ {}: {}",
                    now.action,
                    changed.join(", ")
                ));
            }
            match (before.done, now.done) {
                (false, true) => lines.push(format!("next_steps: ✓ {}", describe_step(now))),
                (true, false) => lines.push(format!("next_steps: ↺ {}", describe_step(now))),
                _ => {}
            }
        }

        text_changes("notes", &older.notes, &self.notes, &mut lines);
        lines
    }

    /// Next steps not done whose due date is before `today` (time is a parameter: core
    /// reads no clock), the longest overdue first.
    pub fn overdue(&self, today: Date) -> Vec<&NextStep> {
        let mut overdue: Vec<&NextStep> = self
            .next_steps
            .iter()
            .filter(|step| !step.done && step.due < today)
            .collect();
        overdue.sort_by_key(|step| step.due);
        overdue
    }

    /// Competitors whose contract renews from `today` to `days` days later (both
    /// included), the soonest first. A renewal already past is not included.
    pub fn renewals_within(&self, today: Date, days: i64) -> Vec<&Competitor> {
        let mut renewals: Vec<(Date, &Competitor)> = self
            .competitors
            .iter()
            .filter_map(|competitor| {
                let renewal = competitor.contract_renewal?;
                let days_away = i64::from(today.until(renewal).ok()?.get_days());
                (0..=days)
                    .contains(&days_away)
                    .then_some((renewal, competitor))
            })
            .collect();
        renewals.sort_by_key(|(renewal, _)| *renewal);
        renewals
            .into_iter()
            .map(|(_, competitor)| competitor)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn context() -> PlanContext {
        PlanContext {
            domain: "acme.com".to_owned(),
            name: Some("Acme Corp".to_owned()),
            tier: Some("1:1".to_owned()),
            context_lines: vec![
                "Stage: engaged since 2027-01-02".to_owned(),
                "Trigger: new CMO (2027-01-10)\nobjectives = [\"not a value\"]".to_owned(),
                "Buying group: 3 of 8 roles known".to_owned(),
            ],
        }
    }

    fn full_plan() -> AccountPlan {
        AccountPlan {
            objectives: vec![
                "Consolidate tools".to_owned(),
                "Land the \"data\" team \\ EMEA".to_owned(),
            ],
            pains: vec!["Three tools, no single view — ça coûte cher".to_owned()],
            business_priorities: vec!["Expand into Germany\tfast".to_owned()],
            competitors: vec![
                Competitor {
                    name: "Gong".to_owned(),
                    product: Some("Revenue Intelligence".to_owned()),
                    contract_renewal: Some(date(2027, 3, 31)),
                    notes: Some("Signed by the former CRO".to_owned()),
                },
                Competitor {
                    name: "Clari".to_owned(),
                    ..Competitor::default()
                },
            ],
            buying_group_notes: "Ana (CFO) is the economic buyer.\n\n\"Ben\" champions us; C:\\ drive.\r\nNo IT yet."
                .to_owned(),
            next_steps: vec![
                NextStep {
                    action: "Send ROI model".to_owned(),
                    owner: "Ana".to_owned(),
                    due: date(2027, 1, 15),
                    done: true,
                },
                NextStep {
                    action: "Book the workshop".to_owned(),
                    owner: "Ben".to_owned(),
                    due: date(2027, 2, 1),
                    done: false,
                },
            ],
            notes: "\"\"\" triple quotes inside".to_owned(),
        }
    }

    /// The first line (1-based) of `text` that starts with `needle`, indentation aside.
    fn line_of(text: &str, needle: &str) -> usize {
        text.lines()
            .position(|line| line.trim_start().starts_with(needle.trim_start()))
            .map(|index| index + 1)
            .unwrap_or_else(|| panic!("{needle:?} not in text"))
    }

    #[test]
    fn a_full_plan_round_trips() {
        let plan = full_plan();
        let text = render(&plan, &context());
        assert_eq!(parse(&text), Ok(plan), "{text}");
    }

    #[test]
    fn the_default_plan_round_trips() {
        let text = render(&AccountPlan::default(), &PlanContext::default());
        assert_eq!(parse(&text), Ok(AccountPlan::default()), "{text}");
        assert!(text.contains("\nobjectives = []\n"), "{text}");
        assert!(text.contains("# For example: objectives = ["), "{text}");
        assert!(text.contains("# [[next_steps]]\n"), "{text}");
    }

    #[test]
    fn the_rendering_is_commented_for_people() {
        let text = render(&full_plan(), &context());
        assert!(
            text.starts_with("# Account plan: Acme Corp (acme.com)\n# Tier: 1:1\n"),
            "{text}"
        );
        assert!(
            text.contains("Lines starting with # are comments and are ignored"),
            "{text}"
        );
        assert!(
            text.contains(
                "#   Trigger: new CMO (2027-01-10)\n#   objectives = [\"not a value\"]\n"
            ),
            "{text}"
        );
        assert!(text.contains("[[next_steps]]\naction = \"Send ROI model\"\nowner = \"Ana\"\ndue = 2027-01-15\ndone = true\n"), "{text}");
        assert!(text.contains("name = \"Clari\"\n# product = "), "{text}");
        // Every field is introduced by a comment.
        for key in [
            "objectives",
            "pains",
            "business_priorities",
            "buying_group_notes",
            "notes",
        ] {
            let line = line_of(&text, &format!("{key} = "));
            assert!(
                text.lines()
                    .nth(line - 2)
                    .is_some_and(|above| above.starts_with('#')),
                "{key}"
            );
        }
    }

    #[test]
    fn free_text_is_written_as_typed_where_toml_allows() {
        let cases = [
            ("", "'''\n'''"),
            (
                "C:\\ drive, \"quoted\", it's\n\tindented",
                "'''\nC:\\ drive, \"quoted\", it's\n\tindented\n'''",
            ),
            ("a ''' b", "\"\"\"\na ''' b\n\"\"\""),
            (
                "\"\"\"\"\" \\ \r\n\u{1}",
                "\"\"\"\n\"\"\\\"\"\" \\\\ \\r\n\\u0001\n\"\"\"",
            ),
        ];
        for (text, rendered) in cases {
            assert_eq!(multiline(text), rendered);
            let plan = AccountPlan {
                notes: text.to_owned(),
                ..AccountPlan::default()
            };
            assert_eq!(parse(&render(&plan, &context())), Ok(plan), "{rendered}");
        }
    }

    #[test]
    fn comment_lines_are_ignored_and_strings_trimmed() {
        let text = "# a comment\n#objectives = [\"commented out\"]\nobjectives = [\"  Win  \"] # trailing comment\n   # indented comment\nnotes = '''\n  Hello\n'''\n";
        let plan = parse(text).expect("plan");
        assert_eq!(plan.objectives, ["Win"]);
        assert_eq!(plan.notes, "Hello");
    }

    #[test]
    fn a_string_date_is_accepted() {
        let text = "[[next_steps]]\naction = \"Call\"\nowner = \"Ana\"\ndue = \"2027-03-31\"\n\n[[competitors]]\nname = \"Gong\"\ncontract_renewal = \" 2027-06-30 \"\n";
        let plan = parse(text).expect("plan");
        assert_eq!(plan.next_steps[0].due, date(2027, 3, 31));
        assert_eq!(
            plan.competitors[0].contract_renewal,
            Some(date(2027, 6, 30))
        );
        assert!(!plan.next_steps[0].done);
    }

    /// Replaces `from` by `to` in the rendered full plan, parses it, and returns the error.
    fn error_after_edit(from: &str, to: &str) -> (String, PlanError) {
        let text = render(&full_plan(), &context());
        assert!(text.contains(from), "{from:?} not in the rendering");
        let edited = text.replacen(from, to, 1);
        let error = parse(&edited).expect_err("an error");
        (edited, error)
    }

    #[test]
    fn a_typoed_key_names_the_key_and_its_line() {
        let (text, error) = error_after_edit("pains = [", "painz = [");
        assert_eq!(error.line, line_of(&text, "painz = ["));
        assert_eq!(error.column, 1);
        assert!(error.message.contains("unknown field `painz`"), "{error}");

        let (text, error) = error_after_edit("owner = \"Ben\"", "ownr = \"Ben\"");
        assert_eq!(error.line, line_of(&text, "ownr = "));
        assert!(error.message.contains("`ownr`"), "{error}");
        assert!(
            error
                .to_string()
                .starts_with(&format!("line {}, column 1: ", error.line))
        );
    }

    #[test]
    fn a_bad_date_names_its_line_and_column() {
        let cases = [
            ("due = 2027-02-01", "due = 2027-02-30"),
            ("due = 2027-02-01", "due = \"01/02/2027\""),
            ("due = 2027-02-01", "due = 2027-02-01T09:00:00"),
            ("due = 2027-02-01", "due = 20270201"),
            (
                "contract_renewal = 2027-03-31",
                "contract_renewal = 2027-13-01",
            ),
        ];
        for (from, to) in cases {
            let (text, error) = error_after_edit(from, to);
            assert_eq!(error.line, line_of(&text, to), "{to}: {error}");
            let key = to.split(" = ").next().unwrap_or_default();
            assert_eq!(error.column, key.len() + 4, "{to}: {error}");
        }
        let (_, error) = error_after_edit("due = 2027-02-01", "due = \"01/02/2027\"");
        assert!(
            error.message.contains("expected a date like 2027-03-31"),
            "{error}"
        );
    }

    #[test]
    fn broken_syntax_names_its_line() {
        let (text, error) = error_after_edit("owner = \"Ana\"", "owner = \"Ana");
        assert_eq!(error.line, line_of(&text, "owner = \"Ana"), "{error}");
    }

    #[test]
    fn rule_breaks_point_at_the_value() {
        let cases = [
            (
                "owner = \"Ben\"",
                "owner = \"  \"",
                "next step 2: owner must not be empty",
            ),
            (
                "action = \"Send ROI model\"",
                "action = \"\"",
                "next step 1: action must not be empty",
            ),
            (
                "name = \"Clari\"",
                "name = \" \"",
                "competitor 2: name must not be empty",
            ),
            (
                "  \"Consolidate tools\",",
                "  \"\",",
                "objectives item 1 is empty; remove it or write something",
            ),
        ];
        for (from, to, message) in cases {
            let (text, error) = error_after_edit(from, to);
            assert_eq!(error.message, message);
            assert_eq!(error.line, line_of(&text, to), "{to}: {error}");
            let value_column = to.find('"').map(|index| index + 1);
            assert_eq!(Some(error.column), value_column, "{to}: {error}");
        }
    }

    #[test]
    fn a_missing_owner_is_an_error() {
        let (_, error) = error_after_edit("owner = \"Ben\"\n", "");
        assert!(error.message.contains("missing field `owner`"), "{error}");
    }

    #[test]
    fn sizes_are_limited() {
        let mut plan = full_plan();
        plan.notes = "x".repeat(MAX_TEXT_CHARS);
        assert_eq!(parse(&render(&plan, &context())), Ok(plan.clone()));
        plan.notes.push('y');
        let text = render(&plan, &context());
        let error = parse(&text).expect_err("too long");
        assert_eq!(
            error.message,
            "notes has 20,001 characters, at most 20,000 are allowed"
        );
        assert_eq!(error.line, line_of(&text, "notes = '''"));

        let mut plan = full_plan();
        plan.pains = (0..=MAX_LIST_ITEMS)
            .map(|number| format!("pain {number}"))
            .collect();
        let text = render(&plan, &context());
        let error = parse(&text).expect_err("too many");
        assert_eq!(
            error.message,
            "pains has 101 items, at most 100 are allowed"
        );
        assert_eq!(error.line, line_of(&text, "pains = ["));
    }

    #[test]
    fn changes_since_reads_like_a_history() {
        let older = full_plan();
        let mut newer = full_plan();
        newer.objectives = vec![
            "Land the \"data\" team \\ EMEA".to_owned(),
            "Expand to APAC".to_owned(),
        ];
        newer.competitors[0].contract_renewal = Some(date(2027, 6, 30));
        newer.competitors.remove(1);
        newer.competitors.push(Competitor {
            name: "6sense".to_owned(),
            product: Some("Revenue AI".to_owned()),
            ..Competitor::default()
        });
        newer.next_steps[0].done = false;
        newer.next_steps[1].done = true;
        newer.next_steps[1].owner = "Cleo".to_owned();
        newer.next_steps.push(NextStep {
            action: "Exec dinner".to_owned(),
            owner: "Dan".to_owned(),
            due: date(2027, 3, 1),
            done: false,
        });
        newer.buying_group_notes.clear();
        newer.notes = "Renewal talks start in May".to_owned();
        assert_eq!(
            newer.changes_since(&older),
            [
                "objectives: - Consolidate tools",
                "objectives: + Expand to APAC",
                "competitors: - Clari",
                "competitors: ~ Gong: contract_renewal 2027-03-31 → 2027-06-30",
                "competitors: + 6sense (Revenue AI)",
                "buying_group_notes: cleared",
                "next_steps: ↺ Send ROI model (Ana, 2027-01-15)",
                "next_steps: ~ Book the workshop: owner Ben → Cleo",
                "next_steps: ✓ Book the workshop (Cleo, 2027-02-01)",
                "next_steps: + Exec dinner (Dan, 2027-03-01)",
                "notes: edited",
            ]
        );
        assert_eq!(older.changes_since(&older), Vec::<String>::new());
        let from_nothing = older.changes_since(&AccountPlan::default());
        assert_eq!(from_nothing[0], "objectives: + Consolidate tools");
        assert!(
            from_nothing.contains(&"next_steps: ✓ Send ROI model (Ana, 2027-01-15)".to_owned())
        );
        assert!(from_nothing.contains(&"buying_group_notes: written".to_owned()));
    }

    #[test]
    fn overdue_steps_are_open_and_past_due() {
        let mut plan = full_plan();
        plan.next_steps.push(NextStep {
            action: "Older".to_owned(),
            owner: "Ana".to_owned(),
            due: date(2027, 1, 20),
            done: false,
        });
        let actions = |today| -> Vec<String> {
            plan.overdue(today)
                .iter()
                .map(|step| step.action.clone())
                .collect()
        };
        assert_eq!(
            actions(date(2027, 1, 20)),
            Vec::<String>::new(),
            "due today is not overdue"
        );
        assert_eq!(actions(date(2027, 1, 21)), ["Older"]);
        assert_eq!(actions(date(2027, 2, 2)), ["Older", "Book the workshop"]);
    }

    #[test]
    fn renewals_within_a_window() {
        let mut plan = full_plan();
        plan.competitors.push(Competitor {
            name: "Soon".to_owned(),
            contract_renewal: Some(date(2027, 2, 1)),
            ..Competitor::default()
        });
        let names = |today, days| -> Vec<String> {
            plan.renewals_within(today, days)
                .iter()
                .map(|c| c.name.clone())
                .collect()
        };
        assert_eq!(names(date(2027, 1, 1), 31), ["Soon"]);
        assert_eq!(names(date(2027, 1, 1), 90), ["Soon", "Gong"]);
        assert_eq!(names(date(2027, 3, 31), 0), ["Gong"]);
        assert_eq!(
            names(date(2027, 4, 1), 365),
            Vec::<String>::new(),
            "past renewals are not upcoming"
        );
        assert_eq!(names(date(2027, 1, 1), -5), Vec::<String>::new());
        assert_eq!(names(date(2027, 1, 1), i64::MAX).len(), 2);
    }

    #[test]
    fn other_formats_see_dates_as_strings() {
        let text = toml::to_string(&full_plan().next_steps[0]).expect("toml");
        assert!(text.contains("due = \"2027-01-15\""), "{text}");
        let back: NextStep = toml::from_str(&text).expect("parse");
        assert_eq!(back, full_plan().next_steps[0]);
    }

    fn text() -> impl Strategy<Value = String> {
        "\\PC{0,3}[\\PC\\t\\n\\r\\u{0}-\\u{1f}\"'\\\\#]{0,12}".prop_filter_map(
            "needs text",
            |raw| {
                let trimmed = raw.trim();
                (!trimmed.is_empty()).then(|| trimmed.to_owned())
            },
        )
    }

    fn arbitrary_plan() -> impl Strategy<Value = AccountPlan> {
        let day =
            (1i16..=9999, 1i8..=12, 1i8..=28).prop_map(|(year, month, day)| date(year, month, day));
        let competitor = (
            text(),
            proptest::option::of(text()),
            proptest::option::of(day.clone()),
            proptest::option::of(text()),
        )
            .prop_map(|(name, product, contract_renewal, notes)| Competitor {
                name,
                product,
                contract_renewal,
                notes,
            });
        let step =
            (text(), text(), day, any::<bool>()).prop_map(|(action, owner, due, done)| NextStep {
                action,
                owner,
                due,
                done,
            });
        let list = || proptest::collection::vec(text(), 0..4);
        let free_text = || proptest::option::of(text()).prop_map(Option::unwrap_or_default);
        (
            (list(), list(), list()),
            proptest::collection::vec(competitor, 0..3),
            free_text(),
            proptest::collection::vec(step, 0..3),
            free_text(),
        )
            .prop_map(
                |(
                    (objectives, pains, business_priorities),
                    competitors,
                    buying_group_notes,
                    next_steps,
                    notes,
                )| AccountPlan {
                    objectives,
                    pains,
                    business_priorities,
                    competitors,
                    buying_group_notes,
                    next_steps,
                    notes,
                },
            )
    }

    proptest! {
        #[test]
        fn any_trimmed_plan_round_trips(plan in arbitrary_plan(), name in "\\PC{0,20}", line in "[\\PC\\n\\r\\u{0}]{0,20}") {
            let context = PlanContext {
                domain: "example.com".to_owned(),
                name: Some(name),
                tier: None,
                context_lines: vec![line],
            };
            let text = render(&plan, &context);
            prop_assert_eq!(parse(&text), Ok(plan), "{}", text);
        }
    }
}
