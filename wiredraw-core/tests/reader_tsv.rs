//! The Zeek TSV reader: header lines, types, escapes, unset/empty, blocks and bad lines.

mod common;

use common::{fixture, read_text, tsv_header};
use std::io::Write;
use std::net::IpAddr;
use wiredraw_core::zeek::{Format, LineErrorKind, LogReader};
use wiredraw_core::{FieldType, Record, Value};

fn addr(text: &str) -> IpAddr {
    text.parse().unwrap()
}

const EVERY_TYPE: &[&str] = &[
    "bool",
    "count",
    "int",
    "double",
    "time",
    "interval",
    "addr",
    "subnet",
    "port",
    "enum",
    "string",
    "pattern",
    "set[string]",
    "vector[count]",
    "table[addr]",
    "func",
];
const EVERY_NAME: &[&str] = &[
    "b", "c", "i", "d", "t", "iv", "a", "sn", "p", "e", "s", "pat", "st", "vc", "tb", "f",
];

#[test]
fn every_type_converts() {
    let text = tsv_header("types", EVERY_NAME, EVERY_TYPE)
        + "T\t42\t-7\t3.5\t1713484795.000001\t0.25\t2001:DB8:0:0:0:0:0:1\t10.0.0.0/8\t443\t\
           Conn::LOG\ttab\\x09and\\\\backslash\t/^?(a|b)$?/\ta,b\\x2cc\t1,2,3\t\
           10.0.0.1,::FFFF:10.0.0.2\tfunction\n";
    let (records, errors) = read_text(&text);
    assert!(errors.is_empty(), "{errors:?}");
    let r = &records[0];
    assert_eq!(r.path(), "types");
    assert_eq!(r.line, 9);
    let types: Vec<String> = r.schema.types.iter().map(ToString::to_string).collect();
    // Tables are sets; unknown types are kept by name.
    assert_eq!(types[14], "set[addr]");
    assert_eq!(r.schema.types[15], FieldType::Other("func".into()));
    let expect = [
        Value::Bool(true),
        Value::Count(42),
        Value::Int(-7),
        Value::Double(3.5),
        Value::Time(1713484795.000001),
        Value::Interval(0.25),
        Value::Addr(addr("2001:db8::1")),
        Value::Subnet(addr("10.0.0.0"), 8),
        Value::Port(443),
        Value::Enum("Conn::LOG".into()),
        Value::String("tab\tand\\backslash".into()),
        Value::Pattern("/^?(a|b)$?/".into()),
        Value::Set(vec![Value::String("a".into()), Value::String("b,c".into())]),
        Value::Vector(vec![Value::Count(1), Value::Count(2), Value::Count(3)]),
        Value::Set(vec![
            Value::Addr(addr("10.0.0.1")),
            Value::Addr(addr("10.0.0.2")),
        ]),
        Value::String("function".into()),
    ];
    for (i, want) in expect.iter().enumerate() {
        assert_eq!(&r.values[i], want, "column {}", EVERY_NAME[i]);
    }
}

#[test]
fn unset_empty_and_dash_are_three_things() {
    let text = tsv_header(
        "t",
        &["s", "st", "vc", "c"],
        &["string", "set[string]", "vector[count]", "count"],
    ) + "-\t-\t-\t-\n(empty)\t(empty)\t(empty)\t0\n\\x2d\t\\x2d\t-,7\t1\n";
    let (records, errors) = read_text(&text);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(records[0].values.iter().all(Value::is_unset));
    assert_eq!(records[1].values[0], Value::String("".into()));
    assert_eq!(records[1].values[1], Value::Set(vec![]));
    assert_eq!(records[1].values[2], Value::Vector(vec![]));
    assert_eq!(records[2].values[0], Value::String("-".into()));
    assert_eq!(
        records[2].values[1],
        Value::Set(vec![Value::String("-".into())])
    );
    // An unset element inside a vector.
    assert_eq!(
        records[2].values[2],
        Value::Vector(vec![Value::Unset, Value::Count(7)])
    );
    // JSON keeps them apart too.
    let json: Vec<_> = records.iter().map(|r| r.to_json()["s"].clone()).collect();
    assert_eq!(json, [serde_json::Value::Null, "".into(), "-".into()]);
}

