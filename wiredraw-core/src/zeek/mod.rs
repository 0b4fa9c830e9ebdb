//! Reading Zeek logs: TSV and JSON, plain or gzip, streaming, one typed [`Record`] at a time.
//!
//! [`LogReader`] reads any `Read` (or a path, see [`LogReader::open`]) without loading it whole.
//! It tells the format from the first line: `#` starts Zeek's tab-separated format with its
//! header lines, `{` starts one JSON object per line. Bad lines become [`LineError`]s naming
//! file, line and reason, and reading goes on; only input that is not a Zeek log at all (or that
//! cannot be read) stops it ([`LineError::is_fatal`]).
//!
//! ```
//! use wiredraw_core::zeek::LogReader;
//! use wiredraw_core::Value;
//!
//! let log = "#separator \\x09\n#path\tconn\n#fields\tts\tid.orig_h\tservice\n\
//!            #types\ttime\taddr\tset[string]\n\
//!            1713484795.943239\t2001:DB8:0:0:0:0:0:1\tssl,http\n\
//!            oops\t10.0.0.1\t-\n";
//! let mut reader = LogReader::new(log.as_bytes(), "conn.log", None);
//! let record = reader.next().unwrap().unwrap();
//! assert_eq!(record.path(), "conn");
//! assert_eq!(record.ts(), Some(1713484795.943239));
//! // Both spellings of a scoped field name resolve, and addresses are normalised.
//! assert_eq!(record.get("id_orig_h").unwrap().to_string(), "2001:db8::1");
//! assert_eq!(record.get("service").unwrap().items().unwrap().len(), 2);
//! let error = reader.next().unwrap().unwrap_err();
//! assert_eq!(error.to_string(), "conn.log:6: field ts (time): not a finite time: \"oops\"");
//! assert!(reader.next().is_none());
//! ```

mod addr;
mod convert;
mod error;
mod json;
mod lines;
mod parallel;
mod time;
mod tsv;

pub use addr::{normalise_addr, parse_addr, parse_subnet};
pub use error::{LineError, LineErrorKind, OpenError};
pub use lines::{DEFAULT_MAX_LINE_LEN, Line, LineReader};
pub use time::{format_utc, parse_iso8601};

use crate::record::{Record, Schema};
use crate::value::Value;
use json::JsonState;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use tsv::TsvState;

/// The log type of records whose input names none (no `#path`, no `_path`, no default).
pub const UNKNOWN_PATH: &str = "unknown";

/// The two Zeek log formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Tab-separated values with `#` header lines.
    Tsv,
    /// One JSON object per line.
    Json,
}

#[derive(Clone)]
enum State {
    /// No content line seen yet.
    Detecting,
    Tsv(Box<TsvState>),
    Json(JsonState),
    /// Stopped after a fatal error.
    Done,
}

impl State {
    /// The state after the first content line: its first non-blank byte tells the format, and
    /// anything but `#` or `{` is not a Zeek log (`Done`).
    fn detect(first_line: &[u8], default_path: &Option<Arc<str>>) -> State {
        match first_line.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'#') => State::Tsv(Box::new(TsvState::new(default_path.clone()))),
            Some(b'{') => State::Json(JsonState::new(default_path.clone())),
            _ => State::Done,
        }
    }

    /// Whether a line is blank, to be skipped. A TSV row of empty fields is whitespace too, but
    /// it is data to reject.
    fn is_blank(&self, line: &[u8]) -> bool {
        line.iter().all(|b| b.is_ascii_whitespace())
            && !matches!(self, State::Tsv(tsv) if tsv.has_separator(line))
    }
}

/// A streaming reader of one Zeek log (TSV or JSON), yielding typed records.
///
/// As an `Iterator` it yields `Result<Record, LineError>` per data line; header lines, comments
/// and blank lines yield nothing. For hot loops, [`LogReader::read_into`] refills one record and
/// so allocates nothing per line once warmed up.
pub struct LogReader<R> {
    lines: LineReader<R>,
    state: State,
    default_path: Option<Arc<str>>,
}

/// What [`LogReader::open`] reads from: a file, decompressed when it is gzip.
pub type FileInput = Box<dyn Read + Send>;

