//! Every request's body is read before anything answers it.
//!
//! Hyper closes a keep-alive connection whose request body was left unread
//! when the response went out: a handler that takes no body (POST
//! …/rebalance with `{}`), or an answer given before the body is looked at
//! (a redirect to the leader, an unknown path, a bad path parameter). A
//! client that already put the connection back in its pool then fails its
//! next request with a disconnect, at random under load. Reading the body
//! first keeps every connection reusable; the API's bodies are small.

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;

/// The largest body read (axum's own limit for JSON bodies).
const MAX_BODY: usize = 2 << 20;

pub fn read_first(router: Router) -> Router {
    router.layer(middleware::from_fn(read_body))
}

async fn read_body(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    match to_bytes(body, MAX_BODY).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(_) => (
            StatusCode::PAYLOAD_TOO_LARGE,
            [(axum::http::header::CONNECTION, "close")],
            "request body too large or broken",
        )
            .into_response(),
    }
}
