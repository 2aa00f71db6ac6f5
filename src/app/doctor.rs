//! `gaussjobs doctor`: checks a setup without changing anything, one line per check: which
//! credential source a sync would use (never its value), that the endpoint resolves and
//! answers one `limit=1` request, the clock against the server's `Date` (signatures more
//! than 15 minutes off are refused), the archive's integrity and schema version, the lock.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::options::{account_options, sync_options, EnvCredentials};
use crate::api::{ApiError, Client, ListJobsRequest};
use crate::cli::SyncArgs;
use crate::exit::AlreadyReported;
use crate::sync::SyncOptions;

/// How far the local clock may be from the server's before AK/SK signatures are refused.
const MAX_SKEW: chrono::Duration = chrono::Duration::minutes(15);

/// One check's result.
struct Line {
    ok: bool,
    text: String,
}

fn ok(text: impl Into<String>) -> Line {
    Line {
        ok: true,
        text: text.into(),
    }
}

fn fail(text: impl Into<String>) -> Line {
    Line {
        ok: false,
        text: text.into(),
    }
}

/// Runs every check, prints a line each on `out`, and fails (exit 1, nothing more printed)
/// when one did.
pub async fn run(
    db: &Path,
    args: &SyncArgs,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let mut lines = Vec::new();
    let accounts: anyhow::Result<Vec<(String, SyncOptions)>> =
        if args.project_id.is_none() && args.config.is_some() {
            account_options(args, now, &EnvCredentials)
        } else {
            sync_options(args, now, &EnvCredentials).map(|o| vec![(String::new(), o)])
        };
    match accounts {
        Err(e) => lines.push(fail(format!("credentials: {}", crate::exit::message(&e)))),
        Ok(accounts) => {
            for (name, options) in &accounts {
                let prefix = if name.is_empty() {
                    String::new()
                } else {
                    format!("{name}: ")
                };
                lines.push(ok(format!(
                    "{prefix}credentials: {} from {}",
                    options.credential.kind(),
                    options.credential_source
                )));
                endpoint_checks(options, &prefix, &mut lines).await;
            }
        }
    }
    archive_checks(db, &mut lines);
    let failed = lines.iter().filter(|l| !l.ok).count();
    for l in &lines {
        let mark = if l.ok { "ok  " } else { "FAIL" };
        writeln!(out, "{mark} {}", crate::redact::redact(&l.text))?;
    }
    if failed > 0 {
        return Err(AlreadyReported(format!("{failed} checks failed")).into());
    }
    Ok(())
}

/// DNS, one request, and the clock against the answer's `Date`.
async fn endpoint_checks(options: &SyncOptions, prefix: &str, lines: &mut Vec<Line>) {
    let endpoint = &options.endpoint;
    let host = endpoint.host_str().unwrap_or_default().to_string();
    let port = endpoint.port_or_known_default().unwrap_or(443);
    match tokio::net::lookup_host((host.as_str(), port)).await {
        Ok(mut addrs) => match addrs.next() {
            Some(addr) => lines.push(ok(format!(
                "{prefix}endpoint: {host} resolves to {}",
                addr.ip()
            ))),
            None => lines.push(fail(format!(
                "{prefix}endpoint: {host} resolves to nothing"
            ))),
        },
        Err(e) => {
            lines.push(fail(format!(
                "{prefix}endpoint: cannot resolve {host}: {e}"
            )));
            return;
        }
    }
    let mut config = crate::sync::client_config(options);
    // One request: doctor reports what it meets instead of waiting it out.
    config.retry.max_retries = 0;
    config.retry.max_connect_retries = 0;
    config.retry.max_malformed_retries = 0;
    let client = match Client::new(config) {
        Ok(c) => Arc::new(c),
        Err(e) => {
            lines.push(fail(format!("{prefix}endpoint: {e}")));
            return;
        }
    };
    let request = ListJobsRequest {
        limit: 1,
        ..ListJobsRequest::default()
    };
    let started = std::time::Instant::now();
    let result = client.list_jobs(&request).await;
    let ms = started.elapsed().as_millis();
    match &result {
        Ok(page) => lines.push(ok(format!(
            "{prefix}API: {} answered in {ms} ms ({} jobs listed)",
            client.endpoint_in_use(),
            page.total_count
        ))),
        Err(e) => {
            let hint = match e {
                ApiError::Http { status: 401, .. } => "; the credentials were refused",
                ApiError::Untrusted { .. } => "; pass --ca-bundle PATH with the CA that signed it",
                _ => "",
            };
            lines.push(fail(format!("{prefix}API: {e}{hint}")));
        }
    }
    let now = Utc::now();
    match client.server_date() {
        Some(server) => {
            let skew = now - server;
            let seconds = skew.num_seconds();
            let text = format!(
                "{prefix}clock: {} s {} the server's",
                seconds.abs(),
                if seconds >= 0 { "ahead of" } else { "behind" }
            );
            if skew.abs() >= MAX_SKEW {
                lines.push(fail(format!(
                    "{text}: AK/SK signatures more than 15 minutes off are refused; set the clock (NTP)"
                )));
            } else {
                lines.push(ok(text));
            }
        }
        None if result.is_ok() => lines.push(ok(format!(
            "{prefix}clock: the server sent no Date header to compare with"
        ))),
        None => {}
    }
}

/// The archive's soundness and schema, and who holds its lock.
fn archive_checks(db: &Path, lines: &mut Vec<Line>) {
    let shown = db.display();
    if !db.exists() {
        lines.push(ok(format!(
            "archive: none yet at {shown}; the first sync creates it"
        )));
        return;
    }
    match crate::store::integrity(db) {
        Ok((version, check)) if check == "ok" => {
            let current = crate::store::SCHEMA_VERSION;
            if version > current {
                lines.push(fail(format!(
                    "archive: {shown} has schema version {version}, newer than this gaussjobs ({current}); upgrade gaussjobs"
                )));
            } else if version < current {
                lines.push(ok(format!(
                    "archive: {shown} is sound, schema version {version} (the next sync migrates it to {current})"
                )));
            } else {
                lines.push(ok(format!(
                    "archive: {shown} is sound, schema version {version}"
                )));
            }
        }
        Ok((_, check)) => lines.push(fail(format!(
            "archive: {shown} failed SQLite's integrity check: {check}"
        ))),
        Err(e) => lines.push(fail(format!("archive: {e}"))),
    }
    match crate::store::lock_holder(db) {
        Ok(None) => lines.push(ok("lock: free; no sync is running")),
        Ok(Some(holder)) => lines.push(ok(format!(
            "lock: held by {holder} (a sync is running; a new one would exit 75)"
        ))),
        Err(e) => lines.push(fail(format!("lock: {e}"))),
    }
}
