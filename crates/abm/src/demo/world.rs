//! The demo world: a deterministic, realistic B2B market written as the CSV files real tools
//! export — Salesforce accounts, contacts and opportunities, HubSpot leads, Bombora Company
//! Surge intent, and abm's generic activity log. This module owns the generator only: the
//! market model (accounts by industry, size and country; their people; customers; buying
//! cycles) and the writing of those six files. Importing them is the `demo` command's job.
//!
//! The story the files tell is consistent: a minority of accounts are in market, and their
//! buying cycle shows up as an intent surge, a burst of activity from several people and
//! often an open opportunity; customers have a closed-won deal and later engagement; most
//! accounts are quiet. Noise is included on purpose: free-mail leads, companies that are not
//! in the CRM, anonymous visits, thousands-separated employee counts, names that need CSV
//! quoting, and one bot that views 200 pages in a minute.
//!
//! Everything derives from the seed and the `today` passed in (no clock, no thread rng):
//! the same spec gives the same bytes.

use anyhow::{Context, Result};
use jiff::civil::Date;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use std::collections::HashSet;
use std::fmt;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// What to generate: how many accounts, from which seed, as seen on which day.
#[derive(Debug, Clone)]
pub struct WorldSpec {
    pub accounts: usize,
    pub seed: u64,
    /// The day the world is "now": activities end before it, intent weeks precede it.
    pub today: Date,
}

/// The six files written, one per import kind.
#[derive(Debug, Clone)]
pub struct WorldFiles {
    pub accounts: PathBuf,
    pub contacts: PathBuf,
    pub leads: PathBuf,
    pub opportunities: PathBuf,
    pub intent: PathBuf,
    pub activities: PathBuf,
}

const ACCOUNTS_HEADER: &str = "Id,Name,Website,Industry,NumberOfEmployees,AnnualRevenue,BillingCountry,Type,Owner.Name,ParentId,Technologies__c,Segment__c";
const CONTACTS_HEADER: &str =
    "Id,AccountId,FirstName,LastName,Email,Title,HasOptedOutOfEmail,Lawful_Basis__c";
const LEADS_HEADER: &str = "Record ID,First Name,Last Name,Email,Job Title,Company Name,Website URL,Country/Region,Lifecycle Stage";
const OPPORTUNITIES_HEADER: &str =
    "Id,AccountId,Name,StageName,Amount,CreatedDate,CloseDate,IsClosed,IsWon";
const INTENT_HEADER: &str = "Company Name,Domain,Topic Name,Composite Score,Date";
const ACTIVITIES_HEADER: &str = "id,occurred_at,type,email,domain,url,topic,campaign,channel";

/// Writes the rows of one file (after its header).
type WriteRows = fn(&World, &mut Csv) -> std::io::Result<()>;

/// Writes the six files into `directory` (which must exist) and returns their paths.
pub fn write_world(spec: &WorldSpec, directory: &Path) -> Result<WorldFiles> {
    let files = WorldFiles {
        accounts: directory.join("accounts.csv"),
        contacts: directory.join("contacts.csv"),
        leads: directory.join("leads.csv"),
        opportunities: directory.join("opportunities.csv"),
        intent: directory.join("intent.csv"),
        activities: directory.join("activities.csv"),
    };
    let world = World::generate(spec);
    let writers: [(&PathBuf, WriteRows, &str); 6] = [
        (&files.accounts, write_accounts, ACCOUNTS_HEADER),
        (&files.contacts, write_contacts, CONTACTS_HEADER),
        (&files.leads, write_leads, LEADS_HEADER),
        (
            &files.opportunities,
            write_opportunities,
            OPPORTUNITIES_HEADER,
        ),
        (&files.intent, write_intent, INTENT_HEADER),
        (&files.activities, write_activities, ACTIVITIES_HEADER),
    ];
    for (path, write, header) in writers {
        let file =
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        let mut csv = Csv::new(BufWriter::with_capacity(1 << 16, file));
        csv.out
            .write_all(header.as_bytes())
            .and_then(|()| csv.out.write_all(b"\n"))
            .and_then(|()| write(&world, &mut csv))
            .and_then(|()| csv.out.flush())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(files)
}

// ---------------------------------------------------------------------------------------------
// Word lists
// ---------------------------------------------------------------------------------------------

struct NamePool {
    first: &'static [&'static str],
    last: &'static [&'static str],
}

#[rustfmt::skip]
static ANGLO: NamePool = NamePool {
    first: &["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
        "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
        "Christopher", "Karen", "Daniel", "Emily", "Matthew", "Ashley", "Andrew", "Megan", "Ryan",
        "Rachel", "Kevin", "Laura", "Brian", "Olivia", "Jacob", "Hannah", "Ethan", "Chloe", "Liam",
        "Grace", "Noah", "Zoë", "Siobhan", "Connor"],
    last: &["Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
        "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Thompson", "White", "Harris", "Clark",
        "Lewis", "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams",
        "Nelson", "Carter", "Mitchell", "Roberts", "Campbell", "Evans", "Edwards", "Collins", "Murphy",
        "O'Brien", "O'Connor", "Hughes", "Kelly", "Price", "Bennett", "Wood", "Reed"],
};
#[rustfmt::skip]
static HISPANIC: NamePool = NamePool {
    first: &["Carlos", "Ana", "José", "María", "Luis", "Sofía", "Diego", "Camila", "Javier", "Lucía",
        "Miguel", "Valentina", "Alejandro", "Isabella", "Mateo"],
    last: &["García", "Rodríguez", "Martínez", "Hernández", "López", "González", "Pérez", "Sánchez",
        "Ramírez", "Torres", "Flores", "Rivera", "Gómez", "Díaz", "Morales"],
};
#[rustfmt::skip]
static GERMAN: NamePool = NamePool {
    first: &["Lukas", "Lena", "Jonas", "Anna", "Felix", "Laura", "Maximilian", "Sophie", "Paul",
        "Marie", "Jörg", "Jürgen", "Katharina", "Stefan", "Sabine", "Tobias", "Julia", "Florian",
        "Niklas", "Hannah"],
    last: &["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
        "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz",
        "Zimmermann", "Braun", "Krüger", "Hartmann", "Lange", "Weiß"],
};
#[rustfmt::skip]
static FRENCH: NamePool = NamePool {
    first: &["Pierre", "Camille", "Louis", "Léa", "Hugo", "Chloé", "Jules", "Manon", "Antoine", "Inès",
        "Nicolas", "Céline", "Mathieu", "Élodie", "Julien", "Amélie", "Thomas", "Sophie", "Guillaume",
        "Margaux"],
    last: &["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
        "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garnier", "Faure", "Rousseau", "Blanc",
        "Girard", "Fontaine"],
};
#[rustfmt::skip]
static DUTCH: NamePool = NamePool {
    first: &["Daan", "Emma", "Sem", "Julia", "Lucas", "Sanne", "Bram", "Fleur", "Thijs", "Lotte",
        "Ruben", "Anouk", "Jeroen", "Femke", "Joost", "Maud"],
    last: &["de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Visser", "Smit",
        "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen"],
};
#[rustfmt::skip]
static SWEDISH: NamePool = NamePool {
    first: &["Erik", "Anna", "Lars", "Eva", "Karl", "Maria", "Johan", "Sara", "Anders", "Emma",
        "Björn", "Ingrid", "Sven", "Linnéa", "Oskar", "Astrid"],
    last: &["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson",
        "Persson", "Svensson", "Gustafsson", "Lindberg", "Lindström", "Bergström", "Åberg", "Sjöberg"],
};
#[rustfmt::skip]
static JAPANESE: NamePool = NamePool {
    first: &["Haruto", "Yui", "Sota", "Hina", "Yuto", "Sakura", "Kenji", "Yuki", "Takumi", "Aoi",
        "Hiroshi", "Emi", "Daiki", "Mei", "Ren", "Naoko"],
    last: &["Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura",
        "Kobayashi", "Kato", "Yoshida", "Yamada", "Sasaki", "Matsumoto", "Inoue"],
};
#[rustfmt::skip]
static INDIAN: NamePool = NamePool {
    first: &["Arjun", "Priya", "Rahul", "Ananya", "Vikram", "Aisha", "Rohan", "Kavya", "Aditya",
        "Neha", "Sanjay", "Pooja", "Karthik", "Divya", "Amit", "Sneha"],
    last: &["Sharma", "Patel", "Singh", "Kumar", "Gupta", "Reddy", "Iyer", "Nair", "Rao", "Mehta",
        "Joshi", "Desai", "Menon", "Chatterjee", "Agarwal", "Kapoor"],
};
#[rustfmt::skip]
static CHINESE: NamePool = NamePool {
    first: &["Wei", "Mei", "Jun", "Li", "Hao", "Xin", "Ming", "Ying", "Jian", "Hui", "Kai", "Lin", "Yan"],
    last: &["Tan", "Lim", "Lee", "Ng", "Wong", "Chen", "Wang", "Zhang", "Liu", "Goh", "Chua", "Teo",
        "Koh", "Ong"],
};
#[rustfmt::skip]
static BRAZILIAN: NamePool = NamePool {
    first: &["João", "Maria", "Pedro", "Ana", "Lucas", "Juliana", "Gabriel", "Fernanda", "Rafael",
        "Beatriz", "Gustavo", "Larissa", "Thiago", "Camila", "Felipe", "Mariana"],
    last: &["Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira",
        "Lima", "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Gonçalves"],
};

/// A billing country and what follows from it: domains, legal forms, names, time zone, owner
/// team, whether GDPR-style consent fields are filled in, and local job titles.
struct Country {
    name: &'static str,
    weight: u32,
    tlds: &'static [(&'static str, u32)],
    legal: &'static [&'static str],
    utc_offset: i64,
    people: &'static [(&'static NamePool, u32)],
    team: usize,
    gdpr: bool,
    subdomain: &'static str,
    locale: &'static str,
    titles: &'static [&'static str],
}

#[rustfmt::skip]
static COUNTRIES: &[Country] = &[
    Country { name: "United States", weight: 45, tlds: &[("com", 80), ("io", 12), ("ai", 5), ("co", 3)],
        legal: &["Inc.", ", Inc.", "LLC", "Corp."], utc_offset: -5,
        people: &[(&ANGLO, 70), (&HISPANIC, 12), (&INDIAN, 10), (&CHINESE, 8)], team: 0, gdpr: false,
        subdomain: "us", locale: "en-us", titles: &[] },
    Country { name: "United Kingdom", weight: 11, tlds: &[("co.uk", 70), ("com", 25), ("io", 5)],
        legal: &["Ltd", "Limited", "plc"], utc_offset: 0, people: &[(&ANGLO, 85), (&INDIAN, 15)],
        team: 1, gdpr: true, subdomain: "uk", locale: "en-gb", titles: &[] },
    Country { name: "Germany", weight: 8, tlds: &[("de", 85), ("com", 15)],
        legal: &["GmbH", "AG", "SE", "GmbH & Co. KG"], utc_offset: 1, people: &[(&GERMAN, 100)],
        team: 1, gdpr: true, subdomain: "de", locale: "de",
        titles: &["Leiter Vertrieb", "Leiterin Marketing", "Geschäftsführer", "Vertriebsleiter DACH",
            "Referentin Marketing", "Einkaufsleiter", "Head of Marketing DACH"] },
    Country { name: "France", weight: 6, tlds: &[("fr", 85), ("com", 15)], legal: &["SA", "SAS"],
        utc_offset: 1, people: &[(&FRENCH, 100)], team: 1, gdpr: true, subdomain: "fr", locale: "fr",
        titles: &["Directeur Marketing", "Directrice Commerciale", "Responsable Marketing Digital",
            "Chef de Projet CRM", "Directeur Général"] },
    Country { name: "Netherlands", weight: 4, tlds: &[("nl", 85), ("com", 15)], legal: &["B.V.", "N.V."],
        utc_offset: 1, people: &[(&DUTCH, 100)], team: 1, gdpr: true, subdomain: "eu", locale: "nl",
        titles: &["Marketing Manager Benelux", "Directeur", "Hoofd Verkoop"] },
    Country { name: "Canada", weight: 5, tlds: &[("ca", 60), ("com", 40)], legal: &["Inc.", "Ltd."],
        utc_offset: -5, people: &[(&ANGLO, 75), (&FRENCH, 15), (&CHINESE, 10)], team: 0, gdpr: false,
        subdomain: "ca", locale: "en-ca", titles: &[] },
    Country { name: "Australia", weight: 5, tlds: &[("com.au", 85), ("com", 15)], legal: &["Pty Ltd"],
        utc_offset: 10, people: &[(&ANGLO, 85), (&CHINESE, 15)], team: 2, gdpr: false,
        subdomain: "au", locale: "en-au", titles: &[] },
    Country { name: "Japan", weight: 3, tlds: &[("co.jp", 70), ("jp", 30)], legal: &["K.K.", "Co., Ltd."],
        utc_offset: 9, people: &[(&JAPANESE, 100)], team: 2, gdpr: false, subdomain: "jp", locale: "ja",
        titles: &["Marketing Manager, Japan", "General Manager", "Sales Manager, Japan"] },
    Country { name: "Singapore", weight: 2, tlds: &[("com.sg", 60), ("sg", 25), ("com", 15)],
        legal: &["Pte. Ltd."], utc_offset: 8, people: &[(&CHINESE, 70), (&INDIAN, 15), (&ANGLO, 15)],
        team: 2, gdpr: false, subdomain: "apac", locale: "en-sg", titles: &[] },
    Country { name: "India", weight: 5, tlds: &[("in", 50), ("co.in", 35), ("com", 15)],
        legal: &["Pvt. Ltd.", "Limited"], utc_offset: 5, people: &[(&INDIAN, 100)], team: 2,
        gdpr: false, subdomain: "in", locale: "en-in", titles: &[] },
    Country { name: "Brazil", weight: 3, tlds: &[("com.br", 100)], legal: &["Ltda.", "S.A."],
        utc_offset: -3, people: &[(&BRAZILIAN, 100)], team: 3, gdpr: false, subdomain: "br",
        locale: "pt-br", titles: &["Gerente de Marketing", "Diretor Comercial", "Analista de Marketing"] },
    Country { name: "Sweden", weight: 3, tlds: &[("se", 90), ("com", 10)], legal: &["AB"], utc_offset: 1,
        people: &[(&SWEDISH, 100)], team: 1, gdpr: true, subdomain: "nordics", locale: "sv",
        titles: &["Marknadschef", "Försäljningschef", "VD"] },
];

