//! Failure handling as a user sees it: real nodes, a real controller with
//! a short probe interval, masters killed or frozen under a write load,
//! and what the cluster, its clients and the failover history show after.

mod common;

use basalt_controller::status::{FailoverKind, FailoverRecord};
use basalt_tests::nodes::{assert_same_data, wait_in_sync, wait_until};
use basalt_tests::{skip_on_redis, Server};
use common::*;
use redis::cluster::ClusterClient;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const FAST: &[&str] = &["--probe-interval-ms", "200", "--failure-threshold", "3"];

/// Starts `count` nodes and a controller, and creates cluster `c` in
/// namespace `ns` with `per_shard` nodes per shard; waits until every
/// replica has synced with its master.
fn cluster(count: usize, per_shard: usize, dir: &Path) -> (Vec<Server>, Controller) {
    let nodes: Vec<Server> = (0..count).map(|_| node()).collect();
    let ctl = Controller::start_with(dir, FAST);
    let addrs: Vec<String> = nodes.iter().map(addr).collect();
    ctl.create_cluster("ns", "c", &addrs, per_shard);
    for shard in nodes.chunks(per_shard) {
        for replica in &shard[1..] {
            wait_in_sync(&shard[0], replica, WAIT);
        }
    }
    (nodes, ctl)
}

fn model(ctl: &Controller) -> Value {
    ctl.cluster("ns", "c")
}

