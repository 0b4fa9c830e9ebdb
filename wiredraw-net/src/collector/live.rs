//! Live and `--once` shipping: a scanner that finds log files and one worker per file.

use std::collections::{HashMap, HashSet};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use super::batch::{Batch, Position};
use super::logfile::{
    FillStop, Fingerprint, Identity, Limits, LogSource, NotZeekFiles, Probe, Resume, is_live_name,
    probe, probe_open_file,
};
use super::ship::{Shipper, Stopped};
use super::state::{FileProgress, SharedState, temp_path, unix_now};
use super::{
    CollectorConfig, CollectorError, Progress, Summary, cancelled, list_log_files, shutdown_channel,
};

/// A gzip archive that stays cut short this long is shipped as far as it goes.
const INCOMPLETE_GZIP_GRACE: Duration = Duration::from_secs(10);

/// Ships a Zeek log directory to the server; see the [module docs](super).
pub struct Collector {
    config: Arc<CollectorConfig>,
    state: Arc<SharedState>,
    progress: Arc<Progress>,
}

/// A file on disk, as the kernel knows it: follows renames, changes when a file is replaced.
type FileKey = (u64, u64);

fn file_key(metadata: &std::fs::Metadata) -> FileKey {
    (metadata.dev(), metadata.ino())
}

/// What the scanner remembers about a file it has seen.
#[derive(Clone, Copy, Debug)]
enum Seen {
    /// A worker owns it.
    Active,
    /// Done, not a log, or failed: looked at again only if its size changes.
    Settled { len: u64 },
    /// A gzip archive that ended early (still being written?) at this size.
    Incomplete { len: u64, since: Instant },
}

/// One file for one worker.
struct Job {
    path: PathBuf,
    key: FileKey,
    identity: Identity,
    resume: Resume,
    /// Zeek may still append to it: it has a live name (`conn.log`) and this is not `--once`.
    follow: bool,
    /// Ship a gzip cut short as far as it goes instead of waiting for the rest.
    accept_cut_gzip: bool,
}

/// How a worker ended.
enum Ended {
    /// Read to its end; `len` is its size then.
    Done {
        len: u64,
    },
    /// Shorter than what was shipped (truncated in place): identify it afresh.
    Truncated,
    /// A gzip archive ended early at `len` bytes.
    IncompleteGzip {
        len: u64,
    },
    /// Could not be read; logged.
    Failed {
        len: u64,
    },
    Shutdown,
    Fatal(CollectorError),
}

struct Worker {
    config: Arc<CollectorConfig>,
    state: Arc<SharedState>,
    progress: Arc<Progress>,
    shipper: Shipper,
    shutdown: watch::Receiver<bool>,
    slots: Arc<Semaphore>,
}

impl Collector {
    /// Loads the state file and checks the configuration.
    pub fn new(config: CollectorConfig) -> Result<Self, CollectorError> {
        if config.batch_lines == 0 || config.batch_bytes == 0 || config.parallel_files == 0 {
            return Err(CollectorError::Config(
                "batch_lines, batch_bytes and parallel_files must be at least 1".into(),
            ));
        }
        config.client()?;
        let state = SharedState::load(config.state_path.clone())?;
        Ok(Self {
            config: Arc::new(config),
            state,
            progress: Arc::default(),
        })
    }

    /// Live counters, for a progress bar.
    pub fn progress(&self) -> Arc<Progress> {
        self.progress.clone()
    }

    /// Runs until `shutdown` resolves (or, with `once`, until everything present is shipped),
    /// then saves the offsets and returns what was done. Work in flight when `shutdown`
    /// resolves is abandoned unsaved and sent again next time.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<Summary, CollectorError> {
        let started = Instant::now();
        let (stop, shutdown) = shutdown_channel(shutdown);
        let mut background = JoinSet::new();
        background.spawn(self.state.clone().save_loop());
        let worker = Arc::new(Worker {
            shipper: Shipper::new(
                self.config.client()?,
                self.config.gzip,
                self.config.backoff,
                self.progress.clone(),
                shutdown.clone(),
            ),
            config: self.config.clone(),
            state: self.state.clone(),
            progress: self.progress.clone(),
            shutdown: shutdown.clone(),
            slots: Arc::new(Semaphore::new(self.config.parallel_files)),
        });
        let result = Scanner::new(worker, shutdown).run().await;
        let _ = stop.send(true);
        background.abort_all();
        self.state.flush().await?;
        result?;
        Ok(self.progress.summary(started.elapsed().as_secs_f64()))
    }
}

