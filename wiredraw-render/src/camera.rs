//! An orbit camera: it circles a target point, pans, zooms, frames a scene and flies smoothly to
//! a point of interest. Projection has an infinite far plane and, by default, reverse-Z depth
//! (see [`DepthConvention`]).

use crate::scene::{Bounds, NodeInstance};
use glam::{Mat4, Vec2, Vec3};

/// The drawing area in physical pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewport {
    pub width: u32,
    pub height: u32,
}

impl Viewport {
    pub fn new(width: u32, height: u32) -> Viewport {
        Viewport { width, height }
    }

    /// Width over height; 1 for a degenerate viewport.
    pub fn aspect(&self) -> f32 {
        if self.width == 0 || self.height == 0 {
            1.0
        } else {
            self.width as f32 / self.height as f32
        }
    }

    pub fn size(&self) -> Vec2 {
        Vec2::new(self.width as f32, self.height as f32)
    }
}

/// A half-line in world space; `direction` has unit length.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ray {
    pub origin: Vec3,
    pub direction: Vec3,
}

impl Ray {
    pub fn at(&self, t: f32) -> Vec3 {
        self.origin + self.direction * t
    }
}

/// How depth values are laid out; the depth attachment must be cleared to
/// [`DepthConvention::clear_value`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DepthConvention {
    /// Near is 1, infinitely far is 0: with float depth, precision is even at every distance.
    #[default]
    ReverseZ,
    /// Near is 0, infinitely far is 1: for passes another party clears to 1.0, such as
    /// eframe's, which a paint callback cannot change.
    Standard,
}

impl DepthConvention {
    /// What to clear the depth attachment to.
    pub fn clear_value(self) -> f32 {
        match self {
            DepthConvention::ReverseZ => 0.0,
            DepthConvention::Standard => 1.0,
        }
    }

    /// The depth test that keeps the nearer fragment.
    pub fn compare(self) -> wgpu::CompareFunction {
        match self {
            DepthConvention::ReverseZ => wgpu::CompareFunction::Greater,
            DepthConvention::Standard => wgpu::CompareFunction::Less,
        }
    }
}

/// A flight in progress: the camera eases from one pose to another.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Flight {
    from_target: Vec3,
    from_distance: f32,
    to_target: Vec3,
    to_distance: f32,
    elapsed: f32,
    duration: f32,
}

/// Orbit camera around `target`; Y is up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Camera {
    /// The point the camera looks at and orbits around.
    pub target: Vec3,
    /// Rotation around the Y axis, radians.
    pub yaw: f32,
    /// Elevation above the XZ plane, radians, kept inside (-π/2, π/2).
    pub pitch: f32,
    /// Distance from the eye to `target`.
    pub distance: f32,
    /// Vertical field of view, radians.
    pub fov_y: f32,
    flight: Option<Flight>,
}

impl Default for Camera {
    fn default() -> Self {
        Camera {
            target: Vec3::ZERO,
            yaw: 0.6,
            pitch: 0.35,
            distance: 10.0,
            fov_y: 45f32.to_radians(),
            flight: None,
        }
    }
}

const PITCH_LIMIT: f32 = 1.55;
const MIN_DISTANCE: f32 = 1e-3;

impl Camera {
    /// A camera looking at `target` from `distance` with the default angles.
    pub fn looking_at(target: Vec3, distance: f32) -> Camera {
        Camera {
            target,
            distance: distance.max(MIN_DISTANCE),
            ..Camera::default()
        }
    }

    /// The same camera seen from other angles (radians; see [`Camera::yaw`], [`Camera::pitch`]).
    pub fn with_angles(self, yaw: f32, pitch: f32) -> Camera {
        Camera {
            yaw,
            pitch: pitch.clamp(-PITCH_LIMIT, PITCH_LIMIT),
            ..self
        }
    }

    /// Unit vector from the target towards the eye.
    fn backward(&self) -> Vec3 {
        let (sin_yaw, cos_yaw) = self.yaw.sin_cos();
        let (sin_pitch, cos_pitch) = self.pitch.sin_cos();
        Vec3::new(cos_pitch * sin_yaw, sin_pitch, cos_pitch * cos_yaw)
    }

    /// The eye position.
    pub fn eye(&self) -> Vec3 {
        self.target + self.backward() * self.distance
    }

    /// Unit vector pointing right on screen.
    pub fn right(&self) -> Vec3 {
        Vec3::Y.cross(self.backward()).normalize_or(Vec3::X)
    }

    /// Unit vector pointing up on screen.
    pub fn up(&self) -> Vec3 {
        self.backward().cross(self.right())
    }

