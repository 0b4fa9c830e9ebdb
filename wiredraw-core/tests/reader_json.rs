//! The Zeek JSON reader: flat and nested forms, both timestamp styles, `_path`, bad lines.

mod common;

use common::{fixture, read_text, tsv_header};
use proptest::prelude::*;
use wiredraw_core::zeek::{Format, LineErrorKind, LogReader};
use wiredraw_core::{Record, Value};

#[test]
fn nested_and_flat_objects_are_the_same_record() {
    let (nested, errors) = common::split(LogReader::open(fixture("conn-nested.json")).unwrap());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(nested.len(), 2);
    // The file names no `_path`: the type comes from the file name.
    assert_eq!(nested[0].path(), "conn-nested");
    let flat = r#"{"ts":1713484795.943239,"uid":"CYl7H53iN6mY9NyXJ8","id.orig_h":"167.94.138.145","id.orig_p":25320,"id.resp_h":"64.225.56.201","id.resp_p":6008,"proto":"tcp","duration":0.000064,"orig_bytes":0,"resp_bytes":0,"conn_state":"REJ","local_orig":false,"local_resp":true,"missed_bytes":0,"history":"Sr","orig_pkts":1,"orig_ip_bytes":60,"resp_pkts":1,"resp_ip_bytes":40}"#;
    let reader = LogReader::new(flat.as_bytes(), "flat.json", Some("conn-nested"));
    let (flat, errors) = common::split(reader);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(flat[0].schema, nested[0].schema);
    assert_eq!(flat[0].values, nested[0].values);
    let r = &nested[0];
    assert_eq!(
        r.get("id.orig_h"),
        Some(&Value::Addr("167.94.138.145".parse().unwrap()))
    );
    assert_eq!(r.get("id_resp_p").and_then(Value::as_port), Some(6008));
    assert_eq!(r.ts(), Some(1713484795.943239));
    assert_eq!(r.get("local_orig"), Some(&Value::Bool(false)));
    assert_eq!(r.get("missed_bytes"), Some(&Value::Count(0)));
    assert_eq!(
        nested[1].get("tunnel_parents"),
        Some(&Value::Vector(vec![]))
    );
}

#[test]
fn iso8601_and_epoch_timestamps_are_the_same_instant() {
    let text = concat!(
        r#"{"_path":"dns","ts":"2018-03-24T17:15:20.865716Z","query":"a"}"#,
        "\n",
        r#"{"_path":"dns","ts":1521911720.865716,"query":"a"}"#,
        "\n",
        r#"{"_path":"dns","ts":"2018-03-24T19:15:20.865716+02:00","query":"a"}"#,
        "\n",
    );
    let (records, errors) = read_text(text);
    assert!(errors.is_empty(), "{errors:?}");
    let times: Vec<_> = records.iter().map(|r| r.get("ts").cloned()).collect();
    assert!(
        times
            .iter()
            .all(|t| *t == Some(Value::Time(1521911720.865716))),
        "{times:?}"
    );
    assert!(records.iter().all(|r| r.path() == "dns"));
}

#[test]
fn path_comes_from_the_line_then_the_caller() {
    let text = "{\"_path\":\"http\",\"uid\":\"C1\"}\n{\"uid\":\"C2\"}\n";
    let (records, _) = common::split(LogReader::new(text.as_bytes(), "x", Some("weird")));
    assert_eq!(records[0].path(), "http");
    assert_eq!(records[1].path(), "weird");
    // `_path` is the log type, not a field; zeek2json writes it back once.
    assert_eq!(records[0].get("_path"), None);
    assert_eq!(
        serde_json::to_string(&records[0]).unwrap(),
        r#"{"_path":"http","uid":"C1"}"#
    );
    let (records, _) = read_text("{\"uid\":\"C2\"}\n");
    assert_eq!(records[0].path(), wiredraw_core::zeek::UNKNOWN_PATH);
}

