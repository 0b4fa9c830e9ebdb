//! Posting batches to `/logs/<type>`: retries while the server is away, splits what is too
//! large, and skips (with a logged reason) what the server refuses for good.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use bytes::Bytes;
use hyper::StatusCode;
use serde::Deserialize;
use tokio::sync::watch;

use super::backoff::{Backoff, BackoffPolicy};
use super::batch::{Batch, Part, Position};
use super::{CollectorError, Progress, cancelled};
use crate::http_client::{HttpClient, HttpError};

/// The server's answer to an accepted ingest request.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct IngestReply {
    pub accepted: u64,
    pub rejected: u64,
    #[serde(default)]
    pub errors: Vec<LineError>,
}

/// One line the server rejected; `line` counts lines of the request body.
#[derive(Clone, Debug, Deserialize)]
pub struct LineError {
    pub line: u64,
    pub reason: String,
}

/// What to do after one attempt failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Try the same request again after a backoff delay.
    Retry,
    /// The body is too large: split it and send the halves.
    Split,
    /// The token is refused: nothing can get through, stop.
    Unauthorized,
    /// The server refuses this body for good (4xx): skip it so it does not block the rest.
    Skip,
}

/// How the collector reacts to each failure.
pub fn verdict(error: &HttpError) -> Verdict {
    match error.status() {
        Some(StatusCode::UNAUTHORIZED) | Some(StatusCode::FORBIDDEN) => Verdict::Unauthorized,
        Some(StatusCode::PAYLOAD_TOO_LARGE) => Verdict::Split,
        _ if error.is_retryable() => Verdict::Retry,
        // Requests with a bad URL or an answer that is not ours cannot succeed either.
        _ => Verdict::Skip,
    }
}

/// Sends batches for one collector run.
#[derive(Clone, Debug)]
pub struct Shipper {
    client: HttpClient,
    gzip: bool,
    backoff: BackoffPolicy,
    progress: Arc<Progress>,
    shutdown: watch::Receiver<bool>,
}

/// Why shipping stopped before the batch was done.
#[derive(Debug)]
pub enum Stopped {
    Shutdown,
    Fatal(CollectorError),
}

impl Shipper {
    pub fn new(
        client: HttpClient,
        gzip: bool,
        backoff: BackoffPolicy,
        progress: Arc<Progress>,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        Self {
            client,
            gzip,
            backoff,
            progress,
            shutdown,
        }
    }

    /// Sends `batch` (from `file`) to `/logs/<log_type>` until every line is accepted or
    /// skipped, calling `done` with the file position after each part so progress can be
    /// saved. Returns the lines the server accepted.
    pub async fn send(
        &self,
        log_type: &str,
        batch: &Batch,
        file: &Path,
        mut done: impl FnMut(Position),
    ) -> Result<u64, Stopped> {
        let url_path = format!("/logs/{log_type}");
        let mut accepted = 0;
        // Parts still to send, the next one last.
        let mut pending: Vec<Part> = vec![batch.whole()];
        while let Some(part) = pending.pop() {
            let (first, last) = batch.line_numbers(&part);
            let where_ = format!("{} lines {first}-{last}", file.display());
            let body = Bytes::from(batch.body(&part));
            match self.post(&url_path, body, &where_).await? {
                Ok(reply) => {
                    accepted += reply.accepted;
                    self.note_rejections(&reply, batch, &part, file);
                    self.progress.lines.fetch_add(reply.accepted, Relaxed);
                    self.progress.batches.fetch_add(1, Relaxed);
                }
                Err(Verdict::Split) => {
                    if let Some((front, back)) = Batch::halve(&part) {
                        pending.push(back);
                        pending.push(front);
                        continue;
                    }
                    tracing::error!("{where_}: one line larger than the server takes; skipped");
                    self.progress.errors.fetch_add(1, Relaxed);
                }
                Err(_) => {
                    self.progress.errors.fetch_add(1, Relaxed);
                }
            }
            if let Some(position) = batch.position_after(&part) {
                done(position);
            }
        }
        Ok(accepted)
    }

    /// One part until the server gives a final answer: the reply, or a verdict of `Skip` or
    /// `Split`.
    async fn post(
        &self,
        url_path: &str,
        body: Bytes,
        where_: &str,
    ) -> Result<Result<IngestReply, Verdict>, Stopped> {
        let mut backoff = Backoff::new(self.backoff);
        let mut shutdown = self.shutdown.clone();
        loop {
            if *shutdown.borrow() {
                return Err(Stopped::Shutdown);
            }
            let error = match self
                .client
                .post_bytes::<IngestReply>(url_path, body.clone(), self.gzip)
                .await
            {
                Ok(reply) => return Ok(Ok(reply)),
                Err(error) => error,
            };
            match verdict(&error) {
                Verdict::Retry => {
                    let delay = backoff.next_delay(&mut rand::rng());
                    self.progress.retries.fetch_add(1, Relaxed);
                    if backoff.attempts() == 1 || backoff.attempts().is_power_of_two() {
                        tracing::warn!(
                            "{where_}: {error}; retry {} in {delay:.1?}",
                            backoff.attempts()
                        );
                    }
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        () = cancelled(&mut shutdown) => return Err(Stopped::Shutdown),
                    }
                }
                Verdict::Unauthorized => {
                    return Err(Stopped::Fatal(CollectorError::Unauthorized(
                        error.to_string(),
                    )));
                }
                Verdict::Split => return Ok(Err(Verdict::Split)),
                Verdict::Skip => {
                    tracing::error!("{where_}: refused by the server, skipped: {error}");
                    return Ok(Err(Verdict::Skip));
                }
            }
        }
    }

    fn note_rejections(&self, reply: &IngestReply, batch: &Batch, part: &Part, file: &Path) {
        if reply.rejected == 0 {
            return;
        }
        self.progress.errors.fetch_add(reply.rejected, Relaxed);
        let header_lines = batch
            .header()
            .map_or(0, |h| h.iter().filter(|&&b| b == b'\n').count() as u64);
        let (first, _) = batch.line_numbers(part);
        let shown: Vec<String> = reply
            .errors
            .iter()
            .take(5)
            .map(|e| {
                // Body line numbers count the header block; file line numbers do not restart.
                let file_line = (first + e.line).saturating_sub(header_lines + 1);
                format!("line {file_line} (request line {}): {}", e.line, e.reason)
            })
            .collect();
        tracing::warn!(
            "{}: the server rejected {} lines ({})",
            file.display(),
            reply.rejected,
            shown.join("; ")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> HttpError {
        HttpError::Status {
            url: "http://h/logs/conn".into(),
            status: StatusCode::from_u16(code).unwrap(),
            message: "m".into(),
        }
    }

    #[test]
    fn verdicts_follow_the_ingest_contract() {
        assert_eq!(verdict(&status(401)), Verdict::Unauthorized);
        assert_eq!(verdict(&status(413)), Verdict::Split);
        for code in [429, 500, 502, 503] {
            assert_eq!(verdict(&status(code)), Verdict::Retry, "{code}");
        }
        for code in [400, 404, 415, 422] {
            assert_eq!(verdict(&status(code)), Verdict::Skip, "{code}");
        }
        let refused = HttpError::ConnectionRefused { url: "u".into() };
        assert_eq!(verdict(&refused), Verdict::Retry);
        let timeout = HttpError::Timeout {
            url: "u".into(),
            timeout: std::time::Duration::from_secs(1),
        };
        assert_eq!(verdict(&timeout), Verdict::Retry);
    }
}
