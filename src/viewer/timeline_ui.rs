//! The timeline at the bottom: transport buttons, speed and window choices, and the strip with
//! the traffic histogram, the sensor's capture loss, the notices, the graph window and the
//! playhead.

use super::format_utc;
use super::panels::NOTICE_COLOR;
use super::timeline::{Direction, SPEEDS, Timeline, TimelineCommand, WINDOWS};
use crate::core::CaptureLoss;
use crate::net::api::HistogramResponse;

/// Capture loss from which an interval is marked: Zeek's own threshold for its
/// `CaptureLoss::Too_Much_Loss` notice (`CaptureLoss::too_much_loss`, 10 %).
pub const HEAVY_LOSS_PERCENT: f64 = 10.0;

/// Which traffic measure the histogram draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Metric {
    #[default]
    Bytes,
    Connections,
}

/// The histogram last received, for the stretch it covers.
#[derive(Debug, Clone)]
pub struct Histogram {
    pub from: f64,
    pub to: f64,
    pub answer: HistogramResponse,
}

impl Histogram {
    /// The capture-loss reports heavy enough to mark, over the stretch the histogram covers.
    pub fn heavy_loss(&self) -> impl Iterator<Item = &CaptureLoss> {
        self.answer
            .capture_loss
            .iter()
            .filter(|report| report.percent_lost >= HEAVY_LOSS_PERCENT)
    }

    fn bin_width(&self) -> f64 {
        (self.to - self.from) / self.answer.bins.len().max(1) as f64
    }

    /// The bins holding records about hosts (notices): start, end and how many.
    pub fn notice_bins(&self) -> impl Iterator<Item = (f64, f64, u64)> + '_ {
        let width = self.bin_width();
        self.answer
            .bins
            .iter()
            .filter(|bin| bin.records > 0)
            .map(move |bin| (bin.start, bin.start + width, bin.records))
    }

    /// Where the playhead goes to show the next bin of notices after `playhead` (or, going
    /// backward, the one before it): that bin's end, so the graph's window ends with it.
    pub fn notice_stop(&self, playhead: f64, direction: Direction) -> Option<f64> {
        // Within a microsecond is where the playhead already is.
        const SAME: f64 = 1e-6;
        let mut ends = self.notice_bins().map(|(_, end, _)| end);
        match direction {
            Direction::Forward => ends.find(|&end| end > playhead + SAME),
            Direction::Backward => ends.filter(|&end| end < playhead - SAME).last(),
        }
    }

    /// The heaviest marked loss whose interval meets `[from, to]`.
    pub fn worst_loss_between(&self, from: f64, to: f64) -> Option<&CaptureLoss> {
        self.heavy_loss()
            .filter(|report| report.ts >= from && report.start() <= to)
            .max_by(|a, b| a.percent_lost.total_cmp(&b.percent_lost))
    }
}

/// The heaviest marked loss in the graph's window: where the graph itself is incomplete.
pub fn window_loss<'h>(
    histogram: Option<&'h Histogram>,
    timeline: &Timeline,
) -> Option<&'h CaptureLoss> {
    let (from, to) = timeline.graph_span()?;
    histogram?.worst_loss_between(from, to)
}

/// What a marked interval says: how much, where, when, and what it means for the picture.
fn loss_text(report: &CaptureLoss) -> String {
    format!(
        "{} lost about {:.1} % of its traffic ({} of {} ACKs were for data it never saw), \
         {} – {} UTC: connections and bytes here are undercounted",
        report.peer,
        report.percent_lost,
        report.gaps,
        report.acks,
        format_utc(report.start()),
        format_utc(report.ts),
    )
}

/// Colour of capture-loss marks.
const LOSS_COLOR: egui::Color32 = egui::Color32::from_rgb(230, 80, 70);

/// Drag state of the timeline strip.
#[derive(Debug, Clone, Copy, Default)]
pub struct StripState {
    /// Where a zoom drag on the histogram started (seconds).
    zoom_from: Option<f64>,
}

const STRIP_HEIGHT: f32 = 72.0;
const TRACK_HEIGHT: f32 = 16.0;

