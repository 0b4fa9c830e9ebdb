//! The generator's core: the time slices, DNS resolution, and the TLS and HTTP sessions that
//! the office's users ([`super::office`]) and the attackers ([`super::attacks`]) open.

use super::attacks::Attacks;
use super::ids::{Digest, IdMint, ZeekId, mix64};
use super::network::{self, Network, RESOLVER, UPSTREAM_DNS};
use super::office::Activity;
use super::rand_util::{ephemeral_port, millis_between};
use super::records::{
    Conn, ConnId, Dns, Emitter, Ending, File, Handshake, Http, QueryType, Ssl, SynthLine,
    TcpSession, udp_side,
};
use super::{SECOND, SynthConfig, SynthError};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

/// Simulated time generated per step.
const SLICE_MICROS: u64 = 60 * SECOND;

/// A request on an HTTP connection.
pub(crate) struct Exchange {
    pub method: &'static str,
    pub uri: String,
    pub referrer: Option<String>,
    pub status: u16,
    pub request_body: Option<Body>,
    pub response_body: Option<Body>,
    /// Time the server takes before answering (a long poll holds the request open).
    pub server_wait: u64,
}

/// A message body, which Zeek logs as a file.
pub(crate) struct Body {
    pub bytes: u64,
    pub mime: &'static str,
    pub filename: Option<&'static str>,
    /// Sent with `Content-Length` rather than chunked.
    pub length_known: bool,
    /// Identifies the content for its digests.
    pub content: u64,
}

/// One HTTP connection and the requests made on it.
pub(crate) struct HttpSession<'a> {
    pub client: Ipv4Addr,
    pub server: Ipv4Addr,
    pub host: &'a str,
    pub user_agent: &'a str,
    pub exchanges: Vec<Exchange>,
}

/// One TLS connection.
pub(crate) struct TlsSession<'a> {
    pub client: Ipv4Addr,
    pub server: Ipv4Addr,
    pub port: u16,
    pub server_name: &'a str,
    /// The site whose certificate the server presents.
    pub site: usize,
    /// The application protocol negotiated (ALPN), when the client offers one.
    pub alpn: Option<&'static str>,
    pub duration: u64,
    pub orig_bytes: u64,
    pub resp_bytes: u64,
}

/// Generates the records of a [`SynthConfig`], in timestamp order across all logs.
///
/// This is the streaming core of [`super::generate`]: it holds at most a few simulated minutes
/// of records at a time. Lines come formatted in the configured [`super::OutputFormat`].
pub struct Generator {
    pub(super) rng: ChaCha8Rng,
    pub(super) net: Arc<Network>,
    uids: IdMint,
    fuids: IdMint,
    pub(super) out: Emitter,
    /// When each workstation next does each [`Activity`].
    schedule: Vec<[u64; Activity::ALL.len()]>,
    /// Until when a client may use a cached answer, per (client, site).
    client_cache: HashMap<(Ipv4Addr, usize), u64>,
    /// Until when the resolver may answer a site from its cache.
    resolver_cache: Vec<u64>,
    outbound_mail_at: u64,
    inbound_mail_at: u64,
    pub(super) attacks: Attacks,
    start: u64,
    end: u64,
    /// Everything before this time has been generated.
    generated_until: u64,
    finished: bool,
}

impl Generator {
    /// Checks `config` and builds the simulated network; nothing is generated until iterated.
    pub fn new(config: &SynthConfig) -> Result<Self, SynthError> {
        config.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let (start, end) = config.range_micros();
        let mut net = Network::build(config.hosts, &mut rng);
        let attacks = Attacks::plan(&mut rng, &mut net, start, end);
        let periods = [150, 300, 1500, 2700, 1200].map(|secs: u64| secs * SECOND);
        let schedule = (0..net.workstations.len())
            .map(|_| periods.map(|period| start + rng.random_range(0..period)))
            .collect();
        let resolver_cache = vec![0; net.sites.len()];
        Ok(Generator {
            uids: IdMint::new(b'C', rng.random()),
            fuids: IdMint::new(b'F', rng.random()),
            outbound_mail_at: start + rng.random_range(0..60 * SECOND),
            inbound_mail_at: start + rng.random_range(0..60 * SECOND),
            rng,
            net: Arc::new(net),
            out: Emitter::new(config.format),
            schedule,
            client_cache: HashMap::new(),
            resolver_cache,
            attacks,
            start,
            end,
            generated_until: start,
            finished: false,
        })
    }

