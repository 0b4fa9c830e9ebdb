//! The synthetic logs, checked the way a Zeek consumer would read them: headers, column types,
//! uid links, DNS-before-connection, the three incidents, and TSV/JSON parity.
//!
//! The TSV is split by hand here, independent of the crate's own reader.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use wiredraw_core::synth::{
    self, Generator, LogKind, OutputFormat, SynthConfig, SynthError, SynthSummary,
};

fn config(format: OutputFormat) -> SynthConfig {
    SynthConfig {
        hosts: 30,
        hours: 8.0,
        seed: 7,
        format,
        ..SynthConfig::default()
    }
}

/// One generated TSV and one JSON directory, shared by the tests of this file.
struct Fixture {
    _dir: tempfile::TempDir,
    tsv: PathBuf,
    json: PathBuf,
    summary: SynthSummary,
    logs: BTreeMap<LogKind, Log>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let (tsv, json) = (dir.path().join("tsv"), dir.path().join("json"));
        let summary = synth::generate(&config(OutputFormat::Tsv), &tsv).unwrap();
        let json_summary = synth::generate(&config(OutputFormat::Json), &json).unwrap();
        assert_eq!(summary, json_summary);
        let logs = LogKind::ALL
            .into_iter()
            .map(|log| (log, Log::read(&tsv, log)))
            .collect();
        Fixture {
            _dir: dir,
            tsv,
            json,
            summary,
            logs,
        }
    })
}

fn log(kind: LogKind) -> &'static Log {
    &fixture().logs[&kind]
}

/// A TSV log split into cells, with its header checked on the way in.
struct Log {
    fields: Vec<String>,
    types: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Log {
    fn read(dir: &Path, kind: LogKind) -> Log {
        let text = std::fs::read_to_string(dir.join(kind.file_name())).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[..5],
            [
                "#separator \\x09",
                "#set_separator\t,",
                "#empty_field\t(empty)",
                "#unset_field\t-",
                &format!("#path\t{}", kind.path())
            ]
        );
        assert_eq!(lines[5], "#open\t2025-01-06-08-00-00");
        let header = |line: &str, prefix: &str| -> Vec<String> {
            let rest = line.strip_prefix(prefix).expect(prefix);
            rest.split('\t').map(str::to_owned).collect()
        };
        let fields = header(lines[6], "#fields\t");
        let types = header(lines[7], "#types\t");
        assert_eq!(lines.last().copied(), Some("#close\t2025-01-06-16-00-00"));
        let rows: Vec<Vec<String>> = lines[8..lines.len() - 1]
            .iter()
            .map(|line| {
                assert!(!line.starts_with('#'), "{line}");
                line.split('\t').map(str::to_owned).collect()
            })
            .collect();
        Log {
            fields,
            types,
            rows,
        }
    }

    fn column(&self, name: &str) -> usize {
        self.fields
            .iter()
            .position(|f| f == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }

    /// The values of `names` for every row.
    fn select<'a>(&'a self, names: &[&str]) -> impl Iterator<Item = Vec<&'a str>> + 'a {
        let columns: Vec<usize> = names.iter().map(|n| self.column(n)).collect();
        self.rows
            .iter()
            .map(move |row| columns.iter().map(|&c| row[c].as_str()).collect())
    }
}

fn ts(cell: &str) -> f64 {
    cell.parse().unwrap()
}

fn addr(cell: &str) -> Ipv4Addr {
    cell.parse().unwrap()
}

fn is_local(cell: &str) -> bool {
    addr(cell).octets()[0] == 10
}

/// Zeek 6's default columns, in order.
const CONN_FIELDS: &str = "ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto service duration orig_bytes resp_bytes conn_state local_orig local_resp missed_bytes history orig_pkts orig_ip_bytes resp_pkts resp_ip_bytes tunnel_parents";
const FILES_FIELDS: &str = "ts fuid uid id.orig_h id.orig_p id.resp_h id.resp_p source depth analyzers mime_type filename duration local_orig is_orig seen_bytes total_bytes missing_bytes overflow_bytes timedout parent_fuid md5 sha1 sha256 extracted extracted_cutoff extracted_size";

