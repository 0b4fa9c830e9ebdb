//! The time-bucketed connection store: one contract, two backends.
//!
//! Time is cut into buckets of `bucket_secs`; a bucket's key is its start epoch,
//! `floor(ts / b) * b`. A connection is active over `[ts, ts + duration]` (unset duration = 0)
//! and belongs to every bucket whose span `[k, k + b)` meets that interval. Only conn records
//! make a connection visible; details and host annotations are stored the moment they arrive and
//! show once their connection is there, so arrival order never changes an answer. Ingest is
//! idempotent: connections by uid, details by a content hash, annotations by
//! `(addr, name, ts)`.
//!
//! Long connections are not written once per bucket: every connection is placed in the lowest
//! level of a small interval index (level `l` buckets are `b * 64^l` seconds wide) where it
//! meets at most [`MAX_FANOUT`] buckets, and every answer reads all levels.
//!
//! Backends: [`MemoryStore`] (embedded, the default) and [`RedisStore`]. Both pass the same
//! conformance suite (`wiredraw-net/tests/store_conformance.rs`).
//!
//! ```
//! use wiredraw_core::{Connection, Contribution};
//! use wiredraw_net::store::{MemoryStore, Store, Window};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let store = MemoryStore::new(10).unwrap();
//! let conn = Connection {
//!     uid: "CabC1".into(),
//!     ts: 1_700_000_003.5,
//!     duration: Some(2.0),
//!     orig_h: "10.0.0.1".parse().unwrap(),
//!     orig_p: Some(51000),
//!     resp_h: "10.0.0.2".parse().unwrap(),
//!     resp_p: Some(443),
//!     proto: "tcp".into(),
//!     service: Some("ssl".into()),
//!     orig_bytes: Some(100),
//!     resp_bytes: Some(2000),
//!     conn_state: Some("SF".into()),
//!     history: Some("ShADadFf".into()),
//!     packets: None,
//! };
//! let batch = Contribution { connections: vec![conn], ..Default::default() };
//! store.ingest(&batch).await.unwrap();
//! let graph = store.graph(Window::At(1_700_000_005.0)).await.unwrap();
//! assert_eq!(graph.edges[0].bytes, 2100);
//! # });
//! ```

mod memory;
mod redis;
mod redis_pool;

pub use self::memory::MemoryStore;
pub use self::redis::{RedisConfig, RedisStore};
pub use self::redis_pool::CLUSTER_SCHEME;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::hash::Hash;
use std::net::IpAddr;
use std::pin::Pin;
use wiredraw_core::{
    CaptureLoss, Connection, Contribution, Detail, Graph, HostAnnotation, HostRecord, Record,
    Software, Value,
};

/// Default bucket width in seconds.
pub const DEFAULT_BUCKET_SECS: u64 = 10;
/// Number of interval-index levels; level `l` buckets are `bucket_secs * 64^l` wide.
pub const LEVELS: usize = 6;
/// A connection goes in the lowest level where it meets at most this many buckets.
pub const MAX_FANOUT: i64 = 4;
/// Largest timestamp accepted (seconds since the epoch; about the year 5138).
pub const MAX_TIME: f64 = 1e11;
/// Largest window, in buckets, one query may cover.
pub const MAX_WINDOW_BUCKETS: i64 = 1_000_000;
/// Most bins one histogram query may ask for.
pub const MAX_HISTOGRAM_BINS: usize = 100_000;
/// How many peers a host answer lists.
pub const TOP_PEERS: usize = 10;
/// How many of the ports a host answered on (and of those it connected to) a host answer lists.
pub const TOP_PORTS: usize = 10;
/// Most certificates one connection's answer gathers (see [`Store::connection`]).
pub const MAX_CERTIFICATES: usize = 32;
/// Longest uid accepted, in bytes.
pub const MAX_UID_LEN: usize = 256;
/// How many records about a host (notices naming it) a host answer lists, the newest.
pub const MAX_HOST_RECORDS: usize = 20;
/// Most records about hosts one window's answer lists (see [`Store::host_records_between`]).
pub const MAX_WINDOW_RECORDS: usize = 1000;
/// How many kinds of software a host answer lists (see [`HostInfo::software`]).
pub const MAX_SOFTWARE: usize = 50;
/// Longest capture-loss interval accepted, in seconds (Zeek measures every 15 minutes by
/// default). Bounding it bounds how far before a window a query looks for intervals reaching in.
pub const MAX_CAPTURE_LOSS_INTERVAL: f64 = 86_400.0;
/// Most capture-loss reports one answer lists: a year of one sensor's 15-minute reports, three
/// times over. The earliest are kept.
pub const MAX_CAPTURE_LOSS_REPORTS: usize = 100_000;

const LEVEL_SHIFT: u32 = 6;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend cannot be reached or did not answer in time. Retry later (HTTP 503).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The request itself is wrong (HTTP 400).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The store configuration is unusable (bad URL, bad prefix, zero bucket width).
    #[error("invalid store configuration: {0}")]
    Config(String),
    /// The backend answered something this code cannot read (HTTP 500).
    #[error("store backend error: {0}")]
    Backend(String),
}

impl StoreError {
    /// True when retrying later may succeed (the server answers 503 and collectors retry).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

/// The future every [`Store`] method returns (boxed so the trait is object-safe).
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A time-bucketed connection store. See the [module docs](self) for the model.
///
/// Object-safe: the server holds an `Arc<dyn Store>`.
pub trait Store: Send + Sync {
    /// Bucket width in seconds.
    fn bucket_secs(&self) -> u64;

    /// Stores connections, details and annotations. Idempotent; invalid items are rejected one by
    /// one (listed in the report) and the rest are stored.
    fn ingest<'a>(&'a self, batch: &'a Contribution) -> StoreFuture<'a, IngestReport>;

    /// First and last active time over the stored connections; `None` when there are none.
    fn range(&self) -> StoreFuture<'_, Option<TimeRange>>;

    /// Connections active in the window, sorted by `(ts, uid)`.
    fn connections(&self, window: Window) -> StoreFuture<'_, Vec<Connection>>;

