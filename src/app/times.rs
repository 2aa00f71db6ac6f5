//! Time flags, read once per command with one rule for every command that takes a range:
//! `--since` must be before `--until`, and a bad value is a usage error naming its flag.

use chrono::{DateTime, Utc};

use crate::exit::usage;
use crate::time;

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
    fn a_bad_time_names_its_flag() {
        let err = time_range(None, Some("last tuesday"), now()).unwrap_err();
        assert!(err.to_string().starts_with("--until: "), "{err}");
    }
}
