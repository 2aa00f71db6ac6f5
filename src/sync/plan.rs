//! The planner: from the archive's coverage, `now` and the options, the windows of create time
//! to fetch. Pure, so every edge case is a unit test.

use chrono::{DateTime, Duration, Utc};

use crate::store::{merge, subtract, Coverage, Window};
use crate::time;

/// What the planner needs to know.
#[derive(Debug, Clone)]
pub(crate) struct PlanInput<'a> {
    /// Where the scope begins.
    pub since: DateTime<Utc>,
    /// Where this run stops (normally now).
    pub until: DateTime<Utc>,
    /// What earlier runs fetched completely, merged.
    pub coverage: &'a [Coverage],
    /// How much of the newest covered time to read again.
    pub lookback: Duration,
    /// The longest window.
    pub window: Duration,
}

/// The most windows one run may plan. Ten years of day windows is ~3,700; a plan larger than
/// this comes from a typo in a time or a window size, and would run for days.
pub const MAX_PLANNED_WINDOWS: u64 = 100_000;

/// A plan that would need more than `MAX_PLANNED_WINDOWS` windows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the range {} .. {} would need {windows} windows of {}, more than {MAX_PLANNED_WINDOWS}", time::to_store(*.since), time::to_store(*.until), time::format_duration(*.window))]
pub struct TooManyWindows {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub window: Duration,
    pub windows: u64,
}

/// The windows to fetch, oldest first: every part of `[since, until)` not yet covered, plus
/// the last `lookback` before the newest covered point (jobs that appear late, or that sat on a
/// boundary the API treats differently than assumed). Windows are cut at multiples of
/// `window` since the epoch, so days start at midnight UTC and runs cut the same way.
pub(crate) fn plan(input: &PlanInput<'_>) -> Result<Vec<Window>, TooManyWindows> {
    if input.until <= input.since {
        return Ok(Vec::new());
    }
    let mut wanted = subtract(
        Window {
            start: input.since,
            end: input.until,
        },
        input.coverage,
    );
    let frontier = input
        .coverage
        .iter()
        .map(|c| c.to)
        .filter(|to| *to > input.since)
        .max();
    if let Some(frontier) = frontier {
        let start = frontier
            .checked_sub_signed(input.lookback)
            .unwrap_or(input.since)
            .max(input.since);
        let end = frontier.min(input.until);
        if start < end {
            wanted.push(Window { start, end });
        }
    }
    merge(&mut wanted);
    let size_secs = input.window.num_seconds().max(1);
    // Counted before cutting, so an absurd range costs nothing to refuse.
    let windows: u64 = wanted
        .iter()
        .map(|w| ((w.end - w.start).num_seconds() / size_secs).unsigned_abs() + 2)
        .fold(0u64, u64::saturating_add);
    if windows > MAX_PLANNED_WINDOWS {
        return Err(TooManyWindows {
            since: input.since,
            until: input.until,
            window: input.window,
            windows,
        });
    }
    Ok(wanted.into_iter().flat_map(|w| cut(w, size_secs)).collect())
}

