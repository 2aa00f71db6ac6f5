//! Text on its way to a terminal. Names and error messages come from the API, which we do not
//! control: printed raw, an ESC sequence could recolour, retitle or rewrite the user's
//! terminal, and a bidi override could make text read as something it is not.

use std::borrow::Cow;

/// Text as a terminal may show it: control characters (ESC, BEL, CR, newlines, C1) and the
/// invisible bidirectional overrides become visible escapes such as `\x1b` and `\u{202e}`.
/// Tables and the final error line use this; JSON, NDJSON and CSV stay byte-exact for
/// programs.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !needs_escape(c) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    Cow::Owned(out)
}

/// A count with its noun, `1 window` or `61 windows`: the plural only when it is not one.
pub fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    match n.into() {
        1 => format!("1 {one}"),
        n => format!("{n} {many}"),
    }
}

/// C0, DEL and C1 controls, and the bidi embedding/override/isolate marks that can make text
/// read differently from what it is.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_say_one_or_many() {
        assert_eq!(count(1u64, "window", "windows"), "1 window");
        assert_eq!(count(0u64, "window", "windows"), "0 windows");
        assert_eq!(
            count(61u64, "earlier run", "earlier runs"),
            "61 earlier runs"
        );
    }

    #[test]
    fn controls_and_bidi_marks_become_visible_and_the_rest_is_kept() {
        assert!(matches!(printable("plain ünïcode"), Cow::Borrowed(_)));
        assert_eq!(
            printable("a\u{1b}[31mb\u{7}c\nd\u{9b}e\u{202e}f"),
            r"a\x1b[31mb\x07c\x0ad\u{9b}e\u{202e}f"
        );
    }
}
