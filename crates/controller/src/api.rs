//! The HTTP JSON API, on kvrocks-controller's v1 paths: `{"data": ...}` on
//! success, `{"error": {"message": ...}}` with a 4xx/5xx status otherwise.

use crate::driver::{self, DriverError};
use crate::meta::{Meta, MetaError};
use crate::model::{Cluster, ModelError};
use crate::status::Status;
use crate::store::StoreError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

pub struct App {
    pub meta: Meta,
    /// Serialises changes: the store's check-then-set is not atomic, and
    /// two creations racing for the same nodes must not both push.
    pub writes: tokio::sync::Mutex<()>,
    /// Health, failover history, migration jobs, leadership.
    pub status: Arc<Status>,
}

impl App {
    pub fn new(meta: Meta, status: Arc<Status>) -> Arc<App> {
        Arc::new(App {
            meta,
            writes: tokio::sync::Mutex::new(()),
            status,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Meta(#[from] MetaError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("{0}")]
    BadBody(String),
    #[error("{}", join(.0))]
    NodesRefused(Vec<DriverError>),
    #[error(transparent)]
    Failover(#[from] crate::failover::FailoverError),
    #[error("cluster {cluster:?} is stored, but pushing its topology failed: {}", join(.errors))]
    PushFailed {
        cluster: String,
        errors: Vec<DriverError>,
    },
}

fn join(errors: &[DriverError]) -> String {
    errors
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::Meta(MetaError::NamespaceNotFound(_) | MetaError::ClusterNotFound(_)) => {
                StatusCode::NOT_FOUND
            }
            ApiError::Meta(
                MetaError::NamespaceExists(_)
                | MetaError::ClusterExists(_)
                | MetaError::NamespaceNotEmpty(_),
            ) => StatusCode::CONFLICT,
            ApiError::Meta(MetaError::InvalidName(_))
            | ApiError::Model(_)
            | ApiError::BadBody(_)
            | ApiError::NodesRefused(_) => StatusCode::BAD_REQUEST,
            ApiError::Failover(e) => e.status(),
            // A deposed leader's write: retry against the new leader.
            ApiError::Meta(MetaError::Store(StoreError::NotLeader)) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Meta(_) | ApiError::PushFailed { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "message": self.to_string() } });
        (self.status(), Json(body)).into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> ApiError {
        ApiError::BadBody(r.body_text())
    }
}

pub(crate) fn data(status: StatusCode, value: Value) -> Response {
    (status, Json(json!({ "data": value }))).into_response()
}

pub(crate) type Reply = Result<Response, ApiError>;

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route(
            "/api/v1/namespaces",
            get(list_namespaces).post(create_namespace),
        )
        .route("/api/v1/namespaces/{ns}", delete(delete_namespace))
        .route(
            "/api/v1/namespaces/{ns}/clusters",
            get(list_clusters).post(create_cluster),
        )
        .route(
            "/api/v1/namespaces/{ns}/clusters/{cluster}",
            get(get_cluster),
        )
        .merge(crate::api_status::routes())
        .merge(crate::metrics::routes())
        .merge(crate::dashboard::routes())
        .merge(crate::api_scale::routes())
        .merge(crate::manual_failover::routes())
        .with_state(app)
}

/// The store is synchronous file I/O: keep it off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, MetaError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .expect("metadata task panicked")
        .map_err(ApiError::from)
}

async fn list_namespaces(State(app): State<Arc<App>>) -> Reply {
    let meta = app.meta.clone();
    let names = blocking(move || meta.namespaces()).await?;
    Ok(data(StatusCode::OK, json!({ "namespaces": names })))
}

#[derive(Deserialize)]
struct NamespaceBody {
    namespace: String,
}

async fn create_namespace(
    State(app): State<Arc<App>>,
    body: Result<Json<NamespaceBody>, JsonRejection>,
) -> Reply {
    let Json(body) = body?;
    let _guard = app.writes.lock().await;
    let meta = app.meta.clone();
    blocking(move || meta.create_namespace(&body.namespace)).await?;
    Ok(data(StatusCode::CREATED, json!("created")))
}

async fn delete_namespace(State(app): State<Arc<App>>, Path(ns): Path<String>) -> Reply {
    let _guard = app.writes.lock().await;
    let meta = app.meta.clone();
    blocking(move || meta.delete_namespace(&ns)).await?;
    Ok(data(StatusCode::OK, json!("ok")))
}

async fn list_clusters(State(app): State<Arc<App>>, Path(ns): Path<String>) -> Reply {
    let meta = app.meta.clone();
    let names = blocking(move || meta.clusters(&ns)).await?;
    Ok(data(StatusCode::OK, json!({ "clusters": names })))
}

async fn get_cluster(
    State(app): State<Arc<App>>,
    Path((ns, name)): Path<(String, String)>,
) -> Reply {
    let meta = app.meta.clone();
    let cluster = blocking(move || meta.cluster(&ns, &name)).await?;
    Ok(data(StatusCode::OK, json!({ "cluster": cluster })))
}

#[derive(Deserialize)]
struct ClusterBody {
    name: String,
    nodes: Vec<String>,
    #[serde(default)]
    replicas: usize,
    #[serde(default)]
    password: String,
}

/// Builds the model, checks every node can join, stores the cluster, then
/// pushes its topology (version 1) to every node.
async fn create_cluster(
    State(app): State<Arc<App>>,
    Path(ns): Path<String>,
    body: Result<Json<ClusterBody>, JsonRejection>,
) -> Reply {
    let Json(body) = body?;
    let cluster = Cluster::create(&body.name, &body.nodes, body.replicas, &body.password)?;
    let _guard = app.writes.lock().await;
    let meta = app.meta.clone();
    let (ns2, name) = (ns.clone(), cluster.name.clone());
    // Refuse early (before touching nodes) when the name is taken.
    match blocking(move || meta.cluster(&ns2, &name)).await {
        Ok(_) => return Err(MetaError::ClusterExists(cluster.name.clone()).into()),
        Err(ApiError::Meta(MetaError::ClusterNotFound(_))) => {}
        Err(e) => return Err(e),
    }
    let refused = driver::check_all_fresh(&cluster).await;
    if !refused.is_empty() {
        return Err(ApiError::NodesRefused(refused));
    }
    let meta = app.meta.clone();
    let stored = cluster.clone();
    blocking(move || meta.create_cluster(&ns, &stored)).await?;
    let errors = driver::push_topology(&cluster).await;
    if !errors.is_empty() {
        return Err(ApiError::PushFailed {
            cluster: cluster.name,
            errors,
        });
    }
    tracing::info!(cluster = %cluster.name, shards = cluster.shards.len(), "cluster created");
    Ok(data(StatusCode::CREATED, json!({ "cluster": cluster })))
}
