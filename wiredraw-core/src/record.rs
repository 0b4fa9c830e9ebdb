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

/// Whether two field names are the same logical field: equal, or equal once Zeek's scope
/// separator is taken into account (`id.orig_h` written as `id_orig_h` by logs configured with
/// `Log::default_scope_sep = "_"`).
fn same_field(written: &str, wanted: &str) -> bool {
    written.len() == wanted.len()
        && written
            .bytes()
            .zip(wanted.bytes())
            .all(|(a, b)| a == b || matches!((a, b), (b'.', b'_') | (b'_', b'.')))
}

impl Schema {
    /// Builds a schema from field names and their types.
    pub fn new(path: &str, names: Vec<Arc<str>>, types: Vec<FieldType>) -> Schema {
        Schema {
            path: path.into(),
            names,
            types,
        }
    }

    /// Column of a field. `id.orig_h` and `id_orig_h` name the same field; an exact match wins
    /// when a log has both spellings.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.names
            .iter()
            .position(|n| **n == *name)
            .or_else(|| self.names.iter().position(|n| same_field(n, name)))
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// An empty schema (no columns, empty path): a starting point for buffers such as
/// [`LogReader::read_into`](crate::zeek::LogReader::read_into).
impl Default for Schema {
    fn default() -> Schema {
        Schema::new("", Vec::new(), Vec::new())
    }
}

/// An empty record, to be filled by [`LogReader::read_into`](crate::zeek::LogReader::read_into).
impl Default for Record {
    fn default() -> Record {
        Record {
            schema: Arc::new(Schema::default()),
            values: Vec::new(),
            line: 0,
        }
    }
}

impl Record {
    /// The log type (`conn`, `dns`, …).
    pub fn path(&self) -> &str {
        &self.schema.path
    }

    /// The value of a field; `id.orig_h` and `id_orig_h` resolve to the same field.
    /// `None` when the record has no such column; `Some(&Value::Unset)` when it is unset.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.schema.index(name).and_then(|i| self.values.get(i))
    }

    /// The value of a field unless it is missing or unset.
    pub fn get_set(&self, name: &str) -> Option<&Value> {
        self.get(name).filter(|v| !v.is_unset())
    }

    /// The record's timestamp (`ts`) in seconds since the epoch, when present and numeric.
    pub fn ts(&self) -> Option<f64> {
        self.get("ts").and_then(Value::as_f64)
    }

    /// Field names (as written, with dots) and values, in column order.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.schema
            .names
            .iter()
            .map(|n| &**n)
            .zip(self.values.iter())
    }

    /// The record as zeek2json prints it: `_path` and every field by its dotted name (see
    /// [`Value`]'s `Serialize` for the value shapes), `_path` first and then the fields in column
    /// order (this crate turns on serde_json's `preserve_order`).
    ///
    /// ```
    /// use wiredraw_core::zeek::LogReader;
    ///
    /// let log = "#separator \\x09\n#path\thttp\n#fields\tts\tmethod\thost\n#types\ttime\tstring\tstring\n\
    ///            1.5\tGET\texample.org\n";
    /// let record = LogReader::new(log.as_bytes(), "http.log", None).next().unwrap()?;
    /// let json = record.to_json();
    /// let names: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    /// assert_eq!(names, ["_path", "ts", "method", "host"]);
    /// # Ok::<(), wiredraw_core::zeek::LineError>(())
    /// ```
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// One JSON object in column order: `_path` first (unless the record has its own `_path`
/// column), then each field under the name the log wrote.
impl serde::Serialize for Record {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let has_path_column = self.schema.names.iter().any(|n| &**n == "_path");
        let mut map = serializer.serialize_map(Some(self.values.len() + 1))?;
        if !has_path_column {
            map.serialize_entry("_path", &*self.schema.path)?;
        }
        for (name, value) in self.fields() {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}
