//! Personas and buying groups: a contact's job title read as a function, a seniority and a
//! buying role, and an account's buying group summarised as roles known and engaged.
//!
//! # Reading a title
//!
//! A title is normalised first (see `normalize`): lowercased, accents folded (`é`→`e`,
//! `ß`→`ss`), split on anything that is not a letter or digit, "and" dropped as "&" is,
//! dotted initials joined (`V.P.`→`vp`, `R&D`→`rd`), abbreviations expanded (`Sr.`→`senior`,
//! `Dir.`→`director`, `Ops`→`operations`, `SVP`→`vp`, `GM`→`general manager`, a lone
//! `MD`→`managing director`), and cut at `to`, `at`, `chez` or `@`: what follows names
//! someone else ("Executive Assistant to the CEO") or the company ("Head of Sales at
//! Marketing Corp").
//!
//! The words are then matched against the dictionary in `titles`, longest phrase first, so
//! "account executive" is a sales job and not an executive, and "sales operations" is revenue
//! operations and not sales. The team's own keywords (`[personas] functions` and
//! `irrelevant`) are matched before the built-in ones and win over them. German and
//! Scandinavian compounds the dictionary does not hold are split at a known head
//! (`Einkaufsleiter` → `einkauf` + `leiter`, `Marknadschef` → `marknad` + `chef`).
//!
//! - **Seniority**: the most senior marker wins ("Senior Director" is a director, "VP & Head
//!   of Sales" a VP). `head`, `leiter`, `directeur` mark a director; `manager`, `lead`,
//!   `team lead`, `responsable`, `gerente`, `chef de`, `jefe de` a manager (a lead leads
//!   people or an area, so a "Sourcing Lead" or "BDR Team Lead" is managerial);
//!   `senior`, `principal`, `staff` mark an individual contributor; no marker means an
//!   individual contributor too. Job names that contain "manager" but manage no one
//!   ("product manager", "account manager", "customer success manager") are individual
//!   contributors. A general manager is a director-level executive (a business unit's head,
//!   not the C-suite); a managing director, president, founder or owner is C-level.
//! - **Function**: the longest phrase wins; between phrases of one length the more specific
//!   function wins (procurement, legal, security, revenue operations and HR over marketing,
//!   sales, finance and customer success, over IT, engineering, product and operations, over
//!   the executive office, over other), then the earlier phrase. So "Director of IT
//!   Procurement" is procurement and "CTO & Co-Founder" is engineering.
//!
//! # Buying roles
//!
//! Checked top to bottom, the first matching row wins (`RoleRules::role`):
//!
//! | function | C-level | VP | director | manager | individual contributor |
//! |---|---|---|---|---|---|
//! | procurement | procurement | procurement | procurement | procurement | procurement |
//! | legal | blocker | blocker | blocker | blocker | blocker |
//! | a buying function, or executive | economic buyer | economic buyer | decision maker | champion | user |
//! | a technical function | decision maker | technical evaluator | technical evaluator | technical evaluator | technical evaluator |
//! | finance | economic buyer | economic buyer | influencer | influencer | influencer |
//! | any other known function | influencer | influencer | influencer | — | — |
//!
//! Buying functions default to marketing, sales and revenue operations; technical functions to
//! IT, engineering and security (so a CISO decides and a security engineer evaluates). An
//! occupation that never buys (nurse, teacher, student, intern, recruiter, driver…) holds no
//! role and is not relevant; a title naming no function we know holds no role.
//!
//! # Buying groups
//!
//! [`buying_group`] counts, for each role, the people who hold it and those of them engaged,
//! and the share of the expected roles (by default all but influencer and blocker, which are
//! worth knowing but are not gaps) that somebody holds and that somebody engaged holds.

use crate::score::config::Days;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

mod normalize;
mod titles;

use normalize::{Normalizer, Tokens};

type Fast = foldhash::fast::FixedState;

macro_rules! keyed_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $($(#[$variant_meta:meta])* $variant:ident => $key:literal, $label:literal),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$variant_meta])* $variant),* }

        impl $name {
            pub const ALL: [$name; [$($key),*].len()] = [$($name::$variant),*];

            /// The canonical key, as stored and as written in `abm.toml`.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $key),* }
            }

            /// The value a canonical key names.
            pub fn from_key(key: &str) -> Option<Self> {
                match key { $($key => Some($name::$variant),)* _ => None }
            }

            /// A name for people ("revenue operations", "economic buyer").
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),* }
            }
        }
    };
}

