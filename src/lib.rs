//! wiredraw: Zeek network logs as a live, interactive 3D picture of who talks to whom.
//!
//! This facade re-exports the three library crates:
//! - [`core`]: parsing, plugins, graph, diff, layout (no GPU, no network);
//! - [`render`]: the wgpu renderer and egui panels;
//! - [`net`]: server, collector, client and stores.

pub use wiredraw_core as core;
pub use wiredraw_net as net;
pub use wiredraw_render as render;

pub mod viewer;
