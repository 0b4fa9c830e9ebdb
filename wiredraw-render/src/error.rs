//! Errors of GPU set-up and offscreen rendering.

/// Why rendering could not start or finish.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(
        "no GPU adapter found ({0}). wiredraw needs Vulkan; on machines without a GPU install \
         Mesa's CPU driver: apt-get install mesa-vulkan-drivers libvulkan1"
    )]
    NoAdapter(String),
    #[error("the GPU adapter refused a device: {0}")]
    RequestDevice(#[from] wgpu::RequestDeviceError),
    #[error("window surface: {0}")]
    Surface(String),
    #[error("reading the rendered image back failed: {0}")]
    ReadBack(String),
    #[error("image size {width}x{height} is outside 1..={max} per side")]
    BadSize { width: u32, height: u32, max: u32 },
    #[error("PNG {path}: {reason}")]
    Png { path: String, reason: String },
}
