//! Clusters: groups of 5–20 target accounts that share a trait (industry, region, country,
//! technology, or the challenge they research), run as one 1:few programme. This module
//! owns the trait a cluster is defined by, the membership of a manual cluster
//! ([`members_of`]) and the suggestion of clusters from the data ([`suggest`]).
//!
//! # How clusters are suggested
//!
//! 1. **Enumerate groups.** Every trait value held by an account defines a group (all
//!    accounts in "Software"), and so does every allowed *pair*: a firmographic trait
//!    (industry, region, country, technology) with a topic ("Software × Intent Data"), or an
//!    industry with a region ("Financial Services in EMEA"). Other pairs (two topics, two
//!    technologies, region with country) are left out: they rarely say who the content is
//!    for, and they multiply the groups to weigh.
//! 2. **Score each group** by how specific it is and how well its size fits. 1:few content
//!    is written per industry *and* problem, so a firmographic-with-topic pair counts 3, an
//!    industry-with-region pair 2 and a single trait 1. A group within `min_size..=max_size`
//!    keeps its whole specificity; a larger one is scaled by `max_size / size`, because a
//!    trait that half the list shares says little about any one account. Ties go to the
//!    larger group (one programme reaches more accounts), then to the group whose traits
//!    sort first (industry before region before country before technology before topic;
//!    values alphabetically), so the result never depends on the input order.
//! 3. **Pick greedily.** The best group becomes a suggestion, its accounts leave the pool,
//!    every group is re-scored on the accounts left, and so on until no group of at least
//!    `min_size` remains. An account is therefore in at most one suggestion. A group larger
//!    than `max_size` keeps the `max_size` members that share the most *other* traits with
//!    the group (for each of a member's other traits, how many other members hold it;
//!    summed), ties by domain; the rest stay in the pool and may form a second cluster of
//!    the same traits, named with a " (2)" suffix.
//!
//! Values compare case-insensitively, trimmed, with inner whitespace collapsed ("intent
//! data" is "Intent  Data"); a suggestion shows each value in its most common original
//! spelling (ties to the alphabetically first). A domain listed twice is one account with
//! the traits of both records.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

/// What kind of trait a cluster shares.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum TraitKind {
    Industry,
    Region,
    Country,
    Technology,
    /// An intent or content topic: the challenge the accounts research.
    Topic,
}

/// The kinds, as a user types them, for error messages (kept equal to [`TraitKind::ALL`] by
/// a test).
const KIND_KEYS: &str = "industry, region, country, technology, topic";

impl TraitKind {
    pub const ALL: [TraitKind; 5] = [
        TraitKind::Industry,
        TraitKind::Region,
        TraitKind::Country,
        TraitKind::Technology,
        TraitKind::Topic,
    ];

    /// The key used in `industry=Software`, in JSON and in the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            TraitKind::Industry => "industry",
            TraitKind::Region => "region",
            TraitKind::Country => "country",
            TraitKind::Technology => "technology",
            TraitKind::Topic => "topic",
        }
    }

    /// The kind named by `key`, trimmed and case-insensitive.
    pub fn from_key(key: &str) -> Option<TraitKind> {
        let key = key.trim();
        TraitKind::ALL
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(key))
    }

    /// Firmographic and technographic traits describe who the account is; a topic, what it
    /// is trying to solve.
    fn is_firmographic(self) -> bool {
        self != TraitKind::Topic
    }
}

impl fmt::Display for TraitKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A text that is not a trait.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraitError {
    #[error("expected KIND=VALUE such as industry=Software, got {text:?} (kinds: {KIND_KEYS})")]
    MissingEquals { text: String },
    #[error("unknown trait kind {kind:?} (kinds: {KIND_KEYS})")]
    UnknownKind { kind: String },
    #[error("no value after {kind}= (for example {kind}=Software)")]
    EmptyValue { kind: TraitKind },
}

/// One trait a cluster's accounts share: a kind and a value ("industry = Software").
/// The value is kept as written; matching an account ignores case and extra whitespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Trait {
    pub kind: TraitKind,
    pub value: String,
}

