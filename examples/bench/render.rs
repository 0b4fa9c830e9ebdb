//! `bench -- render --nodes N --edges M [--frames K] [--width W] [--height H]
//! [--spheres impostor|mesh] [--scene layout|random] [--layout-steps S] [--no-readback]
//! [--picks P]`
//!
//! Frame time of the wgpu renderer, offscreen, on the default adapter (`WGPU_BACKEND` picks
//! it; lavapipe on machines without a GPU). Each measured frame is the whole cost a viewer pays:
//! CPU culling and instance upload (`prepare`), drawing, and either reading the image back
//! (default: `"measures":"render+readback"`) or waiting for the GPU to finish
//! (`--no-readback`: `"render+wait"`). The camera turns a little every frame so nothing is
//! cached. `ms_per_frame` is the mean; `fastest_frame_ms` and `median_frame_ms` show how much
//! frames (and a shared machine) vary. `--scene layout` (the default) draws what the viewer
//! draws: the traffic-shaped sample graph (`wiredraw_core::layout::sample`, fans around
//! servers) laid out by the core layout for `--layout-steps` steps and styled by
//! [`GraphStyle`]. `--scene random` is the worst case: a random ball of hosts with every arrow
//! crossing it, framed by the camera.
//!
//! Picking on the same scene (every node and edge a candidate): `pick_build_ms` builds the
//! [`Picker`]'s hierarchy once, `pick_us` is the mean time of one click (a ray through a random
//! pixel, nearest hit) over `--picks` clicks, `pick_hits` how many of them hit something.

use anyhow::Context as _;
use clap::Parser;
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::time::Instant;
use wiredraw_core::layout::{Layout, LayoutParams, sample};
use wiredraw_render::glam::Vec3;
use wiredraw_render::{
    Camera, Color, EdgeInstance, GpuContext, GraphStyle, NodeInstance, OffscreenRenderer, Picker,
    RendererConfig, Scene, SphereTechnique, Viewport,
};

#[derive(Parser)]
#[command(name = "bench render")]
struct Args {
    #[arg(long, default_value_t = 10_000)]
    nodes: usize,
    #[arg(long, default_value_t = 20_000)]
    edges: usize,
    #[arg(long, default_value_t = 20)]
    frames: usize,
    #[arg(long, default_value_t = 1280)]
    width: u32,
    #[arg(long, default_value_t = 720)]
    height: u32,
    /// impostor or mesh.
    #[arg(long, default_value = "impostor")]
    spheres: String,
    /// Wait for the GPU instead of reading the image back.
    #[arg(long)]
    no_readback: bool,
    /// Clicks to time on the picker.
    #[arg(long, default_value_t = 2000)]
    picks: usize,
    /// layout (the sample traffic graph, laid out) or random (arrows across a random ball).
    #[arg(long, default_value = "layout")]
    scene: String,
    /// Layout steps before drawing, with `--scene layout`.
    #[arg(long, default_value_t = 60)]
    layout_steps: usize,
    /// Arrows drawn before sub-pixel ones are thinned out (`RenderSettings::arrow_budget`);
    /// the renderer's default when not given.
    #[arg(long)]
    arrow_budget: Option<usize>,
    /// Render the last timed frame once more, after timing, and save it here as PNG.
    #[arg(long)]
    png: Option<std::path::PathBuf>,
}

/// The sample traffic graph after `steps` layout steps, styled as the viewer styles it.
fn laid_out_scene(nodes: usize, edges: usize, steps: usize) -> Scene {
    let graph = sample::traffic_graph(nodes, edges, 42);
    let mut layout = Layout::new(LayoutParams::default(), 42);
    layout.set_graph(&graph);
    layout.run(steps);
    GraphStyle::default()
        .build_scene(layout.graph(), layout.positions())
        .0
}

