//! Exit codes and the one place that turns an error into `error: ...` plus a hint. Every
//! text given out here has the run's secrets cut out: an error can quote a server, and a
//! server can echo a credential back.

use std::io::Write;

use crate::api::ApiError;
use crate::redact::redact;
use crate::store::StoreError;
use crate::terminal::printable;

/// Everything went as asked.
pub const OK: u8 = 0;
/// The work failed; whatever was fetched before the failure is kept.
pub const FAILED: u8 = 1;
/// The command line or an input was wrong.
pub const USAGE: u8 = 2;
/// Another sync holds this archive (EX_TEMPFAIL: cron simply retries next time).
pub const LOCKED: u8 = 75;
/// Stopped by SIGINT (128 + 2, as shells report it); what was fetched is kept.
pub const INTERRUPTED: u8 = 130;
/// Stopped by SIGTERM (128 + 15); what was fetched is kept.
pub const TERMINATED: u8 = 143;

/// A run a signal stopped: it exits `code` (130 or 143) with its one line.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Signalled {
    pub code: u8,
    pub message: String,
}

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

/// A failure whose lines the command already printed (`status --check`, `doctor`): exit 1
/// with nothing more said.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct AlreadyReported(pub String);

/// The exit code for an error: the first cause that decides wins.
pub fn code_for(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if cause.downcast_ref::<UsageError>().is_some() {
            return USAGE;
        }
        if let Some(signalled) = cause.downcast_ref::<Signalled>() {
            return signalled.code;
        }
        if let Some(store) = cause.downcast_ref::<StoreError>() {
            return match store {
                StoreError::Locked { .. } => LOCKED,
                StoreError::NotSqlite { .. } | StoreError::NotAnArchive { .. } => USAGE,
                StoreError::NotAFile { .. } | StoreError::Damaged { .. } => USAGE,
                StoreError::Missing { .. } => USAGE,
                _ => FAILED,
            };
        }
    }
    FAILED
}

/// Whether the error is only stdout's reader going away.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    let broken = |io: &std::io::Error| io.kind() == std::io::ErrorKind::BrokenPipe;
    err.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(broken)
            // The csv crate keeps its io::Error inside its own kind, not as a source.
            || cause
                .downcast_ref::<csv::Error>()
                .is_some_and(|e| matches!(e.kind(), csv::ErrorKind::Io(io) if broken(io)))
            || cause.downcast_ref::<serde_json::Error>().is_some_and(|e| {
                e.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe)
            })
    })
}

/// Prints `error: <message>: <cause>...` and any hint found in the chain, with control
/// characters a server may have put in its text made visible.
pub fn report(err: &anyhow::Error, stderr: &mut dyn Write) {
    if err.downcast_ref::<AlreadyReported>().is_some() {
        return;
    }
    let _ = writeln!(stderr, "error: {}", printable(&message(err)));
    if let Some(hint) = hint(err) {
        let _ = writeln!(stderr, "hint: {hint}");
    }
}

/// The final error as one JSON line shaped like the log lines of `--log-format json`
/// (`timestamp`, `level`, `fields.message`, plus `fields.hint`), so a log shipper reading
/// stderr gets it whole. JSON escapes control characters itself.
pub fn report_json(err: &anyhow::Error, stderr: &mut dyn Write) {
    let mut fields = serde_json::json!({ "message": message(err) });
    if let Some(hint) = hint(err) {
        fields["hint"] = serde_json::Value::String(hint);
    }
    if let Some(code) = api_code(err) {
        fields["code"] = serde_json::Value::String(code);
    }
    let line = serde_json::json!({
        "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "level": "ERROR",
        "fields": fields,
    });
    let _ = writeln!(stderr, "{line}");
}

/// The first hint found in the error's chain, secrets cut out.
fn hint(err: &anyhow::Error) -> Option<String> {
    err.chain().find_map(|cause| {
        cause
            .downcast_ref::<UsageError>()
            .and_then(|u| u.hint.clone())
            .or_else(|| cause.downcast_ref::<Hinted>().map(|h| h.hint.clone()))
            .or_else(|| cause.downcast_ref::<StoreError>().and_then(store_hint))
            .or_else(|| cause.downcast_ref::<ApiError>().and_then(api_hint))
            .map(|hint| redact(&hint).into_owned())
    })
}

