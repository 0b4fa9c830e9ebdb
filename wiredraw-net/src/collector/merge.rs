//! Timestamp-ordered merge of many log files with bounded memory, for replay.
//!
//! Every file is a stream read lazily through a small reorder buffer (a min-heap of its next
//! lines), because Zeek writes records when they finish, not in `ts` order. A heap over the
//! streams picks the earliest head. A file is opened only when its first record is due, so the
//! hourly archives of several days are never all open at once.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::path::PathBuf;
use std::sync::Arc;

use super::batch::Batch;
use super::logfile::{Format, Identity, Limits, LogSource, Resume};
use super::timestamp::{TsvTimestamps, json_ts};

/// One record taken from the merge.
#[derive(Clone, Debug, PartialEq)]
pub struct MergedRecord {
    pub ts: f64,
    /// Index of its file in [`Merge::files`].
    pub file: usize,
    /// The raw line with its `\n`.
    pub line: Vec<u8>,
    /// Its line number in the file.
    pub line_number: u64,
    /// The TSV header block the line was written under.
    pub header: Option<Arc<[u8]>>,
}

/// A file taking part in the merge.
#[derive(Clone, Debug)]
pub struct MergeFile {
    pub path: PathBuf,
    pub identity: Identity,
}

/// A line or file that could not be merged, for the error log and count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergeIssue {
    pub path: PathBuf,
    pub line: Option<u64>,
    pub reason: String,
}

impl std::fmt::Display for MergeIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path.display(), self.reason),
            None => write!(f, "{}: {}", self.path.display(), self.reason),
        }
    }
}

/// `f64` ordered by `total_cmp`, for heaps.
#[derive(Clone, Copy, Debug)]
struct Ts(f64);

impl PartialEq for Ts {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Ts {}
impl PartialOrd for Ts {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ts {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Buffered {
    ts: Ts,
    /// Read order, so equal timestamps keep the file's order.
    seq: u64,
    line: Vec<u8>,
    line_number: u64,
    header: Option<Arc<[u8]>>,
}

struct OpenStream {
    source: LogSource,
    chunk: Batch,
    buffer: BinaryHeap<Reverse<Buffered>>,
    seq: u64,
    eof: bool,
    timestamps: Option<(Arc<[u8]>, TsvTimestamps)>,
}

enum Slot {
    Waiting,
    Open(Box<OpenStream>),
    Finished,
}

/// All records of a set of files in timestamp order (see the module docs for the limits of
/// that order).
pub struct Merge {
    files: Vec<MergeFile>,
    slots: Vec<Slot>,
    heap: BinaryHeap<Reverse<(Ts, usize)>>,
    reorder_window: usize,
    issues: Vec<MergeIssue>,
}

/// Over-long lines are not merged; the server would refuse them anyway.
const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

impl Merge {
    /// Prepares a merge over `files`, reading the first `reorder_window` lines of each to learn
    /// when it starts. `reorder_window` lines per open file is the memory bound.
    pub fn new(files: Vec<MergeFile>, reorder_window: usize) -> Self {
        let reorder_window = reorder_window.max(1);
        let mut merge = Self {
            slots: files.iter().map(|_| Slot::Waiting).collect(),
            files,
            heap: BinaryHeap::new(),
            reorder_window,
            issues: Vec::new(),
        };
        for index in 0..merge.files.len() {
            // Opened to find the first timestamp, then closed until that time comes; lines it
            // could not use are reported when it is read for real.
            let issues_before = merge.issues.len();
            match merge.open(index) {
                Some(stream) => {
                    merge.issues.truncate(issues_before);
                    if let Some(ts) = stream.head_ts() {
                        merge.heap.push(Reverse((ts, index)));
                    } else {
                        merge.slots[index] = Slot::Finished;
                    }
                }
                None => merge.slots[index] = Slot::Finished,
            }
        }
        merge
    }

    pub fn files(&self) -> &[MergeFile] {
        &self.files
    }

    /// Lines and files skipped since the last call.
    pub fn take_issues(&mut self) -> Vec<MergeIssue> {
        std::mem::take(&mut self.issues)
    }

    /// The timestamp of the next record, if any.
    pub fn peek_ts(&self) -> Option<f64> {
        self.heap.peek().map(|Reverse((ts, _))| ts.0)
    }

