//! The HTTP side: the API route and the unauthenticated control interface under `/_sim/`.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::{self as sim_auth, TokenRequest};
use super::endpoint::{self, Authn};
use super::faults::{Fault, FaultKind};
use super::job::SimJob;
use super::Simulator;

pub(crate) fn router(sim: Simulator) -> Router {
    Router::new()
        .route("/v3/{project_id}/scheduled-jobs", get(list_jobs))
        .route("/v3/auth/tokens", post(iam_tokens))
        .route(
            "/meta-data/latest/api/token",
            axum::routing::put(metadata_token),
        )
        .route("/openstack/latest/securitykey", get(metadata_securitykey))
        .route("/_sim/jobs", get(control_jobs).post(control_add_job))
        .route(
            "/_sim/jobs/{job_id}",
            axum::routing::delete(control_remove_job),
        )
        .route("/_sim/jobs/{job_id}/status", post(control_set_status))
        .route("/_sim/generate", post(control_generate))
        .route("/_sim/purge", post(control_purge))
        .route(
            "/_sim/faults",
            post(control_add_fault).delete(control_clear_faults),
        )
        .route("/_sim/requests", get(control_requests))
        .route("/_sim/stats", get(control_stats))
        .fallback(not_found)
        .with_state(sim)
}

/// A fresh id for one answer, as the gateway puts in `X-Request-Id`: 32 hex digits.
pub(crate) fn request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{:016x}{:016x}", u64::from(std::process::id()), n)
}

