//! The Redis store, through a deadpool-redis connection pool; [`RedisStore`] documents the key
//! layout.

use super::redis_pool::{Commands, Connections, node_urls, redis_error, subscribe};
use super::{
    Announcements, BucketSpan, CERTIFICATE_LOG, ConnectionInfo, DetailKey, HistogramBin, HostInfo,
    HostRecordJson, HostRecordPage, IngestReport, LEVELS, MAX_CAPTURE_LOSS_INTERVAL,
    MAX_CAPTURE_LOSS_REPORTS, MAX_HOST_RECORDS, MAX_WINDOW_RECORDS, Placement, RecordJson,
    RetainReport, SharedSession, SoftwareKey, SoftwareSeen, StampedHostRecord, Store, StoreError,
    StoreFuture, TimeRange, Window, add_to_bins, bin_edges, capture_loss_meets, certificate_keys,
    check_batch, check_time_window, counted_here, floor_key, histogram_bins, host_info, host_names,
    level_keys, level_width, record_ts, software_list, sort_connections,
};
use compact_str::CompactString;
use futures_util::{StreamExt, TryStreamExt};
use redis::{ErrorKind, ServerErrorKind, Value as RedisValue};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::Duration;
use wiredraw_core::graph::GraphBuilder;
use wiredraw_core::{
    CaptureLoss, Connection, Contribution, Detail, Graph, HostAnnotation, HostRecord, PacketCounts,
    Software,
};

const HISTOGRAM_SCRIPT: &str = include_str!("histogram.lua");
/// Histogram totals are kept in shards as wide as index level 2 (4096 buckets), so one script
/// call per batch counts a whole stretch of time.
const HISTOGRAM_SHARD_LEVEL: usize = 2;
const RANGE_SCRIPT: &str = include_str!("range.lua");
/// Hashes each index bucket is split into (by uid), read in parallel.
pub const INDEX_SHARDS: usize = 4;

/// One hash of the index: (level, bucket key, shard).
type IndexShard = (usize, i64, usize);

/// The index shard of a uid: FNV-1a, fixed here so every server process agrees.
fn index_shard(uid: &str) -> usize {
    let hash = uid.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    hash as usize % INDEX_SHARDS
}

/// How to reach Redis and lay data out there.
#[derive(Debug, Clone)]
pub struct RedisConfig {
    /// `redis://[user:password@]host:port[/db]`, or for a Redis Cluster
    /// `redis+cluster://[user:password@]host:port,host:port,…` (seed nodes; any one that
    /// answers is enough).
    pub url: String,
    /// Put before every key; no braces. Default `wd:`.
    pub prefix: String,
    /// Bucket width in seconds; every process sharing a prefix must agree.
    pub bucket_secs: u64,
    /// Pooled connections, and so batches written in parallel.
    pub pool_size: usize,
    /// Longest one store operation may take before it fails as unavailable.
    pub timeout: Duration,
    /// Records written per pipelined round trip.
    pub batch_records: usize,
}

impl RedisConfig {
    /// Defaults for a URL: prefix `wd:`, 10 s buckets, 8 connections, 5 s timeout.
    pub fn new(url: impl Into<String>) -> RedisConfig {
        RedisConfig {
            url: url.into(),
            prefix: "wd:".into(),
            bucket_secs: super::DEFAULT_BUCKET_SECS,
            pool_size: 8,
            timeout: Duration::from_secs(5),
            batch_records: 1000,
        }
    }
}

/// A [`Store`] in Redis.
///
/// Key layout (prefix `P`, default `wd:`; `{…}` is a Redis Cluster hash tag):
///
/// | key | type | holds |
/// | --- | --- | --- |
/// | `P c:{uid}` | hash | `s` → connection summary; `d.<logtype>` → `1` for each detail key |
/// | `P d:{uid}.<logtype>` | hash | detail key (`ts` order + content hash, hex) → record as JSON |
/// | `P i<level>:{<k>}.<n>` | hash | uid → summary of the connections placed in this index bucket whose uid falls in shard `n` (of `INDEX_SHARDS`, 4) |
/// | `P ix<level>` | sorted set | the bucket keys `k` of that level holding data (score `k`) |
/// | `P h:{<s>}` | hash | histogram shard `s` (level-2 wide): `<k>:c`, `<k>:b` totals of the connections starting in bucket `k` |
/// | `P hs:{<s>}` | hash | uid → `<k> <bytes>` for every connection counted in shard `s` |
/// | `P hx` | sorted set | histogram shard keys |
/// | `P p:{<k>}` / `P px` | set / sorted set | uids given details with `ts` in bucket `k`, to find orphans |
/// | `P a:{<addr>}` / `P ax` | sorted set | `ts\tname` sightings (score `ts`) / addresses (score: oldest sighting) |
/// | `P hr:{<addr>}` / `P hro:{<addr>}` / `P hrx` | hash / sorted set / sorted set | records about a host: detail key → `log_type\tJSON` / detail keys (score `ts`) / addresses (score: oldest record) |
/// | `P hrt:{host_records}` / `P hrh:{host_records}` | sorted sets | every record about hosts by time: detail keys / `key\taddr` for each host it names (score `ts`) |
/// | `P sw:{<addr>}` / `P swl:{<addr>}` / `P swx` | sorted sets | software seen on a host, as JSON (score: first seen / last seen) / addresses (score: oldest last sighting) |
/// | `P cl:{capture_loss}` / `P clx:{capture_loss}` | hash / sorted set | `ts\tpeer` → capture-loss report as JSON / the same fields (score `ts`) |
/// | `P range` | hash | `first`, `last`, `latest_start` |
/// | `P changes` | pub/sub channel | change announcements between server processes |
/// | `P s:<sha256 of token>` | string | user of a login session, expiring with it |
///
/// Level-0 index buckets are the model's time buckets: the set of active uids is the field
/// names of the bucket's shards. Summaries are immutable once written, so the index copies them
/// and a graph query is one `HGETALL` per shard instead of a lookup per connection. The shards
/// of a bucket are read side by side on pooled connections, so Redis writes one shard's reply
/// while the client parses another's (one 10,000-connection hash was one long, serial reply).
///
/// Every multi-key step stays in one hash slot: a uid's keys share `{uid}`, a shard's histogram
/// keys share `{k}`, and the Lua scripts touch one slot each. Each step is idempotent (hash and
/// set writes of immutable values; histogram totals guarded per uid by `HSETNX` inside the
/// script), so a retried batch changes nothing. On a single server each pipelined batch is also
/// one `MULTI`/`EXEC` transaction, so a crash leaves every record of it whole or absent.
///
/// On a Redis Cluster (`redis+cluster://host:port,host:port`) the same commands run split by
/// hash slot, each slot's share of a batch as its own transaction (see the `redis_pool`
/// module). A record's keys live in several slots (its `c:{uid}`, its index buckets, its
/// histogram shard), so there a crash mid-batch can leave a record partly written; the
/// collector's retry of the unacknowledged batch completes it, and idempotence makes that
/// retry exact.
pub struct RedisStore {
    bucket_secs: u64,
    timeout: Duration,
    batch_records: usize,
    parallel: usize,
    keys: Keys,
    conns: Connections,
    /// Node URLs, for the pub/sub subscription (any node of a cluster delivers every message).
    nodes: Vec<String>,
    histogram_sha: String,
    range_sha: String,
}

/// Key names, all under one prefix.
struct Keys {
    prefix: String,
}

