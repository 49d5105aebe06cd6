//! The scoring setup: the `[fit]`, `[intent]`, `[engagement]`, `[priority]` and `[stages]`
//! tables of `abm.toml`, with their defaults. Every number is a range-checked newtype, so a
//! value out of range fails while the file is read and the reader's error names its line;
//! every table denies unknown keys. The defaults assume nothing about the team's market:
//! fit learns its profile from the team's own customers unless ICP rules are given.

use crate::entity::ActivityKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

macro_rules! ranged {
    ($(#[$doc:meta])* $name:ident, $inner:ty, $min:expr, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
        #[serde(try_from = "f64", into = "f64")]
        pub struct $name(pub $inner);

        impl $name {
            pub const MIN: f64 = $min;
            pub const MAX: f64 = $max;
            pub fn get(self) -> $inner {
                self.0
            }
        }

        impl TryFrom<f64> for $name {
            type Error = String;
            fn try_from(value: f64) -> Result<Self, String> {
                if !value.is_finite() || !($min..=$max).contains(&value) {
                    return Err(format!(
                        "{value} is out of range: allowed {} to {}",
                        $min, $max
                    ));
                }
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let inner = value as $inner;
                if inner as f64 != value {
                    return Err(format!("{value} must be a whole number"));
                }
                Ok($name(inner))
            }
        }

        impl From<$name> for f64 {
            fn from(value: $name) -> f64 {
                value.0 as f64
            }
        }
    };
}

ranged!(
    /// Points a rule adds to a score: −100 to 100.
    Points, f64, -100.0, 100.0
);
ranged!(
    /// A share or a relevance: 0 to 1.
    Share, f64, 0.0, 1.0
);
ranged!(
    /// A number of days: 1 to 3,650.
    Days, u32, 1.0, 3650.0
);
ranged!(
    /// A number of weeks: 1 to 104.
    Weeks, u32, 1.0, 104.0
);
ranged!(
    /// A count of people or events: 0 to 1,000,000.
    Count, u32, 0.0, 1_000_000.0
);
ranged!(
    /// A score threshold: 0 to 100.
    Threshold, f64, 0.0, 100.0
);
ranged!(
    /// A saturation scale (how many raw points make about 63 of 100): 1 to 10,000.
    Scale, f64, 1.0, 10_000.0
);
ranged!(
    /// A weight in a sum: 0 to 100.
    Weight, f64, 0.0, 100.0
);

/// The scoring tables of `abm.toml`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScoringConfig {
    pub fit: FitConfig,
    pub intent: IntentConfig,
    pub engagement: EngagementConfig,
    pub priority: PriorityConfig,
    pub stages: StagesConfig,
    /// `[personas]`: who holds which buying role, for breadth and the qualified rule.
    pub personas: crate::persona::PersonaConfig,
}

/// `[fit]`: ICP rules over firmographics and technographics, and the learned profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FitConfig {
    /// An attribute the account lacks scores this share of its rule's best points, and
    /// says so: unknown is not zero.
    pub unknown_share: Share,
    /// Points by industry (case-insensitive).
    pub industries: BTreeMap<String, Points>,
    /// Points by employee count band.
    pub employees: Vec<Band>,
    /// Points by annual revenue band.
    pub revenue: Vec<Band>,
    /// Points by country (case-insensitive).
    pub countries: BTreeMap<String, Points>,
    /// Points by region (case-insensitive).
    pub regions: BTreeMap<String, Points>,
    /// Points for each technology the account uses (e.g. `Salesforce = 15`).
    pub technologies: BTreeMap<String, Points>,
    /// Points when the account uses none of the tools in our category.
    pub category: CategoryRule,
    /// Points when the account uses a competitor's product (a displacement opportunity).
    pub competitors: CategoryRule,
    /// The look-alike profile learned from the team's customers.
    pub profile: ProfileConfig,
    /// A look-alike model `abm tune` learned (replaces the profile when present).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lookalike: Option<Lookalike>,
}

