//! The graph on screen: the newest answer, the background layout following its diffs, and the
//! animated scene drawn from both.

use super::backend::{GraphRequest, GraphUpdate};
use super::graph_view::{Filters, build_scene};
use super::panels::{NoticeRow, notice_rows};
use crate::net::api::{GraphResponse, HostRecordPage};
use crate::render::{GraphStyle, Legend, Scene, SceneAnimator};
use std::collections::HashSet;
use std::sync::Arc;
use wiredraw_core::layout::{FrameReader, LayoutParams, LayoutWorker};

/// Seconds hosts take to fade in or out and to glide to new positions.
pub const TRANSITION_SECS: f64 = 0.6;

/// The graph shown, its layout and its animated scene.
pub struct GraphState {
    shown: Option<Arc<GraphResponse>>,
    shown_request: Option<GraphRequest>,
    /// The records about hosts that came with the graph shown.
    shown_records: Arc<HostRecordPage>,
    /// The hosts they name, flagged in the scene.
    flagged: HashSet<String>,
    /// They, grouped into the rows of the viewer's list once per answer.
    notice_rows: Vec<NoticeRow>,
    layout: LayoutWorker,
    reader: FrameReader,
    /// Layout frame the current target scene was built from.
    layout_version: u64,
    /// Diffs the layout refused so far (each is answered by sending the whole graph).
    rejected_seen: u64,
    animator: SceneAnimator,
    /// The target must be rebuilt (new graph or filters) even if the layout did not move.
    dirty: bool,
    /// The last update found a transition under way.
    was_animating: bool,
    pub style: GraphStyle,
    scene: Arc<Scene>,
    ids: Vec<String>,
    legend: Legend,
    /// Updates applied since the start, and those refused as older than the one shown.
    pub updates_applied: u64,
    pub updates_stale: u64,
}

impl GraphState {
    pub fn new(seed: u64) -> GraphState {
        let layout = LayoutWorker::spawn(LayoutParams::default(), seed);
        let reader = layout.reader();
        GraphState {
            shown: None,
            shown_request: None,
            shown_records: Arc::default(),
            flagged: HashSet::new(),
            notice_rows: Vec::new(),
            layout,
            reader,
            layout_version: 0,
            rejected_seen: 0,
            animator: SceneAnimator::new(TRANSITION_SECS),
            dirty: false,
            was_animating: false,
            style: GraphStyle::default(),
            scene: Arc::new(Scene::default()),
            ids: Vec::new(),
            legend: Legend::default(),
            updates_applied: 0,
            updates_stale: 0,
        }
    }

    /// The newest answer shown.
    pub fn shown(&self) -> Option<&Arc<GraphResponse>> {
        self.shown.as_ref()
    }

    /// The request whose answer is shown.
    pub fn shown_request(&self) -> Option<GraphRequest> {
        self.shown_request
    }

    /// The records about hosts (notices, …) stamped in the window shown.
    pub fn shown_records(&self) -> &Arc<HostRecordPage> {
        &self.shown_records
    }

    /// The rows of the viewer's list of those records: repeats grouped.
    pub fn notice_rows(&self) -> &[NoticeRow] {
        &self.notice_rows
    }

    /// What the records of the window shown that name host `id` are called, newest first, each
    /// once.
    pub fn notices_of(&self, id: &str) -> Vec<&str> {
        let mut titles: Vec<&str> = Vec::new();
        for row in &self.notice_rows {
            if row.hosts.iter().any(|host| host == id) && !titles.contains(&row.title.as_str()) {
                titles.push(&row.title);
            }
        }
        titles
    }

    /// The hosts the records of the window shown name.
    pub fn flagged(&self) -> &HashSet<String> {
        &self.flagged
    }

    /// Takes a graph answer: an answer older than the one shown is refused (returns false);
    /// otherwise its diff goes to the layout, which adds and removes just those hosts.
    pub fn apply(&mut self, update: GraphUpdate) -> bool {
        if self
            .shown_request
            .is_some_and(|shown| update.request.generation <= shown.generation)
        {
            self.updates_stale += 1;
            return false;
        }
        if self.shown.is_none() {
            self.layout.set_graph(update.graph.to_graph());
        } else if !update.diff.is_empty() {
            self.layout.apply_diff(update.diff);
        }
        self.shown = Some(update.graph);
        self.shown_request = Some(update.request);
        self.flagged = update
            .host_records
            .records
            .iter()
            .flat_map(|record| &record.hosts)
            .map(ToString::to_string)
            .collect();
        self.notice_rows = notice_rows(&update.host_records.records);
        self.shown_records = update.host_records;
        self.updates_applied += 1;
        self.dirty = true;
        true
    }

