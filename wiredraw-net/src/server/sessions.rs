//! Login sessions that every server sharing a store honours.
//!
//! With a store other processes can share (Redis), a session lives in the store
//! ([`Store::share_session`](crate::store::Store::share_session), keyed by the SHA-256 of its
//! token, expiring with it), so a viewer logged in through one server may talk to any of them,
//! and logging out through any ends it everywhere. With the in-memory store the server's own
//! table ([`Auth`](crate::server::Auth)) is the only one.

use crate::server::auth::{IssuedSession, token_sha256_hex};
use crate::server::{ApiError, App};
use std::sync::Arc;

impl App {
    /// The user of a live session token.
    pub(crate) async fn session_user(&self, token: &str) -> Result<Option<Arc<str>>, ApiError> {
        let store = &self.inner.store;
        if !store.shares_sessions() {
            return Ok(self.inner.auth.session_user(token));
        }
        let key = token_sha256_hex(token);
        let user = self.timed("session", store.shared_session(&key)).await?;
        Ok(user.map(Arc::from))
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
            self.timed("session", store.end_shared_session(&key))
                .await?;
        }
        Ok(())
    }
}
