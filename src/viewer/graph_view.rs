//! From the graph on screen, the user's filters and the layout's positions to a [`Scene`]:
//! shared by the window and the headless frame renderer.

use crate::net::api::GraphResponse;
use crate::render::{Color, GraphStyle, Legend, Scene};
use std::collections::{BTreeSet, HashSet};
use wiredraw_core::{Edge, Graph, Node};

/// What the user chose to hide.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    /// Transport protocols whose edges are hidden (`tcp`, `udp`, `icmp`).
    pub hidden_protos: BTreeSet<String>,
    /// Services whose edges are hidden; `"-"` stands for edges without a service.
    pub hidden_services: BTreeSet<String>,
    /// Hosts with fewer bytes than this are hidden, with their edges.
    pub min_bytes: u64,
    /// When set, only edges with a connection on this port are shown, with the `(src, dst)`
    /// pairs that have one (from the window's connections).
    pub port: Option<PortFilter>,
    /// When set, only the edges of these hosts (those the window's notices name) are shown,
    /// with the hosts at their other ends; these hosts stay even without an edge.
    pub notice_hosts: Option<HashSet<String>>,
}

/// Edges that carried a given port.
#[derive(Debug, Clone, PartialEq)]
pub struct PortFilter {
    pub port: u16,
    pub edges: HashSet<(String, String)>,
}

/// The label standing for "no service" in [`Filters::hidden_services`].
pub const NO_SERVICE: &str = "-";

impl Filters {
    /// Whether any filter hides something.
    pub fn is_active(&self) -> bool {
        !self.hidden_protos.is_empty()
            || !self.hidden_services.is_empty()
            || self.min_bytes > 0
            || self.port.is_some()
            || self.notice_hosts.is_some()
    }

    fn keeps_edge(&self, edge: &Edge) -> bool {
        let proto_shown = edge.protos.is_empty()
            || edge
                .protos
                .iter()
                .any(|p| !self.hidden_protos.contains(p.as_str()));
        let service_shown = if edge.services.is_empty() {
            !self.hidden_services.contains(NO_SERVICE)
        } else {
            edge.services
                .iter()
                .any(|s| !self.hidden_services.contains(s.as_str()))
        };
        let port_shown = self
            .port
            .as_ref()
            .is_none_or(|filter| filter.edges.contains(&(edge.src.clone(), edge.dst.clone())));
        let notice_shown = self
            .notice_hosts
            .as_ref()
            .is_none_or(|hosts| hosts.contains(&edge.src) || hosts.contains(&edge.dst));
        proto_shown && service_shown && port_shown && notice_shown
    }

    /// The part of `graph` left visible: hosts under the traffic threshold go with their
    /// edges; edges of hidden protocols, services or ports, or of no notice host, go; when an
    /// edge filter is on, hosts left without any edge go too, notice hosts excepted. The
    /// [`Graph`] invariant holds for the result.
    pub fn apply(&self, graph: &Graph) -> Graph {
        let heavy = |node: &Node| node.bytes >= self.min_bytes;
        let kept_nodes: HashSet<&str> = graph
            .nodes
            .iter()
            .filter(|n| heavy(n))
            .map(|n| n.id.as_str())
            .collect();
        let edges: Vec<Edge> = graph
            .edges
            .iter()
            .filter(|e| kept_nodes.contains(e.src.as_str()) && kept_nodes.contains(e.dst.as_str()))
            .filter(|e| self.keeps_edge(e))
            .cloned()
            .collect();
        let edge_filter_on = !self.hidden_protos.is_empty()
            || !self.hidden_services.is_empty()
            || self.port.is_some()
            || self.notice_hosts.is_some();
        let named = |id: &str| self.notice_hosts.as_ref().is_some_and(|h| h.contains(id));
        let touched: HashSet<&str> = edges
            .iter()
            .flat_map(|e| [e.src.as_str(), e.dst.as_str()])
            .collect();
        let nodes = graph
            .nodes
            .iter()
            .filter(|n| kept_nodes.contains(n.id.as_str()))
            .filter(|n| !edge_filter_on || touched.contains(n.id.as_str()) || named(&n.id))
            .cloned()
            .collect();
        Graph {
            from: graph.from,
            to: graph.to,
            nodes,
            edges,
        }
    }
}

/// A scene ready to animate, with what its nodes and edges stand for.
#[derive(Debug, Clone, Default)]
pub struct SceneParts {
    pub scene: Scene,
    /// `ids[i]` is the address of `scene.nodes[i]`.
    pub ids: Vec<String>,
    pub legend: Legend,
}

