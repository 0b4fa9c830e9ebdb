//! What changed between two graph snapshots, and replaying that change.
//!
//! The viewer asks for the graph at the playhead again and again; between two answers most
//! hosts are the same. A [`GraphDiff`] carries only what differs, so the layout and the renderer
//! can add, remove and update just those nodes and edges.
//!
//! ```
//! use wiredraw_core::{Graph, GraphDiff, Node};
//! let node = |id: &str, conns| Node { id: id.into(), conns, bytes: 0 };
//! let old = Graph { nodes: vec![node("a", 1), node("b", 1)], ..Graph::default() };
//! let new = Graph { nodes: vec![node("b", 2), node("c", 1)], ..Graph::default() };
//! let diff = GraphDiff::between(&old, &new);
//! assert_eq!(diff.nodes_removed, ["a"]);
//! assert_eq!(diff.nodes_changed, [node("b", 2)]);
//! assert_eq!(diff.nodes_added, [node("c", 1)]);
//! assert_eq!(diff.apply(&old).unwrap(), new);
//! ```

use crate::graph::{Edge, Graph, GraphError, IdKey, Node, compare_ids, edge_key};
use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeSet;

/// The directed pair naming an edge: `(src, dst)`.
pub type EdgeKey = (String, String);

/// The change from one graph to another. Every list is sorted by id (edges by `(src, dst)`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GraphDiff {
    /// The new graph's window start.
    #[serde(default)]
    pub from: Option<f64>,
    /// The new graph's window end.
    #[serde(default)]
    pub to: Option<f64>,
    /// Nodes only in the new graph.
    pub nodes_added: Vec<Node>,
    /// Ids of nodes only in the old graph.
    pub nodes_removed: Vec<String>,
    /// Nodes in both whose counts differ, with their new values.
    pub nodes_changed: Vec<Node>,
    /// Edges only in the new graph.
    pub edges_added: Vec<Edge>,
    /// Edges only in the old graph.
    pub edges_removed: Vec<EdgeKey>,
    /// Edges in both whose counts or sets differ, with their new values.
    pub edges_changed: Vec<Edge>,
}

