//! Fit: how much an account looks like the accounts worth winning. ICP rules from the
//! config (industry, employee and revenue bands, country, region, technologies present, no
//! tool of our category, a competitor's tool) and, for every attribute without a rule, the
//! look-alike profile learned from the team's own customers. An attribute the account lacks
//! scores a share of its rule's best points and is named "unknown".

use crate::score::config::{Band, CategoryRule, FitConfig, Points};
use crate::score::facts::AccountFacts;
use crate::score::{Contribution, Score, thousands};
use std::collections::{BTreeMap, HashMap};

/// Employee bands the learned profile compares (the CRM's usual segments).
const EMPLOYEE_BANDS: [(u64, u64, &str); 6] = [
    (0, 50, "1–49 employees"),
    (50, 200, "50–199 employees"),
    (200, 1000, "200–999 employees"),
    (1000, 5000, "1,000–4,999 employees"),
    (5000, 20_000, "5,000–19,999 employees"),
    (20_000, u64::MAX, "20,000+ employees"),
];

/// Which attribute values the customers share more often than accounts in general, as
/// smoothed lifts (customers' share ÷ everyone's share, pulled toward 1 when rare).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerProfile {
    pub customers: u32,
    pub accounts: u32,
    industry: HashMap<String, f64>,
    employees: HashMap<&'static str, f64>,
    country: HashMap<String, f64>,
    technology: HashMap<String, f64>,
    /// The highest lift of each attribute (industry, employees, country, technology): the
    /// value that earns the full points.
    best: [f64; 4],
}

/// A value must be held by this many accounts to set its attribute's best lift, so one odd
/// value cannot stretch the scale.
const BEST_SUPPORT: f64 = 10.0;

/// Pseudo-customers added to every value's count: a value seen at two customers does not
/// get a lift from that alone.
const SMOOTHING: f64 = 5.0;

impl CustomerProfile {
    /// Learns from the accounts' facts; `is_customer` says who was a customer at the time the
    /// scores are computed for (so a backtest never learns from the future).
    pub fn learn<'a>(
        accounts: impl IntoIterator<Item = (&'a AccountFacts, bool)>,
        min_customers: u32,
    ) -> Self {
        let mut counts: [HashMap<String, (f64, f64)>; 4] = Default::default();
        let (mut total, mut customers) = (0u32, 0u32);
        for (facts, is_customer) in accounts {
            total += 1;
            customers += u32::from(is_customer);
            let mut add = |slot: usize, value: String| {
                let entry = counts[slot].entry(value).or_insert((0.0, 0.0));
                entry.0 += 1.0;
                if is_customer {
                    entry.1 += 1.0;
                }
            };
            if let Some(industry) = &facts.industry {
                add(0, industry.to_lowercase());
            }
            if let Some(band) = facts.employees.and_then(employee_band) {
                add(1, band.to_owned());
            }
            if let Some(country) = &facts.country {
                add(2, country.to_lowercase());
            }
            for technology in &facts.technologies {
                add(3, technology.to_lowercase());
            }
        }
        let mut profile = CustomerProfile {
            customers,
            accounts: total,
            ..Default::default()
        };
        if customers < min_customers.max(1) || total == 0 {
            return profile;
        }
        let lift = |(all, won): (f64, f64)| {
            let everyone = all / f64::from(total);
            let expected = SMOOTHING * everyone;
            ((won + expected) / (f64::from(customers) + SMOOTHING)) / everyone
        };
        for (slot, values) in counts.iter().enumerate() {
            profile.best[slot] = values
                .values()
                .filter(|(all, _)| *all >= BEST_SUPPORT)
                .map(|&v| lift(v))
                .fold(1.0, f64::max);
        }
        let [industry, employees, country, technology] = counts;
        profile.industry = industry.into_iter().map(|(k, v)| (k, lift(v))).collect();
        profile.employees = employees
            .into_iter()
            .filter_map(|(k, v)| {
                EMPLOYEE_BANDS
                    .iter()
                    .find(|band| band.2 == k)
                    .map(|band| (band.2, lift(v)))
            })
            .collect();
        profile.country = country.into_iter().map(|(k, v)| (k, lift(v))).collect();
        profile.technology = technology.into_iter().map(|(k, v)| (k, lift(v))).collect();
        profile
    }

    pub fn is_learned(&self) -> bool {
        !self.industry.is_empty() || !self.employees.is_empty()
    }
}