impl Keys {
    fn conn(&self, uid: &str) -> String {
        format!("{}c:{{{uid}}}", self.prefix)
    }
    fn detail(&self, uid: &str, log_type: &str) -> String {
        format!("{}d:{{{uid}}}.{log_type}", self.prefix)
    }
    fn index(&self, level: usize, key: i64, shard: usize) -> String {
        format!("{}i{level}:{{{key}}}.{shard}", self.prefix)
    }
    fn index_set(&self, level: usize) -> String {
        format!("{}ix{level}", self.prefix)
    }
    fn histogram(&self, key: i64) -> String {
        format!("{}h:{{{key}}}", self.prefix)
    }
    fn histogram_seen(&self, key: i64) -> String {
        format!("{}hs:{{{key}}}", self.prefix)
    }
    fn histogram_set(&self) -> String {
        format!("{}hx", self.prefix)
    }
    fn pending(&self, key: i64) -> String {
        format!("{}p:{{{key}}}", self.prefix)
    }
    fn pending_set(&self) -> String {
        format!("{}px", self.prefix)
    }
    fn names(&self, addr: IpAddr) -> String {
        format!("{}a:{{{addr}}}", self.prefix)
    }
    fn names_set(&self) -> String {
        format!("{}ax", self.prefix)
    }
    fn host_records(&self, addr: IpAddr) -> String {
        format!("{}hr:{{{addr}}}", self.prefix)
    }
    fn host_record_order(&self, addr: IpAddr) -> String {
        format!("{}hro:{{{addr}}}", self.prefix)
    }
    fn host_records_set(&self) -> String {
        format!("{}hrx", self.prefix)
    }
    fn host_record_times(&self) -> String {
        format!("{}hrt:{{host_records}}", self.prefix)
    }
    fn host_record_hosts(&self) -> String {
        format!("{}hrh:{{host_records}}", self.prefix)
    }
    fn software_first(&self, addr: IpAddr) -> String {
        format!("{}sw:{{{addr}}}", self.prefix)
    }
    fn software_last(&self, addr: IpAddr) -> String {
        format!("{}swl:{{{addr}}}", self.prefix)
    }
    fn software_set(&self) -> String {
        format!("{}swx", self.prefix)
    }
    fn capture_loss(&self) -> String {
        format!("{}cl:{{capture_loss}}", self.prefix)
    }
    fn capture_loss_set(&self) -> String {
        format!("{}clx:{{capture_loss}}", self.prefix)
    }
    fn range(&self) -> String {
        format!("{}range", self.prefix)
    }
    fn changes(&self) -> String {
        format!("{}changes", self.prefix)
    }
    fn session(&self, key: &str) -> String {
        format!("{}s:{key}", self.prefix)
    }
}

/// Field of `c:{uid}` naming a detail key.
const DETAIL_FIELD: &str = "d.";

impl RedisStore {
    /// Builds the pool; connects lazily, so an unreachable Redis shows as
    /// [`StoreError::Unavailable`] on the first operation (see [`Store::health`]).
    pub fn open(config: RedisConfig) -> Result<RedisStore, StoreError> {
        if config.bucket_secs == 0 {
            return Err(StoreError::Config("bucket_secs must be at least 1".into()));
        }
        if config.prefix.contains(['{', '}']) {
            return Err(StoreError::Config(format!(
                "redis prefix {:?} must not contain braces",
                config.prefix
            )));
        }
        Ok(RedisStore {
            bucket_secs: config.bucket_secs,
            timeout: config.timeout,
            batch_records: config.batch_records.max(1),
            parallel: config.pool_size.max(1),
            keys: Keys {
                prefix: config.prefix.clone(),
            },
            conns: Connections::open(&config.url, config.pool_size, config.timeout)?,
            nodes: node_urls(&config.url)?.1,
            histogram_sha: redis::Script::new(HISTOGRAM_SCRIPT).get_hash().to_owned(),
            range_sha: redis::Script::new(RANGE_SCRIPT).get_hash().to_owned(),
        })
    }

    /// Runs a read pipeline.
    async fn query<T: redis::FromRedisValue>(&self, pipe: &Commands) -> Result<T, StoreError> {
        self.conns.run(pipe).await?.map_err(redis_error)
    }

