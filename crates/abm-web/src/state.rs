//! What every request shares: the settings, and a few open stores handed out one request at a
//! time (the store is synchronous: requests use it on the blocking pool).

use abm_core::score::ScoringConfig;
use abm_core::tal::TalConfig;
use abm_core::trigger::TriggerConfig;
use abm_core::why::WhyUsConfig;
use abm_store::Store;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The configuration the web reads (the binary loads it from abm.toml).
#[derive(Debug, Clone)]
pub struct WebSettings {
    pub scoring: ScoringConfig,
    pub tal: TalConfig,
    pub triggers: TriggerConfig,
    pub why_us: WhyUsConfig,
    /// Session cookies only over HTTPS; `false` for a plain-HTTP development server.
    pub secure_cookies: bool,
    /// Domains that identify no company (the maintained list and `[identity]` extras).
    pub free_mail: abm_core::identity::FreeMailDomains,
    /// The configuration as loaded, as TOML, and where it came from (the settings page).
    pub config_toml: String,
    pub config_source: String,
    /// The file an administrator's saved configuration goes to (`None`: saving is off).
    pub config_path: Option<std::path::PathBuf>,
    /// Checks a configuration file's text the way `abm` loads it: the error names the line.
    pub check_config: fn(&str) -> Result<(), String>,
    /// `[tracking]`: the snippet, the collect endpoint, bot and privacy filters.
    pub tracking: abm_core::tracking::TrackingConfig,
    /// `[personalization]`: the content variant per kind of account.
    pub personalization: abm_core::personalize::PersonalizationConfig,
    /// `[reverse_ip]`: the databases that name a visitor's company from their network.
    pub reverse_ip: abm_core::reverse_ip::ReverseIpConfig,
    /// Behind a reverse proxy: the client address is the last `X-Forwarded-For` entry.
    pub behind_proxy: bool,
    /// The plays, guard, templates and channels, validated (`None`: plays pages are empty).
    pub plays: Option<Arc<abm_core::play::Setup>>,
    /// `[reports]`: what reports count as engaged and influenced, and the costs of plays.
    pub reports: abm_core::report::ReportsConfig,
    /// Scale-out: collected events go to this stream for workers to store (`None`: this
    /// node's collector writes them).
    pub stream: Option<crate::collect::StreamTarget>,
}

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    database_url: String,
    settings: WebSettings,
    idle: Mutex<Vec<Box<dyn Store + Send>>>,
    /// Failed sign-ins per email: (count, first failure in the window, microseconds).
    failures: Mutex<HashMap<String, (u32, i64)>>,
    /// The tracked-event writer; `None` when `[tracking] enabled = false`.
    collector: Option<crate::collect::Collector>,
    reverse_ip: Option<abm_engine::reverse_ip::ReverseIp>,
    /// Signs email open and click links; shared by every node through the store.
    link_key: Vec<u8>,
    /// Customer profiles by day, so an account's page reads that account alone.
    profiles: abm_engine::scoring::ProfileStore,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] abm_store::StoreError),
    #[error("reverse-IP: {0}")]
    ReverseIp(String),
}

/// Stores kept open between requests.
const IDLE_STORES: usize = 8;

impl AppState {
    /// Opens one store now, so a bad URL fails at start, not at the first request; starts the
    /// collector and loads the reverse-IP databases.
    pub fn new(database_url: &str, settings: WebSettings) -> Result<Self, StartError> {
        let mut first = abm_store::open(database_url)?.reopen()?;
        let now = jiff::Timestamp::now().as_microsecond();
        let link_key =
            abm_store::tracking::secret(first.sql(), "link", now, crate::auth::new_secret)?
                .into_bytes();
        let reverse_ip =
            if settings.reverse_ip.mmdb.is_some() || settings.reverse_ip.ranges.is_some() {
                let names = abm_store::tracking::account_names(first.sql())?;
                let names = abm_core::reverse_ip::AccountNames::new(names.iter().filter_map(
                    |(name, domain)| Some((name.as_str(), abm_core::Domain::parse(domain).ok()?)),
                ));
                Some(
                    abm_engine::reverse_ip::ReverseIp::open(&settings.reverse_ip, names)
                        .map_err(|error| StartError::ReverseIp(error.to_string()))?,
                )
            } else {
                None
            };
        let collector = if settings.tracking.enabled {
            Some(crate::collect::Collector::start(
                crate::collect::CollectorSettings {
                    database_url: database_url.to_owned(),
                    scoring: settings.scoring.clone(),
                    triggers: settings.triggers.clone(),
                    free_mail: settings.free_mail.clone(),
                    max_events_per_minute: settings.tracking.max_events_per_minute,
                    stream: settings.stream.clone(),
                },
            )?)
        } else {
            None
        };
        Ok(Self {
            inner: Arc::new(Inner {
                database_url: database_url.to_owned(),
                settings,
                idle: Mutex::new(vec![first]),
                failures: Mutex::new(HashMap::new()),
                collector,
                reverse_ip,
                link_key,
                profiles: abm_engine::scoring::ProfileStore::default(),
            }),
        })
    }

    pub fn collector(&self) -> Option<&crate::collect::Collector> {
        self.inner.collector.as_ref()
    }

    pub fn reverse_ip(&self) -> Option<&abm_engine::reverse_ip::ReverseIp> {
        self.inner.reverse_ip.as_ref()
    }

    /// The key of signed email links (open pixel, click redirect).
    pub fn profiles(&self) -> &abm_engine::scoring::ProfileStore {
        &self.inner.profiles
    }

    pub fn link_key(&self) -> &[u8] {
        &self.inner.link_key
    }

    pub fn settings(&self) -> &WebSettings {
        &self.inner.settings
    }

    /// Runs `work` with a store on the blocking pool.
    pub async fn with_store<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut dyn Store) -> T + Send + 'static,
    ) -> Result<T, crate::problem::Problem> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let taken = inner.idle.lock().ok().and_then(|mut idle| idle.pop());
            let mut store = match taken {
                Some(store) => store,
                None => abm_store::open(&inner.database_url)
                    .and_then(|store| store.reopen())
                    .map_err(crate::problem::Problem::internal)?,
            };
            let value = work(store.as_mut());
            if let Ok(mut idle) = inner.idle.lock()
                && idle.len() < IDLE_STORES
            {
                idle.push(store);
            }
            Ok(value)
        })
        .await
        .map_err(|error| crate::problem::Problem::internal(error.to_string()))?
    }

    /// Whether this email may try to sign in now: at most 5 failures in 15 minutes.
    pub fn may_try_login(&self, email: &str, now: i64) -> bool {
        let Ok(failures) = self.inner.failures.lock() else {
            return false;
        };
        match failures.get(email) {
            Some((count, since)) => *count < 5 || now - since > 15 * 60 * 1_000_000,
            None => true,
        }
    }

    pub fn record_login(&self, email: &str, succeeded: bool, now: i64) {
        if let Ok(mut failures) = self.inner.failures.lock() {
            if succeeded {
                failures.remove(email);
                return;
            }
            let entry = failures.entry(email.to_owned()).or_insert((0, now));
            if now - entry.1 > 15 * 60 * 1_000_000 {
                *entry = (0, now);
            }
            entry.0 += 1;
        }
    }
}
