//! The collector in live mode against the real server on loopback: tailing while files grow
//! and rotate, a kill mid-stream and restart, and a server that goes away and comes back.

mod collector_support;

use std::collections::BTreeSet;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use collector_support::*;
use wiredraw_net::collector::{Collector, CollectorError};

type Run = tokio::task::JoinHandle<Result<wiredraw_net::collector::Summary, CollectorError>>;

/// Starts a collector; it stops when the returned sender is dropped or sent to.
fn spawn_collector(collector: Collector) -> (tokio::sync::oneshot::Sender<()>, Run) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(collector.run(async move {
        let _ = stopped.await;
    }));
    (stop, run)
}

fn uids(lines: &[String]) -> BTreeSet<String> {
    lines.iter().map(|l| uid_of(l).to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follows_appends_rotations_truncation_and_new_logs_shipping_each_line_once() {
    let server = TestServer::start(memory_store()).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state").join("collector.json");
    std::fs::create_dir_all(state.parent().unwrap()).unwrap();
    let source = rita_conn_lines(24..27);
    let lines = &source.lines;
    assert!(lines.len() > 2000, "{} lines", lines.len());
    let live = dir.path().join("conn.log");
    append(&live, &source.header);
    append(&live, &lines[..300].concat());

    let collector = Collector::new(collector_config(&server.url(), dir.path(), &state)).unwrap();
    let progress = collector.progress();
    let (stop, run) = spawn_collector(collector);
    let store = server.store();
    wait_for_uids(&store, &uids(&lines[..300]), Duration::from_secs(20)).await;

    // Zeek appends, sometimes leaving half a line for a moment.
    let (head, tail) = lines[600].split_at(20);
    append(&live, &lines[300..600].concat());
    append(&live, head);
    wait_for_uids(&store, &uids(&lines[..600]), Duration::from_secs(20)).await;
    append(&live, &format!("{tail}{}", lines[601..800].concat()));
    wait_for_uids(&store, &uids(&lines[..800]), Duration::from_secs(20)).await;

    // Rotation: the live file is renamed with lines the collector has not read yet, a new
    // conn.log starts, and the archiver gzips the renamed file and deletes it.
    append(&live, &lines[800..1000].concat());
    let rotated = dir.path().join("conn.10:00:00-11:00:00.log");
    std::fs::rename(&live, &rotated).unwrap();
    append(&live, &reopened(&source.header, "2024-04-20-11-00-00"));
    append(&live, &lines[1000..1200].concat());
    wait_for_uids(&store, &uids(&lines[..1200]), Duration::from_secs(20)).await;
    gzip_file(&rotated, &dir.path().join("conn.10:00:00-11:00:00.log.gz"));
    std::fs::remove_file(&rotated).unwrap();

    // copytruncate: the file is emptied in place and written from the start.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rewritten = reopened(&source.header, "2024-04-20-12-00-00") + &lines[1200..1400].concat();
    std::fs::write(&live, rewritten).unwrap();
    wait_for_uids(&store, &uids(&lines[..1400]), Duration::from_secs(20)).await;

    // An archive of content never seen live (collector was not running then), and a new log
    // type appearing.
    let archive = dir.path().join("old").join("conn.08:00:00-09:00:00.log");
    std::fs::create_dir_all(archive.parent().unwrap()).unwrap();
    append(&archive, &reopened(&source.header, "2024-04-20-08-00-00"));
    append(&archive, &lines[1400..1700].concat());
    gzip_file(&archive, &archive.with_extension("log.gz"));
    std::fs::remove_file(&archive).unwrap();
    let dns = read_zeek(&rita_dir().join("2024-04-20/dns.00:00:00-01:00:00.log.gz"));
    append(&dir.path().join("dns.log"), &dns.header);
    append(&dir.path().join("dns.log"), &dns.lines.concat());
    wait_for_uids(&store, &uids(&lines[..1700]), Duration::from_secs(20)).await;
    let expected_lines = (1700 + dns.lines.len()) as u64;
    wait_until("every dns line", Duration::from_secs(20), || {
        progress.lines.load(Relaxed) >= expected_lines
    })
    .await;

    drop(stop);
    let summary = run.await.unwrap().unwrap();
    assert_eq!(summary.errors, 0, "{summary}");
    // Every line exactly once: the gzip of the rotated file added nothing.
    assert_eq!(summary.lines, expected_lines, "{summary}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_stream_and_restarted_delivers_every_record() {
    let server = TestServer::start(memory_store()).await;
    let store = server.store();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("collector-state.json");
    let source = rita_conn_lines(24..44);
    let live = dir.path().join("conn.log");
    append(&live, &source.header);
    append(&live, &source.lines.concat());
    let total = source.lines.len() as u64;

    let mut config = collector_config(&server.url(), dir.path(), &state);
    config.batch_lines = 200;
    let collector = Collector::new(config.clone()).unwrap();
    let progress = collector.progress();
    let (_stop, run) = spawn_collector(collector);
    wait_until("a few batches", Duration::from_secs(20), || {
        progress.lines.load(Relaxed) >= 1000
    })
    .await;
    // Killed: the task is dropped wherever it is, nothing is flushed.
    run.abort();
    let _ = run.await;
    let first_run = progress.lines.load(Relaxed);
    assert!(first_run < total, "the first run finished before the kill");

    // More lines arrive while it is down.
    let extra = rita_conn_lines(44..48).lines;
    append(&live, &extra.concat());
    let restarted = Collector::new(config).unwrap();
    let progress = restarted.progress();
    let (stop, run) = spawn_collector(restarted);
    let mut all = source.lines.clone();
    all.extend(extra);
    wait_for_uids(&store, &uids(&all), Duration::from_secs(60)).await;
    wait_until("the restart to catch up", Duration::from_secs(20), || {
        first_run + progress.lines.load(Relaxed) >= all.len() as u64
    })
    .await;
    drop(stop);
    let second_run = run.await.unwrap().unwrap();
    let shipped = first_run + second_run.lines;
    // At-least-once: what the kill left unsaved is sent again, at most a few batches.
    assert!(shipped >= all.len() as u64, "{shipped} < {}", all.len());
    assert!(
        shipped <= all.len() as u64 + 4 * 200,
        "{shipped} lines for {}: resumed far before the saved offset",
        all.len()
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_away_for_a_while_loses_nothing() {
    let store = memory_store();
    let server = TestServer::start(store.clone()).await;
    let addr = server.addr;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("collector-state.json");
    let source = rita_conn_lines(24..28);
    let live = dir.path().join("conn.log");
    append(&live, &source.header);
    append(&live, &source.lines[..500].concat());
    let collector = Collector::new(collector_config(&server.url(), dir.path(), &state)).unwrap();
    let progress = collector.progress();
    let (stop, run) = spawn_collector(collector);
    wait_for_uids(&store, &uids(&source.lines[..500]), Duration::from_secs(20)).await;

    server.stop().await;
    append(&live, &source.lines[500..].concat());
    wait_until(
        "retries while the server is down",
        Duration::from_secs(20),
        || progress.retries.load(Relaxed) >= 3,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(progress.lines.load(Relaxed), 500);

    let server = TestServer::start_at(addr, store.clone()).await;
    wait_for_uids(&store, &uids(&source.lines), Duration::from_secs(30)).await;
    drop(stop);
    let summary = run.await.unwrap().unwrap();
    assert_eq!(summary.lines, source.lines.len() as u64, "{summary}");
    assert_eq!(summary.errors, 0, "{summary}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_token_stops_with_a_clear_error() {
    let server = TestServer::start(memory_store()).await;
    let dir = tempfile::tempdir().unwrap();
    let source = rita_conn_lines(24..25);
    append(&dir.path().join("conn.log"), &source.header);
    append(&dir.path().join("conn.log"), &source.lines.concat());
    let mut config = collector_config(&server.url(), dir.path(), &dir.path().join("s.json"));
    config.token = "not-the-token".into();
    let (_stop, run) = spawn_collector(Collector::new(config).unwrap());
    let result = tokio::time::timeout(Duration::from_secs(20), run)
        .await
        .expect("stops by itself")
        .unwrap();
    let error = result.unwrap_err();
    assert!(matches!(error, CollectorError::Unauthorized(_)), "{error}");
    assert!(error.to_string().contains("token"), "{error}");
    assert!(stored_uids(&server.store()).await.is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_the_server_refuses_is_skipped_and_the_rest_goes_on() {
    let server = TestServer::start(memory_store()).await;
    let dir = tempfile::tempdir().unwrap();
    let source = rita_conn_lines(24..25);
    append(&dir.path().join("conn.log"), &source.header);
    append(&dir.path().join("conn.log"), &source.lines.concat());
    // Fields and types disagree: the server answers 400 for the whole body.
    let bad_header = source
        .header
        .replace("#types\tstring\ttime", "#types\ttime")
        .replace("#open\t", "#open\t1");
    append(&dir.path().join("http.log"), &bad_header);
    append(&dir.path().join("http.log"), &source.lines[..10].concat());
    let mut config = collector_config(&server.url(), dir.path(), &dir.path().join("s.json"));
    config.once = true;
    let summary = Collector::new(config.clone())
        .unwrap()
        .run(std::future::pending())
        .await
        .unwrap();
    assert_eq!(summary.lines, source.lines.len() as u64, "{summary}");
    assert!(summary.errors >= 1, "{summary}");
    assert_eq!(stored_uids(&server.store()).await, uids(&source.lines));
    // The refused batch was skipped for good: a second run has nothing left to send.
    let again = Collector::new(config)
        .unwrap()
        .run(std::future::pending())
        .await
        .unwrap();
    assert_eq!(
        (again.lines, again.batches, again.errors),
        (0, 0, 0),
        "{again}"
    );
    server.stop().await;
}