    /// Near plane distance: small against the orbit distance, so close spheres are not clipped;
    /// reverse-Z float depth keeps precision far away.
    fn near(&self) -> f32 {
        (self.distance * 1e-3).max(1e-6)
    }

    pub fn view(&self) -> Mat4 {
        glam::camera::rh::view::look_at_mat4(self.eye(), self.target, Vec3::Y)
    }

    /// Reverse-Z projection; see [`Camera::projection_for`].
    pub fn projection(&self, aspect: f32) -> Mat4 {
        self.projection_for(aspect, DepthConvention::ReverseZ)
    }

    /// Perspective projection with an infinite far plane, depth laid out by `convention`.
    pub fn projection_for(&self, aspect: f32, convention: DepthConvention) -> Mat4 {
        use glam::camera::rh::proj::directx;
        let aspect = aspect.max(1e-6);
        match convention {
            DepthConvention::ReverseZ => {
                directx::perspective_infinite_reverse(self.fov_y, aspect, self.near())
            }
            DepthConvention::Standard => {
                directx::perspective_infinite(self.fov_y, aspect, self.near())
            }
        }
    }

    /// World → clip space (reverse-Z) for a viewport of this aspect ratio.
    pub fn view_proj(&self, aspect: f32) -> Mat4 {
        self.projection(aspect) * self.view()
    }

    /// World → clip space with depth laid out by `convention`.
    pub fn view_proj_for(&self, aspect: f32, convention: DepthConvention) -> Mat4 {
        self.projection_for(aspect, convention) * self.view()
    }

    /// World-space size of one pixel at view depth 1 (multiply by a point's depth).
    pub fn pixel_size_at_unit_depth(&self, viewport: Viewport) -> f32 {
        2.0 * (self.fov_y * 0.5).tan() / viewport.height.max(1) as f32
    }

    /// The ray from the eye through a pixel position (origin top-left, in pixels; pixel centres
    /// are at `.5`).
    pub fn ray(&self, pixel: Vec2, viewport: Viewport) -> Ray {
        let size = viewport.size().max(Vec2::ONE);
        let ndc = Vec2::new(pixel.x / size.x * 2.0 - 1.0, 1.0 - pixel.y / size.y * 2.0);
        let half_height = (self.fov_y * 0.5).tan();
        let half_width = half_height * viewport.aspect();
        let forward = -self.backward();
        let direction =
            forward + self.right() * (ndc.x * half_width) + self.up() * (ndc.y * half_height);
        Ray {
            origin: self.eye(),
            direction: direction.normalize(),
        }
    }

    /// Where a world point lands on screen (pixels, origin top-left) and its view depth, or
    /// `None` when it is behind the eye.
    pub fn project(&self, point: Vec3, viewport: Viewport) -> Option<(Vec2, f32)> {
        let clip = self.view_proj(viewport.aspect()) * point.extend(1.0);
        if clip.w <= self.near() {
            return None;
        }
        let ndc = Vec2::new(clip.x, clip.y) / clip.w;
        let size = viewport.size();
        Some((
            Vec2::new((ndc.x + 1.0) * 0.5 * size.x, (1.0 - ndc.y) * 0.5 * size.y),
            clip.w,
        ))
    }

    /// Turns the camera around its target by a mouse drag of `delta` pixels.
    pub fn orbit(&mut self, delta: Vec2) {
        const RADIANS_PER_PIXEL: f32 = 0.006;
        self.yaw -= delta.x * RADIANS_PER_PIXEL;
        self.pitch = (self.pitch + delta.y * RADIANS_PER_PIXEL).clamp(-PITCH_LIMIT, PITCH_LIMIT);
    }

    /// Moves target and eye so the scene follows a drag of `delta` pixels.
    pub fn pan(&mut self, delta: Vec2, viewport: Viewport) {
        self.flight = None;
        let per_pixel = self.pixel_size_at_unit_depth(viewport) * self.distance;
        self.target += (-self.right() * delta.x + self.up() * delta.y) * per_pixel;
    }

    /// Moves towards (`factor < 1`) or away from (`> 1`) the target.
    pub fn zoom(&mut self, factor: f32) {
        if factor.is_finite() && factor > 0.0 {
            self.distance = (self.distance * factor).max(MIN_DISTANCE);
        }
    }

    /// Zoom for a scroll of `lines` (positive: towards the target).
    pub fn zoom_by_scroll(&mut self, lines: f32) {
        self.zoom(0.9f32.powf(lines));
    }

    /// The orbit distance at which a sphere of `radius` fills the view of this aspect ratio.
    fn framing_distance(&self, radius: f32, aspect: f32) -> f32 {
        let half_fov = (self.fov_y * 0.5).min((aspect * (self.fov_y * 0.5).tan()).atan());
        (radius.max(MIN_DISTANCE) / half_fov.sin()).max(MIN_DISTANCE)
    }

