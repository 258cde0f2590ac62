//! The web dashboard at `/` and `/dashboard`: one static HTML page, built
//! into the binary, whose script reads the JSON API (namespaces, clusters,
//! health, migrations, failovers) and redraws every few seconds. No build
//! step and nothing fetched from elsewhere, so it works on an offline host.

use crate::api::App;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use std::sync::Arc;

const PAGE: &str = include_str!("dashboard.html");

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(page))
        .route("/dashboard", get(page))
}

async fn page() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // The page changes with the binary; never serve a stale one.
            (header::CACHE_CONTROL, "no-cache"),
        ],
        PAGE,
    )
}