    /// The aggregated graph of the window.
    fn graph(&self, window: Window) -> StoreFuture<'_, Graph>;

    /// One connection with its details grouped by log type; `None` until its conn record is
    /// stored. The certificates its ssl records name come under `x509`, in chain order (at most
    /// [`MAX_CERTIFICATES`]), though Zeek's x509 log names no connection.
    fn connection<'a>(&'a self, uid: &'a str) -> StoreFuture<'a, Option<ConnectionInfo>>;

    /// The connections from `src` to `dst` active in the window, with their details, sorted by
    /// `(ts, uid)`.
    fn edge(
        &self,
        src: IpAddr,
        dst: IpAddr,
        window: Window,
    ) -> StoreFuture<'_, Vec<ConnectionInfo>>;

    /// What is known about one host: DNS names, software and records about it (all held data)
    /// and its connections in the window.
    fn host(&self, addr: IpAddr, window: Window) -> StoreFuture<'_, HostInfo>;

    /// Connections and bytes per bin over `[from, to)` cut into `bins` equal bins. A connection
    /// counts once, in the bin holding the start of its first bucket.
    fn histogram(&self, from: f64, to: f64, bins: usize) -> StoreFuture<'_, Vec<HistogramBin>>;

    /// The capture-loss reports whose interval `[ts - ts_delta, ts]` meets `[from, to)`, sorted
    /// by `(ts, peer)`, at most [`MAX_CAPTURE_LOSS_REPORTS`]. One report is kept per `(ts, peer)`:
    /// the first ingested.
    fn capture_loss(&self, from: f64, to: f64) -> StoreFuture<'_, Vec<CaptureLoss>>;

    /// The records about hosts (notices naming them, …) stamped in `[from, to]`, newest first,
    /// at most `limit`, each once with every host it was stored under, and how many there are
    /// in all. Records stamped alike come in key order, which is stable between stores.
    fn host_records_between(
        &self,
        from: f64,
        to: f64,
        limit: usize,
    ) -> StoreFuture<'_, HostRecordPage>;

    /// How many records about hosts are stamped in each of `bins` equal bins over `[from, to)`
    /// (the bins of [`Store::histogram`]): where in time the notices are.
    fn host_record_counts(&self, from: f64, to: f64, bins: usize) -> StoreFuture<'_, Vec<u64>>;

    /// Drops what is older than `cutoff`: with `c = floor(cutoff / b) * b`, every connection
    /// whose activity ends before `c` (with its details), details whose connection never came
    /// and whose `ts` is before `c`, annotations seen before `c`, capture-loss reports whose
    /// interval ended before `c`, software last seen before `c`, and records about hosts
    /// stamped before `c`.
    fn retain(&self, cutoff: f64) -> StoreFuture<'_, RetainReport>;

    /// Checks that the backend answers.
    fn health(&self) -> StoreFuture<'_, ()>;

    /// Tells every process sharing this store about a change (Redis: `PUBLISH` on the channel
    /// `<prefix>changes`, which a Redis Cluster delivers on every node). Only this process sees
    /// an in-memory store, so there it has no one to tell and does nothing.
    fn announce<'a>(&'a self, message: &'a str) -> StoreFuture<'a, ()> {
        let _ = message;
        Box::pin(async { Ok(()) })
    }

    /// From now on, every message [`Store::announce`]d by any process sharing this store, this
    /// one included; `None` when no other process can share it (in-memory). Must be called
    /// within a Tokio runtime: the subscription runs in its own task, reconnecting as needed,
    /// until the [`Announcements`] is dropped.
    fn announcements(&self) -> Option<Announcements> {
        None
    }

    /// Whether other processes can share this store, and so keep login sessions in it
    /// ([`Store::share_session`]) for every server to honour.
    fn shares_sessions(&self) -> bool {
        false
    }

    /// Keeps a login session under `key` (a digest of its token, never the token) for `ttl`.
    fn share_session<'a>(
        &'a self,
        key: &'a str,
        user: &'a str,
        ttl: std::time::Duration,
    ) -> StoreFuture<'a, ()> {
        let _ = (key, user, ttl);
        Box::pin(async {
            Err(StoreError::Config(
                "this store keeps no shared sessions".into(),
            ))
        })
    }

    /// The live session kept under `key`, if any.
    fn shared_session<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<SharedSession>> {
        let _ = key;
        Box::pin(async { Ok(None) })
    }

    /// Ends the session kept under `key`.
    fn end_shared_session<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        let _ = key;
        Box::pin(async { Ok(()) })
    }
}

/// What a subscription to [`Store::announcements`] delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Announcement {
    /// One announced message.
    Message(String),
    /// The subscription is live for the first time: every message from now on arrives.
    Subscribed,
    /// The subscription is lost: messages may go unheard until [`Announcement::Resubscribed`].
    Lost,
    /// The subscription was lost and is back: messages announced meanwhile were missed.
    Resubscribed,
}

/// A login session kept in a store shared by several servers ([`Store::shared_session`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedSession {
    pub user: String,
    /// How long it stays valid from the moment it was read.
    pub expires_in: std::time::Duration,
}

/// A subscription to [`Store::announcements`]; dropping it ends the subscription.
#[derive(Debug)]
pub struct Announcements(pub(crate) tokio::sync::mpsc::Receiver<Announcement>);

impl Announcements {
    /// The next announcement; `None` once the store has gone.
    pub async fn recv(&mut self) -> Option<Announcement> {
        self.0.recv().await
    }
}

/// Opens the store a configuration names: `"memory"`, a `redis://` URL, or a Redis Cluster as
/// `redis+cluster://host:port,host:port` (with [`RedisConfig::new`]'s defaults and the given
/// bucket width).
pub fn open(spec: &str, bucket_secs: u64) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    if spec == "memory" {
        return Ok(std::sync::Arc::new(MemoryStore::new(bucket_secs)?));
    }
    if ["redis://", "rediss://", CLUSTER_SCHEME]
        .iter()
        .any(|scheme| spec.starts_with(scheme))
    {
        let mut config = RedisConfig::new(spec);
        config.bucket_secs = bucket_secs;
        return Ok(std::sync::Arc::new(RedisStore::open(config)?));
    }
    Err(StoreError::Config(format!(
        "store {spec:?} is neither \"memory\", a redis:// URL nor a {CLUSTER_SCHEME} node list"
    )))
}

