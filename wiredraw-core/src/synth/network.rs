//! The simulated organisation: its machines, the names it looks up and who is at which desk when.

use super::rand_util::log_normal;
use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use std::net::Ipv4Addr;

/// The internal resolver every machine in the office asks.
pub(crate) const RESOLVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
/// Where the resolver forwards names it has not cached.
pub(crate) const UPSTREAM_DNS: Ipv4Addr = Ipv4Addr::new(9, 9, 9, 9);
pub(crate) const FILE_SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 10);
pub(crate) const INTRANET: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 20);
/// Internet-facing mail server: the one the attackers go for.
pub(crate) const MAIL_SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 25);
pub(crate) const SSH_BRUTE_FORCER: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 66);
pub(crate) const PORT_SCANNER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 23);
pub(crate) const BEACON_C2: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 200);
pub(crate) const BEACON_C2_NAME: &str = "cdn.update-sync.example";

/// Workstations live in 10.1.0.0/16, 254 to a /24.
pub(crate) const MAX_WORKSTATIONS: u32 = 254 * 254;

/// Zeek's `Site::local_nets` for this organisation.
pub(crate) fn is_local(addr: Ipv4Addr) -> bool {
    addr.octets()[0] == 10
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    Https,
    Http,
}

/// A DNS name and the service behind it.
pub(crate) struct Site {
    pub name: String,
    pub addrs: Vec<Ipv4Addr>,
    /// `addrs` as text, ready for the DNS `answers` column.
    pub answers: Vec<String>,
    pub ttl_secs: u64,
    pub scheme: Scheme,
    /// Answered by our own resolver with authority, never forwarded.
    pub internal: bool,
    /// The site serving this page's scripts and images, when it is another host.
    pub assets: Option<usize>,
}

/// A browser's `User-Agent`, with how common it is in the office (percent).
const BROWSERS: &[(&str, u32)] = &[
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        55,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
        25,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
        10,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
        10,
    ),
];

/// Well-known pages, most visited first, with the host their static content comes from.
const POPULAR: &[(&str, Option<&str>)] = &[
    ("www.google.com", Some("www.gstatic.com")),
    ("outlook.office365.com", Some("res.cdn.office.net")),
    ("teams.microsoft.com", Some("statics.teams.cdn.office.net")),
    ("login.microsoftonline.com", Some("aadcdn.msftauth.net")),
    ("www.youtube.com", Some("i.ytimg.com")),
    ("github.com", Some("github.githubassets.com")),
    ("en.wikipedia.org", Some("upload.wikimedia.org")),
    ("stackoverflow.com", Some("cdn.sstatic.net")),
    ("www.linkedin.com", Some("static.licdn.com")),
    ("app.slack.com", Some("a.slack-edge.com")),
    ("docs.google.com", Some("ssl.gstatic.com")),
    ("mail.google.com", Some("www.gstatic.com")),
    ("www.bbc.co.uk", Some("static.files.bbci.co.uk")),
    ("www.nytimes.com", Some("static01.nyt.com")),
    ("www.reddit.com", Some("www.redditstatic.com")),
    ("www.amazon.com", Some("m.media-amazon.com")),
    ("zoom.us", Some("st1.zoom.us")),
    ("www.dropbox.com", Some("cfl.dropboxstatic.com")),
    ("news.ycombinator.com", None),
    ("www.salesforce.com", Some("c1.sfdcstatic.com")),
    ("neverssl.com", None),
];

/// Shared content delivery hosts that long-tail pages pull scripts and fonts from.
const SHARED_CDNS: &[&str] = &[
    "cdnjs.cloudflare.com",
    "ajax.googleapis.com",
    "cdn.jsdelivr.net",
    "fonts.gstatic.com",
    "unpkg.com",
];

/// Plain-HTTP endpoints Windows itself talks to (certificate checks).
pub(crate) const OCSP_NAME: &str = "ocsp.digicert.com";
pub(crate) const CTL_NAME: &str = "ctldl.windowsupdate.com";
/// HTTPS endpoint Windows reports telemetry to.
pub(crate) const TELEMETRY_NAME: &str = "v10.events.data.microsoft.com";
/// The name Windows asks for to find a proxy configuration; it does not exist here.
pub(crate) const WPAD_NAME: &str = "wpad.corp.example";