/// Account owners by team: North America, EMEA, APAC, Latin America.
#[rustfmt::skip]
const OWNERS: [&[&str]; 4] = [
    &["Maya Chen", "Luis Ortega", "Daniel Kim", "Noah Walsh", "Rachel Adler"],
    &["Tom Becker", "Emma Laurent", "Jonas Berg", "Sophie Turner"],
    &["Hana Sato", "Priya Raman"],
    &["Rafael Souza"],
];

#[rustfmt::skip]
const PREFIXES: &[&str] = &[
    "North", "Blue", "Bright", "Iron", "Silver", "Green", "Summit", "Harbor", "Atlas", "Nova", "Cedar",
    "Pioneer", "Vertex", "Quantum", "Crimson", "Golden", "Polar", "River", "Stone", "Sky", "Orbit",
    "Maple", "Falcon", "Beacon", "Prism", "Aurora", "Copper", "Granite", "Lumen", "Vector", "Meridian",
    "Oak", "Pinnacle", "Redwood", "Sterling", "Tidal", "Union", "West", "Zenith", "Alder", "Apex",
    "Arrow", "Birch", "Canyon", "Clear", "Coral", "Delta", "Eagle", "Ember", "Fern", "Fox", "Glacier",
    "Hawk", "Horizon", "Indigo", "Juniper", "Keystone", "Lark", "Lynx", "Marble", "Mesa", "Onyx",
    "Pacific", "Pine", "Quarry", "Raven", "Sage", "Sequoia", "Signal", "Solar", "Spruce", "True",
    "Velvet", "Willow", "Wolf", "Amber",
];
#[rustfmt::skip]
const CORES: &[&str] = &[
    "wind", "point", "bridge", "field", "gate", "line", "stone", "wave", "path", "crest", "forge",
    "light", "peak", "view", "works", "port", "leaf", "mark", "shore", "star", "brook", "craft",
    "dale", "haven", "hill", "land", "rock", "side", "vale", "wood", "well", "way", "lake", "hurst",
];
#[rustfmt::skip]
const SECONDS: &[&str] = &[
    "Harbor", "Ridge", "River", "Valley", "Bay", "Point", "Trail", "Grove", "Creek", "Lake", "Hill",
    "Field", "Peak", "Rock", "Meadow", "Canyon", "Forest", "Mountain",
];

/// (industry, weight, name suffixes)
#[rustfmt::skip]
const INDUSTRIES: &[(&str, u32, &[&str])] = &[
    ("Software", 22, &["Analytics", "Systems", "Labs", "Software", "Cloud", "Technologies", "Data", "AI"]),
    ("Financial Services", 11, &["Capital", "Bank", "Insurance", "Financial", "Asset Management", "Payments"]),
    ("Healthcare", 9, &["Health", "Medical", "Therapeutics", "Clinics", "Pharma", "Diagnostics"]),
    ("Manufacturing", 12, &["Manufacturing", "Industries", "Components", "Robotics", "Materials", "Machinery"]),
    ("Retail", 8, &["Retail", "Stores", "Outfitters", "Market", "Brands", "Goods"]),
    ("Logistics", 6, &["Logistics", "Freight", "Shipping", "Transport", "Supply"]),
    ("Education", 5, &["University", "Academy", "Learning", "Education", "Schools"]),
    ("Media", 5, &["Media", "Studios", "Publishing", "Entertainment"]),
    ("Telecommunications", 4, &["Telecom", "Networks", "Communications", "Mobile"]),
    ("Energy", 4, &["Energy", "Power", "Solar", "Renewables", "Utilities"]),
    ("Professional Services", 11, &["Consulting", "Partners", "Advisory", "Group", "Associates", "Legal"]),
    ("Government", 3, &["Transit Authority", "Port Authority", "Municipality"]),
];

#[rustfmt::skip]
const TECHNOLOGIES: &[(&str, u32)] = &[
    ("Salesforce", 30), ("HubSpot", 18), ("Marketo", 10), ("Pardot", 6), ("Snowflake", 10), ("AWS", 30),
    ("Azure", 18), ("Google Cloud", 12), ("Slack", 25), ("Microsoft Teams", 15), ("Zendesk", 10),
    ("Segment", 6), ("Outreach", 8), ("Salesloft", 5), ("Gong", 7), ("6sense", 3), ("Demandbase", 3),
    ("Tableau", 10), ("Looker", 6), ("Power BI", 8), ("Workday", 8), ("SAP", 8), ("Oracle", 7),
    ("NetSuite", 6), ("Microsoft Dynamics", 7), ("ZoomInfo", 8), ("Intercom", 5), ("Shopify", 4),
    ("Google Analytics", 20), ("LinkedIn Sales Navigator", 8), ("Okta", 8), ("Jira", 12),
    ("Confluence", 8), ("Databricks", 4),
];

#[rustfmt::skip]
const TITLES: &[&str] = &[
    "VP, Demand Generation", "Sr. Dir. of Sales Ops", "CMO", "Chief Marketing Officer", "Head of RevOps",
    "Marketing Operations Manager", "Chief Financial Officer", "IT Director", "Procurement Specialist",
    "Software Engineer", "Account Executive", "Chief Revenue Officer", "VP Marketing", "VP of Sales",
    "Director of Sales Operations", "Demand Generation Manager", "CTO", "Head of Data",
    "Senior Data Engineer", "Marketing Analyst", "Content Marketing Manager", "CEO", "Co-Founder & CEO",
    "Finance Manager", "Senior Recruiter", "Director, Digital Marketing", "ABM Manager",
    "Sales Development Representative", "Head of IT Procurement", "Revenue Operations Analyst",
    "Director of Growth", "Growth Marketing Lead", "Product Marketing Manager", "Field Marketing Manager",
    "Sr. Manager, Marketing Ops", "Salesforce Administrator", "Business Intelligence Analyst",
    "Head of Sales, EMEA", "Regional Sales Director", "Customer Success Manager", "VP Customer Success",
    "Office Manager", "Operations Director", "General Counsel", "Chief Operating Officer",
    "Engineering Manager", "Data Scientist", "Marketing Coordinator",
];

#[rustfmt::skip]
const TOPICS: &[&str] = &[
    "Intent Data", "Account-Based Marketing", "Marketing Automation", "Customer Data Platform",
    "Sales Enablement", "Predictive Analytics", "Lead Scoring", "Revenue Operations",
    "Sales Intelligence", "Data Enrichment", "Marketing Attribution", "Conversational Marketing",
    "Web Personalization", "B2B Advertising", "CRM Software",
];
/// The topics closest to what we sell: in-market accounts research these.
const CORE_TOPICS: &[u8] = &[0, 1, 5, 6, 7];

const FREE_MAIL: &[&str] = &["gmail.com", "outlook.com", "yahoo.com", "hotmail.com"];

#[rustfmt::skip]
const LIFECYCLE_STAGES: &[(&str, u32)] = &[
    ("Subscriber", 25), ("Lead", 35), ("Marketing Qualified Lead", 20), ("Sales Qualified Lead", 9),
    ("Opportunity", 4), ("Other", 7),
];

/// Our own website's pages: (path, topic, funnel stage: 0 early, 1 mid, 2 late, 3 customer).
#[rustfmt::skip]
const PAGES: &[(&str, Option<u8>, u8)] = &[
    ("/", None, 0), ("/blog/intent-data-101", Some(0), 0), ("/blog/abm-playbook-2026", Some(1), 0),
    ("/blog/lead-scoring-models-that-work", Some(6), 0), ("/blog/revops-metrics-that-matter", Some(7), 0),
    ("/blog/cdp-vs-crm", Some(3), 0), ("/resources/abm-playbook", Some(1), 0),
    ("/resources/intent-data-buyers-guide", Some(0), 0), ("/webinars/intent-data-masterclass", Some(0), 0),
    ("/product", None, 1), ("/product/intent-signals", Some(0), 1), ("/product/account-scoring", Some(6), 1),
    ("/solutions/revenue-operations", Some(7), 1), ("/solutions/marketing-operations", Some(2), 1),
    ("/case-studies/fintech-pipeline-growth", None, 1), ("/case-studies/manufacturing-abm", None, 1),
    ("/integrations/salesforce", Some(14), 1), ("/integrations/hubspot", Some(14), 1),
    ("/compare/6sense", Some(1), 2), ("/compare/demandbase", Some(1), 2), ("/pricing", None, 2),
    ("/demo", None, 2), ("/contact-sales", None, 2), ("/security", None, 2), ("/signup", None, 2),
    ("/docs/getting-started", None, 3), ("/docs/api", None, 3),
    ("/docs/integrations/salesforce", Some(14), 3), ("/careers", None, 3),
];
const PAGE_WEBINAR: u8 = 8;
const PAGE_DEMO: u8 = 21;
const PAGE_CONTACT_SALES: u8 = 22;
const PAGE_SIGNUP: u8 = 24;
const RESOURCE_PAGES: &[u8] = &[6, 7];

/// (query string, campaign, channel) of tagged links.
#[rustfmt::skip]
const UTMS: &[(&str, Option<u8>, u8)] = &[
    ("", None, CH_WEB),
    ("?utm_source=linkedin&utm_medium=paid_social&utm_campaign=q3-abm-tier-1", Some(0), CH_PAID_SOCIAL),
    ("?utm_source=newsletter&utm_medium=email", Some(6), CH_EMAIL),
    ("?utm_source=google&utm_medium=cpc&utm_campaign=brand", Some(8), CH_PAID_SEARCH),
    ("?utm_source=g2&utm_medium=referral", None, CH_WEB),
];

