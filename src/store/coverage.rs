//! Coverage maths: the create-time ranges a scope has fetched completely, and what a range
//! lacks of them. Pure, so the planner (`sync`) and the `status` question share it without
//! one reaching into the other.

use chrono::{DateTime, Utc};

/// A create-time range `[from, to)` fetched completely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coverage {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// A half-open range of create time `[start, end)`: what a sync fetches as one unit, or a gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// The parts of `range` that no coverage holds, oldest first.
pub fn subtract(range: Window, coverage: &[Coverage]) -> Vec<Window> {
    let mut covered: Vec<&Coverage> = coverage
        .iter()
        .filter(|c| c.to > range.start && c.from < range.end)
        .collect();
    covered.sort_by_key(|c| c.from);
    let mut out = Vec::new();
    let mut cursor = range.start;
    for c in covered {
        if c.from > cursor {
            out.push(Window {
                start: cursor,
                end: c.from.min(range.end),
            });
        }
        cursor = cursor.max(c.to);
    }
    if cursor < range.end {
        out.push(Window {
            start: cursor,
            end: range.end,
        });
    }
    out
}

/// Sorts and joins overlapping or touching windows.
pub fn merge(windows: &mut Vec<Window>) {
    windows.sort();
    let mut merged: Vec<Window> = Vec::with_capacity(windows.len());
    for w in windows.drain(..) {
        match merged.last_mut() {
            Some(last) if w.start <= last.end => last.end = last.end.max(w.end),
            _ => merged.push(w),
        }
    }
    *windows = merged;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::from_store;

    fn w(a: &str, b: &str) -> Window {
        Window {
            start: from_store(a).unwrap(),
            end: from_store(b).unwrap(),
        }
    }

    fn cov(a: &str, b: &str) -> Coverage {
        let w = w(a, b);
        Coverage {
            from: w.start,
            to: w.end,
        }
    }

    #[test]
    fn subtract_leaves_the_gaps_inside_the_range() {
        let coverage = [
            cov("2024-03-02T00:00:00Z", "2024-03-03T00:00:00Z"),
            cov("2024-02-01T00:00:00Z", "2024-03-01T12:00:00Z"),
            cov("2024-03-04T00:00:00Z", "2024-03-09T00:00:00Z"),
        ];
        assert_eq!(
            subtract(w("2024-03-01T00:00:00Z", "2024-03-05T00:00:00Z"), &coverage),
            [
                w("2024-03-01T12:00:00Z", "2024-03-02T00:00:00Z"),
                w("2024-03-03T00:00:00Z", "2024-03-04T00:00:00Z"),
            ]
        );
        assert!(subtract(w("2024-03-05T00:00:00Z", "2024-03-06T00:00:00Z"), &coverage).is_empty());
    }

    #[test]
    fn merge_joins_overlapping_and_touching_windows() {
        let mut windows = vec![
            w("2024-03-03T00:00:00Z", "2024-03-04T00:00:00Z"),
            w("2024-03-01T00:00:00Z", "2024-03-02T00:00:00Z"),
            w("2024-03-02T00:00:00Z", "2024-03-02T06:00:00Z"),
            w("2024-03-01T12:00:00Z", "2024-03-01T13:00:00Z"),
        ];
        merge(&mut windows);
        assert_eq!(
            windows,
            [
                w("2024-03-01T00:00:00Z", "2024-03-02T06:00:00Z"),
                w("2024-03-03T00:00:00Z", "2024-03-04T00:00:00Z"),
            ]
        );
    }
}
