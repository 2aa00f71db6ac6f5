//! The seeded job generator: realistic, varied jobs with every quirk the real API shows (mixed
//! offsets, empty/null/absent times, both job-name vocabularies, undocumented fields).

use chrono::{DateTime, Duration, FixedOffset, Utc};
use rand::rngs::StdRng;
use rand::Rng;
use serde_json::{json, Map, Value};

use super::job::{SimJob, TimeField};

/// An instance jobs run on. Names are not unique (two instances share one), as in real
/// projects where an instance was deleted and re-created under the same name.
#[derive(Debug, Clone)]
pub(crate) struct Instance {
    pub id: String,
    pub name: String,
    pub status: &'static str,
}

/// The description's job names (a selection) and the SDK's: clients must take both.
const JOB_NAMES: [&str; 18] = [
    "CreateGaussDBforMySQLInstance",
    "RestoreGaussDBforMySQLNewInstance",
    "AddGaussDBforMySQLNodes",
    "DeleteGaussDBforMySQLNode",
    "RebootGaussDBforMySQLInstance",
    "ModifyGaussDBforMySQLPort",
    "ResizeGaussDBforMySQLFlavor",
    "GaussDBforMySQLBindEIP",
    "UpgradeGaussDBforMySQLDatabaseVersion",
    "EnlargeGaussDBforMySQLProxy",
    "OpenGaussDBforMySQLProxy",
    "GaussDBforMySQLSwitchSSL",
    "ScaleGaussDBforMySQLProxy",
    "RESIZE_FLAVOR",
    "REBOOT_NODE",
    "VERSION_UPGRADE",
    "PROXY_VERSION_UPGRADE",
    "REBOOT_INSTANCE",
];

const RESIZE_JOBS: [&str; 2] = ["ResizeGaussDBforMySQLFlavor", "RESIZE_FLAVOR"];
const PROXY_JOBS: [&str; 4] = [
    "EnlargeGaussDBforMySQLProxy",
    "OpenGaussDBforMySQLProxy",
    "ScaleGaussDBforMySQLProxy",
    "PROXY_VERSION_UPGRADE",
];

/// (flavor, cpu, mem)
const FLAVORS: [(&str, &str, &str); 5] = [
    ("gaussdb.mysql.large.x86.4", "2", "8"),
    ("gaussdb.mysql.xlarge.arm.4", "4", "16"),
    ("gaussdb.mysql.2xlarge.arm.4", "8", "32"),
    ("gaussdb.mysql.4xlarge.x86.4", "16", "64"),
    ("gaussdb.mysql.8xlarge.x86.8", "32", "256"),
];

/// `BUILD` appears in the documented example though no list names it.
const INSTANCE_STATUSES: [(&str, u32); 6] = [
    ("normal", 70),
    ("abnormal", 6),
    ("creating", 5),
    ("createfail", 3),
    ("deleted", 10),
    ("BUILD", 6),
];

const JOB_STATUSES: [(&str, u32); 6] = [
    ("Completed", 70),
    ("Failed", 9),
    ("Canceled", 4),
    ("Running", 6),
    ("Pending", 8),
    ("Unauthorized", 3),
];

/// Offsets in seconds east: +0000, +0800, -0500, +0530, +0100.
const OFFSETS: [i32; 5] = [0, 8 * 3600, -5 * 3600, 5 * 3600 + 1800, 3600];