struct Scanner {
    worker: Arc<Worker>,
    shutdown: watch::Receiver<bool>,
    seen: HashMap<FileKey, Seen>,
    /// Fingerprints a worker is shipping: another file with the same content waits for it.
    busy: HashSet<Fingerprint>,
    workers: JoinSet<(FileKey, Fingerprint, Ended)>,
    /// Files not Zeek logs, already reported.
    reported: HashSet<PathBuf>,
    /// Files whose content another worker is shipping, to look at when it is done.
    deferred: Vec<PathBuf>,
}

impl Scanner {
    fn new(worker: Arc<Worker>, shutdown: watch::Receiver<bool>) -> Self {
        Self {
            worker,
            shutdown,
            seen: HashMap::new(),
            busy: HashSet::new(),
            workers: JoinSet::new(),
            reported: HashSet::new(),
            deferred: Vec::new(),
        }
    }

    fn config(&self) -> &CollectorConfig {
        &self.worker.config
    }

    async fn run(mut self) -> Result<(), CollectorError> {
        let once = self.config().once;
        let exclude = {
            let state = self.config().state_path.clone();
            vec![temp_path(&state), state]
        };
        let list = |dir: PathBuf, exclude: Vec<PathBuf>| async move {
            let listed = dir.clone();
            tokio::task::spawn_blocking(move || list_log_files(&listed, &exclude))
                .await
                .map_err(io::Error::other)
                .and_then(|r| r)
                .map_err(|source| CollectorError::Dir { path: dir, source })
        };
        let dir = self.config().dir.clone();
        let initial = list(dir.clone(), exclude.clone()).await?;
        if once {
            let total = initial
                .iter()
                .filter_map(|p| std::fs::metadata(p).ok())
                .map(|m| m.len())
                .sum();
            self.worker.progress.bytes_total.store(total, Relaxed);
        }
        self.scan(&initial, true).await;
        let mut fatal = None;
        loop {
            if once && self.workers.is_empty() {
                break;
            }
            let poll = self.config().poll_interval;
            tokio::select! {
                Some(joined) = self.workers.join_next() => {
                    if let Err(e) = self.finished(joined) {
                        fatal = Some(e);
                        break;
                    }
                    let deferred = std::mem::take(&mut self.deferred);
                    self.scan(&deferred, false).await;
                }
                () = tokio::time::sleep(poll), if !once => {
                    let paths = list(dir.clone(), exclude.clone()).await?;
                    self.scan(&paths, true).await;
                }
                () = cancelled(&mut self.shutdown) => break,
            }
        }
        if let Some(e) = fatal {
            // Stop the other workers at their next step.
            self.workers.abort_all();
            return Err(e);
        }
        while let Some(joined) = self.workers.join_next().await {
            self.finished(joined)?;
        }
        Ok(())
    }

    fn finished(
        &mut self,
        joined: Result<(FileKey, Fingerprint, Ended), tokio::task::JoinError>,
    ) -> Result<(), CollectorError> {
        let (key, fingerprint, ended) = match joined {
            Ok(result) => result,
            Err(e) if e.is_cancelled() => return Ok(()),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        };
        self.busy.remove(&fingerprint);
        match ended {
            Ended::Done { len } => {
                self.worker.progress.files.fetch_add(1, Relaxed);
                self.seen.insert(key, Seen::Settled { len });
            }
            Ended::Failed { len } => {
                self.seen.insert(key, Seen::Settled { len });
            }
            Ended::IncompleteGzip { len } => {
                self.seen.insert(
                    key,
                    Seen::Incomplete {
                        len,
                        since: Instant::now(),
                    },
                );
            }
            Ended::Truncated | Ended::Shutdown => {
                self.seen.remove(&key);
            }
            Ended::Fatal(e) => return Err(e),
        }
        Ok(())
    }

