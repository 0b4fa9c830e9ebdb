//! Per-frame constants shared by every pipeline (`Frame` in shaders/common.wgsl).

use crate::camera::{Camera, DepthConvention, Viewport};
use crate::scene::Color;
use bytemuck::{Pod, Zeroable};
use glam::Vec3;

#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub(crate) struct FrameUniforms {
    view_proj: [[f32; 4]; 4],
    camera_position: [f32; 4],
    camera_right: [f32; 4],
    camera_up: [f32; 4],
    light_direction: [f32; 4],
    selection_color: [f32; 4],
    hover_color: [f32; 4],
    alert_color: [f32; 4],
    output: [f32; 4],
}

const _: () = assert!(std::mem::size_of::<FrameUniforms>() == 192);

/// Settings of a [`crate::GraphRenderer`] that hosts may change between frames.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RenderSettings {
    /// Rim colour of selected nodes.
    pub selection_color: Color,
    /// Colour hovered nodes are brightened towards.
    pub hover_color: Color,
    /// Rim colour of flagged nodes ([`NodeState::flagged`](crate::NodeState::flagged)).
    pub alert_color: Color,
    /// Arrows are never drawn thinner than this many pixels, so far edges stay visible.
    pub min_arrow_width_px: f32,
    /// Arrows shorter than this on screen are skipped.
    pub min_arrow_length_px: f32,
    /// How many arrows a frame draws before it thins out those narrower on screen than
    /// `min_arrow_width_px`. Past it, each such arrow is drawn (at that width) with a chance
    /// in proportion to its true width, picked by a hash of its two hosts so that the same
    /// arrows stay from frame to frame and more of them join as the view zooms in. The chance
    /// is scaled up so the frame draws about this many, but never below the true width: a
    /// crowded view keeps its look and at least the ink its arrows' true widths would give,
    /// while wide and highlighted arrows are always drawn. A software renderer pays per
    /// triangle (see docs/PERFORMANCE.md, Rendering). `usize::MAX` draws every arrow.
    pub arrow_budget: usize,
    /// Arrows whose head would be shorter than this on screen are drawn as their shaft alone,
    /// one triangle widening towards the head's end, instead of a shaft and a head. A head is
    /// four shaft widths long (at most 40 % of the arrow), so at the default 6 px thin or short
    /// arrows lose it: a head a few pixels long reads no better than the widening shaft, and
    /// a software renderer pays per vertex and per triangle (see docs/PERFORMANCE.md,
    /// Rendering). 0 draws every arrow in full.
    pub min_head_length_px: f32,
    /// Impostor spheres with a radius under this many pixels on screen are shaded as seen from
    /// straight ahead and do not write depth: at that size neither error shows, and the ray
    /// cast and depth write were most of a small sphere's cost on a software renderer (see
    /// docs/PERFORMANCE.md, Rendering). 0 ray-casts every sphere.
    pub max_dot_radius_px: f32,
}

impl Default for RenderSettings {
    fn default() -> Self {
        RenderSettings {
            selection_color: Color::rgb(255, 214, 10),
            hover_color: Color::WHITE,
            alert_color: Color::rgb(255, 86, 64),
            min_arrow_width_px: 1.0,
            min_arrow_length_px: 1.0,
            arrow_budget: 50_000,
            min_head_length_px: 6.0,
            max_dot_radius_px: 4.0,
        }
    }
}

impl FrameUniforms {
    pub fn new(
        camera: &Camera,
        viewport: Viewport,
        settings: &RenderSettings,
        convention: DepthConvention,
        encode_srgb: bool,
    ) -> FrameUniforms {
        let eye = camera.eye();
        let (right, up) = (camera.right(), camera.up());
        let to_eye = (eye - camera.target).normalize_or(Vec3::Z);
        // Key light over the viewer's left shoulder: shading follows the camera, so depth reads
        // the same from every angle.
        let light = (to_eye * 0.8 + up * 0.55 - right * 0.35).normalize();
        let rgb = |color: Color| {
            let [r, g, b, a] = color.to_f32();
            [r, g, b, a]
        };
        FrameUniforms {
            view_proj: camera
                .view_proj_for(viewport.aspect(), convention)
                .to_cols_array_2d(),
            camera_position: eye
                .extend(camera.pixel_size_at_unit_depth(viewport))
                .to_array(),
            camera_right: right.extend(0.0).to_array(),
            camera_up: up.extend(0.0).to_array(),
            light_direction: light.extend(0.0).to_array(),
            selection_color: rgb(settings.selection_color),
            hover_color: rgb(settings.hover_color),
            alert_color: rgb(settings.alert_color),
            output: [
                if encode_srgb { 1.0 } else { 0.0 },
                settings.min_arrow_width_px,
                0.0,
                0.0,
            ],
        }
    }
}
