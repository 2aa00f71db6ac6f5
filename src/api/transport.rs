//! What every HTTP client of this room (the API's and IAM's) shares: redirects followed only
//! within the origin the request went to, and answers read with a cap on their size.

use url::Url;

/// The most of one answer that is read. A page of 100 jobs is 50-100 KB and IAM's token
/// answer a few KB, so 8 MiB is far beyond any honest answer, yet small enough that an
/// endless or absurd body (a broken proxy, a hostile server) ends in an error instead of
/// taking the machine's memory.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Same-origin redirects followed in a row before giving up.
const MAX_REDIRECTS: usize = 5;

/// reqwest's default policy follows a redirect anywhere and takes the request's headers
/// along: `X-Auth-Token`, `X-Security-Token`, the signature, and (on 307/308) IAM's password
/// body. This one follows only a redirect to the origin (scheme, host and port) the request
/// was first sent to; any other is handed back as the 3xx it is, for the caller to refuse.
pub(crate) fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same_origin = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if same_origin && attempt.previous().len() <= MAX_REDIRECTS {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// Where a 3xx answer points, resolved against the URL that answered; `None` when the answer
/// is not a redirect or names nowhere readable.
pub(crate) fn redirect_target(response: &reqwest::Response) -> Option<Url> {
    if !response.status().is_redirection() {
        return None;
    }
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)?
        .to_str()
        .ok()?;
    response.url().join(location).ok()
}

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// It is longer than [`MAX_BODY_BYTES`]; reading stopped there.
    TooLarge,
    Transport(reqwest::Error),
}

/// The whole body, read chunk by chunk so that no more than [`MAX_BODY_BYTES`] is ever held;
/// a declared length above the cap is refused before anything is read.
pub(crate) async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, BodyError> {
    let declared = response.content_length().unwrap_or(0);
    if declared > MAX_BODY_BYTES as u64 {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::with_capacity(declared as usize);
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The cap as people read it.
pub(crate) fn cap_text() -> String {
    format!("{} MiB", MAX_BODY_BYTES / (1024 * 1024))
}

/// How this machine reaches the network: extra certificate authorities to trust on top of the
/// system's (and `SSL_CERT_FILE` / `SSL_CERT_DIR`), and a proxy that overrides `HTTPS_PROXY`
/// and friends. The same for the API, IAM and the metadata service of one account.
#[derive(Clone, Default)]
pub struct Network {
    /// Certificates of `--ca-bundle`, already read.
    pub extra_roots: Vec<reqwest::Certificate>,
    /// `--proxy`: every request goes through it (except hosts `NO_PROXY` names).
    pub proxy: Option<Url>,
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network")
            .field("extra_roots", &self.extra_roots.len())
            .field("proxy", &self.proxy.as_ref().map(proxy_shown))
            .finish()
    }
}

/// A proxy URL as it may be shown: its password (and a lone user name) as `***`.
pub fn proxy_shown(url: &Url) -> String {
    let mut shown = url.clone();
    if !url.username().is_empty() {
        if url.password().is_some() {
            let _ = shown.set_password(Some("***"));
        } else {
            let _ = shown.set_username("***");
        }
    }
    shown.to_string()
}

/// Reads a PEM bundle: every certificate in it. An error when there is none.
pub fn read_ca_bundle(text: &[u8]) -> Result<Vec<reqwest::Certificate>, String> {
    let certs = reqwest::Certificate::from_pem_bundle(text).map_err(|e| e.to_string())?;
    if certs.is_empty() {
        return Err("it holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into());
    }
    Ok(certs)
}

/// A client builder with what every client of this room shares: the user agent, redirects
/// kept within the origin, the trusted roots and the proxy. Without `--proxy`, reqwest reads
/// `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (either case) itself.
fn client_builder(network: &Network) -> Result<reqwest::ClientBuilder, String> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("gaussjobs/", env!("CARGO_PKG_VERSION")))
        .redirect(redirect_policy());
    for cert in &network.extra_roots {
        builder = builder.add_root_certificate(cert.clone());
    }
    if let Some(url) = &network.proxy {
        // A proxy added here replaces the environment's; NO_PROXY still exempts its hosts.
        let proxy = reqwest::Proxy::all(url.as_str())
            .map_err(|e| format!("--proxy {}: {e}", proxy_shown(url)))?
            .no_proxy(reqwest::NoProxy::from_env());
        builder = builder.proxy(proxy);
    }
    Ok(builder)
}

/// A client of [`client_builder`] with `configure`'s settings (timeouts, no proxy). When it
/// cannot be built, the error says why and no other client stands in: reqwest's default one
/// would leave out `--ca-bundle` and take the environment's proxy.
pub(crate) fn build_client(
    network: &Network,
    configure: impl FnOnce(reqwest::ClientBuilder) -> reqwest::ClientBuilder,
) -> Result<reqwest::Client, String> {
    configure(client_builder(network)?)
        .build()
        .map_err(|e| innermost(&e))
}

/// The innermost cause of a transport error: it says what happened ("Connection refused",
/// "invalid peer certificate: UnknownIssuer"); reqwest's own text only says a request failed.
pub(crate) fn innermost(e: &reqwest::Error) -> String {
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    detail
}

/// Whether a transport error is a certificate that did not verify.
pub(crate) fn is_untrusted(detail: &str) -> bool {
    detail.contains("invalid peer certificate")
        || detail.contains("UnknownIssuer")
        || detail.contains("certificate verify failed")
}
