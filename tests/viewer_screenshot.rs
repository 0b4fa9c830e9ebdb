//! The viewer in a real window under Xvfb (lavapipe), against a real in-process server: its
//! own frame saved as PNG shows the scene the server answers for the playhead.

mod viewer_support;

use std::path::PathBuf;
use std::time::{Duration, Instant};
use viewer_support::{
    CHILD_ENV, ChildRun, background_fraction, busy_fraction, child_var, demo_without_conn_logs,
    distinct_colours, loaded_demo, report, rita_dir, run_child_under_xvfb,
};
use wiredraw::net::client::Span;
use wiredraw::net::collector::Speed;
use wiredraw::render::RgbaImage;
use wiredraw::viewer::demo::{Demo, DemoConfig};
use wiredraw::viewer::timeline::{Timeline, TimelineCommand};
use wiredraw::viewer::{ViewerOptions, run};

/// Not a test on its own: the viewer process the tests below start under Xvfb.
#[test]
fn viewer_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let var = |name: &str| child_var(name);
    if var("WD_WINDOW_DANCE").is_some() {
        std::thread::spawn(resize_minimise_and_restore);
    }
    let options = ViewerOptions {
        url: var("WD_URL"),
        user: var("WD_USER"),
        password: var("WD_PASSWORD"),
        at: var("WD_AT").map(|t| t.parse().unwrap()),
        window_secs: var("WD_WINDOW").map_or(300.0, |w| w.parse().unwrap()),
        screenshot: var("WD_SCREENSHOT").map(PathBuf::from),
        screenshot_after: var("WD_SHOT_AFTER").map_or(1.0, |s| s.parse().unwrap()),
        select: var("WD_SELECT"),
        notices_only: var("WD_NOTICES_ONLY").is_some(),
        arrow_budget: var("WD_ARROW_BUDGET").map_or(usize::MAX, |b| b.parse().unwrap()),
        settings_path: None,
        size: var("WD_SIZE").map_or((1600, 1000), |size| {
            wiredraw::viewer::parse_size(&size).unwrap()
        }),
        ..ViewerOptions::default()
    };
    run(options).expect("the viewer runs");
}

