//! Talks to the nodes: checks that a node can join a new cluster and pushes
//! the topology with CLUSTERX SETNODEID + SETNODES. The sync `redis` client
//! runs on tokio's blocking pool; each call is bounded by timeouts so a dead
//! node cannot hold an HTTP request forever.

use crate::model::{Cluster, Node};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error("node {addr}: {message}")]
    Node { addr: String, message: String },
}

fn node_err(addr: &str, message: impl ToString) -> DriverError {
    DriverError::Node {
        addr: addr.to_string(),
        message: message.to_string(),
    }
}

pub(crate) fn connect(addr: &str, password: &str) -> Result<redis::Connection, DriverError> {
    let client = redis::Client::open(format!("redis://{addr}/")).map_err(|e| node_err(addr, e))?;
    let mut conn = client
        .get_connection_with_timeout(TIMEOUT)
        .map_err(|e| node_err(addr, e))?;
    conn.set_read_timeout(Some(TIMEOUT))
        .map_err(|e| node_err(addr, e))?;
    conn.set_write_timeout(Some(TIMEOUT))
        .map_err(|e| node_err(addr, e))?;
    if !password.is_empty() {
        redis::cmd("AUTH")
            .arg(password)
            .query::<()>(&mut conn)
            .map_err(|e| node_err(addr, e))?;
    }
    Ok(conn)
}

/// A node may join a new cluster when it runs in cluster mode and has no
/// topology yet (kvrocks-controller checks the same before creating).
fn check_fresh(node: &Node) -> Result<(), DriverError> {
    let mut conn = connect(&node.addr, &node.password)?;
    let version: String = redis::cmd("CLUSTERX")
        .arg("VERSION")
        .query(&mut conn)
        .map_err(|e| node_err(&node.addr, e))?;
    if version.trim() != "-1" {
        return Err(node_err(
            &node.addr,
            format!("already has a cluster topology (version {version})"),
        ));
    }
    Ok(())
}

fn push_to(node: &Node, lines: &str, version: i64) -> Result<(), DriverError> {
    let mut conn = connect(&node.addr, &node.password)?;
    redis::cmd("CLUSTERX")
        .arg("SETNODEID")
        .arg(&node.id)
        .query::<()>(&mut conn)
        .map_err(|e| node_err(&node.addr, e))?;
    redis::cmd("CLUSTERX")
        .arg("SETNODES")
        .arg(lines)
        .arg(version)
        .query::<()>(&mut conn)
        .map_err(|e| node_err(&node.addr, e))?;
    Ok(())
}

/// Runs `f` on every node of the cluster in parallel; the errors of all
/// nodes that failed, in node order.
async fn on_every_node(
    cluster: &Cluster,
    f: impl Fn(&Node) -> Result<(), DriverError> + Send + Sync + Clone + 'static,
) -> Vec<DriverError> {
    let tasks: Vec<_> = cluster
        .nodes()
        .cloned()
        .map(|node| {
            let f = f.clone();
            tokio::task::spawn_blocking(move || f(&node))
        })
        .collect();
    let mut errors = Vec::new();
    for task in tasks {
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => errors.push(e),
            Err(join) => errors.push(node_err("?", join)),
        }
    }
    errors
}

pub async fn check_all_fresh(cluster: &Cluster) -> Vec<DriverError> {
    on_every_node(cluster, check_fresh).await
}

/// Pushes the cluster's topology at its version to every node.
pub async fn push_topology(cluster: &Cluster) -> Vec<DriverError> {
    let lines = cluster.setnodes_lines();
    let version = cluster.version;
    on_every_node(cluster, move |n| push_to(n, &lines, version)).await
}
