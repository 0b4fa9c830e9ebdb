//! [`GraphRenderer`]: turns a [`Scene`] and a [`Camera`] into draw calls on any render pass.

use crate::camera::{Camera, DepthConvention, Viewport};
use crate::gpu::TargetState;
use crate::gpu::arrows::ArrowRenderer;
use crate::gpu::culling::Frustum;
use crate::gpu::frame::{FrameUniforms, RenderSettings};
use crate::gpu::spheres::{SphereRenderer, SphereTechnique};
use crate::scene::{Color, Scene};
use wgpu::util::DeviceExt;

/// The depth format [`RendererConfig::new`] picks.
pub const DEFAULT_DEPTH_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Depth32Float;

/// What a [`GraphRenderer`] draws into; fixed for its lifetime (its pipelines depend on it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RendererConfig {
    /// Format of the colour attachment of the passes it paints into.
    pub color_format: wgpu::TextureFormat,
    /// Format of their depth attachment. `None` paints without depth testing, which only looks
    /// right for tiny scenes: give hosts a depth buffer.
    pub depth_format: Option<wgpu::TextureFormat>,
    /// MSAA samples of the attachments (1: none).
    pub sample_count: u32,
    /// Reverse-Z unless the pass's depth is cleared by someone else to 1.0.
    pub depth_convention: DepthConvention,
    pub spheres: SphereTechnique,
}

impl RendererConfig {
    /// `Depth32Float` reverse-Z depth, no MSAA, impostor spheres.
    pub fn new(color_format: wgpu::TextureFormat) -> RendererConfig {
        RendererConfig {
            color_format,
            depth_format: Some(DEFAULT_DEPTH_FORMAT),
            sample_count: 1,
            depth_convention: DepthConvention::ReverseZ,
            spheres: SphereTechnique::default(),
        }
    }
}

/// What the last [`GraphRenderer::prepare`] sends to the GPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PrepareStats {
    pub nodes_drawn: usize,
    pub edges_drawn: usize,
    /// Edges naming a node index the scene does not have; they are skipped.
    pub dangling_edges: usize,
    /// Edges on screen left out of a crowded frame ([`RenderSettings::arrow_budget`]).
    pub edges_thinned: usize,
}

/// Draws a [`Scene`] of host spheres and connection arrows.
///
/// Each frame: [`prepare`](Self::prepare) (culls on the CPU and uploads instances), then
/// [`paint`](Self::paint) into a render pass whose attachments match the [`RendererConfig`] and
/// whose depth was cleared to the config's [`DepthConvention::clear_value`]. [`render`](Self::render) does both passes' setup
/// for the common case of owning the target (a window surface or an offscreen texture).
pub struct GraphRenderer {
    config: RendererConfig,
    /// Changed freely between frames.
    pub settings: RenderSettings,
    frame_buffer: wgpu::Buffer,
    frame_bind_group: wgpu::BindGroup,
    spheres: SphereRenderer,
    arrows: ArrowRenderer,
    stats: PrepareStats,
}

impl GraphRenderer {
    pub fn new(device: &wgpu::Device, config: RendererConfig) -> GraphRenderer {
        let frame_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("wiredraw frame"),
            entries: &[wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::VERTEX_FRAGMENT,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            }],
        });
        let frame_buffer = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("wiredraw frame"),
            contents: bytemuck::bytes_of(&FrameUniforms::new(
                &Camera::default(),
                Viewport::new(1, 1),
                &RenderSettings::default(),
                config.depth_convention,
                false,
            )),
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        });
        let frame_bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("wiredraw frame"),
            layout: &frame_layout,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: frame_buffer.as_entire_binding(),
            }],
        });
        let target = TargetState {
            color_format: config.color_format,
            depth_format: config.depth_format,
            sample_count: config.sample_count.max(1),
            depth_convention: config.depth_convention,
        };
        GraphRenderer {
            config,
            settings: RenderSettings::default(),
            frame_buffer,
            frame_bind_group,
            spheres: SphereRenderer::new(device, &frame_layout, target, config.spheres),
            arrows: ArrowRenderer::new(device, &frame_layout, target),
            stats: PrepareStats::default(),
        }
    }

    pub fn config(&self) -> &RendererConfig {
        &self.config
    }

    pub fn sphere_technique(&self) -> SphereTechnique {
        self.spheres.technique()
    }

    /// Culls and uploads the scene for the next [`paint`](Self::paint).
    pub fn prepare(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        scene: &Scene,
        camera: &Camera,
        viewport: Viewport,
    ) -> PrepareStats {
        let encode_srgb = !self.config.color_format.is_srgb();
        let convention = self.config.depth_convention;
        let uniforms =
            FrameUniforms::new(camera, viewport, &self.settings, convention, encode_srgb);
        queue.write_buffer(&self.frame_buffer, 0, bytemuck::bytes_of(&uniforms));
        let frustum = Frustum::new(
            camera.view_proj(viewport.aspect()),
            viewport.size(),
            camera.pixel_size_at_unit_depth(viewport),
        );
        let nodes_drawn = self
            .spheres
            .prepare(device, queue, scene, &frustum, &self.settings);
        let arrows = self
            .arrows
            .prepare(device, queue, scene, &frustum, &self.settings);
        self.stats = PrepareStats {
            nodes_drawn,
            edges_drawn: arrows.drawn,
            dangling_edges: arrows.dangling,
            edges_thinned: arrows.thinned,
        };
        self.stats
    }

    /// What the last [`prepare`](Self::prepare) uploaded.
    pub fn stats(&self) -> PrepareStats {
        self.stats
    }

    /// Records the draw calls. The pass's viewport should be the one given to `prepare`.
    pub fn paint(&self, pass: &mut wgpu::RenderPass<'_>) {
        pass.set_bind_group(0, &self.frame_bind_group, &[]);
        // Spheres first: arrows end at sphere surfaces and are hidden by nearer spheres.
        self.spheres.paint(pass);
        self.arrows.paint(pass);
    }

    /// Records a whole pass: clears `target` to `background` (and its depth), then paints.
    pub fn render(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        target: &RenderTarget<'_>,
        background: Color,
    ) {
        let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: Some("wiredraw graph"),
            color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                view: target.color,
                depth_slice: None,
                resolve_target: target.resolve,
                ops: wgpu::Operations {
                    load: wgpu::LoadOp::Clear(clear_color(background, self.config.color_format)),
                    store: wgpu::StoreOp::Store,
                },
            })],
            depth_stencil_attachment: target.depth.map(|view| {
                wgpu::RenderPassDepthStencilAttachment {
                    view,
                    depth_ops: Some(wgpu::Operations {
                        load: wgpu::LoadOp::Clear(self.config.depth_convention.clear_value()),
                        store: wgpu::StoreOp::Discard,
                    }),
                    stencil_ops: None,
                }
            }),
            timestamp_writes: None,
            occlusion_query_set: None,
            multiview_mask: None,
        });
        self.paint(&mut pass);
    }
}

