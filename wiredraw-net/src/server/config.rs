//! Server configuration: a TOML file, checked field by field.
//!
//! ```toml
//! listen = "127.0.0.1:8750"
//! store = "memory"            # or "redis://127.0.0.1:6379/0", or a cluster:
//!                             # "redis+cluster://10.0.0.1:7000,10.0.0.2:7000"
//! bucket_secs = 10
//! retention_secs = 604800     # 0 keeps everything
//!
//! [[users]]
//! name = "analyst"
//! password_hash = "$argon2id$v=19$…"
//!
//! [[collectors]]
//! name = "sensor-1"
//! token_sha256 = "<64 hex digits>"
//! ```
//!
//! Every problem is one [`ConfigError`] naming the field (`users[1].password_hash`,
//! `limits.max_body_bytes`, …).

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Default listen address: loopback only, so nothing is exposed unless asked for.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8750";

/// Why a configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// TOML syntax, an unknown field or a value of the wrong type.
    #[error("config {origin}: {message}")]
    Parse { origin: String, message: String },
    /// A value of the right type that is still unusable.
    #[error("config {origin}: field `{field}`: {reason}")]
    Field {
        origin: String,
        field: String,
        reason: String,
    },
}

/// Where the store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreSpec {
    /// In this process; lost on exit.
    Memory,
    /// A Redis URL, `redis://…` or `rediss://…`, or a Redis Cluster's seed nodes,
    /// `redis+cluster://host:port,host:port`.
    Redis(String),
}

/// One UI user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEntry {
    pub name: String,
    /// An argon2id PHC string.
    pub password_hash: String,
}

/// One collector allowed to post logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectorEntry {
    pub name: String,
    /// SHA-256 of the collector's token.
    pub token_sha256: [u8; 32],
}

/// Resource limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body as sent (compressed or not).
    pub max_body_bytes: usize,
    /// Largest ingest body after gzip decompression.
    pub max_decompressed_bytes: usize,
    /// Longest line of an ingest body; longer lines are rejected one by one.
    pub max_line_bytes: usize,
    /// Longest time one request may take, from its headers to its answer.
    pub request_timeout: Duration,
    /// Most client connections served at once; further ones wait in the listen backlog.
    pub max_connections: usize,
    /// Login attempts allowed per client address per minute.
    pub login_attempts_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 16 << 20,
            max_decompressed_bytes: 256 << 20,
            max_line_bytes: 1 << 20,
            request_timeout: Duration::from_secs(60),
            max_connections: 1024,
            login_attempts_per_minute: 10,
        }
    }
}

