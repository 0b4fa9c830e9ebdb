//! Shared helpers for the server integration tests: a real server on a loopback port.

#![allow(dead_code)] // Each test file uses a different part of this.

use std::sync::Arc;
use std::time::Duration;
use wiredraw_core::{Connection, Contribution};
use wiredraw_net::client::ApiClient;
use wiredraw_net::server::config::{CollectorEntry, UserEntry};
use wiredraw_net::server::{App, Config, Inventory, auth};
use wiredraw_net::store::{MemoryStore, Store};

pub const USER: &str = "analyst";
pub const PASSWORD: &str = "correct horse battery staple";
pub const COLLECTOR_TOKEN: &str =
    "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
pub const BUCKET: u64 = 10;

/// A config with one user and one collector, on loopback with an OS-chosen port.
pub fn config() -> Config {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = HASH.get_or_init(|| auth::hash_password(PASSWORD).unwrap());
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        bucket_secs: BUCKET,
        users: vec![UserEntry {
            name: USER.into(),
            password_hash: hash.clone(),
        }],
        collectors: vec![CollectorEntry {
            name: "sensor-1".into(),
            token_sha256: auth::token_sha256(COLLECTOR_TOKEN),
        }],
        ..Config::default()
    }
}

pub fn memory_store() -> Arc<dyn Store> {
    Arc::new(MemoryStore::new(BUCKET).unwrap())
}

/// A Redis store on the test's own redis-server, with the tests' bucket width.
pub fn redis_store(redis: &wiredraw_net::testkit::RedisServer) -> Arc<dyn Store> {
    let mut config = wiredraw_net::store::RedisConfig::new(redis.url());
    config.bucket_secs = BUCKET;
    Arc::new(wiredraw_net::store::RedisStore::open(config).unwrap())
}

/// A running server and a way to stop it.
pub struct TestServer {
    pub app: App,
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    pub async fn start(config: Config, store: Arc<dyn Store>) -> TestServer {
        TestServer::start_with(config, store, Inventory::default()).await
    }

    pub async fn start_with(
        config: Config,
        store: Arc<dyn Store>,
        inventory: Inventory,
    ) -> TestServer {
        let listener = tokio::net::TcpListener::bind(config.listen).await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = App::with_inventory(config, store, inventory).unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(app.clone().serve(listener, async move {
            let _ = stopped.await;
        }));
        TestServer {
            app,
            url,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// An API client logged in as the test user.
    pub async fn session(&self) -> ApiClient {
        let mut client = ApiClient::new(&self.url).unwrap();
        client.login(USER, PASSWORD).await.unwrap();
        client
    }

    /// A client that sends the collector token.
    pub fn collector(&self) -> ApiClient {
        ApiClient::new(&self.url)
            .unwrap()
            .with_token(COLLECTOR_TOKEN)
            .unwrap()
    }

    /// Starts a graceful shutdown and waits until `serve` returns.
    pub async fn stop(mut self) {
        self.begin_stop();
        self.finished().await;
    }

    pub fn begin_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    pub async fn finished(&mut self) {
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(30), task)
                .await
                .expect("serve returns after shutdown")
                .unwrap()
                .unwrap();
        }
    }
}

/// A connection with the given endpoints and timing.
pub fn conn(
    uid: &str,
    ts: f64,
    duration: f64,
    orig: &str,
    resp: &str,
    bytes: (u64, u64),
) -> Connection {
    Connection {
        uid: uid.into(),
        ts,
        duration: Some(duration),
        orig_h: orig.parse().unwrap(),
        orig_p: Some(50_000),
        resp_h: resp.parse().unwrap(),
        resp_p: Some(80),
        proto: "tcp".into(),
        service: Some("http".into()),
        orig_bytes: Some(bytes.0),
        resp_bytes: Some(bytes.1),
        conn_state: Some("SF".into()),
        history: Some("ShADadFf".into()),
        packets: None,
    }
}