#[test]
fn custom_separators_and_markers_from_the_header() {
    let (records, errors) = common::split(LogReader::open(fixture("concatenated.log")).unwrap());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(records.len(), 3);
    assert_eq!(records[0].path(), "http");
    assert_eq!(
        records[0].get("user_agent").unwrap().as_str(),
        Some("Modzilla/0.0001 (Atari 7800)")
    );
    // The second block resets the schema, the separator (`|`) and the markers.
    let weird = &records[1];
    assert_eq!(weird.path(), "weird");
    assert_eq!(weird.schema.names.len(), 11);
    assert_eq!(
        weird.get("id.orig_h"),
        Some(&Value::Addr(addr("2001:db8::10")))
    );
    assert_eq!(
        weird.get("addl"),
        Some(&Value::Unset),
        "`?` is this block's unset marker"
    );
    assert_eq!(weird.get("source").unwrap().as_str(), Some("DNS"));
    let second = &records[2];
    assert_eq!(second.get("uid"), Some(&Value::Unset));
    assert_eq!(
        second.get("addl").unwrap().as_str(),
        Some(""),
        "`(none)` is this block's empty"
    );
    assert_eq!(
        second.get("source").unwrap().as_str(),
        Some("-"),
        "`-` is plain text here"
    );
    assert_eq!(second.line, 20);
}

#[test]
fn comments_close_and_open_do_not_disturb_a_block() {
    let text = tsv_header("conn", &["ts", "uid"], &["time", "string"])
        + "1.0\tC1\n# a comment in the middle\n#close\t2024-04-19-01-00-00\n2.0\tC2\n\n#whatever\n3.0\tC3\n";
    let (records, errors) = read_text(&text);
    assert!(errors.is_empty(), "{errors:?}");
    let uids: Vec<_> = records
        .iter()
        .map(|r| r.get("uid").unwrap().as_str().unwrap())
        .collect();
    assert_eq!(uids, ["C1", "C2", "C3"]);
    assert!(records.iter().all(|r| r.path() == "conn"));
}

#[test]
fn a_new_block_without_separator_line_keeps_separators_but_not_fields() {
    let text =
        "#separator \\x7c\n#fields|a|b\n#types|count|count\n1|2\n#fields|x\n#types|string\nhello\n";
    let (records, errors) = read_text(text);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(records[0].schema.names.len(), 2);
    assert_eq!(records[1].schema.names.len(), 1);
    assert_eq!(records[1].get("x").unwrap().as_str(), Some("hello"));
    // No `#path` anywhere and no default: the type is unknown.
    assert_eq!(records[1].path(), "unknown");
}

#[test]
fn default_path_names_logs_without_path() {
    let text = "#fields\tts\n#types\ttime\n1.5\n";
    let mut reader = LogReader::new(text.as_bytes(), "x", Some("conn"));
    assert_eq!(reader.next().unwrap().unwrap().path(), "conn");
    assert_eq!(reader.format(), Some(Format::Tsv));
}

#[test]
fn extra_columns_are_fields_like_any_other() {
    let (records, errors) = common::split(LogReader::open(fixture("conn.log")).unwrap());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(records.len(), 4);
    let r = &records[1];
    assert_eq!(r.schema.names[0].as_ref(), "_node_name");
    assert_eq!(r.get("_node_name").unwrap().as_str(), Some("worker-1"));
    assert_eq!(r.get("ts"), Some(&Value::Time(1713484801.12)));
    // Zeek declares conn's `service` a string: "ssl,http" is one value, not a set.
    assert_eq!(r.get("service").unwrap().as_str(), Some("ssl,http"));
    assert_eq!(r.get("tunnel_parents"), Some(&Value::Set(vec![])));
    assert_eq!(
        records[2].get("id.resp_h"),
        Some(&Value::Addr(addr("ff02::fb")))
    );
}

#[test]
fn scoped_names_resolve_both_ways() {
    let text = "#fields\tid_orig_h\tid.resp_h\n#types\taddr\taddr\n10.0.0.1\t10.0.0.2\n";
    let (records, _) = read_text(text);
    let r = &records[0];
    assert_eq!(r.get("id.orig_h"), r.get("id_orig_h"));
    assert_eq!(r.get("id_resp_h"), Some(&Value::Addr(addr("10.0.0.2"))));
    assert_eq!(r.get("id.missing"), None);
}