/// The attachments of a pass recorded by [`GraphRenderer::render`].
pub struct RenderTarget<'a> {
    /// Colour attachment (the multisampled one when MSAA is on).
    pub color: &'a wgpu::TextureView,
    /// Where a multisampled colour attachment resolves to (e.g. the surface texture).
    pub resolve: Option<&'a wgpu::TextureView>,
    /// Depth attachment, matching [`RendererConfig::depth_format`].
    pub depth: Option<&'a wgpu::TextureView>,
}

/// The clear value that shows `color` on a target of `format` (sRGB targets take linear values).
pub fn clear_color(color: Color, format: wgpu::TextureFormat) -> wgpu::Color {
    let [r, g, b, a] = color.to_f32().map(f64::from);
    let decode = |c: f64| {
        if !format.is_srgb() {
            c
        } else if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    wgpu::Color {
        r: decode(r),
        g: decode(g),
        b: decode(b),
        a,
    }
}

/// A depth texture sized to a target, recreated when the size changes.
pub struct DepthBuffer {
    texture: wgpu::Texture,
    view: wgpu::TextureView,
}

impl DepthBuffer {
    pub fn new(
        device: &wgpu::Device,
        format: wgpu::TextureFormat,
        width: u32,
        height: u32,
        sample_count: u32,
    ) -> DepthBuffer {
        let texture = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("wiredraw depth"),
            size: wgpu::Extent3d {
                width: width.max(1),
                height: height.max(1),
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: sample_count.max(1),
            dimension: wgpu::TextureDimension::D2,
            format,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
            view_formats: &[],
        });
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        DepthBuffer { texture, view }
    }

    /// Recreates the texture if `width × height` differs from its size.
    pub fn resize(&mut self, device: &wgpu::Device, width: u32, height: u32) {
        let size = self.texture.size();
        if size.width != width.max(1) || size.height != height.max(1) {
            *self = DepthBuffer::new(
                device,
                self.texture.format(),
                width,
                height,
                self.texture.sample_count(),
            );
        }
    }

    pub fn view(&self) -> &wgpu::TextureView {
        &self.view
    }
}

/// The depth and (with MSAA) multisampled colour attachments a [`GraphRenderer`] needs beside
/// the colour texture it finally lands in; shared by the window and offscreen paths.
pub(crate) struct Attachments {
    width: u32,
    height: u32,
    depth: Option<DepthBuffer>,
    /// Resolved into the final colour texture, when MSAA is on.
    multisampled: Option<wgpu::TextureView>,
}

impl Attachments {
    pub fn new(device: &wgpu::Device, config: &RendererConfig, width: u32, height: u32) -> Self {
        let samples = config.sample_count.max(1);
        let multisampled = (samples > 1).then(|| {
            device
                .create_texture(&wgpu::TextureDescriptor {
                    label: Some("wiredraw multisampled colour"),
                    size: wgpu::Extent3d {
                        width: width.max(1),
                        height: height.max(1),
                        depth_or_array_layers: 1,
                    },
                    mip_level_count: 1,
                    sample_count: samples,
                    dimension: wgpu::TextureDimension::D2,
                    format: config.color_format,
                    usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
                    view_formats: &[],
                })
                .create_view(&wgpu::TextureViewDescriptor::default())
        });
        Attachments {
            width,
            height,
            depth: config
                .depth_format
                .map(|format| DepthBuffer::new(device, format, width, height, samples)),
            multisampled,
        }
    }

    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// The pass's attachments for a frame that ends up in `color`.
    pub fn target<'a>(&'a self, color: &'a wgpu::TextureView) -> RenderTarget<'a> {
        let depth = self.depth.as_ref().map(DepthBuffer::view);
        match &self.multisampled {
            Some(multisampled) => RenderTarget {
                color: multisampled,
                resolve: Some(color),
                depth,
            },
            None => RenderTarget {
                color,
                resolve: None,
                depth,
            },
        }
    }
}