fn employee_band(employees: u64) -> Option<&'static str> {
    EMPLOYEE_BANDS
        .iter()
        .find(|(min, max, _)| employees >= *min && employees < *max)
        .map(|band| band.2)
}

/// Points for a lift, on the attribute's own scale: its best value earns the full points
/// when customers have it at least twice as often as accounts in general (weaker evidence
/// earns in proportion), no lift none, a value customers avoid costs up to half. An attribute
/// whose best value is barely above 1 tells nothing and earns nothing.
fn lift_points(lift: f64, best: f64, full: f64) -> f64 {
    if best < 1.1 {
        return 0.0;
    }
    (lift.ln() / best.max(2.0).ln()).clamp(-0.5, 1.0) * full
}

fn times(lift: f64) -> String {
    format!("customers {lift:.1}× as often")
}

/// The attribute values a look-alike model reads: `industry:software`,
/// `employees:200–999 employees`, `country:germany`, `technology:salesforce`, and
/// `…:unknown` for a missing attribute (unknown is a value of its own, not a zero).
pub fn lookalike_keys(facts: &AccountFacts) -> Vec<String> {
    let mut keys = Vec::with_capacity(3 + facts.technologies.len());
    keys.push(match &facts.industry {
        Some(industry) => format!("industry:{}", industry.to_lowercase()),
        None => "industry:unknown".into(),
    });
    keys.push(match facts.employees.and_then(employee_band) {
        Some(band) => format!("employees:{band}"),
        None => "employees:unknown".into(),
    });
    keys.push(match &facts.country {
        Some(country) => format!("country:{}", country.to_lowercase()),
        None => "country:unknown".into(),
    });
    for technology in &facts.technologies {
        keys.push(format!("technology:{}", technology.to_lowercase()));
    }
    keys
}

/// How a look-alike key reads in a contribution: `industry software`, `uses salesforce`.
fn describe_key(key: &str) -> String {
    match key.split_once(':') {
        Some(("technology", name)) => format!("uses {name}"),
        Some((attribute, "unknown")) => format!("{attribute} unknown"),
        Some(("employees", band)) => band.to_owned(),
        Some((attribute, value)) => format!("{attribute} {value}"),
        None => key.to_owned(),
    }
}

/// `100·σ(b + Σ w)` over the account's keys; the rise from the base rate `100·σ(b)` is shared
/// among the keys in proportion to their weights through σ's secant slope, so the parts add
/// up exactly (as a learned priority does).
fn lookalike_score(
    model: &crate::score::config::Lookalike,
    facts: &AccountFacts,
) -> Vec<Contribution> {
    let terms = lookalike_keys(facts)
        .into_iter()
        .filter_map(|key| {
            let weight = *model.weights.get(&key)?;
            Some((format!("{} (look-alike)", describe_key(&key)), weight))
        })
        .collect();
    crate::score::logistic_parts("look-alike base rate", model.intercept, terms).contributions
}

