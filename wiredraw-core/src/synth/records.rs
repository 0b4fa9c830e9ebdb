//! The records of each log, and the buffer that releases them in timestamp order.

use super::ids::{Digest, ZeekId};
use super::logs::LogKind;
use super::network::is_local;
use super::row::{OutputFormat, Row};
use std::collections::VecDeque;
use std::net::Ipv4Addr;

/// One generated log line.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthLine {
    /// The log the line belongs to.
    pub log: LogKind,
    /// The record's `ts`, in microseconds since the Unix epoch.
    pub ts_micros: u64,
    /// The line as Zeek writes it (TSV or JSON), without the trailing newline.
    pub text: String,
}

/// A connection's 5-tuple minus the protocol, as Zeek's `conn_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConnId {
    pub orig_h: Ipv4Addr,
    pub orig_p: u16,
    pub resp_h: Ipv4Addr,
    pub resp_p: u16,
}

impl ConnId {
    fn write(&self, row: &mut Row<'_>) {
        row.addr(self.orig_h)
            .port(self.orig_p)
            .addr(self.resp_h)
            .port(self.resp_p);
    }
}

/// Payload bytes per full TCP segment (1500-byte MTU with timestamps).
const TCP_SEGMENT: u64 = 1448;
/// IP plus TCP header bytes per segment, with the timestamp option.
const TCP_OVERHEAD: u64 = 52;
/// IP plus UDP header bytes per datagram.
const UDP_OVERHEAD: u64 = 28;

/// IP bytes of TCP packets that carry no payload (a SYN with options, or a bare ACK/RST).
pub(crate) const TCP_SYN_IP_BYTES: u64 = 44;
pub(crate) const TCP_BARE_IP_BYTES: u64 = 40;

pub(crate) fn udp_side(payload: u64, datagrams: u64) -> (u64, u64) {
    (datagrams, payload + datagrams * UDP_OVERHEAD)
}

