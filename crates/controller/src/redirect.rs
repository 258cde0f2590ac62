//! Followers do not serve the API: every `/api/...` request on a controller
//! that is not the leader is answered with a 307 to the same path and query
//! on the leader (a 307 keeps the method and body, so POSTs replay), or a
//! 503 while no leader is known. The dashboard pages go to the leader too:
//! their script calls `/api/` on the page's own origin, and a browser
//! refuses a cross-origin redirect of those calls. `/metrics` stays local,
//! so every controller reports its own `leader` gauge.

use crate::status::Status;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::json;
use std::sync::Arc;

pub const NO_LEADER: &str = "no leader elected yet";

/// Wraps every route of `router` (call it on the finished router).
pub fn to_leader(router: Router, status: Arc<Status>) -> Router {
    router.layer(middleware::from_fn_with_state(status, redirect))
}

async fn redirect(State(status): State<Arc<Status>>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let leader_only = path.starts_with("/api/") || path == "/" || path == "/dashboard";
    if !leader_only || status.leadership.is_leader() {
        return next.run(req).await;
    }
    let Some(leader) = status.leadership.leader_addr() else {
        let body = json!({ "error": { "message": NO_LEADER } });
        return (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
    };
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let location = format!("http://{leader}{path}");
    // A body too, for clients that do not follow redirects.
    let body = json!({ "error": { "message": format!("not the leader; the leader is {leader}") } });
    (
        StatusCode::TEMPORARY_REDIRECT,
        [(header::LOCATION, location)],
        Json(body),
    )
        .into_response()
}
