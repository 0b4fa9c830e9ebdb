//! Helpers shared by the reader and plugin tests.
#![allow(dead_code)] // Each test file uses a different part.

use std::path::PathBuf;
use wiredraw_core::Record;
use wiredraw_core::zeek::{LineError, LogReader};

/// `../shared/data` beside the repository: real Zeek logs. Missing data fails the test.
pub fn shared_data() -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data"));
    assert!(
        dir.join("zeek").is_dir(),
        "real test data is missing: expected Zeek logs under {} (the shared data directory \
         beside the repository; CI provides it)",
        dir.display()
    );
    dir
}

/// A fixture under the repository's `fixtures/zeek/`.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/zeek")).join(name)
}

/// Every record and error of a log given as text.
pub fn read_text(text: &str) -> (Vec<Record>, Vec<LineError>) {
    split(LogReader::new(text.as_bytes(), "test.log", None))
}

/// Every record and error of a reader.
pub fn split<I: Iterator<Item = Result<Record, LineError>>>(
    reader: I,
) -> (Vec<Record>, Vec<LineError>) {
    let mut records = Vec::new();
    let mut errors = Vec::new();
    for result in reader {
        match result {
            Ok(record) => records.push(record),
            Err(error) => errors.push(error),
        }
    }
    (records, errors)
}

/// Every file under a directory, recursively, sorted.
pub fn files_under(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// A TSV header with tab separators for the given columns.
pub fn tsv_header(path: &str, fields: &[&str], types: &[&str]) -> String {
    format!(
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\t{path}\n\
         #open\t2024-04-19-00-00-01\n#fields\t{}\n#types\t{}\n",
        fields.join("\t"),
        types.join("\t")
    )
}