/// What the user can do about a failed call, in the flags and variables they set.
fn api_hint(err: &ApiError) -> Option<String> {
    match err {
        ApiError::Http { status: 401, .. } => Some(
            "the credentials were refused: check the token (GAUSSJOBS_TOKEN or --token-file; a token lives 24 h), or HUAWEICLOUD_SDK_AK / HUAWEICLOUD_SDK_SK and the clock (signatures older than 15 minutes are refused)"
                .into(),
        ),
        ApiError::Iam { .. } => Some(
            "check the IAM user, domain and password (GAUSSJOBS_IAM_PASSWORD or --iam-password-file) and --iam-endpoint or --region"
                .into(),
        ),
        ApiError::Http { status: 403, .. } => Some(
            "the credentials are not allowed for this project: check --project-id and the token's scope"
                .into(),
        ),
        ApiError::Http { status: 404, .. } => {
            Some("check --endpoint or --region and --project-id".into())
        }
        ApiError::Http { status: 429, .. } => {
            Some("the API is rate limited: lower --max-rps or --concurrency".into())
        }
        ApiError::Redirected { .. } => Some(
            "check --endpoint or --region: the server there sends requests elsewhere; if the address it names is the service's own, pass that as --endpoint"
                .into(),
        ),
        ApiError::TooLarge { .. } => Some(
            "the server sent far more than any page of jobs: check --endpoint and any proxy in between; the next sync fetches this listing again"
                .into(),
        ),
        ApiError::Untrusted { .. } => Some(
            "if a proxy or your organisation re-signs TLS traffic, pass its CA certificate as --ca-bundle PATH (or GAUSSJOBS_CA_BUNDLE, or ca_bundle in the config), or set SSL_CERT_FILE; verification is never turned off"
                .into(),
        ),
        ApiError::Unreachable { .. } | ApiError::Timeout { .. } => Some(
            "check --endpoint or --region, the network and any proxy (HTTPS_PROXY, NO_PROXY, --proxy); nothing archived was lost"
                .into(),
        ),
        _ => None,
    }
}

/// What the user can do about an archive that cannot be used, in the flags they type.
fn store_hint(err: &StoreError) -> Option<String> {
    match err {
        StoreError::NotSqlite { .. } | StoreError::NotAnArchive { .. } => {
            Some("pass --db with a new file name or an existing gaussjobs archive".into())
        }
        StoreError::TooNew { found, .. } => Some(format!(
            "upgrade gaussjobs to a version that knows schema {found}, then sync or query this archive with it"
        )),
        StoreError::NotAFile { .. } => {
            Some("pass --db with the path of an archive file, or of a new one".into())
        }
        StoreError::Damaged { .. } => Some(
            "pass --db with a new file name, or restore the archive from a backup".into(),
        ),
        StoreError::TooOld { .. } => Some(
            "run `gaussjobs sync` once: it brings the archive up to date, then queries work".into(),
        ),
        StoreError::Missing { .. } => {
            Some("run `gaussjobs sync` first, or pass --db with the archive's path".into())
        }
        StoreError::Locked { .. } => Some(
            "this is normal when cron runs overlap; the next run continues where it stopped".into(),
        ),
        _ => None,
    }
}

/// The error's message with its causes, as `report` prints it after `error: `, secrets cut
/// out.
pub fn message(err: &anyhow::Error) -> String {
    let mut message = err.to_string();
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
    }
    redact(&message).into_owned()
}

/// The API's error code (`APIGW.0301`, `DBS.280001`, ...) of the first API error in the
/// chain, when the API sent one.
pub fn api_code(err: &anyhow::Error) -> Option<String> {
    err.chain()
        .filter_map(|cause| cause.downcast_ref::<ApiError>())
        .find_map(|api| api.code().map(|code| redact(code).into_owned()))
}

