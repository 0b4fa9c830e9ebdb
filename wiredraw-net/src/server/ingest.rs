//! `POST /logs/{type}`: read the body within limits, decode it, parse it with the log type's
//! plugin, and store what it contributes.
//!
//! The whole body is checked and parsed before the store sees anything, so a request answered
//! with a 4xx changes nothing. Within an accepted body, bad lines are rejected one by one
//! (listed in the answer) and the rest is stored.

use crate::api::{IngestResponse, LineError, MAX_INGEST_ERRORS};
use crate::server::live::LiveRecords;
use crate::server::{ApiError, App, Change, MAX_CHANGED_BUCKETS, ResponseBody, json_response};
use crate::store::{ItemKind, Rejected, TimeRange, record_ts};
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::header::{CONTENT_ENCODING, CONTENT_LENGTH};
use hyper::{Request, Response, StatusCode};
use std::collections::BTreeMap;
use std::io::Read;
use wiredraw_core::Contribution;
use wiredraw_core::plugin::Registry;

/// Longest log type name in a path.
const MAX_LOG_TYPE_LEN: usize = 64;

/// How an ingest body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Identity,
    Gzip,
}

fn encoding<B>(request: &Request<B>) -> Result<Encoding, ApiError> {
    let Some(value) = request.headers().get(CONTENT_ENCODING) else {
        return Ok(Encoding::Identity);
    };
    let unsupported = |shown: &str| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("unsupported Content-Encoding {shown:?}; send gzip or no encoding"),
        )
    };
    let text = value.to_str().map_err(|_| unsupported("<not text>"))?;
    match text.trim().to_ascii_lowercase().as_str() {
        "" | "identity" => Ok(Encoding::Identity),
        "gzip" | "x-gzip" => Ok(Encoding::Gzip),
        _ => Err(unsupported(text)),
    }
}

fn check_log_type(log_type: &str) -> Result<(), ApiError> {
    let valid = !log_type.is_empty()
        && log_type.len() <= MAX_LOG_TYPE_LEN
        && log_type
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
    if valid {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "log type {log_type:?} must be 1 to {MAX_LOG_TYPE_LEN} letters, digits, '_', '-' or '.'"
        )))
    }
}

/// Decompresses a gzip body (several members allowed, as `cat a.gz b.gz` makes), refusing
/// to inflate past `limit` bytes.
fn gunzip(body: &[u8], limit: usize) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::with_capacity(body.len().saturating_mul(8).min(limit));
    flate2::read::MultiGzDecoder::new(body)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| ApiError::bad_request(format!("body is not valid gzip: {e}")))?;
    if out.len() > limit {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("body inflates to more than {limit} bytes"),
        ));
    }
    Ok(out)
}

impl App {
    pub(crate) async fn ingest<B>(
        &self,
        collector: &str,
        log_type: &str,
        request: Request<B>,
    ) -> Result<Response<ResponseBody>, ApiError>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<crate::server::BoxError>,
    {
        check_log_type(log_type)?;
        let limits = self.inner.config.limits.clone();
        let encoding = encoding(&request)?;
        let too_large = || {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("body larger than {} bytes", limits.max_body_bytes),
            )
        };
        let declared = request
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limits.max_body_bytes as u64) {
            return Err(too_large());
        }
        let body = Limited::new(request.into_body(), limits.max_body_bytes)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    too_large()
                } else {
                    ApiError::bad_request(format!("cannot read the request body: {e}"))
                }
            })?
            .to_bytes();

        let registry = self.inner.registry.clone();
        let owned_type = log_type.to_string();
        let parsed = tokio::task::spawn_blocking(move || {
            let text = match encoding {
                Encoding::Identity => body.to_vec(),
                Encoding::Gzip => gunzip(&body, limits.max_decompressed_bytes)?,
            };
            parse_body(&registry, &owned_type, &text, limits.max_line_bytes)
        })
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("ingest task failed: {e}"),
            )
        })??;

        let report = self
            .timed("ingest", self.inner.store.ingest(&parsed.contribution))
            .await
            .inspect_err(|_| {
                // A failed ingest may have stored part of the batch.
                self.inner.graph_cache.clear();
            })?;
        let answer = parsed.answer(&report.rejected);
        self.inner
            .metrics
            .records(log_type, answer.accepted, answer.rejected);
        tracing::info!(
            collector,
            log_type,
            accepted = answer.accepted,
            rejected = answer.rejected,
            "ingested"
        );
        if let Some(change) =
            parsed.change(log_type, &report.rejected, self.inner.config.bucket_secs)
        {
            self.announce_change(change).await;
        }
        if let Some(records) = parsed.records_change(log_type, &report.rejected) {
            self.announce_records(records).await;
        }
        Ok(json_response(&answer))
    }
}

