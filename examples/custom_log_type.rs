//! A complete custom log type: AWS VPC flow logs, turned into wiredraw connections.
//!
//! `cargo run --release --example custom_log_type -- [PATH...]` (default: every file in
//! `../shared/data/vpc-flow`) prints each connection as a JSON line, each bad line as
//! `FILE:LINE: reason` on stderr, and a summary per file.
//!
//! VPC flow logs are space separated with the field names on the first line (the default
//! format of version 2, or any custom selection of the fields of versions 2 to 5). `-` is an
//! unset field. Records with `log-status` NODATA (no traffic in the window) or SKIPDATA
//! (records skipped by AWS) describe no flow and contribute nothing. A flow is one direction
//! of traffic, so each becomes one connection from `srcaddr` to `dstaddr`, with `bytes` as the
//! originator's bytes; the whole record is attached to it as a detail (action, tcp-flags,
//! traffic path…). Flow records carry no id, so the connection's uid is a hash of what
//! identifies the flow: sending a file twice adds nothing new.
//!
//! What makes it a plugin is the [`LogType`] impl: `name` is the URL segment a collector posts
//! to (`/logs/vpcflow`), `decode` reads the format, `contribute` maps one record.

use anyhow::Context;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use wiredraw_core::plugin::{ContributeError, LogType, RecordStream, Registry};
use wiredraw_core::zeek::{
    DEFAULT_MAX_LINE_LEN, LineError, LineErrorKind, LineReader, decompressed,
};
use wiredraw_core::{Connection, Contribution, FieldType, Record, Schema, Value};

/// AWS VPC flow logs, versions 2 to 5.
struct VpcFlow;

const NAME: &str = "vpcflow";

impl VpcFlow {
    /// The type of a VPC flow log field, by its name (AWS's documented field list).
    fn field_type(name: &str) -> FieldType {
        match name {
            "srcaddr" | "dstaddr" | "pkt-srcaddr" | "pkt-dstaddr" => FieldType::Addr,
            "srcport" | "dstport" => FieldType::Port,
            "version" | "protocol" | "packets" | "bytes" | "tcp-flags" | "traffic-path" => {
                FieldType::Count
            }
            "start" | "end" => FieldType::Time,
            _ => FieldType::String,
        }
    }

