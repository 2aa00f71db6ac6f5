//! What the gateway and IAM check: AK/SK signatures (`SDK-HMAC-SHA256`), recomputed here apart
//! from the client's signer (`api::signer`) so a mistake in one is not repeated in the other,
//! and IAM password logins that hand out project-scoped tokens.

use std::collections::BTreeMap;

use axum::http::HeaderMap;
use chrono::{DateTime, NaiveDateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The secret of one access key the fake accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimAkSk {
    pub sk: String,
    /// Temporary credentials: requests must carry (and sign) this `X-Security-Token`.
    pub security_token: Option<String>,
    /// Temporary credentials stop working at this time.
    pub expires_at: Option<DateTime<Utc>>,
}

impl SimAkSk {
    pub fn permanent(sk: impl Into<String>) -> SimAkSk {
        SimAkSk {
            sk: sk.into(),
            security_token: None,
            expires_at: None,
        }
    }

    /// Temporary keys with their security token, valid until `expires_at` (if given).
    pub fn temporary(
        sk: impl Into<String>,
        security_token: impl Into<String>,
        expires_at: Option<DateTime<Utc>>,
    ) -> SimAkSk {
        SimAkSk {
            sk: sk.into(),
            security_token: Some(security_token.into()),
            expires_at,
        }
    }
}

/// An IAM user the fake's `POST /v3/auth/tokens` accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimIamUser {
    pub domain: String,
    pub name: String,
    pub password: String,
}

/// How far `X-Sdk-Date` may be from the server's clock, as the gateway allows.
pub const MAX_CLOCK_SKEW_MINUTES: i64 = 15;

/// Why a signed request was refused: the text after `Incorrect IAM authentication
/// information: `.
pub type Refusal = String;

/// Verifies an `Authorization: SDK-HMAC-SHA256 ...` request. `Ok(ak)` when it is signed right.
pub fn verify_aksk(
    method: &str,
    raw_path: &str,
    raw_query: Option<&str>,
    headers: &HeaderMap,
    keys: &BTreeMap<String, SimAkSk>,
    now: DateTime<Utc>,
) -> Result<String, Refusal> {
    let fail = || "verify aksk signature fail".to_string();
    let authorization = header(headers, "authorization").ok_or_else(fail)?;
    let rest = authorization
        .strip_prefix("SDK-HMAC-SHA256 ")
        .ok_or_else(fail)?;
    let mut access = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=').ok_or_else(fail)?;
        match k {
            "Access" => access = Some(v),
            "SignedHeaders" => signed_headers = Some(v),
            "Signature" => signature = Some(v),
            _ => return Err(fail()),
        }
    }
    let (Some(ak), Some(signed_headers), Some(signature)) = (access, signed_headers, signature)
    else {
        return Err(fail());
    };
    let key = keys.get(ak).ok_or_else(fail)?;
    let names: Vec<&str> = signed_headers.split(';').collect();
    for required in ["host", "x-sdk-date"] {
        if !names.contains(&required) {
            return Err(fail());
        }
    }
    let date = header(headers, "x-sdk-date").ok_or_else(fail)?;
    let at = NaiveDateTime::parse_from_str(date, "%Y%m%dT%H%M%SZ")
        .map_err(|_| "x-sdk-date is not in the form YYYYMMDDTHHMMSSZ".to_string())?
        .and_utc();
    if (now - at).num_minutes().abs() >= MAX_CLOCK_SKEW_MINUTES {
        return Err("x-sdk-date is out of the allowed range".into());
    }
    if key.expires_at.is_some_and(|at| at <= now) {
        return Err("the temporary access key has expired".into());
    }
    if let Some(wanted) = &key.security_token {
        if header(headers, "x-security-token") != Some(wanted.as_str())
            || !names.contains(&"x-security-token")
        {
            return Err("verify security token fail".into());
        }
    }
    let expected = signature_of(method, raw_path, raw_query, headers, &names, date, &key.sk)
        .ok_or_else(fail)?;
    if expected != signature {
        return Err(fail());
    }
    Ok(ak.to_string())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// RFC 3986 unreserved characters pass; every other byte becomes `%XX`.
