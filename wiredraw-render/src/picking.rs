//! What a click hits: exact CPU ray casts against the drawn spheres and arrow capsules,
//! accelerated by a bounding volume hierarchy.
//!
//! Building is O(n log n) (median splits, `select_nth_unstable`), a pick visits O(log n) boxes
//! for a ray through a sparse scene, and memory is linear. Rebuild after the scene's geometry
//! changes; colours and states do not matter.

use crate::camera::Ray;
use crate::gpu::arrows::SHAFT_MID_REACH;
use crate::scene::Scene;
use glam::Vec3;

/// What a ray hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Picked {
    /// Index into [`Scene::nodes`].
    Node(usize),
    /// Index into [`Scene::edges`].
    Edge(usize),
}

#[derive(Debug, Clone, Copy)]
enum Shape {
    Sphere { center: Vec3, radius: f32 },
    Capsule { a: Vec3, b: Vec3, radius: f32 },
}

#[derive(Debug, Clone, Copy)]
struct Primitive {
    shape: Shape,
    picked: Picked,
    min: Vec3,
    max: Vec3,
}

impl Primitive {
    fn centroid(&self) -> Vec3 {
        (self.min + self.max) * 0.5
    }

    fn intersect(&self, ray: &Ray) -> Option<f32> {
        match self.shape {
            Shape::Sphere { center, radius } => ray_sphere(ray, center, radius),
            Shape::Capsule { a, b, radius } => ray_capsule(ray, a, b, radius),
        }
    }
}

/// A box of the hierarchy: a leaf holds `count > 0` primitives from `first`; an inner box has
/// its children at `first` and `first + 1`.
#[derive(Debug, Clone, Copy)]
struct BvhNode {
    min: Vec3,
    max: Vec3,
    first: u32,
    count: u32,
}

const LEAF_SIZE: usize = 4;

/// Answers "what is under this ray?" for one scene.
pub struct Picker {
    primitives: Vec<Primitive>,
    nodes: Vec<BvhNode>,
}

impl Picker {
    /// Indexes the visible spheres (at their drawn radius) and arrows. An arrow is a capsule
    /// around its tail–tip segment, wide enough to hold its shaft (which is drawn beside the
    /// centre line; see the arrow renderer).
    pub fn new(scene: &Scene) -> Picker {
        let mut primitives = Vec::with_capacity(scene.nodes.len() + scene.edges.len());
        for (index, node) in scene.nodes.iter().enumerate() {
            let radius = node.drawn_radius();
            if node.fade > 0.0 && radius > 0.0 && node.position.is_finite() {
                primitives.push(Primitive {
                    shape: Shape::Sphere {
                        center: node.position,
                        radius,
                    },
                    picked: Picked::Node(index),
                    min: node.position - Vec3::splat(radius),
                    max: node.position + Vec3::splat(radius),
                });
            }
        }
        for index in 0..scene.edges.len() {
            let Some(segment) = scene.arrow_segment(index) else {
                continue;
            };
            // The tapered shaft's width halfway along, its mean.
            let radius = segment.width * SHAFT_MID_REACH;
            if !(radius > 0.0 && segment.tail.is_finite() && segment.tip.is_finite()) {
                continue;
            }
            primitives.push(Primitive {
                shape: Shape::Capsule {
                    a: segment.tail,
                    b: segment.tip,
                    radius,
                },
                picked: Picked::Edge(index),
                min: segment.tail.min(segment.tip) - Vec3::splat(radius),
                max: segment.tail.max(segment.tip) + Vec3::splat(radius),
            });
        }
        let mut picker = Picker {
            nodes: Vec::with_capacity(2 * primitives.len() / LEAF_SIZE + 1),
            primitives,
        };
        if !picker.primitives.is_empty() {
            picker.nodes.push(BvhNode {
                min: Vec3::ZERO,
                max: Vec3::ZERO,
                first: 0,
                count: 0,
            });
            let len = picker.primitives.len();
            picker.build(0, 0, len);
        }
        picker
    }

    /// Fills node `at` with primitives `start..end`, splitting at the median of the widest
    /// centroid axis.
    fn build(&mut self, at: usize, start: usize, end: usize) {
        let items = &mut self.primitives[start..end];
        let (mut min, mut max) = (Vec3::INFINITY, Vec3::NEG_INFINITY);
        let (mut cmin, mut cmax) = (Vec3::INFINITY, Vec3::NEG_INFINITY);
        for p in items.iter() {
            min = min.min(p.min);
            max = max.max(p.max);
            cmin = cmin.min(p.centroid());
            cmax = cmax.max(p.centroid());
        }
        let extent = cmax - cmin;
        if items.len() <= LEAF_SIZE || extent.max_element() <= 0.0 {
            self.nodes[at] = BvhNode {
                min,
                max,
                first: start as u32,
                count: items.len() as u32,
            };
            return;
        }
        let axis = extent.max_position();
        let middle = items.len() / 2;
        items.select_nth_unstable_by(middle, |a, b| {
            a.centroid()[axis].total_cmp(&b.centroid()[axis])
        });
        let left = self.nodes.len();
        let blank = BvhNode {
            min,
            max,
            first: 0,
            count: 0,
        };
        self.nodes.extend([blank, blank]);
        self.nodes[at] = BvhNode {
            min,
            max,
            first: left as u32,
            count: 0,
        };
        self.build(left, start, start + middle);
        self.build(left + 1, start + middle, end);
    }

