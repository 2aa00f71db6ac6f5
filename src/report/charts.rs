//! The charts under the timeline, all drawn from `query stats`'s figures: jobs per day (or
//! week) stacked by status, failure rate by job type, and duration p50 and p95 by job type.

use std::collections::HashMap;

use chrono::{Datelike, Duration, NaiveDate};
use maud::{html, Markup};

use super::data::{Figures, ReportData};
use super::svg::{self, n};
use crate::query::human_seconds;

/// Job types charted; the rest are counted.
pub const MAX_TYPES: usize = 30;

const WIDTH: f64 = 1000.0;

/// Every day (or Monday) of the range, as `query stats` writes the key.
fn buckets(data: &ReportData) -> Vec<String> {
    let mut day: NaiveDate = data.range.start.date_naive();
    if data.weekly {
        day -= Duration::days(i64::from(day.weekday().num_days_from_monday()));
    }
    let step = Duration::days(if data.weekly { 7 } else { 1 });
    let mut out = Vec::new();
    while day.and_hms_opt(0, 0, 0).expect("midnight").and_utc() < data.range.end {
        out.push(day.format("%Y-%m-%d").to_string());
        day += step;
        // A guard for absurd ranges: a chart of more than ten years of days says nothing.
        if out.len() > 4_000 {
            break;
        }
    }
    out
}

