//! A job's fingerprint: its object as the API sent it, with the times normalised to UTC and
//! the keys sorted, hashed. Two sightings of a job are one version when their fingerprints
//! match, so an API that sends the same job once in `+0800` and once in `+0000` does not make
//! a new version. Archives hold these fingerprints, so the canonical text must never change.

use std::borrow::Cow;
use std::fmt;
use std::fmt::Write as _;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::time;

/// A fingerprint of a job's content: the received object with its times normalised to UTC
/// (empty, null and absent alike) and its keys sorted, hashed.
///
/// Every job of every page is fingerprinted, so this reads the top level of the object as raw
/// text slices (no map of parsed values), sorts them and hashes the canonical text at once. The
/// text is byte for byte what `serde_json` writes for the sorted, normalised object: archives
/// hold these fingerprints, and a different text would make every job look changed. Syncs take
/// the fingerprint from the fields they read anyway; this whole-text form is for tests.
#[cfg(test)]
pub(crate) fn content_hash(raw: &str) -> String {
    match JobFields::parse(raw) {
        Ok(fields) => fields.fingerprint(raw.len()),
        // Not an object (or not JSON): the text itself.
        Err(_) => hex_sha256(raw.as_bytes()),
    }
}

/// Lowercase hex of the SHA-256 of `bytes`.
fn hex_sha256(bytes: &[u8]) -> String {
    let mut digits = [0u8; 64];
    hex::encode_to_slice(Sha256::digest(bytes), &mut digits).expect("32 bytes are 64 digits");
    String::from_utf8(digits.to_vec()).expect("hex digits are ASCII")
}

/// A top-level object's fields in the order sent: each key (borrowed from the text unless it
/// had escapes) and its value's raw text. A job is read into this once, and both its typed
/// fields ([`crate::api::ScheduleTask`]) and its fingerprint come from it.
pub(crate) struct JobFields<'a>(pub(crate) Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'a> JobFields<'a> {
    /// Reads an object's top level; anything but one object is an error.
    pub(crate) fn parse(text: &'a str) -> serde_json::Result<JobFields<'a>> {
        serde_json::from_str(text)
    }

    /// The fingerprint of the object these fields were read from (`len` is its text's length,
    /// to size the canonical text).
    pub(crate) fn fingerprint(mut self, len: usize) -> String {
        let mut canonical = Vec::with_capacity(len + 16);
        in_key_order(&mut self.0);
        write_canonical_object(&self.0, &mut canonical);
        hex_sha256(&canonical)
    }
}

impl<'de> Deserialize<'de> for JobFields<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = JobFields<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut fields = Vec::with_capacity(16);
                while let Some((FieldKey(key), value)) = map.next_entry()? {
                    fields.push((key, value));
                }
                Ok(JobFields(fields))
            }
        }
        deserializer.deserialize_map(Fields)
    }
}

/// A key, borrowed when the text holds it without escapes (serde's own `Cow` always copies).
struct FieldKey<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for FieldKey<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Key;
        impl<'de> Visitor<'de> for Key {
            type Value = FieldKey<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Self::Value, E> {
                Ok(FieldKey(Cow::Borrowed(key)))
            }
            fn visit_str<E>(self, key: &str) -> Result<Self::Value, E> {
                Ok(FieldKey(Cow::Owned(key.to_owned())))
            }
        }
        deserializer.deserialize_str(Key)
    }
}

