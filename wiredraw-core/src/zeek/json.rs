//! Zeek's JSON format: one object per line, flat (`"id.orig_h"`) or nested (`"id": {…}`).

use super::addr::{parse_addr, parse_subnet};
use super::error::LineErrorKind;
use super::time::parse_iso8601;
use crate::record::Schema;
use crate::value::{FieldType, Value};
use compact_str::CompactString;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::sync::Arc;

/// A JSON value with object keys kept in the order the line wrote them.
enum Node {
    Null,
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Text(String),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Unsigned(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(match u64::try_from(v) {
            Ok(u) => Node::Unsigned(u),
            Err(_) => Node::Signed(v),
        })
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Text(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Text(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Node::Object(entries))
    }
}

/// Reads JSON lines, reusing one schema while consecutive lines have the same fields and types.
#[derive(Clone)]
pub(crate) struct JsonState {
    default_path: Arc<str>,
    last: Option<Arc<Schema>>,
}

impl JsonState {
    pub(crate) fn new(default_path: Option<Arc<str>>) -> JsonState {
        JsonState {
            default_path: default_path.unwrap_or_else(|| super::UNKNOWN_PATH.into()),
            last: None,
        }
    }

    /// The schema of the last record read.
    pub(crate) fn schema(&self) -> Option<&Arc<Schema>> {
        self.last.as_ref()
    }