    /// Frames the whole box at once.
    pub fn fit(&mut self, bounds: Bounds, aspect: f32) {
        self.flight = None;
        self.target = bounds.center();
        self.distance = self.framing_distance(bounds.radius(), aspect);
    }

    /// Starts a smooth flight that frames the box; see [`Camera::update`].
    pub fn fly_to_bounds(&mut self, bounds: Bounds, aspect: f32, duration: f32) {
        let distance = self.framing_distance(bounds.radius(), aspect);
        self.fly_to(bounds.center(), distance, duration);
    }

    /// Starts a smooth flight to look at `target` from `distance`; see [`Camera::update`].
    pub fn fly_to(&mut self, target: Vec3, distance: f32, duration: f32) {
        self.flight = Some(Flight {
            from_target: self.target,
            from_distance: self.distance,
            to_target: target,
            to_distance: distance.max(MIN_DISTANCE),
            elapsed: 0.0,
            duration: duration.max(0.0),
        });
    }

    /// Starts a smooth flight that centres a host and comes close enough for its sphere to
    /// fill about a fifth of the view, so its neighbourhood stays in sight.
    pub fn fly_to_node(&mut self, node: &NodeInstance, aspect: f32, duration: f32) {
        const VIEW_SHARE: f32 = 0.2;
        let distance = self.framing_distance(node.drawn_radius() / VIEW_SHARE, aspect);
        self.fly_to(node.position, distance, duration);
    }

    /// Whether a flight is under way.
    pub fn is_flying(&self) -> bool {
        self.flight.is_some()
    }

    /// Advances a flight by `dt` seconds; returns whether the camera moved (keep redrawing while
    /// it does).
    pub fn update(&mut self, dt: f32) -> bool {
        let Some(mut flight) = self.flight else {
            return false;
        };
        flight.elapsed += dt.max(0.0);
        let t = if flight.duration > 0.0 {
            (flight.elapsed / flight.duration).min(1.0)
        } else {
            1.0
        };
        let eased = ease_in_out(t);
        self.target = flight.from_target.lerp(flight.to_target, eased);
        // Interpolating the distance geometrically makes the zoom feel uniform.
        self.distance =
            flight.from_distance * (flight.to_distance / flight.from_distance).powf(eased);
        self.flight = (t < 1.0).then_some(flight);
        true
    }

    /// Mouse and keyboard control inside an egui widget: primary drag orbits, secondary or
    /// middle drag (or shift + primary) pans, scroll or pinch zooms; arrow keys orbit, WASD pans,
    /// `+`/`-` zoom. Returns whether the camera changed.
    pub fn handle_egui(&mut self, response: &egui::Response, viewport: Viewport) -> bool {
        let before = *self;
        let shift = response.ctx.input(|i| i.modifiers.shift);
        let drag = response.drag_delta();
        let drag = Vec2::new(drag.x, drag.y) * response.ctx.pixels_per_point();
        if response.dragged_by(egui::PointerButton::Primary) && !shift {
            self.orbit(drag);
        } else if response.dragged_by(egui::PointerButton::Secondary)
            || response.dragged_by(egui::PointerButton::Middle)
            || response.dragged_by(egui::PointerButton::Primary)
        {
            self.pan(drag, viewport);
        }
        if response.hovered() {
            let (scroll, pinch) = response
                .ctx
                .input(|i| (i.smooth_scroll_delta.y, i.zoom_delta()));
            if scroll != 0.0 {
                self.zoom_by_scroll(scroll / 50.0);
            }
            if pinch != 1.0 {
                self.zoom(1.0 / pinch);
            }
        }
        if response.has_focus() || response.hovered() {
            const KEY_STEP: f32 = 12.0;
            response.ctx.input(|i| {
                let held = |key| i.key_down(key);
                let orbit = Vec2::new(
                    f32::from(held(egui::Key::ArrowRight)) - f32::from(held(egui::Key::ArrowLeft)),
                    f32::from(held(egui::Key::ArrowUp)) - f32::from(held(egui::Key::ArrowDown)),
                );
                let pan = Vec2::new(
                    f32::from(held(egui::Key::A)) - f32::from(held(egui::Key::D)),
                    f32::from(held(egui::Key::S)) - f32::from(held(egui::Key::W)),
                );
                if orbit != Vec2::ZERO {
                    self.orbit(orbit * KEY_STEP);
                }
                if pan != Vec2::ZERO {
                    self.pan(pan * KEY_STEP, viewport);
                }
                if held(egui::Key::Plus) || held(egui::Key::Equals) {
                    self.zoom(0.97);
                }
                if held(egui::Key::Minus) {
                    self.zoom(1.0 / 0.97);
                }
            });
        }
        *self != before
    }
}

