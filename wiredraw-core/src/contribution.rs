//! What one record contributes to the picture: connections, details, host annotations and
//! records, the software seen on hosts and the sensor's capture-loss reports.
//!
//! These are the units the store ingests. Every log-type plugin turns records into them.

use crate::record::Record;
use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// A connection made visible by a conn-like record (Zeek conn.log, or a custom flow log).
///
/// `uid` identifies the connection; ingesting the same uid twice is a no-op in every store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connection {
    pub uid: CompactString,
    /// Start, seconds since the Unix epoch.
    pub ts: f64,
    /// Seconds; `None` when unset (treated as 0 for activity).
    pub duration: Option<f64>,
    pub orig_h: IpAddr,
    pub orig_p: Option<u16>,
    pub resp_h: IpAddr,
    pub resp_p: Option<u16>,
    /// Transport protocol (`tcp`, `udp`, `icmp`, …).
    pub proto: CompactString,
    /// Zeek's detected application protocols, e.g. `"ssl,http"`; `None` when unset.
    pub service: Option<CompactString>,
    /// Payload bytes as Zeek counts them: from TCP sequence numbers, which a reset or a gap in
    /// the capture can push far beyond what was sent (see [`Connection::payload_bytes`]).
    pub orig_bytes: Option<u64>,
    pub resp_bytes: Option<u64>,
    pub conn_state: Option<CompactString>,
    /// Zeek's connection history string, e.g. `ShADadFf`.
    pub history: Option<CompactString>,
    /// The packets each side sent and the IP bytes they carried, when the log has them (Zeek's
    /// conn log does unless its size analyzer is off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packets: Option<PacketCounts>,
}

/// Zeek's `orig_pkts`, `orig_ip_bytes`, `resp_pkts` and `resp_ip_bytes`: what the sensor saw
/// on the wire, IP headers included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PacketCounts {
    pub orig_pkts: u64,
    pub orig_ip_bytes: u64,
    pub resp_pkts: u64,
    pub resp_ip_bytes: u64,
}

/// Whether a Zeek `proto` is ICMP, whose "ports" are a message type and code rather than
/// transport ports (see [`Connection::destination_port`]).
pub fn is_icmp(proto: &str) -> bool {
    proto.eq_ignore_ascii_case("icmp")
}

impl Connection {
    /// End of activity: `ts + duration` (unset duration counts as 0).
    pub fn end(&self) -> f64 {
        self.ts + self.duration.unwrap_or(0.0).max(0.0)
    }

    /// The port the connection was addressed to: `id.resp_p`, except for ICMP, where Zeek writes
    /// the message's type as `id.orig_p` and its code as `id.resp_p`, and the type (8, an echo
    /// request; 3, an unreachable) is what was sent.
    pub fn destination_port(&self) -> Option<u16> {
        if is_icmp(&self.proto) {
            self.orig_p
        } else {
            self.resp_p
        }
    }

    /// Zeek's detected services one by one: it writes several as `ssl,http`.
    pub fn services(&self) -> impl Iterator<Item = &str> {
        self.service
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    /// The payload bytes each side sent as the picture counts them: `orig_bytes` and
    /// `resp_bytes` (unset as 0), each cut to the IP bytes of the packets that side was seen
    /// to send.
    ///
    /// Zeek counts payload from TCP sequence numbers. A reset with an unrelated sequence number,
    /// or a gap in the capture, makes that count gigabytes for a side that sent two packets of
    /// 40 bytes, and one such connection would outweigh a day of real traffic. Payload cannot
    /// exceed the IP bytes that carried it, so the count is cut there. A side with no packets
    /// seen keeps Zeek's count: on a sensor that sees one direction only, the other side's
    /// payload is known from the acknowledgements alone.
    ///
    /// ```
    /// use wiredraw_core::{Connection, PacketCounts};
    /// # let mut conn = Connection {
    /// #     uid: "C1".into(), ts: 0.0, duration: None, orig_h: [10, 0, 0, 1].into(), orig_p: None,
    /// #     resp_h: [10, 0, 0, 2].into(), resp_p: None, proto: "tcp".into(), service: None,
    /// #     orig_bytes: None, resp_bytes: None, conn_state: None, history: None, packets: None,
    /// # };
    /// // A reset that Zeek counted as 1.96 GB of response, from a connection in the rita logs.
    /// conn.orig_bytes = Some(91);
    /// conn.resp_bytes = Some(1_964_191_874);
    /// conn.packets = Some(PacketCounts { orig_pkts: 3, orig_ip_bytes: 211, resp_pkts: 2, resp_ip_bytes: 84 });
    /// assert_eq!(conn.payload_bytes(), (91, 84));
    /// ```
    pub fn payload_bytes(&self) -> (u64, u64) {
        let counted = (self.orig_bytes.unwrap_or(0), self.resp_bytes.unwrap_or(0));
        let Some(packets) = self.packets else {
            return counted;
        };
        let cut = |payload: u64, pkts: u64, ip_bytes: u64| match pkts {
            0 => payload,
            _ => payload.min(ip_bytes),
        };
        (
            cut(counted.0, packets.orig_pkts, packets.orig_ip_bytes),
            cut(counted.1, packets.resp_pkts, packets.resp_ip_bytes),
        )
    }

    /// Both sides of [`Connection::payload_bytes`] together: what an arrow's width, a host's
    /// traffic and the histogram count.
    pub fn total_bytes(&self) -> u64 {
        let (orig, resp) = self.payload_bytes();
        orig.saturating_add(resp)
    }
}

/// A whole record attached to a connection by its uid (http, dns, ssl, files, …).
#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    pub uid: CompactString,
    /// The log type the record came from (`http`, `dns`, …).
    pub log_type: CompactString,
    pub record: Record,
}

