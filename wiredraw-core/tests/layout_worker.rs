//! The layout worker: off the calling thread, never blocking a reader.

use std::time::{Duration, Instant};
use wiredraw_core::GraphDiff;
use wiredraw_core::layout::{FrameReader, Layout, LayoutFrame, LayoutParams, LayoutWorker, sample};

/// Waits (bounded) for a frame satisfying `done`.
fn wait_for(reader: &mut FrameReader, done: impl Fn(&LayoutFrame) -> bool) -> LayoutFrame {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let frame = reader.latest();
        if done(frame) {
            return (**frame).clone();
        }
        assert!(
            Instant::now() < deadline,
            "worker never got there: {:?}",
            frame.snapshot.stats
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn the_worker_computes_the_same_layout_as_stepping_by_hand() {
    let graph = sample::traffic_graph(2_000, 3_000, 1);
    let worker = LayoutWorker::spawn(LayoutParams::default(), 4);
    let mut reader = worker.reader();
    worker.set_graph(graph.clone());
    let frame = wait_for(&mut reader, |f| {
        f.snapshot.graph_version == 1 && f.snapshot.stats.converged
    });

    let mut by_hand = Layout::new(LayoutParams::default(), 4);
    by_hand.set_graph(&graph);
    by_hand.run(10_000);
    assert_eq!(frame.snapshot.positions, by_hand.positions());
    assert_eq!(&frame.snapshot.ids[..], &by_hand.ids()[..]);
    assert_eq!(frame.snapshot.stats, by_hand.last_stats());
    let id = &graph.nodes[10].id;
    assert_eq!(frame.snapshot.position(id), by_hand.position(id));
}

#[test]
fn diffs_and_graphs_arrive_in_order() {
    let g0 = sample::traffic_graph(1_000, 1_500, 1);
    let g1 = sample::churn(&g0, 0.05, 2);
    let g2 = sample::churn(&g1, 0.05, 3);
    let worker = LayoutWorker::spawn(LayoutParams::default(), 4);
    let mut reader = worker.reader();
    worker.set_graph(g0.clone());
    worker.apply_diff(GraphDiff::between(&g0, &g1));
    worker.apply_diff(GraphDiff::between(&g1, &g2));
    let frame = wait_for(&mut reader, |f| {
        f.snapshot.stats.converged && f.snapshot.ids.len() == g2.nodes.len()
    });
    let ids: Vec<&str> = g2.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(
        frame
            .snapshot
            .ids
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        ids
    );
    assert_eq!(frame.rejected_diffs, 0);

    // A diff made for another graph is refused and reported; the layout keeps going.
    worker.apply_diff(GraphDiff::between(&g0, &g1));
    let frame = wait_for(&mut reader, |f| f.rejected_diffs == 1);
    assert!(frame.last_rejection.is_some());
    assert_eq!(frame.snapshot.ids.len(), g2.nodes.len());
}

#[test]
fn reading_while_the_worker_steps_always_returns_a_whole_frame() {
    // Big enough that steps take a while, so reads overlap publishing.
    let graph = sample::traffic_graph(20_000, 30_000, 1);
    let worker = LayoutWorker::spawn(LayoutParams::default(), 4);
    let mut reader = worker.reader();
    worker.set_graph(graph.clone());
    let mut versions = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while versions.len() < 2_000 && Instant::now() < deadline {
        let frame = reader.latest();
        assert_eq!(frame.snapshot.positions.len(), frame.snapshot.ids.len());
        versions.push(frame.version);
    }
    assert!(
        versions.windows(2).all(|w| w[0] <= w[1]),
        "frames went backwards"
    );
    let frame = wait_for(&mut reader, |f| f.snapshot.stats.step >= 3);
    assert_eq!(frame.snapshot.positions.len(), graph.nodes.len());
    // Dropping a busy worker stops it promptly.
    let start = Instant::now();
    drop(worker);
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_burst_of_graphs_lays_out_the_newest() {
    let worker = LayoutWorker::spawn(LayoutParams::default(), 4);
    let mut reader = worker.reader();
    let graphs: Vec<_> = (0..20)
        .map(|s| sample::traffic_graph(300, 400, s))
        .collect();
    for g in &graphs {
        worker.set_graph(g.clone());
    }
    let last = graphs.last().unwrap();
    let frame = wait_for(&mut reader, |f| {
        f.snapshot.stats.converged
            && f.snapshot.ids.len() == last.nodes.len()
            && f.snapshot.index_of(&last.nodes[0].id).is_some()
    });
    assert!(frame.snapshot.graph_version <= 20);
}

#[test]
fn new_parameters_take_effect() {
    let graph = sample::traffic_graph(500, 700, 1);
    let worker = LayoutWorker::spawn(LayoutParams::default(), 4);
    let mut reader = worker.reader();
    worker.set_graph(graph);
    let before = wait_for(&mut reader, |f| {
        f.snapshot.stats.converged && f.snapshot.graph_version == 1
    });
    worker.set_params(LayoutParams {
        spring_length: 30.0,
        ..LayoutParams::default()
    });
    let after = wait_for(&mut reader, |f| {
        f.version > before.version && f.snapshot.stats.converged
    });
    assert_ne!(after.snapshot.positions, before.snapshot.positions);
}