/// Why a diff could not be applied: it was not made against this graph.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("diff removes node {0:?}, which the graph does not have")]
    MissingRemovedNode(String),
    #[error("diff changes node {0:?}, which the graph does not have")]
    MissingChangedNode(String),
    #[error("diff adds node {0:?}, which the graph already has")]
    NodeAlreadyPresent(String),
    #[error("diff removes edge {0:?} -> {1:?}, which the graph does not have")]
    MissingRemovedEdge(String, String),
    #[error("diff changes edge {0:?} -> {1:?}, which the graph does not have")]
    MissingChangedEdge(String, String),
    #[error("diff adds edge {0:?} -> {1:?}, which the graph already has")]
    EdgeAlreadyPresent(String, String),
    #[error("diff is not sorted or has duplicates in {0}")]
    Unsorted(&'static str),
    #[error("applying the diff breaks the graph invariant: {0}")]
    Invalid(#[from] GraphError),
}

impl GraphDiff {
    /// The change that turns `old` into `new`.
    ///
    /// Both graphs are expected to hold the [`Graph`] invariant. One whose nodes or edges are
    /// unsorted or duplicated is normalised first (a copy), so the diff is still right.
    /// Endpoints are not looked up (that would cost more than the diff itself): the diff of
    /// graphs with dangling edges still carries them, and [`GraphDiff::apply`] refuses the
    /// broken result.
    pub fn between(old: &Graph, new: &Graph) -> GraphDiff {
        // The walk checks sortedness as it goes, so well-formed graphs (the usual case) are read
        // once; only a graph that breaks the invariant pays for a normalised copy.
        diff_sorted(old, new).unwrap_or_else(|| {
            diff_sorted(&normalised(old), &normalised(new))
                .expect("normalised graphs are sorted and unique")
        })
    }

    /// Whether the two graphs had the same nodes and edges (the window may still differ).
    pub fn is_empty(&self) -> bool {
        self.nodes_added.is_empty()
            && self.nodes_removed.is_empty()
            && self.nodes_changed.is_empty()
            && self.edges_added.is_empty()
            && self.edges_removed.is_empty()
            && self.edges_changed.is_empty()
    }

    /// Number of node and edge entries the diff carries.
    pub fn len(&self) -> usize {
        self.nodes_added.len()
            + self.nodes_removed.len()
            + self.nodes_changed.len()
            + self.edges_added.len()
            + self.edges_removed.len()
            + self.edges_changed.len()
    }

    /// Replays the change on `old`: for the `old` the diff was made from, the result equals that
    /// `new` exactly. A diff made against some other graph is an error naming the first entry
    /// that does not fit, and the result always holds the [`Graph`] invariant.
    pub fn apply(&self, old: &Graph) -> Result<Graph, DiffError> {
        let nodes = merge_apply(
            &old.nodes,
            &self.nodes_removed,
            &self.nodes_changed,
            &self.nodes_added,
            |n| IdKey(&n.id),
            |id| IdKey(id),
            ApplyErrors {
                missing_removed: |id: IdKey<'_>| DiffError::MissingRemovedNode(id.0.to_owned()),
                missing_changed: |id: IdKey<'_>| DiffError::MissingChangedNode(id.0.to_owned()),
                already_present: |id: IdKey<'_>| DiffError::NodeAlreadyPresent(id.0.to_owned()),
                list: "nodes",
            },
        )?;
        let edges = merge_apply(
            &old.edges,
            &self.edges_removed,
            &self.edges_changed,
            &self.edges_added,
            edge_key,
            |(src, dst)| (IdKey(src), IdKey(dst)),
            ApplyErrors {
                missing_removed: |(s, d): (IdKey<'_>, IdKey<'_>)| {
                    DiffError::MissingRemovedEdge(s.0.to_owned(), d.0.to_owned())
                },
                missing_changed: |(s, d): (IdKey<'_>, IdKey<'_>)| {
                    DiffError::MissingChangedEdge(s.0.to_owned(), d.0.to_owned())
                },
                already_present: |(s, d): (IdKey<'_>, IdKey<'_>)| {
                    DiffError::EdgeAlreadyPresent(s.0.to_owned(), d.0.to_owned())
                },
                list: "edges",
            },
        )?;
        let graph = Graph {
            from: self.from,
            to: self.to,
            nodes,
            edges,
        };
        // Sorting and uniqueness hold by construction; only endpoints can dangle, and only
        // through a removed node or an added edge, so check just those.
        let dangling = self
            .edges_added
            .iter()
            .any(|e| graph.node_index(&e.src).is_none() || graph.node_index(&e.dst).is_none())
            || (!self.nodes_removed.is_empty()
                && graph.edges.iter().any(|e| {
                    [&e.src, &e.dst].into_iter().any(|id| {
                        self.nodes_removed
                            .binary_search_by(|gone| compare_ids(gone, id))
                            .is_ok()
                    })
                }));
        if dangling {
            graph.validate()?;
        }
        Ok(graph)
    }
}

/// The diff of two graphs whose lists are sorted and unique, or `None` when one is not.
fn diff_sorted(old: &Graph, new: &Graph) -> Option<GraphDiff> {
    let mut diff = GraphDiff {
        from: new.from,
        to: new.to,
        ..GraphDiff::default()
    };
    let nodes_sorted = merge_walk(
        &old.nodes,
        &new.nodes,
        |n| IdKey(&n.id),
        |gone| diff.nodes_removed.push(gone.id.clone()),
        |came| diff.nodes_added.push(came.clone()),
        // The walk matched the ids already: compare only the values.
        |was, now| {
            if (was.conns, was.bytes) != (now.conns, now.bytes) {
                diff.nodes_changed.push(now.clone());
            }
        },
    );
    if !nodes_sorted {
        return None;
    }
    let edges_sorted = merge_walk(
        &old.edges,
        &new.edges,
        edge_key,
        |gone| {
            diff.edges_removed
                .push((gone.src.clone(), gone.dst.clone()))
        },
        |came| diff.edges_added.push(came.clone()),
        |was, now| {
            let same = (was.conns, was.bytes) == (now.conns, now.bytes)
                && same_names(&was.protos, &now.protos)
                && same_names(&was.services, &now.services);
            if !same {
                diff.edges_changed.push(now.clone());
            }
        },
    );
    edges_sorted.then_some(diff)
}

/// `a == b` for the small sets an edge carries: most hold one name, and comparing that one
/// directly skips setting up two tree iterators per set.
fn same_names(a: &BTreeSet<CompactString>, b: &BTreeSet<CompactString>) -> bool {
    a.len() == b.len()
        && match a.len() {
            0 => true,
            1 => a.first() == b.first(),
            _ => a == b,
        }
}

fn normalised(graph: &Graph) -> Cow<'_, Graph> {
    if graph.is_sorted_and_unique() {
        Cow::Borrowed(graph)
    } else {
        let mut copy = graph.clone();
        copy.normalise();
        Cow::Owned(copy)
    }
}