/// What a user does to the viewer's window, as the X server sees it: shrink it, squash it to
/// one pixel, iconify it (unmapped), bring it back and make it 1000×700.
fn resize_minimise_and_restore() {
    let xdotool = |args: &[&str]| -> String {
        // A panic here would end only this thread and leave the window untested: exit instead.
        let output = match std::process::Command::new("xdotool").args(args).output() {
            Ok(output) if output.status.success() => output,
            failed => {
                eprintln!(
                    "xdotool {args:?} failed: {failed:?} \
                     (apt-get install xdotool; scripts/test.sh does this on CI)"
                );
                std::process::exit(3);
            }
        };
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    // Waits for the window this process opens (winit sets _NET_WM_PID).
    let pid = std::process::id().to_string();
    let found = xdotool(&["search", "--sync", "--pid", &pid]);
    let window = found
        .lines()
        .last()
        .expect("the viewer's window")
        .to_string();
    let pause = || std::thread::sleep(std::time::Duration::from_millis(1500));
    pause();
    for step in [
        &["windowsize", &window, "640", "400"][..],
        &["windowsize", &window, "1", "1"],
        &["windowunmap", &window],
        &["windowmap", &window],
        &["windowsize", &window, "1000", "700"],
    ] {
        xdotool(step);
        pause();
    }
}

/// The window the viewer shows for a playhead at `at`.
fn span_at(demo: &Demo, at: f64, window: f64) -> (f64, f64) {
    let client = demo.client().unwrap();
    let range = demo.runtime().block_on(client.range()).unwrap();
    let mut timeline = Timeline::new(Some(at), window, false);
    timeline.apply(TimelineCommand::set_range(
        range.time_range().unwrap(),
        range.bucket_secs,
    ));
    timeline.graph_span().unwrap()
}

/// Runs the viewer child against `demo` with the playhead at `at`, saving its frame to `shot`;
/// `extra` sets further child variables (`WD_SELECT`, …). Returns its report.
fn run_viewer(
    demo: &Demo,
    at: f64,
    window: f64,
    extra: &[(&'static str, &str)],
    shot: &std::path::Path,
) -> serde_json::Value {
    let mut env = vec![
        ("WD_URL", demo.url.clone()),
        ("WD_USER", demo.user.clone()),
        ("WD_PASSWORD", demo.password.clone()),
        ("WD_AT", at.to_string()),
        ("WD_WINDOW", window.to_string()),
        ("WD_SCREENSHOT", shot.display().to_string()),
    ];
    env.extend(extra.iter().map(|(name, value)| (*name, value.to_string())));
    let stdout = run_child_under_xvfb(ChildRun {
        test_name: "viewer_child",
        env,
    });
    report(&stdout)
}

/// A small synthetic office (25 hosts, an hour), and a playhead in the middle of it.
fn synthetic_demo() -> (Demo, f64) {
    let demo = loaded_demo(DemoConfig {
        hosts: 25,
        hours: 1.0,
        ..DemoConfig::default()
    });
    (demo, wiredraw::core::synth::DEFAULT_START as f64 + 1800.0)
}

/// The rita sample served by a demo server, and a playhead in a busy hour of it
/// (2024-04-20 12:00 UTC).
fn rita_demo() -> (Demo, f64) {
    let demo = loaded_demo(DemoConfig {
        logs: Some(rita_dir()),
        ..DemoConfig::default()
    });
    (demo, 1_713_614_400.0)
}

#[test]
fn the_viewer_shows_the_rita_graph_the_server_answers_at_a_known_time() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let (demo, at) = rita_demo();
    let window = 600.0;
    let span = span_at(&demo, at, window);
    let client = demo.client().unwrap();
    let answer = demo
        .runtime()
        .block_on(client.graph(Span::Between {
            from: span.0,
            to: span.1,
        }))
        .unwrap();
    assert!(
        answer.nodes.len() > 20,
        "a busy window: {} hosts",
        answer.nodes.len()
    );

    let dir = tempfile::tempdir().unwrap();
    let shot = dir.path().join("rita.png");
    let report = run_viewer(&demo, at, window, &[], &shot);
    assert_eq!(report["logged_in"], true, "{report}");
    assert_eq!(
        report["span"],
        serde_json::json!([span.0, span.1]),
        "{report}"
    );
    assert_eq!(report["nodes"], answer.nodes.len(), "{report}");
    assert_eq!(report["edges"], answer.edges.len(), "{report}");
    assert_eq!(
        report["drawn_nodes"],
        answer.nodes.len(),
        "every host is drawn: {report}"
    );

    let image = RgbaImage::load_png(&shot).unwrap();
    assert_eq!((image.width, image.height), (1600, 1000));
    assert!(
        distinct_colours(&image) > 200,
        "not blank: {} colours",
        distinct_colours(&image)
    );
    // The graph fills the middle of the window, between the side panel and the edge.
    let middle = busy_fraction(&image, 500, 250, 1300, 750);
    assert!(middle > 0.01, "hosts and arrows in the middle: {middle}");
    // The sensor reported 23 quarter hours of heavy loss (10 % or more) over the three days,
    // none of them in this window.
    assert_eq!(report["capture_loss_marks"], 23, "{report}");
    assert_eq!(
        report["window_capture_loss"],
        serde_json::Value::Null,
        "{report}"
    );
}

#[test]
fn the_viewer_warns_of_a_window_the_sensor_lost_traffic_in() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let (demo, _) = rita_demo();
    // 2024-04-19 12:50 UTC: the sensor reported losing 55 % from 12:41:15 to 12:56:15.
    let dir = tempfile::tempdir().unwrap();
    let shot = dir.path().join("loss.png");
    let report = run_viewer(&demo, 1_713_531_000.0, 600.0, &[], &shot);
    assert_eq!(report["capture_loss_marks"], 23, "{report}");
    assert_eq!(report["window_capture_loss"], 55.238415, "{report}");
    // The marks along the bottom of the strip are drawn in the loss colour: 23 bands of
    // about 5 × 4 pixels on a three-day strip.
    let image = RgbaImage::load_png(&shot).unwrap();
    let near = |pixel: [u8; 4]| {
        pixel[..3]
            .iter()
            .zip([230u8, 80, 70])
            .all(|(&a, b)| a.abs_diff(b) <= 6)
    };
    let marked = (image.height - 120..image.height)
        .flat_map(|y| (0..image.width).map(move |x| (x, y)))
        .filter(|&(x, y)| near(image.pixel(x, y)))
        .count();
    assert!(marked > 100, "{marked} pixels in the loss colour");
}

#[test]
fn the_viewer_selects_and_highlights_the_busiest_edge_of_synthetic_traffic() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let (demo, at) = synthetic_demo();
    let window = 900.0;
    let span = span_at(&demo, at, window);
    let client = demo.client().unwrap();
    let answer = demo
        .runtime()
        .block_on(client.graph(Span::Between {
            from: span.0,
            to: span.1,
        }))
        .unwrap();
    let busiest = answer.edges.iter().max_by_key(|e| e.bytes).unwrap();
    // The synthetic office's SSH brute forcer is named by a notice in this window.
    let records = demo
        .runtime()
        .block_on(client.host_records(span.0, span.1, 200))
        .unwrap();
    assert!(records.total > 0, "{records:?}");
    let named: std::collections::BTreeSet<_> =
        records.records.iter().flat_map(|r| &r.hosts).collect();

    let dir = tempfile::tempdir().unwrap();
    let shot = dir.path().join("synthetic.png");
    let report = run_viewer(&demo, at, window, &[("WD_SELECT", "busiest")], &shot);
    assert_eq!(report["nodes"], answer.nodes.len(), "{report}");
    assert_eq!(report["window_records"], records.total, "{report}");
    assert_eq!(report["flagged_hosts"], named.len(), "{report}");
    // The timeline marks the bins with notices over the whole hour: this window's, at least.
    let marks = report["notice_marks"].as_u64().unwrap_or(0);
    assert!(marks >= 1, "{report}");
    assert_eq!(
        report["selected_edge"],
        format!("{}->{}", busiest.src, busiest.dst),
        "{report}"
    );
    let image = RgbaImage::load_png(&shot).unwrap();
    // The selected arrow is drawn in the highlight colour (hosts in front may hide most of it).
    let highlighted = image
        .pixels
        .chunks_exact(4)
        .filter(|p| p[0] > 230 && (200..=250).contains(&p[1]) && (100..=170).contains(&p[2]))
        .count();
    assert!(
        highlighted > 5,
        "the selected edge shows: {highlighted} pixels"
    );
    assert_eq!(
        report["detail_connections"], busiest.conns,
        "the details panel has every connection of the edge: {report}"
    );
    // The histogram's bins follow the strip, which spans the 1600-point window, not the graph
    // between the two side panels (about 970 points, which gave 242 bins).
    let bins = report["histogram_bins"].as_u64().unwrap_or(0);
    assert!(
        bins >= 380,
        "histogram bins with both panels open: {report}"
    );
    // The details panel covers the right of the window: little of it is the graph's
    // background, and it holds text.
    let background = background_fraction(&image, 1300, 100, 1600, 900);
    assert!(
        background < 0.2,
        "details panel open: {background} is graph background"
    );
    let text = busy_fraction(&image, 1300, 100, 1600, 900);
    assert!(text > 0.01, "details panel text: {text}");
}

