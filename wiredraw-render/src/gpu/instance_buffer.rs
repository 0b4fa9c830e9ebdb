//! Instanced drawing by vertex pulling: a shape's vertices and the per-instance data live in
//! storage buffers (bind group 1: `instances` at binding 0, `shape_vertices` at binding 1 in
//! shaders/common.wgsl), and one non-instanced draw of `shape × instances` vertices lets the
//! vertex shader look both up from its vertex index.
//!
//! Why not hardware instancing: Mesa's software rasterisers (lavapipe, llvmpipe) run their whole
//! vertex pipeline once per instance, so 20,000 instances of a 9-vertex arrow cost ~20 µs each;
//! one pulled draw of the same 180,000 vertices is shaded in large batches, and on real GPUs it
//! costs the same as instancing.

use bytemuck::Pod;
use std::marker::PhantomData;
use std::ops::Range;
use wgpu::util::DeviceExt;

pub(crate) struct InstancedShape<T> {
    label: &'static str,
    layout: wgpu::BindGroupLayout,
    shape: wgpu::Buffer,
    shape_len: u32,
    instances: Option<wgpu::Buffer>,
    bind_group: Option<wgpu::BindGroup>,
    len: u32,
    _element: PhantomData<T>,
}

impl<T: Pod> InstancedShape<T> {
    /// `shape`: the vertices of one instance, as a triangle list (meaning is the shader's).
    pub fn new(device: &wgpu::Device, label: &'static str, shape: &[[f32; 4]]) -> Self {
        let storage = |binding| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::VERTEX,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Storage { read_only: true },
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        };
        InstancedShape {
            label,
            layout: device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some(label),
                entries: &[storage(0), storage(1)],
            }),
            shape: device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: bytemuck::cast_slice(shape),
                usage: wgpu::BufferUsages::STORAGE,
            }),
            shape_len: shape.len() as u32,
            instances: None,
            bind_group: None,
            len: 0,
            _element: PhantomData,
        }
    }

    /// The layout of bind group 1, for the pipeline layout.
    pub fn layout(&self) -> &wgpu::BindGroupLayout {
        &self.layout
    }

    /// Replaces the instances, reallocating (to the next power of two) only when they do not
    /// fit.
    pub fn upload(&mut self, device: &wgpu::Device, queue: &wgpu::Queue, items: &[T]) {
        self.upload_parts(device, queue, &[items]);
    }

    /// Replaces the instances with `parts` one after the other, copied once, straight into
    /// the staging memory; returns how many that was.
    pub fn upload_parts(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        parts: &[&[T]],
    ) -> usize {
        let count: usize = parts.iter().map(|part| part.len()).sum();
        self.len = u32::try_from(count).unwrap_or(u32::MAX);
        let Some(size) = wgpu::BufferSize::new((count * std::mem::size_of::<T>()) as u64) else {
            return 0;
        };
        if self
            .instances
            .as_ref()
            .is_none_or(|b| b.size() < size.get())
        {
            let buffer = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(self.label),
                size: size.get().next_power_of_two(),
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            self.bind_group = Some(device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(self.label),
                layout: &self.layout,
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: buffer.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: self.shape.as_entire_binding(),
                    },
                ],
            }));
            self.instances = Some(buffer);
        }
        let Some(mut staging) = self
            .instances
            .as_ref()
            .and_then(|buffer| queue.write_buffer_with(buffer, 0, size))
        else {
            return count;
        };
        let mut offset = 0;
        for part in parts {
            let bytes: &[u8] = bytemuck::cast_slice(part);
            staging
                .slice(offset..offset + bytes.len())
                .copy_from_slice(bytes);
            offset += bytes.len();
        }
        count
    }

    /// Draws every uploaded instance with the pipeline already set.
    pub fn draw(&self, pass: &mut wgpu::RenderPass<'_>) {
        self.draw_range(pass, 0..self.len);
    }

    /// Draws the uploaded instances `instances` (clamped to those uploaded) with the pipeline
    /// already set.
    pub fn draw_range(&self, pass: &mut wgpu::RenderPass<'_>, instances: Range<u32>) {
        let end = instances.end.min(self.len);
        let Some(bind_group) = self.bind_group.as_ref().filter(|_| instances.start < end) else {
            return;
        };
        pass.set_bind_group(1, bind_group, &[]);
        pass.draw(
            self.shape_len.saturating_mul(instances.start)..self.shape_len.saturating_mul(end),
            0..1,
        );
    }

    /// Whether there is anything to draw.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}
