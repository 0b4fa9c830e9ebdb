//! Drawing the graph inside an egui app through egui-wgpu's paint callback.
//!
//! The [`GraphRenderer`] lives in egui-wgpu's callback resources (install it once with
//! [`GraphPaintCallback::install`]); each frame the app adds a [`GraphPaintCallback`] for the
//! rectangle the graph occupies. egui's render pass must have a depth attachment of the
//! renderer's format (egui-wgpu's `RendererOptions::depth_stencil_format`, eframe's
//! `depth_buffer`), cleared as the renderer's [`crate::DepthConvention`] requires: eframe clears
//! it to 1.0, so eframe apps use [`crate::DepthConvention::Standard`].

use crate::camera::{Camera, Viewport};
use crate::renderer::{GraphRenderer, RendererConfig};
use crate::scene::Scene;
use std::sync::Arc;

/// One frame of the graph in an egui rectangle.
#[derive(Clone)]
pub struct GraphPaintCallback {
    pub scene: Arc<Scene>,
    pub camera: Camera,
    /// Where the graph is drawn, in egui points.
    pub rect: egui::Rect,
}

impl GraphPaintCallback {
    /// Puts a [`GraphRenderer`] into egui-wgpu's callback resources, replacing an earlier one.
    /// `config.color_format` and the depth and sample settings must match egui's render pass.
    pub fn install(
        egui_renderer: &mut egui_wgpu::Renderer,
        device: &wgpu::Device,
        config: RendererConfig,
    ) {
        egui_renderer
            .callback_resources
            .insert(GraphRenderer::new(device, config));
    }

    /// The renderer installed with [`GraphPaintCallback::install`], e.g. to change its
    /// settings.
    pub fn renderer_mut(egui_renderer: &mut egui_wgpu::Renderer) -> Option<&mut GraphRenderer> {
        egui_renderer.callback_resources.get_mut::<GraphRenderer>()
    }

    pub fn new(scene: Arc<Scene>, camera: Camera, rect: egui::Rect) -> GraphPaintCallback {
        GraphPaintCallback {
            scene,
            camera,
            rect,
        }
    }

    /// The egui shape to add to a painter (`ui.painter().add(...)`).
    pub fn into_shape(self) -> egui::Shape {
        let rect = self.rect;
        egui::Shape::Callback(egui_wgpu::Callback::new_paint_callback(rect, self))
    }

    /// The viewport in physical pixels for a given scale.
    pub fn viewport(&self, pixels_per_point: f32) -> Viewport {
        let size = self.rect.size() * pixels_per_point;
        Viewport::new(
            size.x.round().max(1.0) as u32,
            size.y.round().max(1.0) as u32,
        )
    }
}

impl egui_wgpu::CallbackTrait for GraphPaintCallback {
    fn prepare(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        screen_descriptor: &egui_wgpu::ScreenDescriptor,
        _egui_encoder: &mut wgpu::CommandEncoder,
        resources: &mut egui_wgpu::CallbackResources,
    ) -> Vec<wgpu::CommandBuffer> {
        if let Some(renderer) = resources.get_mut::<GraphRenderer>() {
            let viewport = self.viewport(screen_descriptor.pixels_per_point);
            renderer.prepare(device, queue, &self.scene, &self.camera, viewport);
        }
        Vec::new()
    }

    fn paint(
        &self,
        _info: egui::PaintCallbackInfo,
        render_pass: &mut wgpu::RenderPass<'static>,
        resources: &egui_wgpu::CallbackResources,
    ) {
        // egui-wgpu has already set the viewport to our rectangle and the scissor to its clip.
        if let Some(renderer) = resources.get::<GraphRenderer>() {
            renderer.paint(render_pass);
        }
    }
}
