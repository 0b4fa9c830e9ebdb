//! The office's everyday traffic, generated one simulated minute at a time.

use super::attacks::Attacks;
use super::ids::{Digest, IdMint, ZeekId, mix64};
use super::network::{self, Network, RESOLVER, Scheme, UPSTREAM_DNS};
use super::rand_util::{
    bytes_around, ephemeral_port, exponential_micros, log_normal, millis_between,
};
use super::records::{
    Conn, ConnId, Dns, Emitter, Ending, File, Handshake, Http, QueryType, Ssl, SynthLine,
    TcpSession, udp_side,
};
use super::{SynthConfig, SynthError};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

/// Simulated time generated per step.
const SLICE_MICROS: u64 = 60_000_000;
const SECOND: u64 = 1_000_000;

/// Windows' certificate machinery, which fetches revocation data over plain HTTP.
const CRYPTOAPI_AGENT: &str = "Microsoft-CryptoAPI/10.0";

/// What a workstation does on its own schedule.
#[derive(Debug, Clone, Copy)]
enum Activity {
    /// The user opens a web page.
    Browse,
    /// The mail client checks the mailbox over IMAPS.
    MailPoll,
    /// The user opens documents on the file server.
    FileShare,
    /// The user works in the intranet web application.
    Intranet,
    /// The operating system: certificate revocation checks, telemetry, proxy discovery.
    Background,
}

impl Activity {
    const ALL: [Activity; 5] = [
        Activity::Browse,
        Activity::MailPoll,
        Activity::FileShare,
        Activity::Intranet,
        Activity::Background,
    ];
}

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

/// Generates the records of a [`SynthConfig`], in timestamp order across all logs.
///
/// This is the streaming core of [`super::generate`]: it holds at most a few simulated minutes
/// of records at a time. Lines come formatted in the configured [`super::OutputFormat`].
pub struct Generator {
    pub(crate) rng: ChaCha8Rng,
    pub(crate) net: Arc<Network>,
    uids: IdMint,
    fuids: IdMint,
    pub(crate) out: Emitter,
    /// When each workstation next does each [`Activity`].
    schedule: Vec<[u64; Activity::ALL.len()]>,
    /// Until when a client may use a cached answer, per (client, site).
    client_cache: HashMap<(Ipv4Addr, usize), u64>,
    /// Until when the resolver may answer a site from its cache.
    resolver_cache: Vec<u64>,
    outbound_mail_at: u64,
    inbound_mail_at: u64,
    pub(crate) attacks: Attacks,
    start: u64,
    end: u64,
    /// Everything before this time has been generated.
    generated_until: u64,
    finished: bool,
}

impl Generator {
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

    /// Does `activity` at `at` if the desk is in a state to, and returns when to try next.
    fn run(&mut self, activity: Activity, desk: usize, at: u64) -> u64 {
        let net = Arc::clone(&self.net);
        let ws = &net.workstations[desk];
        let secs = at / SECOND;
        let active = match activity {
            Activity::Background => ws.is_on(secs),
            _ => ws.is_staffed(secs),
        };
        if !active {
            let arrival = ws.next_arrival(secs + 1) * SECOND;
            return arrival + exponential_micros(&mut self.rng, 600.0);
        }
        let client = ws.addr;
        match activity {
            Activity::Browse => {
                self.browse(desk, at);
                // People browse less over lunch.
                let lunch = if (12 * 3600..13 * 3600).contains(&(secs % 86_400)) {
                    3.0
                } else {
                    1.0
                };
                at + exponential_micros(&mut self.rng, 150.0 * lunch / ws.activity)
            }
            Activity::MailPoll => {
                let mail = net.mail;
                if let Some(ready) = self.resolve(client, mail, at, false) {
                    self.mail_poll(client, ready);
                }
                at + 270 * SECOND + self.rng.random_range(0..60 * SECOND)
            }
            Activity::FileShare => {
                let fs = net.file_server;
                if let Some(ready) = self.resolve(client, fs, at, false) {
                    self.file_share(client, ready);
                }
                at + exponential_micros(&mut self.rng, 1500.0)
            }
            Activity::Intranet => {
                self.intranet(desk, at);
                at + exponential_micros(&mut self.rng, 2700.0)
            }
            Activity::Background => {
                self.background(desk, at);
                at + exponential_micros(&mut self.rng, 1200.0)
            }
        }
    }

