//! Standalone windows: the graph drawn straight onto a window's surface, e.g. a winit window.
//!
//! ```no_run
//! use wiredraw_render::{Camera, RendererConfig, Scene, SurfaceRenderer, wgpu};
//!
//! /// `window` is e.g. an `Arc<winit::window::Window>`, `width × height` its inner size.
//! fn show(
//!     window: impl Into<wgpu::SurfaceTarget<'static>>,
//!     (width, height): (u32, u32),
//!     scene: &Scene,
//! ) -> Result<(), wiredraw_render::RenderError> {
//!     // The surface picks the real colour format; the rest of the config is kept.
//!     let config = RendererConfig::new(wgpu::TextureFormat::Bgra8UnormSrgb);
//!     let mut surface = SurfaceRenderer::new(window, width, height, config)?;
//!     let mut camera = Camera::default();
//!     if let Some(bounds) = scene.bounds() {
//!         camera.fit(bounds, surface.viewport().aspect());
//!     }
//!     // On every redraw request (and `surface.resize(w, h)` on every resize):
//!     surface.render(scene, &camera)?;
//!     Ok(())
//! }
//! ```

use crate::camera::{Camera, Viewport};
use crate::error::RenderError;
use crate::offscreen::{DEFAULT_BACKGROUND, GpuContext};
use crate::renderer::{Attachments, GraphRenderer, PrepareStats, RendererConfig};
use crate::scene::{Color, Scene};

/// A window surface with the [`GraphRenderer`] and attachments that draw into it.
pub struct SurfaceRenderer {
    gpu: GpuContext,
    surface: wgpu::Surface<'static>,
    surface_config: wgpu::SurfaceConfiguration,
    renderer: GraphRenderer,
    attachments: Attachments,
    /// Colour the window is cleared to.
    pub background: Color,
}

/// What became of a [`SurfaceRenderer::render`] call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameOutcome {
    /// The frame was drawn and presented.
    Presented(PrepareStats),
    /// The window could not take a frame now (minimised, occluded, resized underneath, timed
    /// out); the surface was reconfigured where that helps. Draw again on the next redraw.
    Skipped,
}

impl SurfaceRenderer {
    /// Opens a GPU that can present to `window` (anything with window and display handles, such
    /// as `Arc<winit::window::Window>`) and configures its surface at `width × height` physical
    /// pixels. The surface's format is its first sRGB one (else its first); it replaces
    /// `config.color_format`. `WGPU_BACKEND` picks the backend as for
    /// [`GpuContext::headless`].
    pub fn new(
        window: impl Into<wgpu::SurfaceTarget<'static>>,
        width: u32,
        height: u32,
        config: RendererConfig,
    ) -> Result<SurfaceRenderer, RenderError> {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let surface = instance
            .create_surface(window)
            .map_err(|e| RenderError::Surface(e.to_string()))?;
        let gpu = GpuContext::open(instance, Some(&surface))?;
        let capabilities = surface.get_capabilities(&gpu.adapter);
        let format = capabilities
            .formats
            .iter()
            .copied()
            .find(wgpu::TextureFormat::is_srgb)
            .or_else(|| capabilities.formats.first().copied())
            .ok_or_else(|| {
                RenderError::Surface(format!(
                    "adapter {} cannot present to this window",
                    gpu.adapter_name()
                ))
            })?;
        let surface_config = wgpu::SurfaceConfiguration {
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
            format,
            color_space: wgpu::SurfaceColorSpace::Auto,
            width: width.max(1),
            height: height.max(1),
            present_mode: wgpu::PresentMode::AutoVsync,
            desired_maximum_frame_latency: 2,
            alpha_mode: wgpu::CompositeAlphaMode::Auto,
            view_formats: Vec::new(),
        };
        surface.configure(&gpu.device, &surface_config);
        let config = RendererConfig {
            color_format: format,
            ..config
        };
        Ok(SurfaceRenderer {
            renderer: GraphRenderer::new(&gpu.device, config),
            attachments: Attachments::new(
                &gpu.device,
                &config,
                surface_config.width,
                surface_config.height,
            ),
            gpu,
            surface,
            surface_config,
            background: DEFAULT_BACKGROUND,
        })
    }

    pub fn gpu(&self) -> &GpuContext {
        &self.gpu
    }

    pub fn renderer(&self) -> &GraphRenderer {
        &self.renderer
    }

    pub fn renderer_mut(&mut self) -> &mut GraphRenderer {
        &mut self.renderer
    }

    /// The surface's size in physical pixels, for [`Camera::ray`] and picking.
    pub fn viewport(&self) -> Viewport {
        Viewport::new(self.surface_config.width, self.surface_config.height)
    }

    /// The surface's texture format.
    pub fn format(&self) -> wgpu::TextureFormat {
        self.surface_config.format
    }

    /// Follows the window to its new inner size (physical pixels); a zero side (minimised) is
    /// ignored.
    pub fn resize(&mut self, width: u32, height: u32) {
        if width == 0 || height == 0 || (width, height) == self.attachments.size() {
            return;
        }
        self.surface_config.width = width;
        self.surface_config.height = height;
        self.surface
            .configure(&self.gpu.device, &self.surface_config);
        self.attachments =
            Attachments::new(&self.gpu.device, self.renderer.config(), width, height);
    }

    /// Draws one frame and presents it.
    pub fn render(&mut self, scene: &Scene, camera: &Camera) -> Result<FrameOutcome, RenderError> {
        let (frame, suboptimal) = match self.surface.get_current_texture() {
            wgpu::CurrentSurfaceTexture::Success(frame) => (frame, false),
            wgpu::CurrentSurfaceTexture::Suboptimal(frame) => (frame, true),
            wgpu::CurrentSurfaceTexture::Timeout | wgpu::CurrentSurfaceTexture::Occluded => {
                return Ok(FrameOutcome::Skipped);
            }
            wgpu::CurrentSurfaceTexture::Outdated => {
                self.surface
                    .configure(&self.gpu.device, &self.surface_config);
                return Ok(FrameOutcome::Skipped);
            }
            wgpu::CurrentSurfaceTexture::Lost => {
                return Err(RenderError::Surface(
                    "the window surface was lost; create the SurfaceRenderer again".into(),
                ));
            }
            wgpu::CurrentSurfaceTexture::Validation => {
                return Err(RenderError::Surface(
                    "acquiring the next frame failed validation".into(),
                ));
            }
        };
        let GpuContext { device, queue, .. } = &self.gpu;
        let stats = self
            .renderer
            .prepare(device, queue, scene, camera, self.viewport());
        let view = frame
            .texture
            .create_view(&wgpu::TextureViewDescriptor::default());
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("wiredraw window"),
        });
        self.renderer.render(
            &mut encoder,
            &self.attachments.target(&view),
            self.background,
        );
        queue.submit([encoder.finish()]);
        queue.present(frame);
        if suboptimal {
            self.surface.configure(device, &self.surface_config);
        }
        Ok(FrameOutcome::Presented(stats))
    }
}
