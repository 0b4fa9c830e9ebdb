//! Starting and stopping: config files, graceful shutdown that finishes in-flight ingests,
//! request time limits.

mod server_support;

use server_support::*;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiredraw_net::server::{App, Config, ServerError};

const HEADER: &str = "#separator \\x09\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n#types\ttime\tstring\taddr\tport\taddr\tport\tenum\n";

fn body(records: usize) -> String {
    let mut body = HEADER.to_string();
    for i in 0..records {
        body += &format!(
            "{}\tC{i}\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\n",
            1_700_000_000 + i
        );
    }
    body
}

/// Sends the request head and the first part of the body on a raw socket.
async fn start_request(url: &str, body: &[u8], sent: usize) -> tokio::net::TcpStream {
    let mut stream = tokio::net::TcpStream::connect(url.trim_start_matches("http://"))
        .await
        .unwrap();
    let head = format!(
        "POST /logs/conn HTTP/1.1\r\nhost: test\r\nauthorization: Bearer {COLLECTOR_TOKEN}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body[..sent]).await.unwrap();
    stream
}

async fn read_answer(mut stream: tokio::net::TcpStream) -> String {
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_an_in_flight_ingest() {
    let store = memory_store();
    let mut server = TestServer::start(config(), store.clone()).await;
    let url = server.url.clone();
    let body = body(500);
    let mut stream = start_request(&url, body.as_bytes(), body.len() / 2).await;
    tokio::time::sleep(Duration::from_millis(100)).await;

    server.begin_stop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // New connections are refused once shutdown began…
    assert!(
        tokio::net::TcpStream::connect(url.trim_start_matches("http://"))
            .await
            .is_err()
    );
    // …but the request already under way completes and is stored.
    stream
        .write_all(&body.as_bytes()[body.len() / 2..])
        .await
        .unwrap();
    let answer = read_answer(stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"accepted\":500"), "{answer}");
    server.finished().await;
    assert_eq!(all_connections(&store).await.len(), 500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_stalls_past_the_time_limit_gets_503_and_stores_nothing() {
    let store = memory_store();
    let mut config = config();
    config.limits.request_timeout = Duration::from_secs(1);
    let server = TestServer::start(config, store.clone()).await;
    let body = body(10);
    let stream = start_request(&server.url, body.as_bytes(), 40).await;
    let answer = tokio::time::timeout(Duration::from_secs(10), read_answer(stream))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("longer than 1 s"), "{answer}");
    assert!(all_connections(&store).await.is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handle_answers_without_a_socket() {
    use http_body_util::{BodyExt, Full};
    let app = App::new(config(), memory_store()).unwrap();
    let request = hyper::Request::builder()
        .method("POST")
        .uri("/logs/conn")
        .header("authorization", format!("Bearer {COLLECTOR_TOKEN}"))
        .body(Full::new(bytes::Bytes::from(body(3))))
        .unwrap();
    let response = app.handle(request).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    let answer: serde_json::Value =
        serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(answer["accepted"], 3);
    assert_eq!(all_connections(app.store()).await.len(), 3);
}

#[test]
fn config_files_are_checked_and_errors_name_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let missing = Config::load(&dir.path().join("absent.toml"))
        .unwrap_err()
        .to_string();
    assert!(missing.contains("absent.toml"), "{missing}");

    let path = dir.path().join("wiredraw.toml");
    for (text, field) in [
        ("listen = \"127.0.0.1\"", "listen"),
        ("store = \"mysql://x\"", "store"),
        ("bucket_secs = -1", "bucket_secs"),
        ("[limits]\nmax_body_bytes = 0", "limits.max_body_bytes"),
        (
            "[[users]]\nname = \"a\"\npassword_hash = \"secret\"",
            "users[0].password_hash",
        ),
        (
            "[[collectors]]\nname = \"c\"\ntoken_sha256 = \"xyz\"",
            "collectors[0].token_sha256",
        ),
        ("colour = \"red\"", "colour"),
    ] {
        std::fs::write(&path, text).unwrap();
        let error = Config::load(&path).unwrap_err().to_string();
        assert!(
            error.contains(field) && error.contains("wiredraw.toml"),
            "{text:?}: {error}"
        );
    }

    // The sample config at the repository root is valid.
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../wiredraw.example.toml");
    let config = Config::load(&sample).unwrap();
    assert!(config.listen.ip().is_loopback());

    // A missing inventory file is an error naming it; a bucket width the store disagrees with too.
    std::fs::write(&path, "inventory = \"hosts.csv\"").unwrap();
    let config = Config::load(&path).unwrap();
    let error = App::new(config, memory_store()).unwrap_err();
    assert!(
        matches!(error, ServerError::Inventory(_)) && error.to_string().contains("hosts.csv"),
        "{error}"
    );
    let config = Config {
        bucket_secs: 60,
        ..Config::default()
    };
    assert!(matches!(
        App::new(config, memory_store()),
        Err(ServerError::BucketMismatch { .. })
    ));
}
