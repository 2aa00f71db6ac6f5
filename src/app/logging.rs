//! Logging: `tracing` to stderr, quiet by default so cron mails only what matters; text for
//! people, JSON lines for log shippers.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use super::progress::LogWriter;
use crate::cli::LogFormat;

/// Sets the log level from `-v`/`-q`; `RUST_LOG` overrides both. Lines go through
/// [`LogWriter`], which prints them above a progress bar when one is drawn.
pub fn init(verbose: u8, quiet: bool, format: LogFormat) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "gaussjobs=info,warn",
        (false, _) => "gaussjobs=debug,info",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| LogWriter)
        // Colour codes only for a terminal: cron mails and journald show them as garbage.
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        // One JSON object a line: timestamp, level, fields (message), spans.
        LogFormat::Json => builder.json().try_init(),
    };
}
