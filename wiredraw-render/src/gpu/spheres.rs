//! Host spheres, drawn one instance per node (see shaders/spheres.wgsl).

use super::culling::Frustum;
use super::frame::RenderSettings;
use super::instance_buffer::InstancedShape;
use super::{TargetState, create_shader};
use crate::scene::{NodeInstance, Scene};
use bytemuck::{Pod, Zeroable};
use glam::Vec3;

/// How spheres are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SphereTechnique {
    /// A camera-facing triangle per sphere, ray-cast per pixel with exact depth: perfectly
    /// round at any size (spheres a few pixels across skip the ray cast; see
    /// [`RenderSettings::max_dot_radius_px`]). The default; see docs/PERFORMANCE.md for figures.
    #[default]
    Impostor,
    /// An instanced 80-triangle icosphere: faceted, and far more vertex work. Kept as the
    /// fallback for targets where writing fragment depth is unwanted, and as the baseline.
    Mesh,
}

/// One sphere as the shaders read it (`SphereInstance` in shaders/spheres.wgsl).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub(crate) struct GpuSphere {
    center: [f32; 3],
    radius: f32,
    /// sRGB colour with the fade in alpha.
    color: [u8; 4],
    state: u32,
}

const _: () = assert!(std::mem::size_of::<GpuSphere>() == 24);

impl GpuSphere {
    fn new(node: &NodeInstance) -> GpuSphere {
        let [r, g, b, _] = node.color.0;
        let fade = (node.fade.clamp(0.0, 1.0) * 255.0).round() as u8;
        GpuSphere {
            center: node.position.to_array(),
            radius: node.radius,
            color: [r, g, b, fade],
            state: node.state.bits(),
        }
    }
}

pub(crate) struct SphereRenderer {
    technique: SphereTechnique,
    pipeline: wgpu::RenderPipeline,
    /// The impostor's triangle corners or the icosphere's triangles, per sphere.
    instances: InstancedShape<GpuSphere>,
    /// With impostors: the pipeline and instances of the spheres small on screen
    /// ([`RenderSettings::max_dot_radius_px`]), shaded without a ray cast.
    dots: Option<(wgpu::RenderPipeline, InstancedShape<GpuSphere>)>,
    scratch: Vec<GpuSphere>,
    dot_scratch: Vec<GpuSphere>,
}

/// The impostor: one equilateral triangle around the unit circle (inradius 1, so its corners lie
/// at distance 2). Against a two-triangle quad it shades 30 % more pixels but halves the
/// vertices and triangles; CPU rasterisers pay far more per small triangle than per pixel, which
/// made 10,000 spheres about a third cheaper on lavapipe (render bench, CPU time).
const IMPOSTOR_CORNERS: [[f32; 4]; 3] = [
    [0.0, 2.0, 0.0, 0.0],
    [-SQRT_3, -1.0, 0.0, 0.0],
    [SQRT_3, -1.0, 0.0, 0.0],
];
const SQRT_3: f32 = 1.732_050_8;

impl SphereRenderer {
    pub fn new(
        device: &wgpu::Device,
        frame_layout: &wgpu::BindGroupLayout,
        target: TargetState,
        technique: SphereTechnique,
    ) -> SphereRenderer {
        let shader = create_shader(device, "spheres.wgsl");
        let instances = match technique {
            SphereTechnique::Impostor => {
                InstancedShape::new(device, "impostor spheres", &IMPOSTOR_CORNERS)
            }
            SphereTechnique::Mesh => {
                let (positions, indices) = icosphere(1);
                let triangles: Vec<[f32; 4]> = indices
                    .iter()
                    .map(|&i| {
                        let [x, y, z] = positions[usize::from(i)];
                        [x, y, z, 0.0]
                    })
                    .collect();
                InstancedShape::new(device, "mesh spheres", &triangles)
            }
        };
        let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("spheres"),
            bind_group_layouts: &[Some(frame_layout), Some(instances.layout())],
            immediate_size: 0,
        });
        let pipeline =
            |entries, cull_mode| target.pipeline(device, &layout, &shader, entries, cull_mode);
        let (pipeline, dots) = match technique {
            // Impostors always face the eye.
            SphereTechnique::Impostor => (
                pipeline(("vs_impostor", "fs_impostor"), None),
                Some((
                    pipeline(("vs_dot", "fs_dot"), None),
                    InstancedShape::new(device, "dot spheres", &IMPOSTOR_CORNERS),
                )),
            ),
            // Icosphere back faces are hidden anyway.
            SphereTechnique::Mesh => (
                pipeline(("vs_mesh", "fs_mesh"), Some(wgpu::Face::Back)),
                None,
            ),
        };
        SphereRenderer {
            technique,
            pipeline,
            instances,
            dots,
            scratch: Vec::new(),
            dot_scratch: Vec::new(),
        }
    }

    pub fn technique(&self) -> SphereTechnique {
        self.technique
    }

    /// Uploads the visible spheres; returns how many will be drawn.
    pub fn prepare(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        scene: &Scene,
        frustum: &Frustum,
        settings: &RenderSettings,
    ) -> usize {
        self.scratch.clear();
        self.dot_scratch.clear();
        let max_dot_radius_px = if self.dots.is_some() {
            settings.max_dot_radius_px
        } else {
            0.0
        };
        for node in &scene.nodes {
            let radius = node.drawn_radius();
            let visible = node.fade > 0.0
                && node.radius > 0.0
                && node.position.is_finite()
                && frustum.sphere_visible(node.position, radius);
            if !visible {
                continue;
            }
            let sphere = GpuSphere::new(node);
            if radius * frustum.px_per_unit_at(node.position) < max_dot_radius_px {
                self.dot_scratch.push(sphere);
            } else {
                self.scratch.push(sphere);
            }
        }
        self.instances.upload(device, queue, &self.scratch);
        if let Some((_, dots)) = &mut self.dots {
            dots.upload(device, queue, &self.dot_scratch);
        }
        self.scratch.len() + self.dot_scratch.len()
    }

    pub fn paint(&self, pass: &mut wgpu::RenderPass<'_>) {
        if !self.instances.is_empty() {
            pass.set_pipeline(&self.pipeline);
            self.instances.draw(pass);
        }
        if let Some((pipeline, dots)) = &self.dots
            && !dots.is_empty()
        {
            pass.set_pipeline(pipeline);
            dots.draw(pass);
        }
    }
}