/// The fit score of one account.
pub fn score(config: &FitConfig, profile: &CustomerProfile, facts: &AccountFacts) -> Score {
    let mut parts = Vec::new();
    if let Some(model) = &config.lookalike {
        parts = lookalike_score(model, facts);
    }
    let learned = config.lookalike.is_none() && config.profile.enabled && profile.is_learned();
    let full = config.profile.points_per_attribute.0;
    let unknown = config.unknown_share.0;

    if learned {
        parts.push(part(
            format!(
                "baseline: no ICP rule, profile of {} customers",
                profile.customers
            ),
            config.profile.baseline.0,
        ));
    }

    // Industry.
    if !config.industries.is_empty() {
        keyed_rule(
            &mut parts,
            "industry",
            facts.industry.as_deref(),
            &config.industries,
            unknown,
        );
    } else if learned {
        match &facts.industry {
            Some(industry) => {
                let lift = profile
                    .industry
                    .get(&industry.to_lowercase())
                    .copied()
                    .unwrap_or(1.0);
                parts.push(part(
                    format!("industry {industry} ({})", times(lift)),
                    lift_points(lift, profile.best[0], full),
                ));
            }
            None => parts.push(part("industry unknown".into(), unknown * full)),
        }
    }

    // Size.
    if !config.employees.is_empty() {
        band_rule(
            &mut parts,
            "employees",
            facts.employees.map(|e| e as f64),
            &config.employees,
            unknown,
            |v| format!("{} employees", thousands(v as u64)),
        );
    } else if learned {
        match facts
            .employees
            .and_then(|e| employee_band(e).map(|band| (e, band)))
        {
            Some((employees, band)) => {
                let lift = profile.employees.get(band).copied().unwrap_or(1.0);
                parts.push(part(
                    format!("{} employees ({})", thousands(employees), times(lift)),
                    lift_points(lift, profile.best[1], full),
                ));
            }
            None => parts.push(part("employees unknown".into(), unknown * full)),
        }
    }
    if !config.revenue.is_empty() {
        band_rule(
            &mut parts,
            "revenue",
            facts.revenue,
            &config.revenue,
            unknown,
            |v| format!("revenue {}", thousands(v as u64)),
        );
    }

    // Geography.
    if !config.countries.is_empty() {
        keyed_rule(
            &mut parts,
            "country",
            facts.country.as_deref(),
            &config.countries,
            unknown,
        );
    } else if learned {
        match &facts.country {
            Some(country) => {
                let lift = profile
                    .country
                    .get(&country.to_lowercase())
                    .copied()
                    .unwrap_or(1.0);
                parts.push(part(
                    format!("country {country} ({})", times(lift)),
                    lift_points(lift, profile.best[2], full) * 0.6,
                ));
            }
            None => parts.push(part("country unknown".into(), unknown * full * 0.6)),
        }
    }
    if !config.regions.is_empty() {
        keyed_rule(
            &mut parts,
            "region",
            facts.region.as_deref(),
            &config.regions,
            unknown,
        );
    }

    // Technographics.
    let uses = |name: &str| {
        facts
            .technologies
            .iter()
            .any(|t| t.eq_ignore_ascii_case(name))
    };
    if !config.technologies.is_empty() {
        for (technology, points) in &config.technologies {
            if uses(technology) {
                parts.push(part(format!("uses {technology}"), points.0));
            }
        }
    } else if learned && !facts.technologies.is_empty() {
        // Each technology's lift, with the total kept within one attribute's points.
        let mut learned_parts: Vec<Contribution> = facts
            .technologies
            .iter()
            .filter_map(|technology| {
                let lift = profile
                    .technology
                    .get(&technology.to_lowercase())
                    .copied()?;
                let points = lift_points(lift, profile.best[3], full * 0.5);
                (points.abs() >= 0.5)
                    .then(|| part(format!("uses {technology} ({})", times(lift)), points))
            })
            .collect();
        let total: f64 = learned_parts.iter().map(|c| c.points).sum();
        let bound = if total > full {
            full / total
        } else if total < -full / 2.0 {
            -full / 2.0 / total
        } else {
            1.0
        };
        for contribution in &mut learned_parts {
            contribution.points *= bound;
        }
        parts.extend(learned_parts);
    }
    category_rule(&mut parts, &config.category, facts, false);
    category_rule(&mut parts, &config.competitors, facts, true);

    Score::from_contributions(parts).clamped()
}

fn part(name: String, points: f64) -> Contribution {
    Contribution { name, points }
}

fn keyed_rule(
    parts: &mut Vec<Contribution>,
    attribute: &str,
    value: Option<&str>,
    rule: &BTreeMap<String, Points>,
    unknown: f64,
) {
    match value {
        Some(value) => {
            let points = rule
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(value))
                .map_or(0.0, |(_, points)| points.0);
            parts.push(part(format!("{attribute} {value}"), points));
        }
        None => {
            let best = rule.values().map(|p| p.0).fold(0.0, f64::max);
            parts.push(part(format!("{attribute} unknown"), unknown * best));
        }
    }
}

fn band_rule(
    parts: &mut Vec<Contribution>,
    attribute: &str,
    value: Option<f64>,
    bands: &[Band],
    unknown: f64,
    name: impl Fn(f64) -> String,
) {
    match value {
        Some(value) => {
            let points = bands
                .iter()
                .find(|band| value >= band.min && value < band.max)
                .map_or(0.0, |band| band.points.0);
            parts.push(part(name(value), points));
        }
        None => {
            let best = bands.iter().map(|b| b.points.0).fold(0.0, f64::max);
            parts.push(part(format!("{attribute} unknown"), unknown * best));
        }
    }
}

