//! The CPU-side description of what to draw: spheres for hosts, arrows for connections.

use glam::Vec3;

/// An sRGB colour with straight alpha, one byte per channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Color(pub [u8; 4]);

impl Color {
    pub const WHITE: Color = Color([255, 255, 255, 255]);
    pub const BLACK: Color = Color([0, 0, 0, 255]);

    /// An opaque colour.
    pub const fn rgb(r: u8, g: u8, b: u8) -> Color {
        Color([r, g, b, 255])
    }

    /// Parses `#rrggbb` or `rrggbb`.
    pub fn from_hex(text: &str) -> Option<Color> {
        let digits = text.strip_prefix('#').unwrap_or(text);
        if digits.len() != 6 || !digits.is_ascii() {
            return None;
        }
        let byte = |i: usize| u8::from_str_radix(&digits[i..i + 2], 16).ok();
        Some(Color::rgb(byte(0)?, byte(2)?, byte(4)?))
    }

    /// The colour as `[r, g, b, a]` in 0..=1 (still sRGB-encoded).
    pub fn to_f32(self) -> [f32; 4] {
        self.0.map(|c| f32::from(c) / 255.0)
    }

    /// Linear blend of the encoded channels; `t = 0` is `self`.
    pub fn lerp(self, other: Color, t: f32) -> Color {
        let t = t.clamp(0.0, 1.0);
        let mut out = [0u8; 4];
        for (i, channel) in out.iter_mut().enumerate() {
            let (a, b) = (f32::from(self.0[i]), f32::from(other.0[i]));
            *channel = (a + (b - a) * t).round() as u8;
        }
        Color(out)
    }
}

impl From<Color> for egui::Color32 {
    fn from(color: Color) -> Self {
        let [r, g, b, a] = color.0;
        egui::Color32::from_rgba_unmultiplied(r, g, b, a)
    }
}

/// How a host is highlighted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NodeState {
    /// Under the cursor: brightened.
    pub hovered: bool,
    /// Part of the selection: ringed with the selection colour.
    pub selected: bool,
    /// Out of focus (e.g. filtered away): greyed and darkened.
    pub dimmed: bool,
    /// Calls for attention (e.g. a notice names it): ringed with the alert colour, unless
    /// selected too.
    pub flagged: bool,
}

impl NodeState {
    /// The state bits the shaders read (`STATE_*` in shaders/common.wgsl).
    pub(crate) fn bits(self) -> u32 {
        u32::from(self.hovered)
            | u32::from(self.selected) << 1
            | u32::from(self.dimmed) << 2
            | u32::from(self.flagged) << 3
    }
}

/// One host sphere.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NodeInstance {
    pub position: Vec3,
    pub radius: f32,
    pub color: Color,
    pub state: NodeState,
    /// 1 fully shown, 0 gone; in between the sphere is smaller and partly see-through
    /// (appearing or disappearing).
    pub fade: f32,
}

impl NodeInstance {
    /// A fully shown, unhighlighted node.
    pub fn new(position: Vec3, radius: f32, color: Color) -> NodeInstance {
        NodeInstance {
            position,
            radius,
            color,
            state: NodeState::default(),
            fade: 1.0,
        }
    }

    /// The radius as drawn, after the fade's growth.
    pub fn drawn_radius(&self) -> f32 {
        self.radius * fade_scale(self.fade)
    }

    pub(crate) fn drawn_sphere(&self) -> DrawnSphere {
        DrawnSphere {
            center: self.position,
            radius: self.drawn_radius(),
        }
    }
}

/// A node's sphere as drawn: all an arrow needs of its ends, packed in 16 bytes so that the
/// lookups of a large scene's edges stay in cache.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct DrawnSphere {
    pub center: Vec3,
    pub radius: f32,
}

/// The arrow of `edge` between spheres `from` and `to`, or `None` when the spheres overlap so
/// no arrow is visible, the edge loops back to its node, or it is fully faded out.
pub(crate) fn edge_segment(
    edge: &EdgeInstance,
    from: DrawnSphere,
    to: DrawnSphere,
) -> Option<ArrowSegment> {
    if edge.fade <= 0.0 || edge.from == edge.to {
        return None;
    }
    let axis = to.center - from.center;
    let distance = axis.length();
    if !distance.is_finite() || distance <= from.radius + to.radius {
        return None;
    }
    let direction = axis / distance;
    Some(ArrowSegment {
        tail: from.center + direction * from.radius,
        tip: to.center - direction * to.radius,
        width: edge.width * fade_scale(edge.fade),
    })
}

/// One directed connection arrow between two nodes of the same [`Scene`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EdgeInstance {
    /// Index of the originating node (Zeek's orig side) in [`Scene::nodes`].
    pub from: u32,
    /// Index of the responding node; the arrow head touches its sphere.
    pub to: u32,
    /// Shaft width in world units.
    pub width: f32,
    pub color: Color,
    /// As [`NodeInstance::fade`].
    pub fade: f32,
    /// Selected or hovered: never left out when a crowded frame thins its arrows
    /// ([`crate::RenderSettings::arrow_budget`]).
    pub highlighted: bool,
}

