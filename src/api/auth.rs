//! Credentials for the API and how they are put on a request. Secrets never reach `Debug`,
//! `Display`, logs or errors.

use std::fmt;

use reqwest::RequestBuilder;

/// A secret string that prints as `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// How requests prove who they are.
#[derive(Debug, Clone)]
pub enum Credential {
    /// An IAM token, sent as `X-Auth-Token`.
    Token(Secret),
}

impl Credential {
    /// Adds the credential's headers to a request.
    pub fn apply(&self, request: RequestBuilder) -> RequestBuilder {
        match self {
            Credential::Token(token) => request.header("X-Auth-Token", token.expose()),
        }
    }

    /// Where the credential came from, for messages ("token from GAUSSJOBS_TOKEN").
    pub fn describe(&self) -> &'static str {
        match self {
            Credential::Token(_) => "IAM token",
        }
    }
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
    }
}
