//! `bench cluster-ingest [--cluster redis+cluster://…] [--batch N] [--parallel N] [--gzip] FILE...`
//!
//! Ingest through one, then two wiredraw server processes sharing one Redis Cluster. Starts a
//! private three-master cluster on loopback (or uses `--cluster`), then for 1 and for 2 servers:
//! starts that many server processes (this program again, `cluster-ingest --serve`, each its
//! own process with its own connection pool), and posts every file's lines as collector
//! batches of `--batch` lines (default 5000) with `--parallel` posts in flight in all (default
//! 8), spread round-robin over the servers. Each round writes under a fresh key prefix. Reading
//! the files happens before the clock starts.
//!
//! Prints `{"bench":"cluster-ingest","records":N,"one_server":{…},"two_servers":{…},
//! "speedup":X}` where each round has `secs`, `records_per_sec`, and the CPU seconds spent by
//! the servers, the Redis nodes and this (posting) process: on a machine with few cores their
//! sum over `secs` shows how busy the cores were.

use super::http_ingest::{Post, posts};
use super::ingest::{cpu_secs, flag, positional};
use anyhow::{Context, bail};
use futures_util::{StreamExt, TryStreamExt};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::Instant;
use wiredraw_net::api::IngestResponse;
use wiredraw_net::http_client::HttpClient;
use wiredraw_net::server::config::CollectorEntry;
use wiredraw_net::server::{App, Config, auth};
use wiredraw_net::store::{RedisConfig, RedisStore, Store};
use wiredraw_net::testkit::RedisCluster;

/// Options that take a value.
const VALUE_FLAGS: &[&str] = &["--cluster", "--batch", "--parallel", "--prefix", "--token"];

pub fn run(args: &[String]) -> anyhow::Result<()> {
    if args.iter().any(|a| a == "--serve") {
        return serve(args);
    }
    let batch: usize = flag(args, "--batch")
        .map_or(Ok(5000), str::parse)
        .context("--batch")?;
    let parallel: usize = flag(args, "--parallel")
        .map_or(Ok(8), str::parse)
        .context("--parallel")?;
    let gzip = args.iter().any(|a| a == "--gzip");
    let files = positional(args, VALUE_FLAGS);
    if files.is_empty() {
        bail!("no log files given");
    }
    let (posts, lines) = posts(&files, batch)?;
    eprintln!(
        "{} files, {lines} lines in {} posts",
        files.len(),
        posts.len()
    );

    let private = match flag(args, "--cluster") {
        Some(_) => None,
        None => Some(RedisCluster::start()?),
    };
    let cluster_url = match (&private, flag(args, "--cluster")) {
        (Some(cluster), _) => cluster.url(),
        (None, Some(url)) => url.to_owned(),
        (None, None) => unreachable!("a private cluster is started when none is given"),
    };
    let redis_pids: Vec<u32> = private
        .iter()
        .flat_map(|c| c.nodes().iter().map(|n| n.pid()))
        .collect();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut rounds = Vec::new();
    for servers in [1, 2] {
        let round = runtime.block_on(ingest_round(
            &cluster_url,
            servers,
            &posts,
            parallel,
            gzip,
            &redis_pids,
        ))?;
        eprintln!("{servers} server(s): {round}");
        rounds.push(round);
    }
    let records = rounds[0]["records"].as_u64().unwrap_or(0);
    let speedup = rounds[1]["records_per_sec"].as_f64().unwrap_or(0.0)
        / rounds[0]["records_per_sec"].as_f64().unwrap_or(1.0);
    println!(
        "{}",
        serde_json::json!({
            "bench": "cluster-ingest",
            "records": records,
            "rejected": lines as u64 - records,
            "posts": posts.len(),
            "batch": batch,
            "parallel": parallel,
            "gzip": gzip,
            "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
            "one_server": rounds[0],
            "two_servers": rounds[1],
            "speedup": speedup,
        })
    );
    Ok(())
}

