//! Coverage and engagement of the TAL: who is engaged, by tier and cluster, over time; bands
//! of the engagement score; engaged people per account; the topics and content engaged
//! accounts consumed.

use super::{Bands, Definition, Period, define, median, ratio, round, week_start};
use jiff::civil::Date;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// An approved TAL account as these reports read it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Member {
    pub account_id: i64,
    pub domain: String,
    pub name: Option<String>,
    pub tier: Option<String>,
    pub cluster: Option<String>,
    /// The engagement score of the latest scoring.
    pub engagement: Option<f64>,
}

impl Member {
    fn tier(&self) -> String {
        self.tier.clone().unwrap_or_else(|| "none".into())
    }
}

/// An account's week: activities and engagement points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Week {
    pub account_id: i64,
    pub week: i64,
    pub activities: i64,
    pub points: f64,
}

/// The TAL's week: accounts active, activities and points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeekTotal {
    pub week: i64,
    pub active_accounts: u64,
    pub activities: i64,
    pub points: f64,
}

/// Sums points per account over weeks `from..=to`.
fn points_between(weeks: &[Week], from: i64, to: i64) -> HashMap<i64, f64> {
    let mut sums: HashMap<i64, f64> = HashMap::new();
    for week in weeks.iter().filter(|w| from <= w.week && w.week <= to) {
        *sums.entry(week.account_id).or_default() += week.points;
    }
    sums
}

