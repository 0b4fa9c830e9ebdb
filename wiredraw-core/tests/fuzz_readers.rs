//! The reader fuzz targets (`fuzz/`) run here on random bytes and on mutated real logs, so CI
//! replays them without nightly; inputs they once broke on are kept as regression tests.
//!
//! `FUZZ_CASES=200000 cargo test --release -p wiredraw-core --test fuzz_readers` runs longer.

mod common;
#[path = "../../fuzz/src/lib.rs"]
mod fuzz_checks;

use fuzz_checks::{json_reader, tsv_reader};
use proptest::prelude::*;
use std::io::Read;
use std::sync::OnceLock;
use wiredraw_core::zeek::LogReader;

fn config() -> ProptestConfig {
    let cases = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Bytes that mean something to the readers, so random input reaches deep.
fn log_bytes() -> impl Strategy<Value = Vec<u8>> {
    let alphabet: Vec<u8> =
        b"\t\n\r#\\x0123456789abcdef.:-,{}[]\" ()emptysetunfld_T/F\xff\xc3\xa9 ".to_vec();
    prop::collection::vec(prop::sample::select(alphabet), 0..1500)
}

/// The first `lines` lines of a file (decompressed).
fn head(path: &std::path::Path, lines: usize) -> Vec<u8> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut text = Vec::new();
    wiredraw_core::zeek::decompressed(file)
        .unwrap()
        .take(1 << 20)
        .read_to_end(&mut text)
        .unwrap();
    let end = text
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(lines - 1)
        .map_or(text.len(), |(i, _)| i + 1);
    text.truncate(end);
    text
}

/// Valid logs to mutate: the fixtures, and the start of real logs in both formats.
fn seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(read_seeds)
}

fn read_seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = ["conn.log", "concatenated.log", "dns.log", "dns.json"]
        .iter()
        .map(|name| std::fs::read(common::fixture(name)).unwrap())
        .collect();
    seeds.push(std::fs::read(common::fixture("conn-nested.json")).unwrap());
    let data = common::shared_data().join("zeek");
    for path in [
        "rita-missing-host/2024-04-19/conn.00:00:00-01:00:00.log.gz",
        "rita-missing-host/2024-04-19/http.00:00:00-01:00:00.log.gz",
        "wrccdc-2018/zeek-default/dns.log.gz",
        "wrccdc-2018/zeek-default/x509.log.gz",
        "wrccdc-2018/zeek-json/ssl.json.gz",
        "wrccdc-2018/zeek-json/analyzer.json.gz",
    ] {
        seeds.push(head(&data.join(path), 40));
    }
    seeds
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, byte: u8 },
    Insert { at: usize, bytes: Vec<u8> },
    Delete { at: usize, len: usize },
    Truncate { at: usize },
    DuplicateLine { at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let special = prop::sample::select(b"\t\n#\\,-{}\":\xff\x00".to_vec());
    let at = any::<usize>();
    prop_oneof![
        (at, prop_oneof![special.clone(), any::<u8>()])
            .prop_map(|(at, byte)| Mutation::Flip { at, byte }),
        (at, prop::collection::vec(special, 1..8))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (at, 1..64usize).prop_map(|(at, len)| Mutation::Delete { at, len }),
        at.prop_map(|at| Mutation::Truncate { at }),
        at.prop_map(|at| Mutation::DuplicateLine { at }),
    ]
}

fn mutate(mut data: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = data.len().max(1);
        match m {
            Mutation::Flip { at, byte } if !data.is_empty() => data[at % len] = *byte,
            Mutation::Insert { at, bytes } => {
                let at = at % (data.len() + 1);
                data.splice(at..at, bytes.iter().copied());
            }
            Mutation::Delete { at, len: n } if !data.is_empty() => {
                let at = at % len;
                let end = (at + n).min(data.len());
                data.drain(at..end);
            }
            Mutation::Truncate { at } => data.truncate(at % len),
            Mutation::DuplicateLine { at } if !data.is_empty() => {
                let at = at % len;
                let start = data[..at]
                    .iter()
                    .rposition(|b| *b == b'\n')
                    .map_or(0, |i| i + 1);
                let end = data[at..]
                    .iter()
                    .position(|b| *b == b'\n')
                    .map_or(data.len(), |i| at + i + 1);
                let line = data[start..end].to_vec();
                data.splice(end..end, line);
            }
            _ => {}
        }
    }
    data
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_bytes_as_tsv(data in prop::collection::vec(any::<u8>(), 0..1500)) {
        tsv_reader(&data);
    }

    #[test]
    fn random_bytes_as_json(data in prop::collection::vec(any::<u8>(), 0..1500)) {
        json_reader(&data);
    }

    #[test]
    fn log_alphabet_soup(data in log_bytes()) {
        tsv_reader(&data);
        json_reader(&data);
    }

    #[test]
    fn mutated_real_logs(
        seed in 0usize..11,
        mutations in prop::collection::vec(mutation(), 1..12),
    ) {
        let seeds = seeds();
        let data = mutate(seeds[seed % seeds.len()].clone(), &mutations);
        tsv_reader(&data);
        json_reader(&data);
    }
}

#[test]
fn the_seeds_themselves_read_cleanly() {
    for seed in seeds() {
        let errors = LogReader::new(&seed[..], "seed", None)
            .filter(Result::is_err)
            .count();
        assert_eq!(
            errors,
            0,
            "{}",
            String::from_utf8_lossy(&seed[..200.min(seed.len())])
        );
        tsv_reader(seed);
        json_reader(seed);
    }
}

/// Inputs the fuzzers once failed on (`tests/fuzz_crashers/`, named after what they found),
/// replayed through both targets.
#[test]
fn past_fuzz_crashers_pass() {
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fuzz_crashers"));
    let crashers = common::files_under(dir);
    assert!(!crashers.is_empty());
    for path in crashers {
        let data = std::fs::read(&path).unwrap();
        tsv_reader(&data);
        json_reader(&data);
    }
}
