//! Writes synthetic Zeek logs (conn, dns, http, ssl, files) of a small office.
//!
//! `cargo run --release --example synth -- --out DIR [--hosts N] [--hours H] [--seed S] [--json]
//! [--start EPOCH]`
//!
//! The same arguments always give byte-identical files. Prints one JSON line with the record
//! counts and the generation rate.

use anyhow::Context;
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::time::Instant;
use wiredraw_core::synth::{self, OutputFormat, SynthConfig};

#[derive(Parser)]
#[command(about = "Generate synthetic Zeek logs of a small organisation")]
struct Args {
    /// Folder to write conn.log, dns.log, http.log, ssl.log and files.log into.
    #[arg(long)]
    out: PathBuf,
    /// Number of workstations.
    #[arg(long, default_value_t = 50)]
    hosts: u32,
    /// Length of the simulated time range, in hours.
    #[arg(long, default_value_t = 1.0)]
    hours: f64,
    /// Seed of the random stream.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write NDJSON (Zeek's JSON writer with `_path`) instead of TSV.
    #[arg(long)]
    json: bool,
    /// Start of the range, in seconds since the Unix epoch (default: Monday 2025-01-06 08:00 UTC).
    #[arg(long, default_value_t = synth::DEFAULT_START)]
    start: u64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let config = SynthConfig {
        hosts: args.hosts,
        hours: args.hours,
        seed: args.seed,
        start: args.start,
        format: if args.json {
            OutputFormat::Json
        } else {
            OutputFormat::Tsv
        },
    };
    let bar = ProgressBar::new((args.hours * 3600.0) as u64).with_style(
        ProgressStyle::with_template("{bar:40} {percent:>3}% simulated, {msg} records, ETA {eta}")
            .context("progress bar template")?,
    );
    let began = Instant::now();
    let summary = synth::generate_with_progress(&config, &args.out, |progress| {
        bar.set_position(progress.simulated_secs);
        bar.set_message(progress.written.total().to_string());
    })
    .with_context(|| format!("generating logs into {}", args.out.display()))?;
    bar.finish_and_clear();
    let secs = began.elapsed().as_secs_f64();
    let bytes: u64 = synth::LogKind::ALL
        .iter()
        .filter_map(|log| std::fs::metadata(args.out.join(log.file_name())).ok())
        .map(|meta| meta.len())
        .sum();
    println!(
        "{}",
        serde_json::json!({
            "out": args.out,
            "counts": summary,
            "records": summary.total(),
            "bytes": bytes,
            "secs": secs,
            "records_per_sec": summary.total() as f64 / secs,
            "mb_per_sec": bytes as f64 / 1e6 / secs,
        })
    );
    Ok(())
}
