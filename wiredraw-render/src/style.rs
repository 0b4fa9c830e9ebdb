//! From a [`Graph`] and layout positions to a [`Scene`]: sizes on a log scale, colours by
//! protocol or service, and the [`Legend`] that explains the colours.

use crate::scene::{Color, EdgeInstance, NodeInstance, Scene};
use glam::Vec3;
use std::collections::HashMap;
use wiredraw_core::{Edge, Graph};

/// What edge colours stand for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorBy {
    /// The service Zeek detected (`http`, `ssl`, `dns`…); the first alphabetically when an edge
    /// carries several.
    #[default]
    Service,
    /// The transport protocol (`tcp`, `udp`, `icmp`); joined with `/` when mixed.
    Protocol,
}

/// How a graph is turned into a scene.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphStyle {
    /// Sphere radius of the host with the least traffic, world units.
    pub min_radius: f32,
    /// Sphere radius of the host with the most traffic.
    pub max_radius: f32,
    /// Arrow shaft width of the edge with the fewest bytes.
    pub min_width: f32,
    /// Arrow shaft width of the edge with the most bytes.
    pub max_width: f32,
    pub color_by: ColorBy,
    /// Colour of hosts without edges.
    pub lone_node_color: Color,
}

impl Default for GraphStyle {
    /// The busiest host's sphere is at most half the default layout's leaf spring
    /// ([`wiredraw_core::layout::LayoutParams::leaf_spring_length`], 3.0), so a host and a
    /// single peer resting beside it never overlap (with 3.0, leaves sat half inside their hub);
    /// the widest arrow is a fifth of that sphere, so spheres stay readable under their edges.
    fn default() -> Self {
        GraphStyle {
            min_radius: 0.35,
            max_radius: 1.5,
            min_width: 0.04,
            max_width: 0.3,
            color_by: ColorBy::Service,
            lone_node_color: Color::rgb(150, 155, 165),
        }
    }
}

/// One colour of the legend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegendEntry {
    pub label: String,
    pub color: Color,
    /// Edges of this colour.
    pub edges: usize,
}

/// What each colour means, most frequent first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Legend {
    pub color_by: ColorBy,
    pub entries: Vec<LegendEntry>,
}

impl Legend {
    /// Shows the legend as colour swatches with labels and counts.
    pub fn ui(&self, ui: &mut egui::Ui) {
        let title = match self.color_by {
            ColorBy::Service => "Service",
            ColorBy::Protocol => "Protocol",
        };
        ui.strong(title);
        for entry in &self.entries {
            ui.horizontal(|ui| {
                let (rect, _) =
                    ui.allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
                ui.painter().rect_filled(rect, 2.0, entry.color);
                ui.label(format!("{} ({})", entry.label, entry.edges));
            });
        }
    }
}

/// Fixed colours for the services and protocols seen most, so they never change between
/// windows; anything else hashes into [`PALETTE`].
const KNOWN: &[(&str, Color)] = &[
    ("dns", Color::rgb(66, 135, 245)),
    ("http", Color::rgb(46, 204, 113)),
    ("ssl", Color::rgb(245, 166, 35)),
    ("ssh", Color::rgb(231, 76, 60)),
    ("tcp", Color::rgb(52, 152, 219)),
    ("udp", Color::rgb(230, 126, 34)),
    ("icmp", Color::rgb(155, 89, 182)),
    ("(none)", Color::rgb(127, 140, 141)),
];

const PALETTE: &[Color] = &[
    Color::rgb(26, 188, 156),
    Color::rgb(241, 196, 15),
    Color::rgb(232, 67, 147),
    Color::rgb(108, 92, 231),
    Color::rgb(0, 206, 201),
    Color::rgb(253, 121, 168),
    Color::rgb(214, 48, 49),
    Color::rgb(162, 155, 254),
    Color::rgb(85, 239, 196),
    Color::rgb(250, 177, 160),
    Color::rgb(116, 185, 255),
    Color::rgb(255, 234, 167),
];

