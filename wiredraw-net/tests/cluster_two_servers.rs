//! Two servers over one real three-master Redis Cluster, a collector shipping part of the rita
//! set to each: both servers answer exactly what reading the files directly gives, and a change
//! ingested through one server is pushed to the live viewers of the other within a second.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use wiredraw_core::Contribution;
use wiredraw_core::plugin::Registry;
use wiredraw_core::zeek::LogReader;
use wiredraw_net::client::{ApiClient, LiveEvents, Span};
use wiredraw_net::collector::{BackoffPolicy, Collector, CollectorConfig};
use wiredraw_net::server::config::{CollectorEntry, UserEntry};
use wiredraw_net::server::live::LiveEvent;
use wiredraw_net::server::{App, Config, auth};
use wiredraw_net::store::{MemoryStore, Store, Window};
use wiredraw_net::testkit::RedisCluster;

const BUCKET: u64 = 10;
const USER: &str = "analyst";
const PASSWORD: &str = "correct horse battery staple";
const TOKEN: &str = "7e57c1u573r7e57c1u573r7e57c1u573r7e57c1u573r7e57c1u573r7e57c1u5";
/// The log types shipped: conn and the details attached to it.
const LOG_TYPES: &[&str] = &["conn", "dns", "http", "ssl", "files", "ssh"];

fn rita_day() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/zeek/rita-missing-host/2024-04-19")
}

fn config() -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        bucket_secs: BUCKET,
        users: vec![UserEntry {
            name: USER.into(),
            password_hash: auth::hash_password(PASSWORD).unwrap(),
        }],
        collectors: vec![CollectorEntry {
            name: "sensor".into(),
            token_sha256: auth::token_sha256(TOKEN),
        }],
        ..Config::default()
    }
}

/// One server process's worth: its own store handle on the cluster, its own socket.
struct Server {
    url: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(cluster_url: &str) -> Server {
        let store = wiredraw_net::store::open(cluster_url, BUCKET).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = App::new(config(), store).unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(app.serve(listener, async move {
            let _ = stopped.await;
        }));
        Server { url, stop, task }
    }

    async fn session(&self) -> ApiClient {
        let mut client = ApiClient::new(&self.url).unwrap();
        client.login(USER, PASSWORD).await.unwrap();
        client
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(30), self.task)
            .await
            .expect("serve returns after shutdown")
            .unwrap()
            .unwrap();
    }
}

/// The first hours of one day, conn files alternating between the two collectors and every
/// detail file going to the collector that does not ship its conn file (so details and
/// their connections meet only in the shared store).
fn split_files(hours: usize, a: &Path, b: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    for log_type in LOG_TYPES {
        for hour in 0..hours {
            let name = format!(
                "{log_type}.{hour:02}:00:00-{:02}:00:00.log.gz",
                (hour + 1) % 24
            );
            let path = rita_day().join(&name);
            if !path.exists() {
                continue;
            }
            let to_a = (hour % 2 == 0) == (*log_type == "conn");
            std::fs::copy(&path, if to_a { a } else { b }.join(&name)).unwrap();
            all.push(path);
        }
    }
    all
}

/// What a server holds had it read the files itself.
async fn read_directly(files: &[PathBuf]) -> Arc<dyn Store> {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new(BUCKET).unwrap());
    let registry = Registry::with_builtins();
    for path in files {
        let mut contribution = Contribution::default();
        for record in LogReader::open(path).unwrap().flatten() {
            let _ = registry.contribute(&record, &mut contribution);
        }
        store.ingest(&contribution).await.unwrap();
    }
    store
}

fn collector(url: &str, dir: &Path) -> Collector {
    let mut config = CollectorConfig::new(url, TOKEN, dir);
    config.state_path = dir.join("state.json");
    config.once = true;
    config.batch_lines = 500;
    config.batch_max_age = Duration::from_millis(100);
    config.backoff = BackoffPolicy {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(300),
    };
    Collector::new(config).unwrap()
}

/// Subscribers to the change channel over all nodes: each server's relay is one.
async fn subscribers(cluster: &RedisCluster) -> i64 {
    let mut total = 0;
    for port in cluster.ports() {
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let (_, count): (String, i64) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg("wd:changes")
            .query_async(&mut conn)
            .await
            .unwrap();
        total += count;
    }
    total
}

/// Reads a live stream in the background, keeping every change and records event as
/// `change JSON` or `records JSON`.
fn record(mut events: LiveEvents) -> (Arc<Mutex<Vec<String>>>, tokio::task::JoinHandle<()>) {
    let changes = Arc::new(Mutex::new(Vec::new()));
    let kept = changes.clone();
    let task = tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            let line = match event.unwrap() {
                LiveEvent::Change(change) => {
                    format!("change {}", serde_json::to_string(&change).unwrap())
                }
                LiveEvent::Records(records) => {
                    format!("records {}", serde_json::to_string(&records).unwrap())
                }
                other => panic!("unexpected live event {other:?}"),
            };
            kept.lock().unwrap().push(line);
        }
    });
    (changes, task)
}