#[test]
fn field_count_mismatch_is_reported_and_reading_goes_on() {
    let text = tsv_header("conn", &["ts", "uid", "n"], &["time", "string", "count"])
        + "1.0\tC1\n2.0\tC2\t5\textra\n3.0\tnot-a-count-but-misaligned\n4.0\tC4\t4\n";
    let (records, errors) = read_text(&text);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].line, 12);
    let kinds: Vec<_> = errors.iter().map(|e| (e.line, e.kind.clone())).collect();
    assert_eq!(
        kinds,
        [
            (
                9,
                LineErrorKind::FieldCount {
                    expected: 3,
                    found: 2
                }
            ),
            (
                10,
                LineErrorKind::FieldCount {
                    expected: 3,
                    found: 4
                }
            ),
            (
                11,
                LineErrorKind::FieldCount {
                    expected: 3,
                    found: 2
                }
            ),
        ]
    );
    assert_eq!(
        errors[0].to_string(),
        "test.log:9: expected 3 fields, found 2"
    );
}

#[test]
fn bad_values_name_field_type_and_text() {
    let text = tsv_header(
        "t",
        &["b", "c", "i", "d", "a", "sn", "p", "vc"],
        &[
            "bool",
            "count",
            "int",
            "double",
            "addr",
            "subnet",
            "port",
            "vector[count]",
        ],
    );
    let good = ["T", "1", "-1", "1.5", "10.0.0.1", "10.0.0.0/8", "80", "1,2"];
    let bad = [
        (0, "yes", "not a bool (T or F)"),
        (1, "-1", "not a count"),
        (1, "+1", "not a count"),
        (2, "1.5", "not an int"),
        (3, "abc", "not a double"),
        (4, "10.0.0.256", "not an address"),
        (4, "fe80::1%eth0", "not an address"),
        (5, "10.0.0.0/33", "not a subnet"),
        (6, "65536", "port out of range"),
        (7, "1,x", "not a count"),
        (1, "(empty)", "empty value for a non-string type"),
        (0, "(empty)", "empty value for a non-string type"),
        (3, "(empty)", "empty value for a non-string type"),
        (4, "(empty)", "empty value for a non-string type"),
        (6, "(empty)", "empty value for a non-string type"),
    ];
    let mut text = text;
    for (column, value, _) in bad {
        let mut fields = good;
        fields[column] = value;
        text += &(fields.join("\t") + "\n");
    }
    text += &(good.join("\t") + "\n");
    let (records, errors) = read_text(&text);
    assert_eq!(records.len(), 1, "{errors:?}");
    assert_eq!(errors.len(), bad.len());
    for (error, (column, value, reason)) in errors.iter().zip(bad) {
        match &error.kind {
            LineErrorKind::BadValue {
                field,
                value: v,
                reason: r,
                ..
            } => {
                assert_eq!(field, ["b", "c", "i", "d", "a", "sn", "p", "vc"][column]);
                assert_eq!(v, value);
                assert_eq!(r, reason);
            }
            other => panic!("expected a bad value, got {other:?}"),
        }
    }
    assert_eq!(
        errors[4].to_string(),
        "test.log:13: field d (double): not a double: \"abc\""
    );
}

#[test]
fn invalid_utf8_is_a_line_error() {
    let mut bytes = tsv_header("t", &["s", "c"], &["string", "count"]).into_bytes();
    bytes.extend_from_slice(b"ok\t1\nbad\xff\xfe\t2\nok again\t3\n");
    let reader = LogReader::new(&bytes[..], "bytes.log", None);
    let (records, errors) = common::split(reader);
    assert_eq!(records.len(), 2);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 10);
    assert_eq!(errors[0].kind, LineErrorKind::InvalidUtf8 { at: 3 });
    // Escaped bytes that are not UTF-8 are kept as `\xNN` text (as Zeek's JSON writes them).
    let text = tsv_header("t", &["s"], &["string"]) + "caf\\xc3\\xa9 \\xff\n";
    let (records, _) = read_text(&text);
    assert_eq!(records[0].values[0].as_str(), Some("café \\xff"));
}

