//! Every query route of the real server over loopback, on the memory store and on Redis.

mod server_support;

use server_support::*;
use std::net::IpAddr;
use std::sync::Arc;
use wiredraw_core::{Contribution, Detail, HostAnnotation, Record, Schema, Value};
use wiredraw_net::client::Span;
use wiredraw_net::http_client::HttpError;
use wiredraw_net::server::Inventory;
use wiredraw_net::store::{RedisConfig, RedisStore, Store};
use wiredraw_net::testkit::RedisServer;

const T0: f64 = 1_700_000_000.0;

/// Three hosts: .1 talks to .2 twice (one conn with an http record), .2 to .3 once later.
async fn load(store: &Arc<dyn Store>) {
    ingest(
        store,
        vec![
            conn("C1", T0 + 1.0, 2.0, "10.0.0.1", "10.0.0.2", (100, 1000)),
            conn("C2", T0 + 3.0, 1.0, "10.0.0.1", "10.0.0.2", (10, 20)),
            conn("C3", T0 + 25.0, 0.5, "10.0.0.2", "10.0.0.3", (5, 5)),
        ],
    )
    .await;
    let schema = Arc::new(Schema {
        path: "http".into(),
        names: vec!["ts".into(), "uid".into(), "host".into(), "uri".into()],
        types: vec![
            wiredraw_core::FieldType::Time,
            wiredraw_core::FieldType::String,
            wiredraw_core::FieldType::String,
            wiredraw_core::FieldType::String,
        ],
    });
    let dns_schema = Arc::new(Schema {
        path: "dns".into(),
        names: vec!["ts".into(), "uid".into(), "query".into(), "qtype".into()],
        types: vec![
            wiredraw_core::FieldType::Time,
            wiredraw_core::FieldType::String,
            wiredraw_core::FieldType::String,
            wiredraw_core::FieldType::Count,
        ],
    });
    let batch = Contribution {
        details: vec![
            Detail {
                uid: "C1".into(),
                log_type: "http".into(),
                record: Record {
                    schema,
                    values: vec![
                        Value::Time(T0 + 1.5),
                        Value::String("C1".into()),
                        Value::String("www.example.org".into()),
                        Value::String("/index.html".into()),
                    ],
                    line: 9,
                },
            },
            Detail {
                uid: "C1".into(),
                log_type: "dns".into(),
                record: Record {
                    schema: dns_schema,
                    values: vec![
                        Value::Time(T0 + 1.2),
                        Value::String("C1".into()),
                        Value::String("www.example.org".into()),
                        Value::Count(1),
                    ],
                    line: 3,
                },
            },
        ],
        annotations: vec![HostAnnotation {
            addr: "10.0.0.2".parse().unwrap(),
            name: "www.example.org".into(),
            ts: T0 + 1.2,
        }],
        ..Default::default()
    };
    store.ingest(&batch).await.unwrap();
}

/// Posts one notice line with these `#fields` and `#types` (tab-separated), as a sensor would.
async fn post_notice(server: &TestServer, fields: &str, types: &str, line: &str) {
    let body =
        format!("#separator \\x09\n#path\tnotice\n#fields\t{fields}\n#types\t{types}\n{line}\n");
    let posted = server
        .collector()
        .post_logs("notice", bytes::Bytes::from(body), false)
        .await
        .unwrap();
    assert_eq!(posted.accepted, 1, "{posted:?}");
}

fn inventory() -> Inventory {
    Inventory::from_csv(
        "10.0.0.0/24,lab,Test lab,#00ff00\n10.0.0.2,web server,DMZ,#ff0000\n",
        "inventory.csv",
    )
    .unwrap()
}

