//! Shared fixtures: a temp dir with an archive path, a simulator on loopback, and the binary.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use chrono::{DateTime, Utc};
use gaussjobs::simulate::{
    BackgroundServer, SimConfig, Simulator, DEFAULT_PROJECT_ID, DEFAULT_TOKEN,
};
use rusqlite::Connection;
use serde_json::Value;

pub struct World {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    pub sim: Simulator,
    pub server: BackgroundServer,
}

impl World {
    pub fn new(config: SimConfig) -> World {
        World::with(Simulator::new(config))
    }

    pub fn empty(config: SimConfig) -> World {
        World::with(Simulator::empty(config))
    }

    fn with(sim: Simulator) -> World {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("archive.db");
        let server = sim.spawn_background();
        World {
            dir,
            db,
            sim,
            server,
        }
    }

    /// The binary with a clean environment, run in the temp dir against this archive.
    pub fn gaussjobs(&self) -> Command {
        gaussjobs_in(self.dir.path(), &self.db)
    }

    /// `gaussjobs sync` against the simulator with the right token, plus `extra`.
    pub fn sync(&self, extra: &[&str]) -> Command {
        let mut cmd = self.gaussjobs();
        cmd.env("GAUSSJOBS_TOKEN", DEFAULT_TOKEN).args([
            "sync",
            "--endpoint",
            &self.server.url,
            "--project-id",
            DEFAULT_PROJECT_ID,
            "--max-rps",
            "1000",
        ]);
        cmd.args(extra);
        cmd
    }

    pub fn conn(&self) -> Connection {
        Connection::open(&self.db).unwrap()
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.conn().query_row(sql, [], |r| r.get(0)).unwrap()
    }
}

/// The binary with every credential and config variable removed.
pub fn gaussjobs_in(dir: &Path, db: &Path) -> Command {
    let mut cmd = Command::cargo_bin("gaussjobs").unwrap();
    for var in [
        "GAUSSJOBS_DB",
        "GAUSSJOBS_TOKEN",
        "HUAWEICLOUD_SDK_AK",
        "HUAWEICLOUD_SDK_SK",
        "HUAWEICLOUD_SDK_PROJECT_ID",
        "HUAWEICLOUD_SDK_SECURITY_TOKEN",
        "RUST_LOG",
    ] {
        cmd.env_remove(var);
    }
    cmd.current_dir(dir)
        .arg("--db")
        .arg(db)
        .timeout(std::time::Duration::from_secs(120));
    cmd
}

/// A time as the API writes it (`2024-03-01T08:00:00+0800`), read independently of the
/// program's own parser, in the archive's UTC form; `None` for "", null or absent.
pub fn api_time_to_utc(v: Option<&Value>) -> Option<String> {
    let s = v?.as_str()?;
    if s.is_empty() {
        return None;
    }
    let t = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%z")
        .unwrap_or_else(|e| panic!("simulator time {s:?}: {e}"));
    Some(
        t.with_timezone(&Utc)
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string(),
    )
}

/// Now, whole seconds.
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap()
}
