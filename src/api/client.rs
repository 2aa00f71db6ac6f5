//! The typed client: one call, `list_jobs`, with rate limiting, retries and error bodies turned
//! into errors that show the HTTP status, the API's code and its message. Redirects to
//! another origin are refused and answers are read with a cap (see `transport`).

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use reqwest::header::RETRY_AFTER;
use reqwest::StatusCode;
use serde::Deserialize;
use url::Url;

use super::auth::Credential;
use super::error::ApiError;
use super::model::{Language, ListJobsPage, ListJobsRequest};
use super::pace::Pace;
use super::transport::{self, BodyError, Network};

/// Everything the client needs to reach one project at one endpoint.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The service endpoint, e.g. `https://gaussdb.cn-north-4.myhuaweicloud.com`.
    pub endpoint: Url,
    /// Endpoints tried in order, after `endpoint`, when the one in use cannot be reached
    /// (`HUAWEICLOUD_SDK_REGION_GAUSSDB_{REGION}` lists several).
    pub fallbacks: Vec<Url>,
    /// Trusted roots and proxy.
    pub network: Network,
    pub project_id: String,
    pub credential: Credential,
    pub language: Language,
    /// Time allowed for one response, connection included.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Requests per second at most; shared by every call made through this client.
    pub max_rps: f64,
    pub retry: RetryPolicy,
}

/// How failed calls are retried: exponential backoff with jitter.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Retries of 429, 5xx and timeouts.
    pub max_retries: usize,
    /// Retries of a 200 whose body cannot be read: few, since a server that sends broken JSON
    /// usually keeps doing so; the window is fetched again next run.
    pub max_malformed_retries: usize,
    /// Retries when the endpoint cannot be reached at all: few, so a wrong endpoint is
    /// reported within seconds.
    pub max_connect_retries: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
    /// The longest `Retry-After` honoured.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 6,
            max_connect_retries: 2,
            max_malformed_retries: 2,
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

/// The error body shapes: service errors use `error_msg`, the gateway `error_message`; some
/// carry the call's `request_id` too.
#[derive(Deserialize)]
struct ErrorBody {
    error_code: Option<String>,
    error_msg: Option<String>,
    error_message: Option<String>,
    request_id: Option<String>,
}

/// The header the gateway names each call with.
const X_REQUEST_ID: &str = "x-request-id";

/// The client. Cheap to share behind an `Arc`; counts every HTTP attempt it makes.
pub struct Client {
    http: reqwest::Client,
    config: ClientConfig,
    /// The listing URL at each endpoint, `endpoint` first.
    urls: Vec<Url>,
    /// The endpoint in use: moves on (never back) when one cannot be reached.
    current: AtomicUsize,
    pace: Pace,
    requests: AtomicU64,
    /// The `Date` of the newest answer, for the clock check of `doctor`.
    server_date: std::sync::Mutex<Option<chrono::DateTime<chrono::Utc>>>,
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Client, ApiError> {
        let mut urls = Vec::new();
        for endpoint in std::iter::once(&config.endpoint).chain(&config.fallbacks) {
            let invalid = |detail: String| ApiError::InvalidEndpoint {
                endpoint: endpoint.to_string(),
                detail,
            };
            if !matches!(endpoint.scheme(), "http" | "https") {
                return Err(invalid("the scheme must be http or https".into()));
            }
            let mut url = endpoint.clone();
            url.path_segments_mut()
                .map_err(|_| invalid("it cannot hold a path".into()))?
                .pop_if_empty()
                .extend(["v3", &config.project_id, "scheduled-jobs"]);
            urls.push(url);
        }
        let invalid = |detail: String| ApiError::InvalidEndpoint {
            endpoint: config.endpoint.to_string(),
            detail,
        };
        let http = transport::build_client(&config.network, |b| {
            b.timeout(config.timeout)
                .connect_timeout(config.connect_timeout)
        })
        .map_err(invalid)?;
        Ok(Client {
            http,
            urls,
            current: AtomicUsize::new(0),
            pace: Pace::new(config.max_rps),
            requests: AtomicU64::new(0),
            server_date: std::sync::Mutex::new(None),
            config,
        })
    }

