//! Exit codes and the one place that turns an error into `error: ...` plus a hint.

use std::io::Write;

use crate::store::StoreError;

/// Everything went as asked.
pub const OK: u8 = 0;
/// The work failed; whatever was fetched before the failure is kept.
pub const FAILED: u8 = 1;
/// The command line or an input was wrong.
pub const USAGE: u8 = 2;
/// Another sync holds this archive (EX_TEMPFAIL: cron simply retries next time).
pub const LOCKED: u8 = 75;

/// A mistake in what the user asked for: exit 2, with a hint on what to do instead.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct UsageError {
    pub message: String,
    pub hint: Option<String>,
}

/// Shorthand for a usage error as an `anyhow::Error`.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError {
        message: message.into(),
        hint: None,
    }
    .into()
}

/// A usage error with a hint.
pub fn usage_with_hint(message: impl Into<String>, hint: impl Into<String>) -> anyhow::Error {
    UsageError {
        message: message.into(),
        hint: Some(hint.into()),
    }
    .into()
}

/// A failure whose hint says what to do next; exit 1.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Hinted {
    pub message: String,
    pub hint: String,
}

/// The exit code for an error: the first cause that decides wins.
pub fn code_for(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if cause.downcast_ref::<UsageError>().is_some() {
            return USAGE;
        }
        if let Some(store) = cause.downcast_ref::<StoreError>() {
            return match store {
                StoreError::Locked { .. } => LOCKED,
                StoreError::NotSqlite { .. } | StoreError::NotAnArchive { .. } => USAGE,
                StoreError::Missing { .. } => USAGE,
                _ => FAILED,
            };
        }
    }
    FAILED
}

/// Prints `error: <message>: <cause>...` and any hint found in the chain.
pub fn report(err: &anyhow::Error, stderr: &mut dyn Write) {
    let mut message = err.to_string();
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
    }
    let _ = writeln!(stderr, "error: {message}");
    for cause in err.chain() {
        let hint = cause
            .downcast_ref::<UsageError>()
            .and_then(|u| u.hint.clone())
            .or_else(|| cause.downcast_ref::<Hinted>().map(|h| h.hint.clone()))
            .or_else(|| {
                cause
                    .downcast_ref::<StoreError>()
                    .and_then(StoreError::hint)
            })
            .or_else(|| {
                cause
                    .downcast_ref::<crate::api::ApiError>()
                    .and_then(crate::api::ApiError::hint)
            });
        if let Some(hint) = hint {
            let _ = writeln!(stderr, "hint: {hint}");
            break;
        }
    }
}