impl Trait {
    /// Parses `KIND=VALUE` ("industry=Software", "topic = Intent Data").
    pub fn parse(text: &str) -> Result<Trait, TraitError> {
        let Some((kind, value)) = text.split_once('=') else {
            return Err(TraitError::MissingEquals {
                text: text.trim().to_owned(),
            });
        };
        let kind = TraitKind::from_key(kind).ok_or_else(|| TraitError::UnknownKind {
            kind: kind.trim().to_owned(),
        })?;
        let value = value.trim();
        if value.is_empty() {
            return Err(TraitError::EmptyValue { kind });
        }
        Ok(Trait {
            kind,
            value: value.to_owned(),
        })
    }
}

impl FromStr for Trait {
    type Err = TraitError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Trait::parse(text)
    }
}

impl fmt::Display for Trait {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} = {}", self.kind, self.value)
    }
}

/// An account as clustering sees it: its domain and the traits it may share.
#[derive(Debug, Clone, Default)]
pub struct ClusterCandidate {
    pub domain: String,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub country: Option<String>,
    pub technologies: Vec<String>,
    /// intent topics the account is surging on or researching
    pub topics: Vec<String>,
}

impl ClusterCandidate {
    /// Whether the account has the trait (values compared case-insensitively and trimmed).
    pub fn has(&self, wanted: &Trait) -> bool {
        let wanted_key = normalize(&wanted.value);
        !wanted_key.is_empty()
            && self
                .trait_values()
                .any(|(kind, value)| kind == wanted.kind && normalize(value) == wanted_key)
    }

    /// Every trait value the account holds, trimmed, empty ones skipped.
    fn trait_values(&self) -> impl Iterator<Item = (TraitKind, &str)> {
        let single = [
            (TraitKind::Industry, self.industry.as_deref()),
            (TraitKind::Region, self.region.as_deref()),
            (TraitKind::Country, self.country.as_deref()),
        ]
        .into_iter()
        .filter_map(|(kind, value)| value.map(|value| (kind, value)));
        let technologies = self
            .technologies
            .iter()
            .map(|value| (TraitKind::Technology, value.as_str()));
        let topics = self
            .topics
            .iter()
            .map(|value| (TraitKind::Topic, value.as_str()));
        single
            .chain(technologies)
            .chain(topics)
            .map(|(kind, value)| (kind, value.trim()))
            .filter(|(_, value)| !value.is_empty())
    }
}

/// A proposed cluster.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ClusterSuggestion {
    /// Readable: "Software × Intent Data", "Financial Services in EMEA", "Uses Salesforce".
    pub name: String,
    /// The one or two traits every member shares.
    pub traits: Vec<Trait>,
    /// The members' domains, sorted.
    pub members: Vec<String>,
}

/// Cluster sizes wanted: 1:few programmes run for 5 to 20 accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SuggestOptions {
    pub min_size: usize,
    pub max_size: usize,
}

impl Default for SuggestOptions {
    fn default() -> Self {
        SuggestOptions {
            min_size: 5,
            max_size: 20,
        }
    }
}

/// The form in which values compare: trimmed, inner whitespace collapsed, lower case.
fn normalize(value: &str) -> String {
    value
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A trait in comparable form.
type TraitKey = (TraitKind, String);

/// Each distinct domain with the union of its records' traits, sorted by domain.
fn accounts_by_domain(candidates: &[ClusterCandidate]) -> BTreeMap<&str, BTreeSet<TraitKey>> {
    let mut accounts: BTreeMap<&str, BTreeSet<TraitKey>> = BTreeMap::new();
    for candidate in candidates {
        let traits = accounts.entry(candidate.domain.as_str()).or_default();
        traits.extend(
            candidate
                .trait_values()
                .map(|(kind, value)| (kind, normalize(value))),
        );
    }
    accounts
}

/// The domains that have every one of `traits`, sorted (all domains when `traits` is
/// empty): the members of a cluster defined by hand.
pub fn members_of(candidates: &[ClusterCandidate], traits: &[Trait]) -> Vec<String> {
    let wanted: Vec<TraitKey> = traits
        .iter()
        .map(|wanted| (wanted.kind, normalize(&wanted.value)))
        .collect();
    accounts_by_domain(candidates)
        .into_iter()
        .filter(|(_, held)| wanted.iter().all(|key| held.contains(key)))
        .map(|(domain, _)| domain.to_owned())
        .collect()
}

/// A candidate group: one trait, or an allowed pair (ids into the sorted trait list, the
/// smaller first). The derived order is the final tie-break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum GroupKey {
    Pair(usize, usize),
    Single(usize),
}