/// The TAL accounts engaged in weeks `from..=to`.
pub fn engaged_between(weeks: &[Week], from: i64, to: i64, threshold: f64) -> HashSet<i64> {
    points_between(weeks, from, to)
        .into_iter()
        .filter(|(_, points)| *points >= threshold)
        .map(|(account, _)| account)
        .collect()
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierCoverage {
    pub tier: String,
    pub accounts: u64,
    pub engaged: u64,
    pub share: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterCoverage {
    pub cluster: String,
    pub accounts: u64,
    pub engaged: u64,
    pub share: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Total {
    pub accounts: u64,
    pub engaged: u64,
    pub share: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageWeek {
    pub week: Date,
    pub engaged: u64,
    pub share: Option<f64>,
    /// Share engaged per tier.
    pub tiers: BTreeMap<String, Option<f64>>,
    /// Share engaged per cluster.
    pub clusters: BTreeMap<String, Option<f64>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageReport {
    pub period: Period,
    pub tiers: Vec<TierCoverage>,
    pub clusters: Vec<ClusterCoverage>,
    pub total: Total,
    pub weekly: Vec<CoverageWeek>,
    pub definitions: Vec<Definition>,
}

fn share(engaged: u64, accounts: u64) -> Option<f64> {
    ratio(engaged as f64, accounts as f64).map(|r| round(r, 4))
}

fn engaged_definition(threshold: f64) -> Definition {
    define(
        "engaged",
        format!(
            "an approved TAL account whose activities in the window, weighted by [engagement.weights] without decay, add up to {threshold} points or more ([reports] engaged_points)"
        ),
    )
}

/// Coverage: `weeks` must hold the TAL accounts' weeks from `window_weeks - 1` weeks before
/// the period's first week to its last.
pub fn coverage(
    period: Period,
    members: &[Member],
    weeks: &[Week],
    threshold: f64,
    window_weeks: u32,
) -> CoverageReport {
    let (first, last) = period.weeks();
    let engaged = engaged_between(weeks, first, last, threshold);
    let mut tiers: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut clusters: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for member in members {
        let is_engaged = u64::from(engaged.contains(&member.account_id));
        let tier = tiers.entry(member.tier()).or_default();
        tier.0 += 1;
        tier.1 += is_engaged;
        if let Some(cluster) = &member.cluster {
            let entry = clusters.entry(cluster.clone()).or_default();
            entry.0 += 1;
            entry.1 += is_engaged;
        }
    }
    let total_engaged = members
        .iter()
        .filter(|m| engaged.contains(&m.account_id))
        .count() as u64;
    let window = i64::from(window_weeks.max(1));
    let weekly = (first..=last)
        .filter_map(|week| {
            let engaged = engaged_between(weeks, week - window + 1, week, threshold);
            let mut per_tier: BTreeMap<String, (u64, u64)> = BTreeMap::new();
            let mut per_cluster: BTreeMap<String, (u64, u64)> = BTreeMap::new();
            for member in members {
                let is_engaged = u64::from(engaged.contains(&member.account_id));
                let entry = per_tier.entry(member.tier()).or_default();
                entry.0 += 1;
                entry.1 += is_engaged;
                if let Some(cluster) = &member.cluster {
                    let entry = per_cluster.entry(cluster.clone()).or_default();
                    entry.0 += 1;
                    entry.1 += is_engaged;
                }
            }
            let count = per_tier.values().map(|(_, e)| e).sum();
            Some(CoverageWeek {
                week: week_start(week)?,
                engaged: count,
                share: share(count, members.len() as u64),
                tiers: per_tier
                    .into_iter()
                    .map(|(tier, (accounts, engaged))| (tier, share(engaged, accounts)))
                    .collect(),
                clusters: per_cluster
                    .into_iter()
                    .map(|(cluster, (accounts, engaged))| (cluster, share(engaged, accounts)))
                    .collect(),
            })
        })
        .collect();
    CoverageReport {
        period,
        tiers: tiers
            .into_iter()
            .map(|(tier, (accounts, engaged))| TierCoverage {
                tier,
                accounts,
                engaged,
                share: share(engaged, accounts),
            })
            .collect(),
        clusters: clusters
            .into_iter()
            .map(|(cluster, (accounts, engaged))| ClusterCoverage {
                cluster,
                accounts,
                engaged,
                share: share(engaged, accounts),
            })
            .collect(),
        total: Total {
            accounts: members.len() as u64,
            engaged: total_engaged,
            share: share(total_engaged, members.len() as u64),
        },
        weekly,
        definitions: vec![
            engaged_definition(threshold),
            define(
                "share",
                "engaged accounts divided by the approved TAL accounts of the tier or cluster",
            ),
            define(
                "over time",
                format!(
                    "each week, the accounts engaged in the {window_weeks} weeks ending with it ([reports] window_weeks)"
                ),
            ),
        ],
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Band {
    pub band: &'static str,
    pub accounts: u64,
    /// Per tier.
    pub tiers: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EngagementWeek {
    pub week: Date,
    pub active_accounts: u64,
    pub activities: i64,
    pub points: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeopleFigures {
    /// Engaged accounts with at least one known person active.
    pub accounts_with_people: u64,
    pub mean: Option<f64>,
    pub median: Option<f64>,
    /// Mean people per engaged account, per tier.
    pub tiers: BTreeMap<String, Option<f64>>,
    pub top_accounts: Vec<AccountPeople>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountPeople {
    pub domain: String,
    pub name: Option<String>,
    pub people: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Consumed {
    pub item: String,
    /// Engaged accounts that consumed it.
    pub accounts: u64,
    pub activities: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EngagementReport {
    pub period: Period,
    pub engaged_accounts: u64,
    pub bands: Vec<Band>,
    pub weekly: Vec<EngagementWeek>,
    pub people: PeopleFigures,
    pub topics: Vec<Consumed>,
    pub content: Vec<Consumed>,
    pub definitions: Vec<Definition>,
}

/// A topic or piece of content an account consumed in the period.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub account_id: i64,
    pub dimension: String,
    pub item: String,
    pub n: i64,
}

/// What the engagement report reads of the TAL's period.
#[derive(Debug, Clone, Copy)]
pub struct EngagementData<'a> {
    /// Each account's activities and points summed over the period.
    pub totals: &'a [Week],
    /// Each week's accounts active, activities and points.
    pub weekly: &'a [WeekTotal],
    /// Distinct known people active in the period, per account.
    pub people: &'a HashMap<i64, i64>,
    pub items: &'a [Item],
}

/// The engagement report. `people` holds the distinct known people active in the period per
/// account.
pub fn engagement(
    period: Period,
    members: &[Member],
    data: EngagementData<'_>,
    threshold: f64,
    bands: Bands,
) -> EngagementReport {
    let EngagementData {
        totals,
        weekly,
        people,
        items,
    } = data;
    let (first, last) = period.weeks();
    let engaged: HashSet<i64> = totals
        .iter()
        .filter(|t| t.points >= threshold)
        .map(|t| t.account_id)
        .collect();
    let band_of = |score: Option<f64>| match score.unwrap_or(0.0) {
        s if s >= bands.high => "high",
        s if s >= bands.medium => "medium",
        s if s > 0.0 => "low",
        _ => "none",
    };
    let mut band_counts: Vec<Band> = ["high", "medium", "low", "none"]
        .into_iter()
        .map(|band| Band {
            band,
            accounts: 0,
            tiers: BTreeMap::new(),
        })
        .collect();
    for member in members {
        let name = band_of(member.engagement);
        if let Some(band) = band_counts.iter_mut().find(|b| b.band == name) {
            band.accounts += 1;
            *band.tiers.entry(member.tier()).or_default() += 1;
        }
    }
    let mut by_week: BTreeMap<i64, (u64, i64, f64)> =
        (first..=last).map(|w| (w, (0, 0, 0.0))).collect();
    for week in weekly {
        if let Some(entry) = by_week.get_mut(&week.week) {
            entry.0 += week.active_accounts;
            entry.1 += week.activities;
            entry.2 += week.points;
        }
    }
    let by_id: HashMap<i64, &Member> = members.iter().map(|m| (m.account_id, m)).collect();
    let mut counts: Vec<f64> = Vec::new();
    let mut tier_people: BTreeMap<String, (f64, u64)> = BTreeMap::new();
    let mut top: Vec<AccountPeople> = Vec::new();
    for account in &engaged {
        let Some(member) = by_id.get(account) else {
            continue;
        };
        let n = people.get(account).copied().unwrap_or(0);
        let entry = tier_people.entry(member.tier()).or_default();
        entry.0 += n as f64;
        entry.1 += 1;
        if n > 0 {
            counts.push(n as f64);
            top.push(AccountPeople {
                domain: member.domain.clone(),
                name: member.name.clone(),
                people: n,
            });
        }
    }
    top.sort_by(|a, b| {
        b.people
            .cmp(&a.people)
            .then_with(|| a.domain.cmp(&b.domain))
    });
    top.truncate(10);
    let mean = ratio(counts.iter().sum(), engaged.len() as f64).map(|m| round(m, 2));
    let accounts_with_people = counts.len() as u64;
    let consumed = |dimension: &str| -> Vec<Consumed> {
        let mut map: HashMap<&str, (u64, i64)> = HashMap::new();
        for item in items
            .iter()
            .filter(|i| i.dimension == dimension && engaged.contains(&i.account_id))
        {
            let entry = map.entry(item.item.as_str()).or_default();
            entry.0 += 1;
            entry.1 += item.n;
        }
        let mut list: Vec<Consumed> = map
            .into_iter()
            .map(|(item, (accounts, activities))| Consumed {
                item: item.to_owned(),
                accounts,
                activities,
            })
            .collect();
        list.sort_by(|a, b| {
            b.accounts
                .cmp(&a.accounts)
                .then(b.activities.cmp(&a.activities))
                .then_with(|| a.item.cmp(&b.item))
        });
        list.truncate(10);
        list
    };
    EngagementReport {
        period,
        engaged_accounts: engaged.len() as u64,
        bands: band_counts,
        weekly: by_week
            .into_iter()
            .filter_map(|(week, (active, activities, points))| {
                Some(EngagementWeek {
                    week: week_start(week)?,
                    active_accounts: active,
                    activities,
                    points: round(points, 1),
                })
            })
            .collect(),
        people: PeopleFigures {
            accounts_with_people,
            mean,
            median: median(&mut counts),
            tiers: tier_people
                .into_iter()
                .map(|(tier, (sum, n))| (tier, ratio(sum, n as f64).map(|m| round(m, 2))))
                .collect(),
            top_accounts: top,
        },
        topics: consumed("topic"),
        content: consumed("content"),
        definitions: vec![
            engaged_definition(threshold),
            define(
                "band",
                format!(
                    "the engagement score of the latest scoring: high from {}, medium from {}, low above 0, none at 0 ([reports.bands])",
                    bands.high, bands.medium
                ),
            ),
            define(
                "engaged people",
                "distinct known contacts of an engaged account with an activity in the period",
            ),
            define(
                "content",
                "the URL of a content download, webinar or form; topics are the activities' topics",
            ),
        ],
    }
}

/// A relevant person of a TAL account: the buying role that counts (set by hand, else from
/// the title) and whether they were active in the period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RolePerson {
    pub account_id: i64,
    pub role: Option<crate::persona::BuyingRole>,
    pub engaged: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoleShare {
    pub role: &'static str,
    pub expected: bool,
    /// Share of the tier's accounts where someone holds the role.
    pub known: Option<f64>,
    /// … where someone holding it was active in the period.
    pub engaged: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierBuyingGroup {
    pub tier: String,
    pub accounts: u64,
    /// Mean share of the expected roles known, and engaged, per account.
    pub known_share: Option<f64>,
    pub engaged_share: Option<f64>,
    /// Accounts where every expected role is known.
    pub complete: u64,
    pub roles: Vec<RoleShare>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BuyingGroupReport {
    pub period: Period,
    pub tiers: Vec<TierBuyingGroup>,
    pub total: TierBuyingGroup,
    /// Accounts with the most expected roles missing, for the account team to map.
    pub most_missing: Vec<MissingRoles>,
    pub definitions: Vec<Definition>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MissingRoles {
    pub domain: String,
    pub tier: String,
    pub missing: Vec<&'static str>,
}

/// Buying-group coverage per tier.
pub fn buying_groups(
    period: Period,
    members: &[Member],
    people: &[RolePerson],
    config: &crate::persona::PersonaConfig,
) -> BuyingGroupReport {
    use crate::persona::{BuyingGroup, BuyingRole, buying_group};
    let mut by_account: HashMap<i64, Vec<(Option<BuyingRole>, bool)>> = HashMap::new();
    for person in people {
        by_account
            .entry(person.account_id)
            .or_default()
            .push((person.role, person.engaged));
    }
    let groups: Vec<(&Member, BuyingGroup)> = members
        .iter()
        .map(|member| {
            let people = by_account.remove(&member.account_id).unwrap_or_default();
            (member, buying_group(config, people))
        })
        .collect();
    let summarise = |tier: String, groups: &[&(&Member, BuyingGroup)]| -> TierBuyingGroup {
        let n = groups.len() as f64;
        let roles = BuyingRole::ALL
            .into_iter()
            .map(|role| {
                let held = |engaged: bool| {
                    groups
                        .iter()
                        .filter(|(_, group)| {
                            group.roles.iter().any(|coverage| {
                                coverage.role == role
                                    && if engaged {
                                        coverage.engaged > 0
                                    } else {
                                        coverage.known > 0
                                    }
                            })
                        })
                        .count() as f64
                };
                RoleShare {
                    role: role.as_str(),
                    expected: config.expected_roles.contains(&role),
                    known: ratio(held(false), n).map(|r| round(r, 4)),
                    engaged: ratio(held(true), n).map(|r| round(r, 4)),
                }
            })
            .collect();
        TierBuyingGroup {
            tier,
            accounts: groups.len() as u64,
            known_share: ratio(groups.iter().map(|(_, g)| g.known_share).sum(), n)
                .map(|r| round(r, 4)),
            engaged_share: ratio(groups.iter().map(|(_, g)| g.engaged_share).sum(), n)
                .map(|r| round(r, 4)),
            complete: groups.iter().filter(|(_, g)| g.missing.is_empty()).count() as u64,
            roles,
        }
    };
    let mut tiers: BTreeMap<String, Vec<&(&Member, BuyingGroup)>> = BTreeMap::new();
    for entry in &groups {
        tiers.entry(entry.0.tier()).or_default().push(entry);
    }
    let all: Vec<&(&Member, BuyingGroup)> = groups.iter().collect();
    let mut most_missing: Vec<MissingRoles> = groups
        .iter()
        .filter(|(_, group)| !group.missing.is_empty())
        .map(|(member, group)| MissingRoles {
            domain: member.domain.clone(),
            tier: member.tier(),
            missing: group.missing.iter().map(|role| role.as_str()).collect(),
        })
        .collect();
    // 1:1 accounts first: their gaps matter most; then the longest lists.
    most_missing.sort_by(|a, b| {
        a.tier
            .cmp(&b.tier)
            .then(b.missing.len().cmp(&a.missing.len()))
            .then_with(|| a.domain.cmp(&b.domain))
    });
    most_missing.truncate(20);
    BuyingGroupReport {
        period,
        tiers: tiers
            .iter()
            .map(|(tier, groups)| summarise(tier.clone(), groups))
            .collect(),
        total: summarise("total".into(), &all),
        most_missing,
        definitions: vec![
            define(
                "known",
                "a relevant contact of the account holds the role: set by hand, else read from the title by the persona dictionary ([personas])",
            ),
            define(
                "engaged",
                "a contact holding the role had an activity in the period",
            ),
            define(
                "share",
                "expected roles ([personas] expected_roles) known or engaged, divided by the expected roles, averaged over the tier's accounts",
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::report::{epoch_day, week_of_day};

    fn member(id: i64, tier: &str, cluster: Option<&str>, engagement: f64) -> Member {
        Member {
            account_id: id,
            domain: format!("a{id}.com"),
            name: None,
            tier: Some(tier.into()),
            cluster: cluster.map(Into::into),
            engagement: Some(engagement),
        }
    }

    fn week(account_id: i64, week: i64, points: f64) -> Week {
        Week {
            account_id,
            week,
            activities: 1,
            points,
        }
    }

    #[test]
    fn coverage_by_tier_cluster_and_week() {
        let period = Period::new(Date::constant(2026, 3, 2), Date::constant(2026, 3, 15)).unwrap();
        let (first, last) = period.weeks();
        assert_eq!(last - first, 1);
        let members = vec![
            member(1, "1:1", Some("banks"), 80.0),
            member(2, "1:1", None, 10.0),
            member(3, "1:many", Some("banks"), 0.0),
            member(4, "1:many", None, 50.0),
        ];
        let weeks = vec![
            week(1, first, 6.0),
            week(1, last, 6.0),       // 12 points in the period: engaged
            week(2, first - 1, 20.0), // before the period: only in the trailing window
            week(3, last, 9.9),       // just under
            week(4, last, 10.0),      // exactly the threshold
        ];
        let report = coverage(period, &members, &weeks, 10.0, 4);
        assert_eq!(report.total.accounts, 4);
        assert_eq!(report.total.engaged, 2);
        assert_eq!(report.total.share, Some(0.5));
        let one = &report.tiers[0];
        assert_eq!(
            (one.tier.as_str(), one.accounts, one.engaged),
            ("1:1", 2, 1)
        );
        assert_eq!(report.clusters[0].cluster, "banks");
        assert_eq!(report.clusters[0].engaged, 1);
        // Week one: account 2's 20 points of the week before count in its 4-week window.
        assert_eq!(report.weekly.len(), 2);
        assert_eq!(report.weekly[0].engaged, 1);
        assert_eq!(report.weekly[1].engaged, 3);
        assert_eq!(report.weekly[0].week, Date::constant(2026, 3, 2));
        // Over time by cluster: of the two banks, account 1 is engaged by the second week.
        assert_eq!(report.weekly[1].clusters["banks"], Some(0.5));
    }

    #[test]
    fn engagement_bands_people_and_topics() {
        let period = Period::new(Date::constant(2026, 3, 2), Date::constant(2026, 3, 8)).unwrap();
        let w = week_of_day(epoch_day(Date::constant(2026, 3, 4)));
        let members = vec![
            member(1, "1:1", None, 80.0),
            member(2, "1:few", None, 45.0),
            member(3, "1:many", None, 0.0),
        ];
        let weeks = vec![week(1, w, 30.0), week(2, w, 12.0), week(3, w, 1.0)];
        let weekly = vec![WeekTotal {
            week: w,
            active_accounts: 3,
            activities: 3,
            points: 43.0,
        }];
        let people = HashMap::from([(1, 3), (2, 1), (3, 5)]);
        let items = vec![
            Item {
                account_id: 1,
                dimension: "topic".into(),
                item: "data privacy".into(),
                n: 4,
            },
            Item {
                account_id: 2,
                dimension: "topic".into(),
                item: "data privacy".into(),
                n: 1,
            },
            Item {
                account_id: 3,
                dimension: "topic".into(),
                item: "not engaged".into(),
                n: 9,
            },
        ];
        let data = EngagementData {
            totals: &weeks,
            weekly: &weekly,
            people: &people,
            items: &items,
        };
        let report = engagement(period, &members, data, 10.0, Bands::default());
        assert_eq!(report.engaged_accounts, 2);
        let counts: Vec<u64> = report.bands.iter().map(|b| b.accounts).collect();
        assert_eq!(counts, vec![1, 1, 0, 1]);
        assert_eq!(report.people.mean, Some(2.0));
        assert_eq!(report.people.top_accounts[0].people, 3);
        assert_eq!(report.topics.len(), 1, "account 3 is not engaged");
        assert_eq!(report.topics[0].accounts, 2);
        assert_eq!(report.topics[0].activities, 5);
        assert_eq!(report.weekly[0].active_accounts, 3);
    }
}
