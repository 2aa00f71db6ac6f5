//! The list call itself, apart from HTTP plumbing: authentication, parameter validation with
//! the real service's error bodies, injected faults, and the page.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use serde_json::json;

use super::faults::{FaultKind, JobIdForm};
use super::world::{Filter, World};
use super::RecordedRequest;

/// An answer ready to be sent after `delay`.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    pub delay: Duration,
    /// After `body`, the answer goes on forever (see [`FaultKind::EndlessBody`]).
    pub endless: bool,
}

impl Reply {
    fn json(status: u16, body: serde_json::Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: body.to_string(),
            delay: Duration::ZERO,
            endless: false,
        }
    }
}

/// The gateway's throttling answer: 429 `APIGW.0308`, with `Retry-After` when given.
fn throttled(world: &mut World, retry_after_secs: Option<u64>) -> Reply {
    let request_id = format!("{:032x}", world.fault_rng.gen::<u128>());
    let limit = world.config.rate_limit.unwrap_or(10);
    let mut r = Reply::json(
        429,
        json!({
            "error_code": "APIGW.0308",
            "error_message": format!("The throttling threshold has been reached: policy user over ratelimit,limit:{limit},time:1 second"),
            "request_id": request_id,
        }),
    );
    if let Some(secs) = retry_after_secs {
        r.headers.push(("retry-after", secs.to_string()));
    }
    r
}

/// Service errors carry `error_msg`.
fn service_error(status: u16, code: &str, msg: &str) -> Reply {
    Reply::json(status, json!({"error_code": code, "error_msg": msg}))
}

fn invalid(what: &str) -> Reply {
    service_error(400, "DBS.280001", &format!("Invalid parameter: {what}"))
}

