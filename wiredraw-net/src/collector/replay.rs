//! Replay: send a folder of historic logs in timestamp order, each record when its time comes.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};

use super::batch::Batch;
use super::logfile::{NotZeekFiles, Probe, probe};
use super::merge::{Merge, MergeFile, MergedRecord};
use super::ship::{Shipper, Stopped};
use super::{BackoffPolicy, CollectorError, Progress, cancelled, list_log_files, shutdown_channel};
use crate::http_client::HttpClient;

/// How fast log time passes during a replay.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Speed {
    /// Log seconds per wall-clock second: `60.0` plays an hour per minute.
    Factor(f64),
    /// As fast as the server takes it.
    Max,
}

impl FromStr for Speed {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        if text.eq_ignore_ascii_case("max") {
            return Ok(Speed::Max);
        }
        match text.parse::<f64>() {
            Ok(factor) if factor.is_finite() && factor > 0.0 => Ok(Speed::Factor(factor)),
            _ => Err(format!(
                "speed {text:?} is neither a positive number nor \"max\""
            )),
        }
    }
}

/// A replay run. Build it with [`ReplayConfig::new`] and adjust fields.
#[derive(Clone)]
pub struct ReplayConfig {
    pub server_url: String,
    /// The collector token (never logged).
    pub token: String,
    /// Folder of historic logs, read recursively (plain and `.gz`).
    pub dir: PathBuf,
    pub speed: Speed,
    /// Records before this time (epoch seconds) are skipped; replay time starts here.
    pub time_from: Option<f64>,
    /// Records at or after this time are skipped.
    pub time_to: Option<f64>,
    /// Most lines in one request.
    pub batch_lines: usize,
    /// Most bytes of lines in one request.
    pub batch_bytes: usize,
    /// Records due within one tick share a request per file.
    pub tick: Duration,
    /// Lines per file held to put slightly out-of-order timestamps right; the memory bound.
    pub reorder_window: usize,
    pub gzip: bool,
    pub backoff: BackoffPolicy,
    pub request_timeout: Duration,
}

impl fmt::Debug for ReplayConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplayConfig")
            .field("server_url", &self.server_url)
            .field("token", &"<redacted>")
            .field("dir", &self.dir)
            .field("speed", &self.speed)
            .field("time_from", &self.time_from)
            .field("time_to", &self.time_to)
            .finish_non_exhaustive()
    }
}

impl ReplayConfig {
    /// Defaults: the whole history, batches of up to 5,000 lines or 4 MiB, 100 ms ticks,
    /// a reorder window of 1,024 lines per file.
    pub fn new(
        server_url: impl Into<String>,
        token: impl Into<String>,
        dir: impl Into<PathBuf>,
        speed: Speed,
    ) -> Self {
        Self {
            server_url: server_url.into(),
            token: token.into(),
            dir: dir.into(),
            speed,
            time_from: None,
            time_to: None,
            batch_lines: 5_000,
            batch_bytes: 4 << 20,
            tick: Duration::from_millis(100),
            reorder_window: 1_024,
            gzip: true,
            backoff: BackoffPolicy::default(),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// What a replay did.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplaySummary {
    /// Log files merged.
    pub files: u64,
    /// Records the server accepted.
    pub records: u64,
    /// Records read and left out because they fall outside the window.
    pub outside_window: u64,
    /// Records sent after a later one because their file was out of order beyond the window.
    pub late: u64,
    pub batches: u64,
    pub errors: u64,
    /// Log time of the first and last record sent.
    pub first_ts: Option<f64>,
    pub last_ts: Option<f64>,
    pub secs: f64,
}

impl fmt::Display for ReplaySummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "files {}, records {}, outside window {}, late {}, batches {}, errors {}, secs {:.2}",
            self.files,
            self.records,
            self.outside_window,
            self.late,
            self.batches,
            self.errors,
            self.secs
        )
    }
}

/// Replays history to the server; see the [module docs](super).
pub struct Replayer {
    config: ReplayConfig,
    progress: Arc<Progress>,
}

/// Records travel from the reading thread in chunks of this many.
const CHUNK: usize = 256;

/// What the reading thread reports besides records.
#[derive(Default)]
struct ReadCounts {
    outside_window: u64,
}

struct Pending {
    batch: Batch,
    log_type: String,
    path: PathBuf,
}

