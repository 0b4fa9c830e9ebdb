//! The synthetic logs read back through the crate's own Zeek reader, in both formats.

use wiredraw_core::synth::{self, LogKind, OutputFormat, SynthConfig};
use wiredraw_core::zeek::LogReader;
use wiredraw_core::{FieldType, Record};

/// Every record of one generated log, failing on any line the reader rejects.
fn read_all(path: &std::path::Path) -> Vec<Record> {
    LogReader::open(path)
        .unwrap()
        .map(|record| record.unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

/// A record as zeek2json shapes it, without the unset fields Zeek's JSON writer leaves out.
fn set_fields(record: &Record) -> serde_json::Value {
    let mut json = record.to_json();
    json.as_object_mut()
        .expect("records are objects")
        .retain(|_, value| !value.is_null());
    json
}

#[test]
fn tsv_and_json_read_back_without_errors_as_the_same_records() {
    let dir = tempfile::tempdir().unwrap();
    let config = |format| SynthConfig {
        hosts: 12,
        hours: 6.0,
        seed: 3,
        format,
        ..SynthConfig::default()
    };
    let (tsv_dir, json_dir) = (dir.path().join("tsv"), dir.path().join("json"));
    let summary = synth::generate(&config(OutputFormat::Tsv), &tsv_dir).unwrap();
    synth::generate(&config(OutputFormat::Json), &json_dir).unwrap();

    for kind in LogKind::ALL {
        let tsv = read_all(&tsv_dir.join(kind.file_name()));
        let json = read_all(&json_dir.join(kind.file_name()));
        assert_eq!(tsv.len() as u64, summary.count(kind), "{kind:?}");
        assert_eq!(json.len(), tsv.len(), "{kind:?}");

        let schema = &tsv[0].schema;
        assert_eq!(&*schema.path, kind.path());
        let declared: Vec<(&str, FieldType)> = kind
            .fields()
            .iter()
            .map(|&(name, zeek_type)| (name, FieldType::parse(zeek_type)))
            .collect();
        let read: Vec<(&str, FieldType)> = schema
            .names
            .iter()
            .map(|name| &**name)
            .zip(schema.types.iter().cloned())
            .collect();
        assert_eq!(read, declared, "{kind:?}");

        for (t, j) in tsv.iter().zip(&json) {
            assert_eq!(j.path(), kind.path());
            assert_eq!(set_fields(t), set_fields(j), "{kind:?} line {}", t.line);
        }
    }
}
