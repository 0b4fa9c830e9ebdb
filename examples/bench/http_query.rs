//! `bench http-query --store memory|redis|redis://HOST:PORT [--conns N] [--hosts H] [--iters I] [--batch N] [--parallel N] [INGEST_FILE...]`
//!
//! Starts the wiredraw server in this process on a loopback port, posts one bucket of `--conns`
//! connections (default 10,000, between `--hosts` addresses, default 2,000) through
//! `/logs/conn`, then times `GET /api/graph?t=…` of that bucket `--iters` times (default 200)
//! over HTTP, one request after another as a viewer does. When INGEST_FILEs are given, they are
//! posted collector-style (see `http-ingest`) the whole time the queries run, so the latency is
//! measured under ingest load.
//!
//! Prints `{"bench":"http-query","store":…,"conns":N,"nodes":…,"edges":…,"p50_ms":…,"p99_ms":…,
//! "ingest_records_per_sec":…}`.

use super::http_ingest::{post_all, posts, start_server};
use super::ingest::{flag, open_store};
use anyhow::{Context, bail};
use bytes::Bytes;
use std::fmt::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use wiredraw_net::api::IngestResponse;
use wiredraw_net::client::{ApiClient, Span};
use wiredraw_net::http_client::HttpClient;

/// Start of the measured bucket (2023-11-14 22:13:20 UTC), away from the rita sample's days.
const T: f64 = 1_700_000_000.0;
/// Options that take a value.
const VALUE_FLAGS: &[&str] = &[
    "--store",
    "--conns",
    "--hosts",
    "--iters",
    "--batch",
    "--parallel",
];

/// A conn log of `conns` connections active in the bucket at `T`, between `hosts` addresses.
fn bucket_log(conns: usize, hosts: u32) -> String {
    // A fixed xorshift sequence: the same data every run.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |m: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % m
    };
    let addr = |i: u64| format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255);
    let mut log = String::from(
        "#separator \\x09\n#path\tconn\n\
         #fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\thistory\n\
         #types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tstring\n",
    );
    let servers = u64::from(hosts / 4).max(1);
    for i in 0..conns {
        let client = servers + next(u64::from(hosts) - servers);
        let server = next(servers);
        let ts = T + next(9_000) as f64 / 1000.0;
        // One in fifty lasts hours, so longer-lived index levels are read too.
        let duration = if i % 50 == 0 {
            7200.0
        } else {
            next(5_000) as f64 / 1000.0
        };
        let (service, port) =
            [("http", 80), ("ssl", 443), ("dns", 53), ("-", 22)][next(4) as usize];
        let _ = writeln!(
            log,
            "{ts:.6}\tCq{i}\t{}\t{}\t{}\t{port}\t{}\t{service}\t{duration:.3}\t{}\t{}\tSF\tShADadFf",
            addr(client),
            1024 + next(60_000),
            addr(server),
            if port == 53 { "udp" } else { "tcp" },
            next(10_000),
            next(100_000),
        );
    }
    log
}

fn percentile(sorted_ms: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted_ms.len() as f64).ceil() as usize;
    sorted_ms[rank.clamp(1, sorted_ms.len()) - 1]
}

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let spec =
        flag(args, "--store").context("--store memory|redis|redis://HOST:PORT is required")?;
    let conns: usize = flag(args, "--conns")
        .map_or(Ok(10_000), str::parse)
        .context("--conns")?;
    let hosts: u32 = flag(args, "--hosts")
        .map_or(Ok(2_000), str::parse)
        .context("--hosts")?;
    let iters: usize = flag(args, "--iters")
        .map_or(Ok(200), str::parse)
        .context("--iters")?;
    let batch: usize = flag(args, "--batch")
        .map_or(Ok(5000), str::parse)
        .context("--batch")?;
    let parallel: usize = flag(args, "--parallel")
        .map_or(Ok(2), str::parse)
        .context("--parallel")?;
    if hosts < 4 || iters == 0 {
        bail!("--hosts must be at least 4 and --iters positive");
    }
    let mut files = Vec::new();
    let mut skip = false;
    for arg in args {
        if std::mem::take(&mut skip) {
            continue;
        }
        if VALUE_FLAGS.contains(&arg.as_str()) {
            skip = true;
        } else if !arg.starts_with("--") {
            files.push(arg.as_str());
        }
    }
    let (ingest_posts, _) = posts(&files, batch)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let bench = open_store(spec)?;
    let result = runtime.block_on(async {
        bench.store.health().await?;
        let server = start_server(&bench).await?;
        let collector = HttpClient::new(&server.url)?.with_token(&server.collector_token)?;
        let filled: IngestResponse = collector
            .post_bytes("/logs/conn", Bytes::from(bucket_log(conns, hosts)), false)
            .await?;
        anyhow::ensure!(filled.accepted as usize == conns, "bucket fill: {filled:?}");
        let mut viewer = ApiClient::new(&server.url)?;
        viewer.login(&server.user.0, &server.user.1).await?;

        // Warm-up, then the measured loop, with ingest running beside it when asked for.
        let graph = viewer.graph(Span::At(T + 1.0)).await?;
        for _ in 0..iters.min(20) {
            viewer.graph(Span::At(T + 1.0)).await?;
        }
        let querying = AtomicBool::new(true);
        let ingest = async {
            let started = Instant::now();
            let mut records = 0u64;
            while querying.load(Ordering::Relaxed) && !ingest_posts.is_empty() {
                // Re-posting is idempotent: the store does the full work of checking each record.
                for chunk in ingest_posts.chunks(parallel.max(1) * 4) {
                    if !querying.load(Ordering::Relaxed) {
                        break;
                    }
                    let accepted = post_all(&collector, chunk, parallel, false).await?;
                    records += accepted.iter().map(|(_, n)| n).sum::<u64>();
                }
            }
            Ok::<_, anyhow::Error>((records, started.elapsed().as_secs_f64()))
        };
        let queries = async {
            let mut latencies = Vec::with_capacity(iters);
            for _ in 0..iters {
                let started = Instant::now();
                let answer = viewer.graph(Span::At(T + 1.0)).await?;
                latencies.push(started.elapsed().as_secs_f64() * 1e3);
                anyhow::ensure!(answer.nodes.len() == graph.nodes.len(), "the graph changed");
            }
            querying.store(false, Ordering::Relaxed);
            Ok::<_, anyhow::Error>(latencies)
        };
        let (ingested, latencies) = tokio::join!(ingest, queries);
        Ok::<_, anyhow::Error>((graph, ingested?, latencies?))
    })?;
    let (graph, (ingested, ingest_secs), mut latencies) = result;
    latencies.sort_by(f64::total_cmp);
    println!(
        "{}",
        serde_json::json!({
            "bench": "http-query",
            "store": bench.label,
            "conns": conns,
            "nodes": graph.nodes.len(),
            "edges": graph.edges.len(),
            "iters": iters,
            "p50_ms": percentile(&latencies, 50.0),
            "p99_ms": percentile(&latencies, 99.0),
            "max_ms": latencies.last(),
            "ingest_records": ingested,
            "ingest_records_per_sec": if ingested > 0 { ingested as f64 / ingest_secs } else { 0.0 },
        })
    );
    Ok(())
}
