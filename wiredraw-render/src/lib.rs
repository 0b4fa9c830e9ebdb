//! wiredraw-render: wgpu renderer and egui panels.