#[test]
fn columns_are_zeek_6_defaults() {
    assert_eq!(log(LogKind::Conn).fields.join(" "), CONN_FIELDS);
    assert_eq!(
        log(LogKind::Conn).types.join(" "),
        "time string addr port addr port enum string interval count count string bool bool count string count count count count set[string]"
    );
    assert_eq!(log(LogKind::Files).fields.join(" "), FILES_FIELDS);
    for kind in LogKind::ALL {
        let log = log(kind);
        let schema: Vec<_> = kind.fields().iter().map(|(n, t)| (*n, *t)).collect();
        let header: Vec<_> = log
            .fields
            .iter()
            .map(String::as_str)
            .zip(log.types.iter().map(String::as_str))
            .collect();
        assert_eq!(schema, header, "{kind:?}");
    }
}

/// Whether `cell` is a valid TSV value of Zeek type `zeek_type`.
fn valid_cell(zeek_type: &str, cell: &str) -> bool {
    if cell == "-" {
        return true;
    }
    if let Some(inner) = zeek_type
        .strip_prefix("set[")
        .or_else(|| zeek_type.strip_prefix("vector["))
        .and_then(|t| t.strip_suffix(']'))
    {
        return cell == "(empty)" || cell.split(',').all(|item| valid_scalar(inner, item));
    }
    valid_scalar(zeek_type, cell)
}

fn valid_scalar(zeek_type: &str, cell: &str) -> bool {
    match zeek_type {
        "time" | "interval" => cell.split_once('.').is_some_and(|(s, f)| {
            s.parse::<u64>().is_ok() && f.len() == 6 && f.parse::<u32>().is_ok()
        }),
        "count" => cell.parse::<u64>().is_ok(),
        "port" => cell.parse::<u16>().is_ok(),
        "addr" => cell.parse::<Ipv4Addr>().is_ok(),
        "bool" => cell == "T" || cell == "F",
        "string" | "enum" => {
            !cell.is_empty() && cell != "-" && !cell.chars().any(|c| c.is_control())
        }
        other => panic!("unexpected type {other}"),
    }
}

#[test]
fn every_cell_parses_as_its_declared_type() {
    for kind in LogKind::ALL {
        let log = log(kind);
        assert!(!log.rows.is_empty(), "{kind:?} is empty");
        assert_eq!(log.rows.len() as u64, fixture().summary.count(kind));
        for row in &log.rows {
            assert_eq!(row.len(), log.fields.len(), "{kind:?}: {row:?}");
            for ((cell, zeek_type), name) in row.iter().zip(&log.types).zip(&log.fields) {
                assert!(
                    valid_cell(zeek_type, cell),
                    "{kind:?} {name} ({zeek_type}) = {cell:?}"
                );
            }
        }
    }
}

#[test]
fn each_file_is_in_timestamp_order_within_the_range() {
    let (start, end) = (
        synth::DEFAULT_START as f64,
        synth::DEFAULT_START as f64 + 8.0 * 3600.0,
    );
    for kind in LogKind::ALL {
        let times: Vec<f64> = log(kind).select(&["ts"]).map(|r| ts(r[0])).collect();
        assert!(
            times.windows(2).all(|w| w[0] <= w[1]),
            "{kind:?} out of order"
        );
        assert!(times[0] >= start, "{kind:?} starts early");
        // Records of connections that began before the end may come a little after it.
        assert!(*times.last().unwrap() < end + 120.0, "{kind:?} ends late");
    }
    let conn_times: Vec<f64> = log(LogKind::Conn)
        .select(&["ts"])
        .map(|r| ts(r[0]))
        .collect();
    assert!(*conn_times.last().unwrap() < end);
}

