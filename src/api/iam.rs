//! IAM password login: user, domain and password exchanged for a project-scoped token
//! (`POST {iam}/v3/auth/tokens`), cached in a file only the user can read until 40 minutes
//! before it expires, and got again once when the API refuses it mid-run. A redirect to
//! another origin is refused (it would carry the password there) and answers are read with
//! a cap (see `transport`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;

use super::error::ApiError;
use super::secret::Secret;
use super::transport::{self, BodyError};

/// A cached token is not used within this long of its expiry: a sync may run for a while.
pub const EXPIRY_MARGIN_MINUTES: i64 = 40;

/// Who logs in, where, and for which project.
#[derive(Clone)]
pub struct IamLogin {
    /// e.g. `https://iam.cn-north-4.myhuaweicloud.com`
    pub endpoint: Url,
    pub domain: String,
    pub user: String,
    pub password: Secret,
    pub project_id: String,
    /// Where tokens are cached; `None` caches nothing.
    pub cache_dir: Option<PathBuf>,
    /// Trusted roots and proxy, as for the API.
    pub network: super::transport::Network,
}

impl fmt::Debug for IamLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IamLogin")
            .field("endpoint", &self.endpoint.as_str())
            .field("domain", &self.domain)
            .field("user", &self.user)
            .field("password", &self.password)
            .field("project_id", &self.project_id)
            .finish()
    }
}

#[derive(Default)]
struct State {
    token: Option<Secret>,
    /// A failed first login, kept so concurrent requests do not each try the password.
    failed: Option<String>,
    generation: u64,
    refreshed: bool,
}

/// One login shared by every request of a run.
pub struct IamSession {
    login: IamLogin,
    http: reqwest::Client,
    state: tokio::sync::Mutex<State>,
}

