//! Every real Zeek log under `../shared/data/zeek` reads, contributes and decodes cleanly.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use wiredraw_core::history::{self, Event};
use wiredraw_core::plugin::Registry;
use wiredraw_core::zeek::LogReader;
use wiredraw_core::{Contribution, Record};

/// Record counts per log type of every log file under `dir` (both formats of wrccdc counted
/// apart by folder), asserting that no line is an error.
fn read_all(dir: &Path) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for path in common::files_under(dir) {
        let name = path.file_name().unwrap().to_str().unwrap();
        if !name.ends_with(".gz") {
            continue; // README, LICENSE, SOURCE_COMMIT
        }
        let folder = path
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap();
        let log_type = name.split('.').next().unwrap();
        let (records, errors) = common::split(LogReader::open(&path).unwrap());
        if log_type == "conn-summary" {
            // zeekctl's text reports: not Zeek logs, which is one clear error.
            assert!(records.is_empty());
            assert_eq!(errors.len(), 1, "{}", path.display());
            assert!(errors[0].is_no_usable_header(), "{}", errors[0]);
            continue;
        }
        assert!(
            errors.is_empty(),
            "{} errors in {}, the first: {}",
            errors.len(),
            path.display(),
            errors[0]
        );
        let key = if folder.starts_with("zeek-") {
            format!("{folder}/{log_type}")
        } else {
            log_type.to_owned()
        };
        *counts.entry(key).or_default() += records.len();
    }
    counts
}

#[test]
fn every_real_log_reads_with_zero_errors() {
    let data = common::shared_data().join("zeek");
    let rita = read_all(&data.join("rita-missing-host"));
    for (log_type, want) in [
        ("conn", 105_918),
        ("dns", 5_432),
        ("http", 18_829),
        ("ssl", 139),
        ("files", 18_619),
        ("ssh", 17_299),
        ("weird", 1_114),
    ] {
        assert_eq!(rita.get(log_type), Some(&want), "rita {log_type}");
    }
    let wrccdc = read_all(&data.join("wrccdc-2018"));
    for (log_type, want) in [("dns", 53_615), ("ssl", 49_474), ("weird", 24_202)] {
        for format in ["zeek-default", "zeek-json"] {
            assert_eq!(wrccdc.get(&format!("{format}/{log_type}")), Some(&want));
        }
    }
}

/// Every record of every rita log of these types, in file order.
fn rita_records(types: &[&str]) -> Vec<Record> {
    let dir = common::shared_data().join("zeek/rita-missing-host");
    let mut records = Vec::new();
    for path in common::files_under(&dir) {
        let name = path.file_name().unwrap().to_str().unwrap();
        if types.contains(&name.split('.').next().unwrap()) {
            for record in LogReader::open(&path).unwrap() {
                records.push(record.unwrap());
            }
        }
    }
    records
}

/// What the built-in plugins make of `records`, none of which may fail.
fn contribute_all(records: &[Record]) -> Contribution {
    let registry = Registry::with_builtins();
    let mut out = Contribution::default();
    for record in records {
        registry
            .contribute(record, &mut out)
            .unwrap_or_else(|e| panic!("{} line {}: {e}", record.path(), record.line));
    }
    out
}

#[test]
fn rita_conn_keeps_its_extra_node_name_column() {
    let records = rita_records(&["conn"]);
    let first = &records[0];
    assert_eq!(&*first.schema.names[0], "_node_name");
    assert!(first.get("_node_name").and_then(|v| v.as_str()).is_some());
    // The extra column shifts nothing: the usual fields still read by name.
    assert!(first.get("id.orig_h").and_then(|v| v.as_addr()).is_some());
}

#[test]
fn rita_contributes_every_detail_to_a_known_connection() {
    let out = contribute_all(&rita_records(&[
        "conn", "dns", "http", "ssl", "files", "ssh", "weird",
    ]));
    assert_eq!(out.connections.len(), 105_918);
    let uids: HashSet<&str> = out.connections.iter().map(|c| c.uid.as_str()).collect();
    assert_eq!(uids.len(), 105_918, "conn uids are unique");
    let mut per_type: BTreeMap<&str, usize> = BTreeMap::new();
    for detail in &out.details {
        assert!(
            uids.contains(detail.uid.as_str()),
            "{} detail names unknown uid {}",
            detail.log_type,
            detail.uid
        );
        *per_type.entry(detail.log_type.as_str()).or_default() += 1;
    }
    for log_type in ["dns", "http", "ssl", "files", "ssh", "weird"] {
        assert!(
            per_type.get(log_type).is_some_and(|&n| n > 0),
            "{per_type:?}"
        );
    }
    assert!(!out.annotations.is_empty(), "dns answers name hosts");

    // The beacon the source describes: HTTP from 73.54.23.243 to 64.225.56.201.
    let beacon: HashSet<&str> = out
        .connections
        .iter()
        .filter(|c| {
            c.orig_h.to_string() == "73.54.23.243" && c.resp_h.to_string() == "64.225.56.201"
        })
        .map(|c| c.uid.as_str())
        .collect();
    let atari = out.details.iter().any(|d| {
        beacon.contains(d.uid.as_str())
            && d.record.get("user_agent").and_then(|v| v.as_str())
                == Some("Modzilla/0.0001 (Atari 7800)")
    });
    assert!(
        atari,
        "the beacon's HTTP requests are attached to its connections"
    );
}

