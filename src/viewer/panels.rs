//! The side panels: what a clicked host or connection is, and the search, filter, legend and
//! export controls.

use super::format_utc;
use super::graph_view::{Filters, NO_SERVICE};
use super::timeline_ui::format_duration;
use crate::net::api::{
    EdgeConnection, EdgeResponse, GraphResponse, HostRecordJson, HostRecordPage, NodeResponse,
    PortUse, SoftwareSeen, StampedHostRecord, host_record_title,
};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use wiredraw_core::history::conn_state_meaning;
use wiredraw_core::{Connection, format_bytes, is_icmp};

/// Most connections of an edge drawn as tiles at once; the rest are a click away.
const CONNECTIONS_PER_PAGE: usize = 100;

/// The details of a host.
pub fn node_panel(
    ui: &mut egui::Ui,
    node: &NodeResponse,
    graph: Option<&GraphResponse>,
) -> Option<NodeAction> {
    let mut action = None;
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
        // Names come from every DNS answer held, not only this window's: say when.
        ui.horizontal(|ui| {
            ui.monospace(&name.name);
            ui.weak(format!("×{}", name.count));
        })
        .response
        .on_hover_text(format!(
            "first seen {}, last seen {}",
            format_utc(name.first_seen),
            format_utc(name.last_seen)
        ));
    }
    if !node.records.is_empty() {
        ui.separator();
        if let Some(ts) = host_records_list(ui, &node.records, node.records_total) {
            action = Some(NodeAction::ShowTime(ts));
        }
    }
    if !node.software.is_empty() {
        ui.separator();
        software_list(ui, &node.software, node.software_total);
    }
    for (title, ports, total) in [
        ("Ports it answered on", &node.ports, node.ports_total),
        (
            "Ports it connected to",
            &node.ports_contacted,
            node.ports_contacted_total,
        ),
    ] {
        ui.separator();
        if let Some(port) = ports_list(ui, title, ports, total) {
            action = Some(NodeAction::FilterPort(port));
        }
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
                    action = Some(NodeAction::FlyTo(peer.addr.clone()));
                }
                ui.monospace(conns_text(peer.conns));
                ui.monospace(format_bytes(peer.bytes));
                ui.end_row();
            }
        });
    action
}

/// What a click in the host panel asks of the viewer.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeAction {
    /// Fly to this peer.
    FlyTo(String),
    /// Show only the edges that carried this port.
    FilterPort(u16),
    /// Move the timeline to this moment (a notice's).
    ShowTime(f64),
}

/// The ports a host answered on or connected to: what it serves or uses, or, with many ports and
/// no bytes, a scan. Returns the port whose row was clicked, to filter the graph on it.
fn ports_list(ui: &mut egui::Ui, title: &str, ports: &[PortUse], total: u64) -> Option<u16> {
    ui.strong(match total {
        0 => title.to_string(),
        total => format!("{title} ({total})"),
    });
    if ports.is_empty() {
        ui.weak("none in this window");
        return None;
    }
    let mut clicked = None;
    egui::Grid::new(title)
        .num_columns(4)
        .striped(true)
        .show(ui, |ui| {
            for port in ports {
                let label = port_label(&port.proto, port.port);
                // The port filter matches transport ports; an ICMP type is not one.
                if is_icmp(&port.proto) {
                    ui.monospace(label);
                } else if ui
                    .link(egui::RichText::new(label).monospace())
                    .on_hover_text("show only the edges that carried this port")
                    .clicked()
                {
                    clicked = Some(port.port);
                }
                ui.label(if port.services.is_empty() {
                    "-".to_string()
                } else {
                    port.services.join(", ")
                });
                ui.monospace(conns_text(port.conns));
                ui.monospace(format_bytes(port.bytes));
                ui.end_row();
            }
        });
    let unlisted = total.saturating_sub(ports.len() as u64);
    if unlisted > 0 {
        ui.weak(format!("and {unlisted} more"));
    }
    clicked
}