    /// Reads one line into `values`; the record's schema is then [`JsonState::schema`].
    ///
    /// JSON carries no declared types, so they are inferred: `null` is unset, `true`/`false`
    /// bool, whole numbers count (int when negative), other numbers double; `ts` and names
    /// ending in `_ts` hold times; a string that is an ISO-8601 timestamp is a time, one that is
    /// an address or subnet is one (see `text_value`); arrays are vectors. `_path` names the log
    /// type and is not a field. Nested objects are flattened to dotted names.
    pub(crate) fn data_line(
        &mut self,
        line: &str,
        values: &mut Vec<Value>,
    ) -> Result<(), LineErrorKind> {
        let node: Node =
            serde_json::from_str(line).map_err(|e| LineErrorKind::Json(e.to_string()))?;
        let Node::Object(entries) = node else {
            return Err(LineErrorKind::Json("not a JSON object".into()));
        };
        let mut fields: Vec<(String, Value)> = Vec::with_capacity(entries.len());
        let mut path: Option<String> = None;
        flatten(String::new(), entries, &mut fields, &mut path)?;
        let reuse = self.last.as_ref().filter(|schema| {
            schema.names.len() == fields.len()
                && path.as_deref().unwrap_or(&self.default_path) == &*schema.path
                && schema
                    .names
                    .iter()
                    .zip(schema.types.iter())
                    .zip(fields.iter())
                    .all(|((name, ty), (field, value))| **name == **field && *ty == type_of(value))
        });
        if reuse.is_none() {
            let path: Arc<str> = path.map_or_else(|| self.default_path.clone(), Arc::from);
            let names = fields.iter().map(|(n, _)| Arc::from(n.as_str())).collect();
            let types = fields.iter().map(|(_, v)| type_of(v)).collect();
            self.last = Some(Arc::new(Schema { path, names, types }));
        }
        values.extend(fields.into_iter().map(|(_, v)| v));
        Ok(())
    }
}

fn flatten(
    prefix: String,
    entries: Vec<(String, Node)>,
    out: &mut Vec<(String, Value)>,
    path: &mut Option<String>,
) -> Result<(), LineErrorKind> {
    for (key, node) in entries {
        let name = if prefix.is_empty() {
            key
        } else {
            format!("{prefix}.{key}")
        };
        match node {
            Node::Object(inner) => flatten(name, inner, out, path)?,
            Node::Text(text) if name == "_path" => *path = Some(text),
            node => {
                if out.iter().any(|(n, _)| *n == name) {
                    return Err(LineErrorKind::Json(format!("field {name} appears twice")));
                }
                let value = to_value(node, &name);
                out.push((name, value));
            }
        }
    }
    Ok(())
}

fn is_time_name(name: &str) -> bool {
    name == "ts" || name.ends_with("_ts") || name.ends_with(".ts")
}

/// Zeek's connection endpoints (`id.orig_h`, `id.resp_h`) and fields named like them.
fn is_host_name(name: &str) -> bool {
    name.ends_with("_h")
}

fn to_value(node: Node, name: &str) -> Value {
    let time_name = is_time_name(name);
    match node {
        Node::Null => Value::Unset,
        Node::Bool(b) => Value::Bool(b),
        Node::Unsigned(n) if time_name => Value::Time(n as f64),
        Node::Unsigned(n) => Value::Count(n),
        Node::Signed(n) if time_name => Value::Time(n as f64),
        Node::Signed(n) => Value::Int(n),
        Node::Float(x) if time_name => Value::Time(x),
        Node::Float(x) => Value::Double(x),
        Node::Text(text) => text_value(text, is_host_name(name)),
        Node::Array(items) => Value::Vector(items.into_iter().map(|n| to_value(n, name)).collect()),
        // Zeek never logs records inside containers; keep such an object as its JSON text.
        Node::Object(entries) => Value::String(object_text(entries).into()),
    }
}

/// A JSON string as a time, address or subnet when it is one, else as text.
///
/// JSON declares no types, and a string field may hold address-like text that must stay as
/// written (a certificate's DNS names, say). So a string is an address (or subnet) only when it
/// is written the way Zeek writes one (normalised), or when its field is a host endpoint
/// (`…_h`), where any spelling is normalised.
fn text_value(text: String, host_field: bool) -> Value {
    let looks_numeric = text
        .as_bytes()
        .first()
        .is_some_and(|b| b.is_ascii_hexdigit() || *b == b':');
    if looks_numeric {
        if let Some(t) = parse_iso8601(&text) {
            return Value::Time(t);
        }
        if let Some(addr) = parse_addr(&text)
            && (host_field || addr.to_string() == text)
        {
            return Value::Addr(addr);
        }
        if let Some((addr, len)) = parse_subnet(&text)
            && (host_field || format!("{addr}/{len}") == text)
        {
            return Value::Subnet(addr, len);
        }
    }
    Value::String(CompactString::from(text))
}

fn object_text(entries: Vec<(String, Node)>) -> String {
    let map: serde_json::Map<String, serde_json::Value> = entries
        .into_iter()
        .map(|(k, n)| (k, node_json(n)))
        .collect();
    serde_json::Value::Object(map).to_string()
}

fn node_json(node: Node) -> serde_json::Value {
    match node {
        Node::Null => serde_json::Value::Null,
        Node::Bool(b) => b.into(),
        Node::Unsigned(n) => n.into(),
        Node::Signed(n) => n.into(),
        Node::Float(x) => x.into(),
        Node::Text(s) => s.into(),
        Node::Array(items) => items.into_iter().map(node_json).collect(),
        Node::Object(entries) => serde_json::Value::Object(
            entries
                .into_iter()
                .map(|(k, n)| (k, node_json(n)))
                .collect(),
        ),
    }
}

/// The type a JSON value was read as.
fn type_of(value: &Value) -> FieldType {
    match value {
        Value::Unset => FieldType::Other("null".into()),
        Value::Bool(_) => FieldType::Bool,
        Value::Count(_) => FieldType::Count,
        Value::Int(_) => FieldType::Int,
        Value::Double(_) => FieldType::Double,
        Value::Time(_) => FieldType::Time,
        Value::Interval(_) => FieldType::Interval,
        Value::Addr(_) => FieldType::Addr,
        Value::Subnet(..) => FieldType::Subnet,
        Value::Port(_) => FieldType::Port,
        Value::Enum(_) => FieldType::Enum,
        Value::String(_) => FieldType::String,
        Value::Pattern(_) => FieldType::Pattern,
        Value::Set(items) | Value::Vector(items) => {
            let inner = items
                .first()
                .map_or(FieldType::Other("null".into()), type_of);
            if matches!(value, Value::Set(_)) {
                FieldType::Set(Box::new(inner))
            } else {
                FieldType::Vector(Box::new(inner))
            }
        }
    }
}
