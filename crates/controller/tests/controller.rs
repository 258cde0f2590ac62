//! basalt-controller as a user runs it: real basalt-server nodes in cluster
//! mode, a real controller process, its HTTP API, and what the nodes and a
//! cluster client see afterwards.

mod common;

use basalt_tests::{skip_on_redis, Server};
use common::*;
use redis::Commands;
use serde_json::json;
use std::time::{Duration, Instant};

#[test]
fn creates_a_cluster_that_nodes_and_clients_use_and_keeps_it_across_restart() {
    skip_on_redis!();
    let nodes: Vec<Server> = (0..3).map(|_| node()).collect();
    let (_tmp, dir) = data_dir();
    let mut ctl = Controller::start(&dir);

    assert_eq!(
        ctl.post("/api/v1/namespaces", json!({"namespace": "ns"})),
        (201, json!({"data": "created"}))
    );
    let (status, body) = ctl.post("/api/v1/namespaces", json!({"namespace": "ns"}));
    assert_eq!(status, 409);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("exists"));

    let addrs: Vec<String> = nodes.iter().map(addr).collect();
    let (status, body) = ctl.post(
        "/api/v1/namespaces/ns/clusters",
        json!({"name": "c1", "nodes": addrs, "replicas": 1, "password": ""}),
    );
    assert_eq!(status, 201, "{body}");
    let cluster = body["data"]["cluster"].clone();
    assert_eq!(cluster["version"], 1);
    let shards = cluster["shards"].as_array().unwrap();
    assert_eq!(shards.len(), 3);
    assert_eq!(shards[0]["slot_ranges"], json!(["0-5460"]));
    assert_eq!(shards[2]["slot_ranges"], json!(["10922-16383"]));

    // Every node got its id and the whole topology.
    for (i, n) in nodes.iter().enumerate() {
        assert_eq!(info_field(n, "cluster_state"), "ok");
        assert_eq!(info_field(n, "cluster_known_nodes"), "3");
        let mut c = n.client();
        let id: String = redis::cmd("CLUSTERX").arg("MYID").query(&mut c).unwrap();
        assert_eq!(id, shards[i]["nodes"][0]["id"].as_str().unwrap());
        assert_eq!(shards[i]["nodes"][0]["addr"], addrs[i].as_str());
        assert_eq!(shards[i]["nodes"][0]["role"], "master");
        let text: String = redis::cmd("CLUSTER").arg("NODES").query(&mut c).unwrap();
        assert_eq!(text.lines().count(), 3, "{text}");
    }

    // A cluster client routes keys of every shard.
    let urls: Vec<String> = nodes.iter().map(Server::url).collect();
    let client = redis::cluster::ClusterClient::new(urls).unwrap();
    let mut cc = client.get_connection().unwrap();
    for i in 0..200 {
        let _: () = cc.set(format!("key:{i}"), i).unwrap();
    }
    for i in 0..200 {
        let v: i64 = cc.get(format!("key:{i}")).unwrap();
        assert_eq!(v, i);
    }
    for n in &nodes {
        let size: i64 = redis::cmd("DBSIZE").query(&mut n.client()).unwrap();
        assert!(size > 0, "every shard holds some of the keys");
    }

    // The nodes now have a topology: a second cluster on them is refused.
    let (status, body) = ctl.post(
        "/api/v1/namespaces/ns/clusters",
        json!({"name": "c2", "nodes": addrs[..1], "replicas": 1}),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("already has a cluster topology"));

    // Restart on the same data dir: the model is still there.
    drop(ctl);
    ctl = Controller::start(&dir);
    assert_eq!(
        ctl.get("/api/v1/namespaces"),
        (200, json!({"data": {"namespaces": ["ns"]}}))
    );
    assert_eq!(
        ctl.get("/api/v1/namespaces/ns/clusters"),
        (200, json!({"data": {"clusters": ["c1"]}}))
    );
    let (status, body) = ctl.get("/api/v1/namespaces/ns/clusters/c1");
    assert_eq!(status, 200);
    assert_eq!(body["data"]["cluster"], cluster);
}

