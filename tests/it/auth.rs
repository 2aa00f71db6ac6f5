//! Signing in as Huawei Cloud users do: AK/SK signatures verified by the simulator, IAM
//! password logins with a cached token, a config of several accounts, and no secret ever in
//! the output or the archive.

use std::collections::BTreeMap;

use gaussjobs::simulate::{SimAkSk, SimConfig, SimIamUser, DEFAULT_PROJECT_ID};

use crate::support::{now, World};

const AK: &str = "HPUAK7EXAMPLE0000001";
const SK: &str = "sk-Secret+With/Symbols=9f3c2a7d";
const WRONG_SK: &str = "sk-WrongSecret-5b1e8d0c44";
const PASSWORD: &str = "pw-Correct-Horse-61f0aa";
const OTHER_PROJECT: &str = "ffeeddccbbaa99887766554433221100";

fn config() -> SimConfig {
    let mut aksk = BTreeMap::new();
    aksk.insert(AK.to_string(), SimAkSk::permanent(SK));
    SimConfig {
        jobs: 60,
        days: 5,
        now: now(),
        aksk,
        iam_users: vec![SimIamUser {
            domain: "acme".into(),
            name: "robot".into(),
            password: PASSWORD.into(),
        }],
        ..SimConfig::default()
    }
}

/// `sync` against the simulator with no credential at all, plus `extra`.
fn bare_sync(world: &World, extra: &[&str]) -> assert_cmd::Command {
    let mut cmd = world.gaussjobs();
    cmd.env("GAUSSJOBS_CACHE_DIR", world.dir.path().join("cache"))
        .args(["sync", "--endpoint", &world.server.url, "--max-rps", "1000"])
        .args(["--since", "6d"])
        .args(extra);
    cmd
}

fn output_text(out: &assert_cmd::assert::Assert) -> String {
    let o = out.get_output();
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// No secret in stdout, stderr or any byte of the archive (and its WAL).
fn assert_no_secret(world: &World, text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
        for entry in std::fs::read_dir(world.dir.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                let bytes = std::fs::read(&path).unwrap();
                let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
                assert!(!found, "{secret} is in {}", path.display());
            }
        }
    }
}

#[test]
fn aksk_from_the_environment_signs_every_request() {
    let world = World::new(config());
    let out = bare_sync(&world, &["--project-id", DEFAULT_PROJECT_ID])
        .env("HUAWEICLOUD_SDK_AK", AK)
        .env("HUAWEICLOUD_SDK_SK", SK)
        .assert()
        .success();
    let requests = world.sim.requests();
    assert!(!requests.is_empty());
    assert!(
        requests.iter().all(|r| r.auth == "aksk" && r.status == 200),
        "{requests:?}"
    );
    assert_eq!(
        world.count("SELECT count(*) FROM jobs") as usize,
        world.sim.job_count()
    );
    assert_no_secret(&world, &output_text(&out), &[SK]);
}

#[test]
fn a_wrong_secret_key_shows_the_gateways_answer_and_never_the_key() {
    let world = World::new(config());
    let out = bare_sync(&world, &["--project-id", DEFAULT_PROJECT_ID])
        .env("HUAWEICLOUD_SDK_AK", AK)
        .env("HUAWEICLOUD_SDK_SK", WRONG_SK)
        .assert()
        .code(1);
    let text = output_text(&out);
    assert!(text.contains("APIGW.0301"), "{text}");
    assert!(text.contains("verify aksk signature fail"), "{text}");
    assert!(
        text.contains("HUAWEICLOUD_SDK_AK"),
        "the hint names the source: {text}"
    );
    assert_eq!(world.count("SELECT count(*) FROM jobs"), 0);
    assert_no_secret(&world, &text, &[WRONG_SK, SK]);
}

#[test]
fn half_an_access_key_is_a_usage_error() {
    let world = World::new(config());
    let out = bare_sync(&world, &["--project-id", DEFAULT_PROJECT_ID])
        .env("HUAWEICLOUD_SDK_AK", AK)
        .assert()
        .code(2);
    let text = output_text(&out);
    assert!(text.contains("HUAWEICLOUD_SDK_SK is not"), "{text}");
    assert_eq!(world.sim.request_count(), 0);
}

#[test]
fn no_credentials_lists_what_was_tried() {
    let world = World::new(config());
    let out = bare_sync(&world, &["--project-id", DEFAULT_PROJECT_ID])
        .assert()
        .code(2);
    let text = output_text(&out);
    for tried in [
        "--token-file",
        "GAUSSJOBS_TOKEN",
        "HUAWEICLOUD_SDK_AK",
        "--iam-user",
        "--config",
    ] {
        assert!(text.contains(tried), "{tried} missing: {text}");
    }
    assert_eq!(world.sim.request_count(), 0);
}