#[test]
fn over_long_lines_are_skipped_with_an_error() {
    let long = "x".repeat(5000);
    let text = tsv_header("t", &["s"], &["string"]) + "short\n" + &long + "\nafter\n" + &long;
    let reader = LogReader::new(text.as_bytes(), "long.log", None).with_max_line_len(4096);
    let (records, errors) = common::split(reader);
    let values: Vec<_> = records
        .iter()
        .map(|r| r.values[0].as_str().unwrap())
        .collect();
    assert_eq!(values, ["short", "after"]);
    assert_eq!(records[1].line, 11);
    let errs: Vec<_> = errors.iter().map(|e| (e.line, e.kind.clone())).collect();
    assert_eq!(
        errs,
        [
            (10, LineErrorKind::TooLong { limit: 4096 }),
            (12, LineErrorKind::TooLong { limit: 4096 }),
        ]
    );
    // A line of exactly the limit is fine, whatever the read sizes.
    let exact = "y".repeat(4096);
    let text = tsv_header("t", &["s"], &["string"]) + &exact + "\n";
    let reader =
        LogReader::new(OneByteReader(text.as_bytes()), "exact.log", None).with_max_line_len(4096);
    let (records, errors) = common::split(reader);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(records[0].values[0].as_str().unwrap().len(), 4096);
}

/// A reader that hands out one byte per call, to test buffer edges.
struct OneByteReader<'a>(&'a [u8]);

impl std::io::Read for OneByteReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match (self.0.split_first(), buf.first_mut()) {
            (Some((byte, rest)), Some(slot)) => {
                *slot = *byte;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

#[test]
fn byte_at_a_time_reads_match_whole_reads() {
    let text = std::fs::read(fixture("conn.log")).unwrap();
    let (whole, _) = common::split(LogReader::new(&text[..], "a", None));
    let (trickled, _) = common::split(LogReader::new(OneByteReader(&text), "a", None));
    assert_eq!(whole, trickled);
}

#[test]
fn crlf_line_ends_and_a_missing_final_newline_are_fine() {
    let text = "#fields\ta\tb\r\n#types\tcount\tstring\r\n1\tx\r\n2\ty";
    let (records, errors) = read_text(text);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(records[0].values[1].as_str(), Some("x"));
    assert_eq!(records[1].values[1].as_str(), Some("y"));
}

#[test]
fn no_usable_header_is_one_fatal_error() {
    let cases = [
        ("plain text\nmore text\n", "not a Zeek log"),
        (
            ">== Total === 2024-04-19\n   - Connections 1.9k\n",
            "not a Zeek log",
        ),
        (
            "#separator \\x09\n#path\tconn\n1\t2\n3\t4\n",
            "no #fields header",
        ),
        ("#fields\ta\tb\n1\t2\n3\t4\n", "#fields without #types"),
        (
            "#fields\ta\tb\n#types\tcount\n1\t2\n",
            "#fields names 2 columns but #types 1",
        ),
    ];
    for (text, reason) in cases {
        let (records, errors) = read_text(text);
        assert!(records.is_empty());
        assert_eq!(errors.len(), 1, "{text:?}: {errors:?}");
        assert!(errors[0].is_fatal() && errors[0].is_no_usable_header());
        let message = errors[0].to_string();
        assert!(message.contains(reason), "{message}");
        assert!(message.starts_with("test.log:"), "{message}");
    }
    // Empty input is no records and no errors.
    assert_eq!(read_text("").0.len() + read_text("").1.len(), 0);
}

#[test]
fn a_broken_later_block_errs_per_line_and_the_next_block_reads_again() {
    let text = "#fields\ta\n#types\tcount\n1\n#fields\ta\tb\n#types\tcount\n2\t3\n4\t5\n#separator \\x09\n#fields\tz\n#types\tstring\nok\n";
    let (records, errors) = read_text(text);
    assert_eq!(records.len(), 2);
    assert_eq!(records[1].values[0].as_str(), Some("ok"));
    assert_eq!(errors.len(), 2);
    assert!(errors.iter().all(|e| !e.is_fatal()));
    assert!(matches!(&errors[0].kind, LineErrorKind::BadHeader(r) if r.contains("2 columns")));
}

#[test]
fn gzip_is_told_by_magic_bytes_not_name() {
    let dir = tempfile::tempdir().unwrap();
    let plain = std::fs::read(fixture("conn.log")).unwrap();
    let gz_named_plain = dir.path().join("conn.log.gz");
    std::fs::write(&gz_named_plain, &plain).unwrap();
    let plain_named_gz = dir.path().join("conn.log");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(&plain[..300]).unwrap();
    let mut member = encoder.finish().unwrap();
    // A second gzip member (as `cat a.gz b.gz` makes) is read through.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(&plain[300..]).unwrap();
    member.extend(encoder.finish().unwrap());
    std::fs::write(&plain_named_gz, member).unwrap();
    let (want, _) = common::split(LogReader::open(fixture("conn.log")).unwrap());
    for path in [gz_named_plain, plain_named_gz] {
        let (got, errors) = common::split(LogReader::open(&path).unwrap());
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.values, w.values);
        }
    }
    let missing = LogReader::open(dir.path().join("nope.log")).err().unwrap();
    assert!(missing.to_string().contains("nope.log"), "{missing}");
}

