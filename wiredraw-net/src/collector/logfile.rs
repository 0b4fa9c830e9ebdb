//! Reading one Zeek log file: naming, identification, and line-by-line reading that follows a
//! file as it grows, keeps the TSV header block in effect, and never hands out a partial line.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};

use super::batch::Batch;

/// How much of a file's start may be read to find its first data line for the fingerprint.
const FINGERPRINT_MAX_BYTES: usize = 64 * 1024;

/// Extensions (before an optional `.gz`) of files that may hold Zeek logs.
const LOG_EXTENSIONS: &[&str] = &["log", "json", "ndjson"];

/// The two on-disk shapes of a Zeek log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Tab-separated with `#` header lines; every batch must start with the header block.
    Tsv,
    /// One JSON object per line; batches are just lines.
    Json,
}

/// True for names that may hold a Zeek log: `conn.log`, `conn.10:00:00-11:00:00.log.gz`,
/// `dns.json.gz`…
pub fn is_log_name(name: &str) -> bool {
    let name = name.strip_suffix(".gz").unwrap_or(name);
    !name.starts_with('.')
        && name
            .rsplit_once('.')
            .is_some_and(|(stem, ext)| !stem.is_empty() && LOG_EXTENSIONS.contains(&ext))
}

/// True for the name Zeek writes to while a log is open (`conn.log`), as opposed to a rotated
/// archive (`conn.10:00:00-11:00:00.log`, `conn.log.gz`): only such files keep growing.
pub fn is_live_name(name: &str) -> bool {
    name.split_once('.')
        .is_some_and(|(stem, ext)| !stem.is_empty() && LOG_EXTENSIONS.contains(&ext))
}

