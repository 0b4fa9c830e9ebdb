//! The window: winit events, a wgpu surface, egui input and painting, and frame captures.

use super::app::{CaptureRequest, ViewerApp};
use super::backend::Backend;
use super::{ViewerError, ViewerOptions};
use crate::render::{GraphPaintCallback, RendererConfig, RgbaImage};
use std::sync::Arc;
use std::time::{Duration, Instant};
use winit::application::ApplicationHandler;
use winit::event::WindowEvent;
use winit::event_loop::{ActiveEventLoop, ControlFlow, EventLoop};
use winit::window::{Window, WindowId};

const DEPTH_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Depth32Float;
/// When idle, a frame still comes this often (clocks, live range).
const IDLE_FRAME: Duration = Duration::from_millis(500);

/// Woken by the background task when a reply is ready.
#[derive(Debug, Clone, Copy)]
struct Wake;

/// Opens the window and runs until it is closed (or a `--screenshot` is saved).
pub fn run(options: ViewerOptions) -> Result<(), ViewerError> {
    let mut builder = EventLoop::<Wake>::with_user_event();
    #[cfg(target_os = "linux")]
    {
        // Tests run the viewer off the main thread.
        use winit::platform::x11::EventLoopBuilderExtX11;
        builder.with_any_thread(true);
    }
    let event_loop = builder
        .build()
        .map_err(|e| ViewerError::NoDisplay(e.to_string()))?;
    let proxy = event_loop.create_proxy();
    let backend = Backend::start(move || {
        let _ = proxy.send_event(Wake);
    })
    .map_err(ViewerError::Backend)?;
    let mut handler = Handler {
        app: ViewerApp::new(options.clone(), backend),
        options,
        gfx: None,
        error: None,
    };
    event_loop
        .run_app(&mut handler)
        .map_err(|e| ViewerError::Window(e.to_string()))?;
    match handler.error {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

struct Handler {
    app: ViewerApp,
    options: ViewerOptions,
    gfx: Option<Gfx>,
    error: Option<ViewerError>,
}

/// Everything tied to the window and the GPU.
struct Gfx {
    window: Arc<Window>,
    surface: wgpu::Surface<'static>,
    device: wgpu::Device,
    queue: wgpu::Queue,
    config: wgpu::SurfaceConfiguration,
    depth: crate::render::DepthBuffer,
    egui_state: egui_winit::State,
    egui_renderer: egui_wgpu::Renderer,
}

impl Gfx {
    fn new(event_loop: &ActiveEventLoop, options: &ViewerOptions) -> Result<Gfx, ViewerError> {
        let attributes = Window::default_attributes()
            .with_title("wiredraw")
            .with_inner_size(winit::dpi::PhysicalSize::new(
                options.size.0,
                options.size.1,
            ));
        let window = Arc::new(
            event_loop
                .create_window(attributes)
                .map_err(|e| ViewerError::Window(e.to_string()))?,
        );
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_with_display_handle_from_env(
                Box::new(event_loop.owned_display_handle()),
            ));
        let surface = instance
            .create_surface(Arc::clone(&window))
            .map_err(|e| ViewerError::Gpu(e.to_string()))?;
        let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            compatible_surface: Some(&surface),
            ..Default::default()
        }))
        .map_err(|e| ViewerError::Gpu(format!("no graphics adapter for the window: {e}")))?;
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("wiredraw viewer"),
            required_limits: wgpu::Limits::downlevel_defaults().using_resolution(adapter.limits()),
            ..Default::default()
        }))
        .map_err(|e| ViewerError::Gpu(e.to_string()))?;
        let capabilities = surface.get_capabilities(&adapter);
        // egui blends in gamma space: it wants a non-sRGB target (the graph renderer encodes).
        let format = capabilities
            .formats
            .iter()
            .copied()
            .find(|f| !f.is_srgb())
            .or_else(|| capabilities.formats.first().copied())
            .ok_or_else(|| ViewerError::Gpu("the surface supports no format".into()))?;
        let size = window.inner_size();
        let config = wgpu::SurfaceConfiguration {
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
            format,
            width: size.width.max(1),
            height: size.height.max(1),
            present_mode: wgpu::PresentMode::AutoVsync,
            desired_maximum_frame_latency: 2,
            alpha_mode: wgpu::CompositeAlphaMode::Auto,
            color_space: wgpu::SurfaceColorSpace::Auto,
            view_formats: Vec::new(),
        };
        surface.configure(&device, &config);
        let depth =
            crate::render::DepthBuffer::new(&device, DEPTH_FORMAT, config.width, config.height, 1);
        let ctx = egui::Context::default();
        ctx.set_visuals(egui::Visuals::dark());
        let egui_state = egui_winit::State::new(
            ctx,
            egui::ViewportId::ROOT,
            &*window,
            Some(window.scale_factor() as f32),
            None,
            Some(device.limits().max_texture_dimension_2d as usize),
        );
        let mut egui_renderer = egui_wgpu::Renderer::new(
            &device,
            format,
            egui_wgpu::RendererOptions {
                depth_stencil_format: Some(DEPTH_FORMAT),
                ..Default::default()
            },
        );
        GraphPaintCallback::install(&mut egui_renderer, &device, RendererConfig::new(format));
        if let Some(renderer) = GraphPaintCallback::renderer_mut(&mut egui_renderer) {
            renderer.settings.arrow_budget = options.arrow_budget;
        }
        tracing::info!(adapter = %adapter.get_info().name, ?format, "window ready");
        Ok(Gfx {
            window,
            surface,
            device,
            queue,
            config,
            depth,
            egui_state,
            egui_renderer,
        })
    }

    fn resize(&mut self, width: u32, height: u32) {
        if width == 0 || height == 0 {
            return;
        }
        self.config.width = width;
        self.config.height = height;
        self.surface.configure(&self.device, &self.config);
        self.depth.resize(&self.device, width, height);
    }

    /// Runs the app's UI and draws it; returns a capture to save, if the app asked for one.
    fn frame(&mut self, app: &mut ViewerApp) -> Option<(CaptureRequest, Result<(), String>)> {
        let input = self.egui_state.take_egui_input(&self.window);
        let ctx = self.egui_state.egui_ctx().clone();
        let output = ctx.run_ui(input, |ui| app.ui(ui));
        self.egui_state
            .handle_platform_output(&self.window, output.platform_output);
        let capture = app.take_capture();
        let size = self.window.inner_size();
        if size.width == 0 || size.height == 0 {
            // Minimised: nothing to draw into.
            return capture.map(|c| (c, Err("the window is minimised".to_string())));
        }
        let primitives = ctx.tessellate(output.shapes, output.pixels_per_point);
        for (id, deltas) in &output.textures_delta.set {
            for delta in deltas {
                self.egui_renderer
                    .update_texture(&self.device, &self.queue, *id, delta);
            }
        }
        let screen = egui_wgpu::ScreenDescriptor {
            size_in_pixels: [self.config.width, self.config.height],
            pixels_per_point: output.pixels_per_point,
        };
        let texture = match self.surface.get_current_texture() {
            wgpu::CurrentSurfaceTexture::Success(texture)
            | wgpu::CurrentSurfaceTexture::Suboptimal(texture) => Some(texture),
            wgpu::CurrentSurfaceTexture::Outdated | wgpu::CurrentSurfaceTexture::Lost => {
                self.surface.configure(&self.device, &self.config);
                None
            }
            wgpu::CurrentSurfaceTexture::Timeout
            | wgpu::CurrentSurfaceTexture::Occluded
            | wgpu::CurrentSurfaceTexture::Validation => None,
        };
        if let Some(texture) = texture {
            let view = texture
                .texture
                .create_view(&wgpu::TextureViewDescriptor::default());
            self.draw(&view, &primitives, &screen);
            if let Some(renderer) = GraphPaintCallback::renderer_mut(&mut self.egui_renderer) {
                app.set_drawn(renderer.stats());
            }
            self.window.pre_present_notify();
            self.queue.present(texture);
        }
        let result = capture.map(|request| {
            let saved = self.capture(&primitives, &screen, &request.path);
            (request, saved)
        });
        for id in &output.textures_delta.free {
            self.egui_renderer.free_texture(id);
        }
        result
    }

    fn draw(
        &mut self,
        view: &wgpu::TextureView,
        primitives: &[egui::ClippedPrimitive],
        screen: &egui_wgpu::ScreenDescriptor,
    ) {
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("wiredraw frame"),
            });
        let callbacks = self.egui_renderer.update_buffers(
            &self.device,
            &self.queue,
            &mut encoder,
            primitives,
            screen,
        );
        {
            let mut pass = encoder
                .begin_render_pass(&wgpu::RenderPassDescriptor {
                    label: Some("wiredraw ui"),
                    color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                        view,
                        depth_slice: None,
                        resolve_target: None,
                        ops: wgpu::Operations {
                            load: wgpu::LoadOp::Clear(wgpu::Color::BLACK),
                            store: wgpu::StoreOp::Store,
                        },
                    })],
                    depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
                        view: self.depth.view(),
                        depth_ops: Some(wgpu::Operations {
                            load: wgpu::LoadOp::Clear(
                                crate::render::DepthConvention::ReverseZ.clear_value(),
                            ),
                            store: wgpu::StoreOp::Discard,
                        }),
                        stencil_ops: None,
                    }),
                    timestamp_writes: None,
                    occlusion_query_set: None,
                    multiview_mask: None,
                })
                .forget_lifetime();
            self.egui_renderer.render(&mut pass, primitives, screen);
        }
        self.queue
            .submit(callbacks.into_iter().chain([encoder.finish()]));
    }

    /// Draws the same frame into a texture of the window's size and saves it as PNG.
    fn capture(
        &mut self,
        primitives: &[egui::ClippedPrimitive],
        screen: &egui_wgpu::ScreenDescriptor,
        path: &std::path::Path,
    ) -> Result<(), String> {
        let (width, height) = (self.config.width, self.config.height);
        let texture = self.device.create_texture(&wgpu::TextureDescriptor {
            label: Some("wiredraw capture"),
            size: wgpu::Extent3d {
                width,
                height,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: self.config.format,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
            view_formats: &[],
        });
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        self.draw(&view, primitives, screen);
        let padded_row = (width * 4).div_ceil(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT)
            * wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
        let buffer = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("wiredraw capture readback"),
            size: u64::from(padded_row) * u64::from(height),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
        encoder.copy_texture_to_buffer(
            texture.as_image_copy(),
            wgpu::TexelCopyBufferInfo {
                buffer: &buffer,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(padded_row),
                    rows_per_image: None,
                },
            },
            texture.size(),
        );
        self.queue.submit([encoder.finish()]);
        let (sender, receiver) = std::sync::mpsc::channel();
        buffer.map_async(wgpu::MapMode::Read, .., move |result| {
            let _ = sender.send(result);
        });
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| e.to_string())?;
        receiver
            .recv()
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        let mapped = buffer.get_mapped_range(..).map_err(|e| e.to_string())?;
        let bgra = matches!(
            self.config.format,
            wgpu::TextureFormat::Bgra8Unorm | wgpu::TextureFormat::Bgra8UnormSrgb
        );
        let mut pixels = Vec::with_capacity((width * height * 4) as usize);
        for row in mapped.chunks(padded_row as usize).take(height as usize) {
            for pixel in row[..(width * 4) as usize].chunks_exact(4) {
                let (r, b) = if bgra {
                    (pixel[2], pixel[0])
                } else {
                    (pixel[0], pixel[2])
                };
                pixels.extend_from_slice(&[r, pixel[1], b, 255]);
            }
        }
        drop(mapped);
        RgbaImage {
            width,
            height,
            pixels,
        }
        .save_png(path)
        .map_err(|e| e.to_string())
    }
}