    /// Runs a write pipeline, loading the scripts once if the server lost them (a restart).
    async fn write(&self, pipe: &Commands) -> Result<(), StoreError> {
        match self.conns.run::<()>(pipe).await? {
            Err(e) if e.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                let mut load = Commands::new();
                for script in [HISTOGRAM_SCRIPT, RANGE_SCRIPT] {
                    load.cmd("SCRIPT").arg("LOAD").arg(script).ignore();
                }
                self.query::<()>(&load).await?;
                self.query::<()>(pipe).await
            }
            result => result.map_err(redis_error),
        }
    }

    /// Bounds every operation by the configured timeout.
    fn timed<'a, T: Send + 'a>(
        &'a self,
        op: impl Future<Output = Result<T, StoreError>> + Send + 'a,
    ) -> StoreFuture<'a, T> {
        Box::pin(async move {
            tokio::time::timeout(self.timeout, op)
                .await
                .unwrap_or_else(|_| {
                    Err(StoreError::Unavailable(format!(
                        "redis did not answer within {:?}",
                        self.timeout
                    )))
                })
        })
    }

    fn new_pipeline(&self) -> Commands {
        let mut pipe = Commands::new();
        pipe.atomic();
        pipe
    }

    fn connections_pipeline(&self, conns: &[&Connection]) -> Commands {
        let b = self.bucket_secs;
        let mut pipe = self.new_pipeline();
        let mut index: BTreeMap<IndexShard, Vec<(&str, &str)>> = BTreeMap::new();
        let mut histogram: BTreeMap<i64, Vec<(&str, i64, u64)>> = BTreeMap::new();
        let shard_width = level_width(b, HISTOGRAM_SHARD_LEVEL);
        let summaries: Vec<String> = conns.iter().map(|c| encode_summary(c)).collect();
        for (conn, summary) in conns.iter().zip(&summaries) {
            pipe.cmd("HSET")
                .arg(self.keys.conn(&conn.uid))
                .arg("s")
                .arg(summary)
                .ignore();
            let end = conn.end();
            let placement = Placement::of(b, conn.ts, end);
            let shard = index_shard(&conn.uid);
            for key in placement.keys(b) {
                index
                    .entry((placement.level, key, shard))
                    .or_default()
                    .push((&conn.uid, summary));
            }
            histogram
                .entry(floor_key(conn.ts, shard_width))
                .or_default()
                .push((&conn.uid, floor_key(conn.ts, b as i64), conn.total_bytes()));
        }
        let mut new_keys: BTreeMap<usize, Vec<i64>> = BTreeMap::new();
        for ((level, key, shard), members) in &index {
            let cmd = pipe.cmd("HSET").arg(self.keys.index(*level, *key, *shard));
            for (uid, summary) in members {
                cmd.arg(*uid).arg(*summary);
            }
            cmd.ignore();
            let keys = new_keys.entry(*level).or_default();
            if keys.last() != Some(key) {
                keys.push(*key);
            }
        }
        for (level, keys) in new_keys {
            zadd_keys(&mut pipe, &self.keys.index_set(level), &keys);
        }
        for (key, members) in &histogram {
            let cmd = pipe
                .cmd("EVALSHA")
                .arg(&self.histogram_sha)
                .arg(2)
                .arg(self.keys.histogram(*key))
                .arg(self.keys.histogram_seen(*key))
                .arg("+");
            for (uid, bucket, bytes) in members {
                cmd.arg(*uid).arg(*bucket).arg(*bytes);
            }
            cmd.ignore();
        }
        zadd_keys(
            &mut pipe,
            &self.keys.histogram_set(),
            &histogram.keys().copied().collect::<Vec<_>>(),
        );
        if let Some(range) = TimeRange::of(conns.iter().copied()) {
            pipe.cmd("EVALSHA")
                .arg(&self.range_sha)
                .arg(1)
                .arg(self.keys.range())
                .arg(range.first.to_string())
                .arg(range.last.to_string())
                .arg(range.latest_start.to_string())
                .ignore();
        }
        pipe
    }

    fn details_pipeline(&self, details: &[&Detail]) -> Commands {
        let b = self.bucket_secs as i64;
        let mut pipe = self.new_pipeline();
        let mut scratch = Vec::new();
        let mut pending: BTreeMap<i64, Vec<&str>> = BTreeMap::new();
        for detail in details {
            let key = DetailKey::of(&detail.log_type, &detail.record, &mut scratch);
            let json = serde_json::to_vec(&RecordJson(&detail.record))
                .expect("a record always serializes");
            pipe.cmd("HSET")
                .arg(self.keys.detail(&detail.uid, &detail.log_type))
                .arg(key.to_hex())
                .arg(json)
                .ignore();
            pipe.cmd("HSET")
                .arg(self.keys.conn(&detail.uid))
                .arg(format!("{DETAIL_FIELD}{}", detail.log_type))
                .arg(1)
                .ignore();
            if let Some(ts) = record_ts(&detail.record) {
                pending
                    .entry(floor_key(ts, b))
                    .or_default()
                    .push(&detail.uid);
            }
        }
        for (key, uids) in &pending {
            pipe.cmd("SADD")
                .arg(self.keys.pending(*key))
                .arg(uids)
                .ignore();
        }
        zadd_keys(
            &mut pipe,
            &self.keys.pending_set(),
            &pending.keys().copied().collect::<Vec<_>>(),
        );
        pipe
    }

    fn annotations_pipeline(&self, annotations: &[&HostAnnotation]) -> Commands {
        let mut pipe = self.new_pipeline();
        let mut oldest: BTreeMap<IpAddr, f64> = BTreeMap::new();
        for ann in annotations {
            let ts = ann.ts.to_string();
            pipe.cmd("ZADD")
                .arg(self.keys.names(ann.addr))
                .arg(&ts)
                .arg(format!("{ts}\t{}", ann.name))
                .ignore();
            let seen = oldest.entry(ann.addr).or_insert(ann.ts);
            *seen = seen.min(ann.ts);
        }
        if !oldest.is_empty() {
            let cmd = pipe.cmd("ZADD").arg(self.keys.names_set()).arg("LT");
            for (addr, ts) in &oldest {
                cmd.arg(ts.to_string()).arg(addr.to_string());
            }
            cmd.ignore();
        }
        pipe
    }

    fn host_records_pipeline(&self, host_records: &[&HostRecord]) -> Commands {
        let mut pipe = self.new_pipeline();
        let mut scratch = Vec::new();
        let mut oldest: BTreeMap<IpAddr, f64> = BTreeMap::new();
        for host_record in host_records {
            let key = DetailKey::of(&host_record.log_type, &host_record.record, &mut scratch);
            let stamp = record_ts(&host_record.record).unwrap_or(0.0);
            let mut value = format!("{}\t", host_record.log_type).into_bytes();
            serde_json::to_writer(&mut value, &RecordJson(&host_record.record))
                .expect("a record always serializes");
            let hex = key.to_hex();
            pipe.cmd("HSET")
                .arg(self.keys.host_records(host_record.addr))
                .arg(&hex)
                .arg(value)
                .ignore();
            let ts = stamp.to_string();
            pipe.cmd("ZADD")
                .arg(self.keys.host_record_order(host_record.addr))
                .arg(&ts)
                .arg(&hex)
                .ignore();
            pipe.cmd("ZADD")
                .arg(self.keys.host_record_times())
                .arg(&ts)
                .arg(&hex)
                .ignore();
            pipe.cmd("ZADD")
                .arg(self.keys.host_record_hosts())
                .arg(&ts)
                .arg(format!("{hex}\t{}", host_record.addr))
                .ignore();
            let seen = oldest.entry(host_record.addr).or_insert(stamp);
            *seen = seen.min(stamp);
        }
        if !oldest.is_empty() {
            let cmd = pipe.cmd("ZADD").arg(self.keys.host_records_set()).arg("LT");
            for (addr, ts) in &oldest {
                cmd.arg(ts.to_string()).arg(addr.to_string());
            }
            cmd.ignore();
        }
        pipe
    }

    /// Each host's software keeps its earliest sighting (`ZADD LT`) and its latest (`ZADD GT`).
    fn software_pipeline(&self, seen: &[&Software]) -> Result<Commands, StoreError> {
        let mut pipe = self.new_pipeline();
        let mut oldest: BTreeMap<IpAddr, f64> = BTreeMap::new();
        for software in seen {
            let member = serde_json::to_string(&SoftwareKey::of(software))
                .map_err(|e| StoreError::Backend(format!("encoding software: {e}")))?;
            let ts = software.ts.to_string();
            for (key, flag) in [
                (self.keys.software_first(software.host), "LT"),
                (self.keys.software_last(software.host), "GT"),
            ] {
                pipe.cmd("ZADD")
                    .arg(key)
                    .arg(flag)
                    .arg(&ts)
                    .arg(&member)
                    .ignore();
            }
            let seen = oldest.entry(software.host).or_insert(software.ts);
            *seen = seen.min(software.ts);
        }
        if !oldest.is_empty() {
            let cmd = pipe.cmd("ZADD").arg(self.keys.software_set()).arg("LT");
            for (addr, ts) in &oldest {
                cmd.arg(ts.to_string()).arg(addr.to_string());
            }
            cmd.ignore();
        }
        Ok(pipe)
    }

    /// The first report for each `(ts, peer)` is kept (`HSETNX`), as in memory.
    fn capture_loss_pipeline(&self, reports: &[&CaptureLoss]) -> Result<Commands, StoreError> {
        let mut pipe = self.new_pipeline();
        for report in reports {
            let field = format!("{}\t{}", report.ts, report.peer);
            let json = serde_json::to_string(report)
                .map_err(|e| StoreError::Backend(format!("encoding a capture-loss report: {e}")))?;
            pipe.cmd("HSETNX")
                .arg(self.keys.capture_loss())
                .arg(&field)
                .arg(json)
                .ignore();
            pipe.cmd("ZADD")
                .arg(self.keys.capture_loss_set())
                .arg(report.ts.to_string())
                .arg(field)
                .ignore();
        }
        Ok(pipe)
    }

    async fn capture_loss_now(&self, from: f64, to: f64) -> Result<Vec<CaptureLoss>, StoreError> {
        check_time_window("capture loss", from, to)?;
        let mut pipe = Commands::new();
        pipe.cmd("ZRANGEBYSCORE")
            .arg(self.keys.capture_loss_set())
            .arg(from.to_string())
            .arg(format!("({}", to + MAX_CAPTURE_LOSS_INTERVAL));
        let (fields,): (Vec<String>,) = self.query(&pipe).await?;
        let mut found = Vec::new();
        // Reports that end in the look-behind but start after the window are read and dropped,
        // so the fields are fetched in slices until enough meet the window.
        for fields in fields.chunks(self.batch_records) {
            let mut pipe = Commands::new();
            pipe.cmd("HMGET").arg(self.keys.capture_loss()).arg(fields);
            let (reports,): (Vec<Option<String>>,) = self.query(&pipe).await?;
            for json in reports.into_iter().flatten() {
                let report: CaptureLoss = serde_json::from_str(&json)
                    .map_err(|_| corrupt("capture-loss report", &json))?;
                if capture_loss_meets(&report, from, to) {
                    found.push(report);
                }
            }
            if found.len() >= MAX_CAPTURE_LOSS_REPORTS {
                break;
            }
        }
        // Sorted by score, then by member (`ts\tpeer`): one ts's reports come in peer order.
        found.truncate(MAX_CAPTURE_LOSS_REPORTS);
        Ok(found)
    }

    async fn host_records_between_now(
        &self,
        from: f64,
        to: f64,
        limit: usize,
    ) -> Result<HostRecordPage, StoreError> {
        check_time_window("records about hosts", from, to)?;
        let times = self.keys.host_record_times();
        let mut pipe = Commands::new();
        pipe.cmd("ZREVRANGEBYSCORE")
            .arg(&times)
            .arg(to.to_string())
            .arg(from.to_string())
            .arg("LIMIT")
            .arg(0)
            .arg(limit.min(MAX_WINDOW_RECORDS));
        pipe.cmd("ZCOUNT")
            .arg(&times)
            .arg(from.to_string())
            .arg(to.to_string());
        let (newest, total): (Vec<String>, u64) = self.query(&pipe).await?;
        let mut page = HostRecordPage {
            records: Vec::with_capacity(newest.len()),
            total,
        };
        let keys = newest
            .iter()
            .map(|hex| DetailKey::from_hex(hex).ok_or_else(|| corrupt("host record key", hex)))
            .collect::<Result<Vec<_>, _>>()?;
        let (Some(oldest), Some(latest)) = (keys.last(), keys.first()) else {
            return Ok(page);
        };
        // The hosts of the records listed lie in the listed records' span of time.
        let mut pipe = Commands::new();
        pipe.cmd("ZRANGEBYSCORE")
            .arg(self.keys.host_record_hosts())
            .arg(oldest.ts().to_string())
            .arg(latest.ts().to_string());
        let (named,): (Vec<String>,) = self.query(&pipe).await?;
        let mut hosts: FxHashMap<&str, Vec<IpAddr>> =
            newest.iter().map(|hex| (&**hex, Vec::new())).collect();
        for member in &named {
            let (hex, addr) = member
                .split_once('\t')
                .ok_or_else(|| corrupt("host record host", member))?;
            if let Some(listed) = hosts.get_mut(hex) {
                listed.push(
                    addr.parse()
                        .map_err(|_| corrupt("host record host", member))?,
                );
            }
        }
        // Each record is read from the first host it names: every host holds it whole.
        let mut pipe = Commands::new();
        let mut found = Vec::with_capacity(newest.len());
        for (hex, key) in newest.iter().zip(&keys) {
            // Sorted set members are distinct: only the order is left to settle.
            let mut named = hosts.remove(&**hex).unwrap_or_default();
            named.sort_unstable();
            if let Some(&first) = named.first() {
                pipe.cmd("HGET").arg(self.keys.host_records(first)).arg(hex);
                found.push((key.ts(), named));
            }
        }
        if found.is_empty() {
            return Ok(page);
        }
        let bodies: Vec<Option<String>> = self.query(&pipe).await?;
        // A record retention dropped between the reads is left out.
        for ((ts, hosts), body) in found.into_iter().zip(bodies) {
            let Some(text) = body else { continue };
            let (log_type, record) = host_record_body(&text)?;
            page.records.push(StampedHostRecord {
                ts,
                hosts,
                log_type,
                record,
            });
        }
        Ok(page)
    }

    async fn ingest_now(&self, batch: &Contribution) -> Result<IngestReport, StoreError> {
        let checked = check_batch(batch);
        let n = self.batch_records;
        let mut pipes = Vec::new();
        for chunk in checked.connections.chunks(n) {
            pipes.push(self.connections_pipeline(chunk));
        }
        for chunk in checked.details.chunks(n) {
            pipes.push(self.details_pipeline(chunk));
        }
        for chunk in checked.annotations.chunks(n) {
            pipes.push(self.annotations_pipeline(chunk));
        }
        for chunk in checked.capture_loss.chunks(n) {
            pipes.push(self.capture_loss_pipeline(chunk)?);
        }
        for chunk in checked.software.chunks(n) {
            pipes.push(self.software_pipeline(chunk)?);
        }
        for chunk in checked.host_records.chunks(n) {
            pipes.push(self.host_records_pipeline(chunk));
        }
        let mut writes = Vec::with_capacity(pipes.len());
        for pipe in &pipes {
            writes.push(self.write(pipe));
        }
        futures_util::stream::iter(writes)
            .buffer_unordered(self.parallel)
            .try_collect::<()>()
            .await?;
        Ok(checked.report)
    }

    /// Data from before the index was split into uid shards (`P i<level>:{<k>}`, one hash a
    /// bucket) would be invisible to queries, so it is refused by name rather than shown as an
    /// empty graph. Looks at the oldest bucket of each level (two round trips).
    async fn refuse_unsharded_index(&self) -> Result<(), StoreError> {
        let mut oldest = Commands::new();
        for level in 0..LEVELS {
            oldest
                .cmd("ZRANGE")
                .arg(self.keys.index_set(level))
                .arg(0)
                .arg(0);
        }
        let per_level: Vec<Vec<i64>> = self.query(&oldest).await?;
        if per_level.iter().all(Vec::is_empty) {
            return Ok(());
        }
        let mut exists = Commands::new();
        for (level, keys) in per_level.iter().enumerate() {
            for key in keys {
                let unsharded = format!("{}i{level}:{{{key}}}", self.keys.prefix);
                exists.cmd("EXISTS").arg(unsharded);
            }
        }
        let found: Vec<bool> = self.query(&exists).await?;
        if found.contains(&true) {
            return Err(StoreError::Config(format!(
                "the Redis data under prefix {:?} was written by an earlier wiredraw, whose \
                 index buckets were not split into uid shards; flush it (FLUSHDB) and collect \
                 again, or give this server another prefix",
                self.keys.prefix
            )));
        }
        Ok(())
    }

    /// Every connection active in the span, each once.
    async fn active(&self, span: BucketSpan) -> Result<Vec<Connection>, StoreError> {
        let mut lookup = Commands::new();
        for level in 0..LEVELS {
            let keys = level_keys(self.bucket_secs, level, span);
            lookup
                .cmd("ZRANGEBYSCORE")
                .arg(self.keys.index_set(level))
                .arg(keys.start)
                .arg(format!("({}", keys.end));
        }
        let per_level: Vec<Vec<i64>> = self.query(&lookup).await?;
        let mut buckets: Vec<(usize, i64)> = Vec::new();
        for (level, keys) in per_level.iter().enumerate() {
            buckets.extend(keys.iter().map(|key| (level, *key)));
        }
        let shards: Vec<IndexShard> = buckets
            .iter()
            .flat_map(|&(level, key)| (0..INDEX_SHARDS).map(move |shard| (level, key, shard)))
            .collect();
        // At least one read per pooled connection, so even a single bucket's shards are read
        // side by side; at most 64 shards a read.
        let per_read = shards.len().div_ceil(self.parallel).clamp(1, 64);
        let mut reads = Vec::new();
        for chunk in shards.chunks(per_read) {
            reads.push(self.read_buckets(chunk, span));
        }
        let parts: Vec<Vec<Connection>> = futures_util::stream::iter(reads)
            .buffered(self.parallel)
            .try_collect()
            .await?;
        Ok(parts.into_iter().flatten().collect())
    }

    /// The connections of some index bucket shards that are counted for the span.
    async fn read_buckets(
        &self,
        shards: &[IndexShard],
        span: BucketSpan,
    ) -> Result<Vec<Connection>, StoreError> {
        let mut pipe = Commands::new();
        for (level, key, shard) in shards {
            pipe.cmd("HGETALL")
                .arg(self.keys.index(*level, *key, *shard));
        }
        let replies: Vec<RedisValue> = self.query(&pipe).await?;
        let bucket_secs = self.bucket_secs;
        let shards = shards.to_vec();
        // Decoding summaries is most of a large query's client time. Off the runtime's threads,
        // the shards decode side by side while the runtime parses the replies still arriving.
        tokio::task::spawn_blocking(move || {
            let mut found = Vec::new();
            for ((level, key, _), reply) in shards.into_iter().zip(replies) {
                for (uid, summary) in pairs(reply)? {
                    let conn = decode_summary(&uid, &summary)?;
                    if span.contains(conn.ts, conn.end())
                        && counted_here(bucket_secs, level, key, conn.ts, span)
                    {
                        found.push(conn);
                    }
                }
            }
            Ok(found)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("decoding a redis reply failed: {e}")))?
    }

    /// Attaches details to connections (two round trips: detail key names, then records).
    async fn with_details(
        &self,
        conns: Vec<Connection>,
    ) -> Result<Vec<ConnectionInfo>, StoreError> {
        let mut names = Commands::new();
        for conn in &conns {
            names.cmd("HKEYS").arg(self.keys.conn(&conn.uid));
        }
        let fields: Vec<Vec<String>> = if conns.is_empty() {
            Vec::new()
        } else {
            self.query(&names).await?
        };
        let mut reads = Commands::new();
        let mut wanted: Vec<(usize, String)> = Vec::new();
        for (i, (conn, fields)) in conns.iter().zip(&fields).enumerate() {
            for log_type in fields.iter().filter_map(|f| f.strip_prefix(DETAIL_FIELD)) {
                reads
                    .cmd("HGETALL")
                    .arg(self.keys.detail(&conn.uid, log_type));
                wanted.push((i, log_type.to_owned()));
            }
        }
        let records: Vec<RedisValue> = if wanted.is_empty() {
            Vec::new()
        } else {
            self.query(&reads).await?
        };
        let mut infos: Vec<ConnectionInfo> = conns
            .into_iter()
            .map(|connection| ConnectionInfo {
                connection,
                details: BTreeMap::new(),
            })
            .collect();
        for ((i, log_type), reply) in wanted.into_iter().zip(records) {
            let records = detail_records(reply)?;
            if !records.is_empty() {
                infos[i].details.insert(log_type, records);
            }
        }
        self.attach_certificates(&mut infos).await?;
        Ok(infos)
    }

    /// Adds the certificates each connection's ssl records name (one more round trip, for the
    /// distinct ones, only when there are any).
    async fn attach_certificates(&self, infos: &mut [ConnectionInfo]) -> Result<(), StoreError> {
        let named: Vec<Vec<String>> = infos
            .iter()
            .map(|info| {
                certificate_keys(&info.details)
                    .into_iter()
                    .map(str::to_owned)
                    .collect()
            })
            .collect();
        let mut distinct: Vec<&str> = named.iter().flatten().map(String::as_str).collect();
        distinct.sort_unstable();
        distinct.dedup();
        distinct.retain(|key| super::check_uid(key).is_ok());
        if distinct.is_empty() {
            return Ok(());
        }
        let mut reads = Commands::new();
        for key in &distinct {
            reads
                .cmd("HGETALL")
                .arg(self.keys.detail(key, CERTIFICATE_LOG));
        }
        let replies: Vec<RedisValue> = self.query(&reads).await?;
        let mut certificates: FxHashMap<&str, Vec<serde_json::Value>> = FxHashMap::default();
        for (key, reply) in distinct.iter().zip(replies) {
            certificates.insert(key, detail_records(reply)?);
        }
        for (info, keys) in infos.iter_mut().zip(&named) {
            let found: Vec<serde_json::Value> = keys
                .iter()
                .filter_map(|key| certificates.get(key.as_str()))
                .flatten()
                .cloned()
                .collect();
            if !found.is_empty() {
                info.details
                    .entry(CERTIFICATE_LOG.to_owned())
                    .or_default()
                    .extend(found);
            }
        }
        Ok(())
    }

    async fn connection_now(&self, uid: &str) -> Result<Option<ConnectionInfo>, StoreError> {
        if super::check_uid(uid).is_err() {
            return Ok(None);
        }
        let mut pipe = Commands::new();
        pipe.cmd("HGET").arg(self.keys.conn(uid)).arg("s");
        let (summary,): (Option<String>,) = self.query(&pipe).await?;
        let Some(summary) = summary else {
            return Ok(None);
        };
        let conn = decode_summary(uid, &summary)?;
        Ok(self.with_details(vec![conn]).await?.pop())
    }

    async fn host_now(&self, addr: IpAddr, window: Window) -> Result<HostInfo, StoreError> {
        let span = window.span(self.bucket_secs)?;
        let conns = self.active(span).await?;
        let mut info = host_info(addr, &conns);
        let mut pipe = Commands::new();
        pipe.cmd("ZRANGE").arg(self.keys.names(addr)).arg(0).arg(-1);
        for key in [
            self.keys.software_first(addr),
            self.keys.software_last(addr),
        ] {
            pipe.cmd("ZRANGE").arg(key).arg(0).arg(-1).arg("WITHSCORES");
        }
        let order = self.keys.host_record_order(addr);
        pipe.cmd("ZRANGE")
            .arg(&order)
            .arg(0)
            .arg(MAX_HOST_RECORDS - 1)
            .arg("REV");
        pipe.cmd("ZCARD").arg(&order);
        type Sightings = Vec<(String, f64)>;
        let (members, first, last, newest, records_total): (
            Vec<String>,
            Sightings,
            Sightings,
            Vec<String>,
            u64,
        ) = self.query(&pipe).await?;
        info.records_total = records_total;
        if !newest.is_empty() {
            let mut pipe = Commands::new();
            pipe.cmd("HMGET")
                .arg(self.keys.host_records(addr))
                .arg(&newest);
            let (records,): (Vec<Option<String>>,) = self.query(&pipe).await?;
            for text in records.iter().flatten() {
                let (log_type, record) = host_record_body(text)?;
                info.records.push(HostRecordJson { log_type, record });
            }
        }
        let mut sightings = Vec::with_capacity(members.len());
        for member in &members {
            let (ts, name) = member
                .split_once('\t')
                .ok_or_else(|| corrupt("host name", member))?;
            sightings.push((
                name,
                ts.parse::<f64>()
                    .map_err(|_| corrupt("host name time", member))?,
            ));
        }
        info.names = host_names(sightings);
        let last: FxHashMap<String, f64> = last.into_iter().collect();
        let mut software = Vec::with_capacity(first.len());
        for (member, first_seen) in first {
            let key: SoftwareKey =
                serde_json::from_str(&member).map_err(|_| corrupt("software", &member))?;
            software.push(SoftwareSeen {
                software: key,
                first_seen,
                last_seen: last.get(&member).copied().unwrap_or(first_seen),
            });
        }
        (info.software, info.software_total) = software_list(software);
        Ok(info)
    }

    async fn histogram_now(
        &self,
        from: f64,
        to: f64,
        bins: usize,
    ) -> Result<Vec<HistogramBin>, StoreError> {
        let mut out = histogram_bins(from, to, bins)?;
        let shard_width = level_width(self.bucket_secs, HISTOGRAM_SHARD_LEVEL);
        let b = self.bucket_secs as i64;
        let first_bucket = floor_key(from, b);
        let shards = self
            .keys_between(
                &self.keys.histogram_set(),
                Some(floor_key(first_bucket as f64, shard_width)),
                Some(to),
            )
            .await?;
        if shards.is_empty() {
            return Ok(out);
        }
        let mut pipe = Commands::new();
        for shard in &shards {
            pipe.cmd("HGETALL").arg(self.keys.histogram(*shard));
        }
        let replies: Vec<RedisValue> = self.query(&pipe).await?;
        let mut totals: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
        for reply in replies {
            for (field, value) in pairs(reply)? {
                let parsed = field.split_once(':').and_then(|(bucket, kind)| {
                    Some((
                        bucket.parse::<i64>().ok()?,
                        kind,
                        value.parse::<u64>().ok()?,
                    ))
                });
                let (bucket, kind, value) =
                    parsed.ok_or_else(|| corrupt("histogram field", &field))?;
                let cell = totals.entry(bucket).or_default();
                match kind {
                    "c" => cell.0 = value,
                    _ => cell.1 = value,
                }
            }
        }
        for (bucket, (conns, bytes)) in totals.range(first_bucket..) {
            add_to_bins(&mut out, (from, to), (*bucket, b), *conns, *bytes);
        }
        Ok(out)
    }

    /// Members of a sorted set of bucket keys with `from <= key < to`.
    async fn keys_between(
        &self,
        set: &str,
        from: Option<i64>,
        to: Option<f64>,
    ) -> Result<Vec<i64>, StoreError> {
        let mut pipe = Commands::new();
        pipe.cmd("ZRANGEBYSCORE")
            .arg(set)
            .arg(from.map_or("-inf".to_owned(), |f| f.to_string()))
            .arg(to.map_or("+inf".to_owned(), |t| format!("({t}")));
        let (keys,): (Vec<i64>,) = self.query(&pipe).await?;
        Ok(keys)
    }

    async fn retain_now(&self, cutoff: f64) -> Result<RetainReport, StoreError> {
        if !cutoff.is_finite() {
            return Err(StoreError::BadRequest(format!(
                "cutoff must be finite, got {cutoff}"
            )));
        }
        let b = self.bucket_secs;
        let limit = floor_key(cutoff, b as i64);
        let mut report = RetainReport::default();

        // Connections whose activity ends before the limit, from every index bucket starting before it.
        let mut dropped: FxHashMap<CompactString, Connection> = FxHashMap::default();
        let mut buckets: Vec<(usize, i64)> = Vec::new();
        for level in 0..LEVELS {
            for key in self
                .keys_between(&self.keys.index_set(level), None, Some(limit as f64))
                .await?
            {
                buckets.push((level, key));
            }
        }
        for chunk in buckets.chunks(64) {
            let mut pipe = Commands::new();
            for (level, key) in chunk {
                for shard in 0..INDEX_SHARDS {
                    pipe.cmd("HGETALL")
                        .arg(self.keys.index(*level, *key, shard));
                }
            }
            let replies: Vec<RedisValue> = self.query(&pipe).await?;
            for reply in replies {
                for (uid, summary) in pairs(reply)? {
                    let conn = decode_summary(&uid, &summary)?;
                    if conn.end() < limit as f64 {
                        dropped.insert(conn.uid.clone(), conn);
                    }
                }
            }
        }
        let dropped: Vec<Connection> = dropped.into_values().collect();
        for chunk in dropped.chunks(self.batch_records) {
            self.forget_connections(chunk).await?;
        }
        report.connections = dropped.len() as u64;
        for (level, key) in &buckets {
            let shards: Vec<String> = (0..INDEX_SHARDS)
                .map(|shard| self.keys.index(*level, *key, shard))
                .collect();
            self.forget_key_if_empty(&shards, &self.keys.index_set(*level), *key)
                .await?;
        }

        // Details whose connection never came.
        for key in self
            .keys_between(&self.keys.pending_set(), None, Some(limit as f64))
            .await?
        {
            let mut pipe = Commands::new();
            pipe.cmd("SMEMBERS").arg(self.keys.pending(key));
            let (uids,): (Vec<String>,) = self.query(&pipe).await?;
            let mut check = Commands::new();
            for uid in &uids {
                check.cmd("HKEYS").arg(self.keys.conn(uid));
            }
            let fields: Vec<Vec<String>> = if uids.is_empty() {
                Vec::new()
            } else {
                self.query(&check).await?
            };
            let mut delete = self.new_pipeline();
            for (uid, fields) in uids.iter().zip(&fields) {
                if !fields.is_empty() && !fields.iter().any(|f| f == "s") {
                    report.orphans += 1;
                    delete.cmd("DEL").arg(self.keys.conn(uid)).ignore();
                    for log_type in fields.iter().filter_map(|f| f.strip_prefix(DETAIL_FIELD)) {
                        delete
                            .cmd("DEL")
                            .arg(self.keys.detail(uid, log_type))
                            .ignore();
                    }
                }
            }
            delete.cmd("DEL").arg(self.keys.pending(key)).ignore();
            delete
                .cmd("ZREM")
                .arg(self.keys.pending_set())
                .arg(key)
                .ignore();
            self.write(&delete).await?;
        }

        // Annotations seen before the limit, software last seen before it, and records about
        // hosts stamped before it.
        report.annotations = self
            .retain_per_host(&self.keys.names_set(), limit, |ip| async move {
                let names = self.keys.names(ip);
                let mut pipe = Commands::new();
                pipe.cmd("ZREMRANGEBYSCORE")
                    .arg(&names)
                    .arg("-inf")
                    .arg(format!("({limit}"));
                let (removed,): (u64,) = self.query(&pipe).await?;
                Ok((removed, names))
            })
            .await?;
        report.software = self
            .retain_per_host(&self.keys.software_set(), limit, |ip| async move {
                let last = self.keys.software_last(ip);
                let first = self.keys.software_first(ip);
                let removed = self
                    .forget_scored_before(&last, ("ZREM", &first), limit)
                    .await?;
                Ok((removed, last))
            })
            .await?;
        report.host_records = self
            .retain_per_host(&self.keys.host_records_set(), limit, |ip| async move {
                let order = self.keys.host_record_order(ip);
                let records = self.keys.host_records(ip);
                let removed = self
                    .forget_scored_before(&order, ("HDEL", &records), limit)
                    .await?;
                Ok((removed, order))
            })
            .await?;
        let mut pipe = self.new_pipeline();
        for by_time in [self.keys.host_record_times(), self.keys.host_record_hosts()] {
            pipe.cmd("ZREMRANGEBYSCORE")
                .arg(by_time)
                .arg("-inf")
                .arg(format!("({limit}"))
                .ignore();
        }
        self.write(&pipe).await?;

        // Capture-loss reports whose interval ended before the limit.
        report.capture_loss = self
            .forget_scored_before(
                &self.keys.capture_loss_set(),
                ("HDEL", &self.keys.capture_loss()),
                limit,
            )
            .await?;

        if report.connections > 0 {
            self.recompute_range().await?;
        }
        Ok(report)
    }

    /// Retention of data kept per host under `index`, a sorted set of addresses scored by their
    /// oldest entry (a score may be older than the entry it stood for: it is only lowered at
    /// ingest). `forget` drops one address's entries from before `limit` and answers how many,
    /// and which sorted set now holds its oldest entry; the address's score follows that, or
    /// the address leaves the index. Answers how many entries were dropped in all.
    async fn retain_per_host<F, Fut>(
        &self,
        index: &str,
        limit: i64,
        forget: F,
    ) -> Result<u64, StoreError>
    where
        F: Fn(IpAddr) -> Fut,
        Fut: Future<Output = Result<(u64, String), StoreError>>,
    {
        let mut pipe = Commands::new();
        pipe.cmd("ZRANGEBYSCORE")
            .arg(index)
            .arg("-inf")
            .arg(format!("({limit}"));
        let (addrs,): (Vec<String>,) = self.query(&pipe).await?;
        let mut dropped = 0;
        for addr in addrs {
            let ip: IpAddr = addr.parse().map_err(|_| corrupt("address", &addr))?;
            let (removed, kept) = forget(ip).await?;
            dropped += removed;
            let mut pipe = Commands::new();
            pipe.cmd("ZRANGE")
                .arg(&kept)
                .arg(0)
                .arg(0)
                .arg("WITHSCORES");
            let (oldest,): (Vec<(String, f64)>,) = self.query(&pipe).await?;
            let mut update = Commands::new();
            match oldest.first() {
                Some((_, ts)) => update.cmd("ZADD").arg(index).arg(ts.to_string()).arg(&addr),
                None => update.cmd("ZREM").arg(index).arg(&addr),
            };
            self.query::<()>(update.ignore()).await?;
        }
        Ok(dropped)
    }

    /// Removes the members of the sorted set `scored` scored before `limit`, from it and, with
    /// `also.0` (`ZREM` or `HDEL`), from the key `also.1` in the same hash slot, a batch at a
    /// time. Answers how many.
    async fn forget_scored_before(
        &self,
        scored: &str,
        also: (&str, &str),
        limit: i64,
    ) -> Result<u64, StoreError> {
        let mut pipe = Commands::new();
        pipe.cmd("ZRANGEBYSCORE")
            .arg(scored)
            .arg("-inf")
            .arg(format!("({limit}"));
        let (old,): (Vec<String>,) = self.query(&pipe).await?;
        for batch in old.chunks(self.batch_records) {
            let mut delete = self.new_pipeline();
            delete.cmd(also.0).arg(also.1).arg(batch).ignore();
            delete.cmd("ZREM").arg(scored).arg(batch).ignore();
            self.write(&delete).await?;
        }
        Ok(old.len() as u64)
    }

    /// Deletes connections with their details, index entries and histogram counts.
    async fn forget_connections(&self, conns: &[Connection]) -> Result<(), StoreError> {
        let b = self.bucket_secs;
        let mut names = Commands::new();
        for conn in conns {
            names.cmd("HKEYS").arg(self.keys.conn(&conn.uid));
        }
        let fields: Vec<Vec<String>> = self.query(&names).await?;
        let mut pipe = self.new_pipeline();
        let mut histogram: BTreeMap<i64, Vec<&str>> = BTreeMap::new();
        let shard_width = level_width(b, HISTOGRAM_SHARD_LEVEL);
        for (conn, fields) in conns.iter().zip(&fields) {
            for log_type in fields.iter().filter_map(|f| f.strip_prefix(DETAIL_FIELD)) {
                pipe.cmd("DEL")
                    .arg(self.keys.detail(&conn.uid, log_type))
                    .ignore();
            }
            pipe.cmd("DEL").arg(self.keys.conn(&conn.uid)).ignore();
            let placement = Placement::of(b, conn.ts, conn.end());
            let shard = index_shard(&conn.uid);
            for key in placement.keys(b) {
                pipe.cmd("HDEL")
                    .arg(self.keys.index(placement.level, key, shard))
                    .arg(conn.uid.as_str())
                    .ignore();
            }
            histogram
                .entry(floor_key(conn.ts, shard_width))
                .or_default()
                .push(&conn.uid);
        }
        for (key, uids) in &histogram {
            pipe.cmd("EVALSHA")
                .arg(&self.histogram_sha)
                .arg(2)
                .arg(self.keys.histogram(*key))
                .arg(self.keys.histogram_seen(*key))
                .arg("-")
                .arg(uids)
                .ignore();
        }
        self.write(&pipe).await?;
        let mut forget = Commands::new();
        for key in histogram.keys() {
            forget.cmd("EXISTS").arg(self.keys.histogram_seen(*key));
        }
        let exists: Vec<bool> = self.query(&forget).await?;
        let gone: Vec<i64> = histogram
            .keys()
            .zip(exists)
            .filter(|(_, e)| !e)
            .map(|(k, _)| *k)
            .collect();
        if !gone.is_empty() {
            let mut pipe = Commands::new();
            pipe.cmd("ZREM")
                .arg(self.keys.histogram_set())
                .arg(&gone)
                .ignore();
            self.query::<()>(&pipe).await?;
        }
        Ok(())
    }

    async fn forget_key_if_empty(
        &self,
        keys: &[String],
        set: &str,
        member: i64,
    ) -> Result<(), StoreError> {
        let mut pipe = Commands::new();
        let exists = pipe.cmd("EXISTS");
        for key in keys {
            exists.arg(key);
        }
        let (existing,): (u64,) = self.query(&pipe).await?;
        if existing == 0 {
            let mut pipe = Commands::new();
            pipe.cmd("ZREM").arg(set).arg(member).ignore();
            self.query::<()>(&pipe).await?;
        }
        Ok(())
    }

    /// After retention: the first time is the earliest start among the connections of the
    /// earliest histogram bucket (totals are kept exactly per start bucket); the last time cannot
    /// have changed unless nothing is left. The latest start stays: it moves back only when
    /// retention took every connection that started after a longer one still held, and then it
    /// still lies within the range.
    async fn recompute_range(&self) -> Result<(), StoreError> {
        let mut pipe = Commands::new();
        pipe.cmd("ZRANGE")
            .arg(self.keys.histogram_set())
            .arg(0)
            .arg(0);
        let (first_shard,): (Vec<i64>,) = self.query(&pipe).await?;
        let Some(first_shard) = first_shard.first() else {
            let mut pipe = Commands::new();
            pipe.cmd("DEL").arg(self.keys.range()).ignore();
            return self.query::<()>(&pipe).await;
        };
        let mut pipe = Commands::new();
        pipe.cmd("HGETALL")
            .arg(self.keys.histogram_seen(*first_shard));
        let (counted,): (RedisValue,) = self.query(&pipe).await?;
        let mut earliest: Vec<String> = Vec::new();
        let mut earliest_bucket = i64::MAX;
        for (uid, value) in pairs(counted)? {
            let bucket: i64 = value
                .split_once(' ')
                .and_then(|(bucket, _)| bucket.parse().ok())
                .ok_or_else(|| corrupt("histogram entry", &value))?;
            if bucket < earliest_bucket {
                earliest_bucket = bucket;
                earliest.clear();
            }
            if bucket == earliest_bucket {
                earliest.push(uid);
            }
        }
        let mut pipe = Commands::new();
        for uid in &earliest {
            pipe.cmd("HGET").arg(self.keys.conn(uid)).arg("s");
        }
        let summaries: Vec<Option<String>> = if earliest.is_empty() {
            Vec::new()
        } else {
            self.query(&pipe).await?
        };
        let mut first = f64::INFINITY;
        for (uid, summary) in earliest.iter().zip(summaries) {
            if let Some(summary) = summary {
                first = first.min(decode_summary(uid, &summary)?.ts);
            }
        }
        if first.is_finite() {
            let mut pipe = Commands::new();
            pipe.cmd("HSET")
                .arg(self.keys.range())
                .arg("first")
                .arg(first.to_string())
                .ignore();
            self.query::<()>(&pipe).await?;
        }
        Ok(())
    }
}