    /// The server's clock as the newest answer's `Date` header gave it.
    pub fn server_date(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        *self.server_date.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The request rate now: `max_rps`, or less after the gateway answered 429.
    pub fn rate(&self) -> f64 {
        self.pace.rps()
    }

    /// HTTP attempts made so far, retries included.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Lists one page of scheduled jobs, retrying what is worth retrying.
    pub async fn list_jobs(&self, request: &ListJobsRequest) -> Result<ListJobsPage, ApiError> {
        let policy = self.config.retry;
        let backoff = ExponentialBuilder::default()
            .with_min_delay(policy.min_delay)
            .with_max_delay(policy.max_delay)
            .with_max_times(policy.max_retries)
            .with_jitter();
        let (mut connect_failures, mut malformed) = (0usize, 0usize);
        (|| self.list_jobs_once(request))
            .retry(backoff)
            .when(|e: &ApiError| match e {
                ApiError::Unreachable { .. } => {
                    connect_failures += 1;
                    connect_failures <= policy.max_connect_retries
                }
                ApiError::Malformed { .. } => {
                    malformed += 1;
                    malformed <= policy.max_malformed_retries
                }
                e => e.is_retryable(),
            })
            .adjust(|e: &ApiError, delay| match (e, delay) {
                // The server knows best how long to wait; the cap keeps a hostile value from
                // stalling cron for hours.
                (
                    ApiError::Http {
                        retry_after: Some(after),
                        ..
                    },
                    Some(_),
                ) => Some((*after).min(policy.max_retry_after)),
                (_, delay) => delay,
            })
            .notify(|e: &ApiError, delay| {
                tracing::info!("retrying in {:.1}s after: {e}", delay.as_secs_f64());
            })
            .await
    }

    /// The endpoint requests go to now.
    pub fn endpoint_in_use(&self) -> &Url {
        let i = self.current.load(Ordering::Relaxed);
        match i {
            0 => &self.config.endpoint,
            i => &self.config.fallbacks[i - 1],
        }
    }

    /// One HTTP attempt; with an IAM login, a refused token is replaced once and the request
    /// sent again; an endpoint that cannot be reached gives way to the next one listed.
    async fn list_jobs_once(&self, request: &ListJobsRequest) -> Result<ListJobsPage, ApiError> {
        let mut refreshed = false;
        loop {
            let in_use = self.current.load(Ordering::Relaxed);
            let (result, generation) = self.attempt(request, in_use).await;
            match result {
                Err(ApiError::Http { status: 401, .. })
                    if !refreshed && self.config.credential.refresh(generation).await? =>
                {
                    refreshed = true;
                }
                Err(ApiError::Unreachable { endpoint, detail }) if in_use + 1 < self.urls.len() => {
                    // Another worker may have moved on already; only one move per failure.
                    let _ = self.current.compare_exchange(
                        in_use,
                        in_use + 1,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    );
                    tracing::warn!(
                        "cannot reach {endpoint} ({detail}); trying {}",
                        self.endpoint_in_use()
                    );
                }
                result => return result,
            }
        }
    }

    async fn attempt(
        &self,
        request: &ListJobsRequest,
        endpoint: usize,
    ) -> (Result<ListJobsPage, ApiError>, u64) {
        self.pace.until_ready().await;
        let mut url = self.urls[endpoint].clone();
        // The URL builder percent-encodes every value, so the `+` of `+0000` goes out as
        // `%2B`; a bare `+` would reach the server as a space.
        url.query_pairs_mut().extend_pairs(request.query_pairs());
        let language = request.language.unwrap_or(self.config.language);
        let built = self
            .http
            .get(url)
            .header("X-Language", language.as_str())
            .header("Accept", "application/json")
            .build();
        let mut http_request = match built {
            Ok(r) => r,
            Err(e) => return (Err(self.transport_error(e, endpoint)), 0),
        };
        // Signed last, over the request exactly as it goes out.
        let generation = match self
            .config
            .credential
            .authorize(
                &mut http_request,
                &self.config.project_id,
                chrono::Utc::now(),
            )
            .await
        {
            Ok(g) => g,
            Err(e) => return (Err(e), 0),
        };
        self.requests.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(
            offset = request.offset,
            limit = request.limit,
            "GET scheduled-jobs"
        );
        let result = self.send(http_request, endpoint).await;
        match &result {
            Err(ApiError::Http { status: 429, .. }) => self.pace.throttled(),
            Ok(_) => self.pace.passed(),
            Err(_) => {}
        }
        (result, generation)
    }

    async fn send(
        &self,
        http_request: reqwest::Request,
        endpoint: usize,
    ) -> Result<ListJobsPage, ApiError> {
        let response = self
            .http
            .execute(http_request)
            .await
            .map_err(|e| self.transport_error(e, endpoint))?;
        if let Some(to) = transport::redirect_target(&response) {
            return Err(ApiError::Redirected {
                status: response.status().as_u16(),
                to: to.to_string(),
            });
        }
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let request_id = request_id_of(response.headers());
        if let Some(date) = response
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| chrono::DateTime::parse_from_rfc2822(v).ok())
        {
            *self.server_date.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(date.with_timezone(&chrono::Utc));
        }
        let body = transport::read_body(response).await.map_err(|e| match e {
            BodyError::TooLarge => ApiError::TooLarge {
                request: format!("GET {}", self.urls[endpoint]),
                cap: transport::cap_text(),
            },
            BodyError::Transport(e) => self.transport_error(e, endpoint),
        })?;
        let result = parse_response(status, retry_after, request_id, &body);
        if let Err(e) = &result {
            tracing::debug!(request_id = e.request_id(), "{e}");
        }
        result
    }

