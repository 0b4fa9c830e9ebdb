//! Helpers shared by the GPU tests: the adapter, test scenes and golden-image comparison.
// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use wiredraw_render::glam::Vec3;
use wiredraw_render::{Color, EdgeInstance, GpuContext, NodeInstance, NodeState, RgbaImage, Scene};

/// The GPU, or a failure that says how to get one: these tests never skip silently.
pub fn gpu() -> GpuContext {
    GpuContext::headless().unwrap_or_else(|e| {
        panic!(
            "GPU tests need a Vulkan adapter: {e}\n(set WGPU_BACKEND=vulkan; on Debian install \
             mesa-vulkan-drivers libvulkan1)"
        )
    })
}

/// A pixel matches when some channel-wise difference to the golden's pixel at the same place, or
/// at one of its 8 neighbours, is at most this in every channel.
///
/// lavapipe runs the shaders through LLVM, whose version decides float rounding in the
/// ray–sphere maths, `pow` in the sRGB conversion and the edge functions of the rasteriser:
/// colours drift by a few counts and silhouette pixels move by a pixel. 24 counts of 255 absorbs
/// the drift and the one-pixel neighbourhood the moved silhouettes, yet a changed colour, light,
/// state highlight, or an object moved by more than a pixel or two still fails.
pub const CHANNEL_TOLERANCE: u8 = 24;
/// The image matches when at most this share of pixels match nothing near them: 0.05 % is 131
/// pixels at 512×512, room for a few stray flips but less than one small host (a radius of 19
/// pixels covers ~1,100) recoloured, or moved by a third of its radius.
pub const MAX_DIFFERING_SHARE: f64 = 0.0005;

/// Compares with `tests/golden/<name>.png`. With `WIREDRAW_BLESS=1` the golden is (re)written
/// instead. On a mismatch `<name>.actual.png` and `<name>.diff.png` (differing pixels in red
/// over a dimmed golden) are written beside it and the test fails.
pub fn assert_matches_golden(name: &str, actual: &RgbaImage) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let golden_path = dir.join(format!("{name}.png"));
    if std::env::var_os("WIREDRAW_BLESS").is_some_and(|v| v == "1") {
        actual.save_png(&golden_path).unwrap();
        eprintln!("blessed {}", golden_path.display());
        return;
    }
    let golden = RgbaImage::load_png(&golden_path).unwrap_or_else(|e| {
        panic!(
            "{e}\n(create goldens with WIREDRAW_BLESS=1 cargo test --release -p wiredraw-render)"
        )
    });
    if let Err(mismatch) = compare_with_golden(name, &golden, actual, &dir) {
        panic!("{mismatch}");
    }
}

/// Compares `actual` with `golden` within [`CHANNEL_TOLERANCE`] and [`MAX_DIFFERING_SHARE`].
/// On a mismatch writes `<name>.actual.png` and `<name>.diff.png` into `out_dir` and says why.
pub fn compare_with_golden(
    name: &str,
    golden: &RgbaImage,
    actual: &RgbaImage,
    out_dir: &Path,
) -> Result<(), String> {
    if (golden.width, golden.height) != (actual.width, actual.height) {
        return Err(format!(
            "{name}: size {}x{} differs from the golden's {}x{}",
            actual.width, actual.height, golden.width, golden.height
        ));
    }
    let (width, height) = (golden.width as i64, golden.height as i64);
    let mut diff = Vec::with_capacity(golden.pixels.len());
    let mut differing = 0usize;
    let mut worst = 0u8;
    for y in 0..height {
        for x in 0..width {
            let a = actual.pixel(x as u32, y as u32);
            let delta_to = |gx: i64, gy: i64| {
                let g = golden.pixel(
                    gx.clamp(0, width - 1) as u32,
                    gy.clamp(0, height - 1) as u32,
                );
                (0..4).map(|i| g[i].abs_diff(a[i])).max().unwrap()
            };
            let nearest = (-1..=1)
                .flat_map(|dy| (-1..=1).map(move |dx| (dx, dy)))
                .map(|(dx, dy)| delta_to(x + dx, y + dy))
                .min()
                .unwrap();
            worst = worst.max(nearest);
            let g = golden.pixel(x as u32, y as u32);
            if nearest > CHANNEL_TOLERANCE {
                differing += 1;
                diff.extend_from_slice(&[255, 0, 0, 255]);
            } else {
                diff.extend_from_slice(&[g[0] / 3, g[1] / 3, g[2] / 3, 255]);
            }
        }
    }
    let share = differing as f64 / (golden.width as f64 * golden.height as f64);
    if share <= MAX_DIFFERING_SHARE {
        return Ok(());
    }
    let actual_path = out_dir.join(format!("{name}.actual.png"));
    let diff_path = out_dir.join(format!("{name}.diff.png"));
    actual.save_png(&actual_path).unwrap();
    RgbaImage {
        width: golden.width,
        height: golden.height,
        pixels: diff,
    }
    .save_png(&diff_path)
    .unwrap();
    Err(format!(
        "{name}: {differing} pixels ({:.3} %) differ by more than {CHANNEL_TOLERANCE} \
         from their golden neighbourhood (allowed {:.3} %; worst channel delta {worst}); \
         see {} and {}",
        share * 100.0,
        MAX_DIFFERING_SHARE * 100.0,
        actual_path.display(),
        diff_path.display()
    ))
}