/// A whole record about a host rather than a connection: a notice that names the host as its
/// `src` or `dst` (a scan, password guessing, an invalid certificate it served).
#[derive(Debug, Clone, PartialEq)]
pub struct HostRecord {
    pub addr: IpAddr,
    /// The log type the record came from (`notice`, …).
    pub log_type: CompactString,
    pub record: Record,
}

/// A fact about a host learned from a log, e.g. a DNS answer naming an address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostAnnotation {
    pub addr: IpAddr,
    /// A DNS name that resolved to `addr`.
    pub name: CompactString,
    /// When it was seen.
    pub ts: f64,
}

/// Software seen running on a host: one record of Zeek's `software` log (a server's banner, a
/// client's user agent), with Zeek's field names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Software {
    /// When it was seen, seconds since the Unix epoch.
    pub ts: f64,
    pub host: IpAddr,
    /// The port it answered on, for a server; `None` for a client.
    pub host_p: Option<u16>,
    /// What kind of software, in Zeek's words: `HTTP::SERVER`, `SSH::CLIENT`, `HTTP::BROWSER`, …
    pub software_type: CompactString,
    /// e.g. `OpenSSH`, `nginx`, `MSIE`.
    pub name: CompactString,
    /// The version Zeek parsed, as Zeek prints it (`8.2-p1`: major, minor, minor2 and minor3
    /// joined by dots, then `-` and the rest); `None` when it parsed none.
    pub version: Option<CompactString>,
    /// The whole banner or user agent the version was read from, e.g.
    /// `OpenSSH_8.2p1 Ubuntu-4ubuntu0.11`.
    pub unparsed_version: Option<CompactString>,
}

/// What the sensor says it missed over an interval: one record of Zeek's `capture_loss` log,
/// with Zeek's field names.
///
/// Zeek estimates loss from the ACKs it saw for data it never saw (`gaps` of `acks`). A
/// picture drawn from an interval with heavy loss is missing connections and bytes, so the
/// viewer marks such intervals on its timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptureLoss {
    /// End of the measurement interval, seconds since the Unix epoch.
    pub ts: f64,
    /// Length of the measurement interval in seconds (Zeek's default is 15 minutes).
    pub ts_delta: f64,
    /// The sensor (Zeek node) that measured it, e.g. `worker-eth0-1`.
    pub peer: CompactString,
    /// ACKs seen for data that was never seen.
    pub gaps: u64,
    /// ACKs seen.
    pub acks: u64,
    /// `gaps` as a percentage of `acks`.
    pub percent_lost: f64,
}

impl CaptureLoss {
    /// Start of the measurement interval: `ts - ts_delta`.
    pub fn start(&self) -> f64 {
        self.ts - self.ts_delta.max(0.0)
    }
}

/// Everything one record (or a batch of records) contributes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Contribution {
    pub connections: Vec<Connection>,
    pub details: Vec<Detail>,
    pub annotations: Vec<HostAnnotation>,
    pub capture_loss: Vec<CaptureLoss>,
    pub software: Vec<Software>,
    pub host_records: Vec<HostRecord>,
}

impl Contribution {
    pub fn is_empty(&self) -> bool {
        self.connections.is_empty()
            && self.details.is_empty()
            && self.annotations.is_empty()
            && self.capture_loss.is_empty()
            && self.software.is_empty()
            && self.host_records.is_empty()
    }

    pub fn clear(&mut self) {
        self.connections.clear();
        self.details.clear();
        self.annotations.clear();
        self.capture_loss.clear();
        self.software.clear();
        self.host_records.clear();
    }
}
