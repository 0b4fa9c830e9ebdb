//! The aggregated connection graph of a time window: hosts and directed orig→resp edges.

use crate::contribution::{Connection, Contribution};
use crate::plugin::{ContributeError, Registry};
use crate::record::Record;
use compact_str::CompactString;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::{BTreeSet, HashSet};
use std::net::IpAddr;

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
    pub protos: BTreeSet<CompactString>,
    pub services: BTreeSet<CompactString>,
}

/// `1.5 MB`: a byte count for people (SI units, one decimal), as the viewer's panels and the DOT
/// export label traffic.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
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

/// Why a graph does not hold the [`Graph`] invariant, or why its JSON could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error("graph JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("node {index} ({id:?}) is not after node {prev:?}: nodes must be sorted by id")]
    NodesUnsorted {
        index: usize,
        prev: String,
        id: String,
    },
    #[error("node {index} ({id:?}) appears twice")]
    DuplicateNode { index: usize, id: String },
    #[error(
        "edge {index} ({src:?} -> {dst:?}) is not after edge ({prev_src:?} -> {prev_dst:?}): \
         edges must be sorted by (src, dst)"
    )]
    EdgesUnsorted {
        index: usize,
        prev_src: String,
        prev_dst: String,
        src: String,
        dst: String,
    },
    #[error("edge {index} ({src:?} -> {dst:?}) appears twice")]
    DuplicateEdge {
        index: usize,
        src: String,
        dst: String,
    },
    #[error("edge {index} ({src:?} -> {dst:?}): endpoint {missing:?} is not a node")]
    DanglingEdge {
        index: usize,
        src: String,
        dst: String,
        missing: String,
    },
}

impl Graph {
    /// Aggregates the connections active in the window `[from, to)` the way the store does.
    ///
    /// A connection is active over `[ts, ts + duration]` (unset duration counts as 0), so it
    /// counts when `ts < to` and `ts + duration >= from`. Each `uid` counts once, however often
    /// it is given. A node's `conns` and `bytes` count the connections touching the host as orig
    /// or resp (a connection from a host to itself counts once); an edge is the directed
    /// orig → resp pair, with `bytes = orig_bytes + resp_bytes` (unset as 0), the set of
    /// transport protocols, and the set of services, where a Zeek service list such as
    /// `"ssl,http"` contributes each name. Pass infinite bounds for no window; a non-finite bound
    /// is recorded as `None`.
    ///
    /// ```
    /// use wiredraw_core::{Connection, Graph};
    /// let conn = |uid: &str, orig: &str, resp: &str| Connection {
    ///     uid: uid.into(), ts: 100.0, duration: Some(2.0),
    ///     orig_h: orig.parse().unwrap(), orig_p: Some(40000),
    ///     resp_h: resp.parse().unwrap(), resp_p: Some(443),
    ///     proto: "tcp".into(), service: Some("ssl,http".into()),
    ///     orig_bytes: Some(10), resp_bytes: None,
    ///     conn_state: None, history: None, packets: None,
    /// };
    /// let g = Graph::from_connections(
    ///     &[conn("C1", "10.0.0.1", "10.0.0.2"), conn("C2", "10.0.0.1", "10.0.0.2")],
    ///     90.0, 110.0,
    /// );
    /// assert_eq!(g.nodes.len(), 2);
    /// let edge = g.edge("10.0.0.1", "10.0.0.2").unwrap();
    /// assert_eq!((edge.conns, edge.bytes), (2, 20));
    /// assert!(edge.services.contains("http") && edge.services.contains("ssl"));
    /// ```
    pub fn from_connections(conns: &[Connection], from: f64, to: f64) -> Graph {
        let mut seen_uids = HashSet::new();
        let mut builder = GraphBuilder::new();
        for conn in conns {
            if conn.ts < to && conn.end() >= from && seen_uids.insert(conn.uid.as_str()) {
                builder.add(conn);
            }
        }
        builder.finish(
            from.is_finite().then_some(from),
            to.is_finite().then_some(to),
        )
    }