/// Sorts fields by key and keeps the last of a repeated key, as a sorted map of them would.
fn in_key_order(fields: &mut Vec<(Cow<'_, str>, &RawValue)>) {
    // Stable, so a repeated key's sightings stay in the order sent.
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    fields.dedup_by(|later, kept| {
        let repeated = later.0 == kept.0;
        if repeated {
            kept.1 = later.1;
        }
        repeated
    });
}

/// Writes a top-level object's fields in key order, with its times in the archive's form.
fn write_canonical_object(fields: &[(Cow<'_, str>, &RawValue)], out: &mut Vec<u8>) {
    out.push(b'{');
    let mut first = true;
    for (key, value) in fields {
        let time = if TIME_KEYS.contains(&key.as_ref()) {
            normalise_time(value)
        } else {
            TimeField::Keep
        };
        if let TimeField::Drop = time {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        match key {
            // Borrowed means the text had no escapes, so serde_json would write it as is.
            Cow::Borrowed(key) => write_quoted(key, out),
            Cow::Owned(key) => serde_json::to_writer(&mut *out, key).expect("writing to memory"),
        }
        out.push(b':');
        match time {
            TimeField::Utc(text) => write_quoted(&text, out),
            _ => write_canonical_value(value, out),
        }
    }
    out.push(b'}');
}

/// A string that needs no escapes, in quotes.
fn write_quoted(text: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    out.extend_from_slice(text.as_bytes());
    out.push(b'"');
}

/// The fields whose offsets are normalised.
const TIME_KEYS: [&str; 3] = ["create_time", "start_time", "end_time"];

/// What becomes of a time field in the fingerprint.
enum TimeField {
    /// Null, empty or blank: the same as no field.
    Drop,
    Utc(String),
    /// Not a time this program reads: kept as sent.
    Keep,
}

fn normalise_time(value: &RawValue) -> TimeField {
    let text = match plain_string(value.get()) {
        Some(text) => Cow::Borrowed(text),
        None => match serde_json::from_str::<Value>(value.get()) {
            Ok(Value::Null) => return TimeField::Drop,
            Ok(Value::String(text)) => Cow::Owned(text),
            _ => return TimeField::Keep,
        },
    };
    match time::parse_api(&text) {
        Ok(Some(t)) => TimeField::Utc(time::to_store(t)),
        Ok(None) => TimeField::Drop,
        Err(_) => TimeField::Keep,
    }
}

/// The text of a JSON string token without escapes: `serde_json` writes such a string back
/// exactly as it came (it escapes only quotes, backslashes and control characters, none of
/// which can stand unescaped in a string token).
pub(crate) fn plain_string(token: &str) -> Option<&str> {
    let inner = token.strip_prefix('"')?.strip_suffix('"')?;
    (!inner.contains('\\')).then_some(inner)
}

/// Whether `serde_json` writes this scalar token back unchanged once parsed: strings without
/// escapes, `true`, `false`, `null`, and integers in plain form that fit an i64. Other numbers
/// (`1.0`, `1e3`, `-0`) are written in serde_json's own form.
fn written_as_is(token: &str) -> bool {
    if plain_string(token).is_some() || matches!(token, "true" | "false" | "null") {
        return true;
    }
    let digits = token.strip_prefix('-').unwrap_or(token);
    let plain_integer = !digits.is_empty()
        && digits.len() <= 18
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    plain_integer && token != "-0"
}

/// A field's value as `serde_json` writes it once parsed: nested objects (a job's
/// target_config, say) with sorted keys, escapes and number forms normalised.
fn write_canonical_value(value: &RawValue, out: &mut Vec<u8>) {
    let token = value.get();
    if written_as_is(token) {
        out.extend_from_slice(token.as_bytes());
        return;
    }
    let parsed: Value = serde_json::from_str(token).expect("a RawValue is JSON");
    if parsed.is_object() || parsed.is_array() {
        let mut text = String::new();
        write_canonical(&parsed, &mut text);
        out.extend_from_slice(text.as_bytes());
    } else {
        serde_json::to_writer(&mut *out, &parsed).expect("writing to memory");
    }
}

/// JSON with object keys sorted at every level, so key order never makes two versions.
fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{}:", Value::String(k.clone()));
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fingerprint as first written (parsing the whole object into a `Value`): the fast
    /// one must give the same, or archives would see every job as changed.
    fn content_hash_by_value(raw: &str) -> String {
        let canonical = match serde_json::from_str::<Value>(raw) {
            Ok(Value::Object(mut map)) => {
                for key in ["create_time", "start_time", "end_time"] {
                    let utc = map
                        .get(key)
                        .and_then(Value::as_str)
                        .and_then(|s| time::parse_api(s).ok().flatten())
                        .map(|t| Value::String(time::to_store(t)));
                    match utc {
                        Some(v) => {
                            map.insert(key.to_string(), v);
                        }
                        None if map.get(key).is_none_or(|v| {
                            v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty())
                        }) =>
                        {
                            map.shift_remove(key);
                        }
                        None => {}
                    }
                }
                let mut out = String::new();
                write_canonical(&Value::Object(map), &mut out);
                out
            }
            _ => raw.to_string(),
        };
        hex::encode(Sha256::digest(canonical.as_bytes()))
    }

    #[test]
    fn hash_is_the_same_as_parsing_the_whole_object() {
        let mut corpus = crate::simulate::sample_job_texts(500);
        corpus.extend(
            [
                r#"{"job_id":"1","create_time":"2024-03-01T08:00:00+0800","start_time":"","end_time":null}"#,
                r#"{"job_id":"1","create_time":"  ","start_time":"soon","end_time":17}"#,
                r#"{"job_id":"1","create_time":"2024-03-01T08:00:00.5+08:00","x":[3,{"b":1,"a":2}]}"#,
                r#"{"b":1.0,"a":1e3,"c":-0,"d":12345678901234567890,"e":0.1,"f":true,"g":null}"#,
                r#"{"n":0,"m":-5,"o":123456789012345678,"p":-9223372036854775808,"q":1E3,"r":-0.0}"#,
                r#"{"s":"","t":"x\"y","u":"\\","v":"\u00e9t\u00e9","create_time":"2024-03-01T08:00:00\u002b0800"}"#,
                r#"{"k\u00e9y":"caf\u00e9","quote\"":"a\/b","tab":"\t","ctl":"\u0001"}"#,
                r#"{"dup":1,"dup":2,"target_config":{"z":{"y":1,"x":[]},"a":"\ud83d\ude00"}}"#,
                r#"{}"#,
                r#"[1,2,3]"#,
                r#""a string""#,
                r#"not json"#,
                r#"{"job_id":"1","create_time":"2024-03-01T08:00:00+0800"} trailing"#,
            ]
            .map(String::from),
        );
        for raw in &corpus {
            assert_eq!(content_hash(raw), content_hash_by_value(raw), "{raw}");
        }
    }

    #[test]
    fn hash_ignores_offset_form_and_key_order() {
        let a = r#"{"job_id":"1","create_time":"2024-03-01T08:00:00+0800","start_time":"","t":{"a":1,"b":2}}"#;
        let b = r#"{"t":{"b":2,"a":1},"create_time":"2024-03-01T00:00:00+0000","job_id":"1"}"#;
        assert_eq!(content_hash(a), content_hash(b));
        let c = r#"{"t":{"b":2,"a":1},"create_time":"2024-03-01T00:00:01+0000","job_id":"1"}"#;
        assert_ne!(content_hash(a), content_hash(c));
        let d = r#"{"job_id":"1","create_time":"2024-03-01T08:00:00+0800","new_field":1,"t":{"a":1,"b":2}}"#;
        assert_ne!(content_hash(a), content_hash(d));
    }

    /// Fingerprints as archives hold them. These hex values were computed once and must
    /// never change: a different value for the same job would make every stored job look
    /// changed on the next sync. If this fails, the canonical text changed; fix the code, not
    /// the values. (They also match an independent canonicalisation: the SHA-256 of Python's
    /// `json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` after the
    /// times are rewritten in UTC and empty or null ones dropped.)
    #[test]
    fn golden_fingerprints_never_change() {
        let golden = [
            // A finished job as the API documents it, times at +0800.
            (
                r#"{"job_id":"a8f4b8e6-4a2e-4f4b-9c1d-9f5e8d2b7c31","instance_id":"79bc540dd4d6432784894a981fdfacfcin07","instance_name":"gauss-f821","instance_status":"normal","project_id":"0a1b2c3d4e5f60718293a4b5c6d7e8f9","job_name":"RebootGaussDBforMySQLInstance","create_time":"2024-03-01T08:00:00+0800","start_time":"2024-03-01T08:05:00+0800","end_time":"2024-03-01T08:09:30+0800","job_status":"Completed","datastore_type":"gaussdb-mysql","target_config":{}}"#,
                "a055c5ffd24ff30aeee658a57101ca80898a2e255bebc172d99b0a1ca9509064",
            ),
            // Pending: start time empty, end time null, and (the same thing) absent.
            (
                r#"{"job_id":"pending00000000000000000000000001","instance_id":"79bc540dd4d6432784894a981fdfacfcin07","instance_name":"gauss-f821","instance_status":"normal","project_id":"0a1b2c3d4e5f60718293a4b5c6d7e8f9","job_name":"UpgradeGaussDBforMySQLDatabase","create_time":"2024-02-29T23:59:59+0000","start_time":"","end_time":null,"job_status":"Pending","datastore_type":"gaussdb-mysql"}"#,
                "c26201b4d4114eea970ff16ade90011aadd78bd7623fd01765367f3ac30020fb",
            ),
            (
                r#"{"job_id":"pending00000000000000000000000001","instance_id":"79bc540dd4d6432784894a981fdfacfcin07","instance_name":"gauss-f821","instance_status":"normal","project_id":"0a1b2c3d4e5f60718293a4b5c6d7e8f9","job_name":"UpgradeGaussDBforMySQLDatabase","create_time":"2024-02-29T23:59:59+0000","job_status":"Pending","datastore_type":"gaussdb-mysql"}"#,
                "c26201b4d4114eea970ff16ade90011aadd78bd7623fd01765367f3ac30020fb",
            ),
            // A resize with a nested target_config, unicode names (raw and escaped), numbers
            // and an undocumented field.
            (
                r#"{"job_id":"b1c2d3e4-0000-4000-8000-00000000beef","instance_id":"4d0c2b1a9e8f4c7d8b6a5f4e3d2c1b0ain07","instance_name":"订单库-主","instance_status":"normal","project_id":"0a1b2c3d4e5f60718293a4b5c6d7e8f9","job_name":"ResizeGaussDBforMySQLFlavor","create_time":"2024-03-10T17:30:00-0530","start_time":"2024-03-10T17:31:00-0530","end_time":"","job_status":"Running","datastore_type":"gaussdb-mysql","target_config":{"vcpus":"8","ram":"32","spec":{"flavor_ref":"gaussdb.mysql.2xlarge.x86.8","nodes":[{"name":"n\u00f6de-1","ha":true},{"name":"ノード-2","weight":1.5}]},"note":"Größe ändern ✓"},"proxy_id":null}"#,
                "7ff9901491644031c68a58797ca6bc8060551dd0ed5959a261fe509051891dce",
            ),
        ];
        for (raw, want) in golden {
            assert_eq!(content_hash(raw), want, "{raw}");
        }
    }
}
