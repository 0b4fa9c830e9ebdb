//! Replay of rita history against the real server: exactly the asked window, in order, at the
//! asked pace.

mod collector_support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use collector_support::*;
use wiredraw_net::collector::timestamp::parse_time;
use wiredraw_net::collector::{ReplayConfig, Replayer, Speed};

/// Records of every log in the set with `from <= ts < to`: their count, and the conn uids.
fn source_window(from: f64, to: f64) -> (u64, BTreeSet<String>) {
    let mut count = 0;
    let mut conn_uids = BTreeSet::new();
    for day in ["2024-04-19", "2024-04-20", "2024-04-21"] {
        for entry in std::fs::read_dir(rita_dir().join(day)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            if name.starts_with("conn-summary") {
                continue;
            }
            let log = read_zeek(&path);
            let fields = log
                .header
                .lines()
                .find_map(|l| l.strip_prefix("#fields\t"))
                .unwrap();
            let ts_column = fields.split('\t').position(|f| f == "ts").unwrap();
            for line in &log.lines {
                let columns: Vec<&str> = line.trim_end().split('\t').collect();
                let Ok(ts) = columns[ts_column].parse::<f64>() else {
                    continue;
                };
                if ts >= from && ts < to {
                    count += 1;
                    if name.starts_with("conn.") {
                        conn_uids.insert(columns[ts_column + 1].to_owned());
                    }
                }
            }
        }
    }
    (count, conn_uids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replays_exactly_the_window_in_order_at_the_asked_pace() {
    let server = TestServer::start(memory_store()).await;
    let mut changes = server.app.subscribe_changes();
    let from = parse_time("2024-04-20T10:00:00Z").unwrap();
    let to = from + 1800.0;
    let speed = 900.0;
    let mut config = ReplayConfig::new(server.url(), TOKEN, rita_dir(), Speed::Factor(speed));
    config.time_from = Some(from);
    config.time_to = Some(to);
    let started = Instant::now();
    let summary = Replayer::new(config)
        .unwrap()
        .run(std::future::pending())
        .await
        .unwrap();
    let elapsed = started.elapsed().as_secs_f64();

    let (count, conn_uids) = source_window(from, to);
    assert!(count > 300 && conn_uids.len() > 100, "{count} records");
    assert_eq!(summary.records, count, "{summary}");
    assert_eq!(summary.errors, 0, "{summary}");
    assert!(summary.outside_window > 0, "{summary}");
    assert_eq!(stored_uids(&server.store()).await, conn_uids);

    // Pace: the last record is due (last - from) / speed after the start; reading the start
    // of every file before the clock starts and posting the last tick add a little.
    let last = summary.last_ts.unwrap();
    assert!(
        last < to && summary.first_ts.unwrap() >= from,
        "{summary:?}"
    );
    let due = (last - from) / speed;
    assert!(due > 1.5, "{due}");
    assert!(
        elapsed >= due - 0.1 && elapsed <= due + 2.0,
        "took {elapsed:.2} s, the last record was due at {due:.2} s"
    );

    // Order: conn ingests reach the server in timestamp order, to within one tick of log time,
    // except for records Zeek wrote later than the reorder window could fix.
    let mut firsts = Vec::new();
    while let Ok(change) = changes.try_recv() {
        if change.log_type == "conn" {
            firsts.push(change.first);
        }
    }
    assert!(firsts.len() > 10, "{} conn ingests", firsts.len());
    let tick_of_log_time = 0.1 * speed;
    let backwards = firsts
        .windows(2)
        .filter(|w| w[1] < w[0] - tick_of_log_time)
        .count() as u64;
    assert!(
        backwards <= summary.late,
        "{backwards} ingests went back in time, {} records were late",
        summary.late
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_at_max_speed_sends_the_window_and_nothing_else() {
    let server = TestServer::start(memory_store()).await;
    let from = parse_time("2024-04-19T22:30:00Z").unwrap();
    let to = parse_time("2024-04-20T01:15:00+00:00").unwrap();
    let mut config = ReplayConfig::new(server.url(), TOKEN, rita_dir(), Speed::Max);
    config.time_from = Some(from);
    config.time_to = Some(to);
    config.batch_lines = 300;
    let summary = tokio::time::timeout(
        Duration::from_secs(120),
        Replayer::new(config).unwrap().run(std::future::pending()),
    )
    .await
    .expect("finishes")
    .unwrap();
    let (count, conn_uids) = source_window(from, to);
    assert_eq!(summary.records, count, "{summary}");
    assert!(summary.batches > count / 300, "{summary}");
    assert_eq!(stored_uids(&server.store()).await, conn_uids);
    server.stop().await;
}

#[test]
fn speeds_and_windows_are_checked() {
    assert_eq!("max".parse::<Speed>().unwrap(), Speed::Max);
    assert_eq!("60".parse::<Speed>().unwrap(), Speed::Factor(60.0));
    assert!("0".parse::<Speed>().is_err() && "fast".parse::<Speed>().is_err());
    let mut config = ReplayConfig::new("http://127.0.0.1:1", TOKEN, rita_dir(), Speed::Max);
    config.time_from = Some(10.0);
    config.time_to = Some(10.0);
    assert!(
        Replayer::new(config)
            .err()
            .unwrap()
            .to_string()
            .contains("empty")
    );
}