#[test]
fn a_truncated_gzip_ends_with_a_fatal_read_error() {
    let plain = std::fs::read(fixture("conn.log")).unwrap();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(&plain).unwrap();
    let gz = encoder.finish().unwrap();
    let truncated = &gz[..gz.len() / 2];
    let input = wiredraw_core::zeek::decompressed(truncated).unwrap();
    let (_, errors) = common::split(LogReader::new(input, "cut.log.gz", None));
    let last = errors.last().expect("an error");
    assert!(
        last.is_fatal() && matches!(last.kind, LineErrorKind::Io(_)),
        "{last}"
    );
}

#[test]
fn file_name_gives_the_default_type() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ssh.00:00:00-01:00:00.log");
    std::fs::write(&path, "#fields\tts\n#types\ttime\n1.0\n").unwrap();
    let (records, _) = common::split(LogReader::open(&path).unwrap());
    assert_eq!(records[0].path(), "ssh");
}

#[test]
fn read_into_reuses_one_record_and_matches_the_iterator() {
    let text = std::fs::read(fixture("concatenated.log")).unwrap();
    let (want, want_errors) = common::split(LogReader::new(&text[..], "c", None));
    let mut reader = LogReader::new(&text[..], "c", None);
    let mut record = Record::default();
    let mut got = Vec::new();
    let mut errors = 0;
    while let Some(result) = reader.read_into(&mut record) {
        match result {
            Ok(()) => got.push(record.clone()),
            Err(_) => errors += 1,
        }
    }
    assert_eq!(got, want);
    assert_eq!(errors, want_errors.len());
}

/// `read_into` overwrites the previous record's values in place; a column whose value changes
/// kind from line to line (unset, empty, a string too long to store inline, a container, a bad
/// line between, a new block with other types) must read exactly as a fresh record does.
#[test]
fn read_into_overwrites_values_whatever_they_held_before() {
    let long = "a string far too long to be stored inline in the value";
    let mut text = tsv_header(
        "x",
        &["s", "n", "a", "v", "t", "e", "b"],
        &[
            "string",
            "count",
            "addr",
            "vector[string]",
            "set[count]",
            "enum",
            "bool",
        ],
    );
    for line in [
        format!("{long}\t5\t10.0.0.1\ta,b\t1,2\ttcp\tT"),
        "-\t-\t-\t-\t-\t-\t-".to_string(),
        "short\t7\t::1\t(empty)\t(empty)\t(empty)\tF".to_string(),
        "bad\tx\t10.0.0.9\t-\t-\t-\tT".to_string(),
        format!("(empty)\t8\t10.0.0.2\t-,{long}\t3\tudp\tT"),
        format!("{long}!\t9\t2001:db8::1\tc\t-\ticmp\t-"),
    ] {
        text.push_str(&line);
        text.push('\n');
    }
    text.push_str(&tsv_header("y", &["s", "n"], &["count", "string"]));
    text.push_str("4\tfour\n-\t(empty)\n");
    let (want, want_errors) = common::split(LogReader::new(text.as_bytes(), "x", None));
    assert_eq!((want.len(), want_errors.len()), (7, 1));
    let mut reader = LogReader::new(text.as_bytes(), "x", None);
    let mut record = Record::default();
    let mut got = Vec::new();
    while let Some(result) = reader.read_into(&mut record) {
        if result.is_ok() {
            got.push(record.clone());
        }
    }
    assert_eq!(got, want);
    assert_eq!(want[1].values, vec![Value::Unset; 7]);
    assert_eq!(want[3].get("s").unwrap().as_str(), Some(""));
    assert_eq!(
        want[4].get("s").unwrap().as_str(),
        Some(&*format!("{long}!"))
    );
    assert_eq!(want[6].get("n").unwrap().as_str(), Some(""));
}

