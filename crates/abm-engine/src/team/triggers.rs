//! Trigger events detected when scores are computed: a surge on a new topic and a spike of
//! engagement from new people, from the facts a scoring run already loaded. (Changes an import
//! shows — technologies, headcount, new leaders — are detected by the import; events from a
//! file are imported by `abm import events`.)

use crate::scoring::Loaded;
use abm_core::score::config::IntentConfig;
use abm_core::trigger::{self, TriggerConfig};
use abm_store::team::TriggerRow;

/// The triggers each selected account of a load shows as of `as_of`.
pub fn detect(
    loaded: &Loaded,
    intent: &IntentConfig,
    config: &TriggerConfig,
    as_of: i64,
) -> Vec<TriggerRow> {
    let mut rows = Vec::new();
    for &position in &loaded.selected {
        let account = &loaded.accounts[position];
        let facts = &account.facts;
        let found =
            trigger::intent_surges(&facts.intent, intent.surge_threshold.get(), config, as_of)
                .into_iter()
                .chain(trigger::engagement_spike(&facts.activities, config, as_of));
        for found in found {
            rows.push(TriggerRow {
                account_id: account.id.0,
                kind: found.kind.as_str().to_owned(),
                at: found.at,
                evidence: found.evidence,
                source: "detected".to_owned(),
                dedupe_key: found.key,
            });
        }
    }
    rows
}