    /// Opens a web page: the page's host, then often the host of its scripts and images.
    fn browse(&mut self, desk: usize, at: u64) {
        let net = Arc::clone(&self.net);
        let ws = &net.workstations[desk];
        let page = net.pick_page(&mut self.rng);
        let aaaa = self.rng.random_bool(0.5);
        let Some(ready) = self.resolve(ws.addr, page, at, aaaa) else {
            return;
        };
        let connections = *[1, 1, 1, 2, 2, 3].choose(&mut self.rng).expect("non-empty");
        for n in 0..connections {
            let begin = ready + n * millis_between(&mut self.rng, 1.0, 40.0);
            self.visit(ws.addr, ws.user_agent, page, begin, n == 0);
        }
        if let Some(assets) = net.sites[page].assets.filter(|_| self.rng.random_bool(0.8)) {
            let later = ready + millis_between(&mut self.rng, 60.0, 400.0);
            if let Some(ready) = self.resolve(ws.addr, assets, later, aaaa) {
                for n in 0..self.rng.random_range(1..=4) {
                    let begin = ready + n * millis_between(&mut self.rng, 1.0, 20.0);
                    self.visit(ws.addr, ws.user_agent, assets, begin, false);
                }
            }
        }
    }

    /// One connection to `site`: a TLS session, or plain HTTP requests for a page and its parts.
    fn visit(&mut self, client: Ipv4Addr, user_agent: &str, site: usize, at: u64, is_page: bool) {
        let net = Arc::clone(&self.net);
        let s = &net.sites[site];
        let server = *s
            .addrs
            .choose(&mut self.rng)
            .expect("resolved names have addresses");
        match s.scheme {
            Scheme::Https => {
                let orig_bytes = bytes_around(&mut self.rng, 1800.0, 0.8, 600, 2_000_000);
                let resp_bytes = bytes_around(&mut self.rng, 30_000.0, 1.6, 3_000, 80_000_000);
                let duration = (log_normal(&mut self.rng, 8.0_f64.ln(), 1.2) * 1e6) as u64;
                self.tls_session(
                    client,
                    server,
                    443,
                    &s.name,
                    site,
                    Some("h2"),
                    at,
                    duration,
                    (orig_bytes, resp_bytes),
                );
            }
            Scheme::Http => {
                let exchanges = self.page_requests(site, is_page);
                self.http_session(
                    HttpSession {
                        client,
                        server,
                        host: &s.name,
                        user_agent,
                        exchanges,
                    },
                    at,
                );
            }
        }
    }

