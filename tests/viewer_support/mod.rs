//! Shared helpers of the viewer tests: a demo server with data, the viewer run under Xvfb in a
//! child process, and PNG checks.

#![allow(dead_code)] // Each test file uses a different part of this.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use wiredraw::net::collector::Speed;
use wiredraw::render::RgbaImage;
use wiredraw::viewer::demo::{Demo, DemoConfig};

/// The rita sample: three days from a real Zeek sensor.
pub const RITA: &str = "../shared/data/zeek/rita-missing-host";

/// Environment variable that turns a test process into the viewer child.
pub const CHILD_ENV: &str = "WIREDRAW_VIEWER_TEST_CHILD";

/// A demo server that has received every record of `config` (replayed as fast as it takes).
pub fn loaded_demo(config: DemoConfig) -> Demo {
    let mut demo = Demo::start(&DemoConfig {
        speed: Speed::Max,
        ..config
    })
    .expect("the demo starts");
    let summary = demo
        .wait_replayed(Duration::from_secs(600))
        .expect("the logs are shipped");
    assert!(summary.records > 0, "{summary}");
    assert_eq!(summary.errors, 0, "{summary}");
    demo
}

/// A demo server fed one hour of the rita dns log and nothing else: it holds records, but no
/// conn record makes a connection. The folder holding the log comes back to keep it alive.
pub fn demo_without_conn_logs() -> (Demo, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let dns = rita_dir().join("2024-04-19/dns.00:00:00-01:00:00.log.gz");
    std::fs::copy(&dns, dir.path().join("dns.log.gz")).expect("the rita dns log copies");
    let demo = loaded_demo(DemoConfig {
        logs: Some(dir.path().to_path_buf()),
        ..DemoConfig::default()
    });
    (demo, dir)
}

/// The rita logs, found from the package root.
pub fn rita_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(RITA);
    assert!(
        dir.is_dir(),
        "the rita sample is missing at {} (see /work/shared/data/README.md)",
        dir.display()
    );
    dir
}

/// `xvfb-run`, or a failure saying what to install.
pub fn xvfb_run() -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("xvfb-run"))
            .find(|path| path.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "xvfb-run was not found on PATH: install the xvfb and xauth packages \
             (apt-get install xvfb xauth; scripts/test.sh does this on CI)"
        )
    })
}

/// What the viewer child is asked to do.
pub struct ChildRun<'a> {
    /// The child test function (in the calling test binary) that runs the viewer.
    pub test_name: &'a str,
    pub env: Vec<(&'static str, String)>,
}

/// Runs `test_name` of this test binary under Xvfb with lavapipe, with `env` set and
/// [`CHILD_ENV`] on; returns its stdout. Fails with its output when it fails.
pub fn run_child_under_xvfb(run: ChildRun<'_>) -> String {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut command = Command::new(xvfb_run());
    command
        .args(["-a", "-s", "-screen 0 1600x1000x24"])
        .arg(exe)
        .args([
            "--exact",
            run.test_name,
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD_ENV, "1")
        .env("WGPU_BACKEND", "vulkan")
        .env_remove("WAYLAND_DISPLAY");
    for (name, value) in run.env {
        command.env(name, value);
    }
    let output = command.output().expect("running xvfb-run");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the viewer child failed ({}):\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        output.status
    );
    stdout
}

/// The viewer's JSON report line in a child's stdout.
pub fn report(stdout: &str) -> serde_json::Value {
    stdout
        .lines()
        // The child's test harness may print `test viewer_child ... ` on the same line first.
        .filter_map(|line| line.find('{').map(|start| &line[start..]))
        .filter(|json| json.contains("\"screenshot\""))
        .find_map(|json| serde_json::from_str(json).ok())
        .unwrap_or_else(|| panic!("no report line in the viewer's output:\n{stdout}"))
}

/// Background of the graph view.
pub const BACKGROUND: [u8; 3] = [18, 20, 26];

/// Pixels of a rectangle that are far from the graph background (spheres, arrows, labels).
pub fn busy_fraction(image: &RgbaImage, x0: u32, y0: u32, x1: u32, y1: u32) -> f64 {
    let mut busy = 0u64;
    let mut total = 0u64;
    for y in y0..y1.min(image.height) {
        for x in x0..x1.min(image.width) {
            let [r, g, b, _] = image.pixel(x, y);
            busy += u64::from(color_distance([r, g, b], BACKGROUND) > 60);
            total += 1;
        }
    }
    busy as f64 / total.max(1) as f64
}

/// Pixels of a rectangle that are the graph background itself (within rounding).
pub fn background_fraction(image: &RgbaImage, x0: u32, y0: u32, x1: u32, y1: u32) -> f64 {
    let mut plain = 0u64;
    let mut total = 0u64;
    for y in y0..y1.min(image.height) {
        for x in x0..x1.min(image.width) {
            let [r, g, b, _] = image.pixel(x, y);
            plain += u64::from(color_distance([r, g, b], BACKGROUND) <= 4);
            total += 1;
        }
    }
    plain as f64 / total.max(1) as f64
}

fn color_distance(a: [u8; 3], b: [u8; 3]) -> i32 {
    a.iter()
        .zip(b)
        .map(|(&a, b)| (i32::from(a) - i32::from(b)).abs())
        .sum()
}

/// Distinct colours in the image (a blank or single-colour frame has one or two).
pub fn distinct_colours(image: &RgbaImage) -> usize {
    let mut colours: Vec<u32> = image
        .pixels
        .chunks_exact(4)
        .map(|p| u32::from_le_bytes([p[0], p[1], p[2], 0]))
        .collect();
    colours.sort_unstable();
    colours.dedup();
    colours.len()
}

/// The value of a child environment variable.
pub fn child_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}