    fn transport_error(&self, e: reqwest::Error, endpoint: usize) -> ApiError {
        let url = &self.urls[endpoint];
        let shown = match endpoint {
            0 => self.config.endpoint.to_string(),
            i => self.config.fallbacks[i - 1].to_string(),
        };
        if e.is_timeout() {
            return ApiError::Timeout {
                endpoint: shown,
                seconds: self.config.timeout.as_secs(),
            };
        }
        let detail = transport::innermost(&e);
        if transport::is_untrusted(&detail) {
            ApiError::Untrusted {
                host: url.host_str().unwrap_or_default().to_string(),
                detail,
            }
        } else {
            ApiError::Unreachable {
                endpoint: shown,
                detail,
            }
        }
    }
}

/// The `X-Request-Id` of an answer, when it has a readable one.
fn request_id_of(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get(X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(String::from)
}

/// A page, or the error a non-2xx body describes.
fn parse_response(
    status: StatusCode,
    retry_after: Option<Duration>,
    request_id: Option<String>,
    bytes: &[u8],
) -> Result<ListJobsPage, ApiError> {
    // Checked, not lossily decoded: a page is ~50 KB of valid UTF-8, and the lossy path
    // copies it; a body that is not UTF-8 still gets its replacement characters.
    let body = match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    };
    if !status.is_success() {
        let parsed: Option<ErrorBody> = serde_json::from_str(&body).ok();
        let (code, message, body_id) = match parsed {
            Some(b) => (b.error_code, b.error_msg.or(b.error_message), b.request_id),
            None => (None, None, None),
        };
        return Err(ApiError::Http {
            status: status.as_u16(),
            code,
            message,
            retry_after,
            request_id: request_id.or(body_id),
        });
    }
    ListJobsPage::from_json(&body).map_err(|detail| ApiError::Malformed { detail, request_id })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Secret;
    use crate::simulate::{Fault, ForeignServer, SimConfig, Simulator, DEFAULT_PROJECT_ID};

    fn client_of(url: &str) -> Client {
        Client::new(ClientConfig {
            endpoint: url.parse().unwrap(),
            fallbacks: Vec::new(),
            network: Network::default(),
            project_id: DEFAULT_PROJECT_ID.into(),
            credential: Credential::Token(Secret::new(crate::simulate::DEFAULT_TOKEN)),
            language: Language::default(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_rps: 1000.0,
            retry: RetryPolicy {
                min_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(1),
                ..RetryPolicy::default()
            },
        })
        .unwrap()
    }

    fn first_page() -> ListJobsRequest {
        ListJobsRequest {
            limit: 10,
            ..ListJobsRequest::default()
        }
    }

    #[tokio::test]
    async fn a_redirect_within_the_origin_is_followed_and_one_elsewhere_is_not() {
        let sim = Simulator::new(SimConfig {
            jobs: 30,
            ..SimConfig::default()
        });
        let server = sim.spawn_background();
        let foreign = ForeignServer::new();
        let foreign_server = foreign.spawn_background();
        let client = client_of(&server.url);
        let same = format!(
            "{}/v3/{DEFAULT_PROJECT_ID}/scheduled-jobs?limit=10",
            server.url
        );
        sim.inject(Fault::redirect(&same).times(1));
        let page = client.list_jobs(&first_page()).await.unwrap();
        assert_eq!(page.total_count, 30);

        let elsewhere = format!(
            "{}/v3/{DEFAULT_PROJECT_ID}/scheduled-jobs",
            foreign_server.url
        );
        sim.inject(Fault::redirect(&elsewhere));
        let e = client.list_jobs(&first_page()).await.unwrap_err();
        assert!(matches!(e, ApiError::Redirected { status: 302, .. }), "{e}");
        assert!(e.to_string().contains(&elsewhere), "{e}");
        assert!(!e.is_retryable());
        assert_eq!(foreign.requests(), Vec::new());
    }

    #[tokio::test]
    async fn an_endless_body_stops_at_the_cap_and_is_not_retried() {
        let sim = Simulator::new(SimConfig {
            jobs: 30,
            ..SimConfig::default()
        });
        let server = sim.spawn_background();
        sim.inject(Fault::endless_body());
        let e = client_of(&server.url)
            .list_jobs(&first_page())
            .await
            .unwrap_err();
        assert!(matches!(e, ApiError::TooLarge { .. }), "{e}");
        assert!(e.to_string().contains("exceeded the 8 MiB cap"), "{e}");
        assert_eq!(sim.request_count(), 1, "not retried");
    }

    #[test]
    fn any_rate_makes_a_client() {
        for rps in [
            0.0,
            -1.0,
            1e-300,
            1e-9,
            0.01,
            1e6,
            1e300,
            f64::NAN,
            f64::INFINITY,
        ] {
            let config = ClientConfig {
                max_rps: rps,
                ..client_of("http://127.0.0.1:1").config.clone()
            };
            assert!(Client::new(config).is_ok(), "max_rps {rps}");
        }
    }

    #[test]
    fn error_messages_show_status_code_and_message() {
        let e = ApiError::Http {
            status: 401,
            code: Some("APIGW.0301".into()),
            message: Some("Incorrect IAM authentication information".into()),
            retry_after: None,
            request_id: None,
        };
        assert_eq!(
            e.to_string(),
            "the API refused the request: HTTP 401 APIGW.0301: Incorrect IAM authentication information"
        );
        assert!(!e.is_retryable());
        let e = ApiError::Http {
            status: 503,
            code: None,
            message: None,
            retry_after: None,
            request_id: Some("6c1f0e2a".into()),
        };
        assert_eq!(
            e.to_string(),
            "the API refused the request: HTTP 503 Service Unavailable (request id 6c1f0e2a)"
        );
        assert!(e.is_retryable());
    }
}
