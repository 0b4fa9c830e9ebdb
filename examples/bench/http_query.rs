//! `bench http-query --store memory|redis|redis://HOST:PORT [--conns N] [--hosts H] [--iters I] [--batch N] [--parallel N] [--viewers V [--hz F] [--secs S]] [INGEST_FILE...]`
//!
//! Starts the wiredraw server in this process on a loopback port, posts one bucket of `--conns`
//! connections (default 10,000, between `--hosts` addresses, default 2,000) through
//! `/logs/conn`, then times `GET /api/graph?t=…` of that bucket over HTTP.
//!
//! - Without `--viewers`: `--iters` requests (default 2,000, so that the p99 is not just the
//!   second-slowest answer) one after another, as one viewer does. When INGEST_FILEs are given, they are posted collector-style (see `http-ingest`) the
//!   whole time the queries run, so the latency is measured under ingest load.
//! - With `--viewers V`: V viewers each poll the graph at `--hz` (default 10) for `--secs`
//!   seconds (default 10) while the INGEST_FILEs are posted flat out (`--parallel` posts in
//!   flight, re-posted in a loop: ingest is idempotent, so the store still checks every record).
//!   Ingest first runs alone for the same time, so its throughput with and without viewers
//!   can be compared.
//!
//! A latency is the time from sending the request to holding the whole answer, which is what
//! the server controls; decoding the 1 MB of JSON into a `GraphResponse` is the client's own
//! work (the viewer does it on its network thread) and is timed apart, as `decode_*`.
//!
//! Prints `{"bench":"http-query","store":…,"conns":N,"nodes":…,"edges":…,"p50_ms":…,"p99_ms":…,
//! "decode_p50_ms":…,"ingest_records_per_sec":…}`; with `--viewers` also `"viewers"`, `"hz"`,
//! `"queries"`, `"late_polls"` (answers slower than one poll period) and
//! `"ingest_records_per_sec_alone"`.

use super::http_ingest::{Post, post_all, posts, start_server};
use super::ingest::{flag, open_store};
use anyhow::{Context, bail};
use bytes::Bytes;
use std::fmt::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use wiredraw_net::api::{GraphResponse, IngestResponse};
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
    "--viewers",
    "--hz",
    "--secs",
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

pub fn percentile(sorted_ms: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted_ms.len() as f64).ceil() as usize;
    sorted_ms[rank.clamp(1, sorted_ms.len()) - 1]
}

/// Posts `posts` over and over, `parallel` in flight, while `running` holds; returns the records
/// accepted and the seconds it ran.
async fn ingest_while(
    collector: &HttpClient,
    posts: &[Post],
    parallel: usize,
    running: &AtomicBool,
) -> anyhow::Result<(u64, f64)> {
    let started = Instant::now();
    let mut records = 0u64;
    while running.load(Ordering::Relaxed) && !posts.is_empty() {
        for chunk in posts.chunks(parallel.max(1) * 4) {
            if !running.load(Ordering::Relaxed) {
                break;
            }
            let accepted = post_all(collector, chunk, parallel, false).await?;
            records += accepted.iter().map(|(_, n)| n).sum::<u64>();
        }
    }
    Ok((records, started.elapsed().as_secs_f64()))
}

fn rate(records: u64, secs: f64) -> f64 {
    if records > 0 {
        records as f64 / secs
    } else {
        0.0
    }
}

/// One `GET /api/graph` of the measured bucket: milliseconds until the whole answer is here,
/// then milliseconds to decode it (checked to still hold `nodes` nodes).
async fn fetch_graph(viewer: &ApiClient, nodes: usize) -> anyhow::Result<(f64, f64)> {
    let started = Instant::now();
    let body = viewer
        .http()
        .get_bytes(&format!("/api/graph?t={}", T + 1.0))
        .await?;
    let received = started.elapsed().as_secs_f64() * 1e3;
    let decoding = Instant::now();
    let answer: GraphResponse = serde_json::from_slice(&body)?;
    let decoded = decoding.elapsed().as_secs_f64() * 1e3;
    anyhow::ensure!(answer.nodes.len() == nodes, "the graph changed");
    Ok((received, decoded))
}

