//! `bench synth [--hosts N] [--hours H] [--seed S] [--json] [--no-write]`
//!
//! Generates synthetic Zeek logs for `--hosts` workstations (default 200) over `--hours`
//! (default 24) into a temporary folder and times it, writing included; `--no-write` only
//! formats the records (the `Generator` iterator) and discards them.
//!
//! Prints `{"bench":"synth","records":N,"secs":S,"records_per_sec":R,"mb_per_sec":M,...}`.

use clap::Parser;
use std::time::Instant;
use wiredraw_core::synth::{self, Generator, OutputFormat, SynthConfig};

#[derive(Parser)]
#[command(name = "bench synth")]
struct Args {
    #[arg(long, default_value_t = 200)]
    hosts: u32,
    #[arg(long, default_value_t = 24.0)]
    hours: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// NDJSON instead of TSV.
    #[arg(long)]
    json: bool,
    /// Format the records without writing them.
    #[arg(long)]
    no_write: bool,
}

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let args = Args::try_parse_from(
        std::iter::once("bench synth").chain(args.iter().map(String::as_str)),
    )?;
    let config = SynthConfig {
        hosts: args.hosts,
        hours: args.hours,
        seed: args.seed,
        format: if args.json {
            OutputFormat::Json
        } else {
            OutputFormat::Tsv
        },
        ..SynthConfig::default()
    };
    let dir = tempfile::tempdir()?;
    let start = Instant::now();
    let (records, bytes) = if args.no_write {
        Generator::new(&config)?.fold((0u64, 0u64), |(records, bytes), line| {
            (records + 1, bytes + line.text.len() as u64 + 1)
        })
    } else {
        let summary = synth::generate(&config, dir.path())?;
        let bytes = synth::LogKind::ALL
            .iter()
            .map(|log| std::fs::metadata(dir.path().join(log.file_name())).map(|m| m.len()))
            .sum::<Result<u64, _>>()?;
        (summary.total(), bytes)
    };
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "bench": "synth",
            "hosts": args.hosts,
            "hours": args.hours,
            "format": if args.json { "json" } else { "tsv" },
            "write": !args.no_write,
            "records": records,
            "secs": secs,
            "records_per_sec": records as f64 / secs,
            "mb_per_sec": bytes as f64 / 1e6 / secs,
        })
    );
    Ok(())
}
