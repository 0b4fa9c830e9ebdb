//! PNG frames across a time range without a window: the same graph queries, layout and scene
//! as the viewer, drawn by the offscreen renderer.

use super::graph_view::{Filters, build_scene};
use super::timeline::{Timeline, TimelineCommand};
use crate::net::client::{ApiClient, Span};
use crate::net::http_client::HttpError;
use crate::render::{Camera, GpuContext, GraphStyle, OffscreenRenderer, RenderError};
use std::path::{Path, PathBuf};
use wiredraw_core::layout::{Layout, LayoutParams};
use wiredraw_core::{Graph, GraphDiff};

/// Layout steps between two frames: enough for new hosts to find their place.
const STEPS_PER_FRAME: usize = 400;

/// What to render.
#[derive(Debug, Clone)]
pub struct FramesConfig {
    pub out_dir: PathBuf,
    pub frames: usize,
    pub width: u32,
    pub height: u32,
    /// Seconds of history each frame shows.
    pub window_secs: f64,
}

/// One frame written.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameInfo {
    pub path: PathBuf,
    /// The window shown.
    pub span: (f64, f64),
    pub nodes: usize,
    pub edges: usize,
}

/// Why frames could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum HeadlessError {
    #[error(
        "the server holds no connections yet: only conn log records make connections (the \
         other logs attach details to them)"
    )]
    Empty,
    #[error("asking the server: {0}")]
    Http(#[from] HttpError),
    #[error("rendering: {0}")]
    Render(#[from] RenderError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Renders `config.frames` frames evenly spaced over the server's range, the last one at its
/// end, as `frame-0001.png`…, through a logged-in `client`.
pub async fn render_frames(
    client: &ApiClient,
    config: &FramesConfig,
) -> Result<Vec<FrameInfo>, HeadlessError> {
    let range = client.range().await?;
    let held = range.time_range().ok_or(HeadlessError::Empty)?;
    let (first, last) = (held.first, held.last);
    std::fs::create_dir_all(&config.out_dir).map_err(|source| HeadlessError::Io {
        path: config.out_dir.clone(),
        source,
    })?;
    let mut timeline = Timeline::new(Some(first), config.window_secs, false);
    timeline.apply(TimelineCommand::set_range(held, range.bucket_secs));
    let mut renderer = OffscreenRenderer::new(GpuContext::headless()?);
    let mut layout = Layout::new(LayoutParams::default(), 7);
    let mut previous = Graph::default();
    let style = GraphStyle::default();
    let frames = config.frames.max(1);
    let mut written = Vec::with_capacity(frames);
    for index in 0..frames {
        let t = first + (last - first) * (index + 1) as f64 / frames as f64;
        timeline.apply(TimelineCommand::SetPlayhead(t));
        let span = timeline.graph_span().ok_or(HeadlessError::Empty)?;
        let answer = client
            .graph(Span::Between {
                from: span.0,
                to: span.1,
            })
            .await?;
        let graph = answer.to_graph();
        if layout
            .apply_diff(&GraphDiff::between(&previous, &graph))
            .is_err()
        {
            layout.set_graph(&graph);
        }
        layout.run(STEPS_PER_FRAME);
        previous = graph;
        let parts = build_scene(&answer, &Filters::default(), &style, |id| {
            layout.position(id)
        });
        // The camera circles slowly across the frames.
        let mut camera = Camera::default().with_angles(0.6 + index as f32 * 0.05, 0.35);
        if let Some(bounds) = parts.scene.bounds() {
            camera.fit(bounds, config.width as f32 / config.height.max(1) as f32);
        }
        let image = renderer.render_to_rgba(config.width, config.height, &parts.scene, &camera)?;
        let path = frame_path(&config.out_dir, index);
        image.save_png(&path)?;
        written.push(FrameInfo {
            path,
            span,
            nodes: answer.nodes.len(),
            edges: answer.edges.len(),
        });
    }
    Ok(written)
}

/// `DIR/frame-0001.png` for index 0.
pub fn frame_path(dir: &Path, index: usize) -> PathBuf {
    dir.join(format!("frame-{:04}.png", index + 1))
}
