//! The read-only status endpoints of a cluster: node health, failover
//! history and migration jobs, as `Status` holds them. The dashboard and
//! `basalt-ctl` read these; nothing here changes anything.

use crate::api::{blocking, data, App, Reply};
use crate::model::{Cluster, Role};
use crate::status::NodeHealth;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use serde_json::json;
use std::sync::Arc;

/// The error a node carries until the probe loop has looked at it once.
pub const NOT_PROBED: &str = "not probed yet";

pub fn routes() -> Router<Arc<App>> {
    const CLUSTER: &str = "/api/v1/namespaces/{ns}/clusters/{cluster}";
    Router::new()
        .route(&format!("{CLUSTER}/health"), get(health))
        .route(&format!("{CLUSTER}/failovers"), get(failovers))
        .route(&format!("{CLUSTER}/migrations"), get(migrations))
}

pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Master => "master",
        Role::Slave => "slave",
    }
}

/// One entry per node of the model, in shard order. Identity (id, addr,
/// role, shard) comes from the model, which may be newer than the last
/// probe (a failover just swapped roles); the measured fields come from the
/// probe of the same node id, or its address when the id changed. A node
/// without a probe yet is reported down with [`NOT_PROBED`], so a dead node
/// is never shown healthy just because nobody looked.
pub fn health_view(cluster: &Cluster, probed: &[NodeHealth]) -> Vec<NodeHealth> {
    let mut view = Vec::new();
    for (i, shard) in cluster.shards.iter().enumerate() {
        for node in &shard.nodes {
            let seen = probed
                .iter()
                .find(|h| h.id == node.id)
                .or_else(|| probed.iter().find(|h| h.addr == node.addr));
            let mut h = seen.cloned().unwrap_or_else(|| NodeHealth {
                healthy: false,
                error: NOT_PROBED.to_string(),
                ..NodeHealth::default()
            });
            h.id = node.id.clone();
            h.addr = node.addr.clone();
            h.role = role_name(node.role).to_string();
            h.shard = i;
            view.push(h);
        }
    }
    view
}

async fn load_cluster(app: &App, ns: &str, name: &str) -> Result<Cluster, crate::api::ApiError> {
    let (meta, ns, name) = (app.meta.clone(), ns.to_string(), name.to_string());
    blocking(move || meta.cluster(&ns, &name)).await
}

async fn health(State(app): State<Arc<App>>, Path((ns, name)): Path<(String, String)>) -> Reply {
    let cluster = load_cluster(&app, &ns, &name).await?;
    let nodes = health_view(&cluster, &app.status.health(&ns, &name));
    Ok(data(
        StatusCode::OK,
        json!({ "nodes": nodes, "safe_mode": app.status.safe_mode() }),
    ))
}

async fn failovers(State(app): State<Arc<App>>, Path((ns, name)): Path<(String, String)>) -> Reply {
    load_cluster(&app, &ns, &name).await?;
    let status = app.status.clone();
    let records = blocking(move || status.failovers(&ns, &name)).await?;
    Ok(data(StatusCode::OK, json!({ "failovers": records })))
}

async fn migrations(
    State(app): State<Arc<App>>,
    Path((ns, name)): Path<(String, String)>,
) -> Reply {
    load_cluster(&app, &ns, &name).await?;
    let jobs = app.status.migrations(&ns, &name);
    Ok(data(StatusCode::OK, json!({ "migrations": jobs })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unprobed_nodes_are_down_and_the_model_names_the_role() {
        let addrs: Vec<String> = (0..4).map(|i| format!("127.0.0.1:{}", 7001 + i)).collect();
        let mut cluster = Cluster::create("c", &addrs, 2, "").unwrap();
        let probe = NodeHealth {
            id: cluster.shards[1].nodes[1].id.clone(),
            addr: addrs[3].clone(),
            role: "slave".into(),
            shard: 1,
            healthy: true,
            offset: 42,
            ..NodeHealth::default()
        };
        // A failover promoted the probed replica after the probe.
        cluster.shards[1].nodes.swap(0, 1);
        cluster.shards[1].nodes[0].role = Role::Master;
        cluster.shards[1].nodes[1].role = Role::Slave;
        let view = health_view(&cluster, &[probe]);
        assert_eq!(view.len(), 4);
        for i in [0, 1, 3] {
            assert!(
                !view[i].healthy && view[i].error == NOT_PROBED,
                "{:?}",
                view[i]
            );
        }
        assert_eq!(view[0].role, "master");
        assert_eq!(view[2].addr, addrs[3]);
        assert_eq!(view[2].role, "master");
        assert!(view[2].healthy);
        assert_eq!(view[2].offset, 42);
        assert_eq!(view[3].shard, 1);
    }
}
