//! Turning one CSV row into one domain record: every field read through its parser, every
//! refusal recorded as a problem naming the column and value. A row with any problem yields
//! no record.

use crate::Format;
use crate::columns::ColumnMap;
use crate::problem::Problem;
use crate::reader::Row;
use abm_core::{
    Account, AccountType, Activity, ActivityId, ActivityKind, Attributes, Consent, CrmId, Domain,
    Email, IntentSignal, LawfulBasis, Opportunity, Score, Topic, ValueError, parse_bool,
    parse_count, parse_date, parse_money, parse_timestamp,
};

/// Reads the fields of one row, collecting problems.
pub(crate) struct Fields<'r> {
    file: &'r str,
    row: &'r Row<'r>,
    map: &'r ColumnMap,
    pub problems: Vec<Problem>,
}

impl<'r> Fields<'r> {
    pub fn new(file: &'r str, row: &'r Row<'r>, map: &'r ColumnMap) -> Self {
        Self {
            file,
            row,
            map,
            problems: Vec::new(),
        }
    }

    pub fn text(&self, field: &str) -> Option<&'r str> {
        self.map.get(field).and_then(|index| self.row.get(index))
    }

    pub fn owned(&self, field: &str) -> Option<String> {
        self.text(field).map(str::to_owned)
    }

    fn column(&self, field: &str) -> String {
        self.map.get(field).map_or_else(
            || field.to_owned(),
            |index| self.map.header(index).to_owned(),
        )
    }

    pub fn problem(&mut self, field: &str, value: &str, message: impl Into<String>) {
        let column = self.column(field);
        self.problems.push(Problem::value(
            self.file,
            self.row.line,
            &column,
            value,
            message,
        ));
    }

    /// Parses an optional field; an empty cell is `None`, a bad one a problem.
    pub fn parse<T>(
        &mut self,
        field: &str,
        parser: impl FnOnce(&str) -> Result<T, ValueError>,
    ) -> Option<T> {
        let text = self.text(field)?;
        self.parsed(field, text, parser)
    }

    /// `text`, the value of `field`, parsed; a problem if it does not parse.
    fn parsed<T>(
        &mut self,
        field: &str,
        text: &'r str,
        parser: impl FnOnce(&str) -> Result<T, ValueError>,
    ) -> Option<T> {
        match parser(text) {
            Ok(value) => Some(value),
            Err(error) => {
                self.problem(field, text, error.0);
                None
            }
        }
    }

    /// Parses a field that must have a value.
    pub fn required<T>(
        &mut self,
        field: &str,
        parser: impl FnOnce(&str) -> Result<T, ValueError>,
    ) -> Option<T> {
        // Looked up once: this runs for every row of a file.
        let Some(text) = self.text(field) else {
            let column = self.column(field);
            self.problems.push(Problem {
                column: Some(column),
                ..Problem::at(
                    self.file,
                    self.row.line,
                    format!("{field} is required but empty"),
                )
            });
            return None;
        };
        self.parsed(field, text, parser)
    }

    /// The columns abm has no field for, by header, when not empty.
    pub fn attributes(&self) -> Attributes {
        self.map
            .extra
            .iter()
            .filter_map(|(index, header)| {
                self.row
                    .get(*index)
                    .map(|value| (header.clone(), value.to_owned()))
            })
            .collect()
    }

    pub fn finish<T>(self, record: Option<T>) -> Result<T, Vec<Problem>> {
        match record {
            Some(record) if self.problems.is_empty() => Ok(record),
            _ => Err(self.problems),
        }
    }
}