/// A checked server configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub listen: SocketAddr,
    pub store: StoreSpec,
    pub bucket_secs: u64,
    /// Data older than this, counted back from the newest data held, is dropped; 0 keeps all.
    pub retention_secs: u64,
    /// How long a login session lasts.
    pub session_ttl: Duration,
    pub users: Vec<UserEntry>,
    pub collectors: Vec<CollectorEntry>,
    /// Inventory file (CSV or TOML), resolved against the config file's folder.
    pub inventory: Option<PathBuf>,
    /// Leave DNS names out of every answer (for screens outsiders see).
    pub hide_dns_names: bool,
    pub limits: Limits,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: DEFAULT_LISTEN.parse().expect("valid default address"),
            store: StoreSpec::Memory,
            bucket_secs: 10,
            retention_secs: 7 * 24 * 3600,
            session_ttl: Duration::from_secs(12 * 3600),
            users: Vec::new(),
            collectors: Vec::new(),
            inventory: None,
            hide_dns_names: false,
            limits: Limits::default(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    listen: Option<String>,
    store: Option<String>,
    bucket_secs: Option<u64>,
    retention_secs: Option<u64>,
    session_ttl_secs: Option<u64>,
    #[serde(default)]
    users: Vec<RawUser>,
    #[serde(default)]
    collectors: Vec<RawCollector>,
    inventory: Option<String>,
    #[serde(default)]
    hide_dns_names: bool,
    #[serde(default)]
    limits: RawLimits,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUser {
    name: String,
    password_hash: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCollector {
    name: String,
    token_sha256: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    max_body_bytes: Option<u64>,
    max_decompressed_bytes: Option<u64>,
    max_line_bytes: Option<u64>,
    request_timeout_secs: Option<u64>,
    max_connections: Option<u64>,
    login_attempts_per_minute: Option<u64>,
}

impl Config {
    /// Reads and checks a config file. Relative paths inside it are taken from its folder.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Config::parse(&text, &path.display().to_string(), base)
    }

    /// Checks config text. `origin` names it in errors; `base_dir` resolves relative paths.
    pub fn parse(text: &str, origin: &str, base_dir: &Path) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            origin: origin.to_string(),
            message: parse_message(&e, text),
        })?;
        let field_error = |field: &str, reason: String| ConfigError::Field {
            origin: origin.to_string(),
            field: field.to_string(),
            reason,
        };
        let defaults = Config::default();

        let listen = match raw.listen {
            None => defaults.listen,
            Some(text) => text.trim().parse().map_err(|_| {
                field_error(
                    "listen",
                    format!("{text:?} is not an address:port such as {DEFAULT_LISTEN:?}"),
                )
            })?,
        };
        let store = match raw.store.as_deref().map(str::trim) {
            None | Some("memory") => StoreSpec::Memory,
            Some(url)
                if url.starts_with("redis://")
                    || url.starts_with("rediss://")
                    || url.starts_with(crate::store::CLUSTER_SCHEME) =>
            {
                StoreSpec::Redis(url.to_string())
            }
            Some(other) => {
                return Err(field_error(
                    "store",
                    format!("{other:?} is neither \"memory\" nor a redis:// URL"),
                ));
            }
        };
        let bucket_secs = raw.bucket_secs.unwrap_or(defaults.bucket_secs);
        if !(1..=86_400).contains(&bucket_secs) {
            return Err(field_error(
                "bucket_secs",
                format!("must be between 1 and 86400 seconds, got {bucket_secs}"),
            ));
        }
        let retention_secs = raw.retention_secs.unwrap_or(defaults.retention_secs);
        if retention_secs != 0 && retention_secs < bucket_secs {
            return Err(field_error(
                "retention_secs",
                format!(
                    "must be 0 (keep all) or at least bucket_secs ({bucket_secs}), got {retention_secs}"
                ),
            ));
        }
        let session_ttl = match raw.session_ttl_secs {
            None => defaults.session_ttl,
            Some(secs) if (60..=30 * 86_400).contains(&secs) => Duration::from_secs(secs),
            Some(secs) => {
                return Err(field_error(
                    "session_ttl_secs",
                    format!("must be between 60 and 2592000 seconds, got {secs}"),
                ));
            }
        };

        let mut users = Vec::with_capacity(raw.users.len());
        for (i, user) in raw.users.into_iter().enumerate() {
            let field = |name: &str| format!("users[{i}].{name}");
            check_name(&user.name).map_err(|reason| field_error(&field("name"), reason))?;
            if users.iter().any(|u: &UserEntry| u.name == user.name) {
                return Err(field_error(
                    &field("name"),
                    format!("user {:?} is listed twice", user.name),
                ));
            }
            crate::server::auth::check_password_hash(&user.password_hash)
                .map_err(|reason| field_error(&field("password_hash"), reason))?;
            users.push(UserEntry {
                name: user.name,
                password_hash: user.password_hash,
            });
        }

        let mut collectors = Vec::with_capacity(raw.collectors.len());
        for (i, collector) in raw.collectors.into_iter().enumerate() {
            let field = |name: &str| format!("collectors[{i}].{name}");
            check_name(&collector.name).map_err(|reason| field_error(&field("name"), reason))?;
            if collectors
                .iter()
                .any(|c: &CollectorEntry| c.name == collector.name)
            {
                return Err(field_error(
                    &field("name"),
                    format!("collector {:?} is listed twice", collector.name),
                ));
            }
            let mut token_sha256 = [0u8; 32];
            hex::decode_to_slice(collector.token_sha256.trim(), &mut token_sha256).map_err(
                |_| {
                    field_error(
                        &field("token_sha256"),
                        "must be 64 hex digits (the SHA-256 printed by `server new-token`)".into(),
                    )
                },
            )?;
            collectors.push(CollectorEntry {
                name: collector.name,
                token_sha256,
            });
        }

        let inventory = match raw.inventory {
            None => None,
            Some(path) if path.trim().is_empty() => {
                return Err(field_error(
                    "inventory",
                    "is empty; leave it out for no inventory".into(),
                ));
            }
            Some(path) => Some(base_dir.join(path)),
        };

        let limits = check_limits(raw.limits, &defaults.limits)
            .map_err(|(field, reason)| field_error(&format!("limits.{field}"), reason))?;

        Ok(Config {
            listen,
            store,
            bucket_secs,
            retention_secs,
            session_ttl,
            users,
            collectors,
            inventory,
            hide_dns_names: raw.hide_dns_names,
            limits,
        })
    }
}

fn check_limits(raw: RawLimits, defaults: &Limits) -> Result<Limits, (&'static str, String)> {
    fn within(
        field: &'static str,
        value: Option<u64>,
        default: u64,
        min: u64,
        max: u64,
    ) -> Result<u64, (&'static str, String)> {
        let value = value.unwrap_or(default);
        if (min..=max).contains(&value) {
            Ok(value)
        } else {
            Err((
                field,
                format!("must be between {min} and {max}, got {value}"),
            ))
        }
    }
    const GIB: u64 = 1 << 30;
    let max_body_bytes = within(
        "max_body_bytes",
        raw.max_body_bytes,
        defaults.max_body_bytes as u64,
        1024,
        4 * GIB,
    )?;
    let max_decompressed_bytes = within(
        "max_decompressed_bytes",
        raw.max_decompressed_bytes,
        (defaults.max_decompressed_bytes as u64).max(max_body_bytes),
        max_body_bytes,
        16 * GIB,
    )?;
    let max_line_bytes = within(
        "max_line_bytes",
        raw.max_line_bytes,
        (defaults.max_line_bytes as u64).min(max_decompressed_bytes),
        256,
        max_decompressed_bytes,
    )?;
    let request_timeout_secs = within(
        "request_timeout_secs",
        raw.request_timeout_secs,
        defaults.request_timeout.as_secs(),
        1,
        3600,
    )?;
    let max_connections = within(
        "max_connections",
        raw.max_connections,
        defaults.max_connections as u64,
        1,
        1 << 20,
    )?;
    let login_attempts_per_minute = within(
        "login_attempts_per_minute",
        raw.login_attempts_per_minute,
        u64::from(defaults.login_attempts_per_minute),
        1,
        10_000,
    )?;
    Ok(Limits {
        max_body_bytes: max_body_bytes as usize,
        max_decompressed_bytes: max_decompressed_bytes as usize,
        max_line_bytes: max_line_bytes as usize,
        request_timeout: Duration::from_secs(request_timeout_secs),
        max_connections: max_connections as usize,
        login_attempts_per_minute: login_attempts_per_minute as u32,
    })
}

fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 64 {
        return Err("must be 1 to 64 characters".into());
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c))
    {
        return Err(format!(
            "{name:?} may only hold letters, digits, '-', '_', '.' and '@'"
        ));
    }
    Ok(())
}

/// toml's message, on one line, with the offending line quoted so a type error names its key.
fn parse_message(error: &toml::de::Error, text: &str) -> String {
    let message = error.message().trim().replace('\n', " ");
    let Some(span) = error.span() else {
        return message;
    };
    let start = span.start.min(text.len());
    let line_number = text[..start].matches('\n').count() + 1;
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line = text[line_start..line_end].trim();
    format!("line {line_number} `{line}`: {message}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, "test.toml", Path::new("/etc/wiredraw"))
    }

    #[test]
    fn an_empty_file_gives_the_safe_defaults() {
        let config = parse("").unwrap();
        assert_eq!(config, Config::default());
        assert!(config.listen.ip().is_loopback());
        assert_eq!(config.limits.max_body_bytes, 16 << 20);
    }

    #[test]
    fn a_full_file_is_read() {
        let config = parse(
            r#"
            listen = "0.0.0.0:9000"
            store = "redis://127.0.0.1:6379/2"
            bucket_secs = 60
            retention_secs = 0
            session_ttl_secs = 3600
            inventory = "hosts.csv"
            hide_dns_names = true
            [limits]
            max_body_bytes = 2048
            max_line_bytes = 1024
            [[collectors]]
            name = "sensor-1"
            token_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
            "#,
        )
        .unwrap();
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(
            config.store,
            StoreSpec::Redis("redis://127.0.0.1:6379/2".into())
        );
        assert_eq!(
            config.inventory.as_deref(),
            Some(Path::new("/etc/wiredraw/hosts.csv"))
        );
        assert!(config.hide_dns_names);
        assert_eq!(config.limits.max_body_bytes, 2048);
        assert_eq!(config.limits.max_decompressed_bytes, 256 << 20);
        assert_eq!(config.collectors[0].token_sha256[0], 0xe3);
    }

    #[track_caller]
    fn assert_names(text: &str, field: &str) {
        let message = parse(text).unwrap_err().to_string();
        assert!(
            message.contains(field),
            "{message:?} does not name {field:?}"
        );
    }

    #[test]
    fn every_bad_value_names_its_field() {
        assert_names("listen = \"localhost\"", "listen");
        assert_names("store = \"postgres://x\"", "store");
        assert_names("bucket_secs = 0", "bucket_secs");
        assert_names("bucket_secs = 10\nretention_secs = 5", "retention_secs");
        assert_names("session_ttl_secs = 1", "session_ttl_secs");
        assert_names("inventory = \"\"", "inventory");
        assert_names("[limits]\nmax_body_bytes = 1", "limits.max_body_bytes");
        assert_names("[limits]\nmax_connections = 0", "limits.max_connections");
        assert_names(
            "[limits]\nrequest_timeout_secs = 0",
            "limits.request_timeout_secs",
        );
        assert_names("[limits]\nmax_line_bytes = 10", "limits.max_line_bytes");
        assert_names(
            "[[users]]\nname = \"a b\"\npassword_hash = \"x\"",
            "users[0].name",
        );
        assert_names(
            "[[users]]\nname = \"a\"\npassword_hash = \"plain\"",
            "users[0].password_hash",
        );
        assert_names(
            "[[collectors]]\nname = \"c\"\ntoken_sha256 = \"abc\"",
            "collectors[0].token_sha256",
        );
        let token = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_names(
            &format!(
                "[[collectors]]\nname = \"c\"\ntoken_sha256 = \"{token}\"\n[[collectors]]\nname = \"c\"\ntoken_sha256 = \"{token}\""
            ),
            "collectors[1].name",
        );
    }

    #[test]
    fn unknown_fields_and_wrong_types_are_named() {
        assert_names("listne = \"127.0.0.1:1\"", "listne");
        assert_names("bucket_secs = \"ten\"", "bucket_secs");
        assert_names("[limits]\nmax_body = 5", "max_body");
        assert_names("[[users]]\nname = \"a\"", "password_hash");
    }
}
