//! Large graphs stay legible: fans and isolated pairs settle into compact groups.

mod layout_common;

use layout_common::{distance, edge, fan, with_edges};
use wiredraw_core::layout::{Layout, LayoutParams, metrics, sample};

/// A traffic-shaped background of 2,000 hosts, a 500-leaf fan, a 300-leaf fan and 50 pairs.
fn settled() -> Layout {
    let background = sample::traffic_graph(2_000, 3_000, 3);
    let pairs = (0..50).map(|i| edge(&format!("pair-a-{i}"), &format!("pair-b-{i}")));
    let graph = with_edges(
        &background,
        fan("big-hub", 500)
            .into_iter()
            .chain(fan("small-hub", 300))
            .chain(pairs),
    );
    let mut layout = Layout::new(LayoutParams::default(), 11);
    layout.set_graph(&graph);
    assert!(layout.run(2_000).converged);
    layout
}

#[test]
fn a_fan_of_500_is_a_tight_ball_around_its_hub() {
    let layout = settled();
    let diameter = metrics::diameter(layout.positions());
    for (hub, leaves) in [("big-hub", 500), ("small-hub", 300)] {
        let centre = layout.position(hub).unwrap();
        let mut reach: Vec<f32> = (0..leaves)
            .map(|i| distance(layout.position(&format!("{hub}-leaf-{i}")).unwrap(), centre))
            .collect();
        reach.sort_by(f32::total_cmp);
        let farthest = reach[leaves - 1];
        assert!(
            farthest < 0.1 * diameter,
            "{hub}: farthest leaf {farthest} of diameter {diameter}"
        );

        // Not a hairball: hardly any other host sits inside the fan's ball.
        let radius = reach[leaves * 95 / 100];
        let intruders = layout
            .ids()
            .iter()
            .zip(layout.positions())
            .filter(|(id, p)| !id.starts_with(hub) && distance(**p, centre) < radius)
            .count();
        assert!(
            intruders < leaves / 20,
            "{hub}: {intruders} other hosts inside its fan"
        );
    }
}

#[test]
fn leaves_stay_with_their_own_hub() {
    let layout = settled();
    let (big, small) = (
        layout.position("big-hub").unwrap(),
        layout.position("small-hub").unwrap(),
    );
    for i in 0..300 {
        let leaf = layout.position(&format!("small-hub-leaf-{i}")).unwrap();
        assert!(distance(leaf, small) < distance(leaf, big));
    }
    for i in 0..500 {
        let leaf = layout.position(&format!("big-hub-leaf-{i}")).unwrap();
        assert!(distance(leaf, big) < distance(leaf, small));
    }
}

#[test]
fn isolated_pairs_are_short_sticks_packed_with_the_rest() {
    let layout = settled();
    let diameter = metrics::diameter(layout.positions());
    let params = layout.params();
    for i in 0..50 {
        let a = layout.position(&format!("pair-a-{i}")).unwrap();
        let b = layout.position(&format!("pair-b-{i}")).unwrap();
        let length = distance(a, b);
        assert!(
            length < 2.0 * params.leaf_spring_length,
            "pair {i} is {length} long"
        );
        // Packed: no pair drifts off beyond the picture.
        assert!(distance(a, [0.0; 3]) < diameter, "pair {i} drifted off");
    }
    assert!(diameter.is_finite() && diameter > 0.0);
}

#[test]
fn quality_is_reasonable_on_a_traffic_graph() {
    let layout = settled();
    let stress = metrics::normalised_stress(&layout, 64).unwrap();
    assert!(stress < 0.3, "normalised stress {stress}");
    let cv = metrics::edge_length_cv(&layout).unwrap();
    assert!(cv < 1.0, "edge length coefficient of variation {cv}");
}

#[test]
fn spread_measures_what_lies_beyond_the_largest_component() {
    let mut one = Layout::new(LayoutParams::default(), 5);
    one.set_graph(&with_edges(&Default::default(), fan("hub", 50)));
    assert!(one.run(2_000).converged);
    assert_eq!(metrics::spread(&one), Some(1.0));
    // The 2,000-host background is the largest component; the two fans and the pairs are
    // packed around it, not far off.
    let spread = metrics::spread(&settled()).unwrap();
    assert!(spread > 1.0 && spread < 1.5, "spread {spread}");
}
