//! Credentials for the API and how they are put on a request: an IAM token, AK/SK signing
//! (`SDK-HMAC-SHA256`, see `signer`) or an IAM password login (see `iam`). Secrets never reach
//! `Debug`, `Display`, logs or errors.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use reqwest::Request;

use super::error::ApiError;
use super::iam::IamSession;
use super::metadata::MetadataSession;
use super::secret::Secret;
use super::signer;

/// An access key pair, permanent or temporary (with a security token).
#[derive(Debug, Clone)]
pub struct AkSk {
    /// The access key ID. Not a secret by itself (it is sent in every `Authorization`
    /// header), but kept out of messages all the same.
    pub ak: Secret,
    pub sk: Secret,
    /// Temporary credentials come with a security token, sent as `X-Security-Token`.
    pub security_token: Option<Secret>,
}

/// How requests prove who they are.
#[derive(Debug, Clone)]
pub enum Credential {
    /// An IAM token, sent as `X-Auth-Token`.
    Token(Secret),
    /// Every request signed with the secret key.
    AkSk(AkSk),
    /// A token got from IAM with a password, cached, refreshed once on a 401.
    Iam(Arc<IamSession>),
    /// Temporary AK/SK from the ECS / CCE metadata service, fetched again before they
    /// expire (and once on a 401).
    Metadata(Arc<MetadataSession>),
}

const X_AUTH_TOKEN: HeaderName = HeaderName::from_static("x-auth-token");
const X_SDK_DATE: HeaderName = HeaderName::from_static("x-sdk-date");
const X_PROJECT_ID: HeaderName = HeaderName::from_static("x-project-id");
const X_SECURITY_TOKEN: HeaderName = HeaderName::from_static("x-security-token");

fn header_value(value: &str) -> Result<HeaderValue, ApiError> {
    let mut v = HeaderValue::from_str(value).map_err(|_| ApiError::BadCredential {
        detail: "it holds characters an HTTP header cannot carry".into(),
    })?;
    v.set_sensitive(true);
    Ok(v)
}

impl Credential {
    /// Puts the credential on the final request: a token header, or the AK/SK signature over
    /// exactly the headers sent. Returns the token generation used (for [`Self::refresh`]).
    pub async fn authorize(
        &self,
        request: &mut Request,
        project_id: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, ApiError> {
        match self {
            Credential::Token(token) => {
                let v = header_value(token.expose())?;
                request.headers_mut().insert(X_AUTH_TOKEN, v);
                Ok(0)
            }
            Credential::Iam(session) => {
                let (token, generation) = session.token().await?;
                let v = header_value(token.expose())?;
                request.headers_mut().insert(X_AUTH_TOKEN, v);
                Ok(generation)
            }
            Credential::AkSk(keys) => {
                sign_request(keys, request, project_id, now)?;
                Ok(0)
            }
            Credential::Metadata(session) => {
                let (keys, generation) = session.keys(now).await?;
                let keys = AkSk {
                    ak: keys.ak,
                    sk: keys.sk,
                    security_token: Some(keys.security_token),
                };
                sign_request(&keys, request, project_id, now)?;
                Ok(generation)
            }
        }
    }

    /// Where the credential comes from, in a few words for `doctor` and logs; never a value.
    pub fn kind(&self) -> String {
        match self {
            Credential::Token(_) => "an IAM token".into(),
            Credential::AkSk(keys) if keys.security_token.is_some() => {
                "a temporary AK/SK with a security token".into()
            }
            Credential::AkSk(_) => "a permanent AK/SK".into(),
            Credential::Iam(_) => "an IAM password login".into(),
            Credential::Metadata(session) => format!(
                "temporary AK/SK from the metadata service at {}",
                session.endpoint()
            ),
        }
    }

    /// After a 401: gets a fresh token once per run (IAM only). `true` when the request is
    /// worth sending again.
    pub async fn refresh(&self, generation: u64) -> Result<bool, ApiError> {
        match self {
            Credential::Iam(session) => session.refresh(generation).await,
            Credential::Metadata(session) => Ok(session.refresh(generation).await),
            _ => Ok(false),
        }
    }
}

/// Adds `Host`, `X-Sdk-Date`, `X-Project-Id` (and `X-Security-Token`) and signs them, with the
/// content type when there is one, as the SDKs do.
fn sign_request(
    keys: &AkSk,
    request: &mut Request,
    project_id: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let date = signer::sdk_date(now);
    let host = signer::host_header(request.url());
    let mut signed: Vec<(String, String)> = vec![
        ("host".into(), host.clone()),
        ("x-sdk-date".into(), date.clone()),
        ("x-project-id".into(), project_id.to_string()),
    ];
    let headers = request.headers_mut();
    headers.insert(HOST, header_value(&host)?);
    headers.insert(X_SDK_DATE, header_value(&date)?);
    headers.insert(X_PROJECT_ID, header_value(project_id)?);
    if let Some(token) = &keys.security_token {
        headers.insert(X_SECURITY_TOKEN, header_value(token.expose())?);
        signed.push(("x-security-token".into(), token.expose().to_string()));
    }
    if let Some(ct) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        signed.push(("content-type".into(), ct.to_string()));
    }
    let url = request.url();
    let input = signer::SignInput {
        method: request.method().as_str(),
        path_segments: signer::path_segments(url),
        query: url.query_pairs().into_owned().collect(),
        headers: signed,
        body_sha256: signer::EMPTY_BODY_SHA256,
        date: &date,
    };
    let authorization = signer::sign(&input, keys.sk.expose()).authorization(keys.ak.expose());
    let v = header_value(&authorization)?;
    request.headers_mut().insert(AUTHORIZATION, v);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let c = Credential::Token(Secret::new("tok-123-very-secret"));
        let shown = format!("{c:?}");
        assert!(!shown.contains("tok-123"), "{shown}");
        assert!(shown.contains("redacted"));
        let c = Credential::AkSk(AkSk {
            ak: Secret::new("AKVISIBLE"),
            sk: Secret::new("sk-very-secret"),
            security_token: Some(Secret::new("sec-token-secret")),
        });
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("secret") && !shown.contains("AKVISIBLE"),
            "{shown}"
        );
    }

    #[tokio::test]
    async fn aksk_signs_the_final_request() {
        let c = Credential::AkSk(AkSk {
            ak: Secret::new("AK1"),
            sk: Secret::new("SK1"),
            security_token: None,
        });
        let url = url::Url::parse("http://127.0.0.1:9/v3/p/scheduled-jobs?a=b+c&d=%2B").unwrap();
        let mut request = Request::new(reqwest::Method::GET, url);
        let now = DateTime::from_timestamp(1_709_294_400, 0).unwrap();
        c.authorize(&mut request, "p", now).await.unwrap();
        let h = request.headers();
        assert_eq!(h["x-sdk-date"], "20240301T120000Z");
        assert_eq!(h["host"], "127.0.0.1:9");
        assert_eq!(h["x-project-id"], "p");
        let auth = h["authorization"].to_str().unwrap();
        assert!(
            auth.starts_with(
                "SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-project-id;x-sdk-date, Signature="
            ),
            "{auth}"
        );
        assert!(h["authorization"].is_sensitive());
    }
}