impl Replayer {
    pub fn new(config: ReplayConfig) -> Result<Self, CollectorError> {
        if let (Some(from), Some(to)) = (config.time_from, config.time_to)
            && from >= to
        {
            return Err(CollectorError::Config(format!(
                "time window is empty: from {from} is not before to {to}"
            )));
        }
        if config.batch_lines == 0 || config.batch_bytes == 0 {
            return Err(CollectorError::Config(
                "batch_lines and batch_bytes must be at least 1".into(),
            ));
        }
        Ok(Self {
            config,
            progress: Arc::default(),
        })
    }

    /// Live counters (lines, batches, errors).
    pub fn progress(&self) -> Arc<Progress> {
        self.progress.clone()
    }

    /// Replays until the history (or window) is sent or `shutdown` resolves.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<ReplaySummary, CollectorError> {
        let started = Instant::now();
        let (_stop, mut shutdown) = shutdown_channel(shutdown);
        let client = HttpClient::new(&self.config.server_url)?
            .with_token(&self.config.token)?
            .with_timeout(self.config.request_timeout);
        let shipper = Shipper::new(
            client,
            self.config.gzip,
            self.config.backoff,
            self.progress.clone(),
            shutdown.clone(),
        );
        let merge = {
            let (dir, window) = (self.config.dir.clone(), self.config.reorder_window);
            let progress = self.progress.clone();
            tokio::task::spawn_blocking(move || prepare(&dir, window, &progress))
                .await
                .map_err(|e| CollectorError::Config(format!("reading the logs failed: {e}")))??
        };
        let files: Arc<[MergeFile]> = merge.files().to_vec().into();
        let (records_tx, mut records_rx) = mpsc::channel::<Vec<MergedRecord>>(8);
        let reader = {
            let window = (self.config.time_from, self.config.time_to);
            let stop = shutdown.clone();
            let progress = self.progress.clone();
            tokio::task::spawn_blocking(move || {
                read_merged(merge, window, &records_tx, &stop, &progress)
            })
        };
        let mut pending: BTreeMap<usize, Pending> = BTreeMap::new();
        let mut clock: Option<(Instant, f64)> = None;
        let mut summary = ReplaySummary {
            files: files.len() as u64,
            records: 0,
            outside_window: 0,
            late: 0,
            batches: 0,
            errors: 0,
            first_ts: None,
            last_ts: None,
            secs: 0.0,
        };
        let mut stopped = None;
        'records: while let Some(chunk) = records_rx.recv().await {
            for record in chunk {
                if let Speed::Factor(factor) = self.config.speed {
                    let (wall0, log0) = *clock.get_or_insert((
                        Instant::now(),
                        self.config.time_from.unwrap_or(record.ts),
                    ));
                    let due =
                        wall0 + Duration::from_secs_f64(((record.ts - log0) / factor).max(0.0));
                    if due > Instant::now() + self.config.tick {
                        if let Err(e) = self.flush_all(&shipper, &mut pending).await {
                            stopped = Some(e);
                            break 'records;
                        }
                        tokio::select! {
                            () = tokio::time::sleep_until(due.into()) => {}
                            () = cancelled(&mut shutdown) => break 'records,
                        }
                    }
                }
                if summary.last_ts.is_some_and(|last| record.ts < last) {
                    summary.late += 1;
                } else {
                    summary.last_ts = Some(record.ts);
                }
                summary.first_ts.get_or_insert(record.ts);
                if let Err(e) = self.add(&shipper, &files, &mut pending, record).await {
                    stopped = Some(e);
                    break 'records;
                }
            }
        }
        if stopped.is_none()
            && !*shutdown.borrow()
            && let Err(e) = self.flush_all(&shipper, &mut pending).await
        {
            stopped = Some(e);
        }
        drop(records_rx);
        let counts = reader.await.unwrap_or_default();
        if let Some(Stopped::Fatal(e)) = stopped {
            return Err(e);
        }
        summary.outside_window = counts.outside_window;
        summary.records = self.progress.lines.load(Relaxed);
        summary.batches = self.progress.batches.load(Relaxed);
        summary.errors = self.progress.errors.load(Relaxed);
        summary.secs = started.elapsed().as_secs_f64();
        Ok(summary)
    }

    /// Adds a record to its file's pending batch, sending that batch first if the header
    /// changed and after if it is full.
    async fn add(
        &self,
        shipper: &Shipper,
        files: &[MergeFile],
        pending: &mut BTreeMap<usize, Pending>,
        record: MergedRecord,
    ) -> Result<(), Stopped> {
        let entry = pending.entry(record.file).or_insert_with(|| Pending {
            batch: Batch::new(),
            log_type: files[record.file].identity.log_type.clone(),
            path: files[record.file].path.clone(),
        });
        let same_header = match (entry.batch.header(), record.header.as_ref()) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a == b,
            (None, None) => true,
            _ => false,
        };
        if !entry.batch.is_empty() && !same_header {
            send(shipper, entry).await?;
        }
        if entry.batch.is_empty() {
            entry.batch.set_header(record.header);
        }
        entry.batch.push_line(&record.line, 0, record.line_number);
        if entry.batch.line_count() >= self.config.batch_lines
            || entry.batch.body_len() >= self.config.batch_bytes
        {
            send(shipper, entry).await?;
        }
        Ok(())
    }

    async fn flush_all(
        &self,
        shipper: &Shipper,
        pending: &mut BTreeMap<usize, Pending>,
    ) -> Result<(), Stopped> {
        for entry in pending.values_mut() {
            send(shipper, entry).await?;
        }
        // Files with nothing pending are dropped so the map holds only files in play.
        pending.retain(|_, entry| !entry.batch.is_empty());
        Ok(())
    }
}

