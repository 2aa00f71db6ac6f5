//! Times: the user's forms (`--since`), the API's `+hhmm` form, and the archive's UTC text.
//!
//! Everything inside the program is `DateTime<Utc>`; text only exists at the edges.

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, SecondsFormat, Timelike,
    Utc,
};

/// The archive's time form: UTC with a `Z`, second precision. SQLite's date functions read it
/// and it sorts as text.
pub fn to_store(t: DateTime<Utc>) -> String {
    // Every archived job has up to three times, and the fingerprint formats them again, so
    // the common case is written by hand; chrono keeps the rest (years outside 0..=9999, which
    // it writes with a sign, and leap seconds, which it writes as :60).
    let utc = t.naive_utc();
    let year = utc.year();
    if !(0..=9999).contains(&year) || utc.nanosecond() >= 1_000_000_000 {
        return t.to_rfc3339_opts(SecondsFormat::Secs, true);
    }
    let mut text = *b"0000-00-00T00:00:00Z";
    let fields = [
        (0, 4, year as u32),
        (5, 2, utc.month()),
        (8, 2, utc.day()),
        (11, 2, utc.hour()),
        (14, 2, utc.minute()),
        (17, 2, utc.second()),
    ];
    for (at, width, mut value) in fields {
        for digit in text[at..at + width].iter_mut().rev() {
            *digit = b'0' + (value % 10) as u8;
            value /= 10;
        }
    }
    String::from_utf8(text.to_vec()).expect("digits and separators are ASCII")
}

/// Reads a time written by [`to_store`] (or any RFC 3339 time).
pub fn from_store(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The API's request form, `yyyy-mm-ddThh:mm:ss+0000`. The `+` must be percent-encoded in a
/// query string, which the URL builder does.
pub fn to_api(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S+0000").to_string()
}

/// Formats a time in the API's form at a given offset, as the real service does (`+0800`).
pub fn to_api_at(t: DateTime<Utc>, offset: FixedOffset) -> String {
    t.with_timezone(&offset)
        .format("%Y-%m-%dT%H:%M:%S%z")
        .to_string()
}

/// Parses a time as the API sends it. The documented form is `2018-08-06T10:41:14+0000`; RFC
/// 3339 (`+08:00`, `Z`) and fractional seconds are accepted too, and a time without an offset is
/// taken as UTC. Empty text is "no time"; `Err` means text that is no time at all.
pub fn parse_api(s: &str) -> Result<Option<DateTime<Utc>>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if let Some(t) = parse_documented(s) {
        return Ok(Some(t));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Ok(Some(t.with_timezone(&Utc)));
        }
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Ok(Some(t.and_utc()));
        }
    }
    Err(format!("unrecognised time {s:?}"))
}

/// The documented form `2018-08-06T10:41:14+0800`, read without chrono's format parser: every
/// job carries three times, which made `parse_from_str` a visible share of a sync's CPU. Any
/// other text (or a value out of range) is `None`, and the general parsers decide.
fn parse_documented(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    if b.len() != 24 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' {
        return None;
    }
    let number = |from: usize, len: usize| -> Option<u32> {
        b[from..from + len].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let sign = match b[19] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(number(0, 4)? as i32, number(5, 2)?, number(8, 2)?)?;
    let local = date.and_hms_opt(number(11, 2)?, number(14, 2)?, number(17, 2)?)?;
    let (hours, minutes) = (number(20, 2)?, number(22, 2)?);
    if minutes >= 60 {
        return None;
    }
    let offset = FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60) as i32)?;
    Some(
        local
            .and_local_timezone(offset)
            .single()?
            .with_timezone(&Utc),
    )
}

/// Parses a time the user typed: RFC 3339 (`2024-03-01T00:00:00Z`), the API's form
/// (`2024-03-01T08:00:00+0800`), a date (`2024-03-01`, midnight UTC) or an age before `now`
/// (`30d`, `12h`, `1week`), or `now`.
pub fn parse_user_time(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    if s.contains('T') || s.contains(':') {
        return match parse_api(s) {
            Ok(Some(t)) => Ok(t),
            _ => Err(format!(
                "{s:?} is not a time; use RFC 3339 (2024-03-01T00:00:00Z), the API's form \
                 (2024-03-01T08:00:00+0800), a date (2024-03-01) or an age (30d, 12h)"
            )),
        };
    }
    match humantime::parse_duration(s) {
        Ok(age) => {
            let age = Duration::from_std(age).map_err(|_| format!("age {s:?} is too large"))?;
            now.checked_sub_signed(age)
                .ok_or_else(|| format!("age {s:?} reaches before the calendar"))
        }
        Err(_) => Err(format!(
            "{s:?} is not a time; use RFC 3339 (2024-03-01T00:00:00Z), the API's form \
             (2024-03-01T08:00:00+0800), a date (2024-03-01) or an age (30d, 12h)"
        )),
    }
}

/// Parses a duration the user typed (`1d`, `6h`, `90m`), refusing zero.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s.trim())
        .map_err(|e| format!("{s:?} is not a duration ({e}); write it like 1d, 6h or 30m"))?;
    let d = Duration::from_std(d).map_err(|_| format!("duration {s:?} is too large"))?;
    Ok(d)
}