fn respond(status: u16, headers: &[(&'static str, String)], body: String) -> Response {
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(header::CONTENT_TYPE, "application/json;charset=UTF-8")
        .header("x-request-id", request_id());
    for (name, value) in headers {
        builder = builder.header(*name, value);
    }
    builder
        .body(Body::from(body))
        .expect("static header names and plain values are valid")
}

fn ok(body: Value) -> Response {
    respond(200, &[], body.to_string())
}

fn bad_request(msg: impl std::fmt::Display) -> Response {
    respond(400, &[], json!({"error": msg.to_string()}).to_string())
}

async fn list_jobs(
    State(sim): State<Simulator>,
    Path(project_id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(raw_query): RawQuery,
) -> Response {
    // Decoded the way the real service decodes it: `+` becomes a space.
    let query: Vec<(String, String)> = raw_query
        .as_deref()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let auth = authenticate(
        &sim,
        &project_id,
        uri.path(),
        raw_query.as_deref(),
        &headers,
    );
    let header_pairs: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let world = sim.world_for(&project_id);
    let reply = {
        let mut world = world.lock().unwrap_or_else(|e| e.into_inner());
        endpoint::list(&mut world, &project_id, auth, query, &header_pairs)
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    if reply.endless {
        return endless(reply.status, reply.body);
    }
    let mut headers = reply.headers;
    let skew = sim.shared().clock_skew;
    if !skew.is_zero() {
        // The gateway's own clock, as its `Date` says it and as it checks signatures.
        let date = (Utc::now() + skew).format("%a, %d %b %Y %H:%M:%S GMT");
        headers.push(("date", date.to_string()));
    }
    respond(reply.status, &headers, reply.body)
}

/// `start`, then blanks (valid JSON whitespace, so the page is never complete) for as long
/// as the client reads: chunked, no length, no end.
fn endless(status: u16, start: String) -> Response {
    const CHUNK: usize = 64 * 1024;
    let first = futures_util::stream::once(async move {
        Ok::<_, std::convert::Infallible>(axum::body::Bytes::from(start))
    });
    let blanks = futures_util::stream::unfold((), |()| async {
        // A short pause per chunk: a client that reads without a cap grows at a rate a test
        // machine survives until it gives up, instead of as fast as loopback goes.
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        Some((
            Ok::<_, std::convert::Infallible>(axum::body::Bytes::from(vec![b' '; CHUNK])),
            (),
        ))
    });
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::OK))
        .header(header::CONTENT_TYPE, "application/json;charset=UTF-8")
        .body(Body::from_stream(futures_util::StreamExt::chain(
            first, blanks,
        )))
        .expect("static header names and plain values are valid")
}

/// The first IAM fault that fires, spent.
fn iam_fault(sim: &Simulator) -> Option<FaultKind> {
    let mut world = sim.lock();
    let fault = world
        .faults
        .iter_mut()
        .find(|f| f.kind.is_iam() && f.targets(0, None, None))?;
    fault.spend();
    Some(fault.kind.clone())
}

/// The gateway's check: an AK/SK signature when there is an `Authorization` header, else an
/// IAM-issued token, else the project's configured token.
fn authenticate(
    sim: &Simulator,
    project_id: &str,
    path: &str,
    raw_query: Option<&str>,
    headers: &HeaderMap,
) -> Authn {
    let shared = sim.shared();
    let now = Utc::now() + shared.clock_skew;
    if headers.contains_key(header::AUTHORIZATION) {
        return match sim_auth::verify_aksk("GET", path, raw_query, headers, &shared.aksk, now) {
            Ok(_) => {
                let scoped = headers.get("x-project-id").and_then(|v| v.to_str().ok());
                if scoped == Some(project_id) {
                    Authn::Verified("aksk")
                } else {
                    Authn::Refused("x-project-id does not match the project".into())
                }
            }
            Err(why) => Authn::Refused(why),
        };
    }
    let token = headers
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    if let Some(t) = &token {
        if let Some((scope, expires)) = shared.issued.get(t) {
            return if scope == project_id && *expires > now {
                Authn::Verified("iam-token")
            } else {
                Authn::Refused("the token has expired or is not for this project".into())
            };
        }
    }
    Authn::Token(token)
}

/// IAM's `POST /v3/auth/tokens`: password method, project scope.
async fn iam_tokens(State(sim): State<Simulator>, body: String) -> Response {
    let unauthorized = || {
        respond(
            401,
            &[],
            json!({"error": {"code": 401, "message": "The username or password is wrong.", "title": "Unauthorized"}})
                .to_string(),
        )
    };
    match iam_fault(&sim) {
        Some(FaultKind::IamRedirect { status, location }) => {
            sim.shared().iam_logins += 1;
            return respond(status, &[("location", location)], "{}".into());
        }
        Some(FaultKind::IamEchoBody) => {
            sim.shared().iam_logins += 1;
            return respond(
                400,
                &[],
                json!({"error": {"code": 400, "message": format!("The request body is invalid: {body}"), "title": "Bad Request"}})
                    .to_string(),
            );
        }
        _ => {}
    }
    let mut shared = sim.shared();
    shared.iam_logins += 1;
    let request: TokenRequest = match serde_json::from_str(&body) {
        Ok(r) => r,
        Err(e) => {
            return respond(
                400,
                &[],
                json!({"error": {"code": 400, "message": format!("The request body is invalid: {e}"), "title": "Bad Request"}})
                    .to_string(),
            )
        }
    };
    let Some(password) = request.auth.identity.password.filter(|_| {
        request
            .auth
            .identity
            .methods
            .iter()
            .any(|m| m == "password")
    }) else {
        return unauthorized();
    };
    let user = password.user;
    let known = shared.iam_users.iter().any(|u| {
        u.name == user.name && u.password == user.password && u.domain == user.domain.name
    });
    if !known {
        return unauthorized();
    }
    let Some(project_id) = request
        .auth
        .scope
        .and_then(|s| s.project)
        .and_then(|p| p.id)
        .filter(|id| shared.projects.contains_key(id))
    else {
        return respond(
            400,
            &[],
            json!({"error": {"code": 400, "message": "The project scope is invalid.", "title": "Bad Request"}})
                .to_string(),
        );
    };
    use rand::Rng;
    let token = format!("MIIsim{:032x}", shared.rng.gen::<u128>());
    let now = Utc::now();
    let expires = now + shared.iam_token_lifetime;
    shared
        .issued
        .insert(token.clone(), (project_id.clone(), expires));
    let body = json!({
        "token": {
            "expires_at": expires.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
            "issued_at": now.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
            "methods": ["password"],
            "project": {"id": project_id},
            "user": {"name": user.name, "domain": {"name": user.domain.name}},
        }
    });
    respond(201, &[("x-subject-token", token)], body.to_string())
}

/// The metadata service's session token, as ECS issues it (plain text).
async fn metadata_token(State(sim): State<Simulator>, headers: HeaderMap) -> Response {
    use rand::Rng;
    if !headers.contains_key("x-metadata-token-ttl-seconds") {
        return respond(400, &[], "{}".into());
    }
    let mut shared = sim.shared();
    shared.metadata.tokens += 1;
    let token = format!("mdt-{:032x}", shared.rng.gen::<u128>());
    shared.metadata.issued_tokens.push(token.clone());
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(token))
        .expect("plain values are valid")
}

/// `GET /openstack/latest/securitykey`: new temporary keys each time, which the API then
/// accepts until they expire.
async fn metadata_securitykey(State(sim): State<Simulator>, headers: HeaderMap) -> Response {
    use rand::Rng;
    let mut shared = sim.shared();
    shared.metadata.keys += 1;
    let token = headers
        .get("x-metadata-token")
        .and_then(|v| v.to_str().ok());
    if let Some(token) = token {
        if !shared.metadata.issued_tokens.iter().any(|t| t == token) {
            return respond(401, &[], "{}".into());
        }
        shared.metadata.keys_with_token += 1;
    }
    let n: u128 = shared.rng.gen();
    let access = format!("TMPAK{:015X}", n as u64 & 0x0FFF_FFFF_FFFF_FFFF);
    let secret = format!("tmp-sk-{n:032x}");
    let security_token = format!("tmp-sts-{:032x}", shared.rng.gen::<u128>());
    let expires = Utc::now() + shared.metadata_key_lifetime;
    shared.aksk.insert(
        access.clone(),
        super::SimAkSk::temporary(&secret, &security_token, Some(expires)),
    );
    let body = json!({
        "credential": {
            "access": access,
            "secret": secret,
            "securitytoken": security_token,
            "expires_at": expires.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        }
    });
    respond(200, &[], body.to_string())
}

/// What the real gateway answers for a path it does not know.
async fn not_found() -> Response {
    respond(
        404,
        &[],
        json!({
            "error_code": "APIGW.0101",
            "error_message": "The API does not exist or has not been published in the environment",
        })
        .to_string(),
    )
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    match crate::time::parse_api(s) {
        Ok(Some(t)) => Ok(t),
        _ => Err(format!("{s:?} is not a time")),
    }
}

fn parse_body<T: for<'de> Deserialize<'de>>(body: &str) -> Result<T, String> {
    serde_json::from_str(body).map_err(|e| format!("unreadable body: {e}"))
}

async fn control_jobs(State(sim): State<Simulator>) -> Response {
    ok(Value::Array(sim.jobs()))
}

async fn control_add_job(State(sim): State<Simulator>, body: String) -> Response {
    let value: Value = match parse_body(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(e),
    };
    match SimJob::from_api_json(&value) {
        Ok(job) => {
            let id = job.job_id.clone();
            sim.add_job(job);
            ok(json!({"job_id": id}))
        }
        Err(e) => bad_request(e),
    }
}

async fn control_remove_job(State(sim): State<Simulator>, Path(job_id): Path<String>) -> Response {
    if sim.remove_job(&job_id) {
        ok(json!({"removed": job_id}))
    } else {
        respond(404, &[], json!({"error": "no such job"}).to_string())
    }
}

#[derive(Deserialize)]
struct StatusBody {
    status: String,
    at: String,
}

async fn control_set_status(
    State(sim): State<Simulator>,
    Path(job_id): Path<String>,
    body: String,
) -> Response {
    let body: StatusBody = match parse_body(&body) {
        Ok(b) => b,
        Err(e) => return bad_request(e),
    };
    let at = match parse_time(&body.at) {
        Ok(t) => t,
        Err(e) => return bad_request(e),
    };
    if sim.set_status(&job_id, &body.status, at) {
        ok(json!({"job_id": job_id, "status": body.status}))
    } else {
        respond(404, &[], json!({"error": "no such job"}).to_string())
    }
}

#[derive(Deserialize)]
struct GenerateBody {
    n: usize,
    from: String,
    to: String,
}

async fn control_generate(State(sim): State<Simulator>, body: String) -> Response {
    let body: GenerateBody = match parse_body(&body) {
        Ok(b) => b,
        Err(e) => return bad_request(e),
    };
    match (parse_time(&body.from), parse_time(&body.to)) {
        (Ok(from), Ok(to)) => ok(json!({"job_ids": sim.generate_jobs(body.n, from, to)})),
        (Err(e), _) | (_, Err(e)) => bad_request(e),
    }
}

#[derive(Deserialize)]
struct PurgeBody {
    before: String,
}

async fn control_purge(State(sim): State<Simulator>, body: String) -> Response {
    let body: PurgeBody = match parse_body(&body) {
        Ok(b) => b,
        Err(e) => return bad_request(e),
    };
    match parse_time(&body.before) {
        Ok(t) => ok(json!({"purged": sim.purge_before(t)})),
        Err(e) => bad_request(e),
    }
}

async fn control_add_fault(State(sim): State<Simulator>, body: String) -> Response {
    match parse_body::<Fault>(&body) {
        Ok(fault) => {
            sim.inject(fault);
            ok(json!({"faults": sim.lock().faults.len()}))
        }
        Err(e) => bad_request(e),
    }
}

async fn control_clear_faults(State(sim): State<Simulator>) -> Response {
    sim.clear_faults();
    ok(json!({"faults": 0}))
}

async fn control_requests(State(sim): State<Simulator>) -> Response {
    let list: Vec<Value> = sim
        .requests()
        .into_iter()
        .map(|r| json!({"project_id": r.project_id, "query": r.query, "status": r.status, "auth": r.auth}))
        .collect();
    ok(Value::Array(list))
}

async fn control_stats(State(sim): State<Simulator>) -> Response {
    let throttled = sim.requests().iter().filter(|r| r.status == 429).count();
    ok(json!({"requests": sim.request_count(), "jobs": sim.job_count(), "throttled": throttled}))
}
