//! wiredraw-core: Zeek log parsing, log-type plugins, graphs, diffs and layout.
//!
//! No GPU and no network: everything here is plain data and algorithms.

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

pub use contribution::{Connection, Contribution, Detail, HostAnnotation};
pub use diff::GraphDiff;
pub use graph::{Edge, Graph, GraphError, Node, format_bytes};
pub use record::{Record, Schema};
pub use value::{FieldType, Value};
