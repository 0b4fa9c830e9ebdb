//! The wiredraw HTTP server: collector ingest, UI login and graph queries over one [`Store`].
//!
//! [`App`] is the whole server as a value, built from a [`Config`] and a store. It answers one
//! request at a time through [`App::handle`] (tests drive every route that way, no socket
//! needed), implements hyper's [`Service`], and [`App::serve`] runs it on a listener with
//! connection limits and graceful shutdown.
//!
//! ```no_run
//! use std::sync::Arc;
//! use wiredraw_net::server::{App, Config, shutdown_signal};
//! use wiredraw_net::store::MemoryStore;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::default();
//! let store = Arc::new(MemoryStore::new(config.bucket_secs)?);
//! let app = App::new(config.clone(), store)?;
//! let listener = tokio::net::TcpListener::bind(config.listen).await?;
//! app.serve(listener, shutdown_signal()).await?;
//! # Ok(()) }
//! ```
//!
//! Routes (every error is `{"error": "…"}`):
//!
//! | route | auth | answer |
//! |---|---|---|
//! | `POST /logs/{type}` | collector token | [`IngestResponse`](crate::api::IngestResponse) |
//! | `POST /api/login` | none (rate-limited) | [`LoginResponse`](crate::api::LoginResponse) |
//! | `POST /api/logout` | session | `{"status": "logged out"}` |
//! | `GET /api/range` | session | [`RangeResponse`](crate::api::RangeResponse) |
//! | `GET /api/graph?t=…` or `?from=…&to=…` | session | [`GraphResponse`](crate::api::GraphResponse) |
//! | `GET /api/graph.dot?…` | session | Graphviz DOT text |
//! | `GET /api/connections?…` | session | [`ConnectionsResponse`](crate::api::ConnectionsResponse) |
//! | `GET /api/connection/{uid}` | session | [`EdgeConnection`](crate::api::EdgeConnection) |
//! | `GET /api/node/{addr}?…` | session | [`NodeResponse`](crate::api::NodeResponse) |
//! | `GET /api/edge?src=…&dst=…&…` | session | [`EdgeResponse`](crate::api::EdgeResponse) |
//! | `GET /api/histogram?from=…&to=…&bins=…` | session | [`HistogramResponse`](crate::api::HistogramResponse) |
//! | `GET /api/live` | session | server-sent events: range, change, resync ([`live`]) |
//! | `GET /healthz` | none | `{"status": "ok"}`, 503 when the store is down |
//! | `GET /metrics` | none | Prometheus / OpenMetrics text |

pub mod auth;
pub mod config;
pub mod dot;
mod graph_cache;
mod ingest;
pub mod inventory;
pub mod live;
pub mod metrics;
mod query;
mod routes;
mod sessions;

pub use self::auth::Auth;
pub use self::config::{Config, ConfigError, Limits, StoreSpec};
pub use self::inventory::{HostLabel, Inventory, InventoryError};
pub use self::metrics::Metrics;

use crate::api::ErrorBody;
use crate::store::{Store, StoreError};
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use hyper::service::Service;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, broadcast};
use tracing::Instrument;
use wiredraw_core::plugin::Registry;

/// Body of every answer. Boxed so a streaming route (server-sent events) can share the type.
pub type ResponseBody = BoxBody<Bytes, Infallible>;

/// The error type request bodies may fail with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long a freshly opened connection may take to send its request headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Change notifications buffered per subscriber before the slowest one starts missing some.
const CHANGE_CHANNEL_CAPACITY: usize = 1024;
/// How often old data is dropped when retention is on.
const RETENTION_PERIOD: Duration = Duration::from_secs(60);

/// Why the server cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    #[error(
        "config bucket_secs is {config} but the store was opened with {store}; they must agree"
    )]
    BucketMismatch { config: u64, store: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The client's address, attached to each request by [`App::serve`] (login rate limiting
/// keys on it). Requests handed to [`App::handle`] without it count as from 0.0.0.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub SocketAddr);

/// What a successful ingest changed, for live views (the range grew, buckets changed).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The log type posted.
    pub log_type: String,
    /// Earliest start among the connections stored by this ingest.
    pub first: f64,
    /// Latest end of activity among them.
    pub last: f64,
    /// Latest start among them (see [`TimeRange::latest_start`](crate::store::TimeRange)).
    pub latest_start: f64,
    /// Start keys of the buckets those connections touched, ascending, at most
    /// [`MAX_CHANGED_BUCKETS`]; when more changed, `first..=last` covers them.
    pub buckets: Vec<i64>,
}

/// Most bucket keys listed in one [`Change`].
pub const MAX_CHANGED_BUCKETS: usize = 1024;

