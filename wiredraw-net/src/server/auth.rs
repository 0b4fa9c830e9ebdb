//! Who may do what: UI users (argon2id passwords, expiring session tokens) and collectors
//! (static tokens, of which the server only knows the SHA-256).
//!
//! A session token and a collector token are never interchangeable: they live in different
//! tables and each route checks exactly one of them. Nothing secret is logged: tokens and
//! passwords never reach a `tracing` field, and [`Auth`]'s `Debug` shows counts only.

use crate::server::config::{CollectorEntry, UserEntry};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use parking_lot::Mutex;
use rand::RngCore;
use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

/// Random bytes in every token: 256 bits.
const TOKEN_BYTES: usize = 32;
/// Drop expired sessions and idle rate-limit entries once a table grows past this.
const PRUNE_ABOVE: usize = 4096;

/// A fresh random 256-bit token, as 64 hex digits.
pub fn new_token() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// SHA-256 of a token, as stored in `[[collectors]] token_sha256`.
pub fn token_sha256(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// [`token_sha256`] as the 64 hex digits the config holds.
pub fn token_sha256_hex(token: &str) -> String {
    hex::encode(token_sha256(token))
}

/// The argon2id PHC string of a password, with a random salt and argon2's default cost.
pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| e.to_string())
}

/// Checks that a string is an argon2id PHC hash this server can verify against.
pub fn check_password_hash(phc: &str) -> Result<(), String> {
    let hash = PasswordHash::new(phc)
        .map_err(|e| format!("not a PHC string ({e}); make one with `server hash-password`"))?;
    if hash.algorithm.as_str() != Algorithm::Argon2id.ident().as_str() {
        return Err(format!(
            "algorithm must be argon2id, got {}",
            hash.algorithm
        ));
    }
    Params::try_from(&hash).map_err(|e| format!("bad argon2 parameters: {e}"))?;
    if hash.hash.is_none() || hash.salt.is_none() {
        return Err("the PHC string lacks its salt or hash".into());
    }
    Ok(())
}

/// Why a login failed. Deliberately silent about which half of the pair was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    #[error("invalid username or password")]
    Invalid,
    #[error("too many login attempts; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
}

/// A session handed out by a successful login.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedSession {
    pub token: String,
    pub expires_in: Duration,
}

struct Session {
    user: Arc<str>,
    expires: Instant,
}

/// Token bucket of login attempts for one client address.
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Users, collectors, live sessions and the login rate limiter.
pub struct Auth {
    users: FxHashMap<String, String>,
    /// Verified when the user is unknown, so an unknown name costs as much time as a known one.
    decoy_hash: String,
    collectors: Vec<CollectorEntry>,
    /// Keyed by SHA-256 of the token, so the table itself holds no usable secret.
    sessions: Mutex<FxHashMap<[u8; 32], Session>>,
    session_ttl: Duration,
    login_buckets: Mutex<FxHashMap<IpAddr, Bucket>>,
    attempts_per_minute: f64,
    /// argon2 is made to be costly: bound how many run at once.
    hashing: Semaphore,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("users", &self.users.len())
            .field("collectors", &self.collectors.len())
            .field("sessions", &self.sessions.lock().len())
            .finish()
    }
}

impl Auth {
    /// Builds the tables. Costs one argon2 hash (the decoy for unknown users).
    pub fn new(
        users: &[UserEntry],
        collectors: &[CollectorEntry],
        session_ttl: Duration,
        login_attempts_per_minute: u32,
    ) -> Auth {
        // The decoy uses the first user's cost so unknown and known names take as long.
        let params = users
            .first()
            .and_then(|u| PasswordHash::new(&u.password_hash).ok())
            .and_then(|h| Params::try_from(&h).ok())
            .unwrap_or_default();
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let decoy_hash = SaltString::encode_b64(&salt)
            .ok()
            .and_then(|salt| {
                Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
                    .hash_password(new_token().as_bytes(), &salt)
                    .ok()
                    .map(|h| h.to_string())
            })
            .expect("argon2 hashes a random password with valid parameters");
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        Auth {
            users: users
                .iter()
                .map(|u| (u.name.clone(), u.password_hash.clone()))
                .collect(),
            decoy_hash,
            collectors: collectors.to_vec(),
            sessions: Mutex::new(FxHashMap::default()),
            session_ttl,
            login_buckets: Mutex::new(FxHashMap::default()),
            attempts_per_minute: f64::from(login_attempts_per_minute.max(1)),
            hashing: Semaphore::new(threads),
        }
    }

