//! Connection arrows: a unit arrow tessellated once with lyon, drawn instanced along every edge
//! (see shaders/arrows.wgsl).

use super::culling::{Frustum, ScreenSegment};
use super::frame::RenderSettings;
use super::instance_buffer::InstancedShape;
use super::{TargetState, create_shader};
use crate::scene::{DrawnSphere, EdgeInstance, NodeInstance, Scene, edge_segment};
use bytemuck::{Pod, Zeroable};
use lyon::math::point;
use lyon::path::Polygon;
use lyon::tessellation::{BuffersBuilder, FillOptions, FillTessellator, FillVertex, VertexBuffers};
use rayon::prelude::*;

/// Head length in shaft widths; mirrors `HEAD_LENGTH` in shaders/arrows.wgsl.
pub(crate) const HEAD_LENGTH: f32 = 4.0;
/// The longest share of an arrow its head takes; mirrors `MAX_HEAD_SHARE` in
/// shaders/arrows.wgsl.
const MAX_HEAD_SHARE: f32 = 0.4;
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

/// The far-away form of an arrow: its shaft without the head, one triangle from a point at the
/// tail to a base across the tip, in the same units as [`unit_arrow`]. Three vertices instead
/// of six, and it widens towards resp as the full arrow does, so the direction reads the same
/// when the head comes and goes with the zoom.
pub(crate) fn unit_wedge() -> Vec<ArrowVertex> {
    [
        (0.0, SIDE_SHIFT),
        (1.0, SIDE_SHIFT - SHAFT_BASE_HALF_WIDTH),
        (1.0, SIDE_SHIFT + SHAFT_BASE_HALF_WIDTH),
    ]
    .map(|(anchor, across)| ArrowVertex {
        anchor,
        offset: [0.0, across],
    })
    .to_vec()
}

/// How long the head of an arrow `width` wide (with its fade applied) is on screen, as
/// shaders/arrows.wgsl draws it.
fn head_length_px(width: f32, on_screen: ScreenSegment, settings: &RenderSettings) -> f32 {
    let width_px = (width * on_screen.end_px_per_unit).max(settings.min_arrow_width_px);
    (HEAD_LENGTH * width_px).min(MAX_HEAD_SHARE * on_screen.length_px)
}

/// How much of the width an arrow is drawn at is its own: 1 for an arrow at least
/// [`RenderSettings::min_arrow_width_px`] wide on screen, less for one widened to it.
fn coverage(width: f32, on_screen: ScreenSegment, settings: &RenderSettings) -> f32 {
    if on_screen.end_px_per_unit == 0.0 || settings.min_arrow_width_px <= 0.0 {
        // Crossing the eye plane: as wide as can be.
        return 1.0;
    }
    (width * on_screen.end_px_per_unit / settings.min_arrow_width_px).clamp(MIN_COVERAGE, 1.0)
}

/// Keeps thinning keys finite for arrows of no width.
const MIN_COVERAGE: f32 = 1e-6;

/// A number in [0, 1) fixed for an edge's pair of node indices (SplitMix64's finaliser), so
/// thinning keeps the same arrows from frame to frame.
fn endpoint_hash_unit(from: u32, to: u32) -> f32 {
    let mut x = (u64::from(from) << 32 | u64::from(to)).wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    (x >> 40) as f32 / (1u64 << 24) as f32
}

/// An arrow is drawn when its key is under the frame's [`thinning_threshold`]: 0 for arrows that
/// are always drawn, else the edge's hash over its coverage, so that at threshold `k` an arrow
/// shows with chance `k × coverage`.
fn thinning_key(edge: &EdgeInstance, coverage: f32) -> f32 {
    if edge.highlighted || coverage >= 1.0 {
        0.0
    } else {
        endpoint_hash_unit(edge.from, edge.to) / coverage
    }
}

/// The key under which arrows are drawn, for a frame of `total` arrows of which `thin` (with
/// coverages summing to `thin_coverage`) may be left out: every arrow within the budget, else
/// a threshold that draws about `budget`, and never fewer than their coverage.
fn thinning_threshold(total: usize, thin: usize, thin_coverage: f64, budget: usize) -> f32 {
    if total <= budget || thin == 0 {
        return f32::INFINITY;
    }
    let room = budget.saturating_sub(total - thin) as f64;
    ((room / thin_coverage) as f32).max(1.0)
}

/// Arrows of one shape and opacity, each with its thinning key.
#[derive(Default)]
struct ArrowList {
    arrows: Vec<GpuArrow>,
    thinning_keys: Vec<f32>,
}

