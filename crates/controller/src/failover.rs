//! Failovers: automatic (the probe loop found a master dead) and manual
//! (`POST .../shards/{i}/failover`, graceful: writes paused until the
//! chosen replica has everything). Both end the same way: the replica
//! becomes the shard's master in the model, the version goes up, the
//! topology is pushed, and the attempt is recorded in the history.

use crate::api::{blocking, data, ApiError, App};
use crate::driver;
use crate::model::{Cluster, Role};
use crate::nodeinfo::{self, Conn, Probe};
use crate::status::{now_ms, FailoverKind, FailoverRecord};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use serde::Deserialize;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a manual failover waits for the replica to catch up.
pub const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(10);
/// The pause a manual failover sets on the master: longer than the wait,
/// and it still ends by itself should the controller die meanwhile.
const PAUSE_MS: u64 = 15_000;
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum FailoverError {
    #[error("shard {0:?} not found")]
    ShardNotFound(String),
    #[error("shard {0} has no replica")]
    NoReplica(usize),
    #[error("node {0:?} is not a replica of shard {1}")]
    NotAReplica(String, usize),
    #[error("shard {0} has no master")]
    NoMaster(usize),
    #[error("no replica of shard {0} can take over: {1}")]
    NoCandidate(usize, String),
    #[error("master {addr}: {message}")]
    Master { addr: String, message: String },
    #[error("replica {replica} did not catch up with master {master} within {timeout:?} (replica at {replica_offset}, master at {master_offset}); writes resumed, nothing changed")]
    NotCaughtUp {
        replica: String,
        master: String,
        timeout: Duration,
        replica_offset: i64,
        master_offset: i64,
    },
    #[error("cluster changed during the failover (version {0} became {1}); writes resumed, nothing changed")]
    Changed(i64, i64),
    #[error("metadata store: {0}")]
    Store(String),
    #[error("the model now has {new_master} as master of shard {shard}, but pushing the topology failed: {errors}")]
    PushFailed {
        shard: usize,
        new_master: String,
        errors: String,
    },
}

impl FailoverError {
    pub fn status(&self) -> StatusCode {
        match self {
            FailoverError::ShardNotFound(_) => StatusCode::NOT_FOUND,
            FailoverError::NoReplica(_)
            | FailoverError::NotAReplica(..)
            | FailoverError::NoMaster(_) => StatusCode::BAD_REQUEST,
            FailoverError::NoCandidate(..)
            | FailoverError::NotCaughtUp { .. }
            | FailoverError::Changed(..) => StatusCode::CONFLICT,
            FailoverError::Master { .. } => StatusCode::BAD_GATEWAY,
            FailoverError::Store(_) | FailoverError::PushFailed { .. } => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

/// Makes node `new_master` the master of shard `shard`: the old master
/// and the other replicas follow it. The new master moves first, where
/// cluster creation puts masters. Returns the old master's address.
pub fn promote(cluster: &mut Cluster, shard: usize, new_master: &str) -> Option<String> {
    let s = cluster.shards.get_mut(shard)?;
    let pos = s.nodes.iter().position(|n| n.id == new_master)?;
    let old = s.master().map(|m| m.addr.clone()).unwrap_or_default();
    for n in &mut s.nodes {
        n.role = if n.id == new_master {
            Role::Master
        } else {
            Role::Slave
        };
    }
    let node = s.nodes.remove(pos);
    s.nodes.insert(0, node);
    cluster.version += 1;
    Some(old)
}

/// The replica to promote: up, not loading, with the highest replication
/// offset. `probes` holds the last successful probe of each node by id.
pub fn best_replica<'a>(
    cluster: &'a Cluster,
    shard: usize,
    probes: &HashMap<String, Probe>,
) -> Result<&'a crate::model::Node, String> {
    let replicas: Vec<_> = cluster.shards[shard]
        .nodes
        .iter()
        .filter(|n| n.role == Role::Slave)
        .collect();
    if replicas.is_empty() {
        return Err("the shard has no replica".into());
    }
    replicas
        .into_iter()
        .filter_map(|n| probes.get(&n.id).map(|p| (n, p)))
        .filter(|(_, p)| !p.loading)
        .max_by_key(|(_, p)| p.offset)
        .map(|(n, _)| n)
        .ok_or_else(|| "no replica is up and done loading".into())
}

async fn store_update(app: &Arc<App>, ns: &str, cluster: &Cluster) -> Result<(), ApiError> {
    let (meta, ns, c) = (app.meta.clone(), ns.to_string(), cluster.clone());
    blocking(move || meta.update_cluster(&ns, &c)).await
}

async fn record(app: &Arc<App>, ns: &str, cluster: &str, rec: FailoverRecord) {
    let (status, ns, cluster) = (app.status.clone(), ns.to_string(), cluster.to_string());
    let stored = tokio::task::spawn_blocking(move || status.record_failover(&ns, &cluster, rec))
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string()));
    if let Err(e) = stored {
        tracing::error!(error = %e, "cannot store the failover history");
    }
}

