//! The probe loop: while this controller leads, every interval it probes
//! every node of every cluster in parallel (INFO and CLUSTERX VERSION),
//! publishes their health, re-pushes the topology to nodes behind the
//! model, adopts a newer topology found on a node, and fails over a master
//! after `failure_threshold` failed probes in a row, unless too many
//! nodes look dead at once (safe mode).

use crate::adopt;
use crate::api::{blocking, App};
use crate::failover;
use crate::model::{Cluster, Node, Role};
use crate::nodeinfo::{self, Conn, Probe};
use crate::status::{now_ms, NodeHealth};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct ProbeConfig {
    pub interval: Duration,
    /// Consecutive failed probes before a master is failed over.
    pub failure_threshold: u32,
}

/// What the loop remembers between rounds (a new leader starts afresh).
#[derive(Default)]
struct LoopState {
    /// Consecutive failed probes by node id.
    failures: HashMap<String, u32>,
    /// Masters whose failed failover is already in the history.
    reported: HashSet<String>,
    /// (namespace, cluster, version) of topologies found on nodes and
    /// refused, so each is logged once, not every round.
    refused: HashSet<(String, String, i64)>,
}

/// Safe mode: at least half of the nodes, and more than one, failed the
/// same round. The controller is then more likely cut off than they dead.
pub fn safe_mode(failed: usize, total: usize) -> bool {
    failed > 1 && failed * 2 >= total
}

pub async fn run(app: Arc<App>, cfg: ProbeConfig) {
    let mut state = LoopState::default();
    let mut tick = tokio::time::interval(cfg.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if !app.status.leadership.is_leader() {
            state = LoopState::default();
            continue;
        }
        if let Err(e) = round(&app, &cfg, &mut state).await {
            tracing::warn!(error = %e, "probe round failed");
        }
    }
}

struct Probed {
    ns: String,
    cluster: Cluster,
    /// Per node in model order: shard index, node, probe.
    nodes: Vec<(usize, Node, Result<Probe, String>)>,
}

async fn load_all(app: &Arc<App>) -> Result<Vec<(String, Cluster)>, String> {
    let meta = app.meta.clone();
    blocking(move || {
        let mut all = Vec::new();
        for (ns, name) in meta.all_clusters()? {
            let c = meta.cluster(&ns, &name)?;
            all.push((ns, c));
        }
        Ok(all)
    })
    .await
    .map_err(|e| e.to_string())
}

async fn probe_all(clusters: Vec<(String, Cluster)>, timeout: Duration) -> Vec<Probed> {
    let tasks: Vec<Vec<_>> = clusters
        .iter()
        .map(|(_, c)| {
            c.shards
                .iter()
                .enumerate()
                .flat_map(|(si, s)| s.nodes.iter().map(move |n| (si, n.clone())))
                .map(|(si, n)| {
                    let probe_node = n.clone();
                    let task =
                        tokio::task::spawn_blocking(move || nodeinfo::probe(&probe_node, timeout));
                    (si, n, task)
                })
                .collect()
        })
        .collect();
    let mut out = Vec::new();
    for ((ns, cluster), tasks) in clusters.into_iter().zip(tasks) {
        let mut nodes = Vec::new();
        for (si, n, task) in tasks {
            let result = task.await.unwrap_or_else(|e| Err(e.to_string()));
            nodes.push((si, n, result));
        }
        out.push(Probed { ns, cluster, nodes });
    }
    out
}

