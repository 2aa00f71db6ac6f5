//! Sync options from the command line and the config file: the endpoint, the project, and
//! the credentials (first source found wins), each bad value a usage error (exit 2) saying
//! what to do.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use url::Url;

use super::config::{self, Account};
use super::query_request::statuses;
use super::times::sync_range;
use crate::api::auth::{AkSk, Credential};
use crate::api::iam::{IamLogin, IamSession};
use crate::api::model::Language;
use crate::api::regions;
use crate::api::{Network, Secret};
use crate::cli::{LanguageArg, SyncArgs};
use crate::exit::{usage, usage_with_hint};
use crate::sync::{Filter, SyncOptions};
use crate::time;

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

/// Builds the sync's options from its flags (one project: `--project-id`).
pub fn sync_options(
    args: &SyncArgs,
    now: DateTime<Utc>,
    source: &dyn CredentialSource,
) -> anyhow::Result<SyncOptions> {
    let Some(project_id) = args.project_id.as_deref() else {
        return Err(usage_with_hint(
            "pass --project-id (or HUAWEICLOUD_SDK_PROJECT_ID)",
            "or pass --config with a file listing the accounts to sync",
        ));
    };
    let project_id = checked_project_id(project_id, "--project-id")?;
    let (endpoint, fallbacks) =
        endpoints(args.endpoint.as_deref(), args.region.as_deref(), source)?;
    let network = network(args, None)?;
    let (credential, from) = credential(args, &project_id, &network, source)?;
    let mut options = SyncOptions::new(endpoint, project_id, credential);
    options.credential_source = from;
    options.fallbacks = fallbacks;
    options.network = network;
    apply_common(&mut options, args, now)?;
    Ok(options)
}

