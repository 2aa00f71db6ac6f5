//! The page: one HTML document with its CSS inline, the SVG of the timeline and charts, the
//! table of jobs that went wrong with their histories, and `query stats`'s numbers. maud
//! escapes every value, so a job name holding markup stays text.

use chrono::{DateTime, FixedOffset, Utc};
use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::data::{CoverageNote, Figures, Job, ReportData, MAX_LANES, MAX_PROBLEM_ROWS};
use super::svg::{self, when};
use super::{charts, timeline, ReportRequest};
use crate::query::human_seconds;
use crate::time;

const CSS: &str = include_str!("report.css");

/// The whole document.
pub fn render(request: &ReportRequest, data: &ReportData, now: DateTime<Utc>) -> String {
    let offset = svg::offset(request.tz, data.range.start);
    let empty = data.jobs.is_empty();
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                // Nothing may load from anywhere: a browser refuses (and says so in its
                // console) any fetch, so the page shows exactly what the file holds.
                meta http-equiv="Content-Security-Policy"
                    content="default-src 'none'; style-src 'unsafe-inline'";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light";
                meta name="generator" content=(concat!("gaussjobs ", env!("CARGO_PKG_VERSION")));
                title { (request.title) }
                style { (PreEscaped(CSS)) }
            }
            body {
                (svg::patterns())
                (header(request, data, offset, now))
                @if empty {
                    p class="empty" id="nothing-matched" {
                        "No job matched this range and these filters."
                    }
                }
                section id="timeline" {
                    h2 { "Instance timeline" }
                    p class="note" {
                        "One lane per instance, busiest first; each job a bar from start to end, "
                        "open jobs from creation to now, a diamond for a job with one time only. "
                        "Times " (zone(offset)) "."
                        @if data.lanes.iter().any(|l| l.jobs.len() > timeline::BAR_BUDGET / data.lanes.len().max(1)) {
                            " Lanes with many jobs show counts per time slice, stacked by status."
                        }
                    }
                    (svg::legend(html! {}))
                    (timeline::draw(data, offset, now))
                    @if data.more_lanes > 0 {
                        p class="more" id="more-lanes" {
                            (data.more_lanes) " more instances with " (data.more_lane_jobs)
                            " jobs (only the " (MAX_LANES) " busiest are drawn)."
                        }
                    }
                }
                @if !empty {
                    section id="per-bucket" {
                        h2 { "Jobs per " (if data.weekly { "week" } else { "day" }) ", by status" }
                        p class="note" { "By create time, " (if data.weekly { "weeks starting Monday, " } else { "" }) "UTC days, as query stats counts them." }
                        (charts::per_bucket(data))
                    }
                    section id="failure-rate" {
                        h2 { "Failure rate by job type" }
                        (charts::failure_rate(data))
                    }
                    section id="durations" {
                        h2 { "Duration by job type (p50 dark, p95 pale)" }
                        (charts::durations(data))
                    }
                }
                (problems(data, offset))
                (stats(request, data))
                footer {
                    "Made by gaussjobs " (env!("CARGO_PKG_VERSION")) " at " (time::to_store(now))
                    " from the archive alone; nothing was fetched."
                }
            }
        }
    };
    page.into_string()
}

fn zone(offset: FixedOffset) -> String {
    if offset.local_minus_utc() == 0 {
        "in UTC".to_string()
    } else {
        format!("at UTC{offset}")
    }
}

fn filters(request: &ReportRequest) -> String {
    let f = &request.filter;
    let mut parts = Vec::new();
    for i in &f.instances {
        parts.push(format!("instance {i}"));
    }
    if let Some(p) = &f.project {
        parts.push(format!("project {p}"));
    }
    if !f.statuses.is_empty() {
        let s: Vec<&str> = f.statuses.iter().map(|s| s.as_str()).collect();
        parts.push(format!("status {}", s.join(" or ")));
    }
    if parts.is_empty() {
        "none: every job of the range".to_string()
    } else {
        parts.join("; ")
    }
}

