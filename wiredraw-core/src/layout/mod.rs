//! A stable, incremental 3D force-directed layout.
//!
//! Hosts repel each other (inverse-square, through a Barnes-Hut octree, so a step costs
//! O(n log n)); every pair of hosts that talk is joined by a spring; a gentle pull towards the
//! origin keeps separate components packed together. Positions integrate with friction and a
//! "heat" (d3-force's alpha) that scales forces and cools each step, so the picture settles.
//!
//! The layout follows a changing graph without reshuffling it:
//! - hosts that persist keep their positions and velocities; only hosts near a change (new or
//!   lost neighbours) are warmed up, everything else cools on,
//! - a new host appears beside its already-placed neighbours, or at the rim when it has none,
//! - a removed host is remembered for a while, so when it comes back (scrubbing back and
//!   forth) it returns where it was.
//!
//! Legibility: hosts with a single peer (leaves) hang on short, stiff springs and carry less
//! charge, so a server with 500 clients becomes a tight ball around it, and an isolated pair a
//! short stick, rather than a hairball.
//!
//! For a given seed and input the result is the same on every run: placement jitter is a hash
//! of seed and host id, and each host's force is summed on its own in a fixed order, whichever
//! thread computes it.
//!
//! [`LayoutWorker`] runs a layout on its own thread and hands positions to the render thread
//! without blocking it; [`metrics`] measures speed, stability and quality.
//!
//! ```
//! use wiredraw_core::layout::{Layout, LayoutParams};
//! use wiredraw_core::{Edge, Graph, Node};
//!
//! let node = |id: &str| Node { id: id.into(), conns: 1, bytes: 0 };
//! let edge = |src: &str, dst: &str| Edge {
//!     src: src.into(), dst: dst.into(), conns: 1, bytes: 0,
//!     protos: Default::default(), services: Default::default(),
//! };
//! let graph = Graph {
//!     nodes: vec![node("10.0.0.1"), node("10.0.0.2"), node("10.0.0.3")],
//!     edges: vec![edge("10.0.0.1", "10.0.0.2"), edge("10.0.0.1", "10.0.0.3")],
//!     ..Graph::default()
//! };
//! let mut layout = Layout::new(LayoutParams::default(), 42);
//! layout.set_graph(&graph);
//! let stats = layout.run(1000);
//! assert!(stats.converged);
//! let hub = layout.position("10.0.0.1").unwrap();
//! assert!(hub.iter().all(|x| x.is_finite()));
//! ```

pub mod metrics;
mod octree;
mod place;
pub mod sample;
mod worker;

pub use worker::{FrameReader, LayoutFrame, LayoutWorker};

use crate::diff::{DiffError, GraphDiff};
use crate::graph::Graph;
use octree::{Octree, dot, sub};
use place::Placement;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// Every tunable of the layout. Lengths are in layout units (a spring between two busy hosts
/// rests at `spring_length`); the defaults suit graphs from a handful to 100k+ hosts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LayoutParams {
    /// Rest length of a spring between two hosts that both have other peers.
    pub spring_length: f32,
    /// Stiffness of such a spring (force per unit of stretch).
    pub spring_strength: f32,
    /// Rest length of a spring to a host with a single peer (a leaf): short, so fans and
    /// isolated pairs stay compact.
    pub leaf_spring_length: f32,
    /// Stiffness of a spring to a leaf.
    pub leaf_spring_strength: f32,
    /// Strength of the inverse-square repulsion between every two hosts.
    pub repulsion: f32,
    /// Charge of a leaf relative to other hosts (1.0): below 1 packs big fans tighter.
    pub leaf_charge: f32,
    /// Softening length of the repulsion: it stays finite as two hosts meet.
    pub softening: f32,
    /// Barnes-Hut opening angle: larger is faster and rougher; 0 is exact (and O(n²)).
    pub theta: f32,
    /// Pull towards the origin per unit of distance (an acceleration, the same for every
    /// host, so it moves whole components without bending them).
    pub centring: f32,
    /// Fraction of velocity lost each step.
    pub friction: f32,
    /// Largest distance a host may move in one step.
    pub max_speed: f32,
    /// Fraction of heat lost each step: about `ln(1000) / alpha_decay` steps from hot to cold.
    pub alpha_decay: f32,
    /// Heat below which a host counts as cold; when every host is, the layout has converged.
    pub alpha_min: f32,
    /// Heat of every host after the graph changes: lets the whole picture adjust a little.
    pub reheat: f32,
    /// Heat of a persisting host whose neighbours changed, and of a host that returns.
    pub touched_heat: f32,
    /// Heat of a newly placed host (so it finds its place fast).
    pub new_node_heat: f32,
    /// The layout has also converged once no host moves more than this fraction of
    /// `spring_length` in a step.
    pub rest_tolerance: f32,
    /// How many removed hosts keep their last position, so they return where they were.
    pub memory: usize,
}

