//! A credential's secret value (token, AK, SK, security token, password), held by the
//! `secrecy` crate: it prints as `[redacted]`, is wiped from memory when dropped, and is read
//! only through [`Secret::expose`], at the one place that sends it. Every value made is also
//! registered with `redact`, so it is cut out of whatever text a server echoes back.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

use crate::redact;

/// A secret string that prints as `[redacted]`.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        let value = value.into();
        redact::register(&value);
        Secret(SecretString::from(value))
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Secret) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn a_secret_never_prints() {
        let secret = Secret::new("sk-very-secret");
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(secret.clone())), "Some([redacted])");
        assert_eq!(secret.expose(), "sk-very-secret");
        assert_eq!(secret, Secret::new("sk-very-secret"));
    }

    #[test]
    fn a_secret_made_is_cut_out_of_any_text() {
        let _secret = Secret::new("tok-echoed-by-a-gateway-0d9e");
        assert_eq!(
            crate::redact::redact("bad header x-auth-token: tok-echoed-by-a-gateway-0d9e"),
            "bad header x-auth-token: [redacted]"
        );
    }
}