/// Records about the host itself, newest first: Zeek's notices that name it (a scan it ran,
/// passwords it guessed, a certificate it served that failed validation). Held data, not the
/// window's: a notice is what an analyst looks for first. Returns the time of the notice whose
/// time was clicked, to move the timeline there.
fn host_records_list(ui: &mut egui::Ui, records: &[HostRecordJson], total: u64) -> Option<f64> {
    let mut clicked = None;
    /// Rows shown: the newest few say what the host is up to; the ports and peers below them
    /// should stay in sight.
    const SHOWN: usize = 8;
    ui.strong(format!("Notices ({total})"));
    egui::Grid::new("host records")
        .num_columns(2)
        .striped(true)
        .show(ui, |ui| {
            for item in records.iter().take(SHOWN) {
                let Some(fields) = item.record.as_object() else {
                    continue;
                };
                match fields.get("ts").and_then(serde_json::Value::as_f64) {
                    Some(ts) => {
                        let time = egui::RichText::new(format_utc(ts)).monospace();
                        if ui.link(time).on_hover_text("show this moment").clicked() {
                            clicked = Some(ts);
                        }
                    }
                    None => {
                        ui.monospace("-");
                    }
                }
                ui.colored_label(
                    NOTICE_COLOR,
                    host_record_title(&item.log_type, &item.record),
                )
                .on_hover_ui(|ui| {
                    ui.label(record_hover(fields));
                });
                ui.end_row();
            }
        });
    let unlisted = total.saturating_sub(records.len().min(SHOWN) as u64);
    if unlisted > 0 {
        ui.weak(format!("and {unlisted} older"));
    }
    clicked
}

/// The whole record, for a hover: a notice's message is long, and its row stays short.
fn record_hover(fields: &serde_json::Map<String, serde_json::Value>) -> String {
    let ts = fields.get("ts").and_then(serde_json::Value::as_f64);
    let tile = TileFields::of(fields, ts.unwrap_or(0.0));
    let lines: Vec<String> = tile
        .shown
        .iter()
        .filter(|(name, _)| *name != "note")
        .map(|(name, value)| format!("{name}: {value}"))
        .collect();
    lines.join("\n")
}

/// Colour of a notice's name and of the timeline's notice marks: the renderer's default alert
/// colour, which rings the hosts the window's notices name.
pub const NOTICE_COLOR: egui::Color32 = egui::Color32::from_rgb(255, 86, 64);

/// The records about hosts stamped in the graph's window (Zeek's notices: a scan, password
/// guessing, a certificate that failed validation), newest first, each with the hosts it names,
/// as [`notice_rows`] grouped them. Answers what was clicked: a host, or the title of a record
/// seen on a connection.
pub fn window_records_list(
    ui: &mut egui::Ui,
    page: &HostRecordPage,
    rows: &[NoticeRow],
) -> Option<RecordAction> {
    let mut clicked = None;
    let title = format!("Notices in this window ({})", page.total);
    egui::CollapsingHeader::new(egui::RichText::new(title).strong())
        .id_salt("window records")
        .default_open(true)
        .show(ui, |ui| {
            if page.records.is_empty() {
                ui.weak("none");
                return;
            }
            egui::ScrollArea::vertical()
                .id_salt("window records list")
                .max_height(240.0)
                .show(ui, |ui| {
                    for row in rows {
                        let Some(item) = page.records.get(row.newest) else {
                            continue;
                        };
                        let Some(fields) = item.record.as_object() else {
                            continue;
                        };
                        let title = match row.count {
                            1 => row.title.clone(),
                            count => format!("{} ×{count}", row.title),
                        };
                        let title = egui::RichText::new(title).color(NOTICE_COLOR);
                        // Built only while hovered: the list is drawn every frame.
                        let hover = |ui: &mut egui::Ui| {
                            let mut text = record_hover(fields);
                            if row.count > 1 {
                                text = format!(
                                    "{} times from {} to {} UTC; the newest:\n{text}",
                                    row.count,
                                    format_utc(row.oldest_ts),
                                    format_utc(item.ts)
                                );
                            }
                            if row.connection.is_some() {
                                text.push_str("\n\nclick: show its connection");
                            }
                            ui.label(text);
                        };
                        match &row.connection {
                            Some((src, dst)) => {
                                if ui.link(title).on_hover_ui(hover).clicked() {
                                    clicked = Some(RecordAction::ShowConnection(
                                        src.clone(),
                                        dst.clone(),
                                    ));
                                }
                            }
                            None => {
                                ui.label(title).on_hover_ui(hover);
                            }
                        }
                        ui.horizontal_wrapped(|ui| {
                            ui.weak(format_utc(item.ts));
                            for host in &row.hosts {
                                if ui.link(host).on_hover_text("show this host").clicked() {
                                    clicked = Some(RecordAction::ShowHost(host.clone()));
                                }
                            }
                        });
                    }
                    let unlisted = page.total.saturating_sub(page.records.len() as u64);
                    if unlisted > 0 {
                        ui.weak(format!("and {unlisted} older"));
                    }
                });
        });
    clicked
}

