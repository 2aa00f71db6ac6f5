//! Time flags, read once per command with one rule for every command that takes a range:
//! `--since` must be before `--until`, and a bad value is a usage error naming its flag. A
//! sync's range has more rules (`sync_range`): it is what the run will ask the API for, and
//! what every later run continues from.

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::exit::{usage, usage_with_hint};
use crate::sync::MAX_PLANNED_WINDOWS;
use crate::time;

/// No job of the service is older than this: GaussDB(for MySQL) did not exist before 2015. A
/// `--since` earlier than it is a typo (`0026-11-01` for `2026-11-01`) that would plan
/// hundreds of thousands of windows and widen the scope of every later run.
pub(crate) fn product_epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2015, 1, 1, 0, 0, 0)
        .single()
        .expect("a valid date")
}

/// How far ahead of this machine's clock `--until` may reach: the server's clock may run a
/// little ahead, and a job it creates "in the future" must still fall in the range.
const CLOCK_SLACK: Duration = Duration::days(1);

/// A create-time range: inclusive start, exclusive end, either open.
type TimeRange = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// Reads one time flag (`flag` as the user typed it, e.g. `--since`).
pub(crate) fn user_time(
    flag: &str,
    value: Option<&str>,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<DateTime<Utc>>> {
    value
        .map(|v| time::parse_user_time(v, now).map_err(|e| usage(format!("{flag}: {e}"))))
        .transpose()
}

/// Reads `--since` and `--until`. An empty or reversed range is refused: it can only be a
/// typo, and a sync of it would plan nothing while reporting success.
pub(crate) fn time_range(
    since: Option<&str>,
    until: Option<&str>,
    now: DateTime<Utc>,
) -> anyhow::Result<TimeRange> {
    let since = user_time("--since", since, now)?;
    let until = user_time("--until", until, now)?;
    if let (Some(s), Some(u)) = (since, until) {
        if s >= u {
            return Err(usage(format!(
                "--since ({}) must be before --until ({})",
                time::to_store(s),
                time::to_store(u)
            )));
        }
    }
    Ok((since, until))
}

/// Reads a sync's `--since` and `--until` and checks them against `window`: the range starts
/// after the product existed and not in the future, ends no later than a day from now, and
/// needs at most `MAX_PLANNED_WINDOWS` windows. Each refusal shows the time as parsed, so a
/// typo is visible.
pub(crate) fn sync_range(
    since: Option<&str>,
    until: Option<&str>,
    window: Duration,
    now: DateTime<Utc>,
) -> anyhow::Result<TimeRange> {
    let (since, until) = time_range(since, until, now)?;
    if let Some(u) = until {
        if u > now + CLOCK_SLACK {
            return Err(usage(format!(
                "--until ({}) is in the future; a sync can only fetch jobs that exist",
                time::to_store(u)
            )));
        }
    }
    if let Some(s) = since {
        if s < product_epoch() {
            return Err(usage_with_hint(
                format!(
                    "--since ({}) is before {}, when the service began",
                    time::to_store(s),
                    time::to_store(product_epoch())
                ),
                "check the year: write a date like 2026-11-01 or an age like 30d",
            ));
        }
        if s > now {
            return Err(usage_with_hint(
                format!(
                    "--since ({}) is in the future: the sync would archive nothing",
                    time::to_store(s)
                ),
                "write a time before now, e.g. an age like 30d",
            ));
        }
        let end = until.unwrap_or(now);
        let windows = ((end - s).num_seconds() / window.num_seconds().max(1)).unsigned_abs();
        if windows > MAX_PLANNED_WINDOWS {
            return Err(usage_with_hint(
                format!(
                    "--since ({}) with --window {} would plan {windows} windows, more than {MAX_PLANNED_WINDOWS}",
                    time::to_store(s),
                    time::format_duration(window),
                ),
                "use a longer --window, or sync a shorter range at a time",
            ));
        }
    }
    Ok((since, until))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 3, 6, 0, 0, 0).unwrap()
    }

    #[test]
    fn a_range_must_not_be_empty_or_reversed() {
        for (since, until) in [("2024-03-02", "2024-03-02"), ("2024-03-03", "2024-03-02")] {
            let err = time_range(Some(since), Some(until), now()).unwrap_err();
            assert!(err.to_string().contains("must be before --until"), "{err}");
        }
        let (s, u) = time_range(Some("2024-03-01"), Some("2024-03-02"), now()).unwrap();
        assert!(s.unwrap() < u.unwrap());
        assert_eq!(time_range(None, None, now()).unwrap(), (None, None));
    }

    #[test]
    fn a_sync_range_starts_after_the_service_began_and_before_now() {
        let day = Duration::days(1);
        let err = sync_range(Some("0026-11-01"), None, day, now()).unwrap_err();
        assert!(
            err.to_string()
                .contains("--since (0026-11-01T00:00:00Z) is before 2015-01-01T00:00:00Z"),
            "{err}"
        );
        let err = sync_range(Some("2024-03-07"), None, day, now()).unwrap_err();
        assert!(
            err.to_string()
                .contains("--since (2024-03-07T00:00:00Z) is in the future"),
            "{err}"
        );
        let err = sync_range(None, Some("2024-03-08"), day, now()).unwrap_err();
        assert!(
            err.to_string()
                .contains("--until (2024-03-08T00:00:00Z) is in the future"),
            "{err}"
        );
        let err = sync_range(Some("2015-01-01"), None, Duration::minutes(1), now()).unwrap_err();
        assert!(
            err.to_string().contains("would plan 4826880 windows"),
            "{err}"
        );
        let (s, u) =
            sync_range(Some("2015-01-01"), Some("2024-03-06T12:00:00Z"), day, now()).unwrap();
        assert_eq!(s, Some(product_epoch()));
        assert!(u.is_some());
    }

    #[test]
    fn a_bad_time_names_its_flag() {
        let err = time_range(None, Some("last tuesday"), now()).unwrap_err();
        assert!(err.to_string().starts_with("--until: "), "{err}");
    }

    proptest::proptest! {
        /// Any text in any time flag, with any window, gives a range or an error, never a
        /// panic; the sync range's times, when given, lie between the epoch and tomorrow.
        #[test]
        fn no_time_flag_panics(
            since in proptest::option::of(time_text()),
            until in proptest::option::of(time_text()),
            window in 1i64..10_000_000_000i64,
        ) {
            let _ = time_range(since.as_deref(), until.as_deref(), now());
            if let Ok((s, u)) = sync_range(since.as_deref(), until.as_deref(), Duration::seconds(window), now()) {
                if let Some(s) = s {
                    proptest::prop_assert!(s >= product_epoch() && s <= now());
                }
                if let Some(u) = u {
                    proptest::prop_assert!(u <= now() + CLOCK_SLACK);
                }
            }
        }

        #[test]
        fn no_duration_text_panics(text in time_text()) {
            let _ = time::parse_duration(&text);
        }
    }

    /// Texts near the forms the parsers take (ages with any number, dates with any year,
    /// offsets) and arbitrary ones.
    fn time_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop_oneof![
            any::<String>(),
            (
                any::<u64>(),
                prop::sample::select(vec!["s", "m", "h", "d", "w", "y", "ns", "days", "months"])
            )
                .prop_map(|(n, unit)| format!("{n}{unit}")),
            (0u32..100_000, 0u32..20, 0u32..40)
                .prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}")),
            (0u32..10_000, 0u32..30, 0i32..3000)
                .prop_map(|(y, h, off)| format!("{y:04}-01-01T{h:02}:00:00{off:+05}")),
            "[0-9a-zA-Z:+ .TZ-]{0,30}",
        ]
    }
}
