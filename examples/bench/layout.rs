//! `bench layout [--nodes N] [--edges M] [--steps K] [--warmup W] [--seed S]`
//!
//! Lays out a traffic-shaped graph (`wiredraw_core::layout::sample::traffic_graph`: fans
//! around hubs, a busy core, isolated pairs) of `--nodes` hosts (default 10,000) and `--edges`
//! edges (default 20,000), takes `--warmup` steps (default 20) past the first chaotic moves,
//! then times `--steps` steps (default 20).
//!
//! Prints `{"bench":"layout","nodes":N,"edges":M,"steps":K,"seed":S,"threads":T,
//! "ms_set_graph":…,"ms_per_step":X,"mean_displacement":…}`.

use anyhow::ensure;
use clap::Parser;
use std::time::Instant;
use wiredraw_core::layout::{Layout, LayoutParams, metrics, sample};

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
}

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let args = Args::try_parse_from(
        std::iter::once("bench layout").chain(args.iter().map(String::as_str)),
    )?;
    ensure!(args.steps > 0, "--steps must be positive");
    let graph = sample::traffic_graph(args.nodes, args.edges, args.seed);
    let mut layout = Layout::new(LayoutParams::default(), args.seed);
    let start = Instant::now();
    layout.set_graph(&graph);
    let ms_set_graph = start.elapsed().as_secs_f64() * 1000.0;
    for _ in 0..args.warmup {
        layout.step();
    }
    let (per_step, stats) = metrics::time_steps(&mut layout, args.steps);
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
            "mean_displacement": stats.mean_displacement,
        })
    );
    Ok(())
}
