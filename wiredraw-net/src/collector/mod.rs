//! The collector: ships Zeek logs from a sensor to the wiredraw server, losing nothing, and
//! replays history.
//!
//! **Live mode** ([`Collector`]) follows a Zeek log directory. Each log file gets its own
//! worker that posts raw lines, unparsed, in batches (by line count, size and age) to
//! `/logs/<type>`; every TSV batch starts with its file's header block. Files are known by a
//! fingerprint of their first bytes (which include the `#open` time), so a log keeps its
//! progress when Zeek renames it and when an archiver gzips it: a rotated archive is shipped
//! only for what the live file had not shipped yet. Truncated and replaced files start over,
//! new log types are picked up as they appear. Offsets are saved atomically (temp file, fsync,
//! rename, fsync of the directory) only after the server accepted a batch, so a restart
//! resumes exactly there: delivery is at-least-once, and the server's idempotent ingest makes
//! the result exactly-once. While the server is away the collector retries with capped
//! exponential backoff and jitter, and reads nothing more: the log file is the buffer.
//! With [`CollectorConfig::once`] it ships everything present (recursively, plain or `.gz`)
//! and returns when caught up.
//!
//! **Replay mode** ([`Replayer`]) merges a folder of historic logs in timestamp order and sends
//! each record when its time comes, scaled by a speed factor.
//!
//! ```no_run
//! use std::time::Duration;
//! use wiredraw_net::collector::{Collector, CollectorConfig};
//!
//! # async fn demo() -> Result<(), wiredraw_net::collector::CollectorError> {
//! let token = std::env::var("WIREDRAW_TOKEN").expect("token");
//! let mut config = CollectorConfig::new("http://127.0.0.1:8750", token, "/opt/zeek/logs/current");
//! config.state_path = "/var/lib/wiredraw/collector-state.json".into();
//! config.batch_max_age = Duration::from_millis(500);
//! let collector = Collector::new(config)?;
//! let summary = collector.run(async { tokio::signal::ctrl_c().await.ok(); }).await?;
//! println!("{summary}");
//! # Ok(())
//! # }
//! ```

pub mod backoff;
pub mod batch;
mod live;
pub mod logfile;
pub mod merge;
mod replay;
pub mod ship;
pub mod state;
pub mod timestamp;

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use tokio::sync::watch;

pub use backoff::BackoffPolicy;
pub use live::Collector;
pub use replay::{ReplayConfig, ReplaySummary, Replayer, Speed};

use crate::http_client::{HttpClient, HttpError};

/// Everything a collector run needs. Build it with [`CollectorConfig::new`] and adjust fields.
#[derive(Clone)]
pub struct CollectorConfig {
    /// The server's base URL, `http://host:port`.
    pub server_url: String,
    /// The collector token (sent as a bearer token; never logged).
    pub token: String,
    /// The Zeek log directory, read recursively.
    pub dir: PathBuf,
    /// Where shipped offsets are kept.
    pub state_path: PathBuf,
    /// Most lines in one request.
    pub batch_lines: usize,
    /// Most bytes of lines in one request (the server takes 16 MiB by default).
    pub batch_bytes: usize,
    /// A partial batch is sent once its first line is this old.
    pub batch_max_age: Duration,
    /// Longer lines are skipped and named in the log.
    pub max_line_bytes: usize,
    /// Ship what is present and return when caught up, instead of following the files.
    pub once: bool,
    /// How often files are checked for growth, rotation and new logs.
    pub poll_interval: Duration,
    /// Rotated archives (and with `once`, all files) read at the same time.
    pub parallel_files: usize,
    /// Compress request bodies with gzip.
    pub gzip: bool,
    /// Retry delays while the server is unreachable or failing.
    pub backoff: BackoffPolicy,
    /// Limit for one request.
    pub request_timeout: Duration,
}

impl fmt::Debug for CollectorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CollectorConfig")
            .field("server_url", &self.server_url)
            .field("token", &"<redacted>")
            .field("dir", &self.dir)
            .field("state_path", &self.state_path)
            .field("batch_lines", &self.batch_lines)
            .field("batch_bytes", &self.batch_bytes)
            .field("batch_max_age", &self.batch_max_age)
            .field("once", &self.once)
            .field("poll_interval", &self.poll_interval)
            .field("parallel_files", &self.parallel_files)
            .field("gzip", &self.gzip)
            .finish_non_exhaustive()
    }
}

