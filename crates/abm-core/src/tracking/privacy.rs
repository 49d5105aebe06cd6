//! The privacy decision for one collected event: the team's switch, the browser's standing
//! signals (Do-Not-Track, Global Privacy Control) and the page's consent answer.
//!
//! Order and reasons:
//! - tracking turned off refuses everything;
//! - with `honor_dnt`, a browser signal refuses even when the page reports consent: the signal
//!   is the person's own standing choice, while a banner's "yes" may be a mis-click or a dark
//!   pattern; in doubt abm does not track;
//! - `consent: false` always refuses (the person said no on this site);
//! - with `require_consent`, only an explicit `consent: true` is tracked.

use super::TrackingConfig;

/// Why an event is not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Refusal {
    #[error("tracking is turned off ([tracking] enabled = false)")]
    Disabled,
    #[error("the browser asks not to be tracked (DNT: 1)")]
    DoNotTrack,
    #[error("the browser sends Global Privacy Control (Sec-GPC: 1)")]
    GlobalPrivacyControl,
    #[error("the visitor has not consented to tracking")]
    NoConsent,
}

impl Refusal {
    pub const ALL: [Refusal; 4] = [
        Self::Disabled,
        Self::DoNotTrack,
        Self::GlobalPrivacyControl,
        Self::NoConsent,
    ];

    /// A stable key, for counters and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disabled => "disabled",
            Self::DoNotTrack => "do_not_track",
            Self::GlobalPrivacyControl => "global_privacy_control",
            Self::NoConsent => "no_consent",
        }
    }
}

/// Whether an event may be stored: `dnt` and `gpc` are whether the request carried `DNT: 1`
/// and `Sec-GPC: 1`; `consent` is the event's consent flag, absent when the page set none.
pub fn privacy(
    config: &TrackingConfig,
    dnt: bool,
    gpc: bool,
    consent: Option<bool>,
) -> Result<(), Refusal> {
    if !config.enabled {
        return Err(Refusal::Disabled);
    }
    if config.honor_dnt && dnt {
        return Err(Refusal::DoNotTrack);
    }
    if config.honor_dnt && gpc {
        return Err(Refusal::GlobalPrivacyControl);
    }
    match consent {
        Some(true) => Ok(()),
        Some(false) => Err(Refusal::NoConsent),
        None if config.require_consent => Err(Refusal::NoConsent),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Case<'a> = (
        &'a TrackingConfig,
        bool,
        bool,
        Option<bool>,
        Result<(), Refusal>,
    );

    #[test]
    fn the_decision_table() {
        let default = TrackingConfig::default();
        let ignore_signals = TrackingConfig {
            honor_dnt: false,
            ..TrackingConfig::default()
        };
        let consent_required = TrackingConfig {
            require_consent: true,
            ..TrackingConfig::default()
        };
        let off = TrackingConfig {
            enabled: false,
            ..TrackingConfig::default()
        };
        use Refusal::*;
        // (config, dnt, gpc, consent, expected)
        let cases: &[Case] = &[
            (&default, false, false, None, Ok(())),
            (&default, false, false, Some(true), Ok(())),
            (&default, false, false, Some(false), Err(NoConsent)),
            (&default, true, false, None, Err(DoNotTrack)),
            (&default, false, true, None, Err(GlobalPrivacyControl)),
            (&default, true, true, None, Err(DoNotTrack)),
            // A banner's yes does not override the browser's standing no.
            (&default, true, false, Some(true), Err(DoNotTrack)),
            (&default, false, true, Some(true), Err(GlobalPrivacyControl)),
            (&ignore_signals, true, true, None, Ok(())),
            (&ignore_signals, true, true, Some(false), Err(NoConsent)),
            (&consent_required, false, false, None, Err(NoConsent)),
            (&consent_required, false, false, Some(false), Err(NoConsent)),
            (&consent_required, false, false, Some(true), Ok(())),
            (&consent_required, true, false, Some(true), Err(DoNotTrack)),
            (&off, false, false, Some(true), Err(Disabled)),
            (&off, true, true, Some(false), Err(Disabled)),
        ];
        for (index, (config, dnt, gpc, consent, expected)) in cases.iter().enumerate() {
            assert_eq!(
                privacy(config, *dnt, *gpc, *consent),
                *expected,
                "case {index}"
            );
        }
    }

    #[test]
    fn refusals_have_distinct_keys_and_messages() {
        let keys: std::collections::BTreeSet<&str> = Refusal::ALL
            .iter()
            .map(|refusal| refusal.as_str())
            .collect();
        assert_eq!(keys.len(), Refusal::ALL.len());
        assert!(Refusal::DoNotTrack.to_string().contains("DNT"));
        assert!(
            Refusal::GlobalPrivacyControl
                .to_string()
                .contains("Sec-GPC")
        );
    }
}
