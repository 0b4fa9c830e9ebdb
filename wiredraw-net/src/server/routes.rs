//! The route table and the query handlers.

use crate::api::{
    ConnectionsResponse, EdgeConnection, EdgeResponse, GraphNode, GraphResponse, HealthResponse,
    HistogramBin, HistogramResponse, HostName, LoginRequest, LoginResponse, NodeResponse, Peer,
    RangeResponse,
};
use crate::server::auth::LoginError;
use crate::server::query::{Query, parse_addr, percent_decode};
use crate::server::{
    ApiError, App, ResponseBody, bytes_response, json_body, json_response, method_not_allowed,
};
use crate::store::{ConnectionInfo, MAX_WINDOW_RECORDS, Window};
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use http_body_util::{BodyExt, Limited};
use hyper::header::{AUTHORIZATION, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use hyper::{Method, Request, Response, StatusCode};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Largest login request body.
const MAX_LOGIN_BODY: usize = 64 << 10;
/// The DOT export looks up DNS names for at most this many nodes (the busiest ones): each is a
/// store query.
const MAX_DOT_NAME_LOOKUPS: usize = 256;
/// Concurrent store queries while looking up DOT names.
const DOT_LOOKUP_CONCURRENCY: usize = 8;
/// Fields that carry DNS names, per log type, removed when DNS names are hidden. A notice's
/// message and subject are free text that often holds one (a certificate's `CN=`, the server
/// a scan or a guess went to).
const DNS_NAME_FIELDS: &[(&str, &[&str])] = &[
    ("dns", &["query", "answers"]),
    ("ssl", &["server_name"]),
    ("http", &["host"]),
    ("notice", &["msg", "sub"]),
];

/// Where a request goes. The name labels metrics and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    Healthz,
    Metrics,
    Ingest(String),
    Login,
    Logout,
    Range,
    Graph,
    GraphDot,
    Connections,
    Connection(String),
    Node(String),
    Edge,
    Histogram,
    HostRecords,
    Live,
    NotFound,
}

impl Route {
    pub fn of(path: &str) -> Route {
        match path {
            "/healthz" => Route::Healthz,
            "/metrics" => Route::Metrics,
            "/api/login" => Route::Login,
            "/api/logout" => Route::Logout,
            "/api/range" => Route::Range,
            "/api/graph" => Route::Graph,
            "/api/graph.dot" => Route::GraphDot,
            "/api/connections" => Route::Connections,
            "/api/edge" => Route::Edge,
            "/api/histogram" => Route::Histogram,
            "/api/host-records" => Route::HostRecords,
            "/api/live" => Route::Live,
            _ => {
                let segment = |prefix: &str| {
                    path.strip_prefix(prefix)
                        .filter(|rest| !rest.is_empty() && !rest.contains('/'))
                        .map(str::to_string)
                };
                if let Some(log_type) = segment("/logs/") {
                    Route::Ingest(log_type)
                } else if let Some(addr) = segment("/api/node/") {
                    Route::Node(addr)
                } else if let Some(uid) = segment("/api/connection/") {
                    Route::Connection(uid)
                } else {
                    Route::NotFound
                }
            }
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Route::Healthz => "healthz",
            Route::Metrics => "metrics",
            Route::Ingest(_) => "ingest",
            Route::Login => "login",
            Route::Logout => "logout",
            Route::Range => "range",
            Route::Graph => "graph",
            Route::GraphDot => "graph_dot",
            Route::Connections => "connections",
            Route::Connection(_) => "connection",
            Route::Node(_) => "node",
            Route::Edge => "edge",
            Route::Histogram => "histogram",
            Route::HostRecords => "host_records",
            Route::Live => "live",
            Route::NotFound => "not_found",
        }
    }

    fn method(&self) -> Method {
        match self {
            Route::Ingest(_) | Route::Login | Route::Logout => Method::POST,
            _ => Method::GET,
        }
    }
}

