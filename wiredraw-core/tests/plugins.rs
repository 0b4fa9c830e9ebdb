//! Log-type plugins: the registry, the built-ins, and a custom type with its own format.

mod common;

use common::{read_text, tsv_header};
use std::io::Read;
use std::sync::Arc;
use wiredraw_core::plugin::{
    ContributeError, LogType, RecordStream, Registry, RegistryError, UidDetail,
};
use wiredraw_core::synth::LogKind;
use wiredraw_core::zeek::{DEFAULT_MAX_LINE_LEN, LineError, LineErrorKind};
use wiredraw_core::{
    CaptureLoss, Connection, Contribution, FieldType, PacketCounts, Record, Schema, Value,
};

fn contribute(text: &str) -> (Contribution, Vec<ContributeError>) {
    let (records, errors) = read_text(text);
    assert!(errors.is_empty(), "{errors:?}");
    let registry = Registry::with_builtins();
    let mut out = Contribution::default();
    let failures = records
        .iter()
        .filter_map(|r| registry.contribute(r, &mut out).err())
        .collect();
    (out, failures)
}

#[test]
fn builtins_are_registered_by_their_zeek_names() {
    let registry = Registry::with_builtins();
    let names: Vec<&str> = registry.names().collect();
    assert_eq!(
        names,
        [
            "capture_loss",
            "conn",
            "dhcp",
            "dns",
            "files",
            "http",
            "intel",
            "notice",
            "smtp",
            "software",
            "ssh",
            "ssl",
            "weird",
            "x509"
        ]
    );
    assert!(registry.lookup("kerberos").is_none());
    assert_eq!(registry.get("kerberos").name(), registry.fallback().name());
}

/// A TSV header of Zeek 6's conn columns (the synthetic generator's) from `ts` to `history`
/// without `local_orig`, `local_resp` and `missed_bytes`, then the four packet counts if asked.
fn conn_header(packet_counts: bool) -> String {
    let (fields, types): (Vec<&str>, Vec<&str>) = LogKind::Conn
        .fields()
        .iter()
        .filter(|(name, _)| {
            !matches!(
                *name,
                "local_orig" | "local_resp" | "missed_bytes" | "tunnel_parents"
            ) && (packet_counts || !(name.ends_with("_pkts") || name.ends_with("_ip_bytes")))
        })
        .copied()
        .unzip();
    tsv_header("conn", &fields, &types)
}

#[test]
fn conn_records_become_connections() {
    let text = conn_header(false)
        + "100.5\tC1\t10.0.0.1\t5000\t2001:DB8::1\t443\ttcp\tssl\t2.5\t10\t20\tSF\tShADadFf\n\
         101.0\tC2\t10.0.0.1\t-\t10.0.0.9\t-\ticmp\t-\t-\t-\t-\t-\t-\n\
         102.0\tC3\t-\t1\t10.0.0.9\t2\tudp\t-\t-\t-\t-\t-\t-\n";
    let (out, failures) = contribute(&text);
    assert_eq!(
        out.connections[0],
        Connection {
            uid: "C1".into(),
            ts: 100.5,
            duration: Some(2.5),
            orig_h: "10.0.0.1".parse().unwrap(),
            orig_p: Some(5000),
            resp_h: "2001:db8::1".parse().unwrap(),
            resp_p: Some(443),
            proto: "tcp".into(),
            service: Some("ssl".into()),
            orig_bytes: Some(10),
            resp_bytes: Some(20),
            conn_state: Some("SF".into()),
            history: Some("ShADadFf".into()),
            packets: None,
        }
    );
    // Optional fields may be unset; required ones may not.
    assert_eq!(out.connections[1].orig_p, None);
    assert_eq!(out.connections.len(), 2);
    assert_eq!(
        failures,
        [ContributeError::MissingField("id.orig_h".into())]
    );
}

