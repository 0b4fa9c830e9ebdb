//! The embedded in-memory store: nothing to install, used by the demo and by default.

use super::{
    BucketSpan, CERTIFICATE_LOG, ConnectionInfo, DetailKey, HistogramBin, HostInfo, HostRecordJson,
    HostRecordPage, IngestReport, LEVELS, MAX_CAPTURE_LOSS_INTERVAL, MAX_CAPTURE_LOSS_REPORTS,
    MAX_HOST_RECORDS, MAX_WINDOW_RECORDS, Placement, RetainReport, SoftwareKey, SoftwareSeen,
    StampedHostRecord, Store, StoreError, StoreFuture, TimeRange, Window, add_to_bins, bin_edges,
    capture_loss_meets, certificate_keys, check_batch, check_time_window, counted_here, floor_key,
    histogram_bins, host_info, host_names, level_keys, ordered_bits, record_json, record_ts,
    software_list, sort_connections,
};
use compact_str::CompactString;
use parking_lot::RwLock;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;
use wiredraw_core::graph::GraphBuilder;
use wiredraw_core::{CaptureLoss, Connection, Contribution, Graph, Record};

/// A [`Store`] held in this process's memory behind one reader-writer lock.
///
/// Connections are shared (`Arc`) between the uid map and the interval-index buckets they meet,
/// so a graph query walks contiguous bucket vectors without looking anything up by uid.
pub struct MemoryStore {
    bucket_secs: u64,
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Everything known per uid: the connection once its conn record came, and its details.
    entries: FxHashMap<CompactString, Entry>,
    /// Per level: bucket key → connections placed there.
    levels: [BTreeMap<i64, Vec<Arc<Connection>>>; LEVELS],
    /// Start bucket key → (connections, bytes) of the connections starting there.
    histogram: BTreeMap<i64, (u64, u64)>,
    /// Bucket of a detail's `ts` → uids given details then, to find orphans at retention.
    pending: BTreeMap<i64, Vec<CompactString>>,
    /// Address → distinct sightings (name, ts bits).
    names: FxHashMap<IpAddr, FxHashSet<(CompactString, u64)>>,
    /// Records about hosts by key (time first).
    host_records: BTreeMap<DetailKey, AboutHosts>,
    /// Address → keys of the records about it.
    records_of_host: FxHashMap<IpAddr, BTreeSet<DetailKey>>,
    /// Address → software seen there → (first, last) seen.
    software: FxHashMap<IpAddr, BTreeMap<SoftwareKey, (f64, f64)>>,
    /// Capture-loss reports by (ts as [`ordered_bits`], peer).
    capture_loss: BTreeMap<(u64, CompactString), CaptureLoss>,
    range: Option<TimeRange>,
}

#[derive(Default)]
struct Entry {
    conn: Option<Arc<Connection>>,
    /// Sorted by (log type, key) and free of duplicates.
    details: Vec<StoredDetail>,
}

/// A record about hosts, kept once however many hosts it names.
struct AboutHosts {
    log_type: CompactString,
    record: Record,
    /// In address order, each once.
    hosts: Vec<IpAddr>,
}

struct StoredDetail {
    log_type: CompactString,
    key: DetailKey,
    record: Record,
}

impl MemoryStore {
    /// An empty store with buckets of `bucket_secs` seconds.
    pub fn new(bucket_secs: u64) -> Result<MemoryStore, StoreError> {
        if bucket_secs == 0 {
            return Err(StoreError::Config("bucket_secs must be at least 1".into()));
        }
        Ok(MemoryStore {
            bucket_secs,
            inner: RwLock::new(Inner::default()),
        })
    }

