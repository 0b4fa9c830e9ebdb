//! Checks a store against the Zeek logs it was fed: the verdict of `scripts/chaos.sh`.
//!
//! ```text
//! cargo run --release --example chaos_check -- --source ../shared/data/zeek/rita-missing-host \
//!     --store redis://127.0.0.1:6379/0 [--bucket-secs 10] [--wait-secs 300] \
//!     [--server-kills S --redis-restarts R --collector-kills C]
//! ```
//!
//! It reads every log under `--source` with the core reader and plugins (what a server would
//! hold had it read the files itself), waits until the store holds as many connections as the
//! source has (or `--wait-secs` pass), then compares:
//! - every conn uid of the source is stored exactly once, and nothing else is;
//! - every stored connection equals the source's, and carries exactly the source's detail
//!   records (none missing, none twice);
//! - the histogram totals equal the source's connection count and byte sum.
//!
//! Its last line is `faults: …; records: N sent, N stored, L lost, D duplicated`, and it exits
//! with an error unless nothing was lost, duplicated or different.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use futures_util::{StreamExt, TryStreamExt};
use wiredraw_core::Contribution;
use wiredraw_core::plugin::Registry;
use wiredraw_core::zeek::LogReader;
use wiredraw_net::store::{MemoryStore, Store, TimeRange, Window};

#[derive(Parser, Debug)]
#[command(about = "Compare a wiredraw store with the Zeek logs it was fed")]
struct Args {
    /// Folder of the Zeek logs that were shipped (read recursively, plain or .gz).
    #[arg(long)]
    source: PathBuf,
    /// The store to check: a redis:// URL.
    #[arg(long)]
    store: String,
    /// The bucket width the server used.
    #[arg(long, default_value_t = 10)]
    bucket_secs: u64,
    /// How long to wait for the store to catch up before judging it.
    #[arg(long, default_value_t = 300)]
    wait_secs: u64,
    /// Faults the run injected, for the last line.
    #[arg(long, default_value_t = 0)]
    server_kills: u32,
    #[arg(long, default_value_t = 0)]
    redis_restarts: u32,
    #[arg(long, default_value_t = 0)]
    collector_kills: u32,
}

/// What the source holds, read directly.
struct Source {
    /// The source's connections and details, stored by the same rules as the server's.
    reference: Arc<dyn Store>,
    /// Distinct conn uids (the first record of each, as the store keeps it).
    uids: Vec<String>,
    conn_records: u64,
    detail_records: u64,
    records: u64,
    read_errors: u64,
    /// Sum of `orig_bytes + resp_bytes` over the distinct connections.
    bytes: u64,
}

fn log_files(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            log_files(&path, out)?;
        } else {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            // zeekctl's conn-summary files are text reports, not Zeek logs.
            if name.contains(".log") && !name.starts_with("conn-summary") {
                out.push(path);
            }
        }
    }
    Ok(())
}

async fn read_source(dir: &Path, bucket_secs: u64) -> anyhow::Result<Source> {
    let mut paths = Vec::new();
    log_files(dir, &mut paths)?;
    paths.sort();
    let registry = Registry::with_builtins();
    let reference: Arc<dyn Store> = Arc::new(MemoryStore::new(bucket_secs)?);
    let mut seen = HashSet::new();
    let mut source = Source {
        reference: reference.clone(),
        uids: Vec::new(),
        conn_records: 0,
        detail_records: 0,
        records: 0,
        read_errors: 0,
        bytes: 0,
    };
    for path in &paths {
        let mut contribution = Contribution::default();
        let reader =
            LogReader::open(path).with_context(|| format!("opening {}", path.display()))?;
        for item in reader {
            match item {
                Ok(record) => {
                    source.records += 1;
                    if let Err(error) = registry.contribute(&record, &mut contribution) {
                        eprintln!("{}:{}: {error}", path.display(), record.line);
                    }
                }
                Err(error) => {
                    source.read_errors += 1;
                    eprintln!("{error}");
                }
            }
        }
        source.conn_records += contribution.connections.len() as u64;
        source.detail_records += contribution.details.len() as u64;
        for conn in &contribution.connections {
            if seen.insert(conn.uid.to_string()) {
                source.uids.push(conn.uid.to_string());
                source.bytes += conn.total_bytes();
            }
        }
        let report = reference.ingest(&contribution).await?;
        anyhow::ensure!(
            report.rejected.is_empty(),
            "{}: the reference store refused {:?}",
            path.display(),
            report.rejected
        );
    }
    Ok(source)
}

