//! wiredraw-net: server, collector, client and stores.
//!
//! - [`server`]: [`server::App`], the whole HTTP server as a value: collectors post raw Zeek
//!   lines to `/logs/<type>`, UI users log in and ask for the graph at a time, node and edge
//!   details, a histogram, a DOT export and a live stream of changes.
//! - [`store`]: where connections live, in time buckets: [`store::MemoryStore`] in the
//!   process, [`store::RedisStore`] on Redis or a Redis Cluster shared by several servers.
//! - [`collector`]: follows Zeek's log files, ships their lines in batches and keeps its
//!   offsets; or replays old logs with their original timing.
//! - [`client`]: the typed client of the query API, as the viewer uses it.
//!
//! The server answers requests without a socket too, which is how its tests and this example
//! drive it: a collector posts a conn log, and the store holds the connection.
//!
//! ```
//! use bytes::Bytes;
//! use http_body_util::Full;
//! use std::sync::Arc;
//! use wiredraw_net::server::config::CollectorEntry;
//! use wiredraw_net::server::{App, Config, auth};
//! use wiredraw_net::store::{MemoryStore, Store, Window};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! // The server keeps only the SHA-256 of a collector's token.
//! let token = auth::new_token();
//! let sensor = CollectorEntry {
//!     name: "sensor-1".into(),
//!     token_sha256: auth::token_sha256(&token),
//! };
//! let config = Config { collectors: vec![sensor], ..Config::default() };
//! let store = Arc::new(MemoryStore::new(config.bucket_secs).unwrap());
//! let app = App::new(config, store.clone()).unwrap();
//!
//! let conn_log = "#separator \\x09\n\
//!     #path\tconn\n\
//!     #fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\torig_bytes\n\
//!     #types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\n\
//!     1713484800.5\tC1\t10.0.0.5\t51234\t10.0.0.9\t443\ttcp\t420\n\
//!     1713484801.0\tC2\t10.0.0.5\tnot-a-port\t10.0.0.9\t443\ttcp\t7\n";
//! let request = hyper::Request::post("/logs/conn")
//!     .header("authorization", format!("Bearer {token}"))
//!     .body(Full::new(Bytes::from(conn_log)))
//!     .unwrap();
//! let response = app.handle(request).await;
//! assert_eq!(response.status(), 200); // the good line is stored, the bad one reported
//!
//! let graph = store.graph(Window::At(1713484800.5)).await.unwrap();
//! let edge = graph.edge("10.0.0.5", "10.0.0.9").unwrap();
//! assert_eq!((edge.conns, edge.bytes), (1, 420));
//! # });
//! ```

pub mod api;
pub mod client;
pub mod collector;
pub mod http_client;
pub mod server;
pub mod store;
pub mod testkit;