#[test]
fn replicas_is_nodes_per_shard_and_replicas_follow_their_master() {
    skip_on_redis!();
    let nodes: Vec<Server> = (0..4).map(|_| node()).collect();
    let (_tmp, dir) = data_dir();
    let ctl = Controller::start(&dir);
    ctl.post("/api/v1/namespaces", json!({"namespace": "ns"}));
    let addrs: Vec<String> = nodes.iter().map(addr).collect();
    let (status, body) = ctl.post(
        "/api/v1/namespaces/ns/clusters",
        json!({"name": "c", "nodes": addrs, "replicas": 2}),
    );
    assert_eq!(status, 201, "{body}");
    let shards = body["data"]["cluster"]["shards"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(shards.len(), 2);
    for s in &shards {
        assert_eq!(s["nodes"][0]["role"], "master");
        assert_eq!(s["nodes"][1]["role"], "slave");
    }
    // Nodes 1 and 3 replicate nodes 0 and 2.
    for (replica, master) in [(1, 0), (3, 2)] {
        let deadline = Instant::now() + WAIT;
        loop {
            let role: Vec<redis::Value> = redis::cmd("ROLE")
                .query(&mut nodes[replica].client())
                .unwrap();
            let port = match (&role[0], role.get(2)) {
                (redis::Value::BulkString(r), Some(redis::Value::Int(p))) if r == b"slave" => *p,
                _ => 0,
            };
            if port == nodes[master].port as i64
                && info_field(&nodes[replica], "cluster_state") == "ok"
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "node {replica} never followed {master}: {role:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let (status, body) = ctl.post(
        "/api/v1/namespaces/ns/clusters",
        json!({"name": "bad", "nodes": addrs[..3], "replicas": 2}),
    );
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["message"],
        "the number of nodes should be a multiple of replicas"
    );
}

#[test]
fn a_node_outside_cluster_mode_is_refused_and_nothing_is_stored() {
    skip_on_redis!();
    let plain = Server::start();
    let (_tmp, dir) = data_dir();
    let ctl = Controller::start(&dir);
    assert_eq!(
        ctl.post(
            "/api/v1/namespaces/nope/clusters",
            json!({"name": "c", "nodes": [addr(&plain)]})
        )
        .0,
        404
    );
    ctl.post("/api/v1/namespaces", json!({"namespace": "ns"}));
    let (status, body) = ctl.post(
        "/api/v1/namespaces/ns/clusters",
        json!({"name": "c", "nodes": [addr(&plain)]}),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with(&format!("node {}:", addr(&plain))));
    assert_eq!(
        ctl.get("/api/v1/namespaces/ns/clusters"),
        (200, json!({"data": {"clusters": []}}))
    );
    assert_eq!(ctl.get("/api/v1/namespaces/ns/clusters/c").0, 404);
    let (status, body) = ctl.post("/api/v1/namespaces", json!({"name": "x"}));
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"].is_string());
}

/// A request whose body nobody reads (POST …/rebalance takes none; a 404
/// answers before the body is looked at) leaves its keep-alive connection
/// usable: before, the controller closed it after answering, and a client
/// that had pooled it failed its next request with a disconnect.
#[test]
fn a_connection_stays_usable_after_a_request_whose_body_is_not_needed() {
    use std::io::{Read, Write};
    let (_tmp, dir) = data_dir();
    let ctl = Controller::start(&dir);
    let addr = ctl.base.trim_start_matches("http://").to_string();
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let read_reply = |s: &mut std::net::TcpStream| -> String {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        // One reply: headers, then the content-length's worth of body.
        loop {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0, "the controller closed the connection after {got:?}");
            got.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&got).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let len = text[..end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length: ")
                            .map(|v| v.trim().parse::<usize>().unwrap())
                    })
                    .unwrap_or(0);
                if got.len() >= end + 4 + len {
                    return text;
                }
            }
        }
    };
    for path in [
        "/api/v1/namespaces/ns/clusters/c/rebalance",
        "/no/such/path",
    ] {
        // The body comes after the headers, in a write of its own, as
        // HTTP clients send it.
        write!(
            s,
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n"
        )
        .unwrap();
        s.flush().unwrap();
        std::thread::sleep(Duration::from_millis(50));
        s.write_all(b"{}").unwrap();
        let reply = read_reply(&mut s);
        assert!(reply.starts_with("HTTP/1.1 404"), "{reply}");
        assert!(
            !reply.to_ascii_lowercase().contains("connection: close"),
            "{reply}"
        );
        write!(s, "GET /api/v1/namespaces HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let reply = read_reply(&mut s);
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        assert!(reply.contains(r#"{"data":{"namespaces":[]}}"#), "{reply}");
    }
}