impl ArrowList {
    fn push(&mut self, arrow: GpuArrow, thinning_key: f32) {
        self.arrows.push(arrow);
        self.thinning_keys.push(thinning_key);
    }

    fn len(&self) -> usize {
        self.arrows.len()
    }

    fn thin(&mut self, threshold: f32) {
        let mut keys = self.thinning_keys.iter();
        self.arrows
            .retain(|_| keys.next().is_some_and(|&key| key < threshold));
        self.thinning_keys.retain(|&key| key < threshold);
    }

    fn clear(&mut self) {
        self.arrows.clear();
        self.thinning_keys.clear();
    }
}

/// Arrows of one shape gathered for upload: the opaque ones, and those fading in or out.
#[derive(Default)]
struct ArrowLists {
    opaque: ArrowList,
    fading: ArrowList,
}

impl ArrowLists {
    fn push(&mut self, arrow: GpuArrow, thinning_key: f32) {
        if arrow.color[3] == u8::MAX {
            self.opaque.push(arrow, thinning_key);
        } else {
            self.fading.push(arrow, thinning_key);
        }
    }

    fn len(&self) -> usize {
        self.opaque.len() + self.fading.len()
    }

    fn thin(&mut self, threshold: f32) {
        self.opaque.thin(threshold);
        self.fading.thin(threshold);
    }

    fn clear(&mut self) {
        self.opaque.clear();
        self.fading.clear();
    }
}

/// What a run of edges contributes to a frame.
#[derive(Default)]
struct SortedArrows {
    full: ArrowLists,
    wedges: ArrowLists,
    /// Edges with an endpoint index outside the scene's nodes.
    dangling: usize,
    /// Arrows thinning may leave out, and the sum of their coverages.
    thin_count: usize,
    thin_coverage: f64,
}

impl SortedArrows {
    fn len(&self) -> usize {
        self.full.len() + self.wedges.len()
    }

    fn thin(&mut self, threshold: f32) {
        self.full.thin(threshold);
        self.wedges.thin(threshold);
    }

    fn clear(&mut self) {
        self.full.clear();
        self.wedges.clear();
        self.dangling = 0;
        self.thin_count = 0;
        self.thin_coverage = 0.0;
    }

    /// Culls `edges` (whose ends are looked up in `spheres`, the scene's nodes as drawn) and
    /// sorts the rest into full arrows and wedges, replacing what was here.
    fn refill(
        &mut self,
        spheres: &[DrawnSphere],
        edges: &[EdgeInstance],
        frustum: &Frustum,
        settings: &RenderSettings,
    ) {
        self.clear();
        for edge in edges {
            let (Some(&from), Some(&to)) = (
                spheres.get(edge.from as usize),
                spheres.get(edge.to as usize),
            ) else {
                self.dangling += 1;
                continue;
            };
            let Some(segment) = edge_segment(edge, from, to) else {
                continue;
            };
            if !segment.tail.is_finite() {
                continue;
            }
            let margin = segment.width * REACH;
            let Some(on_screen) = frustum
                .screen_segment(segment.tail, segment.tip, margin)
                .filter(|on_screen| on_screen.length_px >= settings.min_arrow_length_px)
            else {
                continue;
            };
            let [r, g, b, _] = edge.color.0;
            let fade = (edge.fade.clamp(0.0, 1.0) * 255.0).round() as u8;
            let arrow = GpuArrow {
                tail: segment.tail.to_array(),
                width: edge.width,
                tip: segment.tip.to_array(),
                color: [r, g, b, fade],
            };
            let coverage = coverage(segment.width, on_screen, settings);
            let key = thinning_key(edge, coverage);
            if key > 0.0 {
                self.thin_count += 1;
                self.thin_coverage += f64::from(coverage);
            }
            if head_length_px(segment.width, on_screen, settings) < settings.min_head_length_px {
                self.wedges.push(arrow, key);
            } else {
                self.full.push(arrow, key);
            }
        }
    }
}

/// Edges per task when arrows are prepared in parallel: large enough that a task outweighs
/// its scheduling, small enough that a large scene's tasks spread over every core.
const EDGES_PER_TASK: usize = 16_384;

/// A frame's arrows, culled, sorted and thinned to [`RenderSettings::arrow_budget`], in runs of
/// the scene's edges in order. Kept from frame to frame, so that a large scene's lists reuse
/// their memory instead of faulting in fresh pages every frame.
#[derive(Default)]
struct FrameArrows {
    /// The scene's nodes as drawn, packed for the edges' lookups.
    spheres: Vec<DrawnSphere>,
    runs: Vec<SortedArrows>,
    /// Arrows on screen that thinning left out.
    thinned: usize,
}

