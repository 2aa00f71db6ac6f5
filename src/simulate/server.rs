//! The HTTP side: the API route and the unauthenticated control interface under `/_sim/`.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::endpoint;
use super::faults::Fault;
use super::job::SimJob;
use super::Simulator;

pub(crate) fn router(sim: Simulator) -> Router {
    Router::new()
        .route("/v3/{project_id}/scheduled-jobs", get(list_jobs))
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

fn respond(status: u16, headers: &[(&'static str, String)], body: String) -> Response {
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(header::CONTENT_TYPE, "application/json;charset=UTF-8");
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
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    // Decoded the way the real service decodes it: `+` becomes a space.
    let query: Vec<(String, String)> = query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let token = headers.get("x-auth-token").and_then(|v| v.to_str().ok());
    let reply = endpoint::list(&mut sim.lock(), &project_id, token, query);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    respond(reply.status, &reply.headers, reply.body)
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
        .map(|r| json!({"project_id": r.project_id, "query": r.query, "status": r.status}))
        .collect();
    ok(Value::Array(list))
}

async fn control_stats(State(sim): State<Simulator>) -> Response {
    ok(json!({"requests": sim.request_count(), "jobs": sim.job_count()}))
}
