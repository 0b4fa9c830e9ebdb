//! A layout on its own thread, so the render thread never waits for a step.
//!
//! The worker takes graphs, diffs and parameters over a channel, steps while the layout has not
//! converged (and sleeps on the channel when it has), and after every change or step publishes
//! a [`LayoutFrame`]. Publishing swaps one `Arc` under a mutex that is held for nothing else;
//! a [`FrameReader`] only ever `try_lock`s it, and keeps the frame it has when the lock is
//! busy, so reading never blocks.
//!
//! ```
//! use wiredraw_core::layout::{LayoutParams, LayoutWorker, sample};
//! let worker = LayoutWorker::spawn(LayoutParams::default(), 7);
//! let graph = sample::traffic_graph(200, 300, 1);
//! worker.set_graph(graph.clone());
//! let mut reader = worker.reader();
//! let frame = loop {
//!     let frame = reader.latest();
//!     if frame.snapshot.graph_version == 1 && frame.snapshot.stats.converged {
//!         break frame.clone();
//!     }
//!     std::thread::sleep(std::time::Duration::from_millis(5));
//! };
//! assert_eq!(frame.snapshot.positions.len(), graph.nodes.len());
//! ```

use super::{Layout, LayoutParams, Snapshot};
use crate::diff::GraphDiff;
use crate::graph::Graph;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex, PoisonError, TryLockError};
use std::thread::JoinHandle;

/// What the worker publishes after each change or step.
#[derive(Debug, Clone, Default)]
pub struct LayoutFrame {
    /// Increases with every frame published.
    pub version: u64,
    pub snapshot: Snapshot,
    /// Diffs that did not fit the graph they were applied to (the sender should send a whole
    /// graph again).
    pub rejected_diffs: u64,
    /// Why the last rejected diff did not fit.
    pub last_rejection: Option<Arc<str>>,
}

enum Command {
    SetGraph(Box<Graph>),
    ApplyDiff(Box<GraphDiff>),
    SetParams(Box<LayoutParams>),
}

#[derive(Debug)]
struct Shared {
    latest: Mutex<Arc<LayoutFrame>>,
    /// Version of the frame in `latest`, readable without the lock.
    version: AtomicU64,
}

/// Owns a [`Layout`] on a background thread. Dropping it stops and joins the thread.
#[derive(Debug)]
pub struct LayoutWorker {
    commands: Option<Sender<Command>>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl LayoutWorker {
    /// Starts the thread with an empty layout.
    pub fn spawn(params: LayoutParams, seed: u64) -> LayoutWorker {
        let shared = Arc::new(Shared {
            latest: Mutex::new(Arc::new(LayoutFrame::default())),
            version: AtomicU64::new(0),
        });
        let (commands, inbox) = mpsc::channel();
        let layout = Layout::new(params, seed);
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("wiredraw-layout".into())
            .spawn(move || run(layout, inbox, &thread_shared))
            .expect("spawning the layout thread");
        LayoutWorker {
            commands: Some(commands),
            shared,
            thread: Some(thread),
        }
    }

    /// Lays out this graph from now on (see [`Layout::set_graph`]). Graphs sent faster than the
    /// worker takes them are coalesced: only the newest is laid out.
    pub fn set_graph(&self, graph: Graph) {
        self.send(Command::SetGraph(Box::new(graph)));
    }

    /// Applies a diff to the worker's current graph (see [`Layout::apply_diff`]); a diff that
    /// does not fit is counted in [`LayoutFrame::rejected_diffs`].
    pub fn apply_diff(&self, diff: GraphDiff) {
        self.send(Command::ApplyDiff(Box::new(diff)));
    }

    /// Changes the layout parameters (see [`Layout::set_params`]).
    pub fn set_params(&self, params: LayoutParams) {
        self.send(Command::SetParams(Box::new(params)));
    }

    /// A handle that reads the newest frame without ever blocking.
    pub fn reader(&self) -> FrameReader {
        FrameReader {
            shared: Arc::clone(&self.shared),
            cached: Arc::new(LayoutFrame::default()),
        }
    }

    fn send(&self, command: Command) {
        if let Some(commands) = &self.commands {
            // The thread only ends when this sender is dropped, so sending cannot fail while
            // the worker lives; if the thread panicked, there is nobody left to tell.
            let _ = commands.send(command);
        }
    }
}

impl Drop for LayoutWorker {
    fn drop(&mut self) {
        self.commands.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads the worker's newest [`LayoutFrame`]. Cheap to clone; each clone caches on its own.
#[derive(Debug, Clone)]
pub struct FrameReader {
    shared: Arc<Shared>,
    cached: Arc<LayoutFrame>,
}

impl FrameReader {
    /// The newest frame this reader could get without waiting: when the worker is swapping in
    /// a new frame at this very moment, the previous one.
    pub fn latest(&mut self) -> &Arc<LayoutFrame> {
        if self.has_new() {
            let guard = match self.shared.latest.try_lock() {
                Ok(guard) => Some(guard),
                Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
                Err(TryLockError::WouldBlock) => None,
            };
            if let Some(guard) = guard {
                self.cached = Arc::clone(&guard);
            }
        }
        &self.cached
    }

    /// Whether a newer frame than the last one returned has been published.
    pub fn has_new(&self) -> bool {
        self.shared.version.load(Ordering::Acquire) != self.cached.version
    }
}

fn run(mut layout: Layout, inbox: Receiver<Command>, shared: &Shared) {
    let (mut version, mut rejected_diffs, mut last_rejection) = (0, 0, None);
    loop {
        let first = if layout.is_converged() {
            match inbox.recv() {
                Ok(command) => Some(command),
                Err(_) => return,
            }
        } else {
            match inbox.try_recv() {
                Ok(command) => Some(command),
                Err(TryRecvError::Empty) => None,
                Err(TryRecvError::Disconnected) => return,
            }
        };
        match first {
            Some(command) => {
                let mut pending = vec![command];
                pending.extend(inbox.try_iter());
                // A whole graph makes every graph change before it moot.
                let newest_graph = pending
                    .iter()
                    .rposition(|c| matches!(c, Command::SetGraph(_)));
                for (i, command) in pending.into_iter().enumerate() {
                    match command {
                        Command::SetParams(params) => layout.set_params(*params),
                        Command::SetGraph(graph) if newest_graph == Some(i) => {
                            layout.set_graph(&graph)
                        }
                        Command::ApplyDiff(diff) if newest_graph.is_none_or(|g| i > g) => {
                            if let Err(e) = layout.apply_diff(&diff) {
                                rejected_diffs += 1;
                                last_rejection = Some(Arc::from(e.to_string()));
                            }
                        }
                        Command::SetGraph(_) | Command::ApplyDiff(_) => {}
                    }
                }
            }
            None => {
                layout.step();
            }
        }
        version += 1;
        let frame = LayoutFrame {
            version,
            snapshot: layout.snapshot(),
            rejected_diffs,
            last_rejection: last_rejection.clone(),
        };
        publish(shared, Arc::new(frame));
    }
}

fn publish(shared: &Shared, frame: Arc<LayoutFrame>) {
    let version = frame.version;
    let mut latest = shared.latest.lock().unwrap_or_else(PoisonError::into_inner);
    let previous = std::mem::replace(&mut *latest, frame);
    shared.version.store(version, Ordering::Release);
    drop(latest);
    // The old frame may be the last reference to a large position buffer: free it unlocked.
    drop(previous);
}