/// Walks two lists sorted by `key`, reporting entries only in `old`, only in `new`, and in both.
/// Returns false, having stopped early, when either list is not strictly increasing.
fn merge_walk<'a, T, K: Ord + Copy>(
    old: &'a [T],
    new: &'a [T],
    key: impl Fn(&'a T) -> K,
    mut only_old: impl FnMut(&'a T),
    mut only_new: impl FnMut(&'a T),
    mut both: impl FnMut(&'a T, &'a T),
) -> bool {
    let (mut i, mut j) = (0, 0);
    let (mut prev_old, mut prev_new): (Option<K>, Option<K>) = (None, None);
    let increasing = |prev: &mut Option<K>, next: K| {
        let ok = prev.is_none_or(|p| p < next);
        *prev = Some(next);
        ok
    };
    while i < old.len() && j < new.len() {
        let (a, b) = (key(&old[i]), key(&new[j]));
        match a.cmp(&b) {
            Ordering::Less => {
                if !increasing(&mut prev_old, a) {
                    return false;
                }
                only_old(&old[i]);
                i += 1;
            }
            Ordering::Greater => {
                if !increasing(&mut prev_new, b) {
                    return false;
                }
                only_new(&new[j]);
                j += 1;
            }
            Ordering::Equal => {
                if !increasing(&mut prev_old, a) || !increasing(&mut prev_new, b) {
                    return false;
                }
                both(&old[i], &new[j]);
                i += 1;
                j += 1;
            }
        }
    }
    for item in &old[i..] {
        if !increasing(&mut prev_old, key(item)) {
            return false;
        }
        only_old(item);
    }
    for item in &new[j..] {
        if !increasing(&mut prev_new, key(item)) {
            return false;
        }
        only_new(item);
    }
    true
}

/// How [`merge_apply`] names a misfit entry.
struct ApplyErrors<E1, E2, E3> {
    missing_removed: E1,
    missing_changed: E2,
    already_present: E3,
    list: &'static str,
}

/// Merges sorted `old` with sorted removals, replacements and insertions in one pass.
fn merge_apply<'a, T: Clone, R, K: Ord + Copy, E1, E2, E3>(
    old: &'a [T],
    removed: &'a [R],
    changed: &'a [T],
    added: &'a [T],
    key: impl Fn(&'a T) -> K,
    removed_key: impl Fn(&'a R) -> K,
    errors: ApplyErrors<E1, E2, E3>,
) -> Result<Vec<T>, DiffError>
where
    E1: Fn(K) -> DiffError,
    E2: Fn(K) -> DiffError,
    E3: Fn(K) -> DiffError,
{
    if !strictly_sorted(removed.iter().map(&removed_key))
        || !strictly_sorted(changed.iter().map(&key))
        || !strictly_sorted(added.iter().map(&key))
    {
        return Err(DiffError::Unsorted(errors.list));
    }
    let mut out = Vec::with_capacity(old.len() + added.len() - removed.len().min(old.len()));
    let (mut r, mut c, mut a) = (0, 0, 0);
    for item in old {
        let k = key(item);
        while let Some(next) = added.get(a).filter(|n| key(n) < k) {
            out.push(next.clone());
            a += 1;
        }
        if added.get(a).is_some_and(|n| key(n) == k) {
            return Err((errors.already_present)(k));
        }
        if let Some(gone) = removed.get(r).map(&removed_key).filter(|g| *g <= k) {
            if gone < k {
                return Err((errors.missing_removed)(gone));
            }
            r += 1;
            continue;
        }
        match changed.get(c).filter(|n| key(n) <= k) {
            Some(now) if key(now) < k => return Err((errors.missing_changed)(key(now))),
            Some(now) => {
                out.push(now.clone());
                c += 1;
            }
            None => out.push(item.clone()),
        }
    }
    if let Some(gone) = removed.get(r) {
        return Err((errors.missing_removed)(removed_key(gone)));
    }
    if let Some(now) = changed.get(c) {
        return Err((errors.missing_changed)(key(now)));
    }
    out.extend_from_slice(&added[a..]);
    Ok(out)
}

fn strictly_sorted<K: Ord>(mut keys: impl Iterator<Item = K>) -> bool {
    let Some(mut prev) = keys.next() else {
        return true;
    };
    for key in keys {
        if prev >= key {
            return false;
        }
        prev = key;
    }
    true
}
