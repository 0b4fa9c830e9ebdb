//! Login sessions that every server sharing a store honours.
//!
//! With a store other processes can share (Redis), a session lives in the store
//! ([`Store::share_session`](crate::store::Store::share_session), keyed by the SHA-256 of its
//! token, expiring with it), so a viewer logged in through one server may talk to any of them,
//! and logging out through any ends it everywhere. With the in-memory store the server's own
//! table ([`Auth`](crate::server::Auth)) is the only one.
//!
//! Every `/api/*` request checks its session, and a viewer polls several times a second, so a
//! session read from the store is kept here ([`SessionCache`]) until it expires. Asking the
//! store each time cost a round trip that waited behind whatever the store was busy with:
//! under collector ingest, Redis works through pipelines of thousands of records, and that
//! wait was most of a graph poll's latency (`bench http-query`, docs/PERFORMANCE.md). A
//! logout anywhere is announced to every server sharing the store (see `live`), and each drops
//! the session from its cache on hearing it; while a server is not subscribed to those
//! announcements it keeps nothing and asks the store every time.

use crate::server::auth::{IssuedSession, token_sha256_hex};
use crate::server::{ApiError, App};
use parking_lot::Mutex;
use rustc_hash::FxHashMap;
use std::sync::Arc;
use std::time::Instant;

/// Sessions kept before expired ones are swept out, and past which the cache starts over.
const MAX_KEPT_SESSIONS: usize = 4096;

/// Sessions read from a shared store, by key, until they expire.
pub(crate) struct SessionCache {
    state: Mutex<CacheState>,
}

struct CacheState {
    /// Whether this server hears every logout announced on the shared store.
    trusted: bool,
    /// Bumped by every drop, so a lookup that raced a logout does not keep its answer.
    generation: u64,
    sessions: FxHashMap<String, (Arc<str>, Instant)>,
}

impl SessionCache {
    /// Keeps nothing until [`SessionCache::set_trusted`] says logouts are heard.
    pub fn new() -> SessionCache {
        SessionCache {
            state: Mutex::new(CacheState {
                trusted: false,
                generation: 0,
                sessions: FxHashMap::default(),
            }),
        }
    }

    /// The user of the unexpired session kept under `key`, else the generation to hand to
    /// [`SessionCache::keep`].
    fn get(&self, key: &str) -> Result<Arc<str>, u64> {
        let state = self.state.lock();
        match state.sessions.get(key) {
            Some((user, expires)) if *expires > Instant::now() => Ok(user.clone()),
            _ => Err(state.generation),
        }
    }

    /// Keeps a session read from the store under `generation`, unless something was dropped
    /// since or logouts may go unheard.
    fn keep(&self, key: String, user: Arc<str>, expires: Instant, generation: u64) {
        let mut state = self.state.lock();
        if !state.trusted || state.generation != generation {
            return;
        }
        if state.sessions.len() >= MAX_KEPT_SESSIONS {
            let now = Instant::now();
            state.sessions.retain(|_, (_, expires)| *expires > now);
            if state.sessions.len() >= MAX_KEPT_SESSIONS {
                state.sessions.clear();
            }
        }
        state.sessions.insert(key, (user, expires));
    }

    /// Drops the session kept under `key` (it was ended, here or on another server).
    pub fn forget(&self, key: &str) {
        let mut state = self.state.lock();
        state.generation += 1;
        state.sessions.remove(key);
    }

    /// Drops every kept session (some announcement could not be read).
    pub fn clear(&self) {
        let mut state = self.state.lock();
        state.generation += 1;
        state.sessions.clear();
    }

    /// Whether logouts on other servers are heard from now on; when they may not be, nothing
    /// kept can be trusted any more.
    pub fn set_trusted(&self, trusted: bool) {
        let mut state = self.state.lock();
        state.trusted = trusted;
        if !trusted {
            state.generation += 1;
            state.sessions.clear();
        }
    }
}

impl App {
    /// The user of a live session token.
    pub(crate) async fn session_user(&self, token: &str) -> Result<Option<Arc<str>>, ApiError> {
        let store = &self.inner.store;
        if !store.shares_sessions() {
            return Ok(self.inner.auth.session_user(token));
        }
        let key = token_sha256_hex(token);
        let cache = &self.inner.session_cache;
        let generation = match cache.get(&key) {
            Ok(user) => return Ok(Some(user)),
            Err(generation) => generation,
        };
        let asked = Instant::now();
        let Some(session) = self.timed("session", store.shared_session(&key)).await? else {
            return Ok(None);
        };
        let user: Arc<str> = Arc::from(session.user);
        cache.keep(key, user.clone(), asked + session.expires_in, generation);
        Ok(Some(user))
    }

    /// Makes a session just opened here valid on every server sharing the store.
    pub(crate) async fn share_session(
        &self,
        user: &str,
        session: &IssuedSession,
    ) -> Result<(), ApiError> {
        let store = &self.inner.store;
        if store.shares_sessions() {
            let key = token_sha256_hex(&session.token);
            let shared = store.share_session(&key, user, session.expires_in);
            if let Err(error) = self.timed("session", shared).await {
                // A session the other servers cannot see is not handed out at all.
                self.inner.auth.logout(&session.token);
                return Err(error);
            }
        }
        Ok(())
    }

    /// Ends a session here and on every server sharing the store.
    pub(crate) async fn end_session(&self, token: &str) -> Result<(), ApiError> {
        self.inner.auth.logout(token);
        let store = &self.inner.store;
        if store.shares_sessions() {
            let key = token_sha256_hex(token);
            self.inner.session_cache.forget(&key);
            self.timed("session", store.end_shared_session(&key))
                .await?;
            self.announce_session_ended(key).await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn later() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    #[test]
    fn nothing_is_kept_until_logouts_are_heard() {
        let cache = SessionCache::new();
        let generation = cache.get("k").unwrap_err();
        cache.keep("k".into(), Arc::from("ann"), later(), generation);
        assert!(cache.get("k").is_err());
        cache.set_trusted(true);
        let generation = cache.get("k").unwrap_err();
        cache.keep("k".into(), Arc::from("ann"), later(), generation);
        assert_eq!(cache.get("k").as_deref(), Ok("ann"));
        // Losing the announcements drops everything.
        cache.set_trusted(false);
        assert!(cache.get("k").is_err());
    }

    #[test]
    fn a_kept_session_goes_when_it_expires_or_ends() {
        let cache = SessionCache::new();
        cache.set_trusted(true);
        let generation = cache.get("short").unwrap_err();
        cache.keep(
            "short".into(),
            Arc::from("ann"),
            Instant::now() - Duration::from_millis(1),
            generation,
        );
        assert!(cache.get("short").is_err(), "expired");
        let generation = cache.get("k").unwrap_err();
        cache.keep("k".into(), Arc::from("ann"), later(), generation);
        cache.forget("k");
        assert!(cache.get("k").is_err(), "ended");
    }

    #[test]
    fn a_lookup_that_raced_a_logout_is_not_kept() {
        let cache = SessionCache::new();
        cache.set_trusted(true);
        let generation = cache.get("k").unwrap_err();
        // A logout is heard while the store is being asked.
        cache.forget("k");
        cache.keep("k".into(), Arc::from("ann"), later(), generation);
        assert!(cache.get("k").is_err());
    }
}
