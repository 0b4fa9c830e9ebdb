//! `bench notices --store memory|redis|redis://HOST:PORT [--notices N] [--hosts H] [--iters I]`
//!
//! Stores `--notices` notices (default 100,000) spread evenly over one day, each naming two of
//! `--hosts` addresses (default 5,000) as `src` and `dst`, as the notice plugin keeps them (one
//! `HostRecord` per host). Then times what the viewer asks for with every graph and every
//! histogram: the newest 200 of a one-hour window (`host_records_between`) and the count per
//! bin of 400 bins over the day (`host_record_counts`), `--iters` times each (default 100)
//! after a warm-up.
//!
//! Prints `{"bench":"notices","store":…,"notices":N,"window_total":…,"window_p50_ms":…,
//! "window_p99_ms":…,"bins_p50_ms":…,"bins_p99_ms":…}` (wall times).

use super::http_query::percentile;
use super::ingest::{flag, open_store};
use anyhow::Context;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Instant;
use wiredraw_core::{Contribution, FieldType, HostRecord, Record, Schema, Value};

/// Start of the day the notices fall in (2024-04-19 00:00:00 UTC).
const DAY: f64 = 1_713_484_800.0;
/// Notices stored per ingest call.
const BATCH: usize = 10_000;

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let spec =
        flag(args, "--store").context("--store memory|redis|redis://HOST:PORT is required")?;
    let notices: usize = flag(args, "--notices")
        .map_or(Ok(100_000), str::parse)
        .context("--notices")?;
    let hosts: u32 = flag(args, "--hosts")
        .map_or(Ok(5_000), str::parse)
        .context("--hosts")?;
    let iters: usize = flag(args, "--iters")
        .map_or(Ok(100), str::parse)
        .context("--iters")?;
    anyhow::ensure!(
        notices > 0 && hosts >= 2 && iters > 0,
        "--notices and --iters must be positive, --hosts at least 2"
    );
    let schema = Arc::new(Schema {
        path: "notice".into(),
        names: ["ts", "note", "msg", "src", "dst"].map(Into::into).to_vec(),
        types: vec![
            FieldType::Time,
            FieldType::Enum,
            FieldType::String,
            FieldType::Addr,
            FieldType::Addr,
        ],
    });
    let addr = |i: u32| IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i % hosts));
    let notes = [
        "Scan::Port_Scan",
        "SSH::Password_Guessing",
        "SSL::Invalid_Server_Cert",
    ];
    let batches: Vec<Contribution> = (0..notices)
        .collect::<Vec<_>>()
        .chunks(BATCH)
        .map(|chunk| Contribution {
            host_records: chunk
                .iter()
                .flat_map(|&i| {
                    let (src, dst) = (addr(i as u32 * 7), addr(i as u32 * 13 + 1));
                    let record = Record {
                        schema: Arc::clone(&schema),
                        values: vec![
                            Value::Time(DAY + i as f64 * 86_400.0 / notices as f64),
                            Value::Enum(notes[i % notes.len()].into()),
                            Value::String(format!("{src} did something to {dst}").into()),
                            Value::Addr(src),
                            Value::Addr(dst),
                        ],
                        line: i as u64 + 1,
                    };
                    [src, dst].map(|addr| HostRecord {
                        addr,
                        log_type: "notice".into(),
                        record: record.clone(),
                    })
                })
                .collect(),
            ..Default::default()
        })
        .collect();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let bench = open_store(spec)?;
    let store = &*bench.store;
    let (window_total, mut window_ms, mut bins_ms) = runtime.block_on(async {
        for batch in &batches {
            store.ingest(batch).await?;
        }
        // Any hour of the day holds as many notices as the next: they are spread evenly.
        let (from, to) = (DAY + 12.0 * 3600.0, DAY + 13.0 * 3600.0);
        let page = store.host_records_between(from, to, 200).await?;
        let counts = store.host_record_counts(DAY, DAY + 86_400.0, 400).await?;
        anyhow::ensure!(
            counts.iter().sum::<u64>() == notices as u64,
            "the bins count {} notices, expected {notices}",
            counts.iter().sum::<u64>()
        );
        let time =
            |ms: &mut Vec<f64>, started: Instant| ms.push(started.elapsed().as_secs_f64() * 1000.0);
        let (mut window_ms, mut bins_ms) = (Vec::new(), Vec::new());
        for round in 0..iters + iters.min(10) {
            let started = Instant::now();
            std::hint::black_box(store.host_records_between(from, to, 200).await?);
            if round >= iters.min(10) {
                time(&mut window_ms, started);
            }
            let started = Instant::now();
            std::hint::black_box(store.host_record_counts(DAY, DAY + 86_400.0, 400).await?);
            if round >= iters.min(10) {
                time(&mut bins_ms, started);
            }
        }
        Ok::<_, anyhow::Error>((page.total, window_ms, bins_ms))
    })?;
    window_ms.sort_by(f64::total_cmp);
    bins_ms.sort_by(f64::total_cmp);
    println!(
        "{}",
        serde_json::json!({
            "bench": "notices",
            "store": bench.label,
            "notices": notices,
            "window_total": window_total,
            "window_p50_ms": percentile(&window_ms, 50.0),
            "window_p99_ms": percentile(&window_ms, 99.0),
            "bins_p50_ms": percentile(&bins_ms, 50.0),
            "bins_p99_ms": percentile(&bins_ms, 99.0),
        })
    );
    Ok(())
}