/// The log type a file name implies: everything before the first dot (`conn.00:00:00-01:00:00.log.gz`
/// → `conn`).
pub fn type_from_name(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

/// Whether a log type can be used as it is in the URL path `/logs/<type>`.
pub fn is_valid_type(log_type: &str) -> bool {
    !log_type.is_empty()
        && log_type.len() <= 64
        && log_type
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A file's content identity: a hash of its bytes up to the end of the first data line. It stays
/// the same when Zeek renames the file and when an archiver compresses it, so progress follows
/// the content; TSV headers carry an `#open` time, which makes it unique per log file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub [u8; 16]);

impl Fingerprint {
    fn of(bytes: &[u8]) -> Self {
        let digest = Sha256::digest(bytes);
        let mut out = [0; 16];
        out.copy_from_slice(&digest[..16]);
        Self(out)
    }

    /// Lower-case hex, as used for keys in the state file.
    pub fn to_hex(self) -> String {
        hex::encode(self.0)
    }

    /// Parses what [`Fingerprint::to_hex`] wrote.
    pub fn from_hex(text: &str) -> Option<Self> {
        let mut out = [0; 16];
        hex::decode_to_slice(text, &mut out).ok()?;
        Some(Self(out))
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// What a look at a file's start tells.
#[derive(Debug, PartialEq, Eq)]
pub enum Probe {
    /// No complete data line yet (an empty file, a header only, or a gzip still being written).
    NotYet,
    /// Not something the server can take (a zeekctl text report, binary data…), with the reason.
    NotZeek(String),
    /// A Zeek log.
    Log(Identity),
}

/// The files of one listing that are not Zeek logs, by reason: a folder of zeekctl archives
/// holds a text report beside every hour's logs, and 72 warnings of one kind buried the rest.
#[derive(Debug, Default)]
pub(crate) struct NotZeekFiles(std::collections::BTreeMap<String, Vec<std::path::PathBuf>>);

impl NotZeekFiles {
    pub(crate) fn add(&mut self, path: &Path, reason: String) {
        self.0.entry(reason).or_default().push(path.to_owned());
    }

    /// One message per reason, naming the first few files.
    pub(crate) fn messages(&self) -> Vec<String> {
        const NAMED: usize = 3;
        self.0
            .iter()
            .map(|(reason, paths)| match paths.as_slice() {
                [one] => skipped(one, reason),
                _ => {
                    let named: Vec<String> = paths
                        .iter()
                        .take(NAMED)
                        .map(|p| p.display().to_string())
                        .collect();
                    let rest = match paths.len().saturating_sub(NAMED) {
                        0 => String::new(),
                        more => {
                            format!(" and {more} more (RUST_LOG=wiredraw_net=debug names each)")
                        }
                    };
                    format!(
                        "{} files are not Zeek logs, skipped: {reason}: {}{rest}",
                        paths.len(),
                        named.join(", ")
                    )
                }
            })
            .collect()
    }

    /// Warns once per reason; each file at debug level.
    pub(crate) fn warn(&self) {
        for (reason, paths) in &self.0 {
            for path in paths {
                tracing::debug!("{}", skipped(path, reason));
            }
        }
        for message in self.messages() {
            tracing::warn!("{message}");
        }
    }
}

/// What is said of one file that is not a Zeek log.
fn skipped(path: &Path, reason: &str) -> String {
    format!("{}: not a Zeek log, skipped: {reason}", path.display())
}

/// A Zeek log file's identity and kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub fingerprint: Fingerprint,
    pub format: Format,
    /// From the `#path` header (TSV), the `_path` field (JSON), else the file name.
    pub log_type: String,
}

fn is_gzip(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext == "gz")
}

fn open_decoded(path: &Path) -> io::Result<Box<dyn Read + Send>> {
    let file = File::open(path)?;
    Ok(if is_gzip(path) {
        Box::new(MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    })
}

/// Reads the start of a file (decompressing `.gz`) and identifies it.
pub fn probe(path: &Path) -> io::Result<Probe> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    probe_reader(open_decoded(path)?, &file_name)
}

/// Identifies an open plain file from its first bytes without moving its read position, to
/// notice content replaced in place (copytruncate followed by more writes than before).
pub fn probe_open_file(file: &File, file_name: &str) -> io::Result<Probe> {
    probe_reader(ReadAt { file, position: 0 }, file_name)
}

/// Positional reads, which leave the file's own offset alone.
struct ReadAt<'a> {
    file: &'a File,
    position: u64,
}

impl Read for ReadAt<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = std::os::unix::fs::FileExt::read_at(self.file, buf, self.position)?;
        self.position += read as u64;
        Ok(read)
    }
}

fn probe_reader(input: impl Read, file_name: &str) -> io::Result<Probe> {
    let mut reader = BufReader::new(input);
    let mut prefix = Vec::new();
    let mut path_header: Option<String> = None;
    loop {
        let start = prefix.len();
        let read = match (&mut reader)
            .take((FINGERPRINT_MAX_BYTES - start) as u64)
            .read_until(b'\n', &mut prefix)
        {
            Ok(read) => read,
            // A gzip member cut short is an archive still being written.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(Probe::NotYet),
            Err(e) => return Err(e),
        };
        let line = &prefix[start..];
        if read == 0 || !line.ends_with(b"\n") {
            if prefix.len() >= FINGERPRINT_MAX_BYTES {
                return Ok(Probe::NotZeek(format!(
                    "no data line in its first {FINGERPRINT_MAX_BYTES} bytes"
                )));
            }
            return Ok(Probe::NotYet);
        }
        let content = trim_line(line);
        if content.is_empty() {
            continue;
        }
        if start == 0 || prefix[..start].iter().all(|b| b.is_ascii_whitespace()) {
            // The first non-empty line decides the format.
            if !(content.starts_with(b"#") || content.starts_with(b"{")) {
                return Ok(Probe::NotZeek(
                    "first line is neither a Zeek TSV header nor a JSON object".into(),
                ));
            }
        }
        if let Some(value) = content.strip_prefix(b"#path") {
            path_header = Some(String::from_utf8_lossy(value).trim().to_owned());
            continue;
        }
        if content.starts_with(b"#") {
            continue;
        }
        let format = if prefix.trim_ascii_start().starts_with(b"#") {
            Format::Tsv
        } else {
            Format::Json
        };
        let log_type = match format {
            Format::Tsv => path_header,
            Format::Json => json_path_field(content),
        }
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| type_from_name(file_name).to_owned());
        if !is_valid_type(&log_type) {
            return Ok(Probe::NotZeek(format!(
                "log type {log_type:?} is not a plain name"
            )));
        }
        if format == Format::Tsv && !prefix.windows(7).any(|w| w == b"#fields") {
            return Ok(Probe::NotZeek(
                "TSV data before any #fields header line".into(),
            ));
        }
        return Ok(Probe::Log(Identity {
            fingerprint: Fingerprint::of(&prefix),
            format,
            log_type,
        }));
    }
}