    /// Simulated microseconds generated so far, from the start of the range.
    pub fn simulated_micros(&self) -> u64 {
        self.generated_until - self.start
    }

    fn step(&mut self) {
        let until = (self.generated_until + SLICE_MICROS).min(self.end);
        for desk in 0..self.schedule.len() {
            for (slot, activity) in Activity::ALL.into_iter().enumerate() {
                while self.schedule[desk][slot] < until {
                    let at = self.schedule[desk][slot];
                    self.schedule[desk][slot] = self.run(activity, desk, at);
                }
            }
        }
        while self.outbound_mail_at < until {
            self.outbound_mail_at = self.send_mail(self.outbound_mail_at);
        }
        while self.inbound_mail_at < until {
            self.inbound_mail_at = self.receive_mail(self.inbound_mail_at);
        }
        self.run_attacks(until);
        self.generated_until = until;
        if until == self.end {
            self.out.release_before(u64::MAX);
            self.finished = true;
        } else {
            self.out.release_before(until);
        }
    }

    /// Looks `site` up through the resolver for `client`, unless the client still has the
    /// answer cached. Returns when the answer is in, or `None` when the name does not exist.
    pub(crate) fn resolve(
        &mut self,
        client: Ipv4Addr,
        site: usize,
        at: u64,
        with_aaaa: bool,
    ) -> Option<u64> {
        let net = Arc::clone(&self.net);
        let s = &net.sites[site];
        if self
            .client_cache
            .get(&(client, site))
            .is_some_and(|&until| until > at)
        {
            return Some(at);
        }
        let local_rtt = millis_between(&mut self.rng, 0.2, 1.2);
        let cached_until = self.resolver_cache[site];
        let (rtt, ttl_secs) = if s.internal {
            (local_rtt, s.ttl_secs)
        } else if cached_until > at {
            (local_rtt, (cached_until - at).div_ceil(SECOND))
        } else {
            (self.forward(site, at + 150) + local_rtt, s.ttl_secs)
        };
        let uid = self.uids.next_id();
        let id = ConnId {
            orig_h: client,
            orig_p: ephemeral_port(&mut self.rng),
            resp_h: RESOLVER,
            resp_p: 53,
        };
        let a = Dns {
            ts: at,
            uid,
            id,
            trans_id: self.rng.random(),
            rtt,
            query: &s.name,
            qtype: QueryType::A,
            exists: !s.addrs.is_empty(),
            authoritative: s.internal,
            answers: &s.answers,
            ttl_secs,
        };
        let (mut sent, mut received, mut datagrams, mut duration) =
            (a.query_bytes(), a.response_bytes(), 1, rtt);
        self.out.dns(&a);
        if with_aaaa {
            // This network has no IPv6: the AAAA answer is empty, from the resolver's cache.
            let aaaa_rtt = local_rtt + millis_between(&mut self.rng, 0.0, 0.5);
            let aaaa = Dns {
                ts: at + 40,
                trans_id: self.rng.random(),
                rtt: aaaa_rtt,
                qtype: QueryType::Aaaa,
                answers: &[],
                ..a
            };
            sent += aaaa.query_bytes();
            received += aaaa.response_bytes();
            datagrams = 2;
            duration = duration.max(40 + aaaa_rtt);
            self.out.dns(&aaaa);
        }
        self.out.conn(&udp_dns_conn(
            at,
            uid,
            id,
            duration,
            (sent, received),
            datagrams,
        ));
        self.client_cache
            .insert((client, site), at + ttl_secs * SECOND);
        (!s.addrs.is_empty()).then_some(at + rtt)
    }

