//! Measures the project reports for the layout: speed, stability over time, and quality.
//!
//! - **Time per step**: [`time_steps`].
//! - **Stability** ([`stability`]): the mean distance that hosts present in two consecutive
//!   snapshots moved between them, as a fraction of the later layout's diameter. 0 means no
//!   host moved; 0.01 means hosts moved on average 1% of the picture's width.
//! - **Quality**:
//!   - [`normalised_stress`]: how well 3D distances match graph distances (hops). With
//!     `dᵢⱼ` the hop distance, `xᵢⱼ` the layout distance and weights `wᵢⱼ = dᵢⱼ⁻²`,
//!     `stress(s) = Σ wᵢⱼ (s·xᵢⱼ − dᵢⱼ)²` is minimised over the scale `s` (so the measure does
//!     not depend on the layout's units) and divided by `Σ wᵢⱼ dᵢⱼ² ` (the number of pairs):
//!     `1 − (Σ wdx)² / (Σ wx² · Σ wd²)`. 0 is a perfect embedding; smaller is better. Pairs in
//!     different components have no graph distance and are left out; for large graphs the
//!     sum runs over the pairs of a fixed set of pivot hosts with every other host (the
//!     usual sampled stress).
//!   - [`spread`]: how far the picture reaches beyond its largest component, so how small a
//!     view fitted to everything shows that component.
//!   - [`edge_length_cv`]: coefficient of variation (standard deviation / mean) of the 3D
//!     lengths of all springs. Leaves rest on shorter springs by design, so this is never 0;
//!     compare it between runs, not against 0.

use super::{Layout, Snapshot, StepStats};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Twice the largest distance of a position from the centroid: between the layout's true
/// diameter and twice it, and O(n).
pub fn diameter(positions: &[[f32; 3]]) -> f32 {
    if positions.is_empty() {
        return 0.0;
    }
    let mut centroid = [0.0f64; 3];
    for p in positions {
        for a in 0..3 {
            centroid[a] += f64::from(p[a]);
        }
    }
    let centroid = centroid.map(|c| c / positions.len() as f64);
    let largest = positions
        .iter()
        .map(|p| {
            (0..3)
                .map(|a| (f64::from(p[a]) - centroid[a]).powi(2))
                .sum::<f64>()
        })
        .fold(0.0f64, f64::max);
    (2.0 * largest.sqrt()) as f32
}

/// How much persisting hosts moved between two snapshots.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stability {
    /// Hosts present in both snapshots.
    pub persisting: usize,
    /// Their mean displacement, in layout units.
    pub mean_displacement: f64,
    /// Diameter of the later snapshot ([`diameter`]).
    pub diameter: f64,
}

impl Stability {
    /// Mean displacement as a fraction of the diameter (0 when nothing persisted).
    pub fn fraction(&self) -> f64 {
        if self.persisting == 0 || self.diameter == 0.0 {
            0.0
        } else {
            self.mean_displacement / self.diameter
        }
    }
}

/// Displacement of the hosts present in both snapshots (see the [module docs](self)).
pub fn stability(before: &Snapshot, after: &Snapshot) -> Stability {
    let (mut persisting, mut total) = (0usize, 0.0f64);
    let mut j = 0;
    for (i, id) in before.ids.iter().enumerate() {
        while j < after.ids.len() && after.ids[j] < *id {
            j += 1;
        }
        if j < after.ids.len() && after.ids[j] == *id {
            let (a, b) = (before.positions[i], after.positions[j]);
            let d2: f64 = (0..3).map(|k| f64::from(b[k] - a[k]).powi(2)).sum();
            total += d2.sqrt();
            persisting += 1;
        }
    }
    Stability {
        persisting,
        mean_displacement: if persisting == 0 {
            0.0
        } else {
            total / persisting as f64
        },
        diameter: f64::from(diameter(&after.positions)),
    }
}