impl GroupKey {
    fn trait_ids(self) -> Vec<usize> {
        match self {
            GroupKey::Pair(first, second) => vec![first, second],
            GroupKey::Single(only) => vec![only],
        }
    }
}

/// Which pairs form groups: firmographic with topic, industry with region (see the module
/// doc for why only these). `first` sorts before `second`, so the kinds come in enum order.
fn is_allowed_pair(first: TraitKind, second: TraitKind) -> bool {
    (first.is_firmographic() && second == TraitKind::Topic)
        || (first == TraitKind::Industry && second == TraitKind::Region)
}

/// How specific a group is: firmographic × topic 3, industry × region 2, one trait 1.
fn specificity(key: GroupKey, traits: &[TraitKey]) -> u128 {
    match key {
        GroupKey::Pair(_, second) if traits[second].0 == TraitKind::Topic => 3,
        GroupKey::Pair(..) => 2,
        GroupKey::Single(_) => 1,
    }
}

/// A group's standing: the score as the fraction `numerator / denominator`
/// (specificity × min(size, max) / size) and the size it would have once cut.
struct Standing {
    numerator: u128,
    denominator: u128,
    effective_size: usize,
}

impl Standing {
    fn of(key: GroupKey, size: usize, max_size: usize, traits: &[TraitKey]) -> Standing {
        let effective_size = size.min(max_size);
        Standing {
            numerator: specificity(key, traits) * effective_size as u128,
            denominator: size as u128,
            effective_size,
        }
    }

    /// Better: a higher score, then a larger group.
    fn beats(&self, other: &Standing) -> bool {
        let mine = self.numerator * other.denominator;
        let theirs = other.numerator * self.denominator;
        mine > theirs || (mine == theirs && self.effective_size > other.effective_size)
    }
}

/// Proposes clusters; each account is in at most one suggestion, best first. Deterministic:
/// the same accounts in any order give the same suggestions. The algorithm and its reasons
/// are in the module documentation.
pub fn suggest(
    candidates: &[ClusterCandidate],
    options: &SuggestOptions,
) -> Vec<ClusterSuggestion> {
    let min_size = options.min_size.max(1);
    let max_size = options.max_size.max(min_size);

    // The spellings seen for each trait, counted per record.
    let mut spellings: BTreeMap<TraitKey, BTreeMap<&str, usize>> = BTreeMap::new();
    for candidate in candidates {
        for (kind, value) in candidate.trait_values() {
            *spellings
                .entry((kind, normalize(value)))
                .or_default()
                .entry(value)
                .or_default() += 1;
        }
    }
    let traits: Vec<TraitKey> = spellings.keys().cloned().collect();
    let display: Vec<&str> = spellings
        .values()
        .map(|counts| {
            // Most common; among equals the first in byte order (BTreeMap iteration).
            let mut best = ("", 0);
            for (&spelling, &count) in counts {
                if count > best.1 {
                    best = (spelling, count);
                }
            }
            best.0
        })
        .collect();
    let trait_id: BTreeMap<&TraitKey, usize> = traits
        .iter()
        .enumerate()
        .map(|(id, key)| (key, id))
        .collect();

    // Accounts in domain order, each with its sorted trait ids.
    let accounts: Vec<(&str, Vec<usize>)> = accounts_by_domain(candidates)
        .into_iter()
        .map(|(domain, held)| {
            let ids = held.iter().filter_map(|key| trait_id.get(key).copied());
            (domain, ids.collect())
        })
        .collect();

    // Every group with its members (account indices, ascending).
    let mut members_by_group: BTreeMap<GroupKey, Vec<usize>> = BTreeMap::new();
    for (account, (_, held)) in accounts.iter().enumerate() {
        for (position, &first) in held.iter().enumerate() {
            members_by_group
                .entry(GroupKey::Single(first))
                .or_default()
                .push(account);
            for &second in &held[position + 1..] {
                if is_allowed_pair(traits[first].0, traits[second].0) {
                    members_by_group
                        .entry(GroupKey::Pair(first, second))
                        .or_default()
                        .push(account);
                }
            }
        }
    }
    let groups: Vec<(GroupKey, Vec<usize>)> = members_by_group.into_iter().collect();
    let mut live_size: Vec<usize> = groups.iter().map(|(_, members)| members.len()).collect();
    let mut groups_of_account: Vec<Vec<usize>> = vec![Vec::new(); accounts.len()];
    for (group, (_, members)) in groups.iter().enumerate() {
        for &account in members {
            groups_of_account[account].push(group);
        }
    }

    let mut in_pool = vec![true; accounts.len()];
    let mut times_named: BTreeMap<String, usize> = BTreeMap::new();
    let mut suggestions = Vec::new();
    loop {
        let mut best: Option<(usize, Standing)> = None;
        for (group, (key, _)) in groups.iter().enumerate() {
            if live_size[group] < min_size {
                continue;
            }
            let standing = Standing::of(*key, live_size[group], max_size, &traits);
            // Groups are visited in key order, so an equal standing keeps the earlier key.
            if best
                .as_ref()
                .is_none_or(|(_, current)| standing.beats(current))
            {
                best = Some((group, standing));
            }
        }
        let Some((group, _)) = best else { break };
        let (key, members) = &groups[group];
        let group_traits = key.trait_ids();
        let mut chosen: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&account| in_pool[account])
            .collect();
        if chosen.len() > max_size {
            chosen = most_cohesive(&chosen, &accounts, &group_traits, max_size);
        }
        for &account in &chosen {
            in_pool[account] = false;
            for &other_group in &groups_of_account[account] {
                live_size[other_group] -= 1;
            }
        }

        let mut name = group_name(*key, &traits, &display);
        let seen = times_named.entry(name.clone()).or_default();
        *seen += 1;
        if *seen > 1 {
            name = format!("{name} ({seen})");
        }
        suggestions.push(ClusterSuggestion {
            name,
            traits: group_traits
                .iter()
                .map(|&id| Trait {
                    kind: traits[id].0,
                    value: display[id].to_owned(),
                })
                .collect(),
            // Account indices are in domain order, and `chosen` stays ascending.
            members: chosen
                .iter()
                .map(|&account| accounts[account].0.to_owned())
                .collect(),
        });
    }
    suggestions
}

