//! Typed client of the wiredraw HTTP API, for the viewer, the tests and scripts.
//!
//! ```no_run
//! use wiredraw_net::client::{ApiClient, Span};
//!
//! # async fn run() -> Result<(), wiredraw_net::http_client::HttpError> {
//! let mut client = ApiClient::new("http://127.0.0.1:8750")?;
//! client.login("analyst", "correct horse").await?;
//! let range = client.range().await?;
//! if let Some(last) = range.last {
//!     let graph = client.graph(Span::At(last)).await?;
//!     println!("{} hosts", graph.nodes.len());
//! }
//! # Ok(()) }
//! ```

use crate::api::{
    ConnectionsResponse, EdgeConnection, EdgeResponse, GraphResponse, HealthResponse,
    HistogramResponse, HostRecordPage, IngestResponse, LoginRequest, LoginResponse, NodeResponse,
    RangeResponse,
};
use crate::http_client::{HttpClient, HttpError};
use crate::server::live::{LiveChange, LiveEvent, LiveRecords};
use bytes::Bytes;
use http_body_util::BodyExt;
use std::fmt::Write;
use std::net::IpAddr;
use std::time::Duration;

/// A query window: the bucket holding a moment, or every bucket meeting `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Span {
    At(f64),
    Between { from: f64, to: f64 },
}

impl Span {
    fn query(self) -> String {
        match self {
            Span::At(t) => format!("t={t}"),
            Span::Between { from, to } => format!("from={from}&to={to}"),
        }
    }
}

/// Longest event a live stream may send; a longer one means the stream is not ours.
const MAX_LIVE_EVENT_BYTES: usize = 1 << 20;

/// The API client. Clones share the connection pool and the session.
#[derive(Debug, Clone)]
pub struct ApiClient {
    http: HttpClient,
}

/// Escapes a path segment or query value (addresses hold `:`; uids are plain already).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

impl ApiClient {
    /// A client for the server at `base_url` (`http://host:port`), not logged in.
    pub fn new(base_url: &str) -> Result<ApiClient, HttpError> {
        Ok(ApiClient {
            http: HttpClient::new(base_url)?,
        })
    }

    /// Limits each request to `timeout`.
    pub fn with_timeout(self, timeout: Duration) -> ApiClient {
        ApiClient {
            http: self.http.with_timeout(timeout),
        }
    }

    /// Uses an existing session (or, for [`ApiClient::post_logs`], collector) token.
    pub fn with_token(self, token: &str) -> Result<ApiClient, HttpError> {
        Ok(ApiClient {
            http: self.http.with_token(token)?,
        })
    }

    /// The underlying HTTP client.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// Logs in and keeps the session token for the following calls. A wrong pair is
    /// `HttpError::Status` with status 401.
    pub async fn login(
        &mut self,
        username: &str,
        password: &str,
    ) -> Result<LoginResponse, HttpError> {
        let request = LoginRequest {
            username: username.to_string(),
            password: password.to_string(),
        };
        let session: LoginResponse = self.http.post_json("/api/login", &request).await?;
        self.http.set_token(Some(&session.token))?;
        Ok(session)
    }

    /// Ends the session on the server and forgets the token.
    pub async fn logout(&mut self) -> Result<(), HttpError> {
        let _: HealthResponse = self.http.post_json("/api/logout", &()).await?;
        self.http.set_token(None)
    }

    /// `GET /healthz`.
    pub async fn health(&self) -> Result<HealthResponse, HttpError> {
        self.http.get_json("/healthz").await
    }

    /// `GET /api/range`.
    pub async fn range(&self) -> Result<RangeResponse, HttpError> {
        self.http.get_json("/api/range").await
    }

    /// `GET /api/graph`.
    pub async fn graph(&self, span: Span) -> Result<GraphResponse, HttpError> {
        self.http
            .get_json(&format!("/api/graph?{}", span.query()))
            .await
    }

    /// `GET /api/graph.dot`: the window as Graphviz DOT text.
    pub async fn graph_dot(&self, span: Span) -> Result<String, HttpError> {
        let url = format!("/api/graph.dot?{}", span.query());
        let body = self.http.get_bytes(&url).await?;
        String::from_utf8(body.to_vec()).map_err(|e| HttpError::Decode {
            url: self.http.url(&url),
            reason: e.to_string(),
        })
    }

    /// `GET /api/connections`.
    pub async fn connections(&self, span: Span) -> Result<ConnectionsResponse, HttpError> {
        self.http
            .get_json(&format!("/api/connections?{}", span.query()))
            .await
    }

    /// `GET /api/connection/{uid}`.
    pub async fn connection(&self, uid: &str) -> Result<EdgeConnection, HttpError> {
        self.http
            .get_json(&format!("/api/connection/{}", escape(uid)))
            .await
    }

    /// `GET /api/node/{addr}`.
    pub async fn node(&self, addr: IpAddr, span: Span) -> Result<NodeResponse, HttpError> {
        self.http
            .get_json(&format!(
                "/api/node/{}?{}",
                escape(&addr.to_string()),
                span.query()
            ))
            .await
    }

    /// `GET /api/edge`.
    pub async fn edge(
        &self,
        src: IpAddr,
        dst: IpAddr,
        span: Span,
    ) -> Result<EdgeResponse, HttpError> {
        self.http
            .get_json(&format!(
                "/api/edge?src={}&dst={}&{}",
                escape(&src.to_string()),
                escape(&dst.to_string()),
                span.query()
            ))
            .await
    }