/// The records of a window with one title and the same hosts: one row of the list.
#[derive(Debug, Clone, PartialEq)]
pub struct NoticeRow {
    pub title: String,
    /// In the order that reads best (see [`record_hosts`]).
    pub hosts: Vec<String>,
    /// Index of the newest of them in the records grouped.
    pub newest: usize,
    pub oldest_ts: f64,
    pub count: usize,
    /// The connection the newest was seen on, as its edge (see [`record_connection`]).
    pub connection: Option<(String, String)>,
}

/// Groups `records` (newest first) into the rows of the window's list, in the order of their
/// newest record: repeats (a beacon's intel hit every five minutes) share a row.
pub fn notice_rows(records: &[StampedHostRecord]) -> Vec<NoticeRow> {
    let mut rows: Vec<NoticeRow> = Vec::new();
    for (index, record) in records.iter().enumerate() {
        let title = host_record_title(&record.log_type, &record.record);
        let fields = record.record.as_object();
        let hosts = match fields {
            Some(fields) => record_hosts(fields, &record.hosts),
            None => record.hosts.iter().map(ToString::to_string).collect(),
        };
        match rows
            .iter_mut()
            .find(|row| row.title == title && row.hosts == hosts)
        {
            Some(row) => {
                row.count += 1;
                row.oldest_ts = row.oldest_ts.min(record.ts);
            }
            None => rows.push(NoticeRow {
                title,
                hosts,
                newest: index,
                oldest_ts: record.ts,
                count: 1,
                connection: fields.and_then(record_connection),
            }),
        }
    }
    rows
}

/// What a click in the window's notices asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordAction {
    ShowHost(String),
    /// The connection a record was seen on, as its edge (originator, responder).
    ShowConnection(String, String),
}

/// The endpoints of the connection a record was seen on (`uid` with `id.orig_h` and
/// `id.resp_h`), if it names one.
fn record_connection(
    fields: &serde_json::Map<String, serde_json::Value>,
) -> Option<(String, String)> {
    let text = |field: &str| fields.get(field)?.as_str().filter(|t| !t.is_empty());
    text("uid")?;
    Some((
        text("id.orig_h")?.to_string(),
        text("id.resp_h")?.to_string(),
    ))
}

/// The hosts a record names, in the order that reads best: a notice's `src` before its `dst`
/// (an intel hit's originator before its responder), then any other host it was stored under.
fn record_hosts(
    fields: &serde_json::Map<String, serde_json::Value>,
    hosts: &[IpAddr],
) -> Vec<String> {
    let mut named: Vec<String> = ["src", "dst", "id.orig_h", "id.resp_h"]
        .iter()
        .filter_map(|field| fields.get(*field)?.as_str())
        .filter_map(|text| text.parse::<IpAddr>().ok())
        .filter(|addr| hosts.contains(addr))
        .map(|addr| addr.to_string())
        .collect();
    for host in hosts {
        let host = host.to_string();
        if !named.contains(&host) {
            named.push(host);
        }
    }
    named
}

