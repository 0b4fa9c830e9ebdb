//! The timeline's state and the commands that change it.
//!
//! Widgets never write the state directly: during a frame they queue [`TimelineCommand`]s, and
//! [`Timeline::end_frame`] applies them in order once the frame's UI is built (the pattern rerun
//! uses). So every part of a frame sees the same playhead, and the logic is testable without a
//! window.

use crate::net::store::TimeRange;

/// Playback speeds offered, in log seconds per wall-clock second.
pub const SPEEDS: [f64; 6] = [1.0, 10.0, 60.0, 300.0, 900.0, 3600.0];

/// Window widths offered, in seconds of history shown around the playhead.
pub const WINDOWS: [f64; 7] = [
    60.0,
    300.0,
    900.0,
    3600.0,
    4.0 * 3600.0,
    12.0 * 3600.0,
    86400.0,
];

/// A zoomed view is never narrower than this many buckets.
const MIN_ZOOM_BUCKETS: f64 = 4.0;

/// Which way time runs while playing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Forward,
    Backward,
}

/// One change to the timeline, queued during a frame and applied at its end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimelineCommand {
    /// What the server holds now (from `GET /api/range`): `live` is where the newest data is,
    /// the latest connection start, which the end of a long connection can lie beyond.
    SetRange {
        first: f64,
        last: f64,
        live: f64,
        bucket_secs: f64,
    },
    /// Moves the playhead (a drag or a click on the timeline); stops following live.
    SetPlayhead(f64),
    Play,
    Pause,
    TogglePlay,
    /// Plays backwards at the current speed.
    Rewind,
    /// Plays forwards at the next faster speed.
    FastForward,
    SetSpeed(f64),
    /// Moves by whole buckets (negative: back) and pauses.
    Step(i64),
    /// Playhead to the newest data, following it as it grows.
    JumpToLive,
    /// How much history the graph shows, seconds.
    SetWindow(f64),
    /// Shows only `[from, to]` on the timeline (a drag on the histogram).
    Zoom {
        from: f64,
        to: f64,
    },
    /// Shows the whole held range again.
    ResetZoom,
}

/// Where the playhead is and how it moves.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    /// First and last time the server holds; `None` until it holds something.
    pub range: Option<(f64, f64)>,
    /// Where the newest data is, within the range: what following live shows.
    pub live_edge: Option<f64>,
    /// The part of the range the timeline shows; `None` shows the whole range.
    pub zoom: Option<(f64, f64)>,
    pub playhead: f64,
    /// Seconds of history the graph shows, ending at the playhead's bucket.
    pub window_secs: f64,
    pub playing: bool,
    pub direction: Direction,
    /// Log seconds per second while playing.
    pub speed: f64,
    /// The playhead stays on the newest data as it arrives.
    pub follow_live: bool,
    pub bucket_secs: f64,
    /// Whether the playhead was ever placed (by `--at`, a drag, or the first range).
    placed: bool,
    pending: Vec<TimelineCommand>,
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline {
            range: None,
            live_edge: None,
            zoom: None,
            playhead: 0.0,
            window_secs: 300.0,
            playing: false,
            direction: Direction::Forward,
            speed: SPEEDS[0],
            follow_live: true,
            bucket_secs: 10.0,
            placed: false,
            pending: Vec::new(),
        }
    }
}

impl TimelineCommand {
    /// What the server holds (`GET /api/range`, once it holds something), with its buckets.
    pub fn set_range(held: TimeRange, bucket_secs: u64) -> TimelineCommand {
        TimelineCommand::SetRange {
            first: held.first,
            last: held.last,
            live: held.latest_start,
            bucket_secs: bucket_secs as f64,
        }
    }
}

impl Timeline {
    /// A timeline whose playhead starts at `at` (paused there), or that follows live data.
    pub fn new(at: Option<f64>, window_secs: f64, playing: bool) -> Timeline {
        let mut timeline = Timeline {
            window_secs: window_secs.max(1.0),
            playing,
            ..Timeline::default()
        };
        if let Some(at) = at {
            timeline.playhead = at;
            timeline.placed = true;
            timeline.follow_live = false;
        }
        timeline
    }

    /// Queues a command for the end of the frame.
    pub fn push(&mut self, command: TimelineCommand) {
        self.pending.push(command);
    }

