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
use clap::Parser;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use wiredraw_core::plugin::{ContributeError, LogType, RecordStream, Registry};
use wiredraw_core::zeek::{
    DEFAULT_MAX_LINE_LEN, LineError, LineErrorKind, LineReader, decompressed,
};
use wiredraw_core::{Connection, Contribution, FieldType, Record, Schema, Value};

/// AWS VPC flow logs, versions 2 to 5.
struct VpcFlow;

const NAME: &str = "vpcflow";

/// The fields every flow needs to become a connection.
const REQUIRED_FIELDS: [&str; 4] = ["srcaddr", "dstaddr", "protocol", "start"];

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

    /// Why a header line cannot describe flows: it lacks a field that every flow needs. A
    /// custom format may leave out any field, but without addresses, protocol and start time
    /// a record cannot be drawn as a connection in time.
    fn unusable_header(names: &[Arc<str>]) -> Option<String> {
        let missing: Vec<&str> = REQUIRED_FIELDS
            .into_iter()
            .filter(|field| !names.iter().any(|name| &**name == *field))
            .collect();
        (!missing.is_empty()).then(|| {
            format!(
                "the header line lacks {}; a flow needs {} to be drawn as a connection in time",
                missing.join(", "),
                REQUIRED_FIELDS.join(", ")
            )
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
                    if let Some(reason) = VpcFlow::unusable_header(&names) {
                        // Without a usable header no line can become a flow: one error, then
                        // stop, rather than the same complaint on every line.
                        done = true;
                        return error(LineErrorKind::NoUsableHeader(reason));
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
            packets: None,
        });
        out.details.push(wiredraw_core::Detail {
            uid: uid.into(),
            log_type: NAME.into(),
            record: record.clone(),
        });
        Ok(())
    }
}

/// Prints each flow of AWS VPC flow logs as a wiredraw connection (one JSON line each).
#[derive(Parser)]
struct Args {
    /// Flow log files, plain or gzip (default: every `.log` in ../shared/data/vpc-flow).
    paths: Vec<PathBuf>,
}

/// What reading one flow log gave.
#[derive(Default)]
struct FileReport {
    /// Records read (NODATA and SKIPDATA ones included).
    flows: usize,
    contribution: Contribution,
    /// `FILE:LINE: reason` for every line that could not be read or contributed.
    errors: Vec<String>,
}

/// Reads one flow log through the registry, as the server would read a body posted to
/// `/logs/vpcflow`.
fn read_flow_log(registry: &Registry, path: &Path) -> anyhow::Result<FileReport> {
    let file = std::fs::File::open(path).with_context(|| path.display().to_string())?;
    let source = path.display().to_string();
    let mut report = FileReport::default();
    for result in registry
        .get(NAME)
        .decode(decompressed(file)?, &source, DEFAULT_MAX_LINE_LEN)
    {
        let contributed = result.map_err(|e| e.to_string()).and_then(|record| {
            report.flows += 1;
            registry
                .contribute(&record, &mut report.contribution)
                .map_err(|e| format!("{source}:{}: {e}", record.line))
        });
        if let Err(message) = contributed {
            report.errors.push(message);
        }
    }
    Ok(report)
}

fn registry() -> anyhow::Result<Registry> {
    let mut registry = Registry::with_builtins();
    registry.register(Box::new(VpcFlow))?;
    Ok(registry)
}

