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
