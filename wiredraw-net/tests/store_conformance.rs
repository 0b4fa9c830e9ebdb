//! One conformance suite for every store backend.
//!
//! Each test is written once against `&dyn Store` and run on the in-memory store (`memory::…`),
//! on a real `redis-server` started by the test itself (`redis::…`) and on a real three-master
//! Redis Cluster started the same way (`cluster::…`). Expected answers are computed here,
//! independently of the store code, from the model in issue 3.

use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use wiredraw_core::{
    CaptureLoss, Connection, Contribution, Detail, Edge, FieldType, Graph, HostAnnotation,
    HostRecord, Node, PacketCounts, Record, Schema, Software, Value,
};
use wiredraw_net::store::{
    ConnectionInfo, IngestReport, ItemKind, MAX_HOST_RECORDS, MAX_SOFTWARE, MemoryStore,
    RedisConfig, RedisStore, SoftwareKey, SoftwareSeen, Store, StoreError, TimeRange, Window,
};
use wiredraw_net::testkit::{RedisCluster, RedisServer};

const B: f64 = 10.0;
/// A Monday, 00:00:00 UTC; every fixture time is relative to it.
const T0: f64 = 1_713_139_200.0;

/// Makes fresh, empty stores of one backend.
enum Backend {
    Memory,
    Redis {
        server: RedisServer,
        next_prefix: AtomicUsize,
    },
    Cluster {
        cluster: RedisCluster,
        next_prefix: AtomicUsize,
    },
}

impl Backend {
    fn memory() -> Backend {
        Backend::Memory
    }

    fn redis() -> Backend {
        let server = RedisServer::start().expect("start redis-server for the store tests");
        Backend::Redis {
            server,
            next_prefix: AtomicUsize::new(0),
        }
    }

    fn cluster() -> Backend {
        let cluster = RedisCluster::start().expect("start a redis cluster for the store tests");
        Backend::Cluster {
            cluster,
            next_prefix: AtomicUsize::new(0),
        }
    }

    /// A new empty store (on Redis: a fresh key prefix on the same server or cluster).
    fn store(&self) -> Box<dyn Store> {
        let (url, next_prefix) = match self {
            Backend::Memory => return Box::new(MemoryStore::new(B as u64).unwrap()),
            Backend::Redis {
                server,
                next_prefix,
            } => (server.url(), next_prefix),
            Backend::Cluster {
                cluster,
                next_prefix,
            } => (cluster.url(), next_prefix),
        };
        let mut config = RedisConfig::new(url);
        config.prefix = format!("t{}:", next_prefix.fetch_add(1, Ordering::Relaxed));
        config.bucket_secs = B as u64;
        config.batch_records = 7; // small batches so tests cross batch boundaries
        Box::new(RedisStore::open(config).unwrap())
    }
}

// ---------------------------------------------------------------------------------------------
// Fixtures

#[allow(clippy::too_many_arguments)]
fn conn(
    uid: &str,
    ts: f64,
    duration: Option<f64>,
    orig: &str,
    resp: &str,
    proto: &str,
    service: Option<&str>,
    orig_bytes: Option<u64>,
    resp_bytes: Option<u64>,
) -> Connection {
    Connection {
        uid: uid.into(),
        ts,
        duration,
        orig_h: orig.parse().unwrap(),
        orig_p: Some(40000),
        resp_h: resp.parse().unwrap(),
        resp_p: Some(443),
        proto: proto.into(),
        service: service.map(Into::into),
        orig_bytes,
        resp_bytes,
        conn_state: Some("SF".into()),
        history: Some("ShADadFf".into()),
        packets: None,
    }
}

/// A short tcp connection with bytes set.
fn simple(uid: &str, ts: f64, orig: &str, resp: &str, bytes: u64) -> Connection {
    conn(
        uid,
        ts,
        Some(1.0),
        orig,
        resp,
        "tcp",
        Some("http"),
        Some(bytes / 4),
        Some(bytes - bytes / 4),
    )
}

fn schema(log_type: &str) -> Arc<Schema> {
    Arc::new(Schema {
        path: log_type.into(),
        names: vec!["ts".into(), "uid".into(), "note".into()],
        types: vec![FieldType::Time, FieldType::String, FieldType::String],
    })
}

fn detail(uid: &str, log_type: &str, ts: f64, note: &str) -> Detail {
    Detail {
        uid: uid.into(),
        log_type: log_type.into(),
        record: Record {
            schema: schema(log_type),
            values: vec![
                Value::Time(ts),
                Value::String(uid.into()),
                Value::String(note.into()),
            ],
            line: 1,
        },
    }
}

fn detail_json(d: &Detail) -> serde_json::Value {
    let Value::Time(ts) = d.record.values[0] else {
        unreachable!()
    };
    let Value::String(note) = &d.record.values[2] else {
        unreachable!()
    };
    serde_json::json!({"ts": ts, "uid": d.uid.as_str(), "note": note.as_str()})
}

fn ann(addr: &str, name: &str, ts: f64) -> HostAnnotation {
    HostAnnotation {
        addr: addr.parse().unwrap(),
        name: name.into(),
        ts,
    }
}

fn conns(c: Vec<Connection>) -> Contribution {
    Contribution {
        connections: c,
        ..Default::default()
    }
}

fn details(d: Vec<Detail>) -> Contribution {
    Contribution {
        details: d,
        ..Default::default()
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

// ---------------------------------------------------------------------------------------------
// The model, computed independently of the store

/// `[start, end)` seconds of the buckets a window covers.
fn bounds(window: Window) -> (f64, f64) {
    match window {
        Window::At(t) => ((t / B).floor() * B, (t / B).floor() * B + B),
        Window::Between { from, to } => ((from / B).floor() * B, (to / B).ceil() * B),
    }
}

fn end_of(c: &Connection) -> f64 {
    c.ts + c.duration.unwrap_or(0.0)
}

/// Where live data is: the latest start, which a long connection's end can lie beyond.
fn latest_start(conns: &[Connection]) -> f64 {
    conns.iter().map(|c| c.ts).fold(f64::NEG_INFINITY, f64::max)
}

fn bytes_of(c: &Connection) -> u64 {
    c.orig_bytes.unwrap_or(0) + c.resp_bytes.unwrap_or(0)
}

/// Connections active in the window, by brute force over every bucket they meet.
fn expected_active(all: &[Connection], window: Window) -> Vec<Connection> {
    let (start, end) = bounds(window);
    let mut out: Vec<Connection> = all
        .iter()
        .filter(|c| {
            let first = (c.ts / B).floor() as i64;
            let last = (end_of(c) / B).floor() as i64;
            (first..=last).any(|k| (k as f64 * B) >= start && (k as f64 * B) < end)
        })
        .cloned()
        .collect();
    out.sort_by(|a, b| a.ts.total_cmp(&b.ts).then(a.uid.cmp(&b.uid)));
    out
}

fn expected_graph(all: &[Connection], window: Window) -> Graph {
    let (start, end) = bounds(window);
    let mut nodes: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut edges: BTreeMap<(String, String), Edge> = BTreeMap::new();
    for c in expected_active(all, window) {
        let (o, r) = (c.orig_h.to_string(), c.resp_h.to_string());
        for addr in if o == r { vec![&o] } else { vec![&o, &r] } {
            let n = nodes.entry(addr.clone()).or_default();
            n.0 += 1;
            n.1 += bytes_of(&c);
        }
        let e = edges.entry((o.clone(), r.clone())).or_insert_with(|| Edge {
            src: o.clone(),
            dst: r.clone(),
            conns: 0,
            bytes: 0,
            protos: BTreeSet::new(),
            services: BTreeSet::new(),
        });
        e.conns += 1;
        e.bytes += bytes_of(&c);
        e.protos.insert(c.proto.clone());
        for s in c
            .service
            .as_deref()
            .unwrap_or("")
            .split(',')
            .filter(|s| !s.is_empty())
        {
            e.services.insert(s.into());
        }
    }
    Graph {
        from: Some(start),
        to: Some(end),
        nodes: nodes
            .into_iter()
            .map(|(id, (conns, bytes))| Node { id, conns, bytes })
            .collect(),
        edges: edges.into_values().collect(),
    }
}

/// (conns, bytes) per bin: a connection counts in the bin holding the start of its first bucket,
/// or in the first bin when that bucket begins before `from` and reaches into it.
fn expected_histogram(all: &[Connection], from: f64, to: f64, bins: usize) -> Vec<(u64, u64)> {
    let width = (to - from) / bins as f64;
    let mut out = vec![(0, 0); bins];
    for c in all {
        let k = (c.ts / B).floor() * B;
        if k + B > from && k < to {
            let i = (((k.max(from) - from) / width) as usize).min(bins - 1);
            out[i].0 += 1;
            out[i].1 += bytes_of(c);
        }
    }
    out
}

async fn histogram_pairs(store: &dyn Store, from: f64, to: f64, bins: usize) -> Vec<(u64, u64)> {
    let hist = store.histogram(from, to, bins).await.unwrap();
    assert_eq!(hist.len(), bins);
    for (i, bin) in hist.iter().enumerate() {
        assert!((bin.start - (from + i as f64 * (to - from) / bins as f64)).abs() < 1e-6);
    }
    hist.iter().map(|b| (b.conns, b.bytes)).collect()
}

fn uids(conns: &[Connection]) -> Vec<String> {
    conns.iter().map(|c| c.uid.to_string()).collect()
}

// ---------------------------------------------------------------------------------------------
// The suite

async fn empty_store_answers_nothing(backend: &Backend) {
    let store = backend.store();
    store.health().await.unwrap();
    assert_eq!(store.range().await.unwrap(), None);
    let graph = store.graph(Window::At(T0)).await.unwrap();
    assert!(graph.nodes.is_empty() && graph.edges.is_empty());
    assert_eq!(graph.from, Some(T0));
    assert_eq!(graph.to, Some(T0 + B));
    assert!(
        store
            .connections(Window::Between {
                from: T0,
                to: T0 + 3600.0
            })
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.connection("Cnothing").await.unwrap().is_none());
    assert_eq!(
        histogram_pairs(&*store, T0, T0 + 100.0, 4).await,
        vec![(0, 0); 4]
    );
    let host = store.host(ip("10.0.0.1"), Window::At(T0)).await.unwrap();
    assert_eq!(
        (host.conns_as_orig, host.conns_as_resp, host.bytes),
        (0, 0, 0)
    );
    assert!(host.names.is_empty() && host.peers.is_empty());
}

async fn details_before_their_conn(backend: &Backend) {
    let store = backend.store();
    let http1 = detail("C1", "http", T0 + 1.5, "GET /");
    let http2 = detail("C1", "http", T0 + 1.2, "GET /favicon.ico");
    let dns = detail("C1", "dns", T0 + 1.0, "example.com");
    let other = detail("C2", "http", T0 + 2.0, "POST /x");
    store
        .ingest(&details(vec![
            http1.clone(),
            http2.clone(),
            dns.clone(),
            other,
        ]))
        .await
        .unwrap();

    assert!(
        store.connection("C1").await.unwrap().is_none(),
        "details alone show nothing"
    );
    assert!(store.graph(Window::At(T0)).await.unwrap().nodes.is_empty());
    assert_eq!(store.range().await.unwrap(), None);

    let c1 = simple("C1", T0 + 1.0, "10.0.0.1", "10.0.0.2", 400);
    store.ingest(&conns(vec![c1.clone()])).await.unwrap();
    let info = store
        .connection("C1")
        .await
        .unwrap()
        .expect("conn is there now");
    assert_eq!(info.connection, c1);
    let expected: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::from([
        ("dns".to_string(), vec![detail_json(&dns)]),
        // ordered by their ts, not by arrival
        (
            "http".to_string(),
            vec![detail_json(&http2), detail_json(&http1)],
        ),
    ]);
    assert_eq!(info.details, expected);
    assert_eq!(
        store.graph(Window::At(T0)).await.unwrap(),
        expected_graph(&[c1], Window::At(T0))
    );
}

async fn conn_files_in_any_order(backend: &Backend) {
    // Three "files" of one sensor, hours apart, delivered in every order, each file in pieces.
    let files: Vec<Vec<Connection>> = (0..3)
        .map(|f| {
            (0..12)
                .map(|i| {
                    let ts = T0 + f as f64 * 3600.0 + i as f64 * 4.0;
                    simple(
                        &format!("F{f}C{i}"),
                        ts,
                        &format!("10.0.{f}.{i}"),
                        "10.9.9.9",
                        100 + i,
                    )
                })
                .collect()
        })
        .collect();
    let all: Vec<Connection> = files.concat();
    let windows = [
        Window::At(T0 + 3600.0 + 5.0),
        Window::Between {
            from: T0,
            to: T0 + 3.0 * 3600.0,
        },
        Window::Between {
            from: T0 + 7201.0,
            to: T0 + 7215.0,
        },
    ];
    let mut answers = Vec::new();
    for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
        let store = backend.store();
        for f in order {
            for piece in files[f].chunks(5).rev() {
                store.ingest(&conns(piece.to_vec())).await.unwrap();
            }
        }
        let mut answer = Vec::new();
        for w in windows {
            let graph = store.graph(w).await.unwrap();
            assert_eq!(graph, expected_graph(&all, w));
            assert_eq!(
                uids(&store.connections(w).await.unwrap()),
                uids(&expected_active(&all, w))
            );
            answer.push(graph);
        }
        assert_eq!(
            store.range().await.unwrap(),
            Some(TimeRange {
                first: T0,
                last: T0 + 7200.0 + 44.0 + 1.0,
                latest_start: latest_start(&all),
            })
        );
        answers.push(answer);
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]));
}