pub async fn ingest(store: &Arc<dyn Store>, connections: Vec<Connection>) {
    let report = store
        .ingest(&Contribution {
            connections,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(report.rejected.is_empty(), "{report:?}");
}

/// Raw HTTP over the client's pool: method, path, token, body → (status, JSON body).
pub async fn raw(
    url: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (u16, serde_json::Value) {
    use http_body_util::{BodyExt, Full};
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<bytes::Bytes>>();
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(format!("{url}{path}"));
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = client
        .request(request.body(Full::new(bytes::Bytes::from(body))).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&body)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&body).into()));
    (status, json)
}

/// The rita sample: three days from a real Zeek sensor.
pub const RITA: &str = "../../shared/data/zeek/rita-missing-host";

/// One wrccdc log in Zeek's TSV (that sample has no conn.log).
pub fn wrccdc_file(log_type: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/zeek/wrccdc-2018/zeek-default")
        .join(format!("{log_type}.log.gz"))
}

/// POSTs a body to `path` as the test collector.
pub async fn post_logs(
    server: &TestServer,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (u16, serde_json::Value) {
    raw(
        &server.url,
        "POST",
        path,
        Some(COLLECTOR_TOKEN),
        headers,
        body,
    )
    .await
}

/// A log file's lines, decompressed: its `#` header lines (before the first data line) and its
/// data lines (a trailing `#close` dropped).
pub fn split_log(path: &std::path::Path) -> (Vec<u8>, Vec<Vec<u8>>) {
    use std::io::Read;
    let mut text = Vec::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut text)
        .unwrap();
    let mut header = Vec::new();
    let mut lines = Vec::new();
    for line in text.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"#") {
            if lines.is_empty() {
                header.extend_from_slice(line);
            }
        } else if !line.iter().all(u8::is_ascii_whitespace) {
            lines.push(line.to_vec());
        }
    }
    (header, lines)
}

/// Collector-style bodies: each batch of `batch` lines preceded by the file's header.
pub fn batches(header: &[u8], lines: &[Vec<u8>], batch: usize) -> Vec<bytes::Bytes> {
    lines
        .chunks(batch)
        .map(|chunk| {
            let mut body = header.to_vec();
            chunk.iter().for_each(|l| body.extend_from_slice(l));
            bytes::Bytes::from(body)
        })
        .collect()
}

/// The rita files of one log type on one day, sorted.
pub fn rita_files(day: &str, log_type: &str) -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(RITA)
        .join(day);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("{log_type}.")))
        })
        .collect();
    files.sort();
    files
}

/// Everything a store answers about a wide window, to compare before and after a request.
pub async fn snapshot(store: &Arc<dyn Store>) -> String {
    use wiredraw_net::store::Window;
    let range = store.range().await.unwrap();
    let Some(held) = range else {
        return "empty".into();
    };
    let window = Window::Between {
        from: held.first,
        to: held.last + 1.0,
    };
    let connections = store.connections(window).await.unwrap();
    let histogram = store
        .histogram(held.first, held.last + 1.0, 10)
        .await
        .unwrap();
    let mut details = Vec::new();
    for c in &connections {
        details.push(store.connection(&c.uid).await.unwrap().map(|i| i.details));
    }
    format!("{range:?}\n{connections:?}\n{histogram:?}\n{details:?}")
}

/// Every connection the store holds, once each. A range wider than one query may ask for (a
/// record from 1970 beside today's) is walked in windows of the largest size allowed.
pub async fn all_connections(store: &Arc<dyn Store>) -> Vec<Connection> {
    use wiredraw_net::store::{MAX_WINDOW_BUCKETS, Window};
    let Some(held) = store.range().await.unwrap() else {
        return Vec::new();
    };
    let step = (MAX_WINDOW_BUCKETS - 1) as f64 * BUCKET as f64;
    let mut seen = std::collections::HashSet::new();
    let mut all = Vec::new();
    let mut from = held.first;
    while from <= held.last {
        let to = (from + step).min(held.last + 1.0);
        for connection in store
            .connections(Window::Between { from, to })
            .await
            .unwrap()
        {
            if seen.insert(connection.uid.clone()) {
                all.push(connection);
            }
        }
        from = to;
    }
    all
}
