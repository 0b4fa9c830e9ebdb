//! Connection arrows: a unit arrow tessellated once with lyon, drawn instanced along every edge
//! (see shaders/arrows.wgsl).

use super::culling::Frustum;
use super::instance_buffer::InstancedShape;
use super::{TargetState, create_shader};
use crate::scene::Scene;
use bytemuck::{Pod, Zeroable};
use lyon::math::point;
use lyon::path::Polygon;
use lyon::tessellation::{BuffersBuilder, FillOptions, FillTessellator, FillVertex, VertexBuffers};

/// Head length in shaft widths; mirrors `HEAD_LENGTH` in shaders/arrows.wgsl.
pub(crate) const HEAD_LENGTH: f32 = 4.0;
/// Head half-width in shaft widths.
const HEAD_HALF_WIDTH: f32 = 2.0;
/// The arrow sits this many widths to its right of the centre line, so the two arrows of a
/// pair of hosts talking both ways lie side by side instead of fighting over the same pixels.
const SIDE_SHIFT: f32 = 0.6;
/// How far the arrow reaches sideways from the centre line, in widths (for culling).
pub(crate) const REACH: f32 = HEAD_HALF_WIDTH + SIDE_SHIFT;

/// A vertex of the unit arrow (`shape_vertices` in shaders/arrows.wgsl: anchor, offset).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ArrowVertex {
    /// 0: placed relative to the tail, 1: relative to the tip.
    anchor: f32,
    /// Offset from the anchor in shaft widths: along the arrow, then across it.
    offset: [f32; 2],
}

/// One arrow as the shaders read it (`ArrowInstance` in shaders/arrows.wgsl).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub(crate) struct GpuArrow {
    tail: [f32; 3],
    width: f32,
    tip: [f32; 3],
    /// sRGB colour with the fade in alpha.
    color: [u8; 4],
}

const _: () = assert!(std::mem::size_of::<GpuArrow>() == 32);

/// Shaft half-width at the head end, in widths: the shaft tapers from a point at the tail to
/// twice the nominal width at the head, so its mean width is the nominal one.
const SHAFT_BASE_HALF_WIDTH: f32 = 1.0;
/// How far the shaft reaches sideways from the centre line halfway along, in widths (the
/// picking capsule's radius).
pub(crate) const SHAFT_MID_REACH: f32 = SIDE_SHIFT + 0.5 * SHAFT_BASE_HALF_WIDTH;

/// Tessellates the unit arrow: a shaft and a head, in shaft widths. The shaft is drawn at a
/// nominal length and each vertex is then tied to the end it belongs to, so one mesh fits every
/// arrow length with a head of constant proportions.
///
/// Why a tapered shaft (one triangle) rather than a quad: CPU rasterisers shade 4x4 pixel
/// blocks, and both triangles of a thin quad run its whole length, so every block along a
/// few-pixel-wide shaft was shaded twice. One triangle halves the work of drawing arrows (see
/// the render bench), and the taper shows the orig→resp direction along the whole arrow.
pub(crate) fn unit_arrow() -> (Vec<ArrowVertex>, Vec<u16>) {
    const NOMINAL_SHAFT: f32 = 10.0;
    let tip_x = NOMINAL_SHAFT + HEAD_LENGTH;
    let shaft = [
        point(0.0, SIDE_SHIFT),
        point(NOMINAL_SHAFT, SIDE_SHIFT - SHAFT_BASE_HALF_WIDTH),
        point(NOMINAL_SHAFT, SIDE_SHIFT + SHAFT_BASE_HALF_WIDTH),
    ];
    let head = [
        point(NOMINAL_SHAFT, SIDE_SHIFT - HEAD_HALF_WIDTH),
        point(tip_x, SIDE_SHIFT),
        point(NOMINAL_SHAFT, SIDE_SHIFT + HEAD_HALF_WIDTH),
    ];
    let mut geometry: VertexBuffers<ArrowVertex, u16> = VertexBuffers::new();
    let mut tessellator = FillTessellator::new();
    // Tessellated one by one: as one path, the tessellator would merge them into a single
    // polygon and cut the shaft into several long slivers again.
    for polygon in [shaft, head] {
        tessellator
            .tessellate_polygon(
                Polygon {
                    points: &polygon,
                    closed: true,
                },
                &FillOptions::default(),
                &mut BuffersBuilder::new(&mut geometry, |vertex: FillVertex<'_>| {
                    let p = vertex.position();
                    if p.x < NOMINAL_SHAFT * 0.5 {
                        ArrowVertex {
                            anchor: 0.0,
                            offset: [p.x, p.y],
                        }
                    } else {
                        ArrowVertex {
                            anchor: 1.0,
                            offset: [p.x - tip_x, p.y],
                        }
                    }
                }),
            )
            .expect("a fixed, valid triangle always tessellates");
    }
    (geometry.vertices, geometry.indices)
}