/// What Zeek's software log saw running on the host: a server's banner tells its version (an
/// old sshd, an unpatched IIS), a client's user agent what it runs. Held data, not the window's.
fn software_list(ui: &mut egui::Ui, software: &[SoftwareSeen], total: u64) {
    ui.strong(format!("Software ({total})"));
    egui::Grid::new("software")
        .num_columns(3)
        .striped(true)
        .show(ui, |ui| {
            for seen in software {
                let s = &seen.software;
                let name = match &s.version {
                    Some(version) => format!("{} {version}", s.name),
                    None => s.name.clone(),
                };
                // A user agent can be a whole exploit (wrccdc's shellshock probes): the hover
                // has it all, the row a readable start.
                let name = clipped(&name, 40);
                ui.monospace(name).on_hover_ui(|ui| {
                    let mut hover = format!("{}\n", s.name);
                    if let Some(unparsed) = &s.unparsed_version {
                        hover.push_str(&format!("{unparsed}\n"));
                    }
                    hover.push_str(&format!(
                        "{}, first seen {}, last seen {}",
                        s.software_type,
                        format_utc(seen.first_seen),
                        format_utc(seen.last_seen)
                    ));
                    ui.label(hover);
                });
                ui.label(software_type_text(&s.software_type));
                match s.host_p {
                    Some(port) => ui.monospace(format!("port {port}")),
                    None => ui.weak("-"),
                };
                ui.end_row();
            }
        });
    let unlisted = total.saturating_sub(software.len() as u64);
    if unlisted > 0 {
        ui.weak(format!("and {unlisted} more"));
    }
}

