//! Layout steps and graph diffs at the sizes the project promises (see docs/PERFORMANCE.md):
//! one step at 10k hosts / 20k edges and 100k / 200k, and a diff of two 10k-edge graphs.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use wiredraw_core::GraphDiff;
use wiredraw_core::layout::{Layout, LayoutParams, sample};

fn layout_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("layout_step");
    group.sample_size(10);
    for (nodes, edges) in [(10_000, 20_000), (100_000, 200_000)] {
        let graph = sample::traffic_graph(nodes, edges, 1);
        let mut layout = Layout::new(LayoutParams::default(), 1);
        layout.set_graph(&graph);
        // Past the first chaotic steps, as in steady use.
        for _ in 0..20 {
            layout.step();
        }
        group.bench_function(
            BenchmarkId::from_parameter(format!("{nodes}n_{edges}e")),
            |b| b.iter(|| black_box(layout.step())),
        );
    }
    group.finish();
}

fn incremental_update(c: &mut Criterion) {
    let graph = sample::traffic_graph(10_000, 20_000, 1);
    let next = sample::churn(&graph, 0.05, 2);
    let mut layout = Layout::new(LayoutParams::default(), 1);
    layout.set_graph(&graph);
    c.bench_function("layout_set_graph_10k_churn5pct", |b| {
        b.iter(|| {
            layout.set_graph(black_box(&next));
            layout.set_graph(black_box(&graph));
        })
    });
}

fn diff(c: &mut Criterion) {
    let old = sample::traffic_graph(5_000, 10_000, 1);
    let new = sample::churn(&old, 0.05, 2);
    let diff = GraphDiff::between(&old, &new);
    c.bench_function("diff_between_10k_edges", |b| {
        b.iter(|| black_box(GraphDiff::between(black_box(&old), black_box(&new))))
    });
    c.bench_function("diff_apply_10k_edges", |b| {
        b.iter(|| black_box(diff.apply(black_box(&old)).expect("diff fits")))
    });
}

criterion_group!(benches, layout_step, incremental_update, diff);
criterion_main!(benches);
