//! The viewer's state and its frame: replies in, UI out, commands applied at the end.

use super::ViewerOptions;
use super::backend::{Backend, Feed, Reply, Request};
use super::format_utc;
use super::graph_state::GraphState;
use super::graph_view::{Filters, PortFilter, host_label};
use super::login::{LoginForm, Remembered};
use super::panels::{self, NodeAction, RecordAction};
use super::timeline::{Direction, Timeline, TimelineCommand};
use super::timeline_ui::{
    Histogram, Metric, StripState, format_duration, timeline_ui, window_loss,
};
use crate::net::api::NodeResponse;
use crate::render::glam::{Vec2, Vec3};
use crate::render::{
    Camera, Color, GraphPaintCallback, LabelOptions, Picked, Picker, PrepareStats, Scene, Viewport,
    paint_labels,
};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// While playing, the graph at the playhead is asked for again this often (new data).
const POLL_SECS: f64 = 2.0;
/// Details of a selection are refreshed at most this often while the graph changes.
const REFRESH_SECS: f64 = 1.0;
/// A screenshot waits at most this long past `--screenshot-after` for the scene to settle.
const SCREENSHOT_PATIENCE_SECS: f64 = 60.0;
/// The scene must have been settled this long before a screenshot.
const SCREENSHOT_SETTLE_SECS: f64 = 1.0;

/// When an answer is asked for again after its data changed (the details of a selection after
/// the graph on screen changed, the histogram after data arrived in the view): at most once per
/// [`REFRESH_SECS`], and always once after the last change, so the panel ends on the
/// data the graph ends on (a refresh skipped inside the interval is made up when it ends, not
/// dropped).
#[derive(Debug, Clone, Copy)]
struct Refresh {
    last_request: f64,
    stale: bool,
}

impl Default for Refresh {
    fn default() -> Refresh {
        Refresh {
            last_request: f64::NEG_INFINITY,
            stale: false,
        }
    }
}

impl Refresh {
    fn data_changed(&mut self) {
        self.stale = true;
    }

    fn due(&self, now: f64) -> bool {
        self.stale && now - self.last_request >= REFRESH_SECS
    }

    fn requested(&mut self, now: f64) {
        self.last_request = now;
        self.stale = false;
    }
}

/// What is selected in the graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    Node(String),
    Edge(String, String),
}

/// A frame the window should save as PNG.
#[derive(Debug, Clone)]
pub struct CaptureRequest {
    pub path: PathBuf,
    /// The `--screenshot` capture: print the report and exit afterwards.
    pub then_exit: bool,
}

/// Frame time statistics over the run.
#[derive(Debug, Clone, Copy, Default)]
struct FrameStats {
    frames: u64,
    total_ms: f64,
    last_ms: f64,
}

/// The whole viewer minus the window: see the [module docs](super).
pub struct ViewerApp {
    options: ViewerOptions,
    backend: Backend,
    login: LoginForm,
    session: Option<(String, String)>,
    timeline: Timeline,
    graph: GraphState,
    camera: Camera,
    auto_fit: bool,
    selection: Option<Selection>,
    pending_select: Option<String>,
    node_detail: Option<Arc<NodeResponse>>,
    edge_detail: Option<Arc<panels::EdgeDetail>>,
    edge_page: usize,
    /// How news of new data arrives (shown in the status lines).
    feed: Option<Feed>,
    detail_refresh: Refresh,
    histogram_refresh: Refresh,
    hovered: Option<Picked>,
    picker: Option<(usize, Picker)>,
    scene_serial: usize,
    filters: Filters,
    /// The graph shows only the hosts the window's notices name, and their peers.
    notices_only: bool,
    port_text: String,
    search: String,
    search_message: Option<String>,
    histogram: Option<Histogram>,
    histogram_key: Option<(u64, u64, usize)>,
    /// The timeline strip's width in points, which the histogram's bins are sized to.
    strip_width: f32,
    metric: Metric,
    strip: StripState,
    banner: Option<String>,
    notice: Option<(String, f64)>,
    requested_span: Option<(f64, f64)>,
    last_graph_request: f64,
    started: Instant,
    last_frame: Option<Instant>,
    frames: FrameStats,
    last_fetch_ms: f64,
    /// The server answered that it holds no connections at all.
    server_empty: bool,
    /// What the renderer drew in the last frame.
    drawn: PrepareStats,
    capture: Option<CaptureRequest>,
    screenshot_requested: bool,
    ready_since: Option<f64>,
    exit: bool,
    export_dir: PathBuf,
}