    fn convert(text: &str, ty: &FieldType) -> Result<Value, &'static str> {
        if text == "-" {
            return Ok(Value::Unset);
        }
        let number = || text.parse::<u64>().map_err(|_| "not a whole number");
        Ok(match ty {
            FieldType::Addr => {
                Value::Addr(wiredraw_core::zeek::parse_addr(text).ok_or("not an IP address")?)
            }
            FieldType::Port => {
                Value::Port(u16::try_from(number()?).map_err(|_| "port out of range")?)
            }
            FieldType::Count => Value::Count(number()?),
            FieldType::Time => Value::Time(number()? as f64),
            _ => Value::String(text.into()),
        })
    }

    /// The record of one data line.
    fn record(schema: &Arc<Schema>, line: &str, number: u64) -> Result<Record, LineErrorKind> {
        let fields: Vec<&str> = line.split_ascii_whitespace().collect();
        if fields.len() != schema.len() {
            return Err(LineErrorKind::FieldCount {
                expected: schema.len(),
                found: fields.len(),
            });
        }
        let mut values = Vec::with_capacity(fields.len());
        for ((text, name), ty) in fields.iter().zip(&schema.names).zip(&schema.types) {
            let value = VpcFlow::convert(text, ty).map_err(|reason| LineErrorKind::BadValue {
                field: name.to_string(),
                ty: ty.to_string(),
                value: text.to_string(),
                reason: reason.into(),
            })?;
            values.push(value);
        }
        let record = Record {
            schema: Arc::clone(schema),
            values,
            line: number,
        };
        match record.get_set("version").and_then(Value::as_u64) {
            Some(2..=5) | None => Ok(record),
            Some(other) => Err(LineErrorKind::Invalid(format!(
                "flow log version {other} is not one of 2 to 5"
            ))),
        }
    }

    /// A stable uid for a flow (FNV-1a over what identifies it).
    fn uid(record: &Record) -> String {
        let mut hash = 0xcbf2_9ce4_8422_2325u64;
        for field in [
            "interface-id",
            "srcaddr",
            "dstaddr",
            "srcport",
            "dstport",
            "protocol",
            "start",
        ] {
            let text = record.get(field).map(Value::to_string).unwrap_or_default();
            for byte in text.bytes().chain([0xff]) {
                hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("V{hash:016x}")
    }
}

/// IANA protocol numbers as Zeek names them.
fn proto_name(number: u64) -> String {
    match number {
        1 | 58 => "icmp".into(),
        6 => "tcp".into(),
        17 => "udp".into(),
        other => other.to_string(),
    }
}

impl LogType for VpcFlow {
    fn name(&self) -> &str {
        NAME
    }

    fn decode<'a>(
        &self,
        input: Box<dyn Read + Send + 'a>,
        source: &str,
        max_line_len: usize,
    ) -> RecordStream<'a> {
        let mut lines = LineReader::new(input, source, max_line_len);
        let mut schema: Option<Arc<Schema>> = None;
        let file: Arc<str> = source.into();
        let mut done = false;
        Box::new(std::iter::from_fn(move || {
            loop {
                if done {
                    return None;
                }
                let line = match lines.next_line()? {
                    Ok(line) => line,
                    Err(error) => return Some(Err(error)),
                };
                let number = line.number;
                let error = |kind| Some(Err(LineError::new(Arc::clone(&file), number, kind)));
                let Ok(text) = std::str::from_utf8(line.bytes) else {
                    return error(LineErrorKind::InvalidUtf8 { at: 0 });
                };
                if text.trim().is_empty() {
                    continue;
                }
                let Some(schema) = &schema else {
                    let names: Vec<Arc<str>> =
                        text.split_ascii_whitespace().map(Arc::from).collect();
                    if !names.iter().any(|n| &**n == "srcaddr") {
                        // Without the header nothing else can be read: stop here.
                        let reason = "the first line must name the fields (srcaddr, dstaddr, …)";
                        done = true;
                        return error(LineErrorKind::NoUsableHeader(reason.into()));
                    }
                    let types = names.iter().map(|n| VpcFlow::field_type(n)).collect();
                    schema = Some(Arc::new(Schema::new(NAME, names, types)));
                    continue;
                };
                return Some(
                    VpcFlow::record(schema, text, number)
                        .map_err(|kind| LineError::new(Arc::clone(&file), number, kind)),
                );
            }
        }))
    }

    fn contribute(&self, record: &Record, out: &mut Contribution) -> Result<(), ContributeError> {
        let status = record.get_set("log-status").and_then(Value::as_str);
        if matches!(status, Some("NODATA" | "SKIPDATA")) {
            return Ok(());
        }
        let required = |field: &str| {
            record
                .get_set(field)
                .ok_or_else(|| ContributeError::MissingField(field.into()))
        };
        let addr = |field: &str| required(field).map(|v| v.as_addr().expect("typed as addr"));
        let start = required("start")?.as_f64().expect("typed as time");
        let end = record.get_set("end").and_then(Value::as_f64);
        let uid = VpcFlow::uid(record);
        out.connections.push(Connection {
            uid: uid.as_str().into(),
            ts: start,
            duration: end.map(|end| (end - start).max(0.0)),
            orig_h: addr("srcaddr")?,
            orig_p: record.get_set("srcport").and_then(Value::as_port),
            resp_h: addr("dstaddr")?,
            resp_p: record.get_set("dstport").and_then(Value::as_port),
            proto: proto_name(required("protocol")?.as_u64().expect("typed as count")).into(),
            service: None,
            orig_bytes: record.get_set("bytes").and_then(Value::as_u64),
            resp_bytes: None,
            conn_state: None,
            history: None,
        });
        out.details.push(wiredraw_core::Detail {
            uid: uid.into(),
            log_type: NAME.into(),
            record: record.clone(),
        });
        Ok(())
    }
}

fn main() -> anyhow::Result<()> {
    let mut paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if paths.is_empty() {
        let dir = PathBuf::from("../shared/data/vpc-flow");
        for entry in std::fs::read_dir(&dir).with_context(|| dir.display().to_string())? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "log") {
                paths.push(path);
            }
        }
        paths.sort();
    }
    let mut registry = Registry::with_builtins();
    registry.register(Box::new(VpcFlow))?;

    for path in &paths {
        let file = std::fs::File::open(path).with_context(|| path.display().to_string())?;
        let input = decompressed(file)?;
        let log_type = registry.get(NAME);
        let (mut flows, mut errors) = (0, 0);
        let mut out = Contribution::default();
        for result in log_type.decode(input, &path.display().to_string(), DEFAULT_MAX_LINE_LEN) {
            let contributed = result.map_err(|e| e.to_string()).and_then(|record| {
                flows += 1;
                registry
                    .contribute(&record, &mut out)
                    .map_err(|e| format!("{}:{}: {e}", path.display(), record.line))
            });
            if let Err(message) = contributed {
                eprintln!("{message}");
                errors += 1;
            }
        }
        for connection in &out.connections {
            println!("{}", serde_json::to_string(connection)?);
        }
        eprintln!(
            "{}: {flows} flows, {} connections, {} details, {errors} errors",
            path.display(),
            out.connections.len(),
            out.details.len()
        );
    }
    Ok(())
}