    /// The requests a browser makes on one connection to a plain-HTTP site.
    fn page_requests(&mut self, site: usize, is_page: bool) -> Vec<Exchange> {
        let net = Arc::clone(&self.net);
        let host = &net.sites[site].name;
        let page_uri = if is_page && self.rng.random_bool(0.5) {
            "/".to_owned()
        } else {
            format!("/articles/{}", self.rng.random_range(1000..1400))
        };
        let referrer = format!("http://{host}{page_uri}");
        let mut exchanges = Vec::new();
        if is_page {
            exchanges.push(get(
                &page_uri,
                None,
                200,
                Some(page_body(&mut self.rng, site, &page_uri)),
            ));
        }
        for _ in 0..self.rng.random_range(1..=5) {
            let (uri, mime, median) = match self.rng.random_range(0..10) {
                0..=1 => (
                    format!("/static/css/site.{:08x}.css", mix64(site as u64) as u32),
                    "text/css",
                    20_000.0,
                ),
                2..=3 => (
                    format!("/static/js/app.{:08x}.js", mix64(site as u64 + 1) as u32),
                    "application/javascript",
                    90_000.0,
                ),
                4..=8 => (
                    format!("/images/{}.jpg", self.rng.random_range(1..200)),
                    "image/jpeg",
                    60_000.0,
                ),
                _ => ("/favicon.ico".to_owned(), "image/x-icon", 5_000.0),
            };
            let (status, body) = match self.rng.random_range(0..20) {
                // Cached by the browser: no body.
                0..=2 => (304, None),
                3 => (404, Some(small_html(site, 404))),
                _ => {
                    let content = content_key(site, &uri);
                    let bytes =
                        (mix64(content) % 1000) * (median as u64 / 1000) + median as u64 / 2;
                    (
                        200,
                        Some(Body {
                            bytes,
                            mime,
                            filename: None,
                            length_known: true,
                            content,
                        }),
                    )
                }
            };
            exchanges.push(get(&uri, Some(referrer.clone()), status, body));
        }
        if is_page && self.rng.random_bool(0.04) {
            let (uri, mime, name, bytes) = if self.rng.random_bool(0.5) {
                (
                    "/downloads/setup.exe",
                    "application/x-dosexec",
                    "setup.exe",
                    4_800_000,
                )
            } else {
                (
                    "/files/brochure.pdf",
                    "application/pdf",
                    "brochure.pdf",
                    1_200_000,
                )
            };
            let content = content_key(site, uri);
            let body = Body {
                bytes: bytes + mix64(content) % 100_000,
                mime,
                filename: Some(name),
                length_known: true,
                content,
            };
            exchanges.push(get(uri, Some(referrer), 200, Some(body)));
        }
        exchanges
    }

    /// The mail client's periodic IMAPS check.
    fn mail_poll(&mut self, client: Ipv4Addr, at: u64) {
        let net = Arc::clone(&self.net);
        let mail = &net.sites[net.mail];
        let orig_bytes = bytes_around(&mut self.rng, 1200.0, 0.4, 500, 50_000);
        let resp_bytes = bytes_around(&mut self.rng, 6000.0, 1.5, 1_500, 30_000_000);
        let duration = millis_between(&mut self.rng, 300.0, 3000.0);
        self.tls_session(
            client,
            network::MAIL_SERVER,
            993,
            &mail.name,
            net.mail,
            None,
            at,
            duration,
            (orig_bytes, resp_bytes),
        );
    }

    /// Opening and saving documents on the file server over SMB.
    fn file_share(&mut self, client: Ipv4Addr, at: u64) {
        let id = self.conn_id(client, network::FILE_SERVER, 445);
        let conn = TcpSession {
            ts: at,
            uid: self.uids.next_id(),
            id,
            service: Some("smb"),
            duration: (log_normal(&mut self.rng, 120.0_f64.ln(), 1.0) * 1e6) as u64,
            orig_bytes: bytes_around(&mut self.rng, 40_000.0, 1.5, 2_000, 200_000_000),
            resp_bytes: bytes_around(&mut self.rng, 400_000.0, 1.5, 4_000, 500_000_000),
            exchanges: self.rng.random_range(20..200),
            ending: Ending::Closed("ShADadFf"),
        }
        .into_conn();
        self.out.conn(&conn);
    }

    /// A visit to the intranet web application: a page and its parts, sometimes an upload.
    fn intranet(&mut self, desk: usize, at: u64) {
        let net = Arc::clone(&self.net);
        let ws = &net.workstations[desk];
        let site = net.intranet;
        let Some(ready) = self.resolve(ws.addr, site, at, false) else {
            return;
        };
        let host = &net.sites[site].name;
        let page = [
            "/wiki/Onboarding",
            "/wiki/Expenses",
            "/timesheet",
            "/directory",
            "/news",
        ]
        .choose(&mut self.rng)
        .expect("non-empty");
        let referrer = format!("http://{host}{page}");
        let mut exchanges = vec![get(
            page,
            None,
            200,
            Some(page_body(&mut self.rng, site, page)),
        )];
        for uri in [
            "/static/intranet.css",
            "/static/intranet.js",
            "/static/logo.png",
        ] {
            let cached = self.rng.random_bool(0.7);
            let mime = match &uri[uri.len() - 3..] {
                "css" => "text/css",
                ".js" => "application/javascript",
                _ => "image/png",
            };
            let content = content_key(site, uri);
            let body = (!cached).then(|| Body {
                bytes: 8_000 + mix64(content) % 40_000,
                mime,
                filename: None,
                length_known: true,
                content,
            });
            exchanges.push(get(
                uri,
                Some(referrer.clone()),
                if cached { 304 } else { 200 },
                body,
            ));
        }
        if self.rng.random_bool(0.1) {
            let content = self.rng.random();
            exchanges.push(Exchange {
                method: "POST",
                uri: "/documents/upload".to_owned(),
                referrer: Some(referrer),
                status: 200,
                request_body: Some(Body {
                    bytes: self.rng.random_range(50_000..3_000_000),
                    mime: "application/pdf",
                    filename: None,
                    length_known: true,
                    content,
                }),
                response_body: Some(small_html(site, 200)),
                server_wait: millis_between(&mut self.rng, 50.0, 400.0),
            });
        }
        self.http_session(
            HttpSession {
                client: ws.addr,
                server: network::INTRANET,
                host,
                user_agent: ws.user_agent,
                exchanges,
            },
            ready,
        );
    }

