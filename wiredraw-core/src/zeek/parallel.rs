//! Reading one log on several threads, with exactly the result of reading it on one.
//!
//! The caller's thread cuts the input into chunks of whole lines and works out the reader's state
//! and line number at the start of each (only header lines, and whether data lines come between
//! them, change the state; it finds them with one `memchr` for `#`). Worker threads, and the
//! caller's when it has nothing else to do, read the chunks as [`LogReader::read_into`] does,
//! keeping whole records or what a `map` closure makes of them. The caller's thread delivers
//! them in input order and refills the chunks it is done with, so memory stays at a few chunks
//! whatever the input's size.

use super::error::{LineError, LineErrorKind};
use super::lines::trim_cr;
use super::{LineText, LogReader, State};
use crate::record::Record;
use std::collections::BTreeMap;
use std::io::Read;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, mpsc};

/// Bytes of input per chunk: big enough that handing a chunk over costs nothing next to reading
/// it, small enough that every thread has several.
const CHUNK_BYTES: usize = 256 * 1024;

impl<R: Read> LogReader<R> {
    /// Reads the rest of the input on `threads` threads (the caller's among them), calling `each`
    /// with every record and every error in input order: exactly what iterating the reader would
    /// give, line numbers included, and it stops after a fatal error the same way.
    ///
    /// Worth it for big inputs: a plain file reads up to `threads` times as fast. The caller's
    /// thread reads the input (decompressing gzip there, which then sets the pace), cuts it into
    /// chunks and runs `each`, and converts chunks too while it has nothing else to do.
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use wiredraw_core::zeek::LogReader;
    ///
    /// let mut log = String::from("#separator \\x09\n#fields\tts\tid.orig_h\n#types\ttime\taddr\n");
    /// for i in 0..1000 {
    ///     log.push_str(&format!("{i}.5\t10.0.{}.{}\n", i / 256, i % 256));
    /// }
    /// log.push_str("oops\t10.0.0.1\n");
    /// let (mut records, mut errors) = (0, Vec::new());
    /// let threads = NonZeroUsize::new(2).unwrap();
    /// LogReader::new(log.as_bytes(), "conn.log", None).for_each_parallel(threads, |result| {
    ///     match result {
    ///         Ok(record) => records += usize::from(record.ts().is_some()),
    ///         Err(error) => errors.push(error.to_string()),
    ///     }
    /// });
    /// assert_eq!(records, 1000);
    /// assert_eq!(errors, ["conn.log:1004: field ts (time): not a finite time: \"oops\""]);
    /// ```
    pub fn for_each_parallel(
        self,
        threads: NonZeroUsize,
        mut each: impl FnMut(Result<&Record, &LineError>),
    ) {
        let outcome = self.try_for_each_parallel(threads, |result| {
            each(result);
            Ok::<(), std::convert::Infallible>(())
        });
        let Ok(()) = outcome;
    }

    /// [`LogReader::for_each_parallel`] that stops at the first error `each` returns (a closed
    /// output, say) and returns it; the workers stop after the chunk they are reading.
    pub fn try_for_each_parallel<E>(
        self,
        threads: NonZeroUsize,
        each: impl FnMut(Result<&Record, &LineError>) -> Result<(), E>,
    ) -> Result<(), E> {
        self.records_in_chunks(threads, CHUNK_BYTES, each)
    }

