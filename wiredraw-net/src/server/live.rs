//! Live push: `GET /api/live`, a stream of server-sent events saying what changed in the store.
//!
//! Every successful ingest on any server sharing the store becomes one `change` event on every
//! server's stream: the ingesting server tells its own viewers at once and announces the change
//! through the store ([`Store::announce`](crate::store::Store::announce); Redis pub/sub, so a
//! Redis Cluster delivers it to every server), and each server relays what the others
//! announced. With the in-memory store only the one process exists, so nothing leaves it.
//!
//! The stream (`Content-Type: text/event-stream`), one event per blank-line-ended block:
//!
//! ```text
//! event: range
//! data: {"first":1700000000.0,"last":1700000123.5,"bucket_secs":10}
//!
//! event: change
//! data: {"log_type":"conn","first":1700000120.0,"last":1700000123.5,"buckets":[1700000120]}
//!
//! event: records
//! data: {"log_type":"notice","first":1700000093.2,"last":1700000118.7}
//!
//! event: resync
//! data: {}
//!
//! : keepalive
//! ```
//!
//! - `range` comes first, once: the range held when the stream opened, as `GET /api/range`.
//! - `change`: connections were stored active over `[first, last]`; `buckets` lists the start
//!   keys of the buckets they touched, ascending, at most
//!   [`MAX_CHANGED_BUCKETS`](crate::server::MAX_CHANGED_BUCKETS) (when more changed, every
//!   bucket meeting `[first, last]` may have). The held range is now at least
//!   `[min(old first, first), max(old last, last)]`.
//! - `records`: what an ingest stored besides connections (details of connections, DNS names,
//!   records about hosts such as notices, software, capture-loss reports) is stamped over
//!   `[first, last]`: answers about hosts and connections there, and the window's records about
//!   hosts, may have changed. No graph did, and the held range did not grow. Clients of an
//!   earlier version skip the event.
//! - `resync`: changes may have been missed (this viewer fell behind, or the server lost its
//!   subscription to the others for a while): fetch the range and the buckets on screen again.
//! - A comment line every [`KEEPALIVE`] keeps proxies from closing an idle stream.
//!
//! The stream ends when the server shuts down; a viewer then polls, and reconnects when it can.

use crate::api::RangeResponse;
use crate::server::{ApiError, App, Change, ResponseBody};
use crate::store::{Announcement, TimeRange};
use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use hyper::{Response, StatusCode};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// How often an idle stream sends a comment line.
pub const KEEPALIVE: Duration = Duration::from_secs(15);

/// The data of a `records` event: what one ingest stored besides connections.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveRecords {
    /// The log type posted.
    pub log_type: String,
    /// The earliest time among what was stored (a capture-loss report's interval start).
    pub first: f64,
    /// The latest.
    pub last: f64,
}

/// The data of a `change` event: what one ingest stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveChange {
    /// The log type posted.
    pub log_type: String,
    /// Earliest start among the connections stored.
    pub first: f64,
    /// Latest end of activity among them.
    pub last: f64,
    /// Latest start among them; absent from a server of an earlier version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_start: Option<f64>,
    /// Start keys of the buckets they touched, ascending (see the module docs for the limit).
    pub buckets: Vec<i64>,
}

impl From<&Change> for LiveChange {
    fn from(change: &Change) -> LiveChange {
        LiveChange {
            log_type: change.log_type.clone(),
            first: change.first,
            last: change.last,
            latest_start: Some(change.latest_start),
            buckets: change.buckets.clone(),
        }
    }
}

impl LiveChange {
    /// The range of what was stored (see [`TimeRange::new`] for a server that does not say
    /// the latest start).
    pub fn range(&self) -> TimeRange {
        TimeRange::new(self.first, self.last, self.latest_start)
    }
}

impl From<LiveChange> for Change {
    fn from(change: LiveChange) -> Change {
        Change {
            latest_start: change.range().latest_start,
            log_type: change.log_type,
            first: change.first,
            last: change.last,
            buckets: change.buckets,
        }
    }
}