/// (campaign, topic it is about)
#[rustfmt::skip]
const CAMPAIGNS: &[(&str, Option<u8>)] = &[
    ("Q3 ABM Tier 1", Some(1)), ("Q4 ABM Tier 2", Some(1)), ("Intent Data Webinar", Some(0)),
    ("Intent, Signals & Scoring: Live Demo", Some(6)), ("Nurture - Ops Leaders", Some(7)),
    ("Nurture - Marketing Leaders", Some(2)), ("Monthly Newsletter", None),
    ("Paid Social - RevOps", Some(7)), ("Paid Search - Brand", None), ("Field Event London", None),
    ("SaaStr Annual", None), ("Executive Dinner NYC", None), ("Customer Expansion", None),
    ("Q4 Executive Gift Box", None), ("Product Launch: Account Scoring", Some(6)),
    ("ABM Playbook Download", Some(1)), ("Outbound - RevOps Leaders", Some(7)),
    ("Customer Onboarding", None),
];
const NURTURE_CAMPAIGNS: &[u8] = &[4, 5, 6, 6, 14, 2];
const CUSTOMER_CAMPAIGNS: &[u8] = &[12, 17, 6];
const AD_CAMPAIGNS: &[u8] = &[0, 1, 7];
const EVENT_CAMPAIGNS: &[u8] = &[9, 10, 11];

const CHANNELS: &[&str] = &[
    "web",
    "email",
    "paid_social",
    "paid_search",
    "events",
    "sales",
    "direct_mail",
];
const CH_WEB: u8 = 0;
const CH_EMAIL: u8 = 1;
const CH_PAID_SOCIAL: u8 = 2;
const CH_PAID_SEARCH: u8 = 3;
const CH_EVENTS: u8 = 4;
const CH_SALES: u8 = 5;
const CH_DIRECT_MAIL: u8 = 6;

#[rustfmt::skip]
const KINDS: &[&str] = &[
    "page_view", "email_sent", "email_open", "email_click", "email_reply", "form_fill",
    "content_download", "ad_impression", "ad_click", "webinar_registered", "webinar_attended",
    "meeting_held", "call", "chat", "trial_signup", "direct_mail",
];
const PAGE_VIEW: u8 = 0;
const EMAIL_SENT: u8 = 1;
const EMAIL_OPEN: u8 = 2;
const EMAIL_CLICK: u8 = 3;
const EMAIL_REPLY: u8 = 4;
const FORM_FILL: u8 = 5;
const CONTENT_DOWNLOAD: u8 = 6;
const AD_IMPRESSION: u8 = 7;
const AD_CLICK: u8 = 8;
const WEBINAR_REGISTERED: u8 = 9;
const WEBINAR_ATTENDED: u8 = 10;
const MEETING_HELD: u8 = 11;
const CALL: u8 = 12;
const CHAT: u8 = 13;
const TRIAL_SIGNUP: u8 = 14;
const DIRECT_MAIL: u8 = 15;

/// What a buyer does, by phase of the buying cycle: (kind, weight).
#[rustfmt::skip]
const PHASE_KINDS: [&[(u8, u32)]; 3] = [
    &[(PAGE_VIEW, 50), (CONTENT_DOWNLOAD, 10), (EMAIL_OPEN, 10), (EMAIL_CLICK, 6), (AD_CLICK, 4),
        (WEBINAR_REGISTERED, 5), (WEBINAR_ATTENDED, 3), (FORM_FILL, 3), (CHAT, 2)],
    &[(PAGE_VIEW, 40), (EMAIL_OPEN, 8), (EMAIL_CLICK, 6), (EMAIL_REPLY, 5), (FORM_FILL, 5),
        (CONTENT_DOWNLOAD, 5), (WEBINAR_ATTENDED, 4), (MEETING_HELD, 8), (CALL, 5), (CHAT, 3),
        (TRIAL_SIGNUP, 2)],
    &[(PAGE_VIEW, 30), (EMAIL_REPLY, 10), (MEETING_HELD, 15), (CALL, 10), (EMAIL_OPEN, 8),
        (EMAIL_CLICK, 4), (TRIAL_SIGNUP, 3), (FORM_FILL, 3), (CHAT, 3), (DIRECT_MAIL, 2)],
];

const DAY: i64 = 86_400;

// ---------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------

struct World {
    seed: u64,
    /// Today as days since 1970-01-01.
    today: i64,
    accounts: Vec<Account>,
    contacts: Vec<Contact>,
    leads: Vec<Lead>,
    /// Companies that are not in the CRM: (name, registrable domain).
    unknown: Vec<(String, String)>,
    opportunities: Vec<Opportunity>,
    /// Free-mail newsletter readers who never filled in a form.
    extra_emails: Vec<String>,
    /// The address a bot uses: at a quiet prospect's domain, so it resolves to that account.
    bot_email: String,
}

struct Account {
    id: String,
    name: String,
    /// The name without industry word or legal form, as intent vendors print it.
    brand: String,
    website: String,
    domain: String,
    country: &'static Country,
    industry: &'static str,
    employees: u64,
    employees_text: String,
    revenue: String,
    account_type: &'static str,
    owner: &'static str,
    parent: Option<usize>,
    technologies: String,
    contacts: Range<usize>,
    cycles: Vec<Cycle>,
    /// Targeted by the account-based ad campaigns.
    tier_one: bool,
}

impl Account {
    fn customer(&self) -> bool {
        self.account_type == "Customer - Direct"
    }
}

/// A period in which several people at an account research and evaluate: days since epoch.
struct Cycle {
    start: i64,
    /// End of the intense part (exclusive).
    end: i64,
    /// For a won deal, when it closed: meetings and calls continue until then.
    close: Option<i64>,
    buyers: Vec<usize>,
}

struct Contact {
    id: String,
    account: usize,
    first: &'static str,
    last: &'static str,
    email: String,
    title: &'static str,
    opted_out: bool,
    lawful_basis: &'static str,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum LeadKind {
    /// A work address at a known account's domain.
    Work(usize),
    /// Free mail; the website may name a known account.
    FreeMail(Option<usize>),
    /// A company that is not in the CRM (index into `World::unknown`).
    Unknown(usize),
}

struct Lead {
    record_id: u64,
    first: &'static str,
    last: &'static str,
    email: String,
    title: &'static str,
    company: String,
    website: String,
    country: &'static str,
    stage: &'static str,
    kind: LeadKind,
}

struct Opportunity {
    id: String,
    account: usize,
    name: String,
    stage: &'static str,
    amount: u64,
    created: i64,
    /// Written as a Data Loader timestamp rather than a date.
    created_at_hour: Option<i64>,
    close: i64,
    closed: bool,
    won: bool,
}

impl World {
    fn generate(spec: &WorldSpec) -> World {
        let today = days_from_civil(
            i64::from(spec.today.year()),
            i64::from(spec.today.month()),
            i64::from(spec.today.day()),
        );
        let mut world = World {
            seed: spec.seed,
            today,
            accounts: Vec::with_capacity(spec.accounts),
            contacts: Vec::new(),
            leads: Vec::new(),
            unknown: Vec::new(),
            opportunities: Vec::new(),
            extra_emails: Vec::new(),
            bot_email: String::new(),
        };
        let mut domains = Domains {
            taken: HashSet::new(),
            free_mail: abm_core::identity::FreeMailDomains::default(),
        };
        let mut emails = HashSet::new();
        world.add_accounts(&mut stream(spec.seed, 1), spec.accounts, &mut domains);
        world.add_contacts(&mut stream(spec.seed, 2), &mut emails);
        world.add_cycles_and_deals(&mut stream(spec.seed, 3));
        world.add_unknown_companies(&mut stream(spec.seed, 4), &mut domains);
        world.add_leads(&mut stream(spec.seed, 5), &mut emails);
        world
    }

    fn add_accounts(&mut self, rng: &mut StdRng, count: usize, domains: &mut Domains) {
        let mut ids = IdSequence::new(rng);
        // Accounts that can be parents: large, and not themselves subsidiaries.
        let mut groups: Vec<usize> = Vec::new();
        for number in 0..count {
            // About 2% are subsidiaries of a larger account listed earlier, sharing its brand
            // in another country.
            let parent = (!groups.is_empty() && rng.random_bool(0.02)).then(|| pick(rng, &groups));
            let country = loop {
                let country = weighted_by(rng, COUNTRIES, |country| country.weight);
                match parent {
                    Some(parent) if self.accounts[parent].country.name == country.name => {}
                    _ => break country,
                }
            };
            let (industry, suffixes) = match parent {
                Some(parent) => {
                    let industry = self.accounts[parent].industry;
                    let entry = INDUSTRIES.iter().find(|entry| entry.0 == industry);
                    (industry, entry.map_or(&[][..], |entry| entry.2))
                }
                None => {
                    let entry = weighted_by(rng, INDUSTRIES, |entry| entry.1);
                    (entry.0, entry.2)
                }
            };
            let mut attempts = 0;
            let (name, brand, domain) = loop {
                let (name, brand, domain) = match parent {
                    Some(parent) => subsidiary_name(rng, &self.accounts[parent], country),
                    None => company_name(rng, industry, suffixes, country),
                };
                if domains.claim(&domain) {
                    break (name, brand, domain);
                }
                // Taken: try other names, then the account's number in the domain (unique).
                attempts += 1;
                if attempts >= 8 {
                    let (label, tld) = domain.split_once('.').unwrap_or((&domain, "com"));
                    let numbered = format!("{label}-{number}.{tld}");
                    if domains.claim(&numbered) {
                        break (name, brand, numbered);
                    }
                }
            };
            let website = website_form(rng, &domain, country);
            let employees = match parent {
                Some(_) => log_normal(rng, 300.0, 1.2),
                None => log_normal(rng, 220.0, 1.7),
            }
            .clamp(10.0, 100_000.0) as u64;
            let employees_text = match rng.random_range(0..100) {
                0..3 => String::new(),
                3..40 if employees >= 1000 => thousands(employees),
                _ => employees.to_string(),
            };
            let revenue = match rng.random_range(0..100) {
                0..12 => String::new(),
                12..20 => format!("{}.00", employees * rng.random_range(150..300u64) * 1000),
                _ => (employees * rng.random_range(150..300u64) * 1000).to_string(),
            };
            // Customers were won from buying cycles, which larger companies and the core
            // industries start more often: they share the profile new deals come from.
            let customer_permille = (80.0 * propensity(employees, industry)) as u32;
            let account_type = match rng.random_range(0..1000) {
                roll if roll < customer_permille => "Customer - Direct",
                roll if roll < customer_permille + 30 => "Partner",
                _ => "Prospect",
            };
            let owner = if rng.random_bool(0.02) {
                "Integration User"
            } else {
                pick(rng, OWNERS[country.team])
            };
            let mut technologies: Vec<&str> = Vec::new();
            let wanted = rng.random_range(2..=7);
            while technologies.len() < wanted {
                let technology = weighted_by(rng, TECHNOLOGIES, |entry| entry.1).0;
                if !technologies.contains(&technology) {
                    technologies.push(technology);
                }
            }
            let tier_one = (employees >= 2000 && rng.random_bool(0.6)) || rng.random_bool(0.08);
            self.accounts.push(Account {
                id: salesforce_id("001", ids.next(rng)),
                name,
                brand,
                website,
                domain,
                country,
                industry,
                employees,
                employees_text,
                revenue,
                account_type,
                owner,
                parent,
                technologies: technologies.join(";"),
                contacts: 0..0,
                cycles: Vec::new(),
                tier_one,
            });
            if parent.is_none() && employees >= 1000 {
                groups.push(number);
            }
        }
    }

    fn add_contacts(&mut self, rng: &mut StdRng, emails: &mut HashSet<String>) {
        let mut ids = IdSequence::new(rng);
        for index in 0..self.accounts.len() {
            let account = &self.accounts[index];
            let country = account.country;
            let range = match account.employees {
                0..50 => 2..=3,
                50..200 => 2..=5,
                200..1000 => 3..=7,
                1000..5000 => 4..=9,
                _ => 6..=12,
            };
            let mut count: usize = rng.random_range(range);
            if account.customer() {
                count = (count + 2).min(12);
            }
            let start = self.contacts.len();
            for _ in 0..count {
                let (first, last) = person_name(rng, country);
                let host = if rng.random_bool(0.07) {
                    format!("{}.{}", country.subdomain, account.domain)
                } else {
                    account.domain.clone()
                };
                let local = email_local(rng, first, last);
                let email = unique_email(rng, emails, &local, &host);
                let title = if !country.titles.is_empty() && rng.random_bool(0.3) {
                    pick(rng, country.titles)
                } else {
                    pick(rng, TITLES)
                };
                let lawful_basis = match (country.gdpr, rng.random_range(0..100)) {
                    (true, 0..55) | (false, 0..25) => "Legitimate Interest",
                    (true, 55..90) | (false, 25..35) => "Consent",
                    _ => "",
                };
                self.contacts.push(Contact {
                    id: salesforce_id("003", ids.next(rng)),
                    account: index,
                    first,
                    last,
                    email,
                    title,
                    opted_out: rng.random_bool(0.04),
                    lawful_basis,
                });
            }
            self.accounts[index].contacts = start..self.contacts.len();
        }
    }