/// A ball of hosts: uniform density, radii skewed small, edges preferring the first (hub) hosts.
fn random_scene(nodes: usize, edges: usize, rng: &mut StdRng) -> Scene {
    let palette = [
        Color::rgb(66, 135, 245),
        Color::rgb(46, 204, 113),
        Color::rgb(245, 166, 35),
        Color::rgb(231, 76, 60),
        Color::rgb(155, 89, 182),
    ];
    // Keeps the mean spacing between hosts near 6 units whatever their number.
    let ball = 3.0 * (nodes as f32).cbrt();
    let mut scene = Scene::default();
    for _ in 0..nodes {
        let direction = Vec3::new(
            rng.random_range(-1.0..1.0),
            rng.random_range(-1.0..1.0),
            rng.random_range(-1.0..1.0),
        )
        .normalize_or(Vec3::X);
        let position = direction * ball * rng.random::<f32>().cbrt();
        let radius = 0.4 + 1.6 * rng.random::<f32>().powi(3);
        let color = palette[rng.random_range(0..palette.len())];
        scene.nodes.push(NodeInstance::new(position, radius, color));
    }
    if nodes > 1 {
        let hubs = (nodes / 50).max(1);
        for _ in 0..edges {
            let from = rng.random_range(0..nodes) as u32;
            let to = if rng.random_bool(0.5) {
                rng.random_range(0..hubs)
            } else {
                rng.random_range(0..nodes)
            } as u32;
            let width = 0.05 + 0.35 * rng.random::<f32>().powi(2);
            let color = palette[rng.random_range(0..palette.len())];
            scene.edges.push(EdgeInstance::new(from, to, width, color));
        }
    }
    scene
}

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let args = Args::try_parse_from(
        std::iter::once("bench render".to_string()).chain(args.iter().cloned()),
    )?;
    let spheres = match args.spheres.as_str() {
        "impostor" => SphereTechnique::Impostor,
        "mesh" => SphereTechnique::Mesh,
        other => anyhow::bail!("--spheres {other:?}: expected impostor or mesh"),
    };
    let mut rng = StdRng::seed_from_u64(42);
    let scene = match args.scene.as_str() {
        "layout" => laid_out_scene(args.nodes, args.edges, args.layout_steps),
        "random" => random_scene(args.nodes, args.edges, &mut rng),
        other => anyhow::bail!("--scene {other:?}: expected layout or random"),
    };
    let gpu = GpuContext::headless().context("opening the GPU")?;
    let adapter = gpu.adapter_name();
    let config = RendererConfig {
        spheres,
        ..RendererConfig::new(wiredraw_render::offscreen::OFFSCREEN_FORMAT)
    };
    let mut offscreen = OffscreenRenderer::with_config(gpu, config);
    if let Some(budget) = args.arrow_budget {
        offscreen.renderer_mut().settings.arrow_budget = budget;
    }
    let mut camera = Camera::default();
    let bounds = scene.bounds().context("the scene has no nodes")?;
    camera.fit(bounds, args.width as f32 / args.height as f32);

    let mut frame = |camera: &Camera| -> anyhow::Result<()> {
        if args.no_readback {
            offscreen.render_and_wait(args.width, args.height, &scene, camera)?;
        } else {
            offscreen.render_to_rgba(args.width, args.height, &scene, camera)?;
        }
        Ok(())
    };
    // Warm-up: pipeline compilation, buffer allocation.
    for _ in 0..2 {
        frame(&camera)?;
    }
    let frames = args.frames.max(1);
    let start = Instant::now();
    let mut frame_ms = Vec::with_capacity(frames);
    for _ in 0..frames {
        camera.orbit(wiredraw_render::glam::Vec2::new(2.0, 0.0));
        let frame_start = Instant::now();
        frame(&camera)?;
        frame_ms.push(frame_start.elapsed().as_secs_f64() * 1000.0);
    }
    let ms_per_frame = start.elapsed().as_secs_f64() * 1000.0 / frames as f64;
    frame_ms.sort_by(f64::total_cmp);
    let stats = offscreen.renderer().stats();

    // The CPU's share of a frame (culling, level of detail, instance upload), which a faster
    // GPU does not shorten.
    let (device, queue) = (
        offscreen.gpu().device.clone(),
        offscreen.gpu().queue.clone(),
    );
    let viewport = Viewport::new(args.width, args.height);
    let mut prepare_ms: Vec<f64> = (0..frames)
        .map(|_| {
            camera.orbit(wiredraw_render::glam::Vec2::new(2.0, 0.0));
            let start = Instant::now();
            offscreen
                .renderer_mut()
                .prepare(&device, &queue, &scene, &camera, viewport);
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    prepare_ms.sort_by(f64::total_cmp);

    if let Some(path) = &args.png {
        offscreen
            .render_to_rgba(args.width, args.height, &scene, &camera)?
            .save_png(path)?;
    }

    let start = Instant::now();
    let picker = Picker::new(&scene);
    let pick_build_ms = start.elapsed().as_secs_f64() * 1000.0;
    let clicks: Vec<_> = (0..args.picks.max(1))
        .map(|_| {
            let pixel = wiredraw_render::glam::Vec2::new(
                rng.random_range(0.0..args.width as f32),
                rng.random_range(0.0..args.height as f32),
            );
            camera.ray(pixel, viewport)
        })
        .collect();
    let start = Instant::now();
    let pick_hits = clicks
        .iter()
        .filter(|ray| picker.pick(ray).is_some())
        .count();
    let pick_us = start.elapsed().as_secs_f64() * 1e6 / clicks.len() as f64;
    println!(
        "{}",
        serde_json::json!({
            "bench": "render",
            "nodes": args.nodes,
            "edges": args.edges,
            "width": args.width,
            "height": args.height,
            "frames": frames,
            "spheres": args.spheres,
            "scene": args.scene,
            "measures": if args.no_readback { "render+wait" } else { "render+readback" },
            "nodes_drawn": stats.nodes_drawn,
            "edges_drawn": stats.edges_drawn,
            "edges_thinned": stats.edges_thinned,
            "ms_per_frame": (ms_per_frame * 100.0).round() / 100.0,
            "fastest_frame_ms": (frame_ms[0] * 100.0).round() / 100.0,
            "median_frame_ms": (frame_ms[frames / 2] * 100.0).round() / 100.0,
            "median_prepare_ms": (prepare_ms[frames / 2] * 100.0).round() / 100.0,
            "fps": (1000.0 / ms_per_frame * 10.0).round() / 10.0,
            "pick_build_ms": (pick_build_ms * 100.0).round() / 100.0,
            "pick_us": (pick_us * 100.0).round() / 100.0,
            "picks": clicks.len(),
            "pick_hits": pick_hits,
            "adapter": adapter,
        })
    );
    Ok(())
}
