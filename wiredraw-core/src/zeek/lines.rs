//! Splitting any `Read` into lines with a length limit, reusing one buffer.

use super::error::{LineError, LineErrorKind};
use std::io::{ErrorKind, Read};
use std::sync::Arc;

/// Default longest line accepted, in bytes (without the newline).
pub const DEFAULT_MAX_LINE_LEN: usize = 1 << 20;

/// Bytes asked of the underlying reader per `read` call.
const READ_CHUNK: usize = 256 * 1024;
/// Least free space worth a `read` call; below it the buffer is compacted or grown.
const MIN_ROOM: usize = 4096;

/// One line of input, without its `\n` (and without a `\r` before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// 1-based line number.
    pub number: u64,
    pub bytes: &'a [u8],
}

/// Reads lines from any `Read` without loading it whole.
///
/// Lines longer than the limit are skipped (read through to their newline) and reported as
/// [`LineErrorKind::TooLong`]; a read error is reported once, after which the input counts as
/// ended. Custom decoders ([`crate::plugin::LogType::decode`]) can build on it.
pub struct LineReader<R> {
    reader: R,
    file: Arc<str>,
    buf: Vec<u8>,
    /// Start of the unconsumed bytes in `buf`.
    start: usize,
    /// End of the valid bytes in `buf`.
    end: usize,
    /// Bytes in `buf[start..scanned]` are known to hold no newline.
    scanned: usize,
    eof: bool,
    line: u64,
    max_len: usize,
}

impl<R: Read> LineReader<R> {
    /// `file` names the input in errors; `max_len` is the longest line accepted.
    pub fn new(reader: R, file: impl Into<Arc<str>>, max_len: usize) -> LineReader<R> {
        LineReader {
            reader,
            file: file.into(),
            buf: Vec::new(),
            start: 0,
            end: 0,
            scanned: 0,
            eof: false,
            line: 0,
            max_len,
        }
    }

    /// The input's name, as given.
    pub fn file(&self) -> &Arc<str> {
        &self.file
    }

    /// Number of the last line returned (or reported).
    pub fn line_number(&self) -> u64 {
        self.line
    }

    /// The longest line accepted.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Changes the longest line accepted, for the lines not read yet.
    pub fn set_max_len(&mut self, max_len: usize) {
        self.max_len = max_len;
    }

    /// Gives the input back with what was read of it but not yet returned as lines, the number
    /// of lines returned, and whether the input has ended: everything needed to go on reading
    /// it another way.
    pub(crate) fn into_parts(self) -> (R, Vec<u8>, u64, bool) {
        let pending = self.buf[self.start..self.end].to_vec();
        (self.reader, pending, self.line, self.eof)
    }

    /// The next line, an error for a line that could not be read, or `None` at the end.
    pub fn next_line(&mut self) -> Option<Result<Line<'_>, LineError>> {
        let mut discarding = false;
        loop {
            if let Some(pos) = memchr::memchr(b'\n', &self.buf[self.scanned..self.end]) {
                let newline = self.scanned + pos;
                let line_start = self.start;
                self.start = newline + 1;
                self.scanned = self.start;
                self.line += 1;
                if discarding || newline - line_start > self.max_len {
                    return Some(Err(self.too_long()));
                }
                return Some(Ok(Line {
                    number: self.line,
                    bytes: trim_cr(&self.buf[line_start..newline]),
                }));
            }
            self.scanned = self.end;
            if self.end - self.start > self.max_len {
                // Keep nothing of an over-long line; read on to its newline.
                discarding = true;
                self.start = self.end;
                self.scanned = self.end;
            }
            if self.eof {
                if discarding {
                    // Bytes read since discarding began belong to the same over-long line.
                    self.start = self.end;
                    self.scanned = self.end;
                    self.line += 1;
                    return Some(Err(self.too_long()));
                }
                if self.start == self.end {
                    return None;
                }
                let line_start = self.start;
                self.start = self.end;
                self.line += 1;
                return Some(Ok(Line {
                    number: self.line,
                    bytes: trim_cr(&self.buf[line_start..self.end]),
                }));
            }
            if let Err(e) = self.fill() {
                self.eof = true;
                self.start = self.end;
                self.scanned = self.end;
                return Some(Err(LineError::new(
                    self.file.clone(),
                    self.line + 1,
                    LineErrorKind::Io(e.to_string()),
                )));
            }
        }
    }

    fn too_long(&self) -> LineError {
        LineError::new(
            self.file.clone(),
            self.line,
            LineErrorKind::TooLong {
                limit: self.max_len,
            },
        )
    }

    /// Reads more input after the unconsumed bytes. Only when little room is left are they
    /// moved to the front (and the buffer grown), so input that arrives a few bytes per `read`
    /// is not copied again and again.
    fn fill(&mut self) -> std::io::Result<()> {
        if self.buf.len() - self.end < MIN_ROOM {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.scanned -= self.start;
                self.start = 0;
            }
            if self.buf.len() - self.end < MIN_ROOM {
                self.buf.resize(self.end + READ_CHUNK, 0);
            }
        }
        loop {
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(());
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

pub(crate) fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}
