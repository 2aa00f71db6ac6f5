//! The planner: from the archive's coverage, `now` and the options, the windows of create time
//! to fetch. Pure, so every edge case is a unit test.

use chrono::{DateTime, Duration, Utc};

use crate::store::{merge, subtract, Coverage, Window};

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

/// The windows to fetch, oldest first: every part of `[since, until)` not yet covered, plus
/// the last `lookback` before the newest covered point (jobs that appear late, or that sat on a
/// boundary the API treats differently than assumed). Windows are cut at multiples of
/// `window` since the epoch, so days start at midnight UTC and runs cut the same way.
pub(crate) fn plan(input: &PlanInput<'_>) -> Vec<Window> {
    if input.until <= input.since {
        return Vec::new();
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
        let start = (frontier - input.lookback).max(input.since);
        let end = frontier.min(input.until);
        if start < end {
            wanted.push(Window { start, end });
        }
    }
    merge(&mut wanted);
    wanted
        .into_iter()
        .flat_map(|w| cut(w, input.window))
        .collect()
}

/// Cuts a window at multiples of `size` since the epoch.
fn cut(w: Window, size: Duration) -> Vec<Window> {
    let size_secs = size.num_seconds().max(1);
    let mut out = Vec::new();
    let mut start = w.start;
    while start < w.end {
        let next_edge_secs = (start.timestamp().div_euclid(size_secs) + 1) * size_secs;
        let edge = DateTime::from_timestamp(next_edge_secs, 0).unwrap_or(w.end);
        let end = edge.min(w.end);
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
        });
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
        });
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
        });
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
        });
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
        });
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
        });
        assert_eq!(windows.first().unwrap().start, since);
        assert_eq!(windows.last().unwrap().end, until);
        for pair in windows.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
            assert!(pair[0].end - pair[0].start <= Duration::hours(7));
        }
    }
}
