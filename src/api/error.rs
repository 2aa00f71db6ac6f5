//! How a call to the API (or to IAM) fails: the cases callers act on (retry, refresh, give
//! up), each with a factual message. What a user can do about one is said where errors become
//! exit codes (`exit`), not here.

use std::time::Duration;

use reqwest::StatusCode;

/// A failed call.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The API answered with an error status. `code` and `message` come from its body;
    /// `request_id` from its `X-Request-Id` header (else the body's `request_id`), the one
    /// thing Huawei support asks for to find the call in their logs.
    #[error("{}{}", http_message(*status, code.as_deref(), message.as_deref()), request_id_suffix(request_id.as_deref()))]
    Http {
        status: u16,
        code: Option<String>,
        message: Option<String>,
        retry_after: Option<Duration>,
        request_id: Option<String>,
    },
    #[error("cannot reach {endpoint}: {detail}")]
    Unreachable { endpoint: String, detail: String },
    #[error("no answer from {endpoint} within {seconds}s")]
    Timeout { endpoint: String, seconds: u64 },
    #[error("the API's answer could not be read: {detail}{}", request_id_suffix(request_id.as_deref()))]
    Malformed {
        detail: String,
        request_id: Option<String>,
    },
    /// The server's certificate did not verify against the trusted roots (the system's,
    /// `SSL_CERT_FILE` / `SSL_CERT_DIR`, and `--ca-bundle`).
    #[error("the TLS certificate of {host} was not trusted: {detail}")]
    Untrusted { host: String, detail: String },
    #[error("invalid endpoint {endpoint:?}: {detail}")]
    InvalidEndpoint { endpoint: String, detail: String },
    /// The credential cannot be put on a request.
    #[error("the credential cannot be used: {detail}")]
    BadCredential { detail: String },
    /// The IAM password login failed. Never holds the password.
    #[error("IAM login as {user:?} in domain {domain:?} failed: {detail}")]
    Iam {
        user: String,
        domain: String,
        detail: String,
    },
    /// The API answered with a redirect that is not followed (see `transport`): it would
    /// take the request's credentials to another origin.
    #[error("the API answered HTTP {status} with a redirect to {to}, which is not followed: credentials are sent only to the endpoint's own origin")]
    Redirected { status: u16, to: String },
    /// The answer was longer than `transport::MAX_BODY_BYTES`; reading it stopped there.
    #[error("the answer to {request} exceeded the {cap} cap on a response body (a page of 100 jobs is well under 1 MiB), so reading it stopped")]
    TooLarge { request: String, cap: String },
}

fn request_id_suffix(request_id: Option<&str>) -> String {
    request_id
        .map(|id| format!(" (request id {id})"))
        .unwrap_or_default()
}

fn http_message(status: u16, code: Option<&str>, message: Option<&str>) -> String {
    let reason = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    match (code, message) {
        (Some(code), Some(msg)) => {
            format!("the API refused the request: HTTP {status} {code}: {msg}")
        }
        (Some(code), None) => format!("the API refused the request: HTTP {status} {code}"),
        (None, Some(msg)) => format!("the API refused the request: HTTP {status}: {msg}"),
        (None, None) => format!("the API refused the request: HTTP {status} {reason}"),
    }
}

impl ApiError {
    /// Whether another attempt may succeed (429, 5xx, timeouts, unreadable answers). An
    /// answer too large is not retried: a server that sends one tends to send it again, and
    /// each attempt would read the whole cap.
    pub fn is_retryable(&self) -> bool {
        match self {
            ApiError::Http { status, .. } => *status == 429 || *status >= 500,
            ApiError::Timeout { .. }
            | ApiError::Malformed { .. }
            | ApiError::Unreachable { .. } => true,
            ApiError::InvalidEndpoint { .. }
            | ApiError::BadCredential { .. }
            | ApiError::Iam { .. }
            | ApiError::Untrusted { .. }
            | ApiError::Redirected { .. }
            | ApiError::TooLarge { .. } => false,
        }
    }

    /// The request id the API gave the failed call, if it gave one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            ApiError::Http { request_id, .. } | ApiError::Malformed { request_id, .. } => {
                request_id.as_deref()
            }
            _ => None,
        }
    }

    /// The API's error code, e.g. `APIGW.0301`.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Http { code, .. } => code.as_deref(),
            _ => None,
        }
    }
}
