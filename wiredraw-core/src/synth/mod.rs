//! Synthetic Zeek logs of a small organisation, for demos, tests and benchmarks.
//!
//! The generator simulates an office: `hosts` workstations in `10.1.0.0/16` whose users arrive
//! between 07:30 and 09:30 UTC on weekdays and browse the web, a DNS resolver (`10.0.0.2`) that
//! forwards to `9.9.9.9`, a file server (`10.0.0.10`), an intranet web server (`10.0.0.20`) and
//! an internet-facing mail server (`10.0.0.25`). It writes what Zeek would log about that
//! traffic to `conn.log`, `dns.log`, `http.log`, `ssl.log`, `files.log`, `notice.log`,
//! `software.log` and `intel.log`, in Zeek 6's default columns, as TSV or NDJSON:
//!
//! - every connection to a named host is preceded by the DNS lookup that resolved it (unless
//!   the client still had the answer cached), and the resolver forwards names it has not cached;
//! - HTTPS sessions have an `ssl.log` record (TLS 1.3, or TLS 1.2 with a validated certificate);
//!   plain HTTP sessions have one `http.log` record per request and one `files.log` record per
//!   body, linked by `uid` and `fuid`;
//! - three incidents to find: an SSH brute force against the mail server from `203.0.113.66`
//!   (from 30 % of the time range), a SYN port scan of the mail server from `198.51.100.23`
//!   (at 55 %), and one workstation beaconing over HTTP to `cdn.update-sync.example`
//!   (`192.0.2.200`) every 300 s ± 30 s for the whole range;
//! - the notices Zeek raises about them (`SSH::Password_Guessing` at the 30th rejected
//!   password, `Scan::Port_Scan` at the 15th port probed), naming hosts, not connections;
//! - the software Zeek sees on the way: the mail server's sshd and the brute forcer's SSH
//!   library, and the beaconing workstation's Internet Explorer 6;
//! - an intel hit on every beacon: the office's threat feed lists the beacon's domain, and Zeek
//!   sees it in the `Host` header (`HTTP::IN_HOST_HEADER`).
//!
//! Internet addresses come only from the ranges reserved for documentation (RFC 5737) and
//! benchmarking (RFC 2544). The output depends only on the [`SynthConfig`]: the same
//! configuration gives byte-identical files (for a given build and platform, since a few
//! distributions use the platform's `ln`/`exp`/`cos`).
//!
//! Records are generated one simulated minute at a time and written as they are released, so
//! memory stays flat however long the range. Each file is in `ts` order. Zeek itself writes a
//! connection when it ends; these logs are ordered by start time instead, which is what a reader
//! sorting by `ts` expects.
//!
//! ```
//! use wiredraw_core::synth::{self, LogKind, SynthConfig};
//!
//! let dir = tempfile::tempdir()?;
//! let config = SynthConfig { hosts: 5, hours: 0.5, ..SynthConfig::default() };
//! let summary = synth::generate(&config, dir.path())?;
//! assert!(summary.count(LogKind::Conn) > 0);
//! let conn = std::fs::read_to_string(dir.path().join("conn.log"))?;
//! assert!(conn.starts_with("#separator \\x09\n"));
//!
//! // The same records without files, in global timestamp order:
//! let first = synth::Generator::new(&config)?.next().expect("some traffic");
//! assert!(first.ts_micros >= config.start * 1_000_000);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod attacks;
mod generator;
mod ids;
mod logs;
mod network;
mod office;
mod rand_util;
mod records;
mod row;

pub use generator::Generator;
pub use logs::LogKind;
pub use records::SynthLine;
pub use row::OutputFormat;

use serde::Serialize;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Simulated time is kept in whole microseconds since the epoch.
const SECOND: u64 = 1_000_000;

/// 2025-01-06 08:00:00 UTC, a Monday morning: the default start, so a short run has traffic.
pub const DEFAULT_START: u64 = 1_736_150_400;

/// The most workstations the office address plan holds.
pub const MAX_HOSTS: u32 = network::MAX_WORKSTATIONS;

/// The longest time range accepted, in hours (a year).
pub const MAX_HOURS: f64 = 24.0 * 366.0;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthConfig {
    /// Number of workstations (the servers and internet hosts come on top).
    pub hosts: u32,
    /// Length of the simulated time range, in hours.
    pub hours: f64,
    /// Seed of the random stream: the output is a function of the whole configuration.
    pub seed: u64,
    /// Start of the time range, in seconds since the Unix epoch.
    pub start: u64,
    /// TSV (Zeek's default) or NDJSON.
    pub format: OutputFormat,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            hosts: 50,
            hours: 1.0,
            seed: 1,
            start: DEFAULT_START,
            format: OutputFormat::Tsv,
        }
    }
}

