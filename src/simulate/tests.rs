//! Tests of the simulator over real HTTP, with reqwest as the client.

use std::collections::{HashMap, HashSet};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use super::*;
use crate::api::model::ListJobsPage;

fn utc(s: &str) -> DateTime<Utc> {
    crate::time::from_store(s).unwrap()
}

fn now() -> DateTime<Utc> {
    utc("2024-04-01T00:00:00Z")
}

fn config(jobs: usize) -> SimConfig {
    SimConfig {
        jobs,
        now: now(),
        ..SimConfig::default()
    }
}

struct Harness {
    sim: Simulator,
    server: BackgroundServer,
    client: reqwest::Client,
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    fn ids(&self) -> Vec<String> {
        self.json()["schedules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j["job_id"].as_str().unwrap().to_string())
            .collect()
    }

    fn total(&self) -> u64 {
        self.json()["total_count"].as_u64().unwrap()
    }
}

impl Harness {
    fn new(sim: Simulator) -> Harness {
        Harness {
            server: sim.spawn_background(),
            sim,
            client: reqwest::Client::new(),
        }
    }

    fn list_url(&self) -> url::Url {
        url::Url::parse(&format!(
            "{}/v3/{DEFAULT_PROJECT_ID}/scheduled-jobs",
            self.server.url
        ))
        .unwrap()
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Answer {
        let resp = req.send().await.unwrap();
        Answer {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            body: resp.text().await.unwrap(),
        }
    }

    /// A list call with the query properly percent-encoded (`+` as `%2B`).
    async fn list(&self, query: &[(&str, &str)]) -> Answer {
        let mut url = self.list_url();
        url.query_pairs_mut().extend_pairs(query);
        self.send(self.client.get(url).header("X-Auth-Token", DEFAULT_TOKEN))
            .await
    }

    /// A list call with the query text exactly as given, as a careless client sends it.
    async fn list_raw(&self, query: &str) -> Answer {
        let url = format!("{}?{query}", self.list_url());
        self.send(self.client.get(url).header("X-Auth-Token", DEFAULT_TOKEN))
            .await
    }

    async fn control(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Answer {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.server.url));
        if let Some(body) = body {
            req = req.body(body.to_string());
        }
        self.send(req).await
    }

    /// Every job of a query, paged at `limit`.
    async fn all_pages(&self, query: &[(&str, &str)], limit: u32) -> (Vec<String>, u64) {
        let mut ids = Vec::new();
        let mut offset = 0;
        loop {
            let (o, l) = (offset.to_string(), limit.to_string());
            let mut q = query.to_vec();
            q.extend([("offset", o.as_str()), ("limit", l.as_str())]);
            let page = self.list(&q).await;
            assert_eq!(page.status, 200, "{}", page.body);
            let got = page.ids();
            let total = page.total();
            offset += got.len();
            ids.extend(got);
            if offset as u64 >= total {
                return (ids, total);
            }
        }
    }
}

fn error_code(a: &Answer) -> String {
    a.json()["error_code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn paging_covers_every_job_once_newest_first_with_the_served_text() {
    let h = Harness::new(Simulator::new(config(2_500)));
    let (ids, total) = h.all_pages(&[], 100).await;
    assert_eq!(total, 2_500);
    assert_eq!(ids.len(), 2_500);
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        2_500,
        "no repeats"
    );
    assert_eq!(h.sim.request_count(), 25);

    let jobs = h.sim.jobs();
    let expected: Vec<String> = jobs
        .iter()
        .map(|j| j["job_id"].as_str().unwrap().into())
        .collect();
    assert_eq!(ids, expected, "the API's order is jobs()'s order");
    let created: Vec<DateTime<Utc>> = jobs
        .iter()
        .map(|j| {
            crate::time::parse_api(j["create_time"].as_str().unwrap())
                .unwrap()
                .unwrap()
        })
        .collect();
    assert!(created.windows(2).all(|w| w[0] >= w[1]), "newest first");

    // jobs() is the same text as served, and the client's model reads every page.
    let page = h.list(&[("offset", "300"), ("limit", "100")]).await;
    let parsed = ListJobsPage::from_json(&page.body).unwrap();
    assert_eq!(parsed.total_count, 2_500);
    for (task, job) in parsed.schedules.iter().zip(&jobs[300..400]) {
        assert_eq!(task.raw, job.to_string());
    }
    // The same job is the same text on a second request.
    let again = h.list(&[("offset", "300"), ("limit", "100")]).await;
    assert_eq!(again.body, page.body);
}

#[tokio::test]
async fn defaults_are_offset_0_and_limit_100() {
    let h = Harness::new(Simulator::new(config(250)));
    let page = h.list(&[]).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.ids().len(), 100);
    assert_eq!(page.total(), 250);
    let past_end = h.list(&[("offset", "1000")]).await;
    assert_eq!(past_end.ids().len(), 0);
    assert_eq!(
        past_end.total(),
        250,
        "total_count counts matches, not the page"
    );
}