/// Jobs per day or week, stacked by status.
pub fn per_bucket(data: &ReportData) -> Markup {
    let days = buckets(data);
    let mut counts: HashMap<&str, [i64; 7]> = HashMap::new();
    for f in &data.per_bucket {
        let (Some(Some(day)), status) = (f.key.first(), f.key.get(1)) else {
            continue;
        };
        let status = svg::status_of(status.and_then(|s| s.as_deref()));
        let k = svg::ORDER
            .iter()
            .position(|s| Some(*s) == status)
            .unwrap_or(6);
        counts.entry(day.as_str()).or_default()[k] += f.count;
    }
    let busiest = counts
        .values()
        .map(|c| c.iter().sum::<i64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let (left, right, top, bottom) = (50.0, 990.0, 10.0, 190.0);
    let slot = (right - left) / days.len().max(1) as f64;
    let label_every = (days.len() / 10).max(1);
    let unit = if data.weekly { "week" } else { "day" };
    html! {
        svg class="chart per-bucket" viewBox=(format!("0 0 {WIDTH} 215")) role="img"
            aria-label=(format!("Jobs per {unit} by status")) {
            line x1=(n(left)) x2=(n(right)) y1=(n(bottom)) y2=(n(bottom)) class="axis" {}
            text x=(n(left - 6.0)) y=(n(top + 8.0)) class="tick" text-anchor="end" { (busiest) }
            text x=(n(left - 6.0)) y=(n(bottom)) class="tick" text-anchor="end" { "0" }
            line x1=(n(left)) x2=(n(right)) y1=(n(top)) y2=(n(top)) class="grid" {}
            @for (i, day) in days.iter().enumerate() {
                @let x = left + slot * i as f64;
                @if let Some(c) = counts.get(day.as_str()) {
                    g class="bucket" data-bucket=(day) data-count=(c.iter().sum::<i64>()) {
                        @for (k, y, h, v) in stack(c, busiest, bottom, bottom - top) {
                            @let status = svg::ORDER.get(k).copied();
                            rect x=(n(x + slot * 0.1)) y=(n(y)) width=(n((slot * 0.8).max(0.8)))
                                height=(n(h)) fill=(svg::fill(status)) {
                                title { (day) " " (status.map_or("other", |s| s.as_str())) ": " (v) }
                            }
                        }
                    }
                }
                @if i % label_every == 0 {
                    text x=(n(x + slot / 2.0)) y="207" class="tick" text-anchor="middle" {
                        (&day[5..])
                    }
                }
            }
        }
    }
}

/// (status index, y, height, count) of each non-empty part of a column, from the bottom up.
fn stack(c: &[i64; 7], busiest: i64, bottom: f64, full: f64) -> Vec<(usize, f64, f64, i64)> {
    let mut y = bottom;
    let mut out = Vec::new();
    for (k, &v) in c.iter().enumerate().filter(|(_, &v)| v > 0) {
        let h = full * v as f64 / busiest as f64;
        y -= h;
        out.push((k, y, h, v));
    }
    out
}

/// `text` cut to `max` characters with an ellipsis.
pub fn short(text: &str, max: usize) -> String {
    if text.chars().count() > max {
        text.chars().take(max - 1).chain(['…']).collect()
    } else {
        text.to_string()
    }
}

/// A job type's row of a bar chart: its figures, the bars drawn over each other (value and
/// CSS class, longest first) and the label at the right.
type BarRow<'a> = (&'a Figures, Vec<(f64, &'static str)>, String);

/// One row per job type with a bar from 0 to `value / max` and a label.
fn bars(class: &str, rows: &[BarRow<'_>], max: f64) -> Markup {
    let (left, right, row_h) = (330.0, 800.0, 20.0);
    let height = row_h * rows.len() as f64 + 6.0;
    html! {
        svg class=(format!("chart {class}")) viewBox=(format!("0 0 {WIDTH} {}", n(height))) role="img" {
            @for (i, (f, parts, label)) in rows.iter().enumerate() {
                @let y = 3.0 + row_h * i as f64;
                @let name = f.key.first().cloned().flatten().unwrap_or_else(|| "(no type)".into());
                g class="type-row" data-type=(name) {
                    text x=(n(left - 6.0)) y=(n(y + 13.0)) text-anchor="end" class="label" {
                        title { (name) }
                        (short(&name, 52))
                    }
                    rect x=(n(left)) y=(n(y + 2.0)) width=(n(right - left)) height="14" class="lane-bg" {}
                    @for (value, class) in parts {
                        rect class=(class) x=(n(left)) y=(n(y + 2.0))
                            width=(n(((right - left) * value / max.max(1e-9)).max(0.0)))
                            height="14" {}
                    }
                    text x=(n(right + 6.0)) y=(n(y + 13.0)) class="label" { (label) }
                }
            }
        }
    }
}

/// Types in the chart: the busiest [`MAX_TYPES`], and how many are left out.
fn charted(data: &ReportData) -> (Vec<&Figures>, usize) {
    let mut types: Vec<&Figures> = data.by_type.iter().collect();
    types.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    let rest = types.len().saturating_sub(MAX_TYPES);
    types.truncate(MAX_TYPES);
    (types, rest)
}

/// The rate the failure bars' full width stands for: the next round step above the highest
/// rate. Against a fixed 100% a tenant's usual few percent were slivers nobody could compare.
fn rate_scale(rates: impl Iterator<Item = f64>) -> f64 {
    let highest = rates.fold(0.0, f64::max);
    [0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0]
        .into_iter()
        .find(|&step| highest <= step)
        .unwrap_or(1.0)
}

/// Failure rate by job type, highest first.
pub fn failure_rate(data: &ReportData) -> Markup {
    let (mut types, rest) = charted(data);
    types.sort_by(|a, b| b.failure_rate.total_cmp(&a.failure_rate));
    let rows: Vec<_> = types
        .into_iter()
        .map(|f| {
            let label = format!(
                "{:.1}% ({} of {})",
                f.failure_rate * 100.0,
                f.failed,
                f.count
            );
            (f, vec![(f.failure_rate, "rate")], label)
        })
        .collect();
    let scale = rate_scale(rows.iter().map(|r| r.0.failure_rate));
    html! {
        p class="note" id="rate-scale" {
            "Bars to scale: the full width is " (format!("{:.0}%", scale * 100.0)) "."
        }
        (bars("failure-rate", &rows, scale))
        @if rest > 0 { p class="note" { (rest) " job types with fewer jobs not charted." } }
    }
}

/// Duration p50 and p95 by job type: a pale bar to p95 with a dark one to p50 inside it.
pub fn durations(data: &ReportData) -> Markup {
    let (types, rest) = charted(data);
    let timed: Vec<&Figures> = types.into_iter().filter(|f| f.p95.is_some()).collect();
    let max = timed.iter().filter_map(|f| f.p95).max().unwrap_or(1) as f64;
    let rows: Vec<_> = timed
        .into_iter()
        .map(|f| {
            let (p50, p95) = (f.p50.unwrap_or(0), f.p95.unwrap_or(0));
            let label = format!("p50 {} · p95 {}", human_seconds(p50), human_seconds(p95));
            (f, vec![(p95 as f64, "p95"), (p50 as f64, "p50")], label)
        })
        .collect();
    html! {
        @if rows.is_empty() {
            p class="empty" { "No job with both a start and an end time." }
        } @else {
            (bars("durations", &rows, max))
        }
        @if rest > 0 { p class="note" { (rest) " job types with fewer jobs not charted." } }
    }
}