/// `[fit.lookalike]`: a logistic model of "is a customer" over the account's attribute values
/// (`industry:software`, `employees:200–999`, `country:germany`, `technology:salesforce`,
/// `industry:unknown`, …), learned by `abm tune`. Fit is then 100 × the modelled chance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lookalike {
    pub intercept: f64,
    pub weights: BTreeMap<String, f64>,
}

/// A band of a number (employees, revenue): `min ≤ value < max`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    #[serde(default)]
    pub min: f64,
    #[serde(default = "unbounded")]
    pub max: f64,
    pub points: Points,
}

fn unbounded() -> f64 {
    f64::INFINITY
}

/// A list of technologies and the points their presence (competitors) or absence
/// (category) brings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CategoryRule {
    pub technologies: Vec<String>,
    pub points: Points,
}

impl Default for Points {
    fn default() -> Self {
        Points(0.0)
    }
}

/// `[fit.profile]`: which attributes the team's customers share more than other accounts,
/// learned from the data (smoothed log-lift per attribute value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProfileConfig {
    pub enabled: bool,
    /// Where a learned fit starts: the points of an account the profile knows nothing about.
    pub baseline: Points,
    /// Points the value customers share most can bring; others scale by their lift, and a
    /// value customers avoid costs up to half as much.
    pub points_per_attribute: Points,
    /// Fewer customers than this and no profile is learned (it would be noise).
    pub min_customers: Count,
}

impl Default for ProfileConfig {
    fn default() -> Self {
        ProfileConfig {
            enabled: true,
            baseline: Points(40.0),
            points_per_attribute: Points(15.0),
            min_customers: Count(10),
        }
    }
}

impl Default for FitConfig {
    fn default() -> Self {
        FitConfig {
            unknown_share: Share(0.3),
            industries: BTreeMap::new(),
            employees: Vec::new(),
            revenue: Vec::new(),
            countries: BTreeMap::new(),
            regions: BTreeMap::new(),
            technologies: BTreeMap::new(),
            category: CategoryRule::default(),
            competitors: CategoryRule::default(),
            profile: ProfileConfig::default(),
            lookalike: None,
        }
    }
}

/// `[intent]`: third-party surges and first-party research.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IntentConfig {
    /// A week's topic score at or above this is a surge (Bombora: 60; 50 is average).
    pub surge_threshold: Threshold,
    /// Weeks of third-party data looked at.
    pub window_weeks: Weeks,
    /// Points of a topic surging every week of the window, at relevance 1.
    pub surge_points: Points,
    /// Half-life of a surge's weight, from its latest week.
    pub half_life_days: Days,
    /// Relevance of each topic (0–1); topics not listed get `default_relevance`.
    pub topics: BTreeMap<String, Share>,
    pub default_relevance: Share,
    /// URL patterns (`*` matches anything) mapped to research topics, e.g.
    /// `"/pricing*" = "Pricing"`.
    pub pages: BTreeMap<String, String>,
    /// Points per first-party research activity at relevance 1, before decay.
    pub research_points: Points,
    /// Half-life of first-party research.
    pub research_half_life_days: Days,
    /// Saturation scale of the sum.
    pub scale: Scale,
}

impl Default for IntentConfig {
    fn default() -> Self {
        let pages = [
            ("*/pricing*", "Pricing"),
            ("*/plans*", "Pricing"),
            ("*/compare*", "Comparison"),
            ("*/vs-*", "Comparison"),
            ("*/alternative*", "Comparison"),
            ("*/demo*", "Demo"),
            ("*/case-stud*", "Case studies"),
            ("*/customers*", "Case studies"),
            ("*/integrations*", "Integrations"),
            ("*/security*", "Security review"),
        ];
        IntentConfig {
            surge_threshold: Threshold(60.0),
            window_weeks: Weeks(8),
            surge_points: Points(40.0),
            half_life_days: Days(21),
            topics: BTreeMap::new(),
            default_relevance: Share(0.6),
            pages: pages
                .iter()
                .map(|(pattern, topic)| ((*pattern).to_owned(), (*topic).to_owned()))
                .collect(),
            research_points: Points(4.0),
            research_half_life_days: Days(21),
            scale: Scale(50.0),
        }
    }
}