const SYLLABLES: &[&str] = &[
    "bar", "ven", "tor", "lia", "mon", "ka", "ri", "sel", "dun", "pix", "lo", "na", "quar", "ter",
    "vi", "zen", "mar", "tec", "hol", "fin", "gro", "sta", "lu", "mer", "do", "pra", "kel", "nova",
];
const TLDS: &[&str] = &["com", "com", "com", "net", "org", "io", "co.uk", "de"];

/// One desk: a workstation and the habits of the person using it.
pub(crate) struct Workstation {
    pub addr: Ipv4Addr,
    pub user_agent: &'static str,
    /// Relative browsing intensity; 1.0 is an average user.
    pub activity: f64,
    /// Seconds after midnight UTC the user arrives and leaves on working days.
    pub arrive_secs: u64,
    pub leave_secs: u64,
    /// Left switched on overnight and at weekends, so background traffic never stops.
    pub always_on: bool,
}

impl Workstation {
    /// Whether someone is at the desk at `secs` (epoch seconds).
    pub(crate) fn is_staffed(&self, secs: u64) -> bool {
        let (day, of_day) = (secs / 86_400, secs % 86_400);
        is_working_day(day) && (self.arrive_secs..self.leave_secs).contains(&of_day)
    }

    /// The next arrival at or after `secs`.
    pub(crate) fn next_arrival(&self, secs: u64) -> u64 {
        let mut day = secs / 86_400;
        loop {
            let arrival = day * 86_400 + self.arrive_secs;
            if is_working_day(day) && arrival >= secs {
                return arrival;
            }
            day += 1;
        }
    }

    /// Whether the machine is switched on at `secs`.
    pub(crate) fn is_on(&self, secs: u64) -> bool {
        self.always_on || self.is_staffed(secs)
    }
}

/// Monday to Friday (1970-01-01 was a Thursday).
fn is_working_day(day: u64) -> bool {
    !matches!((day + 4) % 7, 0 | 6)
}

/// Every host and name of the simulated network.
pub(crate) struct Network {
    pub sites: Vec<Site>,
    /// Cumulative popularity of the sites people browse to (`browsable[i].1`), for sampling.
    browsable: Vec<(usize, f64)>,
    pub workstations: Vec<Workstation>,
    pub intranet: usize,
    pub file_server: usize,
    pub mail: usize,
    pub wpad: usize,
    pub ocsp: usize,
    pub ctl: usize,
    pub telemetry: usize,
    pub beacon_c2: usize,
    /// Other organisations' mail exchangers, for outbound mail.
    pub mail_exchangers: Vec<usize>,
}

impl Network {
    pub(crate) fn build(hosts: u32, rng: &mut ChaCha8Rng) -> Self {
        let mut builder = SiteBuilder::new();
        let intranet = builder.internal("intranet.corp.example", INTRANET, Scheme::Http);
        let file_server = builder.internal("fs01.corp.example", FILE_SERVER, Scheme::Https);
        let mail = builder.internal("mail.corp.example", MAIL_SERVER, Scheme::Https);
        let wpad = builder.nonexistent(WPAD_NAME);
        let beacon_c2 = builder.push(BEACON_C2_NAME, vec![BEACON_C2], 60, Scheme::Http, None);

        let mut browsable = Vec::new();
        for &(page, assets) in POPULAR {
            let assets = assets.map(|name| builder.external(rng, name, Scheme::Https, None));
            let scheme = if page == "neverssl.com" {
                Scheme::Http
            } else {
                Scheme::Https
            };
            browsable.push(builder.external(rng, page, scheme, assets));
        }
        let cdns: Vec<usize> = SHARED_CDNS
            .iter()
            .map(|name| builder.external(rng, name, Scheme::Https, None))
            .collect();
        let long_tail = (hosts as usize * 4).clamp(40, 30_000);
        for _ in 0..long_tail {
            let name = builder.invent_name(rng);
            let scheme = if rng.random_bool(0.12) {
                Scheme::Http
            } else {
                Scheme::Https
            };
            let assets = (scheme == Scheme::Https && rng.random_bool(0.6))
                .then(|| cdns[rng.random_range(0..cdns.len())]);
            browsable.push(builder.external(rng, &name, scheme, assets));
        }
        let ocsp = builder.external(rng, OCSP_NAME, Scheme::Http, None);
        let ctl = builder.external(rng, CTL_NAME, Scheme::Http, None);
        let telemetry = builder.external(rng, TELEMETRY_NAME, Scheme::Https, None);
        let mail_exchangers = [
            "aspmx.l.google.com",
            "mx1.mail.protection.outlook.com",
            "mx.partner-logistics.de",
        ]
        .into_iter()
        .map(|name| builder.external(rng, name, Scheme::Https, None))
        .collect();

        // Zipf-like: the n-th most popular page is visited about 1/n^0.9 as often as the first.
        let mut total = 0.0;
        let browsable = browsable
            .into_iter()
            .enumerate()
            .map(|(rank, site)| {
                total += 1.0 / ((rank + 1) as f64).powf(0.9);
                (site, total)
            })
            .collect();

        let workstations = (0..hosts).map(|i| workstation(i, rng)).collect();
        Network {
            sites: builder.sites,
            browsable,
            workstations,
            intranet,
            file_server,
            mail,
            wpad,
            ocsp,
            ctl,
            telemetry,
            beacon_c2,
            mail_exchangers,
        }
    }