/// Reads a time parameter in the one form the API takes, `yyyy-mm-ddThh:mm:ss+hhmm`. An
/// unencoded `+` arrives decoded as a space; the real service rejects that, and so does this.
fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    if s.contains(char::is_whitespace) {
        return None;
    }
    DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%z")
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// What the gateway made of the request's credentials.
#[derive(Debug, Clone)]
pub(crate) enum Authn {
    /// An AK/SK signature or an IAM-issued token, already checked.
    Verified(&'static str),
    /// An `X-Auth-Token` (or none), to compare with the project's configured token.
    Token(Option<String>),
    /// Refused, with the reason the gateway gives.
    Refused(String),
}

/// Handles `GET /v3/{project_id}/scheduled-jobs` and records it. `headers` are the
/// request's, names in lower case (for the faults that echo them).
pub(crate) fn list(
    world: &mut World,
    project_id: &str,
    auth: Authn,
    query: Vec<(String, String)>,
    headers: &[(String, String)],
) -> Reply {
    let refused = match &auth {
        Authn::Verified(_) => None,
        Authn::Token(Some(t)) if *t == world.config.token => None,
        Authn::Token(_) => Some("verify aksk signature fail".to_string()),
        Authn::Refused(why) => Some(why.clone()),
    };
    let kind = match &auth {
        Authn::Verified(kind) => kind,
        Authn::Token(Some(_)) => "token",
        _ => "none",
    };
    let mut reply = match refused {
        Some(why) => {
            // Gateway errors carry `error_message` and a request id, not `error_msg`.
            let request_id = format!("{:032x}", world.fault_rng.gen::<u128>());
            Reply::json(
                401,
                json!({
                    "error_code": "APIGW.0301",
                    "error_message": format!("Incorrect IAM authentication information: {why}"),
                    "request_id": request_id,
                }),
            )
        }
        None if !world.admit() => throttled(world, None),
        None => answer(world, project_id, &query, headers),
    };
    reply.delay += world.config.latency;
    world.requests.push(RecordedRequest {
        project_id: project_id.to_string(),
        query,
        status: reply.status,
        auth: kind,
    });
    reply
}

fn answer(
    world: &mut World,
    project_id: &str,
    query: &[(String, String)],
    headers: &[(String, String)],
) -> Reply {
    if project_id != world.config.project_id {
        return service_error(
            403,
            "DBS.280238",
            "The project ID does not match the token.",
        );
    }

    // The first occurrence wins; an empty value is the same as none.
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let offset = match param("offset").map(str::parse::<u64>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return invalid("offset must be a non-negative integer."),
    };
    let limit = match param("limit").map(str::parse::<u32>) {
        None => 100,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => return invalid("limit must be between 1 and 100."),
    };
    let mut filter = Filter {
        status: param("status").map(String::from),
        job_id: param("job_id").map(String::from),
        job_name: param("job_name").map(String::from),
        instance_id: param("instance_id").map(String::from),
        start: None,
        end: None,
    };
    for (name, slot) in [
        ("start_time", &mut filter.start),
        ("end_time", &mut filter.end),
    ] {
        if let Some(text) = param(name) {
            match parse_time(text) {
                Some(t) => *slot = Some(t),
                None => return invalid(name),
            }
        }
    }

    // Latency faults add up; of the faults that replace the answer, the first that fires wins;
    // drift only fires when the page was served normally.
    let mut delay = Duration::ZERO;
    let mut replaced: Option<FaultKind> = None;
    // Each drift that fires purges one more job of the page, so two shift the pages by two.
    let mut drifts = 0u32;
    let mut edits = PageEdits::default();
    for pass in [false, true] {
        for i in 0..world.faults.len() {
            let fault = &world.faults[i];
            let is_drift = fault.kind == FaultKind::Drift;
            if is_drift != pass
                || fault.kind.is_iam()
                || (is_drift && replaced.is_some())
                || (fault.kind.is_terminal() && replaced.is_some())
                || !fault.targets(offset, filter.start, filter.end)
            {
                continue;
            }
            let p = fault.probability;
            if p < 1.0 && world.fault_rng.gen::<f64>() >= p {
                continue;
            }
            let fault = &mut world.faults[i];
            fault.spend();
            match &fault.kind {
                FaultKind::Latency { ms } => delay += Duration::from_millis(*ms),
                FaultKind::Drift => drifts += 1,
                FaultKind::TotalCountUnderstated { by } => edits.count_shift -= *by as i64,
                FaultKind::TotalCountOverstated { by } => edits.count_shift += *by as i64,
                FaultKind::UnusableJobId { job_id, form } => {
                    edits.unusable_ids.push((job_id.clone(), *form));
                }
                kind => replaced = Some(kind.clone()),
            }
        }
    }

    let mut reply = match replaced {
        Some(FaultKind::Status { code }) => {
            let msg = match code {
                503 => "Service unavailable. Please try again later.",
                _ => "Internal server error.",
            };
            service_error(code, "DBS.280005", msg)
        }
        Some(FaultKind::TooManyRequests { retry_after_secs }) => throttled(world, retry_after_secs),
        Some(FaultKind::MalformedJson) => {
            let full = page_body(world, &filter, offset, limit, 0, &edits);
            // Cut on a char boundary so the body is still valid UTF-8, just not valid JSON.
            let mut cut = full.len() / 2;
            while !full.is_char_boundary(cut) {
                cut -= 1;
            }
            Reply {
                status: 200,
                headers: Vec::new(),
                body: full[..cut].to_string(),
                delay: Duration::ZERO,
                endless: false,
            }
        }
        Some(FaultKind::Redirect { status, location }) => {
            let mut r = Reply::json(status, json!({}));
            r.headers.push(("location", location));
            r
        }
        Some(FaultKind::EchoHeaders {
            status,
            headers: names,
        }) => {
            let echoed: Vec<String> = names
                .iter()
                .filter_map(|name| {
                    headers
                        .iter()
                        .find(|(k, _)| k == name)
                        .map(|(k, v)| format!("{k}: {v}"))
                })
                .collect();
            let request_id = format!("{:032x}", world.fault_rng.gen::<u128>());
            Reply::json(
                status,
                json!({
                    "error_code": "APIGW.0201",
                    "error_message": format!("Request is not valid; headers received: {}", echoed.join("; ")),
                    "request_id": request_id,
                }),
            )
        }
        Some(FaultKind::EndlessBody) => Reply {
            status: 200,
            headers: Vec::new(),
            body: "{\"schedules\":[".to_string(),
            delay: Duration::ZERO,
            endless: true,
        },
        Some(FaultKind::OversizedBody { bytes }) => {
            let job = json!({
                "job_id": "0000000000000000000000000000big",
                "job_name": "x".repeat(usize::try_from(bytes).unwrap_or(usize::MAX)),
            });
            Reply::json(200, json!({"schedules": [job], "total_count": 1}))
        }
        _ => Reply {
            status: 200,
            headers: Vec::new(),
            body: page_body(world, &filter, offset, limit, drifts, &edits),
            delay: Duration::ZERO,
            endless: false,
        },
    };
    reply.delay = delay;
    reply
}

/// What faults change in a page that is otherwise served normally.
#[derive(Debug, Default)]
struct PageEdits {
    /// Added to `total_count` (never below 0).
    count_shift: i64,
    /// Jobs served with a spoiled `job_id`.
    unusable_ids: Vec<(String, JobIdForm)>,
}

fn page_body(
    world: &mut World,
    filter: &Filter,
    offset: u64,
    limit: u32,
    drifts: u32,
    edits: &PageEdits,
) -> String {
    let page = world.list(filter, offset, limit);
    let texts: Vec<std::borrow::Cow<'_, str>> = page
        .keys
        .iter()
        .map(|key| {
            let form = edits.unusable_ids.iter().find(|(id, _)| *id == key.1);
            match form {
                Some((_, form)) => {
                    spoiled(world.job(key).expect("listed keys exist"), *form).into()
                }
                None => world.text(key).expect("listed keys exist").into(),
            }
        })
        .collect();
    // Sized once: grown piece by piece, a 50 KB body was copied a dozen times.
    let mut body = String::with_capacity(texts.iter().map(|t| t.len() + 1).sum::<usize>() + 64);
    body.push_str("{\"schedules\":[");
    for (i, text) in texts.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(text);
    }
    let total_count = (page.total_count as i64)
        .saturating_add(edits.count_shift)
        .max(0);
    body.push_str(&format!("],\"total_count\":{total_count}}}"));
    drop(texts);
    for _ in 0..drifts {
        world.drift(filter, &page.keys);
    }
    body
}

/// The job's object with its `job_id` spoiled as `form` says, in the same key order.
fn spoiled(job: &super::SimJob, form: JobIdForm) -> String {
    let mut value = job.to_api_json();
    let object = value.as_object_mut().expect("a job is an object");
    match form {
        JobIdForm::Missing => {
            object.shift_remove("job_id");
        }
        JobIdForm::Null => {
            object.insert("job_id".into(), serde_json::Value::Null);
        }
        JobIdForm::Empty => {
            object.insert("job_id".into(), json!(""));
        }
        JobIdForm::Number => {
            object.insert("job_id".into(), json!(17));
        }
    }
    value.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_parameters_take_only_the_api_form() {
        let want = crate::time::from_store("2024-03-01T00:00:00Z");
        assert_eq!(parse_time("2024-03-01T08:00:00+0800"), want);
        assert_eq!(parse_time("2024-02-29T19:00:00-0500"), want);
        assert_eq!(parse_time("2024-03-01T00:00:00 0000"), None, "unencoded +");
        assert_eq!(parse_time("2024-03-01T00:00:00 +0000"), None);
        assert_eq!(parse_time("2024-03-01"), None);
        assert_eq!(parse_time("yesterday"), None);
    }
}
