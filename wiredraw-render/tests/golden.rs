//! Golden images: scenes rendered offscreen on the GPU (lavapipe in CI) and compared with the
//! PNGs in tests/golden/ within the tolerance stated in `common` (each pixel within 24 of 255
//! per channel of the golden's pixel or one of its 8 neighbours; at most 0.05 % of pixels
//! otherwise).

mod common;

use common::{assert_matches_golden, cloud_scene, compare_with_golden, gpu, states_scene};
use wiredraw_render::glam::Vec3;
use wiredraw_render::{Camera, OffscreenRenderer, RendererConfig, RgbaImage, SphereTechnique};

const SIZE: u32 = 512;

fn front_camera(scene: &wiredraw_render::Scene) -> Camera {
    let mut camera = Camera::default().with_angles(0.0, 0.0);
    camera.fit(scene.bounds().unwrap(), 1.0);
    camera
}

#[test]
fn states_scene_matches_golden() {
    let scene = states_scene();
    let mut offscreen = OffscreenRenderer::new(gpu());
    let image = offscreen
        .render_to_rgba(SIZE, SIZE, &scene, &front_camera(&scene))
        .unwrap();
    assert_matches_golden("states", &image);
}

#[test]
fn states_scene_with_mesh_spheres_matches_golden() {
    let scene = states_scene();
    let config = RendererConfig {
        spheres: SphereTechnique::Mesh,
        ..RendererConfig::new(wiredraw_render::offscreen::OFFSCREEN_FORMAT)
    };
    let mut offscreen = OffscreenRenderer::with_config(gpu(), config);
    let image = offscreen
        .render_to_rgba(SIZE, SIZE, &scene, &front_camera(&scene))
        .unwrap();
    assert_matches_golden("states_mesh", &image);
}

#[test]
fn cloud_from_an_angle_matches_golden() {
    let scene = cloud_scene(300, 500, 7);
    let mut camera = Camera::default().with_angles(0.8, 0.5);
    camera.fit(scene.bounds().unwrap(), 1.0);
    let mut offscreen = OffscreenRenderer::new(gpu());
    let image = offscreen
        .render_to_rgba(SIZE, SIZE, &scene, &camera)
        .unwrap();
    assert_matches_golden("cloud", &image);
}

#[test]
fn close_up_with_msaa_matches_golden() {
    let scene = states_scene();
    let mut camera = Camera::looking_at(Vec3::new(0.0, 0.0, 0.0), 9.0);
    camera.yaw = 0.3;
    camera.pitch = 0.2;
    let config = RendererConfig {
        sample_count: 4,
        ..RendererConfig::new(wiredraw_render::offscreen::OFFSCREEN_FORMAT)
    };
    let mut offscreen = OffscreenRenderer::with_config(gpu(), config);
    let image = offscreen
        .render_to_rgba(SIZE, SIZE, &scene, &camera)
        .unwrap();
    assert_matches_golden("close_up_msaa", &image);
}

#[test]
fn an_empty_scene_is_all_background() {
    let mut offscreen = OffscreenRenderer::new(gpu());
    let image = offscreen
        .render_to_rgba(64, 48, &Default::default(), &Camera::default())
        .unwrap();
    let [r, g, b, _] = offscreen.background.0;
    assert!(image.pixels.chunks_exact(4).all(|p| p == [r, g, b, 255]));
    assert_eq!((image.width, image.height), (64, 48));
    assert!(
        offscreen
            .render_to_rgba(0, 10, &Default::default(), &Camera::default())
            .is_err()
    );
}