    /// Applies the queued commands in order, then moves a playing playhead by `dt` seconds of
    /// wall time.
    pub fn end_frame(&mut self, dt: f64) {
        for command in std::mem::take(&mut self.pending) {
            self.apply(command);
        }
        self.advance(dt);
    }

    /// Applies one command now.
    pub fn apply(&mut self, command: TimelineCommand) {
        match command {
            TimelineCommand::SetRange {
                first,
                last,
                live,
                bucket_secs,
            } => {
                if !(first.is_finite() && last.is_finite() && first <= last && !live.is_nan()) {
                    return;
                }
                let live = live.clamp(first, last);
                self.range = Some((first, last));
                self.live_edge = Some(live);
                if bucket_secs > 0.0 {
                    self.bucket_secs = bucket_secs;
                }
                if self.follow_live || !self.placed {
                    self.playhead = live;
                    self.placed = true;
                }
                if let Some((from, to)) = self.zoom {
                    self.zoom = self.clamp_zoom(from, to);
                }
            }
            TimelineCommand::SetPlayhead(t) => {
                if let Some(t) = self.clamp(t) {
                    self.playhead = t;
                    self.placed = true;
                    self.follow_live = self.range.is_some_and(|(_, last)| t >= last);
                }
            }
            TimelineCommand::Play => self.play(),
            TimelineCommand::Pause => self.playing = false,
            TimelineCommand::TogglePlay => {
                if self.playing {
                    self.playing = false;
                } else {
                    self.play();
                }
            }
            TimelineCommand::Rewind => {
                self.direction = Direction::Backward;
                self.follow_live = false;
                self.playing = true;
            }
            TimelineCommand::FastForward => {
                if self.direction == Direction::Forward && self.playing {
                    self.speed = SPEEDS
                        .iter()
                        .copied()
                        .find(|&s| s > self.speed)
                        .unwrap_or(self.speed);
                }
                self.direction = Direction::Forward;
                self.play();
            }
            TimelineCommand::SetSpeed(speed) => {
                if speed.is_finite() && speed > 0.0 {
                    self.speed = speed;
                }
            }
            TimelineCommand::Step(buckets) => {
                self.playing = false;
                let target = self.playhead + buckets as f64 * self.bucket_secs;
                self.apply(TimelineCommand::SetPlayhead(target));
            }
            TimelineCommand::JumpToLive => {
                if let Some(live) = self.live_edge {
                    self.playhead = live;
                }
                self.follow_live = true;
                self.direction = Direction::Forward;
                self.playing = true;
            }
            TimelineCommand::SetWindow(secs) => {
                if secs.is_finite() && secs >= 1.0 {
                    self.window_secs = secs;
                }
            }
            TimelineCommand::Zoom { from, to } => {
                let (from, to) = if from <= to { (from, to) } else { (to, from) };
                self.zoom = self.clamp_zoom(from, to);
            }
            TimelineCommand::ResetZoom => self.zoom = None,
        }
    }

    fn play(&mut self) {
        self.playing = true;
        // Playing forward from the newest data (or past it) just follows live data.
        if self.direction == Direction::Forward
            && self.live_edge.is_some_and(|live| self.playhead >= live)
        {
            self.follow_live = true;
        }
    }

    /// Moves a playing playhead; stops at the start, and turns into following live once it
    /// reaches the newest data.
    fn advance(&mut self, dt: f64) {
        // NaN counts as no time passed.
        if !self.playing || self.follow_live || dt.is_nan() || dt <= 0.0 {
            return;
        }
        let (Some((first, _)), Some(live)) = (self.range, self.live_edge) else {
            return;
        };
        let step = self.speed * dt;
        match self.direction {
            Direction::Forward => {
                self.playhead += step;
                if self.playhead >= live {
                    self.playhead = live;
                    self.follow_live = true;
                }
            }
            Direction::Backward => {
                self.playhead -= step;
                if self.playhead <= first {
                    self.playhead = first;
                    self.playing = false;
                    self.direction = Direction::Forward;
                }
            }
        }
    }

    fn clamp(&self, t: f64) -> Option<f64> {
        if !t.is_finite() {
            return None;
        }
        Some(match self.range {
            Some((first, last)) => t.clamp(first, last),
            None => t,
        })
    }

