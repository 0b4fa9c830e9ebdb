//! Records: one parsed line of a Zeek log.

use crate::value::{FieldType, Value};
use std::sync::Arc;

/// Column names and types shared by every record of one header block.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// The log type (`#path`, `_path`, or what the caller named).
    pub path: Arc<str>,
    /// Field names exactly as Zeek writes them with dots (`id.orig_h`).
    pub names: Vec<Arc<str>>,
    pub types: Vec<FieldType>,
}

/// One record: a schema and one value per schema column.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub schema: Arc<Schema>,
    pub values: Vec<Value>,
    /// 1-based line number in the source the record came from.
    pub line: u64,
}
