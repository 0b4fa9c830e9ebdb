//! `GET /api/live` on one server over the in-memory store: the range first, then a change per
//! ingest of connections and a records event per ingest of anything else, only with a session,
//! and the stream ends when the server stops.

mod server_support;

use bytes::Bytes;
use server_support::*;
use std::time::Duration;
use wiredraw_net::client::ApiClient;
use wiredraw_net::server::live::{LiveEvent, LiveRecords};

const CONN_HEADER: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n\
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\thistory\n\
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tstring\n";

async fn next(events: &mut wiredraw_net::client::LiveEvents) -> LiveEvent {
    tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .expect("an event within 5 s")
        .expect("the stream is open")
        .expect("a readable event")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_hear_of_every_ingest_until_the_server_stops() {
    let server = TestServer::start(config(), memory_store()).await;
    let anonymous = ApiClient::new(&server.url).unwrap();
    let refused = anonymous.live().await.unwrap_err();
    assert_eq!(refused.status().map(|s| s.as_u16()), Some(401), "{refused}");
    let wrong = ApiClient::new(&server.url)
        .unwrap()
        .with_token("not-a-session")
        .unwrap();
    assert_eq!(
        wrong.live().await.unwrap_err().status().map(|s| s.as_u16()),
        Some(401)
    );
    let collector_only = server.collector();
    assert_eq!(
        collector_only
            .live()
            .await
            .unwrap_err()
            .status()
            .map(|s| s.as_u16()),
        Some(401)
    );

    let viewer = server.session().await;
    ingest(
        server.app.store(),
        vec![conn(
            "Cold",
            1_700_000_003.0,
            0.0,
            "10.0.0.9",
            "10.0.0.8",
            (5, 0),
        )],
    )
    .await;
    let mut events = viewer.live().await.unwrap();
    match next(&mut events).await {
        LiveEvent::Range(range) => {
            assert_eq!(range.first, Some(1_700_000_003.0));
            assert_eq!(range.bucket_secs, BUCKET);
        }
        other => panic!("the stream must open with the range, got {other:?}"),
    }

    // The server keeps this empty answer only until an ingest touches its bucket.
    let at = wiredraw_net::client::Span::At(1_700_000_105.0);
    assert!(viewer.graph(at).await.unwrap().edges.is_empty());
    assert!(viewer.graph(at).await.unwrap().edges.is_empty());

    let body = format!(
        "{CONN_HEADER}1700000105\tCa\t10.0.0.1\t50000\t10.0.0.2\t443\ttcp\tssl\t31\t100\t2000\tSF\tShADadFf\n\
         1700000041\tCb\t10.0.0.1\t50001\t10.0.0.3\t53\tudp\tdns\t-\t-\t-\tSF\tDd\n"
    );
    let answer = server
        .collector()
        .post_logs("conn", Bytes::from(body), true)
        .await
        .unwrap();
    assert_eq!((answer.accepted, answer.rejected), (2, 0));
    match next(&mut events).await {
        LiveEvent::Change(change) => {
            assert_eq!(change.log_type, "conn");
            assert_eq!(
                (change.first, change.last),
                (1_700_000_041.0, 1_700_000_136.0)
            );
            // Ca starts last; its 31 s run past it.
            assert_eq!(change.latest_start, Some(1_700_000_105.0));
            assert_eq!(
                change.buckets,
                [
                    1_700_000_040,
                    1_700_000_100,
                    1_700_000_110,
                    1_700_000_120,
                    1_700_000_130
                ]
            );
        }
        other => panic!("expected a change, got {other:?}"),
    }
    let edges: Vec<(String, String)> = viewer
        .graph(at)
        .await
        .unwrap()
        .edges
        .into_iter()
        .map(|e| (e.src, e.dst))
        .collect();
    assert_eq!(edges, [("10.0.0.1".to_string(), "10.0.0.2".to_string())]);
    // A second viewer opening now sees the grown range.
    let mut later = viewer.live().await.unwrap();
    match next(&mut later).await {
        LiveEvent::Range(range) => {
            assert_eq!(
                (range.first, range.last, range.latest_start),
                (
                    Some(1_700_000_003.0),
                    Some(1_700_000_136.0),
                    Some(1_700_000_105.0)
                )
            );
            assert_eq!(range.live_edge(), Some(1_700_000_105.0));
        }
        other => panic!("expected the range, got {other:?}"),
    }

    // Details alone make no connection visible: no graph changed, but what is known of the
    // connection and its hosts did, and when.
    let dns = "#separator \\x09\n#path\tdns\n#fields\tts\tuid\tquery\n#types\ttime\tstring\tstring\n1700000041\tCb\texample.org\n";
    let answer = server
        .collector()
        .post_logs("dns", Bytes::from(dns), false)
        .await
        .unwrap();
    assert_eq!(answer.accepted, 1, "{answer:?}");
    let stored = LiveRecords {
        log_type: "dns".into(),
        first: 1_700_000_041.0,
        last: 1_700_000_041.0,
    };
    assert_eq!(next(&mut events).await, LiveEvent::Records(stored));
    // Notices that name hosts and no connection, two of them, one with a time it cannot have.
    let notices = "#separator \\x09\n#path\tnotice\n#fields\tts\tnote\tsrc\n#types\ttime\tstring\taddr\n\
        1700000093.25\tScan::Port_Scan\t10.0.0.1\n1700000118.5\tSSH::Password_Guessing\t10.0.0.1\n\
        200000000000\tScan::Port_Scan\t10.0.0.1\n";
    let answer = server
        .collector()
        .post_logs("notice", Bytes::from(notices), false)
        .await
        .unwrap();
    assert_eq!((answer.accepted, answer.rejected), (2, 1), "{answer:?}");
    let stored = LiveRecords {
        log_type: "notice".into(),
        first: 1_700_000_093.25,
        last: 1_700_000_118.5,
    };
    assert_eq!(next(&mut events).await, LiveEvent::Records(stored.clone()));
    // The viewer that opened later heard of both too.
    assert!(matches!(next(&mut later).await, LiveEvent::Records(dns) if dns.log_type == "dns"));
    assert_eq!(next(&mut later).await, LiveEvent::Records(stored));

    // Query parameters are refused like on every other route.
    let raw = viewer.http().get_bytes("/api/live?t=1").await.unwrap_err();
    assert_eq!(raw.status().map(|s| s.as_u16()), Some(400));

    let stopping = tokio::spawn(server.stop());
    for stream in [&mut events, &mut later] {
        let end = tokio::time::timeout(Duration::from_secs(10), stream.recv())
            .await
            .expect("the stream ends when the server stops");
        assert!(end.is_none(), "{end:?}");
    }
    stopping.await.unwrap();
}