    /// What Windows does by itself: revocation checks, trust list updates, telemetry, and
    /// looking for a proxy configuration that does not exist.
    fn background(&mut self, desk: usize, at: u64) {
        let net = Arc::clone(&self.net);
        let client = net.workstations[desk].addr;
        match self.rng.random_range(0..4) {
            0 => {
                self.resolve(client, net.wpad, at, false);
            }
            1 => {
                let Some(ready) = self.resolve(client, net.ocsp, at, false) else {
                    return;
                };
                let content = self.rng.random();
                let exchange = Exchange {
                    method: "POST",
                    uri: "/".to_owned(),
                    referrer: None,
                    status: 200,
                    request_body: Some(Body {
                        bytes: 83,
                        mime: "application/ocsp-request",
                        filename: None,
                        length_known: true,
                        content,
                    }),
                    response_body: Some(Body {
                        bytes: 471,
                        mime: "application/ocsp-response",
                        filename: None,
                        length_known: true,
                        content: content ^ 1,
                    }),
                    server_wait: millis_between(&mut self.rng, 5.0, 40.0),
                };
                let server = *net.sites[net.ocsp]
                    .addrs
                    .choose(&mut self.rng)
                    .expect("has addresses");
                self.http_session(
                    HttpSession {
                        client,
                        server,
                        host: &net.sites[net.ocsp].name,
                        user_agent: CRYPTOAPI_AGENT,
                        exchanges: vec![exchange],
                    },
                    ready,
                );
            }
            2 => {
                let Some(ready) = self.resolve(client, net.ctl, at, false) else {
                    return;
                };
                let uri = "/msdownload/update/v3/static/trustedr/en/disallowedcertstl.cab";
                let content = content_key(net.ctl, uri) ^ (at / (86_400 * SECOND));
                let body = Body {
                    bytes: 7_000 + content % 500,
                    mime: "application/vnd.ms-cab-compressed",
                    filename: None,
                    length_known: true,
                    content,
                };
                let server = *net.sites[net.ctl]
                    .addrs
                    .choose(&mut self.rng)
                    .expect("has addresses");
                self.http_session(
                    HttpSession {
                        client,
                        server,
                        host: &net.sites[net.ctl].name,
                        user_agent: CRYPTOAPI_AGENT,
                        exchanges: vec![get(uri, None, 200, Some(body))],
                    },
                    ready,
                );
            }
            _ => {
                let Some(ready) = self.resolve(client, net.telemetry, at, false) else {
                    return;
                };
                let site = &net.sites[net.telemetry];
                let server = *site.addrs.choose(&mut self.rng).expect("has addresses");
                let orig_bytes = bytes_around(&mut self.rng, 9_000.0, 1.0, 1_000, 2_000_000);
                let resp_bytes = bytes_around(&mut self.rng, 5_000.0, 0.3, 3_000, 20_000);
                let duration = millis_between(&mut self.rng, 200.0, 2000.0);
                self.tls_session(
                    client,
                    server,
                    443,
                    &site.name,
                    net.telemetry,
                    Some("http/1.1"),
                    ready,
                    duration,
                    (orig_bytes, resp_bytes),
                );
            }
        }
    }

