//! `gaussjobs report`: the HTML parsed and checked against independent SQL on the same
//! archive and against `query stats`, and the page rendered by a real browser.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use gaussjobs::simulate::SimConfig;
use scraper::{Html, Selector};
use serde_json::Value;

use crate::support::{fresh_std_command, now, required_tool, World};

fn synced_world() -> World {
    let world = World::new(SimConfig {
        jobs: 300,
        days: 10,
        seed: 16,
        now: now(),
        ..SimConfig::default()
    });
    world.sync(&["--since", "11d"]).assert().success();
    world
}

/// The range every check of a test uses, as the archive writes times.
fn range(days_back: i64) -> (String, String) {
    let t = |d: chrono::DateTime<chrono::Utc>| d.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let until = now() + chrono::Duration::hours(1);
    (t(until - chrono::Duration::days(days_back)), t(until))
}

fn report(world: &World, args: &[&str]) -> Html {
    let out = world.dir.path().join("report.html");
    world
        .gaussjobs()
        .arg("report")
        .args(args)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let text = std::fs::read_to_string(&out).unwrap();
    let doc = Html::parse_document(&text);
    assert!(doc.errors.is_empty(), "HTML parse errors: {:?}", doc.errors);
    doc
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

fn attr<'a>(e: &scraper::ElementRef<'a>, name: &str) -> &'a str {
    e.value().attr(name).unwrap_or_default()
}

/// No element or style refers to anything outside the file: every reference is a fragment.
fn assert_self_contained(doc: &Html) {
    for e in doc
        .root_element()
        .descendants()
        .filter_map(scraper::ElementRef::wrap)
    {
        let name = e.value().name();
        assert!(
            !["script", "link", "img", "iframe", "object", "embed", "image", "use"].contains(&name),
            "<{name}> in the report"
        );
        for (key, value) in e.value().attrs() {
            if [
                "href",
                "src",
                "xlink:href",
                "srcset",
                "action",
                "data",
                "poster",
            ]
            .contains(&key)
            {
                assert!(value.starts_with('#'), "<{name} {key}={value:?}>");
            }
            if value.contains("url(") {
                assert!(value.starts_with("url(#"), "<{name} {key}={value:?}>");
            }
        }
    }
    let css: String = doc.select(&sel("style")).map(|s| s.inner_html()).collect();
    assert!(!css.contains("@import") && !css.contains("@font-face"));
    for (at, _) in css.match_indices("url(") {
        assert!(css[at..].starts_with("url(#"), "CSS url at {at}");
    }
}

/// `(key, count)` per row of `query stats --format json` for `args`.
fn query_stats(world: &World, args: &[&str]) -> Vec<Value> {
    let out = world
        .gaussjobs()
        .args(["query", "stats", "--format", "json"])
        .args(args)
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    v.as_array().unwrap().clone()
}

/// The report's figures table as `query stats --format json` would print it.
fn report_stats(doc: &Html, class: &str) -> Vec<Value> {
    doc.select(&sel(&format!("table.stats tr.{class}")))
        .map(|tr| {
            let num = |k: &str| -> Value {
                let v = attr(&tr, k);
                if v.is_empty() {
                    Value::Null
                } else {
                    serde_json::from_str(v).unwrap()
                }
            };
            let mut row = serde_json::Map::new();
            if class == "type" {
                row.insert(
                    "job_name".into(),
                    Value::String(attr(&tr, "data-type").into()),
                );
            }
            row.insert("count".into(), num("data-count"));
            row.insert("failed".into(), num("data-failed"));
            row.insert("failure_rate".into(), num("data-failure-rate"));
            row.insert("timed".into(), num("data-timed"));
            row.insert("p50_seconds".into(), num("data-p50"));
            row.insert("p95_seconds".into(), num("data-p95"));
            Value::Object(row)
        })
        .collect()
}