keyed_enum! {
    /// The part of the company a person works in.
    pub enum Function {
        /// The executive office: CEO, president, founder, owner, managing director.
        Executive => "executive", "executive",
        Marketing => "marketing", "marketing",
        Sales => "sales", "sales",
        /// Revenue, sales and marketing operations: the people who run the go-to-market
        /// systems.
        RevenueOps => "revenue_ops", "revenue operations",
        It => "it", "IT",
        Engineering => "engineering", "engineering",
        Security => "security", "security",
        Product => "product", "product",
        Finance => "finance", "finance",
        Procurement => "procurement", "procurement",
        Operations => "operations", "operations",
        Legal => "legal", "legal",
        HumanResources => "human_resources", "human resources",
        CustomerSuccess => "customer_success", "customer success",
        /// A function we know of but do not track (consulting, administration, strategy).
        Other => "other", "other",
    }
}

keyed_enum! {
    /// How senior a person is. Compare with [`Seniority::rank`], not with `Ord` (which
    /// follows the declaration order, most senior first).
    pub enum Seniority {
        CLevel => "c_level", "C-level",
        Vp => "vp", "VP",
        Director => "director", "director",
        Manager => "manager", "manager",
        IndividualContributor => "individual_contributor", "individual contributor",
    }
}

keyed_enum! {
    /// The part a person plays in their company's purchase.
    pub enum BuyingRole {
        /// Owns the budget and signs.
        EconomicBuyer => "economic_buyer", "economic buyer",
        /// Chooses among the options.
        DecisionMaker => "decision_maker", "decision maker",
        /// Checks that it works with what they run.
        TechnicalEvaluator => "technical_evaluator", "technical evaluator",
        /// Wants it and sells it inside.
        Champion => "champion", "champion",
        /// Has a say without choosing.
        Influencer => "influencer", "influencer",
        /// Will use it every day.
        User => "user", "user",
        /// Runs the purchase: vendors, terms, price.
        Procurement => "procurement", "procurement",
        /// Can stop it: legal, compliance.
        Blocker => "blocker", "blocker",
    }
}

impl Seniority {
    /// 4 for C-level down to 0 for an individual contributor.
    pub fn rank(self) -> u8 {
        match self {
            Seniority::CLevel => 4,
            Seniority::Vp => 3,
            Seniority::Director => 2,
            Seniority::Manager => 1,
            Seniority::IndividualContributor => 0,
        }
    }

    /// Director or above.
    pub fn is_senior(self) -> bool {
        self.rank() >= Seniority::Director.rank()
    }
}

impl Function {
    /// How specific a function is, to choose between two phrases of one length in a title:
    /// a sub-function (procurement, revenue operations…) beats the function it serves, a
    /// business function beats a technical one that often qualifies it ("IT procurement",
    /// "marketing analytics"), and the executive office and "other" come last because they
    /// name no area ("Founder & Head of Marketing" works in marketing).
    fn specificity(self) -> u8 {
        match self {
            Function::Procurement
            | Function::Legal
            | Function::Security
            | Function::RevenueOps
            | Function::HumanResources => 4,
            Function::Marketing
            | Function::Sales
            | Function::Finance
            | Function::CustomerSuccess => 3,
            Function::It | Function::Engineering | Function::Product | Function::Operations => 2,
            Function::Executive => 1,
            Function::Other => 0,
        }
    }
}

/// What a job title says about a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Persona {
    /// `None` when the title names no function we know (or is empty).
    pub function: Option<Function>,
    pub seniority: Seniority,
    /// `None` when the title holds no buying role (occupations that never buy, unknown
    /// functions, staff of a non-buying function below director).
    pub role: Option<BuyingRole>,
    /// False for occupations that never buy (nurse, recruiter, teacher, driver, student,
    /// intern…): they never count toward coverage.
    pub relevant: bool,
}

/// `[personas]` of `abm.toml`: which functions buy what the team sells, which roles a
/// complete buying group has, and the team's own title keywords.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PersonaConfig {
    /// The functions that form the buying centre for what the team sells.
    pub buying_functions: Vec<Function>,
    /// Functions that evaluate technically.
    pub technical_functions: Vec<Function>,
    /// Roles a complete buying group has; coverage is counted over these. Influencer and
    /// blocker are useful to know but are not gaps.
    pub expected_roles: Vec<BuyingRole>,
    /// A person is engaged when active within this many days.
    pub engaged_days: Days,
    /// Extra keywords: a word or phrase → function (e.g. `growth = "marketing"`). They are
    /// read like titles (case, accents and abbreviations do not matter) and win over the
    /// built-in dictionary.
    pub functions: BTreeMap<String, Function>,
    /// Extra keywords of occupations that never buy, added to the built-in list.
    pub irrelevant: Vec<String>,
}

