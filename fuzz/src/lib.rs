//! What the reader fuzz targets check, shared with the normal test suite.
//!
//! The cargo-fuzz targets (`fuzz_targets/`) call [`tsv_reader`] and [`json_reader`] with
//! libFuzzer's inputs; `wiredraw-core/tests/fuzz_readers.rs` includes this same file and runs
//! them on random and mutated logs under proptest, so CI replays them without nightly.
//!
//! Beyond "never panics", each input is read several ways that must agree: the `Iterator` and
//! `read_into` APIs, one byte per `read` call, and through gzip. Line numbers only grow, a fatal
//! error is the last thing read, every record has one value per column and serialises as
//! zeek2json prints it, and the built-in plugins take every record without panicking.

use std::io::{Read, Write};
use wiredraw_core::plugin::Registry;
use wiredraw_core::zeek::{LineError, LogReader};
use wiredraw_core::{Contribution, Record};

/// The header the TSV target puts before inputs that do not start one themselves, so most
/// inputs exercise data lines rather than the "not a Zeek log" error.
pub const TSV_HEADER: &[u8] = b"#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n\
#unset_field\t-\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\t\
proto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\thistory\ttunnel_parents\n\
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\t\
string\tset[string]\n";

/// Longest line the checks allow, small so the limit itself gets exercised.
const MAX_LINE_LEN: usize = 512;

/// Reads `data` as Zeek TSV (after [`TSV_HEADER`] unless it starts with `#`) and checks it.
pub fn tsv_reader(data: &[u8]) {
    if data.first() == Some(&b'#') {
        check_log(data);
    } else {
        check_log(&[TSV_HEADER, data].concat());
    }
}

/// Reads `data` as Zeek JSON lines (after one `{}` line unless it starts with `{`) and checks
/// it.
pub fn json_reader(data: &[u8]) {
    if data.first() == Some(&b'{') {
        check_log(data);
    } else {
        check_log(&[b"{}\n", data].concat());
    }
}

type Outcome = Vec<Result<Record, LineError>>;

fn read_all(input: impl Read) -> Outcome {
    LogReader::new(input, "fuzz.log", Some("conn"))
        .with_max_line_len(MAX_LINE_LEN)
        .collect()
}

/// Reads one log every way and checks that the ways agree and the results make sense.
pub fn check_log(data: &[u8]) {
    let outcome = read_all(data);
    let lines = 1 + memchr_count(data) as u64;

    let mut last_line = 0;
    for (i, result) in outcome.iter().enumerate() {
        let line = match result {
            Ok(record) => {
                assert_eq!(
                    record.values.len(),
                    record.schema.len(),
                    "one value per column"
                );
                serde_json::to_string(record).expect("a record serialises");
                record.line
            }
            Err(error) => {
                assert!(
                    !error.is_fatal() || i + 1 == outcome.len(),
                    "nothing follows a fatal error: {error}"
                );
                assert!(error.to_string().starts_with("fuzz.log:"), "{error}");
                error.line
            }
        };
        assert!(
            line > last_line && line <= lines,
            "line {line} after {last_line}"
        );
        last_line = line;
    }

    let mut reader = LogReader::new(data, "fuzz.log", Some("conn")).with_max_line_len(MAX_LINE_LEN);
    let mut record = Record::default();
    for want in &outcome {
        let got = reader
            .read_into(&mut record)
            .expect("read_into yields as much");
        match (want, got) {
            (Ok(want), Ok(())) => assert_eq!(format!("{want:?}"), format!("{record:?}")),
            (Err(want), Err(got)) => assert_eq!(*want, got),
            (want, got) => panic!("iterator gave {want:?}, read_into {got:?}"),
        }
    }
    assert!(
        reader.read_into(&mut record).is_none(),
        "read_into yields no more"
    );

    // Compared as text: a `nan` double is a value like any other here.
    let expected = format!("{outcome:?}");
    assert_eq!(
        format!("{:?}", read_all(OneByteAtATime(data))),
        expected,
        "split reads"
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).expect("writing to memory");
    let gz = gz.finish().expect("writing to memory");
    let unzipped = wiredraw_core::zeek::decompressed(&gz[..]).expect("reading memory");
    assert_eq!(
        format!("{:?}", read_all(unzipped)),
        expected,
        "through gzip"
    );

    let registry = Registry::with_builtins();
    let mut out = Contribution::default();
    for record in outcome.iter().flatten() {
        // Either way is fine; panicking is not.
        let _ = registry.contribute(record, &mut out);
    }
}

fn memchr_count(data: &[u8]) -> usize {
    data.iter().filter(|&&b| b == b'\n').count()
}

/// A reader that hands out one byte per call, to test every buffer edge.
struct OneByteAtATime<'a>(&'a [u8]);

impl Read for OneByteAtATime<'_> {
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
