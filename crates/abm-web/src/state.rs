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
}

/// Stores kept open between requests.
const IDLE_STORES: usize = 8;

impl AppState {
    /// Opens one store now, so a bad URL fails at start, not at the first request.
    pub fn new(database_url: &str, settings: WebSettings) -> Result<Self, abm_store::StoreError> {
        let first = abm_store::open(database_url)?.reopen()?;
        Ok(Self {
            inner: Arc::new(Inner {
                database_url: database_url.to_owned(),
                settings,
                idle: Mutex::new(vec![first]),
                failures: Mutex::new(HashMap::new()),
            }),
        })
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