    /// Aggregates records straight from logs: each record contributes through `registry` (conn
    /// records, or any custom conn-like type, give connections; other records give none), then
    /// the connections are aggregated as in [`Graph::from_connections`]. Records that could
    /// not contribute are returned with their line numbers, not dropped silently.
    ///
    /// ```
    /// use wiredraw_core::plugin::Registry;
    /// use wiredraw_core::zeek::LogReader;
    /// use wiredraw_core::Graph;
    ///
    /// let log = "#fields\tts\tuid\tid.orig_h\tid.resp_h\tproto\n\
    ///            #types\ttime\tstring\taddr\taddr\tenum\n\
    ///            10.0\tC1\t10.0.0.1\t10.0.0.2\ttcp\n\
    ///            11.0\tC2\t10.0.0.1\t-\ttcp\n";
    /// let records: Vec<_> = LogReader::new(log.as_bytes(), "conn.log", Some("conn"))
    ///     .collect::<Result<_, _>>()
    ///     .unwrap();
    /// let (graph, rejected) =
    ///     Graph::from_records(&records, &Registry::with_builtins(), 0.0, 60.0);
    /// assert_eq!(graph.edges.len(), 1);
    /// assert_eq!(rejected.len(), 1);
    /// assert_eq!(rejected[0].0, 4);
    /// assert_eq!(rejected[0].1.to_string(), "missing field id.resp_h");
    /// ```
    pub fn from_records<'r>(
        records: impl IntoIterator<Item = &'r Record>,
        registry: &Registry,
        from: f64,
        to: f64,
    ) -> (Graph, Vec<(u64, ContributeError)>) {
        let mut contribution = Contribution::default();
        let mut rejected = Vec::new();
        for record in records {
            if let Err(error) = registry.contribute(record, &mut contribution) {
                rejected.push((record.line, error));
            }
        }
        (
            Graph::from_connections(&contribution.connections, from, to),
            rejected,
        )
    }

    /// Reads a graph from the server's JSON and checks the invariant (see [`Graph::validate`]).
    ///
    /// A graph that breaks it is an error rather than silently repaired, since it means the
    /// sender is broken; a caller that wants repair can deserialize with `serde_json` and call
    /// [`Graph::normalise`].
    pub fn from_json(text: &str) -> Result<Graph, GraphError> {
        let graph: Graph = serde_json::from_str(text)?;
        graph.validate()?;
        Ok(graph)
    }

    /// Checks the invariant: nodes strictly increasing by id, edges strictly increasing by
    /// `(src, dst)`, and every edge endpoint a node. Reports the first violation.
    pub fn validate(&self) -> Result<(), GraphError> {
        for (index, pair) in self.nodes.windows(2).enumerate() {
            let (prev, node) = (&pair[0], &pair[1]);
            match prev.id.cmp(&node.id) {
                Ordering::Less => {}
                Ordering::Equal => {
                    return Err(GraphError::DuplicateNode {
                        index: index + 1,
                        id: node.id.clone(),
                    });
                }
                Ordering::Greater => {
                    return Err(GraphError::NodesUnsorted {
                        index: index + 1,
                        prev: prev.id.clone(),
                        id: node.id.clone(),
                    });
                }
            }
        }
        for (index, pair) in self.edges.windows(2).enumerate() {
            let (prev, edge) = (&pair[0], &pair[1]);
            match edge_key(prev).cmp(&edge_key(edge)) {
                Ordering::Less => {}
                Ordering::Equal => {
                    return Err(GraphError::DuplicateEdge {
                        index: index + 1,
                        src: edge.src.clone(),
                        dst: edge.dst.clone(),
                    });
                }
                Ordering::Greater => {
                    return Err(GraphError::EdgesUnsorted {
                        index: index + 1,
                        prev_src: prev.src.clone(),
                        prev_dst: prev.dst.clone(),
                        src: edge.src.clone(),
                        dst: edge.dst.clone(),
                    });
                }
            }
        }
        // Edges are sorted by src, so the src check walks the node list once.
        let mut cursor = 0;
        for (index, edge) in self.edges.iter().enumerate() {
            while cursor < self.nodes.len() && self.nodes[cursor].id < edge.src {
                cursor += 1;
            }
            let src_known = self.nodes.get(cursor).is_some_and(|n| n.id == edge.src);
            let missing = if !src_known {
                Some(&edge.src)
            } else if self.node_index(&edge.dst).is_none() {
                Some(&edge.dst)
            } else {
                None
            };
            if let Some(missing) = missing {
                return Err(GraphError::DanglingEdge {
                    index,
                    src: edge.src.clone(),
                    dst: edge.dst.clone(),
                    missing: missing.clone(),
                });
            }
        }
        Ok(())
    }

    /// Whether nodes are strictly increasing by id and edges by `(src, dst)`: the invariant
    /// without its endpoint check, in one cheap pass.
    pub fn is_sorted_and_unique(&self) -> bool {
        self.nodes
            .windows(2)
            .all(|w| IdKey(&w[0].id) < IdKey(&w[1].id))
            && self
                .edges
                .windows(2)
                .all(|w| edge_key(&w[0]) < edge_key(&w[1]))
    }

    /// Whether the invariant holds (see [`Graph::validate`]).
    pub fn is_normalised(&self) -> bool {
        self.validate().is_ok()
    }

    /// Restores the invariant without losing anything: sorts nodes and edges, merges entries
    /// that share an id (or a `(src, dst)` pair) by adding their counts and uniting their sets,
    /// and adds a zero-count node for every edge endpoint that has none.
    pub fn normalise(&mut self) {
        self.nodes.sort_by(|a, b| a.id.cmp(&b.id));
        self.nodes.dedup_by(|dup, kept| {
            let same = dup.id == kept.id;
            if same {
                kept.conns = kept.conns.saturating_add(dup.conns);
                kept.bytes = kept.bytes.saturating_add(dup.bytes);
            }
            same
        });
        self.edges.sort_by(|a, b| edge_key(a).cmp(&edge_key(b)));
        self.edges.dedup_by(|dup, kept| {
            let same = edge_key(dup) == edge_key(kept);
            if same {
                kept.conns = kept.conns.saturating_add(dup.conns);
                kept.bytes = kept.bytes.saturating_add(dup.bytes);
                kept.protos.append(&mut dup.protos);
                kept.services.append(&mut dup.services);
            }
            same
        });
        let missing: BTreeSet<&String> = self
            .edges
            .iter()
            .flat_map(|e| [&e.src, &e.dst])
            .filter(|id| self.node_index(id).is_none())
            .collect();
        if !missing.is_empty() {
            let added: Vec<Node> = missing
                .into_iter()
                .map(|id| Node {
                    id: id.clone(),
                    conns: 0,
                    bytes: 0,
                })
                .collect();
            self.nodes.extend(added);
            self.nodes.sort_by(|a, b| a.id.cmp(&b.id));
        }
    }

    /// Index of the node with this id (binary search; needs the invariant).
    pub fn node_index(&self, id: &str) -> Option<usize> {
        self.nodes.binary_search_by(|n| compare_ids(&n.id, id)).ok()
    }

    /// The node with this id.
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.node_index(id).map(|i| &self.nodes[i])
    }

    /// Index of the edge `src → dst` (binary search; needs the invariant).
    pub fn edge_index(&self, src: &str, dst: &str) -> Option<usize> {
        self.edges
            .binary_search_by(|e| (e.src.as_str(), e.dst.as_str()).cmp(&(src, dst)))
            .ok()
    }

    /// The edge `src → dst`.
    pub fn edge(&self, src: &str, dst: &str) -> Option<&Edge> {
        self.edge_index(src, dst).map(|i| &self.edges[i])
    }

    /// The edges leaving `src`, sorted by `dst`.
    pub fn edges_from(&self, src: &str) -> &[Edge] {
        let start = self.edges.partition_point(|e| e.src.as_str() < src);
        let end = start + self.edges[start..].partition_point(|e| e.src == src);
        &self.edges[start..end]
    }
}