/// The stable colour of a legend label.
pub fn category_color(label: &str) -> Color {
    if let Some((_, color)) = KNOWN.iter().find(|(name, _)| *name == label) {
        return *color;
    }
    // FNV-1a: stable across runs and platforms, unlike the std hasher.
    let hash = label.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    PALETTE[(hash % PALETTE.len() as u64) as usize]
}

/// Maps `value` onto `[0, 1]` on a log scale between `min` and `max`; 0.5 when they are equal.
fn log_fraction(value: u64, min: u64, max: u64) -> f32 {
    let log = |v: u64| (v as f64).ln_1p();
    let span = log(max) - log(min);
    if span <= 0.0 {
        return 0.5;
    }
    ((log(value) - log(min)) / span).clamp(0.0, 1.0) as f32
}

impl GraphStyle {
    /// The legend label of an edge.
    pub fn category(&self, edge: &Edge) -> String {
        let label = match self.color_by {
            ColorBy::Service => edge
                .services
                .iter()
                .next()
                .map(|s| s.to_string())
                .unwrap_or_default(),
            ColorBy::Protocol => edge
                .protos
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("/"),
        };
        if label.is_empty() {
            "(none)".to_owned()
        } else {
            label
        }
    }

    /// Builds the scene: node `i` of the graph is node `i` of the scene, at `positions[i]`
    /// (the origin when `positions` is shorter), edge `j` is edge `j`. Sphere radii follow the
    /// hosts' bytes (connections when no host has bytes) and arrow widths the edges' bytes, both
    /// on a log scale; an arrow takes its category's colour and a host that of its edge with the
    /// most bytes.
    pub fn build_scene(&self, graph: &Graph, positions: &[[f32; 3]]) -> (Scene, Legend) {
        let use_bytes = graph.nodes.iter().any(|n| n.bytes > 0);
        let size = |n: &wiredraw_core::Node| if use_bytes { n.bytes } else { n.conns };
        let (node_min, node_max) = min_max(graph.nodes.iter().map(size));
        let (edge_min, edge_max) = min_max(graph.edges.iter().map(|e| e.bytes));

        let mut legend: Vec<LegendEntry> = Vec::new();
        let mut legend_index: HashMap<String, usize> = HashMap::new();
        // Per node: the colour and bytes of its heaviest edge so far.
        let mut heaviest: Vec<Option<(u64, Color)>> = vec![None; graph.nodes.len()];
        let mut edges = Vec::with_capacity(graph.edges.len());
        for edge in &graph.edges {
            let (Some(from), Some(to)) = (graph.node_index(&edge.src), graph.node_index(&edge.dst))
            else {
                // The graph breaks its invariant; `Graph::validate` reports it, the picture
                // simply lacks the edge.
                continue;
            };
            let label = self.category(edge);
            let entry = *legend_index.entry(label.clone()).or_insert_with(|| {
                legend.push(LegendEntry {
                    color: category_color(&label),
                    label,
                    edges: 0,
                });
                legend.len() - 1
            });
            legend[entry].edges += 1;
            let color = legend[entry].color;
            for end in [from, to] {
                if heaviest[end].is_none_or(|(bytes, _)| edge.bytes > bytes) {
                    heaviest[end] = Some((edge.bytes, color));
                }
            }
            let t = log_fraction(edge.bytes, edge_min, edge_max);
            edges.push(EdgeInstance::new(
                from as u32,
                to as u32,
                self.min_width + (self.max_width - self.min_width) * t,
                color,
            ));
        }
        let nodes = graph
            .nodes
            .iter()
            .enumerate()
            .map(|(i, node)| {
                let position = positions
                    .get(i)
                    .copied()
                    .map_or(Vec3::ZERO, Vec3::from_array);
                let t = log_fraction(size(node), node_min, node_max);
                NodeInstance::new(
                    position,
                    self.min_radius + (self.max_radius - self.min_radius) * t,
                    heaviest[i].map_or(self.lone_node_color, |(_, color)| color),
                )
            })
            .collect();
        legend.sort_by(|a, b| b.edges.cmp(&a.edges).then_with(|| a.label.cmp(&b.label)));
        (
            Scene { nodes, edges },
            Legend {
                color_by: self.color_by,
                entries: legend,
            },
        )
    }
}