/// The bearer token of a request, if it has one.
fn bearer<B>(request: &Request<B>) -> Result<&str, ApiError> {
    let unauthorized = |message: &str| {
        ApiError::new(StatusCode::UNAUTHORIZED, message)
            .with_header(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
    };
    let header = request
        .headers()
        .get(AUTHORIZATION)
        .ok_or_else(|| unauthorized("missing Authorization: Bearer token"))?;
    let text = header
        .to_str()
        .map_err(|_| unauthorized("malformed Authorization header"))?;
    let (scheme, token) = text
        .split_once(' ')
        .ok_or_else(|| unauthorized("malformed Authorization header; expected Bearer <token>"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(unauthorized(
            "malformed Authorization header; expected Bearer <token>",
        ));
    }
    Ok(token.trim())
}

impl App {
    pub(crate) async fn dispatch<B>(
        &self,
        route: Route,
        request: Request<B>,
    ) -> Result<Response<ResponseBody>, ApiError>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<crate::server::BoxError>,
    {
        if route == Route::NotFound {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("no route {}", request.uri().path()),
            ));
        }
        if *request.method() != route.method() {
            return Err(method_not_allowed(if route.method() == Method::POST {
                "POST"
            } else {
                "GET"
            }));
        }
        match route {
            Route::Healthz => self.healthz().await,
            Route::Metrics => Ok(bytes_response(
                StatusCode::OK,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                self.inner.metrics.render(),
            )),
            Route::Ingest(log_type) => {
                let collector = self
                    .inner
                    .auth
                    .collector(bearer(&request)?)
                    .ok_or_else(|| {
                        ApiError::new(StatusCode::UNAUTHORIZED, "invalid collector token")
                            .with_header(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
                    })?;
                let collector = collector.to_string();
                self.ingest(&collector, &percent_decode(&log_type)?, request)
                    .await
            }
            Route::Login => self.login(request).await,
            _ => {
                let token = bearer(&request)?;
                let user = self.session_user(token).await?.ok_or_else(|| {
                    ApiError::new(StatusCode::UNAUTHORIZED, "invalid or expired session token")
                        .with_header(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
                })?;
                tracing::debug!(%user, "session");
                let query = request.uri().query();
                match route {
                    Route::Logout => {
                        self.end_session(token).await?;
                        Query::parse(query, &[])?;
                        Ok(json_response(&HealthResponse {
                            status: "logged out".into(),
                        }))
                    }
                    Route::Range => {
                        Query::parse(query, &[])?;
                        self.range().await
                    }
                    Route::Graph => self.graph(Query::parse(query, WINDOW)?.window()?).await,
                    Route::GraphDot => self.graph_dot(Query::parse(query, WINDOW)?.window()?).await,
                    Route::Connections => {
                        self.connections(Query::parse(query, WINDOW)?.window()?)
                            .await
                    }
                    Route::Connection(uid) => {
                        Query::parse(query, &[])?;
                        self.connection(&percent_decode(&uid)?).await
                    }
                    Route::Node(addr) => {
                        let addr = parse_addr(&percent_decode(&addr)?, "the node address")?;
                        self.node(addr, Query::parse(query, WINDOW)?.window()?)
                            .await
                    }
                    Route::Edge => {
                        let query = Query::parse(query, &["src", "dst", "t", "from", "to"])?;
                        self.edge(query.addr("src")?, query.addr("dst")?, query.window()?)
                            .await
                    }
                    Route::Histogram => {
                        let query = Query::parse(query, &["from", "to", "bins"])?;
                        self.histogram(&query).await
                    }
                    Route::HostRecords => {
                        let query = Query::parse(query, &["from", "to", "limit"])?;
                        self.host_records(&query).await
                    }
                    Route::Live => {
                        Query::parse(query, &[])?;
                        self.live().await
                    }
                    Route::Healthz
                    | Route::Metrics
                    | Route::Ingest(_)
                    | Route::Login
                    | Route::NotFound => unreachable!("handled above"),
                }
            }
        }
    }

    async fn healthz(&self) -> Result<Response<ResponseBody>, ApiError> {
        self.timed("health", self.inner.store.health()).await?;
        Ok(json_response(&HealthResponse {
            status: "ok".into(),
        }))
    }

    async fn login<B>(&self, request: Request<B>) -> Result<Response<ResponseBody>, ApiError>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<crate::server::BoxError>,
    {
        let client = App::client_ip(&request);
        let body = Limited::new(request.into_body(), MAX_LOGIN_BODY)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "login body too large")
                } else {
                    ApiError::bad_request(format!("cannot read the request body: {e}"))
                }
            })?
            .to_bytes();
        let credentials: LoginRequest = serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(format!(
                "login body must be JSON {{\"username\": …, \"password\": …}}: {e}"
            ))
        })?;
        match self
            .inner
            .auth
            .login(client, &credentials.username, &credentials.password)
            .await
        {
            Ok(session) => {
                self.share_session(&credentials.username, &session).await?;
                tracing::info!(user = %credentials.username, %client, "login");
                Ok(json_response(&LoginResponse {
                    token: session.token,
                    expires_in: session.expires_in.as_secs(),
                }))
            }
            Err(error @ LoginError::Invalid) => {
                tracing::warn!(%client, "failed login");
                Err(ApiError::new(StatusCode::UNAUTHORIZED, error.to_string()))
            }
            Err(error @ LoginError::RateLimited { retry_after_secs }) => {
                tracing::warn!(%client, "login rate limited");
                Err(
                    ApiError::new(StatusCode::TOO_MANY_REQUESTS, error.to_string())
                        .with_header(RETRY_AFTER, HeaderValue::from(retry_after_secs)),
                )
            }
        }
    }

    async fn range(&self) -> Result<Response<ResponseBody>, ApiError> {
        let range = self.timed("range", self.inner.store.range()).await?;
        Ok(json_response(&RangeResponse::new(
            range,
            self.inner.config.bucket_secs,
        )))
    }

    async fn labelled_graph(&self, window: Window) -> Result<GraphResponse, ApiError> {
        let graph = self.timed("graph", self.inner.store.graph(window)).await?;
        let inventory = &self.inner.inventory;
        let nodes = graph
            .nodes
            .into_iter()
            .map(|node| {
                let label = if inventory.is_empty() {
                    None
                } else {
                    node.id.parse().ok().and_then(|addr| inventory.lookup(addr))
                };
                let mut node = GraphNode::from(node);
                if let Some(label) = label {
                    node.name.clone_from(&label.name);
                    node.group.clone_from(&label.group);
                    node.color.clone_from(&label.color);
                }
                node
            })
            .collect();
        Ok(GraphResponse {
            from: graph.from,
            to: graph.to,
            nodes,
            edges: graph.edges,
        })
    }

    async fn graph(&self, window: Window) -> Result<Response<ResponseBody>, ApiError> {
        let span = window.span(self.inner.config.bucket_secs)?;
        let cache = &self.inner.graph_cache;
        let body = match cache.get(span) {
            Ok(kept) => kept,
            Err(ticket) => {
                let body = json_body(&self.labelled_graph(window).await?)?;
                cache.keep(span, ticket, body.clone());
                body
            }
        };
        Ok(bytes_response(StatusCode::OK, "application/json", body))
    }

    async fn graph_dot(&self, window: Window) -> Result<Response<ResponseBody>, ApiError> {
        let mut graph = self.labelled_graph(window).await?;
        if !self.inner.config.hide_dns_names {
            // TODO(server): a batch `Store::names(&[IpAddr])` would avoid one host query per
            // node; until then only the busiest nodes get their DNS name looked up.
            let mut unnamed: Vec<(usize, IpAddr)> = graph
                .nodes
                .iter()
                .enumerate()
                .filter(|(_, node)| node.name.is_none())
                .filter_map(|(i, node)| node.id.parse().ok().map(|addr| (i, addr)))
                .collect();
            unnamed.sort_by_key(|&(i, _)| std::cmp::Reverse(graph.nodes[i].bytes));
            unnamed.truncate(MAX_DOT_NAME_LOOKUPS);
            let store = &self.inner.store;
            let names: Vec<(usize, Option<String>)> = futures_util::stream::iter(unnamed)
                .map(|(i, addr)| async move {
                    let host = store.host(addr, window).await?;
                    Ok::<_, crate::store::StoreError>((
                        i,
                        host.names.into_iter().next().map(|n| n.name),
                    ))
                })
                .buffer_unordered(DOT_LOOKUP_CONCURRENCY)
                .try_collect()
                .await?;
            for (i, name) in names {
                graph.nodes[i].name = name;
            }
        }
        let notices = match (graph.from, graph.to) {
            (Some(from), Some(to)) => {
                let store = &self.inner.store;
                let records = store.host_records_between(from, to, MAX_WINDOW_RECORDS);
                self.timed("host_records", records).await?
            }
            _ => Default::default(),
        };
        Ok(bytes_response(
            StatusCode::OK,
            "text/vnd.graphviz; charset=utf-8",
            crate::server::dot::render(&graph, &notices),
        ))
    }

    async fn connections(&self, window: Window) -> Result<Response<ResponseBody>, ApiError> {
        let span = window.span(self.inner.config.bucket_secs)?;
        let connections = self
            .timed("connections", self.inner.store.connections(window))
            .await?;
        Ok(json_response(&ConnectionsResponse {
            from: span.start as f64,
            to: span.end as f64,
            connections,
        }))
    }

    async fn connection(&self, uid: &str) -> Result<Response<ResponseBody>, ApiError> {
        let info = self
            .timed("connection", self.inner.store.connection(uid))
            .await?
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    format!("no connection with uid {uid:?}"),
                )
            })?;
        Ok(json_response(&self.edge_connection(info)))
    }

    async fn node(&self, addr: IpAddr, window: Window) -> Result<Response<ResponseBody>, ApiError> {
        let span = window.span(self.inner.config.bucket_secs)?;
        let host = self
            .timed("host", self.inner.store.host(addr, window))
            .await?;
        let label = self.inner.inventory.lookup(addr);
        let dns_names = if self.inner.config.hide_dns_names {
            Vec::new()
        } else {
            host.names
                .into_iter()
                .map(|n| HostName {
                    name: n.name,
                    count: n.count,
                    first_seen: n.first_seen,
                    last_seen: n.last_seen,
                })
                .collect()
        };
        let mut records = host.records;
        if self.inner.config.hide_dns_names {
            for r in &mut records {
                hide_dns_fields_of(&r.log_type, &mut r.record);
            }
        }
        Ok(json_response(&NodeResponse {
            addr: addr.to_string(),
            from: span.start as f64,
            to: span.end as f64,
            dns_names,
            conns_as_orig: host.conns_as_orig,
            conns_as_resp: host.conns_as_resp,
            bytes: host.bytes,
            peers: host
                .peers
                .into_iter()
                .map(|p| Peer {
                    addr: p.addr,
                    conns: p.conns,
                    bytes: p.bytes,
                })
                .collect(),
            ports: host.ports,
            ports_total: host.ports_total,
            ports_contacted: host.ports_contacted,
            ports_contacted_total: host.ports_contacted_total,
            software: host.software,
            software_total: host.software_total,
            records,
            records_total: host.records_total,
            name: label.and_then(|l| l.name.clone()),
            group: label.and_then(|l| l.group.clone()),
            color: label.and_then(|l| l.color.clone()),
        }))
    }

    async fn edge(
        &self,
        src: IpAddr,
        dst: IpAddr,
        window: Window,
    ) -> Result<Response<ResponseBody>, ApiError> {
        let span = window.span(self.inner.config.bucket_secs)?;
        let infos = self
            .timed("edge", self.inner.store.edge(src, dst, window))
            .await?;
        Ok(json_response(&EdgeResponse {
            src: src.to_string(),
            dst: dst.to_string(),
            from: span.start as f64,
            to: span.end as f64,
            connections: infos
                .into_iter()
                .map(|info| self.edge_connection(info))
                .collect(),
        }))
    }

    fn edge_connection(&self, info: ConnectionInfo) -> EdgeConnection {
        let mut details = info.details;
        if self.inner.config.hide_dns_names {
            hide_dns_fields(&mut details);
        }
        EdgeConnection {
            history_decoded: decode_history(info.connection.history.as_deref().unwrap_or("")),
            connection: info.connection,
            details,
        }
    }

    async fn host_records(&self, query: &Query) -> Result<Response<ResponseBody>, ApiError> {
        let (from, to) = (query.required_time("from")?, query.required_time("to")?);
        let limit = query.count("limit", DEFAULT_WINDOW_RECORDS, MAX_WINDOW_RECORDS)?;
        let mut page = self
            .timed(
                "host_records",
                self.inner.store.host_records_between(from, to, limit),
            )
            .await?;
        if self.inner.config.hide_dns_names {
            for r in &mut page.records {
                hide_dns_fields_of(&r.log_type, &mut r.record);
            }
        }
        Ok(json_response(&page))
    }

    async fn histogram(&self, query: &Query) -> Result<Response<ResponseBody>, ApiError> {
        let (from, to) = (query.required_time("from")?, query.required_time("to")?);
        let bins_text = query.required("bins")?;
        let bins: usize = bins_text.trim().parse().map_err(|_| {
            ApiError::bad_request(format!(
                "bins must be a positive whole number, got {bins_text:?}"
            ))
        })?;
        let store = &self.inner.store;
        let (bins, capture_loss, records) = futures_util::try_join!(
            self.timed("histogram", store.histogram(from, to, bins)),
            self.timed("capture_loss", store.capture_loss(from, to)),
            self.timed(
                "host_record_counts",
                store.host_record_counts(from, to, bins)
            ),
        )?;
        Ok(json_response(&HistogramResponse {
            capture_loss,
            bins: bins
                .into_iter()
                .zip(records)
                .map(|(b, records)| HistogramBin {
                    start: b.start,
                    conns: b.conns,
                    bytes: b.bytes,
                    records,
                })
                .collect(),
        }))
    }
}

