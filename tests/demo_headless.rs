//! The demo without a display: synthetic traffic shipped to an in-process server, then PNG
//! frames across the time range from the offscreen renderer.

mod viewer_support;

use viewer_support::{busy_fraction, demo_without_conn_logs, distinct_colours, loaded_demo};
use wiredraw::render::RgbaImage;
use wiredraw::viewer::demo::{Demo, DemoConfig, DemoError};
use wiredraw::viewer::headless::{
    FrameInfo, FramesConfig, HeadlessError, frame_path, render_frames,
};

#[test]
fn headless_frames_cover_the_range_and_show_the_graph() {
    let demo = loaded_demo(DemoConfig {
        hosts: 20,
        hours: 0.5,
        ..DemoConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let config = ten_minute_frames(dir.path(), 3, (320, 200));
    let frames = render(&demo, &config).unwrap();
    let client = demo.client().unwrap();
    assert_eq!(frames.len(), 3);
    let range = demo.runtime().block_on(client.range()).unwrap();
    let last = range.last.unwrap();
    assert!(
        frames.windows(2).all(|w| w[0].span.1 < w[1].span.1),
        "frames move forward in time"
    );
    let final_span = frames[2].span;
    assert!(
        final_span.0 < last && last <= final_span.1,
        "the last frame ends at the range's end"
    );
    for (index, frame) in frames.iter().enumerate() {
        assert_eq!(frame.path, frame_path(&config.out_dir, index));
        assert!(frame.nodes > 0 && frame.edges > 0, "{frame:?}");
        let image = RgbaImage::load_png(&frame.path).unwrap();
        assert_eq!((image.width, image.height), (320, 200));
        assert!(distinct_colours(&image) > 20, "frame {index} is not blank");
        assert!(
            busy_fraction(&image, 0, 0, 320, 200) > 0.005,
            "frame {index} shows hosts"
        );
    }
}

#[test]
fn a_missing_logs_folder_is_refused_by_name() {
    let error = Demo::start(&DemoConfig {
        logs: Some("/nonexistent/zeek".into()),
        ..DemoConfig::default()
    })
    .err()
    .expect("no such folder");
    assert!(matches!(error, DemoError::NoLogs(_)));
    assert!(error.to_string().contains("/nonexistent/zeek"));
}

#[test]
fn logs_without_a_conn_log_render_nothing_and_say_why() {
    let (demo, dir) = demo_without_conn_logs();
    let config = ten_minute_frames(dir.path(), 2, (64, 64));
    let error = render(&demo, &config).expect_err("nothing to draw");
    assert!(matches!(error, HeadlessError::Empty), "{error}");
    assert!(
        error
            .to_string()
            .contains("only conn log records make connections"),
        "{error}"
    );
}

/// Renders the frames of `config` from `demo`'s server, logged in as the demo user.
fn render(demo: &Demo, config: &FramesConfig) -> Result<Vec<FrameInfo>, HeadlessError> {
    let client = demo.client().unwrap();
    demo.runtime().block_on(render_frames(&client, config))
}

/// `frames` frames of `width`×`height` into `dir/frames`, each showing ten minutes.
fn ten_minute_frames(
    dir: &std::path::Path,
    frames: usize,
    (width, height): (u32, u32),
) -> FramesConfig {
    FramesConfig {
        out_dir: dir.join("frames"),
        frames,
        width,
        height,
        window_secs: 600.0,
    }
}
