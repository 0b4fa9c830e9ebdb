//! `/api/graph` answers kept until a change touches their buckets.
//!
//! Viewers poll the graph at the playhead several times a second, and most polls ask for
//! buckets nothing has written to since the last answer: history while ingest lands in the
//! newest buckets, or every bucket between two collector batches. Rebuilding the graph of a
//! busy bucket reads thousands of connections from the store (tens of milliseconds on Redis);
//! a kept answer costs a lookup.
//!
//! An answer is dropped when a [`Change`](crate::server::Change) meets its buckets: this
//! server's own ingests, and over a shared store (Redis) the changes other servers announce.
//! Over a shared store answers are kept only while the subscription to those announcements is
//! live: from the moment it is lost until it is back nothing is kept, so a missed announcement
//! can never leave a stale answer behind. Retention passes and failed ingests (which may have
//! written part of a batch) drop everything.
//!
//! A query that read the store before a change but finishes after it must not store its stale
//! answer: every drop bumps a generation, and an answer is kept only if the generation is still
//! the one its query started under.

use crate::store::BucketSpan;
use bytes::Bytes;
use parking_lot::Mutex;
use rustc_hash::FxHashMap;

/// Most answers kept; past it the cache starts over (viewers look at a handful of windows).
const MAX_ENTRIES: usize = 256;

pub(crate) struct GraphCache {
    state: Mutex<State>,
}

struct State {
    /// Bumped by every drop.
    generation: u64,
    /// Whether this server hears of every change to the store (see the module docs).
    trusted: bool,
    /// JSON bodies by `(start, end)` of their bucket span.
    answers: FxHashMap<(i64, i64), Bytes>,
}

/// The generation a query started under, to hand back to [`GraphCache::keep`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket(u64);

impl GraphCache {
    /// `trusted`: whether every change to the store passes through this server from the start
    /// (a store of this process alone), rather than only once announcements are subscribed.
    pub fn new(trusted: bool) -> GraphCache {
        GraphCache {
            state: Mutex::new(State {
                generation: 0,
                trusted,
                answers: FxHashMap::default(),
            }),
        }
    }

    /// The kept answer for `span`, else a ticket for keeping the one about to be built.
    pub fn get(&self, span: BucketSpan) -> Result<Bytes, Ticket> {
        let state = self.state.lock();
        match state.answers.get(&(span.start, span.end)) {
            Some(body) => Ok(body.clone()),
            None => Err(Ticket(state.generation)),
        }
    }

    /// Keeps an answer built under `ticket`, unless something changed since.
    pub fn keep(&self, span: BucketSpan, ticket: Ticket, body: Bytes) {
        let mut state = self.state.lock();
        if !state.trusted || state.generation != ticket.0 {
            return;
        }
        if state.answers.len() >= MAX_ENTRIES {
            state.answers.clear();
        }
        state.answers.insert((span.start, span.end), body);
    }

    /// Drops the answers whose buckets meet connections active over `[first, last]`.
    pub fn changed(&self, first: f64, last: f64, bucket_secs: u64) {
        let b = bucket_secs as f64;
        let first_bucket = ((first / b).floor() * b) as i64;
        let last = last.floor() as i64;
        let mut state = self.state.lock();
        state.generation += 1;
        state
            .answers
            .retain(|&(start, end), _| end <= first_bucket || start > last);
    }

    /// Drops every answer.
    pub fn clear(&self) {
        let mut state = self.state.lock();
        state.generation += 1;
        state.answers.clear();
    }

    /// Says whether changes from elsewhere are being heard; dropping everything either way,
    /// since some may have been missed.
    pub fn set_trusted(&self, trusted: bool) {
        let mut state = self.state.lock();
        state.generation += 1;
        state.trusted = trusted;
        state.answers.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: u64 = 10;

    fn span(start: i64) -> BucketSpan {
        BucketSpan {
            start,
            end: start + B as i64,
        }
    }

    fn kept(cache: &GraphCache, start: i64) -> bool {
        cache.get(span(start)).is_ok()
    }

    fn fill(cache: &GraphCache, starts: &[i64]) {
        for &start in starts {
            let ticket = cache.get(span(start)).unwrap_err();
            cache.keep(span(start), ticket, Bytes::from(start.to_string()));
        }
    }

    #[test]
    fn a_change_drops_only_the_buckets_it_meets() {
        let cache = GraphCache::new(true);
        fill(&cache, &[100, 110, 120, 130]);
        assert_eq!(cache.get(span(110)).unwrap(), Bytes::from("110"));
        // Active from 115 to 121: buckets 110 and 120.
        cache.changed(115.0, 121.0, B);
        assert!(kept(&cache, 100));
        assert!(!kept(&cache, 110));
        assert!(!kept(&cache, 120));
        assert!(kept(&cache, 130));
        // A connection ending exactly where bucket 130 starts is active in it.
        cache.changed(125.0, 130.0, B);
        assert!(!kept(&cache, 130));
        assert!(kept(&cache, 100));
    }

    #[test]
    fn an_answer_read_before_a_change_is_not_kept() {
        let cache = GraphCache::new(true);
        let ticket = cache.get(span(100)).unwrap_err();
        // Ingest lands somewhere else while the query runs: the answer may still be stale
        // only if it met the change, but the generation is global, so it is not kept.
        cache.changed(500.0, 501.0, B);
        cache.keep(span(100), ticket, Bytes::from("stale?"));
        assert!(!kept(&cache, 100));
    }

    #[test]
    fn nothing_is_kept_while_changes_from_elsewhere_go_unheard() {
        let cache = GraphCache::new(false);
        fill(&cache, &[100]);
        assert!(!kept(&cache, 100));
        cache.set_trusted(true);
        fill(&cache, &[100]);
        assert!(kept(&cache, 100));
        cache.set_trusted(false);
        assert!(!kept(&cache, 100));
    }

    #[test]
    fn clear_drops_everything() {
        let cache = GraphCache::new(true);
        fill(&cache, &[100, 200]);
        cache.clear();
        assert!(!kept(&cache, 100) && !kept(&cache, 200));
    }
}
