//! Helpers for tests and benchmarks that need real servers on loopback.
//!
//! [`RedisServer::start`] runs a private `redis-server` on a free loopback port in a temporary
//! directory and stops it when dropped. Tests use it instead of any mock:
//!
//! ```no_run
//! let redis = wiredraw_net::testkit::RedisServer::start().expect("redis-server");
//! let store = wiredraw_net::store::RedisStore::open(wiredraw_net::store::RedisConfig::new(redis.url()));
//! ```

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The program started by [`RedisServer`].
pub const REDIS_SERVER: &str = "redis-server";
/// How long a starting server may take to answer `PING`.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a test server could not be started.
#[derive(Debug, thiserror::Error)]
pub enum TestkitError {
    #[error(
        "`{REDIS_SERVER}` was not found on PATH: install the `redis-server` package (apt-get install redis-server)"
    )]
    MissingRedisServer,
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("redis-server on port {port} did not start: {reason}\n--- its log ---\n{log}")]
    NotReady {
        port: u16,
        reason: String,
        log: String,
    },
}

/// A `redis-server` child process owned by the caller; killed on drop.
#[derive(Debug)]
pub struct RedisServer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl RedisServer {
    /// Starts a throwaway server: no persistence, loopback only.
    pub fn start() -> Result<RedisServer, TestkitError> {
        RedisServer::start_with(&[])
    }

    /// Starts a server with extra `redis-server` arguments, which override the defaults
    /// (e.g. `["--appendonly", "yes"]`, or `["--cluster-enabled", "yes"]` for a cluster node).
    /// Retries on a fresh port if another process took the chosen one first.
    pub fn start_with(args: &[&str]) -> Result<RedisServer, TestkitError> {
        let mut last = None;
        for _ in 0..5 {
            let dir = tempfile::Builder::new()
                .prefix("wiredraw-redis-")
                .tempdir()
                .map_err(|source| TestkitError::Io {
                    what: "creating a temporary directory".into(),
                    source,
                })?;
            let port = free_port()?;
            let child = spawn(port, dir.path(), args)?;
            let mut server = RedisServer { child, port, dir };
            match server.wait_ready() {
                Ok(()) => return Ok(server),
                Err(e @ TestkitError::NotReady { .. })
                    if server.log().contains("Address already in use") =>
                {
                    last = Some(e)
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.expect("at least one attempt"))
    }

    /// `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The loopback port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its working directory (data files, `redis.log`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("redis.log")).unwrap_or_default()
    }

    fn wait_ready(&mut self) -> Result<(), TestkitError> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(self.not_ready(format!("it exited with {status}")));
            }
            if ping(self.port) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(self.not_ready(format!("no PONG within {STARTUP_TIMEOUT:?}")));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn not_ready(&self, reason: String) -> TestkitError {
        TestkitError::NotReady {
            port: self.port,
            reason,
            log: self.log(),
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // Already exited is fine; the directory goes with `dir`.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(port: u16, dir: &Path, extra: &[&str]) -> Result<Child, TestkitError> {
    let port_text = port.to_string();
    let log = dir.join("redis.log");
    let mut command = Command::new(REDIS_SERVER);
    command
        .args([
            "--port",
            &port_text,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .args(["--daemonize", "no", "--protected-mode", "yes"])
        .arg("--dir")
        .arg(dir)
        .arg("--logfile")
        .arg(&log)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command.spawn().map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => TestkitError::MissingRedisServer,
        _ => TestkitError::Io {
            what: format!("starting {REDIS_SERVER}"),
            source,
        },
    })
}

/// A port the OS just handed out on loopback; the listener is closed before returning.
fn free_port() -> Result<u16, TestkitError> {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|source| TestkitError::Io {
            what: "finding a free loopback port".into(),
            source,
        })?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|source| TestkitError::Io {
            what: "finding a free loopback port".into(),
            source,
        })
}

fn ping(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut reply = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut reply).is_ok()
        && &reply == b"+PONG\r\n"
}