/// `text` cut to `max` characters, with `…` where it was cut.
fn clipped(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// Zeek's software type in words: `HTTP::SERVER` → `HTTP server`.
fn software_type_text(software_type: &str) -> String {
    match software_type.split_once("::") {
        Some((protocol, role)) => {
            format!("{protocol} {}", role.to_lowercase().replace('_', " "))
        }
        None => software_type.to_string(),
    }
}

/// `443/tcp`; for ICMP, whose "port" is the message type, `icmp 8`.
fn port_label(proto: &str, port: u16) -> String {
    if is_icmp(proto) {
        format!("icmp {port}")
    } else {
        format!("{port}/{proto}")
    }
}

/// `1 conn`, `2 conns`.
fn conns_text(conns: u64) -> String {
    match conns {
        1 => "1 conn".to_string(),
        conns => format!("{conns} conns"),
    }
}

/// A connection arrow's answer with the totals its panel shows, counted once when the answer
/// comes rather than every frame: a busy edge holds thousands of connections.
pub struct EdgeDetail {
    pub answer: EdgeResponse,
    protocols: String,
    services: String,
    ports: String,
    /// The payload the arrow's width stands for, not Zeek's counts where they exceed what the
    /// packets carried (each tile says where that happened).
    sent: u64,
    received: u64,
    duration: f64,
    attached: String,
}

impl EdgeDetail {
    pub fn new(answer: EdgeResponse) -> EdgeDetail {
        let connections = || answer.connections.iter().map(|c| &c.connection);
        let protocols: BTreeSet<&str> = connections().map(|c| c.proto.as_str()).collect();
        let services: BTreeSet<&str> = connections().filter_map(|c| c.service.as_deref()).collect();
        let (sent, received) = connections().map(Connection::payload_bytes).fold(
            (0u64, 0u64),
            |(sent, received), (orig, resp)| {
                (sent.saturating_add(orig), received.saturating_add(resp))
            },
        );
        EdgeDetail {
            protocols: join(&protocols),
            services: if services.is_empty() {
                "-".to_string()
            } else {
                join(&services)
            },
            ports: edge_ports(&answer),
            sent,
            received,
            duration: connections().filter_map(|c| c.duration).sum(),
            attached: join(&answer.detail_types()),
            answer,
        }
    }
}

/// The details of a connection arrow: totals, then every connection with its decoded history
/// and every attached record as a tile.
pub fn edge_panel(ui: &mut egui::Ui, detail: &EdgeDetail, shown: &mut usize) {
    let edge = &detail.answer;
    ui.heading(format!("{} -> {}", edge.src, edge.dst));
    egui::Grid::new("edge facts").num_columns(2).show(ui, |ui| {
        ui.label("protocol");
        ui.monospace(&detail.protocols);
        ui.end_row();
        ui.label("service");
        ui.monospace(&detail.services);
        ui.end_row();
        ui.label("ports");
        ui.add(egui::Label::new(egui::RichText::new(&detail.ports).monospace()).wrap());
        ui.end_row();
        ui.label("connections");
        ui.monospace(edge.connections.len().to_string());
        ui.end_row();
        ui.label(format!("bytes {} -> {}", edge.src, edge.dst));
        ui.monospace(format_bytes(detail.sent));
        ui.end_row();
        ui.label(format!("bytes {} -> {}", edge.dst, edge.src));
        ui.monospace(format_bytes(detail.received));
        ui.end_row();
        ui.label("total duration");
        ui.monospace(format_duration(detail.duration));
        ui.end_row();
    });
    if !detail.attached.is_empty() {
        ui.label(format!("attached: {}", detail.attached));
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

/// The ports an edge's connections went to, most used first: `80/tcp ×150, icmp 8 ×7`.
fn edge_ports(edge: &EdgeResponse) -> String {
    const LISTED: usize = 4;
    let mut counts: BTreeMap<(&str, u16), usize> = BTreeMap::new();
    for c in &edge.connections {
        if let Some(port) = c.connection.destination_port() {
            *counts
                .entry((c.connection.proto.as_str(), port))
                .or_default() += 1;
        }
    }
    let mut ports: Vec<((&str, u16), usize)> = counts.into_iter().collect();
    // Stable: equal counts stay in protocol and port order.
    ports.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
    let mut text = ports
        .iter()
        .take(LISTED)
        .map(|((proto, port), n)| format!("{} ×{n}", port_label(proto, *port)))
        .collect::<Vec<_>>()
        .join(", ");
    match ports.len() {
        0 => text.push('-'),
        n if n > LISTED => text.push_str(&format!(" and {} more", n - LISTED)),
        _ => {}
    }
    text
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
        let mut groups: Vec<(&String, &Vec<serde_json::Value>)> = item.details.iter().collect();
        groups.sort_by_key(|(log_type, _)| tile_order(log_type));
        let records: Vec<(&str, usize, &serde_json::Value)> = groups
            .into_iter()
            .flat_map(|(log_type, records)| {
                let log_type = log_type.as_str();
                records
                    .iter()
                    .enumerate()
                    .map(move |(index, record)| (log_type, index, record))
            })
            .collect();
        let per_row = tiles_per_row(ui.available_width(), records.len());
        for row in records.chunks(per_row) {
            ui.columns(per_row, |columns| {
                for (column, &(log_type, index, record)) in columns.iter_mut().zip(row) {
                    record_tile(column, log_type, index, c, record);
                }
            });
        }
    });
}

/// How many record tiles share a row: side by side once the panel is widened enough for each to
/// keep a readable width (an http record beside its file and a TLS handshake beside its
/// certificates read best compared), one per row in the default narrow panel.
fn tiles_per_row(width: f32, records: usize) -> usize {
    const MIN_TILE_WIDTH: f32 = 300.0;
    let fit = (width / MIN_TILE_WIDTH).floor() as usize;
    fit.clamp(1, records.max(1))
}

/// Where a log type's records go among a connection's tiles: by name, except that what Zeek
/// derives from another record of the connection (the file an http response carried, the
/// certificates of a TLS handshake) comes after it.
fn tile_order(log_type: &str) -> (bool, &str) {
    let derived = matches!(log_type, "files" | "x509" | "pe" | "ocsp");
    (derived, log_type)
}

/// One attached record (http, dns, ssl, files…): its set fields in a grid, in the log's own
/// column order.
fn record_tile(
    ui: &mut egui::Ui,
    log_type: &str,
    index: usize,
    connection: &Connection,
    record: &serde_json::Value,
) {
    egui::Frame::NONE
        .fill(ui.visuals().faint_bg_color)
        .inner_margin(6.0)
        .corner_radius(4.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            let Some(fields) = record.as_object() else {
                ui.strong(log_type);
                ui.monospace(record.to_string());
                return;
            };
            let tile = TileFields::of(fields, connection.ts);
            ui.horizontal(|ui| {
                ui.strong(log_type);
                if let Some(offset) = tile.offset {
                    ui.weak(offset);
                }
            });
            egui::Grid::new((log_type, index, connection.uid.as_str()))
                .num_columns(2)
                .show(ui, |ui| {
                    for (name, text) in &tile.shown {
                        ui.weak(*name);
                        ui.add(egui::Label::new(egui::RichText::new(text).monospace()).wrap());
                        ui.end_row();
                    }
                });
            if !tile.unset.is_empty() {
                ui.weak(format!("unset: {}", tile.unset.join(", ")));
            }
        });
    ui.add_space(2.0);
}

