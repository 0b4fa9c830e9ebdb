//! The demo without a display: synthetic traffic shipped to an in-process server, then PNG
//! frames across the time range from the offscreen renderer.

mod viewer_support;

use viewer_support::{busy_fraction, distinct_colours, loaded_demo, rita_dir};
use wiredraw::render::RgbaImage;
use wiredraw::viewer::demo::{Demo, DemoConfig, DemoError};
use wiredraw::viewer::headless::{FramesConfig, HeadlessError, frame_path, render_frames};

#[test]
fn headless_frames_cover_the_range_and_show_the_graph() {
    let demo = loaded_demo(DemoConfig {
        hosts: 20,
        hours: 0.5,
        ..DemoConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let config = FramesConfig {
        out_dir: dir.path().join("frames"),
        frames: 3,
        width: 320,
        height: 200,
        window_secs: 600.0,
    };
    let client = demo.client().unwrap();
    let frames = demo
        .runtime()
        .block_on(render_frames(&client, &config))
        .unwrap();
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
    // The rita sample's dns log alone: the server holds its records, but nothing to draw.
    let dir = tempfile::tempdir().unwrap();
    let dns = rita_dir().join("2024-04-19/dns.00:00:00-01:00:00.log.gz");
    std::fs::copy(&dns, dir.path().join("dns.log.gz")).unwrap();
    let demo = loaded_demo(DemoConfig {
        logs: Some(dir.path().to_path_buf()),
        ..DemoConfig::default()
    });
    let config = FramesConfig {
        out_dir: dir.path().join("frames"),
        frames: 2,
        width: 64,
        height: 64,
        window_secs: 600.0,
    };
    let client = demo.client().unwrap();
    let error = demo
        .runtime()
        .block_on(render_frames(&client, &config))
        .expect_err("nothing to draw");
    assert!(matches!(error, HeadlessError::Empty), "{error}");
    assert!(
        error
            .to_string()
            .contains("only conn log records make connections"),
        "{error}"
    );
}