fn json_path_field(line: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct PathOnly {
        #[serde(rename = "_path")]
        path: Option<String>,
    }
    serde_json::from_slice::<PathOnly>(line).ok()?.path
}

/// A line without its `\n` (and `\r`, for files that passed through Windows).
pub fn trim_line(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Keeps the TSV header block (`#separator` … `#types`) in effect at the read position.
#[derive(Clone, Debug, Default)]
pub struct HeaderTracker {
    current: Option<Arc<[u8]>>,
    collecting: Option<Vec<u8>>,
}

/// Header lines that belong to the block a batch must start with; `#close` and comments do not.
const HEADER_KEYS: &[&[u8]] = &[
    b"#set_separator",
    b"#empty_field",
    b"#unset_field",
    b"#path",
    b"#open",
    b"#fields",
    b"#types",
];

impl HeaderTracker {
    /// Resumes with a header block saved earlier.
    pub fn with_current(current: Option<Arc<[u8]>>) -> Self {
        Self {
            current,
            collecting: None,
        }
    }

    /// The complete header block in effect, if any.
    pub fn current(&self) -> Option<&Arc<[u8]>> {
        self.current.as_ref()
    }

    /// Takes one `#` line (with its `\n`).
    pub fn observe(&mut self, line: &[u8]) {
        if line.starts_with(b"#separator") {
            self.collecting = Some(line.to_vec());
            return;
        }
        let Some(block) = self.collecting.as_mut() else {
            return;
        };
        if HEADER_KEYS.iter().any(|key| {
            line.strip_prefix(*key)
                .is_some_and(|rest| rest.starts_with(b"\t") || rest.starts_with(b" "))
        }) {
            block.extend_from_slice(line);
            if !block.ends_with(b"\n") {
                block.push(b'\n');
            }
        }
        if line.starts_with(b"#types") {
            self.finish();
        }
    }

    /// A data line arrived: a block still open (no `#types`) is as complete as it will get.
    fn finish(&mut self) {
        if let Some(block) = self.collecting.take() {
            self.current = Some(block.into());
        }
    }
}

/// Why [`LogSource::fill`] stopped adding lines to a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FillStop {
    /// The batch reached its line or byte limit.
    Full,
    /// A `#` line follows: the batch ends here so that a new header block starts a new batch.
    Boundary,
    /// No more complete lines for now (a growing file may have more later).
    Eof,
}

/// Limits for one batch and one line.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub batch_lines: usize,
    pub batch_bytes: usize,
    pub max_line_bytes: usize,
}

/// A line that could not be shipped, for the error log and count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedLine {
    pub line: u64,
    pub reason: String,
}

/// Counts the raw (possibly compressed) bytes read from disk, for progress.
struct Counting<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.count += read as u64;
        Ok(read)
    }
}

enum Input {
    Plain(BufReader<Counting<File>>),
    /// Boxed: the decoder's state is several times the size of a plain reader.
    Gzip(Box<BufReader<MultiGzDecoder<Counting<File>>>>),
}

impl Input {
    fn reader(&mut self) -> &mut dyn BufRead {
        match self {
            Input::Plain(r) => r,
            Input::Gzip(r) => r,
        }
    }