/// What a record tile shows. Zeek leaves many columns unset (a files record 15 of 26); listed
/// one per row they pushed the set ones out of sight, so they share one line at the end.
#[derive(Debug, PartialEq)]
struct TileFields<'r> {
    /// Set fields as name and text, in the record's order (the log's columns: the store and the
    /// API keep it).
    shown: Vec<(&'r str, String)>,
    /// The names of the unset fields.
    unset: Vec<&'r str>,
    /// When the record happened relative to its connection's start, if not at the start: an
    /// http request deep in a kept-alive connection, say.
    offset: Option<String>,
}

impl<'r> TileFields<'r> {
    fn of(fields: &'r serde_json::Map<String, serde_json::Value>, connection_ts: f64) -> Self {
        let mut tile = TileFields {
            shown: Vec::new(),
            unset: Vec::new(),
            offset: None,
        };
        for (name, value) in fields {
            match name.as_str() {
                // The tile's connection header says these already.
                "uid" | "id.orig_h" | "id.orig_p" | "id.resp_h" | "id.resp_p" => continue,
                "ts" => {
                    tile.offset = value
                        .as_f64()
                        .and_then(|ts| offset_text(ts - connection_ts));
                    continue;
                }
                _ => {}
            }
            if value.is_null() {
                tile.unset.push(name);
            } else {
                tile.shown.push((name, field_text(value)));
            }
        }
        tile
    }
}

/// `+2.5s` after the connection began (or `-…` before, which a dns record logged at its reply
/// can be); nothing within a millisecond of it.
fn offset_text(offset: f64) -> Option<String> {
    if !offset.is_finite() || offset.abs() < 0.0005 {
        return None;
    }
    let sign = if offset < 0.0 { '-' } else { '+' };
    Some(format!("{sign}{}", format_duration(offset.abs())))
}

/// A field's value as Zeek's own tools print it: strings bare, sets and vectors as `a, b`, an
/// empty string or container as `(empty)` (a blank row read as a missing value).
fn field_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) if s.is_empty() => "(empty)".into(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) if items.is_empty() => "(empty)".into(),
        serde_json::Value::Array(items) => {
            items.iter().map(field_text).collect::<Vec<_>>().join(", ")
        }
        other => other.to_string(),
    }
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

#[cfg(test)]
mod tests {
    use super::{
        EdgeDetail, TileFields, clipped, edge_ports, field_text, notice_rows, offset_text,
        record_connection, record_hosts, software_type_text, tile_order, tiles_per_row,
    };
    use std::net::IpAddr;

    #[test]
    fn a_record_seen_on_a_connection_leads_to_its_edge_and_names_its_hosts_in_order() {
        let intel = serde_json::json!({
            "ts": 1.0, "uid": "Cbeacon1", "id.orig_h": "10.1.0.12", "id.resp_h": "192.0.2.200",
            "seen.indicator": "cdn.update-sync.example"
        });
        let fields = intel.as_object().unwrap();
        assert_eq!(
            record_connection(fields),
            Some(("10.1.0.12".to_string(), "192.0.2.200".to_string()))
        );
        let stored: Vec<IpAddr> = ["192.0.2.200", "10.1.0.12"]
            .map(|a| a.parse().unwrap())
            .to_vec();
        assert_eq!(record_hosts(fields, &stored), ["10.1.0.12", "192.0.2.200"]);
        let scan = serde_json::json!({"ts": 2.0, "uid": null, "src": "198.51.100.23"});
        assert_eq!(record_connection(scan.as_object().unwrap()), None);
    }

