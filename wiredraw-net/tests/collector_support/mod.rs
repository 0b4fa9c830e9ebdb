//! Shared helpers for the collector tests: the real server on loopback, real Zeek lines from
//! the rita set, and the store's answers.

#![allow(dead_code)] // Each test file uses a different part of this.

use std::collections::BTreeSet;
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wiredraw_net::collector::{BackoffPolicy, CollectorConfig};
use wiredraw_net::server::config::CollectorEntry;
use wiredraw_net::server::{App, Config, auth};
use wiredraw_net::store::{MemoryStore, Store, Window};

pub const TOKEN: &str = "5c0ffee5c0ffee5c0ffee5c0ffee5c0ffee5c0ffee5c0ffee5c0ffee5c0ffee0";
pub const BUCKET: u64 = 10;

/// The rita set beside the repository.
pub fn rita_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/zeek/rita-missing-host")
}

pub fn memory_store() -> Arc<dyn Store> {
    Arc::new(MemoryStore::new(BUCKET).unwrap())
}

fn config(listen: SocketAddr) -> Config {
    Config {
        listen,
        bucket_secs: BUCKET,
        collectors: vec![CollectorEntry {
            name: "test-sensor".into(),
            token_sha256: auth::token_sha256(TOKEN),
        }],
        ..Config::default()
    }
}

/// A real server on a loopback port, over a store that outlives it (so it can be stopped and
/// started again on the same port with the same data).
pub struct TestServer {
    pub app: App,
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    pub async fn start(store: Arc<dyn Store>) -> TestServer {
        TestServer::start_at("127.0.0.1:0".parse().unwrap(), store).await
    }

    pub async fn start_at(addr: SocketAddr, store: Arc<dyn Store>) -> TestServer {
        let deadline = Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match tokio::net::TcpListener::bind(addr).await {
                Ok(listener) => break listener,
                // The old socket may linger for a moment after a stop.
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("binding {addr}: {e}"),
            }
        };
        let addr = listener.local_addr().unwrap();
        let app = App::new(config(addr), store).unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(app.clone().serve(listener, async move {
            let _ = stopped.await;
        }));
        TestServer {
            app,
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn store(&self) -> Arc<dyn Store> {
        self.app.store().clone()
    }

    /// Stops the server and waits until its port is closed.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(30), task)
                .await
                .expect("serve returns after shutdown")
                .unwrap()
                .unwrap();
        }
    }
}

/// A collector config for tests: fast polling, short batches and backoff.
pub fn collector_config(url: &str, dir: &Path, state: &Path) -> CollectorConfig {
    let mut config = CollectorConfig::new(url, TOKEN, dir);
    config.state_path = state.to_owned();
    config.poll_interval = Duration::from_millis(50);
    config.batch_max_age = Duration::from_millis(100);
    config.backoff = BackoffPolicy {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(300),
    };
    config
}

/// The header block and data lines of a Zeek TSV log (plain or gzip).
pub struct ZeekLines {
    pub header: String,
    pub lines: Vec<String>,
}

pub fn read_zeek(path: &Path) -> ZeekLines {
    let mut text = String::new();
    let file = std::fs::File::open(path).unwrap();
    if path.extension().is_some_and(|e| e == "gz") {
        flate2::read::MultiGzDecoder::new(file)
            .read_to_string(&mut text)
            .unwrap();
    } else {
        std::io::BufReader::new(file)
            .read_to_string(&mut text)
            .unwrap();
    }
    let mut header = String::new();
    let mut lines = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') {
            if !line.starts_with("#close") && lines.is_empty() {
                header.push_str(line);
                header.push('\n');
            }
        } else if !line.is_empty() {
            lines.push(format!("{line}\n"));
        }
    }
    ZeekLines { header, lines }
}

/// Conn lines of the rita set's hours `hours` (0 = 2024-04-19 00:00 UTC, up to 71), with the
/// first file's header.
pub fn rita_conn_lines(hours: std::ops::Range<usize>) -> ZeekLines {
    let mut all = ZeekLines {
        header: String::new(),
        lines: Vec::new(),
    };
    for hour in hours {
        let (day, hour) = (19 + hour / 24, hour % 24);
        let name = format!("conn.{:02}:00:00-{:02}:00:00.log.gz", hour, (hour + 1) % 24);
        let part = read_zeek(&rita_dir().join(format!("2024-04-{day}")).join(name));
        if all.header.is_empty() {
            all.header = part.header;
        }
        all.lines.extend(part.lines);
    }
    all
}

/// The uid column (third after `_node_name` and `ts` in rita's conn).
pub fn uid_of(line: &str) -> &str {
    line.split('\t').nth(2).unwrap()
}

/// A header with another `#open` time: a different file to the collector.
pub fn reopened(header: &str, open: &str) -> String {
    header
        .lines()
        .map(|l| {
            if l.starts_with("#open") {
                format!("#open\t{open}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect()
}

pub fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

pub fn gzip_file(from: &Path, to: &Path) {
    use std::io::Write;
    let data = std::fs::read(from).unwrap();
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(to).unwrap(),
        flate2::Compression::default(),
    );
    gz.write_all(&data).unwrap();
    gz.finish().unwrap();
}

/// Every connection uid in the store.
pub async fn stored_uids(store: &Arc<dyn Store>) -> BTreeSet<String> {
    let Some(range) = store.range().await.unwrap() else {
        return BTreeSet::new();
    };
    let window = Window::Between {
        from: range.first - BUCKET as f64,
        to: range.last + BUCKET as f64,
    };
    store
        .connections(window)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.uid.to_string())
        .collect()
}

/// Waits until the store holds exactly `want` (as a set), or panics with the difference.
pub async fn wait_for_uids(store: &Arc<dyn Store>, want: &BTreeSet<String>, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let have = stored_uids(store).await;
        if &have == want {
            return;
        }
        if Instant::now() > deadline {
            let missing = want.difference(&have).count();
            let extra = have.difference(want).count();
            panic!(
                "store has {} uids, want {}: {missing} missing, {extra} unexpected",
                have.len(),
                want.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn wait_until(what: &str, within: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