impl ViewerApp {
    /// A viewer using `backend`; logs in at once when the options carry a password.
    pub fn new(options: ViewerOptions, backend: Backend) -> ViewerApp {
        let remembered = options
            .settings_path
            .as_deref()
            .map(Remembered::load)
            .unwrap_or_default();
        let login = LoginForm {
            url: options
                .url
                .clone()
                .or(remembered.url)
                .unwrap_or_else(|| "http://127.0.0.1:8750".into()),
            user: options.user.clone().or(remembered.user).unwrap_or_default(),
            password: options.password.clone().unwrap_or_default(),
            ..LoginForm::default()
        };
        let timeline = Timeline::new(options.at, options.window_secs, options.play);
        let mut app = ViewerApp {
            pending_select: options.select.clone(),
            export_dir: options.export_dir.clone(),
            notices_only: options.notices_only,
            options,
            backend,
            login,
            session: None,
            timeline,
            graph: GraphState::new(7),
            camera: Camera::default(),
            auto_fit: true,
            selection: None,
            node_detail: None,
            edge_detail: None,
            feed: None,
            edge_page: panels::first_page(),
            detail_refresh: Refresh::default(),
            histogram_refresh: Refresh::default(),
            hovered: None,
            picker: None,
            scene_serial: 0,
            filters: Filters::default(),
            port_text: String::new(),
            search: String::new(),
            search_message: None,
            histogram: None,
            histogram_key: None,
            strip_width: 0.0,
            metric: Metric::default(),
            strip: StripState::default(),
            banner: None,
            notice: None,
            requested_span: None,
            last_graph_request: 0.0,
            started: Instant::now(),
            last_frame: None,
            frames: FrameStats::default(),
            last_fetch_ms: 0.0,
            server_empty: false,
            drawn: PrepareStats::default(),
            capture: None,
            screenshot_requested: false,
            ready_since: None,
            exit: false,
        };
        if app.options.password.is_some()
            && let Ok(attempt) = app.login.attempt()
        {
            app.login.waiting = true;
            app.backend.send(Request::Login {
                url: attempt.url,
                user: attempt.user,
                password: attempt.password,
            });
        }
        app
    }

    fn now(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Whether the window should close.
    pub fn wants_exit(&self) -> bool {
        self.exit
    }

    /// Whether frames must keep coming without input (playing, animating, waiting to capture).
    pub fn needs_frames(&self) -> bool {
        self.timeline.is_moving()
            || self.camera.is_flying()
            || self.capture.is_some()
            || (self.options.screenshot.is_some() && !self.screenshot_requested)
            || self.login.waiting
    }

    /// A frame save the window should do after drawing this frame.
    pub fn take_capture(&mut self) -> Option<CaptureRequest> {
        self.capture.take()
    }

    /// The window saved (or failed to save) a capture.
    pub fn capture_done(&mut self, request: &CaptureRequest, result: Result<(), String>) {
        match (&result, request.then_exit) {
            (_, true) => {
                println!("{}", self.report(&request.path, result.as_ref().err()));
                self.exit = true;
            }
            (Ok(()), false) => {
                self.notice = Some((format!("saved {}", request.path.display()), self.now()));
            }
            (Err(error), false) => {
                self.notice = Some((format!("could not save: {error}"), self.now()));
            }
        }
    }

    /// Tells the app what the renderer drew in the frame just painted.
    pub fn set_drawn(&mut self, drawn: PrepareStats) {
        self.drawn = drawn;
    }

    /// One JSON line describing what the screenshot shows, for tests and scripts.
    fn report(&mut self, path: &std::path::Path, error: Option<&String>) -> String {
        let shown = self.graph.shown().cloned();
        let scene = Arc::clone(self.graph.scene());
        let selected_edge = match &self.selection {
            Some(Selection::Edge(src, dst)) => Some(format!("{src}->{dst}")),
            _ => None,
        };
        let histogram = self.histogram.as_ref();
        let window_loss = window_loss(histogram, &self.timeline).map(|report| report.percent_lost);
        serde_json::json!({
            "screenshot": path,
            "error": error,
            "logged_in": self.session.is_some(),
            "login_error": self.login.error,
            "server_empty": self.server_empty,
            "span": self.graph.shown_request().map(|r| [r.span.0, r.span.1]),
            "playhead": self.timeline.playhead,
            "nodes": shown.as_ref().map(|g| g.nodes.len()),
            "edges": shown.as_ref().map(|g| g.edges.len()),
            "drawn_nodes": scene.nodes.len(),
            "drawn_edges": scene.edges.len(),
            "thinned_edges": self.drawn.edges_thinned,
            "selected_edge": selected_edge,
            "detail_connections": self.edge_detail.as_ref().map(|edge| edge.answer.connections.len()),
            "histogram_bins": histogram.map(|h| h.answer.bins.len()),
            "capture_loss_marks": histogram.map(|h| h.heavy_loss().count()),
            "notice_marks": histogram.map(|h| h.notice_bins().count()),
            "window_capture_loss": window_loss,
            "window_records": self.graph.shown_request().map(|_| self.graph.shown_records().total),
            "flagged_hosts": self.graph.flagged().len(),
            "frames": self.frames.frames,
            "mean_frame_ms": if self.frames.frames > 0 { self.frames.total_ms / self.frames.frames as f64 } else { 0.0 },
            "dropped_graph_requests": self.backend.dropped_graph_requests(),
        })
        .to_string()
    }

    /// Builds one frame's UI.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let frame_start = Instant::now();
        let dt = self
            .last_frame
            .replace(frame_start)
            .map_or(0.0, |last| (frame_start - last).as_secs_f64().min(0.5));
        for reply in self.backend.poll() {
            self.handle(reply);
        }
        let now = self.now();
        if self.session.is_none() {
            egui::CentralPanel::default().show(ui, |ui| {
                if let Some(attempt) = self.login.ui(ui) {
                    self.backend.send(Request::Login {
                        url: attempt.url,
                        user: attempt.user,
                        password: attempt.password,
                    });
                }
            });
        } else {
            self.main_ui(ui, now);
        }
        self.timeline.end_frame(dt);
        self.request_graph(now);
        if self.detail_refresh.due(now) {
            self.request_details();
        }
        if self.histogram_refresh.due(now) {
            self.histogram_refresh.requested(now);
            self.histogram_key = None;
        }
        self.request_histogram(self.strip_width);
        self.schedule_screenshot(now);
        let ms = frame_start.elapsed().as_secs_f64() * 1e3;
        self.frames.frames += 1;
        self.frames.total_ms += ms;
        self.frames.last_ms = ms;
    }