    fn ingest_now(&self, batch: &Contribution) -> IngestReport {
        let checked = check_batch(batch);
        let mut scratch = Vec::new();
        let keyed: Vec<_> = checked
            .details
            .iter()
            .map(|d| (DetailKey::of(&d.log_type, &d.record, &mut scratch), *d))
            .collect();
        let b = self.bucket_secs;
        let mut inner = self.inner.write();
        inner.entries.reserve(checked.connections.len());
        for conn in checked.connections {
            let entry = inner.entries.entry(conn.uid.clone()).or_default();
            if entry.conn.is_some() {
                continue;
            }
            let conn = Arc::new(conn.clone());
            entry.conn = Some(conn.clone());
            let end = conn.end();
            let placement = Placement::of(b, conn.ts, end);
            for key in placement.keys(b) {
                inner.levels[placement.level]
                    .entry(key)
                    .or_default()
                    .push(conn.clone());
            }
            let cell = inner
                .histogram
                .entry(floor_key(conn.ts, b as i64))
                .or_default();
            cell.0 += 1;
            cell.1 = cell.1.saturating_add(conn.total_bytes());
            let own = TimeRange::of_connection(&conn);
            inner.range = Some(inner.range.map_or(own, |range| range.union(own)));
        }
        for (key, detail) in keyed {
            let entry = inner.entries.entry(detail.uid.clone()).or_default();
            let position = entry.details.binary_search_by(|d| {
                (d.log_type.as_str(), d.key).cmp(&(detail.log_type.as_str(), key))
            });
            if let Err(at) = position {
                let stored = StoredDetail {
                    log_type: detail.log_type.clone(),
                    key,
                    record: detail.record.clone(),
                };
                entry.details.insert(at, stored);
                if let Some(ts) = record_ts(&detail.record) {
                    inner
                        .pending
                        .entry(floor_key(ts, b as i64))
                        .or_default()
                        .push(detail.uid.clone());
                }
            }
        }
        for ann in checked.annotations {
            inner
                .names
                .entry(ann.addr)
                .or_default()
                .insert((ann.name.clone(), ann.ts.to_bits()));
        }
        for host_record in checked.host_records {
            let key = DetailKey::of(&host_record.log_type, &host_record.record, &mut scratch);
            let about = inner.host_records.entry(key).or_insert_with(|| AboutHosts {
                log_type: host_record.log_type.clone(),
                record: host_record.record.clone(),
                hosts: Vec::new(),
            });
            if let Err(at) = about.hosts.binary_search(&host_record.addr) {
                about.hosts.insert(at, host_record.addr);
            }
            inner
                .records_of_host
                .entry(host_record.addr)
                .or_default()
                .insert(key);
        }
        for software in checked.software {
            let seen = inner
                .software
                .entry(software.host)
                .or_default()
                .entry(SoftwareKey::of(software))
                .or_insert((software.ts, software.ts));
            *seen = (seen.0.min(software.ts), seen.1.max(software.ts));
        }
        for report in checked.capture_loss {
            inner
                .capture_loss
                .entry((ordered_bits(report.ts), report.peer.clone()))
                .or_insert_with(|| report.clone());
        }
        checked.report
    }

    fn retain_now(&self, cutoff: f64) -> Result<RetainReport, StoreError> {
        if !(cutoff.is_finite()) {
            return Err(StoreError::BadRequest(format!(
                "cutoff must be finite, got {cutoff}"
            )));
        }
        let b = self.bucket_secs as i64;
        let limit = floor_key(cutoff, b);
        let mut report = RetainReport::default();
        let mut inner = self.inner.write();
        let inner = &mut *inner;
        let mut dropped: Vec<Arc<Connection>> = Vec::new();
        for level in &mut inner.levels {
            let old: Vec<i64> = level.range(..limit).map(|(k, _)| *k).collect();
            for key in old {
                let Some(conns) = level.get_mut(&key) else {
                    continue;
                };
                conns.retain(|conn| {
                    let keep = conn.end() >= limit as f64;
                    if !keep {
                        dropped.push(conn.clone());
                    }
                    keep
                });
                if conns.is_empty() {
                    level.remove(&key);
                }
            }
        }
        for conn in dropped {
            if inner.entries.remove(&conn.uid).is_none() {
                continue;
            }
            report.connections += 1;
            let start = floor_key(conn.ts, b);
            if let Some(cell) = inner.histogram.get_mut(&start) {
                cell.0 -= 1;
                cell.1 = cell.1.saturating_sub(conn.total_bytes());
                if cell.0 == 0 {
                    inner.histogram.remove(&start);
                }
            }
        }
        let old_pending: Vec<i64> = inner.pending.range(..limit).map(|(k, _)| *k).collect();
        for key in old_pending {
            for uid in inner.pending.remove(&key).unwrap_or_default() {
                if inner.entries.get(&uid).is_some_and(|e| e.conn.is_none()) {
                    inner.entries.remove(&uid);
                    report.orphans += 1;
                }
            }
        }
        inner.names.retain(|_, sightings| {
            let before = sightings.len();
            sightings.retain(|(_, ts)| f64::from_bits(*ts) >= limit as f64);
            report.annotations += (before - sightings.len()) as u64;
            !sightings.is_empty()
        });
        let oldest_kept = DetailKey::first_at(limit as f64);
        inner.host_records = inner.host_records.split_off(&oldest_kept);
        inner.records_of_host.retain(|_, keys| {
            let kept = keys.split_off(&oldest_kept);
            report.host_records += std::mem::replace(keys, kept).len() as u64;
            !keys.is_empty()
        });
        inner.software.retain(|_, seen| {
            let before = seen.len();
            seen.retain(|_, (_, last)| *last >= limit as f64);
            report.software += (before - seen.len()) as u64;
            !seen.is_empty()
        });
        let kept = inner
            .capture_loss
            .split_off(&(ordered_bits(limit as f64), CompactString::default()));
        report.capture_loss = std::mem::replace(&mut inner.capture_loss, kept).len() as u64;
        if report.connections > 0 {
            inner.range = TimeRange::of(
                inner
                    .levels
                    .iter()
                    .flat_map(|l| l.values().flatten())
                    .map(|c| &**c),
            );
        }
        Ok(report)
    }
}

