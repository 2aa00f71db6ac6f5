//! Logging: `tracing` to stderr, quiet by default so cron mails only what matters.

use tracing_subscriber::EnvFilter;

/// Sets the log level from `-v`/`-q`; `RUST_LOG` overrides both.
pub fn init(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "gaussjobs=info,warn",
        (false, _) => "gaussjobs=debug,info",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