impl CollectorConfig {
    /// Defaults: state in `<dir>/.wiredraw-collector-state.json`, batches of up to 5,000
    /// lines or 4 MiB or 1 s, gzip on, 200 ms polling.
    pub fn new(
        server_url: impl Into<String>,
        token: impl Into<String>,
        dir: impl Into<PathBuf>,
    ) -> Self {
        let dir = dir.into();
        Self {
            server_url: server_url.into(),
            token: token.into(),
            state_path: dir.join(".wiredraw-collector-state.json"),
            dir,
            batch_lines: 5_000,
            batch_bytes: 4 << 20,
            batch_max_age: Duration::from_secs(1),
            max_line_bytes: 1 << 20,
            once: false,
            poll_interval: Duration::from_millis(200),
            parallel_files: 4,
            gzip: true,
            backoff: BackoffPolicy::default(),
            request_timeout: Duration::from_secs(30),
        }
    }

    fn client(&self) -> Result<HttpClient, CollectorError> {
        Ok(HttpClient::new(&self.server_url)?
            .with_token(&self.token)?
            .with_timeout(self.request_timeout))
    }
}

/// Why a collector run could not go on.
#[derive(Debug, thiserror::Error)]
pub enum CollectorError {
    #[error("the server refused the collector token ({0}); check WIREDRAW_TOKEN or --token-file")]
    Unauthorized(String),
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error(transparent)]
    State(#[from] state::StateError),
    #[error("log directory {path}: {source}")]
    Dir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Config(String),
}

/// Live counters of a run, for progress bars; totals in [`Summary`].
#[derive(Debug, Default)]
pub struct Progress {
    /// Bytes on disk of the files found (with `once`): the progress bar's length.
    pub bytes_total: AtomicU64,
    /// Bytes read from disk so far (compressed bytes for `.gz`), plus files skipped whole.
    pub bytes_done: AtomicU64,
    /// Files read to their end.
    pub files: AtomicU64,
    /// Lines the server accepted.
    pub lines: AtomicU64,
    /// Requests the server accepted.
    pub batches: AtomicU64,
    /// Lines or batches that could not be shipped (rejected, refused, over-long, unreadable).
    pub errors: AtomicU64,
    /// Attempts that failed and were retried.
    pub retries: AtomicU64,
}

impl Progress {
    fn summary(&self, secs: f64) -> Summary {
        Summary {
            files: self.files.load(Relaxed),
            lines: self.lines.load(Relaxed),
            batches: self.batches.load(Relaxed),
            errors: self.errors.load(Relaxed),
            retries: self.retries.load(Relaxed),
            bytes: self.bytes_done.load(Relaxed),
            secs,
        }
    }
}

/// What a collector run did.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub files: u64,
    pub lines: u64,
    pub batches: u64,
    pub errors: u64,
    pub retries: u64,
    pub bytes: u64,
    pub secs: f64,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "files {}, lines {}, batches {}, errors {}, secs {:.2}",
            self.files, self.lines, self.batches, self.errors, self.secs
        )
    }
}

/// Resolves once `shutdown` holds `true` (or its sender is gone).
async fn cancelled(shutdown: &mut watch::Receiver<bool>) {
    // An error means the sender was dropped: nobody can ask for more work.
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// A watch channel that turns `true` when `signal` resolves.
fn shutdown_channel(
    signal: impl Future<Output = ()> + Send + 'static,
) -> (watch::Sender<bool>, watch::Receiver<bool>) {
    let (sender, receiver) = watch::channel(false);
    let trigger = sender.clone();
    tokio::spawn(async move {
        tokio::select! {
            () = signal => { let _ = trigger.send(true); }
            () = trigger.closed() => {}
        }
    });
    (sender, receiver)
}

/// Files under `dir` (recursively, not following directory links) whose names may hold Zeek
/// logs (see [`logfile::is_log_name`]), sorted, leaving out those in `exclude`.
pub fn list_log_files(dir: &std::path::Path, exclude: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = match std::fs::read_dir(&current) {
            Ok(entries) => entries,
            // The top directory must exist; a subdirectory may vanish while we look.
            Err(e) if current != dir && e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let Ok(entry) = entry else { continue };
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() {
                pending.push(path);
            } else if entry.file_name().to_str().is_some_and(logfile::is_log_name)
                && !exclude.contains(&path)
            {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}