/// Five hosts in a row showing every state (flagged, hovered, selected, dimmed, fading in),
/// joined by arrows of growing width, including a pair of hosts talking both ways.
pub fn states_scene() -> Scene {
    let colors = [
        Color::rgb(66, 135, 245),
        Color::rgb(46, 204, 113),
        Color::rgb(245, 166, 35),
        Color::rgb(231, 76, 60),
        Color::rgb(155, 89, 182),
    ];
    let states = [
        NodeState {
            flagged: true,
            ..NodeState::default()
        },
        NodeState {
            hovered: true,
            ..NodeState::default()
        },
        NodeState {
            selected: true,
            ..NodeState::default()
        },
        NodeState {
            dimmed: true,
            ..NodeState::default()
        },
        NodeState::default(),
    ];
    let nodes = (0..5)
        .map(|i| NodeInstance {
            state: states[i],
            // The last host is half faded in.
            fade: if i == 4 { 0.5 } else { 1.0 },
            ..NodeInstance::new(
                Vec3::new(i as f32 * 5.0 - 10.0, (i % 2) as f32 * 3.0 - 1.5, 0.0),
                1.0 + i as f32 * 0.25,
                colors[i],
            )
        })
        .collect();
    let grey = Color::rgb(200, 200, 210);
    let edges = vec![
        EdgeInstance::new(0, 1, 0.1, grey),
        EdgeInstance::new(1, 2, 0.3, Color::rgb(245, 166, 35)),
        EdgeInstance::new(2, 1, 0.3, Color::rgb(66, 135, 245)),
        EdgeInstance::new(2, 3, 0.5, grey),
        EdgeInstance::new(3, 4, 0.2, grey),
        EdgeInstance::new(0, 4, 0.15, Color::rgb(46, 204, 113)),
    ];
    Scene { nodes, edges }
}

/// A deterministic cloud of hosts and connections, dense enough to overlap.
pub fn cloud_scene(nodes: usize, edges: usize, seed: u64) -> Scene {
    let mut state = seed | 1;
    let mut random = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32
    };
    let palette = [
        Color::rgb(66, 135, 245),
        Color::rgb(46, 204, 113),
        Color::rgb(245, 166, 35),
        Color::rgb(231, 76, 60),
    ];
    let mut scene = Scene::default();
    for _ in 0..nodes {
        let p = Vec3::new(random(), random(), random()) * 40.0 - 20.0;
        let color = palette[(random() * 4.0) as usize % 4];
        scene
            .nodes
            .push(NodeInstance::new(p, 0.3 + random() * random() * 2.0, color));
    }
    for _ in 0..edges {
        let from = (random() * nodes as f32) as u32 % nodes as u32;
        let to = (random() * nodes as f32) as u32 % nodes as u32;
        let color = scene.nodes[from as usize].color;
        scene
            .edges
            .push(EdgeInstance::new(from, to, 0.03 + random() * 0.2, color));
    }
    scene
}