/// Aggregates connections into a [`Graph`], rendering each address as text once; the one
/// aggregation behind [`Graph::from_connections`] and the stores' graph answers.
///
/// Each connection costs two hash lookups: its edge, keyed by the address pair, and its kind,
/// the (proto, service) pair it was written with, interned once per graph. A node's totals are
/// the sums over its edges, so they are derived at the end from the edges rather than kept per
/// connection; edges are sorted by the nodes' text order computed once, so sorting compares
/// integers.
///
/// ```
/// use wiredraw_core::{Connection, graph::GraphBuilder};
/// let conn = Connection {
///     uid: "C1".into(), ts: 100.0, duration: None,
///     orig_h: "10.0.0.1".parse().unwrap(), orig_p: None,
///     resp_h: "10.0.0.2".parse().unwrap(), resp_p: None,
///     proto: "udp".into(), service: Some("dns".into()),
///     orig_bytes: Some(40), resp_bytes: Some(90), conn_state: None, history: None,
///     packets: None,
/// };
/// let mut builder = GraphBuilder::new();
/// builder.add(&conn);
/// let graph = builder.finish(Some(100.0), Some(110.0));
/// assert_eq!(graph.edge("10.0.0.1", "10.0.0.2").unwrap().bytes, 130);
/// assert_eq!(graph.nodes[1].conns, 1);
/// ```
#[derive(Default)]
pub struct GraphBuilder<'c> {
    edges: FxHashMap<(IpAddr, IpAddr), EdgeTotals>,
    kinds: FxHashMap<(&'c str, &'c str), usize>,
    /// Per kind: its protocol and its services.
    kind_names: Vec<(&'c str, Vec<&'c str>)>,
}