fn weighted<R: Rng>(rng: &mut R, table: &[(&'static str, u32)]) -> &'static str {
    let total: u32 = table.iter().map(|(_, w)| w).sum();
    let mut pick = rng.gen_range(0..total);
    for (value, w) in table {
        if pick < *w {
            return value;
        }
        pick -= w;
    }
    table[table.len() - 1].0
}

/// 32 lowercase hex digits, the form of job and project ids.
pub(crate) fn hex32<R: Rng>(rng: &mut R) -> String {
    format!("{:032x}", rng.gen::<u128>())
}

pub(crate) fn instances(rng: &mut StdRng, n: usize) -> Vec<Instance> {
    let mut out: Vec<Instance> = (0..n.max(1))
        .map(|_| Instance {
            id: format!("{}in07", hex32(rng)),
            name: format!("gauss-{:04x}", rng.gen::<u16>()),
            status: weighted(rng, &INSTANCE_STATUSES),
        })
        .collect();
    if out.len() >= 2 {
        out[1].name = out[0].name.clone();
    }
    out
}

/// One random job on one of `instances`, created at `create_time`, as it stands at `now`.
pub(crate) fn job(
    rng: &mut StdRng,
    instances: &[Instance],
    project_id: &str,
    job_id: String,
    create_time: DateTime<Utc>,
    now: DateTime<Utc>,
) -> SimJob {
    let inst = &instances[rng.gen_range(0..instances.len())];
    let job_name = JOB_NAMES[rng.gen_range(0..JOB_NAMES.len())];
    let mut job_status = weighted(rng, &JOB_STATUSES);
    let offset =
        FixedOffset::east_opt(OFFSETS[rng.gen_range(0..OFFSETS.len())]).expect("offsets are valid");

    // Scheduled jobs wait for their maintenance window or an authorisation, but rarely for
    // long: most jobs older than a few days have finished, as in a real project.
    if create_time < now - Duration::days(3)
        && ["Running", "Pending", "Unauthorized"].contains(&job_status)
        && rng.gen_bool(0.85)
    {
        job_status = if rng.gen_bool(0.8) {
            "Completed"
        } else {
            "Canceled"
        };
    }
    let started = create_time + Duration::seconds(rng.gen_range(1..=300));
    let ended = started + Duration::seconds(rng.gen_range(1..=3600));
    // A job never has a time after `now`: the newest jobs are still running or waiting.
    if ended > now && ["Completed", "Failed", "Canceled"].contains(&job_status) {
        job_status = "Running";
    }
    if started > now && job_status == "Running" {
        job_status = "Pending";
    }
    let (start_time, end_time) = match job_status {
        "Completed" | "Failed" | "Canceled" => (TimeField::At(started), TimeField::At(ended)),
        "Running" => (
            TimeField::At(started),
            if rng.gen_bool(0.5) {
                TimeField::Empty
            } else {
                TimeField::Absent
            },
        ),
        _ => {
            let none = [TimeField::Empty, TimeField::Null, TimeField::Absent][rng.gen_range(0..3)];
            (none, none)
        }
    };

    let target_config = if RESIZE_JOBS.contains(&job_name) {
        let (flavor, cpu, mem) = FLAVORS[rng.gen_range(0..FLAVORS.len())];
        Some(json!({"flavor": flavor, "mem": mem, "cpu": cpu}))
    } else {
        match rng.gen_range(0..4) {
            0 | 1 => Some(Value::Object(Map::new())),
            2 => Some(Value::Null),
            _ => None,
        }
    };

    let mut extra = Map::new();
    if PROXY_JOBS.contains(&job_name) {
        extra.insert("proxy_id".into(), format!("{}po01", hex32(rng)).into());
        extra.insert(
            "proxy_name".into(),
            format!("proxy-{:04x}", rng.gen::<u16>()).into(),
        );
    }
    match rng.gen_range(0..20) {
        0 => {
            extra.insert(
                "order_id".into(),
                format!("CS{}", rng.gen_range(1_000_000_000u64..10_000_000_000)).into(),
            );
        }
        1 => {
            let source = ["console", "api", "autoscaling"][rng.gen_range(0..3)];
            extra.insert(
                "extra_info".into(),
                json!({"source": source, "tags": ["a"]}),
            );
        }
        _ => {}
    }

    SimJob {
        job_id,
        project_id: project_id.to_string(),
        instance_id: inst.id.clone(),
        instance_name: inst.name.clone(),
        instance_status: inst.status.to_string(),
        job_name: job_name.to_string(),
        job_status: job_status.to_string(),
        datastore_type: "gaussdb-mysql".to_string(),
        create_time,
        start_time,
        end_time,
        offset,
        target_config,
        extra,
    }
}

/// A whole-second time uniformly in `[from, to)`; `from` itself when the range is empty.
pub(crate) fn time_in<R: Rng>(
    rng: &mut R,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> DateTime<Utc> {
    // Whole seconds not before `from`.
    let lo = from.timestamp() + i64::from(from.timestamp_subsec_nanos() > 0);
    let hi = to.timestamp() + i64::from(to.timestamp_subsec_nanos() > 0);
    if hi <= lo {
        return from;
    }
    DateTime::from_timestamp(rng.gen_range(lo..hi), 0).expect("between two valid times")
}