fn main() -> anyhow::Result<()> {
    let mut paths = Args::parse().paths;
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
    let registry = registry()?;
    for path in &paths {
        let report = read_flow_log(&registry, path)?;
        for error in &report.errors {
            eprintln!("{error}");
        }
        for connection in &report.contribution.connections {
            println!("{}", serde_json::to_string(connection)?);
        }
        eprintln!(
            "{}: {} flows, {} connections, {} details, {} errors",
            path.display(),
            report.flows,
            report.contribution.connections.len(),
            report.contribution.details.len(),
            report.errors.len()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> PathBuf {
        Path::new("../shared/data/vpc-flow").join(name)
    }

    fn read(path: &Path) -> FileReport {
        read_flow_log(&registry().unwrap(), path).unwrap()
    }

    #[test]
    fn every_aws_sample_reads_as_documented() {
        // (file, records, connections, errors): NODATA and SKIPDATA records are read but
        // describe no flow; the two formats without protocol or start times are one error.
        for (file, flows, connections, errors) in [
            ("vpcflow_default_v2.log", 7, 5, 0),
            ("vpcflow_tcpflags_v3.log", 8, 8, 0),
            ("vpcflow_traffic_path_v5.log", 2, 2, 0),
            ("vpcflow_nat_gateway_custom.log", 0, 0, 1),
            ("vpcflow_transit_gateway_v3.log", 0, 0, 1),
        ] {
            let report = read(&sample(file));
            assert_eq!(
                (
                    report.flows,
                    report.contribution.connections.len(),
                    report.contribution.details.len(),
                    report.errors.len()
                ),
                (flows, connections, connections, errors),
                "{file}: {:?}",
                report.errors
            );
        }
    }

    #[test]
    fn a_format_without_start_times_is_one_clear_error() {
        let report = read(&sample("vpcflow_transit_gateway_v3.log"));
        let [error] = report.errors.as_slice() else {
            panic!("{:?}", report.errors);
        };
        assert!(
            error.starts_with("../shared/data/vpc-flow/vpcflow_transit_gateway_v3.log:1:")
                && error.contains("lacks start;"),
            "{error}"
        );
        let report = read(&sample("vpcflow_nat_gateway_custom.log"));
        assert!(
            report.errors[0].contains("lacks protocol, start;"),
            "{:?}",
            report.errors
        );
    }

    #[test]
    fn a_flow_becomes_a_connection_with_its_record_attached() {
        let report = read(&sample("vpcflow_default_v2.log"));
        let first = &report.contribution.connections[0];
        assert_eq!(
            (
                first.orig_h.to_string(),
                first.orig_p,
                first.resp_h.to_string(),
                first.resp_p,
                first.proto.as_str(),
                first.ts,
                first.duration,
                first.orig_bytes,
            ),
            (
                "172.31.16.139".to_string(),
                Some(20641),
                "172.31.16.21".to_string(),
                Some(22),
                "tcp",
                1_418_530_010.0,
                Some(60.0),
                Some(4249),
            )
        );
        let icmp = &report.contribution.connections[2];
        assert_eq!((icmp.proto.as_str(), icmp.orig_bytes), ("icmp", Some(336)));
        let v6 = &report.contribution.connections[4];
        assert_eq!(
            v6.orig_h.to_string(),
            "2001:db8:1234:a100:8d6e:3477:df66:f105"
        );
        let detail = &report.contribution.details[1];
        assert_eq!(detail.uid, report.contribution.connections[1].uid);
        assert_eq!(
            detail.record.get("action"),
            Some(&Value::String("REJECT".into()))
        );
    }

    #[test]
    fn reading_a_file_twice_gives_the_same_uids() {
        let uids = |report: FileReport| -> Vec<String> {
            report
                .contribution
                .connections
                .iter()
                .map(|c| c.uid.to_string())
                .collect()
        };
        let path = sample("vpcflow_tcpflags_v3.log");
        let (first, second) = (uids(read(&path)), uids(read(&path)));
        assert_eq!(first, second);
        let distinct: std::collections::BTreeSet<&String> = first.iter().collect();
        assert_eq!(distinct.len(), first.len(), "every flow has its own uid");
    }

    #[test]
    fn a_bad_line_names_file_line_and_field_and_the_rest_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flows.log");
        std::fs::write(
            &path,
            "version srcaddr dstaddr srcport dstport protocol bytes start end log-status\n\
             2 10.0.0.1 10.0.0.2 5000 70000 6 10 1700000000 1700000060 OK\n\
             2 10.0.0.1 10.0.0.2 5000 443 6 10 1700000000 1700000060 OK\n\
             7 10.0.0.1 10.0.0.2 5000 443 6 10 1700000000 1700000060 OK\n",
        )
        .unwrap();
        let report = read(&path);
        let file = path.display();
        assert_eq!(
            report.errors,
            [
                format!("{file}:2: field dstport (port): port out of range: \"70000\""),
                format!("{file}:4: flow log version 7 is not one of 2 to 5"),
            ]
        );
        assert_eq!(report.contribution.connections.len(), 1);
    }
}