#[derive(Default)]
struct EdgeTotals {
    conns: u64,
    bytes: u64,
    kinds: KindSet,
}

/// A set of interned kinds: the first 128 as bits, any further ones listed.
#[derive(Default)]
struct KindSet {
    bits: u128,
    more: Vec<usize>,
}

impl KindSet {
    fn insert(&mut self, kind: usize) {
        if kind < 128 {
            self.bits |= 1 << kind;
        } else if !self.more.contains(&kind) {
            self.more.push(kind);
        }
    }

    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        let mut bits = self.bits;
        let low = std::iter::from_fn(move || {
            (bits != 0).then(|| {
                let kind = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                kind
            })
        });
        low.chain(self.more.iter().copied())
    }
}

impl<'c> GraphBuilder<'c> {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one connection. The caller decides which connections belong to the window and
    /// gives each once.
    pub fn add(&mut self, conn: &'c Connection) {
        let kind = self.kind(conn);
        let edge = self.edges.entry((conn.orig_h, conn.resp_h)).or_default();
        edge.conns += 1;
        edge.bytes = edge.bytes.saturating_add(conn.total_bytes());
        edge.kinds.insert(kind);
    }

    fn kind(&mut self, conn: &'c Connection) -> usize {
        let service = conn.service.as_deref().unwrap_or("");
        if let Some(&kind) = self.kinds.get(&(conn.proto.as_str(), service)) {
            return kind;
        }
        let services = conn.services().collect();
        self.kind_names.push((conn.proto.as_str(), services));
        let kind = self.kind_names.len() - 1;
        self.kinds.insert((conn.proto.as_str(), service), kind);
        kind
    }

    /// The graph of the connections added, for the window `[from, to)`.
    pub fn finish(self, from: Option<f64>, to: Option<f64>) -> Graph {
        let mut totals: FxHashMap<IpAddr, (u64, u64)> = FxHashMap::default();
        for (&(src, dst), edge) in &self.edges {
            let ends = if src == dst { 1 } else { 2 };
            for addr in [src, dst].into_iter().take(ends) {
                let node = totals.entry(addr).or_default();
                node.0 += edge.conns;
                node.1 = node.1.saturating_add(edge.bytes);
            }
        }
        let mut nodes: Vec<(IpAddr, Node)> = totals
            .into_iter()
            .map(|(addr, (conns, bytes))| {
                let id = addr.to_string();
                (addr, Node { id, conns, bytes })
            })
            .collect();
        nodes.sort_unstable_by(|a, b| a.1.id.cmp(&b.1.id));
        let rank: FxHashMap<IpAddr, usize> = nodes
            .iter()
            .enumerate()
            .map(|(i, (addr, _))| (*addr, i))
            .collect();
        let mut edges: Vec<((usize, usize), EdgeTotals)> = self
            .edges
            .into_iter()
            .map(|((src, dst), totals)| ((rank[&src], rank[&dst]), totals))
            .collect();
        edges.sort_unstable_by_key(|(key, _)| *key);
        let kind_names = &self.kind_names;
        let edges = edges
            .into_iter()
            .map(|((src, dst), totals)| {
                let mut protos = BTreeSet::new();
                let mut services = BTreeSet::new();
                for kind in totals.kinds.iter() {
                    let (proto, kind_services) = &kind_names[kind];
                    protos.insert(CompactString::from(*proto));
                    services.extend(kind_services.iter().map(|s| CompactString::from(*s)));
                }
                Edge {
                    src: nodes[src].1.id.clone(),
                    dst: nodes[dst].1.id.clone(),
                    conns: totals.conns,
                    bytes: totals.bytes,
                    protos,
                    services,
                }
            })
            .collect();
        Graph {
            from,
            to,
            nodes: nodes.into_iter().map(|(_, node)| node).collect(),
            edges,
        }
    }
}

/// The sort key of an edge.
pub(crate) fn edge_key(edge: &Edge) -> (IdKey<'_>, IdKey<'_>) {
    (IdKey(&edge.src), IdKey(&edge.dst))
}

