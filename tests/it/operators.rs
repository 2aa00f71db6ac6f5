//! Where operators run it: credentials as the SDKs and KooCLI keep them, temporary keys from
//! the ECS metadata service (refreshed as they expire), `status --check` for Nagios and cron,
//! the Prometheus textfile, and `doctor`.

use std::collections::{BTreeMap, BTreeSet};

use gaussjobs::simulate::{Fault, SimAkSk, SimConfig, DEFAULT_PROJECT_ID, DEFAULT_TOKEN};

use crate::support::{gaussjobs_in, now, text_of, World};

const AK: &str = "HPUAKOPERATORS000001";
const SK: &str = "sk-Operators+Secret/7d1e";
const OTHER_SK: &str = "sk-Other-Section-0a4c";

fn config() -> SimConfig {
    let mut aksk = BTreeMap::new();
    aksk.insert(AK.to_string(), SimAkSk::permanent(SK));
    SimConfig {
        jobs: 40,
        days: 1,
        now: now(),
        aksk,
        ..SimConfig::default()
    }
}

/// `sync` against the simulator with no credential given, plus `extra`.
fn bare_sync(world: &World, extra: &[&str]) -> assert_cmd::Command {
    let mut cmd = world.gaussjobs();
    cmd.args(["sync", "--endpoint", &world.server.url])
        .args(["--project-id", DEFAULT_PROJECT_ID, "--since", "2d"])
        .args(extra);
    if !extra.contains(&"--max-rps") {
        cmd.args(["--max-rps", "1000"]);
    }
    cmd
}

fn home(world: &World) -> std::path::PathBuf {
    world.dir.path().join("env").join("home")
}

#[test]
fn the_sdk_credentials_file_in_home_or_named_by_the_variable_is_used() {
    let world = World::new(config());
    let dir = home(&world).join(".huaweicloud");
    std::fs::create_dir_all(&dir).unwrap();
    // The section the SDKs read is [basic]; [global] comes last to catch a reader that
    // takes the last keys it sees.
    let ini = format!(
        "[basic]\nak = {AK}\nsk = {SK}\nproject_id = {DEFAULT_PROJECT_ID}\n\n[global]\nak = GLOBALAK\nsk = {OTHER_SK}\n"
    );
    std::fs::write(dir.join("credentials"), &ini).unwrap();
    let out = bare_sync(&world, &[]).assert().success();
    assert!(world.sim.requests().iter().all(|r| r.auth == "aksk"));
    assert_eq!(world.count("SELECT count(*) FROM jobs"), 40);
    let text = text_of(&out);
    assert!(!text.contains(SK) && !text.contains(OTHER_SK), "{text}");

    // The variable names another file; a config account's aksk_file reads sections too.
    std::fs::remove_file(dir.join("credentials")).unwrap();
    let named = world.dir.path().join("sdk-credentials");
    std::fs::write(&named, &ini).unwrap();
    let before = world.sim.request_count();
    bare_sync(&world, &[])
        .env("HUAWEICLOUD_SDK_CREDENTIALS_FILE", &named)
        .assert()
        .success();
    assert!(world.sim.request_count() > before);
    let toml = world.dir.path().join("accounts.toml");
    std::fs::write(
        &toml,
        format!(
            "[[account]]\nname = \"prod\"\nendpoint = \"{}\"\nproject_id = \"{DEFAULT_PROJECT_ID}\"\naksk_file = \"{}\"\n",
            world.server.url,
            named.display()
        ),
    )
    .unwrap();
    world
        .gaussjobs()
        .args(["sync", "--config"])
        .arg(&toml)
        .args(["--max-rps", "1000", "--since", "2d"])
        .assert()
        .success();
}

