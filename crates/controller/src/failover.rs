//! Failovers: automatic (the probe loop found a master dead) here, manual
//! (graceful) in `manual_failover`. Both end the same way: the replica
//! becomes the shard's master in the model, the version goes up, the
//! topology is pushed, and the attempt is recorded in the history.

use crate::api::{blocking, ApiError, App};
use crate::driver;
use crate::model::{Cluster, Role};
use crate::nodeinfo::Probe;
use crate::status::{now_ms, FailoverKind, FailoverRecord};
use axum::http::StatusCode;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

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

pub(crate) async fn store_update(
    app: &Arc<App>,
    ns: &str,
    cluster: &Cluster,
) -> Result<(), ApiError> {
    let (meta, ns, c) = (app.meta.clone(), ns.to_string(), cluster.clone());
    blocking(move || meta.update_cluster(&ns, &c)).await
}

pub(crate) async fn record(app: &Arc<App>, ns: &str, cluster: &str, rec: FailoverRecord) {
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