/// How a connection ended, as Zeek's `conn_state` and `history` describe it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// Normal open and close (`SF`) with this history.
    Closed(&'static str),
    /// Originator aborted with a reset (`RSTO`).
    OrigReset(&'static str),
    /// Responder aborted with a reset (`RSTR`).
    RespReset(&'static str),
}

impl Ending {
    fn state_and_history(self) -> (&'static str, &'static str) {
        match self {
            Ending::Closed(h) => ("SF", h),
            Ending::OrigReset(h) => ("RSTO", h),
            Ending::RespReset(h) => ("RSTR", h),
        }
    }
}

/// A `conn.log` record.
pub(crate) struct Conn {
    pub ts: u64,
    pub uid: ZeekId,
    pub id: ConnId,
    pub proto: &'static str,
    pub service: Option<&'static str>,
    pub duration: Option<u64>,
    /// Payload bytes (orig, resp); unset when Zeek saw no established session.
    pub bytes: Option<(u64, u64)>,
    pub state: &'static str,
    pub history: &'static str,
    /// (packets, IP bytes) from the originator and from the responder.
    pub orig: (u64, u64),
    pub resp: (u64, u64),
}

/// An established TCP session, from which Zeek's packet and byte counts follow.
pub(crate) struct TcpSession {
    pub ts: u64,
    pub uid: ZeekId,
    pub id: ConnId,
    pub service: Option<&'static str>,
    pub duration: u64,
    pub orig_bytes: u64,
    pub resp_bytes: u64,
    /// Request/response round trips: each side sends at least this many data segments.
    pub exchanges: u64,
    pub ending: Ending,
}

impl TcpSession {
    /// Each side sends its data segments (at least one per exchange), an ACK for every two of
    /// the peer's segments, and the SYN, handshake ACK and FIN.
    pub(crate) fn into_conn(self) -> Conn {
        let (state, history) = self.ending.state_and_history();
        let side = |own: u64, peer: u64| {
            let segments = own.div_ceil(TCP_SEGMENT).max(self.exchanges);
            let acks = peer.div_ceil(TCP_SEGMENT).div_ceil(2);
            let packets = 3 + segments + acks;
            (packets, own + packets * TCP_OVERHEAD)
        };
        Conn {
            ts: self.ts,
            uid: self.uid,
            id: self.id,
            proto: "tcp",
            service: self.service,
            duration: Some(self.duration),
            bytes: Some((self.orig_bytes, self.resp_bytes)),
            state,
            history,
            orig: side(self.orig_bytes, self.resp_bytes),
            resp: side(self.resp_bytes, self.orig_bytes),
        }
    }
}

impl Conn {
    fn write(&self, row: &mut Row<'_>) {
        row.micros(self.ts).str(self.uid.as_str());
        self.id.write(row);
        row.str(self.proto)
            .opt_str(self.service)
            .opt_micros(self.duration)
            .opt_count(self.bytes.map(|b| b.0))
            .opt_count(self.bytes.map(|b| b.1))
            .str(self.state)
            .bool(is_local(self.id.orig_h))
            .bool(is_local(self.id.resp_h))
            .count(0)
            .str(self.history)
            .count(self.orig.0)
            .count(self.orig.1)
            .count(self.resp.0)
            .count(self.resp.1)
            .unset();
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueryType {
    A,
    Aaaa,
}

/// A `dns.log` record: one query and its answer.
pub(crate) struct Dns<'a> {
    pub ts: u64,
    pub uid: ZeekId,
    pub id: ConnId,
    pub trans_id: u16,
    pub rtt: u64,
    pub query: &'a str,
    pub qtype: QueryType,
    /// Whether the name exists (`NOERROR`) or not (`NXDOMAIN`).
    pub exists: bool,
    pub authoritative: bool,
    pub answers: &'a [String],
    pub ttl_secs: u64,
}

impl Dns<'_> {
    fn write(&self, row: &mut Row<'_>) {
        let (qtype, qtype_name) = match self.qtype {
            QueryType::A => (1, "A"),
            QueryType::Aaaa => (28, "AAAA"),
        };
        let (rcode, rcode_name) = if self.exists {
            (0, "NOERROR")
        } else {
            (3, "NXDOMAIN")
        };
        let ttls: Vec<u64> = vec![self.ttl_secs * 1_000_000; self.answers.len()];
        let answered = !self.answers.is_empty();
        row.micros(self.ts).str(self.uid.as_str());
        self.id.write(row);
        row.str("udp")
            .count(u64::from(self.trans_id))
            .micros(self.rtt)
            .str(self.query)
            .count(1)
            .str("C_INTERNET")
            .count(qtype)
            .str(qtype_name)
            .count(rcode)
            .str(rcode_name)
            .bool(self.authoritative)
            .bool(false)
            .bool(true)
            .bool(true)
            .count(0)
            .opt_strs(answered.then_some(self.answers))
            .opt_micros_list(answered.then_some(&ttls[..]))
            .bool(false);
    }

    /// Bytes of the query datagram: header, the name in wire format, type and class.
    pub(crate) fn query_bytes(&self) -> u64 {
        12 + self.query.len() as u64 + 2 + 4
    }

    /// Bytes of the response: the question again, one compressed A record per answer, or an SOA
    /// record in the authority section when there is nothing to answer.
    pub(crate) fn response_bytes(&self) -> u64 {
        let answers = self.answers.len() as u64;
        self.query_bytes() + if answers == 0 { 64 } else { 16 * answers }
    }
}

/// An `http.log` record: one request and its response.
pub(crate) struct Http<'a> {
    pub ts: u64,
    pub uid: ZeekId,
    pub id: ConnId,
    pub trans_depth: u64,
    pub method: &'static str,
    pub host: &'a str,
    pub uri: &'a str,
    pub referrer: Option<&'a str>,
    pub user_agent: &'a str,
    pub request_body_len: u64,
    pub response_body_len: u64,
    pub status_code: u16,
    /// The file carried by the request body, with its MIME type.
    pub orig_file: Option<(ZeekId, &'static str)>,
    /// The file carried by the response body, its MIME type and its name when the server gave one.
    pub resp_file: Option<(ZeekId, &'static str, Option<&'a str>)>,
}

fn status_message(code: u16) -> &'static str {
    match code {
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        404 => "Not Found",
        _ => "Internal Server Error",
    }
}

impl Http<'_> {
    fn write(&self, row: &mut Row<'_>) {
        let orig_fuid = self.orig_file.as_ref().map(|(fuid, _)| [fuid.as_str()]);
        let orig_mime = self.orig_file.map(|(_, mime)| [mime]);
        let resp_fuid = self.resp_file.as_ref().map(|(fuid, _, _)| [fuid.as_str()]);
        let resp_name = self.resp_file.and_then(|(_, _, name)| name.map(|n| [n]));
        let resp_mime = self.resp_file.map(|(_, mime, _)| [mime]);
        row.micros(self.ts).str(self.uid.as_str());
        self.id.write(row);
        row.count(self.trans_depth)
            .str(self.method)
            .str(self.host)
            .str(self.uri)
            .opt_str(self.referrer)
            .str("1.1")
            .str(self.user_agent)
            .unset()
            .count(self.request_body_len)
            .count(self.response_body_len)
            .count(u64::from(self.status_code))
            .str(status_message(self.status_code))
            .unset()
            .unset()
            .strs::<&str>(&[])
            .unset()
            .unset()
            .unset()
            .opt_strs(orig_fuid.as_ref().map(|a| &a[..]))
            .unset()
            .opt_strs(orig_mime.as_ref().map(|a| &a[..]))
            .opt_strs(resp_fuid.as_ref().map(|a| &a[..]))
            .opt_strs(resp_name.as_ref().map(|a| &a[..]))
            .opt_strs(resp_mime.as_ref().map(|a| &a[..]));
    }
}