/// What one [`Store::ingest`] call accepted and rejected.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IngestReport {
    /// Connections accepted (new or already stored).
    pub connections: usize,
    /// Details accepted (new or already stored).
    pub details: usize,
    /// Annotations accepted (new or already stored).
    pub annotations: usize,
    /// Capture-loss reports accepted (new or already stored).
    pub capture_loss: usize,
    /// Software sightings accepted (new or already stored).
    pub software: usize,
    /// Records about hosts accepted (new or already stored).
    pub host_records: usize,
    /// Items refused, with their position in the batch.
    pub rejected: Vec<Rejected>,
}

/// One refused item of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    pub kind: ItemKind,
    /// Index in the batch's vector of that kind.
    pub index: usize,
    pub reason: String,
}

/// Which vector of a [`Contribution`] a rejected item came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    Connection,
    Detail,
    Annotation,
    #[serde(rename = "capture_loss")]
    CaptureLoss,
    Software,
    #[serde(rename = "host_record")]
    HostRecord,
}

impl ItemKind {
    /// Every kind, in the order of their discriminants.
    pub const ALL: [ItemKind; 6] = [
        ItemKind::Connection,
        ItemKind::Detail,
        ItemKind::Annotation,
        ItemKind::CaptureLoss,
        ItemKind::Software,
        ItemKind::HostRecord,
    ];

    /// Drops the items of this kind past the first `len` of `batch`.
    pub fn truncate_in(self, batch: &mut Contribution, len: usize) {
        match self {
            ItemKind::Connection => batch.connections.truncate(len),
            ItemKind::Detail => batch.details.truncate(len),
            ItemKind::Annotation => batch.annotations.truncate(len),
            ItemKind::CaptureLoss => batch.capture_loss.truncate(len),
            ItemKind::Software => batch.software.truncate(len),
            ItemKind::HostRecord => batch.host_records.truncate(len),
        }
    }

    /// How many items of this kind `batch` holds.
    pub fn count_in(self, batch: &Contribution) -> usize {
        match self {
            ItemKind::Connection => batch.connections.len(),
            ItemKind::Detail => batch.details.len(),
            ItemKind::Annotation => batch.annotations.len(),
            ItemKind::CaptureLoss => batch.capture_loss.len(),
            ItemKind::Software => batch.software.len(),
            ItemKind::HostRecord => batch.host_records.len(),
        }
    }
}

/// What [`Store::retain`] dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RetainReport {
    /// Connections dropped (with their details).
    pub connections: u64,
    /// Uids whose details were dropped without a connection ever arriving.
    pub orphans: u64,
    /// Annotations dropped.
    pub annotations: u64,
    /// Capture-loss reports dropped.
    pub capture_loss: u64,
    /// Software no longer seen since the cutoff, dropped from its host.
    pub software: u64,
    /// Records about hosts dropped.
    pub host_records: u64,
}

impl RetainReport {
    /// Whether anything was dropped.
    pub fn dropped_any(&self) -> bool {
        [
            self.connections,
            self.orphans,
            self.annotations,
            self.capture_loss,
            self.software,
            self.host_records,
        ]
        .iter()
        .any(|&dropped| dropped > 0)
    }
}

/// First and last active time held, and where the newest data is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TimeRange {
    /// The earliest connection start.
    pub first: f64,
    /// The latest end of a connection's activity.
    pub last: f64,
    /// The latest connection start: where live data is. `last` can lie beyond it by the length
    /// of the longest connection (a replay sends each connection at its start, its end still to
    /// come), so a view that follows live data follows this.
    pub latest_start: f64,
}

impl TimeRange {
    /// A range whose latest start may be unknown: stores and servers of an earlier version do
    /// not keep it, and then the last time stands in for it.
    pub fn new(first: f64, last: f64, latest_start: Option<f64>) -> TimeRange {
        TimeRange {
            first,
            last,
            latest_start: latest_start.unwrap_or(last),
        }
    }

    /// The range of one connection.
    pub fn of_connection(conn: &Connection) -> TimeRange {
        TimeRange {
            first: conn.ts,
            last: conn.end(),
            latest_start: conn.ts,
        }
    }

    /// The range of `connections`; `None` when there are none.
    pub fn of<'a>(connections: impl IntoIterator<Item = &'a Connection>) -> Option<TimeRange> {
        (connections.into_iter())
            .map(TimeRange::of_connection)
            .reduce(TimeRange::union)
    }

    /// The smallest range that holds both.
    pub fn union(self, other: TimeRange) -> TimeRange {
        TimeRange {
            first: self.first.min(other.first),
            last: self.last.max(other.last),
            latest_start: self.latest_start.max(other.latest_start),
        }
    }
}

/// A connection and every record attached to it, grouped by log type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectionInfo {
    pub connection: Connection,
    /// Log type → records (JSON objects), ordered by their `ts` then content.
    pub details: BTreeMap<String, Vec<serde_json::Value>>,
}

/// What is known about one host.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostInfo {
    pub addr: IpAddr,
    /// Names it resolved to per the DNS answers held, most seen first.
    pub names: Vec<HostName>,
    /// Connections in the window with this host as originator.
    pub conns_as_orig: u64,
    /// Connections in the window with this host as responder.
    pub conns_as_resp: u64,
    /// Bytes of the connections touching this host in the window.
    pub bytes: u64,
    /// The hosts it exchanged most bytes with in the window (at most [`TOP_PEERS`]).
    pub peers: Vec<Peer>,
    /// The ports it answered on (as responder) in the window, most connections first (at most
    /// [`TOP_PORTS`]): what it serves, or where a scan knocked.
    pub ports: Vec<PortUse>,
    /// How many distinct ports it answered on, listed or not.
    pub ports_total: u64,
    /// The ports it connected to (as originator) on other hosts, the same way: what it uses, or
    /// where it knocked when it is the one scanning.
    pub ports_contacted: Vec<PortUse>,
    /// How many distinct ports it connected to, listed or not.
    pub ports_contacted_total: u64,
    /// The software seen on it (Zeek's software log) over all held data, by type, name and
    /// version (at most [`MAX_SOFTWARE`], the most recently seen).
    pub software: Vec<SoftwareSeen>,
    /// How many distinct kinds of software were seen on it, listed or not.
    pub software_total: u64,
    /// Records about the host itself, such as notices naming it, over all held data, newest
    /// first (at most [`MAX_HOST_RECORDS`]).
    pub records: Vec<HostRecordJson>,
    /// How many records about the host are held, listed or not.
    pub records_total: u64,
}

