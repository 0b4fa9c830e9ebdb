//! wiredraw-render: a wgpu renderer for connection graphs, with egui integration.
//!
//! Hosts are lit spheres and connections are arrows from the originating host to the
//! responding one. A host program describes a frame as a [`Scene`] (or builds one from a
//! [`wiredraw_core::Graph`] with a [`GraphStyle`]), moves a [`Camera`], and lets a
//! [`GraphRenderer`] draw it:
//! - on a window surface: [`SurfaceRenderer`] (a winit window, say), or
//!   [`GraphRenderer::prepare`] then [`GraphRenderer::render`] (or [`GraphRenderer::paint`]
//!   into a pass of its own) on a surface the host manages;
//! - inside egui: [`GraphPaintCallback`] through egui-wgpu's paint callback;
//! - offscreen: [`OffscreenRenderer::render_to_rgba`] and [`RgbaImage::save_png`].
//!
//! Around it: [`Picker`] finds what a click hits, [`paint_labels`] names hosts without clutter,
//! and [`SceneAnimator`] fades and moves things between graph updates.
//!
//! ```
//! use wiredraw_render::glam::Vec3;
//! use wiredraw_render::{
//!     Camera, Color, EdgeInstance, GpuContext, NodeInstance, OffscreenRenderer, Scene, Viewport,
//! };
//!
//! # fn main() -> Result<(), wiredraw_render::RenderError> {
//! let scene = Scene {
//!     nodes: vec![
//!         NodeInstance::new(Vec3::new(-3.0, 0.0, 0.0), 1.0, Color::rgb(66, 135, 245)),
//!         NodeInstance::new(Vec3::new(3.0, 0.0, 0.0), 1.5, Color::rgb(245, 166, 35)),
//!     ],
//!     edges: vec![EdgeInstance::new(0, 1, 0.3, Color::rgb(200, 200, 200))],
//! };
//! let mut camera = Camera::default();
//! camera.fit(scene.bounds().unwrap(), 1.0);
//!
//! let mut offscreen = OffscreenRenderer::new(GpuContext::headless()?);
//! let image = offscreen.render_to_rgba(256, 256, &scene, &camera)?;
//! // The larger host shows where the camera projects its centre.
//! let (center, _) = camera.project(scene.nodes[1].position, Viewport::new(256, 256)).unwrap();
//! assert_ne!(image.pixel(center.x as u32, center.y as u32), [18, 20, 26, 255]);
//! image.save_png(std::env::temp_dir().join("wiredraw-example.png"))?;
//! # Ok(())
//! # }
//! ```

pub mod animation;
pub mod camera;
pub mod egui_paint;
pub mod error;
pub mod gpu;
pub mod labels;
pub mod offscreen;
pub mod picking;
pub mod renderer;
pub mod scene;
pub mod style;
pub mod surface;

pub use animation::SceneAnimator;
pub use camera::{Camera, DepthConvention, Ray, Viewport};
pub use egui_paint::GraphPaintCallback;
pub use error::RenderError;
pub use gpu::frame::RenderSettings;
pub use gpu::spheres::SphereTechnique;
pub use labels::{LabelOptions, LabelPlacement, choose_labels, paint_labels};
pub use offscreen::{GpuContext, OffscreenRenderer, RgbaImage};
pub use picking::{Picked, Picker};
pub use renderer::{DepthBuffer, GraphRenderer, PrepareStats, RenderTarget, RendererConfig};
pub use scene::{Bounds, Color, EdgeInstance, NodeInstance, NodeState, Scene};
pub use style::{ColorBy, GraphStyle, Legend, LegendEntry};
pub use surface::{FrameOutcome, SurfaceRenderer};

/// The versions this crate is built against, for hosts that must match them.
pub use {egui, egui_wgpu, glam, wgpu};