/// What Zeek can see of a TLS handshake.
pub(crate) enum Handshake {
    /// TLS 1.3: certificates are encrypted, so there is nothing to validate.
    Tls13,
    /// TLS 1.2: the server's certificate is visible and validated; its SHA-256 fingerprint.
    Tls12 { cert_fingerprint: Digest<64> },
}

/// An `ssl.log` record.
pub(crate) struct Ssl<'a> {
    pub ts: u64,
    pub uid: ZeekId,
    pub id: ConnId,
    pub cipher: &'static str,
    pub curve: &'static str,
    pub server_name: &'a str,
    pub resumed: bool,
    pub next_protocol: Option<&'static str>,
    pub handshake: Handshake,
}

impl Ssl<'_> {
    fn write(&self, row: &mut Row<'_>) {
        row.micros(self.ts).str(self.uid.as_str());
        self.id.write(row);
        let (version, history) = match (&self.handshake, self.resumed) {
            (Handshake::Tls13, _) => ("TLSv13", "CsiI"),
            (Handshake::Tls12 { .. }, false) => ("TLSv12", "CsxknGIi"),
            (Handshake::Tls12 { .. }, true) => ("TLSv12", "CsGIi"),
        };
        row.str(version)
            .str(self.cipher)
            .str(self.curve)
            .str(self.server_name)
            .bool(self.resumed)
            .unset()
            .opt_str(self.next_protocol)
            .bool(true)
            .str(history);
        match &self.handshake {
            Handshake::Tls13 => {
                row.unset().unset().unset().unset();
            }
            // A resumed session skips the certificate exchange.
            Handshake::Tls12 { .. } if self.resumed => {
                row.unset().unset().unset().unset();
            }
            Handshake::Tls12 { cert_fingerprint } => {
                row.strs(&[cert_fingerprint.as_str()])
                    .strs::<&str>(&[])
                    .bool(true)
                    .str("ok");
            }
        }
    }
}

/// A `files.log` record for a body carried over HTTP.
pub(crate) struct File<'a> {
    pub ts: u64,
    pub fuid: ZeekId,
    pub uid: ZeekId,
    pub id: ConnId,
    pub mime: &'static str,
    pub filename: Option<&'a str>,
    pub duration: u64,
    /// Sent by the connection's originator (an upload) rather than its responder.
    pub is_orig: bool,
    pub bytes: u64,
    /// Whether the sender announced the length (`Content-Length`) rather than chunking.
    pub length_known: bool,
    /// Identifies the content, so identical downloads share digests.
    pub content: u64,
}

impl File<'_> {
    fn write(&self, row: &mut Row<'_>) {
        let sender = if self.is_orig {
            self.id.orig_h
        } else {
            self.id.resp_h
        };
        row.micros(self.ts)
            .str(self.fuid.as_str())
            .str(self.uid.as_str());
        self.id.write(row);
        row.str("HTTP")
            .count(0)
            .strs(&["MD5", "SHA1"])
            .str(self.mime)
            .opt_str(self.filename)
            .micros(self.duration)
            .bool(is_local(sender))
            .bool(self.is_orig)
            .count(self.bytes)
            .opt_count(self.length_known.then_some(self.bytes))
            .count(0)
            .count(0)
            .bool(false)
            .unset()
            .str(Digest::<32>::of(self.content).as_str())
            .str(Digest::<40>::of(self.content).as_str())
            .unset()
            .unset()
            .unset()
            .unset();
    }
}

/// A notice that names hosts rather than a connection, as Zeek's scan and SSH policies raise
/// them.
pub(crate) struct Notice<'a> {
    pub ts: u64,
    pub note: &'a str,
    pub msg: &'a str,
    pub sub: &'a str,
    pub src: Ipv4Addr,
    pub dst: Option<Ipv4Addr>,
}

impl Notice<'_> {
    /// How long Zeek suppresses the same notice: an hour, its default.
    const SUPPRESS_FOR: u64 = 3600 * super::SECOND;

    fn write(&self, row: &mut Row<'_>) {
        row.micros(self.ts);
        // No connection, file or protocol: uid, id.*, fuid, file_mime_type, file_desc, proto.
        for _ in 0..9 {
            row.unset();
        }
        row.str(self.note)
            .str(self.msg)
            .str(self.sub)
            .addr(self.src);
        match self.dst {
            Some(dst) => row.addr(dst),
            None => row.unset(),
        };
        // p, n, peer_descr.
        row.unset().unset().unset();
        row.strs(&["Notice::ACTION_LOG"])
            .strs::<&str>(&[])
            .micros(Self::SUPPRESS_FOR);
        // remote_location: documentation ranges have no place.
        for _ in 0..5 {
            row.unset();
        }
    }
}