    /// A page to browse to, weighted by popularity.
    pub(crate) fn pick_page(&self, rng: &mut ChaCha8Rng) -> usize {
        let total = self.browsable.last().map_or(0.0, |&(_, c)| c);
        let target = rng.random::<f64>() * total;
        let i = self.browsable.partition_point(|&(_, c)| c <= target);
        self.browsable[i.min(self.browsable.len() - 1)].0
    }
}

fn workstation(index: u32, rng: &mut ChaCha8Rng) -> Workstation {
    let addr = Ipv4Addr::new(10, 1, (index / 254) as u8, (index % 254 + 1) as u8);
    let mut pick = rng.random_range(0..100);
    let user_agent = BROWSERS
        .iter()
        .find(|&&(_, share)| {
            let hit = pick < share;
            pick = pick.saturating_sub(share);
            hit
        })
        .map_or(BROWSERS[0].0, |&(ua, _)| ua);
    let arrive_secs = rng.random_range(7 * 3600 + 1800..9 * 3600 + 1800);
    Workstation {
        addr,
        user_agent,
        activity: log_normal(rng, 0.0, 0.5),
        arrive_secs,
        leave_secs: arrive_secs + rng.random_range(8 * 3600..9 * 3600 + 1800),
        always_on: rng.random_bool(0.15),
    }
}

/// Hands out internet addresses from the ranges reserved for documentation (RFC 5737) and then
/// for benchmarking (RFC 2544), so no real organisation's address appears in the output.
struct AddressPool {
    next: u32,
    range: usize,
}

const POOL_RANGES: &[(u32, u32)] = &[
    (
        u32::from_be_bytes([192, 0, 2, 1]),
        u32::from_be_bytes([192, 0, 2, 254]),
    ),
    (
        u32::from_be_bytes([198, 51, 100, 1]),
        u32::from_be_bytes([198, 51, 100, 254]),
    ),
    (
        u32::from_be_bytes([203, 0, 113, 1]),
        u32::from_be_bytes([203, 0, 113, 254]),
    ),
    (
        u32::from_be_bytes([198, 18, 0, 1]),
        u32::from_be_bytes([198, 19, 255, 254]),
    ),
];

impl AddressPool {
    fn take(&mut self, rng: &mut ChaCha8Rng) -> Ipv4Addr {
        loop {
            let (first, last) = POOL_RANGES[self.range];
            let candidate = first + self.next;
            if candidate > last {
                // The config limits keep the site count well inside the pool.
                self.range += 1;
                assert!(self.range < POOL_RANGES.len(), "address pool exhausted");
                self.next = 0;
                continue;
            }
            // Gaps keep neighbouring sites from sitting on consecutive addresses.
            self.next += rng.random_range(1..4);
            let addr = Ipv4Addr::from(candidate);
            if ![SSH_BRUTE_FORCER, PORT_SCANNER, BEACON_C2].contains(&addr) {
                return addr;
            }
        }
    }
}

struct SiteBuilder {
    sites: Vec<Site>,
    by_name: HashMap<String, usize>,
    pool: AddressPool,
}

impl SiteBuilder {
    fn new() -> Self {
        SiteBuilder {
            sites: Vec::new(),
            by_name: HashMap::new(),
            pool: AddressPool { next: 0, range: 0 },
        }
    }