    /// Starts workers for files that are new, grew, or changed. A `full` scan covers every
    /// file there is, so what it does not list is gone.
    async fn scan(&mut self, paths: &[PathBuf], full: bool) {
        let once = self.config().once;
        if full {
            self.deferred.clear();
        }
        let mut present = HashSet::new();
        let mut not_zeek = NotZeekFiles::default();
        for path in paths {
            let Ok(metadata) = std::fs::metadata(path) else {
                continue; // gone since the listing
            };
            let key = file_key(&metadata);
            let len = metadata.len();
            present.insert(key);
            let mut accept_cut_gzip = once;
            match self.seen.get(&key) {
                Some(Seen::Active) => continue,
                Some(Seen::Settled { len: settled }) if *settled == len => continue,
                Some(Seen::Incomplete { len: was, since }) if *was == len => {
                    if since.elapsed() < INCOMPLETE_GZIP_GRACE {
                        continue;
                    }
                    accept_cut_gzip = true;
                }
                _ => {}
            }
            let probed = {
                let path = path.clone();
                tokio::task::spawn_blocking(move || probe(&path)).await
            };
            let identity = match probed {
                Ok(Ok(Probe::Log(identity))) => identity,
                Ok(Ok(Probe::NotYet)) if !once => continue,
                Ok(Ok(Probe::NotYet)) => {
                    self.settle_unshipped(key, len);
                    continue;
                }
                Ok(Ok(Probe::NotZeek(reason))) => {
                    if self.reported.insert(path.clone()) {
                        not_zeek.add(path, reason);
                    }
                    self.settle_unshipped(key, len);
                    continue;
                }
                Ok(Err(e)) => {
                    tracing::error!("{}: cannot read: {e}", path.display());
                    self.worker.progress.errors.fetch_add(1, Relaxed);
                    self.settle_unshipped(key, len);
                    continue;
                }
                Err(e) => {
                    tracing::error!("{}: {e}", path.display());
                    continue;
                }
            };
            if self.busy.contains(&identity.fingerprint) {
                // The same content under another name: resume from where that worker stops.
                self.deferred.push(path.clone());
                continue;
            }
            let resume = self
                .worker
                .state
                .get(&identity.fingerprint)
                .map(|p| p.resume())
                .unwrap_or_default();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let job = Job {
                path: path.clone(),
                key,
                resume,
                follow: !once && is_live_name(name),
                accept_cut_gzip,
                identity,
            };
            let fingerprint = job.identity.fingerprint;
            self.busy.insert(fingerprint);
            self.seen.insert(key, Seen::Active);
            let worker = self.worker.clone();
            self.workers.spawn(async move {
                let ended = worker.ship_file(&job).await;
                (job.key, fingerprint, ended)
            });
        }
        not_zeek.warn();
        if full {
            // Forget files that are gone, so the map stays as small as the directory.
            self.seen
                .retain(|key, seen| present.contains(key) || matches!(seen, Seen::Active));
        }
    }

    /// A file with nothing to ship: counted as read for the progress bar.
    fn settle_unshipped(&mut self, key: FileKey, len: u64) {
        if self.config().once {
            self.worker.progress.bytes_done.fetch_add(len, Relaxed);
        }
        self.seen.insert(key, Seen::Settled { len });
    }
}

impl Worker {
    fn limits(&self) -> Limits {
        Limits {
            batch_lines: self.config.batch_lines,
            batch_bytes: self.config.batch_bytes,
            max_line_bytes: self.config.max_line_bytes,
        }
    }

