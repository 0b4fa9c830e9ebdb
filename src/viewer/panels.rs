//! The side panels: what a clicked host or connection is, and the search, filter, legend and
//! export controls.

use super::format_utc;
use super::graph_view::{Filters, NO_SERVICE};
use super::timeline_ui::format_duration;
use crate::net::api::{EdgeConnection, EdgeResponse, GraphResponse, NodeResponse};
use std::collections::BTreeSet;
use wiredraw_core::history::conn_state_meaning;
use wiredraw_core::{Connection, format_bytes};

/// Most connections of an edge drawn as tiles at once; the rest are a click away.
const CONNECTIONS_PER_PAGE: usize = 100;

/// The details of a host.
pub fn node_panel(
    ui: &mut egui::Ui,
    node: &NodeResponse,
    graph: Option<&GraphResponse>,
) -> Option<String> {
    let mut fly_to = None;
    ui.heading(&node.addr);
    if let Some(name) = &node.name {
        ui.label(egui::RichText::new(name).strong());
    }
    if let Some(group) = &node.group {
        ui.label(format!("group: {group}"));
    }
    egui::Grid::new("node facts").num_columns(2).show(ui, |ui| {
        ui.label("connections out");
        ui.monospace(node.conns_as_orig.to_string());
        ui.end_row();
        ui.label("connections in");
        ui.monospace(node.conns_as_resp.to_string());
        ui.end_row();
        ui.label("bytes");
        ui.monospace(format_bytes(node.bytes));
        ui.end_row();
        ui.label("window");
        ui.monospace(format!(
            "{} + {}",
            format_utc(node.from),
            format_duration(node.to - node.from)
        ));
        ui.end_row();
    });
    ui.separator();
    ui.strong("DNS names");
    if node.dns_names.is_empty() {
        ui.weak("none seen");
    }
    for name in node.dns_names.iter().take(20) {
        ui.horizontal(|ui| {
            ui.monospace(&name.name);
            ui.weak(format!("×{}", name.count));
        });
    }
    ui.separator();
    ui.strong("Top peers");
    egui::Grid::new("peers")
        .num_columns(3)
        .striped(true)
        .show(ui, |ui| {
            for peer in &node.peers {
                let on_screen = graph.is_some_and(|g| {
                    g.nodes
                        .binary_search_by(|n| n.id.as_str().cmp(&peer.addr))
                        .is_ok()
                });
                if ui
                    .add_enabled(on_screen, egui::Link::new(&peer.addr))
                    .clicked()
                {
                    fly_to = Some(peer.addr.clone());
                }
                ui.monospace(match peer.conns {
                    1 => "1 conn".to_string(),
                    conns => format!("{conns} conns"),
                });
                ui.monospace(format_bytes(peer.bytes));
                ui.end_row();
            }
        });
    fly_to
}