#[test]
fn uids_are_zeek_style_and_unique() {
    let zeek_id = |id: &str, prefix: char| {
        id.len() == 18
            && id.starts_with(prefix)
            && id[1..].bytes().all(|b| b.is_ascii_alphanumeric())
    };
    let uids: Vec<&str> = log(LogKind::Conn).select(&["uid"]).map(|r| r[0]).collect();
    assert!(uids.iter().all(|u| zeek_id(u, 'C')));
    assert_eq!(uids.iter().collect::<HashSet<_>>().len(), uids.len());
    let fuids: Vec<&str> = log(LogKind::Files)
        .select(&["fuid"])
        .map(|r| r[0])
        .collect();
    assert!(fuids.iter().all(|f| zeek_id(f, 'F')));
    assert_eq!(fuids.iter().collect::<HashSet<_>>().len(), fuids.len());
    // The first digit varies as in Zeek, rather than being padding.
    let first_digits: HashSet<u8> = uids.iter().map(|u| u.as_bytes()[1]).collect();
    assert!(first_digits.len() > 40);
}

const ID: [&str; 5] = ["uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p"];

#[test]
fn every_uid_links_to_a_connection_with_the_same_endpoints() {
    let conns: HashMap<Vec<&str>, f64> = log(LogKind::Conn)
        .select(&[
            "uid",
            "id.orig_h",
            "id.orig_p",
            "id.resp_h",
            "id.resp_p",
            "ts",
        ])
        .map(|r| (r[..5].to_vec(), ts(r[5])))
        .collect();
    for kind in [
        LogKind::Dns,
        LogKind::Http,
        LogKind::Ssl,
        LogKind::Files,
        LogKind::Intel,
    ] {
        let mut fields = ID.to_vec();
        fields.push("ts");
        for row in log(kind).select(&fields) {
            let started = conns
                .get(&row[..5])
                .unwrap_or_else(|| panic!("{kind:?} record without its connection: {row:?}"));
            assert!(
                ts(row[5]) >= *started,
                "{kind:?} record before its connection: {row:?}"
            );
        }
    }
    // Every file an HTTP record names is in files.log on the same connection, and vice versa.
    let files: HashMap<&str, (&str, &str)> = log(LogKind::Files)
        .select(&["fuid", "uid", "is_orig"])
        .map(|r| (r[0], (r[1], r[2])))
        .collect();
    let mut named = 0;
    for row in log(LogKind::Http).select(&["uid", "orig_fuids", "resp_fuids"]) {
        for (cell, is_orig) in [(row[1], "T"), (row[2], "F")] {
            if cell != "-" {
                named += 1;
                assert_eq!(files.get(cell), Some(&(row[0], is_orig)), "{row:?}");
            }
        }
    }
    assert_eq!(named, files.len());
}

/// An answered lookup: when, how long the answer stays valid, and the name asked for.
struct Lookup {
    at: f64,
    ttl: f64,
    name: &'static str,
}

/// Every answered lookup, by (client, address).
fn lookups() -> HashMap<(&'static str, &'static str), Vec<Lookup>> {
    let mut learned: HashMap<_, Vec<_>> = HashMap::new();
    for row in log(LogKind::Dns).select(&["ts", "id.orig_h", "query", "answers", "TTLs"]) {
        if row[3] == "-" {
            continue;
        }
        for (answer, ttl) in row[3].split(',').zip(row[4].split(',')) {
            assert!(answer.parse::<Ipv4Addr>().is_ok(), "{row:?}");
            learned.entry((row[1], answer)).or_default().push(Lookup {
                at: ts(row[0]),
                ttl: ts(ttl),
                name: row[2],
            });
        }
    }
    learned
}

#[test]
fn names_are_resolved_before_the_connections_that_use_them() {
    let learned = lookups();
    let mut checked = 0;
    for row in log(LogKind::Conn).select(&["ts", "id.orig_h", "id.resp_h"]) {
        let client_started = is_local(row[1]) && row[2] != "10.0.0.2" && row[2] != "9.9.9.9";
        if !client_started {
            continue;
        }
        checked += 1;
        let at = ts(row[0]);
        // A lookup shortly before, whose answer was still valid (the client's cache is checked
        // when the user acts; the connections follow within a second or so).
        let fresh = learned
            .get(&(row[1], row[2]))
            .is_some_and(|seen| seen.iter().any(|l| l.at < at && at <= l.at + l.ttl + 2.0));
        assert!(fresh, "no valid lookup before {row:?}");
    }
    assert!(checked > 10_000, "only {checked} connections checked");
    for (kind, name_column) in [(LogKind::Ssl, "server_name"), (LogKind::Http, "host")] {
        for row in log(kind).select(&["ts", "id.orig_h", "id.resp_h", name_column]) {
            let named = learned
                .get(&(row[1], row[2]))
                .is_some_and(|seen| seen.iter().any(|l| l.name == row[3] && l.at < ts(row[0])));
            assert!(named, "{kind:?} names a host it did not look up: {row:?}");
        }
    }
}