#[tokio::test]
async fn filters_match_exactly() {
    let h = Harness::new(Simulator::new(config(2_500)));
    let jobs = h.sim.jobs();
    let count = |key: &str, value: &str| jobs.iter().filter(|j| j[key] == value).count() as u64;

    for status in [
        "Completed",
        "Failed",
        "Running",
        "Pending",
        "Unauthorized",
        "Canceled",
    ] {
        let (ids, total) = h.all_pages(&[("status", status)], 100).await;
        assert_eq!(total, count("job_status", status), "{status}");
        assert_eq!(ids.len() as u64, total);
        assert!(total > 0, "{status} should be generated");
    }
    let first = &jobs[17];
    for key in ["job_name", "instance_id", "job_id"] {
        let value = first[key].as_str().unwrap();
        let page = h.list(&[(key, value)]).await;
        assert_eq!(page.total(), count(key, value), "{key}");
        assert!(page
            .ids()
            .contains(&first["job_id"].as_str().unwrap().to_string()));
        for job in page.json()["schedules"].as_array().unwrap() {
            assert_eq!(job[key], value);
        }
    }
    // Filters combine, and a value nobody has matches nothing.
    let name = first["job_name"].as_str().unwrap();
    let both = h.list(&[("job_name", name), ("status", "Completed")]).await;
    let want = jobs
        .iter()
        .filter(|j| j["job_name"] == name && j["job_status"] == "Completed")
        .count() as u64;
    assert_eq!(both.total(), want);
    assert_eq!(h.list(&[("job_id", "nope")]).await.total(), 0);
    assert_eq!(
        h.list(&[("status", "completed")]).await.total(),
        0,
        "exact match"
    );
}

#[tokio::test]
async fn time_window_edges_follow_each_boundary_mode() {
    let start = utc("2024-03-01T00:00:00Z");
    let end = utc("2024-03-02T00:00:00Z");
    let one = Duration::seconds(1);
    let at = [
        ("before", start - one),
        ("on_start", start),
        ("inside", start + Duration::hours(5)),
        ("on_end", end),
        ("after", end + one),
    ];
    let cases = [
        (
            Boundary::StartInclusiveEndExclusive,
            vec!["inside", "on_start"],
        ),
        (Boundary::BothExclusive, vec!["inside"]),
        (
            Boundary::BothInclusive,
            vec!["on_end", "inside", "on_start"],
        ),
    ];
    for (boundary, want) in cases {
        let sim = Simulator::empty(SimConfig {
            boundary,
            ..config(0)
        });
        for (id, t) in at {
            sim.add_job(SimJob::new(id, t));
        }
        let h = Harness::new(sim);
        // The window written at +0800 and -0500: the offset must not matter.
        let page = h
            .list(&[
                ("start_time", "2024-03-01T08:00:00+0800"),
                ("end_time", "2024-03-01T19:00:00-0500"),
            ])
            .await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert_eq!(page.ids(), want, "{boundary:?}");
        assert_eq!(page.total(), want.len() as u64);
        // Only one bound given.
        let from = h.list(&[("start_time", "2024-03-02T00:00:00+0000")]).await;
        let on_end_included = boundary != Boundary::BothExclusive;
        assert_eq!(from.ids().contains(&"on_end".to_string()), on_end_included);
        assert!(from.ids().contains(&"after".to_string()));
    }
}

