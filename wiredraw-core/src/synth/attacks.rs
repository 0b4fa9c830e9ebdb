//! The incidents hidden in the everyday traffic: an SSH brute force, a port scan and a beacon,
//! with the notices and software Zeek logs about them.

use super::SECOND;
use super::generator::{Body, Exchange, Generator, HttpSession};
use super::network::{self, BEACON_C2, MAIL_SERVER, Network, PORT_SCANNER, SSH_BRUTE_FORCER};
use super::rand_util::{exponential_micros, millis_between};
use super::records::{
    Conn, ConnId, Ending, Intel, Notice, Software, TCP_BARE_IP_BYTES, TCP_SYN_IP_BYTES, TcpSession,
};
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// The threat feed that lists the beacon's domain.
const BEACON_FEED: &str = "office-threat-feed";

/// The beacon's `User-Agent`: an Internet Explorer 6 string no current Windows sends, with the
/// implant's own suffix.
pub(crate) const BEACON_USER_AGENT: &str =
    "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1) SyncAgent/2.3";
/// Seconds between beacons, and the most the implant deviates from it either way.
pub(crate) const BEACON_PERIOD_SECS: u64 = 300;
pub(crate) const BEACON_JITTER_SECS: u64 = 30;

/// Services the mail server really offers: a scan finds them open.
const MAIL_SERVER_OPEN_PORTS: &[u16] = &[22, 25, 443, 587, 993];
/// High ports scanners try after the well-known range.
const POPULAR_HIGH_PORTS: &[u16] = &[
    1433, 1521, 1723, 2049, 2375, 3000, 3306, 3389, 5000, 5432, 5601, 5900, 5985, 6379, 8000, 8080,
    8081, 8443, 8888, 9000, 9090, 9200, 9300, 10000, 11211, 27017,
];

/// Rejected passwords from one host before Zeek raises `SSH::Password_Guessing`
/// (`SSH::password_guesses_limit`).
const PASSWORD_GUESSES_LIMIT: u32 = 30;
/// Ports of one host probed before Zeek raises `Scan::Port_Scan` (`Scan::port_scan_threshold`).
const PORT_SCAN_THRESHOLD: u32 = 15;

/// When each incident happens and where it has got to.
pub(crate) struct Attacks {
    brute_force_at: u64,
    brute_force_end: u64,
    brute_force_port: u16,
    /// Guesses made so far, and how many of them the server rejected.
    guesses: u32,
    rejected_guesses: u32,
    scan_at: u64,
    /// When the first probe went out, and how many have.
    scan_started: u64,
    probes: u32,
    /// Whether the implant has been seen beaconing yet.
    beacon_seen: bool,
    /// Ports still to probe, last first.
    scan_ports: Vec<u16>,
    scan_source_port: u16,
    beacon_desk: usize,
    beacon_at: u64,
}

impl Attacks {
    /// Places the incidents in `[start, end)`, scaled to the range so short runs have them too,
    /// and picks the infected workstation (left switched on, so it beacons day and night).
    pub(crate) fn plan(rng: &mut ChaCha8Rng, net: &mut Network, start: u64, end: u64) -> Self {
        let span = end - start;
        let brute_force_at = start + span * 3 / 10;
        let mut scan_ports: Vec<u16> = (1..=1024)
            .chain(POPULAR_HIGH_PORTS.iter().copied())
            .collect();
        scan_ports.shuffle(rng);
        let beacon_desk = rng.random_range(0..net.workstations.len());
        net.workstations[beacon_desk].always_on = true;
        Attacks {
            brute_force_at,
            brute_force_end: brute_force_at + (span * 15 / 100).min(40 * 60 * SECOND),
            brute_force_port: rng.random_range(32_768..50_000),
            guesses: 0,
            rejected_guesses: 0,
            scan_at: start + span * 55 / 100,
            scan_started: 0,
            probes: 0,
            beacon_seen: false,
            scan_ports,
            scan_source_port: rng.random_range(32_768..61_000),
            beacon_desk,
            beacon_at: start + rng.random_range(0..BEACON_PERIOD_SECS * SECOND),
        }
    }
}