/// A record about a host, whole, as the API shows records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostRecordJson {
    pub log_type: String,
    /// The record's fields in the log's own column order.
    pub record: serde_json::Value,
}

/// The records about hosts stamped in a window (see [`Store::host_records_between`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostRecordPage {
    /// Newest first.
    pub records: Vec<StampedHostRecord>,
    /// How many records were stamped in the window, listed or not.
    pub total: u64,
}

/// A record about hosts with its time and every host it names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StampedHostRecord {
    /// The record's `ts`.
    pub ts: f64,
    /// The hosts it was stored under, in address order (a notice's `src` and `dst`).
    pub hosts: Vec<IpAddr>,
    pub log_type: String,
    /// The record's fields in the log's own column order.
    pub record: serde_json::Value,
}

/// One piece of software seen on a host: what Zeek's software log said, and when. The same
/// software seen again (Zeek logs it anew each day it runs) widens `first_seen..last_seen`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SoftwareSeen {
    #[serde(flatten)]
    pub software: SoftwareKey,
    pub first_seen: f64,
    pub last_seen: f64,
}

/// What tells two pieces of software on one host apart: everything Zeek's software log says
/// about it but when.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SoftwareKey {
    /// Zeek's `software_type`, e.g. `HTTP::SERVER`.
    pub software_type: String,
    pub name: String,
    /// As Zeek prints a version (`8.2-p1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unparsed_version: Option<String>,
    /// The port it answered on, for a server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_p: Option<u16>,
}

impl SoftwareKey {
    pub(crate) fn of(software: &Software) -> SoftwareKey {
        SoftwareKey {
            software_type: software.software_type.to_string(),
            name: software.name.to_string(),
            version: software.version.as_ref().map(ToString::to_string),
            unparsed_version: software.unparsed_version.as_ref().map(ToString::to_string),
            host_p: software.host_p,
        }
    }
}

/// A host's software list from `(software, first_seen, last_seen)`: the [`MAX_SOFTWARE`] most
/// recently seen, sorted by type, name and version, and how many there were.
pub(crate) fn software_list(
    seen: impl IntoIterator<Item = SoftwareSeen>,
) -> (Vec<SoftwareSeen>, u64) {
    let mut seen: Vec<SoftwareSeen> = seen.into_iter().collect();
    let total = seen.len() as u64;
    seen.sort_by(|a, b| {
        b.last_seen
            .total_cmp(&a.last_seen)
            .then_with(|| a.software.cmp(&b.software))
    });
    seen.truncate(MAX_SOFTWARE);
    seen.sort_by(|a, b| a.software.cmp(&b.software));
    (seen, total)
}

/// Connections to one port of a host. For ICMP the port is the message type
/// ([`Connection::destination_port`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortUse {
    pub proto: String,
    pub port: u16,
    /// The services Zeek recognised there (`http`, `ssl`, …), sorted; empty when none.
    pub services: Vec<String>,
    pub conns: u64,
    pub bytes: u64,
}

/// A DNS name seen for a host.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostName {
    pub name: String,
    /// Distinct sightings `(name, ts)`.
    pub count: u64,
    pub first_seen: f64,
    pub last_seen: f64,
}

/// Traffic between a host and one peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Peer {
    pub addr: String,
    pub conns: u64,
    pub bytes: u64,
}

/// One histogram bin.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HistogramBin {
    pub start: f64,
    pub conns: u64,
    pub bytes: u64,
}

/// A query window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Window {
    /// The bucket holding this moment.
    At(f64),
    /// Every bucket `k` with `floor(from / b) <= k / b < ceil(to / b)`.
    Between { from: f64, to: f64 },
}

/// A window resolved to whole buckets: seconds `[start, end)`, both multiples of the bucket width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BucketSpan {
    pub start: i64,
    pub end: i64,
}

impl Window {
    /// Resolves the window against a bucket width, refusing non-finite, reversed, out-of-range
    /// or oversized windows.
    pub fn span(self, bucket_secs: u64) -> Result<BucketSpan, StoreError> {
        let b = bucket_secs as f64;
        let (first, end) = match self {
            Window::At(t) => {
                check_time(t, "t")?;
                let k = (t / b).floor();
                (k, k + 1.0)
            }
            Window::Between { from, to } => {
                check_time(from, "from")?;
                check_time(to, "to")?;
                if from >= to {
                    return Err(StoreError::BadRequest(format!(
                        "window from ({from}) must be before to ({to})"
                    )));
                }
                ((from / b).floor(), (to / b).ceil())
            }
        };
        let (first, end) = (first as i64, end as i64);
        if end - first > MAX_WINDOW_BUCKETS {
            return Err(StoreError::BadRequest(format!(
                "window covers {} buckets, more than the limit of {MAX_WINDOW_BUCKETS}",
                end - first
            )));
        }
        let b = bucket_secs as i64;
        Ok(BucketSpan {
            start: first * b,
            end: end * b,
        })
    }
}

impl BucketSpan {
    /// Whether a connection active over `[ts, end]` is active in this span.
    pub fn contains(&self, ts: f64, end: f64) -> bool {
        ts < self.end as f64 && end >= self.start as f64
    }
}

fn check_time(t: f64, what: &str) -> Result<(), StoreError> {
    if t.is_finite() && (0.0..=MAX_TIME).contains(&t) {
        Ok(())
    } else {
        Err(StoreError::BadRequest(format!(
            "{what} must be a time between 0 and {MAX_TIME}, got {t}"
        )))
    }
}

