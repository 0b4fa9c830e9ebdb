//! CPU culling before upload: what is off screen or thinner than a pixel costs the (CPU) vertex
//! stage nothing.

use glam::{Mat4, Vec2, Vec3, Vec4};

/// The side planes of a view frustum and the eye plane (the near plane is a hair in front of
/// it, and the far plane is at infinity), for either depth convention.
pub(crate) struct Frustum {
    planes: [Vec4; 5],
    view_proj: Mat4,
    half_viewport: Vec2,
}

impl Frustum {
    pub fn new(view_proj: Mat4, viewport_size: Vec2) -> Frustum {
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
            half_viewport: viewport_size * 0.5,
        }
    }

    pub fn sphere_visible(&self, center: Vec3, radius: f32) -> bool {
        self.planes
            .iter()
            .all(|plane| plane.truncate().dot(center) + plane.w >= -radius)
    }

    /// Whether a thick segment may show, and is longer on screen than `min_length_px`.
    pub fn segment_visible(&self, a: Vec3, b: Vec3, margin: f32, min_length_px: f32) -> bool {
        let outside_one_plane = self.planes.iter().any(|plane| {
            let normal = plane.truncate();
            normal.dot(a) + plane.w < -margin && normal.dot(b) + plane.w < -margin
        });
        if outside_one_plane {
            return false;
        }
        let (clip_a, clip_b) = (
            self.view_proj * a.extend(1.0),
            self.view_proj * b.extend(1.0),
        );
        if clip_a.w <= 0.0 || clip_b.w <= 0.0 {
            // Crosses the eye plane: long on screen by definition.
            return true;
        }
        let screen_a = Vec2::new(clip_a.x, clip_a.y) / clip_a.w * self.half_viewport;
        let screen_b = Vec2::new(clip_b.x, clip_b.y) / clip_b.w * self.half_viewport;
        screen_a.distance_squared(screen_b) >= min_length_px * min_length_px
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera::{Camera, Viewport};

    fn frustum() -> Frustum {
        let camera = Camera::looking_at(Vec3::ZERO, 10.0);
        let viewport = Viewport::new(400, 300);
        Frustum::new(camera.view_proj(viewport.aspect()), viewport.size())
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
    fn subpixel_segments_go() {
        let frustum = frustum();
        let x = Vec3::X;
        assert!(frustum.segment_visible(Vec3::ZERO, x, 0.0, 1.0));
        assert!(!frustum.segment_visible(Vec3::ZERO, x * 1e-4, 0.0, 1.0));
    }
}
