//! Benchmarks that print one JSON line each, for docs/PERFORMANCE.md.
//!
//! `cargo run --release --example bench -- SUBCOMMAND [ARGS…]`. Each subcommand lives in its own
//! file and documents its arguments there.

use anyhow::bail;

mod ingest;
mod query;

type BenchFn = fn(&[String]) -> anyhow::Result<()>;

/// Every subcommand: name, what it measures, entry point.
const BENCHES: &[(&str, &str, BenchFn)] = &[
    ("ingest", "store ingest of parsed Zeek logs (memory or Redis)", ingest::run),
    ("query", "store graph() of one bucket with many connections", query::run),
];

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(name) = args.first() else {
        print_usage();
        bail!("missing subcommand");
    };
    match BENCHES.iter().find(|(n, _, _)| n == name) {
        Some((_, _, run)) => run(&args[1..]),
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