fn zadd_keys(pipe: &mut Commands, set: &str, keys: &[i64]) {
    if keys.is_empty() {
        return;
    }
    let cmd = pipe.cmd("ZADD").arg(set);
    for key in keys {
        cmd.arg(*key).arg(*key);
    }
    cmd.ignore();
}

/// A stored record about a host, `log_type\tJSON`, read back.
fn host_record_body(text: &str) -> Result<(String, serde_json::Value), StoreError> {
    let (log_type, json) = text
        .split_once('\t')
        .ok_or_else(|| corrupt("host record", text))?;
    let record = serde_json::from_str(json).map_err(|_| corrupt("host record", text))?;
    Ok((log_type.to_owned(), record))
}

fn corrupt(what: &str, text: &str) -> StoreError {
    let shown: String = text.chars().take(80).collect();
    StoreError::Backend(format!("unreadable {what} in redis: {shown:?}"))
}

/// The records of one detail hash (`HGETALL`), in key order: by `ts`, then content.
fn detail_records(reply: RedisValue) -> Result<Vec<serde_json::Value>, StoreError> {
    let mut keyed = Vec::new();
    for (key, json) in pairs(reply)? {
        let key = DetailKey::from_hex(&key).ok_or_else(|| corrupt("detail key", &key))?;
        let json: serde_json::Value =
            serde_json::from_str(&json).map_err(|_| corrupt("detail record", &json))?;
        keyed.push((key, json));
    }
    keyed.sort_unstable_by_key(|(key, _)| *key);
    Ok(keyed.into_iter().map(|(_, json)| json).collect())
}

