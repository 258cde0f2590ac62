//! The controller's HTTP API as basalt-ctl calls it: every operation is a
//! method, a path and an optional JSON body, built here without any I/O so
//! the tests can hold them against the API contract (kvrocks-controller's
//! v1 paths, docs/controller.md).

use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Delete,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: Method,
    /// Path and nothing else (no scheme, host or query).
    pub path: String,
    pub body: Option<Value>,
}

impl Request {
    fn get(path: String) -> Request {
        Request {
            method: Method::Get,
            path,
            body: None,
        }
    }

    fn post(path: String, body: Value) -> Request {
        Request {
            method: Method::Post,
            path,
            body: Some(body),
        }
    }

    fn delete(path: String) -> Request {
        Request {
            method: Method::Delete,
            path,
            body: None,
        }
    }
}

/// Names go into the path as one segment each, so a space or a `%` in a
/// name cannot change which resource is meant.
fn segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

const NAMESPACES: &str = "/api/v1/namespaces";

fn cluster_path(ns: &str, cluster: &str) -> String {
    format!("{NAMESPACES}/{}/clusters/{}", segment(ns), segment(cluster))
}

pub fn list_namespaces() -> Request {
    Request::get(NAMESPACES.to_string())
}

pub fn create_namespace(ns: &str) -> Request {
    Request::post(NAMESPACES.to_string(), json!({ "namespace": ns }))
}

pub fn delete_namespace(ns: &str) -> Request {
    Request::delete(format!("{NAMESPACES}/{}", segment(ns)))
}

pub fn list_clusters(ns: &str) -> Request {
    Request::get(format!("{NAMESPACES}/{}/clusters", segment(ns)))
}

/// `nodes_per_shard` is the API's `replicas` (kvrocks-controller counts the
/// master in it); the command line asks for replicas per master instead.
pub fn create_cluster(
    ns: &str,
    name: &str,
    nodes: &[String],
    nodes_per_shard: usize,
    password: &str,
) -> Request {
    Request::post(
        format!("{NAMESPACES}/{}/clusters", segment(ns)),
        json!({
            "name": name,
            "nodes": nodes,
            "replicas": nodes_per_shard,
            "password": password,
        }),
    )
}

pub fn get_cluster(ns: &str, cluster: &str) -> Request {
    Request::get(cluster_path(ns, cluster))
}

pub fn delete_cluster(ns: &str, cluster: &str) -> Request {
    Request::delete(cluster_path(ns, cluster))
}

pub fn add_shard(ns: &str, cluster: &str, nodes: &[String], password: &str) -> Request {
    Request::post(
        format!("{}/shards", cluster_path(ns, cluster)),
        json!({ "nodes": nodes, "password": password }),
    )
}

pub fn remove_shard(ns: &str, cluster: &str, shard: usize) -> Request {
    Request::delete(format!("{}/shards/{shard}", cluster_path(ns, cluster)))
}

pub fn add_node(
    ns: &str,
    cluster: &str,
    shard: usize,
    addr: &str,
    role: &str,
    password: &str,
) -> Request {
    Request::post(
        format!("{}/shards/{shard}/nodes", cluster_path(ns, cluster)),
        json!({ "addr": addr, "role": role, "password": password }),
    )
}

pub fn remove_node(ns: &str, cluster: &str, shard: usize, node_id: &str) -> Request {
    Request::delete(format!(
        "{}/shards/{shard}/nodes/{}",
        cluster_path(ns, cluster),
        segment(node_id)
    ))
}

pub fn failover(ns: &str, cluster: &str, shard: usize, preferred: Option<&str>) -> Request {
    let body = match preferred {
        Some(id) => json!({ "preferred_node_id": id }),
        None => json!({}),
    };
    Request::post(
        format!("{}/shards/{shard}/failover", cluster_path(ns, cluster)),
        body,
    )
}

pub fn migrate(ns: &str, cluster: &str, target: usize, slots: &str, slot_only: bool) -> Request {
    Request::post(
        format!("{}/migrate", cluster_path(ns, cluster)),
        json!({ "target": target, "slot": slots, "slot_only": slot_only }),
    )
}

pub fn migrations(ns: &str, cluster: &str) -> Request {
    Request::get(format!("{}/migrations", cluster_path(ns, cluster)))
}

