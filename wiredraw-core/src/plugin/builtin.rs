//! The built-in log types.

use super::{ContributeError, LogType};
use crate::contribution::{
    CaptureLoss, Connection, Contribution, Detail, HostAnnotation, HostRecord, PacketCounts,
    Software,
};
use crate::record::Record;
use crate::value::Value;
use compact_str::CompactString;
use std::net::IpAddr;

/// A field that must be present and set.
fn required<'r>(record: &'r Record, field: &str) -> Result<&'r Value, ContributeError> {
    record
        .get_set(field)
        .ok_or_else(|| ContributeError::MissingField(field.into()))
}

fn bad(field: &str, reason: impl Into<String>) -> ContributeError {
    ContributeError::BadField {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Reads an optional field with `convert`; unset or missing is `None`, the wrong kind an error.
fn optional<T>(
    record: &Record,
    field: &str,
    expected: &str,
    convert: impl Fn(&Value) -> Option<T>,
) -> Result<Option<T>, ContributeError> {
    match record.get_set(field) {
        None => Ok(None),
        Some(value) => convert(value)
            .map(Some)
            .ok_or_else(|| bad(field, format!("expected {expected}, found {value}"))),
    }
}

fn text(value: &Value) -> Option<CompactString> {
    value.as_str().map(CompactString::from)
}

/// Zeek's `conn` log: one connection per record.
#[derive(Debug, Clone, Copy, Default)]
pub struct Conn;

impl Conn {
    /// The connection a conn record describes. Needs `ts`, `uid`, `id.orig_h`, `id.resp_h` and
    /// `proto`; the rest is optional.
    pub fn connection(record: &Record) -> Result<Connection, ContributeError> {
        let addr = |field: &str| {
            let value = required(record, field)?;
            value
                .as_addr()
                .ok_or_else(|| bad(field, format!("expected an address, found {value}")))
        };
        let ts = stamped(record)?;
        let uid = required(record, "uid")?;
        let uid = text(uid).ok_or_else(|| bad("uid", format!("expected a string, found {uid}")))?;
        let proto = required(record, "proto")?;
        let proto = text(proto)
            .ok_or_else(|| bad("proto", format!("expected a protocol name, found {proto}")))?;
        Ok(Connection {
            uid,
            ts,
            duration: optional(record, "duration", "seconds", Value::as_f64)?,
            orig_h: addr("id.orig_h")?,
            orig_p: optional(record, "id.orig_p", "a port", Value::as_port)?,
            resp_h: addr("id.resp_h")?,
            resp_p: optional(record, "id.resp_p", "a port", Value::as_port)?,
            proto,
            service: optional(record, "service", "text", text)?,
            orig_bytes: optional(record, "orig_bytes", "a count", Value::as_u64)?,
            resp_bytes: optional(record, "resp_bytes", "a count", Value::as_u64)?,
            conn_state: optional(record, "conn_state", "text", text)?,
            history: optional(record, "history", "text", text)?,
            packets: packet_counts(record)?,
        })
    }
}

/// The four packet and IP byte counts, when the record has them all (Zeek writes all four or
/// none, as its size analyzer is on or off).
fn packet_counts(record: &Record) -> Result<Option<PacketCounts>, ContributeError> {
    let count = |field| optional(record, field, "a count", Value::as_u64);
    let (Some(orig_pkts), Some(orig_ip_bytes), Some(resp_pkts), Some(resp_ip_bytes)) = (
        count("orig_pkts")?,
        count("orig_ip_bytes")?,
        count("resp_pkts")?,
        count("resp_ip_bytes")?,
    ) else {
        return Ok(None);
    };
    Ok(Some(PacketCounts {
        orig_pkts,
        orig_ip_bytes,
        resp_pkts,
        resp_ip_bytes,
    }))
}

impl LogType for Conn {
    fn name(&self) -> &str {
        "conn"
    }

    fn contribute(&self, record: &Record, out: &mut Contribution) -> Result<(), ContributeError> {
        out.connections.push(Conn::connection(record)?);
        Ok(())
    }
}

/// Attaches whole records to the connections they name: `uid`, or each of `uids` / `conn_uids`.
/// The built-in http, ssl, files, ssh, smtp, dhcp, weird and notice types, and the generic
/// fallback for names nobody registered.
#[derive(Debug, Clone)]
pub struct UidDetail {
    name: &'static str,
    always_names_one: bool,
}

impl UidDetail {
    /// A type whose records may name no connection (Zeek's weird and notice logs, say): such a
    /// record is read and leaves nothing behind.
    pub fn new(name: &'static str) -> UidDetail {
        UidDetail {
            name,
            always_names_one: false,
        }
    }

    /// A type whose every record names a connection (Zeek's http, ssl, ssh, …): a record that
    /// names none is damaged and refused.
    pub fn always_naming(name: &'static str) -> UidDetail {
        UidDetail {
            name,
            always_names_one: true,
        }
    }

    /// Adds the record as a detail of every connection it names; nothing when it names none.
    /// A record whose Zeek-standard fields (`ts`, the `id.*` endpoints) are missing or have the
    /// wrong kind of value is damaged, and is refused rather than shown beside a real
    /// connection. Zeek stamps every record that names a connection with its `ts`.
    pub fn attach(record: &Record, out: &mut Contribution) -> Result<(), ContributeError> {
        UidDetail::attach_named(record, out).map(|_| ())
    }

    /// [`UidDetail::attach`], answering whether the record named any connection.
    fn attach_named(record: &Record, out: &mut Contribution) -> Result<bool, ContributeError> {
        let uid = record.get_set("uid");
        let lists = ["uids", "conn_uids"].map(|field| {
            (
                field,
                uid.is_none().then(|| record.get_set(field)).flatten(),
            )
        });
        if uid.is_none() && lists.iter().all(|(_, uids)| uids.is_none()) {
            // A JSON object where a uid belongs reads as `uid.…` fields: damaged, not absent.
            if let Some((field, _)) = record.fields().find(|(name, _)| is_nested_key(name)) {
                return Err(bad(field, "expected a uid string, found an object"));
            }
            return Ok(false);
        }
        stamped(record)?;
        for host in ["id.orig_h", "id.resp_h"] {
            optional(record, host, "an address", Value::as_addr)?;
        }
        for port in ["id.orig_p", "id.resp_p"] {
            optional(record, port, "a port", Value::as_port)?;
        }
        if let Some(uid) = uid {
            let uid = uid
                .as_str()
                .ok_or_else(|| bad("uid", format!("expected a string, found {uid}")))?;
            push_detail(out, uid, record);
            return Ok(true);
        }
        for (field, uids) in lists {
            if let Some(uids) = uids {
                let items = uids
                    .items()
                    .ok_or_else(|| bad(field, format!("expected a set of uids, found {uids}")))?;
                for uid in items.iter().filter_map(Value::as_str) {
                    push_detail(out, uid, record);
                }
            }
        }
        Ok(true)
    }
}

/// The record's `ts`, which Zeek writes on every record that is about a connection or a
/// certificate seen on one.
fn stamped(record: &Record) -> Result<f64, ContributeError> {
    let ts = required(record, "ts")?;
    ts.as_f64()
        .filter(|t| t.is_finite())
        .ok_or_else(|| bad("ts", format!("expected a time, found {ts}")))
}

fn is_nested_key(name: &str) -> bool {
    ["uid.", "uids.", "conn_uids."]
        .iter()
        .any(|prefix| name.starts_with(prefix))
}

fn push_detail(out: &mut Contribution, uid: &str, record: &Record) {
    out.details.push(Detail {
        uid: uid.into(),
        log_type: record.path().into(),
        record: record.clone(),
    });
}

impl LogType for UidDetail {
    fn name(&self) -> &str {
        self.name
    }

    fn contribute(&self, record: &Record, out: &mut Contribution) -> Result<(), ContributeError> {
        let named = UidDetail::attach_named(record, out)?;
        if self.always_names_one && !named {
            return Err(ContributeError::MissingField("uid".into()));
        }
        Ok(())
    }
}

/// Zeek's `dns` log: the record as a detail, and which names resolved to which addresses.
#[derive(Debug, Clone, Copy, Default)]
pub struct Dns;

impl LogType for Dns {
    fn name(&self) -> &str {
        "dns"
    }

    fn contribute(&self, record: &Record, out: &mut Contribution) -> Result<(), ContributeError> {
        // Zeek gives every dns record a uid; without one the record is damaged, and its answers
        // are not to be trusted either.
        required(record, "uid")?;
        UidDetail::attach(record, out)?;
        let (Some(query), Some(answers)) = (record.get_set("query"), record.get_set("answers"))
        else {
            return Ok(());
        };
        // A JSON log types a query written as an address (an A query for `10.47.7.30`, say)
        // as one, where TSV keeps the `string` it was declared: both are the name asked for.
        let query = match query {
            Value::Addr(addr) => addr.to_string(),
            other => other
                .as_str()
                .ok_or_else(|| bad("query", format!("expected a name, found {other}")))?
                .to_owned(),
        };
        let name = query.trim_end_matches('.').to_ascii_lowercase();
        if name.is_empty() {
            return Ok(());
        }
        let ts = stamped(record)?;
        let answers = answers
            .items()
            .ok_or_else(|| bad("answers", format!("expected a list, found {answers}")))?;
        // CNAME targets and other names among the answers are not addresses; skip them.
        let addrs = answers.iter().filter_map(Value::as_addr);
        let mut seen: Vec<IpAddr> = Vec::new();
        for addr in addrs {
            if seen.contains(&addr) {
                continue;
            }
            seen.push(addr);
            out.annotations.push(HostAnnotation {
                addr,
                name: name.as_str().into(),
                ts,
            });
        }
        Ok(())
    }
}

/// Zeek's `x509` log: certificates, kept as details keyed by fingerprint (see the
/// [module docs](super)).
#[derive(Debug, Clone, Copy, Default)]
pub struct X509;

impl LogType for X509 {
    fn name(&self) -> &str {
        "x509"
    }

    fn contribute(&self, record: &Record, out: &mut Contribution) -> Result<(), ContributeError> {
        let key = ["fingerprint", "id"]
            .into_iter()
            .find_map(|field| record.get_set(field).map(|v| (field, v)));
        let Some((field, key)) = key else {
            return Err(ContributeError::MissingField("fingerprint".into()));
        };
        let key = key
            .as_str()
            .ok_or_else(|| bad(field, format!("expected text, found {key}")))?;
        stamped(record)?;
        push_detail(out, key, record);
        Ok(())
    }
}

/// Zeek's `capture_loss` log: the sensor's own estimate of the traffic it missed, one
/// [`CaptureLoss`] per record. Every field Zeek writes is required.
#[derive(Debug, Clone, Copy, Default)]
pub struct CaptureLossLog;

impl LogType for CaptureLossLog {
    fn name(&self) -> &str {
        "capture_loss"
    }

    fn contribute(&self, record: &Record, out: &mut Contribution) -> Result<(), ContributeError> {
        let number = |field: &str, expected: &str| {
            let value = required(record, field)?;
            value
                .as_f64()
                .filter(|x| x.is_finite())
                .ok_or_else(|| bad(field, format!("expected {expected}, found {value}")))
        };
        let count = |field: &str| {
            let value = required(record, field)?;
            value
                .as_u64()
                .ok_or_else(|| bad(field, format!("expected a count, found {value}")))
        };
        let peer = required(record, "peer")?;
        let peer = text(peer).ok_or_else(|| bad("peer", format!("expected text, found {peer}")))?;
        out.capture_loss.push(CaptureLoss {
            ts: stamped(record)?,
            ts_delta: number("ts_delta", "an interval")?,
            peer,
            gaps: count("gaps")?,
            acks: count("acks")?,
            percent_lost: number("percent_lost", "a number")?,
        });
        Ok(())
    }
}

/// Zeek's `software` log: what runs on a host, one [`Software`] per record. Needs `ts`, `host`,
/// `software_type` and `name`; the port and the version are optional.
#[derive(Debug, Clone, Copy, Default)]
pub struct SoftwareLog;

impl SoftwareLog {
    /// The version as Zeek's `Software::software_fmt_version` prints it: the numbers that are
    /// set joined by dots, then `-` and `version.addl`.
    fn version(record: &Record) -> Result<Option<CompactString>, ContributeError> {
        let mut version = String::new();
        for field in [
            "version.major",
            "version.minor",
            "version.minor2",
            "version.minor3",
        ] {
            let Some(number) = optional(record, field, "a count", Value::as_u64)? else {
                break;
            };
            if !version.is_empty() {
                version.push('.');
            }
            version.push_str(&number.to_string());
        }
        if let Some(addl) = optional(record, "version.addl", "text", text)? {
            version.push('-');
            version.push_str(&addl);
        }
        Ok((!version.is_empty()).then(|| version.into()))
    }
}

impl LogType for SoftwareLog {
    fn name(&self) -> &str {
        "software"
    }

    fn contribute(&self, record: &Record, out: &mut Contribution) -> Result<(), ContributeError> {
        let host = required(record, "host")?;
        let host = host
            .as_addr()
            .ok_or_else(|| bad("host", format!("expected an address, found {host}")))?;
        let required_text = |field: &str| {
            let value = required(record, field)?;
            text(value).ok_or_else(|| bad(field, format!("expected text, found {value}")))
        };
        out.software.push(Software {
            ts: stamped(record)?,
            host,
            host_p: optional(record, "host_p", "a port", Value::as_port)?,
            software_type: required_text("software_type")?,
            name: required_text("name")?,
            version: SoftwareLog::version(record)?,
            unparsed_version: optional(record, "unparsed_version", "text", text)?,
        });
        Ok(())
    }
}

/// Zeek's `notice` log: a notice is attached to the connection it names (`uid`), like any
/// detail, and kept with each host it names as `src` or `dst`, since many notices (scans,
/// password guessing) name hosts and no connection.
#[derive(Debug, Clone, Copy, Default)]
pub struct Notice;

impl LogType for Notice {
    fn name(&self) -> &str {
        "notice"
    }

    fn contribute(&self, record: &Record, out: &mut Contribution) -> Result<(), ContributeError> {
        UidDetail::attach(record, out)?;
        keep_with_hosts(record, ["src", "dst"], out)
    }
}

/// Zeek's `intel` log: a hit on an indicator from a threat feed (an address, a domain, a
/// file hash) is attached to the connection it was seen on (`uid`), like any detail, and kept
/// with both its hosts (`id.orig_h`, `id.resp_h`), so the host that reached the indicator is
/// flagged with the notices.
#[derive(Debug, Clone, Copy, Default)]
pub struct Intel;

impl LogType for Intel {
    fn name(&self) -> &str {
        "intel"
    }

    fn contribute(&self, record: &Record, out: &mut Contribution) -> Result<(), ContributeError> {
        UidDetail::attach(record, out)?;
        keep_with_hosts(record, ["id.orig_h", "id.resp_h"], out)
    }
}

/// Keeps `record` with each distinct host its `fields` name ([`HostRecord`]); a record naming
/// any must carry its `ts`.
fn keep_with_hosts(
    record: &Record,
    fields: [&str; 2],
    out: &mut Contribution,
) -> Result<(), ContributeError> {
    let mut hosts: Vec<IpAddr> = Vec::with_capacity(2);
    for field in fields {
        if let Some(addr) = optional(record, field, "an address", Value::as_addr)?
            && !hosts.contains(&addr)
        {
            hosts.push(addr);
        }
    }
    if !hosts.is_empty() {
        stamped(record)?;
    }
    for addr in hosts {
        out.host_records.push(HostRecord {
            addr,
            log_type: record.path().into(),
            record: record.clone(),
        });
    }
    Ok(())
}