    /// The mail server delivering a message to another organisation.
    fn send_mail(&mut self, at: u64) -> u64 {
        let net = Arc::clone(&self.net);
        let exchanger = *net
            .mail_exchangers
            .choose(&mut self.rng)
            .expect("non-empty");
        if let Some(ready) = self.resolve(network::MAIL_SERVER, exchanger, at, false) {
            let server = *net.sites[exchanger]
                .addrs
                .choose(&mut self.rng)
                .expect("has addresses");
            self.smtp(network::MAIL_SERVER, server, ready);
        }
        at + self.mail_gap(at)
    }

    /// Another organisation's mail server delivering a message to ours.
    fn receive_mail(&mut self, at: u64) -> u64 {
        let net = Arc::clone(&self.net);
        let sender_site = net.pick_page(&mut self.rng);
        let sender = *net.sites[sender_site]
            .addrs
            .choose(&mut self.rng)
            .expect("has addresses");
        self.smtp(sender, network::MAIL_SERVER, at);
        at + self.mail_gap(at)
    }

    /// Mail flows with the working day: about one message per two workstations an hour.
    fn mail_gap(&mut self, at: u64) -> u64 {
        let secs = at / SECOND;
        let busy = (8 * 3600..18 * 3600).contains(&(secs % 86_400))
            && !matches!((secs / 86_400 + 4) % 7, 0 | 6);
        let per_hour = self.net.workstations.len() as f64 * if busy { 0.5 } else { 0.05 };
        exponential_micros(&mut self.rng, 3600.0 / per_hour)
    }

    fn smtp(&mut self, client: Ipv4Addr, server: Ipv4Addr, at: u64) {
        let id = self.conn_id(client, server, 25);
        let conn = TcpSession {
            ts: at,
            uid: self.uids.next_id(),
            id,
            service: Some("smtp"),
            duration: millis_between(&mut self.rng, 400.0, 6000.0),
            orig_bytes: bytes_around(&mut self.rng, 25_000.0, 1.6, 1_200, 40_000_000),
            resp_bytes: bytes_around(&mut self.rng, 1_200.0, 0.3, 600, 4_000),
            exchanges: 12,
            ending: Ending::Closed("ShAdDaFf"),
        }
        .into_conn();
        self.out.conn(&conn);
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
    #[allow(clippy::too_many_arguments)]
    fn tls_session(
        &mut self,
        client: Ipv4Addr,
        server: Ipv4Addr,
        port: u16,
        server_name: &str,
        site: usize,
        alpn: Option<&'static str>,
        at: u64,
        duration: u64,
        (orig_bytes, resp_bytes): (u64, u64),
    ) {
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
    pub(crate) fn http_session(&mut self, session: HttpSession<'_>, at: u64) {
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

pub(crate) fn get(
    uri: &str,
    referrer: Option<String>,
    status: u16,
    response_body: Option<Body>,
) -> Exchange {
    Exchange {
        method: "GET",
        uri: uri.to_owned(),
        referrer,
        status,
        request_body: None,
        response_body,
        server_wait: 0,
    }
}

/// An HTML page: generated per request, so chunked and unique.
fn page_body(rng: &mut ChaCha8Rng, site: usize, uri: &str) -> Body {
    Body {
        bytes: bytes_around(rng, 45_000.0, 0.7, 2_000, 2_000_000),
        mime: "text/html",
        filename: None,
        length_known: false,
        content: content_key(site, uri) ^ rng.random::<u64>(),
    }
}

/// A server's short fixed HTML answer (an error page, an acknowledgement).
pub(crate) fn small_html(site: usize, status: u16) -> Body {
    let content = mix64(site as u64 ^ u64::from(status) << 32);
    Body {
        bytes: 150 + content % 300,
        mime: "text/html",
        filename: None,
        length_known: true,
        content,
    }
}

/// A stable key for one resource of one site.
fn content_key(site: usize, uri: &str) -> u64 {
    uri.bytes()
        .fold(mix64(site as u64), |h, b| mix64(h ^ u64::from(b)))
}
