//! Headless rendering: a GPU context without a window, rendering into a texture read back as
//! RGBA and written as PNG.

use crate::camera::{Camera, Viewport};
use crate::error::RenderError;
use crate::renderer::{Attachments, GraphRenderer, PrepareStats, RendererConfig};
use crate::scene::{Color, Scene};
use std::path::Path;

/// An adapter, device and queue with no surface.
pub struct GpuContext {
    pub instance: wgpu::Instance,
    pub adapter: wgpu::Adapter,
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
}

impl GpuContext {
    /// Opens the default adapter, honouring `WGPU_BACKEND` and `WGPU_ADAPTER_NAME` (tests set
    /// `WGPU_BACKEND=vulkan`, which on machines without a GPU is Mesa's lavapipe). Software
    /// adapters are accepted: they are how CI renders.
    pub fn headless() -> Result<GpuContext, RenderError> {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        GpuContext::open(instance, None)
    }

    /// Opens the default adapter of `instance` that can present to `surface` (when given).
    pub(crate) fn open(
        instance: wgpu::Instance,
        surface: Option<&wgpu::Surface<'_>>,
    ) -> Result<GpuContext, RenderError> {
        let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            compatible_surface: surface,
            ..Default::default()
        }))
        .map_err(|e| RenderError::NoAdapter(e.to_string()))?;
        let (device, queue) =
            pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
                label: Some("wiredraw headless"),
                required_limits:
                    wgpu::Limits::downlevel_defaults().using_resolution(adapter.limits()),
                ..Default::default()
            }))?;
        Ok(GpuContext {
            instance,
            adapter,
            device,
            queue,
        })
    }

    /// The adapter's name and backend, e.g. `llvmpipe (LLVM 15.0.6, 256 bits) (Vulkan)`.
    pub fn adapter_name(&self) -> String {
        let info = self.adapter.get_info();
        format!("{} ({:?})", info.name, info.backend)
    }
}

/// An RGBA8 image, rows top to bottom, sRGB-encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbaImage {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

impl RgbaImage {
    /// The pixel at `(x, y)`; panics outside the image.
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 4] {
        assert!(
            x < self.width && y < self.height,
            "({x}, {y}) is outside the image"
        );
        let at = (y as usize * self.width as usize + x as usize) * 4;
        [
            self.pixels[at],
            self.pixels[at + 1],
            self.pixels[at + 2],
            self.pixels[at + 3],
        ]
    }

    /// Writes the image as an 8-bit RGBA PNG.
    pub fn save_png(&self, path: impl AsRef<Path>) -> Result<(), RenderError> {
        let path = path.as_ref();
        let fail = |reason: String| RenderError::Png {
            path: path.display().to_string(),
            reason,
        };
        let file = std::fs::File::create(path).map_err(|e| fail(e.to_string()))?;
        let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), self.width, self.height);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| fail(e.to_string()))?;
        writer
            .write_image_data(&self.pixels)
            .map_err(|e| fail(e.to_string()))?;
        writer.finish().map_err(|e| fail(e.to_string()))
    }

    /// Reads an 8-bit RGB or RGBA PNG.
    pub fn load_png(path: impl AsRef<Path>) -> Result<RgbaImage, RenderError> {
        let path = path.as_ref();
        let fail = |reason: String| RenderError::Png {
            path: path.display().to_string(),
            reason,
        };
        let file = std::fs::File::open(path).map_err(|e| fail(e.to_string()))?;
        let mut reader = png::Decoder::new(std::io::BufReader::new(file))
            .read_info()
            .map_err(|e| fail(e.to_string()))?;
        let size = reader
            .output_buffer_size()
            .ok_or_else(|| fail("image too large".into()))?;
        let mut buffer = vec![0; size];
        let info = reader
            .next_frame(&mut buffer)
            .map_err(|e| fail(e.to_string()))?;
        buffer.truncate(info.buffer_size());
        let pixels = match (info.color_type, info.bit_depth) {
            (png::ColorType::Rgba, png::BitDepth::Eight) => buffer,
            (png::ColorType::Rgb, png::BitDepth::Eight) => buffer
                .chunks_exact(3)
                .flat_map(|rgb| [rgb[0], rgb[1], rgb[2], 255])
                .collect(),
            (color, depth) => return Err(fail(format!("unsupported {color:?} {depth:?}"))),
        };
        Ok(RgbaImage {
            width: info.width,
            height: info.height,
            pixels,
        })
    }
}

/// The textures an offscreen frame is drawn into and read back from.
struct Targets {
    width: u32,
    height: u32,
    color: wgpu::Texture,
    color_view: wgpu::TextureView,
    attachments: Attachments,
    readback: wgpu::Buffer,
    padded_row: u32,
}

/// Renders scenes into RGBA images with the same [`GraphRenderer`] windows and egui use.
pub struct OffscreenRenderer {
    gpu: GpuContext,
    renderer: GraphRenderer,
    targets: Option<Targets>,
    /// Colour the image is cleared to.
    pub background: Color,
}

/// Format of offscreen images: sRGB, so the read-back bytes are what a PNG stores.
pub const OFFSCREEN_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8UnormSrgb;