impl fmt::Debug for IamSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IamSession")
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct CachedToken {
    token: String,
    expires_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct TokenBody {
    token: TokenInfo,
}

#[derive(Deserialize)]
struct TokenInfo {
    expires_at: String,
}

impl IamSession {
    /// A session for `login`; an error says why no HTTP client could be made for it.
    pub fn new(login: IamLogin) -> Result<IamSession, String> {
        let http = transport::build_client(&login.network, |b| {
            b.timeout(Duration::from_secs(30))
                .connect_timeout(Duration::from_secs(10))
        })?;
        Ok(IamSession {
            login,
            http,
            state: tokio::sync::Mutex::new(State::default()),
        })
    }

    /// The current token and its generation: the cached one if it is fresh enough, else a new
    /// login.
    pub async fn token(&self) -> Result<(Secret, u64), ApiError> {
        let mut state = self.state.lock().await;
        if let Some(token) = &state.token {
            return Ok((token.clone(), state.generation));
        }
        if let Some(detail) = &state.failed {
            return Err(self.failed(detail.clone()));
        }
        let token = match self.read_cache(Utc::now()) {
            Some(token) => token,
            None => match self.login().await {
                Ok(token) => token,
                Err(e) => {
                    if let ApiError::Iam { detail, .. } = &e {
                        state.failed = Some(detail.clone());
                    }
                    return Err(e);
                }
            },
        };
        state.token = Some(token.clone());
        state.generation += 1;
        Ok((token, state.generation))
    }

    /// Called after a 401 on a request sent with token `generation`: logs in again, once per
    /// run. `true` when there is a newer token to try.
    pub async fn refresh(&self, generation: u64) -> Result<bool, ApiError> {
        let mut state = self.state.lock().await;
        if state.generation != generation {
            return Ok(true);
        }
        if state.refreshed {
            return Ok(false);
        }
        state.refreshed = true;
        tracing::info!("the API refused the IAM token; logging in again");
        let token = self.login().await?;
        state.token = Some(token);
        state.generation += 1;
        Ok(true)
    }

    fn cache_path(&self) -> Option<PathBuf> {
        let dir = self.login.cache_dir.as_ref()?;
        let l = &self.login;
        let key = format!(
            "{}\n{}\n{}\n{}",
            l.endpoint.as_str().trim_end_matches('/'),
            l.domain,
            l.user,
            l.project_id
        );
        let digest = hex::encode(Sha256::digest(key.as_bytes()));
        Some(dir.join(format!("iam-token-{}.json", &digest[..24])))
    }

    fn read_cache(&self, now: DateTime<Utc>) -> Option<Secret> {
        let path = self.cache_path()?;
        let text = std::fs::read_to_string(&path).ok()?;
        let cached: CachedToken = serde_json::from_str(&text).ok()?;
        if now + chrono::Duration::minutes(EXPIRY_MARGIN_MINUTES) >= cached.expires_at {
            return None;
        }
        tracing::debug!("using the cached IAM token from {}", path.display());
        Some(Secret::new(cached.token))
    }

    fn write_cache(&self, token: &Secret, expires_at: DateTime<Utc>) {
        let Some(path) = self.cache_path() else {
            return;
        };
        let cached = CachedToken {
            token: token.expose().to_string(),
            expires_at,
        };
        if let Err(e) = write_private(&path, &serde_json::to_string(&cached).unwrap_or_default()) {
            // A cache that cannot be written costs a login next run, nothing more.
            tracing::warn!("cannot cache the IAM token in {}: {e}", path.display());
        }
    }

    fn failed(&self, detail: String) -> ApiError {
        ApiError::Iam {
            user: self.login.user.clone(),
            domain: self.login.domain.clone(),
            detail,
        }
    }

    async fn login(&self) -> Result<Secret, ApiError> {
        let l = &self.login;
        let failed = |detail: String| self.failed(detail);
        let mut url = l.endpoint.clone();
        url.path_segments_mut()
            .map_err(|_| failed("the IAM endpoint cannot hold a path".into()))?
            .pop_if_empty()
            .extend(["v3", "auth", "tokens"]);
        let body = serde_json::json!({
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": l.user,
                            "password": l.password.expose(),
                            "domain": {"name": l.domain},
                        }
                    }
                },
                "scope": {"project": {"id": l.project_id}}
            }
        });
        tracing::debug!(user = %l.user, domain = %l.domain, "POST {}", url);
        let response = self
            .http
            .post(url)
            .header("Content-Type", "application/json;charset=utf8")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| {
                let detail = innermost(&e);
                if transport::is_untrusted(&detail) {
                    failed(format!(
                        "the TLS certificate of {} was not trusted ({detail}); pass its CA as --ca-bundle PATH",
                        l.endpoint.host_str().unwrap_or_default()
                    ))
                } else {
                    failed(format!("cannot reach {}: {detail}", l.endpoint))
                }
            })?;
        if let Some(to) = transport::redirect_target(&response) {
            return Err(failed(format!(
                "IAM answered HTTP {} with a redirect to {to}, which is not followed: the password is sent only to the IAM endpoint's own origin",
                response.status().as_u16()
            )));
        }
        let status = response.status();
        let token = response
            .headers()
            .get("x-subject-token")
            .and_then(|v| v.to_str().ok())
            .map(Secret::new);
        let text = match transport::read_body(response).await {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(BodyError::TooLarge) => {
                return Err(failed(format!(
                    "IAM's answer exceeded the {} cap on a response body (a token answer is a few KB), so reading it stopped",
                    transport::cap_text()
                )))
            }
            Err(BodyError::Transport(_)) => String::new(),
        };
        if !status.is_success() {
            return Err(failed(format!(
                "HTTP {}: {}",
                status.as_u16(),
                iam_error(&text)
            )));
        }
        let token = token.ok_or_else(|| failed("no X-Subject-Token in IAM's answer".into()))?;
        let expires_at = serde_json::from_str::<TokenBody>(&text)
            .ok()
            .and_then(|b| DateTime::parse_from_rfc3339(&b.token.expires_at).ok())
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| failed("IAM's answer has no readable token.expires_at".into()))?;
        self.write_cache(&token, expires_at);
        Ok(token)
    }
}

/// IAM's error bodies: `{"error": {"code", "message"}}` or `{"error_code", "error_msg"}`.
fn iam_error(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let pick = |a: &serde_json::Value| a.as_str().map(str::to_string);
    let code = pick(&v["error_code"])
        .or_else(|| v["error"]["code"].as_i64().map(|c| c.to_string()))
        .or_else(|| pick(&v["error"]["code"]));
    let msg = pick(&v["error_msg"]).or_else(|| pick(&v["error"]["message"]));
    match (code, msg) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (None, Some(m)) => m,
        (Some(c), None) => c,
        (None, None) => "no error message".into(),
    }
}

fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut detail = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    detail
}

/// Writes a file only its owner can read (0600 on Unix), in a directory only they can enter,
/// replacing it atomically.
pub fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iam_errors_of_either_shape() {
        assert_eq!(
            iam_error(
                r#"{"error":{"code":401,"message":"The username or password is wrong.","title":"Unauthorized"}}"#
            ),
            "401: The username or password is wrong."
        );
        assert_eq!(
            iam_error(r#"{"error_code":"IAM.0004","error_msg":"bad"}"#),
            "IAM.0004: bad"
        );
    }

    #[cfg(unix)]
    #[test]
    fn private_files_are_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/x.json");
        write_private(&path, "{}").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
