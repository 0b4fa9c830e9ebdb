//! `bench parse FILE [--runs N] [--iterator | --threads N [--records]]`: typed reading of one
//! Zeek log (TSV or JSON, plain or gzip) with `LogReader`, best of N runs (default 3).
//!
//! By default it measures the hot-loop API on one core (`read_into`, one reused record);
//! `--iterator` measures the `Iterator` API (a fresh record per line), and `--threads N`
//! `LogReader::map_parallel` on N threads (each record looked at on the thread that read it),
//! or with `--records` `LogReader::for_each_parallel` (whole records handed to the caller's
//! thread). `mb_per_sec` is file bytes as stored over the time; on a `.gz` file the time
//! includes decompression.

use anyhow::{Context, bail};
use std::num::NonZeroUsize;
use std::time::Instant;
use wiredraw_core::Record;
use wiredraw_core::zeek::LogReader;

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let mut file = None;
    let mut runs = 3usize;
    let mut iterator = false;
    let mut threads: Option<NonZeroUsize> = None;
    let mut whole_records = false;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--runs" => {
                let n = rest.next().context("--runs needs a number")?;
                runs = n.parse().with_context(|| format!("--runs {n:?}"))?;
            }
            "--iterator" => iterator = true,
            "--records" => whole_records = true,
            "--threads" => {
                let n = rest.next().context("--threads needs a number")?;
                threads = Some(n.parse().with_context(|| format!("--threads {n:?}"))?);
            }
            other if file.is_none() && !other.starts_with("--") => file = Some(other.to_string()),
            other => bail!("parse: unexpected argument {other:?}"),
        }
    }
    let Some(file) = file else {
        bail!("usage: bench parse FILE [--runs N] [--iterator | --threads N [--records]]");
    };
    let bytes = std::fs::metadata(&file)
        .with_context(|| format!("cannot read {file}"))?
        .len();
    let mut best = f64::INFINITY;
    let mut records = 0u64;
    let mut errors = 0u64;
    for _ in 0..runs.max(1) {
        let mut reader = LogReader::open(&file)?;
        let start = Instant::now();
        (records, errors) = (0, 0);
        if let Some(threads) = threads
            && whole_records
        {
            reader.for_each_parallel(threads, |result| match result {
                Ok(record) => records += u64::from(!record.values.is_empty()),
                Err(_) => errors += 1,
            });
        } else if let Some(threads) = threads {
            let outcome = reader.map_parallel(
                threads,
                |result| result.ok().map(|record| !record.values.is_empty()),
                |filled| {
                    match filled {
                        Some(filled) => records += u64::from(filled),
                        None => errors += 1,
                    }
                    Ok::<(), std::convert::Infallible>(())
                },
            );
            let Ok(()) = outcome;
        } else if iterator {
            for result in reader {
                match result {
                    Ok(record) => records += u64::from(!record.values.is_empty()),
                    Err(_) => errors += 1,
                }
            }
        } else {
            let mut record = Record::default();
            while let Some(result) = reader.read_into(&mut record) {
                match result {
                    Ok(()) => records += u64::from(!record.values.is_empty()),
                    Err(_) => errors += 1,
                }
            }
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    if errors > 0 {
        eprintln!("parse: {errors} lines could not be read");
    }
    println!(
        "{}",
        serde_json::json!({
            "bench": "parse",
            "threads": threads.map_or(1, NonZeroUsize::get),
            "api": match (threads, iterator, whole_records) {
                (Some(_), _, true) => "for_each_parallel",
                (Some(_), _, false) => "map_parallel",
                (None, true, _) => "iterator",
                (None, false, _) => "read_into",
            },
            "records": records,
            "secs": best,
            "records_per_sec": records as f64 / best,
            "mb_per_sec": bytes as f64 / best / 1e6,
        })
    );
    Ok(())
}
