//! Logging: `tracing` to stderr, quiet by default so cron mails only what matters; text for
//! people, JSON lines for log shippers. Every line has the run's secrets cut out, whatever
//! logged it (a server's error text, a dependency's own logging).

use std::io::Write;

use tracing_subscriber::EnvFilter;

use super::progress::LogWriter;
use crate::cli::LogFormat;

/// Sets the log level from `-v`/`-q`; `RUST_LOG` overrides both. Lines go through
/// [`Redacting`] to [`LogWriter`], which prints them above a progress bar when one is drawn.
pub fn init(verbose: u8, quiet: bool, format: LogFormat, colour: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "gaussjobs=info,warn",
        (false, _) => "gaussjobs=debug,info",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Redacting::default)
        // Colour codes only for a terminal (and not under NO_COLOR, unless --color always):
        // cron mails and journald show them as garbage.
        .with_ansi(colour && format == LogFormat::Text)
        .with_target(false);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        // One JSON object a line: timestamp, level, fields (message), spans.
        LogFormat::Json => builder.json().try_init(),
    };
}

/// One log event on its way to stderr: held until the event is complete, then written with
/// every secret cut out, so a secret split across two writes cannot slip through.
#[derive(Default)]
struct Redacting(Vec<u8>);

impl Write for Redacting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Redacting {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            // Nowhere to report a log line that cannot be written.
            let _ = LogWriter.write_all(&crate::redact::redact_bytes(&self.0));
        }
    }
}