    /// The nearest node or edge along the ray.
    pub fn pick(&self, ray: &Ray) -> Option<Picked> {
        self.pick_with_distance(ray).map(|(picked, _)| picked)
    }

    /// The nearest hit and its distance along the ray.
    pub fn pick_with_distance(&self, ray: &Ray) -> Option<(Picked, f32)> {
        let root = self.nodes.first()?;
        let inverse = ray.direction.recip();
        let mut best: Option<(Picked, f32)> = None;
        let mut stack: Vec<&BvhNode> = Vec::with_capacity(64);
        if box_entry(ray.origin, inverse, root.min, root.max).is_some() {
            stack.push(root);
        }
        while let Some(node) = stack.pop() {
            let limit = best.map_or(f32::INFINITY, |(_, t)| t);
            if box_entry(ray.origin, inverse, node.min, node.max).is_none_or(|t| t > limit) {
                continue;
            }
            if node.count > 0 {
                let first = node.first as usize;
                for primitive in &self.primitives[first..first + node.count as usize] {
                    if let Some(t) = primitive.intersect(ray) {
                        let better = best.is_none_or(|(picked, best_t)| {
                            // At equal distance a host wins over an arrow touching it.
                            t < best_t
                                || (t == best_t && matches!(primitive.picked, Picked::Node(_)))
                                    && !matches!(picked, Picked::Node(_))
                        });
                        if better {
                            best = Some((primitive.picked, t));
                        }
                    }
                }
                continue;
            }
            let (left, right) = (
                &self.nodes[node.first as usize],
                &self.nodes[node.first as usize + 1],
            );
            let near_left = box_entry(ray.origin, inverse, left.min, left.max);
            let near_right = box_entry(ray.origin, inverse, right.min, right.max);
            // Push the farther child first so the nearer one is searched first and tightens
            // `best` early.
            match (near_left, near_right) {
                (Some(l), Some(r)) if l <= r => stack.extend([right, left]),
                (Some(_), Some(_)) => stack.extend([left, right]),
                (Some(_), None) => stack.push(left),
                (None, Some(_)) => stack.push(right),
                (None, None) => {}
            }
        }
        best
    }
}

/// Distance at which the ray enters the box (0 when it starts inside), if it does.
fn box_entry(origin: Vec3, inverse: Vec3, min: Vec3, max: Vec3) -> Option<f32> {
    let t1 = (min - origin) * inverse;
    let t2 = (max - origin) * inverse;
    // NaN (0 × ∞, a ray in a face's plane) must not exclude the box: min/max drop NaNs.
    let near = t1.min(t2).max_element().max(0.0);
    let far = t1.max(t2).min_element();
    (near <= far).then_some(near)
}

/// Nearest positive hit on a sphere seen from outside.
fn ray_sphere(ray: &Ray, center: Vec3, radius: f32) -> Option<f32> {
    let to_center = center - ray.origin;
    let along = to_center.dot(ray.direction);
    // Perpendicular form: stays precise for small spheres far away.
    let perpendicular = to_center - ray.direction * along;
    let h = radius * radius - perpendicular.length_squared();
    if h < 0.0 {
        return None;
    }
    let t = along - h.sqrt();
    (t > 0.0).then_some(t)
}