    #[test]
    fn repeated_records_share_a_row_with_their_count_and_span() {
        let record = |ts: f64, indicator: &str, host: &str| crate::net::api::StampedHostRecord {
            ts,
            hosts: vec![host.parse().unwrap()],
            log_type: "intel".into(),
            record: serde_json::json!({"ts": ts, "seen.indicator": indicator}),
        };
        // Newest first, as the server answers.
        let records = [
            record(900.0, "cdn.example", "10.1.0.12"),
            record(850.0, "other.example", "10.1.0.12"),
            record(600.0, "cdn.example", "10.1.0.12"),
            record(300.0, "cdn.example", "10.1.0.13"),
            record(250.0, "cdn.example", "10.1.0.12"),
        ];
        let rows: Vec<(String, Vec<String>, f64, f64, usize)> = notice_rows(&records)
            .into_iter()
            .map(|g| (g.title, g.hosts, records[g.newest].ts, g.oldest_ts, g.count))
            .collect();
        let row = |title: &str, host: &str, newest, oldest, count| {
            (
                title.to_string(),
                vec![host.to_string()],
                newest,
                oldest,
                count,
            )
        };
        assert_eq!(
            rows,
            [
                row("Intel: cdn.example", "10.1.0.12", 900.0, 250.0, 3),
                row("Intel: other.example", "10.1.0.12", 850.0, 850.0, 1),
                row("Intel: cdn.example", "10.1.0.13", 300.0, 300.0, 1),
            ]
        );
    }
    use crate::net::api::{EdgeConnection, EdgeResponse};
    use serde_json::json;

    /// A files record as the API sends it: the tile keeps the log's column order, leaves out
    /// what the connection header says, folds the unset fields into one line and prints sets
    /// the way Zeek does.
    #[test]
    fn a_tile_shows_set_fields_in_column_order_and_folds_the_unset_ones() {
        let record = json!({
            "ts": 1713485049.5, "fuid": "Fc4JH01bqhEgYIgLQ2", "uid": "CF3oHg33SfE13s6jp7",
            "id.orig_h": "73.54.23.243", "source": "HTTP", "depth": 0, "analyzers": [],
            "mime_type": "text/html", "filename": null, "rx_hosts": ["73.54.23.243", "10.0.0.1"],
            "md5": null,
        });
        let tile = TileFields::of(record.as_object().unwrap(), 1713485049.0);
        let shown: Vec<(&str, &str)> = tile.shown.iter().map(|(n, t)| (*n, t.as_str())).collect();
        assert_eq!(
            shown,
            [
                ("fuid", "Fc4JH01bqhEgYIgLQ2"),
                ("source", "HTTP"),
                ("depth", "0"),
                ("analyzers", "(empty)"),
                ("mime_type", "text/html"),
                ("rx_hosts", "73.54.23.243, 10.0.0.1"),
            ]
        );
        assert_eq!(tile.unset, ["filename", "md5"]);
        assert_eq!(tile.offset.as_deref(), Some("+500 ms"));
    }

    #[test]
    fn an_edge_lists_its_ports_most_used_first() {
        // As the API sends it; the fields a tile does not need are left out.
        let connection = |uid: &str, proto: &str, port: Option<u16>| -> EdgeConnection {
            serde_json::from_value(json!({
                "uid": uid, "ts": 1.0, "orig_h": "10.0.0.1", "orig_p": 40000,
                "resp_h": "10.0.0.2", "resp_p": port, "proto": proto,
                "history_decoded": [], "details": {},
            }))
            .unwrap()
        };
        let edge = |connections| EdgeResponse {
            src: "10.0.0.1".into(),
            dst: "10.0.0.2".into(),
            from: 0.0,
            to: 10.0,
            connections,
        };
        let mut connections: Vec<EdgeConnection> = (0..3)
            .map(|i| connection(&format!("H{i}"), "tcp", Some(80)))
            .collect();
        // An echo request: type 8 is its orig_p, code 0 its resp_p.
        let mut echo = connection("I", "icmp", Some(0));
        echo.connection.orig_p = Some(8);
        connections.push(echo);
        connections.push(connection("U", "udp", None));
        assert_eq!(
            edge_ports(&edge(connections.clone())),
            "80/tcp ×3, icmp 8 ×1"
        );
        connections.extend((1..=4).map(|p| connection(&format!("S{p}"), "tcp", Some(p))));
        assert_eq!(
            edge_ports(&edge(connections)),
            "80/tcp ×3, icmp 8 ×1, 1/tcp ×1, 2/tcp ×1 and 2 more"
        );
        assert_eq!(edge_ports(&edge(Vec::new())), "-");
    }