/// The server. Cheap to clone: every clone shares the same state.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    store: Arc<dyn Store>,
    auth: Auth,
    inventory: Inventory,
    metrics: Metrics,
    registry: Arc<Registry>,
    changes: broadcast::Sender<Change>,
    /// What each ingest stored besides connections, for live views.
    records: broadcast::Sender<live::LiveRecords>,
    graph_cache: graph_cache::GraphCache,
    session_cache: sessions::SessionCache,
    live: live::Live,
    next_request_id: AtomicU64,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("listen", &self.inner.config.listen)
            .field("auth", &self.inner.auth)
            .field("inventory_entries", &self.inner.inventory.len())
            .finish_non_exhaustive()
    }
}

/// An error answer: a status, a message for `{"error": …}`, and any extra headers.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            headers: Vec::new(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> ApiError {
        self.headers.push((name, value));
        self
    }

    fn into_response(self) -> Response<ResponseBody> {
        let body = serde_json::to_vec(&ErrorBody {
            error: self.message,
        })
        .expect("an error body always serialises");
        let mut response = bytes_response(self.status, "application/json", body);
        response.headers_mut().extend(self.headers);
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        match error {
            StoreError::BadRequest(message) => ApiError::bad_request(message),
            StoreError::Unavailable(_) => {
                tracing::warn!(%error, "store unavailable");
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, error.to_string())
                    .with_header(hyper::header::RETRY_AFTER, HeaderValue::from_static("1"))
            }
            StoreError::Config(_) | StoreError::Backend(_) => {
                tracing::error!(%error, "store failure");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
            }
        }
    }
}

pub(crate) fn bytes_response(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<ResponseBody> {
    let mut response = Response::new(Full::new(body.into()).boxed());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

pub(crate) fn json_response<T: serde::Serialize>(value: &T) -> Response<ResponseBody> {
    match json_body(value) {
        Ok(body) => bytes_response(StatusCode::OK, "application/json", body),
        Err(error) => error.into_response(),
    }
}

/// The JSON text of an answer.
pub(crate) fn json_body<T: serde::Serialize>(value: &T) -> Result<Bytes, ApiError> {
    serde_json::to_vec(value).map(Bytes::from).map_err(|error| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot encode the answer: {error}"),
        )
    })
}

impl App {
    /// Builds the server. Reads the inventory file named in the config, if any.
    pub fn new(config: Config, store: Arc<dyn Store>) -> Result<App, ServerError> {
        let inventory = match &config.inventory {
            Some(path) => Inventory::load(path)?,
            None => Inventory::default(),
        };
        App::with_inventory(config, store, inventory)
    }

    /// Builds the server with an inventory already in hand (the config's `inventory` path is
    /// not read) and the built-in log types.
    pub fn with_inventory(
        config: Config,
        store: Arc<dyn Store>,
        inventory: Inventory,
    ) -> Result<App, ServerError> {
        App::with_parts(config, store, inventory, Registry::with_builtins())
    }