/// A hit on an indicator of the office's threat feed, as Zeek's intel framework logs it.
pub(crate) struct Intel<'a> {
    pub ts: u64,
    pub uid: ZeekId,
    pub id: ConnId,
    pub indicator: &'a str,
    pub indicator_type: &'a str,
    pub seen_where: &'a str,
    pub source: &'a str,
}

impl Intel<'_> {
    fn write(&self, row: &mut Row<'_>) {
        row.micros(self.ts).str(self.uid.as_str());
        self.id.write(row);
        row.str(self.indicator)
            .str(self.indicator_type)
            .str(self.seen_where)
            .str("zeek")
            .strs(&[self.indicator_type])
            .strs(&[self.source]);
        // No file: fuid, file_mime_type, file_desc.
        row.unset().unset().unset();
    }
}

/// Software Zeek recognised on a host, from a banner or a user agent.
pub(crate) struct Software<'a> {
    pub ts: u64,
    pub host: Ipv4Addr,
    /// The port a server answered on; `None` for a client.
    pub port: Option<u16>,
    pub software_type: &'a str,
    pub name: &'a str,
    /// major, minor, minor2 and minor3 as far as known.
    pub version: &'a [u64],
    pub addl: Option<&'a str>,
    pub unparsed: &'a str,
}

impl Software<'_> {
    fn write(&self, row: &mut Row<'_>) {
        row.micros(self.ts).addr(self.host);
        match self.port {
            Some(port) => row.port(port),
            None => row.unset(),
        };
        row.str(self.software_type).str(self.name);
        for part in 0..4 {
            row.opt_count(self.version.get(part).copied());
        }
        row.opt_str(self.addl).str(self.unparsed);
    }
}

struct Pending {
    ts: u64,
    /// Creation order: breaks ties between equal timestamps reproducibly.
    seq: u64,
    line: SynthLine,
}

/// Formats records as they are generated and hands them out in timestamp order.
///
/// Records may be generated out of order (a connection's HTTP requests are generated with the
/// connection, before later connections), but never earlier than the time slice being
/// generated. So once a slice is done, everything stamped before its end is final.
pub(crate) struct Emitter {
    format: OutputFormat,
    pending: Vec<Pending>,
    ready: VecDeque<SynthLine>,
    seq: u64,
}

impl Emitter {
    pub(crate) fn new(format: OutputFormat) -> Self {
        Emitter {
            format,
            pending: Vec::new(),
            ready: VecDeque::new(),
            seq: 0,
        }
    }

    fn push(&mut self, log: LogKind, ts: u64, fill: impl FnOnce(&mut Row<'_>)) {
        let mut text = String::with_capacity(320);
        let mut row = Row::start(&mut text, self.format, log);
        fill(&mut row);
        row.finish();
        self.pending.push(Pending {
            ts,
            seq: self.seq,
            line: SynthLine {
                log,
                ts_micros: ts,
                text,
            },
        });
        self.seq += 1;
    }

    pub(crate) fn conn(&mut self, record: &Conn) {
        self.push(LogKind::Conn, record.ts, |row| record.write(row));
    }

    pub(crate) fn dns(&mut self, record: &Dns<'_>) {
        self.push(LogKind::Dns, record.ts, |row| record.write(row));
    }

    pub(crate) fn http(&mut self, record: &Http<'_>) {
        self.push(LogKind::Http, record.ts, |row| record.write(row));
    }

    pub(crate) fn ssl(&mut self, record: &Ssl<'_>) {
        self.push(LogKind::Ssl, record.ts, |row| record.write(row));
    }

    pub(crate) fn file(&mut self, record: &File<'_>) {
        self.push(LogKind::Files, record.ts, |row| record.write(row));
    }

    pub(crate) fn notice(&mut self, record: &Notice<'_>) {
        self.push(LogKind::Notice, record.ts, |row| record.write(row));
    }

    pub(crate) fn software(&mut self, record: &Software<'_>) {
        self.push(LogKind::Software, record.ts, |row| record.write(row));
    }

    pub(crate) fn intel(&mut self, record: &Intel<'_>) {
        self.push(LogKind::Intel, record.ts, |row| record.write(row));
    }

    /// Makes every record stamped before `watermark` ready, oldest first.
    pub(crate) fn release_before(&mut self, watermark: u64) {
        self.pending.sort_unstable_by_key(|p| (p.ts, p.seq));
        let done = self.pending.partition_point(|p| p.ts < watermark);
        self.ready
            .extend(self.pending.drain(..done).map(|p| p.line));
    }

    pub(crate) fn next_ready(&mut self) -> Option<SynthLine> {
        self.ready.pop_front()
    }
}