    /// Reads the rest of the input on `threads` threads (the caller's among them) and calls
    /// `map` with every record and error on the thread that read it, right after reading it;
    /// `each` gets what `map` returned, on the caller's thread, in input order. It stops at
    /// the first error `each` returns, and after a fatal error as iterating the reader does.
    ///
    /// Faster than [`LogReader::try_for_each_parallel`] when the caller needs less than whole
    /// records (a count, a few fields, a line of output): records stay in the cache of the
    /// core that read them, and only what `map` makes of them crosses threads. `map` may also
    /// see a few records beyond the point where reading stops, whose results are dropped, so
    /// it should only compute. A panic in `map` stops the reading and comes out of this call.
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use wiredraw_core::zeek::LogReader;
    ///
    /// let mut log = String::from("#separator \\x09\n#fields\tts\tid.orig_h\n#types\ttime\taddr\n");
    /// for i in 0..1000 {
    ///     log.push_str(&format!("{i}.5\t10.0.{}.{}\n", i / 256, i % 256));
    /// }
    /// log.push_str("oops\t10.0.0.1\n");
    /// let threads = NonZeroUsize::new(2).unwrap();
    /// let mut hosts = Vec::new();
    /// let outcome = LogReader::new(log.as_bytes(), "conn.log", None).map_parallel(
    ///     threads,
    ///     |result| match result {
    ///         Ok(record) => Ok(record.get("id.orig_h").and_then(|host| host.as_addr())),
    ///         Err(error) => Err(error.line),
    ///     },
    ///     |host| {
    ///         hosts.push(host);
    ///         Ok::<(), std::convert::Infallible>(())
    ///     },
    /// );
    /// assert!(outcome.is_ok());
    /// assert_eq!(hosts.len(), 1001);
    /// assert_eq!(hosts[258], Ok("10.0.1.2".parse().ok()));
    /// assert_eq!(hosts[1000], Err(1004));
    /// ```
    pub fn map_parallel<T: Send, E>(
        self,
        threads: NonZeroUsize,
        map: impl Fn(Result<&Record, &LineError>) -> T + Sync,
        each: impl FnMut(T) -> Result<(), E>,
    ) -> Result<(), E> {
        self.mapped_in_chunks(threads, CHUNK_BYTES, map, each)
    }

    fn records_in_chunks<E>(
        self,
        threads: NonZeroUsize,
        chunk_bytes: usize,
        mut each: impl FnMut(Result<&Record, &LineError>) -> Result<(), E>,
    ) -> Result<(), E> {
        self.in_chunks(threads, chunk_bytes, &KeepRecords, |items, kept| {
            for item in &items[..kept] {
                match &item.error {
                    None => each(Ok(&item.record))?,
                    Some(error) => each(Err(error))?,
                }
            }
            Ok(())
        })
    }

    fn mapped_in_chunks<T: Send, E>(
        self,
        threads: NonZeroUsize,
        chunk_bytes: usize,
        map: impl Fn(Result<&Record, &LineError>) -> T + Sync,
        mut each: impl FnMut(T) -> Result<(), E>,
    ) -> Result<(), E> {
        self.in_chunks(threads, chunk_bytes, &KeepMapped(map), |items, _| {
            items.drain(..).try_for_each(&mut each)
        })
    }

