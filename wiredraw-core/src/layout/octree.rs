//! Barnes-Hut octree: repulsion between all pairs of bodies in O(n log n).
//!
//! Cells are stored in depth-first order, so a cell's first child is the next cell and `next`
//! skips its whole subtree: a traversal is one loop over an array, with no stack. Bodies are kept
//! in tree order as well, so neighbouring bodies (which walk nearly the same cells) are
//! evaluated together and their data sits together in memory.

use rayon::prelude::*;

/// Bodies per leaf cell; smaller makes deeper trees and more walks, larger makes more exact
/// pair work (cheap, as it is summed in vector lanes).
const LEAF_SIZE: usize = 16;
/// Guards against unbounded splitting when many bodies share one point.
const MAX_DEPTH: u32 = 24;
/// Leaves evaluated per parallel task at least; enough to amortise scheduling.
const LEAVES_PER_TASK: usize = 8;
/// Below this many bodies one thread is faster than fanning out.
const PARALLEL_MIN: usize = 2048;

#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    /// Charge-weighted centre.
    centre: [f32; 3],
    charge: f32,
    /// A body farther than this from `centre` may treat the cell as one charge.
    open_r: f32,
    /// Index of the cell after this one's subtree.
    next: u32,
    /// First body (tree order) of a leaf.
    first: u32,
    /// Bodies in a leaf; 0 for an inner cell.
    count: u32,
}

/// A reusable octree: building it again reuses every buffer.
#[derive(Debug, Default)]
pub(super) struct Octree {
    cells: Vec<Cell>,
    /// Body index (as given to `build`) for each tree position.
    order: Vec<u32>,
    scratch: Vec<u32>,
    octants: Vec<u8>,
    positions: Vec<[f32; 3]>,
    charges: Vec<f32>,
}

impl Octree {
    /// Rebuilds the tree over `positions` with the given charges.
    ///
    /// `theta` is the opening angle: a cell of side `s` whose charge centre lies `d` away is
    /// treated as one charge when `d > s / theta + δ`, where `δ` is the distance between the
    /// cell's geometric and charge centres (Barnes' `bmax` criterion). Beyond the usual `s/d <
    /// theta` this guarantees that a cell containing the body itself is always opened.
    pub(super) fn build(&mut self, positions: &[[f32; 3]], charges: &[f32], theta: f32) {
        let n = positions.len();
        self.cells.clear();
        self.order.clear();
        self.order.extend(0..n as u32);
        self.scratch.resize(n, 0);
        self.octants.resize(n, 0);
        if n == 0 {
            self.positions.clear();
            self.charges.clear();
            return;
        }
        let (mut lo, mut hi) = ([f32::INFINITY; 3], [f32::NEG_INFINITY; 3]);
        for p in positions {
            for a in 0..3 {
                lo[a] = lo[a].min(p[a]);
                hi[a] = hi[a].max(p[a]);
            }
        }
        let centre = [0, 1, 2].map(|a| 0.5 * (lo[a] + hi[a]));
        let half = (0..3).map(|a| hi[a] - lo[a]).fold(0.0f32, f32::max) * 0.5001 + 1e-3;
        let mut builder = Builder {
            tree: self,
            positions,
            charges,
            inverse_theta: if theta > 0.0 {
                1.0 / theta
            } else {
                f32::INFINITY
            },
        };
        builder.cell(0, n, centre, half, 0);
        self.positions.clear();
        self.positions
            .extend(self.order.iter().map(|&b| positions[b as usize]));
        self.charges.clear();
        self.charges
            .extend(self.order.iter().map(|&b| charges[b as usize]));
    }

    /// Body index (as given to `build`) at each tree position.
    pub(super) fn order(&self) -> &[u32] {
        &self.order
    }

    /// Repulsion on every body, in tree order: `strength · qᵢ Σⱼ qⱼ (xᵢ − xⱼ) / (|xᵢ − xⱼ|² +
    /// ε²)^{3/2}` (inverse-square, softened by `ε` so near neighbours stay finite).
    ///
    /// The bodies of one leaf walk the tree together: a cell is taken as one charge when it is
    /// far enough from every body of the leaf (from the leaf's bounding sphere), so one walk
    /// serves them all and each then sums a flat list. Each body's sum is formed alone in a
    /// fixed order, so the result does not depend on how the work is split across threads.
    pub(super) fn repulsion(&self, strength: f32, softening: f32, out: &mut Vec<[f32; 3]>) {
        let n = self.positions.len();
        out.resize(n, [0.0; 3]);
        let eps2 = softening * softening;
        // Leaves in depth-first order hold tree positions 0..n in order.
        let mut groups: Vec<(usize, &mut [[f32; 3]])> = Vec::new();
        let mut rest = out.as_mut_slice();
        for (index, cell) in self.cells.iter().enumerate() {
            if cell.count > 0 {
                let (head, tail) = std::mem::take(&mut rest).split_at_mut(cell.count as usize);
                groups.push((index, head));
                rest = tail;
            }
        }
        let fill = |lists: &mut Interactions, (leaf, forces): &mut (usize, &mut [[f32; 3]])| {
            self.leaf_forces(*leaf, forces, strength, eps2, lists);
        };
        if n >= PARALLEL_MIN {
            groups
                .par_iter_mut()
                .with_min_len(LEAVES_PER_TASK)
                .for_each_init(Interactions::default, fill);
        } else {
            let mut lists = Interactions::default();
            groups.iter_mut().for_each(|group| fill(&mut lists, group));
        }
    }