    fn clamp_zoom(&self, from: f64, to: f64) -> Option<(f64, f64)> {
        let (first, last) = self.range?;
        let min_width = MIN_ZOOM_BUCKETS * self.bucket_secs;
        let (from, to) = (from.max(first), to.min(last));
        let width = to - from;
        if width.is_nan() || width < min_width {
            return None;
        }
        Some((from, to))
    }

    /// The stretch of time the timeline shows: the zoom, else the whole range.
    pub fn view(&self) -> Option<(f64, f64)> {
        self.zoom.or(self.range)
    }

    /// The window the graph shows: whole buckets, ending with the bucket that holds the
    /// playhead. Requests change only when the playhead crosses a bucket boundary.
    pub fn graph_span(&self) -> Option<(f64, f64)> {
        self.range?;
        let bucket = self.bucket_secs.max(1.0);
        let to = ((self.playhead / bucket).floor() + 1.0) * bucket;
        let buckets = (self.window_secs / bucket).round().max(1.0);
        Some((to - buckets * bucket, to))
    }

    /// Whether the playhead moves by itself (so frames must keep coming).
    pub fn is_moving(&self) -> bool {
        self.playing && !self.follow_live
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_range() -> Timeline {
        let mut timeline = Timeline::new(None, 60.0, false);
        timeline.apply(TimelineCommand::SetRange {
            first: 1000.0,
            last: 2000.0,
            live: 2000.0,
            bucket_secs: 10.0,
        });
        timeline
    }

    #[test]
    fn commands_wait_for_the_end_of_the_frame_and_apply_in_order() {
        let mut timeline = with_range();
        timeline.push(TimelineCommand::SetPlayhead(1500.0));
        timeline.push(TimelineCommand::Step(-2));
        assert_eq!(
            timeline.playhead, 2000.0,
            "nothing changes during the frame"
        );
        timeline.end_frame(0.0);
        assert_eq!(timeline.playhead, 1480.0);
        assert!(!timeline.playing && !timeline.follow_live);
    }

    #[test]
    fn the_first_range_places_the_playhead_at_live_and_follows_it() {
        let mut timeline = with_range();
        assert_eq!(timeline.playhead, 2000.0);
        timeline.apply(TimelineCommand::SetRange {
            first: 1000.0,
            last: 2100.0,
            live: 2100.0,
            bucket_secs: 10.0,
        });
        assert_eq!(timeline.playhead, 2100.0, "live follows new data");
        timeline.apply(TimelineCommand::SetPlayhead(1200.0));
        timeline.apply(TimelineCommand::SetRange {
            first: 1000.0,
            last: 2200.0,
            live: 2200.0,
            bucket_secs: 10.0,
        });
        assert_eq!(timeline.playhead, 1200.0, "a placed playhead stays");
    }

    #[test]
    fn at_sets_the_playhead_before_any_range_and_keeps_it() {
        let mut timeline = Timeline::new(Some(1234.0), 60.0, false);
        timeline.apply(TimelineCommand::SetRange {
            first: 1000.0,
            last: 2000.0,
            live: 2000.0,
            bucket_secs: 10.0,
        });
        assert_eq!(timeline.playhead, 1234.0);
        assert_eq!(timeline.graph_span(), Some((1180.0, 1240.0)));
    }

    #[test]
    fn playing_moves_at_speed_and_turns_into_live_at_the_end() {
        let mut timeline = with_range();
        timeline.apply(TimelineCommand::SetPlayhead(1000.0));
        timeline.apply(TimelineCommand::SetSpeed(60.0));
        timeline.apply(TimelineCommand::Play);
        timeline.end_frame(2.0);
        assert_eq!(timeline.playhead, 1120.0);
        timeline.end_frame(100.0);
        assert_eq!(timeline.playhead, 2000.0);
        assert!(timeline.follow_live && timeline.playing && !timeline.is_moving());
    }

    /// A replay sends each connection at its start, so the end of a long one lies ahead of the
    /// newest data: live follows the newest data, and the time beyond stays reachable.
    #[test]
    fn live_follows_the_latest_start_not_the_end_of_a_long_connection() {
        let mut timeline = Timeline::new(None, 60.0, false);
        let range = |live| TimelineCommand::SetRange {
            first: 1000.0,
            last: 2000.0,
            live,
            bucket_secs: 10.0,
        };
        timeline.apply(range(1500.0));
        assert_eq!(timeline.playhead, 1500.0);
        assert_eq!(timeline.graph_span(), Some((1450.0, 1510.0)));
        timeline.apply(range(1600.0));
        assert_eq!(timeline.playhead, 1600.0, "live follows newer data");

        timeline.apply(TimelineCommand::SetPlayhead(1800.0));
        timeline.apply(range(1600.0));
        assert_eq!(
            timeline.playhead, 1800.0,
            "the time beyond the newest data can be shown"
        );
        assert!(!timeline.follow_live);

        timeline.apply(TimelineCommand::SetPlayhead(1000.0));
        timeline.apply(TimelineCommand::SetSpeed(60.0));
        timeline.apply(TimelineCommand::Play);
        timeline.end_frame(100.0);
        assert_eq!(
            timeline.playhead, 1600.0,
            "playing stops at the newest data"
        );
        assert!(timeline.follow_live && !timeline.is_moving());

        timeline.apply(TimelineCommand::SetPlayhead(2000.0));
        assert!(timeline.follow_live, "the very end means live");
        timeline.apply(range(1650.0));
        assert_eq!(timeline.playhead, 1650.0);

        timeline.apply(range(f64::INFINITY));
        assert_eq!(
            timeline.live_edge,
            Some(2000.0),
            "live lies within the range"
        );
        timeline.apply(range(f64::NAN));
        assert_eq!(timeline.live_edge, Some(2000.0), "a NaN range is ignored");
    }

    #[test]
    fn rewind_stops_at_the_start_and_fast_forward_steps_up_speeds() {
        let mut timeline = with_range();
        timeline.apply(TimelineCommand::SetPlayhead(1100.0));
        timeline.apply(TimelineCommand::SetSpeed(10.0));
        timeline.apply(TimelineCommand::Rewind);
        timeline.end_frame(5.0);
        assert_eq!(timeline.playhead, 1050.0);
        timeline.end_frame(50.0);
        assert_eq!(timeline.playhead, 1000.0);
        assert!(!timeline.playing);
        timeline.apply(TimelineCommand::FastForward);
        assert_eq!((timeline.speed, timeline.playing), (10.0, true));
        timeline.apply(TimelineCommand::FastForward);
        assert_eq!(timeline.speed, 60.0);
        timeline.apply(TimelineCommand::SetSpeed(3600.0));
        timeline.apply(TimelineCommand::FastForward);
        assert_eq!(timeline.speed, 3600.0, "the fastest speed stays");
    }

    #[test]
    fn scrubbing_is_clamped_and_jump_to_live_follows() {
        let mut timeline = with_range();
        timeline.apply(TimelineCommand::SetPlayhead(10.0));
        assert_eq!(timeline.playhead, 1000.0);
        timeline.apply(TimelineCommand::SetPlayhead(f64::NAN));
        assert_eq!(timeline.playhead, 1000.0);
        timeline.apply(TimelineCommand::JumpToLive);
        assert_eq!(timeline.playhead, 2000.0);
        assert!(timeline.follow_live && timeline.playing);
    }

    #[test]
    fn zoom_is_clamped_to_the_range_and_refuses_slivers() {
        let mut timeline = with_range();
        timeline.apply(TimelineCommand::Zoom {
            from: 1800.0,
            to: 900.0,
        });
        assert_eq!(timeline.view(), Some((1000.0, 1800.0)));
        timeline.apply(TimelineCommand::Zoom {
            from: 1500.0,
            to: 1510.0,
        });
        assert_eq!(timeline.zoom, None, "narrower than four buckets");
        assert_eq!(timeline.view(), Some((1000.0, 2000.0)));
    }

    #[test]
    fn graph_spans_cover_whole_buckets_and_change_only_across_boundaries() {
        let mut timeline = with_range();
        timeline.apply(TimelineCommand::SetWindow(300.0));
        timeline.apply(TimelineCommand::SetPlayhead(1501.0));
        let span = timeline.graph_span();
        assert_eq!(span, Some((1210.0, 1510.0)));
        timeline.apply(TimelineCommand::SetPlayhead(1509.9));
        assert_eq!(timeline.graph_span(), span);
        timeline.apply(TimelineCommand::SetPlayhead(1510.0));
        assert_eq!(timeline.graph_span(), Some((1220.0, 1520.0)));
        assert_eq!(Timeline::default().graph_span(), None, "no range yet");
    }
}