/// Builds the scene of the visible part of `graph`. Hosts the layout has not placed yet
/// (`position` answers `None`) are left out until it has. Hosts with an inventory colour take
/// it.
pub fn build_scene(
    graph: &GraphResponse,
    filters: &Filters,
    style: &GraphStyle,
    mut position: impl FnMut(&str) -> Option<[f32; 3]>,
) -> SceneParts {
    let visible = filters.apply(&graph.to_graph());
    let mut positions = Vec::with_capacity(visible.nodes.len());
    let mut placed = HashSet::with_capacity(visible.nodes.len());
    let mut nodes = Vec::with_capacity(visible.nodes.len());
    for node in visible.nodes {
        if let Some(p) = position(&node.id).filter(|p| p.iter().all(|x| x.is_finite())) {
            positions.push(p);
            placed.insert(node.id.clone());
            nodes.push(node);
        }
    }
    let edges = visible
        .edges
        .into_iter()
        .filter(|e| placed.contains(&e.src) && placed.contains(&e.dst))
        .collect();
    let placed_graph = Graph {
        from: visible.from,
        to: visible.to,
        nodes,
        edges,
    };
    let (mut scene, legend) = style.build_scene(&placed_graph, &positions);
    let ids: Vec<String> = placed_graph.nodes.into_iter().map(|n| n.id).collect();
    for (instance, id) in scene.nodes.iter_mut().zip(&ids) {
        let inventory_color = graph
            .nodes
            .binary_search_by(|n| n.id.as_str().cmp(id))
            .ok()
            .and_then(|i| graph.nodes[i].color.as_deref())
            .and_then(Color::from_hex);
        if let Some(color) = inventory_color {
            instance.color = color;
        }
    }
    SceneParts { scene, ids, legend }
}

/// What to write beside a host: its inventory name with the address, or the address.
pub fn host_label(graph: &GraphResponse, id: &str) -> String {
    match graph
        .nodes
        .binary_search_by(|n| n.id.as_str().cmp(id))
        .ok()
        .and_then(|i| graph.nodes[i].name.as_deref())
    {
        Some(name) => format!("{name} ({id})"),
        None => id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::api::GraphNode;

    fn node(id: &str, bytes: u64) -> GraphNode {
        GraphNode {
            id: id.into(),
            conns: 1,
            bytes,
            name: None,
            group: None,
            color: None,
        }
    }

    fn edge(src: &str, dst: &str, proto: &str, service: Option<&str>) -> Edge {
        Edge {
            src: src.into(),
            dst: dst.into(),
            conns: 1,
            bytes: 10,
            protos: [proto.into()].into(),
            services: service.map(Into::into).into_iter().collect(),
        }
    }

    fn graph() -> GraphResponse {
        GraphResponse {
            from: Some(0.0),
            to: Some(10.0),
            nodes: vec![
                node("10.0.0.1", 1000),
                node("10.0.0.2", 500),
                GraphNode {
                    name: Some("resolver".into()),
                    color: Some("#ff0000".into()),
                    ..node("10.0.0.3", 50)
                },
                node("10.0.0.4", 5),
            ],
            edges: vec![
                edge("10.0.0.1", "10.0.0.2", "tcp", Some("http")),
                edge("10.0.0.1", "10.0.0.3", "udp", Some("dns")),
                edge("10.0.0.4", "10.0.0.2", "tcp", None),
            ],
        }
    }

    #[test]
    fn filters_hide_services_protocols_and_light_hosts() {
        let full = graph().to_graph();
        let mut filters = Filters::default();
        assert_eq!(filters.apply(&full), full);
        filters.hidden_services.insert("dns".into());
        let visible = filters.apply(&full);
        assert_eq!(visible.edges.len(), 2);
        assert!(
            visible.nodes.iter().all(|n| n.id != "10.0.0.3"),
            "left alone"
        );
        visible.validate().unwrap();

        let filters = Filters {
            min_bytes: 100,
            ..Filters::default()
        };
        let visible = filters.apply(&full);
        assert_eq!(visible.nodes.len(), 2);
        assert_eq!(visible.edges.len(), 1);

        let filters = Filters {
            port: Some(PortFilter {
                port: 53,
                edges: [("10.0.0.1".to_string(), "10.0.0.3".to_string())].into(),
            }),
            ..Filters::default()
        };
        let visible = filters.apply(&full);
        assert_eq!(visible.edges.len(), 1);
        assert_eq!(visible.nodes.len(), 2);

        // A notice names 10.0.0.3 and a host not in the graph: its edge and peer stay.
        let filters = Filters {
            notice_hosts: Some(["10.0.0.3".to_string(), "10.9.9.9".to_string()].into()),
            ..Filters::default()
        };
        let visible = filters.apply(&full);
        let ids: Vec<&str> = visible.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["10.0.0.1", "10.0.0.3"]);
        assert_eq!(visible.edges.len(), 1);
        visible.validate().unwrap();
        // A named host whose edges another filter hides stays, alone.
        let filters = Filters {
            hidden_services: ["dns".to_string()].into(),
            ..filters
        };
        let ids: Vec<String> = filters
            .apply(&full)
            .nodes
            .into_iter()
            .map(|n| n.id)
            .collect();
        assert_eq!(ids, ["10.0.0.3"]);
    }

    #[test]
    fn scenes_leave_out_unplaced_hosts_and_take_inventory_colours() {
        let graph = graph();
        let parts = build_scene(&graph, &Filters::default(), &GraphStyle::default(), |id| {
            (id != "10.0.0.4").then_some([1.0, 2.0, 3.0])
        });
        assert_eq!(parts.ids, ["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
        assert_eq!(parts.scene.edges.len(), 2);
        assert_eq!(parts.scene.nodes[2].color, Color::rgb(255, 0, 0));
        assert_eq!(host_label(&graph, "10.0.0.3"), "resolver (10.0.0.3)");
        assert_eq!(host_label(&graph, "10.0.0.1"), "10.0.0.1");
    }
}