#[test]
fn iam_login_is_cached_privately_and_refreshed_once_on_401() {
    let world = World::new(config());
    let iam = |w: &World| {
        let mut cmd = bare_sync(
            w,
            &[
                "--project-id",
                DEFAULT_PROJECT_ID,
                "--iam-user",
                "robot",
                "--iam-domain",
                "acme",
                "--iam-endpoint",
                &w.server.url,
            ],
        );
        cmd.env("GAUSSJOBS_IAM_PASSWORD", PASSWORD);
        cmd
    };
    let out = iam(&world).assert().success();
    assert_eq!(world.sim.iam_login_count(), 1);
    assert!(world.sim.requests().iter().all(|r| r.auth == "iam-token"));
    let mut texts = output_text(&out);

    // The token is cached in a file only the user can read, outside the archive.
    let cache = world.dir.path().join("cache");
    let files: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&files[0]).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let token: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
    let token = token["token"].as_str().unwrap().to_string();

    // A second run uses the cache.
    texts += &output_text(&iam(&world).assert().success());
    assert_eq!(
        world.sim.iam_login_count(),
        1,
        "the cached token was not used"
    );

    // The API refuses the cached token: one new login, and the run succeeds.
    world.sim.revoke_iam_tokens();
    texts += &output_text(&iam(&world).assert().success());
    assert_eq!(world.sim.iam_login_count(), 2);

    // A wrong password fails clearly, without the password.
    std::fs::remove_dir_all(&cache).unwrap();
    let out = iam(&world)
        .env("GAUSSJOBS_IAM_PASSWORD", "pw-Wrong-0d9e7c")
        .assert()
        .code(1);
    let text = output_text(&out);
    assert!(
        text.contains("IAM login") && text.contains("robot"),
        "{text}"
    );
    texts += &text;
    assert_no_secret(&world, &texts, &[PASSWORD, "pw-Wrong-0d9e7c", &token]);
}

#[test]
fn an_iam_user_without_a_password_is_a_usage_error() {
    let world = World::new(config());
    let out = bare_sync(
        &world,
        &[
            "--project-id",
            DEFAULT_PROJECT_ID,
            "--iam-user",
            "robot",
            "--region",
            "cn-north-4",
        ],
    )
    .assert()
    .code(2);
    assert!(output_text(&out).contains("GAUSSJOBS_IAM_PASSWORD"));
}

#[test]
fn a_config_of_two_projects_archives_the_good_one_when_the_other_is_refused() {
    let world = World::new(config());
    let other = world.sim.add_project(SimConfig {
        project_id: OTHER_PROJECT.into(),
        seed: 7,
        ..config()
    });
    let config_path = world.dir.path().join("gaussjobs.toml");
    std::fs::write(
        &config_path,
        format!(
            r#"
[[account]]
name = "good"
endpoint = "{url}"
project_id = "{DEFAULT_PROJECT_ID}"
ak_env = "GOOD_AK"
sk_env = "GOOD_SK"

[[account]]
name = "bad"
endpoint = "{url}"
project_id = "{OTHER_PROJECT}"
ak_env = "BAD_AK"
sk_env = "BAD_SK"
"#,
            url = world.server.url
        ),
    )
    .unwrap();
    let mut cmd = world.gaussjobs();
    let out = cmd
        .env("GOOD_AK", AK)
        .env("GOOD_SK", SK)
        .env("BAD_AK", AK)
        .env("BAD_SK", WRONG_SK)
        .args(["sync", "--max-rps", "1000", "--since", "6d", "--config"])
        .arg(&config_path)
        .assert()
        .code(1);
    let text = output_text(&out);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("good: ") && l.contains(DEFAULT_PROJECT_ID)),
        "{stderr}"
    );
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("bad: ") && l.contains("APIGW.0301")),
        "{stderr}"
    );
    assert_eq!(
        world.count(&format!(
            "SELECT count(*) FROM jobs WHERE project_id = '{DEFAULT_PROJECT_ID}'"
        )) as usize,
        world.sim.job_count()
    );
    assert_eq!(
        world.count(&format!(
            "SELECT count(*) FROM jobs WHERE project_id = '{OTHER_PROJECT}'"
        )),
        0
    );
    assert!(other.request_count() > 0);
    assert!(other.requests().iter().all(|r| r.status == 401));
    assert_no_secret(&world, &text, &[SK, WRONG_SK]);
}

#[test]
fn two_projects_sync_side_by_side_into_one_archive() {
    let big = || SimConfig {
        jobs: 1_500,
        days: 5,
        ..config()
    };
    let world = World::new(big());
    let other = world.sim.add_project(SimConfig {
        project_id: OTHER_PROJECT.into(),
        seed: 11,
        ..big()
    });
    let config_path = world.dir.path().join("gaussjobs.toml");
    std::fs::write(
        &config_path,
        format!(
            r#"
[[account]]
name = "first"
endpoint = "{url}"
project_id = "{DEFAULT_PROJECT_ID}"
ak_env = "GOOD_AK"
sk_env = "GOOD_SK"

[[account]]
name = "second"
endpoint = "{url}"
project_id = "{OTHER_PROJECT}"
ak_env = "GOOD_AK"
sk_env = "GOOD_SK"
"#,
            url = world.server.url
        ),
    )
    .unwrap();
    // Small pages: both projects write many transactions at the same time.
    let out = world
        .gaussjobs()
        .env("GOOD_AK", AK)
        .env("GOOD_SK", SK)
        .args([
            "sync",
            "--max-rps",
            "5000",
            "--since",
            "6d",
            "--page-size",
            "10",
        ])
        .arg("--config")
        .arg(&config_path)
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.lines().any(|l| l.starts_with("first: synced")),
        "{stderr}"
    );
    assert!(
        stderr.lines().any(|l| l.starts_with("second: synced")),
        "{stderr}"
    );
    for (project, sim) in [(DEFAULT_PROJECT_ID, &world.sim), (OTHER_PROJECT, &other)] {
        assert_eq!(
            world.count(&format!(
                "SELECT count(*) FROM jobs WHERE project_id = '{project}'"
            )) as usize,
            sim.job_count(),
            "project {project}"
        );
    }
    assert_eq!(
        world.count("SELECT count(*) FROM sync_runs WHERE outcome = 'ok'"),
        2
    );
}
