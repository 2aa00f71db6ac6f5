//! The page drawn from made-up data: busy lanes aggregate, quiet ones draw every job, and the
//! file stays small however many jobs there are.

use chrono::{DateTime, Duration, Utc};
use scraper::{Html, Selector};

use super::data::{CoverageNote, Job, Lane, ReportData};
use super::{page, ReportRequest};
use crate::api::model::JobStatus;
use crate::query::{DisplayTz, Filter};
use crate::store::Window;

fn at(s: &str) -> DateTime<Utc> {
    crate::time::from_store(s).unwrap()
}

/// `busy` jobs on one instance and `quiet` on another, over a year.
fn data(busy: usize, quiet: usize) -> ReportData {
    let start = at("2025-01-01T00:00:00Z");
    let mut jobs = Vec::new();
    let mut lanes = vec![
        Lane {
            instance_id: Some("busy".into()),
            name: Some("busy-db".into()),
            jobs: Vec::new(),
        },
        Lane {
            instance_id: Some("quiet".into()),
            name: None,
            jobs: Vec::new(),
        },
    ];
    for i in 0..busy + quiet {
        let create = start + Duration::minutes(5 * i as i64);
        let status = JobStatus::ALL[i % 6];
        let timed = !matches!(status, JobStatus::Pending | JobStatus::Unauthorized);
        jobs.push(Job {
            job_id: format!("job-{i}"),
            instance_id: Some(if i < busy { "busy" } else { "quiet" }.into()),
            instance_name: None,
            job_name: Some("<REBOOT>".into()),
            status: Some(status),
            status_text: Some(status.as_str().into()),
            create: Some(create),
            start: timed.then_some(create),
            end: (timed && status != JobStatus::Running).then(|| create + Duration::minutes(3)),
        });
        lanes[usize::from(i >= busy)].jobs.push(i);
    }
    ReportData {
        range: Window {
            start,
            end: start + Duration::days(365),
        },
        jobs,
        lanes,
        more_lanes: 0,
        more_lane_jobs: 0,
        total: None,
        by_type: Vec::new(),
        per_bucket: Vec::new(),
        weekly: true,
        problems: Vec::new(),
        problems_total: 0,
        coverage: CoverageNote {
            scopes: Vec::new(),
            uncovered: Vec::new(),
            covered_share: 0.0,
        },
    }
}

fn request() -> ReportRequest {
    ReportRequest {
        filter: Filter::default(),
        title: "t".into(),
        tz: DisplayTz::Utc,
        archive: "a.db".into(),
    }
}

fn count(doc: &Html, css: &str) -> usize {
    doc.select(&Selector::parse(css).unwrap()).count()
}

#[test]
fn a_busy_lane_is_drawn_as_counts_and_a_quiet_one_job_by_job() {
    let now = at("2026-01-01T00:00:00Z");
    let html = page::render(&request(), &data(50_000, 40), now);
    let doc = Html::parse_document(&html);
    assert_eq!(count(&doc, "g.lane.aggregated[data-instance=busy]"), 1);
    assert_eq!(count(&doc, "g.lane[data-instance=quiet] [data-job]"), 40);
    assert_eq!(count(&doc, "g.lane[data-instance=busy] [data-job]"), 0);
    let sliced: usize = doc
        .select(&Selector::parse("g.lane[data-instance=busy] g.slice").unwrap())
        .map(|g| {
            g.value()
                .attr("data-count")
                .unwrap()
                .parse::<usize>()
                .unwrap()
        })
        .sum();
    assert_eq!(
        sliced, 50_000,
        "every job of a busy lane is counted in a slice"
    );
    // The lane without a name is labelled by its id; job names are text, never markup.
    assert!(html.contains(">quiet (40)<"));
    assert!(html.contains("&lt;REBOOT&gt;") && !html.contains("<REBOOT>"));
    assert!(html.len() < 1_000_000, "{} bytes", html.len());
}

#[test]
fn the_bar_budget_bounds_the_file_whatever_the_job_count() {
    let now = at("2026-01-01T00:00:00Z");
    let small = page::render(&request(), &data(2_000, 10), now).len();
    let large = page::render(&request(), &data(200_000, 10), now).len();
    // 100 times the jobs, about the same file: the busy lane's slices, not its jobs.
    assert!(large < small * 2, "{small} -> {large} bytes");
}

#[test]
fn a_finished_job_with_one_time_is_a_mark_and_one_without_times_is_left_out() {
    let now = at("2026-01-01T00:00:00Z");
    let mut data = data(0, 3);
    let completed = |job: &mut Job| {
        job.status = Some(JobStatus::Completed);
        job.status_text = Some("Completed".into());
        job.start = None;
        job.end = None;
    };
    completed(&mut data.jobs[0]);
    completed(&mut data.jobs[1]);
    data.jobs[1].create = None;
    let doc = Html::parse_document(&page::render(&request(), &data, now));
    assert_eq!(count(&doc, "path.mark[data-job=job-0]"), 1);
    assert_eq!(count(&doc, "[data-job=job-0]"), 1, "a mark, not a bar too");
    assert_eq!(count(&doc, "g.lane [data-job=job-1]"), 0);
    assert_eq!(count(&doc, "g.lane [data-job=job-2]"), 1);
}
