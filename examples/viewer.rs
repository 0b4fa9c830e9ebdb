//! The wiredraw viewer: a window with the live 3D graph of a wiredraw server.
//!
//! ```text
//! cargo run --release --example viewer -- [--url URL] [--user NAME]
//! WIREDRAW_PASSWORD=… cargo run --release --example viewer -- --url http://127.0.0.1:8750 \
//!     --user analyst --at 2024-04-20T10:00:00Z --screenshot shot.png --screenshot-after 3
//! ```
//! Without a password the login page asks for one. The last URL and user are remembered in
//! `~/.config/wiredraw/viewer.json`; the password never is.

mod support;

use clap::Parser;
use std::path::PathBuf;
use wiredraw::net::collector::timestamp::parse_time;
use wiredraw::viewer::{ViewerOptions, display_available, login::Remembered, run};

#[derive(Parser)]
#[command(about = "wiredraw viewer: the live 3D picture of who talks to whom")]
struct Args {
    /// Server base URL.
    #[arg(long, env = "WIREDRAW_URL")]
    url: Option<String>,
    /// User name.
    #[arg(long, env = "WIREDRAW_USER")]
    user: Option<String>,
    /// Refused: the command line is visible to every user; use WIREDRAW_PASSWORD.
    #[arg(long, hide = true)]
    password: Option<String>,
    /// Playhead start (epoch seconds or RFC 3339); default: follow live data.
    #[arg(long, value_parser = parse_time)]
    at: Option<f64>,
    /// Seconds of history the graph shows.
    #[arg(long, default_value_t = 300.0)]
    window: f64,
    /// Start playing from --at.
    #[arg(long)]
    play: bool,
    /// Save the window's frame as PNG once the scene has settled, print a JSON line, and exit.
    #[arg(long)]
    screenshot: Option<PathBuf>,
    /// Wait at least this many seconds before the screenshot.
    #[arg(long, default_value_t = 2.0, requires = "screenshot")]
    screenshot_after: f64,
    /// Select an address, an edge `SRC->DST`, or `busiest` (the edge with the most bytes).
    #[arg(long)]
    select: Option<String>,
    /// Show only the hosts the window's notices name, and their peers (a checkbox turns it off).
    #[arg(long)]
    notices_only: bool,
    /// Window size, WIDTHxHEIGHT pixels.
    #[arg(long, default_value = "1600x1000", value_parser = wiredraw::viewer::parse_size)]
    size: (u32, u32),
    /// Remember nothing between runs.
    #[arg(long)]
    no_remember: bool,
    /// Folder for PNG and DOT exports.
    #[arg(long, default_value = ".")]
    export_dir: PathBuf,
    /// Arrows a frame draws before it thins out those under a pixel wide; raise it on a real
    /// GPU (18446744073709551615 draws every arrow).
    #[arg(long, default_value_t = wiredraw::render::RenderSettings::default().arrow_budget)]
    arrow_budget: usize,
}

/// mimalloc keeps freed pages for reuse where glibc malloc returns them to the kernel and
/// faults them in again on the next request (docs/PERFORMANCE.md). It also serves the C
/// libraries' malloc (the `override` feature), Mesa's included.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    support::init_logging("warn,wiredraw=info");
    let args = Args::parse();
    anyhow::ensure!(
        args.password.is_none(),
        "--password is not accepted: the command line is visible to every user; set WIREDRAW_PASSWORD"
    );
    if !display_available() {
        eprintln!(
            "wiredraw viewer: no display (DISPLAY and WAYLAND_DISPLAY are unset); run it under a desktop session or xvfb-run"
        );
        std::process::exit(2);
    }
    let options = ViewerOptions {
        url: args.url,
        user: args.user,
        password: std::env::var("WIREDRAW_PASSWORD")
            .ok()
            .filter(|p| !p.is_empty()),
        at: args.at,
        window_secs: args.window,
        play: args.play,
        screenshot: args.screenshot,
        screenshot_after: args.screenshot_after,
        select: args.select,
        notices_only: args.notices_only,
        settings_path: if args.no_remember {
            None
        } else {
            Remembered::default_path()
        },
        export_dir: args.export_dir,
        size: args.size,
        arrow_budget: args.arrow_budget,
    };
    run(options)?;
    Ok(())
}