    /// Ships one file from its resume point until its end (or, when followed, until it is
    /// rotated away, truncated, or the run stops).
    async fn ship_file(&self, job: &Job) -> Ended {
        let mut shutdown = self.shutdown.clone();
        // Followed live logs are few and must not wait; archives and imports take turns.
        let _slot = if job.follow {
            None
        } else {
            tokio::select! {
                slot = self.slots.acquire() => slot.ok(),
                () = cancelled(&mut shutdown) => return Ended::Shutdown,
            }
        };
        let opened = {
            let (path, format, resume) =
                (job.path.clone(), job.identity.format, job.resume.clone());
            tokio::task::spawn_blocking(move || LogSource::open(&path, format, resume)).await
        };
        let mut source = match opened {
            Ok(Ok(source)) => source,
            Ok(Err(e)) if e.kind() == io::ErrorKind::InvalidData => {
                tracing::warn!("{}: {e}; shipping it from the start", job.path.display());
                return Ended::Truncated;
            }
            Ok(Err(e)) => return self.failed(job, &e),
            Err(e) => return self.failed(job, &io::Error::other(e)),
        };
        let mut batch = Batch::new();
        let mut raw_seen = 0;
        let mut rotated_away = false;
        // The size at the last check that the file still starts with the same content.
        let mut checked_len = 0;
        loop {
            if *shutdown.borrow() {
                return Ended::Shutdown;
            }
            let limits = self.limits();
            let (returned_source, returned_batch, filled) =
                tokio::task::spawn_blocking(move || {
                    let filled = source.fill(&mut batch, limits);
                    (source, batch, filled)
                })
                .await
                .expect("reading a log file does not panic");
            source = returned_source;
            batch = returned_batch;
            let raw = source.raw_bytes();
            self.progress.bytes_done.fetch_add(raw - raw_seen, Relaxed);
            raw_seen = raw;
            for skipped in source.take_skipped() {
                tracing::error!(
                    "{}:{}: {}; skipped",
                    job.path.display(),
                    skipped.line,
                    skipped.reason
                );
                self.progress.errors.fetch_add(1, Relaxed);
            }
            let stop = match filled {
                Ok(stop) => stop,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    // A gzip member cut short: ship what was complete, then wait or give up.
                    if let Err(ended) = self.ship(job, &mut batch).await {
                        return ended;
                    }
                    if job.accept_cut_gzip {
                        tracing::error!(
                            "{}: compressed data ends early after line {}; the rest is lost",
                            job.path.display(),
                            source.line()
                        );
                        self.progress.errors.fetch_add(1, Relaxed);
                        return Ended::Done {
                            len: file_len(&source),
                        };
                    }
                    return Ended::IncompleteGzip {
                        len: file_len(&source),
                    };
                }
                Err(e) => {
                    if let Err(ended) = self.ship(job, &mut batch).await {
                        return ended;
                    }
                    return self.failed(job, &e);
                }
            };
            if stop != FillStop::Eof {
                if let Err(ended) = self.ship(job, &mut batch).await {
                    return ended;
                }
                continue;
            }
            let at_end = !job.follow || rotated_away;
            let old_enough = batch
                .started()
                .is_some_and(|t| t.elapsed() >= self.config.batch_max_age);
            if !batch.is_empty() && (at_end || old_enough) {
                if let Err(ended) = self.ship(job, &mut batch).await {
                    return ended;
                }
                continue;
            }
            if at_end {
                if source.pending_partial() > 0 {
                    tracing::warn!(
                        "{}: ends with an incomplete line ({} bytes) that was not shipped",
                        job.path.display(),
                        source.pending_partial()
                    );
                }
                return Ended::Done {
                    len: file_len(&source),
                };
            }
            // Followed and caught up: has Zeek rotated, replaced or truncated it?
            let len = file_len(&source);
            if len < source.offset() + source.pending_partial() as u64 {
                tracing::warn!(
                    "{}: truncated to {len} bytes; reading it again from the start",
                    job.path.display()
                );
                return Ended::Truncated;
            }
            if len != checked_len {
                checked_len = len;
                if !self.same_content(job, &source) {
                    tracing::warn!(
                        "{}: rewritten in place; reading it again from the start",
                        job.path.display()
                    );
                    return Ended::Truncated;
                }
            }
            let still_there = std::fs::metadata(&job.path).is_ok_and(|m| file_key(&m) == job.key);
            // One more read after the rotation catches lines written just before it.
            rotated_away = !still_there;
            let wait = match batch.started() {
                Some(t) => self
                    .config
                    .batch_max_age
                    .saturating_sub(t.elapsed())
                    .min(self.config.poll_interval),
                None => self.config.poll_interval,
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = cancelled(&mut shutdown) => return Ended::Shutdown,
            }
        }
    }

    /// Sends the batch and saves the progress of every accepted part; empties the batch.
    async fn ship(&self, job: &Job, batch: &mut Batch) -> Result<(), Ended> {
        if batch.is_empty() {
            return Ok(());
        }
        let header = batch
            .header()
            .map(|h| String::from_utf8_lossy(h).into_owned());
        let commit = |position: Position| {
            self.state.commit(
                job.identity.fingerprint,
                FileProgress {
                    offset: position.offset,
                    line: position.line,
                    header: header.clone(),
                    path: job.path.clone(),
                    updated: unix_now(),
                },
            );
        };
        let sent = self
            .shipper
            .send(&job.identity.log_type, batch, &job.path, commit)
            .await;
        batch.clear();
        match sent {
            Ok(_) => Ok(()),
            Err(Stopped::Shutdown) => Err(Ended::Shutdown),
            Err(Stopped::Fatal(e)) => Err(Ended::Fatal(e)),
        }
    }

    /// Whether the open file still starts as it did when it was identified.
    fn same_content(&self, job: &Job, source: &LogSource) -> bool {
        let name = job.path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        match probe_open_file(source.file(), name) {
            Ok(Probe::Log(identity)) => identity.fingerprint == job.identity.fingerprint,
            Ok(_) => false,
            // Unreadable now: keep going, a real problem shows up in the next read.
            Err(_) => true,
        }
    }

    fn failed(&self, job: &Job, error: &io::Error) -> Ended {
        tracing::error!("{}: {error}; will retry if it changes", job.path.display());
        self.progress.errors.fetch_add(1, Relaxed);
        Ended::Failed {
            len: std::fs::metadata(&job.path).map_or(0, |m| m.len()),
        }
    }
}

fn file_len(source: &LogSource) -> u64 {
    source.file().metadata().map_or(0, |m| m.len())
}
