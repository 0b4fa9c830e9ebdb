//! Smooth transitions between scenes: what appears fades and grows in, what goes fades out,
//! and what stays glides from its old place to its new one.

use crate::scene::{EdgeInstance, NodeInstance, Scene};
use std::collections::HashMap;

/// A value easing from `from` to `to` between `start` and `start + duration`.
#[derive(Debug, Clone, Copy)]
struct Track<T> {
    from: T,
    to: T,
    start: f64,
}

#[derive(Debug, Clone)]
struct NodeTrack {
    id: String,
    track: Track<NodeInstance>,
    leaving: bool,
}

#[derive(Debug, Clone)]
struct EdgeTrack {
    key: (String, String),
    track: Track<EdgeInstance>,
    leaving: bool,
}

/// Interpolates between successive target scenes. Nodes are matched by id and edges by their
/// endpoints' ids, so the targets may be ordered and sized differently.
///
/// ```
/// use wiredraw_render::glam::Vec3;
/// use wiredraw_render::{Color, NodeInstance, Scene, SceneAnimator};
///
/// let mut animator = SceneAnimator::new(0.5);
/// let at = |x| Scene { nodes: vec![NodeInstance::new(Vec3::new(x, 0.0, 0.0), 1.0, Color::WHITE)], edges: vec![] };
/// animator.set_target(0.0, &at(0.0), &["10.0.0.1".to_string()]);
/// animator.set_target(1.0, &at(4.0), &["10.0.0.1".to_string()]);
/// let halfway = animator.frame(1.25).nodes[0].position.x;
/// assert!(halfway > 0.0 && halfway < 4.0);
/// assert_eq!(animator.frame(2.0).nodes[0].position.x, 4.0);
/// ```
#[derive(Debug, Clone)]
pub struct SceneAnimator {
    /// Seconds a transition takes.
    pub duration: f64,
    nodes: Vec<NodeTrack>,
    node_slots: HashMap<String, usize>,
    edges: Vec<EdgeTrack>,
    edge_slots: HashMap<(String, String), usize>,
    frame: Scene,
}