#[test]
fn the_notice_filter_shows_only_the_hosts_notices_name_and_their_peers() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let (demo, at) = synthetic_demo();
    let window = 900.0;
    let span = span_at(&demo, at, window);
    let client = demo.client().unwrap();
    let (graph, notices) = demo.runtime().block_on(async {
        let graph = client.graph(Span::Between {
            from: span.0,
            to: span.1,
        });
        let notices = client.host_records(span.0, span.1, 200);
        (graph.await.unwrap(), notices.await.unwrap())
    });
    let named: std::collections::BTreeSet<String> = notices
        .records
        .iter()
        .flat_map(|r| &r.hosts)
        .map(ToString::to_string)
        .collect();
    let mut expected: std::collections::BTreeSet<&str> = graph
        .edges
        .iter()
        .filter(|e| named.contains(&e.src) || named.contains(&e.dst))
        .flat_map(|e| [e.src.as_str(), e.dst.as_str()])
        .collect();
    expected.extend(
        graph
            .nodes
            .iter()
            .map(|n| n.id.as_str())
            .filter(|id| named.contains(*id)),
    );
    assert!(
        !expected.is_empty() && expected.len() < graph.nodes.len(),
        "{expected:?} of {} hosts",
        graph.nodes.len()
    );

    let dir = tempfile::tempdir().unwrap();
    let shot = dir.path().join("notices-only.png");
    let report = run_viewer(&demo, at, window, &[("WD_NOTICES_ONLY", "1")], &shot);
    assert_eq!(report["nodes"], graph.nodes.len(), "{report}");
    assert_eq!(report["drawn_nodes"], expected.len(), "{report}");
}

