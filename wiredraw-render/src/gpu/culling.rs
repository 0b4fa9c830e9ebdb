//! CPU culling before upload: what is off screen or thinner than a pixel costs the (CPU) vertex
//! stage nothing.

use glam::{Mat4, Vec2, Vec3, Vec4};

/// The side planes of a view frustum and the eye plane (the near plane is a hair in front of
/// it, and the far plane is at infinity), for either depth convention.
pub(crate) struct Frustum {
    planes: [Vec4; 5],
    view_proj: Mat4,
    /// The row of `view_proj` giving clip w, which for a perspective projection is view depth.
    depth_row: Vec4,
    half_viewport: Vec2,
    /// World size of one pixel at view depth 1 ([`crate::Camera::pixel_size_at_unit_depth`]).
    pixel_at_unit_depth: f32,
}

/// Where a segment lies on screen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ScreenSegment {
    /// Its length in pixels; infinite when it crosses the eye plane.
    pub length_px: f32,
    /// Pixels a world unit spans at its second end; 0 when it crosses the eye plane.
    pub end_px_per_unit: f32,
}

impl Frustum {
    pub fn new(view_proj: Mat4, viewport_size: Vec2, pixel_at_unit_depth: f32) -> Frustum {
        let rows = [
            view_proj.row(0),
            view_proj.row(1),
            view_proj.row(2),
            view_proj.row(3),
        ];
        // Gribb–Hartmann: a point is inside when -w <= x, y <= w, and in front when w >= 0.
        let planes = [
            rows[3] + rows[0],
            rows[3] - rows[0],
            rows[3] + rows[1],
            rows[3] - rows[1],
            rows[3],
        ]
        .map(|plane| plane / plane.truncate().length().max(f32::MIN_POSITIVE));
        Frustum {
            planes,
            view_proj,
            depth_row: rows[3],
            half_viewport: viewport_size * 0.5,
            pixel_at_unit_depth,
        }
    }

    pub fn sphere_visible(&self, center: Vec3, radius: f32) -> bool {
        self.planes
            .iter()
            .all(|plane| plane.truncate().dot(center) + plane.w >= -radius)
    }

    /// Pixels a world unit spans at `point`'s depth; infinite at or behind the eye.
    pub fn px_per_unit_at(&self, point: Vec3) -> f32 {
        let depth = self.depth_row.dot(point.extend(1.0));
        if depth <= 0.0 {
            return f32::INFINITY;
        }
        self.px_per_unit_at_depth(depth)
    }

    fn px_per_unit_at_depth(&self, depth: f32) -> f32 {
        1.0 / (depth * self.pixel_at_unit_depth)
    }

    /// How a thick segment from `a` to `b` lies on screen, or `None` when it cannot show.
    pub fn screen_segment(&self, a: Vec3, b: Vec3, margin: f32) -> Option<ScreenSegment> {
        let outside_one_plane = self.planes.iter().any(|plane| {
            let normal = plane.truncate();
            normal.dot(a) + plane.w < -margin && normal.dot(b) + plane.w < -margin
        });
        if outside_one_plane {
            return None;
        }
        let (clip_a, clip_b) = (
            self.view_proj * a.extend(1.0),
            self.view_proj * b.extend(1.0),
        );
        if clip_a.w <= 0.0 || clip_b.w <= 0.0 {
            return Some(ScreenSegment {
                length_px: f32::INFINITY,
                end_px_per_unit: 0.0,
            });
        }
        let screen_a = Vec2::new(clip_a.x, clip_a.y) / clip_a.w * self.half_viewport;
        let screen_b = Vec2::new(clip_b.x, clip_b.y) / clip_b.w * self.half_viewport;
        Some(ScreenSegment {
            length_px: screen_a.distance(screen_b),
            end_px_per_unit: self.px_per_unit_at_depth(clip_b.w),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera::{Camera, Viewport};

    fn frustum() -> Frustum {
        let camera = Camera::looking_at(Vec3::ZERO, 10.0);
        let viewport = Viewport::new(400, 300);
        Frustum::new(
            camera.view_proj(viewport.aspect()),
            viewport.size(),
            camera.pixel_size_at_unit_depth(viewport),
        )
    }

    #[test]
    fn spheres_in_view_stay_and_those_behind_go() {
        let camera = Camera::looking_at(Vec3::ZERO, 10.0);
        let frustum = frustum();
        assert!(frustum.sphere_visible(Vec3::ZERO, 0.1));
        let behind = camera.eye() + (camera.eye() - camera.target);
        assert!(!frustum.sphere_visible(behind, 1.0));
        let far_right = camera.right() * 1000.0;
        assert!(!frustum.sphere_visible(far_right, 1.0));
        assert!(frustum.sphere_visible(far_right, 990.0));
    }

    #[test]
    fn segments_measure_their_screen_length_and_scale() {
        let frustum = frustum();
        // Across the view at the target: one depth all along.
        let x = Camera::looking_at(Vec3::ZERO, 10.0).right();
        let length = |b: Vec3| {
            frustum
                .screen_segment(Vec3::ZERO, b, 0.0)
                .unwrap()
                .length_px
        };
        let (unit, half, tiny) = (length(x), length(x * 0.5), length(x * 1e-4));
        assert!(unit > 1.0, "{unit}");
        // At one depth, screen length is proportional to world length...
        assert!((2.0 * half - unit).abs() < unit * 1e-4, "{half} {unit}");
        assert!(tiny < 1.0, "{tiny}");
        // ...and a unit across the view spans the pixels the end's scale says.
        let scale = frustum
            .screen_segment(Vec3::ZERO, x, 0.0)
            .unwrap()
            .end_px_per_unit;
        assert!((scale - unit).abs() < unit * 1e-3, "{scale} {unit}");
        // Twice as far from the eye, half the pixels.
        let camera = Camera::looking_at(Vec3::ZERO, 10.0);
        let farther = camera.eye() + (camera.target - camera.eye()) * 2.0;
        let far_scale = frustum
            .screen_segment(Vec3::ZERO, farther, 0.0)
            .unwrap()
            .end_px_per_unit;
        assert!(
            (2.0 * far_scale - scale).abs() < scale * 1e-3,
            "{far_scale} {scale}"
        );
        let far_right = x * 1000.0;
        assert_eq!(frustum.screen_segment(far_right, far_right + x, 0.0), None);
    }
}
