//! The wiredraw server.
//!
//! ```text
//! cargo run --release --example server -- --config wiredraw.toml
//! cargo run --release --example server -- hash-password < password.txt
//! cargo run --release --example server -- new-token --name sensor-1
//! ```
//!
//! Logs go to stderr; set `RUST_LOG` (e.g. `RUST_LOG=wiredraw_net=debug`) to change how much.

mod support;

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::io::Read;
use std::path::PathBuf;
use wiredraw_net::server::{App, Config, auth, open_store, shutdown_signal};
use wiredraw_net::store::StoreError;

#[derive(Parser)]
#[command(about = "wiredraw server: collector ingest, UI login and graph queries")]
struct Cli {
    /// The TOML config file (see wiredraw.example.toml).
    #[arg(long, default_value = "wiredraw.toml")]
    config: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Read a password on stdin and print its argon2id PHC string (last line) for [[users]].
    HashPassword,
    /// Print a fresh random collector token once, with the [[collectors]] lines to paste.
    NewToken {
        /// The collector's name in the config.
        #[arg(long)]
        name: String,
    },
}

/// mimalloc keeps freed pages for reuse where glibc malloc returns them to the kernel and
/// faults them in again on the next request (docs/PERFORMANCE.md). It also serves the C
/// libraries' malloc (the `override` feature), Mesa's included.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::HashPassword) => hash_password(),
        Some(Command::NewToken { name }) => {
            new_token(&name);
            Ok(())
        }
        None => run(&cli.config),
    }
}

fn hash_password() -> anyhow::Result<()> {
    eprintln!("password (one line on stdin):");
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("reading the password from stdin")?;
    let password = input.lines().next().unwrap_or("");
    anyhow::ensure!(!password.is_empty(), "empty password");
    let phc = auth::hash_password(password).map_err(anyhow::Error::msg)?;
    println!("{phc}");
    Ok(())
}

fn new_token(name: &str) {
    let token = auth::new_token();
    let digest = auth::token_sha256_hex(&token);
    println!(
        "# Give this token to the collector (WIREDRAW_TOKEN or --token-file); it is shown only once:"
    );
    println!("# {token}");
    println!("# Paste into the server config:");
    println!("[[collectors]]");
    println!("name = {name:?}");
    println!("token_sha256 = \"{digest}\"");
}

fn run(config_path: &std::path::Path) -> anyhow::Result<()> {
    support::init_logging("info");
    let config = Config::load(config_path)?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(async move {
            let store = open_store(&config)?;
            match store.health().await {
                Err(error @ StoreError::Config(_)) => return Err(error.into()),
                Err(error) => tracing::warn!(
                    %error,
                    "the store does not answer yet; requests get 503 until it does"
                ),
                Ok(()) => {}
            }
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("binding {}", config.listen))?;
            let app = App::new(config, store)?;
            app.serve(listener, shutdown_signal()).await?;
            tracing::info!("stopped");
            Ok(())
        })
}