async fn duplicate_delivery_changes_nothing(backend: &Backend) {
    let store = backend.store();
    let all: Vec<Connection> = (0..30)
        .map(|i| {
            simple(
                &format!("D{i}"),
                T0 + i as f64 * 3.0,
                "10.0.0.1",
                "10.0.0.2",
                1000 + i,
            )
        })
        .collect();
    let batch = Contribution {
        connections: all.clone(),
        details: vec![
            detail("D1", "http", T0 + 3.5, "GET /a"),
            detail("D2", "ssl", T0 + 6.1, "hello"),
        ],
        annotations: vec![ann("10.0.0.2", "server.example", T0 + 1.0)],
        ..Default::default()
    };
    for _ in 0..3 {
        let report = store.ingest(&batch).await.unwrap();
        assert_eq!(
            (report.connections, report.details, report.annotations),
            (30, 2, 1)
        );
        assert!(report.rejected.is_empty());
    }
    // The same records again, split differently and with the detail's source line changed.
    let mut again = detail("D1", "http", T0 + 3.5, "GET /a");
    again.record.line = 977;
    store.ingest(&details(vec![again])).await.unwrap();
    for piece in all.chunks(4) {
        store.ingest(&conns(piece.to_vec())).await.unwrap();
    }

    let window = Window::Between {
        from: T0,
        to: T0 + 100.0,
    };
    assert_eq!(
        store.connections(window).await.unwrap(),
        expected_active(&all, window)
    );
    let graph = store.graph(window).await.unwrap();
    assert_eq!(graph, expected_graph(&all, window));
    assert_eq!(graph.edges[0].conns, 30);
    assert_eq!(graph.edges[0].bytes, (0..30).map(|i| 1000 + i).sum::<u64>());
    assert_eq!(
        histogram_pairs(&*store, T0, T0 + 100.0, 10).await,
        expected_histogram(&all, T0, T0 + 100.0, 10)
    );
    let total: (u64, u64) = histogram_pairs(&*store, T0 - 1000.0, T0 + 1000.0, 1).await[0];
    assert_eq!(total, (30, (0..30).map(|i| 1000 + i).sum::<u64>()));
    let info = store.connection("D1").await.unwrap().unwrap();
    assert_eq!(
        info.details["http"].len(),
        1,
        "one detail however often it came"
    );
    let host = store.host(ip("10.0.0.2"), window).await.unwrap();
    assert_eq!(host.names.len(), 1);
    assert_eq!(host.names[0].count, 1);
}

async fn details_are_deduplicated_by_content(backend: &Backend) {
    let store = backend.store();
    store
        .ingest(&conns(vec![simple("X", T0, "10.0.0.1", "10.0.0.2", 8)]))
        .await
        .unwrap();
    let a = detail("X", "http", T0 + 0.5, "GET /");
    let b = detail("X", "http", T0 + 0.5, "GET / "); // differs only in content
    let c = detail("X", "http", T0 + 0.5, "GET /"); // same content as a
    let d = detail("X", "files", T0 + 0.5, "GET /"); // same fields, other log type
    store
        .ingest(&details(vec![a.clone(), b.clone(), c, d.clone()]))
        .await
        .unwrap();
    let info = store.connection("X").await.unwrap().unwrap();
    assert_eq!(info.details["http"].len(), 2);
    assert!(info.details["http"].contains(&detail_json(&a)));
    assert!(info.details["http"].contains(&detail_json(&b)));
    assert_eq!(info.details["files"], vec![detail_json(&d)]);
}

async fn long_connections_show_in_every_bucket(backend: &Backend) {
    let store = backend.store();
    let days = 3.0 * 86400.0;
    let ssh = conn(
        "Lssh",
        T0 + 3.0,
        Some(days),
        "10.0.0.5",
        "10.0.0.6",
        "tcp",
        Some("ssh"),
        Some(5),
        Some(7),
    );
    let minutes = conn(
        "Lmin",
        T0 + 100.0,
        Some(1234.5),
        "10.0.0.7",
        "10.0.0.6",
        "udp",
        None,
        Some(1),
        None,
    );
    // Ends exactly on a bucket boundary: it meets the bucket starting there too.
    let edge = conn(
        "Ledge",
        T0 + 25.0,
        Some(15.0),
        "10.0.0.8",
        "10.0.0.6",
        "tcp",
        None,
        None,
        Some(2),
    );
    let all = vec![ssh.clone(), minutes.clone(), edge.clone()];
    store.ingest(&conns(all.clone())).await.unwrap();

    let probes = [
        T0 - 1.0,
        T0 + 3.0,
        T0 + 9.999,
        T0 + 20.0,
        T0 + 40.0,
        T0 + 50.0,
        T0 + 100.0,
        T0 + 1334.4,
        T0 + 1340.0,
        T0 + 86400.0 * 1.5,
        T0 + days + 3.0,
        T0 + days + 10.0,
    ];
    for t in probes {
        let w = Window::At(t);
        assert_eq!(
            store.graph(w).await.unwrap(),
            expected_graph(&all, w),
            "graph at t = T0 + {}",
            t - T0
        );
        assert_eq!(
            uids(&store.connections(w).await.unwrap()),
            uids(&expected_active(&all, w)),
            "at T0 + {}",
            t - T0
        );
    }
    assert_eq!(
        uids(&store.connections(Window::At(T0 + 40.0)).await.unwrap()),
        vec!["Lssh", "Ledge"]
    );
    assert_eq!(
        uids(&store.connections(Window::At(T0 + 50.0)).await.unwrap()),
        vec!["Lssh"]
    );
    let whole = Window::Between {
        from: T0 - 100.0,
        to: T0 + days + 100.0,
    };
    assert_eq!(
        uids(&store.connections(whole).await.unwrap()),
        vec!["Lssh", "Ledge", "Lmin"]
    );
    for w in [
        whole,
        Window::Between {
            from: T0 + 86400.0,
            to: T0 + 2.0 * 86400.0 + 5.0,
        },
    ] {
        assert_eq!(store.graph(w).await.unwrap(), expected_graph(&all, w));
    }
    let edge_conns = store
        .edge(
            ip("10.0.0.5"),
            ip("10.0.0.6"),
            Window::At(T0 + 2.0 * 86400.0),
        )
        .await
        .unwrap();
    assert_eq!(edge_conns.len(), 1);
    assert_eq!(edge_conns[0].connection, ssh);
    assert_eq!(
        histogram_pairs(&*store, T0, T0 + days, 3).await,
        vec![(3, 12 + 1 + 2), (0, 0), (0, 0)]
    );
    assert_eq!(
        store.range().await.unwrap(),
        Some(TimeRange {
            first: T0 + 3.0,
            last: T0 + 3.0 + days,
            latest_start: latest_start(&all),
        })
    );
}