async fn round(app: &Arc<App>, cfg: &ProbeConfig, state: &mut LoopState) -> Result<(), String> {
    let clusters = load_all(app).await?;
    let probed = probe_all(clusters, cfg.interval).await;
    let now = now_ms();

    let mut seen_ids = HashSet::new();
    let (mut total, mut failed) = (0, 0);
    for p in &probed {
        let mut health = Vec::new();
        for (shard, node, result) in &p.nodes {
            seen_ids.insert(node.id.clone());
            total += 1;
            let failures = match result {
                Ok(_) => {
                    if let Some(f) = state.failures.remove(&node.id) {
                        tracing::info!(cluster = %p.cluster.name, node = %node.addr, after = f, "node answers probes again");
                    }
                    state.reported.remove(&node.id);
                    0
                }
                Err(e) => {
                    failed += 1;
                    let f = state.failures.entry(node.id.clone()).or_insert(0);
                    *f += 1;
                    if *f == 1 {
                        tracing::warn!(cluster = %p.cluster.name, node = %node.addr, error = %e, "probe failed");
                    }
                    *f
                }
            };
            let ok = result.as_ref().ok();
            health.push(NodeHealth {
                id: node.id.clone(),
                addr: node.addr.clone(),
                role: match node.role {
                    Role::Master => "master".into(),
                    Role::Slave => "slave".into(),
                },
                shard: *shard,
                healthy: ok.is_some(),
                failures,
                offset: ok.map_or(0, |p| p.offset),
                used_memory: ok.map_or(0, |p| p.used_memory),
                used_disk: 0,
                loading: ok.is_some_and(|p| p.loading),
                version: ok.map_or(-1, |p| p.version),
                last_probe_ms: now,
                error: result.as_ref().err().cloned().unwrap_or_default(),
            });
        }
        app.status.set_health(&p.ns, &p.cluster.name, health);
    }
    state.failures.retain(|id, _| seen_ids.contains(id));
    state.reported.retain(|id| seen_ids.contains(id));

    let safe = safe_mode(failed, total);
    if safe != app.status.safe_mode() {
        if safe {
            tracing::error!(failed, total, "safe mode on: too many nodes unreachable at once, no automatic failover until they answer again");
        } else {
            tracing::warn!(failed, total, "safe mode off");
        }
        app.status.set_safe_mode(safe);
    }

    for p in &probed {
        let ok: HashMap<String, Probe> = p
            .nodes
            .iter()
            .filter_map(|(_, n, r)| r.as_ref().ok().map(|pr| (n.id.clone(), pr.clone())))
            .collect();
        let behind: Vec<String> = p
            .nodes
            .iter()
            .filter(|(_, _, r)| matches!(r, Ok(pr) if pr.version < p.cluster.version))
            .map(|(_, n, _)| n.id.clone())
            .collect();
        if !behind.is_empty() {
            repush(app, &p.ns, &p.cluster, &behind, cfg.interval).await;
        }
        if let Some((_, newer, pr)) = p
            .nodes
            .iter()
            .filter_map(|(s, n, r)| r.as_ref().ok().map(|pr| (s, n, pr)))
            .filter(|(_, _, pr)| pr.version > p.cluster.version)
            .max_by_key(|(_, _, pr)| pr.version)
        {
            let key = (p.ns.clone(), p.cluster.name.clone(), pr.version);
            if !state.refused.contains(&key)
                && !try_adopt(app, &p.ns, &p.cluster, newer, pr.version, cfg.interval).await
            {
                state.refused.insert(key);
            }
        }
        if safe {
            continue;
        }
        for (si, shard) in p.cluster.shards.iter().enumerate() {
            let Some(master) = shard.master() else {
                continue;
            };
            if state.failures.get(&master.id).copied().unwrap_or(0) >= cfg.failure_threshold {
                failover::auto_failover(
                    app,
                    &p.ns,
                    &p.cluster.name,
                    si,
                    &master.id,
                    &ok,
                    &mut state.reported,
                )
                .await;
            }
        }
    }
    Ok(())
}

async fn fresh(app: &Arc<App>, ns: &str, name: &str) -> Option<Cluster> {
    let (meta, ns, name) = (app.meta.clone(), ns.to_string(), name.to_string());
    blocking(move || meta.cluster(&ns, &name)).await.ok()
}

