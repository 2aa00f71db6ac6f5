//! The instance timeline: one lane per instance, each job a bar from start to end coloured by
//! status. A lane with more jobs than its share of the bar budget is drawn as counts per time
//! slice instead, so a year of a large tenant stays a file a browser opens at once.

use chrono::{DateTime, FixedOffset, Utc};
use maud::{html, Markup};

use super::data::{Job, Lane, ReportData};
use super::svg::{self, n, TimeScale};
use crate::api::model::JobStatus;

/// Bars drawn in the whole timeline at most; beyond it lanes are aggregated.
pub const BAR_BUDGET: usize = 4_000;
/// Time slices of an aggregated lane.
const SLICES: usize = 200;

const WIDTH: f64 = 1000.0;
const LABEL: f64 = 190.0;
const RIGHT: f64 = 990.0;
const LANE: f64 = 26.0;
const BAR: f64 = 16.0;
const OPEN_BAR: f64 = 6.0;
const AXIS: f64 = 22.0;
/// The narrowest bar, wide enough to show its status's colour and texture.
const MIN_BAR: f64 = 3.0;

/// How one job is drawn.
enum Shape {
    /// From, to; `open` for a job not yet final (drawn to now).
    Bar(DateTime<Utc>, DateTime<Utc>, bool),
    /// A job with one known time only.
    Mark(DateTime<Utc>),
    /// No time at all: it cannot be placed.
    Nowhere,
}

fn shape(job: &Job, now: DateTime<Utc>) -> Shape {
    if job.is_open() {
        if let Some(from) = job.create.or(job.start) {
            return Shape::Bar(from, now.max(from), true);
        }
    }
    match (job.start, job.end) {
        (Some(s), Some(e)) if e >= s => Shape::Bar(s, e, false),
        _ => match job.start.or(job.create).or(job.end) {
            Some(t) => Shape::Mark(t),
            None => Shape::Nowhere,
        },
    }
}

/// The timeline's SVG, or a sentence when there is nothing to draw.
pub fn draw(data: &ReportData, offset: FixedOffset, now: DateTime<Utc>) -> Markup {
    if data.lanes.is_empty() {
        return html! { p class="empty" { "No job to draw." } };
    }
    let scale = TimeScale {
        start: data.range.start,
        end: data.range.end,
        left: LABEL,
        right: RIGHT,
    };
    let per_lane = BAR_BUDGET / data.lanes.len();
    let height = AXIS + LANE * data.lanes.len() as f64 + 4.0;
    let ticks = scale.ticks(offset);
    html! {
        svg class="timeline" viewBox=(format!("0 0 {WIDTH} {}", n(height)))
            role="img" aria-label="Jobs per instance over time" {
            @for (t, label) in &ticks {
                @let x = n(scale.x(*t));
                line x1=(x) x2=(x) y1=(n(AXIS - 4.0)) y2=(n(height)) class="grid" {}
                // A tick at the range's end would be cut in half by the edge.
                @let anchor = if scale.x(*t) > WIDTH - 40.0 { "end" } else { "middle" };
                text x=(x) y="12" class="tick" text-anchor=(anchor) { (label) }
            }
            @for (i, lane) in data.lanes.iter().enumerate() {
                (draw_lane(data, lane, AXIS + LANE * i as f64, &scale, per_lane, now))
            }
        }
    }
}

fn lane_label(lane: &Lane, lanes: &[Lane]) -> (String, String) {
    let id = lane.instance_id.clone().unwrap_or_default();
    let shared = lanes.iter().filter(|l| l.name == lane.name).count() > 1;
    let name = match (&lane.name, &lane.instance_id) {
        // Two instances may carry one name: the end of the id tells their lanes apart.
        (Some(name), Some(id)) if shared => {
            let tail: String = id
                .chars()
                .skip(id.chars().count().saturating_sub(8))
                .collect();
            format!("{name} …{tail}")
        }
        (Some(name), _) => name.clone(),
        (None, Some(id)) => id.clone(),
        (None, None) => "(no instance)".to_string(),
    };
    (id, name)
}

