//! Live scoring: what one new activity costs in the core. `add` is the O(1) update of an
//! account's decayed accumulators; `add + score` also reads the engagement score back with
//! its contributions, as the live path does after each activity.
//!
//!     cargo bench -p abm-core --bench live_scoring
#![allow(clippy::unwrap_used, clippy::expect_used)]

use abm_core::entity::ActivityKind;
use abm_core::score::config::EngagementConfig;
use abm_core::score::engagement::EngagementState;
use abm_core::score::facts::{Person, ScoredActivity};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

const DAY: i64 = 86_400_000_000;

/// An account with a year of history: 25 people, 400 activities.
fn busy_account(config: &EngagementConfig) -> EngagementState {
    let mut state = EngagementState::new(config);
    for i in 0..400i64 {
        state.add(&ScoredActivity {
            at: (i * 7919 % 365) * DAY,
            kind: ActivityKind::ALL[(i as usize * 5) % ActivityKind::ALL.len()],
            person: Person::contact(i % 25),
            topic: None,
            noise: false,
        });
    }
    state
}

fn live_scoring(c: &mut Criterion) {
    let config = EngagementConfig::default();
    let mut state = busy_account(&config);
    let mut at = 365 * DAY;
    c.bench_function("engagement add (one activity)", |b| {
        b.iter(|| {
            at += 60_000_000;
            state.add(black_box(&ScoredActivity {
                at,
                kind: ActivityKind::PageView,
                person: Person::contact(at % 25),
                topic: None,
                noise: false,
            }));
        })
    });
    let mut state = busy_account(&config);
    let mut at = 365 * DAY;
    c.bench_function("engagement add + score with contributions", |b| {
        b.iter(|| {
            at += 60_000_000;
            state.add(&ScoredActivity {
                at,
                kind: ActivityKind::MeetingHeld,
                person: Person::contact(at % 25),
                topic: None,
                noise: false,
            });
            black_box(state.score(&config, &[], at));
        })
    });
}

criterion_group!(benches, live_scoring);
criterion_main!(benches);
