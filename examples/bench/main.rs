//! Benchmarks that print one JSON line each, for docs/PERFORMANCE.md.
//!
//! `cargo run --release --example bench -- SUBCOMMAND [ARGS…]`. Each subcommand lives in its own
//! file and documents its arguments there.

use anyhow::bail;

mod cluster_ingest;
mod diff;
mod http_ingest;
mod http_query;
mod ingest;
mod layout;
mod notices;
mod parse;
mod query;
mod render;
mod synth;

type BenchFn = fn(&[String]) -> anyhow::Result<()>;

/// Every subcommand: name, what it measures, entry point.
const BENCHES: &[(&str, &str, BenchFn)] = &[
    (
        "parse",
        "typed reading of one Zeek log (TSV or JSON, plain or gzip) on one core",
        parse::run,
    ),
    (
        "ingest",
        "store ingest of parsed Zeek logs (memory or Redis)",
        ingest::run,
    ),
    (
        "query",
        "store graph() of one bucket with many connections",
        query::run,
    ),
    (
        "notices",
        "the viewer's notice queries: a window's newest 200 and the counts per histogram bin",
        notices::run,
    ),
    (
        "layout",
        "one incremental 3D layout step (Barnes-Hut) on a traffic-shaped graph",
        layout::run,
    ),
    (
        "diff",
        "GraphDiff between two traffic-shaped graphs, and applying it",
        diff::run,
    ),
    (
        "http-ingest",
        "collector-style POSTs of Zeek logs to an in-process server, end to end",
        http_ingest::run,
    ),
    (
        "cluster-ingest",
        "ingest through one vs two server processes over a Redis Cluster",
        cluster_ingest::run,
    ),
    (
        "http-query",
        "GET /api/graph latency of a 10k-connection bucket, optionally while ingest runs",
        http_query::run,
    ),
    (
        "synth",
        "synthetic Zeek log generation (records/s, written to a temp folder)",
        synth::run,
    ),
    (
        "render",
        "offscreen frame time of the wgpu graph renderer (spheres + arrows)",
        render::run,
    ),
];

/// mimalloc keeps freed pages for reuse where glibc malloc returns them to the kernel and
/// faults them in again on the next request (docs/PERFORMANCE.md). It also serves the C
/// libraries' malloc (the `override` feature), Mesa's included.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(name) = args.first() else {
        print_usage();
        bail!("missing subcommand");
    };
    if matches!(name.as_str(), "-h" | "--help" | "help") {
        print_usage();
        return Ok(());
    }
    match BENCHES.iter().find(|(n, _, _)| n == name) {
        Some((_, _, run)) => {
            run(&args[1..]).map_err(|error| match error.downcast::<clap::Error>() {
                // Help, or a usage mistake: clap prints it as it prints any program's.
                Ok(clap_error) => clap_error.exit(),
                Err(other) => other,
            })
        }
        None => {
            print_usage();
            bail!("unknown subcommand {name:?}")
        }
    }
}

fn print_usage() {
    eprintln!("usage: bench SUBCOMMAND [ARGS...]\n\nsubcommands:");
    for (name, what, _) in BENCHES {
        eprintln!("  {name:<14} {what}");
    }
}