#[test]
fn a_name_always_resolves_to_the_same_addresses() {
    let mut answers: HashMap<&str, &str> = HashMap::new();
    for row in log(LogKind::Dns).select(&["query", "qtype_name", "answers"]) {
        if row[1] == "A" {
            assert_eq!(
                *answers.entry(row[0]).or_insert(row[2]),
                row[2],
                "{}",
                row[0]
            );
        }
    }
    assert_eq!(answers.get("wpad.corp.example"), Some(&"-"));
    assert_eq!(answers.get("intranet.corp.example"), Some(&"10.0.0.20"));
}

#[test]
fn unanswered_connections_leave_duration_and_bytes_unset() {
    let mut states = HashMap::new();
    for row in log(LogKind::Conn).select(&[
        "conn_state",
        "duration",
        "orig_bytes",
        "resp_bytes",
        "history",
    ]) {
        *states.entry(row[0]).or_insert(0) += 1;
        let unset = row[1..4].iter().all(|c| *c == "-");
        let set = row[1..4].iter().all(|c| *c != "-");
        match row[0] {
            "S0" => assert!(unset && row[4] == "S", "{row:?}"),
            _ => assert!(set, "{row:?}"),
        }
    }
    for state in ["SF", "S0", "REJ", "RSTO", "RSTR"] {
        assert!(states.contains_key(state), "no {state} in {states:?}");
    }
}

/// Connections grouped by (originator, responder).
fn conns_by_pair() -> HashMap<(&'static str, &'static str), Vec<Vec<&'static str>>> {
    let mut pairs: HashMap<_, Vec<_>> = HashMap::new();
    for row in log(LogKind::Conn).select(&[
        "id.orig_h",
        "id.resp_h",
        "id.resp_p",
        "conn_state",
        "history",
        "duration",
        "ts",
    ]) {
        pairs.entry((row[0], row[1])).or_default().push(row);
    }
    pairs
}

#[test]
fn the_ssh_brute_force_stands_out() {
    let brute_forcers: Vec<_> = conns_by_pair()
        .into_iter()
        .filter(|(_, rows)| rows.iter().filter(|r| r[2] == "22").count() >= 100)
        .collect();
    assert_eq!(brute_forcers.len(), 1, "one host hammers port 22");
    let ((attacker, target), rows) = &brute_forcers[0];
    assert!(!is_local(attacker) && is_local(target));
    let failed_logins = rows.iter().filter(|r| r[4] == "ShAdDaFf").count();
    assert!(
        failed_logins * 10 >= rows.len() * 8,
        "mostly full but failed sessions"
    );
    assert!(rows.iter().all(|r| ["ShAdDaFf", "ShR"].contains(&r[4])));
    assert!(rows.iter().all(|r| ts(r[5]) < 10.0), "all short");
}

#[test]
fn the_port_scan_stands_out() {
    let scanners: Vec<_> = conns_by_pair()
        .into_iter()
        .filter(|(_, rows)| rows.iter().map(|r| r[2]).collect::<HashSet<_>>().len() >= 500)
        .collect();
    assert_eq!(scanners.len(), 1, "one host probes hundreds of ports");
    let ((scanner, target), rows) = &scanners[0];
    assert!(!is_local(scanner) && is_local(target));
    let states: HashSet<(&str, &str)> = rows.iter().map(|r| (r[3], r[4])).collect();
    assert!(
        states.contains(&("S0", "S")) && states.contains(&("REJ", "Sr")),
        "{states:?}"
    );
    let first = ts(rows[0][6]);
    let last = ts(rows[rows.len() - 1][6]);
    assert!(
        last - first < 120.0,
        "the scan is quick: {} s",
        last - first
    );
}