impl FrameArrows {
    /// Gathers the arrows of `scene` on every core.
    fn gather(&mut self, scene: &Scene, frustum: &Frustum, settings: &RenderSettings) {
        scene
            .nodes
            .par_iter()
            .map(NodeInstance::drawn_sphere)
            .collect_into_vec(&mut self.spheres);
        let spheres = self.spheres.as_slice();
        self.runs
            .resize_with(scene.edges.len().div_ceil(EDGES_PER_TASK), Default::default);
        self.runs
            .par_iter_mut()
            .zip(scene.edges.par_chunks(EDGES_PER_TASK))
            .for_each(|(run, edges)| run.refill(spheres, edges, frustum, settings));
        let on_screen: usize = self.runs.iter().map(SortedArrows::len).sum();
        let thin: usize = self.runs.iter().map(|run| run.thin_count).sum();
        let thin_coverage: f64 = self.runs.iter().map(|run| run.thin_coverage).sum();
        let threshold = thinning_threshold(on_screen, thin, thin_coverage, settings.arrow_budget);
        if threshold.is_finite() {
            self.runs.par_iter_mut().for_each(|run| run.thin(threshold));
        }
        self.thinned = on_screen - self.runs.iter().map(SortedArrows::len).sum::<usize>();
    }

    fn dangling(&self) -> usize {
        self.runs.iter().map(|run| run.dangling).sum()
    }

    /// Every kept arrow of one shape: the opaque ones of each run in order, then the fading
    /// ones.
    fn of_shape(&self, shape: fn(&SortedArrows) -> &ArrowLists) -> (Vec<&[GpuArrow]>, u32) {
        let opaque = self
            .runs
            .iter()
            .map(|run| shape(run).opaque.arrows.as_slice());
        let fading = self
            .runs
            .iter()
            .map(|run| shape(run).fading.arrows.as_slice());
        let opaque_count: usize = opaque.clone().map(<[GpuArrow]>::len).sum();
        (
            opaque.chain(fading).collect(),
            u32::try_from(opaque_count).unwrap_or(u32::MAX),
        )
    }
}

/// Arrows of one shape, drawn the opaque ones first, then those fading in or out.
struct ArrowBatch {
    shape: InstancedShape<GpuArrow>,
    opaque_count: u32,
}

impl ArrowBatch {
    fn new(device: &wgpu::Device, label: &'static str, vertices: &[ArrowVertex]) -> ArrowBatch {
        let shape: Vec<[f32; 4]> = vertices
            .iter()
            .map(|v| [v.anchor, v.offset[0], v.offset[1], 0.0])
            .collect();
        ArrowBatch {
            shape: InstancedShape::new(device, label, &shape),
            opaque_count: 0,
        }
    }

    /// Uploads the arrows of one shape, replacing the last frame's; returns how many that was.
    fn upload(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        arrows: &FrameArrows,
        shape: fn(&SortedArrows) -> &ArrowLists,
    ) -> usize {
        let (parts, opaque_count) = arrows.of_shape(shape);
        self.opaque_count = opaque_count;
        self.shape.upload_parts(device, queue, &parts)
    }

    fn paint(
        &self,
        pass: &mut wgpu::RenderPass<'_>,
        opaque: &wgpu::RenderPipeline,
        fading: &wgpu::RenderPipeline,
    ) {
        if self.shape.is_empty() {
            return;
        }
        pass.set_pipeline(opaque);
        self.shape.draw_range(pass, 0..self.opaque_count);
        pass.set_pipeline(fading);
        self.shape.draw_range(pass, self.opaque_count..u32::MAX);
    }
}

pub(crate) struct ArrowRenderer {
    /// For fully opaque arrows: without `discard`, depth is tested before shading.
    opaque_pipeline: wgpu::RenderPipeline,
    /// For arrows fading in or out (screen-door `discard`).
    fading_pipeline: wgpu::RenderPipeline,
    /// Arrows whose head shows on screen ([`RenderSettings::min_head_length_px`]).
    full: ArrowBatch,
    /// The rest, as their shaft alone.
    wedges: ArrowBatch,
    frame: FrameArrows,
}

/// What preparing arrows found.
pub(crate) struct ArrowCounts {
    pub drawn: usize,
    /// Edges with an endpoint index outside the scene's nodes.
    pub dangling: usize,
    /// Arrows on screen left out by thinning ([`RenderSettings::arrow_budget`]).
    pub thinned: usize,
}

