//! Log-type plugins: how each kind of log adds to the picture.
//!
//! A [`LogType`] has a name (the Zeek `#path`, also the URL segment a collector posts to,
//! `/logs/<name>`), turns each of its records into a [`Contribution`] (connections, details
//! attached to a connection uid, host annotations), and may read its own line format
//! ([`LogType::decode`]; the default reads Zeek TSV or JSON). A [`Registry`] holds the built-ins
//! and any custom types; a name it does not know falls back to the generic plugin, which
//! attaches any record with a `uid` to its connection.
//!
//! Built-ins:
//! - `conn`: one [`Connection`](crate::Connection) per record.
//! - `dns`: the record as a detail, and a [`HostAnnotation`](crate::HostAnnotation) per address
//!   answer (the query name resolved to that address; names are lower-cased, trailing dot
//!   dropped). A dns record without a `uid` is refused.
//! - `notice`: as below, and also kept with each host it names as `src` or `dst`
//!   ([`HostRecord`](crate::HostRecord)): scans and password guessing name hosts, not a
//!   connection.
//! - `intel`: as below, and also kept with both hosts of the connection it was seen on
//!   (`id.orig_h`, `id.resp_h`): a hit on a threat feed's indicator flags the host that
//!   reached it, as a notice does.
//! - `http`, `ssl`, `files`, `ssh`, `smtp`, `dhcp`, `weird`, `notice`, `intel`: the record as a
//!   detail of its connection (`uid`; `files` before Zeek 5.1 lists `conn_uids`, `dhcp` lists
//!   `uids`: the record is attached to each). Records with none of these (a weird or notice not
//!   tied to a connection, a file not read from one) contribute nothing else; an `http`, `ssl`,
//!   `ssh`, `smtp` or `dhcp` record with none is damaged and refused, since Zeek always writes
//!   one there.
//!
//! Every record that names a connection must carry a finite `ts`, and where it has the
//! standard endpoint fields (`id.orig_h`, `id.orig_p`, …) they must hold addresses and ports:
//! a record that fails is refused with the field and the reason, never stored beside good data.
//! - `x509`: certificates belong to no connection; the record is kept as a detail keyed by the
//!   certificate's `fingerprint` (Zeek 5+, listed in ssl's `cert_chain_fps`) or, for older logs,
//!   its file id `id` (listed in ssl's `cert_chain_fuids`). wiredraw-net's stores answer a
//!   connection with the certificates its ssl records name, under `x509`.
//! - `software`: what runs on a host (a server's banner, a client's user agent), one
//!   [`Software`](crate::Software) per record, shown with the host.
//! - `capture_loss`: the sensor's estimate of what it missed over each interval, one
//!   [`CaptureLoss`](crate::CaptureLoss) per record. It names no connection or host: the
//!   viewer marks the intervals on its timeline, since the picture of them is incomplete.
//!
//! ```
//! use wiredraw_core::plugin::Registry;
//! use wiredraw_core::zeek::LogReader;
//! use wiredraw_core::Contribution;
//!
//! let log = "#separator \\x09\n#path\tconn\n\
//!            #fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n\
//!            #types\ttime\tstring\taddr\tport\taddr\tport\tenum\n\
//!            1713484795.9\tCYl7H53iN6mY9NyXJ8\t10.0.0.1\t5555\t10.0.0.2\t443\ttcp\n";
//! let registry = Registry::with_builtins();
//! let mut out = Contribution::default();
//! for record in LogReader::new(log.as_bytes(), "conn.log", None) {
//!     registry.contribute(&record.unwrap(), &mut out).unwrap();
//! }
//! assert_eq!(out.connections[0].resp_p, Some(443));
//! ```

mod builtin;

pub use builtin::{CaptureLossLog, Conn, Dns, Intel, Notice, SoftwareLog, UidDetail, X509};

use crate::contribution::Contribution;
use crate::record::Record;
use crate::zeek::{LineError, LogReader};
use compact_str::CompactString;
use std::collections::BTreeMap;
use std::io::Read;

/// The records a [`LogType::decode`] reads from one input.
pub type RecordStream<'a> = Box<dyn Iterator<Item = Result<Record, LineError>> + Send + 'a>;

/// A kind of log: its name, how its records contribute, and how its lines are read.
pub trait LogType: Send + Sync {
    /// The log type's name: the Zeek `#path` of its records and the URL segment of
    /// `/logs/<name>`.
    fn name(&self) -> &str;