#[test]
fn no_credentials_names_every_source_in_order_including_the_metadata_service() {
    let world = World::new(config());
    let out = bare_sync(&world, &[]).assert().code(2);
    let text = text_of(&out);
    let order = [
        "--token-file",
        "GAUSSJOBS_TOKEN",
        "HUAWEICLOUD_SDK_AK",
        "--iam-user",
        "--config",
        "HUAWEICLOUD_SDK_CREDENTIALS_FILE",
        "metadata service at http://127.0.0.1:9",
    ];
    let positions: Vec<usize> = order
        .iter()
        .map(|s| {
            text.find(s)
                .unwrap_or_else(|| panic!("{s} missing: {text}"))
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    assert_eq!(world.sim.request_count(), 0);
}

#[test]
fn metadata_keys_sign_requests_and_are_fetched_again_before_they_expire() {
    let mut config = config();
    config.jobs = 30;
    // Keys that live 2 seconds, and a run of several seconds: one set cannot last it.
    config.metadata_key_lifetime = chrono::Duration::seconds(2);
    let world = World::new(config);
    let out = bare_sync(&world, &["--page-size", "2", "--max-rps", "4", "-v"])
        .env("GAUSSJOBS_METADATA_ENDPOINT", &world.server.url)
        .assert()
        .success();
    let requests = world.sim.requests();
    assert!(requests.len() >= 12, "{}", requests.len());
    assert!(
        requests.iter().all(|r| r.auth == "aksk" && r.status == 200),
        "{requests:?}"
    );
    let calls = world.sim.metadata_calls();
    assert!(calls.keys >= 2, "keys fetched again: {calls:?}");
    assert!(
        calls.tokens >= 1 && calls.keys_with_token == calls.keys,
        "{calls:?}"
    );
    assert_eq!(world.count("SELECT count(*) FROM jobs"), 30);
    let text = text_of(&out);
    assert!(text.contains("metadata service"), "{text}");
    assert!(
        !text.contains("tmp-sk-") && !text.contains("tmp-sts-"),
        "{text}"
    );
}

#[test]
fn a_kooli_profile_gives_region_project_and_keys_or_says_what_to_do_when_encrypted() {
    let world = World::new(config());
    let hcloud = world.dir.path().join("hcloud.json");
    let profiles = |encrypted: bool| {
        serde_json::json!({
            "current": "ops",
            "authEncrypt": if encrypted { "true" } else { "false" },
            "profiles": [
                {"name": "dev", "mode": "AKSK", "accessKeyId": "DEVAK", "secretAccessKey": OTHER_SK},
                {"name": "ops", "mode": "AKSK", "accessKeyId": AK, "secretAccessKey": SK,
                 "region": "cn-north-4", "projectId": DEFAULT_PROJECT_ID}
            ]
        })
        .to_string()
    };
    std::fs::write(&hcloud, profiles(false)).unwrap();
    let toml = world.dir.path().join("accounts.toml");
    // No project_id and no region: both come from the profile; the endpoint override stands
    // in for the region's real endpoint.
    std::fs::write(
        &toml,
        format!(
            "[[account]]\nname = \"ops\"\nhcloud_profile = \"ops\"\nhcloud_config = \"{}\"\n",
            hcloud.display()
        ),
    )
    .unwrap();
    let sync = || {
        let mut cmd = world.gaussjobs();
        cmd.env(
            "HUAWEICLOUD_SDK_REGION_GAUSSDB_CN_NORTH_4",
            &world.server.url,
        )
        .args(["sync", "--config"])
        .arg(&toml)
        .args(["--max-rps", "1000", "--since", "2d"]);
        cmd
    };
    sync().assert().success();
    assert!(world.sim.requests().iter().all(|r| r.auth == "aksk"));
    assert_eq!(world.count("SELECT count(*) FROM jobs"), 40);

    std::fs::write(&hcloud, profiles(true)).unwrap();
    let out = sync().assert().code(2);
    let text = text_of(&out);
    assert!(text.contains("encrypted"), "{text}");
    assert!(text.contains("ak_env"), "says what to do instead: {text}");
    assert!(!text.contains(SK), "{text}");
}

#[test]
fn status_check_is_healthy_after_a_sync_and_not_after_a_failed_one() {
    let world = World::new(config());
    let check = |extra: &[&str]| {
        let mut cmd = world.gaussjobs();
        cmd.args(["status", "--check"]).args(extra);
        cmd
    };
    world.sync(&["--since", "2d"]).assert().success();
    let out = check(&[]).assert().success();
    assert!(
        text_of(&out).starts_with("ok: 1 scope"),
        "{}",
        text_of(&out)
    );
    // A maximum age the last success is already past.
    world.sim.inject(Fault::status(403));
    world.sync(&[]).assert().code(1);
    let out = check(&["--max-age", "25h"]).assert().code(1);
    let text = text_of(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("newest run") && l.contains("failed")),
        "{text}"
    );
    assert!(
        !text.contains("error:"),
        "problems only, one a line: {text}"
    );
    let out = world
        .gaussjobs()
        .args(["status", "--check", "--max-age", "nonsense"])
        .assert()
        .code(2);
    assert!(text_of(&out).contains("--max-age"));
}

/// One sample: metric name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

/// A minimal reader of the Prometheus text format: `# HELP`, `# TYPE`, samples with labels.
/// Panics on a line it cannot read. Returns metric -> type, and the samples.
fn parse_prometheus(text: &str) -> (BTreeMap<String, String>, Vec<Sample>) {
    let mut types = BTreeMap::new();
    let mut helped = BTreeSet::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("HELP name text");
            assert!(!help.is_empty());
            helped.insert(name.to_string());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            assert!(helped.contains(name), "HELP before TYPE: {line}");
            types.insert(name.to_string(), kind.to_string());
        } else if line.is_empty() || line.starts_with('#') {
            continue;
        } else {
            let (series, value) = line.rsplit_once(' ').expect("sample value");
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("value in {line}"));
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => {
                    let body = rest.strip_suffix('}').expect("closing brace");
                    let mut labels = BTreeMap::new();
                    for pair in body.split("\",").filter(|p| !p.is_empty()) {
                        let (k, v) = pair.split_once("=\"").expect("label=\"value\"");
                        labels.insert(k.to_string(), v.trim_end_matches('"').to_string());
                    }
                    (name.to_string(), labels)
                }
                None => (series.to_string(), BTreeMap::new()),
            };
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{name}"
            );
            assert!(types.contains_key(&name), "TYPE before samples: {line}");
            samples.push((name, labels, value));
        }
    }
    (types, samples)
}