    fn push(
        &mut self,
        name: &str,
        addrs: Vec<Ipv4Addr>,
        ttl_secs: u64,
        scheme: Scheme,
        assets: Option<usize>,
    ) -> usize {
        if let Some(&existing) = self.by_name.get(name) {
            return existing;
        }
        self.by_name.insert(name.to_owned(), self.sites.len());
        self.sites.push(Site {
            name: name.to_owned(),
            answers: addrs.iter().map(Ipv4Addr::to_string).collect(),
            internal: is_local_or_empty(&addrs),
            addrs,
            ttl_secs,
            scheme,
            assets,
        });
        self.sites.len() - 1
    }

    fn internal(&mut self, name: &str, addr: Ipv4Addr, scheme: Scheme) -> usize {
        self.push(name, vec![addr], 3600, scheme, None)
    }

    fn nonexistent(&mut self, name: &str) -> usize {
        self.push(name, Vec::new(), 3600, Scheme::Http, None)
    }

    /// An internet name: most have one address, content networks several.
    fn external(
        &mut self,
        rng: &mut ChaCha8Rng,
        name: &str,
        scheme: Scheme,
        assets: Option<usize>,
    ) -> usize {
        if let Some(&existing) = self.by_name.get(name) {
            return existing;
        }
        let count = if rng.random_bool(0.3) {
            rng.random_range(2..=4)
        } else {
            1
        };
        let addrs = (0..count).map(|_| self.pool.take(rng)).collect();
        let ttl_secs = *[60, 300, 300, 600, 3600].choose(rng).expect("non-empty");
        self.push(name, addrs, ttl_secs, scheme, assets)
    }

    fn invent_name(&mut self, rng: &mut ChaCha8Rng) -> String {
        loop {
            let parts = rng.random_range(2..=3);
            let mut name = String::from("www.");
            for _ in 0..parts {
                name.push_str(SYLLABLES.choose(rng).expect("non-empty"));
            }
            name.push('.');
            name.push_str(TLDS.choose(rng).expect("non-empty"));
            if !self.by_name.contains_key(&name) {
                return name;
            }
        }
    }
}

fn is_local_or_empty(addrs: &[Ipv4Addr]) -> bool {
    addrs.iter().all(|&a| is_local(a))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use std::collections::HashSet;

    #[test]
    fn workstations_get_distinct_office_addresses() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let net = Network::build(600, &mut rng);
        let addrs: HashSet<_> = net.workstations.iter().map(|w| w.addr).collect();
        assert_eq!(addrs.len(), 600);
        assert!(
            addrs
                .iter()
                .all(|&a| is_local(a) && a.octets()[1] >= 1 && a.octets()[3] != 0)
        );
        let last = workstation(MAX_WORKSTATIONS - 1, &mut rng);
        assert_eq!(last.addr, Ipv4Addr::new(10, 1, 253, 254));
    }

    #[test]
    fn internet_sites_use_reserved_ranges_only() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let net = Network::build(2000, &mut rng);
        for site in net.sites.iter().filter(|s| !s.internal) {
            for a in &site.addrs {
                let o = a.octets();
                let reserved = matches!(
                    (o[0], o[1], o[2]),
                    (192, 0, 2) | (198, 51, 100) | (203, 0, 113)
                ) || (o[0] == 198 && (o[1] == 18 || o[1] == 19));
                assert!(reserved, "{} got {a}", site.name);
            }
        }
        assert!(net.sites[net.wpad].addrs.is_empty());
    }

    #[test]
    fn desks_are_staffed_on_weekdays_only() {
        let ws = Workstation {
            addr: Ipv4Addr::new(10, 1, 0, 1),
            user_agent: BROWSERS[0].0,
            activity: 1.0,
            arrive_secs: 8 * 3600,
            leave_secs: 17 * 3600,
            always_on: false,
        };
        let monday = 1_736_121_600; // 2025-01-06 00:00 UTC
        assert!(!ws.is_staffed(monday + 7 * 3600));
        assert!(ws.is_staffed(monday + 9 * 3600));
        assert_eq!(
            ws.next_arrival(monday + 18 * 3600),
            monday + 86_400 + 8 * 3600
        );
        let saturday = monday + 5 * 86_400;
        assert!(!ws.is_staffed(saturday + 9 * 3600));
        assert_eq!(ws.next_arrival(saturday), monday + 7 * 86_400 + 8 * 3600);
    }
}
