//! The demo world: a deterministic, realistic B2B market written as the CSV files real tools
//! export (Salesforce accounts, contacts and opportunities; HubSpot leads; Bombora intent;
//! abm's generic activity log). Accounts come in industries, sizes and countries; some are
//! customers; a minority are "in market" with buying cycles that show up as intent surges,
//! bursts of activity from several people, and opportunities. Noise is included: free-mail
//! leads, unknown companies, anonymous visits, a bot burst.
//!
//! Everything derives from the seed and the `today` passed in: the same spec gives the same
//! bytes.

use anyhow::{Context, Result};
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use std::collections::HashSet;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

pub struct WorldSpec {
    pub accounts: usize,
    pub seed: u64,
    pub today: Date,
}

pub struct WorldFiles {
    pub accounts: PathBuf,
    pub contacts: PathBuf,
    pub leads: PathBuf,
    pub opportunities: PathBuf,
    pub intent: PathBuf,
    pub activities: PathBuf,
}

#[rustfmt::skip]
const PREFIXES: &[&str] = &[
    "North", "Blue", "Bright", "Iron", "Silver", "Green", "Summit", "Harbor", "Atlas", "Nova",
    "Cedar", "Pioneer", "Vertex", "Quantum", "Crimson", "Golden", "Polar", "River", "Stone", "Sky",
    "Orbit", "Maple", "Falcon", "Beacon", "Prism", "Aurora", "Copper", "Granite", "Lumen", "Vector",
    "Meridian", "Oak", "Pinnacle", "Redwood", "Sterling", "Tidal", "Union", "Westfield", "Zenith", "Alder",
];
#[rustfmt::skip]
const CORES: &[&str] = &[
    "wind", "point", "bridge", "field", "gate", "line", "stone", "wave", "path", "crest", "forge",
    "light", "peak", "view", "works", "port", "leaf", "mark", "shore", "star",
];
#[rustfmt::skip]
const SUFFIXES: &[(&str, &str)] = &[
    ("Analytics", "Software"), ("Systems", "Software"), ("Labs", "Software"), ("Cloud", "Software"),
    ("Capital", "Financial Services"), ("Bank", "Financial Services"), ("Insurance", "Financial Services"),
    ("Health", "Healthcare"), ("Medical", "Healthcare"), ("Manufacturing", "Manufacturing"),
    ("Industries", "Manufacturing"), ("Retail", "Retail"), ("Stores", "Retail"), ("Logistics", "Logistics"),
    ("Freight", "Logistics"), ("Learning", "Education"), ("Media", "Media"), ("Telecom", "Telecommunications"),
    ("Energy", "Energy"), ("Consulting", "Professional Services"), ("Partners", "Professional Services"),
];
/// (country, top-level domain, weight)
#[rustfmt::skip]
const COUNTRIES: &[(&str, &str, u32)] = &[
    ("United States", "com", 40), ("United States", "io", 5), ("United Kingdom", "co.uk", 12),
    ("Germany", "de", 8), ("France", "fr", 6), ("Netherlands", "nl", 4), ("Canada", "ca", 5),
    ("Australia", "com.au", 5), ("Japan", "co.jp", 3), ("Singapore", "com.sg", 2), ("India", "in", 4),
    ("Brazil", "com.br", 3), ("Sweden", "se", 3),
];
#[rustfmt::skip]
const TECHNOLOGIES: &[&str] = &[
    "Salesforce", "HubSpot", "Marketo", "Pardot", "Snowflake", "AWS", "Azure", "Google Cloud", "Slack",
    "Zendesk", "Segment", "Outreach", "Gong", "6sense", "Demandbase", "Tableau", "Looker", "Workday",
    "SAP", "Oracle", "Microsoft Dynamics", "Zoominfo", "Intercom", "Shopify",
];
#[rustfmt::skip]
const OWNERS: &[&str] = &[
    "Maya Chen", "Luis Ortega", "Priya Raman", "Tom Becker", "Aisha Bello", "Jonas Berg",
    "Sofia Rossi", "Daniel Kim", "Emma Laurent", "Noah Walsh", "Hana Sato", "Omar Haddad",
];
#[rustfmt::skip]
const FIRST_NAMES: &[&str] = &[
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Carlos", "Ana",
    "Wei", "Mei", "Raj", "Anika", "Lukas", "Lena", "Pierre", "Camille", "Kenji", "Yuki", "Olu", "Amara",
    "Sven", "Ingrid", "Mateo", "Lucia", "Arjun", "Nisha", "Liam", "Chloe",
];
#[rustfmt::skip]
const LAST_NAMES: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White",
    "Müller", "Schmidt", "Dubois", "Moreau", "Tanaka", "Suzuki", "Patel", "Sharma", "Okafor", "Nilsson",
    "Silva", "Santos", "O'Brien", "Kowalski", "Novak", "Hughes",
];
#[rustfmt::skip]
const TITLES: &[&str] = &[
    "VP, Demand Generation", "Sr. Dir. of Sales Ops", "CMO", "Head of RevOps", "Marketing Operations Manager",
    "Chief Financial Officer", "IT Director", "Procurement Specialist", "Software Engineer", "Account Executive",
    "Directeur Marketing", "Leiter Vertrieb", "Chief Revenue Officer", "VP Marketing", "Director of Sales Operations",
    "Demand Generation Manager", "CTO", "Head of Data", "Senior Data Engineer", "Marketing Analyst",
    "VP of Sales", "Content Marketing Manager", "Chief Executive Officer", "Finance Manager", "Recruiter",
    "Director, Digital Marketing", "ABM Manager", "Sales Development Representative", "Head of IT Procurement",
];
#[rustfmt::skip]
const TOPICS: &[&str] = &[
    "Intent Data", "Account-Based Marketing", "Marketing Automation", "Customer Data Platform",
    "Sales Enablement", "Predictive Analytics", "Lead Scoring", "Revenue Operations", "Sales Intelligence",
    "Data Enrichment", "Marketing Attribution", "Conversational Marketing", "Web Personalization",
    "B2B Advertising", "CRM Software",
];
#[rustfmt::skip]
const PAGES: &[(&str, Option<&str>)] = &[
    ("/", None), ("/pricing", None), ("/product", None), ("/compare/legacy-abm", Some("Account-Based Marketing")),
    ("/blog/intent-data-101", Some("Intent Data")), ("/blog/lead-scoring-that-works", Some("Lead Scoring")),
    ("/case-studies/northwind", None), ("/solutions/revenue-operations", Some("Revenue Operations")),
    ("/integrations/salesforce", Some("CRM Software")), ("/docs/getting-started", None),
    ("/resources/abm-playbook", Some("Account-Based Marketing")), ("/demo", None),
];
#[rustfmt::skip]
const CAMPAIGNS: &[&str] = &[
    "Q3 ABM Tier 1", "Intent Data Webinar", "Nurture - Ops Leaders", "Paid Social - RevOps",
    "Field Event London", "Q4 Pipeline Push", "Customer Expansion",
];
#[rustfmt::skip]
const FREE_MAIL: &[&str] = &["gmail.com", "outlook.com", "yahoo.com", "hotmail.com"];
#[rustfmt::skip]
const STAGES_OPEN: &[&str] = &["Prospecting", "Qualification", "Discovery", "Proposal", "Negotiation"];