    fn open(&mut self, index: usize) -> Option<Box<OpenStream>> {
        let file = &self.files[index];
        let source = match LogSource::open(&file.path, file.identity.format, Resume::default()) {
            Ok(source) => source,
            Err(e) => {
                self.issues.push(MergeIssue {
                    path: file.path.clone(),
                    line: None,
                    reason: e.to_string(),
                });
                return None;
            }
        };
        let mut stream = Box::new(OpenStream {
            source,
            chunk: Batch::new(),
            buffer: BinaryHeap::new(),
            seq: 0,
            eof: false,
            timestamps: None,
        });
        stream.refill(self.reorder_window, file, &mut self.issues);
        Some(stream)
    }
}

impl Iterator for Merge {
    type Item = MergedRecord;

    fn next(&mut self) -> Option<MergedRecord> {
        loop {
            let Reverse((_, index)) = self.heap.pop()?;
            let mut stream = match std::mem::replace(&mut self.slots[index], Slot::Finished) {
                Slot::Waiting => match self.open(index) {
                    Some(stream) => stream,
                    None => continue,
                },
                Slot::Open(stream) => stream,
                Slot::Finished => continue,
            };
            let record = stream.buffer.pop().map(|Reverse(buffered)| MergedRecord {
                ts: buffered.ts.0,
                file: index,
                line: buffered.line,
                line_number: buffered.line_number,
                header: buffered.header,
            });
            stream.refill(self.reorder_window, &self.files[index], &mut self.issues);
            if let Some(ts) = stream.head_ts() {
                self.heap.push(Reverse((ts, index)));
                self.slots[index] = Slot::Open(stream);
            }
            if record.is_some() {
                return record;
            }
        }
    }
}

impl OpenStream {
    fn head_ts(&self) -> Option<Ts> {
        self.buffer.peek().map(|Reverse(b)| b.ts)
    }

    /// Reads until the reorder buffer holds `window` lines or the file ends.
    fn refill(&mut self, window: usize, file: &MergeFile, issues: &mut Vec<MergeIssue>) {
        while !self.eof && self.buffer.len() < window {
            self.chunk.clear();
            let limits = Limits {
                batch_lines: window - self.buffer.len(),
                batch_bytes: usize::MAX,
                max_line_bytes: MAX_LINE_BYTES,
            };
            let filled = self.source.fill(&mut self.chunk, limits);
            for skipped in self.source.take_skipped() {
                issues.push(MergeIssue {
                    path: file.path.clone(),
                    line: Some(skipped.line),
                    reason: skipped.reason,
                });
            }
            match filled {
                Ok(stop) => self.eof = stop == super::logfile::FillStop::Eof,
                Err(e) => {
                    issues.push(MergeIssue {
                        path: file.path.clone(),
                        line: None,
                        reason: format!("read stopped: {e}"),
                    });
                    self.eof = true;
                }
            }
            self.take_chunk(file, issues);
        }
    }