#[test]
fn zeek_raises_a_notice_for_the_brute_force_and_the_scan_naming_their_hosts() {
    let notices: Vec<Vec<&str>> = log(LogKind::Notice)
        .select(&["ts", "uid", "note", "src", "dst", "msg", "actions"])
        .collect();
    assert_eq!(notices.len(), 2, "{notices:?}");
    let pairs = conns_by_pair();
    // At the 30th rejected password (`SSH::password_guesses_limit`).
    let guessing = &notices[0];
    assert_eq!(guessing[2], "SSH::Password_Guessing");
    let attempts = &pairs[&(guessing[3], "10.0.0.25")];
    let rejected: Vec<&Vec<&str>> = attempts.iter().filter(|r| r[4] == "ShAdDaFf").collect();
    assert_eq!(guessing[0], rejected[29][6]);
    assert_eq!(guessing[4], "-", "it names the guesser only");
    assert_eq!(
        guessing[5],
        "203.0.113.66 appears to be guessing SSH passwords (seen in 30 connections)."
    );
    // At the 15th port probed (`Scan::port_scan_threshold`).
    let scan = &notices[1];
    assert_eq!(scan[2], "Scan::Port_Scan");
    let probes = &pairs[&(scan[3], scan[4])];
    assert_eq!(scan[0], probes[14][6]);
    assert!(
        scan[5]
            .starts_with("198.51.100.23 scanned at least 15 unique ports of host 10.0.0.25 in 0m")
    );
    // Neither names a connection: Zeek's scan and SSH policies count many.
    assert!(
        notices
            .iter()
            .all(|n| n[1] == "-" && n[6] == "Notice::ACTION_LOG")
    );
}

#[test]
fn zeek_logs_the_software_the_incidents_show() {
    let software: Vec<Vec<&str>> = log(LogKind::Software)
        .select(&[
            "host",
            "host_p",
            "software_type",
            "name",
            "unparsed_version",
        ])
        .collect();
    let beacon_desk = log(LogKind::Http)
        .select(&["id.orig_h", "user_agent"])
        .find(|r| r[1].contains("SyncAgent"))
        .unwrap()[0];
    let mut found: Vec<(&str, &str, &str, &str)> =
        software.iter().map(|r| (r[0], r[1], r[2], r[3])).collect();
    found.sort();
    let mut expected = vec![
        ("10.0.0.25", "22", "SSH::SERVER", "OpenSSH"),
        ("203.0.113.66", "-", "SSH::CLIENT", "libssh"),
        (beacon_desk, "-", "HTTP::BROWSER", "MSIE"),
    ];
    expected.sort();
    assert_eq!(found, expected);
    let browser = software.iter().find(|r| r[3] == "MSIE").unwrap();
    assert!(browser[4].starts_with("Mozilla/4.0 (compatible; MSIE 6.0;"));
}

#[test]
fn the_beacon_stands_out() {
    // Requests per (client, host), with the user agents used.
    let mut requests: HashMap<(&str, &str), Vec<(f64, &str)>> = HashMap::new();
    for row in log(LogKind::Http).select(&["ts", "id.orig_h", "host", "user_agent", "trans_depth"])
    {
        if row[4] == "1" {
            requests
                .entry((row[1], row[2]))
                .or_default()
                .push((ts(row[0]), row[3]));
        }
    }
    let periodic: Vec<_> = requests
        .iter()
        .filter(|(_, hits)| {
            hits.len() >= 20
                && hits
                    .windows(2)
                    .all(|w| (265.0..=335.0).contains(&(w[1].0 - w[0].0)))
        })
        .collect();
    assert_eq!(
        periodic.len(),
        1,
        "exactly one client calls home every ~300 s"
    );
    let ((client, host), hits) = periodic[0];
    assert!(is_local(client));
    assert!(
        hits.len() >= 8 * 3600 / 330,
        "beacons all day: {}",
        hits.len()
    );
    let agent = hits[0].1;
    let browsers_agents: HashSet<&str> = requests
        .iter()
        .filter(|((c, _), _)| c != client)
        .flat_map(|(_, hits)| hits.iter().map(|h| h.1))
        .collect();
    assert!(
        !browsers_agents.contains(agent),
        "its user agent is unusual: {agent}"
    );
    // Long-polling: the connections last far longer than ordinary page loads.
    let server = log(LogKind::Http)
        .select(&["id.orig_h", "host", "id.resp_h"])
        .find(|r| r[0] == *client && r[1] == *host)
        .unwrap()[2];
    let durations: Vec<f64> = conns_by_pair()[&(*client, server)]
        .iter()
        .map(|r| ts(r[5]))
        .collect();
    assert!(durations.iter().all(|&d| d >= 20.0), "{durations:?}");
}