/// Field/value pairs of a hash reply (RESP2 flat array or RESP3 map).
fn pairs(reply: RedisValue) -> Result<Vec<(String, String)>, StoreError> {
    fn text(v: RedisValue) -> Result<String, StoreError> {
        match v {
            RedisValue::BulkString(bytes) => String::from_utf8(bytes)
                .map_err(|e| corrupt("text", &String::from_utf8_lossy(e.as_bytes()))),
            RedisValue::SimpleString(s) => Ok(s),
            other => Err(StoreError::Backend(format!(
                "unexpected redis reply {other:?}"
            ))),
        }
    }
    match reply {
        RedisValue::Nil => Ok(Vec::new()),
        RedisValue::Array(items) => {
            let mut out = Vec::with_capacity(items.len() / 2);
            let mut items = items.into_iter();
            while let (Some(k), Some(v)) = (items.next(), items.next()) {
                out.push((text(k)?, text(v)?));
            }
            Ok(out)
        }
        RedisValue::Map(items) => items
            .into_iter()
            .map(|(k, v)| Ok((text(k)?, text(v)?)))
            .collect(),
        other => Err(StoreError::Backend(format!(
            "unexpected redis reply {other:?}"
        ))),
    }
}

/// Tab-separated summary: ts, duration, orig_h, orig_p, resp_h, resp_p, proto, service,
/// orig_bytes, resp_bytes, conn_state, history, then orig_pkts, orig_ip_bytes, resp_pkts,
/// resp_ip_bytes when the connection has them (summaries stored before those four existed end
/// at history). Unset is `-`; text escapes `\`, tab, newline and a literal `-`. Numbers print
/// exactly (shortest round-trip form).
fn encode_summary(conn: &Connection) -> String {
    fn opt<T: std::fmt::Display>(out: &mut String, value: Option<T>) {
        match value {
            Some(v) => write!(out, "{v}\t").expect("writing to a String"),
            None => out.push_str("-\t"),
        }
    }
    fn text(out: &mut String, value: Option<&str>) {
        match value {
            None => out.push('-'),
            Some("-") => out.push_str("\\-"),
            Some(s) => {
                for c in s.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '\t' => out.push_str("\\t"),
                        '\n' => out.push_str("\\n"),
                        c => out.push(c),
                    }
                }
            }
        }
        out.push('\t');
    }
    let mut out = String::with_capacity(128);
    opt(&mut out, Some(conn.ts));
    opt(&mut out, conn.duration);
    opt(&mut out, Some(conn.orig_h));
    opt(&mut out, conn.orig_p);
    opt(&mut out, Some(conn.resp_h));
    opt(&mut out, conn.resp_p);
    text(&mut out, Some(&conn.proto));
    text(&mut out, conn.service.as_deref());
    opt(&mut out, conn.orig_bytes);
    opt(&mut out, conn.resp_bytes);
    text(&mut out, conn.conn_state.as_deref());
    text(&mut out, conn.history.as_deref());
    if let Some(packets) = conn.packets {
        for count in [
            packets.orig_pkts,
            packets.orig_ip_bytes,
            packets.resp_pkts,
            packets.resp_ip_bytes,
        ] {
            opt(&mut out, Some(count));
        }
    }
    out.pop();
    out
}