/// Width of one level-`level` bucket in seconds.
pub(crate) fn level_width(bucket_secs: u64, level: usize) -> i64 {
    (bucket_secs as i64) << (LEVEL_SHIFT * level as u32)
}

/// Where a connection lives in the interval index: a level and the start keys of the buckets it
/// meets there, `first..=last` stepping by the level width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Placement {
    pub level: usize,
    pub first: i64,
    pub last: i64,
}

impl Placement {
    pub fn of(bucket_secs: u64, ts: f64, end: f64) -> Placement {
        for level in 0..LEVELS {
            let w = level_width(bucket_secs, level);
            let first = floor_key(ts, w);
            let last = floor_key(end, w);
            if (last - first) / w < MAX_FANOUT || level == LEVELS - 1 {
                return Placement { level, first, last };
            }
        }
        unreachable!("the top level always accepts")
    }

    pub fn keys(&self, bucket_secs: u64) -> impl Iterator<Item = i64> + use<> {
        let w = level_width(bucket_secs, self.level);
        (self.first..=self.last).step_by(w as usize)
    }
}

/// The bucket key (start epoch) holding `t` at width `w`.
pub(crate) fn floor_key(t: f64, w: i64) -> i64 {
    (t / w as f64).floor() as i64 * w
}

/// The keys (start epochs) of the level-`level` buckets that meet a span, as a half-open range.
pub(crate) fn level_keys(bucket_secs: u64, level: usize, span: BucketSpan) -> std::ops::Range<i64> {
    let w = level_width(bucket_secs, level);
    span.start.div_euclid(w) * w..(span.end + w - 1).div_euclid(w) * w
}

/// Whether a connection found in level bucket `key` is the one occurrence counted for the span:
/// a connection meets several buckets, and is counted in the first of them inside the span.
pub(crate) fn counted_here(
    bucket_secs: u64,
    level: usize,
    key: i64,
    ts: f64,
    span: BucketSpan,
) -> bool {
    let w = level_width(bucket_secs, level);
    key == floor_key(ts, w).max(span.start.div_euclid(w) * w)
}

/// Checks a connection before it is stored.
pub(crate) fn check_connection(conn: &Connection) -> Result<(), String> {
    check_uid(&conn.uid)?;
    check_stamp(conn.ts)?;
    if let Some(d) = conn.duration
        && !(d.is_finite() && d <= MAX_TIME)
    {
        return Err(format!(
            "duration must be finite and at most {MAX_TIME}, got {d}"
        ));
    }
    if conn.proto.is_empty() {
        return Err("proto is empty".into());
    }
    Ok(())
}

/// Checks the time an item was stamped with.
fn check_stamp(ts: f64) -> Result<(), String> {
    if ts.is_finite() && (0.0..=MAX_TIME).contains(&ts) {
        Ok(())
    } else {
        Err(format!(
            "ts must be a time between 0 and {MAX_TIME}, got {ts}"
        ))
    }
}

/// Uids name Redis keys inside a hash tag, so braces and control characters are refused.
pub(crate) fn check_uid(uid: &str) -> Result<(), String> {
    if uid.is_empty() {
        return Err("uid is empty".into());
    }
    if uid.len() > MAX_UID_LEN {
        return Err(format!("uid is longer than {MAX_UID_LEN} bytes"));
    }
    if uid
        .chars()
        .any(|c| c == '{' || c == '}' || c.is_control() || c.is_whitespace())
    {
        return Err(format!(
            "uid {uid:?} contains braces, spaces or control characters"
        ));
    }
    Ok(())
}

pub(crate) fn check_detail(detail: &Detail) -> Result<(), String> {
    check_uid(&detail.uid)?;
    check_record(&detail.log_type, &detail.record)
}

pub(crate) fn check_host_record(host_record: &HostRecord) -> Result<(), String> {
    check_record(&host_record.log_type, &host_record.record)?;
    let ts = record_ts(&host_record.record).ok_or("a record about a host needs its ts")?;
    check_stamp(ts)
}

/// A whole record, kept as it came, with the log type it came from.
fn check_record(log_type: &str, record: &Record) -> Result<(), String> {
    if log_type.is_empty() || log_type.chars().any(char::is_control) {
        return Err(format!(
            "log type {log_type:?} is empty or has control characters"
        ));
    }
    if record.values.len() != record.schema.names.len() {
        return Err("record has a different number of values than its schema has fields".into());
    }
    Ok(())
}

pub(crate) fn check_annotation(ann: &HostAnnotation) -> Result<(), String> {
    check_stamp(ann.ts)?;
    if ann.name.is_empty() || ann.name.len() > 1024 || ann.name.chars().any(char::is_control) {
        return Err("name is empty, longer than 1024 bytes or has control characters".into());
    }
    Ok(())
}

pub(crate) fn check_capture_loss(report: &CaptureLoss) -> Result<(), String> {
    check_stamp(report.ts)?;
    if !(0.0..=MAX_CAPTURE_LOSS_INTERVAL).contains(&report.ts_delta) {
        return Err(format!(
            "ts_delta must be between 0 and {MAX_CAPTURE_LOSS_INTERVAL} seconds, got {}",
            report.ts_delta
        ));
    }
    if !(0.0..=100.0).contains(&report.percent_lost) {
        return Err(format!(
            "percent_lost must be between 0 and 100, got {}",
            report.percent_lost
        ));
    }
    if report.peer.is_empty()
        || report.peer.len() > 256
        || report.peer.chars().any(char::is_control)
    {
        return Err("peer is empty, longer than 256 bytes or has control characters".into());
    }
    Ok(())
}

pub(crate) fn check_software(software: &Software) -> Result<(), String> {
    check_stamp(software.ts)?;
    for (field, text, max) in [
        ("software_type", Some(&software.software_type), 256),
        ("name", Some(&software.name), 256),
        ("version", software.version.as_ref(), 256),
        ("unparsed_version", software.unparsed_version.as_ref(), 4096),
    ] {
        if text.is_some_and(|t| t.len() > max) {
            return Err(format!("{field} is longer than {max} bytes"));
        }
    }
    if software.software_type.is_empty() || software.name.is_empty() {
        return Err("software_type and name must not be empty".into());
    }
    Ok(())
}

