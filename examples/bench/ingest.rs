//! `bench ingest --store memory|redis|redis://HOST:PORT [--batch N] [--parallel N] [--runs N] FILE|DIR...`
//!
//! Reads Zeek logs (files, or directories searched for `*.log` / `*.log.gz`), turns every record
//! into its contribution with the built-in log types, then times only the store ingest of those
//! contributions, in batches of `--batch` records (default 5000, like collector posts) with up to
//! `--parallel` batches in flight (default 4). `--store redis` starts a private `redis-server`;
//! a `redis://` URL is written under a fresh key prefix `wdbench<pid>:`.
//!
//! The ingest is repeated `--runs` times (default 5), each into a fresh empty store, and the
//! median run is reported with every run's rate. The first run into the memory store pays for
//! memory the process has never touched; on a VM that first touch can cost more than the ingest
//! itself (the host backs guest pages lazily), while a server that has been running reuses
//! its heap, which is what the later runs see.
//!
//! Prints `{"bench":"ingest","store":…,"records":N,"secs":S,"records_per_sec":R,"runs":[R…],…}`.

use anyhow::{Context, bail};
use futures_util::{StreamExt, TryStreamExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use wiredraw_core::Contribution;
use wiredraw_core::plugin::Registry;
use wiredraw_core::zeek::LogReader;
use wiredraw_net::store::{DEFAULT_BUCKET_SECS, MemoryStore, RedisConfig, RedisStore, Store};
use wiredraw_net::testkit::RedisServer;

/// A store to measure, and the private server behind it (kept alive while measuring).
pub struct BenchStore {
    pub store: Arc<dyn Store>,
    pub label: String,
    _server: Option<RedisServer>,
}

/// Opens `memory`, `redis` (a private redis-server) or a `redis://` URL (a fresh prefix on each
/// call, `wdbench<pid>.<n>:`).
pub fn open_store(spec: &str) -> anyhow::Result<BenchStore> {
    static OPENED: AtomicUsize = AtomicUsize::new(0);
    let redis = |url: String, server: Option<RedisServer>| -> anyhow::Result<BenchStore> {
        let mut config = RedisConfig::new(url);
        let n = OPENED.fetch_add(1, Ordering::Relaxed);
        config.prefix = format!("wdbench{}.{n}:", std::process::id());
        Ok(BenchStore {
            store: Arc::new(RedisStore::open(config)?),
            label: "redis".into(),
            _server: server,
        })
    };
    match spec {
        "memory" => Ok(BenchStore {
            store: Arc::new(MemoryStore::new(DEFAULT_BUCKET_SECS)?),
            label: "memory".into(),
            _server: None,
        }),
        "redis" => {
            let server = RedisServer::start()?;
            redis(server.url(), Some(server))
        }
        url if url.starts_with("redis://") => redis(url.to_owned(), None),
        other => bail!("--store must be memory, redis or a redis:// URL, not {other:?}"),
    }
}

/// CPU seconds this process has used so far (user + system), where `/proc` tells it. On a
/// shared machine it shows the work done apart from waiting for a core.
pub fn cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split(' ').skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((user + system) / 100.0)
}

/// The value after `--name`, if given.
pub fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

/// The arguments that are neither flags nor the values of `value_flags`.
pub fn positional<'a>(args: &'a [String], value_flags: &[&str]) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut skip = false;
    for arg in args {
        if std::mem::take(&mut skip) {
            continue;
        }
        if value_flags.contains(&arg.as_str()) {
            skip = true;
        } else if !arg.starts_with("--") {
            out.push(arg.as_str());
        }
    }
    out
}

fn log_files(inputs: &[&str]) -> anyhow::Result<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
        for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() {
                walk(&path, out)?;
            } else if (name.ends_with(".log") || name.ends_with(".log.gz"))
                && !name.starts_with("conn-summary")
            {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    for input in inputs {
        let path = Path::new(input);
        if path.is_dir() {
            walk(path, &mut files)?;
        } else {
            files.push(path.to_path_buf());
        }
    }
    files.sort();
    Ok(files)
}

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let spec =
        flag(args, "--store").context("--store memory|redis|redis://HOST:PORT is required")?;
    let batch_records: usize = flag(args, "--batch")
        .map_or(Ok(5000), str::parse)
        .context("--batch")?;
    let parallel: usize = flag(args, "--parallel")
        .map_or(Ok(4), str::parse)
        .context("--parallel")?;
    let runs: usize = flag(args, "--runs")
        .map_or(Ok(5), str::parse)
        .context("--runs")?;
    anyhow::ensure!(runs > 0, "--runs must be at least 1");
    let files = log_files(&positional(
        args,
        &["--store", "--batch", "--parallel", "--runs"],
    ))?;
    if files.is_empty() {
        bail!("no log files given");
    }

    let registry = Registry::with_builtins();
    let mut batches = vec![Contribution::default()];
    let (mut records, mut in_batch, mut skipped) = (0usize, 0usize, 0usize);
    for file in &files {
        let reader = LogReader::open(file)?;
        for record in reader {
            let contributed = record.map_err(|e| e.to_string()).and_then(|r| {
                registry
                    .contribute(&r, batches.last_mut().expect("one batch"))
                    .map_err(|e| e.to_string())
            });
            match contributed {
                Ok(()) => {
                    records += 1;
                    in_batch += 1;
                    if in_batch == batch_records.max(1) {
                        batches.push(Contribution::default());
                        in_batch = 0;
                    }
                }
                Err(_) => skipped += 1,
            }
        }
    }
    let connections: usize = batches.iter().map(|b| b.connections.len()).sum();
    let details: usize = batches.iter().map(|b| b.details.len()).sum();
    let annotations: usize = batches.iter().map(|b| b.annotations.len()).sum();
    eprintln!(
        "parsed {} files: {records} records ({connections} connections, {details} details, \
         {annotations} annotations), {skipped} skipped",
        files.len()
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut measured = Vec::with_capacity(runs);
    let mut label = String::new();
    for _ in 0..runs {
        let bench = open_store(spec)?;
        let store = &*bench.store;
        measured.push(runtime.block_on(async {
            store.health().await?;
            let cpu_before = cpu_secs();
            let started = Instant::now();
            futures_util::stream::iter(batches.iter().map(|batch| store.ingest(batch)))
                .buffer_unordered(parallel.max(1))
                .try_for_each(|_| async { Ok(()) })
                .await?;
            let secs = started.elapsed().as_secs_f64();
            let cpu = cpu_before
                .zip(cpu_secs())
                .map(|(before, after)| after - before);
            let stored = store.range().await?;
            anyhow::ensure!(stored.is_some() || connections == 0, "nothing was stored");
            Ok::<_, anyhow::Error>((secs, cpu))
        })?);
        label = bench.label;
    }
    let rates: Vec<f64> = measured
        .iter()
        .map(|(secs, _)| records as f64 / secs)
        .collect();
    measured.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (secs, cpu) = measured[measured.len() / 2];
    println!(
        "{}",
        serde_json::json!({
            "bench": "ingest",
            "store": label,
            "records": records,
            "connections": connections,
            "details": details,
            "annotations": annotations,
            "secs": secs,
            "records_per_sec": records as f64 / secs,
            "cpu_secs": cpu,
            "runs": rates.iter().map(|r| r.round()).collect::<Vec<_>>(),
        })
    );
    Ok(())
}