/// The options of each account of `--config` (or those named by `--account`), in file order.
pub fn account_options(
    args: &SyncArgs,
    now: DateTime<Utc>,
    source: &dyn CredentialSource,
) -> anyhow::Result<Vec<(String, SyncOptions)>> {
    let path = args
        .config
        .as_deref()
        .ok_or_else(|| usage("pass --config PATH"))?;
    let config = config::load(path)?;
    for wanted in &args.account {
        if !config.accounts.iter().any(|a| &a.name == wanted) {
            return Err(usage_with_hint(
                format!("--account {wanted:?} is not in {}", path.display()),
                format!(
                    "accounts: {}",
                    config
                        .accounts
                        .iter()
                        .map(|a| a.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    let mut out = Vec::new();
    for account in &config.accounts {
        if !args.account.is_empty() && !args.account.contains(&account.name) {
            continue;
        }
        let name = &account.name;
        let in_account = |e: anyhow::Error| {
            let hint = e
                .downcast_ref::<crate::exit::UsageError>()
                .and_then(|u| u.hint.clone());
            let message = format!("account {name:?} in {}: {e}", path.display());
            match hint {
                Some(h) => usage_with_hint(message, h),
                None => usage(message),
            }
        };
        // A KooCLI profile may say the project and region the account leaves out.
        let profile = match &account.hcloud_profile {
            Some(name) => Some(hcloud_profile(account, name, source).map_err(in_account)?),
            None => None,
        };
        let from_profile = |f: fn(&config::HcloudProfile) -> Option<&String>| {
            profile.as_ref().and_then(f).cloned()
        };
        let project_text = match account.project_id.trim() {
            "" => from_profile(|p| p.project_id.as_ref()).unwrap_or_default(),
            given => given.to_string(),
        };
        let project_id = checked_project_id(&project_text, "project_id").map_err(in_account)?;
        let profile_region = from_profile(|p| p.region.as_ref());
        let region = account
            .region
            .as_deref()
            .or(config.region.as_deref())
            .or(profile_region.as_deref());
        let endpoint = match (&account.endpoint, region) {
            (None, None) => args.endpoint.clone(),
            (e, _) => e.clone(),
        };
        let (endpoint, fallbacks) = endpoints(
            endpoint.as_deref(),
            region.or(args.region.as_deref()),
            source,
        )
        .map_err(in_account)?;
        let network = network(args, Some(account)).map_err(in_account)?;
        let named = account_credential(account, &project_id, region, &network, source)
            .map_err(in_account)?;
        let (credential, from) = match named {
            Some(c) => (c, format!("account {name:?} of {}", path.display())),
            // An account naming no credential gets the SDKs' own: their credentials file,
            // then the metadata service of the ECS / CCE node this runs on.
            None => {
                let mut tried = Vec::new();
                sdk_chain(&network, source, &mut tried)
                    .map_err(in_account)?
                    .ok_or_else(|| {
                        in_account(usage_with_hint(
                            format!("no credentials; tried {}", tried.join("; ")),
                            "give the account token_file, ak_env + sk_env, aksk_file, hcloud_profile, or iam_user + iam_password_file",
                        ))
                    })?
            }
        };
        let mut options = SyncOptions::new(endpoint, project_id, credential);
        options.credential_source = from;
        options.fallbacks = fallbacks;
        options.network = network;
        apply_common(&mut options, args, now)?;
        out.push((name.clone(), options));
    }
    Ok(out)
}

fn checked_project_id(project_id: &str, what: &str) -> anyhow::Result<String> {
    let project_id = project_id.trim().to_string();
    if project_id.len() != 32 || !project_id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(usage_with_hint(
            format!("{what} {project_id:?} is not a project ID"),
            "a project ID is 32 letters and digits; the console shows it under My Credentials > Projects",
        ));
    }
    Ok(project_id)
}

/// The longest window: a year. Longer ones only make drift re-paging more expensive.
const MAX_WINDOW: Duration = Duration::days(366);

/// The longest lookback: re-reading more than a year each run is never what was meant.
const MAX_LOOKBACK: Duration = Duration::days(366);

/// Requests per second: at least one a minute and at most what any gateway would take.
const MIN_RPS: f64 = 0.01;
const MAX_RPS: f64 = 10_000.0;

/// A duration flag within `[min, max]`, or a usage error naming the flag and the range.
fn bounded_duration(
    flag: &str,
    text: &str,
    min: Duration,
    max: Duration,
) -> anyhow::Result<Duration> {
    let d = time::parse_duration(text).map_err(|e| usage(format!("{flag}: {e}")))?;
    if d < min || d > max {
        return Err(usage(format!(
            "{flag} {text} is out of range; give from {} to {}",
            time::format_duration(min),
            time::format_duration(max)
        )));
    }
    Ok(d)
}

/// The longest `--max-time`: a week. A run that needs longer should be several runs.
const MAX_MAX_TIME: Duration = Duration::days(7);

/// `--max-time`, the whole run's budget, if given.
pub fn max_time(args: &SyncArgs) -> anyhow::Result<Option<std::time::Duration>> {
    args.max_time
        .as_deref()
        .map(|text| {
            let d = bounded_duration("--max-time", text, Duration::seconds(1), MAX_MAX_TIME)?;
            Ok(d.to_std().expect("a positive duration"))
        })
        .transpose()
}

/// The flags every project of a run shares: what to fetch and how fast.
fn apply_common(
    options: &mut SyncOptions,
    args: &SyncArgs,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let window = bounded_duration("--window", &args.window, Duration::minutes(1), MAX_WINDOW)?;
    let lookback = bounded_duration("--lookback", &args.lookback, Duration::zero(), MAX_LOOKBACK)?;
    let (since, until) = sync_range(args.since.as_deref(), args.until.as_deref(), window, now)?;
    if !(args.max_rps.is_finite() && (MIN_RPS..=MAX_RPS).contains(&args.max_rps)) {
        return Err(usage(format!(
            "--max-rps {} is out of range; give a number of requests per second from {MIN_RPS} to {MAX_RPS}",
            args.max_rps
        )));
    }
    // The API filters on one status; the words for a bad one are those of `query --status`.
    let status = match statuses(args.status.as_deref())?.as_slice() {
        [] => None,
        [one] => Some(one.as_str().to_string()),
        _ => return Err(usage("sync --status takes one status")),
    };
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
    options.timeout = std::time::Duration::from_secs(args.timeout);
    Ok(())
}

/// The service endpoint and those to try after it, as the SDKs resolve them: `--endpoint`;
/// else the region's override `HUAWEICLOUD_SDK_REGION_GAUSSDB_{REGION}` (a comma-separated
/// list, tried in order when one cannot be reached); else the region's from the table.
fn endpoints(
    endpoint: Option<&str>,
    region: Option<&str>,
    source: &dyn CredentialSource,
) -> anyhow::Result<(Url, Vec<Url>)> {
    const EXAMPLE: &str = "https://gaussdb.cn-north-4.myhuaweicloud.com";
    if let Some(endpoint) = endpoint {
        return Ok((http_url(endpoint, "--endpoint", EXAMPLE)?, Vec::new()));
    }
    let Some(region) = region else {
        return Err(usage("pass --region or --endpoint"));
    };
    let variable = regions::override_variable(region);
    if let Some(list) = source.env(&variable).filter(|v| !v.trim().is_empty()) {
        let mut urls = list
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(|u| http_url(u, &variable, EXAMPLE))
            .collect::<anyhow::Result<Vec<Url>>>()?;
        if !urls.is_empty() {
            let first = urls.remove(0);
            return Ok((first, urls));
        }
    }
    let text = regions::endpoint(region).ok_or_else(|| unknown_region(region))?;
    Ok((http_url(&text, "--endpoint", EXAMPLE)?, Vec::new()))
}

fn unknown_region(region: &str) -> anyhow::Error {
    usage_with_hint(
        format!("unknown region {region:?}"),
        format!(
            "known regions: {}; or pass --endpoint URL",
            regions::known().join(", ")
        ),
    )
}

fn http_url(text: &str, flag: &str, example: &str) -> anyhow::Result<Url> {
    // A `user:password@` part is refused before the URL is even read, so neither a message
    // about it nor the archive (which keys runs by endpoint) can ever hold the password.
    if let Some(masked) = without_userinfo(text) {
        return Err(usage_with_hint(
            format!("{flag} {masked:?} holds a user name and password"),
            format!(
                "gaussjobs signs every request with the account's credentials (a token, AK/SK or an IAM login), never with a password in the URL: remove the user:password@ part, e.g. {example}"
            ),
        ));
    }
    let url = Url::parse(text).map_err(|e| {
        usage_with_hint(
            format!("{flag} {text:?} is not a URL: {e}"),
            format!("write it like {example}"),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(usage(format!(
            "{flag} {text:?} must be an http or https URL with a host"
        )));
    }
    Ok(url)
}

/// `Some(text with its password, or a lone user name, shown as ***)` when the URL `text`
/// holds userinfo (`scheme://user:password@host`). Read from the text, not a parsed URL, so
/// a URL the parser refuses is caught too. The values hidden are registered as secrets.
fn without_userinfo(text: &str) -> Option<String> {
    let start = text.find("://").map_or(0, |i| i + 3);
    let rest = &text[start..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let at = authority.rfind('@')?;
    let userinfo = &authority[..at];
    let shown = match userinfo.split_once(':') {
        Some((user, password)) => {
            crate::redact::register(password);
            format!("{user}:***")
        }
        // A lone user name can be a token (`https://TOKEN@host`).
        None => {
            crate::redact::register(userinfo);
            "***".to_string()
        }
    };
    Some(format!("{}{shown}{}", &text[..start], &text[start + at..]))
}

/// The trusted roots and the proxy: the account's `ca_bundle` (else `--ca-bundle` /
/// `GAUSSJOBS_CA_BUNDLE`) and `--proxy`.
fn network(args: &SyncArgs, account: Option<&Account>) -> anyhow::Result<Network> {
    let mut network = Network::default();
    let bundle = account
        .and_then(|a| a.ca_bundle.as_deref().map(|p| (p, "ca_bundle")))
        .or(args.ca_bundle.as_deref().map(|p| (p, "--ca-bundle")));
    if let Some((path, what)) = bundle {
        let bytes = std::fs::read(path).map_err(|e| {
            usage_with_hint(
                format!("cannot read {what} {}: {e}", path.display()),
                "name a PEM file of CA certificates (-----BEGIN CERTIFICATE-----)",
            )
        })?;
        network.extra_roots = crate::api::transport::read_ca_bundle(&bytes).map_err(|e| {
            usage_with_hint(
                format!("{what} {}: {e}", path.display()),
                "name a PEM file of CA certificates (-----BEGIN CERTIFICATE-----)",
            )
        })?;
    }
    if let Some(text) = args.proxy.as_deref() {
        network.proxy = Some(proxy_url(text)?);
    }
    Ok(network)
}

/// `--proxy`: an http or https URL; its password is a secret, registered before any message
/// could quote it.
fn proxy_url(text: &str) -> anyhow::Result<Url> {
    let example = "http://proxy.example.com:3128";
    let url = Url::parse(text).map_err(|e| {
        // The text may hold a password the parser could not find: shown masked, as endpoints.
        let shown = without_userinfo(text).unwrap_or_else(|| text.to_string());
        usage_with_hint(
            format!("--proxy {shown:?} is not a URL: {e}"),
            format!("write it like {example}"),
        )
    })?;
    if let Some(password) = url.password() {
        crate::redact::register(password);
    }
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(usage_with_hint(
            format!(
                "--proxy {:?} must be an http or https URL with a host",
                crate::api::transport::proxy_shown(&url)
            ),
            format!("write it like {example}"),
        ));
    }
    Ok(url)
}

/// The IAM endpoint: the explicit one, else `HUAWEICLOUD_SDK_IAM_ENDPOINT`, else the
/// region's.
fn iam_endpoint(
    explicit: Option<&str>,
    region: Option<&str>,
    source: &dyn CredentialSource,
) -> anyhow::Result<Url> {
    if explicit.is_none() {
        if let Some(url) = env_text(source, "HUAWEICLOUD_SDK_IAM_ENDPOINT") {
            return http_url(
                &url,
                "HUAWEICLOUD_SDK_IAM_ENDPOINT",
                "https://iam.cn-north-4.myhuaweicloud.com",
            );
        }
    }
    match (explicit, region) {
        (Some(url), _) => http_url(
            url,
            "--iam-endpoint",
            "https://iam.cn-north-4.myhuaweicloud.com",
        ),
        (None, Some(region)) => {
            if regions::endpoint(region).is_none() {
                return Err(unknown_region(region));
            }
            http_url(&regions::iam_endpoint(region), "--iam-endpoint", "")
        }
        (None, None) => Err(usage(
            "an IAM login needs --region or --iam-endpoint to know where IAM is",
        )),
    }
}

/// Where IAM tokens are cached: `GAUSSJOBS_CACHE_DIR`, else `$XDG_CACHE_HOME/gaussjobs`, else
/// `~/.cache/gaussjobs`.
fn cache_dir(source: &dyn CredentialSource) -> Option<PathBuf> {
    let nonempty = |name: &str| source.env(name).filter(|v| !v.trim().is_empty());
    if let Some(dir) = nonempty("GAUSSJOBS_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = nonempty("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("gaussjobs"));
    }
    nonempty("HOME").map(|home| PathBuf::from(home).join(".cache").join("gaussjobs"))
}

/// A secret from a file: trimmed, not empty.
fn secret_file(source: &dyn CredentialSource, path: &Path, what: &str) -> anyhow::Result<Secret> {
    let text = source
        .read_file(path)
        .with_context(|| format!("cannot read {what} {}", path.display()))
        .map_err(|e| usage(format!("{e:#}")))?;
    let value = text.trim();
    if value.is_empty() {
        return Err(usage(format!("{what} {} is empty", path.display())));
    }
    Ok(Secret::new(value))
}

/// A variable's value, trimmed, when it is set and not empty.
fn env_text(source: &dyn CredentialSource, name: &str) -> Option<String> {
    source
        .env(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn env_secret(source: &dyn CredentialSource, name: &str) -> Option<Secret> {
    source
        .env(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .map(Secret::new)
}

/// AK/SK from two variables (and the security token from a third, when set).
fn aksk_from_env(
    source: &dyn CredentialSource,
    ak: &str,
    sk: &str,
    security_token: &str,
) -> anyhow::Result<Option<Credential>> {
    match (env_secret(source, ak), env_secret(source, sk)) {
        (Some(ak), Some(sk)) => Ok(Some(Credential::AkSk(AkSk {
            ak,
            sk,
            security_token: env_secret(source, security_token),
        }))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(usage(format!("{ak} is set but {sk} is not"))),
        (None, Some(_)) => Err(usage(format!("{sk} is set but {ak} is not"))),
    }
}

fn iam_credential(
    source: &dyn CredentialSource,
    network: &Network,
    user: &str,
    domain: Option<&str>,
    password: Secret,
    endpoint: Url,
    project_id: &str,
) -> anyhow::Result<Credential> {
    let iam = endpoint.to_string();
    let session = IamSession::new(IamLogin {
        endpoint,
        domain: domain.unwrap_or(user).to_string(),
        user: user.to_string(),
        password,
        project_id: project_id.to_string(),
        cache_dir: cache_dir(source),
        network: network.clone(),
    })
    .map_err(|e| anyhow::anyhow!("cannot set up the connection to IAM at {iam}: {e}"))?;
    Ok(Credential::Iam(Arc::new(session)))
}

/// The first credential found: `--token-file`, `GAUSSJOBS_TOKEN`, `HUAWEICLOUD_SDK_AK` +
/// `HUAWEICLOUD_SDK_SK`, an IAM password login (`--iam-user`), then the `--config` account of
/// this project.
fn credential(
    args: &SyncArgs,
    project_id: &str,
    network: &Network,
    source: &dyn CredentialSource,
) -> anyhow::Result<(Credential, String)> {
    if let Some(path) = &args.token_file {
        let token = secret_file(source, path, "--token-file")?;
        return Ok((
            Credential::Token(token),
            format!("--token-file {}", path.display()),
        ));
    }
    if let Some(token) = env_secret(source, "GAUSSJOBS_TOKEN") {
        return Ok((Credential::Token(token), "GAUSSJOBS_TOKEN".into()));
    }
    if let Some(c) = aksk_from_env(
        source,
        "HUAWEICLOUD_SDK_AK",
        "HUAWEICLOUD_SDK_SK",
        "HUAWEICLOUD_SDK_SECURITY_TOKEN",
    )? {
        return Ok((c, "HUAWEICLOUD_SDK_AK + HUAWEICLOUD_SDK_SK".into()));
    }
    if let Some(user) = args.iam_user.as_deref().filter(|u| !u.trim().is_empty()) {
        let password = match &args.iam_password_file {
            Some(path) => secret_file(source, path, "--iam-password-file")?,
            None => env_secret(source, "GAUSSJOBS_IAM_PASSWORD").ok_or_else(|| {
                usage_with_hint(
                    format!("--iam-user {user:?} needs a password"),
                    "put it in GAUSSJOBS_IAM_PASSWORD, or in a file readable only by you and pass --iam-password-file",
                )
            })?,
        };
        let endpoint = iam_endpoint(args.iam_endpoint.as_deref(), args.region.as_deref(), source)?;
        let c = iam_credential(
            source,
            network,
            user.trim(),
            args.iam_domain.as_deref(),
            password,
            endpoint,
            project_id,
        )?;
        return Ok((c, format!("--iam-user {:?}", user.trim())));
    }
    if let Some(path) = &args.config {
        let config = config::load(path)?;
        if let Some(account) = config
            .accounts
            .iter()
            .find(|a| a.project_id.trim() == project_id)
        {
            let region = account.region.as_deref().or(config.region.as_deref());
            if let Some(c) = account_credential(account, project_id, region, network, source)? {
                let from = format!("account {:?} of {}", account.name, path.display());
                return Ok((c, from));
            }
        }
    }
    let mut tried = vec![
        "--token-file".to_string(),
        "GAUSSJOBS_TOKEN".into(),
        "HUAWEICLOUD_SDK_AK + HUAWEICLOUD_SDK_SK".into(),
        "--iam-user (GAUSSJOBS_IAM_USER)".into(),
        "an account of this project in --config (GAUSSJOBS_CONFIG)".into(),
    ];
    if let Some(c) = sdk_chain(network, source, &mut tried)? {
        return Ok(c);
    }
    Err(no_credentials(&tried))
}

/// The usage error that lists every source tried, in order.
fn no_credentials(tried: &[String]) -> anyhow::Error {
    usage_with_hint(
        format!("no credentials found; tried, in order: {}", tried.join("; ")),
        "put an IAM token in GAUSSJOBS_TOKEN or a file passed as --token-file, set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK, write ~/.huaweicloud/credentials, or run on an ECS or CCE node with an agency (see the README's \"Credentials, as the SDKs find them\")",
    )
}

/// The sources the SDKs fall back on, in their order: the SDK credentials file, then the
/// ECS / CCE metadata service. Each one tried is added to `tried` with what was found.
fn sdk_chain(
    network: &Network,
    source: &dyn CredentialSource,
    tried: &mut Vec<String>,
) -> anyhow::Result<Option<(Credential, String)>> {
    let (path, named) = match env_text(source, "HUAWEICLOUD_SDK_CREDENTIALS_FILE") {
        Some(p) => (Some(PathBuf::from(p)), true),
        None => (
            env_text(source, "HOME")
                .map(|h| PathBuf::from(h).join(".huaweicloud").join("credentials")),
            false,
        ),
    };
    if let Some(path) = path {
        match source.read_file(&path) {
            Ok(text) => {
                let c = config::parse_sdk_credentials(&text).unwrap_or_default();
                match (c.ak, c.sk) {
                    (Some(ak), Some(sk)) => {
                        let c = Credential::AkSk(AkSk {
                            ak: Secret::new(ak),
                            sk: Secret::new(sk),
                            security_token: c.security_token.map(Secret::new),
                        });
                        let from = format!("the SDK credentials file {}", path.display());
                        return Ok(Some((c, from)));
                    }
                    _ => {
                        return Err(usage_with_hint(
                            format!(
                                "the SDK credentials file {} has no ak and sk in a [basic] section",
                                path.display()
                            ),
                            "write it as the SDKs do: [basic], then ak = ..., sk = ... (and security_token = ... for temporary keys)",
                        ))
                    }
                }
            }
            Err(e) if named => {
                return Err(usage(format!(
                    "cannot read HUAWEICLOUD_SDK_CREDENTIALS_FILE {}: {e}",
                    path.display()
                )))
            }
            Err(_) => tried.push(format!(
                "the SDK credentials file {} (HUAWEICLOUD_SDK_CREDENTIALS_FILE): none there",
                path.display()
            )),
        }
    }
    let endpoint = metadata_endpoint(source)?;
    match probe(&endpoint) {
        Ok(()) => {
            let from = format!("the ECS/CCE metadata service at {endpoint}");
            let session = crate::api::metadata::MetadataSession::new(endpoint.clone(), network)
                .map_err(|e| {
                    anyhow::anyhow!(
                        "cannot set up the connection to the metadata service at {endpoint}: {e}"
                    )
                })?;
            Ok(Some((Credential::Metadata(Arc::new(session)), from)))
        }
        Err(why) => {
            tried.push(format!(
                "the ECS/CCE metadata service at {endpoint} (GAUSSJOBS_METADATA_ENDPOINT): {why}"
            ));
            Ok(None)
        }
    }
}

/// The metadata service: `GAUSSJOBS_METADATA_ENDPOINT`, else the link-local address.
fn metadata_endpoint(source: &dyn CredentialSource) -> anyhow::Result<Url> {
    let text = env_text(source, "GAUSSJOBS_METADATA_ENDPOINT")
        .unwrap_or_else(|| crate::api::metadata::DEFAULT_ENDPOINT.to_string());
    http_url(
        &text,
        "GAUSSJOBS_METADATA_ENDPOINT",
        crate::api::metadata::DEFAULT_ENDPOINT,
    )
}

/// How long the metadata service gets to accept a connection: on ECS it answers in
/// microseconds; on a laptop the address leads nowhere, and the user should hear so soon.
const METADATA_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(1500);

/// Whether something listens at the URL's host and port: one TCP connection, closed again.
fn probe(url: &Url) -> Result<(), String> {
    let addrs = url
        .socket_addrs(|| None)
        .map_err(|e| format!("cannot resolve it: {e}"))?;
    let mut last = "no address".to_string();
    for addr in addrs {
        match std::net::TcpStream::connect_timeout(&addr, METADATA_CONNECT_TIMEOUT) {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                last = format!(
                    "no answer within {:.1}s (not an ECS or CCE node?)",
                    METADATA_CONNECT_TIMEOUT.as_secs_f64()
                )
            }
            Err(e) => last = format!("{e} (not an ECS or CCE node?)"),
        }
    }
    Err(last)
}

/// The KooCLI profile an account names, read from `hcloud_config` (else
/// `~/.hcloud/config.json`); a usage error saying what to do when its keys cannot be read.
pub(crate) fn hcloud_profile(
    account: &Account,
    name: &str,
    source: &dyn CredentialSource,
) -> anyhow::Result<config::HcloudProfile> {
    let path = match &account.hcloud_config {
        Some(p) => p.clone(),
        None => env_text(source, "HOME")
            .map(|h| PathBuf::from(h).join(".hcloud").join("config.json"))
            .ok_or_else(|| usage("hcloud_profile: HOME is not set; give hcloud_config = PATH"))?,
    };
    let text = source.read_file(&path).map_err(|e| {
        usage_with_hint(
            format!("cannot read KooCLI's config {}: {e}", path.display()),
            "configure the profile with `hcloud configure set --cli-profile=NAME`, or give hcloud_config = PATH",
        )
    })?;
    config::parse_hcloud_profile(&text, name).map_err(|why| {
        usage_with_hint(
            format!("KooCLI config {}: {why}", path.display()),
            "gaussjobs reads only keys KooCLI stores in plain text: give this account the keys another way (ak_env + sk_env, aksk_file, or ~/.huaweicloud/credentials), or on an ECS/CCE node drop the credential and use the node's agency",
        )
    })
}

/// The credential a config account names, `None` when it names none.
fn account_credential(
    account: &Account,
    project_id: &str,
    region: Option<&str>,
    network: &Network,
    source: &dyn CredentialSource,
) -> anyhow::Result<Option<Credential>> {
    let named = [
        account.token_file.is_some(),
        account.ak_env.is_some() || account.sk_env.is_some(),
        account.aksk_file.is_some(),
        account.iam_user.is_some(),
        account.hcloud_profile.is_some(),
    ];
    if named.iter().filter(|n| **n).count() > 1 {
        return Err(usage_with_hint(
            "names more than one credential",
            "keep one of token_file, ak_env + sk_env, aksk_file, iam_user, hcloud_profile",
        ));
    }
    if let Some(name) = &account.hcloud_profile {
        let profile = hcloud_profile(account, name, source)?;
        return Ok(Some(Credential::AkSk(AkSk {
            ak: Secret::new(profile.ak.unwrap_or_default()),
            sk: Secret::new(profile.sk.unwrap_or_default()),
            security_token: profile.security_token.map(Secret::new),
        })));
    }
    if let Some(path) = &account.token_file {
        return Ok(Some(Credential::Token(secret_file(
            source,
            path,
            "token_file",
        )?)));
    }
    if account.ak_env.is_some() || account.sk_env.is_some() {
        let (Some(ak), Some(sk)) = (&account.ak_env, &account.sk_env) else {
            return Err(usage("ak_env and sk_env go together"));
        };
        let token = account.security_token_env.as_deref().unwrap_or("");
        return match aksk_from_env(source, ak, sk, token)? {
            Some(c) => Ok(Some(c)),
            None => Err(usage(format!("{ak} and {sk} are not set"))),
        };
    }
    if let Some(path) = &account.aksk_file {
        let text = source
            .read_file(path)
            .map_err(|e| usage(format!("cannot read aksk_file {}: {e}", path.display())))?;
        let (ak, sk, token) = config::parse_aksk_file(&text).ok_or_else(|| {
            usage_with_hint(
                format!("aksk_file {} holds no AK and SK", path.display()),
                "use the credentials.csv the console downloads, lines ak = ... and sk = ..., or the SDKs' credentials file with a [basic] section",
            )
        })?;
        return Ok(Some(Credential::AkSk(AkSk {
            ak: Secret::new(ak),
            sk: Secret::new(sk),
            security_token: token.map(Secret::new),
        })));
    }
    if let Some(user) = &account.iam_user {
        let password = match (&account.iam_password_file, &account.iam_password_env) {
            (Some(path), _) => secret_file(source, path, "iam_password_file")?,
            (None, Some(name)) => env_secret(source, name)
                .ok_or_else(|| usage(format!("iam_password_env {name} is not set")))?,
            (None, None) => {
                return Err(usage(
                    "iam_user needs iam_password_file or iam_password_env",
                ))
            }
        };
        let endpoint = iam_endpoint(account.iam_endpoint.as_deref(), region, source)?;
        return Ok(Some(iam_credential(
            source,
            network,
            user,
            account.iam_domain.as_deref(),
            password,
            endpoint,
            project_id,
        )?));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An environment of the given variables only.
    struct Vars(Vec<(&'static str, String)>);

    impl CredentialSource for Vars {
        fn env(&self, name: &str) -> Option<String> {
            self.0
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn endpoints_and_iam_are_resolved_as_the_sdks_resolve_them() {
        let none = Vars(Vec::new());
        let (first, rest) = endpoints(None, Some("eu-west-101"), &none).unwrap();
        assert_eq!(
            first.as_str(),
            "https://gaussdb.eu-west-101.myhuaweicloud.eu/"
        );
        assert!(rest.is_empty());
        let list = Vars(vec![(
            "HUAWEICLOUD_SDK_REGION_GAUSSDB_CN_NORTH_4",
            " https://a.example.com , https://b.example.com".into(),
        )]);
        let (first, rest) = endpoints(None, Some("cn-north-4"), &list).unwrap();
        assert_eq!(first.as_str(), "https://a.example.com/");
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].as_str(), "https://b.example.com/");
        // --endpoint wins over the variable.
        let (first, rest) =
            endpoints(Some("http://127.0.0.1:9"), Some("cn-north-4"), &list).unwrap();
        assert_eq!(first.as_str(), "http://127.0.0.1:9/");
        assert!(rest.is_empty());
        let iam = Vars(vec![(
            "HUAWEICLOUD_SDK_IAM_ENDPOINT",
            "https://iam.example.com".into(),
        )]);
        assert_eq!(
            iam_endpoint(None, Some("cn-north-4"), &iam)
                .unwrap()
                .as_str(),
            "https://iam.example.com/"
        );
        assert_eq!(
            iam_endpoint(Some("https://iam.flag.example.com"), None, &iam)
                .unwrap()
                .as_str(),
            "https://iam.flag.example.com/"
        );
        assert_eq!(
            iam_endpoint(None, Some("eu-west-101"), &none)
                .unwrap()
                .as_str(),
            "https://iam.eu-west-101.myhuaweicloud.eu/"
        );
    }

    #[test]
    fn an_endpoint_with_userinfo_is_refused_with_the_password_hidden() {
        let e = http_url(
            "https://robot:pw-in-url-6b1f@gaussdb.example.com/",
            "--endpoint",
            "",
        )
        .unwrap_err();
        let text = format!("{e:#}");
        assert!(
            text.contains("\"https://robot:***@gaussdb.example.com/\""),
            "{text}"
        );
        assert!(!text.contains("pw-in-url"), "{text}");
        assert_eq!(crate::exit::code_for(&e), crate::exit::USAGE);
        // One the URL parser refuses is still caught before its text is quoted.
        let e = http_url("https://robot:pw in url 6b1f@[bad/", "--endpoint", "").unwrap_err();
        assert!(!format!("{e:#}").contains("url 6b1f"), "{e:#}");
        let e = http_url("http://tok-as-user-5e0c@127.0.0.1:9", "--endpoint", "").unwrap_err();
        assert!(
            format!("{e:#}").contains("\"http://***@127.0.0.1:9\""),
            "{e:#}"
        );
        assert!(http_url("https://host.example.com/a@b", "--endpoint", "").is_ok());
    }
}