impl Default for PersonaConfig {
    fn default() -> Self {
        PersonaConfig {
            buying_functions: vec![Function::Marketing, Function::Sales, Function::RevenueOps],
            technical_functions: vec![Function::It, Function::Engineering, Function::Security],
            expected_roles: vec![
                BuyingRole::EconomicBuyer,
                BuyingRole::DecisionMaker,
                BuyingRole::TechnicalEvaluator,
                BuyingRole::Champion,
                BuyingRole::User,
                BuyingRole::Procurement,
            ],
            engaged_days: Days(30),
            functions: BTreeMap::new(),
            irrelevant: Vec::new(),
        }
    }
}

/// What one dictionary phrase says. A phrase may say several things ("cmo": marketing and
/// C-level; "recruiter": human resources and never buys).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Entry {
    function: Option<Function>,
    seniority: Option<Seniority>,
    irrelevant: bool,
}

type Phrases = HashMap<Box<str>, Entry, Fast>;

/// The title dictionary, built once from the configuration: classifying a title is a few
/// hash lookups per word.
#[derive(Debug, Clone)]
pub struct TitleDictionary {
    normalizer: Normalizer,
    /// The team's keywords, matched first.
    custom: Phrases,
    custom_longest: usize,
    builtin: Phrases,
    builtin_longest: usize,
    /// Compound heads, longest first (`leiterin` before `leiter`).
    compound_heads: Vec<(&'static str, Seniority)>,
    /// Function stems found only inside compounds (`personal` in `Personalleiter`).
    compound_stems: HashMap<&'static str, Function, Fast>,
    rules: RoleRules,
}

impl Default for TitleDictionary {
    fn default() -> Self {
        TitleDictionary::new(&PersonaConfig::default())
    }
}

impl TitleDictionary {
    pub fn new(config: &PersonaConfig) -> Self {
        let normalizer = Normalizer::new(titles::ABBREVIATIONS);
        let mut builtin = Phrases::default();
        let mut update = |phrase: &str, change: &dyn Fn(&mut Entry)| {
            let key = normalizer.tokens(phrase).text;
            if !key.is_empty() {
                change(builtin.entry(key.into_boxed_str()).or_default());
            }
        };
        for (function, phrases) in titles::FUNCTIONS {
            for phrase in *phrases {
                update(phrase, &|entry| entry.function = Some(*function));
            }
        }
        for (seniority, phrases) in titles::SENIORITIES {
            for phrase in *phrases {
                update(phrase, &|entry| entry.seniority = Some(*seniority));
            }
        }
        for (phrase, function, seniority) in titles::TITLES {
            update(phrase, &|entry| {
                entry.function = Some(*function);
                entry.seniority = Some(*seniority);
            });
        }
        for phrase in titles::IRRELEVANT {
            update(phrase, &|entry| entry.irrelevant = true);
        }

        // The team's keywords keep what the built-in dictionary says of the same phrase
        // (a custom "cmo" is still C-level) and replace its function.
        let mut custom = Phrases::default();
        for (phrase, function) in &config.functions {
            let key = normalizer.tokens(phrase).text;
            if key.is_empty() {
                continue;
            }
            let mut entry = builtin.get(key.as_str()).copied().unwrap_or_default();
            entry.function = Some(*function);
            custom.insert(key.into_boxed_str(), entry);
        }
        for phrase in &config.irrelevant {
            let key = normalizer.tokens(phrase).text;
            if key.is_empty() {
                continue;
            }
            let inherited = builtin.get(key.as_str()).copied().unwrap_or_default();
            custom
                .entry(key.into_boxed_str())
                .or_insert(inherited)
                .irrelevant = true;
        }

        let mut compound_heads = titles::COMPOUND_HEADS.to_vec();
        compound_heads.sort_by_key(|(suffix, _)| std::cmp::Reverse(suffix.len()));

        TitleDictionary {
            custom_longest: longest_phrase(&custom),
            custom,
            builtin_longest: longest_phrase(&builtin),
            builtin,
            compound_heads,
            compound_stems: titles::COMPOUND_STEMS.iter().copied().collect(),
            rules: RoleRules::new(config),
            normalizer,
        }
    }