#[test]
fn the_threat_feed_flags_every_beacon_when_its_first_request_names_the_domain() {
    // The first request of every connection to the beacon's domain, by uid.
    let requests: HashMap<&str, (&str, &str)> = log(LogKind::Http)
        .select(&["uid", "ts", "host", "trans_depth", "id.orig_h"])
        .filter(|r| r[2] == "cdn.update-sync.example" && r[3] == "1")
        .map(|r| (r[0], (r[1], r[4])))
        .collect();
    let hits: Vec<Vec<&str>> = log(LogKind::Intel)
        .select(&[
            "uid",
            "ts",
            "seen.indicator",
            "seen.indicator_type",
            "seen.where",
            "matched",
            "id.orig_h",
        ])
        .collect();
    assert!(hits.len() >= 8 * 3600 / 330, "{} hits", hits.len());
    assert_eq!(hits.len(), requests.len(), "one hit per beacon");
    for hit in &hits {
        assert_eq!(
            hit[2..6],
            [
                "cdn.update-sync.example",
                "Intel::DOMAIN",
                "HTTP::IN_HOST_HEADER",
                "Intel::DOMAIN"
            ]
        );
        assert_eq!(requests.get(hit[0]), Some(&(hit[1], hit[6])), "{hit:?}");
    }
}

/// The JSON value Zeek's JSON writer gives a TSV cell of `zeek_type`, or `None` when unset.
fn json_of(zeek_type: &str, cell: &str) -> Option<serde_json::Value> {
    use serde_json::Value;
    if cell == "-" {
        return None;
    }
    if let Some(inner) = zeek_type
        .strip_prefix("set[")
        .or_else(|| zeek_type.strip_prefix("vector["))
        .and_then(|t| t.strip_suffix(']'))
    {
        let items = if cell == "(empty)" {
            vec![]
        } else {
            cell.split(',').collect()
        };
        return Some(Value::Array(
            items
                .into_iter()
                .map(|i| json_of(inner, i).unwrap())
                .collect(),
        ));
    }
    Some(match zeek_type {
        "time" | "interval" => Value::from(cell.parse::<f64>().unwrap()),
        "count" | "port" => Value::from(cell.parse::<u64>().unwrap()),
        "bool" => Value::Bool(cell == "T"),
        _ => Value::String(unescape(cell)),
    })
}

/// Undoes Zeek's `\xHH` escapes.
fn unescape(cell: &str) -> String {
    let mut out = String::new();
    let mut rest = cell;
    while let Some(at) = rest.find("\\x") {
        out.push_str(&rest[..at]);
        let code = u8::from_str_radix(&rest[at + 2..at + 4], 16).unwrap();
        out.push(char::from(code));
        rest = &rest[at + 4..];
    }
    out.push_str(rest);
    out
}