async fn the_ports_a_host_answered_on_and_connected_to(backend: &Backend) {
    let store = backend.store();
    let server = "10.9.0.1";
    let to = |uid: &str, port: u16, proto: &str, service: Option<&str>, bytes: u64| Connection {
        resp_p: Some(port),
        ..conn(
            uid,
            T0 + 1.0,
            Some(1.0),
            "10.9.0.2",
            server,
            proto,
            service,
            Some(0),
            Some(bytes),
        )
    };
    let mut all = vec![
        to("S1", 443, "tcp", Some("ssl"), 100),
        to("S2", 443, "tcp", None, 50),
        to("S3", 443, "tcp", Some("http"), 10),
        to("S4", 53, "udp", Some("dns"), 70),
        to("S5", 53, "udp", Some("dns"), 30),
        to("S6", 53, "tcp", Some("dns"), 900),
        // Two services at once, written the way Zeek does.
        to("S4b", 53, "udp", Some("dns,ntp"), 0),
        // The host as originator, and a responder port Zeek left unset: neither counts.
        simple("S7", T0 + 1.0, server, "10.9.0.3", 5000),
        Connection {
            resp_p: None,
            ..to("S8", 0, "tcp", None, 8)
        },
        // An echo request: ICMP type 8 (Zeek's orig_p), code 0 (its resp_p).
        Connection {
            orig_p: Some(8),
            ..to("S9", 0, "icmp", None, 64)
        },
    ];
    // A scan of twelve closed ports, one connection each and no bytes.
    all.extend((0..12).map(|i| to(&format!("P{i}"), 1000 + i, "tcp", None, 0)));
    store.ingest(&conns(all)).await.unwrap();
    let host = store.host(ip(server), Window::At(T0 + 1.0)).await.unwrap();
    assert_eq!(host.ports_total, 16);
    let listed: Vec<(String, u16, Vec<String>, u64, u64)> = host
        .ports
        .iter()
        .map(|p| {
            (
                p.proto.clone(),
                p.port,
                p.services.clone(),
                p.conns,
                p.bytes,
            )
        })
        .collect();
    let tcp = |port: u16| ("tcp".to_string(), port, Vec::new(), 1, 0);
    assert_eq!(
        listed,
        [
            ("tcp".into(), 443, vec!["http".into(), "ssl".into()], 3, 160),
            ("udp".into(), 53, vec!["dns".into(), "ntp".into()], 3, 100),
            ("tcp".into(), 53, vec!["dns".into()], 1, 900),
            ("icmp".into(), 8, Vec::new(), 1, 64),
            tcp(1000),
            tcp(1001),
            tcp(1002),
            tcp(1003),
            tcp(1004),
            tcp(1005),
        ]
    );
    assert_eq!(host.ports.len(), wiredraw_net::store::TOP_PORTS);
    // S7 is the only connection it started.
    assert_eq!(host.ports_contacted_total, 1);
    let contacted: Vec<(&str, u16, u64)> = host
        .ports_contacted
        .iter()
        .map(|p| (p.proto.as_str(), p.port, p.conns))
        .collect();
    assert_eq!(contacted, [("tcp", 443, 1)]);
    // The client of all those connections connected to every port the server answered on.
    let client = store
        .host(ip("10.9.0.2"), Window::At(T0 + 1.0))
        .await
        .unwrap();
    assert_eq!(client.ports_contacted_total, 16);
    assert_eq!(client.ports_contacted, host.ports);
    assert_eq!(client.ports_total, 0);
}

async fn certificates_join_the_connections_whose_ssl_names_them(backend: &Backend) {
    let store = backend.store();
    let record = |path: &str, fields: Vec<(&str, FieldType, Value)>| {
        let mut schema = Schema::new(path, Vec::new(), Vec::new());
        let mut values = Vec::new();
        for (name, ty, value) in fields {
            schema.names.push(name.into());
            schema.types.push(ty);
            values.push(value);
        }
        Record {
            schema: Arc::new(schema),
            values,
            line: 1,
        }
    };
    let text = |s: &str| Value::String(s.into());
    let certificate = |fingerprint: &str, subject: &str| Detail {
        uid: fingerprint.into(),
        log_type: "x509".into(),
        record: record(
            "x509",
            vec![
                ("ts", FieldType::Time, Value::Time(T0)),
                ("fingerprint", FieldType::String, text(fingerprint)),
                ("certificate.subject", FieldType::String, text(subject)),
            ],
        ),
    };
    let ssl = |uid: &str, chain: &[&str]| Detail {
        uid: uid.into(),
        log_type: "ssl".into(),
        record: record(
            "ssl",
            vec![
                ("ts", FieldType::Time, Value::Time(T0 + 1.0)),
                ("uid", FieldType::String, text(uid)),
                (
                    "cert_chain_fps",
                    FieldType::Vector(Box::new(FieldType::String)),
                    Value::Vector(chain.iter().map(|fp| text(fp)).collect()),
                ),
            ],
        ),
    };
    // Certificates first, as Zeek often writes x509 before ssl, and one no connection names.
    store
        .ingest(&details(vec![
            certificate("fp-ca", "CN=Example CA"),
            certificate("fp-leaf", "CN=www.example.org"),
            certificate("fp-other", "CN=elsewhere"),
        ]))
        .await
        .unwrap();
    store
        .ingest(&conns(vec![
            simple("TLS1", T0 + 1.0, "10.0.0.1", "10.0.0.2", 100),
            simple("TLS2", T0 + 2.0, "10.0.0.1", "10.0.0.2", 100),
            simple("PLAIN", T0 + 3.0, "10.0.0.1", "10.0.0.2", 100),
        ]))
        .await
        .unwrap();
    store
        .ingest(&details(vec![
            ssl("TLS1", &["fp-leaf", "fp-ca"]),
            ssl("TLS2", &["fp-leaf", "fp-missing"]),
        ]))
        .await
        .unwrap();
    let subjects = |info: &ConnectionInfo| -> Vec<String> {
        info.details
            .get("x509")
            .into_iter()
            .flatten()
            .map(|c| c["certificate.subject"].as_str().unwrap().to_owned())
            .collect()
    };
    let one = store.connection("TLS1").await.unwrap().unwrap();
    // In chain order, the server's certificate first.
    assert_eq!(subjects(&one), ["CN=www.example.org", "CN=Example CA"]);
    let edge = store
        .edge(ip("10.0.0.1"), ip("10.0.0.2"), Window::At(T0 + 2.0))
        .await
        .unwrap();
    let by_uid: Vec<(&str, Vec<String>)> = edge
        .iter()
        .map(|info| (info.connection.uid.as_str(), subjects(info)))
        .collect();
    assert_eq!(
        by_uid,
        [
            (
                "TLS1",
                vec!["CN=www.example.org".into(), "CN=Example CA".into()]
            ),
            ("TLS2", vec!["CN=www.example.org".into()]),
            ("PLAIN", Vec::new()),
        ]
    );
    // A certificate is not a connection.
    assert!(store.connection("fp-leaf").await.unwrap().is_none());

    // A record naming more certificates than any real chain: the answer stops at the limit.
    let many: Vec<String> = (0..100).map(|i| format!("fp-{i}")).collect();
    store
        .ingest(&details(
            many.iter()
                .map(|fp| certificate(fp, &format!("CN={fp}")))
                .chain([ssl(
                    "PLAIN",
                    &many.iter().map(String::as_str).collect::<Vec<_>>(),
                )])
                .collect(),
        ))
        .await
        .unwrap();
    let crowded = store.connection("PLAIN").await.unwrap().unwrap();
    assert_eq!(
        subjects(&crowded),
        many[..wiredraw_net::store::MAX_CERTIFICATES]
            .iter()
            .map(|fp| format!("CN={fp}"))
            .collect::<Vec<_>>()
    );
}

async fn ipv6_addresses(backend: &Backend) {
    let store = backend.store();
    let a = "2001:db8:0:0:0:0:0:1"; // stored and answered in RFC 5952 form
    let all = vec![
        simple("V1", T0 + 1.0, a, "2001:db8::53", 100),
        simple("V2", T0 + 2.0, "2001:db8::53", a, 40),
        simple("V3", T0 + 3.0, "::ffff:10.0.0.1", "fe80::1", 4),
        simple("V4", T0 + 4.0, "10.0.0.1", "2001:db8::53", 8),
    ];
    store.ingest(&conns(all.clone())).await.unwrap();
    store
        .ingest(&Contribution {
            annotations: vec![ann(a, "v6.example", T0)],
            ..Default::default()
        })
        .await
        .unwrap();
    let w = Window::At(T0 + 5.0);
    let graph = store.graph(w).await.unwrap();
    assert_eq!(graph, expected_graph(&all, w));
    assert!(graph.nodes.iter().any(|n| n.id == "2001:db8::1"));
    let host = store.host(ip(a), w).await.unwrap();
    assert_eq!(
        (host.conns_as_orig, host.conns_as_resp, host.bytes),
        (1, 1, 140)
    );
    assert_eq!(host.peers.len(), 1);
    assert_eq!(
        (
            host.peers[0].addr.as_str(),
            host.peers[0].conns,
            host.peers[0].bytes
        ),
        ("2001:db8::53", 2, 140)
    );
    assert_eq!(host.names[0].name, "v6.example");
    let edge = store
        .edge(ip("::ffff:10.0.0.1"), ip("fe80::1"), w)
        .await
        .unwrap();
    assert_eq!(edge.len(), 1);
    assert_eq!(edge[0].connection, all[2]);
}