/// `present`: points when the account uses one of the listed tools (a competitor);
/// otherwise points when it uses none of them (no tool of our category yet).
fn category_rule(
    parts: &mut Vec<Contribution>,
    rule: &CategoryRule,
    facts: &AccountFacts,
    present: bool,
) {
    if rule.technologies.is_empty() || rule.points.0 == 0.0 {
        return;
    }
    let used: Vec<&String> = rule
        .technologies
        .iter()
        .filter(|name| {
            facts
                .technologies
                .iter()
                .any(|t| t.eq_ignore_ascii_case(name))
        })
        .collect();
    if present {
        if let Some(first) = used.first() {
            parts.push(part(
                format!("uses competitor {first} (displacement)"),
                rule.points.0,
            ));
        }
    } else if used.is_empty() && !facts.technologies.is_empty() {
        parts.push(part("no tool of our category".into(), rule.points.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::config::Share;

    fn facts(industry: &str, employees: u64, technologies: &[&str]) -> AccountFacts {
        AccountFacts {
            industry: Some(industry.into()),
            employees: Some(employees),
            country: Some("United States".into()),
            technologies: technologies.iter().map(|t| (*t).to_owned()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn icp_rules_name_their_points() {
        let config: FitConfig = toml::from_str(
            r#"
            industries = { Software = 25, Education = -10 }
            employees = [{ min = 200, max = 5000, points = 20 }]
            technologies = { Salesforce = 15 }
            competitors = { technologies = ["Demandbase"], points = 10 }
            "#,
        )
        .expect("config");
        let score = score(
            &config,
            &CustomerProfile::default(),
            &facts("Software", 1200, &["Salesforce", "Demandbase"]),
        );
        assert_eq!(score.value, 70.0);
        let names: Vec<&str> = score
            .contributions
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "industry Software",
                "1,200 employees",
                "uses Salesforce",
                "uses competitor Demandbase (displacement)"
            ]
        );
        assert!((score.sum_of_contributions() - score.value).abs() < 1e-9);
    }

    #[test]
    fn a_lookalike_fit_is_a_probability_whose_parts_add_up() {
        let config = FitConfig {
            lookalike: Some(crate::score::config::Lookalike {
                intercept: -2.0,
                weights: [
                    ("industry:software".to_owned(), 1.5),
                    ("technology:salesforce".to_owned(), 0.7),
                    ("employees:unknown".to_owned(), -0.4),
                ]
                .into(),
            }),
            ..FitConfig::default()
        };
        let known = score(
            &config,
            &CustomerProfile::default(),
            &facts("Software", 1200, &["Salesforce"]),
        );
        let unknown = score(
            &config,
            &CustomerProfile::default(),
            &AccountFacts {
                industry: Some("Retail".into()),
                ..Default::default()
            },
        );
        assert!(known.value > unknown.value && known.value < 100.0);
        for s in [&known, &unknown] {
            assert!((s.sum_of_contributions() - s.value).abs() < 1e-9, "{s:?}");
        }
        assert!(
            known
                .contributions
                .iter()
                .any(|c| c.name == "industry software (look-alike)")
        );
        assert!(
            unknown
                .contributions
                .iter()
                .any(|c| c.name == "employees unknown (look-alike)")
        );
    }

    #[test]
    fn unknown_is_not_zero() {
        let config = FitConfig {
            unknown_share: Share(0.5),
            industries: [("Software".to_owned(), Points(20.0))].into(),
            ..FitConfig::default()
        };
        let score = score(
            &config,
            &CustomerProfile::default(),
            &AccountFacts::default(),
        );
        assert_eq!(score.value, 10.0);
        assert_eq!(score.contributions[0].name, "industry unknown");
    }

    #[test]
    fn the_profile_prefers_what_customers_share() {
        let mut accounts = Vec::new();
        for i in 0..200 {
            let customer = i % 10 == 0;
            let industry = if customer || i % 3 == 0 {
                "Software"
            } else {
                "Retail"
            };
            accounts.push((
                facts(industry, if customer { 800 } else { 30 }, &[]),
                customer,
            ));
        }
        let profile = CustomerProfile::learn(accounts.iter().map(|(f, c)| (f, *c)), 10);
        assert!(profile.is_learned());
        let config = FitConfig::default();
        let good = score(&config, &profile, &facts("Software", 500, &[]));
        let poor = score(&config, &profile, &facts("Retail", 20, &[]));
        assert!(good.value > poor.value + 20.0, "{good:?} {poor:?}");
        assert!(
            good.contributions
                .iter()
                .any(|c| c.name.starts_with("industry Software (customers"))
        );
        for s in [&good, &poor] {
            assert!((s.sum_of_contributions() - s.value).abs() < 1e-9);
        }
    }
}
