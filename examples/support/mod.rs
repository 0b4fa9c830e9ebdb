//! Set-up that every program in `examples/` does the same way.

use std::io::IsTerminal;

/// Logs to stderr, filtered by `RUST_LOG` or else by `default_filter` (`"info"`,
/// `"warn,wiredraw=info"`).
///
/// Colour only on a terminal, and not when `NO_COLOR` is set: a server run as a service writes
/// its log to a file or the journal, where colour codes are noise around every field.
pub fn init_logging(default_filter: &str) {
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| default_filter.into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .init();
}