#[tokio::test]
async fn limit_and_offset_out_of_range_are_400() {
    let h = Harness::new(Simulator::new(config(10)));
    for limit in ["0", "101", "abc", "-1"] {
        let a = h.list(&[("limit", limit)]).await;
        assert_eq!(a.status, 400, "limit={limit}");
        assert_eq!(error_code(&a), "DBS.280001");
        assert_eq!(
            a.json()["error_msg"],
            "Invalid parameter: limit must be between 1 and 100."
        );
    }
    for limit in ["1", "100"] {
        assert_eq!(h.list(&[("limit", limit)]).await.status, 200);
    }
    let a = h.list(&[("offset", "-1")]).await;
    assert_eq!((a.status, error_code(&a)), (400, "DBS.280001".to_string()));
    let recorded = h.sim.requests();
    assert_eq!(recorded.len(), 7);
    assert_eq!(recorded[0].param("limit"), Some("0"));
    assert_eq!(recorded[0].status, 400);
    assert_eq!(recorded[4].status, 200);
}

#[tokio::test]
async fn an_unencoded_plus_is_rejected_like_the_real_service() {
    let h = Harness::new(Simulator::new(config(100)));
    let a = h
        .list_raw("start_time=2024-03-01T00:00:00+0000&limit=10")
        .await;
    assert_eq!(a.status, 400);
    assert_eq!(error_code(&a), "DBS.280001");
    assert_eq!(a.json()["error_msg"], "Invalid parameter: start_time");
    let a = h.list_raw("end_time=2024-03-01T00:00:00+0800").await;
    assert_eq!(a.json()["error_msg"], "Invalid parameter: end_time");
    // The recorded request shows what the server read: a space.
    assert_eq!(
        h.sim.requests()[0].param("start_time"),
        Some("2024-03-01T00:00:00 0000")
    );
    let ok = h
        .list_raw("start_time=2024-03-01T00:00:00%2B0000&limit=10")
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let unreadable = h.list(&[("start_time", "2024-03-01")]).await;
    assert_eq!(unreadable.status, 400);
}

#[tokio::test]
async fn auth_and_project_errors_use_their_own_bodies() {
    let h = Harness::new(Simulator::new(config(10)));
    for token in [Some("wrong"), None] {
        let mut req = h.client.get(h.list_url());
        if let Some(t) = token {
            req = req.header("X-Auth-Token", t);
        }
        let a = h.send(req).await;
        assert_eq!(a.status, 401);
        let body = a.json();
        assert_eq!(body["error_code"], "APIGW.0301");
        assert_eq!(
            body["error_message"],
            "Incorrect IAM authentication information: verify aksk signature fail"
        );
        assert!(
            body.get("error_msg").is_none(),
            "gateway errors use error_message"
        );
        let rid = body["request_id"].as_str().unwrap();
        assert!(
            rid.len() == 32 && rid.chars().all(|c| c.is_ascii_hexdigit()),
            "{rid}"
        );
    }
    let other = format!("{}/v3/{}/scheduled-jobs", h.server.url, "f".repeat(32));
    let a = h
        .send(h.client.get(other).header("X-Auth-Token", DEFAULT_TOKEN))
        .await;
    assert_eq!(a.status, 403);
    assert_eq!(
        a.json(),
        json!({"error_code":"DBS.280238","error_msg":"The project ID does not match the token."})
    );
    assert_eq!(h.sim.request_count(), 3);
}