struct WorldAccount {
    crm_id: String,
    domain: String,
    employees: u64,
    customer: bool,
    in_market: bool,
    contacts: Vec<usize>,
}

struct WorldContact {
    email: String,
}

/// Writes the six files into `directory` and returns their paths.
pub fn write_world(spec: &WorldSpec, directory: &Path) -> Result<WorldFiles> {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let files = WorldFiles {
        accounts: directory.join("accounts.csv"),
        contacts: directory.join("contacts.csv"),
        leads: directory.join("leads.csv"),
        opportunities: directory.join("opportunities.csv"),
        intent: directory.join("intent.csv"),
        activities: directory.join("activities.csv"),
    };
    let mut accounts = write_accounts(spec, &mut rng, &files.accounts)?;
    let contacts = write_contacts(&mut rng, &mut accounts, &files.contacts)?;
    write_leads(&mut rng, &accounts, &contacts, &files.leads)?;
    write_opportunities(spec, &mut rng, &accounts, &files.opportunities)?;
    write_intent(spec, &mut rng, &accounts, &files.intent)?;
    write_activities(spec, &mut rng, &accounts, &contacts, &files.activities)?;
    Ok(files)
}

/// A CSV field, quoted when it must be.
fn field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

fn row(out: &mut impl Write, values: &[&str]) -> Result<()> {
    let line: Vec<String> = values.iter().map(|value| field(value)).collect();
    writeln!(out, "{}", line.join(","))?;
    Ok(())
}