/// A reset from the rita logs that Zeek counted as 1.96 GB of response, in TSV and in Zeek's
/// JSON: the same connection, with the packet counts that cut its payload to 84 bytes. A log
/// without the counts gives none; a count that is not a number is an error naming the field.
#[test]
fn conn_packet_counts_read_alike_from_tsv_and_json() {
    let tsv = conn_header(true)
        + "1713539959.156291\tCudYex2Y82IShk9bh\t64.62.197.3\t44708\t64.225.56.201\t80\ttcp\t\
           http\t0.070889\t91\t1964191874\tRSTR\tShDgrR\t3\t211\t2\t84\n";
    let json = r#"{"_path":"conn","ts":1713539959.156291,"uid":"CudYex2Y82IShk9bh",
        "id.orig_h":"64.62.197.3","id.orig_p":44708,"id.resp_h":"64.225.56.201","id.resp_p":80,
        "proto":"tcp","service":"http","duration":0.070889,"orig_bytes":91,
        "resp_bytes":1964191874,"conn_state":"RSTR","history":"ShDgrR","orig_pkts":3,
        "orig_ip_bytes":211,"resp_pkts":2,"resp_ip_bytes":84}"#
        .replace('\n', "")
        + "\n";
    let (from_tsv, failures) = contribute(&tsv);
    assert!(failures.is_empty(), "{failures:?}");
    let (from_json, failures) = contribute(&json);
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(from_tsv.connections, from_json.connections);
    let conn = &from_tsv.connections[0];
    assert_eq!(
        conn.packets,
        Some(PacketCounts {
            orig_pkts: 3,
            orig_ip_bytes: 211,
            resp_pkts: 2,
            resp_ip_bytes: 84
        })
    );
    assert_eq!(conn.payload_bytes(), (91, 84));

    let without = json.replace(r#","resp_ip_bytes":84"#, "");
    let (out, failures) = contribute(&without);
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(out.connections[0].packets, None);
    assert_eq!(out.connections[0].payload_bytes(), (91, 1_964_191_874));

    let (_, failures) = contribute(&json.replace(r#""orig_pkts":3"#, r#""orig_pkts":"three""#));
    assert_eq!(
        failures,
        [ContributeError::BadField {
            field: "orig_pkts".into(),
            reason: "expected a count, found three".into(),
        }]
    );
}

#[test]
fn dns_answers_annotate_hosts_and_the_record_is_a_detail() {
    let text = tsv_header(
        "dns",
        &["ts", "uid", "query", "answers"],
        &["time", "string", "string", "vector[string]"],
    ) + "5.0\tCd\tWWW.Example.COM.\tcname.example.net,93.184.216.34,2606:2800:0220:0001::1,93.184.216.34\n\
         6.0\tCe\t-\t-\n";
    let (out, failures) = contribute(&text);
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(out.details.len(), 2);
    assert_eq!(out.details[0].uid, "Cd");
    assert_eq!(out.details[0].log_type, "dns");
    let names: Vec<(String, &str)> = out
        .annotations
        .iter()
        .map(|a| (a.addr.to_string(), a.name.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("93.184.216.34".to_owned(), "www.example.com"),
            ("2606:2800:220:1::1".to_owned(), "www.example.com"),
        ]
    );
    assert!(out.annotations.iter().all(|a| a.ts == 5.0));
}

#[test]
fn details_attach_by_uid_uids_or_conn_uids() {
    let files = tsv_header(
        "files",
        &["ts", "fuid", "conn_uids"],
        &["time", "string", "set[string]"],
    ) + "1.0\tF1\tCa,Cb\n";
    let dhcp = tsv_header("dhcp", &["ts", "uids"], &["time", "set[string]"]) + "2.0\tCc\n";
    let weird = tsv_header(
        "weird",
        &["ts", "uid", "name"],
        &["time", "string", "string"],
    ) + "3.0\t-\tbad_ip_checksum\n4.0\tCd\tdnp3_corrupt\n";
    let (out, failures) = contribute(&(files + &dhcp + &weird));
    assert!(failures.is_empty(), "{failures:?}");
    let attached: Vec<(&str, &str)> = out
        .details
        .iter()
        .map(|d| (d.log_type.as_str(), d.uid.as_str()))
        .collect();
    // A weird with no connection contributes nothing.
    assert_eq!(
        attached,
        [
            ("files", "Ca"),
            ("files", "Cb"),
            ("dhcp", "Cc"),
            ("weird", "Cd")
        ]
    );
    // The whole record is kept.
    assert_eq!(
        out.details[3].record.get("name").and_then(Value::as_str),
        Some("dnp3_corrupt")
    );
}

#[test]
fn notices_attach_to_their_connection_and_to_the_hosts_they_name() {
    let notice = tsv_header(
        "notice",
        &["ts", "uid", "note", "msg", "src", "dst"],
        &["time", "string", "enum", "string", "addr", "addr"],
    );
    let text = notice
        // From wrccdc: a certificate that failed validation, on a connection.
        + "1521911720.629574\tCmC9kY1X0u9nP78KZc\tSSL::Invalid_Server_Cert\tSSL certificate validation failed\t10.164.94.120\t10.47.3.200\n\
           2.0\t-\tSSH::Password_Guessing\t10.0.0.9 appears to be guessing SSH passwords\t10.0.0.9\t-\n\
           3.0\t-\tCaptureLoss::Too_Much_Loss\tloss above 10%\t-\t-\n\
           4.0\t-\tScan::Port_Scan\tself\t10.0.0.7\t10.0.0.7\n";
    let (out, failures) = contribute(&text);
    let attached: Vec<&str> = out.details.iter().map(|d| d.uid.as_str()).collect();
    assert_eq!(attached, ["CmC9kY1X0u9nP78KZc"]);
    let hosts: Vec<(String, &str)> = out
        .host_records
        .iter()
        .map(|h| {
            (
                h.addr.to_string(),
                h.record.get("note").and_then(Value::as_str).unwrap(),
            )
        })
        .collect();
    assert_eq!(
        hosts,
        [
            ("10.164.94.120".to_string(), "SSL::Invalid_Server_Cert"),
            ("10.47.3.200".to_string(), "SSL::Invalid_Server_Cert"),
            ("10.0.0.9".to_string(), "SSH::Password_Guessing"),
            ("10.0.0.7".to_string(), "Scan::Port_Scan"),
        ]
    );
    assert!(out.host_records.iter().all(|h| h.log_type == "notice"));
    assert!(failures.is_empty(), "{failures:?}");
}

#[test]
fn intel_hits_attach_to_their_connection_and_flag_both_its_hosts() {
    let intel = tsv_header(
        "intel",
        &[
            "ts",
            "uid",
            "id.orig_h",
            "id.orig_p",
            "id.resp_h",
            "id.resp_p",
            "seen.indicator",
            "seen.indicator_type",
            "seen.where",
            "matched",
            "sources",
            "fuid",
        ],
        &[
            "time",
            "string",
            "addr",
            "port",
            "addr",
            "port",
            "string",
            "enum",
            "enum",
            "set[enum]",
            "set[string]",
            "string",
        ],
    );
    let text = intel
        // A domain from a feed, seen in a Host header; then the same server's address.
        + "1736150400.5\tCbeacon1\t10.1.0.42\t49822\t203.0.113.200\t80\tcdn.update-sync.example\tIntel::DOMAIN\tHTTP::IN_HOST_HEADER\tIntel::DOMAIN\tabuse-feed\t-\n\
           1736150401.0\tCbeacon1\t10.1.0.42\t49822\t203.0.113.200\t80\t203.0.113.200\tIntel::ADDR\tConn::IN_RESP\tIntel::ADDR\tabuse-feed\t-\n\
           1736150402.0\t-\t-\t-\t-\t-\t0123abcd\tIntel::FILE_HASH\tFiles::IN_HASH\tIntel::FILE_HASH\tabuse-feed\tFx1\n\
           1736150403.0\tCbroken\tnot-an-address\t1\t10.0.0.1\t2\tx\tIntel::ADDR\tConn::IN_ORIG\tIntel::ADDR\tfeed\t-\n";
    let (records, errors) = read_text(&text);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(records.len(), 3);
    let (out, failures) = contribute(&text.replace("not-an-address", "10.0.0.2"));
    assert!(failures.is_empty(), "{failures:?}");
    let attached: Vec<&str> = out.details.iter().map(|d| d.uid.as_str()).collect();
    assert_eq!(attached, ["Cbeacon1", "Cbeacon1", "Cbroken"]);
    let hosts: Vec<(String, &str)> = out
        .host_records
        .iter()
        .map(|h| {
            (
                h.addr.to_string(),
                h.record
                    .get("seen.indicator")
                    .and_then(Value::as_str)
                    .unwrap(),
            )
        })
        .collect();
    assert_eq!(
        hosts,
        [
            ("10.1.0.42".to_string(), "cdn.update-sync.example"),
            ("203.0.113.200".to_string(), "cdn.update-sync.example"),
            ("10.1.0.42".to_string(), "203.0.113.200"),
            ("203.0.113.200".to_string(), "203.0.113.200"),
            ("10.0.0.2".to_string(), "x"),
            ("10.0.0.1".to_string(), "x"),
        ]
    );
    assert!(out.host_records.iter().all(|h| h.log_type == "intel"));
}

#[test]
fn x509_is_keyed_by_fingerprint_or_file_id() {
    let new = tsv_header("x509", &["ts", "fingerprint"], &["time", "string"]) + "1.0\tab12\n";
    let old = tsv_header("x509", &["ts", "id"], &["time", "string"]) + "1.0\tFxyz\n";
    let none = tsv_header("x509", &["ts", "other"], &["time", "string"]) + "1.0\tq\n";
    let (out, failures) = contribute(&(new + &old + &none));
    let keys: Vec<&str> = out.details.iter().map(|d| d.uid.as_str()).collect();
    assert_eq!(keys, ["ab12", "Fxyz"]);
    assert_eq!(
        failures,
        [ContributeError::MissingField("fingerprint".into())]
    );
}

#[test]
fn capture_loss_records_become_loss_reports_and_damaged_ones_are_refused() {
    // Zeek's own columns and two records from the rita sensor, then three damaged records.
    let header = tsv_header(
        "capture_loss",
        &["ts", "ts_delta", "peer", "gaps", "acks", "percent_lost"],
        &["time", "interval", "string", "count", "count", "double"],
    );
    let text = header
        + "1713531375.558776\t900.000280\tworker-eth0-1\t1645\t2978\t55.238415\n\
           1713485475.540015\t900.000205\tworker-eth0-1\t0\t160\t0.0\n\
           1713485475.5\t900.0\t-\t0\t160\t0.0\n\
           1713485475.5\t900.0\tw\t-\t160\t0.0\n\
           1713485475.5\t-\tw\t0\t160\t0.0\n";
    let (out, failures) = contribute(&text);
    assert_eq!(
        out.capture_loss,
        [
            CaptureLoss {
                ts: 1713531375.558776,
                ts_delta: 900.00028,
                peer: "worker-eth0-1".into(),
                gaps: 1645,
                acks: 2978,
                percent_lost: 55.238415,
            },
            CaptureLoss {
                ts: 1713485475.540015,
                ts_delta: 900.000205,
                peer: "worker-eth0-1".into(),
                gaps: 0,
                acks: 160,
                percent_lost: 0.0,
            },
        ]
    );
    assert!((out.capture_loss[0].start() - 1713530475.558496).abs() < 1e-6);
    assert!(out.connections.is_empty() && out.details.is_empty());
    assert_eq!(
        failures,
        ["peer", "gaps", "ts_delta"].map(|f| ContributeError::MissingField(f.into()))
    );
}

#[test]
fn software_records_say_what_runs_on_a_host_with_zeeks_version_format() {
    // Zeek's columns and three records of the rita sensor's own software log, then a record
    // without a version, and two damaged records.
    let header = tsv_header(
        "software",
        &[
            "ts",
            "host",
            "host_p",
            "software_type",
            "name",
            "version.major",
            "version.minor",
            "version.minor2",
            "version.minor3",
            "version.addl",
            "unparsed_version",
        ],
        &[
            "time", "addr", "port", "enum", "string", "count", "count", "count", "count", "string",
            "string",
        ],
    );
    let text = header
        + "1713555664.377169\t64.225.56.201\t22\tSSH::SERVER\tOpenSSH\t8\t2\t-\t-\tp1\tOpenSSH_8.2p1 Ubuntu-4ubuntu0.11\n\
           1713555752.845633\t64.225.56.201\t80\tHTTP::SERVER\tnginx\t1\t18\t0\t-\tUbuntu\tnginx/1.18.0 (Ubuntu)\n\
           1713588743.664356\t64.225.56.201\t-\tHTTP::BROWSER\tDebian APT-HTTP\t1\t3\t-\t-\t2.0.10\tDebian APT-HTTP/1.3 (2.0.10) non-interactive\n\
           1.0\t10.0.0.1\t-\tHTTP::BROWSER\tcurl\t-\t-\t-\t-\t-\t-\n\
           1.0\t-\t-\tHTTP::BROWSER\tcurl\t-\t-\t-\t-\t-\t-\n\
           1.0\t10.0.0.1\t-\tHTTP::BROWSER\t-\t-\t-\t-\t-\t-\t-\n";
    let (out, failures) = contribute(&text);
    type Row<'a> = (String, Option<u16>, &'a str, &'a str, Option<&'a str>);
    let seen: Vec<Row<'_>> = out
        .software
        .iter()
        .map(|s| {
            (
                s.host.to_string(),
                s.host_p,
                s.software_type.as_str(),
                s.name.as_str(),
                s.version.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "64.225.56.201".into(),
                Some(22),
                "SSH::SERVER",
                "OpenSSH",
                Some("8.2-p1")
            ),
            (
                "64.225.56.201".into(),
                Some(80),
                "HTTP::SERVER",
                "nginx",
                Some("1.18.0-Ubuntu")
            ),
            (
                "64.225.56.201".into(),
                None,
                "HTTP::BROWSER",
                "Debian APT-HTTP",
                Some("1.3-2.0.10")
            ),
            ("10.0.0.1".into(), None, "HTTP::BROWSER", "curl", None),
        ]
    );
    assert_eq!(
        out.software[0].unparsed_version.as_deref(),
        Some("OpenSSH_8.2p1 Ubuntu-4ubuntu0.11")
    );
    assert_eq!(out.software[0].ts, 1713555664.377169);
    assert_eq!(
        failures,
        ["host", "name"].map(|f| ContributeError::MissingField(f.into()))
    );
}

#[test]
fn unknown_types_fall_back_to_attaching_by_uid() {
    let text = tsv_header("kerberos", &["ts", "uid"], &["time", "string"]) + "1.0\tCk\n";
    let (out, _) = contribute(&text);
    assert_eq!(out.details[0].uid, "Ck");
    assert_eq!(out.details[0].log_type, "kerberos");
}

#[test]
fn registering_a_name_twice_or_an_unusable_name_is_an_error() {
    let mut registry = Registry::with_builtins();
    assert_eq!(
        registry.register(Box::new(UidDetail::new("conn"))),
        Err(RegistryError::Duplicate("conn".into()))
    );
    assert!(matches!(
        registry.register(Box::new(UidDetail::new("a/b"))),
        Err(RegistryError::InvalidName(_))
    ));
    assert!(matches!(
        registry.register(Box::new(UidDetail::new(""))),
        Err(RegistryError::InvalidName(_))
    ));
    registry
        .register(Box::new(UidDetail::new("kerberos")))
        .unwrap();
    assert!(registry.lookup("kerberos").is_some());
}

/// A custom format: `SRC>DST BYTES` per line, no header.
struct Arrow;

impl LogType for Arrow {
    fn name(&self) -> &str {
        "arrow"
    }

    fn decode<'a>(
        &self,
        mut input: Box<dyn Read + Send + 'a>,
        source: &str,
        _max_line_len: usize,
    ) -> RecordStream<'a> {
        let schema = Arc::new(Schema::new(
            "arrow",
            vec!["src".into(), "dst".into(), "bytes".into()],
            vec![FieldType::Addr, FieldType::Addr, FieldType::Count],
        ));
        let mut text = String::new();
        let file: Arc<str> = source.into();
        if let Err(e) = input.read_to_string(&mut text) {
            let error = LineError::new(file, 0, LineErrorKind::Io(e.to_string()));
            return Box::new(std::iter::once(Err(error)));
        }
        let records: Vec<_> = text
            .lines()
            .enumerate()
            .map(|(i, line)| {
                let bad = |why: &str| {
                    LineError::new(
                        file.clone(),
                        i as u64 + 1,
                        LineErrorKind::Invalid(why.into()),
                    )
                };
                let (pair, bytes) = line.split_once(' ').ok_or_else(|| bad("no bytes"))?;
                let (src, dst) = pair.split_once('>').ok_or_else(|| bad("no arrow"))?;
                let addr =
                    |t: &str| wiredraw_core::zeek::parse_addr(t).ok_or_else(|| bad("bad address"));
                Ok(Record {
                    schema: schema.clone(),
                    values: vec![
                        Value::Addr(addr(src)?),
                        Value::Addr(addr(dst)?),
                        Value::Count(bytes.parse().map_err(|_| bad("bad bytes"))?),
                    ],
                    line: i as u64 + 1,
                })
            })
            .collect();
        Box::new(records.into_iter())
    }

    fn contribute(&self, record: &Record, out: &mut Contribution) -> Result<(), ContributeError> {
        let get = |f: &str| {
            record
                .get_set(f)
                .ok_or_else(|| ContributeError::MissingField(f.into()))
        };
        out.connections.push(Connection {
            uid: format!("arrow-{}", record.line).into(),
            ts: 0.0,
            duration: None,
            orig_h: get("src")?.as_addr().unwrap(),
            orig_p: None,
            resp_h: get("dst")?.as_addr().unwrap(),
            resp_p: None,
            proto: "tcp".into(),
            service: None,
            orig_bytes: get("bytes")?.as_u64(),
            resp_bytes: None,
            conn_state: None,
            history: None,
            packets: None,
        });
        Ok(())
    }
}