pub(crate) struct ArrowRenderer {
    /// For fully opaque arrows: without `discard`, depth is tested before shading.
    opaque_pipeline: wgpu::RenderPipeline,
    /// For arrows fading in or out (screen-door `discard`).
    fading_pipeline: wgpu::RenderPipeline,
    /// The unit arrow's triangles, per edge: the opaque arrows first, then the fading ones.
    instances: InstancedShape<GpuArrow>,
    opaque_count: u32,
    scratch: Vec<GpuArrow>,
    fading_scratch: Vec<GpuArrow>,
}

/// What preparing arrows found.
pub(crate) struct ArrowCounts {
    pub drawn: usize,
    /// Edges with an endpoint index outside the scene's nodes.
    pub dangling: usize,
}

impl ArrowRenderer {
    pub fn new(
        device: &wgpu::Device,
        frame_layout: &wgpu::BindGroupLayout,
        target: TargetState,
    ) -> ArrowRenderer {
        let shader = create_shader(device, "arrows.wgsl");
        let (vertices, indices) = unit_arrow();
        let triangles: Vec<[f32; 4]> = indices
            .iter()
            .map(|&i| {
                let v = vertices[usize::from(i)];
                [v.anchor, v.offset[0], v.offset[1], 0.0]
            })
            .collect();
        let instances = InstancedShape::new(device, "arrows", &triangles);
        let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("arrows"),
            bind_group_layouts: &[Some(frame_layout), Some(instances.layout())],
            immediate_size: 0,
        });
        let pipeline = |fragment_entry: &str| {
            device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
                label: Some(fragment_entry),
                layout: Some(&layout),
                vertex: wgpu::VertexState {
                    module: &shader,
                    entry_point: Some("vs_arrow"),
                    compilation_options: Default::default(),
                    buffers: &[],
                },
                // Ribbons turn towards the eye, but which winding faces it depends on the side.
                primitive: wgpu::PrimitiveState::default(),
                depth_stencil: target.depth_stencil(),
                multisample: target.multisample(),
                fragment: Some(wgpu::FragmentState {
                    module: &shader,
                    entry_point: Some(fragment_entry),
                    compilation_options: Default::default(),
                    targets: &target.color_targets(),
                }),
                multiview_mask: None,
                cache: None,
            })
        };
        ArrowRenderer {
            opaque_pipeline: pipeline("fs_arrow"),
            fading_pipeline: pipeline("fs_arrow_fading"),
            instances,
            opaque_count: 0,
            scratch: Vec::new(),
            fading_scratch: Vec::new(),
        }
    }

    /// Uploads the arrows that can show.
    pub fn prepare(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        scene: &Scene,
        frustum: &Frustum,
        min_length_px: f32,
    ) -> ArrowCounts {
        self.scratch.clear();
        self.fading_scratch.clear();
        let node_count = scene.nodes.len();
        let mut dangling = 0;
        for edge in &scene.edges {
            if edge.from as usize >= node_count || edge.to as usize >= node_count {
                dangling += 1;
                continue;
            }
            let Some(segment) = scene.segment_of(edge) else {
                continue;
            };
            let margin = segment.width * REACH;
            if !segment.tail.is_finite()
                || !frustum.segment_visible(segment.tail, segment.tip, margin, min_length_px)
            {
                continue;
            }
            let [r, g, b, _] = edge.color.0;
            let fade = (edge.fade.clamp(0.0, 1.0) * 255.0).round() as u8;
            let arrow = GpuArrow {
                tail: segment.tail.to_array(),
                width: edge.width,
                tip: segment.tip.to_array(),
                color: [r, g, b, fade],
            };
            if fade == u8::MAX {
                self.scratch.push(arrow);
            } else {
                self.fading_scratch.push(arrow);
            }
        }
        self.opaque_count = u32::try_from(self.scratch.len()).unwrap_or(u32::MAX);
        self.scratch.extend_from_slice(&self.fading_scratch);
        self.instances.upload(device, queue, &self.scratch);
        ArrowCounts {
            drawn: self.scratch.len(),
            dangling,
        }
    }

    pub fn paint(&self, pass: &mut wgpu::RenderPass<'_>) {
        if self.instances.is_empty() {
            return;
        }
        pass.set_pipeline(&self.opaque_pipeline);
        self.instances.draw_range(pass, 0..self.opaque_count);
        pass.set_pipeline(&self.fading_pipeline);
        self.instances.draw_range(pass, self.opaque_count..u32::MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_arrow_has_a_shaft_and_a_head_at_the_tip() {
        let (vertices, indices) = unit_arrow();
        assert!(indices.iter().all(|&i| (i as usize) < vertices.len()));
        let tip = vertices
            .iter()
            .find(|v| v.anchor == 1.0 && v.offset[0] == 0.0)
            .expect("a vertex at the tip");
        assert!((tip.offset[1] - SIDE_SHIFT).abs() < 1e-6);
        let widest = vertices
            .iter()
            .map(|v| v.offset[1])
            .fold(f32::MIN, f32::max);
        assert!((widest - (SIDE_SHIFT + HEAD_HALF_WIDTH)).abs() < 1e-6);
        let tail_vertices = vertices.iter().filter(|v| v.anchor == 0.0).count();
        assert_eq!(tail_vertices, 1, "the shaft starts at a point at the tail");
        assert_eq!(
            indices.len(),
            6,
            "one triangle for the shaft, one for the head"
        );
    }
}