fn create(path: &Path, header: &str) -> Result<BufWriter<File>> {
    let file = File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut out = BufWriter::new(file);
    writeln!(out, "{header}")?;
    Ok(out)
}

fn salesforce_id(prefix: &str, number: usize) -> String {
    format!("{prefix}5g00000{number:08}AAQ")
}

fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    // The lists above are constant and non-empty.
    *items.choose(rng).unwrap_or(&items[0])
}

fn weighted_country(rng: &mut StdRng) -> (&'static str, &'static str) {
    let total: u32 = COUNTRIES.iter().map(|(_, _, weight)| weight).sum();
    let mut roll = rng.random_range(0..total);
    for (country, tld, weight) in COUNTRIES {
        if roll < *weight {
            return (country, tld);
        }
        roll -= weight;
    }
    ("United States", "com")
}

fn slug(text: &str) -> String {
    text.to_ascii_lowercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

fn write_accounts(spec: &WorldSpec, rng: &mut StdRng, path: &Path) -> Result<Vec<WorldAccount>> {
    let mut out = create(
        path,
        "Id,Name,Website,Industry,NumberOfEmployees,AnnualRevenue,BillingCountry,Type,Owner.Name,ParentId,Technologies__c,Segment__c",
    )?;
    let mut accounts = Vec::with_capacity(spec.accounts);
    let mut domains = HashSet::new();
    for number in 0..spec.accounts {
        let (country, tld) = weighted_country(rng);
        let (suffix, industry) = pick(rng, SUFFIXES);
        let industry = if rng.random_bool(0.05) {
            "Government"
        } else {
            industry
        };
        let (name, domain) = loop {
            let stem = format!("{}{}", pick(rng, PREFIXES), pick(rng, CORES));
            let name = format!("{stem} {suffix}");
            let label = if rng.random_bool(0.5) {
                slug(&stem)
            } else {
                format!("{}-{}", slug(&stem), slug(suffix))
            };
            let domain = format!("{label}.{tld}");
            if domains.insert(domain.clone()) {
                break (name, domain);
            }
            let numbered = format!("{label}{}.{tld}", number % 100);
            if domains.insert(numbered.clone()) {
                break (name, numbered);
            }
        };
        let website = match rng.random_range(0..4) {
            0 => format!("https://www.{domain}"),
            1 => domain.clone(),
            2 => format!("www.{domain}"),
            _ => format!("http://{domain}/en"),
        };
        // Log-uniform sizes from 10 to 100,000 people.
        let employees = 10f64.powf(rng.random_range(1.0..5.0)).round() as u64;
        let employees_text = match rng.random_range(0..100) {
            0..3 => String::new(),
            3..40 => crate::output::thousands(employees),
            _ => employees.to_string(),
        };
        let revenue = if rng.random_bool(0.85) {
            (employees * rng.random_range(150_000..300_000)).to_string()
        } else {
            String::new()
        };
        let customer = rng.random_bool(0.08);
        let account_type = if customer {
            "Customer - Direct"
        } else if rng.random_bool(0.04) {
            "Partner"
        } else {
            "Prospect"
        };
        let parent = if number > 10 && rng.random_bool(0.02) {
            salesforce_id("001", rng.random_range(0..number))
        } else {
            String::new()
        };
        let mut technologies: Vec<&str> = Vec::new();
        for _ in 0..rng.random_range(2..8) {
            let technology = pick(rng, TECHNOLOGIES);
            if !technologies.contains(&technology) {
                technologies.push(technology);
            }
        }
        let segment = match employees {
            0..200 => "SMB",
            200..2000 => "Mid-Market",
            _ => "Enterprise",
        };
        let crm_id = salesforce_id("001", number);
        row(
            &mut out,
            &[
                &crm_id,
                &name,
                &website,
                industry,
                &employees_text,
                &revenue,
                country,
                account_type,
                pick(rng, OWNERS),
                &parent,
                &technologies.join(";"),
                segment,
            ],
        )?;
        accounts.push(WorldAccount {
            crm_id,
            domain,
            employees,
            customer,
            in_market: rng.random_bool(0.15),
            contacts: Vec::new(),
        });
    }
    out.flush()?;
    Ok(accounts)
}

fn write_contacts(
    rng: &mut StdRng,
    accounts: &mut [WorldAccount],
    path: &Path,
) -> Result<Vec<WorldContact>> {
    let mut out = create(
        path,
        "Id,AccountId,FirstName,LastName,Email,Title,HasOptedOutOfEmail,Lawful_Basis__c",
    )?;
    let mut contacts = Vec::new();
    let mut emails = HashSet::new();
    for account in accounts.iter_mut() {
        let count = 2 + (account.employees as f64).log10() as usize * 2 + rng.random_range(0..3);
        for _ in 0..count.min(12) {
            let first = pick(rng, FIRST_NAMES);
            let last = pick(rng, LAST_NAMES);
            let local = match rng.random_range(0..10) {
                0..7 => format!("{}.{}", slug(first), slug(last)),
                7..9 => format!(
                    "{}{}",
                    slug(first).chars().next().unwrap_or('x'),
                    slug(last)
                ),
                _ => slug(first),
            };
            let host = if rng.random_bool(0.1) {
                format!("eu.{}", account.domain)
            } else {
                account.domain.clone()
            };
            let mut email = format!("{local}@{host}");
            let mut attempt = 2;
            while !emails.insert(email.clone()) {
                email = format!("{local}{attempt}@{host}");
                attempt += 1;
            }
            let opted_out = if rng.random_bool(0.04) {
                "true"
            } else {
                "false"
            };
            let basis = pick(rng, &["Legitimate Interest", "Consent", ""]);
            let crm_id = salesforce_id("003", contacts.len());
            row(
                &mut out,
                &[
                    &crm_id,
                    &account.crm_id,
                    first,
                    last,
                    &email,
                    pick(rng, TITLES),
                    opted_out,
                    basis,
                ],
            )?;
            account.contacts.push(contacts.len());
            contacts.push(WorldContact { email });
        }
    }
    out.flush()?;
    Ok(contacts)
}

fn write_leads(
    rng: &mut StdRng,
    accounts: &[WorldAccount],
    contacts: &[WorldContact],
    path: &Path,
) -> Result<()> {
    let mut out = create(
        path,
        "Record ID,First Name,Last Name,Email,Job Title,Company Name,Website URL,Country/Region,Lifecycle Stage",
    )?;
    let taken: HashSet<&str> = contacts
        .iter()
        .map(|contact| contact.email.as_str())
        .collect();
    let mut emails = HashSet::new();
    let count = accounts.len() * 6 / 10;
    for number in 0..count {
        let first = pick(rng, FIRST_NAMES);
        let last = pick(rng, LAST_NAMES);
        let Some(account) = accounts.choose(rng) else {
            break;
        };
        let roll = rng.random_range(0..100);
        let (host, website, company) = match roll {
            0..65 => (
                account.domain.clone(),
                String::new(),
                account.domain.clone(),
            ),
            65..73 => (
                pick(rng, FREE_MAIL).to_string(),
                format!("https://www.{}", account.domain),
                account.domain.clone(),
            ),
            73..80 => (
                pick(rng, FREE_MAIL).to_string(),
                String::new(),
                String::new(),
            ),
            _ => {
                let startup = format!(
                    "{}{}-{}.io",
                    slug(pick(rng, PREFIXES)),
                    slug(pick(rng, CORES)),
                    number % 50
                );
                (startup.clone(), String::new(), startup)
            }
        };
        let mut email = format!("{}.{}{}@{host}", slug(first), slug(last), number % 1000);
        while taken.contains(email.as_str()) || !emails.insert(email.clone()) {
            email = format!("x{email}");
        }
        let stage = pick(
            rng,
            &[
                "subscriber",
                "lead",
                "marketingqualifiedlead",
                "salesqualifiedlead",
            ],
        );
        row(
            &mut out,
            &[
                &(100_000 + number).to_string(),
                first,
                last,
                &email,
                pick(rng, TITLES),
                &company,
                &website,
                "",
                stage,
            ],
        )?;
    }
    out.flush()?;
    Ok(())
}

fn write_opportunities(
    spec: &WorldSpec,
    rng: &mut StdRng,
    accounts: &[WorldAccount],
    path: &Path,
) -> Result<()> {
    let mut out = create(
        path,
        "Id,AccountId,Name,StageName,Amount,CreatedDate,CloseDate,IsClosed,IsWon",
    )?;
    let mut number = 0;
    for account in accounts {
        let deals = if account.customer {
            1 + usize::from(rng.random_bool(0.3))
        } else if account.in_market && rng.random_bool(0.5) || rng.random_bool(0.06) {
            1
        } else {
            0
        };
        for deal in 0..deals {
            let created = spec.today - rng.random_range(20..540).days();
            let cycle = rng.random_range(20..180);
            let close = created + cycle.days();
            let amount = (5_000.0
                + (account.employees as f64).sqrt() * rng.random_range(200.0..1500.0))
            .min(500_000.0)
            .round();
            let (stage, closed, won) = if account.customer && deal == 0 {
                ("Closed Won", true, true)
            } else if close < spec.today {
                if rng.random_bool(0.35) {
                    ("Closed Won", true, true)
                } else {
                    ("Closed Lost", true, false)
                }
            } else {
                (pick(rng, STAGES_OPEN), false, false)
            };
            // Closed deals closed in the past; open ones expect to close later.
            let close = if closed && close >= spec.today {
                spec.today - 1.day()
            } else {
                close
            };
            let created_text = if rng.random_bool(0.3) {
                format!("{created}T10:00:00.000Z")
            } else {
                created.to_string()
            };
            let name = format!(
                "{} - {}",
                account.domain,
                if deal == 0 {
                    "New Business"
                } else {
                    "Expansion"
                }
            );
            row(
                &mut out,
                &[
                    &salesforce_id("006", number),
                    &account.crm_id,
                    &name,
                    stage,
                    &format!("{amount:.0}"),
                    &created_text,
                    &close.to_string(),
                    &closed.to_string(),
                    &won.to_string(),
                ],
            )?;
            number += 1;
        }
    }
    out.flush()?;
    Ok(())
}

fn monday_on_or_before(date: Date) -> Date {
    let back = i64::from(date.weekday().to_monday_zero_offset());
    date - back.days()
}

fn write_intent(
    spec: &WorldSpec,
    rng: &mut StdRng,
    accounts: &[WorldAccount],
    path: &Path,
) -> Result<()> {
    let mut out = create(path, "Company Name,Domain,Topic Name,Composite Score,Date")?;
    let last_monday = monday_on_or_before(spec.today);
    let weeks: Vec<Date> = (0..12i64)
        .rev()
        .map(|week| last_monday - (week * 7).days())
        .collect();
    let write_rows = |out: &mut BufWriter<File>,
                      rng: &mut StdRng,
                      name: &str,
                      domain: &str,
                      surging: bool|
     -> Result<()> {
        let mut topics: Vec<&str> = Vec::new();
        for _ in 0..rng.random_range(1..5) {
            let topic = pick(rng, TOPICS);
            if !topics.contains(&topic) {
                topics.push(topic);
            }
        }
        let surge_from = rng.random_range(4..10);
        for topic in topics {
            for (week, date) in weeks.iter().enumerate() {
                if !rng.random_bool(0.6) && !(surging && week >= surge_from) {
                    continue;
                }
                let score = if surging && week >= surge_from {
                    rng.random_range(60..100)
                } else {
                    rng.random_range(30..70)
                };
                row(
                    out,
                    &[name, domain, topic, &score.to_string(), &date.to_string()],
                )?;
            }
        }
        Ok(())
    };
    for account in accounts {
        if account.in_market || rng.random_bool(0.2) {
            let name = account.domain.split('.').next().unwrap_or("").to_owned();
            write_rows(&mut out, rng, &name, &account.domain, account.in_market)?;
        }
    }
    for number in 0..accounts.len() / 20 {
        let domain = format!(
            "{}{}-unknown{number}.com",
            slug(pick(rng, PREFIXES)),
            slug(pick(rng, CORES))
        );
        write_rows(&mut out, rng, &domain, &domain, false)?;
    }
    out.flush()?;
    Ok(())
}

struct ActivityLine {
    at: Timestamp,
    text: String,
}

fn write_activities(
    spec: &WorldSpec,
    rng: &mut StdRng,
    accounts: &[WorldAccount],
    contacts: &[WorldContact],
    path: &Path,
) -> Result<()> {
    let end = spec.today.to_zoned(jiff::tz::TimeZone::UTC)?.timestamp();
    let year_seconds = 365 * 24 * 3600;
    let mut lines: Vec<ActivityLine> = Vec::new();
    let mut push = |at: Timestamp,
                    kind: &str,
                    email: &str,
                    domain: &str,
                    page: (&str, Option<&str>),
                    campaign: &str,
                    channel: &str| {
        let url = if page.0.is_empty() {
            String::new()
        } else {
            format!("https://www.our-product.com{}", page.0)
        };
        let mut text = String::new();
        let _ = write!(
            text,
            "{},{kind},{email},{domain},{url},{},{},{channel}",
            at,
            page.1.unwrap_or(""),
            field(campaign)
        );
        lines.push(ActivityLine { at, text });
    };
    let random_time = |rng: &mut StdRng, from_seconds_ago: i64, to_seconds_ago: i64| -> Timestamp {
        let ago = rng.random_range(to_seconds_ago..from_seconds_ago.max(to_seconds_ago + 1));
        end.checked_sub(ago.seconds()).unwrap_or(end)
    };
    for account in accounts {
        let people: Vec<&WorldContact> = account
            .contacts
            .iter()
            .filter_map(|index| contacts.get(*index))
            .collect();
        // Background: a few touches a year from anyone.
        for _ in 0..rng.random_range(2..40) {
            let at = random_time(rng, year_seconds, 0);
            let (kind, channel, page) = match rng.random_range(0..10) {
                0..4 => ("page_view", "web", pick(rng, PAGES)),
                4..6 => ("email_sent", "email", ("", None)),
                6..8 => ("email_open", "email", ("", None)),
                8 => ("ad_impression", "paid_social", ("", None)),
                _ => ("email_click", "email", pick(rng, PAGES)),
            };
            let email = if kind == "page_view" && rng.random_bool(0.5) {
                String::new()
            } else {
                people
                    .choose(rng)
                    .map(|person| person.email.clone())
                    .unwrap_or_default()
            };
            let domain = if email.is_empty() {
                account.domain.as_str()
            } else {
                ""
            };
            push(
                at,
                kind,
                &email,
                domain,
                page,
                pick(rng, CAMPAIGNS),
                channel,
            );
        }
        // A buying cycle: 4–10 weeks, several people, deeper actions.
        if account.in_market || account.customer && rng.random_bool(0.3) {
            let weeks = rng.random_range(4..11);
            let start = rng.random_range(weeks * 7 * 86_400..year_seconds);
            let buyers: Vec<&&WorldContact> = people.iter().take(rng.random_range(2..7)).collect();
            for _ in 0..rng.random_range(15..60) {
                let at = random_time(rng, start, start - weeks * 7 * 86_400);
                let person = buyers
                    .choose(rng)
                    .map(|person| person.email.as_str())
                    .unwrap_or("");
                let (kind, channel) = pick(
                    rng,
                    &[
                        ("page_view", "web"),
                        ("page_view", "web"),
                        ("page_view", "web"),
                        ("content_download", "web"),
                        ("form_fill", "web"),
                        ("email_click", "email"),
                        ("email_reply", "email"),
                        ("webinar_registered", "events"),
                        ("webinar_attended", "events"),
                        ("meeting_held", "sales"),
                        ("call", "sales"),
                        ("ad_click", "paid_social"),
                        ("chat", "web"),
                        ("trial_signup", "web"),
                        ("direct_mail", "direct_mail"),
                    ],
                );
                let page = if channel == "web" {
                    pick(rng, PAGES)
                } else {
                    ("", None)
                };
                push(at, kind, person, "", page, pick(rng, CAMPAIGNS), channel);
            }
        }
    }
    // Noise: free-mail visitors, unknown companies, one bot.
    for number in 0..accounts.len() / 3 {
        let at = random_time(rng, year_seconds, 0);
        if rng.random_bool(0.5) {
            let email = format!("visitor{number}@{}", pick(rng, FREE_MAIL));
            push(
                at,
                "form_fill",
                &email,
                "",
                ("/resources/abm-playbook", Some("Account-Based Marketing")),
                "",
                "web",
            );
        } else {
            let domain = format!(
                "{}{}-{}.net",
                slug(pick(rng, PREFIXES)),
                slug(pick(rng, CORES)),
                number % 200
            );
            push(at, "page_view", "", &domain, pick(rng, PAGES), "", "web");
        }
    }
    if let Some(account) = accounts.first() {
        let bot_start = random_time(rng, year_seconds, 3600);
        for second in 0..200 {
            let at = bot_start
                .checked_add((second * 300 / 1000).seconds())
                .unwrap_or(bot_start);
            push(
                at,
                "page_view",
                &format!("crawler@{}", account.domain),
                "",
                pick(rng, PAGES),
                "",
                "web",
            );
        }
    }
    lines.sort_by_key(|line| line.at);
    let mut out = create(
        path,
        "id,occurred_at,type,email,domain,url,topic,campaign,channel",
    )?;
    for (number, line) in lines.iter().enumerate() {
        if line.text.contains(",email_") && number % 3 == 0 {
            writeln!(out, "<{number:09}.demo@mail.our-product.com>,{}", line.text)?;
        } else {
            writeln!(out, "act-{number:09},{}", line.text)?;
        }
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn world(seed: u64) -> (tempfile::TempDir, WorldFiles) {
        let directory = tempfile::tempdir().unwrap();
        let spec = WorldSpec {
            accounts: 200,
            seed,
            today: jiff::civil::date(2026, 11, 23),
        };
        let files = write_world(&spec, directory.path()).unwrap();
        (directory, files)
    }

    fn column(path: &Path, name: &str) -> Vec<String> {
        let mut reader = csv::Reader::from_path(path).unwrap();
        let index = reader
            .headers()
            .unwrap()
            .iter()
            .position(|header| header == name)
            .unwrap();
        reader
            .records()
            .map(|record| record.unwrap()[index].to_owned())
            .collect()
    }

    fn unique(values: &[String]) -> bool {
        values.iter().collect::<HashSet<_>>().len() == values.len()
    }

    #[test]
    fn the_world_is_deterministic_and_consistent() {
        let (_first, a) = world(7);
        let (_second, b) = world(7);
        let (_third, c) = world(8);
        for (left, right) in [
            (&a.accounts, &b.accounts),
            (&a.activities, &b.activities),
            (&a.intent, &b.intent),
        ] {
            assert_eq!(std::fs::read(left).unwrap(), std::fs::read(right).unwrap());
        }
        assert_ne!(
            std::fs::read(&a.accounts).unwrap(),
            std::fs::read(&c.accounts).unwrap()
        );
        let header = |path: &Path| {
            std::fs::read_to_string(path)
                .unwrap()
                .lines()
                .next()
                .unwrap()
                .to_owned()
        };
        assert_eq!(
            header(&a.leads),
            "Record ID,First Name,Last Name,Email,Job Title,Company Name,Website URL,Country/Region,Lifecycle Stage"
        );
        assert_eq!(
            header(&a.intent),
            "Company Name,Domain,Topic Name,Composite Score,Date"
        );
        let account_ids = column(&a.accounts, "Id");
        assert_eq!(account_ids.len(), 200);
        assert!(unique(&account_ids));
        assert!(unique(&column(&a.contacts, "Email")));
        assert!(unique(&column(&a.activities, "id")));
        let known: HashSet<_> = account_ids.into_iter().collect();
        assert!(
            column(&a.contacts, "AccountId")
                .iter()
                .all(|id| known.contains(id))
        );
        let created = column(&a.opportunities, "CreatedDate");
        let closed = column(&a.opportunities, "CloseDate");
        assert!(!created.is_empty());
        for (created, closed) in created.iter().zip(&closed) {
            assert!(created[..10] <= closed[..], "{created} closes {closed}");
        }
    }
}