async fn every_route_answers(store: Arc<dyn Store>) {
    let server = TestServer::start_with(config(), store.clone(), inventory()).await;
    let client = server.session().await;

    let range = client.range().await.unwrap();
    assert_eq!(
        (range.first, range.last, range.bucket_secs),
        (None, None, BUCKET)
    );
    load(&store).await;
    let range = client.range().await.unwrap();
    assert_eq!(range.first, Some(T0 + 1.0));
    assert_eq!(range.last, Some(T0 + 25.5));

    // The first bucket holds C1 and C2.
    let graph = client.graph(Span::At(T0 + 5.0)).await.unwrap();
    assert_eq!((graph.from, graph.to), (Some(T0), Some(T0 + 10.0)));
    let ids: Vec<&str> = graph.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["10.0.0.1", "10.0.0.2"]);
    assert_eq!((graph.nodes[0].conns, graph.nodes[0].bytes), (2, 1130));
    assert_eq!(graph.nodes[0].name.as_deref(), Some("lab"));
    assert_eq!(graph.nodes[1].name.as_deref(), Some("web server"));
    assert_eq!(graph.nodes[1].color.as_deref(), Some("#ff0000"));
    assert_eq!(graph.edges.len(), 1);
    assert_eq!((graph.edges[0].conns, graph.edges[0].bytes), (2, 1130));
    assert!(graph.edges[0].services.contains("http"));
    assert_eq!(graph.to_graph().nodes.len(), 2);

    let whole = client
        .graph(Span::Between {
            from: T0,
            to: T0 + 30.0,
        })
        .await
        .unwrap();
    assert_eq!(whole.nodes.len(), 3);
    assert_eq!(whole.edges.len(), 2);

    let connections = client
        .connections(Span::Between {
            from: T0,
            to: T0 + 30.0,
        })
        .await
        .unwrap();
    let uids: Vec<&str> = connections
        .connections
        .iter()
        .map(|c| c.uid.as_str())
        .collect();
    assert_eq!(uids, ["C1", "C2", "C3"]);

    let node = client
        .node(
            "10.0.0.2".parse().unwrap(),
            Span::Between {
                from: T0,
                to: T0 + 30.0,
            },
        )
        .await
        .unwrap();
    assert_eq!((node.conns_as_orig, node.conns_as_resp), (1, 2));
    assert_eq!(node.bytes, 1140);
    // C1 and C2 came to its port 80; C3 it started itself.
    assert_eq!(node.ports_total, 1);
    assert_eq!(
        node.ports,
        [wiredraw_net::api::PortUse {
            proto: "tcp".into(),
            port: 80,
            services: vec!["http".into()],
            conns: 2,
            bytes: 1130,
        }]
    );
    assert_eq!(node.ports_contacted_total, 1);
    assert_eq!(
        (node.ports_contacted[0].port, node.ports_contacted[0].conns),
        (80, 1)
    );
    assert_eq!(node.dns_names[0].name, "www.example.org");
    assert_eq!(
        (node.name.as_deref(), node.group.as_deref()),
        (Some("web server"), Some("DMZ"))
    );
    assert_eq!(node.peers[0].addr, "10.0.0.1");

    let edge = client
        .edge(
            "10.0.0.1".parse().unwrap(),
            "10.0.0.2".parse().unwrap(),
            Span::At(T0 + 1.0),
        )
        .await
        .unwrap();
    assert_eq!(edge.connections.len(), 2);
    let c1 = &edge.connections[0];
    assert_eq!(c1.connection.uid, "C1");
    assert_eq!(c1.history_decoded.len(), "ShADadFf".len());
    assert_eq!(c1.details["http"][0]["uri"], "/index.html");
    // In the log's column order, not sorted by name: the viewer shows fields as Zeek wrote them.
    let http_fields: Vec<&str> = c1.details["http"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(http_fields, ["ts", "uid", "host", "uri"]);
    assert_eq!(c1.details["dns"][0]["query"], "www.example.org");
    assert_eq!(
        edge.detail_types().into_iter().collect::<Vec<_>>(),
        ["dns", "http"]
    );
    assert!(edge.connections[1].details.is_empty());

    let one = client.connection("C1").await.unwrap();
    assert_eq!(one, *c1);
    let missing = client.connection("Cnope").await.unwrap_err();
    assert_eq!(missing.status().map(|s| s.as_u16()), Some(404), "{missing}");

    let histogram = client.histogram(T0, T0 + 30.0, 3).await.unwrap();
    let counts: Vec<(u64, u64)> = histogram.bins.iter().map(|b| (b.conns, b.bytes)).collect();
    assert_eq!(counts, [(2, 1130), (0, 0), (1, 10)]);

    // A notice naming 10.0.0.1, posted as a sensor would.
    post_notice(
        &server,
        "ts\tnote\tsrc",
        "time\tstring\taddr",
        &format!("{}\tScan::Port_Scan\t10.0.0.1", T0 + 3.0),
    )
    .await;
    let notices = client.host_records(T0, T0 + 30.0, 10).await.unwrap();
    assert_eq!(notices.total, 1);
    assert_eq!(
        notices.records[0].hosts,
        ["10.0.0.1".parse::<IpAddr>().unwrap()]
    );

    let dot = client
        .graph_dot(Span::Between {
            from: T0,
            to: T0 + 30.0,
        })
        .await
        .unwrap();
    // The host it names is outlined, with the notice in its label; no other host is.
    assert_eq!(dot.matches("color=\"#ff5640\"").count(), 1, "{dot}");
    assert!(
        dot.contains("\\n⚠ Scan::Port_Scan\", color=\"#ff5640\""),
        "{dot}"
    );
    assert!(dot.starts_with("digraph wiredraw {"), "{dot}");
    assert!(
        dot.contains("label=\"2023-11-14 22:13:20 to 2023-11-14 22:13:50 UTC\""),
        "the window in readable UTC: {dot}"
    );
    assert!(dot.contains("\"10.0.0.1\" -> \"10.0.0.2\""), "{dot}");
    assert!(dot.contains("10.0.0.2\\nweb server"), "{dot}");
    assert!(dot.contains("fillcolor=\"#ff0000\""), "{dot}");

    assert_eq!(client.health().await.unwrap().status, "ok");
    let (status, metrics) = raw(&server.url, "GET", "/metrics", None, &[], vec![]).await;
    assert_eq!(status, 200);
    let metrics = metrics.as_str().unwrap().to_string();
    assert!(
        metrics.contains("wiredraw_http_requests_total{route=\"graph\",status=\"200\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("wiredraw_store_operation_duration_seconds_count{operation=\"graph\"}")
    );

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_on_the_memory_store() {
    every_route_answers(memory_store()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_on_redis() {
    let redis = RedisServer::start().unwrap();
    every_route_answers(redis_store(&redis)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hidden_dns_names_appear_in_no_answer() {
    let store = memory_store();
    load(&store).await;
    let mut config = config();
    config.hide_dns_names = true;
    let server = TestServer::start(config, store).await;
    let client = server.session().await;
    let window = Span::Between {
        from: T0,
        to: T0 + 30.0,
    };
    // A notice whose message and certificate subject name the host.
    post_notice(
        &server,
        "ts\tnote\tmsg\tsub\tsrc",
        "time\tstring\tstring\tstring\taddr",
        &format!(
            "{}\tSSL::Invalid_Server_Cert\tvalidation failed for www.example.org\t\
             CN=www.example.org\t10.0.0.2",
            T0 + 2.0
        ),
    )
    .await;
    for path in [
        format!("/api/host-records?from={T0}&to={}", T0 + 30.0),
        format!("/api/graph?from={T0}&to={}", T0 + 30.0),
        format!("/api/node/10.0.0.2?from={T0}&to={}", T0 + 30.0),
        format!(
            "/api/edge?src=10.0.0.1&dst=10.0.0.2&from={T0}&to={}",
            T0 + 30.0
        ),
        format!("/api/connections?from={T0}&to={}", T0 + 30.0),
        "/api/connection/C1".to_string(),
        format!("/api/graph.dot?from={T0}&to={}", T0 + 30.0),
    ] {
        let body = client.http().get_bytes(&path).await.unwrap();
        let text = String::from_utf8_lossy(&body);
        assert!(
            !text.contains("example.org"),
            "{path} shows a DNS name: {text}"
        );
    }
    let node = client
        .node("10.0.0.2".parse().unwrap(), window)
        .await
        .unwrap();
    assert!(node.dns_names.is_empty());
    let edge = client
        .edge(
            "10.0.0.1".parse().unwrap(),
            "10.0.0.2".parse().unwrap(),
            window,
        )
        .await
        .unwrap();
    assert_eq!(edge.connections[0].details["dns"][0]["qtype"], 1);
    // The notice is still there, without its free text.
    assert_eq!(node.records[0].record["note"], "SSL::Invalid_Server_Cert");
    let notices = client.host_records(T0, T0 + 30.0, 10).await.unwrap();
    assert_eq!(notices.records[0].record["src"], "10.0.0.2");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_the_right_status_and_an_error_body() {
    let server = TestServer::start(config(), memory_store()).await;
    let client = server.session().await;
    let token = {
        let mut c = wiredraw_net::client::ApiClient::new(&server.url).unwrap();
        c.login(USER, PASSWORD).await.unwrap().token
    };
    let cases: &[(&str, &str, u16)] = &[
        ("GET", "/api/graph", 400),
        ("GET", "/api/graph?t=abc", 400),
        ("GET", "/api/graph?t=1&from=1&to=2", 400),
        ("GET", "/api/graph?from=20&to=10", 400),
        ("GET", "/api/graph?from=0&to=99999999999", 400),
        ("GET", "/api/graph?t=-5", 400),
        ("GET", "/api/graph?x=1", 400),
        ("GET", "/api/node/not-an-address?t=1", 400),
        ("GET", "/api/edge?src=10.0.0.1&t=1", 400),
        ("GET", "/api/histogram?from=0&to=10", 400),
        ("GET", "/api/histogram?from=0&to=10&bins=0", 400),
        ("GET", "/api/histogram?from=0&to=10&bins=many", 400),
        ("GET", "/api/host-records?from=0", 400),
        ("GET", "/api/host-records?from=10&to=0", 400),
        ("GET", "/api/host-records?from=0&to=10&limit=-1", 400),
        ("GET", "/api/host-records?from=0&to=10&limit=1001", 400),
        ("GET", "/api/host-records?from=0&to=10&bins=3", 400),
        ("GET", "/api/nothing", 404),
        ("GET", "/", 404),
        ("GET", "/api/connection/unknown-uid", 404),
        ("POST", "/api/graph?t=1", 405),
        ("GET", "/api/login", 405),
        ("DELETE", "/logs/conn", 405),
        ("PUT", "/healthz", 405),
    ];
    for (method, path, expected) in cases {
        let (status, body) = raw(&server.url, method, path, Some(&token), &[], vec![]).await;
        assert_eq!(status, *expected, "{method} {path}: {body}");
        assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{method} {path}: {body}"
        );
    }
    // The typed client reports the same as HttpError::Status with the server's message.
    let error = client
        .graph(Span::Between {
            from: 20.0,
            to: 10.0,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&error, HttpError::Status { status, message, .. } if status.as_u16() == 400 && message.contains("before")),
        "{error}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_is_down_answers_503() {
    let redis_server = RedisServer::start().unwrap();
    let mut redis = RedisConfig::new(redis_server.url());
    redis.bucket_secs = BUCKET;
    redis.timeout = std::time::Duration::from_millis(500);
    let server = TestServer::start(config(), Arc::new(RedisStore::open(redis).unwrap())).await;
    let client = server.session().await;
    // Sessions live in the store too, so from here on every route needs the dead store.
    drop(redis_server);
    let mut late = wiredraw_net::client::ApiClient::new(&server.url).unwrap();
    let refused_login = late.login(USER, PASSWORD).await.unwrap_err();
    for error in [
        refused_login,
        client.range().await.unwrap_err(),
        client.health().await.unwrap_err(),
    ] {
        assert_eq!(error.status().map(|s| s.as_u16()), Some(503), "{error}");
        assert!(error.is_retryable());
    }
    server.stop().await;
}
