//! AK/SK request signing, `SDK-HMAC-SHA256`, byte for byte as the official Huawei Cloud SDKs
//! compute it (see `shared/api/API-NOTES.md`). Pure functions of their inputs, so the test
//! vectors in `tests/vectors/aksk/` pin them down.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub const ALGORITHM: &str = "SDK-HMAC-SHA256";

/// `hex(sha256(""))`: the body hash of a GET.
pub const EMPTY_BODY_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The `X-Sdk-Date` form: `YYYYMMDDTHHMMSSZ`, UTC.
pub fn sdk_date(now: DateTime<Utc>) -> String {
    now.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Percent-encodes everything but the unreserved `A-Za-z0-9-_.~`, upper-case hex, UTF-8 bytes.
/// So `+` is `%2B` and a space `%20`, never `+`.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Each segment of the (decoded) path escaped, with a trailing `/`.
pub fn canonical_uri(decoded_segments: &[String]) -> String {
    let mut uri = decoded_segments
        .iter()
        .map(|s| escape(s))
        .collect::<Vec<_>>()
        .join("/");
    if !uri.starts_with('/') {
        uri.insert(0, '/');
    }
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// Decoded query pairs, sorted by key then value, each side escaped, joined by `&`. The
/// gateway reads the pairs decoded, so how the URL spelled them (`+` or `%20`) does not matter.
pub fn canonical_query(decoded_pairs: &[(String, String)]) -> String {
    let mut pairs: Vec<(&str, &str)> = decoded_pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", escape(k), escape(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// What one signature covers.
#[derive(Debug, Clone)]
pub struct SignInput<'a> {
    pub method: &'a str,
    /// The path's segments after percent-decoding (`/v3/p/x` -> `["", "v3", "p", "x"]`).
    pub path_segments: Vec<String>,
    pub query: Vec<(String, String)>,
    /// The headers to sign: any case, values as sent.
    pub headers: Vec<(String, String)>,
    /// `hex(sha256(body))`.
    pub body_sha256: &'a str,
    /// The `X-Sdk-Date` value.
    pub date: &'a str,
}

/// The intermediate results, exposed so tests can compare each step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub canonical_request: String,
    pub string_to_sign: String,
    pub signed_headers: String,
    pub signature: String,
}

impl Signed {
    /// The `Authorization` header value.
    pub fn authorization(&self, ak: &str) -> String {
        format!(
            "{ALGORITHM} Access={ak}, SignedHeaders={}, Signature={}",
            self.signed_headers, self.signature
        )
    }
}

/// Signs with the secret key `sk`.
pub fn sign(input: &SignInput<'_>, sk: &str) -> Signed {
    let mut headers: Vec<(String, String)> = input
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    headers.sort();
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let mut names: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
    names.dedup();
    let signed_headers = names.join(";");
    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        input.method,
        canonical_uri(&input.path_segments),
        canonical_query(&input.query),
        canonical_headers,
        signed_headers,
        input.body_sha256
    );
    let string_to_sign = format!(
        "{ALGORITHM}\n{}\n{}",
        input.date,
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(sk.as_bytes()).expect("HMAC takes any key");
    mac.update(string_to_sign.as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    Signed {
        canonical_request,
        string_to_sign,
        signed_headers,
        signature,
    }
}

/// The `Host` header value for a URL: the host, plus the port when it is not the scheme's.
pub fn host_header(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// The decoded segments of a URL's path.
pub fn path_segments(url: &url::Url) -> Vec<String> {
    url.path().split('/').map(percent_decode).collect()
}

fn percent_decode(s: &str) -> String {
    // form_urlencoded would turn `+` into a space; a path keeps its `+`.
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Vectors computed by `tests/vectors/aksk/make_vectors.py`, an independent implementation.
    #[test]
    fn matches_the_independent_vectors() {
        let vectors: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/vectors/aksk/vectors.json")).unwrap();
        let vectors = vectors.as_array().unwrap();
        assert!(vectors.len() >= 4);
        for v in vectors {
            let s = |k: &str| v[k].as_str().unwrap().to_string();
            let pairs = |k: &str| -> Vec<(String, String)> {
                v[k].as_array()
                    .unwrap()
                    .iter()
                    .map(|p| (p[0].as_str().unwrap().into(), p[1].as_str().unwrap().into()))
                    .collect()
            };
            let url = url::Url::parse(&format!("http://{}{}", s("host"), s("path"))).unwrap();
            let date = s("date");
            let input = SignInput {
                method: v["method"].as_str().unwrap(),
                path_segments: path_segments(&url),
                query: pairs("query"),
                headers: pairs("headers"),
                body_sha256: EMPTY_BODY_SHA256,
                date: &date,
            };
            let signed = sign(&input, &s("sk"));
            let name = s("name");
            assert_eq!(signed.canonical_request, s("canonical_request"), "{name}");
            assert_eq!(signed.string_to_sign, s("string_to_sign"), "{name}");
            assert_eq!(signed.signature, s("signature"), "{name}");
            assert_eq!(signed.authorization(&s("ak")), s("authorization"), "{name}");
            assert_eq!(host_header(&url), s("host"), "{name}");
        }
    }

    #[test]
    fn escape_keeps_only_unreserved() {
        assert_eq!(escape("a+b c~d-e_f.g"), "a%2Bb%20c~d-e_f.g");
        assert_eq!(escape("é/"), "%C3%A9%2F");
    }

    #[test]
    fn uri_gets_a_trailing_slash() {
        let url = url::Url::parse("http://h:8080/v3/abc/scheduled-jobs?x=1").unwrap();
        assert_eq!(
            canonical_uri(&path_segments(&url)),
            "/v3/abc/scheduled-jobs/"
        );
        assert_eq!(host_header(&url), "h:8080");
        let url = url::Url::parse("https://h:443/").unwrap();
        assert_eq!(host_header(&url), "h");
        assert_eq!(canonical_uri(&path_segments(&url)), "/");
    }
}
