//! A batch of raw lines from one file, with what is needed to resume after it and to split it.

use std::ops::Range;
use std::sync::Arc;
use std::time::Instant;

/// Where one line ends, in the batch body and in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LineEnd {
    body_end: usize,
    file_offset: u64,
    line: u64,
}

/// Lines of one file, in order, with the TSV header block they were written under.
#[derive(Debug)]
pub struct Batch {
    header: Option<Arc<[u8]>>,
    body: Vec<u8>,
    ends: Vec<LineEnd>,
    started: Option<Instant>,
}

/// A contiguous run of a batch's lines, as sent in one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    /// Line indices within the batch.
    pub lines: Range<usize>,
}

/// Where a file stands once a part has been accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    /// Decompressed file offset just after the part's last line.
    pub offset: u64,
    /// Line number of that last line (1-based, counting every line of the file).
    pub line: u64,
}

impl Batch {
    pub fn new() -> Self {
        Self {
            header: None,
            body: Vec::new(),
            ends: Vec::new(),
            started: None,
        }
    }

    /// Empties the batch, keeping its allocation.
    pub fn clear(&mut self) {
        self.header = None;
        self.body.clear();
        self.ends.clear();
        self.started = None;
    }

    pub fn set_header(&mut self, header: Option<Arc<[u8]>>) {
        self.header = header;
    }

    pub fn header(&self) -> Option<&Arc<[u8]>> {
        self.header.as_ref()
    }

    /// Appends one complete line (ending in `\n`) that ends at `file_offset` and is line number
    /// `line` of its file.
    pub fn push_line(&mut self, line: &[u8], file_offset: u64, line_number: u64) {
        self.started.get_or_insert_with(Instant::now);
        self.body.extend_from_slice(line);
        if !line.ends_with(b"\n") {
            self.body.push(b'\n');
        }
        self.ends.push(LineEnd {
            body_end: self.body.len(),
            file_offset,
            line: line_number,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn line_count(&self) -> usize {
        self.ends.len()
    }

    pub fn body_len(&self) -> usize {
        self.body.len()
    }

    /// Each line (with its `\n`) and its line number in the file.
    pub fn lines(&self) -> impl Iterator<Item = (&[u8], u64)> {
        let starts = std::iter::once(0).chain(self.ends.iter().map(|end| end.body_end));
        starts
            .zip(&self.ends)
            .map(|(start, end)| (&self.body[start..end.body_end], end.line))
    }

    /// When the first line was added.
    pub fn started(&self) -> Option<Instant> {
        self.started
    }

    /// The whole batch as one part.
    pub fn whole(&self) -> Part {
        Part {
            lines: 0..self.ends.len(),
        }
    }

    /// Splits a part of two or more lines into two halves, first half first.
    pub fn halve(part: &Part) -> Option<(Part, Part)> {
        let Range { start, end } = part.lines.clone();
        (end - start >= 2).then(|| {
            let mid = start + (end - start) / 2;
            (Part { lines: start..mid }, Part { lines: mid..end })
        })
    }

    /// The request body for a part: the header block, then the lines.
    pub fn body(&self, part: &Part) -> Vec<u8> {
        let header = self.header.as_deref().unwrap_or_default();
        let lines = self.body_range(part);
        let mut out = Vec::with_capacity(header.len() + lines.len());
        out.extend_from_slice(header);
        out.extend_from_slice(&self.body[lines]);
        out
    }

    fn body_range(&self, part: &Part) -> Range<usize> {
        let start = match part.lines.start {
            0 => 0,
            i => self.ends[i - 1].body_end,
        };
        let end = match part.lines.end {
            0 => 0,
            i => self.ends[i - 1].body_end,
        };
        start..end
    }

    /// File line numbers of a part's first and last lines.
    pub fn line_numbers(&self, part: &Part) -> (u64, u64) {
        match (
            self.ends.get(part.lines.start),
            part.lines.end.checked_sub(1).and_then(|i| self.ends.get(i)),
        ) {
            (Some(first), Some(last)) => (first.line, last.line),
            _ => (0, 0),
        }
    }

    /// Where the file stands once `part` and everything before it has been handled.
    pub fn position_after(&self, part: &Part) -> Option<Position> {
        let last = self.ends.get(part.lines.end.checked_sub(1)?)?;
        Some(Position {
            offset: last.file_offset,
            line: last.line,
        })
    }
}

impl Default for Batch {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch_of(lines: &[&str]) -> Batch {
        let mut batch = Batch::new();
        batch.set_header(Some(Arc::from(&b"#separator \\x09\n#fields\ta\n"[..])));
        let mut offset = 100;
        for (i, line) in lines.iter().enumerate() {
            offset += line.len() as u64 + 1;
            batch.push_line(format!("{line}\n").as_bytes(), offset, 10 + i as u64);
        }
        batch
    }

    #[test]
    fn body_starts_with_header_then_lines() {
        let batch = batch_of(&["a", "bb", "ccc"]);
        assert_eq!(
            batch.body(&batch.whole()),
            b"#separator \\x09\n#fields\ta\na\nbb\nccc\n"
        );
        assert_eq!(batch.line_count(), 3);
        assert_eq!(
            batch.position_after(&batch.whole()),
            Some(Position {
                offset: 100 + 2 + 3 + 4,
                line: 12
            })
        );
    }

    #[test]
    fn halves_carry_the_header_and_cover_every_line_once() {
        let batch = batch_of(&["a", "bb", "ccc", "dddd", "eeeee"]);
        let (first, second) = Batch::halve(&batch.whole()).unwrap();
        assert_eq!(first.lines, 0..2);
        assert_eq!(second.lines, 2..5);
        assert_eq!(batch.body(&first), b"#separator \\x09\n#fields\ta\na\nbb\n");
        assert_eq!(
            batch.body(&second),
            b"#separator \\x09\n#fields\ta\nccc\ndddd\neeeee\n"
        );
        assert_eq!(batch.line_numbers(&second), (12, 14));
        assert_eq!(batch.position_after(&first).unwrap().offset, 100 + 2 + 3);
        let (single, _) = Batch::halve(&first).unwrap();
        assert!(Batch::halve(&single).is_none());
    }

    #[test]
    fn a_json_batch_is_just_lines() {
        let mut batch = Batch::new();
        batch.push_line(b"{\"a\":1}\n", 8, 1);
        batch.push_line(b"{\"a\":2}", 15, 2);
        assert_eq!(batch.body(&batch.whole()), b"{\"a\":1}\n{\"a\":2}\n");
        batch.clear();
        assert!(batch.is_empty() && batch.started().is_none());
    }
}