    #[test]
    fn an_edges_totals_are_counted_once_from_its_connections() {
        let connection = |uid: &str, service: Option<&str>, bytes: (u64, u64), details| {
            serde_json::from_value::<EdgeConnection>(json!({
                "uid": uid, "ts": 1.0, "duration": 1.5, "orig_h": "10.0.0.1", "orig_p": 40000,
                "resp_h": "10.0.0.2", "resp_p": 443, "proto": "tcp", "service": service,
                "orig_bytes": bytes.0, "resp_bytes": bytes.1,
                "history_decoded": [], "details": details,
            }))
            .unwrap()
        };
        let detail = EdgeDetail::new(EdgeResponse {
            src: "10.0.0.1".into(),
            dst: "10.0.0.2".into(),
            from: 0.0,
            to: 10.0,
            connections: vec![
                connection(
                    "A",
                    Some("ssl"),
                    (100, 2000),
                    json!({"ssl": [{}], "x509": [{}]}),
                ),
                connection("B", None, (5, 7), json!({})),
                connection("C", Some("http"), (1, 1), json!({"http": [{}]})),
            ],
        });
        assert_eq!(detail.protocols, "tcp");
        assert_eq!(detail.services, "http, ssl");
        assert_eq!(detail.ports, "443/tcp ×3");
        assert_eq!((detail.sent, detail.received), (106, 2008));
        assert_eq!(detail.duration, 4.5);
        assert_eq!(detail.attached, "http, ssl, x509");
    }

    #[test]
    fn tiles_go_side_by_side_when_the_panel_is_wide() {
        // The default panel: one per row.
        assert_eq!(tiles_per_row(360.0, 3), 1);
        assert_eq!(tiles_per_row(900.0, 3), 3);
        assert_eq!(tiles_per_row(900.0, 2), 2);
        assert_eq!(tiles_per_row(1300.0, 5), 4);
        assert_eq!(tiles_per_row(900.0, 0), 1);
        assert_eq!(tiles_per_row(0.0, 2), 1);
    }

    #[test]
    fn derived_records_come_after_the_ones_they_came_from() {
        let mut types = ["files", "x509", "dns", "http", "ssl", "weird"];
        types.sort_by_key(|t| tile_order(t));
        assert_eq!(types, ["dns", "http", "ssl", "weird", "files", "x509"]);
    }

    #[test]
    fn offsets_within_a_millisecond_of_the_start_are_not_shown() {
        assert_eq!(offset_text(0.0002), None);
        assert_eq!(offset_text(-0.0002), None);
        assert_eq!(offset_text(f64::NAN), None);
        assert_eq!(offset_text(-2.0).as_deref(), Some("-2s"));
        assert_eq!(offset_text(125.0).as_deref(), Some("+2m 5s"));
    }

    #[test]
    fn long_names_are_clipped_on_a_character_boundary() {
        assert_eq!(clipped("OpenSSH 8.2-p1", 40), "OpenSSH 8.2-p1");
        assert_eq!(clipped("() { _; } >_[$($())]", 8), "() { _; …");
        assert_eq!(clipped("ééééé", 3), "ééé…");
    }

    #[test]
    fn software_types_read_as_words() {
        assert_eq!(software_type_text("HTTP::SERVER"), "HTTP server");
        assert_eq!(software_type_text("SSH::CLIENT"), "SSH client");
        assert_eq!(
            software_type_text("HTTP::BROWSER_PLUGIN"),
            "HTTP browser plugin"
        );
        assert_eq!(software_type_text("Unknown"), "Unknown");
    }

    #[test]
    fn nested_values_read_like_zeek_text() {
        assert_eq!(field_text(&json!([[1, 2], []])), "1, 2, (empty)");
        assert_eq!(field_text(&json!(true)), "true");
        assert_eq!(field_text(&json!(0.25)), "0.25");
        assert_eq!(field_text(&json!("")), "(empty)");
    }
}