#[test]
fn addresses_are_normalised() {
    let cases = [
        ("10.0.0.1", "10.0.0.1"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        (
            "2001:0db8:0000:0000:0001:0000:0000:0001",
            "2001:db8::1:0:0:1",
        ),
        ("FE80:0:0:0:0:0:0:1", "fe80::1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("::FFFF:C000:0201", "192.0.2.1"),
        ("::1", "::1"),
        ("::", "::"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
    ];
    let mut text = "#fields\ta\n#types\taddr\n".to_string();
    for (written, _) in cases {
        text += written;
        text += "\n";
    }
    let (records, errors) = read_text(&text);
    assert!(errors.is_empty(), "{errors:?}");
    for (record, (written, want)) in records.iter().zip(cases) {
        assert_eq!(record.values[0].to_string(), want, "{written}");
        assert_eq!(record.to_json()["a"], want);
        assert_eq!(
            wiredraw_core::zeek::normalise_addr(written).as_deref(),
            Some(want)
        );
    }
    assert_eq!(
        wiredraw_core::zeek::parse_subnet("::ffff:10.0.0.0/104"),
        Some((addr("10.0.0.0"), 8))
    );
    assert_eq!(
        wiredraw_core::zeek::parse_subnet("2001:DB8::/32"),
        Some((addr("2001:db8::"), 32))
    );
}

#[test]
fn json_shape_of_a_record() {
    let (records, _) = common::split(LogReader::open(fixture("conn.log")).unwrap());
    let line = serde_json::to_string(&records[2]).unwrap();
    assert_eq!(
        line,
        r#"{"_path":"conn","_node_name":"worker-1","ts":1713484802.5,"uid":"CpjMvj2Cvj048u6bF1","id.orig_h":"2001:db8::10","id.orig_p":5353,"id.resp_h":"ff02::fb","id.resp_p":5353,"proto":"udp","service":"dns","duration":null,"orig_bytes":null,"resp_bytes":null,"conn_state":"S0","local_orig":true,"local_resp":false,"missed_bytes":0,"history":"D","orig_pkts":1,"orig_ip_bytes":120,"resp_pkts":0,"resp_ip_bytes":0,"tunnel_parents":["Cxk1mP3dh8pFHNcAVb"]}"#
    );
    let json = records[1].to_json();
    assert_eq!(json["service"], "ssl,http");
    assert_eq!(json["tunnel_parents"], serde_json::json!([]));
    assert_eq!(json["duration"], 12.5);
}

/// A separator that is part of a character (here `\xc3`, the first byte of `é`) cuts a field
/// inside a character: that line is an error naming the field, not a panic, and reading goes on.
#[test]
fn a_separator_inside_a_character_is_a_line_error() {
    let log: &[u8] = b"#separator \\xc3\n#fields\xc3name\xc3note\n#types\xc3string\xc3string\n\
                       caf\xc3\xa9\n\
                       one field\n\
                       #separator \\x09\n#set_separator\t\xc3\n#fields\tnames\n#types\tset[string]\n\
                       caf\xc3\xa9\n\
                       a\xc3\xa9\xc3\xa9b\n";
    let (records, errors) = common::split(LogReader::new(log, "odd.log", None));
    assert!(records.is_empty(), "{records:?}");
    let errors: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        errors,
        [
            "odd.log:4: field note (string): a separator cuts this value inside a UTF-8 \
             character: \"\u{fffd}\"",
            "odd.log:5: expected 2 fields, found 1",
            "odd.log:10: field names (set[string]): a separator cuts this value inside a UTF-8 \
             character: \"caf\u{e9}\"",
            "odd.log:11: field names (set[string]): a separator cuts this value inside a UTF-8 \
             character: \"a\u{e9}\u{e9}b\"",
        ]
    );
}
