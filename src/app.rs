//! Runs each command: turns the parsed flags into the options of the room that does the work,
//! with a usage error (exit 2) for every value that cannot be right.

use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use url::Url;

use crate::api::auth::{Credential, Secret};
use crate::api::model::{JobStatus, Language};
use crate::api::regions;
use crate::cli::{Cli, Command, LanguageArg, SyncArgs};
use crate::exit::{usage, usage_with_hint};
use crate::sync::{Filter, RunControl, SyncOptions};
use crate::time;

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let db = cli.db_path();
    let now = time::now_secs();
    match cli.command {
        Command::Sync(ref args) => {
            let options = sync_options(args, now, &EnvCredentials)?;
            let control = RunControl {
                wait_for_lock: args.wait,
                ..RunControl::default()
            };
            let report = crate::sync::run(&db, &options, now, control).await?;
            if !cli.quiet {
                eprintln!("{}", report.summary());
            }
            Ok(())
        }
        Command::Query(ref args) => {
            let stdout = std::io::stdout();
            let stderr = std::io::stderr();
            crate::query::run(&db, args, now, &mut stdout.lock(), &mut stderr.lock())
        }
        Command::Status(ref args) => {
            let stdout = std::io::stdout();
            crate::status::run(&db, args.format, now, &mut stdout.lock())
        }
        Command::Simulate(ref args) => crate::simulate::run_cli(args).await,
        Command::Demo(ref args) => {
            let stdout = std::io::stdout();
            crate::demo::run(&db, args, &mut stdout.lock()).await
        }
    }
}

/// Where credentials come from; a trait so tests need not touch the process environment.
pub trait CredentialSource {
    fn env(&self, name: &str) -> Option<String>;
    fn read_file(&self, path: &Path) -> std::io::Result<String> {
        std::fs::read_to_string(path)
    }
}

/// The real environment.
pub struct EnvCredentials;

impl CredentialSource for EnvCredentials {
    fn env(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// Builds the sync's options from its flags.
pub fn sync_options(
    args: &SyncArgs,
    now: DateTime<Utc>,
    source: &dyn CredentialSource,
) -> anyhow::Result<SyncOptions> {
    let endpoint = endpoint(args)?;
    let project_id = args.project_id.trim().to_string();
    if project_id.len() != 32 || !project_id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(usage_with_hint(
            format!("--project-id {project_id:?} is not a project ID"),
            "a project ID is 32 letters and digits; the console shows it under My Credentials > Projects",
        ));
    }
    let credential = credential(args, source)?;
    let user_time = |flag: &str, value: &Option<String>| -> anyhow::Result<Option<DateTime<Utc>>> {
        value
            .as_deref()
            .map(|v| time::parse_user_time(v, now).map_err(|e| usage(format!("{flag}: {e}"))))
            .transpose()
    };
    let since = user_time("--since", &args.since)?;
    let until = user_time("--until", &args.until)?;
    if let (Some(s), Some(u)) = (since, until) {
        if s >= u {
            return Err(usage(format!(
                "--since ({}) must be before --until ({})",
                time::to_store(s),
                time::to_store(u)
            )));
        }
    }
    if let Some(u) = until {
        if u > now + Duration::days(1) {
            return Err(usage("--until is in the future"));
        }
    }
    let window = time::parse_duration(&args.window).map_err(|e| usage(format!("--window: {e}")))?;
    if window < Duration::minutes(1) {
        return Err(usage("--window must be at least 1m"));
    }
    let lookback =
        time::parse_duration(&args.lookback).map_err(|e| usage(format!("--lookback: {e}")))?;
    if !(args.max_rps > 0.0 && args.max_rps.is_finite()) {
        return Err(usage("--max-rps must be a positive number"));
    }
    let status = args
        .status
        .as_deref()
        .map(|s| {
            JobStatus::parse(s)
                .map(|s| s.as_str().to_string())
                .ok_or_else(|| {
                    usage(format!(
                        "--status {s:?} is not a job status; use one of {}",
                        JobStatus::names()
                    ))
                })
        })
        .transpose()?;
    let mut options = SyncOptions::new(endpoint, project_id, credential);
    options.since = since;
    options.until = until;
    options.window = window;
    options.lookback = lookback;
    options.page_size = args.page_size;
    options.concurrency = args.concurrency as usize;
    options.max_rps = args.max_rps;
    options.filter = Filter {
        status,
        job_name: args.job_name.clone(),
        instance_id: args.instance_id.clone(),
    };
    options.language = match args.language {
        LanguageArg::EnUs => Language::EnUs,
        LanguageArg::ZhCn => Language::ZhCn,
    };
    options.timeout = std::time::Duration::from_secs(args.timeout.max(1));
    Ok(options)
}

fn endpoint(args: &SyncArgs) -> anyhow::Result<Url> {
    let text = match (&args.endpoint, &args.region) {
        (Some(endpoint), _) => endpoint.clone(),
        (None, Some(region)) => regions::endpoint(region).ok_or_else(|| {
            usage_with_hint(
                format!("unknown region {region:?}"),
                format!(
                    "known regions: {}; or pass --endpoint URL",
                    regions::known().join(", ")
                ),
            )
        })?,
        (None, None) => return Err(usage("pass --region or --endpoint")),
    };
    let url = Url::parse(&text).map_err(|e| {
        usage_with_hint(
            format!("--endpoint {text:?} is not a URL: {e}"),
            "write it like https://gaussdb.cn-north-4.myhuaweicloud.com",
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(usage(format!(
            "--endpoint {text:?} must be an http or https URL with a host"
        )));
    }
    Ok(url)
}

/// The first credential found: `--token-file`, then `GAUSSJOBS_TOKEN`.
fn credential(args: &SyncArgs, source: &dyn CredentialSource) -> anyhow::Result<Credential> {
    if let Some(path) = &args.token_file {
        let text = source
            .read_file(path)
            .with_context(|| format!("cannot read --token-file {}", path.display()))
            .map_err(|e| usage(format!("{e:#}")))?;
        let token = text.trim();
        if token.is_empty() {
            return Err(usage(format!("--token-file {} is empty", path.display())));
        }
        return Ok(Credential::Token(Secret::new(token)));
    }
    if let Some(token) = source.env("GAUSSJOBS_TOKEN") {
        let token = token.trim();
        if !token.is_empty() {
            return Ok(Credential::Token(Secret::new(token)));
        }
    }
    Err(usage_with_hint(
        "no credentials found (tried --token-file and GAUSSJOBS_TOKEN)",
        "put an IAM token in GAUSSJOBS_TOKEN, or in a file readable only by you and pass --token-file",
    ))
}