/// The `keep` members (account indices, ascending) that share the most other traits with
/// the rest of the group; ties to the earlier domain. Returned ascending.
fn most_cohesive(
    members: &[usize],
    accounts: &[(&str, Vec<usize>)],
    group_traits: &[usize],
    keep: usize,
) -> Vec<usize> {
    let mut holders: BTreeMap<usize, usize> = BTreeMap::new();
    for &account in members {
        for &held in &accounts[account].1 {
            *holders.entry(held).or_default() += 1;
        }
    }
    let mut ranked: Vec<(usize, usize)> = members
        .iter()
        .map(|&account| {
            let shared: usize = accounts[account]
                .1
                .iter()
                .filter(|held| !group_traits.contains(held))
                .map(|held| holders.get(held).map_or(0, |count| count - 1))
                .sum();
            (shared, account)
        })
        .collect();
    ranked.sort_by(|left, right| right.0.cmp(&left.0).then(left.1.cmp(&right.1)));
    let mut kept: Vec<usize> = ranked
        .into_iter()
        .take(keep)
        .map(|(_, account)| account)
        .collect();
    kept.sort_unstable();
    kept
}

/// "Software × Intent Data", "Financial Services in EMEA", "Uses Salesforce",
/// "Researching Payments".
fn group_name(key: GroupKey, traits: &[TraitKey], display: &[&str]) -> String {
    let firmographic = |id: usize| match traits[id].0 {
        TraitKind::Technology => format!("Uses {}", display[id]),
        _ => display[id].to_owned(),
    };
    match key {
        GroupKey::Pair(first, second) if traits[second].0 == TraitKind::Topic => {
            format!("{} × {}", firmographic(first), display[second])
        }
        GroupKey::Pair(first, second) => format!("{} in {}", display[first], display[second]),
        GroupKey::Single(only) if traits[only].0 == TraitKind::Topic => {
            format!("Researching {}", display[only])
        }
        GroupKey::Single(only) => firmographic(only),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn account(domain: &str, industry: &str, region: &str, topics: &[&str]) -> ClusterCandidate {
        ClusterCandidate {
            domain: domain.to_owned(),
            industry: Some(industry.to_owned()).filter(|value| !value.is_empty()),
            region: Some(region.to_owned()).filter(|value| !value.is_empty()),
            topics: topics.iter().map(|topic| (*topic).to_owned()).collect(),
            ..ClusterCandidate::default()
        }
    }

    fn names(suggestions: &[ClusterSuggestion]) -> Vec<&str> {
        suggestions
            .iter()
            .map(|suggestion| suggestion.name.as_str())
            .collect()
    }

    /// 6 software accounts researching Intent Data (one spelled in lower case), 7 fintechs
    /// in EMEA researching Payments, and accounts that share nothing much.
    fn small_world() -> Vec<ClusterCandidate> {
        let mut world = Vec::new();
        for number in 1..=6 {
            let topic = if number == 3 {
                " intent data "
            } else {
                "Intent Data"
            };
            let region = if number % 2 == 0 { "NA" } else { "APAC" };
            world.push(account(
                &format!("soft{number}.com"),
                "Software",
                region,
                &[topic],
            ));
        }
        for number in 1..=7 {
            world.push(account(
                &format!("fin{number}.com"),
                "Financial Services",
                "EMEA",
                &["Payments"],
            ));
        }
        world.push(account("lonely.com", "Mining", "LATAM", &["Safety"]));
        world.push(account("retail1.com", "Retail", "NA", &["Loyalty"]));
        world.push(account("retail2.com", "Retail", "NA", &["Loyalty"]));
        world
    }

    #[test]
    fn the_small_world_gives_its_two_clusters() {
        let suggestions = suggest(&small_world(), &SuggestOptions::default());
        assert_eq!(
            names(&suggestions),
            ["Financial Services × Payments", "Software × Intent Data"]
        );
        let fintech = &suggestions[0];
        assert_eq!(
            fintech.traits,
            [
                Trait::parse("industry=Financial Services").expect("trait"),
                Trait::parse("topic=Payments").expect("trait"),
            ]
        );
        let expected: Vec<String> = (1..=7).map(|number| format!("fin{number}.com")).collect();
        assert_eq!(fintech.members, expected);
        let software = &suggestions[1];
        let expected: Vec<String> = (1..=6).map(|number| format!("soft{number}.com")).collect();
        assert_eq!(software.members, expected);
        assert_eq!(
            software.traits[1].value, "Intent Data",
            "most common spelling"
        );
    }

    #[test]
    fn industry_with_region_is_named_by_place() {
        let world: Vec<ClusterCandidate> = (1..=5)
            .map(|number| account(&format!("bank{number}.de"), "Banking", "EMEA", &[]))
            .collect();
        let suggestions = suggest(&world, &SuggestOptions::default());
        assert_eq!(names(&suggestions), ["Banking in EMEA"]);
    }

    #[test]
    fn single_traits_are_named_readably() {
        let world: Vec<ClusterCandidate> = (1..=5)
            .map(|number| ClusterCandidate {
                domain: format!("crm{number}.com"),
                technologies: vec!["Salesforce".to_owned()],
                ..ClusterCandidate::default()
            })
            .collect();
        assert_eq!(
            names(&suggest(&world, &SuggestOptions::default())),
            ["Uses Salesforce"]
        );
        let world: Vec<ClusterCandidate> = (1..=5)
            .map(|number| account(&format!("t{number}.com"), "", "", &["Zero Trust"]))
            .collect();
        assert_eq!(
            names(&suggest(&world, &SuggestOptions::default())),
            ["Researching Zero Trust"]
        );
    }

    #[test]
    fn singletons_and_small_groups_give_nothing() {
        let mut world: Vec<ClusterCandidate> = (1..=4)
            .map(|number| account(&format!("four{number}.com"), "Software", "NA", &["CDP"]))
            .collect();
        world.push(account("alone.com", "Mining", "LATAM", &["Safety"]));
        assert_eq!(suggest(&world, &SuggestOptions::default()), []);
        assert_eq!(suggest(&[], &SuggestOptions::default()), []);
    }

    #[test]
    fn a_group_of_thirty_is_cut_to_twenty_keeping_the_most_alike() {
        // 30 retailers; the first 10 each use a tool no one else uses, so no one shares more.
        let world: Vec<ClusterCandidate> = (1..=30)
            .map(|number| {
                let domain = format!("shop{number:02}.com");
                if number > 10 {
                    account(&domain, "Retail", "", &[])
                } else {
                    ClusterCandidate {
                        domain,
                        industry: Some("Retail".to_owned()),
                        technologies: vec![format!("tool{number}")],
                        ..ClusterCandidate::default()
                    }
                }
            })
            .collect();
        let options = SuggestOptions {
            min_size: 11,
            max_size: 20,
        };
        let suggestions = suggest(&world, &options);
        assert_eq!(names(&suggestions), ["Retail"]);
        assert_eq!(suggestions[0].members.len(), 20);
        // All accounts share nothing else, so the first 20 domains are kept; the 10 left
        // are under min_size.
        let expected: Vec<String> = (1..=20)
            .map(|number| format!("shop{number:02}.com"))
            .collect();
        assert_eq!(suggestions[0].members, expected);

        let cohesive: Vec<ClusterCandidate> = (1..=30)
            .map(|number| {
                let domain = format!("shop{number:02}.com");
                let mut candidate = account(&domain, "Retail", "", &[]);
                if number > 10 {
                    candidate.country = Some("France".to_owned());
                }
                candidate
            })
            .collect();
        let suggestions = suggest(&cohesive, &SuggestOptions::default());
        // "France" (20) and "Retail" (30) are single traits; France fits the range exactly
        // and wins, then the 10 other retailers form a second cluster.
        assert_eq!(names(&suggestions), ["France", "Retail"]);
        let expected: Vec<String> = (11..=30)
            .map(|number| format!("shop{number:02}.com"))
            .collect();
        assert_eq!(suggestions[0].members, expected);
        assert_eq!(suggestions[1].members.len(), 10);
    }

    #[test]
    fn the_cut_prefers_members_sharing_other_traits() {
        let world: Vec<ClusterCandidate> = (1..=30)
            .map(|number| ClusterCandidate {
                domain: format!("shop{number:02}.com"),
                industry: Some("Retail".to_owned()),
                // The last 20 share Shopify; alone it is a group of 20, but Retail counts
                // it among the other traits of its members.
                technologies: if number > 10 {
                    vec!["Shopify".to_owned()]
                } else {
                    vec![]
                },
                ..ClusterCandidate::default()
            })
            .collect();
        let options = SuggestOptions {
            min_size: 5,
            max_size: 25,
        };
        let suggestions = suggest(&world, &options);
        // Retail (30 → 25, score 25/30) loses to Shopify (20, score 1).
        assert_eq!(names(&suggestions), ["Uses Shopify", "Retail"]);
        let only_retail = suggest(
            &world,
            &SuggestOptions {
                min_size: 21,
                max_size: 25,
            },
        );
        // Only Retail reaches 21; its cut keeps the 20 Shopify users and the first 5 others.
        assert_eq!(names(&only_retail), ["Retail"]);
        let members = &only_retail[0].members;
        assert_eq!(members.len(), 25);
        assert!(members.contains(&"shop30.com".to_owned()));
        assert!(members.contains(&"shop05.com".to_owned()));
        assert!(!members.contains(&"shop06.com".to_owned()));
    }

    #[test]
    fn a_large_group_splits_into_numbered_clusters() {
        let world: Vec<ClusterCandidate> = (1..=45)
            .map(|number| account(&format!("s{number:02}.com"), "Software", "", &[]))
            .collect();
        let suggestions = suggest(&world, &SuggestOptions::default());
        assert_eq!(
            names(&suggestions),
            ["Software", "Software (2)", "Software (3)"]
        );
        let sizes: Vec<usize> = suggestions.iter().map(|s| s.members.len()).collect();
        assert_eq!(sizes, [20, 20, 5]);
    }

    #[test]
    fn a_domain_listed_twice_is_one_account() {
        let mut world: Vec<ClusterCandidate> = (1..=4)
            .map(|number| account(&format!("d{number}.com"), "Software", "", &["CDP"]))
            .collect();
        world.push(account("d5.com", "Software", "", &[]));
        world.push(account("d5.com", "", "", &["cdp"]));
        let suggestions = suggest(&world, &SuggestOptions::default());
        assert_eq!(names(&suggestions), ["Software × CDP"]);
        assert_eq!(suggestions[0].members.len(), 5);
    }

    #[test]
    fn members_of_matches_every_trait_ignoring_case() {
        let world = small_world();
        let traits = [
            Trait::parse("industry = software").expect("trait"),
            Trait::parse("topic=INTENT  DATA").expect("trait"),
            Trait::parse("region=na").expect("trait"),
        ];
        assert_eq!(
            members_of(&world, &traits),
            ["soft2.com", "soft4.com", "soft6.com"]
        );
        assert_eq!(members_of(&world, &[]).len(), world.len());
        assert!(world[0].has(&traits[0]));
        assert!(!world[0].has(&Trait::parse("industry=Retail").expect("trait")));
    }

    #[test]
    fn traits_parse_and_display() {
        let parsed = Trait::parse("topic = Intent Data").expect("trait");
        assert_eq!(parsed.kind, TraitKind::Topic);
        assert_eq!(parsed.value, "Intent Data");
        assert_eq!(parsed.to_string(), "topic = Intent Data");
        assert_eq!(
            "Technology=Salesforce"
                .parse::<Trait>()
                .expect("trait")
                .to_string(),
            "technology = Salesforce"
        );
    }

    #[test]
    fn trait_errors_say_what_is_allowed() {
        let cases = [
            (
                "Software",
                "expected KIND=VALUE such as industry=Software, got \"Software\" \
                 (kinds: industry, region, country, technology, topic)",
            ),
            (
                "sector=Software",
                "unknown trait kind \"sector\" (kinds: industry, region, country, technology, topic)",
            ),
            (
                "industry = ",
                "no value after industry= (for example industry=Software)",
            ),
        ];
        for (input, message) in cases {
            let error = Trait::parse(input).expect_err(input);
            assert_eq!(error.to_string(), message, "{input}");
        }
    }

    #[test]
    fn the_kind_list_in_messages_is_every_kind() {
        let keys: Vec<&str> = TraitKind::ALL.iter().map(|kind| kind.as_str()).collect();
        assert_eq!(KIND_KEYS, keys.join(", "));
        for kind in TraitKind::ALL {
            assert_eq!(
                TraitKind::from_key(&kind.as_str().to_uppercase()),
                Some(kind)
            );
        }
    }

    fn arbitrary_candidate() -> impl Strategy<Value = ClusterCandidate> {
        let pick = |values: &'static [&'static str]| {
            proptest::option::of(proptest::sample::select(values).prop_map(str::to_owned))
        };
        let subset = |values: &'static [&'static str]| {
            proptest::sample::subsequence(values, 0..=values.len())
                .prop_map(|chosen| chosen.into_iter().map(str::to_owned).collect::<Vec<_>>())
        };
        (
            0..40usize,
            pick(&["Software", "software ", "Retail", "Banking"]),
            pick(&["EMEA", "NA"]),
            pick(&["France", "Germany"]),
            subset(&["Salesforce", "HubSpot", "Shopify"]),
            subset(&["Intent Data", "intent data", "Payments", "CDP"]),
        )
            .prop_map(
                |(number, industry, region, country, technologies, topics)| ClusterCandidate {
                    domain: format!("a{number}.com"),
                    industry,
                    region,
                    country,
                    technologies,
                    topics,
                },
            )
    }

    fn world_and_shuffle()
    -> impl Strategy<Value = (Vec<ClusterCandidate>, Vec<ClusterCandidate>, usize, usize)> {
        (
            proptest::collection::vec(arbitrary_candidate(), 0..80),
            1..8usize,
            0..12usize,
        )
            .prop_flat_map(|(world, min_size, extra)| {
                let shuffled = Just(world.clone()).prop_shuffle();
                (
                    Just(world),
                    shuffled,
                    Just(min_size),
                    Just(min_size + extra),
                )
            })
    }

    proptest! {
        #[test]
        fn suggestions_are_deterministic_and_well_formed(
            (world, shuffled, min_size, max_size) in world_and_shuffle()
        ) {
            let options = SuggestOptions { min_size, max_size };
            let suggestions = suggest(&world, &options);
            prop_assert_eq!(&suggestions, &suggest(&shuffled, &options));
            let mut seen = BTreeSet::new();
            for suggestion in &suggestions {
                prop_assert!((min_size..=max_size).contains(&suggestion.members.len()));
                prop_assert!(suggestion.members.is_sorted());
                prop_assert!((1..=2).contains(&suggestion.traits.len()));
                let holders = members_of(&world, &suggestion.traits);
                for member in &suggestion.members {
                    prop_assert!(seen.insert(member.clone()), "{} twice", member);
                    prop_assert!(holders.contains(member));
                }
            }
        }
    }
}