#[test]
fn the_metrics_file_is_written_atomically_in_the_textfile_format() {
    let world = World::new(config());
    let prom = world.dir.path().join("gaussjobs.prom");
    world
        .sync(&["--since", "2d", "--metrics-file"])
        .arg(&prom)
        .assert()
        .success();
    let text = std::fs::read_to_string(&prom).unwrap();
    let (types, samples) = parse_prometheus(&text);
    for name in [
        "gaussjobs_last_success_timestamp_seconds",
        "gaussjobs_last_run_timestamp_seconds",
        "gaussjobs_last_run_ok",
        "gaussjobs_jobs_archived",
        "gaussjobs_open_jobs",
        "gaussjobs_coverage_gaps",
        "gaussjobs_run_requests",
    ] {
        assert_eq!(types.get(name).map(String::as_str), Some("gauge"), "{name}");
    }
    let value = |name: &str| {
        samples
            .iter()
            .find(|(n, l, _)| n == name && l["project_id"] == DEFAULT_PROJECT_ID)
            .unwrap_or_else(|| panic!("{name}: {text}"))
            .2
    };
    assert_eq!(value("gaussjobs_jobs_archived"), 40.0);
    assert_eq!(value("gaussjobs_last_run_ok"), 1.0);
    assert_eq!(value("gaussjobs_coverage_gaps"), 0.0);
    assert_eq!(
        value("gaussjobs_run_requests"),
        world.sim.request_count() as f64
    );
    assert!(
        (value("gaussjobs_last_success_timestamp_seconds") - now().timestamp() as f64).abs()
            < 120.0
    );
    // No temp file is left beside it.
    let leftovers: Vec<_> = std::fs::read_dir(world.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // A failed run shows as one; status writes the same file.
    world.sim.inject(Fault::status(403));
    world.sync(&["--metrics-file"]).arg(&prom).assert().code(1);
    let (_, samples) = parse_prometheus(&std::fs::read_to_string(&prom).unwrap());
    let ok = samples
        .iter()
        .find(|(n, _, _)| n == "gaussjobs_last_run_ok")
        .unwrap()
        .2;
    assert_eq!(ok, 0.0);
    std::fs::remove_file(&prom).unwrap();
    world
        .gaussjobs()
        .args(["status", "--metrics-file"])
        .arg(&prom)
        .assert()
        .success();
    parse_prometheus(&std::fs::read_to_string(&prom).unwrap());
}

#[test]
fn doctor_passes_on_a_good_setup_and_names_what_is_broken() {
    let world = World::new(config());
    world.sync(&["--since", "2d"]).assert().success();
    let doctor = |token: &str, endpoint: &str| {
        let mut cmd = world.gaussjobs();
        cmd.env("GAUSSJOBS_TOKEN", token)
            .args(["doctor", "--endpoint", endpoint])
            .args(["--project-id", DEFAULT_PROJECT_ID]);
        cmd
    };
    let before = world.sim.request_count();
    let out = doctor(DEFAULT_TOKEN, &world.server.url).assert().success();
    let text = text_of(&out);
    for want in [
        "credentials: an IAM token from GAUSSJOBS_TOKEN",
        "API: ",
        "clock: ",
        "schema version",
        "lock: free",
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
    assert!(!text.contains(DEFAULT_TOKEN), "{text}");
    assert!(!text.contains("FAIL"), "{text}");
    assert_eq!(world.sim.request_count(), before + 1, "one request");
    assert_eq!(
        world.sim.requests().last().unwrap().param("limit"),
        Some("1")
    );
    let runs = world.count("SELECT count(*) FROM sync_runs");

    // A refused token, and a damaged archive.
    let bytes = std::fs::read(&world.db).unwrap();
    let mut broken = bytes.clone();
    for b in broken.iter_mut().skip(8192).take(4096) {
        *b = 0x5a;
    }
    let copy = world.dir.path().join("broken.db");
    std::fs::write(&copy, &broken).unwrap();
    let out = gaussjobs_in(world.dir.path(), &copy)
        .env("GAUSSJOBS_TOKEN", "wrong-token")
        .args(["doctor", "--endpoint", &world.server.url])
        .args(["--project-id", DEFAULT_PROJECT_ID])
        .assert()
        .code(1);
    let text = text_of(&out);
    assert!(
        text.lines()
            .any(|l| l.starts_with("FAIL") && l.contains("API")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("FAIL") && l.contains("archive")),
        "{text}"
    );
    assert!(!text.contains("wrong-token"), "{text}");
    assert_eq!(
        world.count("SELECT count(*) FROM sync_runs"),
        runs,
        "doctor writes nothing"
    );
    assert_eq!(std::fs::read(&world.db).unwrap(), bytes);
}

#[test]
fn doctor_fails_the_clock_check_when_the_server_is_15_minutes_off() {
    let mut config = config();
    config.clock_skew = chrono::Duration::minutes(20);
    let world = World::new(config);
    let out = world
        .gaussjobs()
        .env("GAUSSJOBS_TOKEN", DEFAULT_TOKEN)
        .args(["doctor", "--endpoint", &world.server.url])
        .args(["--project-id", DEFAULT_PROJECT_ID])
        .assert()
        .code(1);
    let text = text_of(&out);
    let clock = text
        .lines()
        .find(|l| l.contains("clock:"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(clock.starts_with("FAIL"), "{text}");
    assert!(
        clock.contains("behind") && clock.contains("15 minutes"),
        "{clock}"
    );
    // The token needs no signature: the API itself answered.
    assert!(
        text.lines()
            .any(|l| l.starts_with("ok") && l.contains("API:")),
        "{text}"
    );
}

#[test]
fn status_check_names_a_gap_left_by_a_window_that_failed() {
    let now = now();
    let world = World::new(SimConfig {
        jobs: 60,
        days: 5,
        now,
        ..SimConfig::default()
    });
    let day = (now - chrono::Duration::days(3))
        .date_naive()
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc();
    world.sim.inject(Fault::malformed().window_containing(day));
    world.sync(&["--since", "6d"]).assert().code(1);
    let out = world
        .gaussjobs()
        .args(["status", "--check"])
        .assert()
        .code(1);
    let text = text_of(&out);
    let gap = text
        .lines()
        .find(|l| l.contains("1 gap in coverage"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(gap.contains(&day.format("%Y-%m-%d").to_string()), "{gap}");
    assert!(text.lines().any(|l| l.contains("newest run")), "{text}");
    // The next sync fetches the gap, and the check passes.
    world.sim.clear_faults();
    world.sync(&[]).assert().success();
    world
        .gaussjobs()
        .args(["status", "--check"])
        .assert()
        .success();
}
