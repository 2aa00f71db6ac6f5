//! Where operators run it: credentials as the SDKs and KooCLI keep them, and temporary keys
//! from the ECS metadata service (refreshed as they expire).

use std::collections::BTreeMap;

use gaussjobs::simulate::{SimAkSk, SimConfig, DEFAULT_PROJECT_ID};

use crate::support::{now, World};

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

fn text_of(out: &assert_cmd::assert::Assert) -> String {
    let o = out.get_output();
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
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