    /// Cuts the input into chunks, has them read on `threads` threads, keeping what `keep`
    /// keeps of each line, and hands each chunk's items to `deliver` in input order.
    fn in_chunks<K: Keep, E>(
        self,
        threads: NonZeroUsize,
        chunk_bytes: usize,
        keep: &K,
        mut deliver: impl FnMut(&mut Vec<K::Item>, usize) -> Result<(), E>,
    ) -> Result<(), E> {
        if matches!(self.state, State::Done) {
            return Ok(());
        }
        let source = self.lines.file().clone();
        let max_len = self.lines.max_len();
        let (input, pending, lines_before, eof) = self.lines.into_parts();
        let mut splitter = Splitter {
            input,
            carry: pending,
            eof,
            skipping: false,
            max_len,
            chunk_bytes: chunk_bytes.max(1),
        };
        let context = ChunkContext {
            source,
            default_path: self.default_path,
            max_len,
        };
        let mut tracker = self.state;
        // Enough chunks that every worker has one queued while the caller's thread refills and
        // delivers the others; memory stays at these whatever the input's size.
        let mut free: Vec<Chunk<K::Item>> = (0..2 * threads.get() + 1)
            .map(|_| Chunk::default())
            .collect();
        let (work_tx, work_rx) = mpsc::channel::<Chunk<K::Item>>();
        let work_rx = Mutex::new(work_rx);
        // `None` says a worker died in a panic (in `map`, say) with the chunk it had.
        let (done_tx, done_rx) = mpsc::channel::<Option<Chunk<K::Item>>>();
        std::thread::scope(|scope| {
            // The caller's thread reads chunks too, between handing them out and delivering.
            for _ in 1..threads.get() {
                let (work_rx, done_tx, context) = (&work_rx, done_tx.clone(), &context);
                scope.spawn(move || {
                    let alarm = PanicAlarm(&done_tx);
                    loop {
                        let next = work_rx.lock().map(|rx| rx.recv());
                        let Ok(Ok(mut chunk)) = next else { break };
                        chunk.read(context, keep);
                        if alarm.0.send(Some(chunk)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(done_tx);
            let (mut sequence, mut in_flight, mut input_ended) = (0u64, 0usize, false);
            let mut arrived = BTreeMap::new();
            let mut next = 0u64;
            let mut lines_cut = lines_before;
            let mut outcome = Ok(());
            'reading: loop {
                // Hand out every free chunk before waiting, so no worker idles.
                while !input_ended && let Some(mut chunk) = free.pop() {
                    let read = splitter.fill(&mut chunk.bytes);
                    if read.is_ok() && chunk.bytes.is_empty() {
                        input_ended = true;
                        free.push(chunk);
                        break;
                    }
                    input_ended = read.is_err();
                    chunk.sequence = sequence;
                    sequence += 1;
                    chunk.state = tracker.clone();
                    skim(&mut tracker, &chunk.bytes, &context);
                    chunk.first_line = lines_cut;
                    lines_cut += line_count(&chunk.bytes);
                    chunk.read_error = read.err().map(|e| e.to_string());
                    if work_tx.send(chunk).is_err() {
                        break 'reading;
                    }
                    in_flight += 1;
                }
                if in_flight == 0 {
                    break;
                }
                // Deliver what is ready; otherwise read a waiting chunk here rather than wait.
                // A worker waits for work holding the queue's lock, so this only tries it; and
                // lets it go before reading or waiting, as the workers need it to go on.
                let chunk = match done_rx.try_recv() {
                    Ok(chunk) => chunk,
                    Err(_) => {
                        let waiting = work_rx.try_lock().ok().and_then(|rx| rx.try_recv().ok());
                        match waiting {
                            Some(mut chunk) => {
                                chunk.read(&context, keep);
                                Some(chunk)
                            }
                            None => match done_rx.recv() {
                                Ok(chunk) => chunk,
                                Err(_) => break,
                            },
                        }
                    }
                };
                // A worker's panic: stop, and leaving the scope passes the panic on.
                let Some(chunk) = chunk else { break };
                in_flight -= 1;
                arrived.insert(chunk.sequence, chunk);
                while let Some(mut chunk) = arrived.remove(&next) {
                    next += 1;
                    if let Err(stop) = deliver(&mut chunk.items, chunk.kept) {
                        outcome = Err(stop);
                        break 'reading;
                    }
                    if chunk.stops {
                        break 'reading;
                    }
                    free.push(chunk);
                }
            }
            // Done or stopped early: the workers stop after the chunk they are reading.
            drop(work_tx);
            outcome
        })
    }
}

/// Sends `None` when the worker it belongs to unwinds from a panic, so the caller's thread stops
/// waiting for the chunk that worker had (and does not hang while the other workers wait).
struct PanicAlarm<'a, I>(&'a mpsc::Sender<Option<Chunk<I>>>);

impl<I> Drop for PanicAlarm<'_, I> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // The caller's thread may have stopped already; then nobody waits.
            let _ = self.0.send(None);
        }
    }
}

/// Lines in a chunk: a final line without a newline is a line too.
fn line_count(bytes: &[u8]) -> u64 {
    let unterminated = !matches!(bytes.last(), Some(b'\n') | None);
    (memchr::memchr_iter(b'\n', bytes).count() + usize::from(unterminated)) as u64
}

/// What the threads that read a chunk keep of each record and error for the caller's thread.
trait Keep: Sync {
    type Item: Send;

    /// The record the chunk's `index`-th item is read into.
    fn target<'a>(
        &self,
        items: &'a mut Vec<Self::Item>,
        index: usize,
        scratch: &'a mut Record,
    ) -> &'a mut Record;

    /// Keeps the chunk's `index`-th item: the record read into [`Keep::target`], or an error.
    fn keep(
        &self,
        items: &mut Vec<Self::Item>,
        index: usize,
        scratch: &Record,
        result: Result<(), LineError>,
    );
}

/// Whole records, each read in place over the one a chunk held before, so a chunk's records
/// allocate once.
struct KeepRecords;

#[derive(Default)]
struct KeptRecord {
    record: Record,
    /// Set when the line was an error; `record` then holds nothing of it. Boxed: errors are
    /// rare, and a small item keeps a chunk's records close together.
    error: Option<Box<LineError>>,
}

impl KeepRecords {
    /// The chunk's `index`-th kept record, added when earlier chunks left none to reuse there.
    fn item(items: &mut Vec<KeptRecord>, index: usize) -> &mut KeptRecord {
        if index == items.len() {
            items.push(KeptRecord::default());
        }
        &mut items[index]
    }
}