/// Normalised stress over the pairs of up to `pivots` hosts (evenly spread over the index
/// order) with every host in their component; see the [module docs](self). `None` when the
/// graph has no connected pair.
pub fn normalised_stress(layout: &Layout, pivots: usize) -> Option<f64> {
    let adjacency = layout.adjacency();
    let positions = layout.positions();
    let n = positions.len();
    if n < 2 || pivots == 0 {
        return None;
    }
    let pivots = pivots.min(n);
    let (mut wdx, mut wxx, mut wdd) = (0.0f64, 0.0f64, 0.0f64);
    let mut hops = vec![u32::MAX; n];
    let mut queue = VecDeque::new();
    for k in 0..pivots {
        let source = k * n / pivots;
        hops.fill(u32::MAX);
        hops[source] = 0;
        queue.clear();
        queue.push_back(source);
        while let Some(node) = queue.pop_front() {
            let next = hops[node] + 1;
            for spring in adjacency.springs(node) {
                let other = spring.other as usize;
                if hops[other] == u32::MAX {
                    hops[other] = next;
                    queue.push_back(other);
                    let d = f64::from(next);
                    let (a, b) = (positions[source], positions[other]);
                    let x = (0..3)
                        .map(|c| f64::from(a[c] - b[c]).powi(2))
                        .sum::<f64>()
                        .sqrt();
                    let w = 1.0 / (d * d);
                    wdx += w * d * x;
                    wxx += w * x * x;
                    wdd += w * d * d;
                }
            }
        }
    }
    if wdd == 0.0 {
        return None;
    }
    if wxx == 0.0 {
        return Some(1.0);
    }
    Some((1.0 - wdx * wdx / (wxx * wdd)).max(0.0))
}

/// Coefficient of variation of spring lengths; `None` without springs.
pub fn edge_length_cv(layout: &Layout) -> Option<f64> {
    let adjacency = layout.adjacency();
    let positions = layout.positions();
    let (mut count, mut sum, mut sum2) = (0usize, 0.0f64, 0.0f64);
    for i in 0..adjacency.len() {
        for spring in adjacency.springs(i) {
            let j = spring.other as usize;
            if j <= i {
                continue;
            }
            let (a, b) = (positions[i], positions[j]);
            let len = (0..3)
                .map(|c| f64::from(a[c] - b[c]).powi(2))
                .sum::<f64>()
                .sqrt();
            count += 1;
            sum += len;
            sum2 += len * len;
        }
    }
    if count == 0 || sum == 0.0 {
        return None;
    }
    let mean = sum / count as f64;
    let variance = (sum2 / count as f64 - mean * mean).max(0.0);
    Some(variance.sqrt() / mean)
}

/// How far the layout reaches beyond its largest component: the diagonal of the box around
/// every host over that of the box around the largest component's hosts. A view fitted to the
/// whole picture shows the largest component that many times smaller than it could; 1 when
/// nothing lies outside its box. `None` for an empty layout or a largest component of one host.
pub fn spread(layout: &Layout) -> Option<f64> {
    let adjacency = layout.adjacency();
    let positions = layout.positions();
    let n = adjacency.len();
    let mut component = vec![usize::MAX; n];
    let mut sizes = Vec::new();
    let mut queue = VecDeque::new();
    for start in 0..n {
        if component[start] != usize::MAX {
            continue;
        }
        let id = sizes.len();
        component[start] = id;
        queue.push_back(start);
        let mut size = 0;
        while let Some(i) = queue.pop_front() {
            size += 1;
            for spring in adjacency.springs(i) {
                let j = spring.other as usize;
                if component[j] == usize::MAX {
                    component[j] = id;
                    queue.push_back(j);
                }
            }
        }
        sizes.push(size);
    }
    // The first of equally large components, as `max_by_key` keeps the last of equals.
    let largest = (0..sizes.len()).rev().max_by_key(|&c| sizes[c])?;
    let main = box_diagonal(
        positions
            .iter()
            .zip(&component)
            .filter(|(_, c)| **c == largest)
            .map(|(p, _)| p),
    );
    (main > 0.0).then(|| box_diagonal(positions.iter()) / main)
}

/// The diagonal of the axis-aligned box around `points`.
fn box_diagonal<'a>(points: impl Iterator<Item = &'a [f32; 3]>) -> f64 {
    let (mut low, mut high) = ([f64::INFINITY; 3], [f64::NEG_INFINITY; 3]);
    for p in points {
        for a in 0..3 {
            low[a] = low[a].min(f64::from(p[a]));
            high[a] = high[a].max(f64::from(p[a]));
        }
    }
    (0..3)
        .map(|a| (high[a] - low[a]).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// Takes exactly `steps` steps (converged or not) and returns the mean wall time per step with
/// the last step's stats.
pub fn time_steps(layout: &mut Layout, steps: usize) -> (Duration, StepStats) {
    let start = Instant::now();
    let mut last = layout.last_stats();
    for _ in 0..steps {
        last = layout.step();
    }
    (start.elapsed() / steps.max(1) as u32, last)
}
