//! `bench http-ingest --store memory|redis|redis://HOST:PORT [--batch N] [--parallel N] [--gzip] FILE...`
//!
//! End to end, as a collector does it: starts the wiredraw server in this process on a loopback
//! port, then posts every file's lines (plain or .gz Zeek logs) to `/logs/<type>` in batches of
//! `--batch` lines (default 5000), each batch led by the file's header lines, with up to
//! `--parallel` posts in flight (default 4). `--gzip` compresses each body on the way, as a
//! collector on a remote sensor would (the compression is timed too, on the same cores).
//! Reading the files happens before the clock starts; parsing, storing and answering are timed.
//!
//! Prints `{"bench":"http-ingest","store":…,"records":N,"conn_records":C,"secs":S,
//! "records_per_sec":R,"conn_records_per_sec":…,"mb_per_sec":M,…}`.

use super::ingest::{BenchStore, cpu_secs, flag, open_store};
use anyhow::{Context, bail};
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use std::io::Read;
use std::path::Path;
use std::time::Instant;
use wiredraw_net::api::IngestResponse;
use wiredraw_net::http_client::HttpClient;
use wiredraw_net::server::config::CollectorEntry;
use wiredraw_net::server::{App, Config, auth};

/// Options that take a value.
const VALUE_FLAGS: &[&str] = &["--store", "--batch", "--parallel"];

/// One POST: the log type and its body.
pub struct Post {
    pub log_type: String,
    pub body: Bytes,
}

/// The file's log type as a collector names it: `#path`, else the file name's first part.
fn log_type(path: &Path, header: &[u8]) -> String {
    let from_header = header
        .split(|&b| b == b'\n')
        .find_map(|line| line.strip_prefix(b"#path\t"))
        .map(|t| String::from_utf8_lossy(t).trim().to_string());
    from_header.unwrap_or_else(|| {
        path.file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.split('.').next())
            .unwrap_or("unknown")
            .to_string()
    })
}

/// Reads log files into collector-style posts of `batch` lines, each led by its header.
pub fn posts(files: &[&str], batch: usize) -> anyhow::Result<(Vec<Post>, usize)> {
    let mut posts = Vec::new();
    let mut lines_total = 0;
    for file in files {
        let path = Path::new(file);
        let mut text = Vec::new();
        wiredraw_core::zeek::decompressed(
            std::fs::File::open(path).with_context(|| format!("opening {file}"))?,
        )?
        .read_to_end(&mut text)
        .with_context(|| format!("reading {file}"))?;
        let mut header = Vec::new();
        let mut lines: Vec<&[u8]> = Vec::new();
        for line in text.split_inclusive(|&b| b == b'\n') {
            if line.starts_with(b"#") {
                if lines.is_empty() {
                    header.extend_from_slice(line);
                }
            } else if !line.iter().all(u8::is_ascii_whitespace) {
                lines.push(line);
            }
        }
        let log_type = log_type(path, &header);
        lines_total += lines.len();
        for chunk in lines.chunks(batch.max(1)) {
            let mut body =
                Vec::with_capacity(header.len() + chunk.iter().map(|l| l.len()).sum::<usize>());
            body.extend_from_slice(&header);
            chunk.iter().for_each(|line| body.extend_from_slice(line));
            posts.push(Post {
                log_type: log_type.clone(),
                body: Bytes::from(body),
            });
        }
    }
    Ok((posts, lines_total))
}

/// A server running in this process on a loopback port, and the tokens to talk to it.
pub struct LocalServer {
    pub url: String,
    pub collector_token: String,
    pub user: (String, String),
}