impl Keep for KeepRecords {
    type Item = KeptRecord;

    fn target<'a>(
        &self,
        items: &'a mut Vec<KeptRecord>,
        index: usize,
        _: &'a mut Record,
    ) -> &'a mut Record {
        &mut KeepRecords::item(items, index).record
    }

    fn keep(
        &self,
        items: &mut Vec<KeptRecord>,
        index: usize,
        _: &Record,
        result: Result<(), LineError>,
    ) {
        KeepRecords::item(items, index).error = result.err().map(Box::new);
    }
}

/// What a function makes of each record, the record itself read into one scratch record.
struct KeepMapped<F>(F);

impl<T: Send, F: Fn(Result<&Record, &LineError>) -> T + Sync> Keep for KeepMapped<F> {
    type Item = T;

    fn target<'a>(&self, _: &'a mut Vec<T>, _: usize, scratch: &'a mut Record) -> &'a mut Record {
        scratch
    }

    fn keep(&self, items: &mut Vec<T>, _: usize, scratch: &Record, result: Result<(), LineError>) {
        items.push(match result {
            Ok(()) => (self.0)(Ok(scratch)),
            Err(error) => (self.0)(Err(&error)),
        });
    }
}

/// What every worker needs to read a chunk.
struct ChunkContext {
    source: Arc<str>,
    default_path: Option<Arc<str>>,
    max_len: usize,
}

/// A run of whole lines and what a worker made of them.
struct Chunk<I> {
    sequence: u64,
    bytes: Vec<u8>,
    /// The reader's state at the chunk's first line.
    state: State,
    /// Lines of the input before the chunk.
    first_line: u64,
    /// Reading the input failed after this chunk's lines.
    read_error: Option<String>,
    /// What was kept of the chunk's records and errors, in order: the first `kept` (the rest
    /// are left from earlier chunks, for reuse).
    items: Vec<I>,
    kept: usize,
    /// The last item is a fatal error: reading stops after it.
    stops: bool,
    /// Where records are read when items do not hold them.
    scratch: Record,
}

impl<I> Default for Chunk<I> {
    fn default() -> Chunk<I> {
        Chunk {
            sequence: 0,
            bytes: Vec::new(),
            state: State::Detecting,
            first_line: 0,
            read_error: None,
            items: Vec::new(),
            kept: 0,
            stops: false,
            scratch: Record::default(),
        }
    }
}

impl<I> Chunk<I> {
    /// Reads the chunk's lines into items, numbering lines as [`LogReader`] does.
    fn read<K: Keep<Item = I>>(&mut self, context: &ChunkContext, keep: &K) {
        let mut state = std::mem::replace(&mut self.state, State::Done);
        let mut kept = 0;
        self.stops = false;
        let bytes = &self.bytes[..];
        // A final line without a newline is still a line; an empty one after the last is not.
        let unterminated = match bytes.last() {
            Some(b'\n') | None => None,
            Some(_) => Some(bytes.len()),
        };
        let text = simdutf8::basic::from_utf8(bytes).ok();
        let mut start = 0;
        let mut number = self.first_line;
        for end in memchr::memchr_iter(b'\n', bytes).chain(unterminated) {
            let (start_of_line, line) = (start, &bytes[start..end]);
            start = end + 1;
            number += 1;
            let result = if line.len() > context.max_len {
                Some(Err(LineErrorKind::TooLong {
                    limit: context.max_len,
                }))
            } else {
                // Cut at newlines, a valid chunk's lines are valid too.
                let line = match text.and_then(|text| text.get(start_of_line..end)) {
                    Some(text) => LineText::Text(text.strip_suffix('\r').unwrap_or(text)),
                    None => LineText::Bytes(trim_cr(line)),
                };
                let record = keep.target(&mut self.items, kept, &mut self.scratch);
                let result = state.read_line(line, &context.default_path, &mut record.values);
                if let Some(Ok(())) = result {
                    state.finish_record(record, number);
                }
                result
            };
            let result = match result {
                None => continue,
                Some(result) => {
                    result.map_err(|kind| LineError::new(context.source.clone(), number, kind))
                }
            };
            let fatal = result.as_ref().is_err_and(LineError::is_fatal);
            keep.keep(&mut self.items, kept, &self.scratch, result);
            kept += 1;
            if fatal {
                self.stops = true;
                break;
            }
        }
        if let Some(reason) = self.read_error.take()
            && !self.stops
        {
            let error = LineError::new(
                context.source.clone(),
                number + 1,
                LineErrorKind::Io(reason),
            );
            keep.keep(&mut self.items, kept, &self.scratch, Err(error));
            kept += 1;
            self.stops = true;
        }
        self.kept = kept;
    }
}

