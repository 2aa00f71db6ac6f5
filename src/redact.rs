//! The secret values this process holds, and [`redact`], which takes them out of any text
//! before it is printed, logged or stored. Secrets are registered where they are made (see
//! `api::secret`), so a token got from IAM mid-run is known as soon as it exists; the text
//! cleaned can come from anywhere, a server's error body included (some gateways echo the
//! request's headers back).

use std::borrow::Cow;
use std::sync::RwLock;

/// What replaces a secret.
pub const REDACTED: &str = "[redacted]";

/// Shorter values are not secrets worth the name, and replacing them would mangle ordinary
/// words and numbers in every message.
pub const MIN_LEN: usize = 4;

/// Every registered value, longest first, so a secret that contains another is replaced
/// whole.
static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Remembers `value` (and its JSON-escaped spelling, which is what a JSON log line or a
/// JSON error body holds) for the rest of the process.
pub fn register(value: &str) {
    let mut forms = vec![value.to_string()];
    let escaped = serde_json::to_string(value).unwrap_or_default();
    let escaped = escaped
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(&escaped);
    if escaped != value {
        forms.push(escaped.to_string());
    }
    // A poisoned lock still holds a whole list: a push never leaves it half-written.
    let mut secrets = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    for form in forms {
        if form.chars().count() >= MIN_LEN && !secrets.contains(&form) {
            secrets.push(form);
        }
    }
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// `text` with every registered secret replaced by `[redacted]`; borrowed when there is
/// nothing to replace, which is nearly always.
pub fn redact(text: &str) -> Cow<'_, str> {
    let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    let mut out = Cow::Borrowed(text);
    for secret in secrets.iter() {
        if out.contains(secret.as_str()) {
            out = Cow::Owned(out.replace(secret.as_str(), REDACTED));
        }
    }
    out
}

/// [`redact`] for text that is bytes (log lines). Bytes that are not UTF-8 are left as they
/// are unless a secret has to be cut out of them; then they are read lossily.
pub fn redact_bytes(bytes: &[u8]) -> Cow<'_, [u8]> {
    match std::str::from_utf8(bytes) {
        Ok(text) => match redact(text) {
            Cow::Borrowed(_) => Cow::Borrowed(bytes),
            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
        },
        Err(_) => {
            let lossy = String::from_utf8_lossy(bytes);
            match redact(&lossy) {
                Cow::Borrowed(_) => Cow::Borrowed(bytes),
                Cow::Owned(s) => Cow::Owned(s.into_bytes()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_values_are_replaced_wherever_they_appear() {
        register("tok-redact-test-7f3a");
        register("tok-redact-test-7f3a-longer");
        let text = "HTTP 401: bad header x-auth-token=tok-redact-test-7f3a-longer, \
                    and again tok-redact-test-7f3a.";
        assert_eq!(
            redact(text),
            "HTTP 401: bad header x-auth-token=[redacted], and again [redacted]."
        );
        assert!(matches!(redact("nothing to hide"), Cow::Borrowed(_)));
    }

    #[test]
    fn json_escaped_spellings_are_replaced_too() {
        register("pw\"with\\quote-9c1e");
        let line = serde_json::json!({"message": "echo: pw\"with\\quote-9c1e"}).to_string();
        assert!(!redact(&line).contains("quote-9c1e"), "{}", redact(&line));
    }

    #[test]
    fn short_values_are_not_registered() {
        register("abc");
        assert_eq!(redact("abc abcd"), "abc abcd");
    }

    #[test]
    fn bytes_that_are_not_utf8_keep_their_other_bytes() {
        register("bytes-secret-41d2");
        let mut line = b"\xff bytes-secret-41d2\n".to_vec();
        assert_eq!(&*redact_bytes(&line), "\u{fffd} [redacted]\n".as_bytes());
        line = b"plain\n".to_vec();
        assert!(matches!(redact_bytes(&line), Cow::Borrowed(_)));
    }
}