/// Nearest positive hit on the capsule around segment `a`–`b`.
fn ray_capsule(ray: &Ray, a: Vec3, b: Vec3, radius: f32) -> Option<f32> {
    let axis = b - a;
    let length_squared = axis.length_squared();
    if length_squared <= 0.0 {
        return ray_sphere(ray, a, radius);
    }
    let (axis_dir, length) = (axis / length_squared.sqrt(), length_squared.sqrt());
    // Infinite cylinder around the axis, then clip to the segment; the caps are spheres.
    let from_a = ray.origin - a;
    let d_along = ray.direction.dot(axis_dir);
    let o_along = from_a.dot(axis_dir);
    let d_perp = ray.direction - axis_dir * d_along;
    let o_perp = from_a - axis_dir * o_along;
    let qa = d_perp.length_squared();
    let qb = d_perp.dot(o_perp);
    let qc = o_perp.length_squared() - radius * radius;
    let mut best: Option<f32> = None;
    if qa > 1e-12 {
        let h = qb * qb - qa * qc;
        if h >= 0.0 {
            let t = (-qb - h.sqrt()) / qa;
            let y = o_along + t * d_along;
            if t > 0.0 && (0.0..=length).contains(&y) {
                best = Some(t);
            }
        }
    }
    for cap in [a, b] {
        if let Some(t) = ray_sphere(ray, cap, radius) {
            best = Some(best.map_or(t, |bt: f32| bt.min(t)));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::{Color, EdgeInstance, NodeInstance};

    fn ray(origin: Vec3, towards: Vec3) -> Ray {
        Ray {
            origin,
            direction: (towards - origin).normalize(),
        }
    }

    /// Checks every primitive without the hierarchy.
    fn brute_force(picker: &Picker, ray: &Ray) -> Option<(Picked, f32)> {
        picker
            .primitives
            .iter()
            .filter_map(|p| p.intersect(ray).map(|t| (p.picked, t)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }

    #[test]
    fn spheres_and_capsules_intersect_where_expected() {
        let r = ray(Vec3::new(0.0, 0.0, 10.0), Vec3::ZERO);
        assert!((ray_sphere(&r, Vec3::ZERO, 1.0).unwrap() - 9.0).abs() < 1e-5);
        assert_eq!(ray_sphere(&r, Vec3::new(1.5, 0.0, 0.0), 1.0), None);
        let capsule = |r: &Ray| ray_capsule(r, Vec3::new(-5.0, 0.0, 0.0), Vec3::X * 5.0, 0.5);
        assert!((capsule(&r).unwrap() - 9.5).abs() < 1e-5);
        let past_end = ray(Vec3::new(5.3, 0.0, 10.0), Vec3::new(5.3, 0.0, 0.0));
        assert!(capsule(&past_end).is_some(), "the round cap");
        let beyond = ray(Vec3::new(5.6, 0.0, 10.0), Vec3::new(5.6, 0.0, 0.0));
        assert_eq!(capsule(&beyond), None);
        let along_axis = ray(Vec3::new(-20.0, 0.0, 0.0), Vec3::ZERO);
        assert!((capsule(&along_axis).unwrap() - 14.5).abs() < 1e-4);
    }

    #[test]
    fn the_nearest_object_wins() {
        let scene = Scene {
            nodes: vec![
                NodeInstance::new(Vec3::new(0.0, 0.0, 0.0), 1.0, Color::WHITE),
                NodeInstance::new(Vec3::new(0.0, 0.0, -5.0), 2.0, Color::WHITE),
                NodeInstance::new(Vec3::new(10.0, 0.0, 0.0), 1.0, Color::WHITE),
            ],
            edges: vec![EdgeInstance::new(0, 2, 0.4, Color::WHITE)],
        };
        let picker = Picker::new(&scene);
        let eye = Vec3::new(0.0, 0.0, 20.0);
        assert_eq!(picker.pick(&ray(eye, Vec3::ZERO)), Some(Picked::Node(0)));
        let beside_front = Vec3::new(0.0, 1.5, 0.0);
        assert_eq!(picker.pick(&ray(eye, beside_front)), Some(Picked::Node(1)));
        let eye_above = Vec3::new(5.0, 20.0, 0.0);
        assert_eq!(
            picker.pick(&ray(eye_above, Vec3::new(5.0, 0.0, 0.0))),
            Some(Picked::Edge(0))
        );
        assert_eq!(picker.pick(&ray(eye, Vec3::new(0.0, 9.0, 0.0))), None);
        assert_eq!(
            Picker::new(&Scene::default()).pick(&ray(eye, Vec3::ZERO)),
            None
        );
    }

    #[test]
    fn hierarchy_agrees_with_brute_force_on_a_large_random_scene() {
        // xorshift: deterministic without a dependency.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut random = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 24) as f32
        };
        let mut scene = Scene::default();
        for _ in 0..3000 {
            let p = Vec3::new(random(), random(), random()) * 200.0 - 100.0;
            scene
                .nodes
                .push(NodeInstance::new(p, 0.5 + random() * 2.0, Color::WHITE));
        }
        for _ in 0..6000 {
            let from = (random() * 2999.0) as u32;
            let to = (random() * 2999.0) as u32;
            scene
                .edges
                .push(EdgeInstance::new(from, to, 0.1 + random(), Color::WHITE));
        }
        let picker = Picker::new(&scene);
        let mut hits = 0;
        for _ in 0..500 {
            let origin = Vec3::new(random(), random(), random()) * 400.0 - 200.0;
            let towards = Vec3::new(random(), random(), random()) * 100.0 - 50.0;
            let r = ray(origin, towards);
            let fast = picker.pick_with_distance(&r);
            let slow = brute_force(&picker, &r);
            match (fast, slow) {
                (Some((_, a)), Some((_, b))) => {
                    hits += 1;
                    assert!((a - b).abs() <= 1e-4 * b.max(1.0), "{fast:?} vs {slow:?}");
                }
                (None, None) => {}
                _ => panic!("hierarchy {fast:?} vs brute force {slow:?}"),
            }
        }
        assert!(hits > 100, "the test must exercise hits, got {hits}");
    }
}