impl Inner {
    /// Calls `visit` once for every connection active in the span.
    fn for_each_active<'a>(
        &'a self,
        bucket_secs: u64,
        span: BucketSpan,
        mut visit: impl FnMut(&'a Arc<Connection>),
    ) {
        for (level, buckets) in self.levels.iter().enumerate() {
            for (&key, conns) in buckets.range(level_keys(bucket_secs, level, span)) {
                for conn in conns {
                    if span.contains(conn.ts, conn.end())
                        && counted_here(bucket_secs, level, key, conn.ts, span)
                    {
                        visit(conn);
                    }
                }
            }
        }
    }

    fn info(&self, conn: &Connection) -> ConnectionInfo {
        let mut details: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
        if let Some(entry) = self.entries.get(&conn.uid) {
            for detail in &entry.details {
                details
                    .entry(detail.log_type.to_string())
                    .or_default()
                    .push(record_json(&detail.record));
            }
        }
        let certificates: Vec<serde_json::Value> = certificate_keys(&details)
            .into_iter()
            .filter_map(|key| self.entries.get(key))
            .flat_map(|entry| &entry.details)
            .filter(|detail| detail.log_type == CERTIFICATE_LOG)
            .map(|detail| record_json(&detail.record))
            .collect();
        if !certificates.is_empty() {
            details
                .entry(CERTIFICATE_LOG.to_owned())
                .or_default()
                .extend(certificates);
        }
        ConnectionInfo {
            connection: conn.clone(),
            details,
        }
    }
}

impl Store for MemoryStore {
    fn bucket_secs(&self) -> u64 {
        self.bucket_secs
    }

    fn ingest<'a>(&'a self, batch: &'a Contribution) -> StoreFuture<'a, IngestReport> {
        Box::pin(async move { Ok(self.ingest_now(batch)) })
    }