/// Starts the server over `bench`'s store, with one collector and one user.
pub async fn start_server(bench: &BenchStore) -> anyhow::Result<LocalServer> {
    let collector_token = auth::new_token();
    let password = auth::new_token();
    let mut config = Config {
        listen: "127.0.0.1:0".parse()?,
        bucket_secs: bench.store.bucket_secs(),
        collectors: vec![CollectorEntry {
            name: "bench".into(),
            token_sha256: auth::token_sha256(&collector_token),
        }],
        users: vec![wiredraw_net::server::config::UserEntry {
            name: "bench".into(),
            password_hash: auth::hash_password(&password).map_err(anyhow::Error::msg)?,
        }],
        ..Config::default()
    };
    config.limits.login_attempts_per_minute = 1000;
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let url = format!("http://{}", listener.local_addr()?);
    let app = App::new(config, bench.store.clone())?;
    tokio::spawn(app.serve(listener, std::future::pending()));
    Ok(LocalServer {
        url,
        collector_token,
        user: ("bench".into(), password),
    })
}

/// Posts every body with up to `parallel` in flight; returns (records accepted per post type).
pub async fn post_all(
    client: &HttpClient,
    posts: &[Post],
    parallel: usize,
    gzip: bool,
) -> anyhow::Result<Vec<(String, u64)>> {
    futures_util::stream::iter(posts.iter().map(|post| async move {
        let answer: IngestResponse = client
            .post_bytes(&format!("/logs/{}", post.log_type), post.body.clone(), gzip)
            .await?;
        if answer.rejected > 0 {
            eprintln!(
                "{}: {} lines rejected, first: {:?}",
                post.log_type,
                answer.rejected,
                answer.errors.first()
            );
        }
        Ok::<_, anyhow::Error>((post.log_type.clone(), answer.accepted))
    }))
    .buffer_unordered(parallel.max(1))
    .try_collect()
    .await
}

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let spec =
        flag(args, "--store").context("--store memory|redis|redis://HOST:PORT is required")?;
    let batch: usize = flag(args, "--batch")
        .map_or(Ok(5000), str::parse)
        .context("--batch")?;
    let parallel: usize = flag(args, "--parallel")
        .map_or(Ok(4), str::parse)
        .context("--parallel")?;
    let gzip = args.iter().any(|a| a == "--gzip");
    let mut files = Vec::new();
    let mut skip = false;
    for arg in args {
        if std::mem::take(&mut skip) {
            continue;
        }
        if VALUE_FLAGS.contains(&arg.as_str()) {
            skip = true;
        } else if !arg.starts_with("--") {
            files.push(arg.as_str());
        }
    }
    if files.is_empty() {
        bail!("no log files given");
    }
    let (posts, lines) = posts(&files, batch)?;
    let bytes: usize = posts.iter().map(|p| p.body.len()).sum();
    eprintln!(
        "{} files, {lines} lines in {} posts, {:.1} MB",
        files.len(),
        posts.len(),
        bytes as f64 / 1e6
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let bench = open_store(spec)?;
    let (secs, cpu, accepted) = runtime.block_on(async {
        bench.store.health().await?;
        let server = start_server(&bench).await?;
        let client = HttpClient::new(&server.url)?.with_token(&server.collector_token)?;
        let cpu_before = cpu_secs();
        let started = Instant::now();
        let accepted = post_all(&client, &posts, parallel, gzip).await?;
        let secs = started.elapsed().as_secs_f64();
        let cpu = cpu_before
            .zip(cpu_secs())
            .map(|(before, after)| after - before);
        Ok::<_, anyhow::Error>((secs, cpu, accepted))
    })?;
    let records: u64 = accepted.iter().map(|(_, n)| n).sum();
    let conn_records: u64 = accepted
        .iter()
        .filter(|(t, _)| t == "conn")
        .map(|(_, n)| n)
        .sum();
    println!(
        "{}",
        serde_json::json!({
            "bench": "http-ingest",
            "store": bench.label,
            "records": records,
            "conn_records": conn_records,
            "rejected": lines as u64 - records,
            "posts": posts.len(),
            "batch": batch,
            "parallel": parallel,
            "gzip": gzip,
            "secs": secs,
            "records_per_sec": records as f64 / secs,
            "conn_records_per_sec": conn_records as f64 / secs,
            "mb_per_sec": bytes as f64 / 1e6 / secs,
            "cpu_secs": cpu,
        })
    );
    Ok(())
}