    fn handle(&mut self, reply: Reply) {
        let now = self.now();
        match reply {
            Reply::LoggedIn { url, user } => {
                if let Some(path) = &self.options.settings_path {
                    let remembered = Remembered {
                        url: Some(url.clone()),
                        user: Some(user.clone()),
                    };
                    if let Err(error) = remembered.save(path) {
                        tracing::warn!(path = %path.display(), %error, "cannot remember the server");
                    }
                }
                self.login.waiting = false;
                self.login.error = None;
                self.login.password.clear();
                self.session = Some((url, user));
                self.graph = GraphState::new(7);
                self.requested_span = None;
                self.histogram_key = None;
                self.banner = None;
            }
            Reply::LoginFailed(message) => {
                self.login.waiting = false;
                self.login.error = Some(message);
            }
            Reply::Range(range) => {
                self.server_empty = range.first.is_none();
                if let Some(held) = range.time_range() {
                    let timeline = &mut self.timeline;
                    let grew = timeline.range.is_none_or(|(_, old)| held.last > old)
                        || timeline.live_edge.is_none_or(|old| held.latest_start > old);
                    timeline.push(TimelineCommand::set_range(held, range.bucket_secs));
                    if grew && timeline.follow_live {
                        // Same span, newer data.
                        self.requested_span = None;
                    }
                }
            }
            Reply::Changed { first, last } => {
                let meets = |(from, to): (f64, f64)| first < to && last >= from;
                // Data arrived for the window on screen: fetch it again.
                if self.requested_span.is_some_and(meets) {
                    self.requested_span = None;
                }
                // Or for the timeline's span: its histogram, and the capture loss with it.
                if self.timeline.view().is_some_and(meets) {
                    self.histogram_refresh.data_changed();
                }
            }
            Reply::Feed(feed) => self.feed = Some(feed),
            Reply::Graph(update) => {
                self.last_fetch_ms = update.fetch_ms;
                if self.graph.apply(*update) {
                    if self.notices_only {
                        self.follow_notice_filter();
                    }
                    self.apply_pending_select();
                    if self.selection.is_some() {
                        self.detail_refresh.data_changed();
                    }
                }
            }
            Reply::Histogram {
                from,
                to,
                histogram,
            } => {
                self.histogram = Some(Histogram {
                    from,
                    to,
                    answer: histogram,
                });
            }
            Reply::Node(node) => {
                if self.selection == Some(Selection::Node(node.addr.clone())) {
                    self.node_detail = Some(Arc::from(node));
                }
            }
            Reply::Edge(edge) => {
                if self.selection == Some(Selection::Edge(edge.src.clone(), edge.dst.clone())) {
                    self.edge_detail = Some(Arc::new(panels::EdgeDetail::new(*edge)));
                }
            }
            Reply::Ports { port, span, edges } => {
                if self.port_text.trim().parse::<u16>() == Ok(port) {
                    self.filters.port = Some(PortFilter {
                        port,
                        edges: edges.into_iter().collect(),
                    });
                    self.graph.invalidate();
                    let span_text = format!(
                        "{} + {}",
                        format_utc(span.0),
                        format_duration(span.1 - span.0)
                    );
                    self.notice = Some((format!("port {port}: filtered on {span_text}"), now));
                }
            }
            Reply::Saved(path) => self.notice = Some((format!("saved {}", path.display()), now)),
            Reply::ServerLost(message) => {
                self.banner = Some(format!("Server unreachable ({message}); retrying…"));
            }
            Reply::ServerBack => {
                self.banner = None;
                self.requested_span = None;
            }
            Reply::SessionExpired => {
                self.session = None;
                self.login.error = Some(
                    "the session ended (expired, or the server restarted): log in again".into(),
                );
                if let Some(password) = self.options.password.clone() {
                    self.login.password = password;
                    if let Ok(attempt) = self.login.attempt() {
                        self.login.waiting = true;
                        self.backend.send(Request::Login {
                            url: attempt.url,
                            user: attempt.user,
                            password: attempt.password,
                        });
                    }
                }
            }
            Reply::Failed(message) => self.notice = Some((message, now)),
        }
    }