pub fn rebalance(ns: &str, cluster: &str) -> Request {
    Request::post(
        format!("{}/rebalance", cluster_path(ns, cluster)),
        json!({}),
    )
}

pub fn failovers(ns: &str, cluster: &str) -> Request {
    Request::get(format!("{}/failovers", cluster_path(ns, cluster)))
}

pub fn health(ns: &str, cluster: &str) -> Request {
    Request::get(format!("{}/health", cluster_path(ns, cluster)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: &str = "/api/v1/namespaces/default/clusters/c1";

    fn check(r: Request, method: Method, path: &str, body: Option<Value>) {
        assert_eq!(r.method, method, "{path}");
        assert_eq!(r.path, path);
        assert_eq!(r.body, body, "{path}");
    }

    #[test]
    fn namespace_and_cluster_requests_follow_the_v1_paths() {
        check(list_namespaces(), Method::Get, "/api/v1/namespaces", None);
        check(
            create_namespace("ns"),
            Method::Post,
            "/api/v1/namespaces",
            Some(json!({"namespace": "ns"})),
        );
        check(
            delete_namespace("ns"),
            Method::Delete,
            "/api/v1/namespaces/ns",
            None,
        );
        check(
            list_clusters("ns"),
            Method::Get,
            "/api/v1/namespaces/ns/clusters",
            None,
        );
        let nodes = vec!["127.0.0.1:7001".to_string(), "127.0.0.1:7002".to_string()];
        check(
            create_cluster("ns", "c1", &nodes, 2, "pw"),
            Method::Post,
            "/api/v1/namespaces/ns/clusters",
            Some(json!({"name": "c1", "nodes": nodes, "replicas": 2, "password": "pw"})),
        );
        check(get_cluster("default", "c1"), Method::Get, C, None);
        check(delete_cluster("default", "c1"), Method::Delete, C, None);
    }

    #[test]
    fn shard_node_failover_and_migration_requests_follow_the_contract() {
        let nodes = vec!["127.0.0.1:7007".to_string(), "127.0.0.1:7008".to_string()];
        check(
            add_shard("default", "c1", &nodes, ""),
            Method::Post,
            &format!("{C}/shards"),
            Some(json!({"nodes": nodes, "password": ""})),
        );
        check(
            remove_shard("default", "c1", 3),
            Method::Delete,
            &format!("{C}/shards/3"),
            None,
        );
        check(
            add_node("default", "c1", 1, "127.0.0.1:7009", "slave", "pw"),
            Method::Post,
            &format!("{C}/shards/1/nodes"),
            Some(json!({"addr": "127.0.0.1:7009", "role": "slave", "password": "pw"})),
        );
        check(
            remove_node("default", "c1", 1, "abc"),
            Method::Delete,
            &format!("{C}/shards/1/nodes/abc"),
            None,
        );
        check(
            failover("default", "c1", 0, None),
            Method::Post,
            &format!("{C}/shards/0/failover"),
            Some(json!({})),
        );
        check(
            failover("default", "c1", 0, Some("abc")),
            Method::Post,
            &format!("{C}/shards/0/failover"),
            Some(json!({"preferred_node_id": "abc"})),
        );
        check(
            migrate("default", "c1", 2, "0-99", false),
            Method::Post,
            &format!("{C}/migrate"),
            Some(json!({"target": 2, "slot": "0-99", "slot_only": false})),
        );
        check(
            migrations("default", "c1"),
            Method::Get,
            &format!("{C}/migrations"),
            None,
        );
        check(
            rebalance("default", "c1"),
            Method::Post,
            &format!("{C}/rebalance"),
            Some(json!({})),
        );
        check(
            failovers("default", "c1"),
            Method::Get,
            &format!("{C}/failovers"),
            None,
        );
        check(
            health("default", "c1"),
            Method::Get,
            &format!("{C}/health"),
            None,
        );
    }

    #[test]
    fn names_are_one_path_segment_each() {
        assert_eq!(
            get_cluster("a b", "x?y").path,
            "/api/v1/namespaces/a%20b/clusters/x%3Fy"
        );
        assert_eq!(delete_namespace("..%").path, "/api/v1/namespaces/..%25");
    }
}
