//! `zeek2json [--type T] [--threads N] PATH...`: prints every record of Zeek logs (TSV or JSON,
//! plain or gzip) as one JSON object per line, in input order; N threads parse and write JSON
//! while this one prints it (`LogReader::map_parallel`).
//!
//! Values are typed (numbers as numbers, sets and vectors as arrays, unset as `null`, times as
//! epoch seconds, addresses normalised); field names are Zeek's dotted ones (`id.orig_h`), plus
//! `_path`. Lines that cannot be read go to stderr as `FILE:LINE: reason` and reading goes on;
//! a summary `N records, M errors` ends stderr. The exit status is 0 unless a file could not be
//! opened. `-` reads standard input; a folder is read whole, every Zeek log in it and below it
//! (`*.log`, `*.json`, plain or gzip) in path order.
//!
//! ```text
//! cargo run --release --example zeek2json -- ../shared/data/zeek/rita-missing-host/2024-04-19/conn.00:00:00-01:00:00.log.gz
//! ```

use anyhow::Context;
use clap::Parser;
use std::io::{BufWriter, ErrorKind, Read, Write};
use std::num::NonZeroUsize;
use std::process::ExitCode;
use wiredraw_core::zeek::{LogReader, decompressed};
use wiredraw_net::collector::list_log_files;

#[derive(Parser)]
#[command(name = "zeek2json", about = "Print Zeek log records as JSON lines")]
struct Args {
    /// Log type of records whose input names none (no `#path`, no `_path`); the default is the
    /// file name's first dot-separated part.
    #[arg(long = "type", value_name = "T")]
    log_type: Option<String>,
    /// Threads that parse (default: one per core); records are written in input order.
    #[arg(long, value_name = "N")]
    threads: Option<NonZeroUsize>,
    /// Zeek logs to read (TSV or JSON, plain or gzip), or folders of them; `-` is standard input.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<String>,
}

/// What reading all inputs came to.
#[derive(Default)]
struct Totals {
    records: u64,
    errors: u64,
    unopened: u64,
}

fn main() -> anyhow::Result<ExitCode> {
    let args = Args::parse();
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut totals = Totals::default();
    let result = run(&args, &mut out, &mut totals).and_then(|()| Ok(out.flush()?));
    match result {
        // A closed pipe (`zeek2json … | head`) is the reader's choice, not an error.
        Err(e) if is_broken_pipe(&e) => return Ok(ExitCode::SUCCESS),
        other => other?,
    }
    eprintln!("{} records, {} errors", totals.records, totals.errors);
    Ok(if totals.unopened > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The inputs the arguments name: each folder replaced by the logs in it and below it.
fn inputs(args: &Args, totals: &mut Totals) -> Vec<String> {
    let mut inputs = Vec::new();
    for path in &args.paths {
        if !std::path::Path::new(path).is_dir() {
            inputs.push(path.clone());
            continue;
        }
        match list_log_files(path.as_ref(), &[]) {
            Ok(logs) => inputs.extend(logs.iter().map(|log| log.display().to_string())),
            Err(e) => {
                eprintln!("{path}: {e}");
                totals.unopened += 1;
                totals.errors += 1;
            }
        }
    }
    inputs
}

fn run(args: &Args, out: &mut impl Write, totals: &mut Totals) -> anyhow::Result<()> {
    for path in &inputs(args, totals) {
        let reader = if path == "-" {
            let input: Box<dyn Read + Send> =
                decompressed(std::io::stdin()).context("reading standard input")?;
            LogReader::new(input, "-", args.log_type.as_deref())
        } else {
            match LogReader::open(path) {
                Ok(reader) => reader,
                Err(e) => {
                    eprintln!("{e}");
                    totals.unopened += 1;
                    totals.errors += 1;
                    continue;
                }
            }
        };
        let reader = match &args.log_type {
            Some(log_type) => reader.with_default_path(log_type),
            None => reader,
        };
        let threads = args
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN));
        // Records become JSON on the threads that read them; this one only writes.
        reader.map_parallel(
            threads,
            |result| match result {
                Ok(record) => {
                    // Room for a conn record's JSON, so it is written without reallocating.
                    let mut json = Vec::with_capacity(1024);
                    Ok(serde_json::to_writer(&mut json, record).map(|()| {
                        json.push(b'\n');
                        json
                    }))
                }
                Err(e) => Err(e.to_string()),
            },
            |line| -> anyhow::Result<()> {
                match line {
                    Ok(json) => {
                        out.write_all(&json?)?;
                        totals.records += 1;
                    }
                    Err(e) => {
                        eprintln!("{e}");
                        totals.errors += 1;
                    }
                }
                Ok(())
            },
        )?;
    }
    Ok(())
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(|e| e.io_error_kind())
                == Some(ErrorKind::BrokenPipe)
    })
}