    /// Forces on the bodies of one leaf (`out[k]` for tree position `first + k`).
    fn leaf_forces(
        &self,
        leaf: usize,
        out: &mut [[f32; 3]],
        strength: f32,
        eps2: f32,
        lists: &mut Interactions,
    ) {
        let cells = self.cells.as_slice();
        let first = cells[leaf].first as usize;
        let bodies = &self.positions[first..first + out.len()];
        let mut centre = [0.0f32; 3];
        for p in bodies {
            for a in 0..3 {
                centre[a] += p[a] / bodies.len() as f32;
            }
        }
        let radius = bodies
            .iter()
            .map(|p| dot(sub(*p, centre), sub(*p, centre)))
            .fold(0.0f32, f32::max)
            .sqrt();

        lists.clear();
        let mut c = 0;
        while c < cells.len() {
            let cell = &cells[c];
            let d = sub(centre, cell.centre);
            // Far from every body of the leaf: beyond its bounding sphere by `open_r`.
            let reach = radius + cell.open_r;
            if dot(d, d) > reach * reach {
                lists.push(cell.centre, cell.charge);
                c = cell.next as usize;
            } else if cell.count > 0 {
                let range = cell.first as usize..(cell.first + cell.count) as usize;
                lists.near.push((cell.first, cell.count));
                for (p, &q) in self.positions[range.clone()]
                    .iter()
                    .zip(&self.charges[range])
                {
                    lists.push(*p, q);
                }
                c = cell.next as usize;
            } else {
                c += 1;
            }
        }

        for (k, force) in out.iter_mut().enumerate() {
            let body = first + k;
            let p = self.positions[body];
            let (mut f, coincident) = lists.sum(p, eps2);
            // The body itself is in the list and meets itself at distance 0 (which adds
            // nothing); any other body on the same point needs parting.
            if coincident > 1 {
                self.part_coincident(body, p, eps2, &lists.near, &mut f);
            }
            let scale = strength * self.charges[body];
            *force = f.map(|x| x * scale);
        }
    }

    /// Adds the push between `body` and every other body on its very point: along x, the lower
    /// index first, so the outcome is the same on every run.
    fn part_coincident(
        &self,
        body: usize,
        p: [f32; 3],
        eps2: f32,
        near: &[(u32, u32)],
        f: &mut [f32; 3],
    ) {
        for &(start, count) in near {
            let start = start as usize;
            for other in start..start + count as usize {
                if other != body && self.positions[other] == p {
                    let r2 = 1e-6 + eps2;
                    let push = 1e-3 * self.charges[other] / (r2 * r2.sqrt());
                    f[0] += if body < other { -push } else { push };
                }
            }
        }
    }
}

/// Lanes summed side by side: independent accumulators let the compiler vectorise the sum,
/// and the fixed lane order keeps the result the same on every run.
const LANES: usize = 8;

/// What one leaf's bodies interact with, as point charges in columns (far cells as single
/// charges, then every body of the near leaves), plus the body ranges of the near leaves.
/// Reused from leaf to leaf.
#[derive(Default)]
struct Interactions {
    x: Vec<f32>,
    y: Vec<f32>,
    z: Vec<f32>,
    charge: Vec<f32>,
    near: Vec<(u32, u32)>,
}

impl Interactions {
    fn clear(&mut self) {
        self.x.clear();
        self.y.clear();
        self.z.clear();
        self.charge.clear();
        self.near.clear();
    }

    fn push(&mut self, [x, y, z]: [f32; 3], charge: f32) {
        self.x.push(x);
        self.y.push(y);
        self.z.push(z);
        self.charge.push(charge);
    }