/// The window of whole buckets over everything the store holds: a connection counts in the
/// histogram bin holding the start of its first bucket, which may be before its `ts`.
fn whole_buckets(range: TimeRange, b: f64) -> (f64, f64) {
    (
        (range.first / b).floor() * b,
        (range.last / b).floor() * b + b,
    )
}

/// Connections and bytes the store's histogram counts over everything it holds.
async fn histogram_totals(store: &Arc<dyn Store>, b: f64) -> anyhow::Result<(u64, u64)> {
    let Some(range) = store.range().await? else {
        return Ok((0, 0));
    };
    let (from, to) = whole_buckets(range, b);
    let bins = store.histogram(from, to, 100).await?;
    Ok(bins
        .iter()
        .fold((0, 0), |(c, b), bin| (c + bin.conns, b + bin.bytes)))
}

/// Waits until the store's histogram counts `want` connections and has stopped changing, or
/// the deadline passes. Store errors (Redis restarting) are waited out too.
async fn wait_for(store: &Arc<dyn Store>, b: f64, want: u64, deadline: Instant) {
    let mut last = None;
    while Instant::now() < deadline {
        match histogram_totals(store, b).await {
            Ok(now) if now.0 >= want && last == Some(now) => return,
            Ok(now) => {
                if last != Some(now) {
                    eprintln!("chaos_check: store holds {} of {want} connections", now.0);
                }
                last = Some(now);
            }
            Err(error) => eprintln!("chaos_check: store not answering yet: {error}"),
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// How one uid's stored state compares with the source's.
#[derive(Default)]
struct UidVerdict {
    /// 1 if the connection is stored.
    conns_stored: u64,
    /// 1 if the stored connection differs from the source's.
    conns_different: u64,
    details_expected: u64,
    details_stored: u64,
    details_missing: u64,
    details_extra: u64,
}

async fn compare_uid(
    reference: &Arc<dyn Store>,
    store: &Arc<dyn Store>,
    uid: &str,
) -> anyhow::Result<UidVerdict> {
    let want = reference
        .connection(uid)
        .await?
        .context("the reference lost a uid")?;
    let mut verdict = UidVerdict {
        details_expected: want.details.values().map(|v| v.len() as u64).sum(),
        ..UidVerdict::default()
    };
    let Some(got) = store.connection(uid).await? else {
        eprintln!("uid {uid}: connection missing");
        verdict.details_missing = verdict.details_expected;
        return Ok(verdict);
    };
    verdict.conns_stored = 1;
    if got.connection != want.connection {
        verdict.conns_different = 1;
        eprintln!(
            "uid {uid}: stored {:?}, source {:?}",
            got.connection, want.connection
        );
    }
    let count = |details: &BTreeMap<String, Vec<serde_json::Value>>| {
        let mut counts: BTreeMap<String, i64> = BTreeMap::new();
        for (log_type, records) in details {
            for record in records {
                *counts.entry(format!("{log_type}\t{record}")).or_default() += 1;
            }
        }
        counts
    };
    let mut balance = count(&want.details);
    for (key, n) in count(&got.details) {
        verdict.details_stored += n as u64;
        *balance.entry(key).or_default() -= n;
    }
    for (key, n) in balance {
        if n > 0 {
            verdict.details_missing += n as u64;
            eprintln!("uid {uid}: detail missing {n}x: {key}");
        } else if n < 0 {
            verdict.details_extra += (-n) as u64;
            eprintln!("uid {uid}: detail extra {}x: {key}", -n);
        }
    }
    Ok(verdict)
}

/// The store compared with the source.
struct Judgement {
    want_conns: u64,
    conns_stored: u64,
    conns_different: u64,
    listed: u64,
    unlisted: u64,
    listed_twice: u64,
    foreign: u64,
    details_expected: u64,
    details_stored: u64,
    details_missing: u64,
    details_extra: u64,
    hist_conns: u64,
    hist_bytes: u64,
    bins_equal: bool,
}

impl Judgement {
    fn lost(&self) -> u64 {
        (self.want_conns - self.conns_stored) + self.details_missing
    }

    fn duplicated(&self) -> u64 {
        self.listed_twice + self.details_extra
    }

    fn exact(&self, source: &Source) -> bool {
        self.lost() == 0
            && self.duplicated() == 0
            && self.foreign == 0
            && self.unlisted == 0
            && self.conns_different == 0
            && self.hist_conns == self.want_conns
            && self.hist_bytes == source.bytes
            && self.bins_equal
    }
}

async fn judge(source: &Source, store: &Arc<dyn Store>, b: f64) -> anyhow::Result<Judgement> {
    let (hist_conns, hist_bytes) = histogram_totals(store, b).await?;
    // Every stored connection, to find uids held twice or not from the source.
    let range = store.range().await?.context("the store is empty")?;
    let (from, to) = whole_buckets(range, b);
    let listed = store.connections(Window::Between { from, to }).await?;
    let mut listed_counts: HashMap<&str, u64> = HashMap::with_capacity(listed.len());
    for conn in &listed {
        *listed_counts.entry(conn.uid.as_str()).or_default() += 1;
    }
    let source_uids: HashSet<&str> = source.uids.iter().map(String::as_str).collect();

    let verdicts: Vec<UidVerdict> = futures_util::stream::iter(source.uids.iter())
        .map(|uid| compare_uid(&source.reference, store, uid))
        .buffer_unordered(32)
        .try_collect()
        .await?;
    let sum = |f: fn(&UidVerdict) -> u64| verdicts.iter().map(f).sum::<u64>();
    let reference_bins = source.reference.histogram(from, to, 72).await?;
    let stored_bins = store.histogram(from, to, 72).await?;
    Ok(Judgement {
        want_conns: source.uids.len() as u64,
        conns_stored: sum(|v| v.conns_stored),
        conns_different: sum(|v| v.conns_different),
        listed: listed.len() as u64,
        unlisted: source
            .uids
            .iter()
            .filter(|uid| !listed_counts.contains_key(uid.as_str()))
            .count() as u64,
        listed_twice: listed_counts.values().map(|n| n.saturating_sub(1)).sum(),
        foreign: listed_counts
            .keys()
            .filter(|uid| !source_uids.contains(*uid))
            .count() as u64,
        details_expected: sum(|v| v.details_expected),
        details_stored: sum(|v| v.details_stored),
        details_missing: sum(|v| v.details_missing),
        details_extra: sum(|v| v.details_extra),
        hist_conns,
        hist_bytes,
        bins_equal: reference_bins == stored_bins,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    let source = read_source(&args.source, args.bucket_secs).await?;
    eprintln!(
        "chaos_check: source has {} records ({} read errors): {} conn records, {} distinct uids, \
         {} detail records, {} bytes (read in {:.1} s)",
        source.records,
        source.read_errors,
        source.conn_records,
        source.uids.len(),
        source.detail_records,
        source.bytes,
        started.elapsed().as_secs_f64()
    );
    let store = wiredraw_net::store::open(&args.store, args.bucket_secs)?;
    let deadline = Instant::now() + Duration::from_secs(args.wait_secs);
    let b = args.bucket_secs as f64;
    // Details may still be on their way when the connections are all in: judge again until
    // the store is exact or the time is up.
    let j = loop {
        wait_for(&store, b, source.uids.len() as u64, deadline).await;
        let judged = judge(&source, &store, b).await;
        match judged {
            Ok(j) if j.exact(&source) || Instant::now() >= deadline => break j,
            Ok(j) => eprintln!(
                "chaos_check: not exact yet ({} lost, {} duplicated); judging again",
                j.lost(),
                j.duplicated()
            ),
            Err(error) if Instant::now() >= deadline => return Err(error),
            Err(error) => eprintln!("chaos_check: cannot judge yet: {error:#}"),
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    };

    println!(
        "connections: {} in the source, {} stored, {} listed over the whole range ({} source \
         uids not listed, {} listed twice, {} not from the source), {} different from the source",
        j.want_conns,
        j.conns_stored,
        j.listed,
        j.unlisted,
        j.listed_twice,
        j.foreign,
        j.conns_different
    );
    println!(
        "details: {} attached in the source, {} stored, {} missing, {} extra",
        j.details_expected, j.details_stored, j.details_missing, j.details_extra
    );
    println!(
        "histogram: {} connections and {} bytes stored, source {} and {}; hourly bins {}",
        j.hist_conns,
        j.hist_bytes,
        j.want_conns,
        source.bytes,
        if j.bins_equal { "equal" } else { "DIFFER" }
    );
    println!(
        "faults: {} server kills, {} redis restarts, {} collector kills; records: {} sent, \
         {} stored, {} lost, {} duplicated",
        args.server_kills,
        args.redis_restarts,
        args.collector_kills,
        j.want_conns + j.details_expected,
        j.conns_stored + j.details_stored - j.details_extra,
        j.lost(),
        j.duplicated()
    );
    if !j.exact(&source) {
        bail!("the store does not hold exactly what the source sent");
    }
    Ok(())
}
