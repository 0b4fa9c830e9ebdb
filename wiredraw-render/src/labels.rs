//! Host labels without clutter: hovered and selected hosts always get one, then flagged hosts
//! and the largest hosts on screen, in that order, as long as their labels do not overlap.

use crate::camera::{Camera, Viewport};
use crate::scene::Scene;
use glam::Vec2;

/// Which labels to show and how.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LabelOptions {
    /// Labels for flagged and large hosts at most (hovered and selected ones come on top).
    pub max_labels: usize,
    /// Hosts smaller than this on screen (radius, pixels) get no label unless hovered,
    /// selected or flagged.
    pub min_radius_px: f32,
    /// Text size in egui points.
    pub font_size: f32,
    /// Free space kept around each label, pixels.
    pub padding_px: f32,
}

impl Default for LabelOptions {
    fn default() -> Self {
        LabelOptions {
            max_labels: 40,
            min_radius_px: 4.0,
            font_size: 13.0,
            padding_px: 3.0,
        }
    }
}

/// A label that was given room.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LabelPlacement {
    /// Index into [`Scene::nodes`].
    pub node: usize,
    /// Top-left corner of the text, pixels from the viewport's top-left.
    pub min: Vec2,
    /// Bottom-right corner.
    pub max: Vec2,
}

impl LabelPlacement {
    fn overlaps(&self, other: &LabelPlacement, padding: f32) -> bool {
        self.min.x < other.max.x + padding
            && other.min.x < self.max.x + padding
            && self.min.y < other.max.y + padding
            && other.min.y < self.max.y + padding
    }
}

/// Picks and places labels. `measure(i)` gives the text size of node `i` in pixels, or `None`
/// when the node has no text. Each label sits to the right of its sphere, vertically centred.
pub fn choose_labels(
    scene: &Scene,
    camera: &Camera,
    viewport: Viewport,
    options: &LabelOptions,
    mut measure: impl FnMut(usize) -> Option<Vec2>,
) -> Vec<LabelPlacement> {
    let pixel_at_unit_depth = camera.pixel_size_at_unit_depth(viewport);
    let screen = viewport.size();
    // (node, centre on screen, radius in pixels) for every sphere in front of the eye.
    let on_screen = |index: usize| {
        let node = scene.nodes.get(index)?;
        if node.fade <= 0.0 {
            return None;
        }
        let (center, depth) = camera.project(node.position, viewport)?;
        let radius = node.drawn_radius() / (depth * pixel_at_unit_depth);
        let inside = center.x + radius >= 0.0
            && center.y + radius >= 0.0
            && center.x - radius <= screen.x
            && center.y - radius <= screen.y;
        inside.then_some((index, center, radius))
    };
    let mut placed: Vec<LabelPlacement> = Vec::new();
    let mut place = |(index, center, radius): (usize, Vec2, f32), force: bool| -> bool {
        let Some(size) = measure(index) else {
            return false;
        };
        let min = Vec2::new(
            center.x + radius + options.padding_px,
            center.y - size.y / 2.0,
        );
        let label = LabelPlacement {
            node: index,
            min,
            max: min + size,
        };
        let free = !placed
            .iter()
            .any(|other| other.node == index || label.overlaps(other, options.padding_px));
        let fits = label.min.x < screen.x && label.max.y > 0.0 && label.min.y < screen.y;
        if fits && (force || free) && !placed.iter().any(|other| other.node == index) {
            placed.push(label);
            return true;
        }
        false
    };
    let forced = |want_hovered: bool| {
        scene.nodes.iter().enumerate().filter(move |(_, n)| {
            if want_hovered {
                n.state.hovered
            } else {
                n.state.selected
            }
        })
    };
    for (index, _) in forced(true).chain(forced(false)) {
        if let Some(candidate) = on_screen(index) {
            place(candidate, true);
        }
    }
    let mut candidates: Vec<(usize, Vec2, f32)> = (0..scene.nodes.len())
        .filter(|&i| !scene.nodes[i].state.dimmed)
        .filter_map(on_screen)
        .filter(|&(i, _, radius)| radius >= options.min_radius_px || scene.nodes[i].state.flagged)
        .collect();
    // Flagged hosts first, then the biggest.
    let first = |a: &(usize, Vec2, f32), b: &(usize, Vec2, f32)| {
        let flagged = |i: usize| scene.nodes[i].state.flagged;
        flagged(b.0)
            .cmp(&flagged(a.0))
            .then(b.2.total_cmp(&a.2))
            .then(a.0.cmp(&b.0))
    };
    // Only the first few can win; a partial sort keeps 100k hosts cheap.
    let keep = (options.max_labels * 8).min(candidates.len());
    if keep < candidates.len() {
        candidates.select_nth_unstable_by(keep, first);
        candidates.truncate(keep);
    }
    candidates.sort_by(first);
    let mut large = 0;
    for candidate in candidates {
        if large >= options.max_labels {
            break;
        }
        if place(candidate, false) {
            large += 1;
        }
    }
    placed
}

