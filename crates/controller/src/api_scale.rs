//! The scaling rows of the HTTP API: cluster delete, shards and nodes
//! added and removed, slot migration and rebalance. Each change is a
//! read-modify-write-push of the cluster document under `App.writes`.

use crate::api::{blocking, data, ApiError, App};
use crate::driver;
use crate::meta::MetaError;
use crate::migration;
use crate::model::{Cluster, Role, SlotRange};
use crate::scale::{rebalance_plan, ScaleError};
use crate::status::{now_ms, MigrationState};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

const CLUSTER: &str = "/api/v1/namespaces/{ns}/clusters/{cluster}";

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route(CLUSTER, delete(delete_cluster))
        .route(&format!("{CLUSTER}/shards"), post(add_shard))
        .route(&format!("{CLUSTER}/shards/{{shard}}"), delete(remove_shard))
        .route(&format!("{CLUSTER}/shards/{{shard}}/nodes"), post(add_node))
        .route(
            &format!("{CLUSTER}/shards/{{shard}}/nodes/{{id}}"),
            delete(remove_node),
        )
        .route(&format!("{CLUSTER}/migrate"), post(migrate))
        .route(&format!("{CLUSTER}/rebalance"), post(rebalance))
}

#[derive(Debug, thiserror::Error)]
pub enum ScaleApiError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Scale(#[from] ScaleError),
    #[error("a migration job is queued or running on cluster {0:?}: wait for it to end")]
    Busy(String),
}

impl From<MetaError> for ScaleApiError {
    fn from(e: MetaError) -> Self {
        ScaleApiError::Api(e.into())
    }
}

impl From<JsonRejection> for ScaleApiError {
    fn from(e: JsonRejection) -> Self {
        ScaleApiError::Api(e.into())
    }
}

