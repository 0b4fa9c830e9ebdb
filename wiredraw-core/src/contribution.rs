//! What one record contributes to the picture: connections, details and host annotations.
//!
//! These are the units the store ingests. Every log-type plugin turns records into them.

use crate::record::Record;
use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// A connection made visible by a conn-like record (Zeek conn.log, or a custom flow log).
///
/// `uid` identifies the connection; ingesting the same uid twice is a no-op in every store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connection {
    pub uid: CompactString,
    /// Start, seconds since the Unix epoch.
    pub ts: f64,
    /// Seconds; `None` when unset (treated as 0 for activity).
    pub duration: Option<f64>,
    pub orig_h: IpAddr,
    pub orig_p: Option<u16>,
    pub resp_h: IpAddr,
    pub resp_p: Option<u16>,
    /// Transport protocol (`tcp`, `udp`, `icmp`, …).
    pub proto: CompactString,
    /// Zeek's detected application protocols, e.g. `"ssl,http"`; `None` when unset.
    pub service: Option<CompactString>,
    pub orig_bytes: Option<u64>,
    pub resp_bytes: Option<u64>,
    pub conn_state: Option<CompactString>,
    /// Zeek's connection history string, e.g. `ShADadFf`.
    pub history: Option<CompactString>,
}

impl Connection {
    /// End of activity: `ts + duration` (unset duration counts as 0).
    pub fn end(&self) -> f64 {
        self.ts + self.duration.unwrap_or(0.0).max(0.0)
    }

    /// Zeek's detected services one by one: it writes several as `ssl,http`.
    pub fn services(&self) -> impl Iterator<Item = &str> {
        self.service
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    /// `orig_bytes + resp_bytes`, unset counting as 0.
    pub fn total_bytes(&self) -> u64 {
        self.orig_bytes
            .unwrap_or(0)
            .saturating_add(self.resp_bytes.unwrap_or(0))
    }
}

/// A whole record attached to a connection by its uid (http, dns, ssl, files, …).
#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    pub uid: CompactString,
    /// The log type the record came from (`http`, `dns`, …).
    pub log_type: CompactString,
    pub record: Record,
}

/// A fact about a host learned from a log, e.g. a DNS answer naming an address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostAnnotation {
    pub addr: IpAddr,
    /// A DNS name that resolved to `addr`.
    pub name: CompactString,
    /// When it was seen.
    pub ts: f64,
}

/// Everything one record (or a batch of records) contributes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Contribution {
    pub connections: Vec<Connection>,
    pub details: Vec<Detail>,
    pub annotations: Vec<HostAnnotation>,
}

impl Contribution {
    pub fn is_empty(&self) -> bool {
        self.connections.is_empty() && self.details.is_empty() && self.annotations.is_empty()
    }

    pub fn clear(&mut self) {
        self.connections.clear();
        self.details.clear();
        self.annotations.clear();
    }
}
