//! Zeek's connection `history` string, spelled out step by step for the edge details panel.
//!
//! Each letter is one event; upper case comes from the originator, lower case from the
//! responder (Zeek's `Conn::Info$history`). The letters `c`, `g`, `t` and `w` are logged at
//! exponentially growing counts: the first one in a direction means the event was seen once,
//! the second at least 10 times, the third at least 100 times, and so on.
//!
//! ```
//! use wiredraw_core::history::{self, Direction, Event};
//!
//! let steps = history::decode("ShADadR");
//! assert_eq!(steps[1].direction, Some(Direction::Resp));
//! assert_eq!(steps[1].event, Event::SynAck);
//! assert_eq!(
//!     history::describe("ShADadR"),
//!     "orig SYN, resp SYN-ACK, orig ACK, orig data, resp ACK, resp data, orig RST"
//! );
//! // Retransmissions: once, then at least 10 times.
//! assert_eq!(history::describe("TT"), "orig retransmission, orig retransmission (10+ times)");
//! ```

use std::fmt;

/// Which side sent the packets an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The originator (upper-case letter).
    Orig,
    /// The responder (lower-case letter).
    Resp,
}

/// What one history letter means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// `s`: a SYN without the ACK bit.
    Syn,
    /// `h`: a SYN+ACK ("handshake").
    SynAck,
    /// `a`: a pure ACK.
    Ack,
    /// `d`: a packet with payload ("data").
    Data,
    /// `f`: a packet with the FIN bit.
    Fin,
    /// `r`: a packet with the RST bit.
    Rst,
    /// `c`: a packet with a bad checksum (TCP or UDP).
    BadChecksum,
    /// `g`: a content gap.
    ContentGap,
    /// `t`: a packet with retransmitted payload.
    Retransmission,
    /// `w`: a packet advertising a zero window.
    ZeroWindow,
    /// `i`: an inconsistent packet (e.g. FIN and RST both set).
    Inconsistent,
    /// `q`: a multi-flag packet (SYN+FIN or SYN+RST).
    MultiFlag,
    /// `^`: Zeek's heuristic flipped the connection's direction (no side).
    Flipped,
    /// `x`: the connection was only partly analysed (e.g. a limit was exceeded).
    Partial,
    /// A letter this decoder does not know.
    Unknown(char),
}

impl Event {
    fn of_letter(letter: char) -> Event {
        match letter.to_ascii_lowercase() {
            's' => Event::Syn,
            'h' => Event::SynAck,
            'a' => Event::Ack,
            'd' => Event::Data,
            'f' => Event::Fin,
            'r' => Event::Rst,
            'c' => Event::BadChecksum,
            'g' => Event::ContentGap,
            't' => Event::Retransmission,
            'w' => Event::ZeroWindow,
            'i' => Event::Inconsistent,
            'q' => Event::MultiFlag,
            'x' => Event::Partial,
            '^' => Event::Flipped,
            _ => Event::Unknown(letter),
        }
    }

    /// Whether repeats of this letter stand for 10×, 100×, … as many events.
    pub fn is_logarithmic(self) -> bool {
        matches!(
            self,
            Event::BadChecksum | Event::ContentGap | Event::Retransmission | Event::ZeroWindow
        )
    }

    /// The event's name, as shown in the details panel.
    pub fn name(self) -> &'static str {
        match self {
            Event::Syn => "SYN",
            Event::SynAck => "SYN-ACK",
            Event::Ack => "ACK",
            Event::Data => "data",
            Event::Fin => "FIN",
            Event::Rst => "RST",
            Event::BadChecksum => "bad checksum",
            Event::ContentGap => "content gap",
            Event::Retransmission => "retransmission",
            Event::ZeroWindow => "zero window",
            Event::Inconsistent => "inconsistent flags",
            Event::MultiFlag => "multi-flag packet",
            Event::Flipped => "direction flipped",
            Event::Partial => "partial analysis",
            Event::Unknown(_) => "unknown",
        }
    }
}

/// One decoded history letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HistoryStep {
    /// The letter as written.
    pub letter: char,
    /// `None` for letters without a side (`^`, and letters that are not ASCII letters).
    pub direction: Option<Direction>,
    pub event: Event,
    /// How many events this letter stands for at least: 1, or 10, 100, … for the repeats of a
    /// logarithmic letter (see [`Event::is_logarithmic`]).
    pub at_least: u64,
}

