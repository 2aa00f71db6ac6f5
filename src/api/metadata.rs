//! Temporary AK/SK from the ECS / CCE metadata service, as the SDKs' metadata provider gets
//! them: an optional session token (`PUT /meta-data/latest/api/token`), then
//! `GET /openstack/latest/securitykey`. The keys are kept until shortly before they expire and
//! fetched again then, so a long run never signs with expired ones.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use url::Url;

use super::error::ApiError;
use super::secret::Secret;
use super::transport::{self, Network};

/// Where the service answers on every ECS and CCE node.
pub const DEFAULT_ENDPOINT: &str = "http://169.254.169.254";

/// How long a session token is asked to live (the SDKs ask for six hours).
const TOKEN_TTL_SECONDS: &str = "21600";

/// Keys are fetched again this long before they expire, at most; for short-lived keys, when a
/// fifth of their life is left.
const REFRESH_MARGIN: chrono::Duration = chrono::Duration::minutes(5);

/// The metadata service's answer.
#[derive(Deserialize)]
struct SecurityKey {
    credential: KeyBody,
}

#[derive(Deserialize)]
struct KeyBody {
    access: String,
    secret: String,
    securitytoken: String,
    expires_at: String,
}

/// Temporary keys: an access key pair and the security token that goes with it.
#[derive(Debug, Clone)]
pub struct TemporaryKeys {
    pub ak: Secret,
    pub sk: Secret,
    pub security_token: Secret,
}

/// Keys fetched, with when to fetch again.
struct Held {
    keys: TemporaryKeys,
    refresh_at: DateTime<Utc>,
    generation: u64,
}

/// The metadata service of this machine and the keys it last handed out.
pub struct MetadataSession {
    endpoint: Url,
    http: reqwest::Client,
    held: tokio::sync::Mutex<Option<Held>>,
    fetched: std::sync::atomic::AtomicU64,
}

impl fmt::Debug for MetadataSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetadataSession")
            .field("endpoint", &self.endpoint.as_str())
            .finish_non_exhaustive()
    }
}

impl MetadataSession {
    /// A session with the service at `endpoint`. Never through a proxy: the service is on
    /// the link itself, and a proxy would be asked for this machine's keys.
    /// An error says why no HTTP client could be made.
    pub fn new(endpoint: Url, network: &Network) -> Result<MetadataSession, String> {
        let direct = Network {
            extra_roots: network.extra_roots.clone(),
            proxy: None,
        };
        let http = transport::build_client(&direct, |b| {
            b.no_proxy()
                .connect_timeout(Duration::from_secs(2))
                .timeout(Duration::from_secs(10))
        })?;
        Ok(MetadataSession {
            endpoint,
            http,
            held: tokio::sync::Mutex::new(None),
            fetched: Default::default(),
        })
    }

    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    /// Keys fetched so far.
    pub fn fetches(&self) -> u64 {
        self.fetched.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Keys good at `now`, fetched again when they are close to expiring. Returns their
    /// generation too, for [`Self::refresh`].
    pub async fn keys(&self, now: DateTime<Utc>) -> Result<(TemporaryKeys, u64), ApiError> {
        let mut held = self.held.lock().await;
        if let Some(h) = held.as_ref().filter(|h| now < h.refresh_at) {
            return Ok((h.keys.clone(), h.generation));
        }
        let generation = held.as_ref().map_or(1, |h| h.generation + 1);
        let (keys, expires_at) = self.fetch().await?;
        let life = expires_at - now;
        let margin = REFRESH_MARGIN.min(life / 5);
        let h = Held {
            keys,
            refresh_at: expires_at - margin,
            generation,
        };
        tracing::info!(
            "temporary keys from the metadata service, valid until {}",
            expires_at.format("%Y-%m-%dT%H:%M:%SZ")
        );
        let out = (h.keys.clone(), h.generation);
        *held = Some(h);
        Ok(out)
    }

    /// After a 401: forgets the keys of `generation` so the next request fetches new ones.
    /// `true` when they were still held (the request is worth sending again).
    pub async fn refresh(&self, generation: u64) -> bool {
        let mut held = self.held.lock().await;
        match held.as_ref() {
            Some(h) if h.generation == generation => {
                let mut h = held.take().expect("checked above");
                h.refresh_at = DateTime::<Utc>::MIN_UTC;
                *held = Some(h);
                true
            }
            _ => false,
        }
    }

    fn failed(&self, detail: impl fmt::Display) -> ApiError {
        ApiError::BadCredential {
            detail: format!(
                "the metadata service at {} gave no temporary keys: {detail}",
                self.endpoint
            ),
        }
    }

    fn url(&self, path: &str) -> Result<Url, ApiError> {
        self.endpoint
            .join(path)
            .map_err(|e| self.failed(format!("cannot build its URL: {e}")))
    }

    /// The optional session token: `None` when the service does not issue them.
    async fn session_token(&self) -> Result<Option<String>, ApiError> {
        let response = self
            .http
            .put(self.url("/meta-data/latest/api/token")?)
            .header("X-Metadata-Token-Ttl-Seconds", TOKEN_TTL_SECONDS)
            .send()
            .await
            .map_err(|e| self.failed(transport::innermost(&e)))?;
        if !response.status().is_success() {
            // Older services have no tokens; the keys are then asked for without one.
            return Ok(None);
        }
        let body = transport::read_body(response)
            .await
            .map_err(|_| self.failed("its session token could not be read"))?;
        let token = String::from_utf8_lossy(&body).trim().to_string();
        Ok((!token.is_empty()).then_some(token))
    }

    async fn fetch(&self) -> Result<(TemporaryKeys, DateTime<Utc>), ApiError> {
        let token = self.session_token().await?;
        let mut request = self.http.get(self.url("/openstack/latest/securitykey")?);
        if let Some(token) = &token {
            crate::redact::register(token);
            request = request.header("X-Metadata-Token", token);
        }
        let response = request
            .send()
            .await
            .map_err(|e| self.failed(transport::innermost(&e)))?;
        let status = response.status();
        let body = transport::read_body(response)
            .await
            .map_err(|_| self.failed("its answer could not be read"))?;
        if !status.is_success() {
            return Err(self.failed(format!(
                "HTTP {status} (is an agency with GaussDB permissions attached to this server?)"
            )));
        }
        let key: SecurityKey = serde_json::from_slice(&body)
            .map_err(|e| self.failed(format!("its answer is not a security key: {e}")))?;
        let k = key.credential;
        let expires_at = DateTime::parse_from_rfc3339(&k.expires_at)
            .map_err(|e| self.failed(format!("expires_at {:?}: {e}", k.expires_at)))?
            .with_timezone(&Utc);
        self.fetched
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok((
            TemporaryKeys {
                ak: Secret::new(k.access),
                sk: Secret::new(k.secret),
                security_token: Secret::new(k.securitytoken),
            },
            expires_at,
        ))
    }
}