async fn send(shipper: &Shipper, entry: &mut Pending) -> Result<(), Stopped> {
    if entry.batch.is_empty() {
        return Ok(());
    }
    let sent = shipper
        .send(&entry.log_type, &entry.batch, &entry.path, |_| {})
        .await;
    entry.batch.clear();
    sent.map(|_| ())
}

/// Lists and identifies the logs under `dir` and prepares their merge.
fn prepare(
    dir: &Path,
    reorder_window: usize,
    progress: &Progress,
) -> Result<Merge, CollectorError> {
    let paths = list_log_files(dir, &[]).map_err(|source| CollectorError::Dir {
        path: dir.to_owned(),
        source,
    })?;
    let mut files = Vec::new();
    let mut not_zeek = NotZeekFiles::default();
    for path in paths {
        match probe(&path) {
            Ok(Probe::Log(identity)) => files.push(MergeFile { path, identity }),
            Ok(Probe::NotYet) => {}
            Ok(Probe::NotZeek(reason)) => not_zeek.add(&path, reason),
            Err(e) => {
                tracing::error!("{}: cannot read: {e}", path.display());
                progress.errors.fetch_add(1, Relaxed);
            }
        }
    }
    not_zeek.warn();
    if !files.is_empty() && !files.iter().any(|f| f.identity.log_type == "conn") {
        let mut types: Vec<&str> = files.iter().map(|f| f.identity.log_type.as_str()).collect();
        types.sort_unstable();
        types.dedup();
        tracing::warn!(
            "{}: no conn log among these logs ({}): the server will hold their records, but \
             only conn records make connections to draw, and the others attach to them",
            dir.display(),
            types.join(", ")
        );
    }
    Ok(Merge::new(files, reorder_window))
}

/// Runs the merge, passing on records inside the `[from, to)` window in chunks, until the
/// receiver goes away or the run stops.
fn read_merged(
    mut merge: Merge,
    (from, to): (Option<f64>, Option<f64>),
    records: &mpsc::Sender<Vec<MergedRecord>>,
    stop: &watch::Receiver<bool>,
    progress: &Progress,
) -> ReadCounts {
    let mut counts = ReadCounts::default();
    let mut chunk = Vec::with_capacity(CHUNK);
    let report = |merge: &mut Merge| {
        for issue in merge.take_issues() {
            tracing::error!("{issue}");
            progress.errors.fetch_add(1, Relaxed);
        }
    };
    while let Some(record) = merge.next() {
        report(&mut merge);
        if from.is_some_and(|from| record.ts < from) {
            counts.outside_window += 1;
            continue;
        }
        if let Some(to) = to
            && record.ts >= to
        {
            counts.outside_window += 1;
            // Every file's next record is past the window too: nothing more to send.
            if merge.peek_ts().is_none_or(|next| next >= to) {
                break;
            }
            continue;
        }
        chunk.push(record);
        if chunk.len() >= CHUNK {
            if records.blocking_send(std::mem::take(&mut chunk)).is_err() || *stop.borrow() {
                return counts;
            }
            chunk.reserve(CHUNK);
        }
    }
    report(&mut merge);
    if !chunk.is_empty() {
        let _ = records.blocking_send(chunk);
    }
    counts
}