    /// Reads a job title. Never fails: a title we cannot read is an individual contributor
    /// of no known function, relevant, holding no role.
    pub fn classify(&self, title: &str) -> Persona {
        let tokens = self.normalizer.tokens(title);
        let mut consumed = vec![false; tokens.len()];
        let mut hits = Hits::default();
        scan(
            &self.custom,
            self.custom_longest,
            true,
            &tokens,
            &mut consumed,
            &mut hits,
        );
        scan(
            &self.builtin,
            self.builtin_longest,
            false,
            &tokens,
            &mut consumed,
            &mut hits,
        );
        for (position, used) in consumed.iter().enumerate() {
            if !used {
                self.split_compound(tokens.token(position), position, &mut hits);
            }
        }

        let seniority = hits.seniority.unwrap_or(Seniority::IndividualContributor);
        let function = hits.function.map(|(_, function)| function);
        let relevant = !hits.irrelevant;
        let role = if relevant {
            function.and_then(|function| self.rules.role(function, seniority))
        } else {
            None
        };
        Persona {
            function,
            seniority,
            role,
            relevant,
        }
    }

    /// `Vertriebsleiter` = `vertrieb(s)` + `leiter`: the head gives the seniority, the stem
    /// (with or without its linking `s`) the function.
    fn split_compound(&self, token: &str, position: usize, hits: &mut Hits) {
        const MIN_STEM: usize = 2;
        let Some((stem, seniority)) = self.compound_heads.iter().find_map(|(head, seniority)| {
            let stem = token.strip_suffix(head)?;
            (stem.len() >= MIN_STEM).then_some((stem, *seniority))
        }) else {
            return;
        };
        hits.seniority(seniority);
        let stem_function = |stem: &str| {
            self.compound_stems
                .get(stem)
                .copied()
                .or_else(|| self.builtin.get(stem).and_then(|entry| entry.function))
        };
        let function = stem_function(stem).or_else(|| {
            stem.strip_suffix('s')
                .filter(|bare| bare.len() >= MIN_STEM)
                .and_then(stem_function)
        });
        if let Some(function) = function {
            hits.function(function, false, 1, position);
        }
    }
}

fn longest_phrase(phrases: &Phrases) -> usize {
    phrases
        .keys()
        .map(|phrase| phrase.split(' ').count())
        .max()
        .unwrap_or(0)
}

/// Matches the phrases of `phrases` left to right over the tokens not yet consumed, longest
/// first, and consumes what matched.
fn scan(
    phrases: &Phrases,
    longest: usize,
    custom: bool,
    tokens: &Tokens,
    consumed: &mut [bool],
    hits: &mut Hits,
) {
    if phrases.is_empty() {
        return;
    }
    let mut start = 0;
    while start < tokens.len() {
        let free = consumed[start..]
            .iter()
            .take(longest)
            .take_while(|used| !**used)
            .count();
        let matched = (1..=free).rev().find_map(|length| {
            phrases
                .get(tokens.phrase(start, length))
                .map(|entry| (length, *entry))
        });
        match matched {
            Some((length, entry)) => {
                hits.entry(entry, custom, length, start);
                consumed[start..start + length].fill(true);
                start += length;
            }
            None => start += 1,
        }
    }
}

/// Which phrase's function wins: the team's keywords, then the longest phrase, then the more
/// specific function, then the earlier phrase.
type FunctionRank = (bool, usize, u8, std::cmp::Reverse<usize>);

/// What the phrases of one title said.
#[derive(Default)]
struct Hits {
    function: Option<(FunctionRank, Function)>,
    seniority: Option<Seniority>,
    irrelevant: bool,
}

impl Hits {
    fn entry(&mut self, entry: Entry, custom: bool, length: usize, position: usize) {
        if let Some(function) = entry.function {
            self.function(function, custom, length, position);
        }
        if let Some(seniority) = entry.seniority {
            self.seniority(seniority);
        }
        self.irrelevant |= entry.irrelevant;
    }

    fn function(&mut self, function: Function, custom: bool, length: usize, position: usize) {
        let rank = (
            custom,
            length,
            function.specificity(),
            std::cmp::Reverse(position),
        );
        if self.function.is_none_or(|(best, _)| rank > best) {
            self.function = Some((rank, function));
        }
    }