/// The tolerance is loose enough for driver drift but not for real changes: a host moved by a
/// third of its radius, or recoloured, fails against the golden, and the failure leaves the
/// actual and difference images behind.
#[test]
fn a_moved_or_recoloured_host_fails_the_golden_and_leaves_images() {
    let golden = RgbaImage::load_png(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/states.png"),
    )
    .unwrap();
    let scene = states_scene();
    let camera = front_camera(&scene);
    let mut offscreen = OffscreenRenderer::new(gpu());
    let out_dir = std::env::temp_dir().join(format!("wiredraw-golden-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).unwrap();

    let mut moved = scene.clone();
    moved.nodes[0].position.x += moved.nodes[0].radius / 3.0;
    let image = offscreen
        .render_to_rgba(SIZE, SIZE, &moved, &camera)
        .unwrap();
    let error = compare_with_golden("moved", &golden, &image, &out_dir).unwrap_err();
    assert!(error.contains("differ by more than"), "{error}");
    for written in ["moved.actual.png", "moved.diff.png"] {
        let written = RgbaImage::load_png(out_dir.join(written)).unwrap();
        assert_eq!((written.width, written.height), (SIZE, SIZE));
    }

    let mut recoloured = scene.clone();
    recoloured.nodes[0].color = wiredraw_render::Color::rgb(66, 200, 245);
    let image = offscreen
        .render_to_rgba(SIZE, SIZE, &recoloured, &camera)
        .unwrap();
    assert!(compare_with_golden("recoloured", &golden, &image, &out_dir).is_err());

    let image = offscreen
        .render_to_rgba(SIZE, SIZE, &scene, &camera)
        .unwrap();
    assert_eq!(
        compare_with_golden("same", &golden, &image, &out_dir),
        Ok(())
    );
    std::fs::remove_dir_all(&out_dir).unwrap();
}

#[test]
fn small_spheres_shaded_as_dots_match_the_ray_cast() {
    // Hosts only, far enough away that every radius is a few pixels.
    let scene = cloud_scene(300, 0, 7);
    let mut camera = Camera::default().with_angles(0.8, 0.5);
    camera.fit(scene.bounds().unwrap(), 1.0);
    camera.zoom(2.0);
    let render = |max_dot_radius_px: f32| {
        let mut offscreen = OffscreenRenderer::new(gpu());
        offscreen.renderer_mut().settings.max_dot_radius_px = max_dot_radius_px;
        offscreen
            .render_to_rgba(SIZE, SIZE, &scene, &camera)
            .unwrap()
    };
    let ray_cast = render(0.0);
    let dots = render(f32::INFINITY);
    let background = OffscreenRenderer::new(gpu()).background.0;
    let drawn = dots
        .pixels
        .chunks_exact(4)
        .filter(|p| p[..3] != background[..3])
        .count();
    assert!(drawn > 2_000, "only {drawn} pixels drawn");
    let out = std::env::temp_dir().join("wiredraw-dots");
    std::fs::create_dir_all(&out).unwrap();
    if let Err(mismatch) = common::compare_with_golden("dots", &ray_cast, &dots, &out) {
        panic!("{mismatch}");
    }
}

#[test]
fn every_edge_of_a_large_scene_is_counted_once() {
    // More edges than one preparation task takes, so they are culled and sorted in parallel.
    let nodes = 2_000u32;
    let mut scene = wiredraw_render::Scene::default();
    for i in 0..nodes {
        let angle = i as f32 / nodes as f32 * std::f32::consts::TAU;
        let position = Vec3::new(angle.cos(), angle.sin(), 0.0) * 50.0;
        scene.nodes.push(wiredraw_render::NodeInstance::new(
            position,
            0.05,
            wiredraw_render::Color::rgb(200, 200, 200),
        ));
    }
    let (edges, dangling) = (50_000u32, 1_234u32);
    for e in 0..edges {
        let from = e % nodes;
        let to = if e < dangling {
            nodes + e
        } else {
            // Hosts at least five apart: a few pixels of arrow between their spheres.
            (from + 5 + e / nodes * 37) % nodes
        };
        let mut edge = wiredraw_render::EdgeInstance::new(
            from,
            to,
            0.05,
            wiredraw_render::Color::rgb(255, 0, 0),
        );
        // Some fading, so both draw lists of both shapes are filled.
        if e % 7 == 0 {
            edge.fade = 0.5;
        }
        scene.edges.push(edge);
    }
    let mut camera = Camera::default().with_angles(0.0, 0.0);
    camera.fit(scene.bounds().unwrap(), 1.0);
    let mut offscreen = OffscreenRenderer::new(gpu());
    offscreen
        .render_to_rgba(SIZE, SIZE, &scene, &camera)
        .unwrap();
    let stats = offscreen.renderer().stats();
    assert_eq!(stats.dangling_edges, dangling as usize);
    assert_eq!(stats.edges_drawn, (edges - dangling) as usize);
    assert_eq!(stats.nodes_drawn, nodes as usize);
}
