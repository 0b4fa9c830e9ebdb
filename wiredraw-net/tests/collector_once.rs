//! `--once` import of the whole 3-day rita set into a fresh server gives the same answers as
//! the same files read directly into a store.

mod collector_support;

use std::sync::Arc;
use std::time::Duration;

use collector_support::*;
use wiredraw_core::Contribution;
use wiredraw_core::plugin::Registry;
use wiredraw_core::zeek::LogReader;
use wiredraw_net::collector::Collector;
use wiredraw_net::store::{Store, Window};

/// Reads every Zeek log of the set with the core reader and stores what the plugins make of
/// it, file by file: what a server would hold had it read the files itself.
async fn read_directly(dir: &std::path::Path) -> (Arc<dyn Store>, u64) {
    let store = memory_store();
    let registry = Registry::with_builtins();
    let mut records = 0;
    let mut paths: Vec<_> = walk(dir);
    paths.sort();
    for path in paths {
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        // zeekctl's text reports sit beside the logs; they are not Zeek logs.
        if !name.contains(".log") || name.starts_with("conn-summary") {
            continue;
        }
        let mut contribution = Contribution::default();
        for record in LogReader::open(&path).unwrap().flatten() {
            records += 1;
            let _ = registry.contribute(&record, &mut contribution);
        }
        store.ingest(&contribution).await.unwrap();
    }
    (store, records)
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_import_of_rita_answers_like_reading_the_files() {
    let server = TestServer::start(memory_store()).await;
    let state_dir = tempfile::tempdir().unwrap();
    let state = state_dir.path().join("state.json");
    let mut config = collector_config(&server.url(), &rita_dir(), &state);
    config.once = true;
    let collector = Collector::new(config.clone()).unwrap();
    let summary = tokio::time::timeout(
        Duration::from_secs(300),
        collector.run(std::future::pending()),
    )
    .await
    .expect("--once finishes by itself")
    .unwrap();

    let (direct, records) = read_directly(&rita_dir()).await;
    // Every record the reader finds was accepted by the server.
    assert_eq!(summary.lines, records, "{summary}");
    assert_eq!(summary.errors, 0, "{summary}");
    assert!(summary.files > 900, "{summary}");

    let shipped = server.store();
    let range = direct.range().await.unwrap().expect("data");
    assert_eq!(shipped.range().await.unwrap(), Some(range));
    let (from, to) = (range.first, range.last + BUCKET as f64);
    let bins = |store: Arc<dyn Store>| async move { store.histogram(from, to, 72).await.unwrap() };
    let direct_bins = bins(direct.clone()).await;
    assert_eq!(bins(shipped.clone()).await, direct_bins);
    let conns: u64 = direct_bins.iter().map(|b| b.conns).sum();
    assert!(conns > 100_000, "{conns} connections");
    for (start, width) in [
        (from, 3600.0),
        (from + 86_400.0, 600.0),
        (to - 7200.0, 7200.0),
    ] {
        let window = Window::Between {
            from: start,
            to: start + width,
        };
        let want = direct.graph(window).await.unwrap();
        assert!(!want.edges.is_empty());
        assert_eq!(shipped.graph(window).await.unwrap(), want);
    }
    let at = Window::At(from + 40_000.0);
    assert_eq!(
        shipped.graph(at).await.unwrap(),
        direct.graph(at).await.unwrap()
    );

    // A second run finds everything shipped.
    let again = Collector::new(config)
        .unwrap()
        .run(std::future::pending())
        .await
        .unwrap();
    assert_eq!((again.lines, again.batches), (0, 0), "{again}");
    server.stop().await;
}
