//! The layout follows a changing graph without reshuffling it, deterministically.

mod layout_common;

use layout_common::{distance, edge, fan, with_edges};
use wiredraw_core::layout::{Layout, LayoutParams, metrics, sample};
use wiredraw_core::{Graph, GraphDiff};

fn settled(graph: &Graph, seed: u64) -> Layout {
    let mut layout = Layout::new(LayoutParams::default(), seed);
    layout.set_graph(graph);
    assert!(layout.run(3_000).converged);
    layout
}

#[test]
fn persisting_hosts_keep_their_place_when_the_graph_changes() {
    let g0 = sample::traffic_graph(1_000, 1_500, 1);
    let g1 = sample::churn(&g0, 0.05, 2);
    let mut layout = settled(&g0, 5);
    let before = layout.snapshot();
    layout.set_graph(&g1);
    let mut persisting = 0;
    for (id, p) in before.ids.iter().zip(&before.positions) {
        if let Some(now) = layout.position(id) {
            assert_eq!(now, *p, "{id} moved on set_graph alone");
            persisting += 1;
        }
    }
    assert!(persisting > 900);

    // Settling the change moves persisting hosts only a little.
    layout.run(3_000);
    let stability = metrics::stability(&before, &layout.snapshot());
    assert_eq!(stability.persisting, persisting);
    assert!(
        stability.fraction() < 0.03,
        "persisting hosts moved {:.4} of the diameter",
        stability.fraction()
    );
}

#[test]
fn a_new_host_appears_beside_its_neighbour() {
    let g0 = sample::traffic_graph(500, 800, 1);
    let mut layout = settled(&g0, 5);
    let anchor = g0.nodes[17].id.clone();
    let g1 = with_edges(&g0, [edge("newcomer", &anchor)]);
    layout.set_graph(&g1);
    let gap = distance(
        layout.position("newcomer").unwrap(),
        layout.position(&anchor).unwrap(),
    );
    // A leaf's rest length away, give or take rounding.
    let expected = layout.params().leaf_spring_length;
    assert!((gap - expected).abs() < 1e-3, "placed {gap} away");

    // A new host with two placed neighbours lands between them.
    let (a, b) = (g0.nodes[3].id.clone(), g0.nodes[400].id.clone());
    let g2 = with_edges(&g1, [edge("bridge", &a), edge("bridge", &b)]);
    layout.set_graph(&g2);
    let (pa, pb) = (layout.position(&a).unwrap(), layout.position(&b).unwrap());
    let midpoint = [0, 1, 2].map(|k| 0.5 * (pa[k] + pb[k]));
    let off = distance(layout.position("bridge").unwrap(), midpoint);
    assert!(
        off <= layout.params().spring_length + 1e-3,
        "{off} from the midpoint"
    );
}

#[test]
fn a_host_with_no_placed_neighbour_appears_at_the_rim() {
    let g0 = sample::traffic_graph(500, 800, 1);
    let mut layout = settled(&g0, 5);
    let radius = layout
        .positions()
        .iter()
        .map(|p| distance(*p, [0.0; 3]))
        .fold(0.0f32, f32::max);
    let g1 = with_edges(&g0, fan("stranger", 5));
    layout.set_graph(&g1);
    let at = distance(layout.position("stranger").unwrap(), [0.0; 3]);
    assert!(at > radius, "stranger at {at}, layout radius {radius}");
    // Its leaves grow from it, not from the middle.
    let leaf = layout.position("stranger-leaf-0").unwrap();
    assert!(distance(leaf, layout.position("stranger").unwrap()) < layout.params().spring_length);
}

#[test]
fn a_host_that_returns_comes_back_where_it_was() {
    let g0 = sample::traffic_graph(800, 1_200, 1);
    let mut layout = settled(&g0, 5);
    // Drop a whole fan for a while.
    let g1 = with_edges(&g0, fan("visitor", 20));
    layout.set_graph(&g1);
    layout.run(3_000);
    let visitor = layout.position("visitor").unwrap();
    let leaf = layout.position("visitor-leaf-3").unwrap();
    layout.set_graph(&g0);
    assert!(layout.position("visitor").is_none());
    assert!(layout.remembers("visitor"));
    layout.run(3_000);
    layout.set_graph(&g1);
    assert_eq!(layout.position("visitor").unwrap(), visitor);
    assert_eq!(layout.position("visitor-leaf-3").unwrap(), leaf);
    assert!(!layout.remembers("visitor"));
}

#[test]
fn memory_is_bounded() {
    let g0 = sample::traffic_graph(300, 400, 1);
    let params = LayoutParams {
        memory: 10,
        ..LayoutParams::default()
    };
    let mut layout = Layout::new(params, 1);
    layout.set_graph(&with_edges(&g0, fan("gone", 30)));
    layout.set_graph(&g0);
    let remembered = (0..30)
        .filter(|i| layout.remembers(&format!("gone-leaf-{i}")))
        .count();
    assert_eq!(remembered + usize::from(layout.remembers("gone")), 10);
}