#[test]
fn json_output_holds_the_same_records_as_tsv() {
    for kind in LogKind::ALL {
        let tsv = log(kind);
        let text = std::fs::read_to_string(fixture().json.join(kind.file_name())).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), tsv.rows.len(), "{kind:?}");
        for (line, row) in lines.iter().zip(&tsv.rows) {
            let object: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(line).unwrap();
            let mut expected = serde_json::Map::new();
            expected.insert("_path".into(), kind.path().into());
            for ((name, zeek_type), cell) in tsv.fields.iter().zip(&tsv.types).zip(row) {
                if let Some(value) = json_of(zeek_type, cell) {
                    expected.insert(name.clone(), value);
                }
            }
            assert_eq!(object, expected, "{kind:?}: {line}");
            // Zeek writes the keys in schema order.
            let positions: Vec<usize> = std::iter::once("_path")
                .chain(tsv.fields.iter().map(String::as_str))
                .filter_map(|name| line.find(&format!("\"{name}\":")))
                .collect();
            assert_eq!(positions.len(), object.len(), "{line}");
            assert!(
                positions.windows(2).all(|w| w[0] < w[1]),
                "{kind:?} key order: {line}"
            );
        }
    }
}

#[test]
fn same_configuration_gives_identical_bytes_and_another_seed_differs() {
    let dir = tempfile::tempdir().unwrap();
    let again = dir.path().join("again");
    synth::generate(&config(OutputFormat::Tsv), &again).unwrap();
    let reseeded = dir.path().join("reseeded");
    synth::generate(
        &SynthConfig {
            seed: 8,
            ..config(OutputFormat::Tsv)
        },
        &reseeded,
    )
    .unwrap();
    let json_again = dir.path().join("json_again");
    synth::generate(&config(OutputFormat::Json), &json_again).unwrap();
    for kind in LogKind::ALL {
        let read = |dir: &Path| std::fs::read(dir.join(kind.file_name())).unwrap();
        assert!(
            read(&fixture().tsv) == read(&again),
            "{kind:?} differs between runs"
        );
        assert!(
            read(&fixture().json) == read(&json_again),
            "{kind:?} JSON differs between runs"
        );
        assert!(
            read(&fixture().tsv) != read(&reseeded),
            "{kind:?} ignores the seed"
        );
    }
}

#[test]
fn the_generator_yields_the_written_lines_in_global_order() {
    let mut per_log: HashMap<LogKind, Vec<String>> = HashMap::new();
    let mut last = 0;
    for line in Generator::new(&config(OutputFormat::Json)).unwrap() {
        assert!(line.ts_micros >= last);
        last = line.ts_micros;
        per_log.entry(line.log).or_default().push(line.text);
    }
    for kind in LogKind::ALL {
        let text = std::fs::read_to_string(fixture().json.join(kind.file_name())).unwrap();
        let written: Vec<&str> = text.lines().collect();
        assert_eq!(per_log[&kind], written, "{kind:?}");
    }
}

#[test]
fn bad_configurations_and_unwritable_folders_are_reported() {
    for bad in [
        SynthConfig {
            hosts: 0,
            ..SynthConfig::default()
        },
        SynthConfig {
            hosts: synth::MAX_HOSTS + 1,
            ..SynthConfig::default()
        },
        SynthConfig {
            hours: 0.0,
            ..SynthConfig::default()
        },
        SynthConfig {
            hours: f64::NAN,
            ..SynthConfig::default()
        },
        SynthConfig {
            start: u64::MAX / 1000,
            ..SynthConfig::default()
        },
    ] {
        let err = Generator::new(&bad).err().expect("rejected");
        assert!(matches!(err, SynthError::InvalidConfig(_)), "{err}");
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, "").unwrap();
    let err = synth::generate(&SynthConfig::default(), &file).unwrap_err();
    match &err {
        SynthError::Io { path, .. } => assert_eq!(path, &file),
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("not-a-folder"));
}

#[test]
fn the_largest_office_fits_its_address_plan() {
    let config = SynthConfig {
        hosts: synth::MAX_HOSTS,
        hours: 0.01,
        ..SynthConfig::default()
    };
    let clients: HashSet<Ipv4Addr> = Generator::new(&config)
        .unwrap()
        .filter(|line| line.log == LogKind::Conn)
        .map(|line| addr(line.text.split('\t').nth(2).unwrap()))
        .filter(|a| a.octets()[1] == 1)
        .collect();
    assert!(clients.len() > 1000, "{} workstations seen", clients.len());
}
