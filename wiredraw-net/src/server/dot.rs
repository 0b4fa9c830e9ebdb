//! Graphviz DOT export of a window's graph.
//!
//! Nodes are labelled with their address and, when known, their best name; a host that the
//! window's notices name is outlined in red, with the notices in its label. Edges carry their
//! byte count, with a pen width growing with the log of the bytes so heavy talkers stand out
//! without drowning the rest.

use crate::api::{GraphResponse, HostRecordPage, host_record_title};
use compact_str::CompactString;
use std::collections::BTreeMap;
use std::fmt::Write;
use wiredraw_core::zeek::format_utc;

/// Thickest pen, for the edge with the most bytes.
const MAX_PEN_WIDTH: f64 = 8.0;

/// Outline of the hosts the window's notices name (the viewer's alert colour).
const NOTICE_OUTLINE: &str = "#ff5640";
/// Notices named in a host's label at most; the rest are counted.
const NOTICES_IN_LABEL: usize = 3;

/// The graph as a DOT digraph. Node `name`s are used as the best name, `color`s as fill; the
/// hosts `notices` name (the records about hosts stamped in the window) are outlined, and
/// their notices (or the log types of other records) written under their name.
pub fn render(graph: &GraphResponse, notices: &HostRecordPage) -> String {
    let mut titles: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for record in &notices.records {
        let title = host_record_title(&record.log_type, &record.record);
        for host in &record.hosts {
            let listed = titles.entry(host.to_string()).or_default();
            if !listed.contains(&title) {
                listed.push(title.clone());
            }
        }
    }
    let mut out = String::with_capacity(128 + graph.nodes.len() * 64 + graph.edges.len() * 80);
    out.push_str("digraph wiredraw {\n");
    out.push_str("  graph [rankdir=LR, overlap=false, fontname=\"Helvetica\"");
    if let (Some(from), Some(to)) = (graph.from, graph.to) {
        let window = format!("{} to {} UTC", format_utc(from), format_utc(to));
        let _ = write!(out, ", label={}", quote(&window));
    }
    out.push_str("];\n");
    out.push_str("  node [shape=box, style=\"rounded,filled\", fillcolor=\"#eeeeee\", fontname=\"Helvetica\"];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=10];\n");
    for node in &graph.nodes {
        let mut label = match &node.name {
            Some(name) => format!("{}\n{name}", node.id),
            None => node.id.clone(),
        };
        let named = titles.get(&node.id);
        if let Some(named) = named {
            let _ = write!(
                label,
                "\n⚠ {}",
                named[..named.len().min(NOTICES_IN_LABEL)].join(", ")
            );
            if named.len() > NOTICES_IN_LABEL {
                let _ = write!(label, " (+{})", named.len() - NOTICES_IN_LABEL);
            }
        }
        let _ = write!(out, "  {} [label={}", quote(&node.id), quote(&label));
        if named.is_some() {
            let _ = write!(out, ", color={}, penwidth=2.5", quote(NOTICE_OUTLINE));
        }
        if let Some(group) = &node.group {
            let _ = write!(out, ", tooltip={}", quote(group));
        }
        if let Some(color) = &node.color {
            let _ = write!(out, ", fillcolor={}", quote(color));
        }
        out.push_str("];\n");
    }
    let max_bytes = graph.edges.iter().map(|e| e.bytes).max().unwrap_or(0);
    for edge in &graph.edges {
        let width = pen_width(edge.bytes, max_bytes);
        let services: Vec<&str> = edge.services.iter().map(CompactString::as_str).collect();
        let mut label = wiredraw_core::format_bytes(edge.bytes);
        if !services.is_empty() {
            let _ = write!(label, "\n{}", services.join(","));
        }
        let _ = writeln!(
            out,
            "  {} -> {} [label={}, penwidth={width:.2}, weight={}];",
            quote(&edge.src),
            quote(&edge.dst),
            quote(&label),
            edge.conns.max(1)
        );
    }
    out.push_str("}\n");
    out
}

/// A DOT quoted string. Inside quotes only `"` needs escaping, but a backslash starts label
/// escapes (`\n`, `\N`, …), so backslashes are doubled; control characters become spaces and
/// newlines become DOT's own `\n`.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn pen_width(bytes: u64, max_bytes: u64) -> f64 {
    if max_bytes == 0 {
        return 1.0;
    }
    let share = ((bytes as f64) + 1.0).ln() / ((max_bytes as f64) + 1.0).ln();
    1.0 + (MAX_PEN_WIDTH - 1.0) * share
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::GraphNode;
    use wiredraw_core::Edge;

    #[test]
    fn quoting_escapes_what_dot_would_misread() {
        assert_eq!(quote("plain"), "\"plain\"");
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
        assert_eq!(quote("c:\\N"), "\"c:\\\\N\"");
        assert_eq!(quote("x\ny\u{7}"), "\"x\\ny \"");
    }

    #[test]
    fn nodes_and_edges_are_written_with_names_and_widths() {
        let node = |id: &str, name: Option<&str>| GraphNode {
            id: id.into(),
            conns: 1,
            bytes: 1,
            name: name.map(Into::into),
            group: None,
            color: Some("#ff0000".into()),
        };
        let edge = |src: &str, dst: &str, bytes| Edge {
            src: src.into(),
            dst: dst.into(),
            conns: 2,
            bytes,
            protos: ["tcp".into()].into(),
            services: ["http".into()].into(),
        };
        let graph = GraphResponse {
            from: Some(0.0),
            to: Some(10.0),
            nodes: vec![
                node("10.0.0.1", Some("evil \"host\"")),
                node("10.0.0.2", None),
                node("::1", None),
            ],
            edges: vec![
                edge("10.0.0.1", "10.0.0.2", 1_500_000),
                edge("10.0.0.2", "::1", 0),
            ],
        };
        let notices = HostRecordPage {
            records: vec![crate::api::StampedHostRecord {
                ts: 5.0,
                hosts: vec!["::1".parse().unwrap()],
                log_type: "notice".into(),
                record: serde_json::json!({"ts": 5.0, "note": "Scan::Port_Scan"}),
            }],
            total: 1,
        };
        let dot = render(&graph, &notices);
        assert!(dot.starts_with("digraph wiredraw {\n") && dot.ends_with("}\n"));
        assert!(
            dot.contains(
                "\"10.0.0.1\" [label=\"10.0.0.1\\nevil \\\"host\\\"\", fillcolor=\"#ff0000\"];"
            ),
            "{dot}"
        );
        assert!(
            dot.contains("\"10.0.0.1\" -> \"10.0.0.2\" [label=\"1.5 MB\\nhttp\", penwidth=8.00"),
            "{dot}"
        );
        assert!(
            dot.contains("\"10.0.0.2\" -> \"::1\" [label=\"0 B\\nhttp\", penwidth=1.00"),
            "{dot}"
        );
        assert!(
            dot.contains(
                "\"::1\" [label=\"::1\\n⚠ Scan::Port_Scan\", color=\"#ff5640\", penwidth=2.5"
            ),
            "{dot}"
        );
        assert!(
            !dot.contains("\"10.0.0.2\" [label=\"10.0.0.2\", color"),
            "{dot}"
        );
    }
}
