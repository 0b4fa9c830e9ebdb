//! Errors of the log readers: one per bad line, naming file, line and reason.

use std::path::PathBuf;
use std::sync::Arc;

/// What went wrong with one line (or, for the fatal kinds, with the whole input).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LineErrorKind {
    /// The input is not a Zeek log: it starts with neither a `#` header nor a JSON object, or its
    /// first header block lacks usable `#fields`/`#types`. Fatal: the reader stops after it.
    /// A server answers this with 400.
    #[error("no usable header: {0}")]
    NoUsableHeader(String),
    /// A data line under a header block that could not be used (a later block of a
    /// concatenated log whose `#fields`/`#types` are missing or disagree).
    #[error("bad header block: {0}")]
    BadHeader(String),
    /// The line does not have one value per `#fields` column.
    #[error("expected {expected} fields, found {found}")]
    FieldCount { expected: usize, found: usize },
    /// A value that is not of its column's declared type.
    #[error("field {field} ({ty}): {reason}: {value:?}")]
    BadValue {
        field: String,
        ty: String,
        value: String,
        reason: String,
    },
    /// The raw line is not UTF-8 (Zeek TSV escapes every non-ASCII byte, JSON is UTF-8).
    #[error("invalid UTF-8 at byte {at}")]
    InvalidUtf8 { at: usize },
    /// The line is longer than the configured limit; it is skipped.
    #[error("line longer than the limit of {limit} bytes")]
    TooLong { limit: usize },
    /// A JSON line that is not a JSON object, or whose shape cannot be read.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// A reason given by a custom decoder (see [`crate::plugin::LogType::decode`]).
    #[error("{0}")]
    Invalid(String),
    /// Reading (or decompressing) the input failed. Fatal: the reader stops after it.
    #[error("read error: {0}")]
    Io(String),
}

/// A line that could not be read, with where it is. Displays as `FILE:LINE: reason`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}:{line}: {kind}")]
pub struct LineError {
    /// Name of the input (a path, or whatever the caller named it).
    pub file: Arc<str>,
    /// 1-based line number (0 when the input has no lines at all).
    pub line: u64,
    pub kind: LineErrorKind,
}

impl LineError {
    pub fn new(file: impl Into<Arc<str>>, line: u64, kind: LineErrorKind) -> LineError {
        LineError {
            file: file.into(),
            line,
            kind,
        }
    }

    /// Whether the reader stopped after this error (no usable header, or a read failure).
    pub fn is_fatal(&self) -> bool {
        matches!(
            self.kind,
            LineErrorKind::NoUsableHeader(_) | LineErrorKind::Io(_)
        )
    }

    /// Whether this is the "not a Zeek log" error a server answers with 400.
    pub fn is_no_usable_header(&self) -> bool {
        matches!(self.kind, LineErrorKind::NoUsableHeader(_))
    }
}

/// A log file that could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct OpenError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}