fn ease_in_out(t: f32) -> f32 {
    t * t * (3.0 - 2.0 * t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewport() -> Viewport {
        Viewport::new(800, 600)
    }

    #[test]
    fn the_centre_ray_goes_through_the_target() {
        let camera = Camera::looking_at(Vec3::new(1.0, 2.0, 3.0), 20.0);
        let ray = camera.ray(Vec2::new(400.0, 300.0), viewport());
        let closest = ray.at((camera.target - ray.origin).dot(ray.direction));
        assert!(closest.distance(camera.target) < 1e-4, "{closest}");
    }

    #[test]
    fn projection_and_ray_agree() {
        let camera = Camera::looking_at(Vec3::ZERO, 15.0).with_angles(-1.1, 0.4);
        let point = Vec3::new(2.0, -1.0, 3.0);
        let (pixel, depth) = camera.project(point, viewport()).unwrap();
        assert!(depth > 0.0);
        let ray = camera.ray(pixel, viewport());
        let closest = ray.at((point - ray.origin).dot(ray.direction));
        assert!(closest.distance(point) < 1e-3, "{closest} vs {point}");
        let behind = camera.eye() + (camera.eye() - camera.target);
        assert_eq!(camera.project(behind, viewport()), None);
    }

    #[test]
    fn fit_puts_every_corner_on_screen() {
        let bounds = Bounds {
            min: Vec3::new(-50.0, -5.0, 10.0),
            max: Vec3::new(30.0, 5.0, 40.0),
        };
        let mut camera = Camera::default();
        camera.fit(bounds, viewport().aspect());
        for corner in 0..8 {
            let pick = |bit: usize, lo: f32, hi: f32| if corner & bit == 0 { lo } else { hi };
            let point = Vec3::new(
                pick(1, bounds.min.x, bounds.max.x),
                pick(2, bounds.min.y, bounds.max.y),
                pick(4, bounds.min.z, bounds.max.z),
            );
            let (pixel, _) = camera.project(point, viewport()).unwrap();
            assert!(pixel.x >= 0.0 && pixel.x <= 800.0 && pixel.y >= 0.0 && pixel.y <= 600.0);
        }
    }

    #[test]
    fn flights_end_at_their_goal_and_then_stop() {
        let mut camera = Camera::looking_at(Vec3::ZERO, 10.0);
        camera.fly_to(Vec3::new(5.0, 0.0, 0.0), 2.0, 1.0);
        assert!(camera.update(0.5));
        assert!(camera.target.x > 0.0 && camera.target.x < 5.0);
        assert!(camera.update(0.6));
        assert_eq!(camera.target, Vec3::new(5.0, 0.0, 0.0));
        assert!((camera.distance - 2.0).abs() < 1e-5);
        assert!(!camera.update(0.1));
    }

    #[test]
    fn a_flight_to_a_node_ends_centred_on_it_at_a_fifth_of_the_view() {
        let node = NodeInstance::new(Vec3::new(30.0, -4.0, 12.0), 2.0, crate::Color::WHITE);
        let mut camera = Camera::default();
        camera.fly_to_node(&node, viewport().aspect(), 0.8);
        let mut frames = 0;
        while camera.update(1.0 / 60.0) {
            frames += 1;
        }
        assert!((45..=50).contains(&frames), "{frames} frames");
        let (center, depth) = camera.project(node.position, viewport()).unwrap();
        assert!(
            (center - Vec2::new(400.0, 300.0)).length() < 0.01,
            "{center}"
        );
        let radius_px = node.radius / (depth * camera.pixel_size_at_unit_depth(viewport()));
        let share = 2.0 * radius_px / 600.0;
        assert!((0.18..0.23).contains(&share), "{share}");
    }

    #[test]
    fn pan_follows_the_cursor() {
        let mut camera = Camera::looking_at(Vec3::ZERO, 10.0);
        let (before, _) = camera.project(Vec3::ZERO, viewport()).unwrap();
        camera.pan(Vec2::new(40.0, -25.0), viewport());
        let (after, _) = camera.project(Vec3::ZERO, viewport()).unwrap();
        assert!((after - before - Vec2::new(40.0, -25.0)).length() < 0.01);
    }

    #[test]
    fn orbit_keeps_pitch_off_the_poles() {
        let mut camera = Camera::default();
        camera.orbit(Vec2::new(0.0, 1e6));
        assert!(camera.pitch < std::f32::consts::FRAC_PI_2);
        assert!(camera.eye().is_finite() && camera.view().is_finite());
    }
}