    /// Applies `--select` once its target is in the graph.
    fn apply_pending_select(&mut self) {
        let Some(target) = self.pending_select.clone() else {
            return;
        };
        let Some(graph) = self.graph.shown().cloned() else {
            return;
        };
        let selection = if target == "busiest" {
            graph
                .edges
                .iter()
                .max_by_key(|e| e.bytes)
                .map(|e| Selection::Edge(e.src.clone(), e.dst.clone()))
        } else if let Some((src, dst)) = target.split_once("->") {
            graph
                .edges
                .iter()
                .find(|e| e.src == src && e.dst == dst)
                .map(|e| Selection::Edge(e.src.clone(), e.dst.clone()))
        } else {
            graph
                .nodes
                .iter()
                .find(|n| n.id == target)
                .map(|n| Selection::Node(n.id.clone()))
        };
        if let Some(selection) = selection {
            self.pending_select = None;
            self.select(Some(selection));
        }
    }

    fn select(&mut self, selection: Option<Selection>) {
        if self.selection == selection {
            return;
        }
        self.selection = selection;
        self.node_detail = None;
        self.edge_detail = None;
        self.edge_page = panels::first_page();
        self.request_details();
    }

    fn request_details(&mut self) {
        let Some(span) = self.graph.shown_request().map(|r| r.span) else {
            return;
        };
        self.detail_refresh.requested(self.now());
        match &self.selection {
            Some(Selection::Node(id)) => {
                if let Ok(addr) = id.parse::<IpAddr>() {
                    self.backend.send(Request::Node { addr, span });
                }
            }
            Some(Selection::Edge(src, dst)) => {
                if let (Ok(src), Ok(dst)) = (src.parse::<IpAddr>(), dst.parse::<IpAddr>()) {
                    self.backend.send(Request::Edge { src, dst, span });
                }
            }
            None => {}
        }
    }

    fn request_graph(&mut self, now: f64) {
        if self.session.is_none() {
            return;
        }
        let Some(span) = self.timeline.graph_span() else {
            return;
        };
        let poll_due = self.timeline.playing && now - self.last_graph_request >= POLL_SECS;
        if self.requested_span != Some(span) || poll_due {
            self.backend.request_graph(span);
            self.requested_span = Some(span);
            self.last_graph_request = now;
        }
    }

    fn request_histogram(&mut self, width_points: f32) {
        if self.session.is_none() {
            return;
        }
        let Some((from, to)) = self.timeline.view() else {
            return;
        };
        let bins = ((width_points / 4.0) as usize).clamp(20, 400);
        let key = (from.to_bits(), to.to_bits(), bins);
        if self.histogram_key != Some(key) {
            self.histogram_key = Some(key);
            self.backend.send(Request::Histogram { from, to, bins });
        }
    }

    fn schedule_screenshot(&mut self, now: f64) {
        let Some(path) = self.options.screenshot.clone() else {
            return;
        };
        if self.screenshot_requested {
            return;
        }
        // A server with no connections has no graph to wait for: its message is the frame.
        let scene_ready = self.server_empty
            || (self.graph.shown_request().map(|r| r.span) == self.timeline.graph_span()
                && self.graph.is_settled());
        // A refused login is as far as the viewer gets: the page with its reason is the frame.
        let login_refused =
            self.session.is_none() && self.login.error.is_some() && !self.login.waiting;
        let ready = login_refused
            || (self.session.is_some()
                && self.pending_select.is_none()
                && scene_ready
                && !self.camera.is_flying());
        self.ready_since = match (ready, self.ready_since) {
            (true, Some(since)) => Some(since),
            (true, None) => Some(now),
            (false, _) => None,
        };
        let settled_long_enough = self
            .ready_since
            .is_some_and(|since| now - since >= SCREENSHOT_SETTLE_SECS);
        let after = self.options.screenshot_after;
        if now >= after && (settled_long_enough || now >= after + SCREENSHOT_PATIENCE_SECS) {
            self.screenshot_requested = true;
            self.capture = Some(CaptureRequest {
                path,
                then_exit: true,
            });
        }
    }