impl Generator {
    pub(crate) fn run_attacks(&mut self, until: u64) {
        while self.attacks.brute_force_at < until.min(self.attacks.brute_force_end) {
            let at = self.attacks.brute_force_at;
            self.ssh_attempt(at);
            self.attacks.brute_force_at = at + 300_000 + exponential_micros(&mut self.rng, 2.5);
        }
        while self.attacks.scan_at < until && !self.attacks.scan_ports.is_empty() {
            let at = self.attacks.scan_at;
            self.probe(at);
            self.attacks.scan_at = at + millis_between(&mut self.rng, 3.0, 25.0);
        }
        while self.attacks.beacon_at < until {
            let at = self.attacks.beacon_at;
            self.beacon(at);
            let jitter = self.rng.random_range(0..=2 * BEACON_JITTER_SECS * SECOND);
            self.attacks.beacon_at =
                at + (BEACON_PERIOD_SECS - BEACON_JITTER_SECS) * SECOND + jitter;
        }
    }

    /// One password guess against the mail server's SSH daemon.
    fn ssh_attempt(&mut self, at: u64) {
        // Attack tools open connections from consecutive source ports.
        self.attacks.brute_force_port = self
            .attacks
            .brute_force_port
            .wrapping_add(self.rng.random_range(1..4))
            .max(1024);
        let id = ConnId {
            orig_h: SSH_BRUTE_FORCER,
            orig_p: self.attacks.brute_force_port,
            resp_h: MAIL_SERVER,
            resp_p: 22,
        };
        let uid = self.next_uid();
        if self.attacks.guesses == 0 {
            self.ssh_software(at);
        }
        self.attacks.guesses += 1;
        let conn = if self.rng.random_bool(0.85) {
            // Key exchange, a rejected password, and the server hangs up.
            self.attacks.rejected_guesses += 1;
            if self.attacks.rejected_guesses == PASSWORD_GUESSES_LIMIT {
                let msg = format!(
                    "{SSH_BRUTE_FORCER} appears to be guessing SSH passwords (seen in \
                     {PASSWORD_GUESSES_LIMIT} connections)."
                );
                self.out.notice(&Notice {
                    ts: at,
                    note: "SSH::Password_Guessing",
                    msg: &msg,
                    sub: &format!("Sampled servers:  {MAIL_SERVER}"),
                    src: SSH_BRUTE_FORCER,
                    dst: None,
                });
            }
            TcpSession {
                ts: at,
                uid,
                id,
                service: Some("ssh"),
                duration: millis_between(&mut self.rng, 1200.0, 4200.0),
                orig_bytes: self.rng.random_range(1300..1700),
                resp_bytes: self.rng.random_range(1700..2600),
                exchanges: self.rng.random_range(8..12),
                ending: Ending::Closed("ShAdDaFf"),
            }
            .into_conn()
        } else {
            // The tool gave up on this connection straight after the handshake.
            Conn {
                ts: at,
                uid,
                id,
                proto: "tcp",
                service: None,
                duration: Some(millis_between(&mut self.rng, 40.0, 300.0)),
                bytes: Some((0, 0)),
                state: "RSTO",
                history: "ShR",
                orig: (2, TCP_SYN_IP_BYTES + TCP_BARE_IP_BYTES),
                resp: (1, TCP_SYN_IP_BYTES),
            }
        };
        self.out.conn(&conn);
    }

    /// The software the brute force shows Zeek: the server's banner and the attack tool's.
    fn ssh_software(&mut self, at: u64) {
        self.out.software(&Software {
            ts: at,
            host: MAIL_SERVER,
            port: Some(22),
            software_type: "SSH::SERVER",
            name: "OpenSSH",
            version: &[9, 6],
            addl: Some("p1"),
            unparsed: "OpenSSH_9.6p1 Ubuntu-3ubuntu13.5",
        });
        self.out.software(&Software {
            ts: at,
            host: SSH_BRUTE_FORCER,
            port: None,
            software_type: "SSH::CLIENT",
            name: "libssh",
            version: &[0, 9, 6],
            addl: None,
            unparsed: "libssh_0.9.6",
        });
    }