fn draw_lane(
    data: &ReportData,
    lane: &Lane,
    top: f64,
    scale: &TimeScale,
    per_lane: usize,
    now: DateTime<Utc>,
) -> Markup {
    let (id, name) = lane_label(lane, &data.lanes);
    let aggregated = lane.jobs.len() > per_lane;
    let bar_y = top + (LANE - BAR) / 2.0;
    let open_y = bar_y + BAR - OPEN_BAR;
    let short = super::charts::short(&name, 26);
    let unplaced = lane
        .jobs
        .iter()
        .filter(|&&j| matches!(shape(&data.jobs[j], now), Shape::Nowhere))
        .count();
    html! {
        g class=(if aggregated { "lane aggregated" } else { "lane" }) data-instance=(id)
            data-jobs=(lane.jobs.len()) {
            rect class="lane-bg" x=(n(LABEL)) y=(n(top + 1.0)) width=(n(RIGHT - LABEL))
                height=(n(LANE - 2.0)) {}
            text class="lane-name" x="4" y=(n(top + LANE / 2.0 + 4.0)) {
                title { (name) " " (id) ": " (lane.jobs.len()) " jobs"
                    @if unplaced > 0 { ", " (unplaced) " without any time" } }
                (short) " (" (lane.jobs.len()) ")"
            }
            @if aggregated {
                (slices(data, lane, top, scale, now))
            } @else {
                @for &j in lane.jobs.iter().filter(|&&j| data.jobs[j].is_open()).chain(lane.jobs.iter().filter(|&&j| !data.jobs[j].is_open())) {
                    @let job = &data.jobs[j];
                    @let status = svg::slug(job.status);
                    @match shape(job, now) {
                        Shape::Bar(from, to, open) => {
                            @let x = scale.x(from);
                            // Half-hour jobs over a month are under a pixel: drawn that
                            // thin, a failed bar's stripes were not told from a green one.
                            @let w = (scale.x(to) - x).max(MIN_BAR);
                            @let x = x.min(RIGHT - w);
                            // An open job's bar runs to now and would hide the lane's finished
                            // jobs: it is a thin band under them.
                            @let (y, h) = if open { (open_y, OPEN_BAR) } else { (bar_y, BAR) };
                            rect class=(if open { format!("bar open {status}") } else { format!("bar {status}") })
                                data-job=(job.job_id) x=(n(x)) y=(n(y)) width=(n(w))
                                height=(n(h)) fill=(svg::fill(job.status)) {
                                title { (tooltip(job)) }
                            }
                        }
                        Shape::Mark(t) => {
                            @let x = scale.x(t);
                            @let y = top + LANE / 2.0;
                            path class=(format!("mark {status}")) data-job=(job.job_id)
                                d=(format!("M{},{}l5,-7l5,7l-5,7z", n(x - 5.0), n(y)))
                                fill=(svg::fill(job.status)) stroke="#000" stroke-width="0.6" {
                                title { (tooltip(job)) " (no start and end)" }
                            }
                        }
                        Shape::Nowhere => {}
                    }
                }
            }
        }
    }
}

fn tooltip(job: &Job) -> String {
    let t = |t: Option<DateTime<Utc>>| t.map(crate::time::to_store).unwrap_or_else(|| "-".into());
    format!(
        "{} · {} · {} · created {} · {} → {}",
        job.job_id,
        job.job_name.as_deref().unwrap_or("-"),
        job.status_text.as_deref().unwrap_or("-"),
        t(job.create),
        t(job.start),
        t(job.end),
    )
}

/// A busy lane: per time slice, a column of the slice's jobs stacked by status, its height the
/// slice's share of the lane's busiest slice.
fn slices(
    data: &ReportData,
    lane: &Lane,
    top: f64,
    scale: &TimeScale,
    now: DateTime<Utc>,
) -> Markup {
    let span = (scale.end - scale.start).num_seconds().max(1);
    let mut counts = vec![[0usize; 7]; SLICES];
    for &j in &lane.jobs {
        let job = &data.jobs[j];
        let t = match shape(job, now) {
            Shape::Bar(from, _, _) => from,
            Shape::Mark(t) => t,
            Shape::Nowhere => continue,
        };
        let at = ((t - scale.start).num_seconds().clamp(0, span - 1) as i128 * SLICES as i128
            / span as i128) as usize;
        let k = svg::ORDER
            .iter()
            .position(|s| Some(*s) == job.status)
            .unwrap_or(6);
        counts[at.min(SLICES - 1)][k] += 1;
    }
    let busiest = counts
        .iter()
        .map(|c| c.iter().sum::<usize>())
        .max()
        .unwrap_or(1)
        .max(1);
    let width = (scale.right - scale.left) / SLICES as f64;
    let bottom = top + LANE - 2.0;
    let full = LANE - 4.0;
    html! {
        @for (i, c) in counts.iter().enumerate() {
            @let total: usize = c.iter().sum();
            @if total > 0 {
                @let x = scale.left + width * i as f64;
                g class="slice" data-count=(total) {
                    title { (slice_title(c)) }
                    @for (k, y, h) in stack(c, busiest, bottom, full) {
                        rect x=(n(x)) y=(n(y)) width=(n(width.max(1.0))) height=(n(h))
                            fill=(svg::fill(status_at(k))) {}
                    }
                }
            }
        }
    }
}

fn status_at(k: usize) -> Option<JobStatus> {
    svg::ORDER.get(k).copied()
}

fn slice_title(c: &[usize; 7]) -> String {
    let total: usize = c.iter().sum();
    let parts: Vec<String> = c
        .iter()
        .enumerate()
        .filter(|(_, &v)| v > 0)
        .map(|(k, v)| format!("{v} {}", status_at(k).map_or("other", JobStatus::as_str)))
        .collect();
    format!("{total} jobs: {}", parts.join(", "))
}

/// (status index, y, height) of each non-empty part of a column, from the bottom up.
fn stack(c: &[usize; 7], busiest: usize, bottom: f64, full: f64) -> Vec<(usize, f64, f64)> {
    let mut y = bottom;
    let mut out = Vec::new();
    for (k, &v) in c.iter().enumerate() {
        if v == 0 {
            continue;
        }
        let h = full * v as f64 / busiest as f64;
        y -= h;
        out.push((k, y, h));
    }
    out
}