    /// `Σⱼ qⱼ (p − xⱼ) / (|p − xⱼ|² + ε²)^{3/2}` over the list, and how many entries sit
    /// exactly on `p` (those add nothing).
    fn sum(&self, p: [f32; 3], eps2: f32) -> ([f32; 3], usize) {
        // Written as whole-lane array steps, with a select instead of a branch, so that each
        // step becomes one vector instruction.
        let (mut fx, mut fy, mut fz) = ([0.0f32; LANES], [0.0f32; LANES], [0.0f32; LANES]);
        let mut zeros = [0.0f32; LANES];
        let columns = self
            .x
            .chunks_exact(LANES)
            .zip(self.y.chunks_exact(LANES))
            .zip(self.z.chunks_exact(LANES))
            .zip(self.charge.chunks_exact(LANES));
        for (((x, y), z), q) in columns {
            let (mut dx, mut dy, mut dz) = ([0.0f32; LANES], [0.0f32; LANES], [0.0f32; LANES]);
            let mut scale = [0.0f32; LANES];
            for l in 0..LANES {
                dx[l] = p[0] - x[l];
                dy[l] = p[1] - y[l];
                dz[l] = p[2] - z[l];
            }
            for l in 0..LANES {
                let d2 = dx[l] * dx[l] + dy[l] * dy[l] + dz[l] * dz[l];
                let r2 = d2 + eps2;
                let s = q[l] / (r2 * r2.sqrt());
                scale[l] = if r2 > 0.0 { s } else { 0.0 };
                zeros[l] += if d2 == 0.0 { 1.0 } else { 0.0 };
            }
            for l in 0..LANES {
                fx[l] += dx[l] * scale[l];
                fy[l] += dy[l] * scale[l];
                fz[l] += dz[l] * scale[l];
            }
        }
        let mut f = [fx, fy, fz].map(|lanes| lanes.iter().sum::<f32>());
        let mut coincident = zeros.iter().sum::<f32>() as usize;
        let tail = self.x.len() - self.x.len() % LANES;
        for j in tail..self.x.len() {
            let d = [p[0] - self.x[j], p[1] - self.y[j], p[2] - self.z[j]];
            let d2 = dot(d, d);
            let r2 = d2 + eps2;
            if r2 > 0.0 {
                let scale = self.charge[j] / (r2 * r2.sqrt());
                for a in 0..3 {
                    f[a] += d[a] * scale;
                }
            }
            coincident += usize::from(d2 == 0.0);
        }
        (f, coincident)
    }
}

struct Builder<'a> {
    tree: &'a mut Octree,
    positions: &'a [[f32; 3]],
    charges: &'a [f32],
    inverse_theta: f32,
}

impl Builder<'_> {
    /// Builds the cell holding tree positions `lo..hi` and its subtree; returns its index.
    fn cell(&mut self, lo: usize, hi: usize, centre: [f32; 3], half: f32, depth: u32) -> usize {
        let index = self.tree.cells.len();
        self.tree.cells.push(Cell::default());
        if hi - lo <= LEAF_SIZE || depth >= MAX_DEPTH {
            let (mut weighted, mut charge, mut plain) = ([0.0f32; 3], 0.0f32, [0.0f32; 3]);
            for &b in &self.tree.order[lo..hi] {
                let (p, q) = (self.positions[b as usize], self.charges[b as usize]);
                for a in 0..3 {
                    weighted[a] += p[a] * q;
                    plain[a] += p[a];
                }
                charge += q;
            }
            let count = (hi - lo) as f32;
            let charge_centre = if charge > 0.0 {
                weighted.map(|x| x / charge)
            } else {
                plain.map(|x| x / count)
            };
            self.tree.cells[index] = Cell {
                centre: charge_centre,
                charge,
                open_r: self.open_r(charge_centre, centre, half),
                next: index as u32 + 1,
                first: lo as u32,
                count: (hi - lo) as u32,
            };
            return index;
        }

        let mut counts = [0usize; 8];
        for k in lo..hi {
            let p = self.positions[self.tree.order[k] as usize];
            let octant = usize::from(p[0] >= centre[0])
                | usize::from(p[1] >= centre[1]) << 1
                | usize::from(p[2] >= centre[2]) << 2;
            self.tree.octants[k] = octant as u8;
            counts[octant] += 1;
        }
        let mut starts = [0usize; 8];
        for o in 1..8 {
            starts[o] = starts[o - 1] + counts[o - 1];
        }
        let mut fill = starts;
        for k in lo..hi {
            let o = self.tree.octants[k] as usize;
            self.tree.scratch[lo + fill[o]] = self.tree.order[k];
            fill[o] += 1;
        }
        self.tree.order[lo..hi].copy_from_slice(&self.tree.scratch[lo..hi]);

        let (mut weighted, mut charge, mut plain, mut mass) = ([0.0f32; 3], 0.0f32, [0.0; 3], 0.0);
        let quarter = half * 0.5;
        for o in 0..8 {
            if counts[o] == 0 {
                continue;
            }
            let child_centre = [
                centre[0] + if o & 1 != 0 { quarter } else { -quarter },
                centre[1] + if o & 2 != 0 { quarter } else { -quarter },
                centre[2] + if o & 4 != 0 { quarter } else { -quarter },
            ];
            let start = lo + starts[o];
            let child = self.cell(start, start + counts[o], child_centre, quarter, depth + 1);
            let child = self.tree.cells[child];
            for a in 0..3 {
                weighted[a] += child.centre[a] * child.charge;
                plain[a] += child.centre[a] * counts[o] as f32;
            }
            charge += child.charge;
            mass += counts[o] as f32;
        }
        let charge_centre = if charge > 0.0 {
            weighted.map(|x| x / charge)
        } else {
            plain.map(|x| x / mass)
        };
        self.tree.cells[index] = Cell {
            centre: charge_centre,
            charge,
            open_r: self.open_r(charge_centre, centre, half),
            next: self.tree.cells.len() as u32,
            first: 0,
            count: 0,
        };
        index
    }

    fn open_r(&self, charge_centre: [f32; 3], centre: [f32; 3], half: f32) -> f32 {
        let offset = sub(charge_centre, centre);
        2.0 * half * self.inverse_theta + dot(offset, offset).sqrt()
    }
}