/// A duration as people write it: `1day`, `6h`, `30m`.
pub fn format_duration(d: Duration) -> String {
    humantime::format_duration(d.to_std().unwrap_or_default()).to_string()
}

/// Current time truncated to whole seconds, the API's precision.
pub fn now_secs() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp(now.timestamp(), 0).expect("now is representable")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path agrees with chrono's parser, and leaves what it does not read to it.
    #[test]
    fn documented_form_reads_as_chrono_does() {
        for text in [
            "2018-08-06T10:41:14+0800",
            "2018-08-06T10:41:14-0530",
            "2018-12-31T23:59:59-1200",
            "2024-02-29T00:00:00+1400",
            "1970-01-01T00:00:00+0000",
        ] {
            let chrono = DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%z")
                .unwrap()
                .with_timezone(&Utc);
            assert_eq!(parse_documented(text), Some(chrono), "{text}");
        }
        for text in [
            "2023-02-29T00:00:00+0800",
            "2018-08-06T24:00:00+0800",
            "2018-08-06T10:41:14+0860",
            "2018-08-06T10:41:14Z",
            "2018-08-06 10:41:14+0800",
            "2018-08-06T10:41:1x+0800",
            "2018-08-06T10:41:14*0800",
        ] {
            assert_eq!(parse_documented(text), None, "{text}");
        }
    }

    /// The hand-written archive form is chrono's RFC 3339 form, including at the edges it
    /// leaves to chrono.
    #[test]
    fn store_form_is_chronos_rfc3339() {
        let mut seconds: i64 = -62_167_219_200; // 0000-01-01T00:00:00Z
        while seconds < 253_402_300_800 + 86_400 * 400 {
            let t = DateTime::from_timestamp(seconds, 0).unwrap();
            assert_eq!(to_store(t), t.to_rfc3339_opts(SecondsFormat::Secs, true));
            // A stride that is no multiple of a day, minute or hour walks every field.
            seconds += 7_919_993;
        }
        for t in [
            DateTime::from_timestamp(-62_167_219_201, 0).unwrap(),
            DateTime::from_timestamp(253_402_300_799, 999_999_999).unwrap(),
            DateTime::from_timestamp(253_402_300_800, 0).unwrap(),
            DateTime::from_timestamp(1_483_228_799, 1_500_000_000).unwrap(),
        ] {
            assert_eq!(to_store(t), t.to_rfc3339_opts(SecondsFormat::Secs, true));
        }
        assert_eq!(
            to_store(DateTime::from_timestamp(1_483_228_799, 1_500_000_000).unwrap()),
            "2016-12-31T23:59:60Z"
        );
    }

    fn utc(s: &str) -> DateTime<Utc> {
        from_store(s).unwrap()
    }

    #[test]
    fn api_times_in_any_offset_become_utc() {
        assert_eq!(
            parse_api("2018-08-06T10:41:14+0800").unwrap(),
            Some(utc("2018-08-06T02:41:14Z"))
        );
        assert_eq!(
            parse_api("2018-08-06T10:41:14-0530").unwrap(),
            Some(utc("2018-08-06T16:11:14Z"))
        );
        assert_eq!(
            parse_api("2018-08-06T10:41:14Z").unwrap(),
            Some(utc("2018-08-06T10:41:14Z"))
        );
        assert_eq!(
            parse_api("2018-08-06T10:41:14.250+00:00").unwrap(),
            Some(utc("2018-08-06T10:41:14.250Z"))
        );
        assert_eq!(parse_api("").unwrap(), None);
        assert!(parse_api("yesterday").is_err());
    }

    #[test]
    fn api_request_form_is_utc_with_plus_offset() {
        let t = utc("2024-03-01T00:00:00Z");
        assert_eq!(to_api(t), "2024-03-01T00:00:00+0000");
        let cst = FixedOffset::east_opt(8 * 3600).unwrap();
        assert_eq!(to_api_at(t, cst), "2024-03-01T08:00:00+0800");
        assert_eq!(to_store(t), "2024-03-01T00:00:00Z");
    }

    #[test]
    fn user_times_in_every_documented_form() {
        let now = utc("2024-03-31T12:00:00Z");
        let want = utc("2024-03-01T00:00:00Z");
        assert_eq!(parse_user_time("2024-03-01T00:00:00Z", now).unwrap(), want);
        assert_eq!(
            parse_user_time("2024-03-01T08:00:00+0800", now).unwrap(),
            want
        );
        assert_eq!(
            parse_user_time("2024-03-01T08:00:00+08:00", now).unwrap(),
            want
        );
        assert_eq!(parse_user_time("2024-03-01", now).unwrap(), want);
        assert_eq!(
            parse_user_time("30d", now).unwrap(),
            utc("2024-03-01T12:00:00Z")
        );
        assert_eq!(
            parse_user_time("12h", now).unwrap(),
            utc("2024-03-31T00:00:00Z")
        );
        let err = parse_user_time("last tuesday", now).unwrap_err();
        assert!(err.contains("RFC 3339"), "{err}");
        assert!(parse_user_time("2024-13-01", now).is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1d").unwrap(), Duration::days(1));
        assert_eq!(parse_duration("6h").unwrap(), Duration::hours(6));
        assert!(parse_duration("soon").is_err());
    }
}
