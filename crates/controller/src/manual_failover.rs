//! The manual failover, `POST .../shards/{i}/failover`: graceful, nothing
//! acknowledged is lost. Writes are paused on the master until the chosen
//! replica has all of them, then the roles are switched and the held
//! writes go on (redirected to the new master).

use crate::api::{blocking, data, ApiError, App};
use crate::driver;
use crate::failover::{best_replica, promote, record, store_update, FailoverError};
use crate::model::{Cluster, Node, Role};
use crate::nodeinfo::{self, Conn};
use crate::status::{now_ms, FailoverKind, FailoverRecord};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a manual failover waits for the replica to catch up.
pub const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(10);
/// The pause a manual failover sets on the master: longer than the wait,
/// and it still ends by itself should the controller die meanwhile.
const PAUSE_MS: u64 = 15_000;
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

pub fn routes() -> Router<Arc<App>> {
    Router::new().route(
        "/api/v1/namespaces/{ns}/clusters/{cluster}/shards/{shard}/failover",
        post(manual_failover),
    )
}

#[derive(Deserialize, Default)]
struct FailoverBody {
    #[serde(default)]
    preferred_node_id: String,
}

async fn manual_failover(
    State(app): State<Arc<App>>,
    Path((ns, name, shard)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<axum::response::Response, ApiError> {
    let body: FailoverBody = if body.iter().all(u8::is_ascii_whitespace) {
        FailoverBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::BadBody(e.to_string()))?
    };
    let meta = app.meta.clone();
    let (ns2, name2) = (ns.clone(), name.clone());
    let cluster = blocking(move || meta.cluster(&ns2, &name2)).await?;
    let index = shard
        .parse::<usize>()
        .ok()
        .filter(|i| *i < cluster.shards.len())
        .ok_or(FailoverError::ShardNotFound(shard))?;
    let started = now_ms();
    let version_before = cluster.version;
    let result = graceful(&app, &ns, cluster, index, &body.preferred_node_id).await;
    let (old_master, new_master, version, ok, message) = match &result {
        Ok(done) => (
            done.old_master.clone(),
            done.new_master.clone(),
            done.version,
            true,
            if done.push_errors.is_empty() {
                String::new()
            } else {
                format!(
                    "pushing the topology failed: {}",
                    done.push_errors.join("; ")
                )
            },
        ),
        Err(Failed { old_master, error }) => (
            old_master.clone(),
            String::new(),
            version_before,
            false,
            error.to_string(),
        ),
    };
    record(
        &app,
        &ns,
        &name,
        FailoverRecord {
            shard: index,
            kind: FailoverKind::Manual,
            old_master,
            new_master,
            started_ms: started,
            finished_ms: now_ms(),
            ok,
            message,
            version,
        },
    )
    .await;
    match result {
        Ok(done) => {
            if !done.push_errors.is_empty() {
                return Err(FailoverError::PushFailed {
                    shard: index,
                    new_master: done.new_master,
                    errors: done.push_errors.join("; "),
                }
                .into());
            }
            Ok(data(
                StatusCode::OK,
                json!({"new_master_id": done.new_master_id, "new_master": done.new_master}),
            ))
        }
        Err(f) => Err(f.error.into()),
    }
}

struct Done {
    old_master: String,
    new_master: String,
    new_master_id: String,
    version: i64,
    push_errors: Vec<String>,
}

struct Failed {
    old_master: String,
    error: FailoverError,
}

/// Pause writes on the master, wait until the replica has all of them,
/// switch the roles, let the writes go (to be redirected to the new
/// master).
async fn graceful(
    app: &Arc<App>,
    ns: &str,
    cluster: Cluster,
    index: usize,
    preferred: &str,
) -> Result<Done, Failed> {
    let shard = &cluster.shards[index];
    let master = shard.master().cloned();
    let old_master = master.as_ref().map(|m| m.addr.clone()).unwrap_or_default();
    let fail = |error: FailoverError| Failed {
        old_master: old_master.clone(),
        error,
    };
    let master = master.ok_or_else(|| fail(FailoverError::NoMaster(index)))?;
    let replicas: Vec<_> = shard
        .nodes
        .iter()
        .filter(|n| n.role == Role::Slave)
        .cloned()
        .collect();
    if replicas.is_empty() {
        return Err(fail(FailoverError::NoReplica(index)));
    }
    let chosen = if preferred.is_empty() {
        let mut probes = HashMap::new();
        let tasks: Vec<_> = replicas
            .iter()
            .cloned()
            .map(|n| {
                tokio::task::spawn_blocking(move || {
                    (n.id.clone(), nodeinfo::probe(&n, PROBE_TIMEOUT))
                })
            })
            .collect();
        for t in tasks {
            if let Ok((id, Ok(p))) = t.await {
                probes.insert(id, p);
            }
        }
        best_replica(&cluster, index, &probes)
            .map_err(|why| fail(FailoverError::NoCandidate(index, why)))?
            .clone()
    } else {
        replicas
            .iter()
            .find(|n| n.id == preferred)
            .cloned()
            .ok_or_else(|| fail(FailoverError::NotAReplica(preferred.to_string(), index)))?
    };

    let (m, r) = (master.clone(), chosen.clone());
    tokio::task::spawn_blocking(move || pause_until_caught_up(&m, &r))
        .await
        .expect("catch-up task panicked")
        .map_err(fail)?;

    let switched = switch(app, ns, &cluster, index, &chosen.id).await;
    let m = master.clone();
    let unpaused = tokio::task::spawn_blocking(move || unpause(&m))
        .await
        .expect("unpause task panicked");
    if let Err(e) = unpaused {
        tracing::error!(master = %master.addr, error = %e, "cannot unpause the old master; its pause ends by itself");
    }
    let (version, push_errors) = switched.map_err(fail)?;
    tracing::warn!(cluster = %cluster.name, shard = index, old_master = %master.addr,
        new_master = %chosen.addr, version, "manual failover done");
    Ok(Done {
        old_master,
        new_master: chosen.addr,
        new_master_id: chosen.id,
        version,
        push_errors,
    })
}

/// Stores and pushes the promotion, unless the cluster changed since
/// `seen` was read.
async fn switch(
    app: &Arc<App>,
    ns: &str,
    seen: &Cluster,
    index: usize,
    new_master: &str,
) -> Result<(i64, Vec<String>), FailoverError> {
    let _guard = app.writes.lock().await;
    let meta = app.meta.clone();
    let (ns2, name) = (ns.to_string(), seen.name.clone());
    let mut cluster = blocking(move || meta.cluster(&ns2, &name))
        .await
        .map_err(|e| FailoverError::Store(e.to_string()))?;
    if cluster.version != seen.version {
        return Err(FailoverError::Changed(seen.version, cluster.version));
    }
    promote(&mut cluster, index, new_master);
    store_update(app, ns, &cluster)
        .await
        .map_err(|e| FailoverError::Store(e.to_string()))?;
    let errors = driver::push_topology(&cluster).await;
    Ok((
        cluster.version,
        errors.iter().map(|e| e.to_string()).collect(),
    ))
}

fn master_err(master: &Node, message: String) -> FailoverError {
    FailoverError::Master {
        addr: master.addr.clone(),
        message,
    }
}

/// Pauses writes on the master and waits until the replica is linked and
/// its offset equals the master's twice in a row (a write that passed the
/// pause just before it began has landed by then). Unpauses on failure.
fn pause_until_caught_up(master: &Node, replica: &Node) -> Result<(), FailoverError> {
    let mut m = Conn::open(&master.addr, &master.password, PROBE_TIMEOUT)
        .map_err(|e| master_err(master, e))?;
    m.query::<()>(redis::cmd("CLIENT").arg("PAUSE").arg(PAUSE_MS).arg("WRITE"))
        .map_err(|e| master_err(master, format!("CLIENT PAUSE: {e}")))?;
    let deadline = Instant::now() + CATCH_UP_TIMEOUT;
    let mut r: Option<Conn> = None;
    let (mut equal_once, mut last) = (false, (0, 0));
    loop {
        m.extend(PROBE_TIMEOUT);
        let master_offset = m.info().map(|i| i.offset());
        if r.is_none() {
            r = Conn::open(&replica.addr, &replica.password, PROBE_TIMEOUT).ok();
        }
        let replica_info = r.as_mut().map(|c| {
            c.extend(PROBE_TIMEOUT);
            c.info()
        });
        match (master_offset, replica_info) {
            (Ok(mo), Some(Ok(ri))) => {
                last = (ri.offset(), mo);
                let caught_up = ri.field("master_link_status") == Some("up") && ri.offset() == mo;
                if caught_up && equal_once {
                    return Ok(());
                }
                equal_once = caught_up;
            }
            (_, Some(Err(_))) => r = None,
            _ => {}
        }
        if Instant::now() >= deadline {
            let _ = m.query::<()>(redis::cmd("CLIENT").arg("UNPAUSE"));
            return Err(FailoverError::NotCaughtUp {
                replica: replica.addr.clone(),
                master: master.addr.clone(),
                timeout: CATCH_UP_TIMEOUT,
                replica_offset: last.0,
                master_offset: last.1,
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn unpause(master: &Node) -> Result<(), String> {
    let mut m = Conn::open(&master.addr, &master.password, PROBE_TIMEOUT)?;
    m.query::<()>(redis::cmd("CLIENT").arg("UNPAUSE"))
}