/// Cuts the input into chunks of whole lines.
struct Splitter<R> {
    input: R,
    /// The start of a line not yet ended when the last chunk was cut.
    carry: Vec<u8>,
    eof: bool,
    /// Reading on through a line already longer than `max_len`, keeping none of it.
    skipping: bool,
    max_len: usize,
    chunk_bytes: usize,
}

impl<R: Read> Splitter<R> {
    /// Fills `out` with the next whole lines, about `chunk_bytes` of them (empty at the end).
    /// A line longer than `max_len` is cut to `max_len + 1` bytes, which still reads as too
    /// long, so memory stays bounded whatever the input. On a read error `out` holds the whole
    /// lines read before it, and the input counts as ended, as for [`LineReader`](super::LineReader).
    fn fill(&mut self, out: &mut Vec<u8>) -> std::io::Result<()> {
        out.clear();
        out.append(&mut self.carry);
        // Where the last, unfinished line of `out` starts (what a reader handed over may hold
        // whole lines).
        let mut line_start = memchr::memrchr(b'\n', out).map_or(0, |at| at + 1);
        while !self.eof && (line_start == 0 || out.len() < self.chunk_bytes) {
            let old_len = out.len();
            // `read_to_end` fills spare capacity without zeroing it first, and retries reads
            // that were interrupted; with room reserved it never moves the bytes.
            out.reserve(self.chunk_bytes);
            let read = (&mut self.input)
                .take(self.chunk_bytes as u64)
                .read_to_end(out);
            if !matches!(read, Ok(n) if n == self.chunk_bytes) {
                self.eof = true;
            }
            if self.skipping {
                match memchr::memchr(b'\n', &out[old_len..]) {
                    Some(at) => {
                        out.drain(old_len..old_len + at);
                        self.skipping = false;
                    }
                    None => out.truncate(old_len),
                }
            }
            if let Some(at) = memchr::memrchr(b'\n', &out[old_len..]) {
                line_start = old_len + at + 1;
            }
            if out.len() - line_start > self.max_len {
                out.truncate(line_start + self.max_len + 1);
                self.skipping = true;
            }
            if let Err(e) = read {
                out.truncate(line_start);
                return Err(e);
            }
        }
        if !self.eof {
            self.carry.extend_from_slice(&out[line_start..]);
            out.truncate(line_start);
        }
        Ok(())
    }
}

/// Brings `state` from the start of `bytes` (whole lines) to their end as reading them would.
/// Only header lines change it, and whether a data line comes after them; data lines are not
/// read, and lines start with `#` only where they are headers.
fn skim(state: &mut State, bytes: &[u8], context: &ChunkContext) {
    let mut from = 0;
    for at in memchr::memchr_iter(b'#', bytes) {
        if at < from || (at > 0 && bytes[at - 1] != b'\n') {
            continue;
        }
        skim_lines(state, &bytes[from..at], context);
        let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |len| at + len);
        if end - at <= context.max_len {
            let line = trim_cr(&bytes[at..end]);
            if matches!(state, State::Detecting) {
                *state = State::detect(line, &context.default_path);
            }
            if let State::Tsv(tsv) = state {
                tsv.header_line(line);
            }
        }
        from = end + 1;
    }
    skim_lines(state, bytes.get(from..).unwrap_or_default(), context);
}

