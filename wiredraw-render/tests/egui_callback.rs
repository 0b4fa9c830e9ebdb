//! The graph drawn inside egui: a real egui-wgpu renderer paints a UI with a
//! `GraphPaintCallback` into an offscreen texture, in one render pass shared with egui's shapes.

mod common;

use common::{gpu, states_scene};
use std::sync::Arc;
use wiredraw_render::{Camera, DepthConvention, GraphPaintCallback, RendererConfig, RgbaImage};

const WIDTH: u32 = 320;
const HEIGHT: u32 = 240;
const FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;
const DEPTH: wgpu::TextureFormat = wgpu::TextureFormat::Depth32Float;

#[test]
fn graph_paints_through_an_egui_wgpu_paint_callback() {
    let gpu = gpu();
    let (device, queue) = (&gpu.device, &gpu.queue);
    let mut egui_renderer = egui_wgpu::Renderer::new(
        device,
        FORMAT,
        egui_wgpu::RendererOptions {
            depth_stencil_format: Some(DEPTH),
            ..Default::default()
        },
    );
    // eframe clears egui's depth to 1.0, so the callback uses the standard convention; this
    // test clears the same way.
    let config = RendererConfig {
        depth_convention: DepthConvention::Standard,
        ..RendererConfig::new(FORMAT)
    };
    GraphPaintCallback::install(&mut egui_renderer, device, config);

    let scene = Arc::new(states_scene());
    let mut camera = Camera::default().with_angles(0.0, 0.0);
    camera.fit(scene.bounds().unwrap(), 1.0);
    let ctx = egui::Context::default();
    let input = egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(WIDTH as f32, HEIGHT as f32),
        )),
        ..Default::default()
    };
    // The graph fills a square on the right; egui paints a red box on the left.
    let graph_rect = egui::Rect::from_min_max(egui::pos2(80.0, 0.0), egui::pos2(320.0, 240.0));
    let red_box = egui::Rect::from_min_max(egui::pos2(10.0, 10.0), egui::pos2(60.0, 60.0));
    let output = ctx.run_ui(input, |ui| {
        ui.painter().rect_filled(red_box, 0.0, egui::Color32::RED);
        ui.painter()
            .add(GraphPaintCallback::new(scene.clone(), camera, graph_rect).into_shape());
    });
    let primitives = ctx.tessellate(output.shapes, output.pixels_per_point);
    for (id, deltas) in &output.textures_delta.set {
        for delta in deltas {
            egui_renderer.update_texture(device, queue, *id, delta);
        }
    }
    let screen = egui_wgpu::ScreenDescriptor {
        size_in_pixels: [WIDTH, HEIGHT],
        pixels_per_point: output.pixels_per_point,
    };

    let texture = |format, usage| {
        device.create_texture(&wgpu::TextureDescriptor {
            label: None,
            size: wgpu::Extent3d {
                width: WIDTH,
                height: HEIGHT,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format,
            usage,
            view_formats: &[],
        })
    };
    let color = texture(
        FORMAT,
        wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
    );
    let depth = texture(DEPTH, wgpu::TextureUsages::RENDER_ATTACHMENT);
    let color_view = color.create_view(&Default::default());
    let depth_view = depth.create_view(&Default::default());
    let mut encoder = device.create_command_encoder(&Default::default());
    let callback_buffers =
        egui_renderer.update_buffers(device, queue, &mut encoder, &primitives, &screen);
    {
        let mut pass = encoder
            .begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("egui"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: &color_view,
                    depth_slice: None,
                    resolve_target: None,
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(wgpu::Color::BLACK),
                        store: wgpu::StoreOp::Store,
                    },
                })],
                depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
                    view: &depth_view,
                    depth_ops: Some(wgpu::Operations {
                        load: wgpu::LoadOp::Clear(DepthConvention::Standard.clear_value()),
                        store: wgpu::StoreOp::Discard,
                    }),
                    stencil_ops: None,
                }),
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
            })
            .forget_lifetime();
        egui_renderer.render(&mut pass, &primitives, &screen);
    }
    let readback = device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: u64::from(WIDTH * 4 * HEIGHT),
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    encoder.copy_texture_to_buffer(
        color.as_image_copy(),
        wgpu::TexelCopyBufferInfo {
            buffer: &readback,
            layout: wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(WIDTH * 4),
                rows_per_image: None,
            },
        },
        color.size(),
    );
    queue.submit(callback_buffers.into_iter().chain([encoder.finish()]));
    readback.map_async(wgpu::MapMode::Read, .., |result| result.unwrap());
    device.poll(wgpu::PollType::wait_indefinitely()).unwrap();
    let image = RgbaImage {
        width: WIDTH,
        height: HEIGHT,
        pixels: readback.get_mapped_range(..).unwrap().to_vec(),
    };

    assert_eq!(image.pixel(35, 35), [255, 0, 0, 255], "egui's own shape");
    // The centre host (index 2, orange) shows where the camera projects it inside the graph
    // rectangle.
    let viewport = wiredraw_render::Viewport::new(240, 240);
    let (center, _) = camera.project(scene.nodes[2].position, viewport).unwrap();
    let [r, g, b, _] = image.pixel(80 + center.x as u32, center.y as u32);
    if !(r > 120 && g > 60 && b < 90) {
        let path = std::env::temp_dir().join("wiredraw-egui-callback.png");
        image.save_png(&path).unwrap();
        panic!("centre host: {:?}; image in {}", [r, g, b], path.display());
    }
    // Outside the graph rectangle and the red box, only egui's clear colour.
    assert_eq!(image.pixel(40, 200), [0, 0, 0, 255]);
    let drawn = (80..WIDTH)
        .flat_map(|x| (0..HEIGHT).map(move |y| (x, y)))
        .filter(|&(x, y)| image.pixel(x, y) != [0, 0, 0, 255])
        .count();
    assert!(
        drawn > 2000,
        "the graph covers {drawn} pixels of its rectangle"
    );
}