impl Default for LayoutParams {
    fn default() -> Self {
        LayoutParams {
            spring_length: 10.0,
            spring_strength: 0.3,
            leaf_spring_length: 3.0,
            leaf_spring_strength: 0.6,
            repulsion: 40.0,
            leaf_charge: 0.5,
            softening: 1.0,
            theta: 0.9,
            centring: 0.01,
            friction: 0.4,
            max_speed: 10.0,
            alpha_decay: 0.0228,
            alpha_min: 0.001,
            reheat: 0.01,
            touched_heat: 0.1,
            new_node_heat: 1.0,
            rest_tolerance: 0.0005,
            memory: 200_000,
        }
    }
}

/// What one step did, for animating and for deciding when to stop.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StepStats {
    /// Steps taken since the layout was created.
    pub step: u64,
    /// Heat of the hottest host after the step.
    pub heat: f32,
    /// Largest distance a host moved in the step.
    pub max_displacement: f32,
    /// Mean distance the hosts moved in the step.
    pub mean_displacement: f32,
    /// Whether the layout has settled (every host cold, or none moving noticeably); stepping
    /// on does no harm but changes little.
    pub converged: bool,
}

/// One spring as seen from one of its ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Spring {
    pub other: u32,
    pub strength: f32,
    pub length: f32,
}

/// Undirected neighbours of each host (compressed rows); a pair that talks both ways, or
/// with several edges, is one spring.
#[derive(Debug, Clone, Default)]
pub(crate) struct Adjacency {
    starts: Vec<u32>,
    springs: Vec<Spring>,
}

impl Adjacency {
    fn build(graph: &Graph, params: &LayoutParams) -> Adjacency {
        let n = graph.nodes.len();
        let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(graph.edges.len());
        let mut src_cursor = 0;
        for edge in &graph.edges {
            while graph.nodes[src_cursor].id < edge.src {
                src_cursor += 1;
            }
            let src = src_cursor as u32;
            let dst = graph
                .node_index(&edge.dst)
                .expect("a normalised graph has every edge endpoint") as u32;
            if src != dst {
                pairs.push((src.min(dst), src.max(dst)));
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        let mut degree = vec![0u32; n];
        for &(a, b) in &pairs {
            degree[a as usize] += 1;
            degree[b as usize] += 1;
        }
        let mut starts = Vec::with_capacity(n + 1);
        starts.push(0u32);
        for d in &degree {
            starts.push(starts.last().copied().unwrap_or(0) + d);
        }
        let mut fill: Vec<u32> = starts[..n].to_vec();
        let mut springs = vec![
            Spring {
                other: 0,
                strength: 0.0,
                length: 0.0
            };
            pairs.len() * 2
        ];
        for &(a, b) in &pairs {
            let leaf = degree[a as usize] == 1 || degree[b as usize] == 1;
            let (strength, length) = if leaf {
                (params.leaf_spring_strength, params.leaf_spring_length)
            } else {
                (params.spring_strength, params.spring_length)
            };
            for (from, to) in [(a, b), (b, a)] {
                springs[fill[from as usize] as usize] = Spring {
                    other: to,
                    strength,
                    length,
                };
                fill[from as usize] += 1;
            }
        }
        // Pairs were sorted, so each row lists its neighbours in ascending order.
        Adjacency { starts, springs }
    }

    pub(crate) fn springs(&self, node: usize) -> &[Spring] {
        &self.springs[self.starts[node] as usize..self.starts[node + 1] as usize]
    }

    pub(crate) fn len(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }
}

/// A host's last position before it left the graph.
#[derive(Debug, Clone, Copy)]
struct Remembered {
    position: [f32; 3],
    /// Graph version at which it left; the oldest are forgotten first.
    left_at: u64,
}

/// Positions of every host at one moment, with the ids they belong to.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Counts graph changes ([`Layout::set_graph`], [`Layout::apply_diff`]).
    pub graph_version: u64,
    /// Host ids, sorted (the graph's node order); `positions[i]` belongs to `ids[i]`.
    pub ids: Arc<[String]>,
    pub positions: Vec<[f32; 3]>,
    /// The step that produced these positions (default before the first step).
    pub stats: StepStats,
}

impl Snapshot {
    /// Index of a host (binary search over the sorted ids).
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.ids.binary_search_by(|x| x.as_str().cmp(id)).ok()
    }