/// The request id of the first API error in the chain that has one.
pub fn api_request_id(err: &anyhow::Error) -> Option<String> {
    err.chain()
        .filter_map(|cause| cause.downcast_ref::<ApiError>())
        .find_map(|api| api.request_id().map(|id| redact(id).into_owned()))
}

/// The outcome's name in `sync --json` for an exit code.
pub fn outcome_name(code: u8) -> &'static str {
    match code {
        OK => "ok",
        USAGE => "usage",
        LOCKED => "locked",
        INTERRUPTED | TERMINATED => "interrupted",
        _ => "failed",
    }
}

/// The error as `sync --json` gives it: `{"code": API code or null, "message": ...}`.
pub fn to_json(err: &anyhow::Error) -> serde_json::Value {
    serde_json::json!({
        "code": api_code(err),
        "request_id": api_request_id(err),
        "message": message(err),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_servers_control_characters_do_not_reach_the_terminal() {
        let err = anyhow::Error::from(ApiError::Http {
            status: 500,
            code: Some("DBS.280005".into()),
            message: Some("oops\u{1b}[2J\u{1b}]0;owned\u{7}".into()),
            retry_after: None,
            request_id: None,
        });
        let mut out = Vec::new();
        report(&err, &mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text:?}"
        );
        assert!(text.contains(r"oops\x1b[2J\x1b]0;owned\x07"), "{text}");
    }

    #[test]
    fn broken_pipes_are_recognised_through_each_writer() {
        let io = || std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert!(is_broken_pipe(&anyhow::Error::from(io())));
        assert!(is_broken_pipe(&anyhow::Error::from(serde_json::Error::io(
            io()
        ))));
        assert!(is_broken_pipe(&anyhow::Error::from(csv::Error::from(io()))));
        let other = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert!(!is_broken_pipe(&anyhow::Error::from(other)));
    }

    #[test]
    fn codes_follow_the_contract() {
        assert_eq!(code_for(&usage("bad")), USAGE);
        assert_eq!(code_for(&anyhow::anyhow!("boom")), FAILED);
        let locked = StoreError::Locked {
            path: "a.db".into(),
            holder: "pid 1".into(),
        };
        assert_eq!(
            code_for(&anyhow::Error::from(locked).context("sync")),
            LOCKED
        );
    }

    #[test]
    fn json_errors_carry_the_apis_code() {
        let api = ApiError::Http {
            status: 401,
            code: Some("APIGW.0301".into()),
            message: Some("Incorrect IAM authentication information".into()),
            retry_after: None,
            request_id: None,
        };
        let err = anyhow::Error::from(api).context("project p");
        let json = to_json(&err);
        assert_eq!(json["code"], "APIGW.0301");
        assert!(json["message"].as_str().unwrap().starts_with("project p: "));
        assert_eq!(to_json(&usage("bad"))["code"], serde_json::Value::Null);
        assert_eq!(outcome_name(LOCKED), "locked");
        assert_eq!(outcome_name(USAGE), "usage");
        assert_eq!(outcome_name(FAILED), "failed");
        assert_eq!(outcome_name(OK), "ok");
    }

    fn reported(err: anyhow::Error) -> String {
        let mut out = Vec::new();
        report(&err, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn api_and_store_errors_are_reported_with_their_hints() {
        let refused = ApiError::Http {
            status: 429,
            code: None,
            message: None,
            retry_after: None,
            request_id: None,
        };
        assert_eq!(
            reported(anyhow::Error::from(refused).context("project p")),
            "error: project p: the API refused the request: HTTP 429 Too Many Requests\n\
             hint: the API is rate limited: lower --max-rps or --concurrency\n"
        );
        let unreadable = ApiError::Malformed {
            request_id: None,
            detail: "eof".into(),
        };
        assert_eq!(
            reported(unreadable.into()),
            "error: the API's answer could not be read: eof\n"
        );
        let missing = StoreError::Missing {
            path: "a.db".into(),
        };
        assert_eq!(
            reported(missing.into()),
            "error: no archive at a.db\n\
             hint: run `gaussjobs sync` first, or pass --db with the archive's path\n"
        );
    }
}
