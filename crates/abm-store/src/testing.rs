//! Test support, behind the `test-support` feature: a fresh PostgreSQL database per test, on
//! the server `ABM_TEST_POSTGRES_URL` names (default `postgres://postgres@127.0.0.1:5432/postgres`),
//! dropped when the value is. Tests fail when the server cannot be reached, unless
//! `ABM_TEST_SKIP_POSTGRES=1`: CI must never pass by skipping PostgreSQL silently.

use std::sync::atomic::{AtomicU64, Ordering};

/// The server URL when none is configured.
pub const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A uniquely named database on the test server, dropped (forcibly) on drop.
pub struct PostgresDatabase {
    server: String,
    name: String,
    /// The URL of the new database.
    pub url: String,
}

impl PostgresDatabase {
    /// Creates a fresh database; `None` only when `ABM_TEST_SKIP_POSTGRES=1`.
    ///
    /// # Panics
    /// When the server cannot be reached or refuses to create a database: a test that needs
    /// PostgreSQL must fail then, not pass.
    pub fn create(prefix: &str) -> Option<Self> {
        if std::env::var("ABM_TEST_SKIP_POSTGRES").as_deref() == Ok("1") {
            return None;
        }
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let server =
            std::env::var("ABM_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_SERVER.into());
        let mut client = match postgres::Client::connect(&server, postgres::NoTls) {
            Ok(client) => client,
            Err(error) => panic!(
                "PostgreSQL is required for these tests and {server} cannot be reached ({error}); set ABM_TEST_POSTGRES_URL to a server, or ABM_TEST_SKIP_POSTGRES=1 to run SQLite only"
            ),
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.subsec_nanos());
        let name = format!(
            "{prefix}_{}_{nanos}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        if let Err(error) = client.batch_execute(&format!("CREATE DATABASE {name}")) {
            panic!("cannot create the test database {name} on {server}: {error}");
        }
        let base = server
            .rsplit_once('/')
            .map_or(server.as_str(), |(base, _)| base);
        let url = format!("{base}/{name}");
        Some(Self { server, name, url })
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&self.server, postgres::NoTls) {
            let _ = client.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}