/// Whether a capture-loss report's interval meets `[from, to)`.
pub(crate) fn capture_loss_meets(report: &CaptureLoss, from: f64, to: f64) -> bool {
    report.ts >= from && report.start() < to
}

/// Checks the bounds of a query for `what` (capture loss, records about hosts) over a time span.
pub(crate) fn check_time_window(what: &str, from: f64, to: f64) -> Result<(), StoreError> {
    check_time(from, "from")?;
    check_time(to, "to")?;
    if from > to {
        return Err(StoreError::BadRequest(format!(
            "{what} from ({from}) must not be after to ({to})"
        )));
    }
    Ok(())
}

/// The items of a batch that passed their checks, and the report listing the rest.
pub(crate) struct Checked<'a> {
    pub connections: Vec<&'a Connection>,
    pub details: Vec<&'a Detail>,
    pub annotations: Vec<&'a HostAnnotation>,
    pub capture_loss: Vec<&'a CaptureLoss>,
    pub software: Vec<&'a Software>,
    pub host_records: Vec<&'a HostRecord>,
    pub report: IngestReport,
}

pub(crate) fn check_batch(batch: &Contribution) -> Checked<'_> {
    let mut report = IngestReport::default();
    let connections = keep_valid(
        &batch.connections,
        ItemKind::Connection,
        check_connection,
        &mut report,
    );
    let details = keep_valid(&batch.details, ItemKind::Detail, check_detail, &mut report);
    let annotations = keep_valid(
        &batch.annotations,
        ItemKind::Annotation,
        check_annotation,
        &mut report,
    );
    let capture_loss = keep_valid(
        &batch.capture_loss,
        ItemKind::CaptureLoss,
        check_capture_loss,
        &mut report,
    );
    let software = keep_valid(
        &batch.software,
        ItemKind::Software,
        check_software,
        &mut report,
    );
    let host_records = keep_valid(
        &batch.host_records,
        ItemKind::HostRecord,
        check_host_record,
        &mut report,
    );
    report.connections = connections.len();
    report.details = details.len();
    report.annotations = annotations.len();
    report.capture_loss = capture_loss.len();
    report.software = software.len();
    report.host_records = host_records.len();
    Checked {
        connections,
        details,
        annotations,
        capture_loss,
        software,
        host_records,
        report,
    }
}

fn keep_valid<'a, T>(
    items: &'a [T],
    kind: ItemKind,
    check: fn(&T) -> Result<(), String>,
    report: &mut IngestReport,
) -> Vec<&'a T> {
    let mut kept = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        match check(item) {
            Ok(()) => kept.push(item),
            Err(reason) => report.rejected.push(Rejected {
                kind,
                index,
                reason,
            }),
        }
    }
    kept
}

/// Orders `f64` like their numeric value, as an unsigned integer (for sortable keys).
pub(crate) fn ordered_bits(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// The `f64` that [`ordered_bits`] made `bits` of.
pub(crate) fn from_ordered_bits(bits: u64) -> f64 {
    f64::from_bits(if bits >> 63 == 1 {
        bits & !(1 << 63)
    } else {
        !bits
    })
}

/// Identity and order of one stored detail: its record's `ts` (missing sorts last) and a 128-bit
/// content hash of log type, field names and values (the source line number is not content).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct DetailKey {
    pub ts_order: u64,
    pub hash: u128,
}

impl DetailKey {
    pub fn of(log_type: &str, record: &Record, scratch: &mut Vec<u8>) -> DetailKey {
        scratch.clear();
        scratch.extend_from_slice(log_type.as_bytes());
        for (name, value) in record.schema.names.iter().zip(&record.values) {
            scratch.push(0xff);
            scratch.extend_from_slice(name.as_bytes());
            scratch.push(0xfe);
            encode_value(value, scratch);
        }
        let ts_order = record_ts(record).map_or(u64::MAX, ordered_bits);
        DetailKey {
            ts_order,
            hash: xxhash_rust::xxh3::xxh3_128(scratch),
        }
    }

    /// The least key of a record stamped `ts`.
    pub fn first_at(ts: f64) -> DetailKey {
        DetailKey {
            ts_order: ordered_bits(ts),
            hash: 0,
        }
    }

    /// The greatest key of a record stamped `ts`.
    pub fn last_at(ts: f64) -> DetailKey {
        DetailKey {
            ts_order: ordered_bits(ts),
            hash: u128::MAX,
        }
    }

    /// The `ts` the key was made with (NaN for a record without one).
    pub fn ts(self) -> f64 {
        from_ordered_bits(self.ts_order)
    }

    /// Fixed-width hex: sorting the text sorts the keys.
    pub fn to_hex(self) -> String {
        format!("{:016x}{:032x}", self.ts_order, self.hash)
    }

    pub fn from_hex(text: &str) -> Option<DetailKey> {
        if text.len() != 48 || !text.is_ascii() {
            return None;
        }
        Some(DetailKey {
            ts_order: u64::from_str_radix(&text[..16], 16).ok()?,
            hash: u128::from_str_radix(&text[16..], 16).ok()?,
        })
    }
}