/// Parses a decoded body with the log type's plugin (the generic one for unknown types) into
/// what it contributes. Lines that cannot be read or contribute nothing usable are rejected one
/// by one; a body that is not a log at all is refused whole (400).
fn parse_body(
    registry: &Registry,
    log_type: &str,
    text: &[u8],
    max_line_len: usize,
) -> Result<ParsedBody, ApiError> {
    if text.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "empty body: send the log's header and lines",
        ));
    }
    let source = format!("/logs/{log_type}");
    let mut parsed = ParsedBody::new();
    for item in registry
        .get(log_type)
        .decode(Box::new(text), &source, max_line_len)
    {
        match item {
            Ok(record) => {
                let before = parsed.lengths();
                match registry.contribute(&record, &mut parsed.contribution) {
                    Ok(()) => parsed.note_record(record.line),
                    Err(error) => {
                        parsed.truncate(before);
                        parsed.reject(record.line, error.to_string());
                    }
                }
            }
            Err(error) if error.is_fatal() => {
                return Err(ApiError::bad_request(format!(
                    "line {}: {}",
                    error.line, error.kind
                )));
            }
            Err(error) => parsed.reject(error.line, error.kind.to_string()),
        }
    }
    // The reader judges a header only when a data line follows it, so a TSV body that is
    // nothing but an unfinished header (say a lone `#separator`) would pass as an empty batch.
    if parsed.records == 0 && parsed.errors.is_empty() && is_tsv(text) && !names_columns(text) {
        return Err(ApiError::bad_request(format!(
            "{source}: no usable header: a TSV body needs #fields and #types lines"
        )));
    }
    Ok(parsed)
}

/// Whether a body is Zeek TSV: its first non-blank byte starts a `#` header line.
fn is_tsv(text: &[u8]) -> bool {
    text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'#')
}

/// Whether a TSV body holds both the `#fields` and the `#types` line a schema needs.
fn names_columns(text: &[u8]) -> bool {
    let has = |key: &[u8]| {
        text.split(|&b| b == b'\n')
            .any(|line| line.starts_with(key))
    };
    has(b"#fields") && has(b"#types")
}

/// A parsed body: what to store, and enough bookkeeping to answer per line.
pub(crate) struct ParsedBody {
    pub contribution: Contribution,
    /// Source line of each item, per kind (indexed by [`ItemKind`]), parallel to the
    /// contribution's vectors.
    lines: [Vec<u64>; ItemKind::ALL.len()],
    /// Records parsed (lines that were data, not headers or comments).
    records: u64,
    /// Lines refused while parsing, in line order.
    errors: Vec<LineError>,
}

impl ParsedBody {
    fn new() -> ParsedBody {
        ParsedBody {
            contribution: Contribution::default(),
            lines: Default::default(),
            records: 0,
            errors: Vec::new(),
        }
    }

    fn lengths(&self) -> [usize; ItemKind::ALL.len()] {
        ItemKind::ALL.map(|kind| kind.count_in(&self.contribution))
    }

    /// Drops what a record added before it failed half-way.
    fn truncate(&mut self, lengths: [usize; ItemKind::ALL.len()]) {
        for kind in ItemKind::ALL {
            kind.truncate_in(&mut self.contribution, lengths[kind as usize]);
        }
    }

    /// Counts a record and notes its line for the items it just added.
    fn note_record(&mut self, line: u64) {
        self.records += 1;
        for kind in ItemKind::ALL {
            self.lines[kind as usize].resize(kind.count_in(&self.contribution), line);
        }
    }

    fn reject(&mut self, line: u64, reason: impl Into<String>) {
        self.errors.push(LineError {
            line,
            reason: reason.into(),
        });
    }

    /// The answer, with the store's refusals mapped back to their lines.
    fn answer(&self, store_rejected: &[Rejected]) -> IngestResponse {
        let mut by_line: BTreeMap<u64, String> = BTreeMap::new();
        for error in &self.errors {
            by_line
                .entry(error.line)
                .or_insert_with(|| error.reason.clone());
        }
        let mut store_refused_records = 0;
        for rejected in store_rejected {
            let lines = &self.lines[rejected.kind as usize];
            if let Some(&line) = lines.get(rejected.index)
                && !by_line.contains_key(&line)
            {
                by_line.insert(line, rejected.reason.clone());
                store_refused_records += 1;
            }
        }
        let parse_rejected = self
            .errors
            .iter()
            .map(|e| e.line)
            .collect::<std::collections::BTreeSet<_>>()
            .len() as u64;
        IngestResponse {
            accepted: self.records - store_refused_records,
            rejected: parse_rejected + store_refused_records,
            errors: by_line
                .into_iter()
                .take(MAX_INGEST_ERRORS)
                .map(|(line, reason)| LineError { line, reason })
                .collect(),
        }
    }

