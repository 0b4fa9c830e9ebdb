//! `bench layout [--nodes N] [--edges M] [--steps K] [--warmup W] [--seed S]`
//!
//! Lays out a traffic-shaped graph (`wiredraw_core::layout::sample::traffic_graph`: fans
//! around hubs, a busy core, isolated pairs) of `--nodes` hosts (default 10,000) and `--edges`
//! edges (default 20,000), takes `--warmup` steps (default 20) past the first chaotic moves,
//! then times `--steps` steps (default 20).
//!
//! Prints `{"bench":"layout","nodes":N,"edges":M,"steps":K,"seed":S,"threads":T,
//! "ms_set_graph":…,"ms_per_step":X,"cpu_ms_per_step":C,"mean_displacement":…}`, where `C` is
//! the CPU time of all threads per step: on an idle machine `X` is about `C / T`; on a shared
//! one `X` also counts waiting for a core.
//!
//! `bench layout --zeek DIR [--bucket SECS] [--seed S]` measures stability and quality on real
//! traffic instead: every conn log under DIR (e.g. `../shared/data/zeek/rita-missing-host`) is
//! cut into consecutive buckets of `--bucket` seconds (default 3600), and one layout follows
//! them as the viewer would, warm-started from bucket to bucket and settled in each. Stability
//! is the mean displacement of hosts present in two consecutive settled buckets, as a fraction
//! of the later layout's diameter; quality is the normalised stress (64 pivots) and the edge
//! length coefficient of variation of each settled bucket (see `layout::metrics`). Prints
//! `{"bench":"layout","source":DIR,"buckets":B,"connections":C,"nodes_mean":…,"nodes_max":…,
//! "steps_mean":…,"ms_per_step":X,"stability_mean":…,"stability_max":…,"stress_mean":…,
//! "stress_max":…,"edge_length_cv_mean":…}`.

use anyhow::{Context, ensure};
use clap::Parser;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use wiredraw_core::layout::{Layout, LayoutParams, metrics, sample};
use wiredraw_core::plugin::Conn;
use wiredraw_core::zeek::LogReader;
use wiredraw_core::{Connection, Graph};

#[derive(Parser)]
#[command(name = "bench layout")]
struct Args {
    #[arg(long, default_value_t = 10_000)]
    nodes: usize,
    #[arg(long, default_value_t = 20_000)]
    edges: usize,
    /// Timed steps.
    #[arg(long, default_value_t = 20)]
    steps: usize,
    /// Untimed steps before timing.
    #[arg(long, default_value_t = 20)]
    warmup: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Real traffic instead: a folder of Zeek conn logs, laid out bucket by bucket.
    #[arg(long, value_name = "DIR")]
    zeek: Option<PathBuf>,
    /// Bucket length in seconds, with `--zeek`.
    #[arg(long, default_value_t = 3600.0)]
    bucket: f64,
}

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let args = Args::try_parse_from(
        std::iter::once("bench layout").chain(args.iter().map(String::as_str)),
    )?;
    ensure!(args.steps > 0, "--steps must be positive");
    if let Some(dir) = &args.zeek {
        return real_traffic(dir, args.bucket, args.seed);
    }
    let graph = sample::traffic_graph(args.nodes, args.edges, args.seed);
    let mut layout = Layout::new(LayoutParams::default(), args.seed);
    let start = Instant::now();
    layout.set_graph(&graph);
    let ms_set_graph = start.elapsed().as_secs_f64() * 1000.0;
    for _ in 0..args.warmup {
        layout.step();
    }
    let cpu_before = process_cpu_ms();
    let (per_step, stats) = metrics::time_steps(&mut layout, args.steps);
    let cpu_per_step = cpu_before
        .zip(process_cpu_ms())
        .map(|(before, after)| (after - before) / args.steps as f64);
    println!(
        "{}",
        serde_json::json!({
            "bench": "layout",
            "nodes": graph.nodes.len(),
            "edges": graph.edges.len(),
            "steps": args.steps,
            "seed": args.seed,
            "threads": std::thread::available_parallelism().map_or(1, |n| n.get()),
            "ms_set_graph": ms_set_graph,
            "ms_per_step": per_step.as_secs_f64() * 1000.0,
            "cpu_ms_per_step": cpu_per_step,
            "mean_displacement": stats.mean_displacement,
        })
    );
    Ok(())
}

