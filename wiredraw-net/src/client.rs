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
    HistogramResponse, IngestResponse, LoginRequest, LoginResponse, NodeResponse, RangeResponse,
};
use crate::http_client::{HttpClient, HttpError};
use bytes::Bytes;
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
