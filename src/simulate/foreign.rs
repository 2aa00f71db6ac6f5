//! A server on another origin that records every request it gets, headers and body
//! included, and answers each with an empty page: where a hostile redirect points, to show
//! that nothing was sent there.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, Request};
use axum::response::Response;
use axum::Router;

use super::BackgroundServer;

/// One request as the foreign server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignRequest {
    pub method: String,
    /// Path and query.
    pub uri: String,
    /// Names in lower case, values as sent.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// A handle on the foreign server's request log; clones share it.
#[derive(Clone, Default)]
pub struct ForeignServer {
    requests: Arc<Mutex<Vec<ForeignRequest>>>,
}

impl ForeignServer {
    pub fn new() -> ForeignServer {
        ForeignServer::default()
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<ForeignRequest> {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Serves on `127.0.0.1:0` (a port of its own, so another origin than the simulator's)
    /// from a thread of its own.
    pub fn spawn_background(&self) -> BackgroundServer {
        let router = Router::new().fallback(record).with_state(self.clone());
        super::spawn_router(router, "gaussjobs-foreign-server")
    }
}

async fn record(State(server): State<ForeignServer>, request: Request<Body>) -> Response {
    let (parts, body) = request.into_parts();
    // A body larger than this is not something a test sends.
    let body = axum::body::to_bytes(body, 1024 * 1024)
        .await
        .unwrap_or_default();
    server
        .requests
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(ForeignRequest {
            method: parts.method.to_string(),
            uri: parts.uri.to_string(),
            headers: parts
                .headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: String::from_utf8_lossy(&body).into_owned(),
        });
    Response::builder()
        .status(200)
        .header(header::CONTENT_TYPE, "application/json;charset=UTF-8")
        .body(Body::from(r#"{"schedules":[],"total_count":0}"#))
        .expect("static header names and plain values are valid")
}