fn master_of(cluster: &Value, shard: usize) -> String {
    cluster["shards"][shard]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["role"] == "master")
        .map(|n| n["addr"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

/// The failover history as the controller stored it.
fn history(dir: &Path) -> Vec<FailoverRecord> {
    let text = std::fs::read_to_string(dir.join("meta.json")).unwrap();
    let map: std::collections::BTreeMap<String, String> = serde_json::from_str(&text).unwrap();
    map.get("/basalt/history/ns/c")
        .map(|doc| serde_json::from_str(doc).unwrap())
        .unwrap_or_default()
}

fn controller_log(dir: &Path) -> String {
    std::fs::read_to_string(dir.with_extension("log")).unwrap_or_default()
}

/// ROLE of a node: its role and, for a replica, its master's port.
fn role(s: &Server) -> (String, i64) {
    let Ok(mut c) = redis::Client::open(s.url()).and_then(|c| c.get_connection()) else {
        return (String::new(), 0);
    };
    let role: Vec<redis::Value> = redis::cmd("ROLE").query(&mut c).unwrap_or_default();
    match (role.first(), role.get(2)) {
        (Some(redis::Value::BulkString(r)), Some(redis::Value::Int(p))) if r == b"slave" => {
            ("slave".into(), *p)
        }
        (Some(redis::Value::BulkString(r)), _) => (String::from_utf8_lossy(r).into(), 0),
        _ => (String::new(), 0),
    }
}

/// CRC16/XMODEM modulo 16384 of the key's hash tag or whole key.
fn slot(key: &str) -> u16 {
    let k = key.as_bytes();
    let k = match k.iter().position(|&b| b == b'{') {
        Some(o) => match k[o + 1..].iter().position(|&b| b == b'}') {
            Some(c) if c > 0 => &k[o + 1..o + 1 + c],
            _ => k,
        },
        None => k,
    };
    let mut crc: u16 = 0;
    for &b in k {
        crc ^= (b as u16) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc % 16384
}

/// Writes through the cluster client until stopped: `SET key value`, then,
/// when `wait` is set, `WAIT 1 1000` on the same master. A write counts as
/// acknowledged when SET answered OK (and WAIT saw a replica have it).
struct Writer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// (key, value, when) of every acknowledged write.
    acked: Arc<Mutex<Vec<(String, String, Instant)>>>,
    /// (key, when) of every SET that answered OK, WAIT or not.
    sets: Arc<Mutex<Vec<(String, Instant)>>>,
}

impl Writer {
    fn start(nodes: &[Server], wait: bool) -> Writer {
        let urls: Vec<String> = nodes.iter().map(Server::url).collect();
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(Mutex::new(Vec::new()));
        let sets = Arc::new(Mutex::new(Vec::new()));
        let (s, a, ok) = (stop.clone(), acked.clone(), sets.clone());
        let thread = std::thread::spawn(move || {
            let client = ClusterClient::builder(urls)
                .connection_timeout(Duration::from_millis(500))
                .response_timeout(Duration::from_secs(2))
                .retries(2)
                .build()
                .unwrap();
            let mut conn = None;
            let mut i = 0u64;
            while !s.load(Ordering::Acquire) {
                let c = match conn.as_mut() {
                    Some(c) => c,
                    None => {
                        match client.get_connection() {
                            Ok(c) => conn = Some(c),
                            Err(_) => std::thread::sleep(Duration::from_millis(50)),
                        }
                        continue;
                    }
                };
                i += 1;
                let (key, value) = (format!("k:{i}"), format!("v{i}"));
                let set: redis::RedisResult<()> = redis::cmd("SET").arg(&key).arg(&value).query(c);
                if set.is_err() {
                    // The sync cluster client only re-reads the slot map
                    // on MOVED, not when a node stops answering: start a
                    // new one, as an application would on errors.
                    conn = None;
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
                ok.lock().unwrap().push((key.clone(), Instant::now()));
                if wait {
                    let route = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(
                        Route::with_key(&key, SlotAddr::Master),
                    ));
                    let replicas = c.route_command(redis::cmd("WAIT").arg(1).arg(1000), route);
                    if !matches!(replicas, Ok(redis::Value::Int(n)) if n >= 1) {
                        continue;
                    }
                }
                a.lock().unwrap().push((key, value, Instant::now()));
            }
        });
        Writer {
            stop,
            thread: Some(thread),
            acked,
            sets,
        }
    }

    fn count(&self) -> usize {
        self.acked.lock().unwrap().len()
    }

    /// Successful SETs (`acked: false`) or acknowledged writes after
    /// `since` to keys of slots `lo..=hi`.
    fn count_since(&self, acked: bool, since: Instant, lo: u16, hi: u16) -> usize {
        let in_range = |k: &str, t: &Instant| *t > since && (lo..=hi).contains(&slot(k));
        if acked {
            let all = self.acked.lock().unwrap();
            all.iter().filter(|(k, _, t)| in_range(k, t)).count()
        } else {
            let all = self.sets.lock().unwrap();
            all.iter().filter(|(k, t)| in_range(k, t)).count()
        }
    }

    fn wait_for(&self, n: usize) {
        let target = self.count() + n;
        wait_until(WAIT, "acknowledged writes", || {
            let now = self.count();
            if now >= target {
                Ok(())
            } else {
                Err(format!("{now} of {target}"))
            }
        });
    }

    fn stop(mut self) -> Vec<(String, String, Instant)> {
        self.stop.store(true, Ordering::Release);
        self.thread.take().unwrap().join().unwrap();
        let acked = self.acked.lock().unwrap().clone();
        acked
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

/// Every acknowledged write read back through a cluster client.
fn assert_all_present(nodes: &[&Server], acked: &[(String, String, Instant)]) {
    let urls: Vec<String> = nodes.iter().map(|s| s.url()).collect();
    let mut c = ClusterClient::new(urls).unwrap().get_connection().unwrap();
    let missing: Vec<String> = acked
        .iter()
        .filter_map(|(k, v, _)| {
            let got: Option<String> = redis::cmd("GET").arg(k).query(&mut c).unwrap();
            (got.as_deref() != Some(v.as_str())).then(|| format!("{k}={v} (got {got:?})"))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged writes missing, first: {:?}",
        missing.len(),
        acked.len(),
        &missing[..missing.len().min(10)]
    );
}

fn signal(s: &Server, sig: &str) {
    let ok = std::process::Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(s.pid().to_string())
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{sig} {}", s.pid());
}

#[test]
fn a_killed_master_is_replaced_by_its_replica_and_rejoins_as_replica() {
    skip_on_redis!();
    let (_tmp, dir) = data_dir();
    let (mut nodes, ctl) = cluster(6, 2, &dir);
    let before = model(&ctl);
    assert_eq!(before["version"], 1);
    let (old_master, replica) = (addr(&nodes[2]), addr(&nodes[3]));
    assert_eq!(master_of(&before, 1), old_master);

    let writer = Writer::start(&nodes, true);
    writer.wait_for(200);
    let killed_at = Instant::now();
    nodes[2].kill9();

    let after = wait_until(
        Duration::from_secs(20),
        "the controller to fail over",
        || {
            let c = model(&ctl);
            if master_of(&c, 1) == replica {
                Ok(c)
            } else {
                Err(format!("{c}"))
            }
        },
    );
    assert_eq!(after["version"], 2);
    assert_eq!(master_of(&after, 0), addr(&nodes[0]));
    assert_eq!(master_of(&after, 2), addr(&nodes[4]));
    // The model is stored before the push: the node follows shortly.
    wait_until(WAIT, "the replica to become master", || {
        match role(&nodes[3]) {
            (r, _) if r == "master" => Ok(()),
            other => Err(format!("{other:?}")),
        }
    });

    // The cluster client carries on: the new master takes the failed
    // shard's writes (WAIT finds no replica until the old master is back).
    wait_until(
        Duration::from_secs(20),
        "writes to the failed-over shard",
        || match writer.count_since(false, killed_at, 5461, 10921) {
            0 => Err(format!(
                "none yet; {} in all since the kill",
                writer.count_since(false, killed_at, 0, 16383)
            )),
            n => Ok(n),
        },
    );

    // The dead master comes back on its data and follows the new one.
    nodes[2].restart();
    let back_at = Instant::now();
    wait_until(
        WAIT,
        "the old master to follow the new one",
        || match role(&nodes[2]) {
            (r, p) if r == "slave" && p == nodes[3].port as i64 => Ok(()),
            other => Err(format!("{other:?}")),
        },
    );
    // Now WAIT counts it: writes to that shard are acknowledged again.
    wait_until(
        WAIT,
        "acknowledged writes to the failed-over shard",
        || match writer.count_since(true, back_at, 5461, 10921) {
            0 => Err("none yet".to_string()),
            n => Ok(n),
        },
    );
    let acked = writer.stop();
    let all: Vec<&Server> = nodes.iter().collect();
    assert_all_present(&all, &acked);
    wait_in_sync(&nodes[3], &nodes[2], WAIT);
    let mut a = nodes[3].client();
    let mut b = nodes[2].client();
    let _: () = redis::cmd("READONLY").query(&mut b).unwrap();
    assert!(assert_same_data(&mut a, &mut b) > 0);

    let h = history(&dir);
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!(h[0].kind, FailoverKind::Auto);
    assert!(h[0].ok);
    assert_eq!(
        (
            h[0].shard,
            h[0].old_master.as_str(),
            h[0].new_master.as_str()
        ),
        (1, old_master.as_str(), replica.as_str())
    );
    assert_eq!(h[0].version, 2);
}

#[test]
fn manual_failover_under_load_loses_no_acknowledged_write() {
    skip_on_redis!();
    let (_tmp, dir) = data_dir();
    let (nodes, ctl) = cluster(4, 2, &dir);
    // Plain SETs, no WAIT: a graceful failover must keep every write the
    // master acknowledged.
    let writer = Writer::start(&nodes, false);
    writer.wait_for(300);
    let (status, body) = ctl.post(
        "/api/v1/namespaces/ns/clusters/c/shards/0/failover",
        json!({}),
    );
    assert_eq!(status, 200, "{body}");
    let after = model(&ctl);
    assert_eq!(body["data"]["new_master"], addr(&nodes[1]).as_str());
    assert_eq!(
        body["data"]["new_master_id"],
        after["shards"][0]["nodes"][0]["id"]
    );
    assert_eq!(master_of(&after, 0), addr(&nodes[1]));
    assert_eq!(after["version"], 2);
    writer.wait_for(300);
    let acked = writer.stop();
    let all: Vec<&Server> = nodes.iter().collect();
    assert_all_present(&all, &acked);
    wait_until(
        WAIT,
        "the old master to follow the new one",
        || match role(&nodes[0]) {
            (r, p) if r == "slave" && p == nodes[1].port as i64 => Ok(()),
            other => Err(format!("{other:?}")),
        },
    );

    // Back again, naming the node to promote (an empty body works too).
    let old_id = after["shards"][0]["nodes"][1]["id"].as_str().unwrap();
    let (status, body) = ctl.post(
        "/api/v1/namespaces/ns/clusters/c/shards/0/failover",
        json!({"preferred_node_id": old_id}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["new_master"], addr(&nodes[0]).as_str());

    let (status, body) = ctl.post(
        "/api/v1/namespaces/ns/clusters/c/shards/7/failover",
        json!({}),
    );
    assert_eq!(status, 404, "{body}");
    let master_id = model(&ctl)["shards"][1]["nodes"][0]["id"].clone();
    let (status, body) = ctl.post(
        "/api/v1/namespaces/ns/clusters/c/shards/1/failover",
        json!({"preferred_node_id": master_id}),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("is not a replica of shard 1"));

    let h = history(&dir);
    assert_eq!(h.len(), 3, "{h:?}");
    assert!(h.iter().all(|r| r.kind == FailoverKind::Manual));
    assert!(h[0].ok && h[1].ok && !h[2].ok);
    assert_eq!((h[0].version, h[1].version, h[2].version), (2, 3, 3));
    assert_eq!(model(&ctl)["version"], 3);
}

#[test]
fn a_shard_without_replica_cannot_fail_over() {
    skip_on_redis!();
    let (_tmp, dir) = data_dir();
    let (_nodes, ctl) = cluster(1, 1, &dir);
    let (status, body) = ctl.post(
        "/api/v1/namespaces/ns/clusters/c/shards/0/failover",
        json!({}),
    );
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["message"], "shard 0 has no replica");
    assert_eq!(
        ctl.post(
            "/api/v1/namespaces/ns/clusters/nope/shards/0/failover",
            json!({})
        )
        .0,
        404
    );
}

#[test]
fn safe_mode_holds_failovers_while_most_nodes_are_unreachable() {
    skip_on_redis!();
    let (_tmp, dir) = data_dir();
    let (mut nodes, ctl) = cluster(4, 2, &dir);
    // Both masters and a replica frozen: 3 of 4 nodes fail every probe.
    for i in [0, 1, 2] {
        signal(&nodes[i], "STOP");
    }
    wait_until(Duration::from_secs(10), "safe mode in the log", || {
        if controller_log(&dir).contains("safe mode on") {
            Ok(())
        } else {
            Err("not yet".into())
        }
    });
    // Well past the threshold (3 probes of 200 ms): still no failover.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(model(&ctl)["version"], 1);
    assert!(history(&dir).is_empty());

    for i in [0, 1, 2] {
        signal(&nodes[i], "CONT");
    }
    wait_until(Duration::from_secs(10), "safe mode to end", || {
        if controller_log(&dir).contains("safe mode off") {
            Ok(())
        } else {
            Err("not yet".into())
        }
    });
    assert_eq!(model(&ctl)["version"], 1);

    // One master lost alone is a real failure: it is failed over.
    nodes[2].kill9();
    wait_until(Duration::from_secs(15), "the failover", || {
        let c = model(&ctl);
        if master_of(&c, 1) == addr(&nodes[3]) {
            Ok(())
        } else {
            Err(format!("{c}"))
        }
    });
    assert_eq!(model(&ctl)["version"], 2);
}

#[test]
fn a_newer_topology_found_on_the_nodes_is_adopted_when_it_has_the_same_nodes() {
    skip_on_redis!();
    let (_tmp, dir) = data_dir();
    let (nodes, ctl) = cluster(2, 2, &dir);
    let c = model(&ctl);
    let (m, r) = (&c["shards"][0]["nodes"][0], &c["shards"][0]["nodes"][1]);
    let (mid, rid) = (m["id"].as_str().unwrap(), r["id"].as_str().unwrap());
    // Another controller (or an operator) swapped the roles at version 5.
    let swapped = format!(
        "{rid} 127.0.0.1 {} master - 0-16383\n{mid} 127.0.0.1 {} slave {rid}\n",
        nodes[1].port, nodes[0].port
    );
    for n in &nodes {
        let _: () = redis::cmd("CLUSTERX")
            .arg("SETNODES")
            .arg(&swapped)
            .arg(5)
            .query(&mut n.client())
            .unwrap();
    }
    let adopted = wait_until(WAIT, "the model to adopt version 5", || {
        let c = model(&ctl);
        if c["version"] == 5 {
            Ok(c)
        } else {
            Err(format!("{c}"))
        }
    });
    assert_eq!(master_of(&adopted, 0), addr(&nodes[1]));
    assert_eq!(adopted["shards"][0]["slot_ranges"], json!(["0-16383"]));
    assert_eq!(adopted["shards"][0]["nodes"].as_array().unwrap().len(), 2);

    // A topology naming a node the model does not know is left alone.
    let foreign = format!("{swapped}{} 127.0.0.1 1 slave {rid}\n", "f".repeat(40));
    let _: () = redis::cmd("CLUSTERX")
        .arg("SETNODES")
        .arg(&foreign)
        .arg(7)
        .query(&mut nodes[0].client())
        .unwrap();
    wait_until(WAIT, "the controller to refuse it", || {
        if controller_log(&dir).contains("cannot be adopted") {
            Ok(())
        } else {
            Err("not yet".into())
        }
    });
    assert_eq!(model(&ctl)["version"], 5);
    assert!(history(&dir).is_empty());
}
