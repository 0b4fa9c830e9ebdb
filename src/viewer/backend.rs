//! The background task: everything that talks to the server, on a tokio runtime of its own
//! thread, so a frame never waits for the network.
//!
//! The UI sends [`Request`]s and takes [`Reply`]s from a channel once per frame. Graph requests
//! go through a [`LatestSlot`]: while one is in flight, newer ones replace each other, so a fast
//! scrub fetches only the newest position. Each graph answer is diffed in the background against
//! the one delivered before it, so the UI and the layout only apply what changed. New data is
//! learnt of from the server's live stream (`GET /api/live`) while it has one, else by polling
//! the range.

use crate::net::api::{
    EdgeResponse, GraphResponse, HistogramResponse, HostRecordPage, NodeResponse, RangeResponse,
};
use crate::net::client::{ApiClient, LiveEvents, Span};
use crate::net::http_client::HttpError;
use crate::net::server::live::LiveEvent;
use crate::net::store::MAX_WINDOW_RECORDS;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use wiredraw_core::{Graph, GraphDiff};

/// How often the held range is asked for while the server pushes nothing (no live stream).
pub const RANGE_PERIOD: Duration = Duration::from_secs(3);
/// Range polls between two attempts to open the live stream again.
const POLLS_BETWEEN_LIVE_ATTEMPTS: u32 = 5;
/// How often a lost server is tried again.
pub const RETRY_PERIOD: Duration = Duration::from_secs(2);
/// Records about hosts a graph update carries at most: a window with more lists the newest
/// (its total says how many more).
pub const WINDOW_RECORDS: usize = 200;

/// Limit of every request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// What the UI asks the background task for.
#[derive(Debug, Clone)]
pub enum Request {
    Login {
        url: String,
        user: String,
        password: String,
    },
    /// Forgets the session and stops polling.
    Logout,
    /// Fetch the range now rather than at the next period.
    RefreshRange,
    Histogram {
        from: f64,
        to: f64,
        bins: usize,
    },
    Node {
        addr: IpAddr,
        span: (f64, f64),
    },
    Edge {
        src: IpAddr,
        dst: IpAddr,
        span: (f64, f64),
    },
    /// Saves the window as Graphviz DOT.
    ExportDot {
        span: (f64, f64),
        path: PathBuf,
    },
    /// Saves the window's notices (the newest [`MAX_WINDOW_RECORDS`] records about hosts) as
    /// NDJSON, one `/api/host-records` record per line.
    ExportNotices {
        span: (f64, f64),
        path: PathBuf,
    },
    /// The connections of the window, to filter edges by port.
    Ports {
        span: (f64, f64),
        port: u16,
    },
}

/// One graph request: the window, and a number that grows with every request made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GraphRequest {
    pub generation: u64,
    pub span: (f64, f64),
}

/// A graph answer, with its change from the answer delivered before it.
#[derive(Debug, Clone)]
pub struct GraphUpdate {
    pub request: GraphRequest,
    pub graph: Arc<GraphResponse>,
    pub diff: GraphDiff,
    /// The records about hosts (notices, …) stamped in the window, the newest
    /// [`WINDOW_RECORDS`]: asked for with the graph, so the hosts they name are flagged in the
    /// graph they came with.
    pub host_records: Arc<HostRecordPage>,
    /// How long the server took, milliseconds.
    pub fetch_ms: f64,
}

/// What the background task tells the UI.
#[derive(Debug)]
pub enum Reply {
    LoggedIn {
        url: String,
        user: String,
    },
    LoginFailed(String),
    Range(RangeResponse),
    /// Data active or stamped over `[first, last]` was stored (pushed by the server): a window
    /// meeting it, and the details of what it shows, are out of date. A resync says so for
    /// everything (infinite bounds).
    Changed {
        first: f64,
        last: f64,
    },
    /// How news of new data arrives now.
    Feed(Feed),
    Graph(Box<GraphUpdate>),
    Histogram {
        from: f64,
        to: f64,
        histogram: HistogramResponse,
    },
    Node(Box<NodeResponse>),
    Edge(Box<EdgeResponse>),
    /// The window's edges (src, dst) that have a connection on this port.
    Ports {
        port: u16,
        span: (f64, f64),
        edges: Vec<(String, String)>,
    },
    Saved(PathBuf),
    /// The server stopped answering; the task keeps trying.
    ServerLost(String),
    /// It answers again.
    ServerBack,
    /// The session is no longer accepted (expired, or the server restarted).
    SessionExpired,
    /// A one-off request failed.
    Failed(String),
}