async fn unset_bytes_and_duration(backend: &Backend) {
    let store = backend.store();
    let bare = Connection {
        uid: "U1".into(),
        ts: T0 + 9.5,
        duration: None,
        orig_h: ip("10.1.0.1"),
        orig_p: None,
        resp_h: ip("10.1.0.2"),
        resp_p: None,
        proto: "icmp".into(),
        service: None,
        orig_bytes: None,
        resp_bytes: None,
        conn_state: None,
        history: None,
        packets: None,
    };
    let half = conn(
        "U2",
        T0 + 9.9,
        Some(0.05),
        "10.1.0.1",
        "10.1.0.2",
        "udp",
        Some("dns"),
        Some(70),
        None,
    );
    // Text that needs escaping in a compact encoding, and a literal "-".
    let odd = Connection {
        uid: "U3".into(),
        conn_state: Some("-".into()),
        history: Some("a\tb\\c\nd".into()),
        service: Some("ssl,http".into()),
        ..conn(
            "U3",
            T0 + 9.0,
            Some(0.0),
            "10.1.0.1",
            "10.1.0.3",
            "tcp",
            None,
            Some(0),
            Some(u64::MAX / 4),
        )
    };
    let all = vec![bare.clone(), half.clone(), odd.clone()];
    store.ingest(&conns(all.clone())).await.unwrap();
    assert_eq!(
        store.connection("U1").await.unwrap().unwrap().connection,
        bare
    );
    assert_eq!(
        store.connection("U2").await.unwrap().unwrap().connection,
        half
    );
    assert_eq!(
        store.connection("U3").await.unwrap().unwrap().connection,
        odd
    );
    for t in [T0, T0 + 9.9, T0 + 10.0, T0 + 15.0] {
        let w = Window::At(t);
        assert_eq!(
            store.graph(w).await.unwrap(),
            expected_graph(&all, w),
            "at T0 + {}",
            t - T0
        );
    }
    let graph = store.graph(Window::At(T0)).await.unwrap();
    let edge = &graph.edges[0];
    assert_eq!((edge.conns, edge.bytes), (2, 70));
    assert_eq!(edge.protos, BTreeSet::from(["icmp".into(), "udp".into()]));
    assert!(
        store
            .connections(Window::At(T0 + 10.0))
            .await
            .unwrap()
            .iter()
            .all(|c| c.uid == "U2")
    );
    assert_eq!(
        graph.edges[1].services,
        BTreeSet::from(["http".into(), "ssl".into()])
    );
}

/// A reset that Zeek counted as 1.96 GB from its sequence number, in two packets of 84 IP bytes
/// (a connection of the rita logs): the graph, the host and the histogram count the 84 bytes,
/// and the connection comes back with Zeek's own counts.
async fn overcounted_bytes_are_cut_to_the_wire(backend: &Backend) {
    let store = backend.store();
    let reset = Connection {
        packets: Some(PacketCounts {
            orig_pkts: 3,
            orig_ip_bytes: 211,
            resp_pkts: 2,
            resp_ip_bytes: 84,
        }),
        ..conn(
            "P1",
            T0 + 3.0,
            Some(0.07),
            "10.3.0.1",
            "10.3.0.2",
            "tcp",
            Some("http"),
            Some(91),
            Some(1_964_191_874),
        )
    };
    // A sensor that saw one direction only: the silent side's payload is known from the
    // acknowledgements, and stays.
    let one_sided = Connection {
        packets: Some(PacketCounts {
            orig_pkts: 12,
            orig_ip_bytes: 640,
            resp_pkts: 0,
            resp_ip_bytes: 0,
        }),
        ..conn(
            "P2",
            T0 + 4.0,
            Some(2.0),
            "10.3.0.1",
            "10.3.0.3",
            "tcp",
            None,
            Some(0),
            Some(48_000),
        )
    };
    store
        .ingest(&conns(vec![reset.clone(), one_sided.clone()]))
        .await
        .unwrap();
    for original in [&reset, &one_sided] {
        let stored = store.connection(&original.uid).await.unwrap().unwrap();
        assert_eq!(&stored.connection, original);
    }
    let graph = store.graph(Window::At(T0 + 5.0)).await.unwrap();
    let bytes: BTreeMap<&str, u64> = graph
        .edges
        .iter()
        .map(|e| (e.dst.as_str(), e.bytes))
        .collect();
    assert_eq!(
        bytes,
        BTreeMap::from([("10.3.0.2", 91 + 84), ("10.3.0.3", 48_000)])
    );
    let host = store
        .host(ip("10.3.0.1"), Window::At(T0 + 5.0))
        .await
        .unwrap();
    assert_eq!(host.bytes, 91 + 84 + 48_000);
    assert_eq!(
        histogram_pairs(&*store, T0, T0 + 10.0, 1).await,
        [(2, 91 + 84 + 48_000)]
    );
}

async fn retention_drops_old_data(backend: &Backend) {
    let store = backend.store();
    let cutoff = T0 + 1005.0; // bucket start T0 + 1000
    let old = simple("Rold", T0 + 10.0, "10.2.0.1", "10.2.0.2", 100);
    let old_long = conn(
        "Rlong_old",
        T0 + 20.0,
        Some(900.0),
        "10.2.0.1",
        "10.2.0.3",
        "tcp",
        None,
        Some(5),
        Some(5),
    );
    let straddle = conn(
        "Rstraddle",
        T0 + 30.0,
        Some(1000.0),
        "10.2.0.1",
        "10.2.0.2",
        "tcp",
        None,
        Some(7),
        None,
    );
    let new = simple("Rnew", T0 + 2000.0, "10.2.0.4", "10.2.0.2", 40);
    let all = vec![old.clone(), old_long, straddle.clone(), new.clone()];
    store
        .ingest(&Contribution {
            connections: all.clone(),
            details: vec![
                detail("Rold", "http", T0 + 10.5, "old"),
                detail("Rstraddle", "ssh", T0 + 31.0, "kept with its conn"),
                detail("Orphan_old", "http", T0 + 15.0, "never gets a conn"),
                detail("Orphan_new", "http", T0 + 1500.0, "conn comes later"),
            ],
            annotations: vec![
                ann("10.2.0.2", "old.example", T0 + 5.0),
                ann("10.2.0.2", "both.example", T0 + 6.0),
                ann("10.2.0.2", "both.example", T0 + 1600.0),
            ],
            ..Default::default()
        })
        .await
        .unwrap();
    let report = store.retain(cutoff).await.unwrap();
    assert_eq!(
        (report.connections, report.orphans, report.annotations),
        (2, 1, 2)
    );
    let kept = vec![straddle.clone(), new.clone()];

    assert!(store.connection("Rold").await.unwrap().is_none());
    assert!(store.connection("Rlong_old").await.unwrap().is_none());
    let info = store.connection("Rstraddle").await.unwrap().unwrap();
    assert_eq!(info.details["ssh"].len(), 1);
    assert_eq!(
        store.range().await.unwrap(),
        Some(TimeRange {
            first: T0 + 30.0,
            last: T0 + 2001.0,
            latest_start: latest_start(&kept),
        })
    );
    for w in [
        Window::At(T0 + 15.0),
        Window::At(T0 + 500.0),
        Window::Between {
            from: T0,
            to: T0 + 3000.0,
        },
    ] {
        assert_eq!(store.graph(w).await.unwrap(), expected_graph(&kept, w));
    }
    assert_eq!(
        histogram_pairs(&*store, T0, T0 + 3000.0, 3).await,
        expected_histogram(&kept, T0, T0 + 3000.0, 3)
    );

    // The dropped orphan's details are gone; the recent orphan's wait for their conn.
    store
        .ingest(&conns(vec![
            simple("Orphan_old", T0 + 2500.0, "10.2.0.9", "10.2.0.2", 1),
            simple("Orphan_new", T0 + 2500.0, "10.2.0.9", "10.2.0.2", 1),
        ]))
        .await
        .unwrap();
    assert!(
        store
            .connection("Orphan_old")
            .await
            .unwrap()
            .unwrap()
            .details
            .is_empty()
    );
    assert_eq!(
        store
            .connection("Orphan_new")
            .await
            .unwrap()
            .unwrap()
            .details["http"]
            .len(),
        1
    );

    let host = store
        .host(ip("10.2.0.2"), Window::At(T0 + 2000.0))
        .await
        .unwrap();
    assert_eq!(host.names.len(), 1);
    assert_eq!(
        (host.names[0].name.as_str(), host.names[0].count),
        ("both.example", 1)
    );

    // Retention is repeatable, and dropping everything empties the range.
    assert_eq!(store.retain(cutoff).await.unwrap().connections, 0);
    let report = store.retain(T0 + 100_000.0).await.unwrap();
    assert_eq!(report.connections, 4);
    assert_eq!(store.range().await.unwrap(), None);
    assert_eq!(
        histogram_pairs(&*store, T0, T0 + 3000.0, 1).await,
        vec![(0, 0)]
    );
}

/// A fixed pseudo-random data set (a small LCG, so the test needs no randomness source).
fn generated(n: usize, seed: u64) -> (Vec<Connection>, Vec<Detail>, Vec<HostAnnotation>) {
    let mut state = seed;
    let mut next = move |m: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % m
    };
    let hosts: Vec<String> = (0..12)
        .map(|i| {
            if i % 5 == 4 {
                format!("2001:db8::{:x}", i * 17)
            } else {
                format!("192.168.{}.{}", i % 3, i)
            }
        })
        .collect();
    let services = [
        None,
        Some("dns"),
        Some("http"),
        Some("ssl,http"),
        Some("ssh"),
    ];
    let mut conns = Vec::new();
    let mut details = Vec::new();
    let mut anns = Vec::new();
    for i in 0..n {
        let ts = T0 + next(600_000) as f64 / 1000.0;
        let duration = match next(10) {
            0 => None,
            1 => Some(next(50_000) as f64), // up to ~14 hours
            2 => Some(next(3000) as f64 / 10.0),
            _ => Some(next(30_000) as f64 / 1000.0),
        };
        let orig = &hosts[next(hosts.len() as u64) as usize];
        let resp = &hosts[next(hosts.len() as u64) as usize];
        let proto = ["tcp", "udp", "icmp"][next(3) as usize];
        let bytes = |r: u64| if r == 0 { None } else { Some(r * 13) };
        let c = conn(
            &format!("G{seed}x{i}"),
            ts,
            duration,
            orig,
            resp,
            proto,
            services[next(5) as usize],
            bytes(next(500)),
            bytes(next(500)),
        );
        if next(3) == 0 {
            details.push(detail(&c.uid, "http", ts + 0.1, &format!("n{}", next(4))));
        }
        if next(4) == 0 {
            anns.push(ann(
                resp,
                &format!("h{}.example", next(3)),
                T0 + next(600) as f64,
            ));
        }
        conns.push(c);
    }
    (conns, details, anns)
}