/// `[engagement]`: what people at the account did, weighted and decayed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngagementConfig {
    pub half_life_days: Days,
    /// Points per activity by kind, before decay.
    pub weights: KindWeights,
    /// Diminishing returns per person: one person's points approach this, never pass it.
    pub person_cap: Weight,
    /// Window of "recently active" people for breadth.
    pub breadth_window_days: Days,
    /// Points for each distinct person active in the window after the first.
    pub breadth_points: Points,
    /// At most this many people count for breadth.
    pub breadth_max_people: Count,
    /// Points for each distinct buying role (economic buyer, champion…) held by someone
    /// active in the breadth window: five people from one role are less than three roles.
    pub role_points: Points,
    /// Points when the latest activity is this recent, halving every such period after.
    pub recency_days: Days,
    pub recency_points: Points,
    /// Points when activity is rising: the last week or two against the last quarter (full
    /// points at four times the usual rate).
    pub trend_points: Points,
    /// Saturation scale of the sum.
    pub scale: Scale,
    pub noise: NoiseConfig,
}

impl Default for EngagementConfig {
    fn default() -> Self {
        EngagementConfig {
            half_life_days: Days(30),
            weights: KindWeights::default(),
            person_cap: Weight(15.0),
            breadth_window_days: Days(30),
            breadth_points: Points(6.0),
            breadth_max_people: Count(6),
            role_points: Points(4.0),
            recency_days: Days(14),
            recency_points: Points(8.0),
            trend_points: Points(12.0),
            scale: Scale(60.0),
            noise: NoiseConfig::default(),
        }
    }
}

/// `[engagement.noise]`: bot-like activity that counts nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NoiseConfig {
    /// More events than this from one person within one minute is a burst: none count.
    pub max_events_per_minute: Count,
    /// An email open or click this many seconds or less after the send is a machine
    /// (a mail scanner), not a person.
    pub machine_open_seconds: Count,
}

impl Default for NoiseConfig {
    fn default() -> Self {
        NoiseConfig {
            max_events_per_minute: Count(20),
            machine_open_seconds: Count(2),
        }
    }
}

macro_rules! kind_weights {
    ($($field:ident = $default:expr),* $(,)?) => {
        /// `[engagement.weights]`: points per activity kind.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct KindWeights { $(pub $field: Weight),* }

        impl Default for KindWeights {
            fn default() -> Self {
                KindWeights { $($field: Weight($default)),* }
            }
        }

        impl KindWeights {
            pub fn of(&self, kind: ActivityKind) -> f64 {
                match kind { $(k if k.as_str() == stringify!($field) => self.$field.0,)* _ => 0.0 }
            }

            /// The weights indexed by `kind as usize`: what the hot loops read.
            pub fn table(&self) -> [f64; ActivityKind::ALL.len()] {
                let mut table = [0.0; ActivityKind::ALL.len()];
                for kind in ActivityKind::ALL {
                    table[*kind as usize] = self.of(*kind);
                }
                table
            }

            pub fn set(&mut self, kind: ActivityKind, weight: Weight) {
                match kind.as_str() { $(stringify!($field) => self.$field = weight,)* _ => {} }
            }
        }
    };
}

kind_weights! {
    page_view = 1.0,
    form_fill = 8.0,
    content_download = 5.0,
    email_sent = 0.0,
    email_open = 0.2,
    email_click = 2.0,
    email_reply = 10.0,
    ad_impression = 0.05,
    ad_click = 1.5,
    webinar_registered = 4.0,
    webinar_attended = 8.0,
    meeting_held = 15.0,
    call = 6.0,
    direct_mail = 1.0,
    chat = 5.0,
    trial_signup = 12.0,
    other = 0.5,
}

/// `[priority]`: how the three scores combine into the ranking number: a weighted mean, or
/// — when `abm tune` wrote a `[priority.model]` — the learned chance of new pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PriorityConfig {
    pub fit: Weight,
    pub intent: Weight,
    pub engagement: Weight,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<PriorityModel>,
}