/// SETNODEID + SETNODES again to nodes whose version is behind the model
/// (restarted on an old nodes.conf, or missed a push while down).
async fn repush(app: &Arc<App>, ns: &str, seen: &Cluster, ids: &[String], timeout: Duration) {
    let _guard = app.writes.lock().await;
    let Some(cluster) = fresh(app, ns, &seen.name).await else {
        return;
    };
    if cluster.version != seen.version {
        return; // changed meanwhile: the next round looks again
    }
    let lines = cluster.setnodes_lines();
    let tasks: Vec<_> = cluster
        .nodes()
        .filter(|n| ids.contains(&n.id))
        .cloned()
        .map(|n| {
            let (lines, version) = (lines.clone(), cluster.version);
            tokio::task::spawn_blocking(move || {
                let r = push_node(&n, &lines, version, timeout.max(Duration::from_secs(1)));
                (n.addr, r)
            })
        })
        .collect();
    for t in tasks {
        match t.await {
            Ok((_, Ok(false))) => {}
            Ok((addr, Ok(true))) => {
                tracing::info!(cluster = %cluster.name, node = %addr, version = cluster.version, "re-pushed the topology to a node behind")
            }
            Ok((addr, Err(e))) => {
                tracing::warn!(cluster = %cluster.name, node = %addr, error = %e, "re-push failed")
            }
            Err(e) => tracing::warn!(error = %e, "re-push task failed"),
        }
    }
}

/// True when it pushed, false when the node had caught up meanwhile.
fn push_node(node: &Node, lines: &str, version: i64, timeout: Duration) -> Result<bool, String> {
    let mut c = Conn::open(&node.addr, &node.password, timeout)?;
    // A push under way when the probe ran (cluster creation) may have
    // reached it since: SETNODEID again would only restart its replication.
    if c.version()? >= version {
        return Ok(false);
    }
    c.query::<()>(redis::cmd("CLUSTERX").arg("SETNODEID").arg(&node.id))?;
    c.query::<()>(
        redis::cmd("CLUSTERX")
            .arg("SETNODES")
            .arg(lines)
            .arg(version),
    )?;
    Ok(true)
}

/// Takes a node's newer topology into the model when it holds the same
/// nodes; the others are then re-pushed by the next rounds. False when the
/// topology cannot be adopted.
async fn try_adopt(
    app: &Arc<App>,
    ns: &str,
    seen: &Cluster,
    node: &Node,
    version: i64,
    timeout: Duration,
) -> bool {
    let _guard = app.writes.lock().await;
    let Some(cluster) = fresh(app, ns, &seen.name).await else {
        return true;
    };
    if cluster.version >= version {
        return true;
    }
    let n = node.clone();
    let text = tokio::task::spawn_blocking(move || {
        let mut c = Conn::open(&n.addr, &n.password, timeout.max(Duration::from_secs(1)))?;
        let version = c.version()?;
        let text: String = c.query(redis::cmd("CLUSTER").arg("NODES"))?;
        Ok::<_, String>((version, text))
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|r| r);
    let (version, text) = match text {
        Ok(t) => t,
        Err(e) => {
            // Unreachable meanwhile: the next round tries again.
            tracing::debug!(node = %node.addr, error = %e, "cannot read a newer topology");
            return true;
        }
    };
    let adopted =
        adopt::parse_cluster_nodes(&text).and_then(|seen| adopt::adopt(&cluster, &seen, version));
    match adopted {
        Ok(newer) if newer.version > cluster.version => {
            let (meta, ns2, stored) = (app.meta.clone(), ns.to_string(), newer.clone());
            match blocking(move || meta.update_cluster(&ns2, &stored)).await {
                Ok(()) => tracing::warn!(cluster = %cluster.name, node = %node.addr,
                    from = cluster.version, to = newer.version, "adopted a newer topology found on a node"),
                Err(e) => {
                    tracing::error!(cluster = %cluster.name, error = %e, "cannot store an adopted topology")
                }
            }
            true
        }
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(cluster = %cluster.name, node = %node.addr, version,
                model_version = cluster.version, reason = %e, "a node has a newer topology that cannot be adopted; left as is");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::safe_mode;

    #[test]
    fn safe_mode_needs_half_and_more_than_one() {
        assert!(!safe_mode(1, 2));
        assert!(!safe_mode(1, 6));
        assert!(!safe_mode(2, 6));
        assert!(safe_mode(3, 6));
        assert!(safe_mode(2, 3));
        assert!(!safe_mode(0, 0));
    }
}