impl ApplicationHandler<Wake> for Handler {
    fn resumed(&mut self, event_loop: &ActiveEventLoop) {
        if self.gfx.is_some() {
            return;
        }
        match Gfx::new(event_loop, &self.options) {
            Ok(gfx) => {
                gfx.window.request_redraw();
                self.gfx = Some(gfx);
            }
            Err(error) => {
                self.error = Some(error);
                event_loop.exit();
            }
        }
    }

    fn user_event(&mut self, _event_loop: &ActiveEventLoop, _event: Wake) {
        if let Some(gfx) = &self.gfx {
            gfx.window.request_redraw();
        }
    }

    fn window_event(&mut self, event_loop: &ActiveEventLoop, _id: WindowId, event: WindowEvent) {
        let Some(gfx) = &mut self.gfx else {
            return;
        };
        let response = gfx.egui_state.on_window_event(&gfx.window, &event);
        match event {
            WindowEvent::CloseRequested => event_loop.exit(),
            WindowEvent::Resized(size) => {
                gfx.resize(size.width, size.height);
                gfx.window.request_redraw();
            }
            WindowEvent::RedrawRequested => {
                if let Some((request, result)) = gfx.frame(&mut self.app) {
                    if let Err(error) = &result {
                        tracing::warn!(path = %request.path.display(), %error, "capture failed");
                    }
                    self.app.capture_done(&request, result);
                }
                if self.app.wants_exit() {
                    event_loop.exit();
                    return;
                }
                if self.app.needs_frames() || gfx.egui_state.egui_ctx().has_requested_repaint() {
                    gfx.window.request_redraw();
                }
            }
            _ => {
                if response.repaint {
                    gfx.window.request_redraw();
                }
            }
        }
    }

    fn about_to_wait(&mut self, event_loop: &ActiveEventLoop) {
        event_loop.set_control_flow(ControlFlow::WaitUntil(Instant::now() + IDLE_FRAME));
    }

    fn new_events(&mut self, _event_loop: &ActiveEventLoop, cause: winit::event::StartCause) {
        if let (winit::event::StartCause::ResumeTimeReached { .. }, Some(gfx)) = (cause, &self.gfx)
        {
            gfx.window.request_redraw();
        }
    }
}
