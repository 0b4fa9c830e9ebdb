//! The viewer's background task against a real in-process server: login messages, range
//! polling, stale graph requests dropped while scrubbing, and diffs that rebuild each answer.

mod viewer_support;

use std::time::{Duration, Instant};
use viewer_support::loaded_demo;
use wiredraw::core::{Graph, synth};
use wiredraw::net::api::StampedHostRecord;
use wiredraw::net::collector::Speed;
use wiredraw::viewer::backend::{Backend, Feed, GraphUpdate, Reply, Request};
use wiredraw::viewer::demo::{Demo, DemoConfig};

/// Waits for the first reply `pick` accepts, failing after 30 s with what came instead.
fn wait_for<T>(backend: &Backend, mut pick: impl FnMut(Reply) -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Some(reply) = backend.wait(Duration::from_millis(100)) {
            let text = format!("{reply:?}");
            match pick(reply) {
                Some(value) => return value,
                None => seen.push(text.chars().take(120).collect::<String>()),
            }
        }
    }
    panic!("no matching reply; got {seen:#?}");
}

fn login(backend: &Backend, url: &str, user: &str, password: &str) {
    backend.send(Request::Login {
        url: url.into(),
        user: user.into(),
        password: password.into(),
    });
}

#[test]
fn login_failures_are_told_apart_and_a_session_polls_the_range() {
    let demo = loaded_demo(DemoConfig {
        hosts: 10,
        hours: 0.25,
        ..DemoConfig::default()
    });
    let backend = Backend::start(|| {}).unwrap();

    login(&backend, &demo.url, &demo.user, "not the password");
    let message = wait_for(&backend, |r| match r {
        Reply::LoginFailed(m) => Some(m),
        _ => None,
    });
    assert_eq!(message, "wrong user name or password");

    // A port nobody listens on (bound, then released).
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let refused_url = format!("http://{}", free.local_addr().unwrap());
    drop(free);
    login(&backend, &refused_url, "x", "y");
    let message = wait_for(&backend, |r| match r {
        Reply::LoginFailed(m) => Some(m),
        _ => None,
    });
    assert!(message.contains("nothing answers"), "{message}");

    login(&backend, "http://[not-an-address", "x", "y");
    let message = wait_for(&backend, |r| match r {
        Reply::LoginFailed(m) => Some(m),
        _ => None,
    });
    assert!(message.contains("not a server URL"), "{message}");

    login(&backend, &demo.url, &demo.user, &demo.password);
    wait_for(&backend, |r| {
        matches!(r, Reply::LoggedIn { .. }).then_some(())
    });
    let range = wait_for(&backend, |r| match r {
        Reply::Range(range) => Some(range),
        _ => None,
    });
    let start = synth::DEFAULT_START as f64;
    let (first, last) = (range.first.unwrap(), range.last.unwrap());
    assert!(first >= start && first < start + 60.0, "{first}");
    assert!(
        last > start + 600.0 && last <= start + 0.25 * 3600.0 + 3600.0,
        "{last}"
    );
}

#[test]
fn a_fast_scrub_fetches_only_some_positions_and_ends_on_the_newest() {
    let demo = loaded_demo(DemoConfig {
        hosts: 30,
        hours: 0.5,
        ..DemoConfig::default()
    });
    let mut backend = Backend::start(|| {}).unwrap();
    login(&backend, &demo.url, &demo.user, &demo.password);
    wait_for(&backend, |r| {
        matches!(r, Reply::LoggedIn { .. }).then_some(())
    });

    let start = synth::DEFAULT_START as f64;
    let spans: Vec<(f64, f64)> = (0..200)
        .map(|i| {
            let to = start + 300.0 + f64::from(i) * 7.0;
            (to - 300.0, to)
        })
        .collect();
    let mut last_request = None;
    for span in &spans {
        last_request = Some(backend.request_graph(*span));
    }
    let last_request = last_request.unwrap();

    let mut updates: Vec<GraphUpdate> = Vec::new();
    while updates
        .last()
        .is_none_or(|u| u.request.generation != last_request.generation)
    {
        let update = wait_for(&backend, |r| match r {
            Reply::Graph(update) => Some(*update),
            _ => None,
        });
        updates.push(update);
    }
    assert!(
        updates.len() < spans.len() / 2,
        "{} answers for {} requests: stale ones must be dropped",
        updates.len(),
        spans.len()
    );
    assert!(backend.dropped_graph_requests() as usize >= spans.len() - updates.len() - 1);
    assert!(
        updates
            .windows(2)
            .all(|w| w[0].request.generation < w[1].request.generation),
        "answers come newest last"
    );

    // Each diff turns the previous answer into the next one.
    let mut on_screen = Graph::default();
    for update in &updates {
        on_screen = update.diff.apply(&on_screen).unwrap();
        assert_eq!(on_screen, update.graph.to_graph());
    }
    let client = demo.client().unwrap();
    let newest = demo
        .runtime()
        .block_on(client.graph(wiredraw::net::client::Span::Between {
            from: last_request.span.0,
            to: last_request.span.1,
        }))
        .unwrap();
    assert_eq!(
        on_screen,
        newest.to_graph(),
        "the newest position is what ends on screen"
    );
    assert!(!newest.nodes.is_empty());
}