    /// `GET /api/histogram`.
    pub async fn histogram(
        &self,
        from: f64,
        to: f64,
        bins: usize,
    ) -> Result<HistogramResponse, HttpError> {
        self.http
            .get_json(&format!("/api/histogram?from={from}&to={to}&bins={bins}"))
            .await
    }

    /// `GET /api/host-records`: the records about hosts (notices naming them, …) stamped in
    /// `[from, to]`, newest first, at most `limit` of them (the server allows up to
    /// [`MAX_WINDOW_RECORDS`](crate::store::MAX_WINDOW_RECORDS)).
    pub async fn host_records(
        &self,
        from: f64,
        to: f64,
        limit: usize,
    ) -> Result<HostRecordPage, HttpError> {
        self.http
            .get_json(&format!(
                "/api/host-records?from={from}&to={to}&limit={limit}"
            ))
            .await
    }

    /// `GET /api/live`: subscribes to what changes in the store, through whichever server this
    /// client talks to (each sees what is ingested through any other sharing the store). The
    /// first event is [`LiveEvent::Range`]. See [`crate::server::live`] for the format.
    pub async fn live(&self) -> Result<LiveEvents, HttpError> {
        let response = self
            .http
            .get_stream("/api/live", "text/event-stream")
            .await?;
        Ok(LiveEvents {
            url: self.http.url("/api/live"),
            body: response.into_body(),
            buffer: Vec::new(),
        })
    }

    /// `POST /logs/{log_type}` with raw log lines (needs a collector token).
    pub async fn post_logs(
        &self,
        log_type: &str,
        lines: Bytes,
        gzip: bool,
    ) -> Result<IngestResponse, HttpError> {
        self.http
            .post_bytes(&format!("/logs/{}", escape(log_type)), lines, gzip)
            .await
    }
}

/// The events of one `GET /api/live` stream, read as they arrive.
///
/// ```no_run
/// # async fn watch(client: wiredraw_net::client::ApiClient) -> Result<(), wiredraw_net::http_client::HttpError> {
/// use wiredraw_net::server::live::LiveEvent;
/// let mut events = client.live().await?;
/// while let Some(event) = events.recv().await {
///     match event? {
///         LiveEvent::Range(range) => println!("holding {:?}..{:?}", range.first, range.last),
///         LiveEvent::Change(change) => println!("buckets {:?} changed", change.buckets),
///         LiveEvent::Records(stored) => println!("{} records over {}..{}", stored.log_type, stored.first, stored.last),
///         LiveEvent::Resync => println!("fetch everything on screen again"),
///     }
/// }
/// // The server ended the stream (shutting down): poll until it is back.
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct LiveEvents {
    url: String,
    body: hyper::body::Incoming,
    buffer: Vec<u8>,
}

impl LiveEvents {
    /// The next event; `None` when the server ended the stream. An error means the stream is
    /// broken: fall back to polling and subscribe again later. Events of kinds this client does
    /// not know are skipped.
    pub async fn recv(&mut self) -> Option<Result<LiveEvent, HttpError>> {
        loop {
            while let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
                if let Some(event) = self.parse(&block) {
                    return Some(event);
                }
            }
            if self.buffer.len() > MAX_LIVE_EVENT_BYTES {
                return Some(Err(self.decode_error(format!(
                    "an event longer than {MAX_LIVE_EVENT_BYTES} bytes"
                ))));
            }
            match self.body.frame().await? {
                Ok(frame) => {
                    if let Ok(data) = frame.into_data() {
                        self.buffer.extend_from_slice(&data);
                    }
                }
                Err(e) => {
                    return Some(Err(HttpError::Transport {
                        url: self.url.clone(),
                        reason: format!("live stream broke: {e}"),
                    }));
                }
            }
        }
    }

    /// One blank-line-ended block: `None` for comments and unknown kinds.
    fn parse(&self, block: &[u8]) -> Option<Result<LiveEvent, HttpError>> {
        let text = match std::str::from_utf8(block) {
            Ok(text) => text,
            Err(e) => return Some(Err(self.decode_error(e.to_string()))),
        };
        let mut name = "message";
        let mut data = String::new();
        for line in text.lines() {
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "event" => name = value,
                "data" => {
                    if !data.is_empty() {
                        data.push('\n');
                    }
                    data.push_str(value);
                }
                _ => {}
            }
        }
        let event = match name {
            "range" => serde_json::from_str(&data).map(LiveEvent::Range),
            "change" => serde_json::from_str::<LiveChange>(&data).map(LiveEvent::Change),
            "records" => serde_json::from_str::<LiveRecords>(&data).map(LiveEvent::Records),
            "resync" => Ok(LiveEvent::Resync),
            _ => return None,
        };
        Some(event.map_err(|e| self.decode_error(format!("{name} event: {e}"))))
    }

    fn decode_error(&self, reason: String) -> HttpError {
        HttpError::Decode {
            url: self.url.clone(),
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_pieces_are_escaped() {
        assert_eq!(escape("2001:db8::1"), "2001%3Adb8%3A%3A1");
        assert_eq!(escape("CabC1.x"), "CabC1.x");
        assert_eq!(
            Span::Between { from: 1.5, to: 2.0 }.query(),
            "from=1.5&to=2"
        );
    }
}
