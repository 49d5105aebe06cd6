//! Clusters of 1:few accounts: suggestions from the TAL's data (shared intent topics and
//! firmographics), clusters made by hand (by trait or by naming members), and membership.
//! An account belongs to at most one cluster.

use super::{Result, TeamError, resolve_account};
use crate::scoring;
use abm_core::cluster::{self, ClusterCandidate, ClusterSuggestion, SuggestOptions, Trait};
use abm_core::score::ScoringConfig;
use abm_core::score::facts::AccountFacts;
use abm_core::tal::{Actor, UserRole};
use abm_store::sql;
use abm_store::{Store, team};

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// The accounts a cluster can be made of: on the TAL (proposed or approved), each with the
/// traits clusters share — firmographics, technologies, and the topics it surged on or
/// researched in the last 90 days.
pub fn candidates(
    store: &mut dyn Store,
    config: &ScoringConfig,
    as_of: i64,
) -> Result<Vec<ClusterCandidate>> {
    let entries: Vec<_> = team::tal_entries(store.sql())?
        .into_iter()
        .filter(|row| row.status == "approved" || row.status == "proposed")
        .collect();
    let ids: Vec<abm_core::AccountId> = entries
        .iter()
        .map(|row| abm_core::AccountId(row.account_id))
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let loaded = scoring::load(store, config, as_of, Some(&ids))?;
    let threshold = config.intent.surge_threshold.get();
    let mut candidates = Vec::new();
    for &position in &loaded.selected {
        let account = &loaded.accounts[position];
        let facts = &account.facts;
        let topics = recent_topics(facts, threshold, as_of);
        candidates.push(ClusterCandidate {
            domain: account.domain.clone(),
            industry: facts.industry.clone(),
            region: facts.region.clone(),
            country: facts.country.clone(),
            technologies: facts.technologies.clone(),
            topics,
        });
    }
    Ok(candidates)
}

/// The topics an account surged on (third-party intent at or above `threshold`) or
/// researched on our pages in the 90 days before `as_of`, sorted, each once.
pub fn recent_topics(facts: &AccountFacts, threshold: f64, as_of: i64) -> Vec<String> {
    let since = as_of - 90 * MICROS_PER_DAY;
    let mut topics: Vec<String> = facts
        .intent
        .iter()
        .filter(|week| f64::from(week.score) >= threshold)
        .filter(|week| scoring::day_of(since).is_some_and(|day| week.date >= day))
        .map(|week| week.topic.clone())
        .collect();
    topics.extend(
        facts
            .activities
            .iter()
            .filter(|activity| activity.at >= since && activity.at <= as_of && !activity.noise)
            .filter_map(|activity| activity.topic)
            .filter_map(|topic| facts.topics.get(topic.index()).cloned()),
    );
    topics.sort_by_key(|topic| topic.to_lowercase());
    topics.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    topics
}

/// Suggested clusters among the TAL's accounts not yet in a cluster.
pub fn suggest(
    store: &mut dyn Store,
    config: &ScoringConfig,
    options: &SuggestOptions,
    as_of: i64,
) -> Result<Vec<ClusterSuggestion>> {
    let clustered: std::collections::HashSet<String> = team::clusters(store.sql())?
        .into_iter()
        .flat_map(|cluster| cluster.members)
        .collect();
    let mut candidates = candidates(store, config, as_of)?;
    candidates.retain(|candidate| !clustered.contains(&candidate.domain));
    Ok(cluster::suggest(&candidates, options))
}

fn writable(actor: &Actor) -> Result<()> {
    if actor.role == UserRole::Viewer && !actor.fresh_install {
        return Err(TeamError::refused(format!(
            "{} is a viewer and may not change clusters",
            actor.email
        )));
    }
    Ok(())
}

/// The longest trait value kept ("industry = …").
pub const MAX_TRAIT_CHARS: usize = 200;

/// One cluster to create: its name, traits and members (domains).
#[derive(Debug, Clone)]
pub struct NewCluster {
    pub name: String,
    pub traits: Vec<Trait>,
    pub members: Vec<String>,
}

/// Creates a cluster with its traits and members (domains), all or nothing. `origin` is
/// `manual` or `suggested`.
pub fn create(
    store: &mut dyn Store,
    actor: &Actor,
    name: &str,
    traits: &[Trait],
    members: &[String],
    origin: &str,
    at: i64,
) -> Result<i64> {
    let cluster = NewCluster {
        name: name.to_owned(),
        traits: traits.to_vec(),
        members: members.to_vec(),
    };
    Ok(
        create_all(store, actor, std::slice::from_ref(&cluster), origin, at)?
            .first()
            .copied()
            .unwrap_or_default(),
    )
}