#[test]
fn the_details_of_a_selection_follow_data_that_arrives_while_it_is_shown() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    // Half an hour of a small office replayed at 300x: connections arrive for six seconds,
    // each batch a change to the graph on screen.
    let mut demo = Demo::start(&DemoConfig {
        hosts: 25,
        hours: 0.5,
        speed: Speed::Factor(300.0),
        ..DemoConfig::default()
    })
    .expect("the demo starts");
    let start = wiredraw::core::synth::DEFAULT_START as f64;
    // Paused at the end of the half hour with a window over all of it, so every arrival
    // changes what is shown. The office's DNS server asks its resolver all along (131 times
    // in the half hour), so the selected edge keeps growing.
    let dir = tempfile::tempdir().unwrap();
    let shot = dir.path().join("arriving.png");
    let report = run_viewer(
        &demo,
        start + 1800.0,
        1800.0,
        &[("WD_SELECT", "10.0.0.2->9.9.9.9"), ("WD_SHOT_AFTER", "12")],
        &shot,
    );
    let summary = demo
        .wait_replayed(std::time::Duration::from_secs(60))
        .expect("the replay ends");
    assert!(summary.records > 0, "{summary}");
    let (src, dst) = report["selected_edge"]
        .as_str()
        .and_then(|edge| edge.split_once("->"))
        .unwrap_or_else(|| panic!("an edge is selected: {report}"));
    let span = &report["span"];
    let edge = demo
        .runtime()
        .block_on(demo.client().unwrap().edge(
            src.parse().unwrap(),
            dst.parse().unwrap(),
            Span::Between {
                from: span[0].as_f64().unwrap(),
                to: span[1].as_f64().unwrap(),
            },
        ))
        .unwrap();
    assert!(edge.connections.len() > 100, "{report}");
    assert_eq!(
        report["detail_connections"],
        edge.connections.len(),
        "the panel ends on the server's connections of the edge: {report}"
    );
    // The notices list ends on the server's too (the brute forcer's, replayed with the rest).
    let notices = demo
        .runtime()
        .block_on(demo.client().unwrap().host_records(
            span[0].as_f64().unwrap(),
            span[1].as_f64().unwrap(),
            200,
        ))
        .unwrap();
    assert!(notices.total > 0, "{notices:?}");
    assert_eq!(report["window_records"], notices.total, "{report}");
}

#[test]
fn the_viewer_says_when_the_server_holds_no_connections() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let (demo, dir) = demo_without_conn_logs();
    let shot = dir.path().join("empty.png");
    let report = run_viewer(&demo, 1_713_484_800.0, 600.0, &[], &shot);
    assert_eq!(report["logged_in"], true, "{report}");
    assert_eq!(report["server_empty"], true, "{report}");
    assert_eq!(report["nodes"], serde_json::Value::Null, "{report}");
    // The explanation is written across the middle of the empty graph view.
    let image = RgbaImage::load_png(&shot).unwrap();
    let text = busy_fraction(&image, 500, 400, 1400, 600);
    assert!(text > 0.002, "a message in the middle: {text}");
}

#[test]
fn a_wrong_password_stays_on_the_login_page_and_says_why() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let (demo, dir) = demo_without_conn_logs();
    let shot = dir.path().join("login.png");
    let wrong = format!("{}-not", demo.password);
    let started = Instant::now();
    let report = run_viewer(
        &demo,
        1_713_484_800.0,
        600.0,
        &[("WD_PASSWORD", &wrong)],
        &shot,
    );
    assert_eq!(report["logged_in"], false, "{report}");
    assert_eq!(
        report["login_error"], "wrong user name or password",
        "{report}"
    );
    assert_eq!(report["span"], serde_json::Value::Null, "{report}");
    // It does not wait out the minute it gives a graph to settle.
    assert!(started.elapsed() < Duration::from_secs(30), "{report}");
}

#[test]
fn a_small_window_thins_out_arrows_under_a_pixel_wide_and_says_so() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let (demo, at) = rita_demo();
    let dir = tempfile::tempdir().unwrap();
    let shot = dir.path().join("small.png");
    // In a window this small many of the rita window's arrows are under a pixel wide, and a
    // budget of one arrow leaves each of those out but for a chance of its width.
    let extra = [("WD_SIZE", "480x300"), ("WD_ARROW_BUDGET", "1")];
    let report = run_viewer(&demo, at, 600.0, &extra, &shot);
    let (edges, thinned) = (
        report["drawn_edges"].as_u64().unwrap(),
        report["thinned_edges"].as_u64().unwrap(),
    );
    assert!(thinned > 0 && thinned < edges, "{report}");
}

#[test]
fn the_viewer_survives_resize_minimise_and_restore() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let (demo, at) = synthetic_demo();
    let dir = tempfile::tempdir().unwrap();
    let shot = dir.path().join("resized.png");
    let report = run_viewer(
        &demo,
        at,
        300.0,
        // The shot comes after the window has been through every state.
        &[("WD_SHOT_AFTER", "20"), ("WD_WINDOW_DANCE", "1")],
        &shot,
    );
    assert_eq!(report["logged_in"], true, "{report}");
    assert!(report["error"].is_null(), "{report}");
    let image = RgbaImage::load_png(&shot).unwrap();
    assert_eq!(
        (image.width, image.height),
        (1000, 700),
        "the frame has the restored size"
    );
    assert!(
        distinct_colours(&image) > 50,
        "not blank after the resizes: {} colours",
        distinct_colours(&image)
    );
    let middle = busy_fraction(&image, 300, 150, 900, 550);
    assert!(middle > 0.005, "the graph is drawn again: {middle}");
}