    /// Rebuilds the scene when the filters changed.
    pub fn invalidate(&mut self) {
        self.dirty = true;
    }

    /// Whether the layout holds exactly the hosts shown and has come to rest.
    pub fn is_settled(&mut self) -> bool {
        let Some(shown) = &self.shown else {
            return false;
        };
        let frame = self.reader.latest();
        frame.snapshot.stats.converged
            && frame.snapshot.ids.len() == shown.nodes.len()
            && frame
                .snapshot
                .ids
                .iter()
                .zip(&shown.nodes)
                .all(|(id, node)| *id == node.id)
    }

    /// Advances the animation to `now` (seconds); returns whether anything on screen moved.
    pub fn update(&mut self, now: f64, filters: &Filters) -> bool {
        let frame = Arc::clone(self.reader.latest());
        if frame.rejected_diffs > self.rejected_seen {
            self.rejected_seen = frame.rejected_diffs;
            if let Some(shown) = &self.shown {
                tracing::debug!(reason = ?frame.last_rejection, "layout refused a diff; resending the graph");
                self.layout.set_graph(shown.to_graph());
            }
        }
        let layout_moved = frame.version != self.layout_version;
        if let Some(shown) = &self.shown
            && (layout_moved || self.dirty)
        {
            let mut parts = build_scene(shown, filters, &self.style, |id| {
                frame.snapshot.position(id)
            });
            for (node, id) in parts.scene.nodes.iter_mut().zip(&parts.ids) {
                node.state.flagged = self.flagged.contains(id);
            }
            self.animator.set_target(now, &parts.scene, &parts.ids);
            self.legend = parts.legend;
            self.layout_version = frame.version;
            self.dirty = false;
        }
        let animating = self.animator.is_animating(now);
        // The frame after the last animated one is the settled scene: hosts that faded out are
        // gone from it, so it must be drawn too.
        let finished = self.was_animating && !animating;
        self.was_animating = animating;
        if layout_moved || animating || finished || self.scene.nodes.is_empty() {
            self.scene = Arc::new(self.animator.frame(now).clone());
            self.ids = self.animator.node_ids().map(str::to_string).collect();
        }
        layout_moved || animating || finished
    }

    /// The scene to draw; node `i` is host [`ids`](Self::ids)`[i]`.
    pub fn scene(&self) -> &Arc<Scene> {
        &self.scene
    }

    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    pub fn legend(&self) -> &Legend {
        &self.legend
    }

    /// The layout's current position of a host.
    pub fn position(&mut self, id: &str) -> Option<[f32; 3]> {
        self.reader.latest().snapshot.position(id)
    }