/// The details of a connection arrow: totals, then every connection with its decoded history
/// and every attached record as a tile.
pub fn edge_panel(ui: &mut egui::Ui, edge: &EdgeResponse, shown: &mut usize) {
    ui.heading(format!("{} -> {}", edge.src, edge.dst));
    let protos: BTreeSet<&str> = edge
        .connections
        .iter()
        .map(|c| c.connection.proto.as_str())
        .collect();
    let services: BTreeSet<&str> = edge
        .connections
        .iter()
        .filter_map(|c| c.connection.service.as_deref())
        .collect();
    // The payload the arrow's width stands for, not Zeek's counts where they exceed what the
    // packets carried (each tile says where that happened).
    let (sent, received) = edge
        .connections
        .iter()
        .map(|c| c.connection.payload_bytes())
        .fold((0u64, 0u64), |(sent, received), (orig, resp)| {
            (sent.saturating_add(orig), received.saturating_add(resp))
        });
    let duration: f64 = edge
        .connections
        .iter()
        .filter_map(|c| c.connection.duration)
        .sum();
    egui::Grid::new("edge facts").num_columns(2).show(ui, |ui| {
        ui.label("protocol");
        ui.monospace(join(&protos));
        ui.end_row();
        ui.label("service");
        ui.monospace(if services.is_empty() {
            "-".to_string()
        } else {
            join(&services)
        });
        ui.end_row();
        ui.label("connections");
        ui.monospace(edge.connections.len().to_string());
        ui.end_row();
        ui.label(format!("bytes {} -> {}", edge.src, edge.dst));
        ui.monospace(format_bytes(sent));
        ui.end_row();
        ui.label(format!("bytes {} -> {}", edge.dst, edge.src));
        ui.monospace(format_bytes(received));
        ui.end_row();
        ui.label("total duration");
        ui.monospace(format_duration(duration));
        ui.end_row();
    });
    let types = edge.detail_types();
    if !types.is_empty() {
        ui.label(format!(
            "attached: {}",
            types.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    ui.separator();
    for connection in edge.connections.iter().take(*shown) {
        connection_tile(ui, connection);
    }
    if edge.connections.len() > *shown
        && ui
            .button(format!(
                "show {} more",
                (edge.connections.len() - *shown).min(CONNECTIONS_PER_PAGE)
            ))
            .clicked()
    {
        *shown += CONNECTIONS_PER_PAGE;
    }
}

/// Where Zeek's payload count for a side exceeds the IP bytes its packets carried, which
/// [`Connection::payload_bytes`] (passed in) counts instead: said in the tile, as the analyst sees Zeek's
/// own figure in the log.
fn overcounts(c: &Connection, (orig, resp): (u64, u64)) -> Vec<String> {
    let Some(packets) = c.packets else {
        return Vec::new();
    };
    [
        ("orig_bytes", c.orig_bytes, orig, packets.orig_pkts),
        ("resp_bytes", c.resp_bytes, resp, packets.resp_pkts),
    ]
    .into_iter()
    .filter_map(|(field, counted, drawn, pkts)| {
        let counted = counted.filter(|&counted| counted > drawn)?;
        Some(format!(
            "{field} {} is more than its {pkts} packets carried: counted as {}",
            format_bytes(counted),
            format_bytes(drawn)
        ))
    })
    .collect()
}

/// How many connections [`edge_panel`] shows before "show more".
pub fn first_page() -> usize {
    CONNECTIONS_PER_PAGE
}

fn join(items: &BTreeSet<&str>) -> String {
    items.iter().copied().collect::<Vec<_>>().join(", ")
}

fn connection_tile(ui: &mut egui::Ui, item: &EdgeConnection) {
    let c = &item.connection;
    let payload = c.payload_bytes();
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.horizontal_wrapped(|ui| {
            ui.monospace(egui::RichText::new(c.uid.as_str()).strong());
            ui.weak(format_utc(c.ts));
            ui.monospace(format!(
                "{}:{} -> {}:{} {}",
                c.orig_h,
                c.orig_p.map_or("-".into(), |p| p.to_string()),
                c.resp_h,
                c.resp_p.map_or("-".into(), |p| p.to_string()),
                c.proto
            ));
        });
        ui.horizontal_wrapped(|ui| {
            if let Some(service) = &c.service {
                ui.label(format!("service {service}"));
            }
            if let Some(state) = &c.conn_state {
                ui.label(match conn_state_meaning(state) {
                    Some(meaning) => format!("state {state} ({meaning})"),
                    None => format!("state {state}"),
                });
            }
            if let Some(duration) = c.duration {
                ui.label(format!("{duration:.3}s"));
            }
            ui.label(format!(
                "{} / {}",
                format_bytes(payload.0),
                format_bytes(payload.1)
            ));
            if let Some(packets) = c.packets {
                ui.weak(format!(
                    "{} / {} packets",
                    packets.orig_pkts, packets.resp_pkts
                ));
            }
        });
        for overcount in overcounts(c, payload) {
            ui.colored_label(ui.visuals().warn_fg_color, overcount);
        }
        if let Some(history) = &c.history {
            egui::CollapsingHeader::new(format!("history {history}"))
                .id_salt(("history", c.uid.as_str()))
                .show(ui, |ui| {
                    for step in &item.history_decoded {
                        ui.label(step);
                    }
                });
        }
        for (log_type, records) in &item.details {
            for (index, record) in records.iter().enumerate() {
                record_tile(ui, log_type, index, c.uid.as_str(), record);
            }
        }
    });
}

/// One attached record (http, dns, ssl, files…): its fields in a grid.
fn record_tile(
    ui: &mut egui::Ui,
    log_type: &str,
    index: usize,
    uid: &str,
    record: &serde_json::Value,
) {
    egui::Frame::NONE
        .fill(ui.visuals().faint_bg_color)
        .inner_margin(6.0)
        .corner_radius(4.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.strong(log_type);
            let Some(fields) = record.as_object() else {
                ui.monospace(record.to_string());
                return;
            };
            egui::Grid::new((log_type, index, uid))
                .num_columns(2)
                .show(ui, |ui| {
                    for (name, value) in fields {
                        if matches!(
                            name.as_str(),
                            "uid" | "ts" | "id.orig_h" | "id.orig_p" | "id.resp_h" | "id.resp_p"
                        ) {
                            continue;
                        }
                        ui.weak(name);
                        let text = match value {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        ui.add(egui::Label::new(egui::RichText::new(text).monospace()).wrap());
                        ui.end_row();
                    }
                });
        });
    ui.add_space(2.0);
}

/// The protocols and services present in a graph, for the filter checkboxes.
pub fn categories(graph: &GraphResponse) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut protos = BTreeSet::new();
    let mut services = BTreeSet::new();
    for edge in &graph.edges {
        protos.extend(edge.protos.iter().map(|p| p.to_string()));
        if edge.services.is_empty() {
            services.insert(NO_SERVICE.to_string());
        }
        services.extend(edge.services.iter().map(|s| s.to_string()));
    }
    (protos, services)
}

/// Checkboxes that hide categories; returns whether anything changed.
pub fn category_filter(
    ui: &mut egui::Ui,
    title: &str,
    present: &BTreeSet<String>,
    hidden: &mut BTreeSet<String>,
) -> bool {
    let mut changed = false;
    ui.strong(title);
    ui.horizontal_wrapped(|ui| {
        for item in present {
            let mut shown = !hidden.contains(item);
            if ui.checkbox(&mut shown, item).changed() {
                changed = true;
                if shown {
                    hidden.remove(item);
                } else {
                    hidden.insert(item.clone());
                }
            }
        }
    });
    changed
}

/// The traffic threshold slider (log scale); returns whether it changed.
pub fn threshold_filter(ui: &mut egui::Ui, filters: &mut Filters, max_bytes: u64) -> bool {
    let mut exponent = if filters.min_bytes == 0 {
        0.0
    } else {
        (filters.min_bytes as f64).log10()
    };
    let top = (max_bytes.max(10) as f64).log10().ceil();
    ui.strong("Hide hosts below");
    let response = ui.add(
        egui::Slider::new(&mut exponent, 0.0..=top)
            .custom_formatter(|v, _| {
                if v <= 0.0 {
                    "—".into()
                } else {
                    format_bytes(10f64.powf(v) as u64)
                }
            })
            .show_value(true),
    );
    if response.changed() {
        filters.min_bytes = if exponent <= 0.0 {
            0
        } else {
            10f64.powf(exponent) as u64
        };
        return true;
    }
    false
}
