//! GraphDiff: applying the diff between two graphs to the first gives exactly the second.

use proptest::prelude::*;
use std::collections::BTreeSet;
use wiredraw_core::diff::DiffError;
use wiredraw_core::{Edge, Graph, GraphDiff, Node};

const IDS: [&str; 10] = [
    "10.0.0.1",
    "10.0.0.10",
    "10.0.0.2",
    "192.168.1.7",
    "2001:db8::1",
    "8.8.8.8",
    "a",
    "b",
    "c",
    "fe80::1",
];

fn names() -> impl Strategy<Value = BTreeSet<String>> {
    prop::collection::btree_set(
        prop::sample::select(vec!["tcp", "udp", "http", "ssl"]),
        0..3,
    )
    .prop_map(|s| s.into_iter().map(str::to_owned).collect())
}

/// A normalised graph over a small id universe, so two graphs share many nodes and edges.
fn graph() -> impl Strategy<Value = Graph> {
    let nodes = prop::collection::btree_map(0..IDS.len(), (0..4u64, 0..3u64), 0..IDS.len());
    (nodes, prop::option::of(0.0..1e9f64)).prop_flat_map(|(nodes, from)| {
        let present: Vec<usize> = nodes.keys().copied().collect();
        let edges = if present.is_empty() {
            Just(Vec::new()).boxed()
        } else {
            let edge = (
                prop::sample::select(present.clone()),
                prop::sample::select(present),
                0..3u64,
                0..3u64,
                names(),
                names(),
            );
            prop::collection::vec(edge, 0..20).boxed()
        };
        edges.prop_map(move |edges| {
            let mut graph = Graph {
                from,
                to: from.map(|f| f + 60.0),
                nodes: nodes
                    .iter()
                    .map(|(&i, &(conns, bytes))| Node {
                        id: IDS[i].to_owned(),
                        conns,
                        bytes,
                    })
                    .collect(),
                edges: edges
                    .into_iter()
                    .map(|(s, d, conns, bytes, protos, services)| Edge {
                        src: IDS[s].to_owned(),
                        dst: IDS[d].to_owned(),
                        conns,
                        bytes,
                        protos: protos.into_iter().map(Into::into).collect(),
                        services: services.into_iter().map(Into::into).collect(),
                    })
                    .collect(),
            };
            graph.normalise();
            graph
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn applying_the_diff_gives_the_new_graph(old in graph(), new in graph()) {
        let diff = GraphDiff::between(&old, &new);
        prop_assert_eq!(diff.apply(&old).unwrap(), new.clone());
        // Every entry is a real change, listed once.
        prop_assert!(diff.nodes_changed.iter().all(|n| old.node(&n.id).is_some_and(|o| o != n)));
        prop_assert!(diff.edges_changed.iter().all(|e| old.edge(&e.src, &e.dst).is_some_and(|o| o != e)));
        prop_assert!(diff.nodes_added.iter().all(|n| old.node(&n.id).is_none()));
        prop_assert!(diff.nodes_removed.iter().all(|id| new.node(id).is_none()));
    }

    #[test]
    fn diff_survives_json(old in graph(), new in graph()) {
        let diff = GraphDiff::between(&old, &new);
        let back: GraphDiff = serde_json::from_str(&serde_json::to_string(&diff).unwrap()).unwrap();
        prop_assert_eq!(back.apply(&old).unwrap(), new);
    }

    #[test]
    fn a_graph_has_no_diff_with_itself(g in graph()) {
        let diff = GraphDiff::between(&g, &g);
        prop_assert!(diff.is_empty());
        prop_assert_eq!(diff.len(), 0);
    }

    #[test]
    fn diffs_chain(a in graph(), b in graph(), c in graph()) {
        let ab = GraphDiff::between(&a, &b);
        let bc = GraphDiff::between(&b, &c);
        prop_assert_eq!(bc.apply(&ab.apply(&a).unwrap()).unwrap(), c);
    }

    #[test]
    fn unsorted_input_gives_the_same_diff(old in graph(), new in graph()) {
        let mut shuffled = new.clone();
        shuffled.nodes.reverse();
        shuffled.edges.reverse();
        prop_assert_eq!(GraphDiff::between(&old, &shuffled), GraphDiff::between(&old, &new));
    }
}

fn node(id: &str) -> Node {
    Node {
        id: id.into(),
        conns: 1,
        bytes: 1,
    }
}

fn edge(src: &str, dst: &str) -> Edge {
    Edge {
        src: src.into(),
        dst: dst.into(),
        conns: 1,
        bytes: 1,
        protos: BTreeSet::new(),
        services: BTreeSet::new(),
    }
}

fn graph_of(nodes: &[&str], edges: &[(&str, &str)]) -> Graph {
    Graph {
        nodes: nodes.iter().map(|id| node(id)).collect(),
        edges: edges.iter().map(|(s, d)| edge(s, d)).collect(),
        ..Graph::default()
    }
}

#[test]
fn a_diff_applied_to_another_graph_says_what_does_not_fit() {
    let old = graph_of(&["a", "b"], &[("a", "b")]);
    let new = graph_of(&["b", "c"], &[("c", "b")]);
    let diff = GraphDiff::between(&old, &new);

    let other = graph_of(&["b"], &[]);
    match diff.apply(&other) {
        Err(DiffError::MissingRemovedNode(id)) => assert_eq!(id, "a"),
        wrong => panic!("expected a missing removed node, got {wrong:?}"),
    }
    let other = graph_of(&["a", "b", "c"], &[("a", "b")]);
    match diff.apply(&other) {
        Err(DiffError::NodeAlreadyPresent(id)) => assert_eq!(id, "c"),
        wrong => panic!("expected an already present node, got {wrong:?}"),
    }
    let other = graph_of(&["a", "b"], &[]);
    assert!(matches!(
        diff.apply(&other),
        Err(DiffError::MissingRemovedEdge(s, d)) if s == "a" && d == "b"
    ));
}

#[test]
fn a_diff_that_would_leave_a_dangling_edge_is_refused() {
    let old = graph_of(&["a", "b"], &[("a", "b")]);
    let diff = GraphDiff {
        nodes_removed: vec!["b".into()],
        ..GraphDiff::default()
    };
    let err = diff.apply(&old).unwrap_err();
    assert!(err.to_string().contains("\"b\" is not a node"), "{err}");
}

#[test]
fn an_unsorted_diff_is_refused() {
    let old = graph_of(&["a"], &[]);
    let diff = GraphDiff {
        nodes_added: vec![node("c"), node("b")],
        ..GraphDiff::default()
    };
    assert!(matches!(
        diff.apply(&old),
        Err(DiffError::Unsorted("nodes"))
    ));
}

#[test]
fn the_window_follows_the_new_graph() {
    let old = Graph {
        from: Some(0.0),
        to: Some(60.0),
        ..graph_of(&["a"], &[])
    };
    let new = Graph {
        from: Some(60.0),
        to: Some(120.0),
        ..graph_of(&["a"], &[])
    };
    let diff = GraphDiff::between(&old, &new);
    assert!(diff.is_empty());
    assert_eq!(diff.apply(&old).unwrap(), new);
}
