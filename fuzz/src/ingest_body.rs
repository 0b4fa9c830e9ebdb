//! What the `ingest_body` fuzz target checks, shared with the normal test suite.
//!
//! `fuzz_targets/ingest_body.rs` calls [`ingest_body`] with libFuzzer's inputs and
//! `wiredraw-net/tests/fuzz_ingest.rs` includes this same file to replay the inputs it once
//! failed on, so CI runs them without nightly.
//!
//! The input's first byte picks the route and whether the body goes gzip-compressed; the rest
//! is the body of a collector's `POST /logs/<type>` through the real [`App::handle`] on an
//! in-memory store. The answer must be a 2xx with per-line counts that fit the body, or a 4xx
//! with `{"error": …}` that left the store as it was. Panics and 5xx answers are bugs.
//!
//! One server serves every input: building one hashes a dummy password with argon2, which
//! would cost more than the ingest itself.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use std::io::Write;
use std::sync::{Arc, OnceLock};
use wiredraw_net::server::config::CollectorEntry;
use wiredraw_net::server::{App, Config, auth};
use wiredraw_net::store::{MemoryStore, Store};

/// Built-in log types with their own rules, and one the generic fallback takes.
pub const ROUTES: &[&str] = &[
    "conn", "dns", "http", "ssl", "files", "ssh", "weird", "notice", "x509", "mystery",
];

const COLLECTOR_TOKEN: &str = "fuzz-collector-token-0123456789abcdef0123456789abcdef";
const BUCKET_SECS: u64 = 10;

fn config() -> Config {
    Config {
        bucket_secs: BUCKET_SECS,
        collectors: vec![CollectorEntry {
            name: "fuzz".into(),
            token_sha256: auth::token_sha256(COLLECTOR_TOKEN),
        }],
        ..Config::default()
    }
}

/// The runtime and the server every input goes through.
fn server() -> &'static (tokio::runtime::Runtime, App) {
    static SERVER: OnceLock<(tokio::runtime::Runtime, App)> = OnceLock::new();
    SERVER.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime");
        let store: Arc<dyn Store> =
            Arc::new(MemoryStore::new(BUCKET_SECS).expect("a memory store"));
        let app = App::new(config(), store).expect("the server builds");
        (runtime, app)
    })
}

/// Posts `data[1..]` to the route `data[0]` picks and checks the answer (see the module doc).
pub fn ingest_body(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let route = ROUTES[usize::from(selector) % ROUTES.len()];
    let compress = selector & 0x80 != 0;
    let lines = body.split(|&b| b == b'\n').count() as u64;
    let body = if compress {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(body).expect("writing to memory");
        gz.finish().expect("writing to memory")
    } else {
        body.to_vec()
    };
    let (runtime, app) = server();
    runtime.block_on(async {
        let store = app.store();
        let before = store.range().await.expect("the memory store answers");
        let mut request = hyper::Request::builder()
            .method("POST")
            .uri(format!("/logs/{route}"))
            .header("authorization", format!("Bearer {COLLECTOR_TOKEN}"));
        if compress {
            request = request.header("content-encoding", "gzip");
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .expect("a valid request");
        let response = app.handle(request).await;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("an in-memory answer")
            .to_bytes();
        let answer: serde_json::Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{status} answer is not JSON ({e}): {bytes:?}"));
        match status {
            200..=299 => {
                let count = |key: &str| {
                    answer[key]
                        .as_u64()
                        .unwrap_or_else(|| panic!("no {key}: {answer}"))
                };
                let (accepted, rejected) = (count("accepted"), count("rejected"));
                assert!(accepted + rejected <= lines, "{answer} from {lines} lines");
                let errors = answer["errors"].as_array().expect("an errors list");
                assert!(errors.len() as u64 <= rejected.min(100), "{answer}");
                for error in errors {
                    let line = error["line"].as_u64().expect("an error names its line");
                    assert!((1..=lines).contains(&line), "{answer}");
                    assert!(error["reason"].is_string(), "{answer}");
                }
            }
            400..=499 => {
                assert!(answer["error"].is_string(), "{answer}");
                assert_eq!(
                    store.range().await.expect("the memory store answers"),
                    before,
                    "a refused body changed the store: {answer}"
                );
            }
            _ => panic!("{status}: {answer}"),
        }
    });
}
