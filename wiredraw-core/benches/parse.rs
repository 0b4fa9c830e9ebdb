//! Typed reading of Zeek logs (see docs/PERFORMANCE.md): the whole 3-day rita conn set,
//! decompressed into memory first, read as TSV on one core with the hot-loop API
//! (`LogReader::read_into`) and with the `Iterator` API, and on every core with
//! `LogReader::for_each_parallel` and `LogReader::map_parallel`; and the wrccdc dns log as JSON.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::io::Read;
use std::path::{Path, PathBuf};
use wiredraw_core::Record;
use wiredraw_core::zeek::{LogReader, decompressed};

fn shared_data() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/zeek"
    ))
}

/// Every file under `dir` whose name starts with `prefix`, decompressed and concatenated (each
/// keeps its header block, as rotated logs do).
fn concatenated(dir: &Path, prefix: &str) -> Vec<u8> {
    let mut paths = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("shared data is readable") {
            let path = entry.expect("shared data is readable").path();
            if path.is_dir() {
                folders.push(path);
            } else if path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
            {
                paths.push(path);
            }
        }
    }
    paths.sort();
    let mut bytes = Vec::new();
    for path in paths {
        let file = std::fs::File::open(&path).expect("shared data is readable");
        decompressed(file)
            .and_then(|mut input| input.read_to_end(&mut bytes))
            .expect("shared data decompresses");
    }
    bytes
}

fn count_records(bytes: &[u8]) -> u64 {
    let mut reader = LogReader::new(bytes, "bench", None);
    let mut record = Record::default();
    let mut records = 0;
    while let Some(result) = reader.read_into(&mut record) {
        records += u64::from(result.is_ok());
    }
    records
}

fn parse(c: &mut Criterion) {
    let conn = concatenated(&shared_data().join("rita-missing-host"), "conn.");
    let dns_json = concatenated(&shared_data().join("wrccdc-2018/zeek-json"), "dns.");
    let mut group = c.benchmark_group("parse");
    group.sample_size(10);
    group.throughput(Throughput::Elements(count_records(&conn)));
    group.bench_function("rita_conn_tsv_read_into", |b| {
        b.iter(|| black_box(count_records(black_box(&conn))))
    });
    group.bench_function("rita_conn_tsv_iterator", |b| {
        b.iter(|| {
            LogReader::new(black_box(&conn[..]), "bench", None)
                .filter(Result::is_ok)
                .count()
        })
    });
    let threads = std::thread::available_parallelism().unwrap_or(std::num::NonZeroUsize::MIN);
    group.bench_function(format!("rita_conn_tsv_parallel_{threads}_threads"), |b| {
        b.iter(|| {
            let mut records = 0u64;
            LogReader::new(black_box(&conn[..]), "bench", None)
                .for_each_parallel(threads, |result| records += u64::from(result.is_ok()));
            black_box(records)
        })
    });
    group.bench_function(
        format!("rita_conn_tsv_map_parallel_{threads}_threads"),
        |b| {
            b.iter(|| {
                let mut records = 0u64;
                let outcome = LogReader::new(black_box(&conn[..]), "bench", None).map_parallel(
                    threads,
                    |result| result.is_ok(),
                    |read| {
                        records += u64::from(read);
                        Ok::<(), std::convert::Infallible>(())
                    },
                );
                black_box((records, outcome.is_ok()))
            })
        },
    );
    group.throughput(Throughput::Elements(count_records(&dns_json)));
    group.bench_function("wrccdc_dns_json_read_into", |b| {
        b.iter(|| black_box(count_records(black_box(&dns_json))))
    });
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