/// One event of the stream, as [`crate::client::ApiClient::live`] reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveEvent {
    /// The range held when the stream opened.
    Range(RangeResponse),
    /// Connections were stored.
    Change(LiveChange),
    /// Something besides connections was stored.
    Records(LiveRecords),
    /// Changes may have been missed: fetch again what is on screen.
    Resync,
}

/// What a server announces to the others sharing its store.
#[derive(Serialize, Deserialize)]
struct Envelope {
    /// The announcing server, so it skips its own announcements.
    origin: String,
    #[serde(flatten)]
    news: News,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum News {
    /// An ingest stored connections.
    Change(LiveChange),
    /// An ingest stored something besides connections.
    Records(LiveRecords),
    /// A login session ended: the key it was kept under in the store (a digest, never the
    /// token), for every server to drop from its session cache.
    SessionEnded(String),
}

/// One server's live-push state.
pub(crate) struct Live {
    origin: String,
    /// Bumped whenever changes from other servers may have been missed.
    resyncs: watch::Sender<u64>,
    /// Set when the server shuts down, ending every stream.
    closing: watch::Sender<bool>,
}

impl Live {
    pub fn new() -> Live {
        let mut id = [0u8; 8];
        rand::rng().fill_bytes(&mut id);
        Live {
            origin: hex::encode(id),
            resyncs: watch::Sender::new(0),
            closing: watch::Sender::new(false),
        }
    }
}

fn event<T: Serialize>(name: &str, data: &T) -> Bytes {
    let data = serde_json::to_string(data).expect("live event data always serialises");
    Bytes::from(format!("event: {name}\ndata: {data}\n\n"))
}

fn resync_event() -> Bytes {
    Bytes::from_static(b"event: resync\ndata: {}\n\n")
}

/// What one stream waits on.
struct Stream {
    changes: broadcast::Receiver<Change>,
    records: broadcast::Receiver<LiveRecords>,
    resyncs: watch::Receiver<u64>,
    closing: watch::Receiver<bool>,
    keepalive: tokio::time::Interval,
}

impl Stream {
    /// The next block to send, `None` to end the stream.
    async fn next_block(&mut self) -> Option<Bytes> {
        tokio::select! {
            received = self.changes.recv() => match received {
                Ok(change) => Some(event("change", &LiveChange::from(&change))),
                Err(broadcast::error::RecvError::Lagged(_)) => Some(resync_event()),
                Err(broadcast::error::RecvError::Closed) => None,
            },
            received = self.records.recv() => match received {
                Ok(records) => Some(event("records", &records)),
                Err(broadcast::error::RecvError::Lagged(_)) => Some(resync_event()),
                Err(broadcast::error::RecvError::Closed) => None,
            },
            changed = self.resyncs.changed() => changed.ok().map(|()| resync_event()),
            _ = self.closing.changed() => None,
            _ = self.keepalive.tick() => Some(Bytes::from_static(b": keepalive\n\n")),
        }
    }
}

impl App {
    /// Tells this server's live viewers about a change at once, and the other servers sharing
    /// the store through it. A failed announcement is logged, never an ingest error: the data
    /// is stored, and other servers' viewers see it on their next poll.
    pub(crate) async fn announce_change(&self, change: Change) {
        let news = News::Change(LiveChange::from(&change));
        self.forget_graphs(&change);
        // No live subscriber here is not an error.
        let _ = self.inner.changes.send(change);
        if let Err(error) = self.announce(news).await {
            tracing::warn!(%error, "cannot announce a change to the other servers");
        }
    }

    /// Tells this server's live viewers, and the other servers, that records besides connections
    /// were stored. Failing to tell the other servers is logged, as for a change.
    pub(crate) async fn announce_records(&self, records: LiveRecords) {
        let news = News::Records(records.clone());
        let _ = self.inner.records.send(records);
        if let Err(error) = self.announce(news).await {
            tracing::warn!(%error, "cannot announce stored records to the other servers");
        }
    }

    /// Tells the other servers sharing the store that the session kept under `key` ended.
    /// Failing that is logged: the session is gone from the store, and servers that cannot
    /// hear announcements keep no sessions.
    pub(crate) async fn announce_session_ended(&self, key: String) {
        if let Err(error) = self.announce(News::SessionEnded(key)).await {
            tracing::warn!(%error, "cannot announce a logout to the other servers");
        }
    }