fn list(text: &str) -> impl Iterator<Item = &str> {
    text.split([';', ','])
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

pub(crate) fn account(mut fields: Fields<'_>) -> Result<Account, Vec<Problem>> {
    let domain = fields.required("domain", Domain::parse);
    let crm_id = fields.parse("crm_id", CrmId::parse);
    let employees = fields.parse("employees", parse_count);
    let revenue = fields.parse("revenue", parse_money);
    let parent_crm_id = fields.parse("parent_crm_id", CrmId::parse);
    let parent_domain = fields.parse("parent_domain", Domain::parse);
    let aliases = fields.parse("aliases", |text| {
        list(text)
            .map(Domain::parse)
            .collect::<Result<std::collections::BTreeSet<_>, _>>()
    });
    let record = domain.map(|domain| {
        let mut account = Account::new(domain);
        account.crm_id = crm_id;
        account.name = fields.owned("name");
        account.industry = fields.owned("industry");
        account.employees = employees;
        account.revenue = revenue;
        account.country = fields.owned("country");
        account.region = fields.owned("region");
        account.technologies = fields
            .text("technologies")
            .map(|text| list(text).map(str::to_owned).collect())
            .unwrap_or_default();
        account.account_type = fields.text("type").map(AccountType::from_crm);
        account.owner = fields.owned("owner");
        account.parent_crm_id = parent_crm_id;
        account.parent_domain = parent_domain;
        account.aliases = aliases.unwrap_or_default();
        account.aliases.remove(&account.domain);
        account.attributes = fields.attributes();
        account
    });
    fields.finish(record)
}

/// A person row, before it is known whether it becomes a contact or a lead.
#[derive(Debug, Clone)]
pub(crate) struct PersonRecord {
    pub crm_id: Option<CrmId>,
    pub email: Email,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub title: Option<String>,
    pub company: Option<String>,
    pub account_crm_id: Option<CrmId>,
    /// The company domain the row gives: a contact's account domain or a lead's website.
    pub domain: Option<Domain>,
    pub consent: Consent,
    pub attributes: Attributes,
}

pub(crate) fn person(
    mut fields: Fields<'_>,
    domain_field: &str,
) -> Result<PersonRecord, Vec<Problem>> {
    let email = fields.required("email", Email::parse);
    let crm_id = fields.parse("crm_id", CrmId::parse);
    let account_crm_id = fields.parse("account_crm_id", CrmId::parse);
    let domain = fields.parse(domain_field, Domain::parse);
    let opted_out = fields.parse("opted_out", parse_bool).unwrap_or(false);
    let lawful_basis = fields.parse("lawful_basis", LawfulBasis::parse);
    let record = email.map(|email| PersonRecord {
        crm_id,
        email,
        first_name: fields.owned("first_name"),
        last_name: fields.owned("last_name"),
        title: fields.owned("title"),
        company: fields.owned("company"),
        account_crm_id,
        domain,
        consent: Consent {
            opted_out,
            lawful_basis,
        },
        attributes: fields.attributes(),
    });
    fields.finish(record)
}

pub(crate) fn opportunity(mut fields: Fields<'_>) -> Result<Opportunity, Vec<Problem>> {
    let crm_id = fields.required("crm_id", CrmId::parse);
    let account_crm_id = fields.parse("account_crm_id", CrmId::parse);
    let account_domain = fields.parse("account_domain", Domain::parse);
    let amount = fields.parse("amount", parse_money);
    let created_on = fields.required("created_on", parse_date);
    let close_date = fields.parse("close_date", parse_date);
    let stage = fields.owned("stage");
    // HubSpot deals have no IsClosed/IsWon: read them from the stage name then.
    let stage_key = stage
        .as_deref()
        .map(crate::columns::normalise)
        .unwrap_or_default();
    let stage_won = stage_key.contains("closedwon") || stage_key == "won";
    let stage_lost = stage_key.contains("closedlost") || stage_key == "lost";
    let closed = fields
        .parse("closed", parse_bool)
        .unwrap_or(stage_won || stage_lost);
    let won = fields.parse("won", parse_bool).unwrap_or(stage_won);
    let record = crm_id
        .zip(created_on)
        .map(|(crm_id, created_on)| Opportunity {
            crm_id,
            account_crm_id,
            account_domain,
            name: fields.owned("name"),
            amount,
            stage,
            created_on,
            close_date,
            closed,
            won,
        });
    if let Some(opportunity) = &record
        && let Err((field, error)) = opportunity.validate()
    {
        let value = fields.text(field).unwrap_or("").to_owned();
        fields.problem(field, &value, error.0);
    }
    fields.finish(record)
}

pub(crate) fn intent(mut fields: Fields<'_>, format: Format) -> Result<IntentSignal, Vec<Problem>> {
    let domain = fields.required("domain", Domain::parse);
    let topic = fields.required("topic", Topic::parse);
    let date = fields.required("date", parse_date);
    let score = fields.required("score", Score::parse);
    let source = fields
        .owned("source")
        .unwrap_or_else(|| format.default_source().to_owned());
    let company_name = fields.owned("company_name");
    let record = match (domain, topic, date, score) {
        (Some(domain), Some(topic), Some(date), Some(score)) => Some(IntentSignal {
            domain,
            topic,
            date,
            score,
            source,
            company_name,
        }),
        _ => None,
    };
    fields.finish(record)
}

pub(crate) fn activity(mut fields: Fields<'_>) -> Result<Activity, Vec<Problem>> {
    let id = fields.required("id", ActivityId::parse);
    let occurred_at = fields.required("occurred_at", parse_timestamp);
    let kind = fields.required("type", ActivityKind::parse);
    let email = fields.parse("email", Email::parse);
    let domain = fields.parse("domain", Domain::parse);
    let record = match (id, occurred_at, kind) {
        (Some(id), Some(occurred_at), Some(kind)) => Some(Activity {
            id,
            kind,
            occurred_at,
            email,
            domain,
            url: fields.owned("url"),
            topic: fields.owned("topic"),
            campaign: fields.owned("campaign"),
            channel: fields.owned("channel"),
        }),
        _ => None,
    };
    fields.finish(record)
}