#[test]
fn bad_lines_are_errors_with_file_and_line_and_reading_goes_on() {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"{\"a\":1}\n");
    bytes.extend_from_slice(b"{\"a\":\n"); // truncated
    bytes.extend_from_slice(b"[1,2]\n"); // not an object
    bytes.extend_from_slice(b"{\"a\":1,\"a\":2}\n"); // duplicate field
    bytes.extend_from_slice(b"{\"id\":{\"orig_h\":1},\"id.orig_h\":2}\n"); // duplicate once flattened
    bytes.extend_from_slice(b"{\"a\":\"\xff\"}\n"); // invalid UTF-8
    bytes.extend_from_slice(b"\n{\"a\":3}\n");
    let (records, errors) = common::split(LogReader::new(&bytes[..], "bad.json", None));
    let values: Vec<_> = records.iter().map(|r| r.values[0].clone()).collect();
    assert_eq!(values, [Value::Count(1), Value::Count(3)]);
    let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 3, 4, 5, 6]);
    assert!(errors.iter().all(|e| !e.is_fatal()));
    assert!(matches!(errors[0].kind, LineErrorKind::Json(_)));
    assert_eq!(
        errors[1].to_string(),
        "bad.json:3: invalid JSON: not a JSON object"
    );
    assert!(errors[2].to_string().contains("field a appears twice"));
    assert!(
        errors[3]
            .to_string()
            .contains("field id.orig_h appears twice")
    );
    assert_eq!(errors[4].kind, LineErrorKind::InvalidUtf8 { at: 6 });
}

#[test]
fn json_lines_over_the_limit_are_skipped() {
    let long = format!("{{\"s\":\"{}\"}}", "x".repeat(10_000));
    let text = format!("{{\"s\":\"a\"}}\n{long}\n{{\"s\":\"b\"}}\n");
    let reader = LogReader::new(text.as_bytes(), "j", None).with_max_line_len(1000);
    let (records, errors) = common::split(reader);
    assert_eq!(records.len(), 2);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 2);
    assert_eq!(errors[0].kind, LineErrorKind::TooLong { limit: 1000 });
}

#[test]
fn json_values_are_typed_and_addresses_normalised() {
    let text = r#"{"ts":1.5,"n":-3,"x":2.25,"b":true,"u":null,"id":{"orig_h":"2001:DB8:0:0::1"},"a":"2001:db8::2","name":"fe80:0:0:0:0:0:0:1","sn":"10.1.0.0/16","s":"hello","v":["10.0.0.1","x"],"deep":{"er":{"k":1}}}"#;
    let (records, errors) = read_text(text);
    assert!(errors.is_empty(), "{errors:?}");
    let r = &records[0];
    assert_eq!(r.get("ts"), Some(&Value::Time(1.5)));
    assert_eq!(r.get("n"), Some(&Value::Int(-3)));
    assert_eq!(r.get("x"), Some(&Value::Double(2.25)));
    assert_eq!(r.get("b"), Some(&Value::Bool(true)));
    assert_eq!(r.get("u"), Some(&Value::Unset));
    // A host endpoint is normalised however it is written; another string is an address only
    // when written as Zeek writes one, and otherwise stays text as written.
    assert_eq!(r.get("id.orig_h").unwrap().to_string(), "2001:db8::1");
    assert_eq!(
        r.get("a"),
        Some(&Value::Addr("2001:db8::2".parse().unwrap()))
    );
    assert_eq!(
        r.get("name").and_then(Value::as_str),
        Some("fe80:0:0:0:0:0:0:1")
    );
    assert_eq!(r.get("sn").unwrap().to_string(), "10.1.0.0/16");
    assert_eq!(r.get("s").and_then(Value::as_str), Some("hello"));
    assert_eq!(
        r.get("v").and_then(Value::items).map(<[Value]>::len),
        Some(2)
    );
    assert_eq!(r.get("deep.er.k"), Some(&Value::Count(1)));
}

#[test]
fn the_format_is_told_from_the_first_line() {
    let mut reader = LogReader::new(&b"\n  \n{\"a\":1}\n"[..], "j", None);
    assert_eq!(reader.format(), None);
    assert!(reader.next().unwrap().is_ok());
    assert_eq!(reader.format(), Some(Format::Json));
}

proptest! {
    /// Epoch seconds written as decimal text read to the same `f64` from TSV and from JSON, so
    /// one run logged both ways gives the same records.
    #[test]
    fn json_and_tsv_read_the_same_epoch_seconds(secs in 0u64..4_000_000_000, micros in 0u32..1_000_000) {
        let text = format!("{secs}.{micros:06}");
        let tsv = tsv_header("conn", &["ts"], &["time"]) + &text + "\n";
        let json = format!("{{\"ts\":{text}}}\n");
        let (from_tsv, _) = read_text(&tsv);
        let (from_json, _) = read_text(&json);
        let want: f64 = text.parse().unwrap();
        prop_assert_eq!(from_tsv[0].ts(), Some(want));
        prop_assert_eq!(from_json[0].ts(), Some(want));
    }
}

