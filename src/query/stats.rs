//! `query stats --by KEY[,KEY]`: counts, failure rate and duration percentiles per group.
//!
//! SQLite has no percentile function, and sorting a million rows per group in SQL is slow;
//! one pass over the matching rows in Rust does counts and collects durations, then each
//! group's durations are sorted once.

use std::io::Write;

use rusqlite::types::ValueRef;
use rusqlite::Connection;

use super::filter::{where_clause, Filter};
use super::layout::TableSpec;
use super::render::{Cell, Format, Rows};
use super::Answer;

/// A grouping key: its name on the command line and in the output, and how it is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    JobName,
    JobStatus,
    Instance,
    Project,
    Day,
    Week,
    Month,
}

impl Key {
    pub const ALL: [Key; 7] = [
        Key::JobName,
        Key::JobStatus,
        Key::Instance,
        Key::Project,
        Key::Day,
        Key::Week,
        Key::Month,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Key::JobName => "job_name",
            Key::JobStatus => "job_status",
            Key::Instance => "instance",
            Key::Project => "project",
            Key::Day => "day",
            Key::Week => "week",
            Key::Month => "month",
        }
    }

    /// The column read for this key; days, weeks and months are cut from create_time.
    fn column(self) -> &'static str {
        match self {
            Key::JobName => "job_name",
            Key::JobStatus => "job_status",
            Key::Instance => "instance_id",
            Key::Project => "project_id",
            Key::Day | Key::Week | Key::Month => "create_time",
        }
    }

    /// The key named `s` (any case), if any.
    pub fn parse(s: &str) -> Option<Key> {
        Key::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s.trim()))
    }

    /// The group value from the column's text: `2024-03-05`, the Monday `2024-03-04`,
    /// `2024-03`. Written into `buf` when it has to be computed, so no row allocates.
    fn value<'a>(self, text: &'a [u8], buf: &'a mut [u8; 10]) -> &'a [u8] {
        match self {
            Key::Day if text.len() >= 10 => &text[..10],
            Key::Month if text.len() >= 7 => &text[..7],
            Key::Week => match civil_days(text) {
                Some(days) => {
                    // 1970-01-01 was a Thursday: (days + 3) % 7 is 0 on Mondays.
                    let monday = days - (days + 3).rem_euclid(7);
                    let (y, m, d) = civil_from_days(monday);
                    if !(0..=9999).contains(&y) {
                        return text;
                    }
                    let digit = |v: i64| b'0' + (v % 10) as u8;
                    *buf = [
                        digit(y / 1000),
                        digit(y / 100),
                        digit(y / 10),
                        digit(y),
                        b'-',
                        digit(m / 10),
                        digit(m),
                        b'-',
                        digit(d / 10),
                        digit(d),
                    ];
                    &buf[..]
                }
                None => text,
            },
            _ => text,
        }
    }
}

/// What `query stats` was asked for, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsQuery {
    pub keys: Vec<Key>,
    pub filter: Filter,
}

impl StatsQuery {
    /// The output columns: the keys, then the figures.
    pub fn columns(&self) -> Vec<&'static str> {
        let mut columns: Vec<&'static str> = self.keys.iter().map(|k| k.name()).collect();
        columns.extend(FIGURES);
        columns
    }

    /// The statement: every matching job's key columns, status and times, unordered.
    pub fn to_sql(&self) -> (String, Vec<rusqlite::types::Value>) {
        // A status, type or project can match hundreds of thousands of jobs; looking each
        // up in the table (which also holds raw JSON) is slower than reading the jobs_stats
        // index whole, so only the instance and create-time tests may choose an index.
        let (clauses, params) = self.filter.clauses_with("", "job_status", true);
        let mut select: Vec<&str> = self.keys.iter().map(|k| k.column()).collect();
        select.extend(["job_status", "start_time", "end_time"]);
        let sql = format!(
            "SELECT {} FROM jobs{}",
            select.join(", "),
            where_clause(&clauses)
        );
        (sql, params)
    }
}

const FIGURES: [&str; 6] = [
    "count",
    "failed",
    "failure_rate",
    "timed",
    "p50_seconds",
    "p95_seconds",
];