    async fn announce(&self, news: News) -> Result<(), crate::store::StoreError> {
        let envelope = Envelope {
            origin: self.inner.live.origin.clone(),
            news,
        };
        let message = serde_json::to_string(&envelope).expect("an envelope always serialises");
        self.inner.store.announce(&message).await
    }

    /// Relays the changes other servers announce to this server's subscribers; `None` when the
    /// store is this process's alone.
    pub(crate) fn spawn_change_relay(&self) -> Option<tokio::task::JoinHandle<()>> {
        let mut announcements = self.inner.store.announcements()?;
        let app = self.clone();
        Some(tokio::spawn(async move {
            while let Some(announcement) = announcements.recv().await {
                let live = &app.inner.live;
                match announcement {
                    Announcement::Message(text) => match serde_json::from_str::<Envelope>(&text) {
                        Ok(envelope) if envelope.origin == live.origin => {}
                        Ok(Envelope {
                            news: News::Change(change),
                            ..
                        }) => {
                            let change = change.into();
                            app.forget_graphs(&change);
                            let _ = app.inner.changes.send(change);
                        }
                        Ok(Envelope {
                            news: News::Records(records),
                            ..
                        }) => {
                            let _ = app.inner.records.send(records);
                        }
                        Ok(Envelope {
                            news: News::SessionEnded(key),
                            ..
                        }) => app.inner.session_cache.forget(&key),
                        Err(error) => {
                            // Some change or logout went by that cannot be placed.
                            app.inner.graph_cache.clear();
                            app.inner.session_cache.clear();
                            tracing::warn!(%error, "unreadable announcement");
                        }
                    },
                    Announcement::Subscribed => app.trust_announcements(true),
                    Announcement::Lost => app.trust_announcements(false),
                    Announcement::Resubscribed => {
                        app.trust_announcements(true);
                        live.resyncs.send_modify(|n| *n += 1);
                    }
                }
            }
            // The store is gone: nothing will say what changes any more.
            app.trust_announcements(false);
        }))
    }

    /// Whether what is kept on the strength of announcements (graph answers, sessions) can be
    /// trusted from now on; when not, it is all dropped.
    fn trust_announcements(&self, trusted: bool) {
        self.inner.graph_cache.set_trusted(trusted);
        self.inner.session_cache.set_trusted(trusted);
    }

    /// Drops the kept graph answers a change touches.
    fn forget_graphs(&self, change: &Change) {
        let bucket_secs = self.inner.config.bucket_secs;
        self.inner
            .graph_cache
            .changed(change.first, change.last, bucket_secs);
    }

    /// Ends every live stream (the server is shutting down).
    pub(crate) fn close_live_streams(&self) {
        self.inner.live.closing.send_replace(true);
    }

    /// `GET /api/live`.
    pub(crate) async fn live(&self) -> Result<Response<ResponseBody>, ApiError> {
        // Subscribe before reading the range, so no change falls between the two.
        let stream = Stream {
            changes: self.inner.changes.subscribe(),
            records: self.inner.records.subscribe(),
            resyncs: self.inner.live.resyncs.subscribe(),
            closing: self.inner.live.closing.subscribe(),
            keepalive: tokio::time::interval_at(tokio::time::Instant::now() + KEEPALIVE, KEEPALIVE),
        };
        let range = self.timed("range", self.inner.store.range()).await?;
        let first = event(
            "range",
            &RangeResponse::new(range, self.inner.config.bucket_secs),
        );
        let rest = futures_util::stream::unfold(stream, |mut stream| async {
            let block = stream.next_block().await?;
            Some((block, stream))
        });
        let blocks = futures_util::stream::once(async { first })
            .chain(rest)
            .map(|block| Ok::<_, Infallible>(Frame::data(block)));
        let mut response = Response::new(BodyExt::boxed(StreamBody::new(blocks)));
        *response.status_mut() = StatusCode::OK;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
        Ok(response)
    }
}
