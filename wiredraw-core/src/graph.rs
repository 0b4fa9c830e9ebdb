//! The aggregated connection graph of a time window: hosts and directed orig→resp edges.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A host in a window. `id` is its normalised address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    pub id: String,
    /// Connections touching this host in the window (as orig or resp).
    pub conns: u64,
    /// Bytes of those connections (orig_bytes + resp_bytes, unset as 0).
    pub bytes: u64,
}

/// All connections from `src` (orig) to `dst` (resp) in a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge {
    pub src: String,
    pub dst: String,
    pub conns: u64,
    pub bytes: u64,
    pub protos: BTreeSet<String>,
    pub services: BTreeSet<String>,
}

/// A graph snapshot. Invariant: `nodes` sorted by `id`, `edges` sorted by `(src, dst)`,
/// no duplicates, and every edge endpoint is a node.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Graph {
    /// Start of the window (seconds since the epoch), when known.
    #[serde(default)]
    pub from: Option<f64>,
    /// End of the window (exclusive), when known.
    #[serde(default)]
    pub to: Option<f64>,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}
