//! The office's everyday traffic: browsing, mail, file shares, the intranet, Windows itself.

use super::SECOND;
use super::generator::{Body, Exchange, Generator, HttpSession, TlsSession};
use super::ids::mix64;
use super::network::{self, Scheme};
use super::rand_util::{bytes_around, exponential_micros, log_normal, millis_between};
use super::records::{Ending, TcpSession};
use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;
use std::net::Ipv4Addr;
use std::sync::Arc;

/// Windows' certificate machinery, which fetches revocation data over plain HTTP.
const CRYPTOAPI_AGENT: &str = "Microsoft-CryptoAPI/10.0";

/// What a workstation does on its own schedule.
#[derive(Debug, Clone, Copy)]
pub(super) enum Activity {
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
    pub(super) const ALL: [Activity; 5] = [
        Activity::Browse,
        Activity::MailPoll,
        Activity::FileShare,
        Activity::Intranet,
        Activity::Background,
    ];
}

impl Generator {
    /// Does `activity` at `at` if the desk is in a state to, and returns when to try next.
    pub(super) fn run(&mut self, activity: Activity, desk: usize, at: u64) -> u64 {
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
                    TlsSession {
                        client,
                        server,
                        port: 443,
                        server_name: &s.name,
                        site,
                        alpn: Some("h2"),
                        duration,
                        orig_bytes,
                        resp_bytes,
                    },
                    at,
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
            TlsSession {
                client,
                server: network::MAIL_SERVER,
                port: 993,
                server_name: &mail.name,
                site: net.mail,
                alpn: None,
                duration,
                orig_bytes,
                resp_bytes,
            },
            at,
        );
    }

    /// Opening and saving documents on the file server over SMB.
    fn file_share(&mut self, client: Ipv4Addr, at: u64) {
        let id = self.conn_id(client, network::FILE_SERVER, 445);
        let conn = TcpSession {
            ts: at,
            uid: self.next_uid(),
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
                    TlsSession {
                        client,
                        server,
                        port: 443,
                        server_name: &site.name,
                        site: net.telemetry,
                        alpn: Some("http/1.1"),
                        duration,
                        orig_bytes,
                        resp_bytes,
                    },
                    ready,
                );
            }
        }
    }

    /// The mail server delivering a message to another organisation.
    pub(super) fn send_mail(&mut self, at: u64) -> u64 {
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
    pub(super) fn receive_mail(&mut self, at: u64) -> u64 {
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
            uid: self.next_uid(),
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
}

fn get(uri: &str, referrer: Option<String>, status: u16, response_body: Option<Body>) -> Exchange {
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
fn small_html(site: usize, status: u16) -> Body {
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