/// JSON numbers compared as numbers (`0.25` and `0.25` written differently stay equal).
fn normalised(rows: Vec<Value>) -> Vec<BTreeMap<String, String>> {
    rows.into_iter()
        .map(|r| {
            r.as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::Number(n) => format!("{}", n.as_f64().unwrap()),
                        other => other.to_string(),
                    };
                    (k.clone(), v)
                })
                .collect()
        })
        .collect()
}

#[test]
fn the_report_draws_the_archive_as_it_is() {
    let world = synced_world();
    let (since, until) = range(12);
    let doc = report(&world, &["--since", &since, "--until", &until]);
    assert_self_contained(&doc);

    // Lanes: the busiest twelve instances, each with exactly its jobs as bars or marks.
    let conn = world.conn();
    let mut per_instance: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stmt = conn
        .prepare(
            "SELECT instance_id, job_id FROM jobs WHERE create_time >= ?1 AND create_time < ?2",
        )
        .unwrap();
    for row in stmt
        .query_map([&since, &until], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })
        .unwrap()
    {
        let (instance, job) = row.unwrap();
        per_instance.entry(instance).or_default().insert(job);
    }
    assert!(
        per_instance.len() > 12,
        "the world has more instances than lanes"
    );
    let lanes: Vec<_> = doc.select(&sel("svg.timeline g.lane")).collect();
    assert_eq!(lanes.len(), 12);
    let mut last = usize::MAX;
    for lane in &lanes {
        let id = attr(lane, "data-instance");
        let drawn: BTreeSet<String> = lane
            .select(&sel("[data-job]"))
            .map(|e| attr(&e, "data-job").to_string())
            .collect();
        assert_eq!(&drawn, &per_instance[id], "lane {id}");
        assert!(drawn.len() <= last, "lanes are busiest first");
        last = drawn.len();
    }
    let drawn_jobs: usize = lanes
        .iter()
        .map(|l| attr(l, "data-jobs").parse::<usize>().unwrap())
        .sum();
    let more = doc
        .select(&sel("#more-lanes"))
        .next()
        .unwrap()
        .text()
        .collect::<String>();
    let total: usize = per_instance.values().map(BTreeSet::len).sum();
    assert!(
        more.starts_with(&format!(
            "{} more instances with {} jobs",
            per_instance.len() - 12,
            total - drawn_jobs
        )),
        "{more}"
    );
    // Open jobs are bars to now, and every job has a status class the legend explains.
    let open: i64 = world.count(&format!(
        "SELECT count(*) FROM jobs WHERE create_time >= '{since}' AND create_time < '{until}'
         AND job_status IN ('Running', 'Pending', 'Unauthorized')
         AND instance_id IN ({})",
        lanes
            .iter()
            .map(|l| format!("'{}'", attr(l, "data-instance")))
            .collect::<Vec<_>>()
            .join(",")
    ));
    assert_eq!(
        doc.select(&sel("svg.timeline rect.bar.open")).count() as i64,
        open
    );
    let legend: String = doc
        .select(&sel("ul.legend"))
        .next()
        .unwrap()
        .text()
        .collect();
    for status in [
        "Completed",
        "Failed",
        "Canceled",
        "Running",
        "Pending",
        "Unauthorized",
    ] {
        assert!(legend.contains(status), "{legend}");
    }

    // The table: every failed, canceled and open job, newest first, with all its versions.
    let mut want: Vec<(String, i64)> = Vec::new();
    let mut stmt = conn
        .prepare(
            "SELECT j.job_id, (SELECT count(*) FROM job_history h WHERE h.job_id = j.job_id)
             FROM jobs j WHERE create_time >= ?1 AND create_time < ?2
             AND job_status IN ('Failed', 'Canceled', 'Running', 'Pending', 'Unauthorized')
             ORDER BY create_time DESC, job_id DESC",
        )
        .unwrap();
    for row in stmt
        .query_map([&since, &until], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
    {
        want.push(row.unwrap());
    }
    assert!(!want.is_empty());
    let got: Vec<(String, i64)> = doc
        .select(&sel("table.problems > tbody > tr[data-job]"))
        .map(|tr| {
            let id = attr(&tr, "data-job");
            // The row under a job's row holds its history.
            let below = tr
                .next_siblings()
                .find_map(scraper::ElementRef::wrap)
                .unwrap();
            assert_eq!(attr(&below, "data-history-of"), id);
            let versions = below.select(&sel("tr.version")).count() as i64;
            (id.to_string(), versions)
        })
        .collect();
    assert_eq!(got, want);

    // The figures are query stats's, for the same filters.
    let args = ["--since", since.as_str(), "--until", until.as_str()];
    let by_type = query_stats(&world, &[&args[..], &["--by", "job_name"]].concat());
    assert_eq!(
        normalised(report_stats(&doc, "type")),
        normalised(by_type.clone())
    );
    assert_eq!(
        normalised(report_stats(&doc, "total")),
        normalised(query_stats(&world, &args))
    );
    // The charts by job type draw those figures: each type's failures of its jobs, and a
    // duration bar for each type with timed jobs.
    let stats_of = |name: &str| {
        by_type
            .iter()
            .find(|r| r["job_name"] == name)
            .unwrap_or_else(|| panic!("{name} not in query stats"))
    };
    let rates: Vec<_> = doc.select(&sel("svg.failure-rate g.type-row")).collect();
    assert_eq!(rates.len(), by_type.len().min(30));
    for row in rates {
        let r = stats_of(attr(&row, "data-type"));
        let label: String = row.text().collect();
        assert!(
            label.contains(&format!("({} of {})", r["failed"], r["count"])),
            "{label}"
        );
    }
    let timed: BTreeSet<&str> = doc
        .select(&sel("svg.durations g.type-row"))
        .map(|row| attr(&row, "data-type"))
        .collect();
    let want_timed: BTreeSet<&str> = by_type
        .iter()
        .filter(|r| !r["p95_seconds"].is_null())
        .map(|r| r["job_name"].as_str().unwrap())
        .collect();
    assert_eq!(timed, want_timed);
    // And the chart per day adds up to the total.
    let per_day: i64 = doc
        .select(&sel("svg.per-bucket g.bucket"))
        .map(|g| attr(&g, "data-count").parse::<i64>().unwrap())
        .sum();
    assert_eq!(per_day as usize, total);
    // Each day's stack is `query stats --by day,job_status`, part by part.
    let want: BTreeMap<(String, String), i64> =
        query_stats(&world, &[&args[..], &["--by", "day,job_status"]].concat())
            .iter()
            .map(|r| {
                let key = (
                    r["day"].as_str().unwrap().to_string(),
                    r["job_status"].as_str().unwrap_or("other").to_string(),
                );
                (key, r["count"].as_i64().unwrap())
            })
            .collect();
    let got: BTreeMap<(String, String), i64> = doc
        .select(&sel("svg.per-bucket g.bucket rect title"))
        .map(|t| {
            // "2024-03-05 Failed: 3"
            let text: String = t.text().collect();
            let (key, count) = text.rsplit_once(": ").unwrap();
            let (day, status) = key.split_once(' ').unwrap();
            (
                (day.to_string(), status.to_string()),
                count.parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, want);

    // The header: the range and the archive's coverage of it (synced from 11 days back, so
    // the first day of the range is a gap).
    let header: String = doc.select(&sel("header")).next().unwrap().text().collect();
    assert!(
        header.contains(&since[..10]) && header.contains("archive.db"),
        "{header}"
    );
    let uncovered: Vec<String> = doc
        .select(&sel("ul.uncovered li"))
        .map(|li| li.text().collect())
        .collect();
    assert!(!uncovered.is_empty(), "{header}");
    assert!(uncovered[0].starts_with(&since[..10]), "{uncovered:?}");
}

#[test]
fn filters_pick_lanes_and_figures_as_query_stats_does() {
    let world = synced_world();
    let (since, until) = range(12);
    let two: Vec<String> = {
        let conn = world.conn();
        let mut stmt = conn
            .prepare("SELECT instance_id FROM jobs GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 2 OFFSET 3")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let args = [
        "--since",
        &since,
        "--until",
        &until,
        "--instance",
        &two[0],
        "--instance",
        &two[1],
        "--status",
        "failed,completed",
    ];
    let doc = report(&world, &args);
    let lanes: BTreeSet<&str> = doc
        .select(&sel("svg.timeline g.lane"))
        .map(|l| attr(&l, "data-instance"))
        .collect();
    assert_eq!(lanes, two.iter().map(String::as_str).collect());
    assert!(doc.select(&sel("#more-lanes")).next().is_none());
    let statuses: BTreeSet<&str> = doc
        .select(&sel("table.problems > tbody > tr[data-job]"))
        .map(|tr| attr(&tr, "class"))
        .collect();
    assert_eq!(statuses, BTreeSet::from(["failed"]));
    let by_type = query_stats(&world, &[&args[..], &["--by", "job_name"]].concat());
    assert!(!by_type.is_empty());
    // `query stats` takes --instance more than once too: any of them.
    let want = world.count(&format!(
        "SELECT count(*) FROM jobs WHERE instance_id IN ('{}', '{}')
         AND job_status IN ('Failed', 'Completed') AND create_time >= '{since}'
         AND create_time < '{until}'",
        two[0], two[1]
    ));
    assert_eq!(query_stats(&world, &args)[0]["count"], want);
    assert_eq!(normalised(report_stats(&doc, "type")), normalised(by_type));
    assert_eq!(
        normalised(report_stats(&doc, "total")),
        normalised(query_stats(&world, &args))
    );
    let filters: String = doc
        .select(&sel("#filters"))
        .next()
        .unwrap()
        .text()
        .collect();
    assert!(
        filters.contains(&two[0]) && filters.contains("Failed or Completed"),
        "{filters}"
    );
}

#[test]
fn an_empty_range_gives_a_valid_report_that_says_nothing_matched() {
    let world = synced_world();
    let doc = report(
        &world,
        &[
            "--since",
            "2020-01-01",
            "--until",
            "2020-02-01",
            "--tz",
            "+08:00",
        ],
    );
    assert_self_contained(&doc);
    let said: String = doc
        .select(&sel("#nothing-matched"))
        .next()
        .unwrap()
        .text()
        .collect();
    assert!(said.contains("No job matched"), "{said}");
    assert_eq!(doc.select(&sel("g.lane")).count(), 0);
    assert_eq!(doc.select(&sel("table.problems tbody tr")).count(), 0);
    assert_eq!(doc.select(&sel("table.stats tr.type")).count(), 0);
    let total = report_stats(&doc, "total");
    assert_eq!(total[0]["count"], 0);
    // Nothing of the range was synced: the header says so.
    let coverage: String = doc
        .select(&sel("#coverage"))
        .next()
        .unwrap()
        .text()
        .collect();
    assert!(coverage.contains("0.0%"), "{coverage}");
    let range: String = doc.select(&sel("#range")).next().unwrap().text().collect();
    assert!(range.contains("2020-01-01 08:00 +08:00"), "{range}");
    for bad in [
        &["--since", "bogus"][..],
        &["--status", "nope"],
        &["--tz", "mars"],
    ] {
        world.gaussjobs().arg("report").args(bad).assert().code(2);
    }
    // An unknown instance fails as `query` fails it, and no report is written.
    let out = world
        .gaussjobs()
        .args([
            "report",
            "--instance",
            "no-such-instance",
            "--out",
            "u.html",
        ])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("no instance no-such-instance"), "{stderr}");
    assert!(!world.dir.path().join("u.html").exists());
}

#[test]
fn a_report_goes_to_stdout_with_dash_and_never_leaves_half_a_file() {
    let world = synced_world();
    let out = world
        .gaussjobs()
        .args(["report", "--out", "-", "--title", "<b>March</b>"])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.starts_with("<!DOCTYPE html>"));
    // A title is text, never markup.
    assert!(text.contains("<title>&lt;b&gt;March&lt;/b&gt;</title>"));
    assert!(!world.dir.path().join("gaussjobs-report.html").exists());
    // An archive that is not there: an error, and no file at all.
    let missing = world.dir.path().join("missing.db");
    crate::support::gaussjobs_in(world.dir.path(), &missing)
        .args(["report", "--out", "r.html"])
        .assert()
        .failure();
    let left: Vec<_> = std::fs::read_dir(world.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("r.html"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// Console lines headless Chromium logged for the page (`INFO:CONSOLE`): the report has no
/// script, so any line is a complaint (a refused load, a broken document).
fn console_lines(stderr: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect()
}

fn chromium(dir: &Path, chromium: &Path, args: &[&str], page: &Path) -> std::process::Output {
    let profile = dir.join("chromium-profile");
    fresh_std_command(chromium, dir)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap()
}

/// Share of pixels that are not near-white, and how many distinct colours the PNG has.
fn ink(png_path: &Path) -> (f64, usize) {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels = &buf[..info.buffer_size()];
    let mut colours = BTreeSet::new();
    let mut inked = 0usize;
    let mut total = 0usize;
    for px in pixels.chunks(channels) {
        total += 1;
        if px[..3.min(channels)].iter().any(|&c| c < 235) {
            inked += 1;
        }
        colours.insert((px[0], px[1 % channels], px[2 % channels]));
    }
    (inked as f64 / total as f64, colours.len())
}

#[test]
fn a_real_browser_renders_the_report_to_png_and_pdf_without_complaint() {
    let Some(browser) = required_tool(
        "chromium",
        &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
        "Debian's chromium",
    ) else {
        return;
    };
    let Some(pdftotext) = required_tool("pdftotext", &["/usr/bin/pdftotext"], "poppler-utils")
    else {
        return;
    };
    let world = synced_world();
    let dir = world.dir.path();
    let page = dir.join("report.html");
    world
        .gaussjobs()
        .args([
            "report",
            "--since",
            "12d",
            "--title",
            "Browser check",
            "--out",
        ])
        .arg(&page)
        .assert()
        .success();

    // The console check sees a page's complaints: a broken page is caught.
    let broken = dir.join("broken.html");
    std::fs::write(
        &broken,
        "<!DOCTYPE html><p>x</p><script>console.error('boom')</script>",
    )
    .unwrap();
    let shot = dir.join("broken.png");
    let out = chromium(
        dir,
        &browser,
        &[&format!("--screenshot={}", shot.display())],
        &broken,
    );
    assert!(
        !console_lines(&out.stderr).is_empty(),
        "the check sees console errors"
    );

    // The report renders with success and not a line on the console.
    let render_cleanly = |flags: &[&str]| {
        let out = chromium(dir, &browser, flags, &page);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(console_lines(&out.stderr), Vec::<String>::new());
    };
    let png_path = dir.join("report.png");
    render_cleanly(&[
        "--window-size=1280,2000",
        &format!("--screenshot={}", png_path.display()),
    ]);
    let (share, colours) = ink(&png_path);
    assert!(
        share > 0.03,
        "the screenshot is blank: {share:.4} of it inked"
    );
    assert!(colours > 50, "the screenshot has {colours} colours only");

    let pdf = dir.join("report.pdf");
    render_cleanly(&[
        "--no-pdf-header-footer",
        &format!("--print-to-pdf={}", pdf.display()),
    ]);
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF"));
    let text = fresh_std_command(&pdftotext, dir)
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    for words in [
        "Browser check",
        "Instance timeline",
        "Failed, canceled and open jobs",
        "Figures",
    ] {
        assert!(text.contains(words), "the PDF lacks {words:?}");
    }
}
