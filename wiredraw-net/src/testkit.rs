//! Helpers for tests and benchmarks that need real servers on loopback.
//!
//! [`RedisServer::start`] runs a private `redis-server` on a free loopback port in a temporary
//! directory and stops it when dropped. Tests use it instead of any mock:
//!
//! ```no_run
//! let redis = wiredraw_net::testkit::RedisServer::start().expect("redis-server");
//! let store = wiredraw_net::store::RedisStore::open(wiredraw_net::store::RedisConfig::new(redis.url()));
//! ```
//!
//! [`RedisCluster::start`] does the same for a three-master Redis Cluster:
//!
//! ```no_run
//! let cluster = wiredraw_net::testkit::RedisCluster::start().expect("redis cluster");
//! let store = wiredraw_net::store::open(&cluster.url(), 10).expect("cluster store");
//! ```

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The program started by [`RedisServer`].
pub const REDIS_SERVER: &str = "redis-server";
/// The program [`RedisCluster`] joins the nodes with.
pub const REDIS_CLI: &str = "redis-cli";
/// Masters of a [`RedisCluster`].
pub const CLUSTER_MASTERS: usize = 3;
/// How long a new cluster may take to agree on its slots.
pub const CLUSTER_TIMEOUT: Duration = Duration::from_secs(30);
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
    #[error("`{REDIS_CLI}` was not found on PATH: install the `redis-tools` package")]
    MissingRedisCli,
    #[error("the redis cluster on ports {ports:?} did not form: {reason}")]
    ClusterNotReady { ports: Vec<u16>, reason: String },
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

    /// Its process id (benchmarks read its CPU time from `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
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

/// A three-master Redis Cluster of child processes on loopback (no replicas); every node is
/// killed on drop.
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// Starts [`CLUSTER_MASTERS`] nodes with `--cluster-enabled yes`, joins them with
    /// `redis-cli --cluster create … --cluster-replicas 0 --cluster-yes`, and waits until every
    /// node reports `cluster_state:ok` with all 16384 slots served.
    pub fn start() -> Result<RedisCluster, TestkitError> {
        let nodes = (0..CLUSTER_MASTERS)
            .map(|_| start_cluster_node())
            .collect::<Result<Vec<_>, _>>()?;
        let cluster = RedisCluster { nodes };
        let addrs: Vec<String> = cluster
            .ports()
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect();
        let output = Command::new(REDIS_CLI)
            .arg("--cluster")
            .arg("create")
            .args(&addrs)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .map_err(|source| match source.kind() {
                std::io::ErrorKind::NotFound => TestkitError::MissingRedisCli,
                _ => TestkitError::Io {
                    what: format!("running {REDIS_CLI} --cluster create"),
                    source,
                },
            })?;
        if !output.status.success() {
            return Err(cluster.not_ready(format!(
                "{REDIS_CLI} --cluster create exited with {}: {}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        cluster.wait_ok()?;
        Ok(cluster)
    }

    /// `redis+cluster://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3`, what [`crate::store::open`]
    /// takes.
    pub fn url(&self) -> String {
        let hosts: Vec<String> = self
            .ports()
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect();
        format!("{}{}", crate::store::CLUSTER_SCHEME, hosts.join(","))
    }

    /// The nodes' client ports.
    pub fn ports(&self) -> Vec<u16> {
        self.nodes.iter().map(RedisServer::port).collect()
    }

    /// The nodes themselves (their logs and directories).
    pub fn nodes(&self) -> &[RedisServer] {
        &self.nodes
    }

    fn wait_ok(&self) -> Result<(), TestkitError> {
        let deadline = Instant::now() + CLUSTER_TIMEOUT;
        let mut last = String::new();
        loop {
            let mut all_ok = true;
            for port in self.ports() {
                let info = redis_cli(port, &["cluster", "info"])?;
                if !(info.contains("cluster_state:ok") && info.contains("cluster_slots_ok:16384")) {
                    all_ok = false;
                    last = format!("node {port}: {}", info.trim());
                }
            }
            if all_ok {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(self.not_ready(format!(
                    "not ok within {CLUSTER_TIMEOUT:?}; last seen {last}"
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn not_ready(&self, reason: String) -> TestkitError {
        TestkitError::ClusterNotReady {
            ports: self.ports(),
            reason,
        }
    }
}

/// One cluster-enabled node. Its cluster bus gets its own free port (`--cluster-port`), since
/// the default, port + 10000, may be taken or out of range; taken ports are retried.
fn start_cluster_node() -> Result<RedisServer, TestkitError> {
    let mut last = None;
    for _ in 0..5 {
        let bus = free_port()?.to_string();
        let args = [
            "--cluster-enabled",
            "yes",
            "--cluster-port",
            &bus,
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            "5000",
        ];
        match RedisServer::start_with(&args) {
            Err(e @ TestkitError::NotReady { .. }) => last = Some(e),
            result => return result,
        }
    }
    Err(last.expect("at least one attempt"))
}

/// What `redis-cli -p PORT ARGS…` prints.
fn redis_cli(port: u16, args: &[&str]) -> Result<String, TestkitError> {
    let output = Command::new(REDIS_CLI)
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => TestkitError::MissingRedisCli,
            _ => TestkitError::Io {
                what: format!("running {REDIS_CLI}"),
                source,
            },
        })?;
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
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
