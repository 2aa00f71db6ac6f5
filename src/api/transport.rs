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