    /// Hosts the layout holds now.
    pub fn layout_hosts(&mut self) -> usize {
        self.reader.latest().snapshot.ids.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::api::{GraphNode, StampedHostRecord};
    use std::time::{Duration, Instant};
    use wiredraw_core::{Edge, Graph, GraphDiff};

    fn response(ids: &[&str], edges: &[(&str, &str)]) -> GraphResponse {
        GraphResponse {
            from: Some(0.0),
            to: Some(10.0),
            nodes: ids
                .iter()
                .map(|id| GraphNode {
                    id: id.to_string(),
                    conns: 1,
                    bytes: 100,
                    name: None,
                    group: None,
                    color: None,
                })
                .collect(),
            edges: edges
                .iter()
                .map(|(s, d)| Edge {
                    src: s.to_string(),
                    dst: d.to_string(),
                    conns: 1,
                    bytes: 100,
                    protos: ["tcp".into()].into(),
                    services: ["http".into()].into(),
                })
                .collect(),
        }
    }

    fn update(generation: u64, before: &Graph, graph: GraphResponse) -> GraphUpdate {
        GraphUpdate {
            request: GraphRequest {
                generation,
                span: (0.0, 10.0),
            },
            diff: GraphDiff::between(before, &graph.to_graph()),
            graph: Arc::new(graph),
            host_records: Arc::default(),
            fetch_ms: 0.0,
        }
    }

    /// Steps the animation until the scene shows exactly `ids` (the layout runs on its own
    /// thread, so this waits for it).
    fn settle(state: &mut GraphState, ids: &[&str]) {
        let started = Instant::now();
        let mut now = 0.0;
        loop {
            now += 0.1;
            state.update(now, &Filters::default());
            let mut shown: Vec<&str> = state.ids().iter().map(String::as_str).collect();
            shown.sort();
            let fully_shown = state.scene().nodes.iter().all(|n| n.fade >= 1.0);
            if shown == ids && fully_shown {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "scene shows {shown:?}, expected {ids:?}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn diffs_add_and_remove_hosts_through_the_layout() {
        let mut state = GraphState::new(1);
        let first = response(&["10.0.0.1", "10.0.0.2"], &[("10.0.0.1", "10.0.0.2")]);
        assert!(state.apply(update(1, &Graph::default(), first.clone())));
        settle(&mut state, &["10.0.0.1", "10.0.0.2"]);
        let kept = state.position("10.0.0.1").unwrap();

        let second = response(&["10.0.0.1", "10.0.0.3"], &[("10.0.0.1", "10.0.0.3")]);
        assert!(state.apply(update(2, &first.to_graph(), second.clone())));
        settle(&mut state, &["10.0.0.1", "10.0.0.3"]);
        assert_eq!(state.scene().edges.len(), 1);
        assert_eq!(state.layout_hosts(), 2);
        let moved = state.position("10.0.0.1").unwrap();
        let distance: f32 = kept
            .iter()
            .zip(moved)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f32>()
            .sqrt();
        assert!(
            distance < 30.0,
            "a kept host stays near where it was: {distance}"
        );

        assert!(
            !state.apply(update(1, &second.to_graph(), first)),
            "an older answer is refused"
        );
        assert_eq!((state.updates_applied, state.updates_stale), (2, 1));
    }

    #[test]
    fn the_hosts_a_window_record_names_are_flagged_in_its_scene() {
        let mut state = GraphState::new(3);
        let graph = response(&["10.0.0.1", "10.0.0.2"], &[("10.0.0.1", "10.0.0.2")]);
        let mut first = update(1, &Graph::default(), graph.clone());
        first.host_records = Arc::new(HostRecordPage {
            records: vec![StampedHostRecord {
                ts: 5.0,
                // The other host it names is not in the graph.
                hosts: vec!["10.0.0.2".parse().unwrap(), "10.9.9.9".parse().unwrap()],
                log_type: "notice".into(),
                record: serde_json::json!({"ts": 5.0, "note": "Scan::Port_Scan"}),
            }],
            total: 1,
        });
        state.apply(first);
        settle(&mut state, &["10.0.0.1", "10.0.0.2"]);
        fn flagged(state: &GraphState) -> Vec<&str> {
            let nodes = state.scene().nodes.iter();
            let ids = state.ids().iter();
            ids.zip(nodes)
                .filter(|(_, node)| node.state.flagged)
                .map(|(id, _)| id.as_str())
                .collect()
        }
        assert_eq!(flagged(&state), ["10.0.0.2"]);
        assert_eq!(state.flagged().len(), 2);
        assert_eq!(state.notices_of("10.0.0.2"), ["Scan::Port_Scan"]);
        assert!(state.notices_of("10.0.0.1").is_empty());
        assert_eq!(state.shown_records().total, 1);
        // The next window has no records: nothing stays flagged.
        state.apply(update(2, &graph.to_graph(), graph.clone()));
        state.update(100.0, &Filters::default());
        assert!(flagged(&state).is_empty());
    }

    #[test]
    fn a_diff_that_does_not_fit_is_answered_with_the_whole_graph() {
        let mut state = GraphState::new(2);
        let first = response(&["10.0.0.1", "10.0.0.2"], &[("10.0.0.1", "10.0.0.2")]);
        state.apply(update(1, &Graph::default(), first));
        settle(&mut state, &["10.0.0.1", "10.0.0.2"]);
        // Diffed against a graph the layout never saw: it removes a host that is not there.
        let unrelated = response(&["10.0.0.9"], &[]);
        let third = response(&["10.0.0.5", "10.0.0.6"], &[("10.0.0.5", "10.0.0.6")]);
        state.apply(update(2, &unrelated.to_graph(), third));
        settle(&mut state, &["10.0.0.5", "10.0.0.6"]);
    }
}