    /// Builds the server from all its parts; `registry` holds the log types ingest knows
    /// (custom ones included).
    pub fn with_parts(
        config: Config,
        store: Arc<dyn Store>,
        inventory: Inventory,
        registry: Registry,
    ) -> Result<App, ServerError> {
        if store.bucket_secs() != config.bucket_secs {
            return Err(ServerError::BucketMismatch {
                config: config.bucket_secs,
                store: store.bucket_secs(),
            });
        }
        let auth = Auth::new(
            &config.users,
            &config.collectors,
            config.session_ttl,
            config.limits.login_attempts_per_minute,
        );
        let (changes, _) = broadcast::channel(CHANGE_CHANNEL_CAPACITY);
        let (records, _) = broadcast::channel(CHANGE_CHANNEL_CAPACITY);
        // Over a store other processes write to, answers are kept only once their
        // announcements are heard (see graph_cache).
        let graph_cache = graph_cache::GraphCache::new(!store.shares_sessions());
        Ok(App {
            inner: Arc::new(Inner {
                config,
                store,
                auth,
                inventory,
                metrics: Metrics::new(),
                registry: Arc::new(registry),
                changes,
                records,
                graph_cache,
                session_cache: sessions::SessionCache::new(),
                live: live::Live::new(),
                next_request_id: AtomicU64::new(1),
            }),
        })
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    pub fn auth(&self) -> &Auth {
        &self.inner.auth
    }

    /// Notifications of what each successful ingest changed (for live push to viewers).
    pub fn subscribe_changes(&self) -> broadcast::Receiver<Change> {
        self.inner.changes.subscribe()
    }

    /// Answers one request. Never fails: errors become `{"error": …}` answers.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<ResponseBody>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<crate::server::BoxError>,
    {
        let started = Instant::now();
        let id = self.inner.next_request_id.fetch_add(1, Ordering::Relaxed);
        let route = routes::Route::of(request.uri().path());
        let span =
            tracing::info_span!("request", id, method = %request.method(), route = route.name());
        let timeout = self.inner.config.limits.request_timeout;
        let answer = tokio::time::timeout(timeout, self.dispatch(route.clone(), request))
            .instrument(span.clone())
            .await;
        let mut response = match answer {
            Ok(Ok(response)) => response,
            Ok(Err(error)) => error.into_response(),
            Err(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the request took longer than {} s", timeout.as_secs()),
            )
            .into_response(),
        };
        let elapsed = started.elapsed();
        let status = response.status();
        self.inner
            .metrics
            .request(route.name(), status.as_u16(), elapsed);
        span.in_scope(|| {
            let duration_ms = elapsed.as_secs_f64() * 1e3;
            if status.is_server_error() {
                tracing::warn!(status = status.as_u16(), duration_ms, "answered");
            } else {
                tracing::info!(status = status.as_u16(), duration_ms, "answered");
            }
        });
        response
            .headers_mut()
            .insert("x-request-id", HeaderValue::from(id));
        response
    }

    /// Runs the server on `listener` until `shutdown` completes, then stops accepting, lets
    /// in-flight requests (ingests included) finish within the request timeout, and returns.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send,
    ) -> std::io::Result<()> {
        let limits = self.inner.config.limits.clone();
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let connection_slots = Arc::new(Semaphore::new(limits.max_connections));
        let retention = self.spawn_retention();
        let relay = self.spawn_change_relay();
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .keep_alive(true);
        let addr = listener.local_addr()?;
        tracing::info!(%addr, "listening");
        if !addr.ip().is_loopback() {
            // The server speaks plain HTTP: beyond this machine, tokens and passwords would
            // cross the network readable by anyone on the path.
            tracing::warn!(
                %addr,
                "listening beyond loopback over plain HTTP: put a TLS-terminating proxy in front"
            );
        }
        tokio::pin!(shutdown);
        loop {
            let slot = tokio::select! {
                slot = connection_slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
                () = &mut shutdown => break,
            };
            let (stream, remote) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: wait instead of spinning.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let _ = stream.set_nodelay(true);
            let app = self.clone();
            let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ClientAddr(remote));
                let app = app.clone();
                async move { Ok::<_, Infallible>(app.handle(request).await) }
            });
            let connection =
                graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
            tokio::spawn(async move {
                if let Err(error) = connection.await {
                    tracing::debug!(%error, %remote, "connection ended with an error");
                }
                drop(slot);
            });
        }
        drop(listener);
        self.close_live_streams();
        tracing::info!("shutting down: waiting for in-flight requests");
        tokio::select! {
            () = graceful.shutdown() => tracing::info!("all connections closed"),
            () = tokio::time::sleep(limits.request_timeout) => {
                tracing::warn!("in-flight requests did not finish within the request timeout");
            }
        }
        for task in [retention, relay].into_iter().flatten() {
            task.abort();
        }
        Ok(())
    }

    /// Drops old data every minute, counting back from the newest data held.
    fn spawn_retention(&self) -> Option<tokio::task::JoinHandle<()>> {
        let retention_secs = self.inner.config.retention_secs;
        if retention_secs == 0 {
            return None;
        }
        let app = self.clone();
        Some(tokio::spawn(async move {
            let mut ticker = tokio::time::interval(RETENTION_PERIOD);
            loop {
                ticker.tick().await;
                let store = &app.inner.store;
                let result = async {
                    let Some(range) = store.range().await? else {
                        return Ok(None);
                    };
                    store
                        .retain(range.last - retention_secs as f64)
                        .await
                        .map(Some)
                }
                .await;
                match result {
                    Ok(Some(report)) if report.dropped_any() => {
                        app.inner.graph_cache.clear();
                        tracing::info!(?report, "retention dropped old data");
                    }
                    Ok(_) => {}
                    Err(error) => {
                        // It may have dropped part of what it meant to.
                        app.inner.graph_cache.clear();
                        tracing::warn!(%error, "retention pass failed");
                    }
                }
            }
        }))
    }

    fn client_ip<B>(request: &Request<B>) -> IpAddr {
        request
            .extensions()
            .get::<ClientAddr>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip())
    }

    /// Times one store call into the store latency histogram.
    pub(crate) async fn timed<T>(
        &self,
        operation: &'static str,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, ApiError> {
        let started = Instant::now();
        let result = call.await;
        self.inner
            .metrics
            .store_latency(operation, started.elapsed());
        result.map_err(ApiError::from)
    }
}

impl Service<Request<Incoming>> for App {
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let app = self.clone();
        Box::pin(async move { Ok(app.handle(request).await) })
    }
}

/// Opens the store the config names: in memory, or Redis at its URL (connected lazily; call
/// [`Store::health`] to check it answers).
pub fn open_store(config: &Config) -> Result<Arc<dyn Store>, StoreError> {
    Ok(match &config.store {
        StoreSpec::Memory => Arc::new(crate::store::MemoryStore::new(config.bucket_secs)?),
        StoreSpec::Redis(url) => crate::store::open(url, config.bucket_secs)?,
    })
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT received"),
        () = terminate => tracing::info!("SIGTERM received"),
    }
}

/// Methods allowed on a path, for 405 answers.
pub(crate) fn method_not_allowed(allowed: &'static str) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("method not allowed; use {allowed}"),
    )
    .with_header(hyper::header::ALLOW, HeaderValue::from_static(allowed))
}
