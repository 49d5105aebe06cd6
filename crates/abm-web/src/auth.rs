//! Who is calling: an API token (`Authorization: Bearer …`, kept as a SHA-256) or a session
//! cookie from signing in with a password (argon2). A session carries a CSRF token that every
//! form and every write made with the cookie must repeat.

use crate::AppState;
use crate::problem::Problem;
use abm_core::tal::{Actor, UserRole};
use abm_store::team::{self, UserRecord};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use rand::RngCore as _;
use sha2::Digest as _;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "abm_session";
/// How long a session lasts without signing in again.
pub const SESSION_HOURS: i64 = 12;

/// An argon2 hash of a password, as a PHC string.
pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|error| error.to_string())?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| error.to_string())
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A new random secret (token, session id, CSRF token): 32 bytes, hex.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// What is stored of a token or session id: its SHA-256, hex.
pub fn digest(secret: &str) -> String {
    sha2::Sha256::digest(secret.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    Token,
    Session { csrf: String },
}

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: UserRecord,
    pub role: UserRole,
    pub via: Via,
}

impl Caller {
    /// The actor the engine's rules and audit trail see.
    pub fn actor(&self) -> Actor {
        Actor {
            email: self.user.email.clone(),
            name: self.user.name.clone(),
            role: self.role,
            fresh_install: false,
        }
    }

    /// Refuses a role not in `allowed`.
    pub fn require(&self, allowed: &[UserRole]) -> Result<(), Problem> {
        if allowed.contains(&self.role) {
            Ok(())
        } else {
            Err(Problem::forbidden(format!(
                "{} ({}) may not do this",
                self.user.email,
                self.role.as_str()
            )))
        }
    }

    /// The roles that may change data.
    pub const WRITERS: [UserRole; 3] = [UserRole::Admin, UserRole::Marketing, UserRole::Sales];

    /// A write made with a session cookie must repeat the session's CSRF token (header
    /// `X-CSRF-Token` or form field `csrf`); token callers cannot be driven by another site.
    pub fn check_csrf(&self, sent: Option<&str>) -> Result<(), Problem> {
        match &self.via {
            Via::Token => Ok(()),
            Via::Session { csrf } if sent.is_some_and(|sent| constant_eq(sent, csrf)) => Ok(()),
            Via::Session { .. } => Err(Problem::forbidden("missing or wrong CSRF token")),
        }
    }
}

fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The value of one cookie of a request.
pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(|token| digest(token.trim()));
        let session = cookie(parts, SESSION_COOKIE).map(digest);
        let now = jiff::Timestamp::now().as_microsecond();
        let found = state
            .with_store(move |store| -> Result<Option<(UserRecord, Via)>, Problem> {
                if let Some(hash) = bearer {
                    return Ok(
                        team::user_by_token(store.sql(), &hash)?.map(|user| (user, Via::Token))
                    );
                }
                if let Some(hash) = session {
                    return Ok(team::session(store.sql(), &hash, now)?
                        .map(|(user, csrf)| (user, Via::Session { csrf })));
                }
                Ok(None)
            })
            .await??;
        let Some((user, via)) = found else {
            return Err(Problem::unauthorized());
        };
        let role = UserRole::from_key(&user.role)
            .ok_or_else(|| Problem::internal(format!("unknown role {:?}", user.role)))?;
        let caller = Caller { user, role, via };
        // JSON writes made with the cookie carry the CSRF token in a header; forms check
        // their field themselves.
        // Nested routers see their path without the prefix: read the original one.
        let path = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or_else(|| parts.uri.path().to_owned(), |uri| uri.path().to_owned());
        if parts.method != Method::GET && parts.method != Method::HEAD && path.starts_with("/api/")
        {
            let sent = parts
                .headers
                .get("x-csrf-token")
                .and_then(|value| value.to_str().ok());
            caller.check_csrf(sent)?;
        }
        Ok(caller)
    }
}
