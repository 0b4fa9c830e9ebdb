//! The JSON shapes of the HTTP API, shared by the server (which writes them) and the client
//! (which reads them). One definition per answer keeps both sides in step.

use crate::store::TimeRange;
pub use crate::store::{
    HostRecordJson, HostRecordPage, PortUse, SoftwareKey, SoftwareSeen, StampedHostRecord,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::collections::BTreeSet;
use wiredraw_core::{CaptureLoss, Connection, Edge, Graph, Node};

/// Every error answer: `{"error": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

/// Most per-line errors one ingest answer lists.
pub const MAX_INGEST_ERRORS: usize = 100;

/// Answer to `POST /logs/{type}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestResponse {
    /// Records stored (or already held: ingest is idempotent).
    pub accepted: u64,
    /// Records refused.
    pub rejected: u64,
    /// Why, per line (1-based line number in the request body), at most [`MAX_INGEST_ERRORS`].
    pub errors: Vec<LineError>,
}

/// One refused line of an ingest body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineError {
    pub line: u64,
    pub reason: String,
}

/// Body of `POST /api/login`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Answer to `POST /api/login`: a session token for `Authorization: Bearer`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    pub token: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
}

impl std::fmt::Debug for LoginResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginResponse")
            .field("token", &"<redacted>")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// Answer to `GET /api/range`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RangeResponse {
    /// First active time held; `None` when the store is empty.
    pub first: Option<f64>,
    /// Last active time held; `None` when the store is empty.
    pub last: Option<f64>,
    /// The latest connection start held, where live data is (`last` can lie beyond it by the
    /// length of the longest connection); `None` when the store is empty, or from a server of
    /// an earlier version.
    #[serde(default)]
    pub latest_start: Option<f64>,
    pub bucket_secs: u64,
}

impl RangeResponse {
    pub fn new(range: Option<TimeRange>, bucket_secs: u64) -> RangeResponse {
        RangeResponse {
            first: range.map(|r| r.first),
            last: range.map(|r| r.last),
            latest_start: range.map(|r| r.latest_start),
            bucket_secs,
        }
    }

    /// The range held; `None` while the store is empty (see [`TimeRange::new`] for a server
    /// that does not say the latest start).
    pub fn time_range(&self) -> Option<TimeRange> {
        let (first, last) = self.first.zip(self.last)?;
        Some(TimeRange::new(first, last, self.latest_start))
    }

    /// Where a view following live data puts its playhead (see [`RangeResponse::time_range`]).
    pub fn live_edge(&self) -> Option<f64> {
        self.time_range().map(|range| range.latest_start)
    }
}

/// A graph node: [`Node`] plus what the inventory says about the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphNode {
    pub id: String,
    pub conns: u64,
    pub bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
}

impl From<Node> for GraphNode {
    fn from(node: Node) -> Self {
        GraphNode {
            id: node.id,
            conns: node.conns,
            bytes: node.bytes,
            name: None,
            group: None,
            color: None,
        }
    }
}

/// Answer to `GET /api/graph`: a [`Graph`] whose nodes may carry inventory fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GraphResponse {
    pub from: Option<f64>,
    pub to: Option<f64>,
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<Edge>,
}

impl GraphResponse {
    /// The plain graph (inventory fields dropped), e.g. to diff against the one on screen.
    pub fn to_graph(&self) -> Graph {
        Graph {
            from: self.from,
            to: self.to,
            nodes: self
                .nodes
                .iter()
                .map(|n| Node {
                    id: n.id.clone(),
                    conns: n.conns,
                    bytes: n.bytes,
                })
                .collect(),
            edges: self.edges.clone(),
        }
    }
}

/// Answer to `GET /api/connections`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionsResponse {
    pub from: f64,
    pub to: f64,
    /// Active in the window, sorted by `(ts, uid)`.
    pub connections: Vec<Connection>,
}

/// A DNS name seen for a host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostName {
    pub name: String,
    /// Distinct sightings.
    pub count: u64,
    pub first_seen: f64,
    pub last_seen: f64,
}

/// Traffic between a host and one peer in the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Peer {
    pub addr: String,
    pub conns: u64,
    pub bytes: u64,
}

/// Answer to `GET /api/node/{addr}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeResponse {
    pub addr: String,
    pub from: f64,
    pub to: f64,
    /// DNS names, most seen first (always empty when the server hides DNS names).
    pub dns_names: Vec<HostName>,
    pub conns_as_orig: u64,
    pub conns_as_resp: u64,
    pub bytes: u64,
    /// The peers it exchanged most bytes with.
    pub peers: Vec<Peer>,
    /// The ports it answered on, most connections first (at most
    /// [`TOP_PORTS`](crate::store::TOP_PORTS)).
    #[serde(default)]
    pub ports: Vec<PortUse>,
    /// How many distinct ports it answered on, listed or not.
    #[serde(default)]
    pub ports_total: u64,
    /// The ports it connected to on other hosts, most connections first.
    #[serde(default)]
    pub ports_contacted: Vec<PortUse>,
    /// How many distinct ports it connected to, listed or not.
    #[serde(default)]
    pub ports_contacted_total: u64,
    /// The software Zeek saw on it, over all held data, by type, name and version (at most
    /// [`MAX_SOFTWARE`](crate::store::MAX_SOFTWARE), the most recently seen).
    #[serde(default)]
    pub software: Vec<SoftwareSeen>,
    /// How many distinct kinds of software were seen on it, listed or not.
    #[serde(default)]
    pub software_total: u64,
    /// Records about the host itself (notices naming it as `src` or `dst`), over all held data,
    /// newest first (at most [`MAX_HOST_RECORDS`](crate::store::MAX_HOST_RECORDS)).
    #[serde(default)]
    pub records: Vec<HostRecordJson>,
    /// How many records about the host are held, listed or not.
    #[serde(default)]
    pub records_total: u64,
    /// Inventory name, group and colour, when an inventory entry covers the address.
    pub name: Option<String>,
    pub group: Option<String>,
    pub color: Option<String>,
}