/// How the background task learns of new data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    /// The server pushes changes (`GET /api/live`).
    Push,
    /// No live stream (the server has none, or it broke): the range is polled every
    /// [`RANGE_PERIOD`], and the stream tried again now and then.
    Polling,
}

/// A slot holding only the newest value put in it: a value not taken before the next one comes
/// is dropped (and counted).
#[derive(Debug)]
pub struct LatestSlot<T> {
    state: Mutex<SlotState<T>>,
    notify: tokio::sync::Notify,
}

#[derive(Debug)]
struct SlotState<T> {
    pending: Option<T>,
    dropped: u64,
}

impl<T> Default for LatestSlot<T> {
    fn default() -> Self {
        LatestSlot {
            state: Mutex::new(SlotState {
                pending: None,
                dropped: 0,
            }),
            notify: tokio::sync::Notify::new(),
        }
    }
}

impl<T> LatestSlot<T> {
    /// Puts a value in, replacing one not taken yet.
    pub fn put(&self, value: T) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.pending.replace(value).is_some() {
            state.dropped += 1;
        }
        drop(state);
        self.notify.notify_one();
    }

    /// Puts a value in unless one is waiting already (a retry must not replace a newer
    /// request).
    pub fn put_if_empty(&self, value: T) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.pending.is_none() {
            state.pending = Some(value);
            drop(state);
            self.notify.notify_one();
        }
    }

    /// Takes the value if there is one.
    pub fn try_take(&self) -> Option<T> {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pending
            .take()
    }

    /// Waits for a value and takes it.
    pub async fn take(&self) -> T {
        loop {
            if let Some(value) = self.try_take() {
                return value;
            }
            self.notify.notified().await;
        }
    }

    /// Values replaced before anyone took them.
    pub fn dropped(&self) -> u64 {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .dropped
    }
}

