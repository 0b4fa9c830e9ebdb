//! `bench query --store memory|redis|redis://HOST:PORT [--conns N] [--hosts H] [--pairs P] [--iters I]`
//!
//! Fills one bucket with `--conns` active connections (default 10,000) over `--pairs` distinct
//! client→server pairs (default 2,500) drawn from `--hosts` addresses (default 2,000, a quarter
//! of them servers); one in fifty connections is hours long, so the interval index is read too.
//! Then times `graph()` of that bucket `--iters` times (default 200) after a warm-up. The graph
//! has about `--pairs` edges; `--pairs 10000` is the worst case of one edge per connection.
//!
//! Prints `{"bench":"query","store":…,"conns":N,"nodes":…,"edges":…,"p50_ms":…,"p99_ms":…,…}`
//! (wall times; `thread_cpu_*` is the querying thread's CPU time, see [`thread_cpu_ms`]).

use super::ingest::{flag, open_store};
use anyhow::Context;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;
use wiredraw_core::{Connection, Contribution};
use wiredraw_net::store::Window;

/// Start of the measured bucket (2024-04-19 00:00:00 UTC).
const T: f64 = 1_713_484_800.0;

/// CPU time of the calling thread in milliseconds (Linux), to tell work from waiting for a core
/// on a shared machine. For the memory store a query runs wholly on this thread; for Redis most
/// of the work is elsewhere, so only the wall times mean anything there.
fn thread_cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: f64 = stat.split(' ').next()?.parse().ok()?;
    Some(nanos / 1e6)
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
    let pairs: u64 = flag(args, "--pairs")
        .map_or(Ok(2_500), str::parse)
        .context("--pairs")?;
    let iters: usize = flag(args, "--iters")
        .map_or(Ok(200), str::parse)
        .context("--iters")?;
    anyhow::ensure!(
        hosts >= 4 && iters > 0 && pairs > 0,
        "--hosts must be at least 4, --pairs and --iters positive"
    );

    // A fixed xorshift sequence: the same data every run.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |m: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % m
    };
    let servers = (hosts / 4).max(1);
    let addr = |i: u32| IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i));
    let pair_list: Vec<(IpAddr, IpAddr)> = (0..pairs)
        .map(|_| {
            let client = servers + next((hosts - servers) as u64) as u32;
            (addr(client), addr(next(servers as u64) as u32))
        })
        .collect();
    let batch = Contribution {
        connections: (0..conns)
            .map(|i| {
                let long = i % 50 == 0;
                let ts = if long {
                    T - next(20_000) as f64
                } else {
                    T + next(10_000) as f64 / 1000.0
                };
                let service = ["http", "ssl", "dns", "ssh"][next(4) as usize];
                let (orig_h, resp_h) = pair_list[next(pairs) as usize];
                Connection {
                    uid: format!("Cq{i:08}").into(),
                    ts,
                    duration: Some(if long {
                        30_000.0
                    } else {
                        next(5000) as f64 / 1000.0
                    }),
                    orig_h,
                    orig_p: Some(40_000 + next(20_000) as u16),
                    resp_h,
                    resp_p: Some(443),
                    proto: if service == "dns" {
                        "udp".into()
                    } else {
                        "tcp".into()
                    },
                    service: Some(service.into()),
                    orig_bytes: Some(next(100_000)),
                    resp_bytes: Some(next(1_000_000)),
                    conn_state: Some("SF".into()),
                    history: Some("ShADadFf".into()),
                    packets: None,
                }
            })
            .collect(),
        ..Default::default()
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let bench = open_store(spec)?;
    let store = &*bench.store;
    let (graph, mut times, mut cpu_times) = runtime.block_on(async {
        store.ingest(&batch).await?;
        let window = Window::At(T + 5.0);
        let graph = store.graph(window).await?;
        let active: u64 = graph.edges.iter().map(|e| e.conns).sum();
        anyhow::ensure!(
            active == conns as u64,
            "bucket holds {active} connections, expected {conns}"
        );
        for _ in 0..iters.min(20) {
            store.graph(window).await?;
        }
        let mut times = Vec::with_capacity(iters);
        let mut cpu_times = Vec::with_capacity(iters);
        for _ in 0..iters {
            let cpu_before = thread_cpu_ms();
            let started = Instant::now();
            std::hint::black_box(store.graph(window).await?);
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            if let (Some(before), Some(after)) = (cpu_before, thread_cpu_ms()) {
                cpu_times.push(after - before);
            }
        }
        Ok::<_, anyhow::Error>((graph, times, cpu_times))
    })?;
    let at = |times: &mut Vec<f64>, q: f64| {
        times.sort_by(f64::total_cmp);
        times
            .get(((times.len().max(1) - 1) as f64 * q).round() as usize)
            .copied()
    };
    println!(
        "{}",
        serde_json::json!({
            "bench": "query",
            "store": bench.label,
            "conns": conns,
            "nodes": graph.nodes.len(),
            "edges": graph.edges.len(),
            "iters": iters,
            "mean_ms": times.iter().sum::<f64>() / times.len() as f64,
            "p50_ms": at(&mut times, 0.5),
            "p99_ms": at(&mut times, 0.99),
            "thread_cpu_p50_ms": at(&mut cpu_times, 0.5),
            "thread_cpu_p99_ms": at(&mut cpu_times, 0.99),
        })
    );
    Ok(())
}