impl SynthConfig {
    fn validate(&self) -> Result<(), SynthError> {
        if !(1..=MAX_HOSTS).contains(&self.hosts) {
            return Err(SynthError::InvalidConfig(format!(
                "hosts must be between 1 and {MAX_HOSTS}, got {}",
                self.hosts
            )));
        }
        if !(self.hours > 0.0 && self.hours <= MAX_HOURS) {
            return Err(SynthError::InvalidConfig(format!(
                "hours must be above 0 and at most {MAX_HOURS}, got {}",
                self.hours
            )));
        }
        let end = self.start as f64 + self.hours * 3600.0;
        if end * 1e6 >= u64::MAX as f64 / 2.0 {
            return Err(SynthError::InvalidConfig(format!(
                "start {} is too far in the future",
                self.start
            )));
        }
        Ok(())
    }

    /// The time range in microseconds since the epoch: `[start, end)`.
    fn range_micros(&self) -> (u64, u64) {
        let start = self.start * SECOND;
        (
            start,
            start + (self.hours * 3600.0 * SECOND as f64).round() as u64,
        )
    }
}

/// How many records went to each log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SynthSummary {
    /// Records in `conn.log`.
    pub conn: u64,
    /// Records in `dns.log`.
    pub dns: u64,
    /// Records in `http.log`.
    pub http: u64,
    /// Records in `ssl.log`.
    pub ssl: u64,
    /// Records in `files.log`.
    pub files: u64,
    /// Records in `notice.log`.
    pub notice: u64,
    /// Records in `software.log`.
    pub software: u64,
    /// Records in `intel.log`.
    pub intel: u64,
}

impl SynthSummary {
    /// Records in `log`.
    pub fn count(&self, log: LogKind) -> u64 {
        match log {
            LogKind::Conn => self.conn,
            LogKind::Dns => self.dns,
            LogKind::Http => self.http,
            LogKind::Ssl => self.ssl,
            LogKind::Files => self.files,
            LogKind::Notice => self.notice,
            LogKind::Software => self.software,
            LogKind::Intel => self.intel,
        }
    }

    fn count_mut(&mut self, log: LogKind) -> &mut u64 {
        match log {
            LogKind::Conn => &mut self.conn,
            LogKind::Dns => &mut self.dns,
            LogKind::Http => &mut self.http,
            LogKind::Ssl => &mut self.ssl,
            LogKind::Files => &mut self.files,
            LogKind::Notice => &mut self.notice,
            LogKind::Software => &mut self.software,
            LogKind::Intel => &mut self.intel,
        }
    }

    /// Records in all logs together.
    pub fn total(&self) -> u64 {
        LogKind::ALL.iter().map(|&log| self.count(log)).sum()
    }
}

/// How far a [`generate_with_progress`] run has got.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Simulated seconds generated so far, out of `total_secs`.
    pub simulated_secs: u64,
    pub total_secs: u64,
    /// Records written so far.
    pub written: SynthSummary,
}

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// A [`SynthConfig`] value is out of range; the message names it.
    #[error("invalid synth configuration: {0}")]
    InvalidConfig(String),
    /// Creating or writing an output file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Writes the five logs into `out_dir` (created if missing, existing logs replaced).
pub fn generate(config: &SynthConfig, out_dir: &Path) -> Result<SynthSummary, SynthError> {
    generate_with_progress(config, out_dir, |_| {})
}

/// [`generate`], calling `on_progress` after each simulated minute.
pub fn generate_with_progress(
    config: &SynthConfig,
    out_dir: &Path,
    mut on_progress: impl FnMut(&Progress),
) -> Result<SynthSummary, SynthError> {
    let mut generator = Generator::new(config)?;
    let io_error = |path: &Path| {
        let path = path.to_owned();
        move |source| SynthError::Io { path, source }
    };
    std::fs::create_dir_all(out_dir).map_err(io_error(out_dir))?;
    let (start, end) = config.range_micros();
    let (open_secs, close_secs) = (start / SECOND, end.div_ceil(SECOND));

    let mut files = Vec::with_capacity(LogKind::ALL.len());
    for log in LogKind::ALL {
        let path = out_dir.join(log.file_name());
        let file = File::create(&path).map_err(io_error(&path))?;
        let mut writer = BufWriter::with_capacity(256 * 1024, file);
        writer
            .write_all(logs::header(log, config.format, open_secs).as_bytes())
            .map_err(io_error(&path))?;
        files.push((path, writer));
    }

    let mut summary = SynthSummary::default();
    let mut reported = 0;
    let total_secs = (end - start) / SECOND;
    while let Some(line) = generator.next() {
        let (path, writer) = &mut files[line.log.index()];
        writer
            .write_all(line.text.as_bytes())
            .and_then(|()| writer.write_all(b"\n"))
            .map_err(io_error(path))?;
        *summary.count_mut(line.log) += 1;
        let simulated_secs = generator.simulated_micros() / SECOND;
        if simulated_secs >= reported + 60 {
            reported = simulated_secs;
            on_progress(&Progress {
                simulated_secs,
                total_secs,
                written: summary,
            });
        }
    }
    for (path, mut writer) in files {
        writer
            .write_all(logs::footer(config.format, close_secs).as_bytes())
            .and_then(|()| writer.flush())
            .map_err(io_error(&path))?;
    }
    on_progress(&Progress {
        simulated_secs: total_secs,
        total_secs,
        written: summary,
    });
    Ok(summary)
}