fn encode(input: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::new();
    for &b in input {
        let unreserved =
            matches!(b, b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~');
        if unreserved {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    out
}

/// The signature the gateway expects, `None` when a signed header is missing.
fn signature_of(
    method: &str,
    raw_path: &str,
    raw_query: Option<&str>,
    headers: &HeaderMap,
    signed: &[&str],
    date: &str,
    sk: &str,
) -> Option<String> {
    let mut uri: String = raw_path
        .split('/')
        .map(|segment| {
            let decoded: Vec<u8> = percent_decode(segment.as_bytes());
            encode(&decoded)
        })
        .collect::<Vec<_>>()
        .join("/");
    if !uri.ends_with('/') {
        uri += "/";
    }
    // The gateway reads the query decoded (`+` is a space), sorts the decoded pairs, then
    // encodes each side again.
    let mut pairs: Vec<(String, String)> = raw_query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    pairs.sort();
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (encode(k.as_bytes()), encode(v.as_bytes())))
        .collect();
    let query = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut canonical_headers = String::new();
    let mut sorted: Vec<&str> = signed.to_vec();
    sorted.sort_unstable();
    for name in &sorted {
        let value = header(headers, name)?;
        canonical_headers += &format!("{name}:{}\n", value.trim());
    }
    let body_hash = hex::encode(Sha256::digest(b""));
    let canonical = [
        method,
        &uri,
        &query,
        &canonical_headers,
        &sorted.join(";"),
        &body_hash,
    ]
    .join("\n");
    let to_sign = format!(
        "SDK-HMAC-SHA256\n{date}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(sk.as_bytes()).ok()?;
    mac.update(to_sign.as_bytes());
    Some(hex::encode(mac.finalize().into_bytes()))
}

fn percent_decode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut rest = input;
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' && tail.len() >= 2 {
            let hi = char::from(tail[0]).to_digit(16);
            let lo = char::from(tail[1]).to_digit(16);
            if let (Some(hi), Some(lo)) = (hi, lo) {
                out.push((hi * 16 + lo) as u8);
                rest = &tail[2..];
                continue;
            }
        }
        out.push(b);
        rest = tail;
    }
    out
}

/// The body of `POST /v3/auth/tokens`, password method, project scope.
#[derive(Deserialize)]
pub(crate) struct TokenRequest {
    pub auth: AuthBody,
}

#[derive(Deserialize)]
pub(crate) struct AuthBody {
    pub identity: Identity,
    pub scope: Option<Scope>,
}

#[derive(Deserialize)]
pub(crate) struct Identity {
    pub methods: Vec<String>,
    pub password: Option<PasswordIdentity>,
}

#[derive(Deserialize)]
pub(crate) struct PasswordIdentity {
    pub user: UserIdentity,
}

#[derive(Deserialize)]
pub(crate) struct UserIdentity {
    pub name: String,
    pub password: String,
    pub domain: Named,
}

#[derive(Deserialize)]
pub(crate) struct Named {
    pub name: String,
}

#[derive(Deserialize)]
pub(crate) struct Scope {
    pub project: Option<ProjectScope>,
}

#[derive(Deserialize)]
pub(crate) struct ProjectScope {
    pub id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    /// The Python vectors (`tests/vectors/aksk/`) verify here too: this path is independent of
    /// the client's signer, and both agree with the script.
    #[test]
    fn accepts_the_vectors_and_refuses_tampering() {
        let vectors: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/vectors/aksk/vectors.json")).unwrap();
        for v in vectors.as_array().unwrap() {
            let s = |k: &str| v[k].as_str().unwrap().to_string();
            let mut headers = HeaderMap::new();
            for h in v["headers"].as_array().unwrap() {
                let name: axum::http::HeaderName =
                    h[0].as_str().unwrap().to_ascii_lowercase().parse().unwrap();
                headers.insert(name, HeaderValue::from_str(h[1].as_str().unwrap()).unwrap());
            }
            headers.insert(
                "authorization",
                HeaderValue::from_str(&s("authorization")).unwrap(),
            );
            // Spell the query as a form encoder does (space as `+`): the decoded pairs count.
            let query: String = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(
                    v["query"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|p| (p[0].as_str().unwrap(), p[1].as_str().unwrap())),
                )
                .finish();
            let raw_query = (!query.is_empty()).then_some(query.as_str());
            let at = NaiveDateTime::parse_from_str(&s("date"), "%Y%m%dT%H%M%SZ")
                .unwrap()
                .and_utc();
            let mut keys = BTreeMap::new();
            keys.insert(
                s("ak"),
                SimAkSk {
                    sk: s("sk"),
                    security_token: v["security_token"].as_str().map(String::from),
                    expires_at: None,
                },
            );
            let name = s("name");
            let path = s("path");
            assert_eq!(
                verify_aksk("GET", &path, raw_query, &headers, &keys, at),
                Ok(s("ak")),
                "{name}"
            );
            let late = at + chrono::Duration::minutes(20);
            assert!(verify_aksk("GET", &path, raw_query, &headers, &keys, late).is_err());
            keys.get_mut(&s("ak")).unwrap().sk.push('x');
            assert!(
                verify_aksk("GET", &path, raw_query, &headers, &keys, at).is_err(),
                "{name}: a wrong secret verifies"
            );
        }
    }
}