/// Cuts a window at multiples of `size_secs` since the epoch.
fn cut(w: Window, size_secs: i64) -> Vec<Window> {
    let mut out = Vec::new();
    let mut start = w.start;
    while start < w.end {
        let next_edge = start
            .timestamp()
            .div_euclid(size_secs)
            .checked_add(1)
            .and_then(|n| n.checked_mul(size_secs))
            .and_then(|secs| DateTime::from_timestamp(secs, 0));
        let end = next_edge.map_or(w.end, |edge| edge.min(w.end));
        out.push(Window { start, end });
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::from_store;

    fn t(s: &str) -> DateTime<Utc> {
        from_store(s).unwrap()
    }

    fn w(a: &str, b: &str) -> Window {
        Window {
            start: t(a),
            end: t(b),
        }
    }

    fn cov(a: &str, b: &str) -> Coverage {
        Coverage {
            from: t(a),
            to: t(b),
        }
    }

    #[test]
    fn first_run_cuts_days_at_midnight() {
        let windows = plan(&PlanInput {
            since: t("2024-03-01T12:00:00Z"),
            until: t("2024-03-03T06:30:00Z"),
            coverage: &[],
            lookback: Duration::hours(6),
            window: Duration::days(1),
        })
        .unwrap();
        assert_eq!(
            windows,
            vec![
                w("2024-03-01T12:00:00Z", "2024-03-02T00:00:00Z"),
                w("2024-03-02T00:00:00Z", "2024-03-03T00:00:00Z"),
                w("2024-03-03T00:00:00Z", "2024-03-03T06:30:00Z"),
            ]
        );
    }

    #[test]
    fn later_run_continues_with_lookback() {
        let coverage = [cov("2024-03-01T00:00:00Z", "2024-03-03T06:30:00Z")];
        let windows = plan(&PlanInput {
            since: t("2024-03-01T00:00:00Z"),
            until: t("2024-03-03T09:00:00Z"),
            coverage: &coverage,
            lookback: Duration::hours(6),
            window: Duration::days(1),
        })
        .unwrap();
        assert_eq!(
            windows,
            vec![w("2024-03-03T00:30:00Z", "2024-03-03T09:00:00Z")]
        );
    }

    #[test]
    fn holes_left_by_failed_windows_are_fetched_exactly() {
        let coverage = [
            cov("2024-03-01T00:00:00Z", "2024-03-02T00:00:00Z"),
            cov("2024-03-03T00:00:00Z", "2024-03-05T00:00:00Z"),
        ];
        let windows = plan(&PlanInput {
            since: t("2024-03-01T00:00:00Z"),
            until: t("2024-03-05T00:00:00Z"),
            coverage: &coverage,
            lookback: Duration::zero(),
            window: Duration::days(1),
        })
        .unwrap();
        assert_eq!(
            windows,
            vec![w("2024-03-02T00:00:00Z", "2024-03-03T00:00:00Z")]
        );
    }

    #[test]
    fn backfill_before_the_old_start() {
        let coverage = [cov("2024-03-05T00:00:00Z", "2024-03-06T00:00:00Z")];
        let windows = plan(&PlanInput {
            since: t("2024-03-04T00:00:00Z"),
            until: t("2024-03-06T00:00:00Z"),
            coverage: &coverage,
            lookback: Duration::hours(1),
            window: Duration::days(1),
        })
        .unwrap();
        assert_eq!(
            windows,
            vec![
                w("2024-03-04T00:00:00Z", "2024-03-05T00:00:00Z"),
                w("2024-03-05T23:00:00Z", "2024-03-06T00:00:00Z"),
            ]
        );
    }

    #[test]
    fn nothing_to_do_for_an_empty_range() {
        let windows = plan(&PlanInput {
            since: t("2024-03-04T00:00:00Z"),
            until: t("2024-03-04T00:00:00Z"),
            coverage: &[],
            lookback: Duration::hours(1),
            window: Duration::days(1),
        })
        .unwrap();
        assert!(windows.is_empty());
    }

    #[test]
    fn windows_tile_the_range_without_gaps() {
        let since = t("2024-01-01T00:00:07Z");
        let until = t("2024-03-01T13:13:13Z");
        let windows = plan(&PlanInput {
            since,
            until,
            coverage: &[],
            lookback: Duration::hours(6),
            window: Duration::hours(7),
        })
        .unwrap();
        assert_eq!(windows.first().unwrap().start, since);
        assert_eq!(windows.last().unwrap().end, until);
        for pair in windows.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
            assert!(pair[0].end - pair[0].start <= Duration::hours(7));
        }
    }

    #[test]
    fn an_absurd_range_is_refused_before_it_is_cut() {
        let err = plan(&PlanInput {
            since: t("0026-11-01T00:00:00Z"),
            until: t("2026-11-01T00:00:00Z"),
            coverage: &[],
            lookback: Duration::hours(6),
            window: Duration::days(1),
        })
        .unwrap_err();
        assert!(err.windows > 730_000, "{err}");
        assert!(err.to_string().contains("0026-11-01T00:00:00Z"), "{err}");
    }

    proptest::proptest! {
        /// Whatever the times, coverage and sizes, the planner answers (a plan or a refusal)
        /// without panicking, and a plan tiles only the asked range.
        #[test]
        fn no_input_panics(
            since in -8_000_000_000_000i64..8_000_000_000_000i64,
            length in 0i64..4_000_000_000_000i64,
            cov in proptest::collection::vec((-8_000_000_000_000i64..8_000_000_000_000i64, 0i64..1_000_000_000i64), 0..4),
            lookback in 0i64..1_000_000_000_000i64,
            window in 1i64..1_000_000_000_000i64,
        ) {
            let at = |s: i64| DateTime::from_timestamp(s, 0).unwrap_or(DateTime::<Utc>::MAX_UTC);
            let since = at(since);
            let until = at(since.timestamp().saturating_add(length));
            let coverage: Vec<Coverage> = cov
                .iter()
                .map(|(from, len)| Coverage { from: at(*from), to: at(from.saturating_add(*len)) })
                .collect();
            let input = PlanInput {
                since,
                until,
                coverage: &coverage,
                lookback: Duration::seconds(lookback),
                window: Duration::seconds(window),
            };
            if let Ok(windows) = plan(&input) {
                proptest::prop_assert!(windows.len() as u64 <= MAX_PLANNED_WINDOWS);
                for w in &windows {
                    proptest::prop_assert!(w.start < w.end && w.start >= since && w.end <= until);
                }
            }
        }
    }
}