    /// The resolver asking upstream for a name it has not cached. Returns the round trip time.
    fn forward(&mut self, site: usize, at: u64) -> u64 {
        let net = Arc::clone(&self.net);
        let s = &net.sites[site];
        let rtt = millis_between(&mut self.rng, 6.0, 45.0);
        let uid = self.uids.next_id();
        let id = ConnId {
            orig_h: RESOLVER,
            orig_p: ephemeral_port(&mut self.rng),
            resp_h: UPSTREAM_DNS,
            resp_p: 53,
        };
        let query = Dns {
            ts: at,
            uid,
            id,
            trans_id: self.rng.random(),
            rtt,
            query: &s.name,
            qtype: QueryType::A,
            exists: true,
            authoritative: false,
            answers: &s.answers,
            ttl_secs: s.ttl_secs,
        };
        self.out.dns(&query);
        self.out.conn(&udp_dns_conn(
            at,
            uid,
            id,
            rtt,
            (query.query_bytes(), query.response_bytes()),
            1,
        ));
        self.resolver_cache[site] = at + s.ttl_secs * SECOND;
        rtt
    }

    /// A TLS session: the connection and what Zeek sees of its handshake.
    pub(super) fn tls_session(&mut self, session: TlsSession<'_>, at: u64) {
        let TlsSession {
            client,
            server,
            port,
            server_name,
            site,
            alpn,
            duration,
            orig_bytes,
            resp_bytes,
        } = session;
        let rtt = self.round_trip(server);
        let id = self.conn_id(client, server, port);
        let uid = self.uids.next_id();
        let ending = match self.rng.random_range(0..40) {
            0 => Ending::OrigReset("ShADadR"),
            1 => Ending::RespReset("ShADadr"),
            2..=4 => Ending::Closed("ShADadfF"),
            _ => Ending::Closed("ShADadFf"),
        };
        let conn = TcpSession {
            ts: at,
            uid,
            id,
            service: Some("ssl"),
            duration: duration.max(3 * rtt),
            orig_bytes,
            resp_bytes,
            exchanges: 3,
            ending,
        }
        .into_conn();
        self.out.conn(&conn);
        let tls13 = self.rng.random_bool(0.8);
        let (cipher, curve, handshake) = if tls13 {
            let cipher = *[
                "TLS_AES_128_GCM_SHA256",
                "TLS_AES_128_GCM_SHA256",
                "TLS_AES_256_GCM_SHA384",
                "TLS_CHACHA20_POLY1305_SHA256",
            ]
            .choose(&mut self.rng)
            .expect("non-empty");
            (cipher, "x25519", Handshake::Tls13)
        } else {
            let cipher = *[
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            ]
            .choose(&mut self.rng)
            .expect("non-empty");
            (
                cipher,
                "secp256r1",
                Handshake::Tls12 {
                    cert_fingerprint: Digest::of(mix64(site as u64 ^ 0x5eed)),
                },
            )
        };
        self.out.ssl(&Ssl {
            ts: at + rtt + 150,
            uid,
            id,
            cipher,
            curve,
            server_name,
            resumed: self.rng.random_bool(0.2),
            next_protocol: alpn,
            handshake,
        });
    }