/// The UI's handle on the background task. Dropping it stops the task's thread.
pub struct Backend {
    requests: tokio::sync::mpsc::UnboundedSender<Request>,
    graphs: Arc<LatestSlot<GraphRequest>>,
    replies: mpsc::Receiver<Reply>,
    next_generation: u64,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Backend {
    /// Starts the task; `wake` is called after each reply is queued (to request a redraw).
    pub fn start(wake: impl Fn() + Send + Sync + 'static) -> std::io::Result<Backend> {
        let (requests, inbox) = tokio::sync::mpsc::unbounded_channel();
        let (outbox, replies) = mpsc::channel();
        let graphs = Arc::new(LatestSlot::default());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("wiredraw-viewer-net")
            .enable_all()
            .build()?;
        let task = Task {
            session: Arc::new(Mutex::new(None)),
            outbox: Sink {
                outbox,
                wake: Arc::new(wake),
            },
            graphs: Arc::clone(&graphs),
        };
        let thread = std::thread::Builder::new()
            .name("wiredraw-viewer-backend".into())
            .spawn(move || runtime.block_on(task.run(inbox)))?;
        Ok(Backend {
            requests,
            graphs,
            replies,
            next_generation: 0,
            thread: Some(thread),
        })
    }

    pub fn send(&self, request: Request) {
        // The task lives as long as this handle; a send can only fail if it panicked.
        let _ = self.requests.send(request);
    }

    /// Asks for the graph of `span`; an earlier request still waiting is dropped.
    pub fn request_graph(&mut self, span: (f64, f64)) -> GraphRequest {
        self.next_generation += 1;
        let request = GraphRequest {
            generation: self.next_generation,
            span,
        };
        self.graphs.put(request);
        request
    }

    /// Graph requests dropped because a newer one came before they were sent.
    pub fn dropped_graph_requests(&self) -> u64 {
        self.graphs.dropped()
    }

    /// The replies that arrived since the last call, without waiting.
    pub fn poll(&self) -> Vec<Reply> {
        self.replies.try_iter().collect()
    }

    /// Waits up to `timeout` for one reply (tests and the headless paths).
    pub fn wait(&self, timeout: Duration) -> Option<Reply> {
        self.replies.recv_timeout(timeout).ok()
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        // Closing the request channel ends the task's main loop, which ends the runtime.
        let (closed, _) = tokio::sync::mpsc::unbounded_channel();
        drop(std::mem::replace(&mut self.requests, closed));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[derive(Clone)]
struct Sink {
    outbox: mpsc::Sender<Reply>,
    wake: Arc<dyn Fn() + Send + Sync>,
}

impl Sink {
    fn send(&self, reply: Reply) {
        if self.outbox.send(reply).is_ok() {
            (self.wake)();
        }
    }
}

/// A logged-in client and the tasks polling on its behalf.
struct Session {
    client: ApiClient,
    pollers: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Session {
    fn drop(&mut self) {
        for poller in &self.pollers {
            poller.abort();
        }
    }
}

#[derive(Clone)]
struct Task {
    session: Arc<Mutex<Option<Session>>>,
    outbox: Sink,
    graphs: Arc<LatestSlot<GraphRequest>>,
}

/// Tells a login failure apart for a person: wrong address, nobody listening, wrong password.
pub fn describe_login_error(url: &str, error: &HttpError) -> String {
    match error {
        HttpError::InvalidUrl { reason, .. } => {
            format!("{url:?} is not a server URL ({reason}); it looks like http://host:8750")
        }
        HttpError::ConnectionRefused { .. } => {
            format!("nothing answers at {url}: is the server running, and is the port right?")
        }
        HttpError::Connect { reason, .. } => format!("cannot reach {url}: {reason}"),
        HttpError::Timeout { timeout, .. } => {
            format!("{url} did not answer within {}s", timeout.as_secs())
        }
        HttpError::Status { status, .. } if status.as_u16() == 401 => {
            "wrong user name or password".to_string()
        }
        HttpError::Status {
            status, message, ..
        } if status.as_u16() == 429 => format!("too many attempts: {message}"),
        HttpError::Status { status, .. } if status.as_u16() == 404 => {
            format!("{url} answers, but it is not a wiredraw server (no /api/login)")
        }
        HttpError::Decode { .. } => {
            format!("{url} answers, but not like a wiredraw server: {error}")
        }
        other => other.to_string(),
    }
}

fn is_unauthorized(error: &HttpError) -> bool {
    error.status().is_some_and(|s| s.as_u16() == 401)
}

impl Task {
    async fn run(self, mut inbox: tokio::sync::mpsc::UnboundedReceiver<Request>) {
        while let Some(request) = inbox.recv().await {
            match request {
                Request::Login {
                    url,
                    user,
                    password,
                } => {
                    let task = self.clone();
                    tokio::spawn(async move { task.login(url, user, password).await });
                }
                Request::Logout => {
                    let session = self.lock_session().take();
                    if let Some(mut session) = session {
                        let _ = session.client.logout().await;
                    }
                }
                Request::RefreshRange => {
                    if let Some(client) = self.client() {
                        let outbox = self.outbox.clone();
                        tokio::spawn(async move {
                            if let Ok(range) = client.range().await {
                                outbox.send(Reply::Range(range));
                            }
                        });
                    }
                }
                other => {
                    if let Some(client) = self.client() {
                        let task = self.clone();
                        tokio::spawn(async move { task.one_off(client, other).await });
                    }
                }
            }
        }
        // The UI is gone: stop polling.
        self.lock_session().take();
    }

    fn lock_session(&self) -> std::sync::MutexGuard<'_, Option<Session>> {
        self.session.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn client(&self) -> Option<ApiClient> {
        self.lock_session().as_ref().map(|s| s.client.clone())
    }

    async fn login(&self, url: String, user: String, password: String) {
        let url = url.trim().trim_end_matches('/').to_string();
        let client = match ApiClient::new(&url) {
            Ok(client) => client.with_timeout(REQUEST_TIMEOUT),
            Err(error) => {
                self.outbox
                    .send(Reply::LoginFailed(describe_login_error(&url, &error)));
                return;
            }
        };
        let mut client = client;
        if let Err(error) = client.login(&user, &password).await {
            self.outbox
                .send(Reply::LoginFailed(describe_login_error(&url, &error)));
            return;
        }
        // The session is in place before `LoggedIn` is said, so requests sent on hearing it find
        // it; its pollers start after, so nothing they report comes before it.
        *self.lock_session() = Some(Session {
            client: client.clone(),
            pollers: Vec::new(),
        });
        self.outbox.send(Reply::LoggedIn { url, user });
        if let Some(session) = self.lock_session().as_mut() {
            session.pollers = vec![
                tokio::spawn(self.clone().watch_range(client.clone())),
                tokio::spawn(self.clone().fetch_graphs(client)),
            ];
        }
    }

    /// Follows the held range: pushed by the live stream while the server offers one, else
    /// polled on a period (the stream is tried again every few polls). Reports a lost server
    /// once, and its return.
    async fn watch_range(self, client: ApiClient) {
        let mut lost = false;
        loop {
            match client.live().await {
                Ok(events) => {
                    if std::mem::take(&mut lost) {
                        self.outbox.send(Reply::ServerBack);
                    }
                    self.outbox.send(Reply::Feed(Feed::Push));
                    let ended = self.follow_live(&client, events).await;
                    self.outbox.send(Reply::Feed(Feed::Polling));
                    match ended {
                        Err(error) if is_unauthorized(&error) => {
                            self.outbox.send(Reply::SessionExpired);
                            return;
                        }
                        Err(error) => tracing::debug!(%error, "live stream broke; polling"),
                        Ok(()) => tracing::debug!("live stream ended; polling"),
                    }
                }
                Err(error) if is_unauthorized(&error) => {
                    self.outbox.send(Reply::SessionExpired);
                    return;
                }
                Err(error) => tracing::debug!(%error, "no live stream; polling"),
            }
            for _ in 0..POLLS_BETWEEN_LIVE_ATTEMPTS {
                match client.range().await {
                    Ok(range) => {
                        if std::mem::take(&mut lost) {
                            self.outbox.send(Reply::ServerBack);
                        }
                        self.outbox.send(Reply::Range(range));
                        tokio::time::sleep(RANGE_PERIOD).await;
                    }
                    Err(error) if is_unauthorized(&error) => {
                        self.outbox.send(Reply::SessionExpired);
                        return;
                    }
                    Err(error) => {
                        if !std::mem::replace(&mut lost, true) {
                            self.outbox.send(Reply::ServerLost(error.to_string()));
                        }
                        tokio::time::sleep(RETRY_PERIOD).await;
                    }
                }
            }
        }
    }

    /// Relays the live stream until it ends: the range as it grows, and which times changed.
    async fn follow_live(
        &self,
        client: &ApiClient,
        mut events: LiveEvents,
    ) -> Result<(), HttpError> {
        let mut held: Option<RangeResponse> = None;
        while let Some(event) = events.recv().await {
            match event? {
                LiveEvent::Range(range) => {
                    held = Some(range);
                    self.outbox.send(Reply::Range(range));
                }
                LiveEvent::Change(change) => {
                    if let Some(range) = &mut held {
                        let stored = change.range();
                        let widened = range.time_range().map_or(stored, |r| r.union(stored));
                        *range = RangeResponse::new(Some(widened), range.bucket_secs);
                        self.outbox.send(Reply::Range(*range));
                    }
                    self.outbox.send(Reply::Changed {
                        first: change.first,
                        last: change.last,
                    });
                }
                // Answers about hosts and connections there may have changed, and the
                // window's notices; the graph did not, and the server answers it from its
                // cache.
                LiveEvent::Records(records) => self.outbox.send(Reply::Changed {
                    first: records.first,
                    last: records.last,
                }),
                LiveEvent::Resync => {
                    let range = client.range().await?;
                    held = Some(range);
                    self.outbox.send(Reply::Range(range));
                    self.outbox.send(Reply::Changed {
                        first: f64::NEG_INFINITY,
                        last: f64::INFINITY,
                    });
                }
            }
        }
        Ok(())
    }

    /// Fetches the newest graph request, one at a time, and diffs each answer against the one
    /// delivered before. A failed fetch is retried (unless a newer request replaced it).
    async fn fetch_graphs(self, client: ApiClient) {
        let mut shown = Graph::default();
        loop {
            let request = self.graphs.take().await;
            let started = Instant::now();
            let (from, to) = request.span;
            let answers = tokio::try_join!(
                client.graph(Span::Between { from, to }),
                client.host_records(from, to, WINDOW_RECORDS),
            );
            match answers {
                Ok((graph, host_records)) => {
                    let next = graph.to_graph();
                    let diff = GraphDiff::between(&shown, &next);
                    shown = next;
                    self.outbox.send(Reply::Graph(Box::new(GraphUpdate {
                        request,
                        graph: Arc::new(graph),
                        diff,
                        host_records: Arc::new(host_records),
                        fetch_ms: started.elapsed().as_secs_f64() * 1e3,
                    })));
                }
                Err(error) if is_unauthorized(&error) => {
                    self.outbox.send(Reply::SessionExpired);
                    return;
                }
                Err(error) => {
                    tracing::debug!(%error, "graph request failed; retrying");
                    tokio::time::sleep(RETRY_PERIOD).await;
                    self.graphs.put_if_empty(request);
                }
            }
        }
    }

    async fn one_off(&self, client: ApiClient, request: Request) {
        let result =
            match request {
                Request::Histogram { from, to, bins } => client
                    .histogram(from, to, bins)
                    .await
                    .map(|histogram| Reply::Histogram {
                        from,
                        to,
                        histogram,
                    }),
                Request::Node { addr, span } => client
                    .node(addr, between(span))
                    .await
                    .map(|n| Reply::Node(Box::new(n))),
                Request::Edge { src, dst, span } => client
                    .edge(src, dst, between(span))
                    .await
                    .map(|e| Reply::Edge(Box::new(e))),
                Request::ExportDot { span, path } => match client.graph_dot(between(span)).await {
                    Ok(text) => match std::fs::write(&path, text) {
                        Ok(()) => Ok(Reply::Saved(path)),
                        Err(e) => Ok(Reply::Failed(format!("writing {}: {e}", path.display()))),
                    },
                    Err(e) => Err(e),
                },
                Request::ExportNotices { span, path } => client
                    .host_records(span.0, span.1, MAX_WINDOW_RECORDS)
                    .await
                    .map(|page| save_notices(&page, &path)),
                Request::Ports { span, port } => {
                    client.connections(between(span)).await.map(|answer| {
                        let mut edges: Vec<(String, String)> = answer
                            .connections
                            .iter()
                            .filter(|c| c.resp_p == Some(port) || c.orig_p == Some(port))
                            .map(|c| (c.orig_h.to_string(), c.resp_h.to_string()))
                            .collect();
                        edges.sort();
                        edges.dedup();
                        Reply::Ports { port, span, edges }
                    })
                }
                Request::Login { .. } | Request::Logout | Request::RefreshRange => return,
            };
        match result {
            Ok(reply) => self.outbox.send(reply),
            Err(error) if is_unauthorized(&error) => self.outbox.send(Reply::SessionExpired),
            Err(error) => self.outbox.send(Reply::Failed(error.to_string())),
        }
    }
}

/// Writes `page` to `path` as NDJSON; says what was saved, or why not.
fn save_notices(page: &HostRecordPage, path: &std::path::Path) -> Reply {
    let mut text = String::new();
    for record in &page.records {
        match serde_json::to_string(record) {
            Ok(line) => {
                text.push_str(&line);
                text.push('\n');
            }
            Err(e) => return Reply::Failed(format!("encoding a notice: {e}")),
        }
    }
    match std::fs::write(path, text) {
        Ok(()) => Reply::Saved(path.to_path_buf()),
        Err(e) => Reply::Failed(format!("writing {}: {e}", path.display())),
    }
}

fn between((from, to): (f64, f64)) -> Span {
    Span::Between { from, to }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slot_keeps_only_the_newest_value_and_counts_the_rest() {
        let slot = LatestSlot::default();
        for i in 0..100 {
            slot.put(i);
        }
        assert_eq!(slot.try_take(), Some(99));
        assert_eq!(slot.try_take(), None);
        assert_eq!(slot.dropped(), 99);
    }

    #[test]
    fn a_waiting_taker_wakes_for_a_value_put_later() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let slot = Arc::new(LatestSlot::default());
        let putter = Arc::clone(&slot);
        let value = runtime.block_on(async move {
            let taker = tokio::spawn(async move { slot.take().await });
            tokio::task::yield_now().await;
            putter.put(7u32);
            taker.await.unwrap()
        });
        assert_eq!(value, 7);
    }

    #[test]
    fn login_errors_say_what_went_wrong() {
        let refused = HttpError::ConnectionRefused {
            url: "http://127.0.0.1:1".into(),
        };
        assert!(describe_login_error("http://127.0.0.1:1", &refused).contains("nothing answers"));
        let bad = ApiClient::new("not a url").unwrap_err();
        assert!(describe_login_error("not a url", &bad).contains("is not a server URL"));
    }
}