fn header(
    request: &ReportRequest,
    data: &ReportData,
    offset: FixedOffset,
    now: DateTime<Utc>,
) -> Markup {
    html! {
        header {
            h1 { (request.title) }
            dl class="facts" {
                dt { "Archive" } dd id="archive" { (request.archive) }
                dt { "Range" } dd id="range" {
                    "jobs created from " (when(data.range.start, offset)) " to "
                    (when(data.range.end, offset)) " (end excluded)"
                }
                dt { "Filters" } dd id="filters" { (filters(request)) }
                dt { "Made" } dd id="made" { (when(now, offset)) }
                dt { "Jobs" } dd id="job-count" { (data.jobs.len()) }
                dt { "Coverage" } dd id="coverage" { (coverage(&data.coverage, offset)) }
            }
        }
    }
}

fn coverage(note: &CoverageNote, offset: FixedOffset) -> Markup {
    // Rounded down: a range missing five minutes is not "100.0%" covered.
    let pct = (note.covered_share * 1000.0).floor() / 10.0;
    html! {
        @if note.scopes.is_empty() {
            p class="warning" {
                "The archive has no sync record for this project: nothing says which jobs of "
                "the range it holds."
            }
        } @else {
            p {
                strong data-share=(format!("{:.4}", note.covered_share)) { (format!("{pct:.1}%")) }
                " of the range was fetched completely by a sync."
            }
            @if !note.uncovered.is_empty() {
                p class="warning" { "Not covered (jobs created then may be missing):" }
                ul class="uncovered" {
                    @for w in &note.uncovered {
                        li { (when(w.start, offset)) " – " (when(w.end, offset)) }
                    }
                }
            }
            p { "Syncs into the archive:" }
            ul class="scopes" {
                @for s in &note.scopes {
                    li {
                        "Project " (s.project_id) " at " (s.endpoint)
                        @if !s.filter.is_empty() { " (only " (s.filter) ")" }
                        ": last successful sync "
                        @match (&s.last_success, s.last_success_age_seconds) {
                            (Some(at), Some(age)) => { (at) " (" (human_seconds(age)) " ago)" }
                            _ => { "never" }
                        }
                        "; " (s.open_jobs) " open jobs still watched."
                        @for w in &s.warnings {
                            br; span class="warning" { "⚠ " (w) }
                        }
                    }
                }
            }
        }
    }
}

fn t(v: Option<DateTime<Utc>>, offset: FixedOffset) -> String {
    v.map(|t| when(t, offset))
        .unwrap_or_else(|| "–".to_string())
}

