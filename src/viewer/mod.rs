//! The viewer: a window with the 3D graph, a timeline and detail panels, talking to a
//! wiredraw server.
//!
//! Pieces, each testable on its own:
//! - [`timeline`]: playhead, speeds, window and zoom, changed only by commands applied at the
//!   end of a frame;
//! - [`backend`]: the background task (a tokio runtime on its own thread) that logs in, polls
//!   the range, fetches graphs (dropping stale requests while scrubbing), histograms and
//!   details, and hands results over a channel;
//! - [`graph_state`]: the graph shown, fed diffs into the background layout worker, animated
//!   with a [`SceneAnimator`](crate::render::SceneAnimator);
//! - [`graph_view`]: filters and the graph-to-scene step, shared with the headless renderer;
//! - [`headless`]: PNG frames across a time range without a window;
//! - [`demo`]: the one-command demo (server, synthetic logs, replaying collector) in-process;
//! - the window itself ([`run`]): winit, wgpu and egui.
//!
//! ```no_run
//! use wiredraw::viewer::{ViewerOptions, run};
//! let options = ViewerOptions {
//!     url: Some("http://127.0.0.1:8750".into()),
//!     user: Some("analyst".into()),
//!     password: std::env::var("WIREDRAW_PASSWORD").ok(),
//!     ..ViewerOptions::default()
//! };
//! run(options).expect("the viewer runs");
//! ```

mod app;
pub mod backend;
pub mod demo;
pub mod graph_state;
pub mod graph_view;
pub mod headless;
pub mod login;
mod panels;
pub mod timeline;
mod timeline_ui;
mod window;

pub use crate::core::zeek::format_utc;
pub use app::{Selection, ViewerApp};
pub use timeline_ui::format_duration;
pub use window::run;

use std::path::PathBuf;

/// How the viewer starts.
#[derive(Debug, Clone)]
pub struct ViewerOptions {
    /// Server base URL; the login page offers it (else the remembered one).
    pub url: Option<String>,
    pub user: Option<String>,
    /// With a password the viewer logs in at once (and again when the session ends).
    pub password: Option<String>,
    /// Playhead start (epoch seconds); without it the viewer follows live data.
    pub at: Option<f64>,
    /// Seconds of history the graph shows.
    pub window_secs: f64,
    /// Start playing.
    pub play: bool,
    /// Save the window's frame here once the scene has settled and `screenshot_after` seconds
    /// have passed, print a JSON report line, and exit.
    pub screenshot: Option<PathBuf>,
    pub screenshot_after: f64,
    /// Select something once it is on screen: an address, `SRC->DST`, or `busiest` (the edge
    /// with the most bytes).
    pub select: Option<String>,
    /// Start with the graph showing only the hosts the window's notices name and their peers.
    pub notices_only: bool,
    /// Where the last URL and user are remembered; `None` remembers nothing.
    pub settings_path: Option<PathBuf>,
    /// Where PNG and DOT exports go.
    pub export_dir: PathBuf,
    /// Window size in physical pixels.
    pub size: (u32, u32),
    /// Arrows a frame draws before thinning out those under a pixel wide
    /// ([`crate::render::RenderSettings::arrow_budget`]); `usize::MAX` draws every arrow, for
    /// a real GPU.
    pub arrow_budget: usize,
}

impl Default for ViewerOptions {
    fn default() -> Self {
        ViewerOptions {
            url: None,
            user: None,
            password: None,
            at: None,
            window_secs: 300.0,
            play: false,
            screenshot: None,
            screenshot_after: 0.0,
            select: None,
            notices_only: false,
            settings_path: login::Remembered::default_path(),
            export_dir: PathBuf::from("."),
            arrow_budget: crate::render::RenderSettings::default().arrow_budget,
            size: (1600, 1000),
        }
    }
}

/// Why the viewer could not run.
#[derive(Debug, thiserror::Error)]
pub enum ViewerError {
    #[error(
        "no display: {0} (set DISPLAY or WAYLAND_DISPLAY, or run under xvfb-run; the demo has --headless)"
    )]
    NoDisplay(String),
    #[error("window: {0}")]
    Window(String),
    #[error("graphics: {0}")]
    Gpu(String),
    #[error("starting the background task: {0}")]
    Backend(std::io::Error),
}

/// `1600x1000`: a window or frame size for the command line, each side 64 to 16384 pixels.
pub fn parse_size(text: &str) -> Result<(u32, u32), String> {
    let (w, h) = text
        .split_once('x')
        .ok_or_else(|| format!("{text:?} is not WIDTHxHEIGHT"))?;
    let parse = |v: &str| {
        v.trim()
            .parse::<u32>()
            .ok()
            .filter(|&n| (64..=16384).contains(&n))
    };
    match (parse(w), parse(h)) {
        (Some(w), Some(h)) => Ok((w, h)),
        _ => Err(format!("{text:?}: sizes are 64 to 16384 pixels")),
    }
}

/// Whether a display server is named in the environment (X11 or Wayland).
pub fn display_available() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
}