/// Creates several clusters in one transaction (`cluster suggest --apply`): all or none.
pub fn create_all(
    store: &mut dyn Store,
    actor: &Actor,
    clusters: &[NewCluster],
    origin: &str,
    at: i64,
) -> Result<Vec<i64>> {
    writable(actor)?;
    for cluster in clusters {
        let name = cluster.name.trim();
        if name.is_empty() || name.chars().count() > 120 {
            return Err(TeamError::refused(
                "a cluster needs a name of 1 to 120 characters",
            ));
        }
        if let Some(long) = cluster
            .traits
            .iter()
            .find(|t| t.value.chars().count() > MAX_TRAIT_CHARS)
        {
            return Err(TeamError::refused(format!(
                "the {} of a trait is at most {MAX_TRAIT_CHARS} characters",
                long.kind.as_str()
            )));
        }
    }
    sql::transaction(store.sql(), |sql| {
        let mut ids = Vec::new();
        for cluster in clusters {
            let name = cluster.name.trim();
            if team::clusters(sql)?
                .iter()
                .any(|existing| existing.name.to_lowercase() == name.to_lowercase())
            {
                return Err(TeamError::refused(format!(
                    "a cluster named {name:?} exists already"
                )));
            }
            let traits_text = cluster
                .traits
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            let id = team::create_cluster(sql, name, &traits_text, origin, &actor.email, at)?;
            add_members(sql, actor, id, &cluster.members, at)?;
            super::log(
                sql,
                actor,
                "cluster create",
                name,
                &format!(
                    "{origin}; traits: {traits_text}; members: {}",
                    cluster.members.join(" ")
                ),
                at,
            )?;
            ids.push(id);
        }
        Ok(ids)
    })
}

fn add_members(
    sql: &mut dyn sql::Sql,
    actor: &Actor,
    cluster_id: i64,
    members: &[String],
    at: i64,
) -> Result<()> {
    let mut refusals = Vec::new();
    for domain in members {
        match resolve_account(sql, domain)? {
            Ok(account) => match team::tal_entry(sql, account.id)? {
                Some(row) if row.status == "approved" || row.status == "proposed" => {
                    team::set_cluster_member(sql, cluster_id, account.id, &actor.email, at)?;
                }
                _ => refusals.push(format!(
                    "{} is not on the TAL: propose it first (abm tal propose {})",
                    account.domain, account.domain
                )),
            },
            Err(refusal) => refusals.push(refusal),
        }
    }
    if refusals.is_empty() {
        Ok(())
    } else {
        Err(TeamError::Refused(refusals))
    }
}

/// Adds accounts to an existing cluster (moving them from any other).
pub fn add(
    store: &mut dyn Store,
    actor: &Actor,
    name: &str,
    members: &[String],
    at: i64,
) -> Result<()> {
    writable(actor)?;
    sql::transaction(store.sql(), |sql| {
        let Some(cluster) = team::clusters(sql)?
            .into_iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
        else {
            return Err(TeamError::refused(format!(
                "no cluster named {name:?}: abm cluster list shows them"
            )));
        };
        add_members(sql, actor, cluster.id, members, at)?;
        super::log(
            sql,
            actor,
            "cluster add",
            &cluster.name,
            &members.join(" "),
            at,
        )
    })
}

/// Takes accounts out of their cluster.
pub fn remove(store: &mut dyn Store, actor: &Actor, members: &[String], at: i64) -> Result<()> {
    writable(actor)?;
    sql::transaction(store.sql(), |sql| {
        let mut refusals = Vec::new();
        for domain in members {
            match resolve_account(sql, domain)? {
                Ok(account) => {
                    if !team::remove_cluster_member(sql, account.id)? {
                        refusals.push(format!("{} is in no cluster", account.domain));
                    }
                }
                Err(refusal) => refusals.push(refusal),
            }
        }
        if !refusals.is_empty() {
            return Err(TeamError::Refused(refusals));
        }
        super::log(
            sql,
            actor,
            "cluster remove",
            "members",
            &members.join(" "),
            at,
        )
    })
}

/// Deletes a cluster (its accounts stay on the TAL, in no cluster).
pub fn delete(store: &mut dyn Store, actor: &Actor, name: &str, at: i64) -> Result<()> {
    writable(actor)?;
    sql::transaction(store.sql(), |sql| {
        let Some(cluster) = team::clusters(sql)?
            .into_iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
        else {
            return Err(TeamError::refused(format!("no cluster named {name:?}")));
        };
        team::delete_cluster(sql, cluster.id)?;
        super::log(
            sql,
            actor,
            "cluster delete",
            &cluster.name,
            &cluster.members.join(" "),
            at,
        )
    })
}