#[test]
fn the_generator_is_deterministic_and_shows_every_quirk() {
    let a = Simulator::new(config(2_500)).jobs();
    let b = Simulator::new(config(2_500)).jobs();
    assert_eq!(a, b, "same seed, same jobs");
    let c = Simulator::new(SimConfig {
        seed: 2,
        ..config(2_500)
    })
    .jobs();
    assert_ne!(a, c, "another seed, other jobs");

    let ids: HashSet<&str> = a.iter().map(|j| j["job_id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 2_500, "job ids are unique");

    let texts: Vec<String> = a.iter().map(Value::to_string).collect();
    for offset in ["+0000\"", "+0800\"", "-0500\"", "+0530\"", "+0100\""] {
        assert!(texts.iter().any(|t| t.contains(offset)), "offset {offset}");
    }
    let has = |pred: &dyn Fn(&Value) -> bool| a.iter().any(pred);
    assert!(has(&|j| j["start_time"] == ""));
    assert!(has(&|j| j.get("start_time") == Some(&Value::Null)));
    assert!(has(&|j| j.get("start_time").is_none()));
    assert!(has(
        &|j| j.get("end_time").is_none() && j["job_status"] == "Running"
    ));
    assert!(has(&|j| j.get("target_config").is_none()));
    assert!(has(&|j| j.get("target_config") == Some(&Value::Null)));
    assert!(has(&|j| j["target_config"]["flavor"].is_string()));
    assert!(has(
        &|j| j.get("proxy_id").is_some() && j.get("proxy_name").is_some()
    ));
    assert!(has(&|j| j.get("order_id").is_some()));
    assert!(has(&|j| j["extra_info"]["tags"] == json!(["a"])));
    assert!(has(&|j| j["instance_status"] == "BUILD"));
    assert!(has(&|j| j["job_name"] == "RESIZE_FLAVOR"));
    assert!(has(&|j| j["job_name"] == "ResizeGaussDBforMySQLFlavor"));
    assert!(a.iter().all(|j| j["datastore_type"] == "gaussdb-mysql"));
    assert!(a
        .iter()
        .all(|j| j["instance_id"].as_str().unwrap().len() == 36
            && j["instance_id"].as_str().unwrap().ends_with("in07")));

    // Two different instances share a name.
    let mut names: HashMap<&str, HashSet<&str>> = HashMap::new();
    for j in &a {
        names
            .entry(j["instance_name"].as_str().unwrap())
            .or_default()
            .insert(j["instance_id"].as_str().unwrap());
    }
    assert!(names.values().any(|ids| ids.len() > 1));
    assert!(names.len() > 50, "about jobs/20 instances");

    let completed = a.iter().filter(|j| j["job_status"] == "Completed").count();
    // 70% drawn Completed, plus most open jobs older than three days finished since.
    assert!(
        (1_700..2_200).contains(&completed),
        "{completed} of 2500 completed"
    );
    let old_running = a
        .iter()
        .filter(|j| {
            j["job_status"] == "Running"
                && crate::time::parse_api(j["create_time"].as_str().unwrap())
                    .unwrap()
                    .unwrap()
                    < now() - Duration::days(3)
        })
        .count();
    assert!(old_running < 40, "{old_running} jobs running for days");

    let t = |j: &Value, k: &str| {
        j.get(k)
            .and_then(Value::as_str)
            .and_then(|s| crate::time::parse_api(s).ok().flatten())
    };
    let from = now() - Duration::days(60);
    for j in &a {
        let created = t(j, "create_time").unwrap();
        assert!(created >= from && created < now(), "{created}");
        assert_eq!(created.timestamp_subsec_nanos(), 0);
        if ["Completed", "Failed", "Canceled"].contains(&j["job_status"].as_str().unwrap()) {
            let (s, e) = (t(j, "start_time").unwrap(), t(j, "end_time").unwrap());
            assert!(created <= s && s <= e && e <= now(), "{j}");
        }
        if j["job_status"] == "Running" {
            assert!(t(j, "start_time").unwrap() <= now(), "{j}");
            assert_eq!(t(j, "end_time"), None);
        }
        if ["Pending", "Unauthorized"].contains(&j["job_status"].as_str().unwrap()) {
            assert_eq!(t(j, "start_time"), None);
            assert_eq!(t(j, "end_time"), None);
        }
    }
}

#[test]
fn mutations_change_what_the_api_holds() {
    let sim = Simulator::empty(config(0));
    let created = utc("2024-03-01T00:00:00Z");
    sim.add_job(SimJob::new("a", created));
    let at = utc("2024-03-01T01:00:00Z");
    assert!(sim.set_status("a", "Running", at));
    assert_eq!(sim.jobs()[0]["start_time"], "2024-03-01T09:00:00+0800");
    assert!(sim.set_status("a", "Completed", at + Duration::hours(1)));
    let job = &sim.jobs()[0];
    assert_eq!(job["job_status"], "Completed");
    assert_eq!(job["start_time"], "2024-03-01T09:00:00+0800", "start kept");
    assert_eq!(job["end_time"], "2024-03-01T10:00:00+0800");
    assert!(!sim.set_status("missing", "Failed", at));

    sim.add_job(SimJob::new("b", created));
    assert!(sim.set_status("b", "Canceled", at));
    assert_eq!(
        sim.jobs().iter().find(|j| j["job_id"] == "b").unwrap()["start_time"],
        "2024-03-01T09:00:00+0800"
    );

    // Replacing a job with a new create time does not leave the old one behind.
    sim.add_job(SimJob::new("a", created + Duration::days(1)));
    assert_eq!(sim.job_count(), 2);

    let ids = sim.generate_jobs(50, created, created + Duration::days(1));
    assert_eq!(ids.len(), 50);
    assert_eq!(sim.job_count(), 52);
    assert_eq!(
        sim.purge_before(created + Duration::days(1)),
        51,
        "b and the 50 new ones"
    );
    assert_eq!(sim.job_count(), 1);
    assert!(sim.remove_job("a"));
    assert!(!sim.remove_job("a"));
    assert_eq!(sim.job_count(), 0);
}

#[tokio::test]
async fn status_faults_fire_the_given_number_of_times() {
    let h = Harness::new(Simulator::new(config(10)));
    h.sim.inject(Fault::status(500).times(1));
    h.sim.inject(Fault::status(503).times(1));
    let a = h.list(&[]).await;
    assert_eq!(a.status, 500);
    assert!(a.json()["error_msg"].is_string());
    assert!(error_code(&a).starts_with("DBS."));
    assert_eq!(h.list(&[]).await.status, 503, "only one error per request");
    assert_eq!(h.list(&[]).await.status, 200);
    h.sim.inject(Fault::status(500));
    assert_eq!(h.list(&[]).await.status, 500);
    assert_eq!(h.list(&[]).await.status, 500, "no times: every request");
    h.sim.clear_faults();
    assert_eq!(h.list(&[]).await.status, 200);
    let statuses: Vec<u16> = h.sim.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [500, 503, 200, 500, 500, 200]);
}

#[tokio::test]
async fn throttling_carries_retry_after() {
    let h = Harness::new(Simulator::new(config(10)));
    h.sim.inject(Fault::too_many_requests(Some(1)).times(1));
    h.sim.inject(Fault::too_many_requests(None).times(1));
    let a = h.list(&[]).await;
    assert_eq!(a.status, 429);
    assert_eq!(a.headers.get("retry-after").unwrap(), "1");
    assert_eq!(error_code(&a), "APIGW.0308");
    assert_eq!(
        a.json()["error_message"],
        "The throttling threshold has been reached: policy user over ratelimit,limit:10,time:1 second"
    );
    let b = h.list(&[]).await;
    assert_eq!(b.status, 429);
    assert!(b.headers.get("retry-after").is_none());
    assert_eq!(h.list(&[]).await.status, 200);
}

#[tokio::test]
async fn a_rate_limit_answers_429_beyond_its_requests_a_second() {
    let h = Harness::new(Simulator::new(SimConfig {
        rate_limit: Some(2),
        ..config(10)
    }));
    assert_eq!(h.list(&[]).await.status, 200);
    assert_eq!(h.list(&[]).await.status, 200);
    let third = h.list(&[]).await;
    assert_eq!(third.status, 429);
    assert_eq!(error_code(&third), "APIGW.0308");
    assert!(third.json()["error_message"]
        .as_str()
        .unwrap()
        .contains("limit:2,time:1 second"));
    tokio::time::sleep(StdDuration::from_millis(1_100)).await;
    assert_eq!(h.list(&[]).await.status, 200, "a second later");
}

#[test]
fn open_jobs_can_be_capped_to_the_newest() {
    let sim = Simulator::new(SimConfig {
        open_jobs: Some(5),
        ..config(2_000)
    });
    let open: Vec<String> = sim
        .jobs()
        .iter()
        .filter(|j| {
            ["Running", "Pending", "Unauthorized"].contains(&j["job_status"].as_str().unwrap())
        })
        .map(|j| j["create_time"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(open.len(), 5);
    assert_eq!(sim.job_count(), 2_000);
}

#[tokio::test]
async fn malformed_bodies_are_200_but_not_json() {
    let h = Harness::new(Simulator::new(config(50)));
    h.sim.inject(Fault::malformed().times(1));
    let a = h.list(&[]).await;
    assert_eq!(a.status, 200);
    assert!(a.body.starts_with("{\"schedules\":["));
    assert!(serde_json::from_str::<Value>(&a.body).is_err());
    assert!(ListJobsPage::from_json(&a.body).is_err());
    let b = h.list(&[]).await;
    assert!(ListJobsPage::from_json(&b.body).is_ok());
}

#[tokio::test]
async fn latency_from_config_and_faults_delays_only_api_calls() {
    let sim = Simulator::new(SimConfig {
        latency: StdDuration::from_millis(150),
        ..config(10)
    });
    let h = Harness::new(sim);
    let t = Instant::now();
    assert_eq!(h.list(&[]).await.status, 200);
    assert!(t.elapsed() >= StdDuration::from_millis(150));
    h.sim.inject(Fault::latency(200).times(1));
    let t = Instant::now();
    assert_eq!(h.list(&[]).await.status, 200);
    assert!(t.elapsed() >= StdDuration::from_millis(350));
}

#[tokio::test]
async fn control_calls_are_not_delayed() {
    // An hour of latency: a delayed control call would miss the deadline by far.
    let h = Harness::new(Simulator::new(SimConfig {
        latency: StdDuration::from_secs(3600),
        ..config(10)
    }));
    let stats = h.control(reqwest::Method::GET, "/_sim/stats", None);
    tokio::time::timeout(StdDuration::from_secs(60), stats)
        .await
        .expect("a control call answers without the API's latency");
}

#[tokio::test]
async fn faults_target_offsets_windows_and_probability() {
    let h = Harness::new(Simulator::new(config(300)));
    h.sim.inject(Fault::status(500).min_offset(100));
    assert_eq!(h.list(&[("offset", "0")]).await.status, 200);
    assert_eq!(h.list(&[("offset", "100")]).await.status, 500);
    h.sim.clear_faults();

    h.sim
        .inject(Fault::status(503).window_containing(utc("2024-03-10T12:00:00Z")));
    let inside = [
        ("start_time", "2024-03-10T00:00:00+0000"),
        ("end_time", "2024-03-11T00:00:00+0000"),
    ];
    let outside = [
        ("start_time", "2024-03-11T00:00:00+0000"),
        ("end_time", "2024-03-12T00:00:00+0000"),
    ];
    assert_eq!(h.list(&inside).await.status, 503);
    assert_eq!(h.list(&outside).await.status, 200);
    assert_eq!(
        h.list(&[]).await.status,
        200,
        "a list without a time filter is not aimed at"
    );
    h.sim.clear_faults();

    // Probability is drawn from the seeded rng: the same seed fires on the same requests.
    let mut runs = Vec::new();
    for _ in 0..2 {
        let sim = Simulator::new(config(10));
        sim.inject(Fault::status(500).probability(0.5));
        let h = Harness::new(sim);
        let mut statuses = Vec::new();
        for _ in 0..100 {
            statuses.push(h.list(&[("limit", "1")]).await.status);
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
    let failed = runs[0].iter().filter(|s| **s == 500).count();
    assert!((25..=75).contains(&failed), "{failed} of 100");
}

#[tokio::test]
async fn drift_keeps_total_count_but_shifts_the_next_page() {
    let h = Harness::new(Simulator::new(config(2_500)));
    let window = [
        ("start_time", "2024-03-01T00:00:00+0000"),
        ("end_time", "2024-03-08T00:00:00+0000"),
    ];
    let (before, total) = h.all_pages(&window, 100).await;
    assert!(total > 250, "{total}");

    h.sim.inject(Fault::drift().times(1));
    let page1 = |offset: &'static str| {
        let mut q = window.to_vec();
        q.extend([("offset", offset), ("limit", "100")]);
        q
    };
    let p1 = h.list(&page1("0")).await;
    assert_eq!(
        p1.ids(),
        before[..100],
        "the drifting page itself is served normally"
    );
    let p2 = h.list(&page1("100")).await;
    assert_eq!(p2.total(), total, "total_count unchanged");
    assert_eq!(
        p2.ids(),
        before[101..201],
        "job 100 slid onto page 1 and is skipped"
    );
    let (after, _) = h.all_pages(&window, 100).await;
    assert!(
        !after.contains(&before[0]),
        "the page's newest job was purged"
    );
    assert!(after.contains(&before[100]));
    assert_eq!(after.len() as u64, total);
}

#[tokio::test]
async fn control_interface_mirrors_the_methods() {
    let h = Harness::new(Simulator::empty(config(0)));
    use reqwest::Method;
    let job = json!({
        "job_id": "ctl-1",
        "instance_id": "79bc540dd4d6432784894a981fdfacfcin07",
        "instance_name": "gauss-f821",
        "instance_status": "BUILD",
        "project_id": DEFAULT_PROJECT_ID,
        "job_name": "UpgradeGaussDBforMySQLDatabaseVersion",
        "create_time": "2024-03-01T08:00:00+0800",
        "start_time": "",
        "job_status": "Pending",
        "datastore_type": "gaussdb-mysql",
        "target_config": {"flavor": "gaussdb.mysql.xlarge.arm.4", "mem": "16", "cpu": "4"},
        "future_field": {"nested": [1, 2]}
    });
    let a = h
        .control(Method::POST, "/_sim/jobs", Some(job.clone()))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let bad = h
        .control(Method::POST, "/_sim/jobs", Some(json!({"job_id": "x"})))
        .await;
    assert_eq!(bad.status, 400);

    let served = h.list(&[("job_id", "ctl-1")]).await;
    assert_eq!(
        served.json()["schedules"][0],
        job,
        "served as posted, unknown field kept"
    );
    let listed = h.control(Method::GET, "/_sim/jobs", None).await;
    assert_eq!(listed.json(), json!([job]));

    let a = h
        .control(
            Method::POST,
            "/_sim/jobs/ctl-1/status",
            Some(json!({"status": "Completed", "at": "2024-03-01T00:30:00Z"})),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let now_job = &h.sim.jobs()[0];
    assert_eq!(now_job["job_status"], "Completed");
    assert_eq!(now_job["end_time"], "2024-03-01T08:30:00+0800");
    let missing = h
        .control(
            Method::POST,
            "/_sim/jobs/nope/status",
            Some(json!({"status": "Completed", "at": "2024-03-01T00:30:00Z"})),
        )
        .await;
    assert_eq!(missing.status, 404);

    let g = h
        .control(
            Method::POST,
            "/_sim/generate",
            Some(json!({"n": 5, "from": "2024-02-01T00:00:00Z", "to": "2024-02-02T00:00:00Z"})),
        )
        .await;
    assert_eq!(g.json()["job_ids"].as_array().unwrap().len(), 5);
    let p = h
        .control(
            Method::POST,
            "/_sim/purge",
            Some(json!({"before": "2024-02-15T00:00:00Z"})),
        )
        .await;
    assert_eq!(p.json()["purged"], 5);

    let f = h
        .control(
            Method::POST,
            "/_sim/faults",
            Some(json!({"kind": {"type": "status", "code": 503}, "times": 1})),
        )
        .await;
    assert_eq!(f.status, 200, "{}", f.body);
    assert_eq!(h.list(&[]).await.status, 503);
    h.control(
        Method::POST,
        "/_sim/faults",
        Some(json!({"kind": {"type": "status", "code": 500}})),
    )
    .await;
    assert_eq!(
        h.control(Method::DELETE, "/_sim/faults", None).await.status,
        200
    );
    assert_eq!(h.list(&[]).await.status, 200);

    let d = h.control(Method::DELETE, "/_sim/jobs/ctl-1", None).await;
    assert_eq!(d.status, 200);
    let stats = h.control(Method::GET, "/_sim/stats", None).await;
    assert_eq!(
        stats.json(),
        json!({"requests": 3, "jobs": 0, "throttled": 0}),
        "control calls not counted"
    );
    let log = h.control(Method::GET, "/_sim/requests", None).await;
    assert_eq!(log.json().as_array().unwrap().len(), 3);

    let unknown = h.control(Method::GET, "/v3/whatever", None).await;
    assert_eq!(
        (unknown.status, error_code(&unknown)),
        (404, "APIGW.0101".to_string())
    );
}

#[tokio::test]
async fn serve_runs_on_a_caller_listener_until_dropped() {
    let sim = Simulator::new(config(20));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn({
        let sim = sim.clone();
        async move { sim.serve(listener).await }
    });
    let url = format!("http://{addr}/v3/{DEFAULT_PROJECT_ID}/scheduled-jobs?limit=5");
    let client = reqwest::Client::new();
    let resp = client
        .get(&url)
        .header("X-Auth-Token", DEFAULT_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        ListJobsPage::from_json(&resp.text().await.unwrap())
            .unwrap()
            .total_count,
        20
    );
    task.abort();
    let _ = task.await;
    let fresh = reqwest::Client::new();
    assert!(
        fresh.get(&url).send().await.is_err(),
        "stopped with the future"
    );
}

#[test]
fn background_server_stops_on_drop() {
    let sim = Simulator::new(config(5));
    let server = sim.spawn_background();
    let addr = server.addr;
    assert!(server.url.starts_with("http://127.0.0.1:"));
    assert!(std::net::TcpStream::connect(addr).is_ok());
    drop(server);
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "port closed after drop"
    );
}

/// A page read without building its objects: the test pages the server, not the parser.
#[derive(serde::Deserialize)]
struct Counted {
    schedules: Vec<serde::de::IgnoredAny>,
    total_count: u64,
}

/// Windowed requests over 200,000 jobs partition them exactly; how fast is the benchmark's.
#[test]
fn large_sets_page_exactly() {
    let sim = Simulator::new(SimConfig {
        jobs: 200_000,
        ..config(0)
    });
    assert_eq!(sim.job_count(), 200_000);
    let mut world = sim.lock();
    let mut total = 0;
    let mut requests = 0;
    // Adjacent day windows (start inclusive, end exclusive) partition the 60 days exactly.
    for day in 0..60 {
        let start = now() - Duration::days(60 - day);
        let window = vec![
            ("start_time".to_string(), crate::time::to_api(start)),
            (
                "end_time".to_string(),
                crate::time::to_api(start + Duration::days(1)),
            ),
        ];
        let mut offset = 0;
        loop {
            let mut q = window.clone();
            q.push(("offset".into(), offset.to_string()));
            q.push(("limit".into(), "5".into()));
            let reply = endpoint::list(
                &mut world,
                DEFAULT_PROJECT_ID,
                super::endpoint::Authn::Token(Some(DEFAULT_TOKEN.to_string())),
                q,
                &[],
            );
            requests += 1;
            let page: Counted = serde_json::from_str(&reply.body).unwrap();
            assert!((1..=5).contains(&page.schedules.len()));
            offset += 100;
            if offset >= page.total_count {
                total += page.total_count;
                break;
            }
        }
    }
    assert_eq!(total, 200_000);
    assert!(requests > 1_900, "{requests}");
}

#[tokio::test]
async fn total_count_faults_change_only_the_count() {
    let h = Harness::new(Simulator::new(config(300)));
    let (honest, total) = h.all_pages(&[], 100).await;
    assert_eq!(total, 300);

    h.sim.inject(Fault::total_count_understated(70));
    let page = h.list(&[("offset", "200"), ("limit", "100")]).await;
    assert_eq!(page.total(), 230);
    assert_eq!(page.ids(), honest[200..], "the jobs are served as before");
    h.sim.clear_faults();

    h.sim.inject(Fault::total_count_understated(1_000));
    assert_eq!(h.list(&[]).await.total(), 0, "never below none");
    h.sim.clear_faults();

    h.sim.inject(Fault::total_count_overstated(5));
    let page = h.list(&[("offset", "250"), ("limit", "100")]).await;
    assert_eq!(page.total(), 305);
    assert_eq!(page.ids(), honest[250..]);
}

#[tokio::test]
async fn an_unusable_job_id_spoils_only_that_job() {
    let h = Harness::new(Simulator::new(config(50)));
    let honest = h.list(&[]).await.json();
    let jobs = honest["schedules"].as_array().unwrap();
    let target = jobs[3]["job_id"].as_str().unwrap().to_string();
    for (form, want) in [
        (JobIdForm::Missing, None),
        (JobIdForm::Null, Some(Value::Null)),
        (JobIdForm::Empty, Some(json!(""))),
        (JobIdForm::Number, Some(json!(17))),
    ] {
        h.sim.clear_faults();
        h.sim.inject(Fault::unusable_job_id(&target, form));
        let page = h.list(&[]).await;
        let served = page.json();
        let served = served["schedules"].as_array().unwrap();
        assert_eq!(served.len(), jobs.len());
        assert_eq!(served[3].get("job_id"), want.as_ref(), "{form:?}");
        let mut expected = jobs[3].as_object().unwrap().clone();
        expected.shift_remove("job_id");
        let mut got = served[3].as_object().unwrap().clone();
        got.shift_remove("job_id");
        assert_eq!(got, expected, "the rest of the object is as before");
        let others = |v: &[Value]| -> Vec<Value> {
            v.iter()
                .enumerate()
                .filter(|(i, _)| *i != 3)
                .map(|(_, j)| j.clone())
                .collect()
        };
        assert_eq!(others(served), others(jobs));
        if form == JobIdForm::Missing {
            assert!(
                page.body.contains(r#"[{"job_id""#) && !page.body.contains(&target),
                "the key is left out, the others keep their order"
            );
        }
    }
}