    /// Position of a host.
    pub fn position(&self, id: &str) -> Option<[f32; 3]> {
        self.index_of(id).map(|i| self.positions[i])
    }
}

/// An incremental 3D force-directed layout of a [`Graph`]. See the [module docs](self).
#[derive(Debug)]
pub struct Layout {
    params: LayoutParams,
    seed: u64,
    graph: Graph,
    graph_version: u64,
    ids: Arc<[String]>,
    adjacency: Adjacency,
    positions: Vec<[f32; 3]>,
    velocities: Vec<[f32; 3]>,
    heat: Vec<f32>,
    /// `1 + Σ spring strengths`: a host held by many springs moves less per unit of force,
    /// which keeps the explicit integration stable for hubs with thousands of peers.
    mass: Vec<f32>,
    charge: Vec<f32>,
    alpha: f32,
    steps: u64,
    last: StepStats,
    remembered: HashMap<String, Remembered>,
    /// Removal order for forgetting the oldest; entries whose host came back are stale.
    removal_order: VecDeque<(u64, String)>,
    tree: Octree,
    sorted_force: Vec<[f32; 3]>,
    force: Vec<[f32; 3]>,
}

impl Layout {
    /// An empty layout. `seed` decides every placement jitter.
    pub fn new(params: LayoutParams, seed: u64) -> Layout {
        Layout {
            params,
            seed,
            graph: Graph::default(),
            graph_version: 0,
            ids: Arc::from(Vec::new()),
            adjacency: Adjacency::default(),
            positions: Vec::new(),
            velocities: Vec::new(),
            heat: Vec::new(),
            mass: Vec::new(),
            charge: Vec::new(),
            alpha: 0.0,
            steps: 0,
            last: StepStats {
                converged: true,
                ..StepStats::default()
            },
            remembered: HashMap::new(),
            removal_order: VecDeque::new(),
            tree: Octree::default(),
            sorted_force: Vec::new(),
            force: Vec::new(),
        }
    }

    pub fn params(&self) -> &LayoutParams {
        &self.params
    }

    /// Changes the parameters; positions stay, and the layout warms up to adjust to them.
    pub fn set_params(&mut self, params: LayoutParams) {
        self.params = params;
        self.adjacency = Adjacency::build(&self.graph, &self.params);
        self.refresh_mass_and_charge();
        self.alpha = self.alpha.max(self.params.reheat);
        self.last.converged = self.positions.is_empty();
    }

    /// The graph being laid out.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// Counts graph changes so far.
    pub fn graph_version(&self) -> u64 {
        self.graph_version
    }

    /// Host ids in index order (sorted, as in the graph).
    pub fn ids(&self) -> &Arc<[String]> {
        &self.ids
    }

    /// Positions in index order (`positions()[i]` is host `ids()[i]`).
    pub fn positions(&self) -> &[[f32; 3]] {
        &self.positions
    }

