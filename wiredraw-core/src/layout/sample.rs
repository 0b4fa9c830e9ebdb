//! Synthetic graphs shaped like network traffic, for benchmarks and tests of layout and diff.
//!
//! Real connection graphs are mostly fans: a few servers (and scanners) talk to many hosts that
//! talk to nobody else, plus a core of busier hosts and some isolated pairs. [`traffic_graph`]
//! builds that shape at any size; [`churn`] turns one graph into "the next bucket".

use crate::graph::{Edge, Graph, Node};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeSet, HashMap, HashSet};

/// A graph with about `nodes` hosts and `edges` directed edges, the same for the same seed.
///
/// 4% of the hosts form isolated pairs; the rest are joined by a random tree that prefers
/// low-numbered hosts as parents (so those become hubs with large fans), and the remaining
/// edges join random hosts, again preferring hubs. Every host has at least one edge when
/// `edges` allows it; with fewer edges than a spanning structure needs, hosts left without an
/// edge are left out.
pub fn traffic_graph(nodes: usize, edges: usize, seed: u64) -> Graph {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let pair_hosts = (nodes / 25) & !1;
    let core = nodes - pair_hosts;
    let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(edges);
    let mut seen = HashSet::with_capacity(edges);
    let mut add = |pairs: &mut Vec<(u32, u32)>, a: u32, b: u32| {
        if a != b && pairs.len() < edges && seen.insert((a, b)) && !seen.contains(&(b, a)) {
            pairs.push((a, b));
        }
    };
    for k in (core..nodes).step_by(2) {
        add(&mut pairs, k as u32, k as u32 + 1);
    }
    for i in 1..core {
        let parent = (i as f64 * rng.random::<f64>().powi(3)) as u32;
        add(&mut pairs, i as u32, parent);
    }
    let mut attempts = 0;
    while pairs.len() < edges && core > 1 && attempts < edges * 20 {
        attempts += 1;
        let hub = (core as f64 * rng.random::<f64>().powi(2)) as u32;
        let other = rng.random_range(0..core as u32);
        add(&mut pairs, other, hub);
    }
    let edges = pairs
        .into_iter()
        .map(|(a, b)| {
            // Mostly client (higher number) to server (hub), sometimes the other way.
            let (src, dst) = if rng.random_bool(0.8) { (a, b) } else { (b, a) };
            random_edge(&mut rng, host_id(src as usize), host_id(dst as usize))
        })
        .collect();
    graph_from_edges(edges)
}

/// The next bucket after `graph`: each edge is dropped with probability `fraction`, or has its
/// counts changed with probability `fraction`; then `fraction · edges` new edges arrive, half
/// of them from a new host to an existing one, half between existing hosts. Hosts left without
/// edges go.
pub fn churn(graph: &Graph, fraction: f64, seed: u64) -> Graph {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let fraction = fraction.clamp(0.0, 1.0);
    let mut edges: Vec<Edge> = Vec::with_capacity(graph.edges.len());
    for edge in &graph.edges {
        let roll = rng.random::<f64>();
        if roll < fraction {
            continue;
        }
        let mut edge = edge.clone();
        if roll < 2.0 * fraction {
            let more = rng.random_range(1..10);
            edge.conns += more;
            edge.bytes += more * rng.random_range(40..5000);
        }
        edges.push(edge);
    }
    let arriving = (fraction * graph.edges.len() as f64).round() as usize;
    if !graph.nodes.is_empty() {
        let existing = |rng: &mut ChaCha8Rng| {
            graph.nodes[rng.random_range(0..graph.nodes.len())]
                .id
                .clone()
        };
        for _ in 0..arriving {
            let (src, dst) = if rng.random_bool(0.5) {
                let host: [u8; 3] = rng.random();
                let newcomer = format!("172.{}.{}.{}", host[0], host[1], host[2]);
                (newcomer, existing(&mut rng))
            } else {
                (existing(&mut rng), existing(&mut rng))
            };
            if src != dst {
                edges.push(random_edge(&mut rng, src, dst));
            }
        }
    }
    graph_from_edges(edges)
}

/// An IPv4-looking id for host number `i`.
fn host_id(i: usize) -> String {
    format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255)
}

fn random_edge(rng: &mut ChaCha8Rng, src: String, dst: String) -> Edge {
    let conns = 1 + (rng.random::<f64>().powi(4) * 1000.0) as u64;
    let (proto, service) = if rng.random_bool(0.8) {
        ("tcp", ["http", "ssl", "ssh", ""][rng.random_range(0..4)])
    } else {
        ("udp", ["dns", ""][rng.random_range(0..2)])
    };
    Edge {
        src,
        dst,
        conns,
        bytes: conns * rng.random_range(40..100_000),
        protos: BTreeSet::from([proto.into()]),
        services: if service.is_empty() {
            BTreeSet::new()
        } else {
            BTreeSet::from([service.into()])
        },
    }
}

/// A normalised graph over these edges, with each node's counts summed from its edges.
fn graph_from_edges(edges: Vec<Edge>) -> Graph {
    let mut totals: HashMap<&str, (u64, u64)> = HashMap::new();
    for edge in &edges {
        for id in [&edge.src, &edge.dst] {
            let t = totals.entry(id).or_default();
            t.0 += edge.conns;
            t.1 += edge.bytes;
        }
    }
    let nodes = totals
        .into_iter()
        .map(|(id, (conns, bytes))| Node {
            id: id.to_owned(),
            conns,
            bytes,
        })
        .collect();
    let mut graph = Graph {
        from: None,
        to: None,
        nodes,
        edges,
    };
    graph.normalise();
    graph
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traffic_graph_has_the_asked_size_and_is_normalised() {
        let g = traffic_graph(1000, 2000, 1);
        assert_eq!(g.nodes.len(), 1000);
        assert_eq!(g.edges.len(), 2000);
        g.validate().unwrap();
        assert_eq!(g, traffic_graph(1000, 2000, 1));
        assert_ne!(g, traffic_graph(1000, 2000, 2));
    }

    #[test]
    fn churn_keeps_most_of_the_graph() {
        let g = traffic_graph(1000, 2000, 1);
        let next = churn(&g, 0.05, 9);
        next.validate().unwrap();
        let kept = next
            .edges
            .iter()
            .filter(|e| g.edge(&e.src, &e.dst).is_some())
            .count();
        assert!(kept > 1700 && kept < 1950, "kept {kept}");
    }
}
