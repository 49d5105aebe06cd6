//! Bot noise: activity that no person produced. Two patterns are recognised, both from the
//! activities of one account in time order: a burst (more events from one person within one
//! minute than a person can make) and a machine open (an email open or click within seconds
//! of the send to the same person, as mail scanners do). Marked activities count nothing.

use crate::entity::ActivityKind;
use crate::score::config::NoiseConfig;
use crate::score::facts::{Person, ScoredActivity};
use std::collections::HashMap;

const MICROS_PER_MINUTE: i64 = 60_000_000;

/// Marks noise in activities sorted by time. Every activity of a burst minute is marked,
/// whatever order the burst's events came in, so the marking depends on the set of
/// activities only.
pub fn mark(config: &NoiseConfig, activities: &mut [ScoredActivity]) {
    let limit = config.max_events_per_minute.0 as usize;
    let window = i64::from(config.machine_open_seconds.0) * 1_000_000;
    let mut last_send: HashMap<Person, i64> = HashMap::new();
    let mut start = 0;
    while start < activities.len() {
        // Activities are in time order, so one minute's events are one run; a run no longer
        // than the limit cannot hold a burst, which spares the counting almost always.
        let minute = activities[start].at.div_euclid(MICROS_PER_MINUTE);
        let mut end = start + 1;
        while end < activities.len() && activities[end].at.div_euclid(MICROS_PER_MINUTE) == minute {
            end += 1;
        }
        let run = &mut activities[start..end];
        for activity in run.iter_mut() {
            activity.noise = false;
        }
        if limit > 0 && run.len() > limit {
            let mut counts: HashMap<Person, usize> = HashMap::new();
            for activity in run.iter() {
                *counts.entry(activity.person).or_default() += 1;
            }
            for activity in run.iter_mut() {
                activity.noise = !activity.person.is_anonymous()
                    && counts.get(&activity.person).is_some_and(|&n| n > limit);
            }
        }
        start = end;
    }
    for activity in activities.iter_mut() {
        match activity.kind {
            ActivityKind::EmailSent => {
                last_send.insert(activity.person, activity.at);
            }
            ActivityKind::EmailOpen | ActivityKind::EmailClick
                if window > 0
                    && !activity.person.is_anonymous()
                    && last_send
                        .get(&activity.person)
                        .is_some_and(|&sent| activity.at - sent <= window) =>
            {
                activity.noise = true;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn act(at_seconds: i64, kind: ActivityKind, person: i64) -> ScoredActivity {
        ScoredActivity {
            at: at_seconds * 1_000_000,
            kind,
            person: Person::contact(person),
            topic: None,
            noise: false,
        }
    }

    #[test]
    fn bursts_and_machine_opens_are_noise() {
        let config = NoiseConfig::default();
        let mut activities: Vec<ScoredActivity> = (0..50)
            .map(|i| act(600 + i, ActivityKind::PageView, 1))
            .collect();
        activities.push(act(5000, ActivityKind::PageView, 2));
        activities.push(act(6000, ActivityKind::EmailSent, 3));
        activities.push(act(6001, ActivityKind::EmailOpen, 3));
        activities.push(act(9000, ActivityKind::EmailOpen, 3));
        mark(&config, &mut activities);
        assert!(activities[..50].iter().all(|a| a.noise));
        assert!(!activities[50].noise);
        assert!(!activities[51].noise);
        assert!(activities[52].noise, "an open a second after the send");
        assert!(!activities[53].noise, "an open fifty minutes later");
    }

    #[test]
    fn a_busy_person_is_not_a_bot() {
        let config = NoiseConfig::default();
        let mut activities: Vec<ScoredActivity> = (0..15)
            .map(|i| act(i * 3, ActivityKind::PageView, 1))
            .collect();
        mark(&config, &mut activities);
        assert!(activities.iter().all(|a| !a.noise));
    }
}