/// [`skim`] over lines none of which starts with `#`.
fn skim_lines(state: &mut State, bytes: &[u8], context: &ChunkContext) {
    for line in bytes.split(|&b| b == b'\n') {
        match state {
            State::Json(_) | State::Done => return,
            State::Tsv(tsv) if !tsv.in_header() => return,
            _ => {}
        }
        // Too long to read: an error, which changes nothing.
        if line.len() > context.max_len {
            continue;
        }
        let line = trim_cr(line);
        if state.is_blank(line) {
            continue;
        }
        if matches!(state, State::Detecting) {
            *state = State::detect(line, &context.default_path);
        }
        if let State::Tsv(tsv) = state {
            tsv.data_line_seen();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Input read a few bytes at a time that fails after `fail_at` bytes, when given.
    struct Flaky {
        text: std::io::Cursor<Vec<u8>>,
        fail_at: Option<u64>,
    }

    impl Read for Flaky {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let left = self
                .fail_at
                .map_or(u64::MAX, |at| at - self.text.position());
            if left == 0 {
                return Err(std::io::Error::other("disk on fire"));
            }
            let len = buf
                .len()
                .min(7)
                .min(usize::try_from(left).unwrap_or(usize::MAX));
            self.text.read(&mut buf[..len])
        }
    }

    fn reader(text: &[u8], fail_at: Option<usize>) -> LogReader<Flaky> {
        let fail_at = fail_at.map(|at| at.min(text.len()) as u64);
        let input = Flaky {
            text: std::io::Cursor::new(text.to_vec()),
            fail_at,
        };
        LogReader::new(input, "t", Some("conn")).with_max_line_len(40)
    }

    fn serial(text: &[u8], fail_at: Option<usize>) -> Vec<Result<Record, LineError>> {
        reader(text, fail_at).collect()
    }

    fn parallel(
        text: &[u8],
        fail_at: Option<usize>,
        threads: usize,
        chunk_bytes: usize,
    ) -> Vec<Result<Record, LineError>> {
        let mut out = Vec::new();
        let threads = NonZeroUsize::new(threads).unwrap_or(NonZeroUsize::MIN);
        let outcome = reader(text, fail_at).records_in_chunks(threads, chunk_bytes, |result| {
            out.push(result.cloned().map_err(Clone::clone));
            Ok::<(), ()>(())
        });
        assert_eq!(outcome, Ok(()));
        // The same through `map_parallel`, records cloned on the threads that read them.
        let mut mapped = Vec::new();
        let outcome = reader(text, fail_at).mapped_in_chunks(
            threads,
            chunk_bytes,
            |result| result.cloned().map_err(Clone::clone),
            |result| {
                mapped.push(result);
                Ok::<(), ()>(())
            },
        );
        assert_eq!(outcome, Ok(()));
        assert_eq!(mapped, out, "map_parallel and for_each_parallel differ");
        out
    }

    /// Lines of every kind the state depends on: header lines starting and ending blocks, data
    /// good and bad, blank lines, rows of empty fields, lines too long, CRLF, JSON, and text
    /// that is no log at all.
    fn line() -> impl proptest::strategy::Strategy<Value = String> {
        proptest::prop_oneof![
            proptest::strategy::Just("#separator \\x09".to_string()),
            proptest::strategy::Just("#fields\tts\tid.orig_h\tn".to_string()),
            proptest::strategy::Just("#types\ttime\taddr\tcount".to_string()),
            proptest::strategy::Just("#fields\ta\tb".to_string()),
            proptest::strategy::Just("#types\tstring\tcount".to_string()),
            proptest::strategy::Just("#path\tdns".to_string()),
            proptest::strategy::Just("#close\t2024".to_string()),
            proptest::strategy::Just(String::new()),
            proptest::strategy::Just("  \r".to_string()),
            proptest::strategy::Just("\t\t".to_string()),
            proptest::strategy::Just("{\"ts\":1.5,\"a\":\"x\"}".to_string()),
            proptest::strategy::Just("not a log".to_string()),
            "[0-9]{1,3}\\.[0-9]{1,2}\t10\\.0\\.0\\.[0-9]\t[0-9x]{1,3}\r?",
            "[a-z]{1,5}\t[0-9]{1,3}",
            "x{30,60}",
            "#x{30,60}",
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(400))]

        /// Whatever the input, however it is cut and wherever reading it fails, the parallel
        /// reader gives the serial reader's records and errors, in order, with the same line
        /// numbers.
        #[test]
        fn parallel_reading_gives_what_serial_reading_gives(
            lines in proptest::collection::vec(line(), 0..40),
            final_newline: bool,
            fail_at in proptest::option::weighted(0.2, 0usize..2000),
            threads in 1usize..4,
            chunk_bytes in 1usize..200,
        ) {
            let mut text = lines.join("\n");
            if final_newline {
                text.push('\n');
            }
            let want = serial(text.as_bytes(), fail_at);
            let got = parallel(text.as_bytes(), fail_at, threads, chunk_bytes);
            proptest::prop_assert_eq!(got, want);
        }
    }

    proptest::proptest! {
        /// A reader already part way through goes on in parallel from where it was.
        #[test]
        fn a_reader_part_way_through_goes_on_where_it_was(
            lines in proptest::collection::vec(line(), 0..30),
            taken in 0usize..10,
            chunk_bytes in 1usize..100,
        ) {
            let text = lines.join("\n");
            let want = serial(text.as_bytes(), None);
            let mut reader = reader(text.as_bytes(), None);
            let mut got: Vec<_> = reader.by_ref().take(taken).collect();
            let outcome = reader.records_in_chunks(NonZeroUsize::MIN.saturating_add(1), chunk_bytes, |result| {
                got.push(result.cloned().map_err(Clone::clone));
                Ok::<(), ()>(())
            });
            proptest::prop_assert_eq!(outcome, Ok(()));
            proptest::prop_assert_eq!(got, want);
        }
    }

    /// An error of the closure's stops reading there and comes back.
    #[test]
    fn the_closure_stops_the_reading_with_its_error() {
        let mut text = String::from("#fields\tn\n#types\tcount\n");
        for n in 0..5000 {
            text.push_str(&format!("{n}\n"));
        }
        let mut seen = 0;
        let outcome = reader(text.as_bytes(), None).records_in_chunks(
            NonZeroUsize::MIN.saturating_add(1),
            64,
            |result| {
                seen += 1;
                match result.map(|record| record.get("n").and_then(|n| n.as_u64())) {
                    Ok(Some(1234)) => Err("enough"),
                    _ => Ok(()),
                }
            },
        );
        assert_eq!(outcome, Err("enough"));
        assert_eq!(seen, 1235);
    }

    /// An error of `each` stops `map_parallel` there and comes back.
    #[test]
    fn each_stops_the_mapped_reading_with_its_error() {
        let mut text = String::from("#fields\tn\n#types\tcount\n");
        for n in 0..5000 {
            text.push_str(&format!("{n}\n"));
        }
        let mut seen = Vec::new();
        let outcome = reader(text.as_bytes(), None).mapped_in_chunks(
            NonZeroUsize::MIN.saturating_add(1),
            64,
            |result| result.ok().and_then(|record| record.get("n")?.as_u64()),
            |n| {
                seen.push(n);
                if n == Some(1234) {
                    Err("enough")
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!(outcome, Err("enough"));
        assert_eq!(seen, (0..=1234).map(Some).collect::<Vec<_>>());
    }

    /// A panic in `map` on a worker comes out of `map_parallel` rather than leaving the
    /// caller's thread waiting for that worker's chunk.
    #[test]
    fn a_panic_in_map_comes_out() {
        let mut text = String::from("#fields\tn\n#types\tcount\n");
        for n in 0..20_000 {
            text.push_str(&format!("{n}\n"));
        }
        let caller = std::thread::current().id();
        // One panic, on one worker: the others go on, and used to wait with the caller.
        let panicked = std::sync::atomic::AtomicBool::new(false);
        let outcome = std::panic::catch_unwind(|| {
            reader(text.as_bytes(), None).mapped_in_chunks(
                NonZeroUsize::new(3).unwrap(),
                64,
                |result| {
                    let n = result.ok().and_then(|record| record.get("n")?.as_u64());
                    if std::thread::current().id() == caller {
                        // Slow, so that the workers get chunks too; the caller's own panics
                        // need no alarm.
                        std::thread::sleep(std::time::Duration::from_micros(100));
                    } else if !panicked.swap(true, std::sync::atomic::Ordering::Relaxed) {
                        panic!("map failed on {n:?}");
                    }
                    n
                },
                |_| Ok::<(), ()>(()),
            )
        });
        assert!(outcome.is_err(), "the worker's panic came out");
        assert!(panicked.into_inner());
    }

    /// An input that fails part way through ends with the serial reader's read error.
    #[test]
    fn a_read_error_ends_the_input_as_it_does_serially() {
        let text = b"#fields\ta\n#types\tcount\n1\n2\n3\npartial";
        let want = serial(text, Some(text.len()));
        assert_eq!(parallel(text, Some(text.len()), 1, 5), want);
        let last = want.last().unwrap().as_ref().unwrap_err();
        assert_eq!(last.to_string(), "t:6: read error: disk on fire");
    }
}