impl LogReader<FileInput> {
    /// Opens a log file, gzip-compressed or plain (told apart by the gzip magic bytes, not the
    /// name). Records whose log names no type get the file name's first dot-separated part
    /// (`conn` for `conn.00:00:00-01:00:00.log.gz`).
    pub fn open(path: impl AsRef<Path>) -> Result<LogReader<FileInput>, OpenError> {
        let path = path.as_ref();
        let open_error = |source| OpenError {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(open_error)?;
        let input = decompressed(file).map_err(open_error)?;
        let type_from_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.split('.').next())
            .filter(|n| !n.is_empty());
        Ok(LogReader::new(
            input,
            &path.display().to_string(),
            type_from_name,
        ))
    }
}

/// Wraps a reader so it yields decompressed bytes when its input starts with the gzip magic
/// bytes (`1f 8b`), and the bytes as they are otherwise. Concatenated gzip members are read
/// through.
pub fn decompressed<'a, R: Read + Send + 'a>(
    mut input: R,
) -> std::io::Result<Box<dyn Read + Send + 'a>> {
    let mut magic = [0u8; 2];
    let mut have = 0;
    while have < magic.len() {
        match input.read(&mut magic[have..]) {
            Ok(0) => break,
            Ok(n) => have += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let whole = std::io::Cursor::new(magic[..have].to_vec()).chain(input);
    Ok(if magic[..have] == [0x1f, 0x8b] {
        Box::new(flate2::read::MultiGzDecoder::new(whole))
    } else {
        Box::new(whole)
    })
}

impl<R: Read> LogReader<R> {
    /// Reads `input`, naming it `source_name` in errors. `default_path` is the log type of
    /// records whose input names none (TSV without `#path`, JSON without `_path`).
    pub fn new(input: R, source_name: &str, default_path: Option<&str>) -> LogReader<R> {
        LogReader {
            lines: LineReader::new(input, source_name, DEFAULT_MAX_LINE_LEN),
            state: State::Detecting,
            default_path: default_path.map(Arc::from),
        }
    }

    /// Sets the longest line accepted (default [`DEFAULT_MAX_LINE_LEN`]); longer lines are
    /// skipped with a [`LineErrorKind::TooLong`] error.
    pub fn with_max_line_len(mut self, max_line_len: usize) -> LogReader<R> {
        self.lines.set_max_len(max_line_len);
        self
    }

    /// Sets the log type of records whose input names none.
    pub fn with_default_path(mut self, default_path: &str) -> LogReader<R> {
        self.default_path = Some(default_path.into());
        self
    }

    /// The input's name, as used in errors.
    pub fn source_name(&self) -> &str {
        self.lines.file()
    }

    /// The format, once the first content line has been read.
    pub fn format(&self) -> Option<Format> {
        match self.state {
            State::Tsv(_) => Some(Format::Tsv),
            State::Json(_) => Some(Format::Json),
            State::Detecting | State::Done => None,
        }
    }

    /// The schema of the current TSV header block, or of the last JSON record.
    pub fn schema(&self) -> Option<&Arc<Schema>> {
        self.state.schema()
    }

    /// Reads the next record into `record`, reusing its buffers: `Some(Ok(()))` when it now
    /// holds the next record, `Some(Err(_))` for a line that could not be read (the record's
    /// content is then unspecified), `None` at the end.
    pub fn read_into(&mut self, record: &mut Record) -> Option<Result<(), LineError>> {
        let result = self.advance(&mut record.values)?;
        Some(result.map(|line| self.state.finish_record(record, line)))
    }

    /// Reads lines until one yields a record (its values written over those in `values`, whose
    /// buffers a TSV line reuses) or an error.
    /// Returns the record's line number.
    fn advance(&mut self, values: &mut Vec<Value>) -> Option<Result<u64, LineError>> {
        loop {
            if matches!(self.state, State::Done) {
                return None;
            }
            let (number, result) = match self.lines.next_line()? {
                Ok(line) => (
                    line.number,
                    self.state
                        .read_line(LineText::Bytes(line.bytes), &self.default_path, values),
                ),
                Err(error) => {
                    if error.is_fatal() {
                        self.state = State::Done;
                    }
                    return Some(Err(error));
                }
            };
            match result {
                None => continue,
                Some(Ok(())) => return Some(Ok(number)),
                Some(Err(kind)) => {
                    return Some(Err(LineError::new(self.lines.file().clone(), number, kind)));
                }
            }
        }
    }
}

/// A line's bytes, or its text when they are already known to be UTF-8 (a chunk checked whole
/// costs less than its lines checked one by one).
#[derive(Debug, Clone, Copy)]
enum LineText<'a> {
    Bytes(&'a [u8]),
    Text(&'a str),
}

impl<'a> LineText<'a> {
    fn bytes(self) -> &'a [u8] {
        match self {
            LineText::Bytes(bytes) => bytes,
            LineText::Text(text) => text.as_bytes(),
        }
    }

    fn text(self) -> Result<&'a str, std::str::Utf8Error> {
        match self {
            // The vectorised check; on failure std's says where the bad byte is.
            LineText::Bytes(bytes) => {
                simdutf8::basic::from_utf8(bytes).or_else(|_| std::str::from_utf8(bytes))
            }
            LineText::Text(text) => Ok(text),
        }
    }
}