/// Zeek counts payload from TCP sequence numbers, and in the rita set 152 connections (resets
/// and gaps) make that 7.28 GB for three days whose packets carried 252 MB. Counted as what
/// their packets carried, the connections add up to 210 MB (the figure `awk` gives from the
/// same columns), and the biggest one is a real TLS download, not a reset: 84 MB by Zeek's
/// count, of which the sensor saw 81.7 MB, and what it saw is what counts.
#[test]
fn rita_bytes_are_what_the_packets_carried() {
    let out = contribute_all(&rita_records(&["conn"]));
    assert!(out.connections.iter().all(|c| c.packets.is_some()));
    let zeek: u64 = out
        .connections
        .iter()
        .map(|c| c.orig_bytes.unwrap_or(0) + c.resp_bytes.unwrap_or(0))
        .sum();
    let drawn: u64 = out.connections.iter().map(|c| c.total_bytes()).sum();
    assert!(zeek > 7_000_000_000, "{zeek}");
    assert_eq!(drawn, 209_991_218);
    let reset = out
        .connections
        .iter()
        .find(|c| c.uid == "CudYex2Y82IShk9bh")
        .unwrap();
    assert_eq!(
        (reset.orig_bytes, reset.resp_bytes),
        (Some(91), Some(1_964_191_874))
    );
    assert_eq!(reset.payload_bytes(), (91, 84));
    let biggest = out
        .connections
        .iter()
        .max_by_key(|c| c.total_bytes())
        .unwrap();
    assert_eq!(
        (
            biggest.uid.as_str(),
            biggest.conn_state.as_deref(),
            biggest.total_bytes()
        ),
        ("CRwf84xj9rG74S2J6", Some("SF"), 81_711_353)
    );
}

#[test]
fn every_rita_history_and_state_reads_in_words() {
    let records = rita_records(&["conn"]);
    let mut decoded = 0;
    for record in &records {
        if let Some(state) = record.get_set("conn_state").and_then(|v| v.as_str()) {
            assert!(history::conn_state_meaning(state).is_some(), "{state}");
        }
        let Some(text) = record.get_set("history").and_then(|v| v.as_str()) else {
            continue;
        };
        let steps = history::decode(text);
        assert_eq!(steps.len(), text.chars().count());
        assert!(
            steps.iter().all(|s| !matches!(s.event, Event::Unknown(_))),
            "{text}: {}",
            history::describe(text)
        );
        decoded += 1;
    }
    assert!(decoded > 90_000, "{decoded}");
}

/// The whole rita conn set, and the wrccdc dns log as NDJSON, read on two threads give what
/// one thread gives: every record and line number.
#[test]
fn real_logs_read_on_two_threads_as_on_one() {
    use std::io::Read;
    let data = common::shared_data().join("zeek");
    for (dir, prefix) in [
        (data.join("rita-missing-host"), "conn."),
        (data.join("wrccdc-2018/zeek-json"), "dns."),
    ] {
        let mut text = Vec::new();
        for path in common::files_under(&dir) {
            let name = path.file_name().unwrap().to_str().unwrap();
            if name.starts_with(prefix) && name.ends_with(".gz") {
                let file = std::fs::File::open(&path).unwrap();
                let mut input = wiredraw_core::zeek::decompressed(file).unwrap();
                input.read_to_end(&mut text).unwrap();
            }
        }
        let want: Vec<_> = LogReader::new(&text[..], "all", None).collect();
        assert!(
            want.len() > 10_000,
            "{} records in {}",
            want.len(),
            dir.display()
        );
        let mut got = Vec::with_capacity(want.len());
        let threads = std::num::NonZeroUsize::new(2).unwrap();
        LogReader::new(&text[..], "all", None).for_each_parallel(threads, |result| {
            got.push(result.cloned().map_err(Clone::clone));
        });
        assert!(got == want, "{}: the two readings differ", dir.display());
        got.clear();
        let outcome = LogReader::new(&text[..], "all", None).map_parallel(
            threads,
            |result| result.cloned().map_err(Clone::clone),
            |result| {
                got.push(result);
                Ok::<(), std::convert::Infallible>(())
            },
        );
        assert!(outcome.is_ok());
        assert!(
            got == want,
            "{}: map_parallel reads it otherwise",
            dir.display()
        );
    }
}