fn problems(data: &ReportData, offset: FixedOffset) -> Markup {
    html! {
        section id="problems" {
            h2 { "Failed, canceled and open jobs" }
            @if data.problems.is_empty() {
                p class="empty" { "None in this range." }
            } @else {
                p class="note" {
                    (data.problems_total) " jobs, newest first. Under each, its history lists every "
                    "version the archive saw, with when it was first observed."
                    @if data.problems_total > MAX_PROBLEM_ROWS {
                        " Only the newest " (MAX_PROBLEM_ROWS) " are listed; `gaussjobs query jobs` "
                        "with the same filters lists them all."
                    }
                }
                table class="problems" {
                    thead { tr {
                        th { "Job" } th { "Instance" } th { "Type" } th { "Status" }
                        th { "Created" } th { "Started" } th { "Ended" } th { "Duration" }
                    } }
                    tbody {
                        @for p in &data.problems {
                            @let job: &Job = &data.jobs[p.job];
                            tr data-job=(job.job_id) class=(svg::slug(job.status)) {
                                td class="id" { (job.job_id) }
                                td { (job.instance_name.as_deref().or(job.instance_id.as_deref()).unwrap_or("–")) }
                                td { (job.job_name.as_deref().unwrap_or("–")) }
                                td class="status" {
                                    svg width="12" height="12" viewBox="0 0 12 12" aria-hidden="true" {
                                        rect width="12" height="12" fill=(svg::fill(job.status)) {}
                                    }
                                    " " (job.status_text.as_deref().unwrap_or("–"))
                                }
                                td { (t(job.create, offset)) }
                                td { (t(job.start, offset)) }
                                td { (t(job.end, offset)) }
                                td { (job.duration().map(human_seconds).unwrap_or_else(|| "–".into())) }
                            }
                            // The history spans the row below its job: five columns of
                            // versions squeezed into one cell were a column of letters.
                            tr class="history-row" data-history-of=(job.job_id) {
                                td colspan="8" {
                                    details {
                                        summary {
                                            "History: " (p.history.len()) " version"
                                            @if p.history.len() != 1 { "s" }
                                            @if let Some(last) = p.history.last() {
                                                ", last observed " (last.observed_at)
                                            }
                                        }
                                        table class="history" {
                                            tr { th { "version" } th { "observed" } th { "status" } th { "start" } th { "end" } }
                                            @for v in &p.history {
                                                tr class="version" {
                                                    td { (v.version) }
                                                    td { (v.observed_at) }
                                                    td { (v.status.as_deref().unwrap_or("–")) }
                                                    td { (v.start.as_deref().unwrap_or("–")) }
                                                    td { (v.end.as_deref().unwrap_or("–")) }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The command that prints the same numbers, so a reader can check them.
fn stats_command(request: &ReportRequest) -> String {
    let f = &request.filter;
    let mut cmd = String::from("gaussjobs query stats --by job_name");
    if let Some(s) = f.since {
        cmd.push_str(&format!(" --since {}", time::to_store(s)));
    }
    if let Some(u) = f.until {
        cmd.push_str(&format!(" --until {}", time::to_store(u)));
    }
    for i in &f.instances {
        cmd.push_str(&format!(" --instance {}", shell_word(i)));
    }
    if let Some(p) = &f.project {
        cmd.push_str(&format!(" --project {}", shell_word(p)));
    }
    for s in &f.statuses {
        cmd.push_str(&format!(" --status {}", s.as_str()));
    }
    cmd
}

fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn stats_row(name: &str, f: &Figures, class: &str) -> Markup {
    let secs = |v: Option<i64>| v.map(human_seconds).unwrap_or_else(|| "–".into());
    html! {
        tr class=(class) data-type=(name) data-count=(f.count) data-failed=(f.failed)
            data-failure-rate=(f.failure_rate) data-timed=(f.timed)
            data-p50=(f.p50.map(|v| v.to_string()).unwrap_or_default())
            data-p95=(f.p95.map(|v| v.to_string()).unwrap_or_default()) {
            td { (name) }
            td class="num" { (f.count) }
            td class="num" { (f.failed) }
            td class="num" { (format!("{:.1}%", f.failure_rate * 100.0)) }
            td class="num" { (f.timed) }
            td class="num" { (secs(f.p50)) }
            td class="num" { (secs(f.p95)) }
        }
    }
}

fn stats(request: &ReportRequest, data: &ReportData) -> Markup {
    let zero = Figures {
        key: Vec::new(),
        count: 0,
        failed: 0,
        failure_rate: 0.0,
        timed: 0,
        p50: None,
        p95: None,
    };
    html! {
        section id="stats" {
            h2 { "Figures" }
            p class="note" {
                "The numbers of " code { (stats_command(request)) } " (and without "
                code { "--by" } " for the total): the report reads them from the same code."
            }
            table class="stats" {
                thead { tr {
                    th { "Job type" } th class="num" { "Jobs" } th class="num" { "Failed" }
                    th class="num" { "Failure rate" } th class="num" { "Timed" }
                    th class="num" { "p50" } th class="num" { "p95" }
                } }
                tbody {
                    @for f in &data.by_type {
                        (stats_row(f.key.first().cloned().flatten().as_deref().unwrap_or(""), f, "type"))
                    }
                }
                tfoot {
                    (stats_row("All", data.total.as_ref().unwrap_or(&zero), "total"))
                }
            }
        }
    }
}