pub(super) fn sub(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

pub(super) fn dot(a: [f32; 3], b: [f32; 3]) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(positions: &[[f32; 3]], charges: &[f32], softening: f32) -> Vec<[f32; 3]> {
        let eps2 = softening * softening;
        (0..positions.len())
            .map(|i| {
                let mut f = [0.0f32; 3];
                for j in 0..positions.len() {
                    if i == j {
                        continue;
                    }
                    let d = sub(positions[i], positions[j]);
                    let r2 = dot(d, d) + eps2;
                    let s = charges[i] * charges[j] / (r2 * r2.sqrt());
                    for a in 0..3 {
                        f[a] += d[a] * s;
                    }
                }
                f
            })
            .collect()
    }

    fn cloud(n: usize) -> (Vec<[f32; 3]>, Vec<f32>) {
        let mut state = 0x9e3779b97f4a7c15u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 40) as f32 / (1u64 << 24) as f32
        };
        let positions = (0..n)
            .map(|_| [next() * 100.0, next() * 100.0, next() * 30.0])
            .collect();
        let charges = (0..n).map(|i| if i % 3 == 0 { 0.5 } else { 1.0 }).collect();
        (positions, charges)
    }

    fn relative_error(tree: &Octree, approx: &[[f32; 3]], exact: &[[f32; 3]]) -> f32 {
        let mut err = 0.0;
        let mut norm = 0.0;
        for (k, &b) in tree.order().iter().enumerate() {
            let d = sub(approx[k], exact[b as usize]);
            err += dot(d, d).sqrt();
            norm += dot(exact[b as usize], exact[b as usize]).sqrt();
        }
        err / norm
    }

    #[test]
    fn theta_zero_is_exact_and_theta_one_is_close() {
        let (positions, charges) = cloud(3000);
        let truth = exact(&positions, &charges, 0.5);
        let mut tree = Octree::default();
        let mut forces = Vec::new();

        tree.build(&positions, &charges, 0.0);
        tree.repulsion(1.0, 0.5, &mut forces);
        assert!(relative_error(&tree, &forces, &truth) < 1e-4);

        tree.build(&positions, &charges, 1.0);
        tree.repulsion(1.0, 0.5, &mut forces);
        let err = relative_error(&tree, &forces, &truth);
        assert!(err < 0.05, "relative error {err}");
    }

    #[test]
    fn coincident_bodies_are_parted_and_do_not_hang() {
        let positions = vec![[1.0, 2.0, 3.0]; 100];
        let charges = vec![1.0; 100];
        let mut tree = Octree::default();
        let mut forces = Vec::new();
        tree.build(&positions, &charges, 0.9);
        tree.repulsion(1.0, 0.0, &mut forces);
        assert!(forces.iter().all(|f| f.iter().all(|x| x.is_finite())));
        // The body listed first in a leaf is pushed towards -x by all the others.
        assert!(forces[0][0] < 0.0);
    }

    #[test]
    fn every_body_appears_once_in_tree_order() {
        let (positions, charges) = cloud(5000);
        let mut tree = Octree::default();
        tree.build(&positions, &charges, 0.9);
        let mut seen = tree.order().to_vec();
        seen.sort_unstable();
        assert_eq!(seen, (0..5000).collect::<Vec<u32>>());
    }
}