    /// Buying cycles (current and past) and the opportunities they lead to; every customer
    /// has a closed-won deal from the last eighteen months.
    fn add_cycles_and_deals(&mut self, rng: &mut StdRng) {
        let today = self.today;
        let mut ids = IdSequence::new(rng);
        for index in 0..self.accounts.len() {
            let account = &self.accounts[index];
            let contacts = account.contacts.clone();
            let customer = account.customer();
            let partner = account.account_type == "Partner";
            let employees = account.employees;
            let propensity = propensity(employees, account.industry);
            let mut cycles = Vec::new();
            let mut deals: Vec<(i64, i64, &'static str, bool)> = Vec::new(); // created, close, kind, won
            if customer {
                let length = rng.random_range(20..=180);
                let created = today - rng.random_range(length + 1..=540);
                let close = created + length;
                let burst = rng.random_range(4..=10) * 7;
                let start = created - rng.random_range(14..=burst / 2);
                cycles.push(Cycle {
                    start,
                    end: start + burst,
                    close: Some(close),
                    buyers: buyers(rng, contacts.clone()),
                });
                deals.push((created, close, "New Business", true));
                // Customers come back for more at a steady rate over their life with us.
                let from = (close + 30).max(today - 365);
                let mut start = from + exponential_days(rng, 365.0 / 0.2);
                while start < today - 7 {
                    let end = start + rng.random_range(4..=10) * 7;
                    cycles.push(Cycle {
                        start,
                        end,
                        close: None,
                        buyers: buyers(rng, contacts.clone()),
                    });
                    if rng.random_bool(0.5) {
                        let created = (start + rng.random_range(7..=28)).min(today - 1);
                        deals.push(past_or_open(rng, created, today, "Expansion"));
                    }
                    start = end + exponential_days(rng, 365.0 / 0.2);
                }
            } else if !partner {
                // Buying cycles start at a steady rate through the year (the history is
                // stationary: a backtest at any date sees the same kind of market); about a
                // third turn into an opportunity, created a few weeks into the cycle.
                let rate = 0.12 * propensity;
                let mut start = today - 365 - 70 + exponential_days(rng, 365.0 / rate);
                while start < today - 7 {
                    let end = start + rng.random_range(4..=10) * 7;
                    cycles.push(Cycle {
                        start,
                        end,
                        close: None,
                        buyers: buyers(rng, contacts.clone()),
                    });
                    if rng.random_bool(0.3) {
                        let created = (start + rng.random_range(14..=(end - start))).min(today - 1);
                        deals.push(past_or_open(rng, created, today, "New Business"));
                    }
                    start = end + exponential_days(rng, 365.0 / rate);
                }
            }
            for (created, close, kind, won) in deals {
                let open = close == 0;
                let (stage, close) = if open {
                    let age = today - created;
                    let stage = match age {
                        0..14 => pick(rng, &["Prospecting", "Qualification"]),
                        14..40 => pick(rng, &["Discovery", "Proposal"]),
                        _ => pick(rng, &["Proposal", "Negotiation"]),
                    };
                    let expected = created + rng.random_range(30..=150);
                    (stage, expected.max(today + rng.random_range(7..=60)))
                } else if won {
                    ("Closed Won", close)
                } else {
                    ("Closed Lost", close)
                };
                let mut amount = deal_amount(rng, employees);
                if kind == "Expansion" {
                    amount = (amount * rng.random_range(3..=6) / 10).max(5_000) / 500 * 500;
                }
                let name = format!(
                    "{} - {}",
                    if rng.random_bool(0.3) {
                        &self.accounts[index].name
                    } else {
                        &self.accounts[index].brand
                    },
                    if kind == "Expansion" {
                        pick(rng, &["Expansion", "Add-on: Intent Data", "Upsell"])
                    } else {
                        pick(rng, &["New Business", "Platform", "Intent + Scoring"])
                    }
                );
                self.opportunities.push(Opportunity {
                    id: salesforce_id("006", ids.next(rng)),
                    account: index,
                    name,
                    stage,
                    amount,
                    created,
                    created_at_hour: rng.random_bool(0.25).then(|| rng.random_range(8..=18)),
                    close,
                    closed: !open,
                    won,
                });
            }
            self.accounts[index].cycles = cycles;
        }
    }

    /// Companies that are not in the CRM: startups and others that show up in leads, intent
    /// and anonymous visits, and never match an account.
    fn add_unknown_companies(&mut self, rng: &mut StdRng, domains: &mut Domains) {
        let count = self.accounts.len() / 4 + 10;
        while self.unknown.len() < count {
            let word = format!(
                "{}{}",
                pick(rng, PREFIXES).to_ascii_lowercase(),
                pick(rng, CORES)
            );
            let (name, domain) = match rng.random_range(0..6) {
                0 => (capitalise(&word), format!("get{word}.io")),
                1 => (format!("{} HQ", capitalise(&word)), format!("{word}hq.com")),
                2 => (capitalise(&word), format!("try{word}.app")),
                3 => (format!("{} AI", capitalise(&word)), format!("{word}.ai")),
                4 => {
                    let other = pick(rng, SECONDS).to_ascii_lowercase();
                    (
                        format!("{} {}", capitalise(&word), capitalise(&other)),
                        format!("{word}-{other}.io"),
                    )
                }
                _ => (
                    format!("{} Studio", capitalise(&word)),
                    format!("startup-{word}.io"),
                ),
            };
            if domains.claim(&domain) {
                self.unknown.push((name, domain));
                continue;
            }
            // The word lists run out in very large worlds: number the name (always new).
            let (label, tld) = domain.split_once('.').unwrap_or((&domain, "io"));
            let numbered = format!("{label}{}.{tld}", self.unknown.len());
            if domains.claim(&numbered) {
                self.unknown
                    .push((format!("{name} {}", self.unknown.len()), numbered));
            }
        }
    }

    fn add_leads(&mut self, rng: &mut StdRng, emails: &mut HashSet<String>) {
        let count = (self.accounts.len() * 3).div_ceil(5);
        let engaged: Vec<usize> = (0..self.accounts.len())
            .filter(|index| !self.accounts[*index].cycles.is_empty())
            .collect();
        let mut record_id = 51_000_000 + rng.random_range(0..1_000_000u64);
        for _ in 0..count {
            record_id += rng.random_range(1..=97);
            let account = if !engaged.is_empty() && rng.random_bool(0.35) {
                pick(rng, &engaged)
            } else {
                rng.random_range(0..self.accounts.len())
            };
            let roll = rng.random_range(0..100);
            let kind = match roll {
                0..65 => LeadKind::Work(account),
                65..80 => LeadKind::FreeMail(rng.random_bool(0.5).then_some(account)),
                _ => LeadKind::Unknown(rng.random_range(0..self.unknown.len())),
            };
            let country = match kind {
                LeadKind::Work(account) | LeadKind::FreeMail(Some(account)) => {
                    self.accounts[account].country
                }
                _ => weighted_by(rng, COUNTRIES, |country| country.weight),
            };
            let (first, last) = person_name(rng, country);
            let (email, company, website) = match kind {
                LeadKind::Work(account) => {
                    let account = &self.accounts[account];
                    let local = email_local(rng, first, last);
                    let email = unique_email(rng, emails, &local, &account.domain);
                    let company = match rng.random_range(0..10) {
                        0 => account.brand.to_lowercase(),
                        1..5 => account.brand.clone(),
                        _ => account.name.clone(),
                    };
                    let website = if rng.random_bool(0.5) {
                        account.website.clone()
                    } else {
                        String::new()
                    };
                    (email, company, website)
                }
                LeadKind::FreeMail(account) => {
                    let local = match rng.random_range(0..3) {
                        0 => format!(
                            "{}.{}{}",
                            ascii(first),
                            ascii(last),
                            rng.random_range(1..99)
                        ),
                        1 => format!(
                            "{}{}{}",
                            ascii(first),
                            ascii(last),
                            rng.random_range(1960..2004)
                        ),
                        _ => format!("{}_{}", ascii(first), ascii(last)),
                    };
                    let host = pick(rng, FREE_MAIL);
                    let email = unique_email(rng, emails, &local, host);
                    match account {
                        Some(account) => {
                            let account = &self.accounts[account];
                            (email, account.brand.clone(), account.website.clone())
                        }
                        None => (email, String::new(), String::new()),
                    }
                }
                LeadKind::Unknown(company) => {
                    let (name, domain) = &self.unknown[company];
                    let local = email_local(rng, first, last);
                    let email = unique_email(rng, emails, &local, domain);
                    let website = if rng.random_bool(0.5) {
                        format!("https://{domain}")
                    } else {
                        String::new()
                    };
                    (email, name.clone(), website)
                }
            };
            self.leads.push(Lead {
                record_id,
                first,
                last,
                email,
                title: if rng.random_bool(0.15) {
                    ""
                } else {
                    pick(rng, TITLES)
                },
                company,
                website,
                country: if rng.random_bool(0.1) {
                    ""
                } else {
                    country.name
                },
                stage: weighted_by(rng, LIFECYCLE_STAGES, |entry| entry.1).0,
                kind,
            });
        }
        // Newsletter subscribers with free mail who never filled in a form.
        for number in 0..self.accounts.len() / 10 + 2 {
            let country = weighted_by(rng, COUNTRIES, |country| country.weight);
            let (first, last) = person_name(rng, country);
            let local = format!("{}{}{number}", ascii(first), ascii(last));
            let host = pick(rng, FREE_MAIL);
            let email = unique_email(rng, emails, &local, host);
            self.extra_emails.push(email);
        }
        let quiet = (0..self.accounts.len())
            .find(|index| {
                let account = &self.accounts[*index];
                account.cycles.is_empty() && account.account_type == "Prospect"
            })
            .unwrap_or(0);
        if let Some(account) = self.accounts.get(quiet) {
            self.bot_email = unique_email(rng, emails, "it-security-scan", &account.domain);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Writing the files
// ---------------------------------------------------------------------------------------------

/// A CSV writer that quotes a field when it contains a comma, a quote or a line break. A row
/// is assembled in memory and written at its end (fewer, larger writes: this matters in
/// unoptimised builds, where the demo is often run).
struct Csv {
    out: BufWriter<File>,
    row: String,
    first: bool,
}

impl Csv {
    fn new(out: BufWriter<File>) -> Self {
        Csv {
            out,
            row: String::with_capacity(512),
            first: true,
        }
    }

    fn separate(&mut self) {
        if !self.first {
            self.row.push(',');
        }
        self.first = false;
    }

    fn field(&mut self, value: &str) {
        self.separate();
        if needs_quotes(value) {
            self.row.push('"');
            self.row.push_str(&value.replace('"', "\"\""));
            self.row.push('"');
        } else {
            self.row.push_str(value);
        }
    }

    /// Text known never to need quoting (identifiers, addresses, URLs without commas).
    fn raw(&mut self, value: &str) {
        self.separate();
        self.row.push_str(value);
    }

    /// A value whose text never needs quoting (numbers, dates, identifiers).
    fn plain(&mut self, value: impl fmt::Display) {
        self.separate();
        // Writing into a String cannot fail.
        let _ = fmt::Write::write_fmt(&mut self.row, format_args!("{value}"));
    }

    fn end(&mut self) -> std::io::Result<()> {
        self.row.push('\n');
        self.first = true;
        let written = self.out.write_all(self.row.as_bytes());
        self.row.clear();
        written
    }
}

fn needs_quotes(value: &str) -> bool {
    let bytes = value.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        if matches!(bytes[index], b',' | b'"' | b'\n' | b'\r') {
            return true;
        }
        index += 1;
    }
    false
}

fn flag(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}

fn segment(employees: u64) -> &'static str {
    match employees {
        0..200 => "SMB",
        200..2000 => "Mid-Market",
        _ => "Enterprise",
    }
}

fn write_accounts(world: &World, csv: &mut Csv) -> std::io::Result<()> {
    for account in &world.accounts {
        csv.field(&account.id);
        csv.field(&account.name);
        csv.field(&account.website);
        csv.field(account.industry);
        csv.field(&account.employees_text);
        csv.field(&account.revenue);
        csv.field(account.country.name);
        csv.field(account.account_type);
        csv.field(account.owner);
        csv.field(
            account
                .parent
                .map_or("", |parent| &world.accounts[parent].id),
        );
        csv.field(&account.technologies);
        csv.field(segment(account.employees));
        csv.end()?;
    }
    Ok(())
}

fn write_contacts(world: &World, csv: &mut Csv) -> std::io::Result<()> {
    for contact in &world.contacts {
        csv.field(&contact.id);
        csv.field(&world.accounts[contact.account].id);
        csv.field(contact.first);
        csv.field(contact.last);
        csv.field(&contact.email);
        csv.field(contact.title);
        csv.field(flag(contact.opted_out));
        csv.field(contact.lawful_basis);
        csv.end()?;
    }
    Ok(())
}

fn write_leads(world: &World, csv: &mut Csv) -> std::io::Result<()> {
    for lead in &world.leads {
        csv.plain(lead.record_id);
        csv.field(lead.first);
        csv.field(lead.last);
        csv.field(&lead.email);
        csv.field(lead.title);
        csv.field(&lead.company);
        csv.field(&lead.website);
        csv.field(lead.country);
        csv.field(lead.stage);
        csv.end()?;
    }
    Ok(())
}

fn write_opportunities(world: &World, csv: &mut Csv) -> std::io::Result<()> {
    for opportunity in &world.opportunities {
        csv.field(&opportunity.id);
        csv.field(&world.accounts[opportunity.account].id);
        csv.field(&opportunity.name);
        csv.field(opportunity.stage);
        csv.plain(opportunity.amount);
        match opportunity.created_at_hour {
            Some(hour) => csv.plain(format_args!(
                "{}T{hour:02}:00:00.000Z",
                CivilDay(opportunity.created)
            )),
            None => csv.plain(CivilDay(opportunity.created)),
        }
        csv.plain(CivilDay(opportunity.close));
        csv.field(flag(opportunity.closed));
        csv.field(flag(opportunity.won));
        csv.end()?;
    }
    Ok(())
}

/// Twelve weekly Bombora rows per researched topic, Mondays before today. In-market accounts
/// surge (60 and above) on the topics of their buying cycle for consecutive weeks; others
/// research lightly; a share of rows is about companies not in the CRM.
fn write_intent(world: &World, csv: &mut Csv) -> std::io::Result<()> {
    let rng = &mut stream(world.seed, 6);
    let latest = monday_on_or_before(world.today - 1);
    // A year of weekly files, as a team that imports its provider's file every week has.
    let weeks: Vec<i64> = (0..52).rev().map(|back| latest - 7 * back).collect();
    // (week index, company, topic, score); company indexes accounts, then unknown companies.
    let mut rows: Vec<IntentRow> = Vec::new();
    let first_week = weeks.first().copied().unwrap_or(world.today);
    for (index, account) in world.accounts.iter().enumerate() {
        // The surge starts a couple of weeks before people show up on the website.
        let surges: Vec<(i64, i64)> = account
            .cycles
            .iter()
            .map(|cycle| (cycle.start - 14, cycle.end))
            .filter(|(from, to)| *to > first_week && *from < world.today)
            .collect();
        if !surges.is_empty() || rng.random_bool(0.24) {
            research(rng, &mut rows, &weeks, index as u32, &surges);
        }
    }
    let known_rows = rows.len();
    let mut company = 0;
    while rows.len() < known_rows + known_rows / 19 && company < world.unknown.len() {
        let company_index = (world.accounts.len() + company) as u32;
        research(rng, &mut rows, &weeks, company_index, &[]);
        company += 1;
    }
    let domain_of = |company: u32| company_of(world, company);
    rows.sort_by(|left, right| {
        (left.0, domain_of(left.1).1, left.2).cmp(&(right.0, domain_of(right.1).1, right.2))
    });
    for (week, company, topic, score) in rows {
        let (name, domain) = domain_of(company);
        csv.field(name);
        csv.field(domain);
        csv.field(TOPICS[usize::from(topic)]);
        csv.plain(score);
        csv.plain(CivilDay(weeks[usize::from(week)]));
        csv.end()?;
    }
    Ok(())
}

/// (week index, company, topic, score) of an intent row; companies are the accounts, then
/// the unknown companies.
type IntentRow = (u8, u32, u8, u8);

/// One company's research over the weeks: 1–4 topics; within its surge windows, the first
/// topic (one of ours) and perhaps others score 60 and above in every week they cover.
fn research(
    rng: &mut StdRng,
    rows: &mut Vec<IntentRow>,
    weeks: &[i64],
    company: u32,
    surges: &[(i64, i64)],
) {
    let mut topics: Vec<u8> = Vec::new();
    let wanted = rng.random_range(1..=4);
    if !surges.is_empty() {
        topics.push(pick(rng, CORE_TOPICS));
    }
    while topics.len() < wanted {
        let topic = rng.random_range(0..TOPICS.len() as u8);
        if !topics.contains(&topic) {
            topics.push(topic);
        }
    }
    for (position, topic) in topics.iter().enumerate() {
        let surging_topic = !surges.is_empty() && (position == 0 || rng.random_bool(0.5));
        for (week, monday) in weeks.iter().enumerate() {
            let surging = surging_topic
                && surges
                    .iter()
                    .any(|(from, to)| *monday + 7 > *from && *monday < *to);
            let score = if surging {
                60 + (rng.random_range(0..=40) + rng.random_range(0..=40)) / 2
            } else if rng.random_bool(0.45) {
                let score = 30 + (rng.random_range(0..=40) + rng.random_range(0..=20)) / 2;
                if rng.random_bool(0.05) {
                    score + 25
                } else {
                    score
                }
            } else {
                continue;
            };
            rows.push((week as u8, company, *topic, score.min(100)));
        }
    }
}

/// The (name, domain) of an intent row's company.
fn company_of(world: &World, company: u32) -> (&str, &str) {
    let company = company as usize;
    match world.accounts.get(company) {
        Some(account) => (&account.brand, &account.domain),
        None => {
            let (name, domain) = &world.unknown[company - world.accounts.len()];
            (name, domain)
        }
    }
}

#[derive(Clone, Copy)]
enum Who {
    Contact(u32),
    Lead(u32),
    Extra(u32),
    Bot,
    /// No person: only the company's domain is known (reverse IP, company-level ads).
    Nobody,
}

#[derive(Clone, Copy)]
enum Org {
    Account(u32),
    Unknown(u32),
    None,
}

/// One activity before it is written; strings are looked up from the world at write time.
#[derive(Clone, Copy)]
struct Act {
    at: i64,
    kind: u8,
    who: Who,
    org: Org,
    page: u8,
    utm: u8,
    topic: u8,
    campaign: u8,
    channel: u8,
}

const NO_PAGE: u8 = u8::MAX;
const NO_TOPIC: u8 = u8::MAX;
const NO_CAMPAIGN: u8 = u8::MAX;

struct Timeline {
    acts: Vec<Act>,
    /// [start, end) in seconds: the year before today.
    start: i64,
    end: i64,
}

impl Timeline {
    fn push(&mut self, act: Act) {
        if act.at >= self.start && act.at < self.end {
            self.acts.push(act);
        }
    }

    /// One activity of `kind`, its page, campaign, topic and channel chosen to fit; a page
    /// view is a session of a few pages.
    fn add(&mut self, rng: &mut StdRng, at: i64, kind: u8, who: Who, org: Org, stage: u8) {
        let mut act = Act {
            at,
            kind,
            who,
            org,
            page: NO_PAGE,
            utm: 0,
            topic: NO_TOPIC,
            campaign: NO_CAMPAIGN,
            channel: CH_WEB,
        };
        let campaign = |rng: &mut StdRng, list: &[u8]| pick(rng, list);
        match kind {
            PAGE_VIEW => {
                act.page = page_for(rng, stage);
                if rng.random_bool(0.12) {
                    act.utm = rng.random_range(1..UTMS.len() as u8);
                    act.campaign = UTMS[usize::from(act.utm)].1.unwrap_or(NO_CAMPAIGN);
                    act.channel = UTMS[usize::from(act.utm)].2;
                }
            }
            EMAIL_SENT | EMAIL_OPEN | EMAIL_CLICK => {
                act.channel = CH_EMAIL;
                act.campaign = campaign(
                    rng,
                    if stage == 3 {
                        CUSTOMER_CAMPAIGNS
                    } else {
                        NURTURE_CAMPAIGNS
                    },
                );
                if kind == EMAIL_CLICK {
                    act.page = page_for(rng, stage);
                    act.utm = 2;
                }
            }
            EMAIL_REPLY => {
                act.channel = CH_EMAIL;
                if rng.random_bool(0.6) {
                    act.campaign = 16;
                }
            }
            FORM_FILL => {
                act.page = if stage >= 1 {
                    pick(rng, &[PAGE_DEMO, PAGE_CONTACT_SALES, PAGE_DEMO])
                } else {
                    pick(rng, RESOURCE_PAGES)
                };
                if act.page != PAGE_DEMO && act.page != PAGE_CONTACT_SALES {
                    act.campaign = 15;
                }
            }
            CONTENT_DOWNLOAD => {
                act.page = pick(rng, RESOURCE_PAGES);
                if rng.random_bool(0.5) {
                    act.campaign = 15;
                }
            }
            AD_IMPRESSION | AD_CLICK => {
                act.channel = CH_PAID_SOCIAL;
                act.campaign = campaign(rng, AD_CAMPAIGNS);
                if kind == AD_CLICK {
                    act.page = page_for(rng, 1);
                    act.utm = 1;
                }
            }
            WEBINAR_REGISTERED | WEBINAR_ATTENDED => {
                act.channel = CH_EVENTS;
                act.campaign = campaign(rng, &[2, 2, 3]);
                act.page = PAGE_WEBINAR;
            }
            MEETING_HELD | CALL => {
                act.channel = CH_SALES;
                if kind == MEETING_HELD && rng.random_bool(0.1) {
                    act.channel = CH_EVENTS;
                    act.campaign = campaign(rng, EVENT_CAMPAIGNS);
                }
            }
            CHAT => act.page = page_for(rng, stage.max(1)),
            TRIAL_SIGNUP => act.page = PAGE_SIGNUP,
            DIRECT_MAIL => {
                act.channel = CH_DIRECT_MAIL;
                act.campaign = 13;
            }
            _ => {}
        }
        act.topic = if act.page != NO_PAGE {
            PAGES[usize::from(act.page)].1.unwrap_or(NO_TOPIC)
        } else if act.campaign != NO_CAMPAIGN {
            CAMPAIGNS[usize::from(act.campaign)].1.unwrap_or(NO_TOPIC)
        } else {
            NO_TOPIC
        };
        if act.topic != NO_TOPIC && rng.random_bool(0.3) {
            act.topic = NO_TOPIC; // not every tool records a topic
        }
        self.push(act);
        if kind == PAGE_VIEW {
            let mut at = at;
            for _ in 0..rng.random_range(0..=3) {
                at += rng.random_range(8..=240);
                let page = page_for(rng, stage);
                self.push(Act {
                    at,
                    page,
                    topic: PAGES[usize::from(page)].1.unwrap_or(NO_TOPIC),
                    utm: 0,
                    ..act
                });
            }
        }
    }

    /// A marketing email to a person: sent, perhaps opened, perhaps clicked and visited.
    fn email(&mut self, rng: &mut StdRng, at: i64, who: Who, stage: u8) {
        let campaign = pick(
            rng,
            if stage == 3 {
                CUSTOMER_CAMPAIGNS
            } else {
                NURTURE_CAMPAIGNS
            },
        );
        let act = Act {
            at,
            kind: EMAIL_SENT,
            who,
            org: Org::None,
            page: NO_PAGE,
            utm: 0,
            topic: NO_TOPIC,
            campaign,
            channel: CH_EMAIL,
        };
        self.push(act);
        if rng.random_bool(0.32) {
            let opened = at + rng.random_range(300..=2 * DAY);
            self.push(Act {
                at: opened,
                kind: EMAIL_OPEN,
                ..act
            });
            if rng.random_bool(0.2) {
                let clicked = opened + rng.random_range(5..=600);
                let page = page_for(rng, stage);
                self.push(Act {
                    at: clicked,
                    kind: EMAIL_CLICK,
                    page,
                    utm: 2,
                    topic: CAMPAIGNS[usize::from(campaign)].1.unwrap_or(NO_TOPIC),
                    ..act
                });
                if rng.random_bool(0.6) {
                    let visit = clicked + rng.random_range(2..=30);
                    self.add(rng, visit, PAGE_VIEW, who, Org::None, stage);
                }
            } else if rng.random_bool(0.02) {
                let reply = opened + rng.random_range(60..=DAY);
                self.add(rng, reply, EMAIL_REPLY, who, Org::None, stage);
            }
        }
    }
}

fn page_for(rng: &mut StdRng, stage: u8) -> u8 {
    let stage = if rng.random_bool(0.2) {
        rng.random_range(0..=2)
    } else {
        stage
    };
    loop {
        let page = rng.random_range(0..PAGES.len() as u8);
        if PAGES[usize::from(page)].2 == stage {
            return page;
        }
    }
}

/// A time of day on `day`, mostly in the account's working hours, as seconds since epoch.
fn work_time(rng: &mut StdRng, day: i64, country: &Country) -> i64 {
    let hour = match rng.random_range(0..100) {
        0..75 => rng.random_range(8..18),
        75..92 => rng.random_range(18..23),
        _ => rng.random_range(0..24),
    };
    day * DAY + (hour - country.utc_offset) * 3600 + rng.random_range(0..3600)
}

/// A moment on a day in [from, to), mostly a weekday in working hours.
fn work_moment(rng: &mut StdRng, from: i64, to: i64, country: &Country) -> i64 {
    let day = work_day(rng, from, to);
    work_time(rng, day, country)
}

/// A day in [from, to), mostly a weekday.
fn work_day(rng: &mut StdRng, from: i64, to: i64) -> i64 {
    let to = to.max(from + 1);
    let mut day = rng.random_range(from..to);
    for _ in 0..3 {
        if weekday(day) < 5 || rng.random_bool(0.15) {
            break;
        }
        day = rng.random_range(from..to);
    }
    day
}

/// A year of activity ending at today, sorted by time.
fn activities(world: &World) -> Vec<Act> {
    let rng = &mut stream(world.seed, 7);
    let year_start = world.today - 365;
    let mut line = Timeline {
        acts: Vec::with_capacity(world.accounts.len() * 45),
        start: year_start * DAY,
        end: world.today * DAY,
    };
    for (index, account) in world.accounts.iter().enumerate() {
        let org = Org::Account(index as u32);
        let country = account.country;
        let contacts = account.contacts.clone();
        // Anonymous visits from the company's network (reverse IP): most accounts, a few.
        let sessions =
            (log_normal(rng, 1.0, 1.0) * (account.employees as f64).log10() / 2.5) as usize;
        for _ in 0..sessions.min(60) {
            let at = work_moment(rng, year_start, world.today, country);
            line.add(rng, at, PAGE_VIEW, Who::Nobody, org, 0);
        }
        // Company-level ads for the tier-one list.
        if account.tier_one {
            for _ in 0..rng.random_range(2..=10) {
                let at = work_moment(rng, year_start, world.today, country);
                let kind = if rng.random_bool(0.12) {
                    AD_CLICK
                } else {
                    AD_IMPRESSION
                };
                line.add(rng, at, kind, Who::Nobody, org, 0);
            }
        }
        // Nurture emails to the people we may email.
        let stage = if account.customer() { 3 } else { 0 };
        for contact in contacts.clone() {
            if world.contacts[contact].opted_out {
                continue;
            }
            let sends = match rng.random_range(0..10) {
                0..4 => 0,
                4..7 => 1,
                7..9 => 2,
                _ => rng.random_range(3..=6),
            };
            for _ in 0..sends {
                let at = work_moment(rng, year_start, world.today, country);
                line.email(rng, at, Who::Contact(contact as u32), stage);
            }
        }
        // A known person browsing now and then.
        if rng.random_bool(0.35) {
            let contact = rng.random_range(contacts.clone());
            let at = work_moment(rng, year_start, world.today, country);
            line.add(
                rng,
                at,
                PAGE_VIEW,
                Who::Contact(contact as u32),
                Org::None,
                stage,
            );
        }
        for cycle in &account.cycles {
            buying_cycle(rng, &mut line, world, index, cycle);
        }
        if account.customer() {
            customer_life(rng, &mut line, world, index);
        }
    }
    // Leads: the form fill that made them, a visit before, emails after.
    for (number, lead) in world.leads.iter().enumerate() {
        let who = Who::Lead(number as u32);
        let day = work_day(rng, year_start, world.today);
        let at = day * DAY + rng.random_range(6..22) * 3600 + rng.random_range(0..3600);
        let visit = at - rng.random_range(30..=900);
        line.add(rng, visit, PAGE_VIEW, who, Org::None, 0);
        line.add(rng, at, FORM_FILL, who, Org::None, 0);
        // People with a work address come back more than free-mail sign-ups do.
        let returns = match lead.kind {
            LeadKind::Work(_) => rng.random_range(0..=3),
            LeadKind::FreeMail(_) | LeadKind::Unknown(_) => rng.random_range(0..=1),
        };
        for _ in 0..returns {
            let back = at + rng.random_range(DAY..=90 * DAY);
            line.add(rng, back, PAGE_VIEW, who, Org::None, 1);
        }
        for _ in 0..rng.random_range(0..=2) {
            let later = at + rng.random_range(DAY..=60 * DAY);
            line.email(rng, later, who, 0);
        }
    }
    // Noise: free-mail newsletter readers and visits from networks of unknown companies.
    for number in 0..world.extra_emails.len() {
        let who = Who::Extra(number as u32);
        for _ in 0..rng.random_range(1..=6) {
            let at = rng.random_range(line.start..line.end);
            if rng.random_bool(0.5) {
                line.email(rng, at, who, 0);
            } else {
                line.add(rng, at, PAGE_VIEW, who, Org::None, 0);
            }
        }
    }
    for company in 0..world.unknown.len() {
        for _ in 0..rng.random_range(1..=8) {
            let at = rng.random_range(line.start..line.end);
            line.add(
                rng,
                at,
                PAGE_VIEW,
                Who::Nobody,
                Org::Unknown(company as u32),
                0,
            );
        }
    }
    // A bot: 200 page views within one minute, with an address at a quiet prospect's domain
    // (it resolves to that account by domain, and should not make it look in market).
    if !world.bot_email.is_empty() {
        let at = rng.random_range(line.start..line.end - 3600);
        for number in 0..200 {
            line.push(Act {
                at: at + number * 3 / 10,
                kind: PAGE_VIEW,
                who: Who::Bot,
                org: Org::None,
                page: (number % PAGES.len() as i64) as u8,
                utm: 0,
                topic: NO_TOPIC,
                campaign: NO_CAMPAIGN,
                channel: CH_WEB,
            });
        }
    }
    sort_by_time(line.acts, line.start)
}

/// Sorts activities by time, stably, in linear time: a radix sort on the second within the
/// year, in two passes of 13 bits (a comparison sort is slow in unoptimised builds, where
/// the demo often runs). Every activity is at or after `start` and less than 2^26 s later.
fn sort_by_time(acts: Vec<Act>, start: i64) -> Vec<Act> {
    const BITS: u32 = 13;
    const MASK: u64 = (1 << BITS) - 1;
    let mut from = acts;
    let mut to = from.clone();
    for pass in 0..2 {
        let bucket = |act: &Act| (((act.at - start) as u64 >> (pass * BITS)) & MASK) as usize;
        let mut offsets = vec![0usize; 1 << BITS];
        for act in &from {
            offsets[bucket(act)] += 1;
        }
        let mut sum = 0;
        for offset in &mut offsets {
            let count = *offset;
            *offset = sum;
            sum += count;
        }
        for act in &from {
            let slot = &mut offsets[bucket(act)];
            to[*slot] = *act;
            *slot += 1;
        }
        std::mem::swap(&mut from, &mut to);
    }
    from
}

/// A buying cycle: several people over weeks, early research to late-stage meetings, plus
/// anonymous research from the company's network; for a won deal, sales meetings until it
/// closes.
fn buying_cycle(
    rng: &mut StdRng,
    line: &mut Timeline,
    world: &World,
    account: usize,
    cycle: &Cycle,
) {
    let country = world.accounts[account].country;
    let org = Org::Account(account as u32);
    let length = (cycle.end - cycle.start).max(7);
    for buyer in &cycle.buyers {
        let who = Who::Contact(*buyer as u32);
        let engagement = rng.random_range(0.5..=2.0);
        let count = (length as f64 / 7.0 * engagement * 1.3) as usize + 1;
        for _ in 0..count {
            let day = work_day(rng, cycle.start, cycle.end);
            let phase = (3 * (day - cycle.start) / length).clamp(0, 2) as usize;
            let kind = weighted_by(rng, PHASE_KINDS[phase], |entry| entry.1).0;
            let at = work_time(rng, day, country);
            line.add(rng, at, kind, who, Org::None, phase as u8);
        }
    }
    // The dark funnel: anonymous research, mostly early.
    for _ in 0..(length / 4) as usize {
        let day = work_day(rng, cycle.start - 14, cycle.start + length / 2);
        let at = work_time(rng, day, country);
        line.add(rng, at, PAGE_VIEW, Who::Nobody, org, 0);
    }
    if let Some(close) = cycle.close {
        let mut day = cycle.end;
        while day < close {
            day += rng.random_range(3..=8);
            if let Some(buyer) = cycle.buyers.choose(rng) {
                let kind = pick(rng, &[MEETING_HELD, CALL, EMAIL_REPLY, MEETING_HELD]);
                let at = work_time(rng, day.min(close), country);
                line.add(rng, at, kind, Who::Contact(*buyer as u32), Org::None, 2);
            }
        }
    }
}

/// After a customer's deal closes: onboarding, product docs, quarterly reviews, webinars.
fn customer_life(rng: &mut StdRng, line: &mut Timeline, world: &World, account: usize) {
    let account_data = &world.accounts[account];
    let Some(close) = account_data.cycles.first().and_then(|cycle| cycle.close) else {
        return;
    };
    let country = account_data.country;
    let contacts = account_data.contacts.clone();
    let months = ((world.today - close) / 30).max(0) as usize;
    for _ in 0..months * 2 {
        let contact = rng.random_range(contacts.clone());
        let who = Who::Contact(contact as u32);
        let day = work_day(rng, close, world.today);
        let kind = pick(
            rng,
            &[
                PAGE_VIEW,
                PAGE_VIEW,
                CHAT,
                MEETING_HELD,
                WEBINAR_ATTENDED,
                EMAIL_REPLY,
            ],
        );
        let at = work_time(rng, day, country);
        line.add(rng, at, kind, who, Org::None, 3);
    }
}

fn write_activities(world: &World, csv: &mut Csv) -> std::io::Result<()> {
    let acts = activities(world);
    let mut url = String::new();
    let (mut day, mut stamp) = (i64::MIN, String::new());
    for (number, act) in acts.iter().enumerate() {
        let number = number as u64 + 1;
        let email_kind = matches!(act.kind, EMAIL_SENT | EMAIL_OPEN | EMAIL_CLICK);
        // Marketing-automation events carry a message id; the others a plain event id.
        if email_kind && mix(world.seed ^ number) & 1 == 0 {
            csv.plain(format_args!(
                "<{}.{:x}.{number}@mail.our-product.com>",
                Compact(act.at),
                mix(world.seed.wrapping_add(number)) & 0xffff_ffff
            ));
        } else {
            csv.plain(format_args!("act-{number:09}"));
        }
        // Rows are in time order: the date part changes rarely.
        if act.at.div_euclid(DAY) != day {
            day = act.at.div_euclid(DAY);
            stamp = format!("{}T", CivilDay(day));
        }
        stamp.truncate(11);
        let second = act.at.rem_euclid(DAY);
        for (value, separator) in [
            (second / 3600, ':'),
            (second / 60 % 60, ':'),
            (second % 60, 'Z'),
        ] {
            stamp.push(char::from(b'0' + (value / 10) as u8));
            stamp.push(char::from(b'0' + (value % 10) as u8));
            stamp.push(separator);
        }
        csv.raw(&stamp);
        csv.raw(KINDS[usize::from(act.kind)]);
        csv.raw(match act.who {
            Who::Contact(index) => &world.contacts[index as usize].email,
            Who::Lead(index) => &world.leads[index as usize].email,
            Who::Bot => &world.bot_email,
            Who::Extra(index) => &world.extra_emails[index as usize],
            Who::Nobody => "",
        });
        csv.raw(match act.org {
            Org::Account(index) => &world.accounts[index as usize].domain,
            Org::Unknown(index) => &world.unknown[index as usize].1,
            Org::None => "",
        });
        url.clear();
        if act.page != NO_PAGE {
            url.push_str("https://www.our-product.com");
            url.push_str(PAGES[usize::from(act.page)].0);
            url.push_str(UTMS[usize::from(act.utm)].0);
        }
        csv.raw(&url);
        csv.raw(if act.topic == NO_TOPIC {
            ""
        } else {
            TOPICS[usize::from(act.topic)]
        });
        csv.field(if act.campaign == NO_CAMPAIGN {
            ""
        } else {
            CAMPAIGNS[usize::from(act.campaign)].0
        });
        csv.raw(CHANNELS[usize::from(act.channel)]);
        csv.end()?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// The registrable domains handed out so far, to companies in the CRM and outside it.
struct Domains {
    taken: HashSet<String>,
    free_mail: abm_core::identity::FreeMailDomains,
}

impl Domains {
    /// Takes `domain` if it is free, is its own registrable domain (as the importer will
    /// read it), and is not a free-mail provider's (`sky.com`, `hey.com`).
    fn claim(&mut self, domain: &str) -> bool {
        let usable = abm_core::Domain::from_host(domain)
            .is_ok_and(|parsed| parsed.as_str() == domain && !self.free_mail.contains(&parsed));
        usable && self.taken.insert(domain.to_owned())
    }
}

/// An independent random stream per part of the world, so one part's changes leave the others
/// as they were.
fn stream(seed: u64, part: u64) -> StdRng {
    StdRng::seed_from_u64(mix(seed ^ part.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
}

/// SplitMix64's finaliser: a well-mixed 64-bit hash of a number.
fn mix(value: u64) -> u64 {
    let mut z = value.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    // Only called with non-empty lists.
    items[rng.random_range(0..items.len())]
}

fn weighted_by<'a, T>(rng: &mut StdRng, items: &'a [T], weight: impl Fn(&T) -> u32) -> &'a T {
    let total: u32 = items.iter().map(&weight).sum();
    let mut roll = rng.random_range(0..total.max(1));
    for item in items {
        let item_weight = weight(item);
        if roll < item_weight {
            return item;
        }
        roll -= item_weight;
    }
    &items[items.len() - 1]
}

fn normal(rng: &mut StdRng) -> f64 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn log_normal(rng: &mut StdRng, median: f64, sigma: f64) -> f64 {
    median * (sigma * normal(rng)).exp()
}

/// `1200` → `1,200`.
fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (position, digit) in digits.chars().enumerate() {
        if position > 0 && (digits.len() - position).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// Lowercase ASCII for an address: accents folded (`ü` → `ue`, `é` → `e`), spaces and
/// apostrophes dropped, hyphens kept.
fn ascii(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            'a'..='z' | '0'..='9' | '-' => out.push(c),
            'ä' | 'æ' => out.push_str("ae"),
            'ö' | 'ø' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            'á' | 'à' | 'â' | 'ã' | 'å' => out.push('a'),
            'é' | 'è' | 'ê' | 'ë' => out.push('e'),
            'í' | 'ì' | 'î' | 'ï' => out.push('i'),
            'ó' | 'ò' | 'ô' | 'õ' => out.push('o'),
            'ú' | 'ù' | 'û' => out.push('u'),
            'ç' => out.push('c'),
            'ñ' => out.push('n'),
            _ => {}
        }
    }
    out
}

fn person_name(rng: &mut StdRng, country: &Country) -> (&'static str, &'static str) {
    let pool = weighted_by(rng, country.people, |entry| entry.1).0;
    (pick(rng, pool.first), pick(rng, pool.last))
}

/// The part before `@` in one of the patterns companies use.
fn email_local(rng: &mut StdRng, first: &str, last: &str) -> String {
    let (first, last) = (ascii(first), ascii(last));
    let initial = |text: &str| text.chars().next().unwrap_or('x');
    match rng.random_range(0..100) {
        0..63 => format!("{first}.{last}"),
        63..80 => format!("{}{last}", initial(&first)),
        80..87 => first,
        87..93 => format!("{first}_{last}"),
        _ => format!("{first}{}", initial(&last)),
    }
}

/// `local@host`, with a number added when the address is taken.
fn unique_email(rng: &mut StdRng, taken: &mut HashSet<String>, local: &str, host: &str) -> String {
    let mut email = format!("{local}@{host}");
    let mut number = rng.random_range(2..5);
    while !taken.insert(email.clone()) {
        email = format!("{local}{number}@{host}");
        number += 1;
    }
    email
}

fn company_tld(rng: &mut StdRng, country: &Country) -> &'static str {
    weighted_by(rng, country.tlds, |entry| entry.1).0
}

/// A brand ("Northwind", "Blue Harbor", "Atlas"), its company name and its domain.
fn company_name(
    rng: &mut StdRng,
    industry: &str,
    suffixes: &[&'static str],
    country: &Country,
) -> (String, String, String) {
    let prefix = pick(rng, PREFIXES);
    let (brand, labels) = match rng.random_range(0..100) {
        0..55 => {
            let brand = format!("{prefix}{}", pick(rng, CORES));
            let slug = ascii(&brand);
            (brand, vec![slug])
        }
        55..85 => {
            let second = pick(rng, SECONDS);
            let brand = format!("{prefix} {second}");
            (
                brand,
                vec![
                    format!("{}{}", ascii(prefix), ascii(second)),
                    format!("{}-{}", ascii(prefix), ascii(second)),
                ],
            )
        }
        _ => (prefix.to_owned(), vec![ascii(prefix)]),
    };
    let suffix = suffixes.choose(rng).copied().unwrap_or("Group");
    let slug = labels[rng.random_range(0..labels.len())].clone();
    if industry == "Government" {
        let (name, label, tld) = match country.name {
            "United States" => match rng.random_range(0..3) {
                0 => (format!("City of {brand}"), format!("cityof{slug}"), "gov"),
                1 => (format!("{brand} County"), format!("{slug}county"), "gov"),
                _ => (
                    format!("{brand} {suffix}"),
                    format!("{slug}{}", ascii(suffix)),
                    "gov",
                ),
            },
            "United Kingdom" => (format!("{brand} City Council"), slug.clone(), "gov.uk"),
            "Australia" => (format!("{brand} {suffix}"), slug.clone(), "gov.au"),
            "India" => (format!("{brand} {suffix}"), slug.clone(), "gov.in"),
            "Germany" => (
                format!("Stadtwerke {brand}"),
                format!("stadtwerke-{slug}"),
                "de",
            ),
            "France" => (format!("Ville de {brand}"), format!("ville-{slug}"), "fr"),
            _ => (
                format!("{brand} {suffix}"),
                format!("{slug}-{}", ascii(suffix)),
                company_tld(rng, country),
            ),
        };
        return (name, brand, format!("{label}.{tld}"));
    }
    if suffix == "University" {
        let tld = match country.name {
            "United States" => "edu",
            "United Kingdom" => "ac.uk",
            "Australia" => "edu.au",
            _ => company_tld(rng, country),
        };
        return (
            format!("{brand} University"),
            brand,
            format!("{slug}.{tld}"),
        );
    }
    let with_suffix = rng.random_bool(0.8);
    let mut name = if with_suffix {
        format!("{brand} {suffix}")
    } else {
        brand.clone()
    };
    if rng.random_bool(0.3) {
        let legal = pick(rng, country.legal);
        if !legal.starts_with(',') {
            name.push(' ');
        }
        name.push_str(legal);
    }
    let label = match rng.random_range(0..10) {
        0..5 => slug,
        5..8 if with_suffix => format!("{slug}-{}", ascii(suffix)),
        8 if with_suffix => format!("{slug}{}", ascii(suffix)),
        8 if country.name == "United States" => format!("get{slug}"),
        _ => slug,
    };
    let tld = company_tld(rng, country);
    (name, brand, format!("{label}.{tld}"))
}

/// A subsidiary shares its parent's brand, with a local legal form and country domain.
fn subsidiary_name(
    rng: &mut StdRng,
    parent: &Account,
    country: &Country,
) -> (String, String, String) {
    let label = parent.domain.split('.').next().unwrap_or(&parent.domain);
    let tld = company_tld(rng, country);
    let legal = pick(rng, country.legal);
    let place = match country.name {
        "United States" => "USA",
        "United Kingdom" => "UK",
        "Germany" => "Deutschland",
        "Netherlands" => "Nederland",
        "Brazil" => "Brasil",
        "Sweden" => "Sverige",
        other => other,
    };
    let name = if legal.starts_with(',') {
        format!("{} {place}{legal}", parent.brand)
    } else {
        format!("{} {place} {legal}", parent.brand)
    };
    let domain = if rng.random_bool(0.5) || parent.domain.ends_with(&format!(".{tld}")) {
        format!("{label}-{}.{tld}", ascii(country.subdomain))
    } else {
        format!("{label}.{tld}")
    };
    (name, parent.brand.clone(), domain)
}

/// The many ways a website is typed into a CRM.
fn website_form(rng: &mut StdRng, domain: &str, country: &Country) -> String {
    match rng.random_range(0..100) {
        0..30 => format!("https://www.{domain}"),
        30..50 => domain.to_owned(),
        50..70 => format!("www.{domain}"),
        70..82 => format!("http://{domain}/{}", country.locale),
        82..90 => format!("https://{domain}/"),
        90..96 => format!("http://www.{domain}"),
        _ => format!("https://www.{domain}/home"),
    }
}

/// How often a company starts a buying cycle, relative to the average: larger companies and
/// the industries closest to the product buy more.
fn propensity(employees: u64, industry: &str) -> f64 {
    let size = match employees {
        0..200 => 0.7,
        200..2000 => 1.1,
        _ => 1.5,
    };
    let fit = if matches!(industry, "Software" | "Financial Services") {
        1.3
    } else {
        1.0
    };
    size * fit
}

/// Days until the next event of a process that happens every `mean` days on average.
fn exponential_days(rng: &mut StdRng, mean: f64) -> i64 {
    let uniform: f64 = rng.random_range(f64::EPSILON..1.0);
    (-uniform.ln() * mean).round() as i64 + 1
}

/// A deal created on `created`: still open when recent, else closed lost after 20–120 days.
fn past_or_open(
    rng: &mut StdRng,
    created: i64,
    today: i64,
    kind: &'static str,
) -> (i64, i64, &'static str, bool) {
    let close = created + rng.random_range(20..=120);
    if close >= today {
        (created, 0, kind, false)
    } else {
        (created, close, kind, false)
    }
}

fn deal_amount(rng: &mut StdRng, employees: u64) -> u64 {
    let size = (employees.max(10) as f64).log10();
    let log_amount = 3.75 + 0.45 * (size - 1.0) + 0.2 * normal(rng);
    let amount = 10f64.powf(log_amount).clamp(5_000.0, 500_000.0) as u64;
    amount / 500 * 500
}

/// 2–6 of the account's people.
fn buyers(rng: &mut StdRng, contacts: Range<usize>) -> Vec<usize> {
    let all: Vec<usize> = contacts.collect();
    let wanted = rng.random_range(2..=6).min(all.len());
    all.choose_multiple(rng, wanted).copied().collect()
}

/// Increasing record numbers with gaps, as a CRM hands them out.
struct IdSequence(u64);

impl IdSequence {
    fn new(rng: &mut StdRng) -> Self {
        IdSequence(62u64.pow(5) * rng.random_range(1..40))
    }

    fn next(&mut self, rng: &mut StdRng) -> u64 {
        self.0 += rng.random_range(1..=40);
        self.0
    }
}

/// An 18-character Salesforce id: key prefix, pod, zeros, base-62 record number, and the
/// three-character case-safe suffix Salesforce computes from the letters' case.
fn salesforce_id(prefix: &str, number: u64) -> String {
    const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    const SUFFIX: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
    let mut id: Vec<u8> = Vec::with_capacity(18);
    id.extend_from_slice(prefix.as_bytes());
    id.extend_from_slice(b"5g0000");
    let mut digits = [b'0'; 6];
    let mut rest = number;
    for digit in digits.iter_mut().rev() {
        *digit = BASE62[(rest % 62) as usize];
        rest /= 62;
    }
    id.extend_from_slice(&digits);
    for chunk in 0..3 {
        let mut bits = 0;
        for position in 0..5 {
            if id[chunk * 5 + position].is_ascii_uppercase() {
                bits |= 1 << position;
            }
        }
        id.push(SUFFIX[bits]);
    }
    String::from_utf8_lossy(&id).into_owned()
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Monday = 0 … Sunday = 6.
fn weekday(days: i64) -> i64 {
    (days + 3).rem_euclid(7)
}

fn monday_on_or_before(days: i64) -> i64 {
    days - weekday(days)
}

/// A day as `YYYY-MM-DD`.
struct CivilDay(i64);

impl fmt::Display for CivilDay {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = civil_from_days(self.0);
        write!(formatter, "{year:04}-{month:02}-{day:02}")
    }
}

/// Seconds since epoch as `YYYYMMDDHHMMSS`, as message ids often begin.
struct Compact(i64);

impl fmt::Display for Compact {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = civil_from_days(self.0.div_euclid(DAY));
        let seconds = self.0.rem_euclid(DAY);
        write!(
            formatter,
            "{year:04}{month:02}{day:02}{:02}{:02}{:02}",
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::collections::HashMap;

    const TODAY: (i16, i8, i8) = (2026, 11, 23);

    fn world(accounts: usize, seed: u64) -> (tempfile::TempDir, WorldFiles) {
        let directory = tempfile::tempdir().unwrap();
        let spec = WorldSpec {
            accounts,
            seed,
            today: jiff::civil::date(TODAY.0, TODAY.1, TODAY.2),
        };
        let files = write_world(&spec, directory.path()).unwrap();
        (directory, files)
    }

    fn all(files: &WorldFiles) -> [&PathBuf; 6] {
        [
            &files.accounts,
            &files.contacts,
            &files.leads,
            &files.opportunities,
            &files.intent,
            &files.activities,
        ]
    }

    /// The file's rows as maps from header to value, read by a real CSV parser.
    fn rows(path: &Path) -> Vec<HashMap<String, String>> {
        let mut reader = csv::Reader::from_path(path).unwrap();
        let headers: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        reader
            .records()
            .map(|record| {
                let record = record.unwrap();
                assert_eq!(record.len(), headers.len(), "{}", path.display());
                headers
                    .iter()
                    .cloned()
                    .zip(record.iter().map(str::to_owned))
                    .collect()
            })
            .collect()
    }

    fn column(rows: &[HashMap<String, String>], name: &str) -> Vec<String> {
        rows.iter().map(|row| row[name].clone()).collect()
    }

    fn assert_unique(values: &[String], what: &str) {
        let mut seen = HashSet::new();
        for value in values {
            assert!(seen.insert(value), "{what}: {value} is repeated");
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_bytes() {
        let (_first, a) = world(200, 7);
        let (_second, b) = world(200, 7);
        let (_third, c) = world(200, 8);
        for (left, right) in all(&a).into_iter().zip(all(&b)) {
            assert_eq!(std::fs::read(left).unwrap(), std::fs::read(right).unwrap());
        }
        for (left, right) in all(&a).into_iter().zip(all(&c)) {
            assert_ne!(std::fs::read(left).unwrap(), std::fs::read(right).unwrap());
        }
    }

    #[test]
    fn headers_are_the_exported_ones() {
        let (_directory, files) = world(200, 7);
        let expected = [
            ACCOUNTS_HEADER,
            CONTACTS_HEADER,
            LEADS_HEADER,
            OPPORTUNITIES_HEADER,
            INTENT_HEADER,
            ACTIVITIES_HEADER,
        ];
        assert_eq!(
            expected,
            [
                "Id,Name,Website,Industry,NumberOfEmployees,AnnualRevenue,BillingCountry,Type,Owner.Name,ParentId,Technologies__c,Segment__c",
                "Id,AccountId,FirstName,LastName,Email,Title,HasOptedOutOfEmail,Lawful_Basis__c",
                "Record ID,First Name,Last Name,Email,Job Title,Company Name,Website URL,Country/Region,Lifecycle Stage",
                "Id,AccountId,Name,StageName,Amount,CreatedDate,CloseDate,IsClosed,IsWon",
                "Company Name,Domain,Topic Name,Composite Score,Date",
                "id,occurred_at,type,email,domain,url,topic,campaign,channel",
            ]
        );
        for (path, header) in all(&files).into_iter().zip(expected) {
            let text = std::fs::read_to_string(path).unwrap();
            assert_eq!(text.lines().next(), Some(header));
            assert!(text.lines().count() > 1, "{} has rows", path.display());
        }
    }

    #[test]
    fn accounts_and_people_are_consistent() {
        let (_directory, files) = world(200, 7);
        let accounts = rows(&files.accounts);
        assert_eq!(accounts.len(), 200);
        let ids = column(&accounts, "Id");
        assert_unique(&ids, "account id");
        assert!(ids.iter().all(|id| id.len() == 18 && id.starts_with("001")));
        // Websites in many forms, one registrable domain each, all different.
        let mut domain_of = HashMap::new();
        for account in &accounts {
            let domain = abm_core::Domain::parse(&account["Website"]).unwrap();
            domain_of.insert(account["Id"].clone(), domain.as_str().to_owned());
        }
        let domains: Vec<String> = domain_of.values().cloned().collect();
        assert_unique(&domains, "account domain");
        for account in &accounts {
            let parent = &account["ParentId"];
            assert!(parent.is_empty() || domain_of.contains_key(parent));
            if !account["NumberOfEmployees"].is_empty() {
                abm_core::parse_count(&account["NumberOfEmployees"]).unwrap();
            }
            let technologies = account["Technologies__c"].split(';').count();
            assert!((2..=7).contains(&technologies));
        }
        assert!(
            accounts
                .iter()
                .any(|account| account["NumberOfEmployees"].contains(','))
        );
        assert!(
            accounts
                .iter()
                .any(|account| account["Type"] == "Customer - Direct")
        );

        let contacts = rows(&files.contacts);
        assert!(contacts.len() >= 2 * 200);
        assert_unique(&column(&contacts, "Id"), "contact id");
        let contact_emails = column(&contacts, "Email");
        assert_unique(&contact_emails, "contact email");
        for contact in &contacts {
            let account_domain = &domain_of[&contact["AccountId"]];
            let email = abm_core::Email::parse(&contact["Email"]).unwrap();
            assert_eq!(email.domain().as_str(), account_domain);
        }

        let leads = rows(&files.leads);
        assert_eq!(leads.len(), 120);
        assert_unique(&column(&leads, "Record ID"), "lead record id");
        let mut lead_emails = column(&leads, "Email");
        for email in &lead_emails {
            abm_core::Email::parse(email).unwrap();
        }
        lead_emails.extend(contact_emails);
        assert_unique(&lead_emails, "lead or contact email");
    }

    #[test]
    fn opportunities_follow_the_calendar() {
        let (_directory, files) = world(200, 7);
        let accounts = rows(&files.accounts);
        let known: HashSet<String> = column(&accounts, "Id").into_iter().collect();
        let opportunities = rows(&files.opportunities);
        assert!(!opportunities.is_empty());
        assert_unique(&column(&opportunities, "Id"), "opportunity id");
        let today = "2026-11-23";
        for opportunity in &opportunities {
            assert!(known.contains(&opportunity["AccountId"]));
            let created = &opportunity["CreatedDate"][..10];
            let close = opportunity["CloseDate"].as_str();
            assert!(created <= close, "{created} closes {close}");
            assert!(created < today);
            let stage = opportunity["StageName"].as_str();
            let (closed, won) = (&opportunity["IsClosed"], &opportunity["IsWon"]);
            match stage {
                "Closed Won" => assert_eq!((closed.as_str(), won.as_str()), ("true", "true")),
                "Closed Lost" => assert_eq!((closed.as_str(), won.as_str()), ("true", "false")),
                _ => assert_eq!((closed.as_str(), won.as_str()), ("false", "false")),
            }
            if closed == "true" {
                assert!(close < today);
            }
            let amount: u64 = opportunity["Amount"].parse().unwrap();
            assert!((5_000..=500_000).contains(&amount));
        }
        // Every customer has won a deal.
        for account in accounts
            .iter()
            .filter(|account| account["Type"] == "Customer - Direct")
        {
            assert!(opportunities.iter().any(|opportunity| {
                opportunity["AccountId"] == account["Id"] && opportunity["IsWon"] == "true"
            }));
        }
    }

    #[test]
    fn intent_and_activities_are_well_formed() {
        let (_directory, files) = world(200, 7);
        let intent = rows(&files.intent);
        let keys: Vec<String> = intent
            .iter()
            .map(|row| format!("{}|{}|{}", row["Domain"], row["Topic Name"], row["Date"]))
            .collect();
        assert_unique(&keys, "intent (domain, topic, date)");
        for row in &intent {
            let date: Date = row["Date"].parse().unwrap();
            assert_eq!(date.weekday(), jiff::civil::Weekday::Monday);
            assert!(date < jiff::civil::date(TODAY.0, TODAY.1, TODAY.2));
            let score: u8 = row["Composite Score"].parse().unwrap();
            assert!((30..=100).contains(&score));
        }

        let activities = rows(&files.activities);
        assert_unique(&column(&activities, "id"), "activity id");
        let times = column(&activities, "occurred_at");
        assert!(times.windows(2).all(|pair| pair[0] <= pair[1]), "sorted");
        let first = abm_core::parse_timestamp(&times[0]).unwrap();
        let today = abm_core::parse_timestamp("2026-11-23T00:00:00Z").unwrap();
        assert!(today.duration_since(first).as_secs() <= 366 * 86_400);
        assert!(times.last().unwrap().as_str() < "2026-11-23");
        for row in &activities {
            let at = abm_core::parse_timestamp(&row["occurred_at"]).unwrap();
            assert_eq!(
                at.to_string(),
                row["occurred_at"],
                "RFC 3339 in UTC, whole seconds"
            );
            assert!(KINDS.contains(&row["type"].as_str()));
            assert!(!row["email"].is_empty() || !row["domain"].is_empty());
            if !row["email"].is_empty() {
                abm_core::Email::parse(&row["email"]).unwrap();
            }
        }
        let per_account = activities.len() as f64 / 200.0;
        assert!(
            (20.0..80.0).contains(&per_account),
            "{per_account} per account"
        );
    }

    #[test]
    fn fields_are_quoted_when_they_must_be() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("quoted.csv");
        let mut csv = Csv::new(BufWriter::new(File::create(&path).unwrap()));
        for value in ["plain", "a, b", "say \"hi\"", "two\nlines", ""] {
            csv.field(value);
        }
        csv.end().unwrap();
        csv.out.flush().unwrap();
        drop(csv);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "plain,\"a, b\",\"say \"\"hi\"\"\",\"two\nlines\",\n"
        );
        assert_eq!(thousands(1_200), "1,200");
        assert_eq!(thousands(100_000), "100,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(
            CivilDay(days_from_civil(2024, 2, 29)).to_string(),
            "2024-02-29"
        );
        assert_eq!(Compact(1_772_373_802).to_string(), "20260301140322");
        assert_eq!(weekday(days_from_civil(2026, 11, 23)), 0);
        assert_eq!(salesforce_id("001", 0).len(), 18);
    }
}