    fn take_chunk(&mut self, file: &MergeFile, issues: &mut Vec<MergeIssue>) {
        let header = self.chunk.header().cloned();
        if file.identity.format == Format::Tsv {
            let current = self
                .timestamps
                .as_ref()
                .is_some_and(|(h, _)| header.as_ref().is_some_and(|new| Arc::ptr_eq(h, new)));
            if !current {
                self.timestamps = header
                    .as_ref()
                    .and_then(|h| Some((h.clone(), TsvTimestamps::from_header(h)?)));
            }
        }
        for (line, number) in self.chunk.lines() {
            let ts = match file.identity.format {
                Format::Tsv => self.timestamps.as_ref().and_then(|(_, t)| t.of(line)),
                Format::Json => json_ts(line),
            };
            let Some(ts) = ts else {
                issues.push(MergeIssue {
                    path: file.path.clone(),
                    line: Some(number),
                    reason: "no usable ts; not replayed".into(),
                });
                continue;
            };
            self.seq += 1;
            self.buffer.push(Reverse(Buffered {
                ts: Ts(ts),
                seq: self.seq,
                line: line.to_vec(),
                line_number: number,
                header: header.clone(),
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collector::logfile::{Probe, probe};
    use std::io::Write;

    const HEADER: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n\
        #unset_field\t-\n#path\tconn\n#open\t2024-04-21-10-00-03\n#fields\tts\tuid\n#types\ttime\tstring\n";

    fn write_log(dir: &std::path::Path, name: &str, body: &str) -> MergeFile {
        let path = dir.join(name);
        let mut file = std::fs::File::create(&path).unwrap();
        if name.ends_with(".gz") {
            let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
            gz.write_all(body.as_bytes()).unwrap();
            gz.finish().unwrap();
        } else {
            file.write_all(body.as_bytes()).unwrap();
        }
        let Probe::Log(identity) = probe(&path).unwrap() else {
            panic!("{name} not a log")
        };
        MergeFile { path, identity }
    }

    fn tsv(rows: &[(f64, &str)]) -> String {
        let mut out = HEADER.to_owned();
        for (ts, uid) in rows {
            out.push_str(&format!("{ts:.6}\t{uid}\n"));
        }
        out.push_str("#close\t2024-04-21-11-00-00\n");
        out
    }

    #[test]
    fn merges_files_in_timestamp_order_fixing_local_disorder() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_log(
            dir.path(),
            "conn.10:00:00-11:00:00.log.gz",
            &tsv(&[(10.0, "a1"), (30.0, "a3"), (20.0, "a2"), (50.0, "a5")]),
        );
        let b = write_log(
            dir.path(),
            "dns.log",
            &[
                r#"{"ts":15.0,"uid":"b1"}"#,
                r#"{"ts":"1970-01-01T00:00:40Z","uid":"b4"}"#,
                r#"{"ts":35.0,"uid":"b3"}"#,
                r#"{"uid":"no-ts"}"#,
                "",
            ]
            .join("\n"),
        );
        let mut merge = Merge::new(vec![a, b], 4);
        let order: Vec<f64> = merge.by_ref().map(|r| r.ts).collect();
        assert_eq!(order, [10.0, 15.0, 20.0, 30.0, 35.0, 40.0, 50.0]);
        let issues = merge.take_issues();
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].line, Some(4));
    }

    #[test]
    fn tsv_records_carry_their_header_and_json_records_none() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_log(dir.path(), "conn.log", &tsv(&[(1.0, "x")]));
        let b = write_log(dir.path(), "dns.log", "{\"ts\":2.0}\n");
        let records: Vec<MergedRecord> = Merge::new(vec![a, b], 8).collect();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].line, b"1.000000\tx\n");
        assert_eq!(records[0].header.as_deref().unwrap(), HEADER.as_bytes());
        assert_eq!((records[1].file, records[1].header.is_none()), (1, true));
    }

    #[test]
    fn disorder_beyond_the_window_is_delivered_not_lost() {
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<(f64, String)> = (0..50)
            .map(|i| {
                (
                    if i == 40 { 1.0 } else { 100.0 + i as f64 },
                    format!("u{i}"),
                )
            })
            .collect();
        let rows: Vec<(f64, &str)> = rows.iter().map(|(t, u)| (*t, u.as_str())).collect();
        let file = write_log(dir.path(), "conn.log", &tsv(&rows));
        let records: Vec<f64> = Merge::new(vec![file], 5).map(|r| r.ts).collect();
        assert_eq!(records.len(), 50);
        assert!(records.contains(&1.0));
    }

    #[test]
    fn files_are_opened_only_when_due() {
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<MergeFile> = (0..20)
            .map(|h| {
                let rows: Vec<(f64, String)> = (0..10)
                    .map(|i| (h as f64 * 100.0 + i as f64, format!("h{h}i{i}")))
                    .collect();
                let rows: Vec<(f64, &str)> = rows.iter().map(|(t, u)| (*t, u.as_str())).collect();
                write_log(dir.path(), &format!("conn.{h:02}.log"), &tsv(&rows))
            })
            .collect();
        let mut merge = Merge::new(files, 4);
        let mut last = f64::MIN;
        let mut count = 0;
        while let Some(record) = merge.next() {
            assert!(record.ts >= last);
            last = record.ts;
            count += 1;
            let open = merge
                .slots
                .iter()
                .filter(|s| matches!(s, Slot::Open(_)))
                .count();
            assert!(open <= 2, "{open} files open at once");
        }
        assert_eq!(count, 200);
    }
}