/// `[priority.model]`: a logistic model over the features of
/// [`crate::score::features::NAMES`], learned by `abm tune`. Priority is then 100 × the
/// modelled chance of an opportunity within `horizon_days`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorityModel {
    pub horizon_days: Days,
    pub intercept: f64,
    /// By feature name: the weight of its standardised value `(x − mean) / scale`.
    pub features: BTreeMap<String, FeatureWeight>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureWeight {
    pub weight: f64,
    pub mean: f64,
    pub scale: f64,
}

impl Default for PriorityConfig {
    fn default() -> Self {
        // The ranked list answers "whom now": the in-market signals lead, fit tilts (fit
        // also gates the qualified stage on its own threshold).
        PriorityConfig {
            fit: Weight(0.2),
            intent: Weight(0.4),
            engagement: Weight(0.4),
            model: None,
        }
    }
}

/// `[stages]`: the journey stage rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StagesConfig {
    /// Activity within this many days makes an account aware (and keeps it so).
    pub aware_window_days: Days,
    /// Engaged: engagement at least this, from at least `engaged_min_people` people.
    pub engaged_min_engagement: Threshold,
    pub engaged_min_people: Count,
    /// Qualified: fit at least this …
    pub qualified_min_fit: Threshold,
    /// … the mean of intent and engagement at least this …
    pub qualified_min_signal: Threshold,
    /// … and at least this many buying-group people (contacts holding a buying role) active
    /// within `qualified_window_days`; at an account whose contacts hold no known role (no
    /// titles), active people of any kind count.
    pub qualified_min_people: Count,
    pub qualified_window_days: Days,
}

impl Default for StagesConfig {
    fn default() -> Self {
        StagesConfig {
            aware_window_days: Days(180),
            engaged_min_engagement: Threshold(30.0),
            engaged_min_people: Count(2),
            qualified_min_fit: Threshold(50.0),
            qualified_min_signal: Threshold(45.0),
            qualified_min_people: Count(3),
            qualified_window_days: Days(30),
        }
    }
}

impl ScoringConfig {
    /// Checks what the types alone cannot: bands in order, weights that say something.
    /// Errors name the key.
    pub fn validate(&self) -> Result<(), String> {
        for (key, bands) in [
            ("fit.employees", &self.fit.employees),
            ("fit.revenue", &self.fit.revenue),
        ] {
            for (index, band) in bands.iter().enumerate() {
                if band.min.is_nan() || band.max.is_nan() || band.min >= band.max || band.min < 0.0
                {
                    return Err(format!(
                        "{key}[{index}]: min {} must be at least 0 and below max {}",
                        band.min, band.max
                    ));
                }
            }
        }
        let p = &self.priority;
        if p.fit.0 + p.intent.0 + p.engagement.0 <= 0.0 {
            return Err(
                "priority: at least one of fit, intent, engagement must weigh more than 0".into(),
            );
        }
        if let Some(lookalike) = &self.fit.lookalike
            && (!lookalike.intercept.is_finite()
                || lookalike.weights.values().any(|w| !w.is_finite()))
        {
            return Err(
                "fit.lookalike: the intercept and every weight must be finite numbers".into(),
            );
        }
        if let Some(model) = &p.model {
            if !model.intercept.is_finite() {
                return Err("priority.model.intercept must be a finite number".into());
            }
            for (name, feature) in &model.features {
                if crate::score::features::Features::index(name).is_none() {
                    return Err(format!(
                        "priority.model.features.{name}: unknown feature; allowed: {}",
                        crate::score::features::NAMES.join(", ")
                    ));
                }
                let finite = feature.weight.is_finite() && feature.mean.is_finite();
                if !(finite && feature.scale.is_finite() && feature.scale >= 1e-6) {
                    return Err(format!(
                        "priority.model.features.{name}: weight and mean must be finite numbers and scale at least 0.000001"
                    ));
                }
            }
        }
        for (pattern, topic) in &self.intent.pages {
            if pattern.is_empty() || topic.trim().is_empty() {
                return Err(format!(
                    "intent.pages: {pattern:?} = {topic:?}: pattern and topic must not be empty"
                ));
            }
        }
        Ok(())
    }
}