    fn seniority(&mut self, seniority: Seniority) {
        if self
            .seniority
            .is_none_or(|current| seniority.rank() > current.rank())
        {
            self.seniority = Some(seniority);
        }
    }
}

/// The buying-role rules of the module documentation, with the configured function sets.
#[derive(Debug, Clone)]
struct RoleRules {
    buying: [bool; Function::ALL.len()],
    technical: [bool; Function::ALL.len()],
}

impl RoleRules {
    fn new(config: &PersonaConfig) -> Self {
        let mut rules = RoleRules {
            buying: [false; Function::ALL.len()],
            technical: [false; Function::ALL.len()],
        };
        for function in &config.buying_functions {
            rules.buying[*function as usize] = true;
        }
        for function in &config.technical_functions {
            rules.technical[*function as usize] = true;
        }
        rules
    }

    fn role(&self, function: Function, seniority: Seniority) -> Option<BuyingRole> {
        use BuyingRole as R;
        use Seniority as S;
        let buying = function == Function::Executive || self.buying[function as usize];
        let technical = self.technical[function as usize];
        match (function, seniority) {
            (Function::Procurement, _) => Some(R::Procurement),
            (Function::Legal, _) => Some(R::Blocker),
            (_, S::CLevel | S::Vp) if buying => Some(R::EconomicBuyer),
            (_, S::Director) if buying => Some(R::DecisionMaker),
            (_, S::Manager) if buying => Some(R::Champion),
            (_, S::IndividualContributor) if buying => Some(R::User),
            (_, S::CLevel) if technical => Some(R::DecisionMaker),
            (_, _) if technical => Some(R::TechnicalEvaluator),
            (Function::Finance, S::CLevel | S::Vp) => Some(R::EconomicBuyer),
            (Function::Finance, _) => Some(R::Influencer),
            (_, seniority) if seniority.is_senior() => Some(R::Influencer),
            (_, _) => None,
        }
    }
}

/// One buying role at an account: how many people hold it, how many of them are engaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RoleCoverage {
    pub role: BuyingRole,
    pub known: u32,
    pub engaged: u32,
    /// Whether a complete buying group has this role (`expected_roles`).
    pub expected: bool,
}

/// An account's buying group: who holds which role, and what is missing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BuyingGroup {
    /// One per [`BuyingRole::ALL`], in that order.
    pub roles: Vec<RoleCoverage>,
    /// Expected roles somebody holds ÷ expected roles (0 when none is expected).
    pub known_share: f64,
    /// Expected roles somebody engaged holds ÷ expected roles.
    pub engaged_share: f64,
    /// Expected roles nobody holds, in [`BuyingRole::ALL`] order.
    pub missing: Vec<BuyingRole>,
}

/// Summarises an account's buying group. `members`: each relevant person's role (`None` =
/// holds none) and whether they are engaged. Irrelevant persons must be filtered out by the
/// caller or passed with role `None`: either way they never count.
pub fn buying_group(
    config: &PersonaConfig,
    members: impl IntoIterator<Item = (Option<BuyingRole>, bool)>,
) -> BuyingGroup {
    let mut roles: Vec<RoleCoverage> = BuyingRole::ALL
        .into_iter()
        .map(|role| RoleCoverage {
            role,
            known: 0,
            engaged: 0,
            expected: config.expected_roles.contains(&role),
        })
        .collect();
    for (role, engaged) in members {
        let Some(role) = role else { continue };
        // `roles` follows `BuyingRole::ALL`, which is the declaration order.
        let coverage = &mut roles[role as usize];
        coverage.known = coverage.known.saturating_add(1);
        if engaged {
            coverage.engaged = coverage.engaged.saturating_add(1);
        }
    }
    let expected = roles.iter().filter(|coverage| coverage.expected).count();
    let share = |held: fn(&RoleCoverage) -> bool| {
        let count = roles
            .iter()
            .filter(|coverage| coverage.expected && held(coverage))
            .count();
        if expected == 0 {
            0.0
        } else {
            count as f64 / expected as f64
        }
    };
    let known_share = share(|coverage| coverage.known > 0);
    let engaged_share = share(|coverage| coverage.engaged > 0);
    let missing = roles
        .iter()
        .filter(|coverage| coverage.expected && coverage.known == 0)
        .map(|coverage| coverage.role)
        .collect();
    BuyingGroup {
        roles,
        known_share,
        engaged_share,
        missing,
    }
}

#[cfg(test)]
mod tests;