impl EdgeInstance {
    /// A fully shown, unhighlighted arrow.
    pub fn new(from: u32, to: u32, width: f32, color: Color) -> EdgeInstance {
        EdgeInstance {
            from,
            to,
            width,
            color,
            fade: 1.0,
            highlighted: false,
        }
    }
}

/// Everything to draw in one frame.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scene {
    pub nodes: Vec<NodeInstance>,
    pub edges: Vec<EdgeInstance>,
}

/// The segment an arrow occupies: from the surface of its source sphere to the surface of its
/// target sphere. Rendering and picking both use this, so what is seen is what is clicked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArrowSegment {
    pub tail: Vec3,
    pub tip: Vec3,
    /// Shaft width after the fade's growth.
    pub width: f32,
}

impl Scene {
    /// The arrow segment of edge `index`, or `None` when an endpoint index is out of range, the
    /// spheres overlap so no arrow is visible, or the edge is fully faded out.
    pub fn arrow_segment(&self, index: usize) -> Option<ArrowSegment> {
        let edge = self.edges.get(index)?;
        self.segment_of(edge)
    }

    pub(crate) fn segment_of(&self, edge: &EdgeInstance) -> Option<ArrowSegment> {
        let from = self.nodes.get(edge.from as usize)?.drawn_sphere();
        let to = self.nodes.get(edge.to as usize)?.drawn_sphere();
        edge_segment(edge, from, to)
    }

    /// The smallest axis-aligned box holding every visible sphere, or `None` for an empty scene.
    pub fn bounds(&self) -> Option<Bounds> {
        let mut visible = self
            .nodes
            .iter()
            .filter(|n| n.fade > 0.0 && n.position.is_finite());
        let first = visible.next()?;
        let mut bounds = Bounds::around(first.position, first.radius);
        for node in visible {
            bounds = bounds.union(Bounds::around(node.position, node.radius));
        }
        Some(bounds)
    }
}

/// An axis-aligned box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    pub min: Vec3,
    pub max: Vec3,
}

impl Bounds {
    /// The box around a sphere.
    pub fn around(center: Vec3, radius: f32) -> Bounds {
        Bounds {
            min: center - Vec3::splat(radius),
            max: center + Vec3::splat(radius),
        }
    }

    pub fn union(self, other: Bounds) -> Bounds {
        Bounds {
            min: self.min.min(other.min),
            max: self.max.max(other.max),
        }
    }

    pub fn center(&self) -> Vec3 {
        (self.min + self.max) * 0.5
    }

    /// Radius of the sphere around the box.
    pub fn radius(&self) -> f32 {
        (self.max - self.min).length() * 0.5
    }
}

/// Appearing and disappearing objects grow from 30 % of their size while they fade in; mirrors
/// `fade_scale` in shaders/common.wgsl.
pub(crate) fn fade_scale(fade: f32) -> f32 {
    0.3 + 0.7 * fade.clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_colours_parse_and_bad_ones_do_not() {
        assert_eq!(Color::from_hex("#ff8000"), Some(Color::rgb(255, 128, 0)));
        assert_eq!(Color::from_hex("00ff00"), Some(Color::rgb(0, 255, 0)));
        assert_eq!(Color::from_hex("#ff80"), None);
        assert_eq!(Color::from_hex("#gg0000"), None);
        assert_eq!(Color::from_hex("#éé000"), None);
    }

    #[test]
    fn arrows_run_between_sphere_surfaces() {
        let scene = Scene {
            nodes: vec![
                NodeInstance::new(Vec3::ZERO, 1.0, Color::WHITE),
                NodeInstance::new(Vec3::new(10.0, 0.0, 0.0), 2.0, Color::WHITE),
            ],
            edges: vec![
                EdgeInstance::new(0, 1, 0.5, Color::WHITE),
                EdgeInstance::new(0, 7, 0.5, Color::WHITE),
            ],
        };
        let segment = scene.arrow_segment(0).unwrap();
        assert_eq!(segment.tail, Vec3::new(1.0, 0.0, 0.0));
        assert_eq!(segment.tip, Vec3::new(8.0, 0.0, 0.0));
        assert_eq!(scene.arrow_segment(1), None, "dangling endpoint");
    }

    #[test]
    fn bounds_cover_every_sphere() {
        let scene = Scene {
            nodes: vec![
                NodeInstance::new(Vec3::new(-1.0, 0.0, 0.0), 1.0, Color::WHITE),
                NodeInstance::new(Vec3::new(4.0, 2.0, 0.0), 0.5, Color::WHITE),
            ],
            edges: vec![],
        };
        let bounds = scene.bounds().unwrap();
        assert_eq!(bounds.min, Vec3::new(-2.0, -1.0, -1.0));
        assert_eq!(bounds.max, Vec3::new(4.5, 2.5, 1.0));
        assert_eq!(Scene::default().bounds(), None);
    }
}