/// `1h 30m`, `45s`: a duration in words.
pub fn format_duration(secs: f64) -> String {
    // A connection's few milliseconds are not "0s".
    if secs > 0.0 && secs < 0.9995 {
        return match secs * 1000.0 {
            ms if ms < 1.0 => "<1 ms".into(),
            ms => format!("{ms:.0} ms"),
        };
    }
    // Under ten seconds a tenth still matters: a TLS handshake of 1.5 s is not "2s".
    if (0.9995..9.95).contains(&secs) && (secs * 10.0).round() % 10.0 != 0.0 {
        return format!("{secs:.1}s");
    }
    let secs = secs.max(0.0).round() as u64;
    match secs {
        s if s >= 86_400 && s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s >= 3600 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s >= 3600 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        s if s >= 60 && s % 60 == 0 => format!("{}m", s / 60),
        s if s >= 60 => format!("{}m {}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

/// Draws the controls row and the strip; changes go to `timeline` as commands.
pub fn timeline_ui(
    ui: &mut egui::Ui,
    timeline: &mut Timeline,
    histogram: Option<&Histogram>,
    metric: &mut Metric,
    strip: &mut StripState,
) {
    controls(ui, timeline, histogram, metric);
    ui.add_space(4.0);
    strip_ui(ui, timeline, histogram, *metric, strip);
}

fn controls(
    ui: &mut egui::Ui,
    timeline: &mut Timeline,
    histogram: Option<&Histogram>,
    metric: &mut Metric,
) {
    let mut commands = Vec::new();
    ui.horizontal(|ui| {
        let mut command = |c| commands.push(c);
        if ui.button("⏮").on_hover_text("Back one bucket").clicked() {
            command(TimelineCommand::Step(-1));
        }
        if ui.button("⏪").on_hover_text("Play backwards").clicked() {
            command(TimelineCommand::Rewind);
        }
        let play_label = if timeline.playing { "⏸" } else { "▶" };
        if ui
            .button(play_label)
            .on_hover_text("Play / pause (space)")
            .clicked()
        {
            command(TimelineCommand::TogglePlay);
        }
        if ui
            .button("⏩")
            .on_hover_text("Play forwards, faster on each press")
            .clicked()
        {
            command(TimelineCommand::FastForward);
        }
        if ui.button("⏭").on_hover_text("Forward one bucket").clicked() {
            command(TimelineCommand::Step(1));
        }
        let live = ui.add(egui::Button::new("Live").selected(timeline.follow_live));
        if live.on_hover_text("Follow the newest data").clicked() {
            command(TimelineCommand::JumpToLive);
        }
        ui.separator();
        let mut speed = timeline.speed;
        egui::ComboBox::from_id_salt("speed")
            .selected_text(format!("{}x", speed))
            .show_ui(ui, |ui| {
                for option in SPEEDS {
                    ui.selectable_value(&mut speed, option, format!("{option}x"));
                }
            });
        if speed != timeline.speed {
            command(TimelineCommand::SetSpeed(speed));
        }
        ui.label("window");
        let mut window = timeline.window_secs;
        egui::ComboBox::from_id_salt("window")
            .selected_text(format_duration(window))
            .show_ui(ui, |ui| {
                for option in WINDOWS {
                    ui.selectable_value(&mut window, option, format_duration(option));
                }
            });
        if window != timeline.window_secs {
            command(TimelineCommand::SetWindow(window));
        }
        ui.separator();
        ui.selectable_value(metric, Metric::Bytes, "bytes");
        ui.selectable_value(metric, Metric::Connections, "connections");
        if timeline.zoom.is_some() && ui.button("Reset zoom").clicked() {
            command(TimelineCommand::ResetZoom);
        }
        if let Some(histogram) = histogram.filter(|h| h.notice_bins().next().is_some()) {
            ui.separator();
            for (label, direction, hover) in [
                (
                    "◀ notice",
                    Direction::Backward,
                    "Move to the notices before (shift+n)",
                ),
                (
                    "notice ▶",
                    Direction::Forward,
                    "Move to the notices after (n)",
                ),
            ] {
                let stop = histogram.notice_stop(timeline.playhead, direction);
                let button = ui
                    .add_enabled(stop.is_some(), egui::Button::new(label))
                    .on_hover_text(hover);
                if let Some(t) = stop
                    && button.clicked()
                {
                    command(TimelineCommand::SetPlayhead(t));
                }
            }
        }
        ui.separator();
        let direction = match (timeline.playing, timeline.follow_live, timeline.direction) {
            (_, true, _) => "live".to_string(),
            (false, _, _) => "paused".to_string(),
            (true, _, Direction::Forward) => format!("playing {}x", timeline.speed),
            (true, _, Direction::Backward) => format!("rewinding {}x", timeline.speed),
        };
        if timeline.range.is_some() {
            ui.monospace(format!(
                "{} UTC · {direction}",
                format_utc(timeline.playhead)
            ));
        } else {
            ui.weak("no data yet");
        }
        if let Some(report) = window_loss(histogram, timeline) {
            ui.separator();
            ui.colored_label(
                LOSS_COLOR,
                format!("⚠ capture loss {:.0} %", report.percent_lost),
            )
            .on_hover_text(format!(
                "The sensor missed traffic in this window, so the graph is incomplete.\n{}",
                loss_text(report)
            ));
        }
    });
    for command in commands {
        timeline.push(command);
    }
}

fn strip_ui(
    ui: &mut egui::Ui,
    timeline: &mut Timeline,
    histogram: Option<&Histogram>,
    metric: Metric,
    strip: &mut StripState,
) {
    let width = ui.available_width();
    let (rect, _) = ui.allocate_exact_size(egui::vec2(width, STRIP_HEIGHT), egui::Sense::hover());
    let painter = ui.painter_at(rect);
    let visuals = ui.visuals();
    painter.rect_filled(rect, 4.0, visuals.extreme_bg_color);
    let Some((from, to)) = timeline.view() else {
        painter.text(
            rect.center(),
            egui::Align2::CENTER_CENTER,
            "waiting for data…",
            egui::FontId::proportional(13.0),
            visuals.weak_text_color(),
        );
        return;
    };
    let span = (to - from).max(1e-9);
    let x_of = |t: f64| rect.left() + ((t - from) / span) as f32 * rect.width();
    let t_of = |x: f32| from + f64::from((x - rect.left()) / rect.width()) * span;
    let track = egui::Rect::from_min_max(
        rect.min,
        egui::pos2(rect.right(), rect.top() + TRACK_HEIGHT),
    );
    let bars = egui::Rect::from_min_max(egui::pos2(rect.left(), track.bottom()), rect.max);

    if let Some(histogram) = histogram {
        paint_histogram(&painter, bars, histogram, metric, &x_of);
        paint_capture_loss(&painter, bars, histogram, &x_of);
        paint_notices(&painter, bars, histogram, &x_of);
    }
    // The graph window: the history the graph shows.
    if let Some((window_from, window_to)) = timeline.graph_span() {
        let shade = egui::Rect::from_x_y_ranges(
            x_of(window_from).max(rect.left())..=x_of(window_to).min(rect.right()),
            rect.y_range(),
        );
        painter.rect_filled(
            shade,
            0.0,
            egui::Color32::from_rgba_unmultiplied(90, 160, 255, 40),
        );
    }
    painter.rect_filled(track, 4.0, visuals.faint_bg_color);
    for (t, align) in [
        (from, egui::Align2::LEFT_TOP),
        (to, egui::Align2::RIGHT_TOP),
    ] {
        painter.text(
            egui::pos2(x_of(t), track.top() + 1.0),
            align,
            format_utc(t),
            egui::FontId::monospace(10.0),
            visuals.weak_text_color(),
        );
    }
    let x = x_of(timeline.playhead);
    if rect.x_range().contains(x) {
        let color = egui::Color32::from_rgb(255, 200, 60);
        painter.line_segment(
            [egui::pos2(x, rect.top()), egui::pos2(x, rect.bottom())],
            (2.0, color),
        );
        painter.circle_filled(egui::pos2(x, track.center().y), 6.0, color);
    }

    // The track scrubs; the histogram zooms on a drag and moves the playhead on a click.
    let track_response = ui.interact(
        track,
        ui.scope_id().with("track"),
        egui::Sense::click_and_drag(),
    );
    if (track_response.dragged() || track_response.clicked())
        && let Some(pos) = track_response.interact_pointer_pos()
    {
        timeline.push(TimelineCommand::SetPlayhead(t_of(pos.x)));
    }
    let bars_response = ui.interact(
        bars,
        ui.scope_id().with("bars"),
        egui::Sense::click_and_drag(),
    );
    if bars_response.double_clicked() {
        timeline.push(TimelineCommand::ResetZoom);
    } else if bars_response.clicked()
        && let Some(pos) = bars_response.interact_pointer_pos()
    {
        timeline.push(TimelineCommand::SetPlayhead(t_of(pos.x)));
    }
    if bars_response.drag_started()
        && let Some(pos) = bars_response.interact_pointer_pos()
    {
        strip.zoom_from = Some(t_of(pos.x));
    }
    if let (Some(start), Some(pos)) = (strip.zoom_from, bars_response.interact_pointer_pos()) {
        let selection = egui::Rect::from_x_y_ranges(
            x_of(start).min(pos.x)..=x_of(start).max(pos.x),
            bars.y_range(),
        );
        painter.rect_filled(selection, 0.0, egui::Color32::from_white_alpha(30));
        if bars_response.drag_stopped() {
            timeline.push(TimelineCommand::Zoom {
                from: start,
                to: t_of(pos.x),
            });
            strip.zoom_from = None;
        }
    }
    if !bars_response.dragged() && !bars_response.drag_stopped() {
        strip.zoom_from = None;
    }
    let hint = "click: move the playhead · drag: zoom · double-click: whole range";
    let mut hover = Vec::new();
    if let Some((histogram, pos)) = histogram.zip(bars_response.hover_pos()) {
        let t = t_of(pos.x);
        if let Some(report) = histogram.worst_loss_between(t, t) {
            hover.push(loss_text(report));
        }
        let notices = histogram
            .notice_bins()
            .find(|&(start, end, _)| (start..end).contains(&t));
        if let Some((start, end, count)) = notices {
            hover.push(format!(
                "{count} notice{} {} – {} UTC",
                if count == 1 { "" } else { "s" },
                format_utc(start),
                format_utc(end)
            ));
        }
    }
    hover.push(hint.to_string());
    bars_response.on_hover_text(hover.join("\n"));
}

/// Marks each bin holding notices with a small triangle over the bars, wider for more of them:
/// where in time to look.
fn paint_notices(
    painter: &egui::Painter,
    rect: egui::Rect,
    histogram: &Histogram,
    x_of: &dyn Fn(f64) -> f32,
) {
    for (start, end, count) in histogram.notice_bins() {
        let x = x_of((start + end) / 2.0);
        if !rect.x_range().contains(x) {
            continue;
        }
        let half = 4.0 + (count as f32).log10().clamp(0.0, 2.0);
        let top = rect.top() + 1.0;
        painter.add(egui::Shape::convex_polygon(
            vec![
                egui::pos2(x - half, top),
                egui::pos2(x + half, top),
                egui::pos2(x, top + 1.6 * half),
            ],
            NOTICE_COLOR,
            egui::Stroke::NONE,
        ));
    }
}

/// Shades each interval the sensor reported heavy loss for, deeper for more loss, with a solid
/// band along the bottom: the bars there undercount.
fn paint_capture_loss(
    painter: &egui::Painter,
    rect: egui::Rect,
    histogram: &Histogram,
    x_of: &dyn Fn(f64) -> f32,
) {
    const BAND: f32 = 4.0;
    for report in histogram.heavy_loss() {
        let (left, right) = (x_of(report.start()), x_of(report.ts));
        if right < rect.left() || left > rect.right() {
            continue;
        }
        // At least two points wide: a day's strip gives a 15-minute interval one point or less.
        let x_range = left.max(rect.left())..=right.max(left + 2.0).min(rect.right());
        let depth = (report.percent_lost / 100.0).clamp(0.0, 1.0) as f32;
        let shade = LOSS_COLOR.gamma_multiply(0.15 + 0.35 * depth);
        painter.rect_filled(
            egui::Rect::from_x_y_ranges(x_range.clone(), rect.y_range()),
            0.0,
            shade,
        );
        painter.rect_filled(
            egui::Rect::from_x_y_ranges(x_range, rect.bottom() - BAND..=rect.bottom()),
            0.0,
            LOSS_COLOR,
        );
    }
}

fn paint_histogram(
    painter: &egui::Painter,
    rect: egui::Rect,
    histogram: &Histogram,
    metric: Metric,
    x_of: &dyn Fn(f64) -> f32,
) {
    let value = |bin: &crate::net::api::HistogramBin| match metric {
        Metric::Bytes => bin.bytes as f64,
        Metric::Connections => bin.conns as f64,
    };
    let bins = &histogram.answer.bins;
    let Some(max) = bins.iter().map(value).reduce(f64::max).filter(|&m| m > 0.0) else {
        return;
    };
    let bin_width = histogram.bin_width();
    let color = egui::Color32::from_rgb(70, 130, 200);
    for bin in bins {
        let v = value(bin);
        if v <= 0.0 {
            continue;
        }
        // Square root: quiet periods stay visible beside bursts.
        let height = ((v / max).sqrt() as f32) * (rect.height() - 2.0);
        let (left, right) = (x_of(bin.start), x_of(bin.start + bin_width));
        if right < rect.left() || left > rect.right() {
            continue;
        }
        let bar = egui::Rect::from_min_max(
            egui::pos2(left.max(rect.left()), rect.bottom() - height),
            egui::pos2(
                (right - 0.5).max(left + 1.0).min(rect.right()),
                rect.bottom(),
            ),
        );
        painter.rect_filled(bar, 0.0, color);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_durations_read_well() {
        assert_eq!(format_duration(300.0), "5m");
        assert_eq!(format_duration(5400.0), "1h 30m");
        assert_eq!(format_duration(86_400.0), "1d");
        assert_eq!(format_duration(42.0), "42s");
        assert_eq!(format_duration(0.070889), "71 ms");
        assert_eq!(format_duration(0.000064), "<1 ms");
        assert_eq!(format_duration(0.9996), "1s");
        assert_eq!(format_duration(1.5), "1.5s");
        assert_eq!(format_duration(9.94), "9.9s");
        assert_eq!(format_duration(9.96), "10s");
        assert_eq!(format_duration(2.04), "2s");
        assert_eq!(format_duration(0.0), "0s");
    }

    fn loss(ts: f64, percent_lost: f64) -> CaptureLoss {
        CaptureLoss {
            ts,
            ts_delta: 900.0,
            peer: "worker-eth0-1".into(),
            gaps: 0,
            acks: 0,
            percent_lost,
        }
    }

    #[test]
    fn heavy_loss_is_what_zeek_would_raise_a_notice_for_and_the_worst_in_a_span_wins() {
        let histogram = Histogram {
            from: 0.0,
            to: 10_000.0,
            answer: HistogramResponse {
                bins: Vec::new(),
                capture_loss: vec![
                    loss(1000.0, 9.99),
                    loss(1900.0, 10.0),
                    loss(2800.0, 55.2),
                    loss(3700.0, 0.0),
                ],
            },
        };
        let heavy: Vec<f64> = histogram.heavy_loss().map(|r| r.ts).collect();
        assert_eq!(heavy, [1900.0, 2800.0]);
        // 1900's interval is [1000, 1900], 2800's [1900, 2800].
        assert_eq!(histogram.worst_loss_between(0.0, 999.0), None);
        assert_eq!(
            histogram.worst_loss_between(1500.0, 1500.0).unwrap().ts,
            1900.0
        );
        assert_eq!(
            histogram.worst_loss_between(1500.0, 5000.0).unwrap().ts,
            2800.0
        );
        assert_eq!(histogram.worst_loss_between(2801.0, 9000.0), None);
    }

    #[test]
    fn a_loss_mark_says_how_much_where_and_when() {
        let mut report = loss(1_713_531_375.558776, 55.238415);
        report.ts_delta = 900.00028;
        report.gaps = 1645;
        report.acks = 2978;
        assert_eq!(
            loss_text(&report),
            "worker-eth0-1 lost about 55.2 % of its traffic (1645 of 2978 ACKs were for data it \
             never saw), 2024-04-19 12:41:15 – 2024-04-19 12:56:15 UTC: connections and bytes \
             here are undercounted"
        );
    }

    #[test]
    fn the_notice_buttons_stop_at_the_end_of_each_bin_with_notices() {
        let bin = |start: f64, records: u64| crate::net::api::HistogramBin {
            start,
            conns: 0,
            bytes: 0,
            records,
        };
        let histogram = Histogram {
            from: 0.0,
            to: 400.0,
            answer: HistogramResponse {
                bins: vec![bin(0.0, 0), bin(100.0, 3), bin(200.0, 0), bin(300.0, 1)],
                capture_loss: Vec::new(),
            },
        };
        let bins: Vec<_> = histogram.notice_bins().collect();
        assert_eq!(bins, [(100.0, 200.0, 3), (300.0, 400.0, 1)]);
        let next = |t| histogram.notice_stop(t, Direction::Forward);
        let previous = |t| histogram.notice_stop(t, Direction::Backward);
        assert_eq!(next(0.0), Some(200.0));
        assert_eq!(next(150.0), Some(200.0));
        // At a stop, the next one is the following bin's.
        assert_eq!(next(200.0), Some(400.0));
        assert_eq!(next(400.0), None);
        assert_eq!(previous(400.0), Some(200.0));
        assert_eq!(previous(350.0), Some(200.0));
        assert_eq!(previous(200.0), None);
    }
}