#[test]
fn scrubbing_back_and_forth_does_not_reshuffle() {
    let g0 = sample::traffic_graph(2_000, 3_000, 1);
    let g1 = sample::churn(&g0, 0.1, 2);
    let mut layout = settled(&g0, 5);
    let first = layout.snapshot();
    let mut previous = first.clone();
    for round in 0..6 {
        layout.set_graph(if round % 2 == 0 { &g1 } else { &g0 });
        layout.run(3_000);
        let now = layout.snapshot();
        let step = metrics::stability(&previous, &now);
        assert!(
            step.fraction() < 0.03,
            "round {round}: moved {:.4}",
            step.fraction()
        );
        previous = now;
    }
    // Back at g0 after six moves, the picture is still the first one.
    let drift = metrics::stability(&first, &previous);
    assert_eq!(drift.persisting, g0.nodes.len());
    assert!(drift.fraction() < 0.03, "drifted {:.4}", drift.fraction());
}

#[test]
fn same_seed_and_input_give_the_same_layout() {
    let g0 = sample::traffic_graph(3_000, 5_000, 1);
    let g1 = sample::churn(&g0, 0.05, 2);
    let run = |seed| {
        let mut layout = settled(&g0, seed);
        layout.set_graph(&g1);
        layout.run(3_000);
        layout.snapshot()
    };
    let a = run(9);
    assert_eq!(a.positions, run(9).positions);
    assert_ne!(a.positions, run(10).positions);
}

#[test]
fn thread_count_does_not_change_the_result() {
    // Above the size where steps fan out over threads.
    let graph = sample::traffic_graph(5_000, 8_000, 4);
    let run = |threads| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut layout = Layout::new(LayoutParams::default(), 3);
            layout.set_graph(&graph);
            for _ in 0..30 {
                layout.step();
            }
            layout.snapshot().positions
        })
    };
    assert_eq!(run(1), run(3));
}

#[test]
fn a_diff_moves_the_layout_exactly_like_the_whole_graph() {
    let g0 = sample::traffic_graph(1_000, 1_500, 1);
    let g1 = sample::churn(&g0, 0.05, 2);
    let mut by_graph = settled(&g0, 5);
    let mut by_diff = settled(&g0, 5);
    by_graph.set_graph(&g1);
    by_diff.apply_diff(&GraphDiff::between(&g0, &g1)).unwrap();
    assert_eq!(by_diff.graph(), &g1);
    by_graph.run(3_000);
    by_diff.run(3_000);
    assert_eq!(by_graph.positions(), by_diff.positions());
}

#[test]
fn a_diff_for_another_graph_changes_nothing() {
    let g0 = sample::traffic_graph(200, 300, 1);
    let other = sample::traffic_graph(200, 300, 2);
    let mut layout = settled(&g0, 5);
    let before = layout.snapshot();
    let diff = GraphDiff::between(&other, &sample::churn(&other, 0.2, 3));
    assert!(layout.apply_diff(&diff).is_err());
    assert_eq!(layout.graph(), &g0);
    assert_eq!(layout.graph_version(), before.graph_version);
    assert_eq!(layout.positions(), &before.positions[..]);
}

#[test]
fn steps_report_progress_and_converge() {
    let mut layout = Layout::new(LayoutParams::default(), 1);
    assert!(layout.step().converged, "an empty layout has nothing to do");
    layout.set_graph(&sample::traffic_graph(1_000, 2_000, 1));
    assert!(!layout.is_converged());
    let first = layout.step();
    assert!(first.max_displacement > 0.0 && first.max_displacement >= first.mean_displacement);
    let mut last = first;
    while !last.converged {
        last = layout.step();
        assert!(last.step < 2_000, "no convergence: {last:?}");
    }
    assert!(last.mean_displacement < first.mean_displacement / 10.0);
    assert!(layout.positions().iter().flatten().all(|x| x.is_finite()));
    // Nothing changed: a new identical graph does not warm the layout up.
    let same = layout.graph().clone();
    layout.set_graph(&same);
    assert!(layout.is_converged());
}

#[test]
fn odd_graphs_do_not_panic() {
    let mut layout = Layout::new(LayoutParams::default(), 1);
    // One host talking only to itself.
    layout.set_graph(&with_edges(&Graph::default(), [edge("a", "a")]));
    layout.run(500);
    assert!(layout.position("a").unwrap().iter().all(|x| x.is_finite()));
    // Not normalised: unsorted, duplicated, with an endpoint missing from the nodes.
    let messy = Graph {
        edges: vec![edge("b", "a"), edge("a", "b"), edge("b", "a")],
        ..Graph::default()
    };
    layout.set_graph(&messy);
    assert_eq!(layout.ids().len(), 2);
    layout.run(500);
    let gap = distance(layout.position("a").unwrap(), layout.position("b").unwrap());
    assert!(gap > 0.0 && gap < 2.0 * layout.params().leaf_spring_length);
    // Everything goes.
    layout.set_graph(&Graph::default());
    assert!(layout.step().converged);
}

#[test]
fn parameters_read_from_partial_config() {
    let params: LayoutParams = serde_json::from_str(r#"{"theta": 0.5}"#).unwrap();
    assert_eq!(params.theta, 0.5);
    assert_eq!(params.spring_length, LayoutParams::default().spring_length);
}
