//! The one-command demo: a server in this process (memory store, free loopback port, throwaway
//! credentials), a synthetic office network as Zeek logs, a collector replaying them, and the
//! viewer, logged in and playing.
//!
//! ```text
//! cargo run --release --example demo
//! cargo run --release --example demo -- --logs ../shared/data/zeek/rita-missing-host --speed 600
//! cargo run --release --example demo -- --redis redis://127.0.0.1:6379
//! cargo run --release --example demo -- --headless --out frames --frames 24
//! ```

mod support;

use anyhow::Context;
use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;
use wiredraw::net::collector::Speed;
use wiredraw::viewer::demo::{Demo, DemoConfig};
use wiredraw::viewer::headless::{FramesConfig, render_frames};
use wiredraw::viewer::{ViewerOptions, display_available, run};

#[derive(Parser)]
#[command(about = "wiredraw demo: server, synthetic traffic, collector and viewer in one command")]
struct Args {
    /// Replay these Zeek logs instead of synthetic ones.
    #[arg(long)]
    logs: Option<PathBuf>,
    /// Store into this Redis instead of memory.
    #[arg(long)]
    redis: Option<String>,
    /// Synthetic workstations.
    #[arg(long, default_value_t = 40)]
    hosts: u32,
    /// Synthetic hours of traffic.
    #[arg(long, default_value_t = 2.0)]
    hours: f64,
    /// Seed of the synthetic network.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Replay speed: log seconds per second, or "max".
    #[arg(long, default_value = "60")]
    speed: Speed,
    /// Seconds of history the graph shows.
    #[arg(long, default_value_t = 600.0)]
    window: f64,
    /// No window: render PNG frames across the time range into --out.
    #[arg(long, requires = "out")]
    headless: bool,
    /// Folder for --headless frames.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Number of --headless frames.
    #[arg(long, default_value_t = 12)]
    frames: usize,
    /// Frame size for --headless, WIDTHxHEIGHT.
    #[arg(long, default_value = "1280x800", value_parser = wiredraw::viewer::parse_size)]
    frame_size: (u32, u32),
    /// Viewer automation (see the viewer example): save a screenshot and exit.
    #[arg(long)]
    screenshot: Option<PathBuf>,
    #[arg(long, default_value_t = 2.0)]
    screenshot_after: f64,
    /// Viewer automation: select an address, `SRC->DST`, or `busiest`.
    #[arg(long)]
    select: Option<String>,
    /// Show only the hosts the window's notices name, and their peers.
    #[arg(long)]
    notices_only: bool,
    /// Viewer automation: start the playhead here (epoch seconds or RFC 3339), paused.
    #[arg(long, value_parser = wiredraw::net::collector::timestamp::parse_time)]
    at: Option<f64>,
}

/// mimalloc keeps freed pages for reuse where glibc malloc returns them to the kernel and
/// faults them in again on the next request (docs/PERFORMANCE.md). It also serves the C
/// libraries' malloc (the `override` feature), Mesa's included.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    // The demo says where its server is; the server's line per request would bury that.
    support::init_logging("warn,wiredraw=info,wiredraw_net::server=warn");
    let args = Args::parse();
    if !args.headless && !display_available() {
        eprintln!(
            "wiredraw demo: no display found (DISPLAY/WAYLAND_DISPLAY unset); use --headless --out DIR --frames N to render PNG frames instead"
        );
        std::process::exit(2);
    }
    let config = DemoConfig {
        logs: args.logs.clone(),
        redis: args.redis.clone(),
        hosts: args.hosts,
        hours: args.hours,
        seed: args.seed,
        // Headless frames need the whole history first.
        speed: if args.headless {
            Speed::Max
        } else {
            args.speed
        },
    };
    let mut demo = Demo::start(&config).context("starting the demo")?;
    eprintln!("demo server at {} (user {})", demo.url, demo.user);
    if args.headless {
        let summary = demo
            .wait_replayed(Duration::from_secs(3600))
            .context("shipping the logs")?;
        eprintln!("shipped: {summary}");
        let (width, height) = args.frame_size;
        let frames = FramesConfig {
            out_dir: args.out.clone().context("--headless needs --out DIR")?,
            frames: args.frames,
            width,
            height,
            window_secs: args.window,
        };
        let client = demo.client()?;
        let written = demo
            .runtime()
            .block_on(render_frames(&client, &frames))
            .context("rendering frames")?;
        for frame in &written {
            println!(
                "{}",
                serde_json::json!({
                    "frame": frame.path,
                    "from": frame.span.0,
                    "to": frame.span.1,
                    "nodes": frame.nodes,
                    "edges": frame.edges,
                })
            );
        }
        return Ok(());
    }
    let options = ViewerOptions {
        url: Some(demo.url.clone()),
        user: Some(demo.user.clone()),
        password: Some(demo.password.clone()),
        window_secs: args.window,
        at: args.at,
        play: args.at.is_none(),
        screenshot: args.screenshot,
        screenshot_after: args.screenshot_after,
        select: args.select,
        notices_only: args.notices_only,
        // The throwaway server must not replace the URL a user's viewer remembers.
        settings_path: None,
        ..ViewerOptions::default()
    };
    run(options)?;
    Ok(())
}