/// Draws labels over a graph view. `rect` is where the graph is shown (egui points), the
/// camera's viewport is that rectangle in physical pixels, and `texts[i]` is node `i`'s text
/// (an address or DNS name; empty or missing means no label).
pub fn paint_labels(
    painter: &egui::Painter,
    rect: egui::Rect,
    scene: &Scene,
    camera: &Camera,
    texts: &[impl AsRef<str>],
    options: &LabelOptions,
) -> Vec<LabelPlacement> {
    let pixels_per_point = painter.ctx().pixels_per_point();
    let viewport = Viewport::new(
        (rect.width() * pixels_per_point).round().max(1.0) as u32,
        (rect.height() * pixels_per_point).round().max(1.0) as u32,
    );
    let font = egui::FontId::proportional(options.font_size);
    let text_color = egui::Color32::from_gray(235);
    let mut galleys: Vec<Option<std::sync::Arc<egui::Galley>>> = vec![None; scene.nodes.len()];
    let placements = choose_labels(scene, camera, viewport, options, |index| {
        let text = texts.get(index)?.as_ref();
        if text.is_empty() {
            return None;
        }
        let galley = painter.layout_no_wrap(text.to_owned(), font.clone(), text_color);
        let size = galley.size() * pixels_per_point;
        galleys[index] = Some(galley);
        Some(Vec2::new(size.x, size.y))
    });
    let to_points = |pixels: Vec2| rect.min + egui::vec2(pixels.x, pixels.y) / pixels_per_point;
    for placement in &placements {
        let Some(galley) = galleys[placement.node].take() else {
            continue;
        };
        let min = to_points(placement.min);
        let background = egui::Rect::from_min_max(min, to_points(placement.max)).expand(2.0);
        painter.rect_filled(background, 3.0, egui::Color32::from_black_alpha(160));
        painter.galley(min, galley, text_color);
    }
    placements
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::{Color, NodeInstance, NodeState};
    use glam::Vec3;

    fn scene() -> Scene {
        let node =
            |x: f32, radius: f32| NodeInstance::new(Vec3::new(x, 0.0, 0.0), radius, Color::WHITE);
        Scene {
            nodes: vec![
                node(-6.0, 1.5),
                // Right beside node 0: its label would cover node 0's.
                NodeInstance::new(Vec3::new(-6.0, 0.3, 0.0), 1.0, Color::WHITE),
                node(0.0, 0.1),
                node(6.0, 1.0),
            ],
            edges: vec![],
        }
    }

    fn camera() -> Camera {
        Camera::looking_at(Vec3::ZERO, 30.0).with_angles(0.0, 0.0)
    }

    fn measure(_: usize) -> Option<Vec2> {
        Some(Vec2::new(80.0, 14.0))
    }

    #[test]
    fn big_hosts_get_labels_that_never_overlap() {
        let viewport = Viewport::new(800, 600);
        let labels = choose_labels(
            &scene(),
            &camera(),
            viewport,
            &LabelOptions::default(),
            measure,
        );
        let nodes: Vec<usize> = labels.iter().map(|l| l.node).collect();
        // Node 1's label would overlap node 0's, node 2 is too small on screen.
        assert_eq!(nodes, [0, 3]);
        for (i, a) in labels.iter().enumerate() {
            for b in &labels[i + 1..] {
                assert!(!a.overlaps(b, 0.0));
            }
        }
        let limited = LabelOptions {
            max_labels: 1,
            ..LabelOptions::default()
        };
        assert_eq!(
            choose_labels(&scene(), &camera(), viewport, &limited, measure).len(),
            1
        );
    }

    #[test]
    fn hovered_and_selected_hosts_always_get_labels() {
        let mut scene = scene();
        scene.nodes[2].state = NodeState {
            hovered: true,
            ..NodeState::default()
        };
        scene.nodes[1].state.selected = true;
        let labels = choose_labels(
            &scene,
            &camera(),
            Viewport::new(800, 600),
            &LabelOptions::default(),
            measure,
        );
        let nodes: Vec<usize> = labels.iter().map(|l| l.node).collect();
        assert_eq!(&nodes[..2], [2, 1]);
        assert!(
            !nodes[2..].contains(&0),
            "node 0's label would cover node 1's"
        );
    }

    #[test]
    fn flagged_hosts_are_labelled_before_larger_ones_even_when_small() {
        let mut scene = scene();
        let options = LabelOptions {
            max_labels: 1,
            ..LabelOptions::default()
        };
        let label_of = |scene: &Scene| {
            let labels =
                choose_labels(scene, &camera(), Viewport::new(800, 600), &options, measure);
            labels.iter().map(|l| l.node).collect::<Vec<_>>()
        };
        let smallest = (0..scene.nodes.len())
            .min_by(|&a, &b| scene.nodes[a].radius.total_cmp(&scene.nodes[b].radius))
            .unwrap();
        assert!(!label_of(&scene).contains(&smallest));
        scene.nodes[smallest].radius = 0.001;
        scene.nodes[smallest].state.flagged = true;
        assert_eq!(label_of(&scene), [smallest]);
    }

    #[test]
    fn labels_paint_through_an_egui_painter() {
        let ctx = egui::Context::default();
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(800.0, 600.0),
            )),
            ..Default::default()
        };
        let texts = ["10.0.0.1", "10.0.0.2", "", "host.example"];
        let mut placed = Vec::new();
        let output = ctx.run_ui(input, |ui| {
            let rect = ui.max_rect();
            placed = paint_labels(
                ui.painter(),
                rect,
                &scene(),
                &camera(),
                &texts,
                &LabelOptions::default(),
            );
        });
        assert_eq!(placed.iter().map(|l| l.node).collect::<Vec<_>>(), [0, 3]);
        let text_shapes = output
            .shapes
            .iter()
            .filter(|s| matches!(s.shape, egui::Shape::Text(_)))
            .count();
        assert_eq!(text_shapes, 2);
    }
}