    /// Adds what one record contributes to `out`. A record that lacks what this type needs is
    /// an error (the caller reports it with the record's file and line and goes on).
    fn contribute(&self, record: &Record, out: &mut Contribution) -> Result<(), ContributeError>;

    /// Reads records from `input` (already decompressed), naming it `source` in errors and
    /// skipping lines longer than `max_line_len`.
    ///
    /// The default reads Zeek TSV or JSON with [`LogReader`], taking this type's name for
    /// records whose input names none. A custom format (a flow log that is not Zeek's) overrides
    /// it; its records' schema path should be [`LogType::name`], so a [`Registry`] dispatches
    /// them back here.
    fn decode<'a>(
        &self,
        input: Box<dyn Read + Send + 'a>,
        source: &str,
        max_line_len: usize,
    ) -> RecordStream<'a> {
        Box::new(LogReader::new(input, source, Some(self.name())).with_max_line_len(max_line_len))
    }
}

/// Why a record could not contribute.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ContributeError {
    /// A field the log type needs is missing or unset.
    #[error("missing field {0}")]
    MissingField(CompactString),
    /// A field has a value the log type cannot use.
    #[error("field {field}: {reason}")]
    BadField {
        field: CompactString,
        reason: String,
    },
}

/// Why a log type could not be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("log type {0:?} is already registered")]
    Duplicate(String),
    #[error(
        "log type name {0:?} is not usable: it must be 1 to 64 characters of ASCII letters, \
         digits, '_', '-' or '.'"
    )]
    InvalidName(String),
}

/// The known log types, and the generic fallback for the rest.
pub struct Registry {
    types: BTreeMap<String, Box<dyn LogType>>,
    fallback: UidDetail,
}

impl Registry {
    /// A registry with no log types: every name falls back to the generic plugin.
    pub fn empty() -> Registry {
        Registry {
            types: BTreeMap::new(),
            fallback: UidDetail::new("generic"),
        }
    }

    /// A registry with the built-in log types (see the [module docs](self)).
    pub fn with_builtins() -> Registry {
        let mut registry = Registry::empty();
        let builtins: Vec<Box<dyn LogType>> = vec![
            Box::new(Conn),
            Box::new(Dns),
            Box::new(X509),
            Box::new(UidDetail::always_naming("http")),
            Box::new(UidDetail::always_naming("ssl")),
            Box::new(UidDetail::new("files")),
            Box::new(UidDetail::always_naming("ssh")),
            Box::new(UidDetail::always_naming("smtp")),
            Box::new(UidDetail::always_naming("dhcp")),
            Box::new(UidDetail::new("weird")),
            Box::new(Notice),
            Box::new(Intel),
            Box::new(CaptureLossLog),
            Box::new(SoftwareLog),
        ];
        for log_type in builtins {
            let name = log_type.name().to_string();
            registry.types.insert(name, log_type);
        }
        registry
    }

    /// Adds a log type. Its name must be new and usable as a URL segment.
    pub fn register(&mut self, log_type: Box<dyn LogType>) -> Result<(), RegistryError> {
        let name = log_type.name();
        let usable = (1..=64).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        if !usable {
            return Err(RegistryError::InvalidName(name.to_string()));
        }
        if self.types.contains_key(name) {
            return Err(RegistryError::Duplicate(name.to_string()));
        }
        self.types.insert(name.to_string(), log_type);
        Ok(())
    }

    /// The log type of that name, or the generic fallback.
    pub fn get(&self, type_name: &str) -> &dyn LogType {
        self.lookup(type_name).unwrap_or(&self.fallback)
    }

    /// The log type of that name, if registered.
    pub fn lookup(&self, type_name: &str) -> Option<&dyn LogType> {
        self.types.get(type_name).map(|t| &**t)
    }

    /// The generic plugin unknown names fall back to.
    pub fn fallback(&self) -> &dyn LogType {
        &self.fallback
    }

    /// Registered names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.types.keys().map(String::as_str)
    }

    /// Adds what a record contributes, by the log type its schema names.
    pub fn contribute(
        &self,
        record: &Record,
        out: &mut Contribution,
    ) -> Result<(), ContributeError> {
        self.get(record.path()).contribute(record, out)
    }
}

impl Default for Registry {
    fn default() -> Registry {
        Registry::with_builtins()
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("types", &self.types.keys().collect::<Vec<_>>())
            .finish()
    }
}