fn min_max(values: impl Iterator<Item = u64>) -> (u64, u64) {
    values.fold((u64::MAX, 0), |(lo, hi), v| (lo.min(v), hi.max(v)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use wiredraw_core::Node;

    fn graph() -> Graph {
        let node = |id: &str, bytes| Node {
            id: id.into(),
            conns: 1,
            bytes,
        };
        let edge = |src: &str, dst: &str, bytes, service: &str| Edge {
            src: src.into(),
            dst: dst.into(),
            conns: 1,
            bytes,
            protos: BTreeSet::from(["tcp".into()]),
            services: if service.is_empty() {
                BTreeSet::new()
            } else {
                BTreeSet::from([service.into()])
            },
        };
        Graph {
            from: None,
            to: None,
            nodes: vec![
                node("10.0.0.1", 10),
                node("10.0.0.2", 10_000),
                node("10.0.0.3", 10_000_000),
                node("10.0.0.4", 0),
            ],
            edges: vec![
                edge("10.0.0.1", "10.0.0.2", 10, "dns"),
                edge("10.0.0.2", "10.0.0.3", 10_000_000, "ssl"),
                edge("10.0.0.3", "10.0.0.1", 1000, "dns"),
                edge("10.0.0.3", "10.0.0.2", 5, ""),
            ],
        }
    }

    #[test]
    fn sizes_follow_bytes_on_a_log_scale() {
        let style = GraphStyle::default();
        let (scene, _) = style.build_scene(&graph(), &[[0.0; 3], [1.0; 3], [2.0; 3], [3.0; 3]]);
        let radii: Vec<f32> = scene.nodes.iter().map(|n| n.radius).collect();
        assert_eq!(radii[3], style.min_radius);
        assert_eq!(radii[2], style.max_radius);
        assert!(radii[0] < radii[1] && radii[1] < radii[2]);
        // 10 kB sits halfway between 10 B and 10 MB on a log scale, give or take the +1.
        let middle = (style.min_radius + style.max_radius) / 2.0;
        assert!((radii[1] - middle).abs() < 0.3, "{radii:?}");
        let widths: Vec<f32> = scene.edges.iter().map(|e| e.width).collect();
        assert_eq!(widths[1], style.max_width);
        assert_eq!(widths[3], style.min_width);
        assert_eq!(scene.nodes[1].position, Vec3::ONE);
        assert_eq!((scene.edges[0].from, scene.edges[0].to), (0, 1));
    }

    #[test]
    fn legend_counts_categories_and_colours_are_stable() {
        let (scene, legend) = GraphStyle::default().build_scene(&graph(), &[]);
        let labels: Vec<(&str, usize)> = legend
            .entries
            .iter()
            .map(|e| (e.label.as_str(), e.edges))
            .collect();
        assert_eq!(labels, [("dns", 2), ("(none)", 1), ("ssl", 1)]);
        assert_eq!(scene.edges[0].color, category_color("dns"));
        // Host 3's heaviest edge is the 10 MB ssl one; host 4 has none.
        assert_eq!(scene.nodes[2].color, category_color("ssl"));
        assert_eq!(scene.nodes[3].color, GraphStyle::default().lone_node_color);
        assert_eq!(category_color("modbus"), category_color("modbus"));

        let by_proto = GraphStyle {
            color_by: ColorBy::Protocol,
            ..GraphStyle::default()
        };
        let (_, legend) = by_proto.build_scene(&graph(), &[]);
        assert_eq!(legend.entries.len(), 1);
        assert_eq!(legend.entries[0].label, "tcp");
    }
}