fn ease(t: f32) -> f32 {
    let t = t.clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

fn lerp(a: f32, b: f32, t: f32) -> f32 {
    a + (b - a) * t
}

impl SceneAnimator {
    pub fn new(duration_secs: f64) -> SceneAnimator {
        SceneAnimator {
            duration: duration_secs.max(0.0),
            nodes: Vec::new(),
            node_slots: HashMap::new(),
            edges: Vec::new(),
            edge_slots: HashMap::new(),
            frame: Scene::default(),
        }
    }

    fn progress(&self, start: f64, now: f64) -> f32 {
        if self.duration <= 0.0 {
            1.0
        } else {
            ease(((now - start) / self.duration) as f32)
        }
    }

    fn node_at(&self, track: &Track<NodeInstance>, now: f64) -> NodeInstance {
        let t = self.progress(track.start, now);
        NodeInstance {
            position: track.from.position.lerp(track.to.position, t),
            radius: lerp(track.from.radius, track.to.radius, t),
            fade: lerp(track.from.fade, track.to.fade, t),
            ..track.to
        }
    }

    fn edge_at(&self, track: &Track<EdgeInstance>, now: f64) -> EdgeInstance {
        let t = self.progress(track.start, now);
        EdgeInstance {
            width: lerp(track.from.width, track.to.width, t),
            fade: lerp(track.from.fade, track.to.fade, t),
            ..track.to
        }
    }

    /// Starts a transition at time `now` (seconds, any origin) towards `scene`, whose node `i`
    /// has id `ids[i]` (nodes beyond `ids` are ignored, and so are edges touching them).
    /// Transitions in progress continue from where they are.
    pub fn set_target(&mut self, now: f64, scene: &Scene, ids: &[String]) {
        let mut seen = vec![false; self.nodes.len()];
        for (node, id) in scene.nodes.iter().zip(ids) {
            let arriving = NodeInstance { fade: 0.0, ..*node };
            match self.node_slots.get(id) {
                Some(&slot) => {
                    seen[slot] = true;
                    let current = self.node_at(&self.nodes[slot].track, now);
                    self.nodes[slot].track = Track {
                        from: current,
                        to: *node,
                        start: now,
                    };
                    self.nodes[slot].leaving = false;
                }
                None => {
                    self.node_slots.insert(id.clone(), self.nodes.len());
                    self.nodes.push(NodeTrack {
                        id: id.clone(),
                        track: Track {
                            from: arriving,
                            to: *node,
                            start: now,
                        },
                        leaving: false,
                    });
                }
            }
        }
        for slot in (0..seen.len()).filter(|&slot| !seen[slot]) {
            if !self.nodes[slot].leaving {
                let current = self.node_at(&self.nodes[slot].track, now);
                self.nodes[slot].track = Track {
                    from: current,
                    to: NodeInstance {
                        fade: 0.0,
                        ..current
                    },
                    start: now,
                };
                self.nodes[slot].leaving = true;
            }
        }

        let mut seen = vec![false; self.edges.len()];
        for edge in &scene.edges {
            let (Some(from), Some(to)) = (ids.get(edge.from as usize), ids.get(edge.to as usize))
            else {
                continue;
            };
            let key = (from.clone(), to.clone());
            match self.edge_slots.get(&key) {
                Some(&slot) => {
                    seen[slot] = true;
                    let current = self.edge_at(&self.edges[slot].track, now);
                    self.edges[slot].track = Track {
                        from: current,
                        to: *edge,
                        start: now,
                    };
                    self.edges[slot].leaving = false;
                }
                None => {
                    self.edge_slots.insert(key.clone(), self.edges.len());
                    self.edges.push(EdgeTrack {
                        key,
                        track: Track {
                            from: EdgeInstance { fade: 0.0, ..*edge },
                            to: *edge,
                            start: now,
                        },
                        leaving: false,
                    });
                }
            }
        }
        for slot in (0..seen.len()).filter(|&slot| !seen[slot]) {
            if !self.edges[slot].leaving {
                let current = self.edge_at(&self.edges[slot].track, now);
                self.edges[slot].track = Track {
                    from: current,
                    to: EdgeInstance {
                        fade: 0.0,
                        ..current
                    },
                    start: now,
                };
                self.edges[slot].leaving = true;
            }
        }
    }

    /// Whether anything still moves or fades at `now`.
    pub fn is_animating(&self, now: f64) -> bool {
        let busy = |start: f64| now < start + self.duration;
        self.nodes.iter().any(|n| busy(n.track.start))
            || self.edges.iter().any(|e| busy(e.track.start))
    }

    /// The scene to draw at `now`. Node `i` of it has id [`node_id(i)`](Self::node_id); nodes and
    /// edges that have finished leaving are dropped.
    pub fn frame(&mut self, now: f64) -> &Scene {
        self.forget_departed(now);
        self.frame.nodes.clear();
        self.frame.edges.clear();
        for node in &self.nodes {
            self.frame.nodes.push(self.node_at(&node.track, now));
        }
        for edge in &self.edges {
            let (Some(&from), Some(&to)) = (
                self.node_slots.get(&edge.key.0),
                self.node_slots.get(&edge.key.1),
            ) else {
                continue;
            };
            self.frame.edges.push(EdgeInstance {
                from: from as u32,
                to: to as u32,
                ..self.edge_at(&edge.track, now)
            });
        }
        &self.frame
    }

    /// The id of node `index` of the last [`frame`](Self::frame).
    pub fn node_id(&self, index: usize) -> Option<&str> {
        self.nodes.get(index).map(|n| n.id.as_str())
    }

    /// The ids of the last frame's nodes, in order.
    pub fn node_ids(&self) -> impl Iterator<Item = &str> {
        self.nodes.iter().map(|n| n.id.as_str())
    }

    fn forget_departed(&mut self, now: f64) {
        let gone = |leaving: bool, start: f64| leaving && now >= start + self.duration;
        let before = (self.nodes.len(), self.edges.len());
        self.nodes.retain(|n| !gone(n.leaving, n.track.start));
        self.edges.retain(|e| !gone(e.leaving, e.track.start));
        if self.nodes.len() != before.0 {
            self.node_slots = self
                .nodes
                .iter()
                .enumerate()
                .map(|(i, n)| (n.id.clone(), i))
                .collect();
        }
        if self.edges.len() != before.1 {
            self.edge_slots = self
                .edges
                .iter()
                .enumerate()
                .map(|(i, e)| (e.key.clone(), i))
                .collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::Color;
    use glam::Vec3;

    fn node(x: f32) -> NodeInstance {
        NodeInstance::new(Vec3::new(x, 0.0, 0.0), 1.0, Color::WHITE)
    }

    fn ids(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn newcomers_fade_in_leavers_fade_out_and_stayers_move() {
        let mut animator = SceneAnimator::new(1.0);
        let first = Scene {
            nodes: vec![node(0.0), node(10.0)],
            edges: vec![EdgeInstance::new(0, 1, 0.2, Color::WHITE)],
        };
        animator.set_target(0.0, &first, &ids(&["a", "b"]));
        let start = animator.frame(0.0).clone();
        assert_eq!(start.nodes[0].fade, 0.0, "appearing nodes start invisible");
        assert_eq!(animator.frame(1.0).nodes[1].fade, 1.0);

        // "b" goes, "c" comes, "a" moves; the new scene lists them in another order.
        let second = Scene {
            nodes: vec![node(-5.0), node(4.0)],
            edges: vec![EdgeInstance::new(1, 0, 0.2, Color::WHITE)],
        };
        animator.set_target(1.0, &second, &ids(&["c", "a"]));
        let middle = animator.frame(1.5).clone();
        let by_id = |id: &str, scene: &Scene, animator: &SceneAnimator| {
            let index = (0..scene.nodes.len())
                .find(|&i| animator.node_id(i) == Some(id))
                .unwrap();
            scene.nodes[index]
        };
        let a = by_id("a", &middle, &animator);
        assert!(a.position.x > 0.0 && a.position.x < 4.0 && a.fade == 1.0);
        let b = by_id("b", &middle, &animator);
        assert!(b.fade > 0.0 && b.fade < 1.0, "leaving: {}", b.fade);
        let c = by_id("c", &middle, &animator);
        assert!(c.fade > 0.0 && c.fade < 1.0, "arriving: {}", c.fade);
        assert_eq!(middle.edges.len(), 2, "a->b fading out, a->c fading in");
        assert!(animator.is_animating(1.5));

        let end = animator.frame(2.0).clone();
        assert_eq!(end.nodes.len(), 2, "b is gone");
        assert_eq!(by_id("a", &end, &animator).position.x, 4.0);
        assert_eq!(end.edges.len(), 1);
        let edge = end.edges[0];
        assert_eq!(animator.node_id(edge.from as usize), Some("a"));
        assert_eq!(animator.node_id(edge.to as usize), Some("c"));
        assert!(!animator.is_animating(2.0));
    }

    #[test]
    fn retargeting_midway_continues_from_the_current_position() {
        let mut animator = SceneAnimator::new(1.0);
        let at = |x| Scene {
            nodes: vec![node(x)],
            edges: vec![],
        };
        animator.set_target(0.0, &at(0.0), &ids(&["a"]));
        animator.set_target(1.0, &at(10.0), &ids(&["a"]));
        let midway = animator.frame(1.5).nodes[0].position.x;
        animator.set_target(1.5, &at(-10.0), &ids(&["a"]));
        assert_eq!(animator.frame(1.5).nodes[0].position.x, midway, "no jump");
    }
}