    /// One SYN probe of the port scan.
    fn probe(&mut self, at: u64) {
        let port = self.attacks.scan_ports.pop().expect("checked non-empty");
        if self.attacks.probes == 0 {
            self.attacks.scan_started = at;
        }
        self.attacks.probes += 1;
        if self.attacks.probes == PORT_SCAN_THRESHOLD {
            let secs = (at - self.attacks.scan_started) / SECOND;
            let msg = format!(
                "{PORT_SCANNER} scanned at least {PORT_SCAN_THRESHOLD} unique ports of host \
                 {MAIL_SERVER} in {}m{}s",
                secs / 60,
                secs % 60
            );
            self.out.notice(&Notice {
                ts: at,
                note: "Scan::Port_Scan",
                msg: &msg,
                sub: "local",
                src: PORT_SCANNER,
                dst: Some(MAIL_SERVER),
            });
        }
        let id = ConnId {
            orig_h: PORT_SCANNER,
            orig_p: self.attacks.scan_source_port,
            resp_h: MAIL_SERVER,
            resp_p: port,
        };
        let uid = self.next_uid();
        let answer_delay = Some(self.rng.random_range(40..400));
        let conn = if MAIL_SERVER_OPEN_PORTS.contains(&port) {
            // Open: the server answers SYN-ACK and the scanner resets.
            Conn {
                ts: at,
                uid,
                id,
                proto: "tcp",
                service: None,
                duration: answer_delay,
                bytes: Some((0, 0)),
                state: "RSTO",
                history: "ShR",
                orig: (2, TCP_SYN_IP_BYTES + TCP_BARE_IP_BYTES),
                resp: (1, TCP_SYN_IP_BYTES),
            }
        } else if super::ids::mix64(u64::from(port)) % 10 < 7 {
            // Closed: the server resets.
            Conn {
                ts: at,
                uid,
                id,
                proto: "tcp",
                service: None,
                duration: answer_delay,
                bytes: Some((0, 0)),
                state: "REJ",
                history: "Sr",
                orig: (1, TCP_SYN_IP_BYTES),
                resp: (1, TCP_BARE_IP_BYTES),
            }
        } else {
            // Filtered: no answer at all, so Zeek knows neither duration nor sizes.
            Conn {
                ts: at,
                uid,
                id,
                proto: "tcp",
                service: None,
                duration: None,
                bytes: None,
                state: "S0",
                history: "S",
                orig: (1, TCP_SYN_IP_BYTES),
                resp: (0, 0),
            }
        };
        self.out.conn(&conn);
    }

    /// The implant checking in: a DNS lookup, then a long-polling HTTP request.
    fn beacon(&mut self, at: u64) {
        let net = std::sync::Arc::clone(&self.net);
        let ws = &net.workstations[self.attacks.beacon_desk];
        let Some(ready) = self.resolve(ws.addr, net.beacon_c2, at, false) else {
            return;
        };
        if !self.attacks.beacon_seen {
            self.attacks.beacon_seen = true;
            self.out.software(&Software {
                ts: ready,
                host: ws.addr,
                port: None,
                software_type: "HTTP::BROWSER",
                name: "MSIE",
                version: &[6, 0],
                addl: None,
                unparsed: BEACON_USER_AGENT,
            });
        }
        let bot_id = super::ids::mix64(u64::from(u32::from(ws.addr))) as u32;
        let mut exchanges = vec![Exchange {
            method: "GET",
            uri: format!("/api/v2/poll?id={bot_id:08x}"),
            referrer: None,
            status: 200,
            request_body: None,
            response_body: Some(Body {
                bytes: self.rng.random_range(40..90),
                mime: "text/plain",
                filename: None,
                length_known: true,
                content: self.rng.random(),
            }),
            // The server holds the request open until it times out or has work.
            server_wait: millis_between(&mut self.rng, 20_000.0, 40_000.0),
        }];
        if self.rng.random_bool(0.1) {
            exchanges.push(Exchange {
                method: "POST",
                uri: format!("/api/v2/result?id={bot_id:08x}"),
                referrer: None,
                status: 204,
                request_body: Some(Body {
                    bytes: self.rng.random_range(512..4096),
                    mime: "text/plain",
                    filename: None,
                    length_known: true,
                    content: self.rng.random(),
                }),
                response_body: None,
                server_wait: millis_between(&mut self.rng, 20.0, 80.0),
            });
        }
        let (uid, id, requested) = self.http_session(
            HttpSession {
                client: ws.addr,
                server: BEACON_C2,
                host: network::BEACON_C2_NAME,
                user_agent: BEACON_USER_AGENT,
                exchanges,
            },
            ready,
        );
        self.out.intel(&Intel {
            ts: requested,
            uid,
            id,
            indicator: network::BEACON_C2_NAME,
            indicator_type: "Intel::DOMAIN",
            seen_where: "HTTP::IN_HOST_HEADER",
            source: BEACON_FEED,
        });
    }
}
