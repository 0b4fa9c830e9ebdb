//! The one-command demo, in-process: a server with throwaway credentials on a free loopback
//! port, synthetic Zeek logs (or a folder of real ones), and a collector replaying them.

use crate::net::client::ApiClient;
use crate::net::collector::{ReplayConfig, ReplaySummary, Replayer, Speed};
use crate::net::server::config::{CollectorEntry, UserEntry};
use crate::net::server::{App, Config, StoreSpec, auth};
use std::path::PathBuf;
use std::time::Duration;
use wiredraw_core::synth::{self, OutputFormat, SynthConfig};

/// The demo's user name.
pub const DEMO_USER: &str = "demo";

/// What the demo runs on.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// Real Zeek logs to replay instead of synthetic ones.
    pub logs: Option<PathBuf>,
    /// A `redis://` URL to store into instead of memory.
    pub redis: Option<String>,
    /// Synthetic workstations.
    pub hosts: u32,
    /// Synthetic hours.
    pub hours: f64,
    pub seed: u64,
    /// Replay speed (log seconds per second, or as fast as possible).
    pub speed: Speed,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            logs: None,
            redis: None,
            hosts: 40,
            hours: 2.0,
            seed: 1,
            speed: Speed::Factor(60.0),
        }
    }
}

/// Why the demo could not start.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("generating synthetic logs: {0}")]
    Synth(#[from] synth::SynthError),
    #[error("starting the server: {0}")]
    Server(String),
    #[error("replaying logs: {0}")]
    Replay(String),
    #[error("{0} is not a folder of Zeek logs")]
    NoLogs(PathBuf),
}

/// A running demo: the server and the replay run on its own runtime until it is dropped.
pub struct Demo {
    pub url: String,
    pub user: String,
    /// Throwaway, made up for this run.
    pub password: String,
    runtime: tokio::runtime::Runtime,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    replay: Option<tokio::task::JoinHandle<Result<ReplaySummary, String>>>,
    /// Holds the synthetic logs until the demo ends.
    _logs_dir: Option<tempfile::TempDir>,
}

impl Demo {
    /// Starts the server, writes or finds the logs, and starts replaying them.
    pub fn start(config: &DemoConfig) -> Result<Demo, DemoError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("wiredraw-demo")
            .enable_all()
            .build()?;
        let (logs_dir, logs) = match &config.logs {
            Some(dir) if dir.is_dir() => (None, dir.clone()),
            Some(dir) => return Err(DemoError::NoLogs(dir.clone())),
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("wiredraw-demo-")
                    .tempdir()?;
                let synth_config = SynthConfig {
                    hosts: config.hosts,
                    hours: config.hours,
                    seed: config.seed,
                    format: OutputFormat::Tsv,
                    ..SynthConfig::default()
                };
                let summary = synth::generate(&synth_config, dir.path())?;
                tracing::info!(records = summary.total(), dir = %dir.path().display(), "synthetic logs written");
                let path = dir.path().to_path_buf();
                (Some(dir), path)
            }
        };
        let password = auth::new_token();
        let token = auth::new_token();
        let server_config = Config {
            listen: "127.0.0.1:0".parse().expect("a valid loopback address"),
            store: match &config.redis {
                Some(url) => StoreSpec::Redis(url.clone()),
                None => StoreSpec::Memory,
            },
            retention_secs: 0,
            users: vec![UserEntry {
                name: DEMO_USER.into(),
                password_hash: auth::hash_password(&password).map_err(DemoError::Server)?,
            }],
            collectors: vec![CollectorEntry {
                name: "demo-collector".into(),
                token_sha256: auth::token_sha256(&token),
            }],
            ..Config::default()
        };
        let store_spec = config.redis.as_deref().unwrap_or("memory");
        let store = crate::net::store::open(store_spec, server_config.bucket_secs)
            .map_err(|e| DemoError::Server(e.to_string()))?;
        let listener = runtime.block_on(tokio::net::TcpListener::bind(server_config.listen))?;
        let url = format!("http://{}", listener.local_addr()?);
        let app = App::new(server_config, store).map_err(|e| DemoError::Server(e.to_string()))?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        runtime.spawn(async move {
            if let Err(error) = app
                .serve(listener, async move {
                    let _ = stopped.await;
                })
                .await
            {
                tracing::error!(%error, "demo server stopped");
            }
        });
        let mut replay_config = ReplayConfig::new(&url, token, logs, config.speed);
        replay_config.gzip = false;
        let replayer =
            Replayer::new(replay_config).map_err(|e| DemoError::Replay(e.to_string()))?;
        let replay = runtime.spawn(async move {
            replayer
                .run(std::future::pending())
                .await
                .map_err(|e| e.to_string())
        });
        Ok(Demo {
            url,
            user: DEMO_USER.into(),
            password,
            runtime,
            stop: Some(stop),
            replay: Some(replay),
            _logs_dir: logs_dir,
        })
    }

    /// The runtime the demo runs on, to drive clients against it.
    pub fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.runtime
    }

    /// A client logged in as the demo user.
    pub fn client(&self) -> Result<ApiClient, DemoError> {
        self.runtime.block_on(async {
            let mut client =
                ApiClient::new(&self.url).map_err(|e| DemoError::Server(e.to_string()))?;
            client
                .login(&self.user, &self.password)
                .await
                .map_err(|e| DemoError::Server(e.to_string()))?;
            Ok(client)
        })
    }

    /// Waits for the replay to finish (use [`Speed::Max`] to make that quick).
    pub fn wait_replayed(&mut self, timeout: Duration) -> Result<ReplaySummary, DemoError> {
        let Some(replay) = self.replay.take() else {
            return Err(DemoError::Replay("already waited for".into()));
        };
        self.runtime.block_on(async {
            match tokio::time::timeout(timeout, replay).await {
                Ok(Ok(Ok(summary))) => Ok(summary),
                Ok(Ok(Err(error))) => Err(DemoError::Replay(error)),
                Ok(Err(join)) => Err(DemoError::Replay(join.to_string())),
                Err(_) => Err(DemoError::Replay(format!("not finished after {timeout:?}"))),
            }
        })
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        if let Some(replay) = self.replay.take() {
            replay.abort();
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