/// Sends an export request and waits until it says it saved `path`.
fn saved(backend: &Backend, export: Request, path: &std::path::Path) {
    backend.send(export);
    let saved = wait_for(backend, |r| match r {
        Reply::Saved(saved) => Some(saved),
        _ => None,
    });
    assert_eq!(saved, path);
}

#[test]
fn a_lost_server_is_reported_and_details_arrive_for_a_selection() {
    let demo = loaded_demo(DemoConfig {
        hosts: 10,
        hours: 0.25,
        ..DemoConfig::default()
    });
    let mut backend = Backend::start(|| {}).unwrap();
    login(&backend, &demo.url, &demo.user, &demo.password);
    wait_for(&backend, |r| {
        matches!(r, Reply::LoggedIn { .. }).then_some(())
    });
    let start = synth::DEFAULT_START as f64;
    let span = (start, start + 900.0);
    backend.request_graph(span);
    let update = wait_for(&backend, |r| match r {
        Reply::Graph(update) => Some(*update),
        _ => None,
    });
    let edge = update.graph.edges.first().expect("an edge").clone();
    backend.send(Request::Edge {
        src: edge.src.parse().unwrap(),
        dst: edge.dst.parse().unwrap(),
        span,
    });
    let answer = wait_for(&backend, |r| match r {
        Reply::Edge(answer) => Some(answer),
        _ => None,
    });
    assert_eq!(
        (answer.src.as_str(), answer.dst.as_str()),
        (edge.src.as_str(), edge.dst.as_str())
    );
    assert_eq!(answer.connections.len() as u64, edge.conns);
    backend.send(Request::Node {
        addr: edge.src.parse().unwrap(),
        span,
    });
    let node = wait_for(&backend, |r| match r {
        Reply::Node(node) => Some(node),
        _ => None,
    });
    assert_eq!(node.addr, edge.src);

    // The DOT export button: the window's graph as Graphviz, written where the user asked.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("window.dot");
    saved(
        &backend,
        Request::ExportDot {
            span,
            path: path.clone(),
        },
        &path,
    );
    let dot = std::fs::read_to_string(&path).unwrap();
    assert!(dot.starts_with("digraph"), "{dot}");
    assert!(
        dot.contains(&format!("\"{}\" -> \"{}\"", edge.src, edge.dst)),
        "the shown edge is in the export:\n{dot}"
    );

    // The notices export: the window's notices as NDJSON, as the graph update carried them.
    assert!(update.host_records.total > 0, "the beacon's intel hits");
    let path = dir.path().join("notices.ndjson");
    saved(
        &backend,
        Request::ExportNotices {
            span,
            path: path.clone(),
        },
        &path,
    );
    let lines: Vec<StampedHostRecord> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines, update.host_records.records);

    drop(demo);
    let message = wait_for(&backend, |r| match r {
        Reply::ServerLost(message) => Some(message),
        _ => None,
    });
    assert!(!message.is_empty());
}

#[test]
fn while_data_arrives_the_server_pushes_the_growing_range_and_the_changed_times() {
    // Half an hour of traffic replayed at 300x: data keeps arriving for about six seconds.
    let demo = Demo::start(&DemoConfig {
        hosts: 10,
        hours: 0.5,
        speed: Speed::Factor(300.0),
        ..DemoConfig::default()
    })
    .expect("the demo starts");
    let backend = Backend::start(|| {}).unwrap();
    login(&backend, &demo.url, &demo.user, &demo.password);
    wait_for(&backend, |r| {
        matches!(r, Reply::Feed(Feed::Push)).then_some(())
    });

    // The stream's first range, then ranges that grow with each change, each with the times
    // it covers (only the live stream says which times changed; polling does not).
    let mut first_last: Option<f64> = None;
    let mut grown = false;
    let (first, last) = wait_for(&backend, |r| match r {
        Reply::Range(range) => {
            let last = range.last?;
            grown |= first_last.is_some_and(|before| last > before);
            first_last.get_or_insert(last);
            None
        }
        Reply::Changed { first, last } if grown => Some((first, last)),
        _ => None,
    });
    assert!(
        first.is_finite() && last >= first,
        "changed {first}..{last}"
    );
    let start = synth::DEFAULT_START as f64;
    assert!(
        first >= start - 60.0 && last <= start + 0.5 * 3600.0 + 3600.0,
        "the change lies in the replayed half hour: {first}..{last}"
    );
}