fn sorted(changes: &Mutex<Vec<String>>) -> Vec<String> {
    let mut out = changes.lock().unwrap().clone();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_over_a_cluster_answer_alike_and_push_each_others_changes() {
    let cluster = RedisCluster::start().unwrap();
    let url = cluster.url();
    let (a, b) = tokio::join!(Server::start(&url), Server::start(&url));
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let files = split_files(4, dir_a.path(), dir_b.path());
    let (viewer_a, viewer_b) = (a.session().await, b.session().await);

    let mut live_a = viewer_a.live().await.unwrap();
    let mut live_b = viewer_b.live().await.unwrap();
    for live in [&mut live_a, &mut live_b] {
        match live.recv().await.unwrap().unwrap() {
            LiveEvent::Range(range) => assert_eq!((range.first, range.bucket_secs), (None, 10)),
            other => panic!("the stream must open with the range, got {other:?}"),
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while subscribers(&cluster).await < 2 {
        assert!(Instant::now() < deadline, "the servers never subscribed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // One conn line through B reaches A's viewer within a second.
    let conn_b = std::fs::read_dir(dir_b.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("conn.")
        })
        .unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(std::fs::File::open(&conn_b).unwrap()),
        &mut text,
    )
    .unwrap();
    let header: String = text
        .lines()
        .take_while(|l| l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let line = text.lines().find(|l| !l.starts_with('#')).unwrap();
    let ts: f64 = line.split('\t').nth(1).unwrap().parse().unwrap();
    // A keeps its answer for that bucket (see graph_cache) until B's change reaches it.
    let conns_at = |graph: &wiredraw_net::api::GraphResponse| -> u64 {
        graph.edges.iter().map(|e| e.conns).sum()
    };
    let before = viewer_a.graph(Span::At(ts)).await.unwrap();
    assert_eq!(viewer_a.graph(Span::At(ts)).await.unwrap(), before);
    let sensor = ApiClient::new(&b.url).unwrap().with_token(TOKEN).unwrap();
    let sent = Instant::now();
    let answer = sensor
        .post_logs("conn", Bytes::from(format!("{header}{line}\n")), false)
        .await
        .unwrap();
    assert_eq!((answer.accepted, answer.rejected), (1, 0));
    let pushed = tokio::time::timeout(Duration::from_secs(1), live_a.recv())
        .await
        .expect("A's viewer hears of B's ingest within a second")
        .unwrap()
        .unwrap();
    let LiveEvent::Change(change) = pushed else {
        panic!("expected a change, got {pushed:?}");
    };
    assert_eq!((change.log_type.as_str(), change.first), ("conn", ts));
    assert_eq!(change.latest_start, Some(ts), "carried across servers");
    assert_eq!(change.buckets[0], (ts / 10.0).floor() as i64 * 10);
    eprintln!("push from B to A's viewer after {:?}", sent.elapsed());
    let after = viewer_a.graph(Span::At(ts)).await.unwrap();
    assert_eq!(
        conns_at(&after),
        conns_at(&before) + 1,
        "A answers with B's connection"
    );
    match live_b.recv().await.unwrap().unwrap() {
        LiveEvent::Change(own) => assert_eq!(own, change),
        other => panic!("B's own viewer must see the change, got {other:?}"),
    }

    // A collector on each server, at once.
    let (seen_a, reader_a) = record(live_a);
    let (seen_b, reader_b) = record(live_b);
    let (summary_a, summary_b) = tokio::join!(
        collector(&a.url, dir_a.path()).run(std::future::pending()),
        collector(&b.url, dir_b.path()).run(std::future::pending()),
    );
    let (summary_a, summary_b) = (summary_a.unwrap(), summary_b.unwrap());
    assert_eq!(summary_a.errors + summary_b.errors, 0);
    assert!(summary_a.lines > 1000 && summary_b.lines > 1000);

    // Same answers from both servers, and the same as reading the files directly.
    let direct = read_directly(&files).await;
    let range = direct.range().await.unwrap().unwrap();
    for viewer in [&viewer_a, &viewer_b] {
        let held = viewer.range().await.unwrap();
        assert_eq!(
            (held.first, held.last),
            (Some(range.first), Some(range.last))
        );
        let bins = viewer
            .histogram(range.first, range.last + 10.0, 48)
            .await
            .unwrap();
        let expected = direct
            .histogram(range.first, range.last + 10.0, 48)
            .await
            .unwrap();
        let got: Vec<(u64, u64)> = bins.bins.iter().map(|b| (b.conns, b.bytes)).collect();
        let want: Vec<(u64, u64)> = expected.iter().map(|b| (b.conns, b.bytes)).collect();
        assert_eq!(got, want);
    }
    let mut with_details = BTreeSet::new();
    for i in 0..24 {
        let t = range.first + (range.last - range.first) * i as f64 / 24.0;
        let graph_a = viewer_a.graph(Span::At(t)).await.unwrap();
        let graph_b = viewer_b.graph(Span::At(t)).await.unwrap();
        assert_eq!(graph_a, graph_b);
        let expected = direct.graph(Window::At(t)).await.unwrap();
        let edges: Vec<(String, String, u64, u64)> = graph_a
            .edges
            .iter()
            .map(|e| (e.src.clone(), e.dst.clone(), e.conns, e.bytes))
            .collect();
        let want: Vec<(String, String, u64, u64)> = expected
            .edges
            .iter()
            .map(|e| (e.src.clone(), e.dst.clone(), e.conns, e.bytes))
            .collect();
        assert_eq!(edges, want, "graph at {t}");
        for conn in direct.connections(Window::At(t)).await.unwrap() {
            let info = direct.connection(&conn.uid).await.unwrap().unwrap();
            if !info.details.is_empty() && with_details.len() < 40 {
                with_details.insert(conn.uid.to_string());
            }
        }
    }
    assert!(with_details.len() > 10, "{with_details:?}");
    for uid in &with_details {
        let expected =
            serde_json::to_value(direct.connection(uid).await.unwrap().unwrap()).unwrap();
        let from_a = serde_json::to_value(viewer_a.connection(uid).await.unwrap()).unwrap();
        let from_b = serde_json::to_value(viewer_b.connection(uid).await.unwrap()).unwrap();
        assert_eq!(from_a, from_b, "connection {uid}");
        assert_eq!(from_a["details"], expected["details"], "details of {uid}");
    }

    // Every change, and every records event (the dns and http logs), reached both servers'
    // viewers, whichever server it was ingested through.
    let deadline = Instant::now() + Duration::from_secs(10);
    while sorted(&seen_a) != sorted(&seen_b) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (changes_a, changes_b) = (sorted(&seen_a), sorted(&seen_b));
    assert_eq!(changes_a, changes_b);
    let count = |kind: &str| changes_a.iter().filter(|e| e.starts_with(kind)).count();
    assert!(count("change ") >= 4, "{changes_a:?}");
    assert!(count("records ") >= 2, "{changes_a:?}");

    // A session opened through one server is honoured by the other, and logging out through
    // either ends it on both, though both keep it after reading it from the store once.
    let mut roaming = ApiClient::new(&a.url).unwrap();
    let login = roaming.login(USER, PASSWORD).await.unwrap();
    let on_b = ApiClient::new(&b.url)
        .unwrap()
        .with_token(&login.token)
        .unwrap();
    assert_eq!(on_b.range().await.unwrap().last, Some(range.last));
    let session_reads = || async {
        let metrics = roaming.http().get_bytes("/metrics").await.unwrap();
        let metrics = String::from_utf8(metrics.to_vec()).unwrap();
        metrics
            .lines()
            .find_map(|line| {
                line.strip_prefix(
                    "wiredraw_store_operation_duration_seconds_count{operation=\"session\"} ",
                )
            })
            .map_or(0, |n| n.parse::<u64>().unwrap())
    };
    roaming.range().await.unwrap();
    let reads = session_reads().await;
    for _ in 0..5 {
        roaming.range().await.unwrap();
    }
    assert_eq!(
        session_reads().await,
        reads,
        "A read a session it keeps again"
    );
    let mut on_b_live = on_b.live().await.unwrap();
    assert!(matches!(
        on_b_live.recv().await.unwrap().unwrap(),
        LiveEvent::Range(_)
    ));
    let mut ending = on_b.clone();
    ending.logout().await.unwrap();
    // B ends it at once; A as soon as it hears B's announcement.
    let refused = on_b.range().await.unwrap_err();
    assert_eq!(
        refused.status().map(|s| s.as_u16()),
        Some(401),
        "B: {refused}"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    let refused = loop {
        match roaming.range().await {
            Err(refused) => break refused,
            Ok(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Ok(_) => panic!("server A still honours a session ended through B"),
        }
    };
    assert_eq!(
        refused.status().map(|s| s.as_u16()),
        Some(401),
        "A: {refused}"
    );
    drop(on_b_live);

    a.stop().await;
    b.stop().await;
    for reader in [reader_a, reader_b] {
        tokio::time::timeout(Duration::from_secs(10), reader)
            .await
            .expect("live streams end when their server stops")
            .unwrap();
    }
}