fn decode_summary(uid: &str, summary: &str) -> Result<Connection, StoreError> {
    fn field<'s>(
        fields: &mut std::str::Split<'s, char>,
        summary: &str,
    ) -> Result<&'s str, StoreError> {
        fields
            .next()
            .ok_or_else(|| corrupt("connection summary", summary))
    }
    fn number<T: std::str::FromStr>(raw: &str, summary: &str) -> Result<Option<T>, StoreError> {
        if raw == "-" {
            return Ok(None);
        }
        raw.parse()
            .map(Some)
            .map_err(|_| corrupt("connection summary", summary))
    }
    fn text(raw: &str) -> Option<CompactString> {
        match raw {
            "-" => None,
            "\\-" => Some("-".into()),
            raw if !raw.contains('\\') => Some(raw.into()),
            raw => {
                let mut out = CompactString::default();
                let mut chars = raw.chars();
                while let Some(c) = chars.next() {
                    out.push(match (c, c == '\\') {
                        (_, true) => match chars.next() {
                            Some('t') => '\t',
                            Some('n') => '\n',
                            Some(other) => other,
                            None => '\\',
                        },
                        (c, false) => c,
                    });
                }
                Some(out)
            }
        }
    }
    let bad = || corrupt("connection summary", summary);
    let mut fields = summary.split('\t');
    let ts: f64 = number(field(&mut fields, summary)?, summary)?.ok_or_else(bad)?;
    let duration = number(field(&mut fields, summary)?, summary)?;
    let orig_h: IpAddr = number(field(&mut fields, summary)?, summary)?.ok_or_else(bad)?;
    let orig_p = number(field(&mut fields, summary)?, summary)?;
    let resp_h: IpAddr = number(field(&mut fields, summary)?, summary)?.ok_or_else(bad)?;
    let resp_p = number(field(&mut fields, summary)?, summary)?;
    let proto = text(field(&mut fields, summary)?).ok_or_else(bad)?;
    let service = text(field(&mut fields, summary)?);
    let orig_bytes = number(field(&mut fields, summary)?, summary)?;
    let resp_bytes = number(field(&mut fields, summary)?, summary)?;
    let conn_state = text(field(&mut fields, summary)?);
    let history = text(field(&mut fields, summary)?);
    let packets = match fields.next() {
        None => None,
        Some(orig_pkts) => {
            let count = |raw: &str| number(raw, summary)?.ok_or_else(bad);
            Some(PacketCounts {
                orig_pkts: count(orig_pkts)?,
                orig_ip_bytes: count(field(&mut fields, summary)?)?,
                resp_pkts: count(field(&mut fields, summary)?)?,
                resp_ip_bytes: count(field(&mut fields, summary)?)?,
            })
        }
    };
    if fields.next().is_some() {
        return Err(bad());
    }
    Ok(Connection {
        uid: uid.into(),
        ts,
        duration,
        orig_h,
        orig_p,
        resp_h,
        resp_p,
        proto,
        service,
        orig_bytes,
        resp_bytes,
        conn_state,
        history,
        packets,
    })
}