/// One connection of an edge with everything attached to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EdgeConnection {
    /// The conn fields (uid, ts, addresses, ports, bytes, history, …).
    #[serde(flatten)]
    pub connection: Connection,
    /// Zeek's history letters spelled out, one entry per letter, in order.
    pub history_decoded: Vec<String>,
    /// Attached records, whole, grouped by log type (`{"http": [...], "ssl": [...]}`).
    pub details: BTreeMap<String, Vec<serde_json::Value>>,
}

/// Answer to `GET /api/edge`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EdgeResponse {
    pub src: String,
    pub dst: String,
    pub from: f64,
    pub to: f64,
    /// Sorted by `(ts, uid)`.
    pub connections: Vec<EdgeConnection>,
}

impl EdgeResponse {
    /// Log types with at least one attached record, over all connections.
    pub fn detail_types(&self) -> BTreeSet<&str> {
        self.connections
            .iter()
            .flat_map(|c| c.details.keys().map(String::as_str))
            .collect()
    }
}

/// One histogram bin.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HistogramBin {
    pub start: f64,
    pub conns: u64,
    pub bytes: u64,
    /// Records about hosts (notices naming them, …) stamped in the bin (see
    /// [`Store::host_record_counts`](crate::store::Store::host_record_counts)).
    #[serde(default)]
    pub records: u64,
}

/// Answer to `GET /api/histogram`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistogramResponse {
    pub bins: Vec<HistogramBin>,
    /// The sensors' capture-loss reports whose interval meets `[from, to)`, sorted by
    /// `(ts, peer)`: where they report loss, the bins undercount (see
    /// [`Store::capture_loss`](crate::store::Store::capture_loss)).
    #[serde(default)]
    pub capture_loss: Vec<CaptureLoss>,
}

/// What a record about hosts is called in a list: a notice's `note`
/// (`SSH::Password_Guessing`), an intel hit's indicator (`Intel: cdn.example`), or else its
/// log type.
pub fn host_record_title(log_type: &str, record: &serde_json::Value) -> String {
    let text = |field: &str| record.get(field).and_then(serde_json::Value::as_str);
    if let Some(note) = text("note") {
        note.to_string()
    } else if let Some(indicator) = text("seen.indicator") {
        format!("Intel: {indicator}")
    } else {
        log_type.to_string()
    }
}

/// Answer to `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthResponse {
    pub status: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_about_hosts_are_titled_by_note_indicator_or_log_type() {
        let notice = serde_json::json!({"note": "Scan::Port_Scan", "msg": "…"});
        assert_eq!(host_record_title("notice", &notice), "Scan::Port_Scan");
        let intel = serde_json::json!({"seen.indicator": "cdn.update-sync.example"});
        assert_eq!(
            host_record_title("intel", &intel),
            "Intel: cdn.update-sync.example"
        );
        assert_eq!(
            host_record_title("alerts", &serde_json::json!({})),
            "alerts"
        );
    }

    #[test]
    fn an_edge_connection_round_trips_with_flattened_conn_fields() {
        let connection = Connection {
            uid: "C1".into(),
            ts: 1.5,
            duration: None,
            orig_h: "10.0.0.1".parse().unwrap(),
            orig_p: Some(1),
            resp_h: "2001:db8::1".parse().unwrap(),
            resp_p: Some(443),
            proto: "tcp".into(),
            service: Some("ssl".into()),
            orig_bytes: Some(3),
            resp_bytes: None,
            conn_state: None,
            history: Some("ShA".into()),
            packets: None,
        };
        let item = EdgeConnection {
            connection,
            history_decoded: vec!["orig sent SYN".into()],
            details: BTreeMap::from([("ssl".into(), vec![serde_json::json!({"uid": "C1"})])]),
        };
        let text = serde_json::to_string(&item).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["uid"], "C1");
        assert_eq!(json["resp_h"], "2001:db8::1");
        assert_eq!(serde_json::from_str::<EdgeConnection>(&text).unwrap(), item);
    }

    #[test]
    fn inventory_fields_are_left_out_when_absent() {
        let node = GraphNode::from(Node {
            id: "10.0.0.1".into(),
            conns: 1,
            bytes: 2,
        });
        assert_eq!(
            serde_json::to_value(&node).unwrap(),
            serde_json::json!({"id": "10.0.0.1", "conns": 1, "bytes": 2})
        );
    }
}