    fn range(&self) -> StoreFuture<'_, Option<TimeRange>> {
        Box::pin(async move { Ok(self.inner.read().range) })
    }

    fn connections(&self, window: Window) -> StoreFuture<'_, Vec<Connection>> {
        Box::pin(async move {
            let span = window.span(self.bucket_secs)?;
            let inner = self.inner.read();
            let mut found: Vec<&Arc<Connection>> = Vec::new();
            inner.for_each_active(self.bucket_secs, span, |c| found.push(c));
            sort_connections(&mut found, |c| c);
            Ok(found.into_iter().map(|c| Connection::clone(c)).collect())
        })
    }

    fn graph(&self, window: Window) -> StoreFuture<'_, Graph> {
        Box::pin(async move {
            let span = window.span(self.bucket_secs)?;
            let inner = self.inner.read();
            let mut builder = GraphBuilder::new();
            inner.for_each_active(self.bucket_secs, span, |c| builder.add(c));
            Ok(builder.finish(Some(span.start as f64), Some(span.end as f64)))
        })
    }

    fn connection<'a>(&'a self, uid: &'a str) -> StoreFuture<'a, Option<ConnectionInfo>> {
        Box::pin(async move {
            let inner = self.inner.read();
            let conn = inner.entries.get(uid).and_then(|e| e.conn.as_ref());
            Ok(conn.map(|c| inner.info(c)))
        })
    }

    fn edge(
        &self,
        src: IpAddr,
        dst: IpAddr,
        window: Window,
    ) -> StoreFuture<'_, Vec<ConnectionInfo>> {
        Box::pin(async move {
            let span = window.span(self.bucket_secs)?;
            let inner = self.inner.read();
            let mut found: Vec<&Arc<Connection>> = Vec::new();
            inner.for_each_active(self.bucket_secs, span, |c| {
                if c.orig_h == src && c.resp_h == dst {
                    found.push(c)
                }
            });
            sort_connections(&mut found, |c| c);
            Ok(found.into_iter().map(|c| inner.info(c)).collect())
        })
    }

    fn host(&self, addr: IpAddr, window: Window) -> StoreFuture<'_, HostInfo> {
        Box::pin(async move {
            let span = window.span(self.bucket_secs)?;
            let inner = self.inner.read();
            let mut found: Vec<&Connection> = Vec::new();
            inner.for_each_active(self.bucket_secs, span, |c| {
                if c.orig_h == addr || c.resp_h == addr {
                    found.push(c)
                }
            });
            let mut info = host_info(addr, found);
            if let Some(sightings) = inner.names.get(&addr) {
                info.names = host_names(
                    sightings
                        .iter()
                        .map(|(name, ts)| (name.as_str(), f64::from_bits(*ts))),
                );
            }
            if let Some(keys) = inner.records_of_host.get(&addr) {
                info.records_total = keys.len() as u64;
                info.records = keys
                    .iter()
                    .rev()
                    .filter_map(|key| inner.host_records.get(key))
                    .take(MAX_HOST_RECORDS)
                    .map(|about| HostRecordJson {
                        log_type: about.log_type.to_string(),
                        record: record_json(&about.record),
                    })
                    .collect();
            }
            if let Some(seen) = inner.software.get(&addr) {
                (info.software, info.software_total) =
                    software_list(seen.iter().map(|(software, &(first_seen, last_seen))| {
                        SoftwareSeen {
                            software: software.clone(),
                            first_seen,
                            last_seen,
                        }
                    }));
            }
            Ok(info)
        })
    }

    fn histogram(&self, from: f64, to: f64, bins: usize) -> StoreFuture<'_, Vec<HistogramBin>> {
        Box::pin(async move {
            let mut out = histogram_bins(from, to, bins)?;
            let inner = self.inner.read();
            let b = self.bucket_secs as i64;
            for (&key, &(conns, bytes)) in inner.histogram.range(floor_key(from, b)..) {
                if key as f64 >= to {
                    break;
                }
                add_to_bins(&mut out, (from, to), (key, b), conns, bytes);
            }
            Ok(out)
        })
    }

    fn capture_loss(&self, from: f64, to: f64) -> StoreFuture<'_, Vec<CaptureLoss>> {
        Box::pin(async move {
            check_time_window("capture loss", from, to)?;
            let inner = self.inner.read();
            let ends = ordered_bits(from)..ordered_bits(to + MAX_CAPTURE_LOSS_INTERVAL);
            Ok(inner
                .capture_loss
                .range((ends.start, CompactString::default())..(ends.end, CompactString::default()))
                .map(|(_, report)| report)
                .filter(|report| capture_loss_meets(report, from, to))
                .take(MAX_CAPTURE_LOSS_REPORTS)
                .cloned()
                .collect())
        })
    }

    fn host_records_between(
        &self,
        from: f64,
        to: f64,
        limit: usize,
    ) -> StoreFuture<'_, HostRecordPage> {
        Box::pin(async move {
            check_time_window("records about hosts", from, to)?;
            let inner = self.inner.read();
            let stamped = inner
                .host_records
                .range(DetailKey::first_at(from)..=DetailKey::last_at(to));
            Ok(HostRecordPage {
                total: stamped.clone().count() as u64,
                records: stamped
                    .rev()
                    .take(limit.min(MAX_WINDOW_RECORDS))
                    .map(|(key, about)| StampedHostRecord {
                        ts: key.ts(),
                        hosts: about.hosts.clone(),
                        log_type: about.log_type.to_string(),
                        record: record_json(&about.record),
                    })
                    .collect(),
            })
        })
    }

    fn host_record_counts(&self, from: f64, to: f64, bins: usize) -> StoreFuture<'_, Vec<u64>> {
        Box::pin(async move {
            let edges = bin_edges(from, to, bins)?;
            let mut counts = vec![0; bins];
            let inner = self.inner.read();
            let stamped = DetailKey::first_at(from)..DetailKey::first_at(to);
            // Keys come in time order, so the bin only ever moves forward.
            let mut bin = 0;
            for key in inner.host_records.range(stamped).map(|(key, _)| key) {
                let ts = key.ts();
                while bin + 1 < bins && edges[bin + 1] <= ts {
                    bin += 1;
                }
                counts[bin] += 1;
            }
            Ok(counts)
        })
    }

    fn retain(&self, cutoff: f64) -> StoreFuture<'_, RetainReport> {
        Box::pin(async move { self.retain_now(cutoff) })
    }

    fn health(&self) -> StoreFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }
}