#[test]
fn a_custom_type_reads_its_own_format_and_contributes_through_the_registry() {
    let mut registry = Registry::with_builtins();
    registry.register(Box::new(Arrow)).unwrap();
    let input = "10.0.0.1>10.0.0.2 100\nnonsense\n10.0.0.2>10.0.0.3 7\n";
    let log_type = registry.get("arrow");
    let mut out = Contribution::default();
    let mut errors = Vec::new();
    for result in log_type.decode(
        Box::new(input.as_bytes()),
        "flows.txt",
        DEFAULT_MAX_LINE_LEN,
    ) {
        match result {
            // Records name their type, so the registry sends them back to it.
            Ok(record) => registry.contribute(&record, &mut out).unwrap(),
            Err(e) => errors.push(e.to_string()),
        }
    }
    assert_eq!(errors, ["flows.txt:2: no bytes"]);
    assert_eq!(out.connections.len(), 2);
    assert_eq!(out.connections[1].orig_bytes, Some(7));
    let graph =
        wiredraw_core::Graph::from_connections(&out.connections, f64::NEG_INFINITY, f64::INFINITY);
    assert_eq!(graph.nodes.len(), 3);
}

#[test]
fn the_default_decoder_reads_zeek_logs_named_after_the_type() {
    let registry = Registry::with_builtins();
    let log = "{\"ts\":1.0,\"uid\":\"C1\",\"status_code\":200}\n";
    let records: Vec<_> = registry
        .get("http")
        .decode(Box::new(log.as_bytes()), "http.json", DEFAULT_MAX_LINE_LEN)
        .collect();
    let record = records[0].as_ref().unwrap();
    assert_eq!(record.path(), "http");
    let mut out = Contribution::default();
    registry.contribute(record, &mut out).unwrap();
    assert_eq!(out.details[0].uid, "C1");
}