    fn main_ui(&mut self, ui: &mut egui::Ui, now: f64) {
        let ctx = ui.ctx().clone();
        if !ctx.egui_wants_keyboard_input() {
            if ctx.input(|i| i.key_pressed(egui::Key::Space)) {
                self.timeline.push(TimelineCommand::TogglePlay);
            }
            if let Some(backward) =
                ctx.input(|i| i.key_pressed(egui::Key::N).then_some(i.modifiers.shift))
            {
                let direction = if backward {
                    Direction::Backward
                } else {
                    Direction::Forward
                };
                let playhead = self.timeline.playhead;
                if let Some(stop) = (self.histogram.as_ref())
                    .and_then(|histogram| histogram.notice_stop(playhead, direction))
                {
                    self.timeline.push(TimelineCommand::SetPlayhead(stop));
                }
            }
        }
        egui::Panel::top("top").show(ui, |ui| self.top_bar(ui, now));
        egui::Panel::bottom("timeline")
            .resizable(false)
            .show(ui, |ui| {
                // Not the root's width after the side panels: opening or widening one would
                // coarsen the histogram of a strip that spans the whole window.
                self.strip_width = ui.available_width();
                ui.add_space(4.0);
                timeline_ui(
                    ui,
                    &mut self.timeline,
                    self.histogram.as_ref(),
                    &mut self.metric,
                    &mut self.strip,
                );
                ui.add_space(4.0);
            });
        egui::Panel::left("controls")
            .default_size(250.0)
            .resizable(true)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| self.controls(ui));
            });
        if self.selection.is_some() {
            egui::Panel::right("details")
                .default_size(380.0)
                .resizable(true)
                .show(ui, |ui| {
                    egui::ScrollArea::vertical().show(ui, |ui| self.details(ui));
                });
        }
        egui::CentralPanel::default()
            .frame(egui::Frame::NONE)
            .show(ui, |ui| self.graph_view(ui, now));
    }

    fn top_bar(&mut self, ui: &mut egui::Ui, now: f64) {
        ui.horizontal(|ui| {
            ui.strong("wiredraw");
            if let Some((url, user)) = &self.session {
                ui.weak(format!("{user} @ {url}"));
            }
            ui.separator();
            if let (Some(shown), Some(request)) = (self.graph.shown(), self.graph.shown_request()) {
                ui.label(format!(
                    "{} hosts · {} connections · {} - {} UTC",
                    shown.nodes.len(),
                    shown.edges.len(),
                    format_utc(request.span.0),
                    format_utc(request.span.1)
                ));
                let notices = self.graph.shown_records().total;
                if notices > 0 {
                    ui.colored_label(
                        panels::NOTICE_COLOR,
                        format!("⚠ {notices} notice{}", if notices == 1 { "" } else { "s" }),
                    )
                    .on_hover_text("listed on the left, their hosts ringed in the graph");
                }
            } else if self.server_empty {
                ui.label("no connections on the server yet");
            } else {
                ui.spinner();
                ui.label("loading…");
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.button("Log out").clicked() {
                    self.backend.send(Request::Logout);
                    self.session = None;
                }
                if let Some((message, at)) = &self.notice
                    && now - at < 6.0
                {
                    ui.label(message);
                }
            });
        });
        if let Some(banner) = &self.banner {
            egui::Frame::NONE
                .fill(egui::Color32::from_rgb(150, 40, 40))
                .inner_margin(4.0)
                .show(ui, |ui| {
                    ui.set_width(ui.available_width());
                    ui.colored_label(egui::Color32::WHITE, banner);
                });
        }
    }

    fn controls(&mut self, ui: &mut egui::Ui) {
        ui.strong("Search");
        let response = ui.add(
            egui::TextEdit::singleline(&mut self.search)
                .hint_text("address or name, Enter")
                .desired_width(f32::INFINITY),
        );
        if response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
            self.search_and_fly();
        }
        if let Some(message) = &self.search_message {
            ui.weak(message);
        }
        if self.graph.shown().is_some() {
            ui.separator();
            let records = Arc::clone(self.graph.shown_records());
            match panels::window_records_list(ui, &records, self.graph.notice_rows()) {
                Some(RecordAction::ShowHost(host)) => self.show_host(host),
                Some(RecordAction::ShowConnection(src, dst)) => {
                    self.select(Some(Selection::Edge(src, dst)));
                }
                None => {}
            }
            let any = !self.graph.flagged().is_empty() || self.notices_only;
            let only = egui::Checkbox::new(&mut self.notices_only, "only their hosts and peers");
            if ui.add_enabled(any, only).changed() {
                self.follow_notice_filter();
            }
        }
        ui.separator();
        let shown = self.graph.shown().cloned();
        if let Some(graph) = &shown {
            let (protos, services) = panels::categories(graph);
            let mut changed =
                panels::category_filter(ui, "Protocols", &protos, &mut self.filters.hidden_protos);
            changed |= panels::category_filter(
                ui,
                "Services",
                &services,
                &mut self.filters.hidden_services,
            );
            let max_bytes = graph.nodes.iter().map(|n| n.bytes).max().unwrap_or(0);
            changed |= panels::threshold_filter(ui, &mut self.filters, max_bytes);
            ui.strong("Port");
            ui.horizontal(|ui| {
                let edit = ui.add(
                    egui::TextEdit::singleline(&mut self.port_text)
                        .hint_text("e.g. 443")
                        .desired_width(80.0),
                );
                if (edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)))
                    || ui.button("Apply").clicked()
                {
                    self.apply_port_filter();
                    changed = true;
                }
                if self.filters.port.is_some() && ui.button("Clear").clicked() {
                    self.port_text.clear();
                    self.filters.port = None;
                    changed = true;
                }
            });
            if changed {
                self.graph.invalidate();
            }
            ui.separator();
            self.graph.legend().ui(ui);
        }
        ui.separator();
        ui.strong("Export this window");
        ui.horizontal(|ui| {
            ui.label("folder");
            let mut text = self.export_dir.display().to_string();
            if ui.text_edit_singleline(&mut text).changed() {
                self.export_dir = PathBuf::from(text);
            }
        });
        ui.horizontal(|ui| {
            let stamp = self.graph.shown_request().map_or(0, |r| r.span.1 as i64);
            if ui.button("PNG").clicked() {
                self.capture = Some(CaptureRequest {
                    path: self.export_dir.join(format!("wiredraw-{stamp}.png")),
                    then_exit: false,
                });
            }
            if ui.button("DOT").clicked()
                && let Some(request) = self.graph.shown_request()
            {
                self.backend.send(Request::ExportDot {
                    span: request.span,
                    path: self.export_dir.join(format!("wiredraw-{stamp}.dot")),
                });
            }
            if ui
                .button("Notices")
                .on_hover_text("The window's notices as NDJSON, one record per line")
                .clicked()
                && let Some(request) = self.graph.shown_request()
            {
                self.backend.send(Request::ExportNotices {
                    span: request.span,
                    path: self
                        .export_dir
                        .join(format!("wiredraw-{stamp}-notices.ndjson")),
                });
            }
            if ui.button("Fit view").clicked() {
                self.auto_fit = true;
            }
        });
        ui.separator();
        ui.weak(format!(
            "frame {:.1} ms · fetch {:.0} ms · layout {} hosts · dropped requests {}",
            self.frames.last_ms,
            self.last_fetch_ms,
            self.graph.layout_hosts(),
            self.backend.dropped_graph_requests()
        ));
        if self.drawn.edges_thinned > 0 {
            ui.weak(format!(
                "arrows: {} drawn, {} under a pixel wide left out of this crowded view (zoom in \
                 to see them; wide and selected ones always show)",
                self.drawn.edges_drawn, self.drawn.edges_thinned
            ));
        }
        ui.weak(match self.feed {
            Some(Feed::Push) => "updates: pushed by the server (live stream)".to_string(),
            Some(Feed::Polling) => format!(
                "updates: polling every {} s (no live stream)",
                crate::viewer::backend::RANGE_PERIOD.as_secs()
            ),
            None => "updates: -".to_string(),
        });
        ui.weak(
            "drag: orbit · right-drag: pan · scroll: zoom · click: details · space: play · \
             n / shift+n: next / previous notice",
        );
    }

    fn apply_port_filter(&mut self) {
        match self.port_text.trim().parse::<u16>() {
            Ok(port) => {
                if let Some(request) = self.graph.shown_request() {
                    self.backend.send(Request::Ports {
                        span: request.span,
                        port,
                    });
                }
            }
            Err(_) if self.port_text.trim().is_empty() => self.filters.port = None,
            Err(_) => {
                self.search_message = Some(format!("{:?} is not a port number", self.port_text))
            }
        }
    }

    /// Keeps the notice filter on the hosts the window's notices name, or off.
    fn follow_notice_filter(&mut self) {
        self.filters.notice_hosts = self.notices_only.then(|| self.graph.flagged().clone());
        self.graph.invalidate();
    }

    /// Selects a host, flying to it when the graph shows it: a notice may name a host that had
    /// no connection in the window, and its details still tell what is known of it.
    fn show_host(&mut self, id: String) {
        if let Some(position) = self.graph.position(&id) {
            self.auto_fit = false;
            let distance = (self.camera.distance * 0.5).clamp(15.0, 80.0);
            self.camera.fly_to(Vec3::from(position), distance, 0.8);
        }
        self.select(Some(Selection::Node(id)));
    }

    fn search_and_fly(&mut self) {
        let query = self.search.trim().to_lowercase();
        let Some(graph) = self.graph.shown().cloned() else {
            return;
        };
        if query.is_empty() {
            return;
        }
        let found = graph
            .nodes
            .iter()
            .find(|n| n.id == query)
            .or_else(|| {
                graph.nodes.iter().find(|n| {
                    n.id.contains(&query)
                        || n.name
                            .as_deref()
                            .is_some_and(|name| name.to_lowercase().contains(&query))
                })
            })
            .map(|n| n.id.clone());
        match found {
            Some(id) => {
                self.search_message = None;
                self.show_host(id);
            }
            None => {
                self.search_message = Some(format!("no host matching {query:?} in this window"))
            }
        }
    }

    fn details(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.strong("Details");
            if ui.small_button("✖").on_hover_text("Close").clicked() {
                self.select(None);
            }
        });
        ui.separator();
        let (node, edge) = (self.node_detail.clone(), self.edge_detail.clone());
        match (&self.selection, node, edge) {
            (Some(Selection::Node(_)), Some(node), _) => {
                let graph = self.graph.shown().cloned();
                match panels::node_panel(ui, &node, graph.as_deref()) {
                    Some(NodeAction::FlyTo(peer)) => {
                        self.search = peer;
                        self.search_and_fly();
                    }
                    Some(NodeAction::ShowTime(ts)) => {
                        // The notice in the middle of the graph's window.
                        let playhead = ts + self.timeline.window_secs / 2.0;
                        self.timeline.push(TimelineCommand::SetPlayhead(playhead));
                    }
                    Some(NodeAction::FilterPort(port)) => {
                        self.port_text = port.to_string();
                        self.apply_port_filter();
                    }
                    None => {}
                }
            }
            (Some(Selection::Edge(..)), _, Some(edge)) => {
                panels::edge_panel(ui, &edge, &mut self.edge_page);
            }
            (Some(_), _, _) => {
                ui.spinner();
            }
            (None, _, _) => {}
        }
    }

    fn graph_view(&mut self, ui: &mut egui::Ui, now: f64) {
        let rect = ui.available_rect_before_wrap();
        let response = ui.allocate_rect(rect, egui::Sense::click_and_drag());
        let ppp = ui.ctx().pixels_per_point();
        let viewport = Viewport::new(
            (rect.width() * ppp).round().max(1.0) as u32,
            (rect.height() * ppp).round().max(1.0) as u32,
        );
        let dt = ui.input(|i| i.stable_dt).min(0.1);
        if self.graph.update(now, &self.filters) {
            self.scene_serial += 1;
            ui.ctx().request_repaint();
        }
        if self.camera.handle_egui(&response, viewport) {
            self.auto_fit = false;
        }
        if self.camera.update(dt) {
            ui.ctx().request_repaint();
        }
        let scene = Arc::clone(self.graph.scene());
        if self.auto_fit
            && let Some(bounds) = scene.bounds()
        {
            let mut goal = self.camera;
            goal.fit(bounds, viewport.aspect());
            goal.distance *= 0.9;
            let k = 1.0 - (-dt * 4.0).exp();
            let before = (self.camera.target, self.camera.distance);
            self.camera.target = self.camera.target.lerp(goal.target, k);
            self.camera.distance += (goal.distance - self.camera.distance) * k;
            if (self.camera.target - before.0).length() > 1e-3
                || (self.camera.distance - before.1).abs() > 1e-3
            {
                ui.ctx().request_repaint();
            }
        }

        // Hover and click.
        let pick = |app: &mut ViewerApp, pos: egui::Pos2| -> Option<Picked> {
            let picker_stale = app
                .picker
                .as_ref()
                .is_none_or(|(serial, _)| *serial != app.scene_serial);
            if picker_stale {
                app.picker = Some((app.scene_serial, Picker::new(&scene)));
            }
            let pixel = (pos - rect.min) * ppp;
            let ray = app.camera.ray(Vec2::new(pixel.x, pixel.y), viewport);
            app.picker
                .as_ref()
                .and_then(|(_, picker)| picker.pick(&ray))
        };
        let hovered = response.hover_pos().and_then(|pos| pick(self, pos));
        self.hovered = hovered;
        if response.clicked()
            && let Some(pos) = response.interact_pointer_pos()
        {
            let selection = match pick(self, pos) {
                Some(Picked::Node(i)) => self.graph.ids().get(i).cloned().map(Selection::Node),
                Some(Picked::Edge(j)) => scene.edges.get(j).and_then(|edge| {
                    let ids = self.graph.ids();
                    Some(Selection::Edge(
                        ids.get(edge.from as usize)?.clone(),
                        ids.get(edge.to as usize)?.clone(),
                    ))
                }),
                None => None,
            };
            self.select(selection);
        }

        let highlighted = Arc::new(self.highlight(&scene));
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 0.0, egui::Color32::from_rgb(18, 20, 26));
        painter
            .add(GraphPaintCallback::new(Arc::clone(&highlighted), self.camera, rect).into_shape());
        if let Some(graph) = self.graph.shown() {
            let texts: Vec<String> = self
                .graph
                .ids()
                .iter()
                .map(|id| host_label(graph, id))
                .collect();
            paint_labels(
                &painter,
                rect,
                &highlighted,
                &self.camera,
                &texts,
                &LabelOptions::default(),
            );
        }
        if let Some(Picked::Edge(j)) = self.hovered
            && let (Some(edge), Some(pos)) = (scene.edges.get(j), response.hover_pos())
        {
            let ids = self.graph.ids();
            if let (Some(src), Some(dst)) = (ids.get(edge.from as usize), ids.get(edge.to as usize))
            {
                painter.text(
                    pos + egui::vec2(12.0, -12.0),
                    egui::Align2::LEFT_BOTTOM,
                    format!("{src} -> {dst}"),
                    egui::FontId::proportional(13.0),
                    egui::Color32::WHITE,
                );
            }
        }
        // A flagged host says why under the cursor.
        if let Some(Picked::Node(i)) = self.hovered
            && let (Some(id), Some(pos)) = (self.graph.ids().get(i), response.hover_pos())
        {
            let notices = self.graph.notices_of(id);
            if !notices.is_empty() {
                const SHOWN: usize = 3;
                let mut text = format!("⚠ {}", notices[..notices.len().min(SHOWN)].join("\n⚠ "));
                if notices.len() > SHOWN {
                    text.push_str(&format!("\nand {} more", notices.len() - SHOWN));
                }
                painter.text(
                    pos + egui::vec2(12.0, 12.0),
                    egui::Align2::LEFT_TOP,
                    text,
                    egui::FontId::proportional(13.0),
                    panels::NOTICE_COLOR,
                );
            }
        }
        let empty = if self.server_empty {
            Some(
                "no connections on the server yet: each conn log record becomes an arrow,\n\
                 and dns, http, ssl and the other logs attach their records to those",
            )
        } else if self.graph.shown().is_some_and(|g| g.nodes.is_empty()) {
            Some("no traffic in this window")
        } else if self
            .filters
            .notice_hosts
            .as_ref()
            .is_some_and(std::collections::HashSet::is_empty)
        {
            Some(
                "no notices in this window: n moves to the next ones,\n\
                 and unticking \"only their hosts and peers\" shows all its traffic",
            )
        } else if self.filters.is_active() && scene.nodes.is_empty() && self.graph.is_settled() {
            Some("the filters on the left hide every host of this window")
        } else {
            None
        };
        if let Some(message) = empty {
            painter.text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                message,
                egui::FontId::proportional(16.0),
                egui::Color32::GRAY,
            );
        }
    }

    /// The scene with the hovered and selected things marked.
    fn highlight(&self, scene: &Scene) -> Scene {
        let mut scene = scene.clone();
        let ids = self.graph.ids();
        let index_of = |id: &str| ids.iter().position(|x| x == id);
        if let Some(Picked::Node(i)) = self.hovered
            && let Some(node) = scene.nodes.get_mut(i)
        {
            node.state.hovered = true;
        }
        match &self.selection {
            Some(Selection::Node(id)) => {
                if let Some(node) = index_of(id).and_then(|i| scene.nodes.get_mut(i)) {
                    node.state.selected = true;
                }
            }
            Some(Selection::Edge(src, dst)) => {
                let (src, dst) = (index_of(src), index_of(dst));
                for edge in &mut scene.edges {
                    if Some(edge.from as usize) == src && Some(edge.to as usize) == dst {
                        edge.color = Color::rgb(255, 236, 140);
                        edge.width *= 2.0;
                        edge.highlighted = true;
                    }
                }
                for index in [src, dst].into_iter().flatten() {
                    if let Some(node) = scene.nodes.get_mut(index) {
                        node.state.selected = true;
                    }
                }
            }
            None => {}
        }
        if let Some(Picked::Edge(j)) = self.hovered
            && let Some(edge) = scene.edges.get_mut(j)
        {
            edge.color = edge.color.lerp(Color::WHITE, 0.5);
            edge.highlighted = true;
        }
        scene
    }
}

#[cfg(test)]
mod tests {
    use super::Refresh;

    #[test]
    fn details_refresh_at_most_once_a_second_and_once_after_the_last_change() {
        let mut refresh = Refresh::default();
        assert!(!refresh.due(0.0), "nothing changed yet");
        refresh.data_changed();
        assert!(refresh.due(0.0));
        refresh.requested(0.0);
        assert!(
            !refresh.due(0.5),
            "asked for just now, and nothing changed since"
        );
        refresh.data_changed();
        assert!(!refresh.due(0.5), "too soon after the last request");
        // The last change came inside the interval: it is made up for once the interval ends.
        assert!(refresh.due(1.0));
        refresh.requested(1.0);
        assert!(!refresh.due(5.0), "nothing changed after it");
    }
}