async fn answers_match_the_model(backend: &Backend) {
    let store = backend.store();
    let (all, dets, anns) = generated(300, 7);
    store
        .ingest(&Contribution {
            connections: all.clone(),
            details: dets.clone(),
            annotations: anns.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let windows = [
        Window::At(T0 + 0.0),
        Window::At(T0 + 123.4),
        Window::At(T0 + 599.99),
        Window::Between {
            from: T0 + 33.3,
            to: T0 + 77.7,
        },
        Window::Between {
            from: T0 + 100.0,
            to: T0 + 110.0,
        },
        Window::Between {
            from: T0 - 5000.0,
            to: T0 + 90_000.0,
        },
        Window::At(T0 + 20_000.0),
    ];
    for w in windows {
        let expected = expected_active(&all, w);
        assert_eq!(store.connections(w).await.unwrap(), expected, "{w:?}");
        assert_eq!(
            store.graph(w).await.unwrap(),
            expected_graph(&all, w),
            "{w:?}"
        );
        for (src, dst) in expected.iter().take(3).map(|c| (c.orig_h, c.resp_h)) {
            let got = store.edge(src, dst, w).await.unwrap();
            let want: Vec<&Connection> = expected
                .iter()
                .filter(|c| c.orig_h == src && c.resp_h == dst)
                .collect();
            assert_eq!(got.iter().map(|i| &i.connection).collect::<Vec<_>>(), want);
            for info in &got {
                let attached: Vec<serde_json::Value> = dets
                    .iter()
                    .filter(|d| d.uid == info.connection.uid)
                    .map(detail_json)
                    .collect();
                assert_eq!(
                    info.details.get("http").cloned().unwrap_or_default().len(),
                    attached.len()
                );
            }
        }
        let host = expected.first().map_or(ip("192.168.0.0"), |c| c.resp_h);
        let info = store.host(host, w).await.unwrap();
        let touching: Vec<&Connection> = expected
            .iter()
            .filter(|c| c.orig_h == host || c.resp_h == host)
            .collect();
        assert_eq!(
            info.conns_as_orig,
            touching.iter().filter(|c| c.orig_h == host).count() as u64
        );
        assert_eq!(
            info.conns_as_resp,
            touching.iter().filter(|c| c.resp_h == host).count() as u64
        );
        assert_eq!(
            info.bytes,
            touching.iter().map(|c| bytes_of(c)).sum::<u64>()
        );
        let mut peers: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for c in &touching {
            let peer = if c.orig_h == host { c.resp_h } else { c.orig_h };
            let p = peers.entry(peer.to_string()).or_default();
            p.0 += 1;
            p.1 += bytes_of(c);
        }
        let mut peers: Vec<(String, u64, u64)> =
            peers.into_iter().map(|(a, (c, b))| (a, c, b)).collect();
        peers.sort_by(|a, b| b.2.cmp(&a.2).then(b.1.cmp(&a.1)).then(a.0.cmp(&b.0)));
        peers.truncate(10);
        let got: Vec<(String, u64, u64)> = info
            .peers
            .iter()
            .map(|p| (p.addr.clone(), p.conns, p.bytes))
            .collect();
        assert_eq!(got, peers);
        let mut names: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
        for a in anns.iter().filter(|a| a.addr == host) {
            names
                .entry(a.name.to_string())
                .or_default()
                .insert(a.ts.to_bits());
        }
        let got: BTreeMap<String, u64> = info
            .names
            .iter()
            .map(|n| (n.name.clone(), n.count))
            .collect();
        assert_eq!(
            got,
            names
                .into_iter()
                .map(|(n, s)| (n, s.len() as u64))
                .collect()
        );
    }
    for (from, to, bins) in [
        (T0, T0 + 600.0, 60),
        (T0, T0 + 600.0, 7),
        (T0 + 5.0, T0 + 305.0, 3),
        (T0 - 60.0, T0 + 60.0, 120),
    ] {
        assert_eq!(
            histogram_pairs(&*store, from, to, bins).await,
            expected_histogram(&all, from, to, bins)
        );
    }
    let first = all.iter().map(|c| c.ts).fold(f64::INFINITY, f64::min);
    let last = all.iter().map(end_of).fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(
        store.range().await.unwrap(),
        Some(TimeRange {
            first,
            last,
            latest_start: latest_start(&all),
        })
    );
    // What a viewer asks for its timeline: the range itself, whose ends fall inside buckets.
    let whole_range = histogram_pairs(&*store, first, last, 17).await;
    assert_eq!(whole_range, expected_histogram(&all, first, last, 17));
    assert_eq!(
        whole_range.iter().map(|bin| bin.0).sum::<u64>(),
        all.len() as u64,
        "a histogram of the whole range counts every connection"
    );
}

async fn bad_requests_are_refused(backend: &Backend) {
    let store = backend.store();
    let store: &dyn Store = &*store;
    let bad_window = |w| async move {
        let err = store.graph(w).await.unwrap_err();
        assert!(matches!(err, StoreError::BadRequest(_)), "{w:?}: {err}");
    };
    bad_window(Window::At(f64::NAN)).await;
    bad_window(Window::At(-1.0)).await;
    bad_window(Window::Between {
        from: T0 + 10.0,
        to: T0,
    })
    .await;
    bad_window(Window::Between { from: T0, to: T0 }).await;
    bad_window(Window::Between { from: 0.0, to: T0 }).await; // far too many buckets
    for (from, to, bins) in [
        (T0, T0 + 10.0, 0),
        (T0 + 10.0, T0, 5),
        (f64::INFINITY, T0, 1),
        (T0, T0 + 1.0, 10_000_000),
    ] {
        assert!(matches!(
            store.histogram(from, to, bins).await,
            Err(StoreError::BadRequest(_))
        ));
    }

    let good = simple("Good", T0, "10.3.0.1", "10.3.0.2", 10);
    let mut nan = simple("Nan", T0, "10.3.0.1", "10.3.0.2", 10);
    nan.ts = f64::NAN;
    let braces = simple("C{x}", T0, "10.3.0.1", "10.3.0.2", 10);
    let empty = simple("", T0, "10.3.0.1", "10.3.0.2", 10);
    let mut mismatched = detail("Good", "http", T0, "x");
    mismatched.record.values.pop();
    let report = store
        .ingest(&Contribution {
            connections: vec![nan, good.clone(), braces, empty],
            details: vec![mismatched, detail("Good", "http", T0, "ok")],
            annotations: vec![ann("10.3.0.2", "", T0), ann("10.3.0.2", "fine.example", T0)],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        (report.connections, report.details, report.annotations),
        (1, 1, 1)
    );
    let rejected: Vec<(ItemKind, usize)> =
        report.rejected.iter().map(|r| (r.kind, r.index)).collect();
    assert_eq!(
        rejected,
        vec![
            (ItemKind::Connection, 0),
            (ItemKind::Connection, 2),
            (ItemKind::Connection, 3),
            (ItemKind::Detail, 0),
            (ItemKind::Annotation, 0)
        ]
    );
    assert!(report.rejected.iter().all(|r| !r.reason.is_empty()));
    assert_eq!(store.connections(Window::At(T0)).await.unwrap(), vec![good]);
    assert!(store.connection("C{x}").await.unwrap().is_none());
    assert!(store.retain(f64::NAN).await.is_err());
}

/// Everything a viewer could ask, for comparing two stores.
async fn all_answers(store: &dyn Store, uids: &[String], hosts: &[IpAddr]) -> String {
    let mut out = Vec::new();
    out.push(format!("{:?}", store.range().await.unwrap()));
    for w in [
        Window::At(T0),
        Window::At(T0 + 15.0),
        Window::At(T0 + 42.0),
        Window::Between {
            from: T0,
            to: T0 + 100.0,
        },
        Window::Between {
            from: T0 + 7.0,
            to: T0 + 23.0,
        },
    ] {
        out.push(format!("{:?}", store.connections(w).await.unwrap()));
        out.push(format!("{:?}", store.graph(w).await.unwrap()));
        for h in hosts {
            out.push(format!("{:?}", store.host(*h, w).await.unwrap()));
        }
    }
    for uid in uids {
        let info: Option<ConnectionInfo> = store.connection(uid).await.unwrap();
        out.push(format!("{info:?}"));
    }
    out.push(format!(
        "{:?}",
        store.histogram(T0, T0 + 100.0, 13).await.unwrap()
    ));
    out.push(format!(
        "{:?}",
        store
            .host_records_between(T0, T0 + 100.0, 50)
            .await
            .unwrap()
    ));
    out.push(format!(
        "{:?}",
        store.host_record_counts(T0, T0 + 100.0, 13).await.unwrap()
    ));
    out.join("\n")
}

#[derive(Debug, Clone)]
enum Item {
    Conn(Connection),
    Detail(Detail),
    Ann(HostAnnotation),
    /// A notice with one of the hosts it names: one notice may come once per host, in any
    /// batches.
    HostRecord(HostRecord),
}

fn items() -> impl Strategy<Value = Vec<Item>> {
    let hosts = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "2001:db8::1"];
    let conn = (
        0..6u8,
        0..1000u32,
        prop::option::of(0..600u32),
        0..4usize,
        0..4usize,
        prop::option::of(0..900u64),
    )
        .prop_map(move |(uid, ts, duration, o, r, bytes)| {
            Item::Conn(conn(
                &format!("P{uid}"),
                T0 + ts as f64 / 10.0,
                duration.map(|d| d as f64 / 10.0 * if d % 7 == 0 { 500.0 } else { 1.0 }),
                hosts[o],
                hosts[r],
                if o == r { "udp" } else { "tcp" },
                if uid % 2 == 0 { Some("dns") } else { None },
                bytes,
                bytes.map(|b| b * 3),
            ))
        });
    let detail = (
        0..6u8,
        0..3u8,
        prop::sample::select(vec!["http", "dns", "ssl"]),
    )
        .prop_map(|(uid, n, log_type)| {
            Item::Detail(detail(
                &format!("P{uid}"),
                log_type,
                T0 + n as f64,
                &format!("n{n}"),
            ))
        });
    let annotation = (0..4usize, 0..3u8, 0..3u8).prop_map(move |(h, name, ts)| {
        Item::Ann(ann(hosts[h], &format!("n{name}.example"), T0 + ts as f64))
    });
    let host_record = (0..4usize, 0..3u8, 0..3u8).prop_map(move |(h, note, ts)| {
        Item::HostRecord(host_record(
            hosts[h],
            T0 + ts as f64 * 7.5,
            &format!("Note::N{note}"),
        ))
    });
    prop::collection::vec(
        prop_oneof![3 => conn, 2 => detail, 1 => annotation, 1 => host_record],
        1..40,
    )
}

/// Ingests the items one uid's first conn record winning, as a reference; then a shuffled,
/// duplicated delivery in random chunks must answer exactly the same.
fn arrival_order_never_changes_answers(backend: &Backend, cases: u32) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let config = ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let strategy = items().prop_flat_map(|items| {
        let n = items.len();
        let delivery = prop::collection::vec(0..n, n..3 * n).prop_shuffle();
        let chunk = 1..8usize;
        (Just(items), delivery, chunk)
    });
    proptest!(config, |((items, delivery, chunk) in strategy)| {
        // One conn record per uid (Zeek's contract): keep the first of each uid.
        let mut seen = BTreeSet::new();
        let items: Vec<Item> = items
            .into_iter()
            .filter(|i| match i {
                Item::Conn(c) => seen.insert(c.uid.clone()),
                _ => true,
            })
            .collect();
        let n = items.len();
        let as_batch = |chosen: &mut dyn Iterator<Item = &Item>| {
            let mut batch = Contribution::default();
            for item in chosen {
                match item {
                    Item::Conn(c) => batch.connections.push(c.clone()),
                    Item::Detail(d) => batch.details.push(d.clone()),
                    Item::Ann(a) => batch.annotations.push(a.clone()),
                    Item::HostRecord(h) => batch.host_records.push(h.clone()),
                }
            }
            batch
        };
        let uids: Vec<String> = (0..6).map(|u| format!("P{u}")).collect();
        let hosts: Vec<IpAddr> = ["10.0.0.1", "2001:db8::1"].iter().map(|h| ip(h)).collect();
        let (reference, shuffled) = runtime.block_on(async {
            let reference = backend.store();
            reference.ingest(&as_batch(&mut items.iter())).await.unwrap();
            let shuffled = backend.store();
            // Every item at least once, then the random repeats, in random-sized chunks.
            let order: Vec<usize> = delivery.iter().copied().chain((0..n).rev()).filter(|i| *i < n).collect();
            for piece in order.chunks(chunk) {
                shuffled.ingest(&as_batch(&mut piece.iter().map(|i| &items[*i]))).await.unwrap();
            }
            (all_answers(&*reference, &uids, &hosts).await, all_answers(&*shuffled, &uids, &hosts).await)
        });
        prop_assert_eq!(reference, shuffled);
    });
}

// ---------------------------------------------------------------------------------------------
// Redis only: failures of the backend itself

mod redis_failures {
    use super::*;

    fn quick_store(url: String) -> RedisStore {
        let mut config = RedisConfig::new(url);
        config.timeout = Duration::from_secs(1);
        RedisStore::open(config).unwrap()
    }

    /// A private Redis, and a quick store on it holding one connection, "A" at `T0`.
    async fn store_with_one_connection() -> (RedisServer, RedisStore) {
        let server = RedisServer::start().unwrap();
        let store = quick_store(server.url());
        store
            .ingest(&conns(vec![simple("A", T0, "10.0.0.1", "10.0.0.2", 10)]))
            .await
            .unwrap();
        (server, store)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dead_redis_is_unavailable_quickly() {
        let (server, store) = store_with_one_connection().await;
        drop(server);
        let started = Instant::now();
        let batch = conns(vec![simple("B", T0, "10.0.0.1", "10.0.0.2", 1)]);
        let errors = [
            store.ingest(&batch).await.unwrap_err(),
            store.graph(Window::At(T0)).await.unwrap_err(),
            store.health().await.unwrap_err(),
            store.range().await.unwrap_err(),
        ];
        for err in &errors {
            assert!(err.is_unavailable(), "{err}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "took {:?}",
            started.elapsed()
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn nothing_listening_is_unavailable() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let store = quick_store(format!("redis://127.0.0.1:{port}/"));
        let started = Instant::now();
        assert!(store.health().await.unwrap_err().is_unavailable());
        assert!(
            store
                .connections(Window::At(T0))
                .await
                .unwrap_err()
                .is_unavailable()
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn restarted_redis_without_scripts_still_ingests() {
        let (server, store) = store_with_one_connection().await;
        let client = ::redis::Client::open(server.url()).unwrap();
        let mut raw = client.get_multiplexed_async_connection().await.unwrap();
        let () = ::redis::cmd("SCRIPT")
            .arg("FLUSH")
            .query_async(&mut raw)
            .await
            .unwrap();
        store
            .ingest(&conns(vec![simple(
                "B",
                T0 + 1.0,
                "10.0.0.1",
                "10.0.0.2",
                20,
            )]))
            .await
            .unwrap();
        store
            .ingest(&conns(vec![simple("A", T0, "10.0.0.1", "10.0.0.2", 10)]))
            .await
            .unwrap();
        assert_eq!(store.histogram(T0, T0 + 10.0, 1).await.unwrap()[0].conns, 2);
        assert_eq!(
            store.histogram(T0, T0 + 10.0, 1).await.unwrap()[0].bytes,
            30
        );
    }

    /// Data in the index layout of earlier versions (one hash a bucket, no uid shards) would
    /// be invisible to queries: the health check names it and says what to do.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn data_from_the_unsharded_index_layout_is_refused_by_name() {
        let (server, store) = store_with_one_connection().await;
        store
            .health()
            .await
            .expect("data in the current layout is healthy");

        let client = ::redis::Client::open(server.url()).unwrap();
        let mut raw = client.get_multiplexed_async_connection().await.unwrap();
        let old_bucket = 1_600_000_000i64;
        let _: () = ::redis::pipe()
            .cmd("HSET")
            .arg(format!("wd:i0:{{{old_bucket}}}"))
            .arg("B")
            .arg("summary")
            .cmd("ZADD")
            .arg("wd:ix0")
            .arg(old_bucket)
            .arg(old_bucket)
            .query_async(&mut raw)
            .await
            .unwrap();
        match store.health().await {
            Err(StoreError::Config(message)) => {
                assert!(message.contains("FLUSHDB"), "{message}");
                assert!(message.contains("\"wd:\""), "{message}");
            }
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn prefixes_keep_stores_apart() {
        let server = RedisServer::start().unwrap();
        let a = quick_store(server.url());
        let mut config = RedisConfig::new(server.url());
        config.prefix = "other:".into();
        let b = RedisStore::open(config).unwrap();
        a.ingest(&conns(vec![simple("A", T0, "10.0.0.1", "10.0.0.2", 10)]))
            .await
            .unwrap();
        assert_eq!(a.connections(Window::At(T0)).await.unwrap().len(), 1);
        assert!(b.connections(Window::At(T0)).await.unwrap().is_empty());
        assert_eq!(b.range().await.unwrap(), None);
        let client = ::redis::Client::open(server.url()).unwrap();
        let mut raw = client.get_multiplexed_async_connection().await.unwrap();
        let keys: Vec<String> = ::redis::cmd("KEYS")
            .arg("*")
            .query_async(&mut raw)
            .await
            .unwrap();
        assert!(keys.iter().all(|k| k.starts_with("wd:")), "{keys:?}");
        assert!(keys.contains(&"wd:c:{A}".to_string()), "{keys:?}");
        // The bucket's index is one of its uid shards.
        let index_bucket = format!("wd:i0:{{{}}}.", T0 as i64);
        assert!(
            keys.iter().any(|k| k.starts_with(&index_bucket)),
            "{keys:?}"
        );
    }

    /// The data really is spread over the cluster: every master holds some of it, and a spec
    /// whose first seed node is dead still reaches the cluster through the others.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cluster_spreads_keys_over_every_master() {
        let cluster = RedisCluster::start().unwrap();
        let dead_port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let url = cluster.url().replacen(
            "redis+cluster://",
            &format!("redis+cluster://127.0.0.1:{dead_port},"),
            1,
        );
        let store = wiredraw_net::store::open(&url, B as u64).unwrap();
        let batch: Vec<Connection> = (0..300)
            .map(|i| {
                simple(
                    &format!("S{i}"),
                    T0 + i as f64 * 7.0,
                    "10.0.0.1",
                    "10.0.0.2",
                    i,
                )
            })
            .collect();
        store.ingest(&conns(batch.clone())).await.unwrap();
        store.health().await.unwrap();
        assert_eq!(
            store
                .connections(Window::Between {
                    from: T0,
                    to: T0 + 3000.0
                })
                .await
                .unwrap(),
            batch
        );
        for port in cluster.ports() {
            let client = ::redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
            let mut raw = client.get_multiplexed_async_connection().await.unwrap();
            let keys: u64 = ::redis::cmd("DBSIZE").query_async(&mut raw).await.unwrap();
            assert!(keys > 10, "master on port {port} holds only {keys} keys");
        }
    }

    #[test]
    fn braces_in_the_prefix_are_refused() {
        let mut config = RedisConfig::new("redis://127.0.0.1:1/");
        config.prefix = "wd{x}:".into();
        assert!(matches!(
            RedisStore::open(config),
            Err(StoreError::Config(_))
        ));
    }
}

/// Which items of a batch the store refused: (kind, index in the batch).
fn refused(report: &IngestReport) -> Vec<(ItemKind, usize)> {
    report.rejected.iter().map(|r| (r.kind, r.index)).collect()
}

fn loss(ts: f64, ts_delta: f64, peer: &str, percent_lost: f64) -> CaptureLoss {
    CaptureLoss {
        ts,
        ts_delta,
        peer: peer.into(),
        gaps: (percent_lost * 10.0) as u64,
        acks: 1000,
        percent_lost,
    }
}

/// The reports a capture-loss query should answer, computed from the model: intervals
/// `[ts - ts_delta, ts]` meeting `[from, to)`, by `(ts, peer)`, the first of each kept.
fn expected_loss(kept: &[CaptureLoss], from: f64, to: f64) -> Vec<CaptureLoss> {
    let mut found: Vec<CaptureLoss> = kept
        .iter()
        .filter(|r| r.ts >= from && r.ts - r.ts_delta < to)
        .cloned()
        .collect();
    found.sort_by(|a, b| a.ts.total_cmp(&b.ts).then_with(|| a.peer.cmp(&b.peer)));
    found
}

async fn capture_loss_reports_are_kept_by_interval(backend: &Backend) {
    let store = backend.store();
    let q = 900.0;
    let kept = vec![
        loss(T0 + q, q, "worker-1", 0.4),
        loss(T0 + 2.0 * q, q, "worker-1", 55.238415),
        loss(T0 + 2.0 * q, q, "worker-0", 12.5),
        loss(T0 + 3.0 * q, q, "worker-1", 0.0),
        // A sensor that measures over a whole day reaches far back.
        loss(T0 + 86_400.0, 86_400.0, "daily", 3.0),
    ];
    // Delivered in two batches, out of order, the second repeating one report with other
    // figures (the first stays) and one the store must refuse.
    let first = Contribution {
        capture_loss: vec![kept[3].clone(), kept[1].clone(), kept[4].clone()],
        ..Default::default()
    };
    let mut changed = kept[1].clone();
    changed.percent_lost = 1.0;
    let second = Contribution {
        capture_loss: vec![
            kept[0].clone(),
            changed,
            loss(T0, -1.0, "worker-1", 5.0),
            kept[2].clone(),
            loss(T0, q, "worker-1", 150.0),
        ],
        ..Default::default()
    };
    let report = store.ingest(&first).await.unwrap();
    assert_eq!(report.capture_loss, 3);
    let report = store.ingest(&second).await.unwrap();
    assert_eq!(report.capture_loss, 3);
    assert_eq!(
        refused(&report),
        [(ItemKind::CaptureLoss, 2), (ItemKind::CaptureLoss, 4)],
        "{:?}",
        report.rejected
    );
    assert!(
        report.rejected[0].reason.contains("ts_delta"),
        "{:?}",
        report.rejected
    );
    assert!(
        report.rejected[1].reason.contains("percent_lost"),
        "{:?}",
        report.rejected
    );
    // Capture loss alone makes no connection visible.
    assert_eq!(store.range().await.unwrap(), None);

    for (from, to) in [
        (T0, T0 + 86_400.0),
        (T0 + q, T0 + q), // an instant where two intervals meet
        (T0 + 1000.0, T0 + 1001.0),
        (T0 + 2.0 * q + 1.0, T0 + 3.0 * q), // starts after the second interval ended
        (T0 + 40_000.0, T0 + 40_010.0),     // only the day-long interval
        (T0 + 86_401.0, T0 + 90_000.0),     // after everything
        (T0 - 5000.0, T0 - 1.0),            // before everything
    ] {
        assert_eq!(
            store.capture_loss(from, to).await.unwrap(),
            expected_loss(&kept, from, to),
            "capture loss over [{from}, {to})"
        );
    }
    assert!(matches!(
        store.capture_loss(T0 + 10.0, T0).await,
        Err(StoreError::BadRequest(_))
    ));
    assert!(matches!(
        store.capture_loss(f64::NAN, T0).await,
        Err(StoreError::BadRequest(_))
    ));

    // Retention drops the intervals that ended before the cutoff's bucket.
    let retained = store.retain(T0 + 2.0 * q + 5.0).await.unwrap();
    assert_eq!(retained.capture_loss, 1, "{retained:?}");
    assert_eq!(
        store.capture_loss(T0, T0 + 86_400.0).await.unwrap(),
        expected_loss(&kept[1..], T0, T0 + 86_400.0)
    );
}

fn software(
    ts: f64,
    host: &str,
    port: Option<u16>,
    kind: &str,
    name: &str,
    version: &str,
) -> Software {
    Software {
        ts,
        host: ip(host),
        host_p: port,
        software_type: kind.into(),
        name: name.into(),
        version: (!version.is_empty()).then(|| version.into()),
        unparsed_version: (!version.is_empty()).then(|| format!("{name}/{version}").into()),
    }
}

fn seen(s: &Software, first_seen: f64, last_seen: f64) -> SoftwareSeen {
    SoftwareSeen {
        software: SoftwareKey {
            software_type: s.software_type.to_string(),
            name: s.name.to_string(),
            version: s.version.as_ref().map(ToString::to_string),
            unparsed_version: s.unparsed_version.as_ref().map(ToString::to_string),
            host_p: s.host_p,
        },
        first_seen,
        last_seen,
    }
}

async fn the_software_seen_on_a_host(backend: &Backend) {
    let store = backend.store();
    let server = "10.8.0.1";
    let day = 86_400.0;
    let ssh = software(
        T0 + 100.0,
        server,
        Some(22),
        "SSH::SERVER",
        "OpenSSH",
        "8.2-p1",
    );
    let nginx = software(
        T0 + 200.0,
        server,
        Some(80),
        "HTTP::SERVER",
        "nginx",
        "1.18.0-Ubuntu",
    );
    let apt = software(
        T0 + 300.0,
        server,
        None,
        "HTTP::BROWSER",
        "Debian APT-HTTP",
        "1.3",
    );
    // The same sshd on another port is another entry; an upgrade is another entry too.
    let ssh_alt = software(
        T0 + 400.0,
        server,
        Some(2222),
        "SSH::SERVER",
        "OpenSSH",
        "8.2-p1",
    );
    let ssh_new = software(
        T0 + 2.0 * day,
        server,
        Some(22),
        "SSH::SERVER",
        "OpenSSH",
        "9.6-p1",
    );
    let unversioned = software(T0 + 500.0, "2001:db8::7", None, "HTTP::BROWSER", "curl", "");
    let again = |s: &Software, ts: f64| Software { ts, ..s.clone() };
    // Zeek logs running software again each day; delivered out of order and twice over.
    let batches = [
        vec![
            again(&ssh, T0 + day + 100.0),
            nginx.clone(),
            unversioned.clone(),
        ],
        vec![
            ssh.clone(),
            apt.clone(),
            ssh_alt.clone(),
            again(&ssh, T0 + 50.0),
        ],
        vec![ssh_new.clone(), again(&nginx, T0 + day + 200.0)],
        vec![
            ssh.clone(),
            nginx.clone(),
            Software {
                name: "".into(),
                ..ssh.clone()
            },
        ],
    ];
    for batch in &batches {
        store
            .ingest(&Contribution {
                software: batch.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let report = store
        .ingest(&Contribution {
            software: vec![
                Software {
                    name: "".into(),
                    ..ssh.clone()
                },
                apt.clone(),
            ],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(report.software, 1);
    assert_eq!(refused(&report), [(ItemKind::Software, 0)]);
    // Software is known whatever the window, like DNS names: no connection needs to be there.
    let host = store
        .host(ip(server), Window::At(T0 + 5.0 * day))
        .await
        .unwrap();
    let mut expected = vec![
        seen(&apt, T0 + 300.0, T0 + 300.0),
        seen(&nginx, T0 + 200.0, T0 + day + 200.0),
        seen(&ssh, T0 + 50.0, T0 + day + 100.0),
        seen(&ssh_alt, T0 + 400.0, T0 + 400.0),
        seen(&ssh_new, T0 + 2.0 * day, T0 + 2.0 * day),
    ];
    expected.sort_by(|a, b| a.software.cmp(&b.software));
    assert_eq!(host.software, expected);
    assert_eq!(host.software_total, 5);
    let other = store.host(ip("2001:db8::7"), Window::At(T0)).await.unwrap();
    assert_eq!(other.software, [seen(&unversioned, T0 + 500.0, T0 + 500.0)]);
    assert!(
        store
            .host(ip("10.8.0.2"), Window::At(T0))
            .await
            .unwrap()
            .software
            .is_empty()
    );

    // Retention drops what was last seen before the cutoff: apt, ssh on 2222 and curl.
    let retained = store.retain(T0 + day + 50.0).await.unwrap();
    assert_eq!(retained.software, 3, "{retained:?}");
    let host = store.host(ip(server), Window::At(T0)).await.unwrap();
    let names: Vec<(&str, Option<u16>, Option<&str>)> = host
        .software
        .iter()
        .map(|s| {
            (
                s.software.name.as_str(),
                s.software.host_p,
                s.software.version.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("nginx", Some(80), Some("1.18.0-Ubuntu")),
            ("OpenSSH", Some(22), Some("8.2-p1")),
            ("OpenSSH", Some(22), Some("9.6-p1")),
        ]
    );
    assert!(
        store
            .host(ip("2001:db8::7"), Window::At(T0))
            .await
            .unwrap()
            .software
            .is_empty()
    );

    // A host with more software than an answer lists keeps the most recently seen.
    let browsers: Vec<Software> = (0..MAX_SOFTWARE + 5)
        .map(|i| {
            software(
                T0 + 3.0 * day + i as f64,
                "10.8.0.9",
                None,
                "HTTP::BROWSER",
                &format!("agent-{i:03}"),
                "1",
            )
        })
        .collect();
    store
        .ingest(&Contribution {
            software: browsers.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let busy = store.host(ip("10.8.0.9"), Window::At(T0)).await.unwrap();
    assert_eq!(busy.software_total, (MAX_SOFTWARE + 5) as u64);
    assert_eq!(busy.software.len(), MAX_SOFTWARE);
    assert_eq!(busy.software[0].software.name, "agent-005");
}

fn host_record(addr: &str, ts: f64, note: &str) -> HostRecord {
    let detail = detail("-", "notice", ts, note);
    HostRecord {
        addr: ip(addr),
        log_type: detail.log_type,
        record: detail.record,
    }
}

/// The notes of a host's records as the store answers them.
async fn host_notes(store: &dyn Store, addr: &str) -> (Vec<String>, u64) {
    let host = store.host(ip(addr), Window::At(T0)).await.unwrap();
    assert!(host.records.iter().all(|r| r.log_type == "notice"));
    let notes = host
        .records
        .iter()
        .map(|r| r.record["note"].as_str().unwrap().to_string())
        .collect();
    (notes, host.records_total)
}

async fn records_about_a_host(backend: &Backend) {
    let store = backend.store();
    let scanner = "10.7.0.9";
    let guessing = host_record(scanner, T0 + 100.0, "SSH::Password_Guessing");
    let scan = host_record(scanner, T0 + 50.0, "Scan::Port_Scan");
    let later_scan = host_record(scanner, T0 + 5000.0, "Scan::Address_Scan");
    let target = host_record("2001:db8::5", T0 + 100.0, "SSH::Password_Guessing");
    // Out of order and twice over; a record whose ts is missing is refused.
    let mut stamped_nowhere = host_record(scanner, T0, "no time");
    stamped_nowhere.record.values[0] = Value::Unset;
    let report = store
        .ingest(&Contribution {
            host_records: vec![later_scan.clone(), guessing.clone(), stamped_nowhere],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(report.host_records, 2);
    assert_eq!(refused(&report), [(ItemKind::HostRecord, 2)]);
    store
        .ingest(&Contribution {
            host_records: vec![scan.clone(), guessing.clone(), target.clone()],
            ..Default::default()
        })
        .await
        .unwrap();
    // Newest first, whatever the window, and no connection needed.
    assert_eq!(
        host_notes(&*store, scanner).await,
        (
            vec![
                "Scan::Address_Scan".to_string(),
                "SSH::Password_Guessing".to_string(),
                "Scan::Port_Scan".to_string()
            ],
            3
        )
    );
    assert_eq!(
        host_notes(&*store, "2001:db8::5").await,
        (vec!["SSH::Password_Guessing".to_string()], 1)
    );
    let host = store.host(ip(scanner), Window::At(T0)).await.unwrap();
    assert_eq!(
        host.records[1].record,
        serde_json::json!({"ts": T0 + 100.0, "uid": "-", "note": "SSH::Password_Guessing"})
    );

    // Retention drops the records stamped before the cutoff's bucket.
    let retained = store.retain(T0 + 115.0).await.unwrap();
    assert_eq!(retained.host_records, 3, "{retained:?}");
    assert_eq!(
        host_notes(&*store, scanner).await,
        (vec!["Scan::Address_Scan".to_string()], 1)
    );
    assert_eq!(host_notes(&*store, "2001:db8::5").await, (vec![], 0));

    // A busy host lists the newest records and counts them all.
    let many: Vec<HostRecord> = (0..MAX_HOST_RECORDS + 3)
        .map(|i| host_record("10.7.0.1", T0 + 10_000.0 + i as f64, &format!("n{i:03}")))
        .collect();
    store
        .ingest(&Contribution {
            host_records: many,
            ..Default::default()
        })
        .await
        .unwrap();
    let (notes, total) = host_notes(&*store, "10.7.0.1").await;
    assert_eq!(total, (MAX_HOST_RECORDS + 3) as u64);
    assert_eq!(notes.len(), MAX_HOST_RECORDS);
    assert_eq!(notes[0], format!("n{:03}", MAX_HOST_RECORDS + 2));
}

/// `(ts, hosts, note)` of the records about hosts stamped in `[from, to]`, and their total.
async fn window_notes(
    store: &dyn Store,
    (from, to): (f64, f64),
    limit: usize,
) -> (Vec<(f64, Vec<String>, String)>, u64) {
    let page = store.host_records_between(from, to, limit).await.unwrap();
    let listed = page
        .records
        .iter()
        .map(|r| {
            assert_eq!(r.log_type, "notice");
            assert_eq!(r.record["ts"], serde_json::json!(r.ts));
            let hosts = r.hosts.iter().map(ToString::to_string).collect();
            (r.ts, hosts, r.record["note"].as_str().unwrap().to_string())
        })
        .collect();
    (listed, page.total)
}

async fn records_about_hosts_in_a_window(backend: &Backend) {
    let store = backend.store();
    let scanner = "10.7.0.9";
    let scan = host_record(scanner, T0 + 50.0, "Scan::Port_Scan");
    // One notice naming two hosts (`src` and `dst`) comes once per host, with equal content.
    let guessing = host_record(scanner, T0 + 100.0, "SSH::Password_Guessing");
    let target = host_record("2001:db8::5", T0 + 100.0, "SSH::Password_Guessing");
    let later = host_record(scanner, T0 + 5000.0, "Scan::Address_Scan");
    let same_time = [
        host_record("10.7.0.1", T0 + 5000.0, "Weird::Activity"),
        host_record("10.7.0.2", T0 + 5000.0, "Weird::Activity"),
    ];
    for batch in [
        vec![target.clone(), later.clone()],
        vec![scan, guessing.clone(), target, same_time[0].clone()],
        vec![guessing, same_time[1].clone()],
    ] {
        store
            .ingest(&Contribution {
                host_records: batch,
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let guessing_row = (
        T0 + 100.0,
        vec![scanner.to_string(), "2001:db8::5".to_string()],
        "SSH::Password_Guessing".to_string(),
    );
    let scan_row = (
        T0 + 50.0,
        vec![scanner.to_string()],
        "Scan::Port_Scan".to_string(),
    );
    assert_eq!(
        window_notes(&*store, (T0, T0 + 1000.0), 10).await,
        (vec![guessing_row.clone(), scan_row.clone()], 2)
    );
    // Both ends are in the window.
    assert_eq!(
        window_notes(&*store, (T0 + 50.0, T0 + 100.0), 10).await,
        (vec![guessing_row.clone(), scan_row], 2)
    );
    assert_eq!(
        window_notes(&*store, (T0 + 50.5, T0 + 99.5), 10).await,
        (vec![], 0)
    );
    // The newest first, all counted.
    assert_eq!(
        window_notes(&*store, (T0, T0 + 1000.0), 1).await,
        (vec![guessing_row.clone()], 2)
    );
    assert_eq!(
        window_notes(&*store, (T0, T0 + 1000.0), 0).await,
        (vec![], 2)
    );
    let (all, total) = window_notes(&*store, (T0, T0 + 10_000.0), 10).await;
    assert_eq!(total, 4);
    assert_eq!(all[0].0, T0 + 5000.0);
    assert_eq!(all[1].0, T0 + 5000.0);
    let mut at_5000: Vec<_> = all[..2]
        .iter()
        .map(|r| (r.1.clone(), r.2.clone()))
        .collect();
    at_5000.sort();
    assert_eq!(
        at_5000,
        [
            (
                vec!["10.7.0.1".to_string(), "10.7.0.2".to_string()],
                "Weird::Activity".to_string()
            ),
            (vec![scanner.to_string()], "Scan::Address_Scan".to_string()),
        ]
    );
    assert_eq!(all[2], guessing_row);
    assert!(matches!(
        store.host_records_between(T0 + 1.0, T0, 10).await,
        Err(StoreError::BadRequest(_))
    ));

    // Counted per histogram bin: those at T0 + 5000 lie on the edge that starts bin 5, and the
    // window's end is not in it.
    let counts = store
        .host_record_counts(T0, T0 + 10_000.0, 10)
        .await
        .unwrap();
    assert_eq!(counts, [2, 0, 0, 0, 0, 2, 0, 0, 0, 0]);
    let counts = store
        .host_record_counts(T0 + 100.0, T0 + 5000.0, 3)
        .await
        .unwrap();
    assert_eq!(counts, [1, 0, 0]);
    assert!(matches!(
        store.host_record_counts(T0, T0 + 1.0, 0).await,
        Err(StoreError::BadRequest(_))
    ));

    // Retention drops them from the window's list as from each host's.
    store.retain(T0 + 115.0).await.unwrap();
    let (left, total) = window_notes(&*store, (0.0, T0 + 10_000.0), 10).await;
    assert_eq!(total, 2);
    assert!(left.iter().all(|r| r.0 == T0 + 5000.0), "{left:?}");
}

// ---------------------------------------------------------------------------------------------
// Every test on every backend

macro_rules! conformance {
    ($($test:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(&super::Backend::memory()).await;
                }
            )*

            #[test]
            fn arrival_order_never_changes_answers() {
                super::arrival_order_never_changes_answers(&super::Backend::memory(), 96);
            }
        }

        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(&super::Backend::redis()).await;
                }
            )*

            #[test]
            fn arrival_order_never_changes_answers() {
                super::arrival_order_never_changes_answers(&super::Backend::redis(), 24);
            }
        }

        mod cluster {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(&super::Backend::cluster()).await;
                }
            )*

            #[test]
            fn arrival_order_never_changes_answers() {
                super::arrival_order_never_changes_answers(&super::Backend::cluster(), 16);
            }
        }
    };
}

conformance!(
    empty_store_answers_nothing,
    details_before_their_conn,
    conn_files_in_any_order,
    duplicate_delivery_changes_nothing,
    details_are_deduplicated_by_content,
    long_connections_show_in_every_bucket,
    ipv6_addresses,
    the_ports_a_host_answered_on_and_connected_to,
    certificates_join_the_connections_whose_ssl_names_them,
    unset_bytes_and_duration,
    overcounted_bytes_are_cut_to_the_wire,
    retention_drops_old_data,
    capture_loss_reports_are_kept_by_interval,
    the_software_seen_on_a_host,
    records_about_a_host,
    records_about_hosts_in_a_window,
    answers_match_the_model,
    bad_requests_are_refused,
);