/// FxHash (rustc's) rather than SipHash: the keys are the archive's own short strings and
/// ids, so protection against chosen keys buys nothing and SipHash costs a third of a query.
type FxMap<K, V> = rustc_hash::FxHashMap<K, V>;

#[derive(Default)]
struct Group {
    count: i64,
    failed: i64,
    durations: Vec<i64>,
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

pub fn fetch(conn: &Connection, query: &StatsQuery) -> anyhow::Result<Rows> {
    let (sql, params) = query.to_sql();
    let mut stmt = conn.prepare(&sql)?;
    let n = query.keys.len();
    // Each key column's distinct values get small ids (0 is NULL), and groups are found by
    // their ids: a row costs a few short hash lookups and no allocation.
    let mut dicts: Vec<FxMap<Vec<u8>, u32>> = vec![FxMap::default(); n];
    let mut values: Vec<Vec<Option<String>>> = vec![vec![None]; n];
    let mut index: FxMap<Vec<u32>, usize> = FxMap::default();
    let mut groups: Vec<(Vec<u32>, Group)> = Vec::new();
    let mut ids: Vec<u32> = vec![0; n];
    let mut last: Option<usize> = None;
    let mut buf = [0u8; 10];
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    while let Some(row) = rows.next()? {
        let mut same = last.is_some();
        for (i, k) in query.keys.iter().enumerate() {
            let id = match row.get_ref(i)? {
                ValueRef::Null => 0,
                value => {
                    let owned;
                    let text: &[u8] = match value {
                        ValueRef::Text(t) => t,
                        other => {
                            owned = Cell::from_sql(other).to_text().into_bytes();
                            &owned
                        }
                    };
                    let v = k.value(text, &mut buf);
                    match dicts[i].get(v) {
                        Some(&id) => id,
                        None => {
                            let id = values[i].len() as u32;
                            values[i].push(Some(String::from_utf8_lossy(v).into_owned()));
                            dicts[i].insert(v.to_vec(), id);
                            id
                        }
                    }
                }
            };
            same &= ids[i] == id;
            ids[i] = id;
        }
        let at = match last {
            Some(at) if same => at,
            _ => match index.get(ids.as_slice()) {
                Some(&at) => at,
                None => {
                    index.insert(ids.clone(), groups.len());
                    groups.push((ids.clone(), Group::default()));
                    groups.len() - 1
                }
            },
        };
        last = Some(at);
        let group = &mut groups[at].1;
        group.count += 1;
        if let ValueRef::Text(b"Failed") = row.get_ref(n)? {
            group.failed += 1;
        }
        if let (ValueRef::Text(start), ValueRef::Text(end)) =
            (row.get_ref(n + 1)?, row.get_ref(n + 2)?)
        {
            if let (Some(s), Some(e)) = (epoch_seconds(start), epoch_seconds(end)) {
                group.durations.push(e - s);
            }
        }
    }

    let key_of = |ids: &[u32]| -> Vec<Option<String>> {
        ids.iter()
            .enumerate()
            .map(|(i, &id)| values[i][id as usize].clone())
            .collect()
    };
    let mut sorted: Vec<(Vec<Option<String>>, Group)> = groups
        .into_iter()
        .map(|(ids, g)| (key_of(&ids), g))
        .collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut result = Rows::new(&query.columns());
    for (key, mut group) in sorted {
        group.durations.sort_unstable();
        let mut cells: Vec<Cell> = key
            .into_iter()
            .map(|k| k.map_or(Cell::Null, Cell::Text))
            .collect();
        let rate = group.failed as f64 / group.count as f64;
        cells.extend([
            Cell::Integer(group.count),
            Cell::Integer(group.failed),
            Cell::Real((rate * 10_000.0).round() / 10_000.0),
            Cell::Integer(group.durations.len() as i64),
            percentile(&group.durations, 0.50).map_or(Cell::Null, Cell::Integer),
            percentile(&group.durations, 0.95).map_or(Cell::Null, Cell::Integer),
        ]);
        result.rows.push(cells);
    }
    Ok(result)
}

pub(crate) fn run(
    conn: &Connection,
    query: &StatsQuery,
    answer: &Answer,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<()> {
    super::instance::all_known(conn, &query.filter.instances)?;
    let rows = fetch(conn, query)?;
    if rows.rows.is_empty() {
        super::notes::no_match(conn, err)?;
    }
    if answer.format != Format::Table {
        return answer.write_rows(&rows, &TableSpec::ALL, out);
    }
    // People read percentages and durations; scripts get the plain numbers.
    let mut shown = rows.clone();
    for row in &mut shown.rows {
        let at = query.keys.len();
        if let Cell::Real(rate) = row[at + 2] {
            row[at + 2] = Cell::Text(format!("{:.1}%", rate * 100.0));
        }
        for i in [at + 4, at + 5] {
            if let Cell::Integer(s) = row[i] {
                row[i] = Cell::Text(super::instance::human_seconds(s));
            }
        }
    }
    shown.columns = shown
        .columns
        .iter()
        .map(|c| c.trim_end_matches("_seconds").to_string())
        .collect();
    // Names give way first; an instance key is a 36-character id, for which the lesser
    // figures make room at 80 columns (the failure rate says what `failed` does).
    answer.write_rows(
        &shown,
        &TableSpec {
            default: &[],
            drop_order: &["timed", "failed", "p95", "p50"],
        },
        out,
    )
}

/// Days since 1970-01-01 of text starting `YYYY-MM-DD`.
fn civil_days(t: &[u8]) -> Option<i64> {
    if t.len() < 10 || t[4] != b'-' || t[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        t[r].iter().try_fold(0i64, |acc, b| {
            b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
        })
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// Seconds since the epoch of a stored time, without a general parser: a million of these
/// run per stats query. Other forms fall back to the parser.
fn epoch_seconds(t: &[u8]) -> Option<i64> {
    if t.len() == 20 && t[10] == b'T' && t[13] == b':' && t[16] == b':' && t[19] == b'Z' {
        let two = |i: usize| -> Option<i64> {
            let (a, b) = (t[i], t[i + 1]);
            (a.is_ascii_digit() && b.is_ascii_digit())
                .then(|| i64::from(a - b'0') * 10 + i64::from(b - b'0'))
        };
        let days = civil_days(t)?;
        return Some(days * 86_400 + two(11)? * 3600 + two(14)? * 60 + two(17)?);
    }
    crate::time::from_store(std::str::from_utf8(t).ok()?).map(|d| d.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_helpers_agree_with_chrono() {
        for s in [
            "1970-01-01T00:00:00Z",
            "2024-02-29T23:59:59Z",
            "2024-03-04T12:00:00Z",
            "2000-12-31T01:02:03Z",
            "1969-07-20T20:17:40Z",
        ] {
            let want = crate::time::from_store(s).unwrap();
            assert_eq!(epoch_seconds(s.as_bytes()), Some(want.timestamp()), "{s}");
            let days = civil_days(s.as_bytes()).unwrap();
            let (y, m, d) = civil_from_days(days);
            assert_eq!(format!("{y:04}-{m:02}-{d:02}"), &s[..10]);
        }
        // Weeks start on Monday: Sunday 2024-03-10 is in the week of Monday 2024-03-04.
        let mut buf = [0u8; 10];
        let mut week = |t: &[u8]| Key::Week.value(t, &mut buf).to_vec();
        assert_eq!(week(b"2024-03-10T23:00:00Z"), b"2024-03-04");
        assert_eq!(week(b"2024-03-04T00:00:00Z"), b"2024-03-04");
        assert_eq!(week(b"2024-03-11T00:00:00Z"), b"2024-03-11");
        assert_eq!(week(b"2024-01-01T00:00:00Z"), b"2024-01-01");
        assert_eq!(week(b"2023-01-01T00:00:00Z"), b"2022-12-26");
        assert_eq!(percentile(&[1, 2, 3, 4], 0.5), Some(2));
        assert_eq!(percentile(&[1, 2, 3, 4], 0.95), Some(4));
        assert_eq!(percentile(&[7], 0.95), Some(7));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