/// Records about hosts a window's answer lists unless asked for another number.
const DEFAULT_WINDOW_RECORDS: usize = 200;

/// Parameters of the window routes.
const WINDOW: &[&str] = &["t", "from", "to"];

/// Zeek's history letters spelled out.
fn decode_history(history: &str) -> Vec<String> {
    wiredraw_core::history::decode(history)
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// Removes the fields that carry DNS names from attached records.
fn hide_dns_fields(details: &mut BTreeMap<String, Vec<serde_json::Value>>) {
    for (log_type, records) in details {
        for record in records {
            hide_dns_fields_of(log_type, record);
        }
    }
}

/// Removes the fields of one record of `log_type` that carry DNS names.
fn hide_dns_fields_of(log_type: &str, record: &mut serde_json::Value) {
    let named = DNS_NAME_FIELDS.iter().find(|(named, _)| *named == log_type);
    if let (Some((_, fields)), Some(record)) = (named, record.as_object_mut()) {
        for field in *fields {
            record.remove(*field);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_routes() {
        assert_eq!(Route::of("/logs/conn"), Route::Ingest("conn".into()));
        assert_eq!(Route::of("/logs/"), Route::NotFound);
        assert_eq!(Route::of("/logs/a/b"), Route::NotFound);
        assert_eq!(
            Route::of("/api/node/10.0.0.1"),
            Route::Node("10.0.0.1".into())
        );
        assert_eq!(Route::of("/api/graph.dot"), Route::GraphDot);
        assert_eq!(Route::of("/api/graphs"), Route::NotFound);
    }

    #[test]
    fn dns_fields_are_removed_from_details() {
        let mut details = BTreeMap::from([
            (
                "dns".to_string(),
                vec![serde_json::json!({"query": "a.example", "answers": ["1.2.3.4"], "qtype": 1})],
            ),
            (
                "conn_extra".to_string(),
                vec![serde_json::json!({"query": "kept"})],
            ),
        ]);
        hide_dns_fields(&mut details);
        assert_eq!(details["dns"][0], serde_json::json!({"qtype": 1}));
        assert_eq!(details["conn_extra"][0]["query"], "kept");
    }
}
