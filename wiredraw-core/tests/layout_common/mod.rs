//! Graph builders shared by the layout tests.

use std::collections::BTreeSet;
use wiredraw_core::{Edge, Graph};

pub fn edge(src: &str, dst: &str) -> Edge {
    Edge {
        src: src.into(),
        dst: dst.into(),
        conns: 1,
        bytes: 100,
        protos: BTreeSet::from(["tcp".into()]),
        services: BTreeSet::new(),
    }
}

/// `base` plus these edges, with nodes added for every new endpoint.
pub fn with_edges(base: &Graph, edges: impl IntoIterator<Item = Edge>) -> Graph {
    let mut graph = base.clone();
    graph.edges.extend(edges);
    graph.normalise();
    graph
}

/// A fan: `hub` talked to by `leaves` hosts named `{hub}-leaf-{i}`.
pub fn fan(hub: &str, leaves: usize) -> Vec<Edge> {
    (0..leaves)
        .map(|i| edge(&format!("{hub}-leaf-{i}"), hub))
        .collect()
}

pub fn distance(a: [f32; 3], b: [f32; 3]) -> f32 {
    (0..3).map(|k| (a[k] - b[k]).powi(2)).sum::<f32>().sqrt()
}
