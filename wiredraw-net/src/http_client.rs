//! A small HTTP/1.1 client over hyper-util's pooled legacy client.
//!
//! It knows one base URL (`http://host:port[/prefix]`), an optional bearer token and a
//! per-request timeout, and speaks JSON. Every failure is an [`HttpError`] that tells a
//! refused connection, a timeout and an HTTP error status apart, so callers (the collector's
//! retry loop, the viewer's login page) can react to each. The server's `{"error": "…"}`
//! body becomes the error's message.
//!
//! Plain `http://` only: wiredraw servers listen on loopback or behind a TLS proxy.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{ACCEPT, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::io::Write;
use std::time::Duration;

/// Default limit for one whole request: connect, send, and read the answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Longest error body quoted in an [`HttpError::Status`] when it is not `{"error": …}` JSON.
const MAX_QUOTED_BODY: usize = 200;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The base URL or a path could not be turned into a request URL.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    /// Nothing listens at the address (the server is down or the URL is wrong).
    #[error("connection refused by {url}")]
    ConnectionRefused { url: String },
    /// The connection failed for another reason (unknown host, unreachable network, reset).
    #[error("cannot connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    /// No complete answer within the timeout.
    #[error("no answer from {url} within {timeout:?}")]
    Timeout { url: String, timeout: Duration },
    /// The server answered with an error status; `message` is its `{"error": …}` text.
    #[error("{url}: HTTP {status}: {message}")]
    Status {
        url: String,
        status: StatusCode,
        message: String,
    },
    /// The server answered 2xx but the body was not the expected JSON.
    #[error("{url}: unexpected answer: {reason}")]
    Decode { url: String, reason: String },
    /// The request was sent but the exchange broke off (connection closed mid-answer, …).
    #[error("{url}: {reason}")]
    Transport { url: String, reason: String },
}

impl HttpError {
    /// The HTTP status when the server answered with an error status.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            HttpError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether trying the same request again later may succeed: the server was unreachable,
    /// slow, overloaded (429), or failing on its side (5xx, e.g. 503 when its store is down).
    /// Client errors such as 400, 401 or 413 will fail again unchanged.
    pub fn is_retryable(&self) -> bool {
        match self {
            HttpError::ConnectionRefused { .. }
            | HttpError::Connect { .. }
            | HttpError::Timeout { .. }
            | HttpError::Transport { .. } => true,
            HttpError::Status { status, .. } => {
                *status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
            }
            HttpError::InvalidUrl { .. } | HttpError::Decode { .. } => false,
        }
    }
}