/// A self-delimiting byte encoding of a value, for content hashing.
fn encode_value(value: &Value, out: &mut Vec<u8>) {
    fn text(tag: u8, s: &str, out: &mut Vec<u8>) {
        out.push(tag);
        out.extend_from_slice(&(s.len() as u64).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    }
    match value {
        Value::Unset => out.push(0),
        Value::Bool(b) => out.extend_from_slice(&[1, u8::from(*b)]),
        Value::Count(n) => {
            out.push(2);
            out.extend_from_slice(&n.to_le_bytes());
        }
        Value::Int(n) => {
            out.push(3);
            out.extend_from_slice(&n.to_le_bytes());
        }
        Value::Double(x) | Value::Time(x) | Value::Interval(x) => {
            out.push(match value {
                Value::Double(_) => 4,
                Value::Time(_) => 5,
                _ => 6,
            });
            out.extend_from_slice(&x.to_bits().to_le_bytes());
        }
        Value::Addr(a) => {
            out.push(7);
            encode_addr(a, out);
        }
        Value::Subnet(a, len) => {
            out.push(8);
            encode_addr(a, out);
            out.push(*len);
        }
        Value::Port(p) => {
            out.push(9);
            out.extend_from_slice(&p.to_le_bytes());
        }
        Value::Enum(s) => text(10, s, out),
        Value::String(s) => text(11, s, out),
        Value::Pattern(s) => text(12, s, out),
        Value::Set(items) | Value::Vector(items) => {
            out.push(if matches!(value, Value::Set(_)) {
                13
            } else {
                14
            });
            out.extend_from_slice(&(items.len() as u64).to_le_bytes());
            for item in items {
                encode_value(item, out);
            }
        }
    }
}

fn encode_addr(addr: &IpAddr, out: &mut Vec<u8>) {
    match addr {
        IpAddr::V4(a) => out.extend_from_slice(&a.octets()),
        IpAddr::V6(a) => out.extend_from_slice(&a.octets()),
    }
}

/// The record's `ts` field, when it has a time there.
pub(crate) fn record_ts(record: &Record) -> Option<f64> {
    let i = record.schema.names.iter().position(|n| &**n == "ts")?;
    match record.values.get(i)? {
        Value::Time(t) | Value::Double(t) if t.is_finite() => Some(*t),
        _ => None,
    }
}

/// The log type of certificates. Zeek's x509 log names no connection: its records are kept
/// under the certificate's key, and a connection's answer gathers those its ssl records name.
pub(crate) const CERTIFICATE_LOG: &str = "x509";

/// The keys of the certificates a connection's ssl records name, in chain order, the server's
/// chain first: fingerprints (`cert_chain_fps`, Zeek 5 and later) or file ids
/// (`cert_chain_fuids`, before), the keys the x509 plugin keeps certificates under. At most
/// [`MAX_CERTIFICATES`]: real chains hold a handful, and a crafted record must not make one
/// answer fetch thousands.
pub(crate) fn certificate_keys(details: &BTreeMap<String, Vec<serde_json::Value>>) -> Vec<&str> {
    const CHAINS: [&str; 4] = [
        "cert_chain_fps",
        "client_cert_chain_fps",
        "cert_chain_fuids",
        "client_cert_chain_fuids",
    ];
    let mut keys: Vec<&str> = Vec::new();
    for record in details.get("ssl").into_iter().flatten() {
        for chain in CHAINS {
            let named = record.get(chain).and_then(serde_json::Value::as_array);
            for key in named
                .into_iter()
                .flatten()
                .filter_map(serde_json::Value::as_str)
            {
                if keys.len() == MAX_CERTIFICATES {
                    return keys;
                }
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
    }
    keys
}

/// A record as a JSON object: field name → value, unset as `null`, times as epoch seconds.
pub fn record_json(record: &Record) -> serde_json::Value {
    serde_json::to_value(RecordJson(record)).unwrap_or(serde_json::Value::Null)
}

/// Serializes a record as [`record_json`] shapes it, without building the tree first.
pub(crate) struct RecordJson<'r>(pub &'r Record);

impl Serialize for RecordJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let fields = self.0.schema.names.iter().zip(&self.0.values);
        serializer.collect_map(fields.map(|(name, value)| (&**name, ValueJson(value))))
    }
}

struct ValueJson<'v>(&'v Value);

impl Serialize for ValueJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Unset => serializer.serialize_none(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Count(n) => serializer.serialize_u64(*n),
            Value::Int(n) => serializer.serialize_i64(*n),
            Value::Double(x) | Value::Time(x) | Value::Interval(x) if x.is_finite() => {
                serializer.serialize_f64(*x)
            }
            Value::Double(_) | Value::Time(_) | Value::Interval(_) => serializer.serialize_none(),
            Value::Addr(a) => serializer.collect_str(a),
            Value::Subnet(a, len) => serializer.collect_str(&format_args!("{a}/{len}")),
            Value::Port(p) => serializer.serialize_u16(*p),
            Value::Enum(s) | Value::String(s) | Value::Pattern(s) => serializer.serialize_str(s),
            Value::Set(items) | Value::Vector(items) => {
                serializer.collect_seq(items.iter().map(ValueJson))
            }
        }
    }
}

/// Sorts connections the way every answer lists them.
pub(crate) fn sort_connections<T>(items: &mut [T], conn: impl Fn(&T) -> &Connection) {
    items.sort_unstable_by(|a, b| {
        let (a, b) = (conn(a), conn(b));
        a.ts.total_cmp(&b.ts).then_with(|| a.uid.cmp(&b.uid))
    });
}

/// Aggregates the window's connections of one host into a [`HostInfo`] (names filled by caller).
pub(crate) fn host_info<'c>(
    addr: IpAddr,
    conns: impl IntoIterator<Item = &'c Connection>,
) -> HostInfo {
    let mut info = HostInfo {
        addr,
        names: Vec::new(),
        conns_as_orig: 0,
        conns_as_resp: 0,
        bytes: 0,
        peers: Vec::new(),
        ports: Vec::new(),
        ports_total: 0,
        ports_contacted: Vec::new(),
        ports_contacted_total: 0,
        software: Vec::new(),
        software_total: 0,
        records: Vec::new(),
        records_total: 0,
    };
    let mut peers: FxHashMap<IpAddr, (u64, u64)> = FxHashMap::default();
    let mut answered = PortTallies::default();
    let mut contacted = PortTallies::default();
    for conn in conns {
        let is_orig = conn.orig_h == addr;
        let is_resp = conn.resp_h == addr;
        if !is_orig && !is_resp {
            continue;
        }
        info.conns_as_orig += u64::from(is_orig);
        info.conns_as_resp += u64::from(is_resp);
        let bytes = conn.total_bytes();
        info.bytes = info.bytes.saturating_add(bytes);
        let peer = peers
            .entry(if is_orig { conn.resp_h } else { conn.orig_h })
            .or_insert((0, 0));
        peer.0 += 1;
        peer.1 = peer.1.saturating_add(bytes);
        if is_resp {
            answered.count(conn, bytes);
        }
        if is_orig {
            contacted.count(conn, bytes);
        }
    }
    (info.ports, info.ports_total) = answered.top();
    (info.ports_contacted, info.ports_contacted_total) = contacted.top();
    let mut peers: Vec<Peer> = peers
        .into_iter()
        .map(|(a, (conns, bytes))| Peer {
            addr: a.to_string(),
            conns,
            bytes,
        })
        .collect();
    peers.sort_unstable_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then(b.conns.cmp(&a.conns))
            .then_with(|| a.addr.cmp(&b.addr))
    });
    peers.truncate(TOP_PEERS);
    info.peers = peers;
    info
}

