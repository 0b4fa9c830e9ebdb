//! `bench diff [--edges M] [--churn F] [--iters I] [--seed S]`
//!
//! Builds a traffic-shaped graph with `--edges` edges (default 10,000) over half as many hosts,
//! and "the next bucket" with a fraction `--churn` (default 0.05) of its edges dropped, as many
//! changed and as many new; then times `GraphDiff::between` of the two, and `apply`, each
//! `--iters` times (default 200) after a warm-up.
//!
//! Prints `{"bench":"diff","edges":M,"nodes":N,"changes":C,"ms_per_diff":X,
//! "cpu_ms_per_diff":Z,"ms_per_apply":Y}` (`Z`: CPU time, which on a shared machine leaves out
//! waiting for a core).

use anyhow::ensure;
use clap::Parser;
use std::hint::black_box;
use std::time::Instant;
use wiredraw_core::GraphDiff;
use wiredraw_core::layout::sample;

use crate::layout::process_cpu_ms;

#[derive(Parser)]
#[command(name = "bench diff")]
struct Args {
    /// Edges in each graph.
    #[arg(long, default_value_t = 10_000)]
    edges: usize,
    /// Fraction of edges dropped, changed and added between the two graphs.
    #[arg(long, default_value_t = 0.05)]
    churn: f64,
    /// Timed repetitions.
    #[arg(long, default_value_t = 200)]
    iters: u32,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let args =
        Args::try_parse_from(std::iter::once("bench diff").chain(args.iter().map(String::as_str)))?;
    ensure!(args.iters > 0, "--iters must be positive");
    let old = sample::traffic_graph(args.edges / 2, args.edges, args.seed);
    let new = sample::churn(&old, args.churn, args.seed + 1);

    let diff = GraphDiff::between(&old, &new);
    ensure!(
        diff.apply(&old)? == new,
        "diff does not reproduce the new graph"
    );
    for _ in 0..args.iters / 10 {
        black_box(GraphDiff::between(&old, &new));
    }
    let cpu_before = process_cpu_ms();
    let start = Instant::now();
    for _ in 0..args.iters {
        black_box(GraphDiff::between(black_box(&old), black_box(&new)));
    }
    let ms_per_diff = start.elapsed().as_secs_f64() * 1000.0 / f64::from(args.iters);
    let cpu_ms_per_diff = cpu_before
        .zip(process_cpu_ms())
        .map(|(before, after)| (after - before) / f64::from(args.iters));
    let start = Instant::now();
    for _ in 0..args.iters {
        black_box(diff.apply(black_box(&old))?);
    }
    let ms_per_apply = start.elapsed().as_secs_f64() * 1000.0 / f64::from(args.iters);

    println!(
        "{}",
        serde_json::json!({
            "bench": "diff",
            "edges": old.edges.len(),
            "nodes": old.nodes.len(),
            "changes": diff.len(),
            "ms_per_diff": ms_per_diff,
            "cpu_ms_per_diff": cpu_ms_per_diff,
            "ms_per_apply": ms_per_apply,
        })
    );
    Ok(())
}