    /// The span of time of what was stored besides connections (details, DNS names, records
    /// about hosts, software, capture-loss intervals), if anything was.
    fn records_change(&self, log_type: &str, store_rejected: &[Rejected]) -> Option<LiveRecords> {
        let refused: rustc_hash::FxHashSet<(usize, usize)> = store_rejected
            .iter()
            .map(|r| (r.kind as usize, r.index))
            .collect();
        let batch = &self.contribution;
        let mut span: Option<(f64, f64)> = None;
        let mut widen = |kind: ItemKind, index: usize, stamped: Option<(f64, f64)>| {
            if let Some((first, last)) = stamped
                && !refused.contains(&(kind as usize, index))
            {
                let (a, b) = span.get_or_insert((first, last));
                (*a, *b) = (a.min(first), b.max(last));
            }
        };
        let at = |ts: f64| (ts, ts);
        for (i, detail) in batch.details.iter().enumerate() {
            widen(ItemKind::Detail, i, record_ts(&detail.record).map(at));
        }
        for (i, host_record) in batch.host_records.iter().enumerate() {
            widen(
                ItemKind::HostRecord,
                i,
                record_ts(&host_record.record).map(at),
            );
        }
        for (i, annotation) in batch.annotations.iter().enumerate() {
            widen(ItemKind::Annotation, i, Some(at(annotation.ts)));
        }
        for (i, software) in batch.software.iter().enumerate() {
            widen(ItemKind::Software, i, Some(at(software.ts)));
        }
        for (i, report) in batch.capture_loss.iter().enumerate() {
            widen(ItemKind::CaptureLoss, i, Some((report.start(), report.ts)));
        }
        let (first, last) = span?;
        Some(LiveRecords {
            log_type: log_type.to_string(),
            first,
            last,
        })
    }

    /// What the stored connections changed, if any were stored.
    fn change(
        &self,
        log_type: &str,
        store_rejected: &[Rejected],
        bucket_secs: u64,
    ) -> Option<Change> {
        let refused: rustc_hash::FxHashSet<usize> = store_rejected
            .iter()
            .filter(|r| r.kind == ItemKind::Connection)
            .map(|r| r.index)
            .collect();
        let b = bucket_secs as i64;
        let stored = || {
            (self.contribution.connections.iter().enumerate())
                .filter(|(i, _)| !refused.contains(i))
                .map(|(_, conn)| conn)
        };
        let range = TimeRange::of(stored())?;
        let mut buckets = std::collections::BTreeSet::new();
        for conn in stored() {
            let mut key = (conn.ts / b as f64).floor() as i64 * b;
            let end = (conn.end() / b as f64).floor() as i64 * b;
            while key <= end && buckets.len() < MAX_CHANGED_BUCKETS {
                buckets.insert(key);
                key += b;
            }
        }
        Some(Change {
            log_type: log_type.to_string(),
            first: range.first,
            last: range.last,
            latest_start: range.latest_start,
            buckets: buckets.into_iter().collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn gzip_bodies_inflate_within_the_limit() {
        let data = b"line one\nline two\n".repeat(100);
        assert_eq!(gunzip(&gzip(&data), data.len()).unwrap(), data);
        let mut two_members = gzip(b"a\n");
        two_members.extend(gzip(b"b\n"));
        assert_eq!(gunzip(&two_members, 100).unwrap(), b"a\nb\n");
        let error = gunzip(&gzip(&data), data.len() - 1).unwrap_err();
        assert_eq!(error.status, StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[test]
    fn broken_gzip_is_a_bad_request() {
        let compressed = gzip(&b"some log line\n".repeat(1000));
        let error = gunzip(&compressed[..compressed.len() / 2], 1 << 20).unwrap_err();
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        let error = gunzip(b"\x1f\x8b\x08\x00garbage", 1 << 20).unwrap_err();
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn log_types_are_plain_names() {
        assert!(check_log_type("conn").is_ok());
        assert!(check_log_type("vpc-flow.v2").is_ok());
        assert!(check_log_type("").is_err());
        assert!(check_log_type("a b").is_err());
        assert!(check_log_type(&"x".repeat(65)).is_err());
    }
}
