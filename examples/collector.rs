//! Ships Zeek logs to a wiredraw server (live, `--once`, or `--replay`).
//!
//! ```text
//! WIREDRAW_TOKEN=… cargo run --release --example collector -- \
//!     --server http://127.0.0.1:8750 --dir /opt/zeek/logs/current [--state FILE] [--once]
//! cargo run --release --example collector -- --server URL --token-file FILE \
//!     --dir OLD_LOGS --replay --speed 60 [--time-from T] [--time-to T]
//! ```
//! The token comes from `WIREDRAW_TOKEN` or `--token-file`, never from the command line,
//! where `ps` would show it. Times are epoch seconds or RFC 3339 (`2024-04-21T10:00:00Z`).

mod support;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use wiredraw_net::collector::timestamp::parse_time;
use wiredraw_net::collector::{
    Collector, CollectorConfig, Progress, ReplayConfig, Replayer, Speed,
};

#[derive(Parser, Debug)]
#[command(about = "Ship Zeek logs to a wiredraw server, or replay history")]
struct Args {
    /// Server base URL.
    #[arg(long, default_value = "http://127.0.0.1:8750")]
    server: String,
    /// Zeek log directory (read recursively).
    #[arg(long)]
    dir: PathBuf,
    /// File holding the collector token (else WIREDRAW_TOKEN).
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// Refused: a token on the command line is visible to every user via `ps`.
    #[arg(long, hide = true)]
    token: Option<String>,
    /// Where shipped offsets are kept [default: DIR/.wiredraw-collector-state.json].
    #[arg(long)]
    state: Option<PathBuf>,
    /// Ship everything present, then exit.
    #[arg(long, conflicts_with = "replay")]
    once: bool,
    /// Most lines per request.
    #[arg(long, default_value_t = 5000)]
    batch_lines: usize,
    /// Send a partial batch once its first line is this many milliseconds old.
    #[arg(long, default_value_t = 1000)]
    batch_max_age_ms: u64,
    /// Files read at the same time (archives, and everything with --once or --replay).
    #[arg(long, default_value_t = 4)]
    parallel_files: usize,
    /// Send request bodies uncompressed.
    #[arg(long)]
    no_gzip: bool,
    /// Replay history in timestamp order instead of following the directory.
    #[arg(long)]
    replay: bool,
    /// Replay speed: log seconds per second, or "max".
    #[arg(long, default_value = "1", requires = "replay")]
    speed: Speed,
    /// Replay only records at or after this time.
    #[arg(long, requires = "replay", value_parser = parse_time)]
    time_from: Option<f64>,
    /// Replay only records before this time.
    #[arg(long, requires = "replay", value_parser = parse_time)]
    time_to: Option<f64>,
}

fn read_token(args: &Args) -> anyhow::Result<String> {
    if args.token.is_some() {
        bail!(
            "--token is not accepted: the command line is visible to every user; \
             use WIREDRAW_TOKEN or --token-file"
        );
    }
    let token = match &args.token_file {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("reading token file {}", path.display()))?,
        None => std::env::var("WIREDRAW_TOKEN")
            .context("no token: set WIREDRAW_TOKEN or pass --token-file")?,
    };
    let token = token.trim().to_owned();
    if token.is_empty() {
        bail!("the collector token is empty");
    }
    Ok(token)
}

async fn stop_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("stopping: finishing requests in flight and saving offsets");
}

/// Draws a byte progress bar from the run's counters until the returned bar is finished.
fn progress_bar(progress: Arc<Progress>) -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40.cyan/blue} {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {msg}",
        )
        .expect("a valid template"),
    );
    let drawn = bar.clone();
    tokio::spawn(async move {
        while !drawn.is_finished() {
            drawn.set_length(progress.bytes_total.load(Relaxed));
            drawn.set_position(progress.bytes_done.load(Relaxed));
            drawn.set_message(format!(
                "{} lines, {} errors",
                progress.lines.load(Relaxed),
                progress.errors.load(Relaxed)
            ));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    bar
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    support::init_logging("info");
    let args = Args::parse();
    let token = read_token(&args)?;
    if args.replay {
        let mut config = ReplayConfig::new(&args.server, token, &args.dir, args.speed);
        config.time_from = args.time_from;
        config.time_to = args.time_to;
        config.batch_lines = args.batch_lines;
        config.gzip = !args.no_gzip;
        let summary = Replayer::new(config)?.run(stop_signal()).await?;
        println!("replay: {summary}");
        return Ok(());
    }
    let mut config = CollectorConfig::new(&args.server, token, &args.dir);
    if let Some(state) = &args.state {
        config.state_path = state.clone();
    }
    config.once = args.once;
    config.batch_lines = args.batch_lines;
    config.batch_max_age = Duration::from_millis(args.batch_max_age_ms);
    config.parallel_files = args.parallel_files;
    config.gzip = !args.no_gzip;
    let collector = Collector::new(config)?;
    let bar =
        (args.once && std::io::stderr().is_terminal()).then(|| progress_bar(collector.progress()));
    let result = collector.run(stop_signal()).await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let summary = result?;
    println!("{summary}");
    Ok(())
}