/// One measured round: `servers` fresh server processes over the cluster under a new prefix.
async fn ingest_round(
    cluster_url: &str,
    servers: usize,
    posts: &[Post],
    parallel: usize,
    gzip: bool,
    redis_pids: &[u32],
) -> anyhow::Result<serde_json::Value> {
    let token = auth::new_token();
    let prefix = format!("wdbench{}s{servers}:", std::process::id());
    let mut children = Vec::new();
    let mut clients = Vec::new();
    for _ in 0..servers {
        let (child, url) = spawn_server(cluster_url, &prefix, &token)?;
        children.push(child);
        clients.push(HttpClient::new(&url)?.with_token(&token)?);
    }
    let server_pids: Vec<u32> = children.iter().map(Child::id).collect();
    let cpu = |pids: &[u32]| pids.iter().filter_map(|p| cpu_secs_of(*p)).sum::<f64>();
    let (servers_before, redis_before, own_before) =
        (cpu(&server_pids), cpu(redis_pids), cpu_secs());
    let started = Instant::now();
    let accepted: Vec<u64> =
        futures_util::stream::iter(posts.iter().enumerate().map(|(i, post)| {
            let client = &clients[i % clients.len()];
            async move {
                let answer: IngestResponse = client
                    .post_bytes(&format!("/logs/{}", post.log_type), post.body.clone(), gzip)
                    .await?;
                Ok::<_, anyhow::Error>(answer.accepted)
            }
        }))
        .buffer_unordered(parallel.max(1))
        .try_collect()
        .await?;
    let secs = started.elapsed().as_secs_f64();
    let round = serde_json::json!({
        "servers": servers,
        "records": accepted.iter().sum::<u64>(),
        "secs": secs,
        "records_per_sec": accepted.iter().sum::<u64>() as f64 / secs,
        "server_cpu_secs": cpu(&server_pids) - servers_before,
        "redis_cpu_secs": cpu(redis_pids) - redis_before,
        "client_cpu_secs": own_before.zip(cpu_secs()).map(|(before, after)| after - before),
    });
    for mut child in children {
        let _ = child.kill();
        let _ = child.wait();
    }
    Ok(round)
}

/// Starts `bench cluster-ingest --serve` as a child process and reads the URL it listens on.
fn spawn_server(cluster_url: &str, prefix: &str, token: &str) -> anyhow::Result<(Child, String)> {
    let mut child = Command::new(std::env::current_exe()?)
        .args(["cluster-ingest", "--serve", "--cluster", cluster_url])
        .args(["--prefix", prefix, "--token", token])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting a server process")?;
    let stdout = child.stdout.take().context("server stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let url = line
        .trim()
        .strip_prefix("listening ")
        .with_context(|| format!("the server process said {line:?}"))?
        .to_owned();
    Ok((child, url))
}

/// The server side: one wiredraw server over the cluster, until its standard input closes
/// (the measuring process ended or killed it).
fn serve(args: &[String]) -> anyhow::Result<()> {
    let cluster_url = flag(args, "--cluster").context("--cluster")?;
    let token = flag(args, "--token").context("--token")?;
    let mut redis = RedisConfig::new(cluster_url);
    redis.prefix = flag(args, "--prefix").context("--prefix")?.to_owned();
    let store = std::sync::Arc::new(RedisStore::open(redis)?);
    let config = Config {
        listen: "127.0.0.1:0".parse()?,
        bucket_secs: store.bucket_secs(),
        collectors: vec![CollectorEntry {
            name: "bench".into(),
            token_sha256: auth::token_sha256(token),
        }],
        ..Config::default()
    };
    std::thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        std::process::exit(0);
    });
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async {
            store.health().await?;
            let listener = tokio::net::TcpListener::bind(config.listen).await?;
            let mut stdout = std::io::stdout();
            writeln!(stdout, "listening http://{}", listener.local_addr()?)?;
            stdout.flush()?;
            App::new(config, store)?
                .serve(listener, std::future::pending())
                .await?;
            Ok(())
        })
}

/// CPU seconds (user + system) a process has used so far, from `/proc/PID/stat`.
fn cpu_secs_of(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split(' ').skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((user + system) / 100.0)
}