/// A pooled HTTP client bound to one server. Cheap to clone; clones share the pool.
#[derive(Clone)]
pub struct HttpClient {
    inner: Client<HttpConnector, Full<Bytes>>,
    /// `http://host:port` with any path prefix, no trailing slash.
    base: String,
    /// The whole `Authorization` header value, marked sensitive so it is never logged.
    authorization: Option<HeaderValue>,
    timeout: Duration,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("base", &self.base)
            .field("has_token", &self.authorization.is_some())
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl HttpClient {
    /// A client for `base_url` (`http://host:port`, optionally with a path prefix), with no
    /// token and [`DEFAULT_TIMEOUT`].
    pub fn new(base_url: &str) -> Result<Self, HttpError> {
        let base = base_url.trim().trim_end_matches('/').to_string();
        let invalid = |reason: &str| HttpError::InvalidUrl {
            url: base_url.to_string(),
            reason: reason.to_string(),
        };
        let uri: Uri = base
            .parse()
            .map_err(|e: hyper::http::uri::InvalidUri| invalid(&e.to_string()))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(invalid(
                    "https is not supported; use http:// (put TLS in a proxy)",
                ));
            }
            Some(other) => return Err(invalid(&format!("unsupported scheme {other:?}"))),
            None => return Err(invalid("missing scheme; expected http://host:port")),
        }
        if uri.host().is_none_or(str::is_empty) {
            return Err(invalid("missing host"));
        }
        if uri.query().is_some() {
            return Err(invalid("a base URL cannot have a query"));
        }
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(DEFAULT_TIMEOUT));
        let inner = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .build(connector);
        Ok(HttpClient {
            inner,
            base,
            authorization: None,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// Sends `Authorization: Bearer <token>` with every request.
    pub fn with_token(mut self, token: &str) -> Result<Self, HttpError> {
        self.set_token(Some(token))?;
        Ok(self)
    }

    /// Limits each whole request (connect, send, receive) to `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Replaces (or with `None` removes) the bearer token.
    pub fn set_token(&mut self, token: Option<&str>) -> Result<(), HttpError> {
        self.authorization = match token {
            None => None,
            Some(token) => {
                let mut value =
                    HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                        HttpError::InvalidUrl {
                            url: self.base.clone(),
                            reason: "the token holds characters not allowed in a header".into(),
                        }
                    })?;
                value.set_sensitive(true);
                Some(value)
            }
        };
        Ok(())
    }

    /// The base URL, without trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The full URL of `path_and_query` (which starts with `/`).
    pub fn url(&self, path_and_query: &str) -> String {
        if path_and_query.starts_with('/') {
            format!("{}{path_and_query}", self.base)
        } else {
            format!("{}/{path_and_query}", self.base)
        }
    }

    /// `GET path` and decode the JSON answer.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path_and_query: &str,
    ) -> Result<T, HttpError> {
        let url = self.url(path_and_query);
        let body = self.send(Method::GET, &url, None, Bytes::new()).await?;
        decode_json(&url, &body)
    }

    /// `GET path` and return the raw body (for non-JSON answers such as DOT text).
    pub async fn get_bytes(&self, path_and_query: &str) -> Result<Bytes, HttpError> {
        let url = self.url(path_and_query);
        self.send(Method::GET, &url, None, Bytes::new()).await
    }

    /// `POST path` with `body` as JSON and decode the JSON answer.
    pub async fn post_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, HttpError> {
        let url = self.url(path);
        let encoded = serde_json::to_vec(body).map_err(|e| HttpError::InvalidUrl {
            url: url.clone(),
            reason: format!("cannot encode the request body: {e}"),
        })?;
        let answer = self
            .send(
                Method::POST,
                &url,
                Some(("application/json", false)),
                Bytes::from(encoded),
            )
            .await?;
        decode_json(&url, &answer)
    }

    /// `POST path` with raw `body` (log lines) and decode the JSON answer. With `gzip` the
    /// body is compressed here and sent with `Content-Encoding: gzip`.
    pub async fn post_bytes<T: DeserializeOwned>(
        &self,
        path: &str,
        body: Bytes,
        gzip: bool,
    ) -> Result<T, HttpError> {
        let url = self.url(path);
        let body = if gzip {
            Bytes::from(gzip_bytes(&body))
        } else {
            body
        };
        let answer = self
            .send(
                Method::POST,
                &url,
                Some(("text/plain; charset=utf-8", gzip)),
                body,
            )
            .await?;
        decode_json(&url, &answer)
    }

    /// `GET path` for an answer that streams (server-sent events): returns once the headers of
    /// a 2xx answer arrive, within the timeout; the body then comes as the server sends it, with
    /// no time limit. Any other answer is the matching error.
    pub async fn get_stream(
        &self,
        path_and_query: &str,
        accept: &'static str,
    ) -> Result<hyper::Response<hyper::body::Incoming>, HttpError> {
        let url = self.url(path_and_query);
        let mut builder = Request::builder()
            .method(Method::GET)
            .uri(&url)
            .header(ACCEPT, accept);
        if let Some(authorization) = &self.authorization {
            builder = builder.header(AUTHORIZATION, authorization.clone());
        }
        let request = builder
            .body(Full::new(Bytes::new()))
            .map_err(|e| HttpError::InvalidUrl {
                url: url.clone(),
                reason: e.to_string(),
            })?;
        let timed_out = || HttpError::Timeout {
            url: url.clone(),
            timeout: self.timeout,
        };
        let response = tokio::time::timeout(self.timeout, self.inner.request(request))
            .await
            .map_err(|_| timed_out())?
            .map_err(|e| classify_client_error(&url, &e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = tokio::time::timeout(self.timeout, response.into_body().collect())
            .await
            .map_err(|_| timed_out())?
            .map(|body| body.to_bytes())
            .unwrap_or_default();
        Err(HttpError::Status {
            message: error_message(status, &body),
            url,
            status,
        })
    }

    /// Sends one request and returns the body of a 2xx answer, or the matching error.
    async fn send(
        &self,
        method: Method,
        url: &str,
        content: Option<(&'static str, bool)>,
        body: Bytes,
    ) -> Result<Bytes, HttpError> {
        let mut builder = Request::builder()
            .method(method)
            .uri(url)
            .header(ACCEPT, "application/json");
        if let Some(authorization) = &self.authorization {
            builder = builder.header(AUTHORIZATION, authorization.clone());
        }
        if let Some((content_type, gzip)) = content {
            builder = builder.header(CONTENT_TYPE, content_type);
            if gzip {
                builder = builder.header(CONTENT_ENCODING, "gzip");
            }
        }
        let request = builder
            .body(Full::new(body))
            .map_err(|e| HttpError::InvalidUrl {
                url: url.to_string(),
                reason: e.to_string(),
            })?;
        let exchange = async {
            let response = self
                .inner
                .request(request)
                .await
                .map_err(|e| classify_client_error(url, &e))?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| HttpError::Transport {
                    url: url.to_string(),
                    reason: format!("reading the answer: {e}"),
                })?
                .to_bytes();
            Ok((status, body))
        };
        let (status, body) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| HttpError::Timeout {
                url: url.to_string(),
                timeout: self.timeout,
            })??;
        if status.is_success() {
            Ok(body)
        } else {
            Err(HttpError::Status {
                url: url.to_string(),
                status,
                message: error_message(status, &body),
            })
        }
    }
}