impl State {
    fn schema(&self) -> Option<&Arc<Schema>> {
        match self {
            State::Tsv(tsv) => tsv.schema(),
            State::Json(json) => json.schema(),
            State::Detecting | State::Done => None,
        }
    }

    /// Gives a record whose values were just read its line number and schema (the same `Arc`
    /// from record to record while the schema stays).
    #[inline]
    fn finish_record(&self, record: &mut Record, line: u64) {
        record.line = line;
        if let Some(schema) = self.schema()
            && !Arc::ptr_eq(schema, &record.schema)
        {
            record.schema = schema.clone();
        }
    }

    /// Reads one line (without its line end; lines too long never get here): `None` when it
    /// yields nothing (a header or blank line, or any line once `Done`), otherwise its values,
    /// written over those in `values`, or why it could not be read. A fatal error makes the
    /// state `Done`.
    fn read_line(
        &mut self,
        line: LineText<'_>,
        default_path: &Option<Arc<str>>,
        values: &mut Vec<Value>,
    ) -> Option<Result<(), LineErrorKind>> {
        let bytes = line.bytes();
        if self.is_blank(bytes) {
            return None;
        }
        if matches!(self, State::Detecting) {
            *self = State::detect(bytes, default_path);
            if matches!(self, State::Done) {
                let reason = "not a Zeek log: the first line is neither a '#' header nor a JSON \
                              object";
                return Some(Err(LineErrorKind::NoUsableHeader(reason.into())));
            }
        }
        let result = match self {
            State::Tsv(tsv) if bytes[0] == b'#' => {
                tsv.header_line(bytes);
                return None;
            }
            State::Tsv(tsv) => match line.text() {
                Ok(text) => tsv.data_line(text, values),
                Err(e) => Err(LineErrorKind::InvalidUtf8 {
                    at: e.valid_up_to(),
                }),
            },
            State::Json(json) => match line.text() {
                Ok(text) => {
                    values.clear();
                    json.data_line(text, values)
                }
                Err(e) => Err(LineErrorKind::InvalidUtf8 {
                    at: e.valid_up_to(),
                }),
            },
            State::Detecting | State::Done => return None,
        };
        if let Err(kind) = &result {
            values.clear();
            if matches!(kind, LineErrorKind::NoUsableHeader(_)) {
                *self = State::Done;
            }
        }
        Some(result)
    }
}

impl<R: Read> Iterator for LogReader<R> {
    type Item = Result<Record, LineError>;

    fn next(&mut self) -> Option<Result<Record, LineError>> {
        let mut values = Vec::new();
        let result = self.advance(&mut values)?;
        Some(result.map(|line| {
            Record {
                schema: self
                    .schema()
                    .cloned()
                    .unwrap_or_else(|| Arc::new(Schema::default())),
                values,
                line,
            }
        }))
    }
}
