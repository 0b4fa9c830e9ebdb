//! Typed Zeek field values.

use compact_str::CompactString;
use std::net::IpAddr;

/// The declared type of a Zeek log column (from the `#types` header line).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FieldType {
    Bool,
    Count,
    Int,
    Double,
    Time,
    Interval,
    Addr,
    Subnet,
    Port,
    Enum,
    String,
    Pattern,
    /// `set[T]` and `table[T]` (Zeek writes both the same way).
    Set(Box<FieldType>),
    /// `vector[T]`.
    Vector(Box<FieldType>),
    /// A type name this reader does not know; values are kept as strings.
    Other(CompactString),
}

/// One typed value of a Zeek record.
///
/// `Unset` (`-` in TSV, `null` in JSON) is distinct from an empty string or
/// container (`(empty)` in TSV) and from the string `"-"` (written `\x2d`).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Unset,
    Bool(bool),
    Count(u64),
    Int(i64),
    Double(f64),
    /// Seconds since the Unix epoch.
    Time(f64),
    /// Seconds.
    Interval(f64),
    /// Normalised: IPv4 dotted quad, IPv6 RFC 5952 (what `Display` for `IpAddr` prints).
    Addr(IpAddr),
    Subnet(IpAddr, u8),
    Port(u16),
    Enum(CompactString),
    String(CompactString),
    Pattern(CompactString),
    Set(Vec<Value>),
    Vector(Vec<Value>),
}

impl FieldType {
    /// Reads a Zeek type name as written in a `#types` header (`count`, `set[addr]`, …).
    ///
    /// Never fails: a name this reader does not know becomes [`FieldType::Other`], whose values
    /// are kept as strings.
    pub fn parse(name: &str) -> FieldType {
        let container = |prefix: &str| {
            name.strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix(']'))
                .map(|inner| Box::new(FieldType::parse(inner)))
        };
        if let Some(inner) = container("set[").or_else(|| container("table[")) {
            return FieldType::Set(inner);
        }
        if let Some(inner) = container("vector[") {
            return FieldType::Vector(inner);
        }
        match name {
            "bool" => FieldType::Bool,
            "count" => FieldType::Count,
            "int" => FieldType::Int,
            "double" => FieldType::Double,
            "time" => FieldType::Time,
            "interval" => FieldType::Interval,
            "addr" => FieldType::Addr,
            "subnet" => FieldType::Subnet,
            "port" => FieldType::Port,
            "enum" => FieldType::Enum,
            "string" => FieldType::String,
            "pattern" => FieldType::Pattern,
            other => FieldType::Other(other.into()),
        }
    }

    /// Whether values of this type are written with escapes that must be undone (strings and
    /// the types kept as strings).
    pub fn is_textual(&self) -> bool {
        matches!(
            self,
            FieldType::Enum | FieldType::String | FieldType::Pattern | FieldType::Other(_)
        )
    }
}

/// Zeek's spelling (`set[T]` for both sets and tables).
impl std::fmt::Display for FieldType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            FieldType::Bool => "bool",
            FieldType::Count => "count",
            FieldType::Int => "int",
            FieldType::Double => "double",
            FieldType::Time => "time",
            FieldType::Interval => "interval",
            FieldType::Addr => "addr",
            FieldType::Subnet => "subnet",
            FieldType::Port => "port",
            FieldType::Enum => "enum",
            FieldType::String => "string",
            FieldType::Pattern => "pattern",
            FieldType::Set(inner) => return write!(f, "set[{inner}]"),
            FieldType::Vector(inner) => return write!(f, "vector[{inner}]"),
            FieldType::Other(name) => name,
        };
        f.write_str(name)
    }
}

impl Value {
    /// Whether the value is unset (`-` in TSV, `null` or absent in JSON).
    pub fn is_unset(&self) -> bool {
        matches!(self, Value::Unset)
    }

    /// The text of a string, enum or pattern.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) | Value::Enum(s) | Value::Pattern(s) => Some(s),
            _ => None,
        }
    }

    /// Any number as `f64`: time and interval in seconds, counts and ints converted.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Double(x) | Value::Time(x) | Value::Interval(x) => Some(x),
            Value::Count(n) => Some(n as f64),
            Value::Int(n) => Some(n as f64),
            Value::Port(p) => Some(f64::from(p)),
            _ => None,
        }
    }

    /// A non-negative whole number: a count, a port, or a non-negative int.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::Count(n) => Some(n),
            Value::Int(n) => u64::try_from(n).ok(),
            Value::Port(p) => Some(u64::from(p)),
            _ => None,
        }
    }

    /// A port: a Zeek `port`, or a whole number that fits one (JSON logs carry ports as plain
    /// numbers).
    pub fn as_port(&self) -> Option<u16> {
        match *self {
            Value::Port(p) => Some(p),
            _ => self.as_u64().and_then(|n| u16::try_from(n).ok()),
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// An address: a Zeek `addr`, or a string holding one (normalised the same way).
    pub fn as_addr(&self) -> Option<IpAddr> {
        match self {
            Value::Addr(a) => Some(*a),
            Value::String(s) => s.parse::<IpAddr>().ok().map(|a| a.to_canonical()),
            _ => None,
        }
    }

    /// The elements of a set or vector.
    pub fn items(&self) -> Option<&[Value]> {
        match self {
            Value::Set(items) | Value::Vector(items) => Some(items),
            _ => None,
        }
    }

    /// The value as JSON, in zeek2json's shape (see the `Serialize` impl; it cannot fail).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// Human-readable text for panels and messages: unset as `-`, containers as `a, b`, an empty
/// container as `(empty)`, times and intervals in seconds.
impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Unset => f.write_str("-"),
            Value::Bool(b) => f.write_str(if *b { "T" } else { "F" }),
            Value::Count(n) => write!(f, "{n}"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Double(x) | Value::Time(x) | Value::Interval(x) => write!(f, "{x}"),
            Value::Addr(a) => write!(f, "{a}"),
            Value::Subnet(a, len) => write!(f, "{a}/{len}"),
            Value::Port(p) => write!(f, "{p}"),
            Value::Enum(s) | Value::String(s) | Value::Pattern(s) => f.write_str(s),
            Value::Set(items) | Value::Vector(items) if items.is_empty() => f.write_str("(empty)"),
            Value::Set(items) | Value::Vector(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                Ok(())
            }
        }
    }
}

/// zeek2json's shape: numbers as numbers, times and intervals as seconds, addresses and subnets
/// as their normalised text, sets and vectors as arrays, unset as `null`.
impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Unset => serializer.serialize_none(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Count(n) => serializer.serialize_u64(*n),
            Value::Int(n) => serializer.serialize_i64(*n),
            Value::Double(x) | Value::Time(x) | Value::Interval(x) => serializer.serialize_f64(*x),
            Value::Addr(a) => serializer.collect_str(a),
            Value::Subnet(a, len) => serializer.collect_str(&format_args!("{a}/{len}")),
            Value::Port(p) => serializer.serialize_u16(*p),
            Value::Enum(s) | Value::String(s) | Value::Pattern(s) => serializer.serialize_str(s),
            Value::Set(items) | Value::Vector(items) => serializer.collect_seq(items),
        }
    }
}