/// Compresses `data` with gzip at a fast level: log lines shrink ~10x even so.
pub fn gzip_bytes(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 4 + 64),
        flate2::Compression::fast(),
    );
    encoder
        .write_all(data)
        .and_then(|()| encoder.finish())
        .expect("writing into a Vec cannot fail")
}

fn decode_json<T: DeserializeOwned>(url: &str, body: &[u8]) -> Result<T, HttpError> {
    serde_json::from_slice(body).map_err(|e| HttpError::Decode {
        url: url.to_string(),
        reason: e.to_string(),
    })
}

/// The `error` field of a `{"error": …}` body, else the start of the body, else the reason phrase.
fn error_message(status: StatusCode, body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        error: String,
    }
    if let Ok(parsed) = serde_json::from_slice::<ErrorBody>(body) {
        return parsed.error;
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return status.canonical_reason().unwrap_or("error").to_string();
    }
    match text.char_indices().nth(MAX_QUOTED_BODY) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// Maps hyper-util's error to refused / other connect failure / broken exchange.
fn classify_client_error(url: &str, error: &hyper_util::client::legacy::Error) -> HttpError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    let mut innermost = error.to_string();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return HttpError::ConnectionRefused {
                    url: url.to_string(),
                };
            }
            if io.kind() == std::io::ErrorKind::TimedOut && error.is_connect() {
                return HttpError::Timeout {
                    url: url.to_string(),
                    timeout: DEFAULT_TIMEOUT,
                };
            }
        }
        innermost = cause.to_string();
        source = cause.source();
    }
    if error.is_connect() {
        HttpError::Connect {
            url: url.to_string(),
            reason: innermost,
        }
    } else {
        HttpError::Transport {
            url: url.to_string(),
            reason: innermost,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_must_be_plain_http_with_a_host() {
        assert!(HttpClient::new("http://127.0.0.1:8750/").is_ok());
        for bad in [
            "https://example.org",
            "ftp://x",
            "127.0.0.1:8750",
            "http://",
            "http://h/?q=1",
        ] {
            assert!(
                matches!(HttpClient::new(bad), Err(HttpError::InvalidUrl { .. })),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn urls_join_the_base_prefix_and_the_path() {
        let client = HttpClient::new("http://h:1/wiredraw/").unwrap();
        assert_eq!(client.url("/api/range"), "http://h:1/wiredraw/api/range");
        assert_eq!(client.url("api/range"), "http://h:1/wiredraw/api/range");
    }

    #[test]
    fn error_messages_come_from_the_error_field_or_the_body() {
        let status = StatusCode::BAD_REQUEST;
        assert_eq!(error_message(status, br#"{"error":"bad t"}"#), "bad t");
        assert_eq!(error_message(status, b"  plain text "), "plain text");
        assert_eq!(error_message(status, b""), "Bad Request");
        let long = "x".repeat(1000);
        assert_eq!(
            error_message(status, long.as_bytes()).chars().count(),
            MAX_QUOTED_BODY + 1
        );
    }

    #[test]
    fn retryable_errors_are_the_transient_ones() {
        let status = |status| HttpError::Status {
            url: String::new(),
            status,
            message: String::new(),
        };
        assert!(status(StatusCode::SERVICE_UNAVAILABLE).is_retryable());
        assert!(status(StatusCode::TOO_MANY_REQUESTS).is_retryable());
        assert!(!status(StatusCode::UNAUTHORIZED).is_retryable());
        assert!(!status(StatusCode::PAYLOAD_TOO_LARGE).is_retryable());
        assert!(HttpError::ConnectionRefused { url: String::new() }.is_retryable());
    }

    #[tokio::test]
    async fn a_closed_port_is_reported_as_connection_refused() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let client = HttpClient::new(&format!("http://127.0.0.1:{port}")).unwrap();
        let error = client
            .get_json::<serde_json::Value>("/healthz")
            .await
            .unwrap_err();
        assert!(
            matches!(error, HttpError::ConnectionRefused { .. }),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_silent_server_is_reported_as_a_timeout() {
        // Accepts the connection but never answers.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let holder = tokio::spawn(async move {
            let (socket, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(5)).await;
            drop(socket);
        });
        let client = HttpClient::new(&format!("http://127.0.0.1:{port}"))
            .unwrap()
            .with_timeout(Duration::from_millis(200));
        let error = client
            .get_json::<serde_json::Value>("/healthz")
            .await
            .unwrap_err();
        assert!(matches!(error, HttpError::Timeout { .. }), "{error}");
        holder.abort();
    }
}