impl ScaleApiError {
    fn status(&self) -> StatusCode {
        match self {
            ScaleApiError::Scale(ScaleError::NoShard(_) | ScaleError::NoNode(_)) => {
                StatusCode::NOT_FOUND
            }
            ScaleApiError::Scale(
                ScaleError::ShardHasSlots(_) | ScaleError::IsMaster(_) | ScaleError::NodeExists(_),
            )
            | ScaleApiError::Busy(_) => StatusCode::CONFLICT,
            ScaleApiError::Scale(_) => StatusCode::BAD_REQUEST,
            // Answered by ApiError itself.
            ScaleApiError::Api(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ScaleApiError {
    fn into_response(self) -> Response {
        match self {
            ScaleApiError::Api(e) => e.into_response(),
            other => {
                let body = json!({ "error": { "message": other.to_string() } });
                (other.status(), Json(body)).into_response()
            }
        }
    }
}

type Reply = Result<Response, ScaleApiError>;

async fn load(app: &App, ns: &str, name: &str) -> Result<Cluster, ScaleApiError> {
    let meta = app.meta.clone();
    let (ns, name) = (ns.to_string(), name.to_string());
    Ok(blocking(move || meta.cluster(&ns, &name)).await?)
}

/// Stores the changed cluster, then pushes it to every node it lists.
async fn store_and_push(app: &App, ns: &str, cluster: &Cluster) -> Result<(), ScaleApiError> {
    let meta = app.meta.clone();
    let (ns, stored) = (ns.to_string(), cluster.clone());
    blocking(move || meta.update_cluster(&ns, &stored)).await?;
    let errors = driver::push_topology(cluster).await;
    if !errors.is_empty() {
        return Err(ApiError::PushFailed {
            cluster: cluster.name.clone(),
            errors,
        }
        .into());
    }
    Ok(())
}

/// New nodes must be in cluster mode without a topology, as at creation.
async fn check_fresh(
    cluster: &Cluster,
    shard: usize,
    nodes: &[String],
) -> Result<(), ScaleApiError> {
    let mut probe = cluster.clone();
    probe.shards = vec![cluster.shards[shard].clone()];
    probe.shards[0].nodes.retain(|n| nodes.contains(&n.addr));
    let refused = driver::check_all_fresh(&probe).await;
    if !refused.is_empty() {
        return Err(ApiError::NodesRefused(refused).into());
    }
    Ok(())
}

/// A shard index in a path; anything else is a 400 in our JSON shape
/// (axum's own path rejection would answer plain text).
fn shard_index(text: &str) -> Result<usize, ScaleError> {
    text.parse()
        .map_err(|_| ScaleError::Invalid(format!("invalid shard index {text:?}")))
}

fn refuse_if_busy(app: &App, ns: &str, name: &str) -> Result<(), ScaleApiError> {
    if migration::busy(&app.status.migrations(ns, name)) {
        return Err(ScaleApiError::Busy(name.to_string()));
    }
    Ok(())
}

/// Forgets the cluster; its nodes keep their topology (as
/// kvrocks-controller). Refused while a migration job is queued or running.
async fn delete_cluster(
    State(app): State<Arc<App>>,
    Path((ns, name)): Path<(String, String)>,
) -> Reply {
    let _guard = app.writes.lock().await;
    refuse_if_busy(&app, &ns, &name)?;
    let meta = app.meta.clone();
    let (ns2, name2) = (ns.clone(), name.clone());
    blocking(move || meta.delete_cluster(&ns2, &name2)).await?;
    app.status.forget_cluster(&ns, &name);
    tracing::info!(%ns, cluster = %name, "cluster deleted");
    Ok(data(StatusCode::OK, json!("ok")))
}

#[derive(Deserialize)]
struct ShardBody {
    nodes: Vec<String>,
    #[serde(default)]
    password: String,
}

async fn add_shard(
    State(app): State<Arc<App>>,
    Path((ns, name)): Path<(String, String)>,
    body: Result<Json<ShardBody>, JsonRejection>,
) -> Reply {
    let Json(body) = body?;
    let _guard = app.writes.lock().await;
    let mut cluster = load(&app, &ns, &name).await?;
    let index = cluster.add_shard(&body.nodes, &body.password)?;
    check_fresh(&cluster, index, &body.nodes).await?;
    store_and_push(&app, &ns, &cluster).await?;
    tracing::info!(cluster = %name, shard = index, version = cluster.version, "shard added");
    Ok(data(StatusCode::CREATED, json!({ "shard": index })))
}

/// Shard indexes shift down after a removal, so queued jobs (which name
/// shards by index) forbid it.
async fn remove_shard(
    State(app): State<Arc<App>>,
    Path((ns, name, shard)): Path<(String, String, String)>,
) -> Reply {
    let shard = shard_index(&shard)?;
    let _guard = app.writes.lock().await;
    let mut cluster = load(&app, &ns, &name).await?;
    refuse_if_busy(&app, &ns, &name)?;
    cluster.remove_shard(shard)?;
    store_and_push(&app, &ns, &cluster).await?;
    tracing::info!(cluster = %name, shard, version = cluster.version, "shard removed");
    Ok(data(StatusCode::OK, json!("ok")))
}

#[derive(Deserialize)]
struct NodeBody {
    addr: String,
    #[serde(default = "slave")]
    role: String,
    #[serde(default)]
    password: String,
}

fn slave() -> String {
    "slave".into()
}

async fn add_node(
    State(app): State<Arc<App>>,
    Path((ns, name, shard)): Path<(String, String, String)>,
    body: Result<Json<NodeBody>, JsonRejection>,
) -> Reply {
    let shard = shard_index(&shard)?;
    let Json(body) = body?;
    if body.role != "slave" {
        return Err(ScaleError::Invalid(format!(
            "a node joins a shard as a slave (role {:?} asked): fail over to make it master",
            body.role
        ))
        .into());
    }
    let _guard = app.writes.lock().await;
    let mut cluster = load(&app, &ns, &name).await?;
    let node = cluster.add_replica(shard, &body.addr, &body.password)?;
    check_fresh(&cluster, shard, std::slice::from_ref(&body.addr)).await?;
    store_and_push(&app, &ns, &cluster).await?;
    tracing::info!(cluster = %name, shard, addr = %node.addr, "replica added");
    Ok(data(StatusCode::CREATED, json!({ "node": node })))
}

async fn remove_node(
    State(app): State<Arc<App>>,
    Path((ns, name, shard, id)): Path<(String, String, String, String)>,
) -> Reply {
    let shard = shard_index(&shard)?;
    let _guard = app.writes.lock().await;
    let mut cluster = load(&app, &ns, &name).await?;
    let node = cluster.remove_node(shard, &id)?;
    debug_assert_eq!(node.role, Role::Slave);
    store_and_push(&app, &ns, &cluster).await?;
    tracing::info!(cluster = %name, shard, addr = %node.addr, "replica removed");
    Ok(data(StatusCode::OK, json!("ok")))
}

#[derive(Deserialize)]
struct MigrateBody {
    target: usize,
    /// `"a-b"`, `"a"` or a number.
    slot: Value,
    #[serde(default)]
    slot_only: bool,
}

fn parse_slot(v: &Value) -> Result<SlotRange, ScaleError> {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    SlotRange::parse(&text).ok_or_else(|| {
        ScaleError::Invalid(format!(
            "invalid slot {v}: a slot or range a-b within 0-16383"
        ))
    })
}

async fn migrate(
    State(app): State<Arc<App>>,
    Path((ns, name)): Path<(String, String)>,
    body: Result<Json<MigrateBody>, JsonRejection>,
) -> Reply {
    let Json(body) = body?;
    let range = parse_slot(&body.slot)?;
    let guard = app.writes.lock().await;
    let mut cluster = load(&app, &ns, &name).await?;
    refuse_if_busy(&app, &ns, &name)?;
    let source = cluster.check_move(range, body.target)?;
    let mut job = migration::pending_job(
        &app.status.migrations(&ns, &name),
        range,
        source,
        body.target,
    );
    if body.slot_only {
        cluster.move_slots(range, body.target)?;
        store_and_push(&app, &ns, &cluster).await?;
        job.state = MigrationState::Success;
        job.started_ms = now_ms();
        job.finished_ms = job.started_ms;
        job.message = "slot_only: ownership moved, no data".into();
        app.status.upsert_migration(&ns, &name, job.clone());
        return Ok(data(StatusCode::OK, json!({ "migration": job })));
    }
    app.status.upsert_migration(&ns, &name, job.clone());
    drop(guard);
    migration::spawn_queue(app.clone(), ns, name, vec![job.clone()]);
    Ok(data(StatusCode::ACCEPTED, json!({ "migration": job })))
}

/// Queues the moves that spread the slots evenly; they run one after
/// another in the background.
async fn rebalance(State(app): State<Arc<App>>, Path((ns, name)): Path<(String, String)>) -> Reply {
    let guard = app.writes.lock().await;
    let cluster = load(&app, &ns, &name).await?;
    refuse_if_busy(&app, &ns, &name)?;
    let mut jobs = Vec::new();
    for m in rebalance_plan(&cluster) {
        let mut existing = app.status.migrations(&ns, &name);
        existing.extend(jobs.iter().cloned());
        let job = migration::pending_job(&existing, m.range, m.source, m.target);
        app.status.upsert_migration(&ns, &name, job.clone());
        jobs.push(job);
    }
    drop(guard);
    let status = if jobs.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    let answer = json!({ "migrations": jobs });
    migration::spawn_queue(app.clone(), ns, name, jobs);
    Ok(data(status, answer))
}