/// Steps a settling bucket may take at most (the default parameters cool in about 300).
const MAX_STEPS_PER_BUCKET: usize = 3_000;

fn real_traffic(dir: &Path, bucket: f64, seed: u64) -> anyhow::Result<()> {
    ensure!(bucket > 0.0, "--bucket must be positive");
    let connections = read_conn_logs(dir)?;
    ensure!(
        !connections.is_empty(),
        "no conn records under {}",
        dir.display()
    );
    let first = connections
        .iter()
        .map(|c| c.ts)
        .fold(f64::INFINITY, f64::min);
    let last = connections
        .iter()
        .map(Connection::end)
        .fold(f64::NEG_INFINITY, f64::max);
    let start = (first / bucket).floor() * bucket;

    let mut layout = Layout::new(LayoutParams::default(), seed);
    let mut previous = None;
    let (mut buckets, mut steps, mut step_time) = (0usize, 0usize, Duration::ZERO);
    let (mut nodes_total, mut nodes_max) = (0usize, 0usize);
    let mut stability = Vec::new();
    let mut stress = Vec::new();
    let mut edge_cv = Vec::new();
    let mut spread = Vec::new();
    let mut from = start;
    while from <= last {
        let graph = Graph::from_connections(&connections, from, from + bucket);
        from += bucket;
        if graph.nodes.is_empty() {
            continue;
        }
        layout.set_graph(&graph);
        let began = Instant::now();
        let mut taken = 0;
        while !layout.is_converged() && taken < MAX_STEPS_PER_BUCKET {
            layout.step();
            taken += 1;
        }
        step_time += began.elapsed();
        steps += taken;
        buckets += 1;
        nodes_total += graph.nodes.len();
        nodes_max = nodes_max.max(graph.nodes.len());
        let now = layout.snapshot();
        if let Some(before) = &previous {
            let moved = metrics::stability(before, &now);
            if moved.persisting > 0 {
                stability.push(moved.fraction());
            }
        }
        stress.extend(metrics::normalised_stress(&layout, 64));
        edge_cv.extend(metrics::edge_length_cv(&layout));
        spread.extend(metrics::spread(&layout));
        previous = Some(now);
    }
    let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len().max(1) as f64;
    let max = |xs: &[f64]| xs.iter().copied().fold(0.0f64, f64::max);
    println!(
        "{}",
        serde_json::json!({
            "bench": "layout",
            "source": dir.display().to_string(),
            "bucket_secs": bucket,
            "buckets": buckets,
            "connections": connections.len(),
            "nodes_mean": nodes_total as f64 / buckets.max(1) as f64,
            "nodes_max": nodes_max,
            "steps_mean": steps as f64 / buckets.max(1) as f64,
            "ms_per_step": step_time.as_secs_f64() * 1000.0 / steps.max(1) as f64,
            "stability_mean": mean(&stability),
            "stability_max": max(&stability),
            "stress_mean": mean(&stress),
            "stress_max": max(&stress),
            "edge_length_cv_mean": mean(&edge_cv),
            "spread_mean": mean(&spread),
            "spread_max": max(&spread),
        })
    );
    Ok(())
}

/// Every connection of the conn logs (plain or gzip) under `dir`, recursively.
fn read_conn_logs(dir: &Path) -> anyhow::Result<Vec<Connection>> {
    let mut connections = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).with_context(|| folder.display().to_string())? {
            let path = entry?.path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if path.is_dir() {
                folders.push(path);
            } else if name.starts_with("conn.") {
                for record in LogReader::open(&path)?.flatten() {
                    // A conn record without what a connection needs is not drawn.
                    connections.extend(Conn::connection(&record).ok());
                }
            }
        }
    }
    Ok(connections)
}

/// CPU time of this process, all threads, in milliseconds (Linux; `None` elsewhere): on a
/// shared machine it tells the work done from the time spent waiting for a core.
pub fn process_cpu_ms() -> Option<f64> {
    let mut nanos = 0.0;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        nanos += stat.split(' ').next()?.parse::<f64>().ok()?;
    }
    Some(nanos / 1e6)
}