impl ArrowRenderer {
    pub fn new(
        device: &wgpu::Device,
        frame_layout: &wgpu::BindGroupLayout,
        target: TargetState,
    ) -> ArrowRenderer {
        let shader = create_shader(device, "arrows.wgsl");
        let (vertices, indices) = unit_arrow();
        let triangles: Vec<ArrowVertex> =
            indices.iter().map(|&i| vertices[usize::from(i)]).collect();
        let full = ArrowBatch::new(device, "arrows", &triangles);
        let wedges = ArrowBatch::new(device, "arrow wedges", &unit_wedge());
        let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("arrows"),
            bind_group_layouts: &[Some(frame_layout), Some(full.shape.layout())],
            immediate_size: 0,
        });
        // Ribbons turn towards the eye, but which winding faces it depends on the side: no
        // culling.
        let pipeline = |fragment_entry| {
            target.pipeline(device, &layout, &shader, ("vs_arrow", fragment_entry), None)
        };
        ArrowRenderer {
            opaque_pipeline: pipeline("fs_arrow"),
            fading_pipeline: pipeline("fs_arrow_fading"),
            full,
            wedges,
            frame: FrameArrows::default(),
        }
    }

    /// Uploads the arrows that can show ([`FrameArrows::gather`]).
    pub fn prepare(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        scene: &Scene,
        frustum: &Frustum,
        settings: &RenderSettings,
    ) -> ArrowCounts {
        self.frame.gather(scene, frustum, settings);
        let drawn = self
            .full
            .upload(device, queue, &self.frame, |run| &run.full)
            + self
                .wedges
                .upload(device, queue, &self.frame, |run| &run.wedges);
        ArrowCounts {
            drawn,
            dangling: self.frame.dangling(),
            thinned: self.frame.thinned,
        }
    }

    pub fn paint(&self, pass: &mut wgpu::RenderPass<'_>) {
        for batch in [&self.full, &self.wedges] {
            batch.paint(pass, &self.opaque_pipeline, &self.fading_pipeline);
        }
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

    use crate::camera::{Camera, Viewport};
    use crate::scene::{Color, NodeInstance};
    use glam::Vec3;
    use std::collections::HashSet;

    /// A camera 10 units from the origin, its 800×600 frustum, and the pixels a unit spans at
    /// the origin.
    fn view() -> (Camera, Frustum, f32) {
        let camera = Camera::looking_at(Vec3::ZERO, 10.0);
        let viewport = Viewport::new(800, 600);
        let frustum = Frustum::new(
            camera.view_proj(viewport.aspect()),
            viewport.size(),
            camera.pixel_size_at_unit_depth(viewport),
        );
        let px_per_unit = frustum
            .screen_segment(Vec3::ZERO, camera.right(), 0.0)
            .unwrap()
            .end_px_per_unit;
        (camera, frustum, px_per_unit)
    }

    #[test]
    fn heads_show_when_wide_and_long_enough_on_screen() {
        let (camera, frustum, px_per_unit) = view();
        let settings = RenderSettings::default();
        let right = camera.right();
        let head = |width_px: f32, length_px: f32| {
            let on_screen = frustum
                .screen_segment(Vec3::ZERO, right * (length_px / px_per_unit), 0.0)
                .unwrap();
            head_length_px(width_px / px_per_unit, on_screen, &settings)
        };
        // Four widths long...
        assert!(
            (head(3.0, 200.0) - 12.0).abs() < 0.01,
            "{}",
            head(3.0, 200.0)
        );
        // ...but never under the minimum width, nor over 40 % of the arrow.
        assert!((head(0.1, 200.0) - 4.0).abs() < 0.01);
        assert!((head(3.0, 10.0) - 4.0).abs() < 0.01);
        let min = settings.min_head_length_px;
        assert!(head(1.0, 200.0) < min && head(3.0, 10.0) < min && head(3.0, 200.0) >= min);
    }

    #[test]
    fn unit_wedge_is_the_shaft_alone_widening_to_the_tip() {
        let vertices = unit_wedge();
        assert_eq!(vertices.len(), 3);
        let at_tail: Vec<_> = vertices.iter().filter(|v| v.anchor == 0.0).collect();
        assert_eq!(at_tail.len(), 1, "one point at the tail");
        assert_eq!(at_tail[0].offset, [0.0, SIDE_SHIFT]);
        let base: Vec<f32> = vertices
            .iter()
            .filter(|v| v.anchor == 1.0)
            .map(|v| v.offset[1])
            .collect();
        assert_eq!(base.len(), 2);
        // As wide across the tip as the full arrow's shaft is where its head starts.
        assert!((base[0] - base[1]).abs() - 2.0 * SHAFT_BASE_HALF_WIDTH < 1e-6);
    }

    /// 100 × 100 hosts across the view, 5 px apart, each with an arrow to its right-hand
    /// neighbour; `width_px(i)` gives arrow `i`'s width on screen.
    fn grid(width_px: impl Fn(usize) -> f32) -> (Scene, Frustum) {
        const SIDE: usize = 100;
        let (camera, frustum, px_per_unit) = view();
        let spacing = 5.0 / px_per_unit;
        let mut scene = Scene::default();
        for row in 0..SIDE {
            for column in 0..SIDE {
                let at = |i: usize| (i as f32 - SIDE as f32 / 2.0) * spacing;
                let position = camera.right() * at(column) + camera.up() * at(row);
                scene
                    .nodes
                    .push(NodeInstance::new(position, 0.01 * spacing, Color::WHITE));
                if column + 1 < SIDE {
                    let from = (row * SIDE + column) as u32;
                    let width = width_px(scene.edges.len()) / px_per_unit;
                    scene
                        .edges
                        .push(EdgeInstance::new(from, from + 1, width, Color::WHITE));
                }
            }
        }
        (scene, frustum)
    }

    /// The arrows `FrameArrows::gather` keeps, by tail, and how many it thinned out.
    fn drawn(scene: &Scene, frustum: &Frustum, budget: usize) -> (HashSet<[u32; 3]>, usize) {
        let settings = RenderSettings {
            arrow_budget: budget,
            ..RenderSettings::default()
        };
        let mut frame = FrameArrows::default();
        frame.gather(scene, frustum, &settings);
        let tails = [
            frame.of_shape(|run| &run.full),
            frame.of_shape(|run| &run.wedges),
        ]
        .into_iter()
        .flat_map(|(parts, _)| parts.into_iter().flatten())
        .map(|arrow| arrow.tail.map(f32::to_bits))
        .collect::<HashSet<_>>();
        (tails, frame.thinned)
    }

    #[test]
    fn every_arrow_is_drawn_within_the_budget() {
        let (scene, frustum) = grid(|_| 0.2);
        let edges = scene.edges.len();
        let (tails, thinned) = drawn(&scene, &frustum, edges);
        assert_eq!((tails.len(), thinned), (edges, 0));
    }

    #[test]
    fn crowded_frames_thin_sub_pixel_arrows_to_about_the_budget() {
        let (scene, frustum) = grid(|_| 0.2);
        let (tails, thinned) = drawn(&scene, &frustum, 3_000);
        assert!((2_700..=3_300).contains(&tails.len()), "{}", tails.len());
        assert_eq!(tails.len() + thinned, scene.edges.len());
    }

    #[test]
    fn thinning_keeps_wide_and_highlighted_arrows_and_the_ink_of_thin_ones() {
        // Every third arrow 2 px wide, every third highlighted, the rest a fifth of a pixel.
        let (mut scene, frustum) = grid(|i| if i % 3 == 0 { 2.0 } else { 0.2 });
        for edge in scene.edges.iter_mut().skip(1).step_by(3) {
            edge.highlighted = true;
        }
        let tail = |edge: &EdgeInstance| {
            let segment = scene.segment_of(edge).unwrap();
            segment.tail.to_array().map(f32::to_bits)
        };
        // A budget of 0 thins as far as it goes: each thin arrow at a chance of its width.
        let (tails, _) = drawn(&scene, &frustum, 0);
        let (always, thin): (Vec<_>, Vec<_>) = scene
            .edges
            .iter()
            .enumerate()
            .partition(|(i, _)| i % 3 != 2);
        assert!(always.iter().all(|(_, edge)| tails.contains(&tail(edge))));
        let thin_drawn = thin
            .iter()
            .filter(|(_, e)| tails.contains(&tail(e)))
            .count();
        let expected = 0.2 * thin.len() as f32;
        assert!(
            (thin_drawn as f32 - expected).abs() < 0.15 * expected,
            "{thin_drawn} of {} thin arrows drawn; expected about {expected}",
            thin.len()
        );
    }

    #[test]
    fn thinning_keeps_the_same_arrows_and_adds_more_as_they_widen() {
        let (scene, frustum) = grid(|_| 0.2);
        let (first, _) = drawn(&scene, &frustum, 0);
        assert_eq!(
            drawn(&scene, &frustum, 0).0,
            first,
            "the same arrows every frame"
        );
        let (wider_scene, _) = grid(|_| 0.4);
        let (wider, _) = drawn(&wider_scene, &frustum, 0);
        assert!(
            wider.len() > first.len() * 3 / 2,
            "{} {}",
            wider.len(),
            first.len()
        );
        assert!(first.is_subset(&wider));
    }
}