/// Decodes a history string into one step per letter.
pub fn decode(history: &str) -> Vec<HistoryStep> {
    // Occurrences so far of each logarithmic letter, per direction.
    let mut seen: Vec<(char, u32)> = Vec::new();
    history
        .chars()
        .map(|letter| {
            let event = Event::of_letter(letter);
            let direction = match letter {
                'A'..='Z' => Some(Direction::Orig),
                'a'..='z' => Some(Direction::Resp),
                _ => None,
            };
            let mut at_least = 1;
            if event.is_logarithmic() {
                let count = match seen.iter_mut().find(|(l, _)| *l == letter) {
                    Some((_, count)) => {
                        *count += 1;
                        *count
                    }
                    None => {
                        seen.push((letter, 0));
                        0
                    }
                };
                at_least = 10u64.saturating_pow(count);
            }
            HistoryStep {
                letter,
                direction,
                event,
                at_least,
            }
        })
        .collect()
}

/// The whole history in words, steps separated by `, `.
pub fn describe(history: &str) -> String {
    decode(history)
        .iter()
        .map(HistoryStep::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What Zeek's `conn_state` code says about how a connection went, in words (`REJ`: "attempt
/// rejected"); `None` for a code Zeek does not write.
///
/// ```
/// use wiredraw_core::history::conn_state_meaning;
///
/// assert_eq!(conn_state_meaning("SF"), Some("established and closed normally"));
/// assert_eq!(conn_state_meaning("XYZ"), None);
/// ```
pub fn conn_state_meaning(state: &str) -> Option<&'static str> {
    Some(match state {
        "S0" => "attempt seen, no reply",
        "S1" => "established, not closed",
        "SF" => "established and closed normally",
        "REJ" => "attempt rejected",
        "S2" => "established, the originator tried to close, no reply seen",
        "S3" => "established, the responder tried to close, no reply seen",
        "RSTO" => "established, then the originator aborted it (RST)",
        "RSTR" => "the responder sent a RST",
        "RSTOS0" => "the originator sent a SYN then a RST; no SYN-ACK seen",
        "RSTRH" => "the responder sent a SYN-ACK then a RST; no SYN seen",
        "SH" => "the originator sent a SYN then a FIN; no SYN-ACK seen (half open)",
        "SHR" => "the responder sent a SYN-ACK then a FIN; no SYN seen",
        "OTH" => "no SYN seen: traffic from the middle of a connection",
        _ => return None,
    })
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Orig => "orig",
            Direction::Resp => "resp",
        })
    }
}

/// `orig SYN`, `resp retransmission (100+ times)`, `direction flipped`, `unknown letter 'Z'`.
impl fmt::Display for HistoryStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(direction) = self.direction {
            write!(f, "{direction} ")?;
        }
        match self.event {
            Event::Unknown(letter) => write!(f, "unknown letter {letter:?}")?,
            event => f.write_str(event.name())?,
        }
        if self.at_least > 1 {
            write!(f, " ({}+ times)", self.at_least)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_letter_in_both_directions() {
        let steps = decode("ShAaDdFfRrCcGgTtWwIiQqXx^");
        let words: Vec<String> = steps.iter().map(ToString::to_string).collect();
        assert_eq!(
            words,
            [
                "orig SYN",
                "resp SYN-ACK",
                "orig ACK",
                "resp ACK",
                "orig data",
                "resp data",
                "orig FIN",
                "resp FIN",
                "orig RST",
                "resp RST",
                "orig bad checksum",
                "resp bad checksum",
                "orig content gap",
                "resp content gap",
                "orig retransmission",
                "resp retransmission",
                "orig zero window",
                "resp zero window",
                "orig inconsistent flags",
                "resp inconsistent flags",
                "orig multi-flag packet",
                "resp multi-flag packet",
                "orig partial analysis",
                "resp partial analysis",
                "direction flipped",
            ]
        );
    }

    #[test]
    fn logarithmic_letters_count_per_letter_and_direction() {
        let counts: Vec<u64> = decode("TtTTtCWWW").iter().map(|s| s.at_least).collect();
        assert_eq!(counts, [1, 1, 10, 100, 10, 1, 1, 10, 100]);
        // Other letters repeat plainly (e.g. a second SYN with a new sequence number).
        let counts: Vec<u64> = decode("SSSFf").iter().map(|s| s.at_least).collect();
        assert_eq!(counts, [1, 1, 1, 1, 1]);
    }

    #[test]
    fn unknown_letters_are_kept_not_dropped() {
        let steps = decode("Sz9");
        assert_eq!(steps.len(), 3);
        assert_eq!(steps[1].event, Event::Unknown('z'));
        assert_eq!(steps[1].to_string(), "resp unknown letter 'z'");
        assert_eq!(steps[2].direction, None);
        assert_eq!(steps[2].to_string(), "unknown letter '9'");
    }

    #[test]
    fn very_long_runs_saturate() {
        let steps = decode(&"T".repeat(40));
        assert_eq!(steps[39].at_least, u64::MAX);
    }
}