/// A record's fields as comparable text: what TSV and JSON logs of one run must agree on.
///
/// The two writers differ in ways that carry no information: JSON leaves unset fields out and
/// adds `_write_ts`, writes ports and intervals as plain numbers, writes doubles in full where
/// TSV rounds to 6 decimals, and writes times as ISO-8601 to the microsecond where TSV may
/// give more digits.
fn comparable(record: &Record) -> std::collections::BTreeMap<String, String> {
    fn text(value: &Value) -> String {
        match value {
            Value::Set(items) | Value::Vector(items) => {
                let items: Vec<String> = items.iter().map(text).collect();
                format!("[{}]", items.join(", "))
            }
            Value::Bool(b) => b.to_string(),
            other => match other.as_f64() {
                Some(x) => format!("{x:.6}"),
                None => other.to_string(),
            },
        }
    }
    record
        .fields()
        .filter(|(name, value)| !value.is_unset() && *name != "_write_ts")
        .map(|(name, value)| (name.to_owned(), text(value)))
        .collect()
}

/// Each wrccdc log as (log type, its TSV file, its JSON file): one Zeek run written both ways.
fn wrccdc_logs() -> Vec<(String, std::path::PathBuf, std::path::PathBuf)> {
    let dir = common::shared_data().join("zeek/wrccdc-2018");
    common::files_under(&dir.join("zeek-default"))
        .into_iter()
        .map(|tsv_path| {
            let name = tsv_path.file_name().unwrap().to_str().unwrap();
            let log_type = name.split('.').next().unwrap().to_owned();
            let json_path = dir.join("zeek-json").join(format!("{log_type}.json.gz"));
            (log_type, tsv_path, json_path)
        })
        .collect()
}

#[test]
fn wrccdc_tsv_and_json_give_identical_records() {
    let mut compared = 0;
    for (log_type, tsv_path, json_path) in wrccdc_logs() {
        let (tsv, tsv_errors) = common::split(LogReader::open(&tsv_path).unwrap());
        let (json, json_errors) = common::split(LogReader::open(&json_path).unwrap());
        assert!(tsv_errors.is_empty(), "{log_type}: {:?}", &tsv_errors[..1]);
        assert!(
            json_errors.is_empty(),
            "{log_type}.json: {:?}",
            &json_errors[..1]
        );
        assert_eq!(tsv.len(), json.len(), "{log_type}: record counts differ");
        for (t, j) in tsv.iter().zip(&json) {
            assert_eq!(t.path(), j.path(), "{log_type} line {}", t.line);
            assert_eq!(
                comparable(t),
                comparable(j),
                "{log_type}: TSV line {} and JSON line {} differ",
                t.line,
                j.line
            );
        }
        compared += tsv.len();
    }
    // dns, ssl and weird alone hold 127,291 records.
    assert!(compared > 127_291, "compared only {compared} records");
}

/// What the built-in plugins make of every record of one file: failures, and the connections,
/// details and host names contributed.
fn contributed(path: &std::path::Path) -> (Vec<String>, usize, usize, Vec<(String, String)>) {
    let registry = wiredraw_core::plugin::Registry::with_builtins();
    let (records, errors) = common::split(LogReader::open(path).unwrap());
    assert!(errors.is_empty(), "{}: {:?}", path.display(), &errors[..1]);
    let mut out = wiredraw_core::Contribution::default();
    let failures = records
        .iter()
        .filter_map(|record| {
            let failed = registry.contribute(record, &mut out).err()?;
            Some(format!("line {}: {failed}", record.line))
        })
        .collect();
    let names = out
        .annotations
        .iter()
        .map(|a| (a.addr.to_string(), a.name.to_string()))
        .collect();
    (failures, out.connections.len(), out.details.len(), names)
}

#[test]
fn wrccdc_tsv_and_json_contribute_alike() {
    let mut names = 0;
    for (log_type, tsv_path, json_path) in wrccdc_logs() {
        let (tsv_failures, tsv_conns, tsv_details, tsv_names) = contributed(&tsv_path);
        let (json_failures, json_conns, json_details, json_names) = contributed(&json_path);
        assert!(
            tsv_failures.is_empty(),
            "{log_type} TSV: {:?}",
            &tsv_failures[..1]
        );
        assert!(
            json_failures.is_empty(),
            "{log_type} JSON: {:?}",
            &json_failures[..1]
        );
        assert_eq!(
            (tsv_conns, tsv_details),
            (json_conns, json_details),
            "{log_type}: connections and details"
        );
        assert_eq!(tsv_names, json_names, "{log_type}: host names");
        names += tsv_names.len();
    }
    assert!(names > 1000, "the dns log names hosts: {names}");
}
