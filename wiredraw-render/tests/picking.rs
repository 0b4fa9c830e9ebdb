//! Picking against what is drawn: a known scene, a known pixel, the known node or edge, and the
//! rendered pixel there shows that object.

mod common;

use common::{gpu, states_scene};
use wiredraw_render::glam::Vec2;
use wiredraw_render::{Camera, Color, OffscreenRenderer, Picked, Picker, RgbaImage, Viewport};

const SIZE: u32 = 400;

fn camera(scene: &wiredraw_render::Scene) -> Camera {
    let mut camera = Camera::default().with_angles(0.25, 0.15);
    camera.fit(scene.bounds().unwrap(), 1.0);
    camera
}

fn distance(pixel: [u8; 4], color: Color) -> i32 {
    (0..3)
        .map(|i| (pixel[i] as i32 - color.0[i] as i32).abs())
        .sum()
}

/// The pixel shows `color` (shaded) rather than the background.
fn shows(image: &RgbaImage, pixel: Vec2, color: Color, background: Color) -> bool {
    let p = image.pixel(pixel.x as u32, pixel.y as u32);
    // Shading scales the colour, so compare hue directions loosely: closer to the object's
    // colour than to the background, and not the background itself.
    distance(p, background) > 30 && distance(p, color) < distance(p, background) + 200
}

#[test]
fn pixels_on_spheres_pick_their_node() {
    let scene = states_scene();
    let camera = camera(&scene);
    let viewport = Viewport::new(SIZE, SIZE);
    let mut offscreen = OffscreenRenderer::new(gpu());
    let image = offscreen
        .render_to_rgba(SIZE, SIZE, &scene, &camera)
        .unwrap();
    let picker = Picker::new(&scene);
    for (index, node) in scene.nodes.iter().enumerate().take(4) {
        let (center, _) = camera.project(node.position, viewport).unwrap();
        let pixel = center.floor() + Vec2::splat(0.5);
        assert_eq!(
            picker.pick(&camera.ray(pixel, viewport)),
            Some(Picked::Node(index)),
            "node {index} at pixel {pixel}"
        );
        assert!(
            shows(&image, pixel, node.color, offscreen.background),
            "node {index}: pixel {pixel} is {:?}",
            image.pixel(pixel.x as u32, pixel.y as u32)
        );
    }
    // Far off to the side there is nothing.
    let empty = Vec2::new(5.5, 5.5);
    assert_eq!(picker.pick(&camera.ray(empty, viewport)), None);
    let [r, g, b, _] = offscreen.background.0;
    assert_eq!(image.pixel(5, 5), [r, g, b, 255]);
}

#[test]
fn a_pixel_on_a_shaft_picks_its_edge() {
    let scene = states_scene();
    let camera = camera(&scene);
    let viewport = Viewport::new(SIZE, SIZE);
    let mut offscreen = OffscreenRenderer::new(gpu());
    let image = offscreen
        .render_to_rgba(SIZE, SIZE, &scene, &camera)
        .unwrap();
    let picker = Picker::new(&scene);
    // Edge 3 (host 2 → host 3, the widest): the middle of its shaft, which is drawn beside the
    // centre line on the arrow's right as seen from the eye.
    let edge = scene.edges[3];
    let segment = scene.arrow_segment(3).unwrap();
    let middle = (segment.tail + segment.tip) * 0.5;
    let direction = (segment.tip - segment.tail).normalize();
    let across = direction.cross(camera.eye() - middle).normalize();
    let on_shaft = middle + across * (0.6 * segment.width);
    let (pixel, _) = camera.project(on_shaft, viewport).unwrap();
    let pixel = pixel.floor() + Vec2::splat(0.5);
    assert_eq!(
        picker.pick(&camera.ray(pixel, viewport)),
        Some(Picked::Edge(3))
    );
    assert!(
        shows(&image, pixel, edge.color, offscreen.background),
        "pixel {pixel} is {:?}",
        image.pixel(pixel.x as u32, pixel.y as u32)
    );
    // The hosts at either end stay theirs.
    let (end, _) = camera.project(scene.nodes[3].position, viewport).unwrap();
    assert_eq!(
        picker.pick(&camera.ray(end, viewport)),
        Some(Picked::Node(3))
    );
}
