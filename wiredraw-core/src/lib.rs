//! wiredraw-core: Zeek log parsing, log-type plugins, graphs, diffs and layout.
//!
//! No GPU and no network: everything here is plain data and algorithms.
//!
//! - [`zeek`]: a streaming reader of Zeek logs (TSV with every header line, NDJSON, plain or
//!   gzip) that yields typed [`Record`]s and reports a bad line with its file, line and reason
//!   before reading on; on several cores too.
//! - [`plugin`]: what each log type contributes, through the [`plugin::LogType`] trait and a
//!   [`plugin::Registry`]: conn records make [`Connection`]s, other records attach to them
//!   by uid, dns answers name hosts.
//! - [`graph`] and [`diff`]: who talked to whom in a time window, and what changed between two
//!   windows; [`history`] spells out Zeek's connection history letters.
//! - [`layout`]: an incremental 3D force layout that keeps hosts in place as the graph changes.
//!
//! From a log to a graph:
//!
//! ```
//! use wiredraw_core::Graph;
//! use wiredraw_core::plugin::Registry;
//! use wiredraw_core::zeek::LogReader;
//!
//! let log = "#separator \\x09\n\
//!     #path\tconn\n\
//!     #fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\torig_bytes\thistory\n\
//!     #types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tstring\n\
//!     1713484800.5\tC1\t10.0.0.5\t51234\t10.0.0.9\t443\ttcp\t420\tShADadFf\n\
//!     1713484801.0\tC2\t10.0.0.5\t51240\t10.0.0.9\t443\ttcp\tmany\tS\n";
//! let (mut records, mut errors) = (Vec::new(), Vec::new());
//! for result in LogReader::new(log.as_bytes(), "conn.log", None) {
//!     match result {
//!         Ok(record) => records.push(record),
//!         Err(error) => errors.push(error.to_string()),
//!     }
//! }
//! assert_eq!(errors, [r#"conn.log:6: field orig_bytes (count): not a count: "many""#]);
//!
//! let (graph, rejected) = Graph::from_records(&records, &Registry::with_builtins(), 0.0, 2e9);
//! assert!(rejected.is_empty());
//! let edge = graph.edge("10.0.0.5", "10.0.0.9").unwrap();
//! assert_eq!((edge.conns, edge.bytes), (1, 420));
//!
//! let steps: Vec<String> = wiredraw_core::history::decode("ShA")
//!     .iter()
//!     .map(ToString::to_string)
//!     .collect();
//! assert_eq!(steps, ["orig SYN", "resp SYN-ACK", "orig ACK"]);
//! ```

pub mod contribution;
pub mod diff;
pub mod graph;
pub mod history;
pub mod layout;
pub mod plugin;
pub mod record;
pub mod synth;
pub mod value;
pub mod zeek;

pub use contribution::{
    CaptureLoss, Connection, Contribution, Detail, HostAnnotation, HostRecord, PacketCounts,
    Software, is_icmp,
};
pub use diff::GraphDiff;
pub use graph::{Edge, Graph, GraphError, Node, format_bytes};
pub use record::{Record, Schema};
pub use value::{FieldType, Value};