    /// The name of the collector whose token this is. Compares the token's SHA-256 with every
    /// configured digest in constant time, so timing tells nothing about near misses.
    pub fn collector(&self, token: &str) -> Option<&str> {
        let digest = token_sha256(token);
        let mut found = None;
        for collector in &self.collectors {
            if bool::from(collector.token_sha256.ct_eq(&digest)) {
                found = Some(collector.name.as_str());
            }
        }
        found
    }

    /// The user of a live session token.
    pub fn session_user(&self, token: &str) -> Option<Arc<str>> {
        let key = token_sha256(token);
        let mut sessions = self.sessions.lock();
        match sessions.get(&key) {
            Some(session) if session.expires > Instant::now() => Some(session.user.clone()),
            Some(_) => {
                sessions.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Ends a session; true when it was live.
    pub fn logout(&self, token: &str) -> bool {
        self.sessions.lock().remove(&token_sha256(token)).is_some()
    }

    /// Number of live sessions (expired ones may linger until the next prune).
    pub fn session_count(&self) -> usize {
        self.sessions.lock().len()
    }

    /// Checks a username and password from `client` and opens a session. Rate-limited per
    /// client address; a successful login gives its attempt back.
    pub async fn login(
        &self,
        client: IpAddr,
        username: &str,
        password: &str,
    ) -> Result<IssuedSession, LoginError> {
        self.take_attempt(client)?;
        let phc = self
            .users
            .get(username)
            .map_or(self.decoy_hash.clone(), Clone::clone);
        let known = self.users.contains_key(username);
        let password = password.to_owned();
        let verified = {
            let _permit = self
                .hashing
                .acquire()
                .await
                .expect("the semaphore is never closed");
            tokio::task::spawn_blocking(move || verify_password(&phc, &password))
                .await
                .unwrap_or(false)
        };
        if !(known && verified) {
            return Err(LoginError::Invalid);
        }
        self.give_back_attempt(client);
        Ok(self.open_session(username))
    }

    fn open_session(&self, username: &str) -> IssuedSession {
        let token = new_token();
        let now = Instant::now();
        let mut sessions = self.sessions.lock();
        if sessions.len() >= PRUNE_ABOVE {
            sessions.retain(|_, s| s.expires > now);
        }
        sessions.insert(
            token_sha256(&token),
            Session {
                user: Arc::from(username),
                expires: now + self.session_ttl,
            },
        );
        IssuedSession {
            token,
            expires_in: self.session_ttl,
        }
    }

    fn take_attempt(&self, client: IpAddr) -> Result<(), LoginError> {
        let now = Instant::now();
        let capacity = self.attempts_per_minute;
        let refill_per_sec = capacity / 60.0;
        let mut buckets = self.login_buckets.lock();
        if buckets.len() >= PRUNE_ABOVE {
            // A bucket that has refilled completely says nothing more than a new one.
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.updated).as_secs_f64() * refill_per_sec < capacity
            });
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        bucket.tokens = (bucket.tokens
            + now.duration_since(bucket.updated).as_secs_f64() * refill_per_sec)
            .min(capacity);
        bucket.updated = now;
        if bucket.tokens < 1.0 {
            let retry_after_secs = ((1.0 - bucket.tokens) / refill_per_sec).ceil() as u64;
            return Err(LoginError::RateLimited {
                retry_after_secs: retry_after_secs.max(1),
            });
        }
        bucket.tokens -= 1.0;
        Ok(())
    }

    fn give_back_attempt(&self, client: IpAddr) {
        if let Some(bucket) = self.login_buckets.lock().get_mut(&client) {
            bucket.tokens = (bucket.tokens + 1.0).min(self.attempts_per_minute);
        }
    }
}

fn verify_password(phc: &str, password: &str) -> bool {
    PasswordHash::new(phc)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cheap argon2 parameters keep the tests fast; verification reads them from the hash.
    fn cheap_hash(password: &str) -> String {
        let params = Params::new(256, 1, 1, None).unwrap();
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(password.as_bytes(), &salt)
            .unwrap()
            .to_string()
    }

    fn auth(attempts_per_minute: u32) -> Auth {
        let users = [UserEntry {
            name: "analyst".into(),
            password_hash: cheap_hash("correct horse"),
        }];
        let collectors = [CollectorEntry {
            name: "sensor".into(),
            token_sha256: token_sha256("collector-secret"),
        }];
        Auth::new(
            &users,
            &collectors,
            Duration::from_secs(60),
            attempts_per_minute,
        )
    }

    const CLIENT: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn hashes_are_argon2id_phc_strings_that_verify() {
        let phc = hash_password("s3cret").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        check_password_hash(&phc).unwrap();
        assert!(verify_password(&phc, "s3cret"));
        assert!(!verify_password(&phc, "s3cret "));
        assert!(check_password_hash("$2b$10$abc").is_err());
        assert!(check_password_hash(&phc.replace("argon2id", "argon2i")).is_err());
    }

    #[test]
    fn tokens_are_256_random_bits() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[tokio::test]
    async fn login_opens_a_session_that_is_not_a_collector_token() {
        let auth = auth(10);
        let session = auth
            .login(CLIENT, "analyst", "correct horse")
            .await
            .unwrap();
        assert_eq!(
            auth.session_user(&session.token).as_deref(),
            Some("analyst")
        );
        assert_eq!(auth.collector(&session.token), None);
        assert_eq!(auth.collector("collector-secret"), Some("sensor"));
        assert_eq!(auth.session_user("collector-secret"), None);
        assert!(auth.logout(&session.token));
        assert_eq!(auth.session_user(&session.token), None);
    }

    #[tokio::test]
    async fn wrong_user_and_wrong_password_fail_the_same_way() {
        let auth = auth(10);
        let wrong_password = auth.login(CLIENT, "analyst", "nope").await.err();
        let wrong_user = auth.login(CLIENT, "mallory", "correct horse").await.err();
        assert_eq!(wrong_password, Some(LoginError::Invalid));
        assert_eq!(wrong_user, wrong_password);
    }

    #[tokio::test]
    async fn expired_sessions_are_refused() {
        let auth = auth(10);
        let token = {
            let session = auth
                .login(CLIENT, "analyst", "correct horse")
                .await
                .unwrap();
            session.token
        };
        auth.sessions
            .lock()
            .values_mut()
            .for_each(|s| s.expires = Instant::now());
        assert_eq!(auth.session_user(&token), None);
        assert_eq!(auth.session_count(), 0);
    }

    #[tokio::test]
    async fn failed_logins_are_rate_limited_per_address() {
        let auth = auth(3);
        for _ in 0..3 {
            assert_eq!(
                auth.login(CLIENT, "analyst", "x").await.err(),
                Some(LoginError::Invalid)
            );
        }
        let limited = auth.login(CLIENT, "analyst", "correct horse").await.err();
        assert!(
            matches!(limited, Some(LoginError::RateLimited { retry_after_secs }) if retry_after_secs >= 1)
        );
        let other: IpAddr = "10.0.0.9".parse().unwrap();
        assert!(auth.login(other, "analyst", "correct horse").await.is_ok());
        // Successful logins give their attempt back.
        for _ in 0..5 {
            assert!(auth.login(other, "analyst", "correct horse").await.is_ok());
        }
    }
}