    /// One HTTP connection: its requests, the bodies as files, then the connection record.
    /// Writes an HTTP session; answers its connection's uid and endpoints, and when its first
    /// request was sent.
    pub(crate) fn http_session(
        &mut self,
        session: HttpSession<'_>,
        at: u64,
    ) -> (ZeekId, ConnId, u64) {
        let rtt = self.round_trip(session.server);
        let id = self.conn_id(session.client, session.server, 80);
        let uid = self.uids.next_id();
        // Bytes per microsecond: ~50 MB/s in the office, ~5 MB/s from the internet.
        let rate = if network::is_local(session.server) {
            50
        } else {
            5
        };
        let (mut sent, mut received) = (0, 0);
        let mut clock = at + rtt;
        let first_request = clock;
        for (depth, exchange) in session.exchanges.iter().enumerate() {
            let request_headers = 300 + session.user_agent.len() as u64 + exchange.uri.len() as u64;
            let request_file = exchange
                .request_body
                .as_ref()
                .map(|body| (self.fuids.next_id(), body));
            let response_file = exchange
                .response_body
                .as_ref()
                .map(|body| (self.fuids.next_id(), body));
            self.out.http(&Http {
                ts: clock,
                uid,
                id,
                trans_depth: depth as u64 + 1,
                method: exchange.method,
                host: session.host,
                uri: &exchange.uri,
                referrer: exchange.referrer.as_deref(),
                user_agent: session.user_agent,
                request_body_len: request_file.map_or(0, |(_, b)| b.bytes),
                response_body_len: response_file.map_or(0, |(_, b)| b.bytes),
                status_code: exchange.status,
                orig_file: request_file.map(|(fuid, b)| (fuid, b.mime)),
                resp_file: response_file.map(|(fuid, b)| (fuid, b.mime, b.filename)),
            });
            for (fuid, body, is_orig, begins) in [
                request_file.map(|(f, b)| (f, b, true, clock + 100)),
                response_file.map(|(f, b)| (f, b, false, clock + rtt / 2 + exchange.server_wait)),
            ]
            .into_iter()
            .flatten()
            {
                self.out.file(&File {
                    ts: begins,
                    fuid,
                    uid,
                    id,
                    mime: body.mime,
                    filename: body.filename,
                    duration: body.bytes / rate,
                    is_orig,
                    bytes: body.bytes,
                    length_known: body.length_known,
                    content: body.content,
                });
            }
            let request_bytes = request_headers + request_file.map_or(0, |(_, b)| b.bytes);
            let response_bytes = 220 + response_file.map_or(0, |(_, b)| b.bytes);
            sent += request_bytes;
            received += response_bytes;
            clock += rtt
                + exchange.server_wait
                + (request_bytes + response_bytes) / rate
                + millis_between(&mut self.rng, 1.0, 30.0);
        }
        // Browsers keep the connection open a while in case of further requests.
        let idle = millis_between(&mut self.rng, 100.0, 15_000.0);
        let conn = TcpSession {
            ts: at,
            uid,
            id,
            service: Some("http"),
            duration: clock + idle - at,
            orig_bytes: sent,
            resp_bytes: received,
            exchanges: session.exchanges.len() as u64,
            ending: Ending::Closed("ShADadfF"),
        }
        .into_conn();
        self.out.conn(&conn);
        (uid, id, first_request)
    }

    pub(crate) fn conn_id(&mut self, client: Ipv4Addr, server: Ipv4Addr, port: u16) -> ConnId {
        ConnId {
            orig_h: client,
            orig_p: ephemeral_port(&mut self.rng),
            resp_h: server,
            resp_p: port,
        }
    }

    pub(crate) fn next_uid(&mut self) -> ZeekId {
        self.uids.next_id()
    }

    /// Network round trip to `server`: sub-millisecond in the office, tens of ms outside.
    fn round_trip(&mut self, server: Ipv4Addr) -> u64 {
        if network::is_local(server) {
            millis_between(&mut self.rng, 0.2, 1.0)
        } else {
            millis_between(&mut self.rng, 8.0, 80.0)
        }
    }
}

impl Iterator for Generator {
    type Item = SynthLine;

    fn next(&mut self) -> Option<SynthLine> {
        loop {
            if let Some(line) = self.out.next_ready() {
                return Some(line);
            }
            if self.finished {
                return None;
            }
            self.step();
        }
    }
}

fn udp_dns_conn(
    at: u64,
    uid: ZeekId,
    id: ConnId,
    duration: u64,
    (sent, received): (u64, u64),
    datagrams: u64,
) -> Conn {
    Conn {
        ts: at,
        uid,
        id,
        proto: "udp",
        service: Some("dns"),
        duration: Some(duration),
        bytes: Some((sent, received)),
        state: "SF",
        history: "Dd",
        orig: udp_side(sent, datagrams),
        resp: udp_side(received, datagrams),
    }
}