/// The probe loop's failover of shard `shard`, whose master `master_id`
/// failed its probes. `reported` keeps masters whose failed failover is
/// already in the history, so a shard with no replica up is recorded once
/// per outage, not once per round.
pub async fn auto_failover(
    app: &Arc<App>,
    ns: &str,
    name: &str,
    shard: usize,
    master_id: &str,
    probes: &HashMap<String, Probe>,
    reported: &mut HashSet<String>,
) {
    let started = now_ms();
    let _guard = app.writes.lock().await;
    let meta = app.meta.clone();
    let (ns2, name2) = (ns.to_string(), name.to_string());
    let mut cluster = match blocking(move || meta.cluster(&ns2, &name2)).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(cluster = name, error = %e, "failover: cannot read the cluster");
            return;
        }
    };
    // Someone (a manual failover, another controller) got there first.
    let Some(master) = cluster.shards.get(shard).and_then(|s| s.master()).cloned() else {
        return;
    };
    if master.id != master_id {
        return;
    }
    let mut rec = FailoverRecord {
        shard,
        kind: FailoverKind::Auto,
        old_master: master.addr.clone(),
        new_master: String::new(),
        started_ms: started,
        finished_ms: 0,
        ok: false,
        message: String::new(),
        version: cluster.version,
    };
    let chosen = match best_replica(&cluster, shard, probes) {
        Ok(n) => n.clone(),
        Err(why) => {
            if reported.insert(master_id.to_string()) {
                tracing::error!(cluster = name, shard, master = %master.addr, reason = %why, "master is down and cannot be failed over");
                rec.finished_ms = now_ms();
                rec.message = why;
                record(app, ns, name, rec).await;
            }
            return;
        }
    };
    let offset = probes.get(&chosen.id).map(|p| p.offset).unwrap_or(0);
    promote(&mut cluster, shard, &chosen.id);
    if let Err(e) = store_update(app, ns, &cluster).await {
        tracing::error!(cluster = name, error = %e, "failover: cannot store the new topology");
        return;
    }
    let errors = driver::push_topology(&cluster).await;
    // The dead master is expected to refuse; anyone else is re-pushed by
    // the probe loop once it answers.
    let others: Vec<String> = errors
        .iter()
        .map(|e| e.to_string())
        .filter(|e| !e.starts_with(&format!("node {}:", master.addr)))
        .collect();
    tracing::warn!(cluster = name, shard, old_master = %master.addr, new_master = %chosen.addr,
        offset, version = cluster.version, push_errors = ?others, "automatic failover done");
    reported.remove(master_id);
    rec.new_master = chosen.addr.clone();
    rec.ok = true;
    rec.version = cluster.version;
    rec.finished_ms = now_ms();
    rec.message = format!("promoted replica at offset {offset}");
    record(app, ns, name, rec).await;
}

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
    let result = graceful(&app, &ns, cluster, index, &body.preferred_node_id).await;
    let (old_master, new_master, version, ok, message) = match &result {
        Ok(done) => (
            done.old_master.clone(),
            done.new_master.clone(),
            done.version,
            true,
            String::new(),
        ),
        Err(Failed { old_master, error }) => (
            old_master.clone(),
            String::new(),
            0,
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

fn master_err(master: &crate::model::Node, message: String) -> FailoverError {
    FailoverError::Master {
        addr: master.addr.clone(),
        message,
    }
}

/// Pauses writes on the master and waits until the replica is linked and
/// its offset equals the master's twice in a row (a write that passed the
/// pause just before it began has landed by then). Unpauses on failure.
fn pause_until_caught_up(
    master: &crate::model::Node,
    replica: &crate::model::Node,
) -> Result<(), FailoverError> {
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

fn unpause(master: &crate::model::Node) -> Result<(), String> {
    let mut m = Conn::open(&master.addr, &master.password, PROBE_TIMEOUT)?;
    m.query::<()>(redis::cmd("CLIENT").arg("UNPAUSE"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster() -> Cluster {
        let addrs: Vec<String> = (0..6).map(|i| format!("127.0.0.1:{}", 7001 + i)).collect();
        Cluster::create("c", &addrs, 3, "").unwrap()
    }

    fn up(offset: i64, loading: bool) -> Probe {
        Probe {
            offset,
            loading,
            ..Probe::default()
        }
    }

    #[test]
    fn promotes_the_replica_with_the_highest_offset_that_is_up() {
        let mut c = cluster();
        let s = &c.shards[1];
        let (m, r1, r2) = (s.nodes[0].clone(), s.nodes[1].clone(), s.nodes[2].clone());
        let mut probes = HashMap::new();
        assert!(best_replica(&c, 1, &probes).is_err());
        probes.insert(r1.id.clone(), up(10, false));
        probes.insert(r2.id.clone(), up(20, true));
        assert_eq!(best_replica(&c, 1, &probes).unwrap().id, r1.id);
        probes.insert(r2.id.clone(), up(20, false));
        assert_eq!(best_replica(&c, 1, &probes).unwrap().id, r2.id);

        let old = promote(&mut c, 1, &r2.id).unwrap();
        assert_eq!(old, m.addr);
        assert_eq!(c.version, 2);
        let s = &c.shards[1];
        assert_eq!(s.nodes[0].id, r2.id);
        assert_eq!(s.master().unwrap().id, r2.id);
        assert_eq!(s.nodes.iter().filter(|n| n.role == Role::Master).count(), 1);
        let lines = c.setnodes_lines();
        assert!(lines.contains(&format!("{} 127.0.0.1 7004 slave {}\n", m.id, r2.id)));
        assert!(promote(&mut c, 1, "nope").is_none());
    }
}