    /// Index of a host.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.graph.node_index(id)
    }

    /// Position of a host.
    pub fn position(&self, id: &str) -> Option<[f32; 3]> {
        self.index_of(id).map(|i| self.positions[i])
    }

    /// What the last step did (or that nothing is left to do).
    pub fn last_stats(&self) -> StepStats {
        self.last
    }

    /// Whether the layout has settled since the last change.
    pub fn is_converged(&self) -> bool {
        self.last.converged
    }

    /// A copy of the current positions with their ids.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            graph_version: self.graph_version,
            ids: Arc::clone(&self.ids),
            positions: self.positions.clone(),
            stats: self.last,
        }
    }

    /// Lays out this graph from now on, keeping what persists (see the [module docs](self)).
    ///
    /// A graph that breaks the [`Graph`] invariant is normalised first.
    pub fn set_graph(&mut self, graph: &Graph) {
        let mut graph = graph.clone();
        if !graph.is_normalised() {
            graph.normalise();
        }
        self.replace_graph(graph);
    }

    /// Applies a diff to the current graph. On error (a diff made against another graph)
    /// nothing changes.
    pub fn apply_diff(&mut self, diff: &GraphDiff) -> Result<(), DiffError> {
        let graph = diff.apply(&self.graph)?;
        self.replace_graph(graph);
        Ok(())
    }

    fn replace_graph(&mut self, graph: Graph) {
        let adjacency = Adjacency::build(&graph, &self.params);
        let n = graph.nodes.len();
        let ids: Arc<[String]> = graph.nodes.iter().map(|n| n.id.clone()).collect();

        // Old and new ids are both sorted: one merge walk maps persisting hosts.
        let mut old_to_new = vec![u32::MAX; self.ids.len()];
        let mut positions = vec![[0.0f32; 3]; n];
        let mut velocities = vec![[0.0f32; 3]; n];
        let mut heat = vec![0.0f32; n];
        let mut placed = vec![false; n];
        let mut new_index = 0;
        let old_ids = Arc::clone(&self.ids);
        for (old_index, id) in old_ids.iter().enumerate() {
            while new_index < n && ids[new_index] < *id {
                new_index += 1;
            }
            if new_index < n && ids[new_index] == *id {
                old_to_new[old_index] = new_index as u32;
                positions[new_index] = self.positions[old_index];
                velocities[new_index] = self.velocities[old_index];
                heat[new_index] = self.heat[old_index];
                placed[new_index] = true;
            } else {
                self.remember(id, self.positions[old_index]);
            }
        }
        let persisted = placed.iter().filter(|&&p| p).count();
        let mut changed = persisted != self.ids.len() || persisted != n;

        // Persisting hosts whose neighbour set changed get warmed; mapping is monotonic (both
        // id orders agree), so the mapped old row equals the new row iff nothing changed.
        for (old_index, &new_index) in old_to_new.iter().enumerate() {
            if new_index == u32::MAX {
                continue;
            }
            let old_row = self.adjacency.springs(old_index);
            let new_row = adjacency.springs(new_index as usize);
            let same = old_row.len() == new_row.len()
                && old_row
                    .iter()
                    .zip(new_row)
                    .all(|(o, s)| old_to_new[o.other as usize] == s.other);
            if !same {
                let h = &mut heat[new_index as usize];
                *h = h.max(self.params.touched_heat);
                changed = true;
            }
        }

        for (i, id) in ids.iter().enumerate() {
            if placed[i] {
                continue;
            }
            if let Some(back) = self.remembered.remove(id) {
                positions[i] = back.position;
                placed[i] = true;
                heat[i] = self.params.touched_heat;
            }
        }
        let already_placed = placed.iter().any(|&p| p);
        let placement = Placement {
            seed: self.seed,
            ids: &ids,
            adjacency: &adjacency,
            rim: place::radius(
                positions
                    .iter()
                    .zip(&placed)
                    .filter(|(_, p)| **p)
                    .map(|(x, _)| *x),
            ) + self.params.spring_length,
            // Seeds fill a ball about as big as the settled layout will be.
            empty_ball: (!already_placed)
                .then(|| self.params.spring_length * (n as f32).cbrt().max(1.0)),
        };
        for (i, was_placed) in placed.iter().enumerate() {
            if !was_placed {
                heat[i] = self.params.new_node_heat;
            }
        }
        placement.place(&mut positions, &mut placed);

        if changed {
            self.alpha = self.alpha.max(self.params.reheat);
        }
        self.graph = graph;
        self.graph_version += 1;
        self.ids = ids;
        self.adjacency = adjacency;
        self.positions = positions;
        self.velocities = velocities;
        self.heat = heat;
        self.refresh_mass_and_charge();
        let hottest = self.heat.iter().copied().fold(self.alpha, f32::max);
        // A graph with the same hosts and springs (only counts changed) leaves a settled
        // layout settled, however it got there (cold, or at rest while still warm).
        let was_settled = !changed && self.last.converged;
        self.last = StepStats {
            step: self.steps,
            heat: hottest,
            max_displacement: 0.0,
            mean_displacement: 0.0,
            converged: n == 0 || was_settled || hottest < self.params.alpha_min,
        };
    }

    fn remember(&mut self, id: &str, position: [f32; 3]) {
        if self.params.memory == 0 {
            return;
        }
        let left_at = self.graph_version;
        self.remembered
            .insert(id.to_owned(), Remembered { position, left_at });
        self.removal_order.push_back((left_at, id.to_owned()));
        while self.remembered.len() > self.params.memory {
            let Some((left_at, id)) = self.removal_order.pop_front() else {
                break;
            };
            if self
                .remembered
                .get(&id)
                .is_some_and(|r| r.left_at == left_at)
            {
                self.remembered.remove(&id);
            }
        }
        // Hosts that came back leave stale entries behind; drop them before they pile up.
        if self.removal_order.len() > 2 * self.remembered.len() + 1024 {
            let remembered = &self.remembered;
            self.removal_order
                .retain(|(left_at, id)| remembered.get(id).is_some_and(|r| r.left_at == *left_at));
        }
    }

    /// Whether a host that left is still remembered (and would return to its old place).
    pub fn remembers(&self, id: &str) -> bool {
        self.remembered.contains_key(id)
    }

    fn refresh_mass_and_charge(&mut self) {
        let n = self.adjacency.len();
        self.mass = (0..n)
            .map(|i| {
                1.0 + self
                    .adjacency
                    .springs(i)
                    .iter()
                    .map(|s| s.strength)
                    .sum::<f32>()
            })
            .collect();
        self.charge = (0..n)
            .map(|i| {
                if self.adjacency.springs(i).len() == 1 {
                    self.params.leaf_charge
                } else {
                    1.0
                }
            })
            .collect();
    }

    /// Steps until converged or `max_steps` steps; returns the last step's stats.
    pub fn run(&mut self, max_steps: usize) -> StepStats {
        for _ in 0..max_steps {
            if self.last.converged {
                break;
            }
            self.step();
        }
        self.last
    }

    /// One integration step. Costs one octree build and one traversal per host.
    pub fn step(&mut self) -> StepStats {
        let n = self.positions.len();
        if n == 0 {
            self.last = StepStats {
                step: self.steps,
                converged: true,
                ..StepStats::default()
            };
            return self.last;
        }
        let p = &self.params;
        self.tree.build(&self.positions, &self.charge, p.theta);
        self.tree
            .repulsion(p.repulsion, p.softening, &mut self.sorted_force);
        self.force.resize(n, [0.0; 3]);
        for (&body, &f) in self.tree.order().iter().zip(&self.sorted_force) {
            self.force[body as usize] = f;
        }

        let Layout {
            positions,
            velocities,
            heat,
            mass,
            adjacency,
            force,
            alpha,
            ..
        } = self;
        let (alpha, positions_now) = (*alpha, &*positions);
        let keep = 1.0 - p.friction;
        let max_speed2 = p.max_speed * p.max_speed;
        let update = |(i, v): (usize, &mut [f32; 3])| {
            let x = positions_now[i];
            let mut f = force[i];
            for spring in adjacency.springs(i) {
                let d = sub(positions_now[spring.other as usize], x);
                let len = dot(d, d).sqrt();
                if len > 0.0 {
                    let pull = spring.strength * (len - spring.length) / len;
                    for a in 0..3 {
                        f[a] += d[a] * pull;
                    }
                }
            }
            let m = mass[i];
            let gain = alpha.max(heat[i]) / m;
            for a in 0..3 {
                f[a] -= p.centring * m * x[a];
                v[a] = (v[a] + f[a] * gain) * keep;
            }
            let speed2 = dot(*v, *v);
            if speed2 > max_speed2 {
                let scale = p.max_speed / speed2.sqrt();
                *v = v.map(|c| c * scale);
            }
        };
        if n >= 2048 {
            velocities.par_iter_mut().enumerate().for_each(update);
        } else {
            velocities.iter_mut().enumerate().for_each(update);
        }

        let (mut max_move, mut total_move) = (0.0f32, 0.0f64);
        for (x, v) in positions.iter_mut().zip(velocities.iter()) {
            for a in 0..3 {
                x[a] += v[a];
            }
            let moved = dot(*v, *v).sqrt();
            max_move = max_move.max(moved);
            total_move += f64::from(moved);
        }
        let cool = |h: f32| {
            let h = h * (1.0 - p.alpha_decay);
            if h < p.alpha_min { 0.0 } else { h }
        };
        self.alpha = cool(self.alpha);
        let mut hottest = self.alpha;
        for h in self.heat.iter_mut() {
            *h = cool(*h);
            hottest = hottest.max(*h);
        }
        self.steps += 1;
        self.last = StepStats {
            step: self.steps,
            heat: hottest,
            max_displacement: max_move,
            mean_displacement: (total_move / n as f64) as f32,
            converged: hottest < p.alpha_min || max_move < p.rest_tolerance * p.spring_length,
        };
        self.last
    }

    /// Undirected neighbours, for metrics.
    pub(crate) fn adjacency(&self) -> &Adjacency {
        &self.adjacency
    }
}