/// A host id that orders exactly as `str` does (bytewise), compared inline word by word: ids
/// are short, and a `memcmp` call per comparison dominated sortedness checks, diffs and
/// look-ups.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IdKey<'a>(pub &'a str);

impl PartialEq for IdKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len() && compare_ids(self.0, other.0) == Ordering::Equal
    }
}

impl Eq for IdKey<'_> {}

impl PartialOrd for IdKey<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for IdKey<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_ids(self.0, other.0)
    }
}

/// `a.cmp(b)` for short strings: big-endian 8-byte words compare as their bytes do.
pub(crate) fn compare_ids(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let common = a.len().min(b.len());
    let mut a_words = a[..common].chunks_exact(8);
    let mut b_words = b[..common].chunks_exact(8);
    for (x, y) in (&mut a_words).zip(&mut b_words) {
        let word = |w: &[u8]| u64::from_be_bytes(w.try_into().expect("8-byte chunk"));
        let (x, y) = (word(x), word(y));
        if x != y {
            return x.cmp(&y);
        }
    }
    // Both remainders have the same length, so zero padding keeps the byte order.
    let padded = |rest: &[u8]| {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        u64::from_be_bytes(word)
    };
    padded(a_words.remainder())
        .cmp(&padded(b_words.remainder()))
        .then(a.len().cmp(&b.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_read_well() {
        assert_eq!(format_bytes(999), "999 B");
        assert_eq!(format_bytes(1500), "1.5 kB");
        assert_eq!(format_bytes(2_300_000_000), "2.3 GB");
    }

    fn conn(uid: &str, ts: f64, duration: Option<f64>, orig: &str, resp: &str) -> Connection {
        Connection {
            uid: uid.into(),
            ts,
            duration,
            orig_h: orig.parse().unwrap(),
            orig_p: Some(50000),
            resp_h: resp.parse().unwrap(),
            resp_p: Some(80),
            proto: "tcp".into(),
            service: None,
            orig_bytes: Some(100),
            resp_bytes: Some(1000),
            conn_state: None,
            history: None,
            packets: None,
        }
    }

    #[test]
    fn aggregates_connections_active_in_the_window() {
        let mut dns = conn("C3", 105.0, None, "10.0.0.1", "10.0.0.53");
        dns.proto = "udp".into();
        dns.service = Some("dns".into());
        dns.resp_bytes = None;
        let mut web = conn("C2", 101.0, Some(1.0), "10.0.0.1", "10.0.0.2");
        web.service = Some("ssl,http".into());
        let conns = [
            conn("C1", 100.0, Some(5.0), "10.0.0.1", "10.0.0.2"),
            web,
            dns,
            // Long connection that started before the window and is still active in it.
            conn("C4", 10.0, Some(95.0), "10.0.0.9", "10.0.0.2"),
            // Ended before the window: not active.
            conn("C5", 10.0, Some(10.0), "10.0.0.8", "10.0.0.2"),
            // Starts at the window's end: not active (the end is exclusive).
            conn("C6", 110.0, None, "10.0.0.7", "10.0.0.2"),
            // A retried record: counts once.
            conn("C1", 100.0, Some(5.0), "10.0.0.1", "10.0.0.2"),
        ];
        let g = Graph::from_connections(&conns, 100.0, 110.0);
        g.validate().unwrap();
        assert_eq!((g.from, g.to), (Some(100.0), Some(110.0)));
        let ids: Vec<&str> = g.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["10.0.0.1", "10.0.0.2", "10.0.0.53", "10.0.0.9"]);

        let web = g.edge("10.0.0.1", "10.0.0.2").unwrap();
        assert_eq!((web.conns, web.bytes), (2, 2200));
        assert_eq!(web.protos, BTreeSet::from(["tcp".into()]));
        assert_eq!(web.services, BTreeSet::from(["http".into(), "ssl".into()]));
        let dns = g.edge("10.0.0.1", "10.0.0.53").unwrap();
        assert_eq!((dns.conns, dns.bytes), (1, 100));
        assert_eq!(dns.protos, BTreeSet::from(["udp".into()]));

        let host = g.node("10.0.0.1").unwrap();
        assert_eq!((host.conns, host.bytes), (3, 2300));
        let server = g.node("10.0.0.2").unwrap();
        assert_eq!((server.conns, server.bytes), (3, 3300));
        assert_eq!(g.edges_from("10.0.0.1").len(), 2);
        assert!(g.edges_from("10.0.0.2").is_empty());
    }

    #[test]
    fn a_host_talking_to_itself_counts_once_and_ipv6_is_normalised() {
        let mut looped = conn("C1", 1.0, None, "2001:0db8:0000::0001", "2001:db8::1");
        looped.orig_bytes = None;
        let g = Graph::from_connections(&[looped], f64::NEG_INFINITY, f64::INFINITY);
        assert_eq!((g.from, g.to), (None, None));
        assert_eq!(
            g.nodes,
            [Node {
                id: "2001:db8::1".into(),
                conns: 1,
                bytes: 1000
            }]
        );
        assert_eq!(g.edge("2001:db8::1", "2001:db8::1").unwrap().conns, 1);
    }

    fn node(id: &str) -> Node {
        Node {
            id: id.into(),
            conns: 1,
            bytes: 10,
        }
    }

    fn edge(src: &str, dst: &str) -> Edge {
        Edge {
            src: src.into(),
            dst: dst.into(),
            conns: 1,
            bytes: 10,
            protos: BTreeSet::from(["tcp".into()]),
            services: BTreeSet::new(),
        }
    }

    #[test]
    fn validate_names_the_first_violation() {
        let ok = Graph {
            nodes: vec![node("a"), node("b")],
            edges: vec![edge("a", "b"), edge("b", "a")],
            ..Graph::default()
        };
        ok.validate().unwrap();

        let unsorted = Graph {
            nodes: vec![node("b"), node("a")],
            ..Graph::default()
        };
        assert!(matches!(
            unsorted.validate(),
            Err(GraphError::NodesUnsorted { index: 1, .. })
        ));
        let twice = Graph {
            nodes: vec![node("a"), node("a")],
            ..Graph::default()
        };
        assert!(matches!(
            twice.validate(),
            Err(GraphError::DuplicateNode { .. })
        ));
        let dangling = Graph {
            nodes: vec![node("a")],
            edges: vec![edge("a", "z")],
            ..Graph::default()
        };
        let err = dangling.validate().unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"edge 0 ("a" -> "z"): endpoint "z" is not a node"#
        );
        let dangling_src = Graph {
            nodes: vec![node("b")],
            edges: vec![edge("a", "b")],
            ..Graph::default()
        };
        assert!(matches!(
            dangling_src.validate(),
            Err(GraphError::DanglingEdge { missing, .. }) if missing == "a"
        ));
        let edges_twice = Graph {
            nodes: vec![node("a"), node("b")],
            edges: vec![edge("a", "b"), edge("a", "b")],
            ..Graph::default()
        };
        assert!(matches!(
            edges_twice.validate(),
            Err(GraphError::DuplicateEdge { index: 1, .. })
        ));
    }

    #[test]
    fn normalise_merges_duplicates_and_adds_missing_endpoints() {
        let mut udp = edge("b", "a");
        udp.protos = BTreeSet::from(["udp".into()]);
        let mut g = Graph {
            nodes: vec![node("b"), node("a"), node("b")],
            edges: vec![edge("b", "a"), edge("a", "c"), udp],
            ..Graph::default()
        };
        g.normalise();
        g.validate().unwrap();
        let ids: Vec<&str> = g.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        assert_eq!(g.node("b").unwrap().conns, 2);
        assert_eq!(g.node("c").unwrap().conns, 0);
        let merged = g.edge("b", "a").unwrap();
        assert_eq!(merged.conns, 2);
        assert_eq!(merged.protos.len(), 2);
    }

    #[test]
    fn from_json_reads_the_server_shape_and_rejects_broken_graphs() {
        let g = Graph {
            from: Some(60.0),
            to: Some(120.0),
            nodes: vec![node("10.0.0.1"), node("10.0.0.2")],
            edges: vec![edge("10.0.0.1", "10.0.0.2")],
        };
        let text = serde_json::to_string(&g).unwrap();
        assert_eq!(Graph::from_json(&text).unwrap(), g);
        // The window may be left out.
        let bare = r#"{"nodes":[{"id":"a","conns":1,"bytes":2}],"edges":[]}"#;
        assert_eq!(Graph::from_json(bare).unwrap().from, None);

        let err = Graph::from_json(r#"{"nodes":[{"id":"a"}],"edges":[]}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `conns`"), "{err}");
        let broken = r#"{"nodes":[{"id":"a","conns":1,"bytes":2}],"edges":[
            {"src":"a","dst":"b","conns":1,"bytes":1,"protos":[],"services":[]}]}"#;
        assert!(matches!(
            Graph::from_json(broken),
            Err(GraphError::DanglingEdge { .. })
        ));
    }
}