/// `viewers` viewers polling the graph at `hz` for `secs`, side by side; returns every
/// poll's [`fetch_graph`] timings.
async fn poll_graph(
    viewer: &ApiClient,
    viewers: usize,
    hz: f64,
    secs: f64,
    nodes: usize,
) -> anyhow::Result<Vec<(f64, f64)>> {
    let period = Duration::from_secs_f64(1.0 / hz);
    let until = Instant::now() + Duration::from_secs_f64(secs);
    let polls = (0..viewers).map(|i| {
        let viewer = viewer.clone();
        async move {
            // Spread the viewers over the period, as independent screens would be.
            tokio::time::sleep(period.mul_f64(i as f64 / viewers as f64)).await;
            let mut ticks = tokio::time::interval(period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut latencies = Vec::new();
            while Instant::now() < until {
                ticks.tick().await;
                latencies.push(fetch_graph(&viewer, nodes).await?);
            }
            Ok::<_, anyhow::Error>(latencies)
        }
    });
    let all = futures_util::future::try_join_all(polls).await?;
    Ok(all.into_iter().flatten().collect())
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
        .map_or(Ok(2000), str::parse)
        .context("--iters")?;
    let batch: usize = flag(args, "--batch")
        .map_or(Ok(5000), str::parse)
        .context("--batch")?;
    let parallel: usize = flag(args, "--parallel")
        .map_or(Ok(2), str::parse)
        .context("--parallel")?;
    let viewers: usize = flag(args, "--viewers")
        .map_or(Ok(0), str::parse)
        .context("--viewers")?;
    let hz: f64 = flag(args, "--hz")
        .map_or(Ok(10.0), str::parse)
        .context("--hz")?;
    let secs: f64 = flag(args, "--secs")
        .map_or(Ok(10.0), str::parse)
        .context("--secs")?;
    if hosts < 4 || iters == 0 {
        bail!("--hosts must be at least 4 and --iters positive");
    }
    if !(hz > 0.0 && secs > 0.0) {
        bail!("--hz and --secs must be positive");
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
        if viewers > 0 {
            let alone = {
                let running = AtomicBool::new(true);
                let stop = async {
                    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
                    running.store(false, Ordering::Relaxed);
                };
                let ingest = ingest_while(&collector, &ingest_posts, parallel, &running);
                tokio::join!(stop, ingest).1?
            };
            let running = AtomicBool::new(true);
            let polls = async {
                let latencies = poll_graph(&viewer, viewers, hz, secs, graph.nodes.len()).await;
                running.store(false, Ordering::Relaxed);
                latencies
            };
            let ingest = ingest_while(&collector, &ingest_posts, parallel, &running);
            let (latencies, beside) = tokio::join!(polls, ingest);
            return Ok((graph, beside?, latencies?, Some(alone)));
        }
        let querying = AtomicBool::new(true);
        let ingest = ingest_while(&collector, &ingest_posts, parallel, &querying);
        let queries = async {
            let mut latencies = Vec::with_capacity(iters);
            for _ in 0..iters {
                latencies.push(fetch_graph(&viewer, graph.nodes.len()).await?);
            }
            querying.store(false, Ordering::Relaxed);
            Ok::<_, anyhow::Error>(latencies)
        };
        let (ingested, latencies) = tokio::join!(ingest, queries);
        Ok::<_, anyhow::Error>((graph, ingested?, latencies?, None))
    })?;
    let (graph, (ingested, ingest_secs), timings, alone) = result;
    let (mut latencies, mut decodes): (Vec<f64>, Vec<f64>) = timings.into_iter().unzip();
    latencies.sort_by(f64::total_cmp);
    decodes.sort_by(f64::total_cmp);
    let mut line = serde_json::json!({
        "bench": "http-query",
        "store": bench.label,
        "conns": conns,
        "nodes": graph.nodes.len(),
        "edges": graph.edges.len(),
        "iters": iters,
        "p50_ms": percentile(&latencies, 50.0),
        "p99_ms": percentile(&latencies, 99.0),
        "max_ms": latencies.last(),
        "decode_p50_ms": percentile(&decodes, 50.0),
        "decode_p99_ms": percentile(&decodes, 99.0),
        "ingest_records": ingested,
        "ingest_records_per_sec": rate(ingested, ingest_secs),
    });
    if let Some((alone_records, alone_secs)) = alone {
        let period_ms = 1e3 / hz;
        line["iters"] = serde_json::Value::Null;
        line["viewers"] = viewers.into();
        line["hz"] = hz.into();
        line["secs"] = secs.into();
        line["queries"] = latencies.len().into();
        line["late_polls"] = latencies
            .iter()
            .filter(|&&ms| ms > period_ms)
            .count()
            .into();
        line["ingest_records_per_sec_alone"] = rate(alone_records, alone_secs).into();
    }
    println!("{line}");
    Ok(())
}
