//! GPU side: per-frame uniforms, one renderer per primitive kind (each owns its pipeline and
//! turns a [`crate::Scene`] into instance data), and the shader sources.

pub(crate) mod arrows;
pub(crate) mod culling;
pub(crate) mod frame;
pub(crate) mod instance_buffer;
pub(crate) mod spheres;

use crate::camera::DepthConvention;
use std::borrow::Cow;

/// Shared declarations every shader starts with.
const COMMON_WGSL: &str = include_str!("../../../shaders/common.wgsl");

/// Every shader file under `shaders/` but `common.wgsl`, by file name.
pub const SHADER_FILES: &[(&str, &str)] = &[
    (
        "spheres.wgsl",
        include_str!("../../../shaders/spheres.wgsl"),
    ),
    ("arrows.wgsl", include_str!("../../../shaders/arrows.wgsl")),
];

/// The complete WGSL of a shader file as the renderer compiles it: `common.wgsl` followed by the
/// file. `None` for an unknown name.
pub fn shader_source(file_name: &str) -> Option<String> {
    if file_name == "common.wgsl" {
        return Some(COMMON_WGSL.to_owned());
    }
    SHADER_FILES
        .iter()
        .find(|(name, _)| *name == file_name)
        .map(|(_, body)| format!("{COMMON_WGSL}\n{body}"))
}

pub(crate) fn create_shader(device: &wgpu::Device, file_name: &str) -> wgpu::ShaderModule {
    let source = shader_source(file_name)
        .unwrap_or_else(|| panic!("{file_name} is not in SHADER_FILES: a renderer bug"));
    device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(file_name),
        source: wgpu::ShaderSource::Wgsl(Cow::Owned(source)),
    })
}

/// What every pipeline of a [`crate::GraphRenderer`] draws into.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TargetState {
    pub color_format: wgpu::TextureFormat,
    pub depth_format: Option<wgpu::TextureFormat>,
    pub sample_count: u32,
    pub depth_convention: DepthConvention,
}

impl TargetState {
    /// Depth test keeping the nearer fragment, writing depth.
    pub fn depth_stencil(&self) -> Option<wgpu::DepthStencilState> {
        self.depth_format.map(|format| wgpu::DepthStencilState {
            format,
            depth_write_enabled: Some(true),
            depth_compare: Some(self.depth_convention.compare()),
            stencil: wgpu::StencilState::default(),
            bias: wgpu::DepthBiasState::default(),
        })
    }

    pub fn multisample(&self) -> wgpu::MultisampleState {
        wgpu::MultisampleState {
            count: self.sample_count,
            mask: !0,
            alpha_to_coverage_enabled: false,
        }
    }

    pub fn color_targets(&self) -> [Option<wgpu::ColorTargetState>; 1] {
        [Some(wgpu::ColorTargetState::from(self.color_format))]
    }

    /// A pipeline drawing triangle lists into this target by vertex pulling (no vertex
    /// buffers), with `shader`'s entry points `vertex_entry` and `fragment_entry`.
    pub fn pipeline(
        &self,
        device: &wgpu::Device,
        layout: &wgpu::PipelineLayout,
        shader: &wgpu::ShaderModule,
        (vertex_entry, fragment_entry): (&str, &str),
        cull_mode: Option<wgpu::Face>,
    ) -> wgpu::RenderPipeline {
        device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some(fragment_entry),
            layout: Some(layout),
            vertex: wgpu::VertexState {
                module: shader,
                entry_point: Some(vertex_entry),
                compilation_options: Default::default(),
                buffers: &[],
            },
            primitive: wgpu::PrimitiveState {
                topology: wgpu::PrimitiveTopology::TriangleList,
                cull_mode,
                ..Default::default()
            },
            depth_stencil: self.depth_stencil(),
            multisample: self.multisample(),
            fragment: Some(wgpu::FragmentState {
                module: shader,
                entry_point: Some(fragment_entry),
                compilation_options: Default::default(),
                targets: &self.color_targets(),
            }),
            multiview_mask: None,
            cache: None,
        })
    }
}