impl Store for RedisStore {
    fn bucket_secs(&self) -> u64 {
        self.bucket_secs
    }

    fn ingest<'a>(&'a self, batch: &'a Contribution) -> StoreFuture<'a, IngestReport> {
        self.timed(self.ingest_now(batch))
    }

    fn range(&self) -> StoreFuture<'_, Option<TimeRange>> {
        self.timed(async move {
            let mut pipe = Commands::new();
            pipe.cmd("HMGET")
                .arg(self.keys.range())
                .arg("first")
                .arg("last")
                .arg("latest_start");
            let ((first, last, latest_start),): ((Option<f64>, Option<f64>, Option<f64>),) =
                self.query(&pipe).await?;
            Ok(first
                .zip(last)
                .map(|(first, last)| TimeRange::new(first, last, latest_start)))
        })
    }

    fn connections(&self, window: Window) -> StoreFuture<'_, Vec<Connection>> {
        self.timed(async move {
            let mut conns = self.active(window.span(self.bucket_secs)?).await?;
            sort_connections(&mut conns, |c| c);
            Ok(conns)
        })
    }

    fn graph(&self, window: Window) -> StoreFuture<'_, Graph> {
        self.timed(async move {
            let span = window.span(self.bucket_secs)?;
            let conns = self.active(span).await?;
            let mut builder = GraphBuilder::new();
            for conn in &conns {
                builder.add(conn);
            }
            Ok(builder.finish(Some(span.start as f64), Some(span.end as f64)))
        })
    }

    fn connection<'a>(&'a self, uid: &'a str) -> StoreFuture<'a, Option<ConnectionInfo>> {
        self.timed(self.connection_now(uid))
    }

    fn edge(
        &self,
        src: IpAddr,
        dst: IpAddr,
        window: Window,
    ) -> StoreFuture<'_, Vec<ConnectionInfo>> {
        self.timed(async move {
            let mut conns = self.active(window.span(self.bucket_secs)?).await?;
            conns.retain(|c| c.orig_h == src && c.resp_h == dst);
            sort_connections(&mut conns, |c| c);
            self.with_details(conns).await
        })
    }

    fn host(&self, addr: IpAddr, window: Window) -> StoreFuture<'_, HostInfo> {
        self.timed(self.host_now(addr, window))
    }

    fn histogram(&self, from: f64, to: f64, bins: usize) -> StoreFuture<'_, Vec<HistogramBin>> {
        self.timed(self.histogram_now(from, to, bins))
    }

    fn capture_loss(&self, from: f64, to: f64) -> StoreFuture<'_, Vec<CaptureLoss>> {
        self.timed(self.capture_loss_now(from, to))
    }

    fn host_records_between(
        &self,
        from: f64,
        to: f64,
        limit: usize,
    ) -> StoreFuture<'_, HostRecordPage> {
        self.timed(self.host_records_between_now(from, to, limit))
    }

    fn host_record_counts(&self, from: f64, to: f64, bins: usize) -> StoreFuture<'_, Vec<u64>> {
        self.timed(async move {
            let edges = bin_edges(from, to, bins)?;
            let times = self.keys.host_record_times();
            let mut pipe = Commands::new();
            for bin in edges.windows(2) {
                pipe.cmd("ZCOUNT")
                    .arg(&times)
                    .arg(bin[0].to_string())
                    .arg(format!("({}", bin[1]));
            }
            self.query(&pipe).await
        })
    }

    fn retain(&self, cutoff: f64) -> StoreFuture<'_, RetainReport> {
        // Retention may walk much of the store: allow it several operation timeouts.
        Box::pin(async move {
            tokio::time::timeout(self.timeout * 12, self.retain_now(cutoff))
                .await
                .unwrap_or_else(|_| {
                    Err(StoreError::Unavailable(
                        "redis retention did not finish in time; it is safe to rerun".into(),
                    ))
                })
        })
    }

    fn health(&self) -> StoreFuture<'_, ()> {
        self.timed(async move {
            let mut pipe = Commands::new();
            pipe.cmd("PING").ignore();
            self.query::<()>(&pipe).await?;
            self.refuse_unsharded_index().await
        })
    }

    fn announce<'a>(&'a self, message: &'a str) -> StoreFuture<'a, ()> {
        self.timed(async move {
            let mut pipe = Commands::new();
            pipe.cmd("PUBLISH")
                .arg(self.keys.changes())
                .arg(message)
                .ignore();
            self.query::<()>(&pipe).await
        })
    }

    fn shares_sessions(&self) -> bool {
        true
    }

    fn share_session<'a>(
        &'a self,
        key: &'a str,
        user: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, ()> {
        self.timed(async move {
            let mut pipe = Commands::new();
            pipe.cmd("SET")
                .arg(self.keys.session(key))
                .arg(user)
                .arg("PX")
                .arg(ttl.as_millis().max(1) as u64)
                .ignore();
            self.query::<()>(&pipe).await
        })
    }

    fn shared_session<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<SharedSession>> {
        self.timed(async move {
            let mut pipe = Commands::new();
            pipe.cmd("GET").arg(self.keys.session(key));
            pipe.cmd("PTTL").arg(self.keys.session(key));
            let (user, ttl_ms): (Option<String>, i64) = self.query(&pipe).await?;
            // PTTL is negative for a key that is gone (or, never here, kept forever).
            Ok(user
                .zip(u64::try_from(ttl_ms).ok())
                .map(|(user, ms)| SharedSession {
                    user,
                    expires_in: Duration::from_millis(ms),
                }))
        })
    }

    fn end_shared_session<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        self.timed(async move {
            let mut pipe = Commands::new();
            pipe.cmd("DEL").arg(self.keys.session(key)).ignore();
            self.query::<()>(&pipe).await
        })
    }

    fn announcements(&self) -> Option<Announcements> {
        Some(subscribe(
            self.nodes.clone(),
            self.keys.changes(),
            self.timeout,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::{decode_summary, encode_summary};

    /// A summary written before the packet counts existed (it ends at the history) still reads,
    /// with no counts, so a Redis store survives the upgrade.
    #[test]
    fn summaries_without_packet_counts_still_read() {
        let stored = "1713539959.156291\t0.070889\t64.62.197.3\t44708\t64.225.56.201\t80\ttcp\thttp\t91\t1964191874\tRSTR\tShDgrR";
        let conn = decode_summary("CudYex2Y82IShk9bh", stored).unwrap();
        assert_eq!(conn.packets, None);
        assert_eq!(conn.resp_bytes, Some(1_964_191_874));
        assert_eq!(encode_summary(&conn), stored);
        let cut_short = stored.rsplit_once('\t').unwrap().0;
        assert!(decode_summary("C1", cut_short).is_err());
        assert!(decode_summary("C1", &format!("{stored}\t3\t211")).is_err());
    }
}