/// Default background: a dark blue-grey that sets off saturated sphere colours.
pub const DEFAULT_BACKGROUND: Color = Color::rgb(18, 20, 26);

impl OffscreenRenderer {
    /// A renderer with the default configuration (impostor spheres, no MSAA).
    pub fn new(gpu: GpuContext) -> OffscreenRenderer {
        OffscreenRenderer::with_config(gpu, RendererConfig::new(OFFSCREEN_FORMAT))
    }

    /// `config.color_format` is replaced by [`OFFSCREEN_FORMAT`].
    pub fn with_config(gpu: GpuContext, config: RendererConfig) -> OffscreenRenderer {
        let config = RendererConfig {
            color_format: OFFSCREEN_FORMAT,
            ..config
        };
        OffscreenRenderer {
            renderer: GraphRenderer::new(&gpu.device, config),
            gpu,
            targets: None,
            background: DEFAULT_BACKGROUND,
        }
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

    /// Renders one frame and reads it back.
    pub fn render_to_rgba(
        &mut self,
        width: u32,
        height: u32,
        scene: &Scene,
        camera: &Camera,
    ) -> Result<RgbaImage, RenderError> {
        self.render_frame(width, height, scene, camera)?;
        self.read_back()
    }

    /// Renders and waits for the GPU without reading the image back (for benchmarks that
    /// measure drawing alone).
    pub fn render_and_wait(
        &mut self,
        width: u32,
        height: u32,
        scene: &Scene,
        camera: &Camera,
    ) -> Result<PrepareStats, RenderError> {
        let stats = self.render_frame(width, height, scene, camera)?;
        self.gpu
            .device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| RenderError::ReadBack(e.to_string()))?;
        Ok(stats)
    }

    fn render_frame(
        &mut self,
        width: u32,
        height: u32,
        scene: &Scene,
        camera: &Camera,
    ) -> Result<PrepareStats, RenderError> {
        let max = self.gpu.device.limits().max_texture_dimension_2d;
        if width == 0 || height == 0 || width > max || height > max {
            return Err(RenderError::BadSize { width, height, max });
        }
        if self
            .targets
            .as_ref()
            .is_none_or(|t| t.width != width || t.height != height)
        {
            self.targets = Some(self.create_targets(width, height));
        }
        let GpuContext { device, queue, .. } = &self.gpu;
        let stats =
            self.renderer
                .prepare(device, queue, scene, camera, Viewport::new(width, height));
        let targets = self.targets.as_ref().expect("created above");
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("wiredraw offscreen"),
        });
        let target = targets.attachments.target(&targets.color_view);
        self.renderer.render(&mut encoder, &target, self.background);
        encoder.copy_texture_to_buffer(
            wgpu::TexelCopyTextureInfo {
                texture: &targets.color,
                mip_level: 0,
                origin: wgpu::Origin3d::ZERO,
                aspect: wgpu::TextureAspect::All,
            },
            wgpu::TexelCopyBufferInfo {
                buffer: &targets.readback,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(targets.padded_row),
                    rows_per_image: Some(height),
                },
            },
            wgpu::Extent3d {
                width,
                height,
                depth_or_array_layers: 1,
            },
        );
        queue.submit([encoder.finish()]);
        Ok(stats)
    }

    fn read_back(&self) -> Result<RgbaImage, RenderError> {
        let targets = self.targets.as_ref().expect("a frame was rendered");
        let (sender, receiver) = std::sync::mpsc::channel();
        targets
            .readback
            .map_async(wgpu::MapMode::Read, .., move |result| {
                // The receiver outlives the wait below; a send error cannot happen.
                let _ = sender.send(result);
            });
        self.gpu
            .device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| RenderError::ReadBack(e.to_string()))?;
        receiver
            .recv()
            .map_err(|e| RenderError::ReadBack(e.to_string()))?
            .map_err(|e| RenderError::ReadBack(e.to_string()))?;
        let row = targets.width as usize * 4;
        let mut pixels = Vec::with_capacity(row * targets.height as usize);
        {
            let mapped = targets
                .readback
                .get_mapped_range(..)
                .map_err(|e| RenderError::ReadBack(e.to_string()))?;
            for padded in mapped.chunks(targets.padded_row as usize) {
                pixels.extend_from_slice(&padded[..row]);
            }
        }
        targets.readback.unmap();
        Ok(RgbaImage {
            width: targets.width,
            height: targets.height,
            pixels,
        })
    }

    fn create_targets(&self, width: u32, height: u32) -> Targets {
        let device = &self.gpu.device;
        let config = *self.renderer.config();
        let size = wgpu::Extent3d {
            width,
            height,
            depth_or_array_layers: 1,
        };
        let color = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("wiredraw offscreen colour"),
            size,
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: OFFSCREEN_FORMAT,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
            view_formats: &[],
        });
        let padded_row = (width * 4).next_multiple_of(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT);
        Targets {
            width,
            height,
            color_view: color.create_view(&wgpu::TextureViewDescriptor::default()),
            color,
            attachments: Attachments::new(device, &config, width, height),
            readback: device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("wiredraw readback"),
                size: u64::from(padded_row) * u64::from(height),
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }),
            padded_row,
        }
    }
}
