//! Where new nodes first appear: beside their placed neighbours, or at the rim.
//!
//! Every random choice comes from a hash of the layout seed and the node's id, so a node lands
//! in the same spot whatever else is in the graph and in whatever order nodes arrive.

use super::Adjacency;
use super::octree::dot;

/// FNV-1a over the id, mixed with the seed and finished with splitmix64.
pub(super) fn id_hash(seed: u64, id: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    splitmix64(h)
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Two uniform numbers in `[0, 1)` from one hash.
fn uniforms(h: u64) -> (f32, f32) {
    let scale = 1.0 / (1u64 << 24) as f32;
    (
        (h >> 40) as f32 * scale,
        ((h >> 16) & 0xff_ffff) as f32 * scale,
    )
}

/// A direction on the unit sphere, uniformly distributed over hashes.
pub(super) fn unit_vector(h: u64) -> [f32; 3] {
    let (u, v) = uniforms(h);
    let z = 2.0 * u - 1.0;
    let ring = (1.0 - z * z).max(0.0).sqrt();
    let phi = std::f32::consts::TAU * v;
    [ring * phi.cos(), ring * phi.sin(), z]
}

/// What placement needs to know about the layout being updated.
pub(super) struct Placement<'a> {
    pub seed: u64,
    pub ids: &'a [String],
    pub adjacency: &'a Adjacency,
    /// Distance from the origin at which a node with no placed neighbour appears.
    pub rim: f32,
    /// When nothing was placed before, unconnected seeds fill a ball of this radius instead.
    pub empty_ball: Option<f32>,
}

impl Placement<'_> {
    /// Gives every node with `placed[i] == false` a position, and marks it placed.
    ///
    /// First, layer by layer outwards from the placed nodes, each new node goes to the mean of
    /// its neighbours placed in earlier layers plus a hashed offset of one rest length. Nodes
    /// of a layer only see earlier layers, so the result does not depend on the order within a
    /// layer. Whatever is left belongs to components with nothing placed: each gets a root (its
    /// best-connected node) at the rim, and grows from there the same way.
    pub(super) fn place(&self, positions: &mut [[f32; 3]], placed: &mut [bool]) {
        let n = positions.len();
        let mut frontier: Vec<u32> = (0..n as u32)
            .filter(|&i| {
                !placed[i as usize]
                    && self
                        .adjacency
                        .springs(i as usize)
                        .iter()
                        .any(|s| placed[s.other as usize])
            })
            .collect();
        self.grow(&mut frontier, positions, placed);

        let mut roots: Vec<u32> = (0..n as u32).filter(|&i| !placed[i as usize]).collect();
        roots.sort_by_key(|&i| std::cmp::Reverse(self.adjacency.springs(i as usize).len()));
        for root in roots {
            let root = root as usize;
            if placed[root] {
                continue;
            }
            let h = id_hash(self.seed, &self.ids[root]);
            let direction = unit_vector(h);
            let (u, _) = uniforms(splitmix64(h));
            let radius = match self.empty_ball {
                // Uniform in the ball's volume.
                Some(ball) => ball * u.cbrt(),
                None => self.rim * (1.0 + 0.1 * u),
            };
            positions[root] = direction.map(|x| x * radius);
            placed[root] = true;
            let mut frontier: Vec<u32> = self
                .adjacency
                .springs(root)
                .iter()
                .map(|s| s.other)
                .filter(|&o| !placed[o as usize])
                .collect();
            frontier.sort_unstable();
            frontier.dedup();
            self.grow(&mut frontier, positions, placed);
        }
    }

    fn grow(&self, frontier: &mut Vec<u32>, positions: &mut [[f32; 3]], placed: &mut [bool]) {
        let mut layer_positions = Vec::new();
        while !frontier.is_empty() {
            layer_positions.clear();
            for &node in frontier.iter() {
                let (mut sum, mut rest, mut count) = ([0.0f32; 3], 0.0f32, 0.0f32);
                for spring in self.adjacency.springs(node as usize) {
                    if placed[spring.other as usize] {
                        let p = positions[spring.other as usize];
                        for a in 0..3 {
                            sum[a] += p[a];
                        }
                        rest += spring.length;
                        count += 1.0;
                    }
                }
                let offset = unit_vector(id_hash(self.seed, &self.ids[node as usize]));
                let reach = rest / count;
                layer_positions.push([0, 1, 2].map(|a| sum[a] / count + offset[a] * reach));
            }
            for (&node, &p) in frontier.iter().zip(&layer_positions) {
                positions[node as usize] = p;
                placed[node as usize] = true;
            }
            let mut next: Vec<u32> = frontier
                .iter()
                .flat_map(|&node| self.adjacency.springs(node as usize))
                .map(|s| s.other)
                .filter(|&o| !placed[o as usize])
                .collect();
            next.sort_unstable();
            next.dedup();
            *frontier = next;
        }
    }
}

/// Largest distance of any position from the origin.
pub(super) fn radius(positions: impl Iterator<Item = [f32; 3]>) -> f32 {
    positions.map(|p| dot(p, p)).fold(0.0f32, f32::max).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_vectors_are_unit_and_spread() {
        let mut mean = [0.0f32; 3];
        for i in 0..10_000 {
            let v = unit_vector(id_hash(7, &format!("10.0.{}.{}", i / 256, i % 256)));
            assert!((dot(v, v) - 1.0).abs() < 1e-4);
            for a in 0..3 {
                mean[a] += v[a] / 10_000.0;
            }
        }
        assert!(dot(mean, mean).sqrt() < 0.05, "biased directions: {mean:?}");
    }

    #[test]
    fn hash_depends_on_seed_and_id() {
        assert_eq!(id_hash(1, "a"), id_hash(1, "a"));
        assert_ne!(id_hash(1, "a"), id_hash(2, "a"));
        assert_ne!(id_hash(1, "a"), id_hash(1, "b"));
    }
}