    fn raw_bytes(&self) -> u64 {
        match self {
            Input::Plain(r) => r.get_ref().count,
            Input::Gzip(r) => r.get_ref().get_ref().count,
        }
    }
}

/// Where reading a file resumes.
#[derive(Clone, Debug, Default)]
pub struct Resume {
    /// Decompressed bytes already shipped (the end of a complete line).
    pub offset: u64,
    /// Lines before `offset`, so error messages can name line numbers.
    pub line: u64,
    /// The header block in effect at `offset` (TSV).
    pub header: Option<Arc<[u8]>>,
}

/// An open log file read line by line from a resume point.
pub struct LogSource {
    input: Input,
    format: Format,
    file: File,
    /// Decompressed bytes consumed, through the last complete line.
    offset: u64,
    /// Complete lines consumed.
    line: u64,
    header: HeaderTracker,
    /// Bytes of a line whose `\n` has not been written yet.
    partial: Vec<u8>,
    /// Bytes of an over-long line dropped so far; the rest is dropped until its `\n`.
    discarding: Option<u64>,
    skipped: Vec<SkippedLine>,
}

impl LogSource {
    /// Opens `path` and skips to `resume.offset`. Fails with `InvalidData` when the file holds
    /// fewer bytes than that (it was truncated).
    pub fn open(path: &Path, format: Format, resume: Resume) -> io::Result<Self> {
        let file = File::open(path)?;
        let counting = Counting {
            inner: file.try_clone()?,
            count: 0,
        };
        let mut input = if is_gzip(path) {
            Input::Gzip(Box::new(BufReader::with_capacity(
                256 * 1024,
                MultiGzDecoder::new(counting),
            )))
        } else {
            Input::Plain(BufReader::with_capacity(256 * 1024, counting))
        };
        if resume.offset > 0 {
            let skipped = match &mut input {
                Input::Plain(r) => {
                    let len = r.get_ref().inner.metadata()?.len();
                    if len < resume.offset {
                        0
                    } else {
                        io::copy(&mut r.by_ref().take(resume.offset), &mut io::sink())?
                    }
                }
                Input::Gzip(r) => io::copy(&mut r.by_ref().take(resume.offset), &mut io::sink())?,
            };
            if skipped < resume.offset {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "holds {skipped} bytes, fewer than the {} already shipped",
                        resume.offset
                    ),
                ));
            }
        }
        Ok(Self {
            input,
            format,
            file,
            offset: resume.offset,
            line: resume.line,
            header: HeaderTracker::with_current(resume.header),
            partial: Vec::new(),
            discarding: None,
            skipped: Vec::new(),
        })
    }

    /// Decompressed bytes consumed through the last complete line.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Complete lines consumed.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Raw bytes read from disk so far (compressed bytes for `.gz`).
    pub fn raw_bytes(&self) -> u64 {
        self.input.raw_bytes()
    }

    /// The header block in effect.
    pub fn header(&self) -> Option<&Arc<[u8]>> {
        self.header.current()
    }

    /// Bytes of an incomplete last line held back.
    pub fn pending_partial(&self) -> usize {
        self.partial.len()
    }

    /// The open file, for `fstat` (size checks that see through renames).
    pub fn file(&self) -> &File {
        &self.file
    }

    /// Lines dropped since the last call (over-long lines), to be logged and counted.
    pub fn take_skipped(&mut self) -> Vec<SkippedLine> {
        std::mem::take(&mut self.skipped)
    }

    /// Adds complete lines to `batch` until it is full, a header line follows, or no complete
    /// line is left. Empty lines and `#` lines are consumed but not added; `#` lines update the
    /// header block.
    pub fn fill(&mut self, batch: &mut Batch, limits: Limits) -> io::Result<FillStop> {
        loop {
            if batch.line_count() >= limits.batch_lines || batch.body_len() >= limits.batch_bytes {
                return Ok(FillStop::Full);
            }
            let reader = self.input.reader();
            let available = reader.fill_buf()?;
            if available.is_empty() {
                return Ok(FillStop::Eof);
            }
            let at_line_start = self.partial.is_empty() && self.discarding.is_none();
            if at_line_start
                && self.format == Format::Tsv
                && available[0] == b'#'
                && !batch.is_empty()
            {
                return Ok(FillStop::Boundary);
            }
            let (taken, complete) = match memchr::memchr(b'\n', available) {
                Some(end) => (end + 1, true),
                None => (available.len(), false),
            };
            match self.discarding.as_mut() {
                Some(dropped) => *dropped += taken as u64,
                None => self.partial.extend_from_slice(&available[..taken]),
            }
            reader.consume(taken);
            if !complete {
                if self.partial.len() > limits.max_line_bytes {
                    self.discarding = Some(self.partial.len() as u64);
                    self.partial = Vec::new();
                }
                continue;
            }
            self.line += 1;
            if let Some(dropped) = self.discarding.take() {
                self.offset += dropped;
                self.skipped.push(SkippedLine {
                    line: self.line,
                    reason: format!("line longer than {} bytes", limits.max_line_bytes),
                });
                continue;
            }
            self.offset += self.partial.len() as u64;
            let line = std::mem::take(&mut self.partial);
            if line.len() > limits.max_line_bytes {
                self.skipped.push(SkippedLine {
                    line: self.line,
                    reason: format!("line longer than {} bytes", limits.max_line_bytes),
                });
                continue;
            }
            let content = trim_line(&line);
            if content.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            if self.format == Format::Tsv && content.starts_with(b"#") {
                self.header.observe(&line);
                continue;
            }
            if self.format == Format::Tsv {
                self.header.finish();
                if batch.is_empty() {
                    batch.set_header(self.header.current().cloned());
                }
            }
            batch.push_line(&line, self.offset, self.line);
            self.partial = line; // keep the allocation
            self.partial.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn files_that_are_not_logs_are_reported_once_per_reason() {
        let mut skipped = NotZeekFiles::default();
        assert!(skipped.messages().is_empty());
        for hour in 0..5 {
            skipped.add(
                Path::new(&format!("d/conn-summary.{hour:02}.log.gz")),
                "first line is text".into(),
            );
        }
        skipped.add(Path::new("d/x.log"), "binary".into());
        assert_eq!(
            skipped.messages(),
            [
                "d/x.log: not a Zeek log, skipped: binary",
                "5 files are not Zeek logs, skipped: first line is text: \
                 d/conn-summary.00.log.gz, d/conn-summary.01.log.gz, d/conn-summary.02.log.gz \
                 and 2 more (RUST_LOG=wiredraw_net=debug names each)",
            ]
        );
    }

    const HEADER: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n\
        #unset_field\t-\n#path\tconn\n#open\t2024-04-21-10-00-03\n#fields\tts\tuid\n#types\ttime\tstring\n";

    fn limits(batch_lines: usize) -> Limits {
        Limits {
            batch_lines,
            batch_bytes: 1 << 20,
            max_line_bytes: 64,
        }
    }

    fn append(path: &Path, text: &str) {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        file.write_all(text.as_bytes()).unwrap();
    }

    fn gzip(path: &Path, text: &str) {
        let mut gz =
            flate2::write::GzEncoder::new(File::create(path).unwrap(), flate2::Compression::fast());
        gz.write_all(text.as_bytes()).unwrap();
        gz.finish().unwrap();
    }

    fn lines_of(batch: &Batch) -> Vec<String> {
        batch
            .lines()
            .map(|(l, _)| String::from_utf8_lossy(l).into_owned())
            .collect()
    }

    #[test]
    fn names_types_and_live_names() {
        assert!(is_log_name("conn.log") && is_log_name("conn.00:00:00-01:00:00.log.gz"));
        assert!(is_log_name("dns.json.gz") && !is_log_name("state.toml"));
        assert!(!is_log_name(".conn.log") && !is_log_name(".log"));
        assert!(is_live_name("conn.log") && is_live_name("dns.json"));
        assert!(!is_live_name("conn.10:00:00-11:00:00.log") && !is_live_name("conn.log.gz"));
        assert_eq!(type_from_name("conn.00:00:00-01:00:00.log.gz"), "conn");
        assert_eq!(type_from_name("conn-summary.log"), "conn-summary");
        assert!(is_valid_type("known_services") && !is_valid_type("../x") && !is_valid_type(""));
    }

    #[test]
    fn probe_identifies_format_type_and_content() {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join("x.log");
        append(&live, HEADER);
        assert_eq!(probe(&live).unwrap(), Probe::NotYet, "header only");
        append(&live, "1.0\tC1\n");
        let Probe::Log(id) = probe(&live).unwrap() else {
            panic!()
        };
        assert_eq!((id.format, id.log_type.as_str()), (Format::Tsv, "conn"));
        append(&live, "2.0\tC2\n");
        let Probe::Log(grown) = probe(&live).unwrap() else {
            panic!()
        };
        assert_eq!(
            grown.fingerprint, id.fingerprint,
            "growth keeps the identity"
        );

        let archive = dir.path().join("conn.10:00:00-11:00:00.log.gz");
        gzip(&archive, &std::fs::read_to_string(&live).unwrap());
        let Probe::Log(compressed) = probe(&archive).unwrap() else {
            panic!()
        };
        assert_eq!(
            compressed.fingerprint, id.fingerprint,
            "compression keeps the identity"
        );

        let other = dir.path().join("conn.log");
        append(&other, &HEADER.replace("10-00-03", "11-00-00"));
        append(&other, "1.0\tC1\n");
        let Probe::Log(reopened) = probe(&other).unwrap() else {
            panic!()
        };
        assert_ne!(
            reopened.fingerprint, id.fingerprint,
            "a new #open is a new file"
        );

        let json = dir.path().join("weird.log");
        append(&json, "{\"_path\":\"dns\",\"ts\":1}\n");
        let Probe::Log(json_id) = probe(&json).unwrap() else {
            panic!()
        };
        assert_eq!(
            (json_id.format, json_id.log_type.as_str()),
            (Format::Json, "dns")
        );

        let report = dir.path().join("conn-summary.log");
        append(&report, ">== Total === 2024-04-21\n   - Connections 1.0k\n");
        assert!(matches!(probe(&report).unwrap(), Probe::NotZeek(_)));
        let headless = dir.path().join("http.log");
        append(&headless, "#separator \\x09\n1.0\tC1\n");
        assert!(matches!(probe(&headless).unwrap(), Probe::NotZeek(_)));
    }

    #[test]
    fn partial_last_lines_wait_for_their_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("conn.log");
        append(&path, HEADER);
        append(&path, "1.0\tC1\n2.0\tC");
        let mut source = LogSource::open(&path, Format::Tsv, Resume::default()).unwrap();
        let mut batch = Batch::new();
        assert_eq!(source.fill(&mut batch, limits(100)).unwrap(), FillStop::Eof);
        assert_eq!(lines_of(&batch), ["1.0\tC1\n"]);
        assert_eq!(batch.header().map(|h| &h[..]), Some(HEADER.as_bytes()));
        assert_eq!(source.offset(), (HEADER.len() + 7) as u64);
        assert_eq!(source.pending_partial(), 5);
        append(&path, "2\n3.0\tC3\n");
        batch.clear();
        assert_eq!(source.fill(&mut batch, limits(100)).unwrap(), FillStop::Eof);
        assert_eq!(lines_of(&batch), ["2.0\tC2\n", "3.0\tC3\n"]);
        assert_eq!(source.offset(), std::fs::metadata(&path).unwrap().len());
    }

    #[test]
    fn a_new_header_block_ends_the_batch_and_starts_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("conn.log");
        let second_header = HEADER.replace("#fields\tts\tuid", "#fields\tts\tuid2");
        append(&path, HEADER);
        append(&path, "1.0\tA\n2.0\tB\n#close\t2024\n");
        append(&path, &second_header);
        append(&path, "3.0\tC\n");
        let mut source = LogSource::open(&path, Format::Tsv, Resume::default()).unwrap();
        let mut batch = Batch::new();
        assert_eq!(
            source.fill(&mut batch, limits(100)).unwrap(),
            FillStop::Boundary
        );
        assert_eq!(lines_of(&batch), ["1.0\tA\n", "2.0\tB\n"]);
        let first_end = batch.position_after(&batch.whole()).unwrap();
        batch.clear();
        assert_eq!(source.fill(&mut batch, limits(100)).unwrap(), FillStop::Eof);
        assert_eq!(lines_of(&batch), ["3.0\tC\n"]);
        assert_eq!(
            batch.header().map(|h| &h[..]),
            Some(second_header.as_bytes())
        );
        assert_eq!(batch.line_numbers(&batch.whole()), (20, 20));

        // Resuming after the first batch with its header finds the second block by itself.
        let resume = Resume {
            offset: first_end.offset,
            line: first_end.line,
            header: Some(Arc::from(HEADER.as_bytes())),
        };
        let mut resumed = LogSource::open(&path, Format::Tsv, resume).unwrap();
        batch.clear();
        resumed.fill(&mut batch, limits(100)).unwrap();
        assert_eq!(lines_of(&batch), ["3.0\tC\n"]);
        assert_eq!(
            batch.header().map(|h| &h[..]),
            Some(second_header.as_bytes())
        );
    }

    #[test]
    fn gzip_resume_skips_what_was_shipped_and_limits_cut_batches() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("conn.10:00:00-11:00:00.log.gz");
        let rows: String = (0..10).map(|i| format!("{i}.0\tC{i}\n")).collect();
        gzip(&path, &format!("{HEADER}{rows}#close\t2024\n"));
        let mut source = LogSource::open(&path, Format::Tsv, Resume::default()).unwrap();
        let mut batch = Batch::new();
        assert_eq!(source.fill(&mut batch, limits(4)).unwrap(), FillStop::Full);
        let shipped = batch.position_after(&batch.whole()).unwrap();
        let resume = Resume {
            offset: shipped.offset,
            line: shipped.line,
            header: batch.header().cloned(),
        };
        let mut resumed = LogSource::open(&path, Format::Tsv, resume).unwrap();
        batch.clear();
        assert_eq!(
            resumed.fill(&mut batch, limits(100)).unwrap(),
            FillStop::Boundary
        );
        assert_eq!(batch.line_count(), 6);
        assert_eq!(lines_of(&batch)[0], "4.0\tC4\n");
        assert_eq!(batch.header().map(|h| &h[..]), Some(HEADER.as_bytes()));
        assert!(resumed.raw_bytes() > 0);

        let too_far = Resume {
            offset: 1 << 20,
            ..Resume::default()
        };
        let err = LogSource::open(&path, Format::Tsv, too_far).err().unwrap();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn over_long_lines_are_skipped_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dns.log");
        let long = "x".repeat(200);
        append(
            &path,
            &format!("{{\"a\":1}}\n{{\"{long}\":1}}\n{{\"a\":3}}\n"),
        );
        let mut source = LogSource::open(&path, Format::Json, Resume::default()).unwrap();
        let mut batch = Batch::new();
        source.fill(&mut batch, limits(100)).unwrap();
        assert_eq!(lines_of(&batch), ["{\"a\":1}\n", "{\"a\":3}\n"]);
        assert_eq!(batch.line_numbers(&batch.whole()), (1, 3));
        let skipped = source.take_skipped();
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].line, 2);
        assert_eq!(source.offset(), std::fs::metadata(&path).unwrap().len());
    }

    #[test]
    fn header_tracker_keeps_only_block_lines() {
        let mut tracker = HeaderTracker::default();
        for line in HEADER.split_inclusive('\n') {
            tracker.observe(line.as_bytes());
        }
        tracker.observe(b"#close\t2024\n");
        assert_eq!(tracker.current().map(|h| &h[..]), Some(HEADER.as_bytes()));
    }
}