/// What [`host_info`] counts per port while it walks the connections.
#[derive(Default)]
struct PortTallies<'c>(FxHashMap<(&'c str, u16), PortTally<'c>>);

#[derive(Default)]
struct PortTally<'c> {
    conns: u64,
    bytes: u64,
    services: BTreeSet<&'c str>,
}

impl<'c> PortTallies<'c> {
    fn count(&mut self, conn: &'c Connection, bytes: u64) {
        let Some(port) = conn.destination_port() else {
            return;
        };
        let tally = self.0.entry((conn.proto.as_str(), port)).or_default();
        tally.conns += 1;
        tally.bytes = tally.bytes.saturating_add(bytes);
        tally.services.extend(conn.services());
    }

    /// The [`TOP_PORTS`] most used, and how many ports there were.
    fn top(self) -> (Vec<PortUse>, u64) {
        let total = self.0.len() as u64;
        // A scanned host has thousands: only the listed ones become strings.
        let mut ports: Vec<((&str, u16), PortTally<'c>)> = self.0.into_iter().collect();
        ports.sort_unstable_by(|(a_port, a), (b_port, b)| {
            b.conns
                .cmp(&a.conns)
                .then(b.bytes.cmp(&a.bytes))
                .then_with(|| a_port.cmp(b_port))
        });
        let listed = ports
            .into_iter()
            .take(TOP_PORTS)
            .map(|((proto, port), tally)| PortUse {
                proto: proto.to_owned(),
                port,
                services: tally.services.into_iter().map(str::to_owned).collect(),
                conns: tally.conns,
                bytes: tally.bytes,
            })
            .collect();
        (listed, total)
    }
}

/// Host names from sightings `(name, ts)` (each sighting distinct).
pub(crate) fn host_names<'s>(sightings: impl IntoIterator<Item = (&'s str, f64)>) -> Vec<HostName> {
    let mut by_name: BTreeMap<&str, HostName> = BTreeMap::new();
    for (name, ts) in sightings {
        let entry = by_name.entry(name).or_insert_with(|| HostName {
            name: name.to_owned(),
            count: 0,
            first_seen: ts,
            last_seen: ts,
        });
        entry.count += 1;
        entry.first_seen = entry.first_seen.min(ts);
        entry.last_seen = entry.last_seen.max(ts);
    }
    let mut names: Vec<HostName> = by_name.into_values().collect();
    names.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    names
}

/// Empty histogram bins over `[from, to)` for checked arguments.
pub(crate) fn histogram_bins(
    from: f64,
    to: f64,
    bins: usize,
) -> Result<Vec<HistogramBin>, StoreError> {
    let edges = bin_edges(from, to, bins)?;
    Ok(edges[..bins]
        .iter()
        .map(|&start| HistogramBin {
            start,
            conns: 0,
            bytes: 0,
        })
        .collect())
}

/// The edges of `bins` equal bins over `[from, to)` for checked arguments: `bins + 1` times,
/// the last `to`, so that bin `i` is `[edges[i], edges[i + 1])` in every store alike.
pub(crate) fn bin_edges(from: f64, to: f64, bins: usize) -> Result<Vec<f64>, StoreError> {
    check_time(from, "from")?;
    check_time(to, "to")?;
    if from >= to {
        return Err(StoreError::BadRequest(format!(
            "histogram from ({from}) must be before to ({to})"
        )));
    }
    if bins == 0 || bins > MAX_HISTOGRAM_BINS {
        return Err(StoreError::BadRequest(format!(
            "bins must be between 1 and {MAX_HISTOGRAM_BINS}, got {bins}"
        )));
    }
    let width = (to - from) / bins as f64;
    Ok((0..=bins)
        .map(|i| {
            if i == bins {
                to
            } else {
                from + i as f64 * width
            }
        })
        .collect())
}

/// Adds the totals of the connections starting in bucket `[key, key + bucket_secs)` to the bin
/// holding the bucket's start, or to the first bin for a bucket that begins before `from` and
/// reaches into it: asked for exactly the range's `first` and `last`, which fall inside
/// buckets, the bins still count every connection.
pub(crate) fn add_to_bins(
    bins: &mut [HistogramBin],
    (from, to): (f64, f64),
    (key, bucket_secs): (i64, i64),
    conns: u64,
    bytes: u64,
) {
    let start = key as f64;
    if start + bucket_secs as f64 <= from || start >= to || bins.is_empty() {
        return;
    }
    let width = (to - from) / bins.len() as f64;
    let i = ((start.max(from) - from) / width) as usize;
    let bin = &mut bins[i.min(bins.len() - 1)];
    bin.conns += conns;
    bin.bytes = bin.bytes.saturating_add(bytes);
}

#[cfg(test)]
mod tests {
    use super::{from_ordered_bits, ordered_bits};

    #[test]
    fn ordered_bits_sort_like_the_numbers_and_give_them_back() {
        let numbers = [
            -1e300,
            -2.5,
            -0.0,
            0.0,
            1e-300,
            1.0,
            1713484800.123456,
            f64::INFINITY,
        ];
        for pair in numbers.windows(2) {
            assert!(ordered_bits(pair[0]) <= ordered_bits(pair[1]), "{pair:?}");
        }
        for x in numbers {
            assert_eq!(from_ordered_bits(ordered_bits(x)).to_bits(), x.to_bits());
        }
    }
}
