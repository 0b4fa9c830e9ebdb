//! A vertex buffer of per-instance data that grows as scenes grow.

use bytemuck::Pod;
use std::marker::PhantomData;

pub(crate) struct InstanceBuffer<T> {
    label: &'static str,
    buffer: Option<wgpu::Buffer>,
    len: u32,
    _element: PhantomData<T>,
}

impl<T: Pod> InstanceBuffer<T> {
    pub fn new(label: &'static str) -> Self {
        InstanceBuffer {
            label,
            buffer: None,
            len: 0,
            _element: PhantomData,
        }
    }

    /// Replaces the contents, reallocating (to the next power of two) only when they do not fit.
    pub fn upload(&mut self, device: &wgpu::Device, queue: &wgpu::Queue, items: &[T]) {
        self.len = u32::try_from(items.len()).unwrap_or(u32::MAX);
        if items.is_empty() {
            return;
        }
        let bytes: &[u8] = bytemuck::cast_slice(items);
        let needed = bytes.len() as u64;
        if self.buffer.as_ref().is_none_or(|b| b.size() < needed) {
            self.buffer = Some(device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(self.label),
                size: needed.next_power_of_two(),
                usage: wgpu::BufferUsages::VERTEX | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }));
        }
        if let Some(buffer) = &self.buffer {
            queue.write_buffer(buffer, 0, bytes);
        }
    }

    /// The uploaded instances, or `None` when there are none.
    pub fn slice(&self) -> Option<(wgpu::BufferSlice<'_>, u32)> {
        let buffer = self.buffer.as_ref().filter(|_| self.len > 0)?;
        let bytes = u64::from(self.len) * std::mem::size_of::<T>() as u64;
        Some((buffer.slice(..bytes), self.len))
    }
}