/// A unit icosphere: the icosahedron with each triangle split `subdivisions` times
/// (1 → 42 vertices, 80 triangles), counter-clockwise seen from outside.
pub(crate) fn icosphere(subdivisions: u32) -> (Vec<[f32; 3]>, Vec<u16>) {
    let t = (1.0 + 5f32.sqrt()) / 2.0;
    let mut vertices: Vec<Vec3> = [
        [-1.0, t, 0.0],
        [1.0, t, 0.0],
        [-1.0, -t, 0.0],
        [1.0, -t, 0.0],
        [0.0, -1.0, t],
        [0.0, 1.0, t],
        [0.0, -1.0, -t],
        [0.0, 1.0, -t],
        [t, 0.0, -1.0],
        [t, 0.0, 1.0],
        [-t, 0.0, -1.0],
        [-t, 0.0, 1.0],
    ]
    .into_iter()
    .map(|p| Vec3::from_array(p).normalize())
    .collect();
    let mut faces: Vec<[u16; 3]> = vec![
        [0, 11, 5],
        [0, 5, 1],
        [0, 1, 7],
        [0, 7, 10],
        [0, 10, 11],
        [1, 5, 9],
        [5, 11, 4],
        [11, 10, 2],
        [10, 7, 6],
        [7, 1, 8],
        [3, 9, 4],
        [3, 4, 2],
        [3, 2, 6],
        [3, 6, 8],
        [3, 8, 9],
        [4, 9, 5],
        [2, 4, 11],
        [6, 2, 10],
        [8, 6, 7],
        [9, 8, 1],
    ];
    for _ in 0..subdivisions {
        let mut midpoints = std::collections::HashMap::new();
        let mut midpoint = |a: u16, b: u16, vertices: &mut Vec<Vec3>| {
            *midpoints.entry((a.min(b), a.max(b))).or_insert_with(|| {
                let p = (vertices[a as usize] + vertices[b as usize]).normalize();
                vertices.push(p);
                (vertices.len() - 1) as u16
            })
        };
        faces = faces
            .iter()
            .flat_map(|&[a, b, c]| {
                let ab = midpoint(a, b, &mut vertices);
                let bc = midpoint(b, c, &mut vertices);
                let ca = midpoint(c, a, &mut vertices);
                [[a, ab, ca], [b, bc, ab], [c, ca, bc], [ab, bc, ca]]
            })
            .collect();
    }
    (
        vertices.iter().map(|v| v.to_array()).collect(),
        faces.into_iter().flatten().collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icosphere_is_closed_outward_and_unit() {
        let (vertices, indices) = icosphere(1);
        assert_eq!((vertices.len(), indices.len() / 3), (42, 80));
        for v in &vertices {
            assert!((Vec3::from_array(*v).length() - 1.0).abs() < 1e-5);
        }
        for tri in indices.chunks(3) {
            let [a, b, c] = [0, 1, 2].map(|i| Vec3::from_array(vertices[tri[i] as usize]));
            let normal = (b - a).cross(c - a);
            assert!(
                normal.dot(a + b + c) > 0.0,
                "triangle {tri:?} faces inwards"
            );
        }
    }
}
