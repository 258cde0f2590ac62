//! Scaling through the controller, as a user does it: shards and replicas
//! added and removed, slots migrated with their data while a cluster client
//! writes, rebalance, and the errors. Real basalt-server nodes, a real
//! controller; what is checked is what the cluster document, the nodes and
//! a cluster client show.

mod common;

use basalt_tests::nodes::wait_until;
use basalt_tests::{skip_on_redis, Server};
use common::*;
use redis::cluster::{ClusterClient, ClusterConnection};
use redis::Commands;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const C: &str = "/api/v1/namespaces/ns/clusters/c";

/// A controller with namespace `ns` and cluster `c` on `nodes`
/// (`per_shard` nodes a shard).
fn cluster_on(nodes: &[&Server], per_shard: usize) -> (tempfile::TempDir, Controller) {
    let (tmp, dir) = data_dir();
    let ctl = Controller::start(&dir);
    let addrs: Vec<String> = nodes.iter().map(|n| addr(n)).collect();
    ctl.create_cluster("ns", "c", &addrs, per_shard);
    (tmp, ctl)
}

fn doc(ctl: &Controller) -> Value {
    ctl.cluster("ns", "c")
}

fn wait_version(ctl: &Controller, version: i64) -> Value {
    wait_until(Duration::from_secs(30), "the cluster version", || {
        let d = doc(ctl);
        if d["version"].as_i64() >= Some(version) {
            Ok(d)
        } else {
            Err(d.to_string())
        }
    })
}

/// Slots owned by each shard of a cluster document.
fn slot_counts(doc: &Value) -> Vec<u64> {
    doc["shards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s["slot_ranges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    let t = r.as_str().unwrap();
                    let (a, b) = t.split_once('-').unwrap_or((t, t));
                    b.parse::<u64>().unwrap() - a.parse::<u64>().unwrap() + 1
                })
                .sum()
        })
        .collect()
}

fn ranges(doc: &Value, shard: usize) -> Vec<String> {
    doc["shards"][shard]["slot_ranges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect()
}

fn error_of(reply: (u16, Value)) -> (u16, String) {
    (
        reply.0,
        reply.1["error"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("no error in {}", reply.1))
            .to_string(),
    )
}

fn cluster_client(nodes: &[&Server]) -> ClusterConnection {
    let urls: Vec<String> = nodes.iter().map(|n| n.url()).collect();
    ClusterClient::new(urls).unwrap().get_connection().unwrap()
}

fn dbsize(n: &Server) -> i64 {
    redis::cmd("DBSIZE").query(&mut n.client()).unwrap()
}

fn keyslot(c: &mut redis::Connection, key: &str) -> u16 {
    redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query(c)
        .unwrap()
}

/// Keys of five types, `per_type` of each; returns each key with what a
/// user reads back from it.
fn write_typed(cc: &mut ClusterConnection, per_type: usize) -> BTreeMap<String, String> {
    for i in 0..per_type {
        let _: () = cc.set(format!("s:{i}"), format!("v{i}")).unwrap();
        let _: () = cc
            .hset_multiple(format!("h:{i}"), &[("a", i), ("b", i + 1)])
            .unwrap();
        let _: () = cc.rpush(format!("l:{i}"), &[i, i + 1, i + 2]).unwrap();
        let _: () = cc.sadd(format!("set:{i}"), &[i, i * 2 + 1]).unwrap();
        let _: () = cc
            .zadd_multiple(format!("z:{i}"), &[(1.5, "x"), (i as f64, "y")])
            .unwrap();
    }
    read_typed(cc, per_type)
}

fn read_typed(cc: &mut ClusterConnection, per_type: usize) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for i in 0..per_type {
        let s: Option<String> = cc.get(format!("s:{i}")).unwrap();
        out.insert(format!("s:{i}"), format!("{s:?}"));
        let h: BTreeMap<String, String> = cc.hgetall(format!("h:{i}")).unwrap();
        out.insert(format!("h:{i}"), format!("{h:?}"));
        let l: Vec<String> = cc.lrange(format!("l:{i}"), 0, -1).unwrap();
        out.insert(format!("l:{i}"), format!("{l:?}"));
        let mut m: Vec<String> = cc.smembers(format!("set:{i}")).unwrap();
        m.sort();
        out.insert(format!("set:{i}"), format!("{m:?}"));
        let z: Vec<(String, f64)> = cc.zrange_withscores(format!("z:{i}"), 0, -1).unwrap();
        out.insert(format!("z:{i}"), format!("{z:?}"));
    }
    out
}

/// A cluster client SETting `w:<i>` = i until stopped; returns the `i`s
/// the cluster acknowledged.
struct Writer {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<u64>>,
}

impl Writer {
    fn start(nodes: &[&Server]) -> Writer {
        let mut cc = cluster_client(nodes);
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut acked = Vec::new();
            let mut i = 0u64;
            while !s.load(Ordering::Acquire) {
                if cc.set::<_, _, ()>(format!("w:{i}"), i).is_ok() {
                    acked.push(i);
                }
                i += 1;
            }
            acked
        });
        Writer { stop, thread }
    }

    fn stop(self) -> Vec<u64> {
        self.stop.store(true, Ordering::Release);
        self.thread.join().unwrap()
    }
}

fn assert_acked_present(cc: &mut ClusterConnection, acked: &[u64]) {
    assert!(!acked.is_empty(), "the writer got no write through");
    for i in acked {
        let v: Option<u64> = cc.get(format!("w:{i}")).unwrap();
        assert_eq!(v, Some(*i), "acknowledged write w:{i} lost");
    }
}

/// Every key is stored on exactly one node: the masters' key counts add up
/// to the number of distinct keys the cluster serves.
fn assert_each_key_once(masters: &[&Server], keys: usize) {
    let total: i64 = masters.iter().map(|n| dbsize(n)).sum();
    assert_eq!(total as usize, keys, "keys stored more than once, or lost");
}

/// The pushed topology reaches the nodes just after the document is stored.
fn wait_epoch(nodes: &[&Server], version: i64) {
    for n in nodes {
        wait_until(Duration::from_secs(10), "the pushed topology", || {
            let e = info_field(n, "cluster_current_epoch");
            if e == version.to_string() {
                Ok(())
            } else {
                Err(e)
            }
        });
    }
}

/// The old owner no longer stores any key of `slots` (it deletes them once
/// the new topology reaches it).
fn wait_slots_empty(n: &Server, slots: std::ops::RangeInclusive<u16>) {
    let mut c = n.client();
    wait_until(
        Duration::from_secs(20),
        "the moved slots to be emptied",
        || {
            for slot in slots.clone() {
                let count: i64 = redis::cmd("CLUSTER")
                    .arg("COUNTKEYSINSLOT")
                    .arg(slot)
                    .query(&mut c)
                    .unwrap();
                if count != 0 {
                    return Err(format!("slot {slot} still has {count} keys"));
                }
            }
            Ok(())
        },
    );
}

#[test]
fn add_a_shard_and_migrate_a_range_of_every_type_under_a_writer() {
    skip_on_redis!();
    // About a second of migration (1000 keys a second), so the writer's
    // commands meet every phase.
    let nodes: Vec<Server> = (0..3)
        .map(|_| Server::start_with(&["--cluster-enabled", "yes", "--migrate-speed", "1000"]))
        .collect();
    let all: Vec<&Server> = nodes.iter().collect();
    let (_tmp, ctl) = cluster_on(&all[..2], 1); // 0-8191, 8192-16383

    let (status, body) = ctl.post(
        &format!("{C}/shards"),
        json!({"nodes": [addr(&nodes[2])], "password": ""}),
    );
    assert_eq!((status, body.clone()), (201, json!({"data": {"shard": 2}})));
    let d = doc(&ctl);
    assert_eq!(d["version"], 2);
    assert_eq!(d["shards"][2]["nodes"][0]["role"], "master");
    assert_eq!(ranges(&d, 2), Vec::<String>::new());
    for n in &nodes {
        assert_eq!(info_field(n, "cluster_known_nodes"), "3");
        assert_eq!(info_field(n, "cluster_current_epoch"), "2");
    }

    let mut cc = cluster_client(&all[..2]);
    let before = write_typed(&mut cc, 400);
    let writer = Writer::start(&all[..2]);
    std::thread::sleep(Duration::from_millis(200));

    let (status, body) = ctl.post(
        &format!("{C}/migrate"),
        json!({"target": 2, "slot": "0-4095", "slot_only": false}),
    );
    assert_eq!(status, 202, "{body}");
    let job = &body["data"]["migration"];
    assert_eq!(
        (&job["slots"], &job["source"], &job["target"]),
        (&json!("0-4095"), &json!(0), &json!(2))
    );
    assert!(
        job["state"] == "pending" || job["state"] == "running",
        "{job}"
    );

    let d = wait_version(&ctl, 3);
    wait_epoch(&all, 3);
    assert_eq!(ranges(&d, 0), ["4096-8191"]);
    assert_eq!(ranges(&d, 2), ["0-4095"]);
    assert_eq!(info_field(&nodes[0], "migrating_state"), "success");
    std::thread::sleep(Duration::from_millis(300));
    let acked = writer.stop();
    eprintln!("writer: {} acknowledged writes", acked.len());

    let mut cc = cluster_client(&all);
    assert_eq!(read_typed(&mut cc, 400), before, "data changed by the move");
    assert_acked_present(&mut cc, &acked);
    wait_slots_empty(&nodes[0], 0..=4095);
    assert_each_key_once(&all, before.len() + acked.len());
    assert!(dbsize(&nodes[2]) > 0, "the new shard holds the moved keys");
    // Every node routes the moved range to the new shard.
    let mut c = nodes[1].client();
    let slot = keyslot(&mut c, "s:1");
    let owner = if slot <= 4095 {
        2
    } else if slot <= 8191 {
        0
    } else {
        1
    };
    let exists: i64 = redis::cmd("EXISTS")
        .arg("s:1")
        .query(&mut nodes[owner].client())
        .unwrap();
    assert_eq!(exists, 1);
}

#[test]
fn rebalance_onto_an_empty_shard_spreads_the_slots_and_keeps_the_data() {
    skip_on_redis!();
    let nodes: Vec<Server> = (0..3).map(|_| node()).collect();
    let all: Vec<&Server> = nodes.iter().collect();
    let (_tmp, ctl) = cluster_on(&all[..2], 1);
    let mut cc = cluster_client(&all[..2]);
    let before = write_typed(&mut cc, 300);

    let (status, body) = ctl.post(&format!("{C}/shards"), json!({"nodes": [addr(&nodes[2])]}));
    assert_eq!(status, 201, "{body}");
    let (status, body) = ctl.post(&format!("{C}/rebalance"), json!({}));
    assert_eq!(status, 202, "{body}");
    let jobs = body["data"]["migrations"].as_array().unwrap().clone();
    assert_eq!(jobs.len(), 2, "one range from each old shard: {body}");
    for j in &jobs {
        assert_eq!(j["target"], 2);
        assert_eq!(j["state"], "pending");
    }

    // Version 2 after the shard, +1 per job.
    let d = wait_version(&ctl, 4);
    wait_epoch(&all, 4);
    let counts = slot_counts(&d);
    assert_eq!(counts.iter().sum::<u64>(), 16384);
    assert!(
        counts.iter().max().unwrap() - counts.iter().min().unwrap() <= 1,
        "{counts:?}"
    );
    // The old shards keep one range each; the new one gets one from each.
    assert_eq!(ranges(&d, 0), ["0-5461"]);
    assert_eq!(ranges(&d, 1), ["8192-13652"]);
    assert_eq!(ranges(&d, 2), ["5462-8191", "13653-16383"]);

    let mut cc = cluster_client(&all);
    assert_eq!(read_typed(&mut cc, 300), before);
    wait_until(
        Duration::from_secs(20),
        "old owners to drop moved keys",
        || {
            let total: i64 = nodes.iter().map(dbsize).sum();
            if total as usize == before.len() {
                Ok(())
            } else {
                Err(format!("{total} keys on the nodes"))
            }
        },
    );
    for n in &nodes {
        assert!(dbsize(n) > 0);
        assert_eq!(info_field(n, "cluster_state"), "ok");
    }
    // Balanced: nothing left to do.
    let (status, body) = ctl.post(&format!("{C}/rebalance"), json!({}));
    assert_eq!((status, body), (200, json!({"data": {"migrations": []}})));
}

#[test]
fn replicas_are_added_with_the_data_and_removed() {
    skip_on_redis!();
    let nodes: Vec<Server> = (0..2).map(|_| node()).collect();
    let (_tmp, ctl) = cluster_on(&[&nodes[0]], 1);
    let mut m = nodes[0].client();
    for i in 0..200 {
        let _: () = m.set(format!("k:{i}"), i).unwrap();
    }

    let (status, body) = ctl.post(
        &format!("{C}/shards/0/nodes"),
        json!({"addr": addr(&nodes[1]), "role": "slave", "password": ""}),
    );
    assert_eq!(status, 201, "{body}");
    let replica = body["data"]["node"].clone();
    assert_eq!(replica["role"], "slave");
    assert_eq!(replica["addr"], addr(&nodes[1]));
    assert_eq!(doc(&ctl)["version"], 2);
    for i in 200..300 {
        let _: () = m.set(format!("k:{i}"), i).unwrap();
    }
    let mut r = nodes[1].client();
    wait_until(Duration::from_secs(20), "the replica to sync", || {
        let n: i64 = redis::cmd("DBSIZE")
            .query(&mut r)
            .map_err(|e| e.to_string())?;
        if n == 300 {
            Ok(())
        } else {
            Err(format!("{n} keys"))
        }
    });
    let _: () = redis::cmd("READONLY").query(&mut r).unwrap();
    let v: i64 = r.get("k:299").unwrap();
    assert_eq!(v, 299);
    let role: Vec<redis::Value> = redis::cmd("ROLE").query(&mut r).unwrap();
    assert_eq!(role[0], redis::Value::BulkString(b"slave".to_vec()));

    // A master stays; an unknown id is not found; a node already in the
    // cluster is refused.
    let master_id = doc(&ctl)["shards"][0]["nodes"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, msg) = error_of(ctl.delete(&format!("{C}/shards/0/nodes/{master_id}")));
    assert_eq!(status, 409, "{msg}");
    assert_eq!(
        ctl.delete(&format!("{C}/shards/0/nodes/{}", "f".repeat(40)))
            .0,
        404
    );
    let (status, msg) = error_of(ctl.post(
        &format!("{C}/shards/0/nodes"),
        json!({"addr": addr(&nodes[1])}),
    ));
    assert_eq!(status, 409, "{msg}");
    assert_eq!(
        ctl.post(
            &format!("{C}/shards/7/nodes"),
            json!({"addr": "127.0.0.1:1"})
        )
        .0,
        404
    );
    let (status, msg) = error_of(ctl.post(
        &format!("{C}/shards/0/nodes"),
        json!({"addr": "127.0.0.1:1", "role": "master"}),
    ));
    assert_eq!(status, 400, "{msg}");

    let id = replica["id"].as_str().unwrap();
    assert_eq!(
        ctl.delete(&format!("{C}/shards/0/nodes/{id}")),
        (200, json!({"data": "ok"}))
    );
    let d = doc(&ctl);
    assert_eq!(d["version"], 3);
    assert_eq!(d["shards"][0]["nodes"].as_array().unwrap().len(), 1);
    let text: String = redis::cmd("CLUSTER").arg("NODES").query(&mut m).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    // The removed node kept its old topology: it cannot join again as is.
    let (status, msg) = error_of(ctl.post(
        &format!("{C}/shards/0/nodes"),
        json!({"addr": addr(&nodes[1])}),
    ));
    assert_eq!(status, 400, "{msg}");
    assert!(msg.contains("already has a cluster topology"), "{msg}");
}

#[test]
fn shards_are_removed_only_when_empty_and_bad_moves_are_refused() {
    skip_on_redis!();
    // Slow migrations (100 keys a second), so a job is still running when
    // the next requests arrive.
    let nodes: Vec<Server> = (0..3)
        .map(|_| Server::start_with(&["--cluster-enabled", "yes", "--migrate-speed", "100"]))
        .collect();
    let all: Vec<&Server> = nodes.iter().collect();
    let (_tmp, ctl) = cluster_on(&all[..2], 1);

    let (status, msg) = error_of(ctl.delete(&format!("{C}/shards/0")));
    assert_eq!(status, 409, "{msg}");
    assert_eq!(ctl.delete(&format!("{C}/shards/5")).0, 404);
    assert_eq!(error_of(ctl.delete(&format!("{C}/shards/x"))).0, 400);
    for (body, want) in [
        (json!({"target": 1, "slot": "abc"}), 400),
        (json!({"target": 1, "slot": "20000"}), 400),
        (json!({"target": 1, "slot": "9-3"}), 400),
        (json!({"target": 0, "slot": "10-20"}), 400), // already there
        (json!({"target": 1, "slot": "8000-8300"}), 400), // two owners
        (json!({"target": 9, "slot": "10"}), 404),
        (json!({"slot": "10"}), 400),
    ] {
        let (status, msg) = error_of(ctl.post(&format!("{C}/migrate"), body.clone()));
        assert_eq!(status, want, "{body}: {msg}");
    }
    assert_eq!(doc(&ctl)["version"], 1, "refused moves change nothing");

    // slot_only moves ownership at once, without data.
    let (status, body) = ctl.post(
        &format!("{C}/migrate"),
        json!({"target": 0, "slot": 16000, "slot_only": true}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["migration"]["state"], "success");
    let d = doc(&ctl);
    assert_eq!(d["version"], 2);
    assert_eq!(ranges(&d, 0), ["0-8191", "16000"]);
    assert_eq!(ranges(&d, 1), ["8192-15999", "16001-16383"]);
    let slots: Vec<Vec<redis::Value>> = redis::cmd("CLUSTER")
        .arg("SLOTS")
        .query(&mut nodes[0].client())
        .unwrap();
    assert_eq!(slots.len(), 4, "{slots:?}");

    // A shard added and removed again; the nodes follow.
    let (status, body) = ctl.post(&format!("{C}/shards"), json!({"nodes": [addr(&nodes[2])]}));
    assert_eq!(status, 201, "{body}");
    assert_eq!(info_field(&nodes[0], "cluster_known_nodes"), "3");
    assert_eq!(
        ctl.delete(&format!("{C}/shards/2")),
        (200, json!({"data": "ok"}))
    );
    assert_eq!(doc(&ctl)["version"], 4);
    assert_eq!(info_field(&nodes[0], "cluster_known_nodes"), "2");
    assert_eq!(info_field(&nodes[1], "cluster_current_epoch"), "4");

    // While a job runs, other jobs, shard removal and deletion wait.
    let mut c = nodes[0].client();
    let mut written = 0;
    let mut n = 0;
    while written < 300 {
        let key = format!("slow:{n}");
        n += 1;
        if keyslot(&mut c, &key) < 4096 {
            let _: () = c.set(&key, n).unwrap();
            written += 1;
        }
    }
    let (status, body) = ctl.post(
        &format!("{C}/migrate"),
        json!({"target": 1, "slot": "0-4095"}),
    );
    assert_eq!(status, 202, "{body}");
    for reply in [
        ctl.post(
            &format!("{C}/migrate"),
            json!({"target": 1, "slot": "5000"}),
        ),
        ctl.post(
            &format!("{C}/migrate"),
            json!({"target": 1, "slot": "5000", "slot_only": true}),
        ),
        ctl.post(&format!("{C}/rebalance"), json!({})),
        ctl.delete(C),
    ] {
        let (status, msg) = error_of(reply);
        assert_eq!(status, 409, "{msg}");
        assert!(msg.contains("migration job"), "{msg}");
    }
    let d = wait_version(&ctl, 5);
    wait_epoch(&all[..2], 5);
    assert_eq!(ranges(&d, 1), ["0-4095", "8192-15999", "16001-16383"]);
    assert_eq!(ranges(&d, 0), ["4096-8191", "16000"]);
    wait_slots_empty(&nodes[0], 0..=4095);
    assert_eq!(dbsize(&nodes[1]), 300);

    // Deleting the cluster forgets it; the nodes keep serving.
    assert_eq!(ctl.delete(C), (200, json!({"data": "ok"})));
    assert_eq!(ctl.get(C).0, 404);
    assert_eq!(ctl.delete(C).0, 404);
    assert_eq!(
        ctl.get("/api/v1/namespaces/ns/clusters"),
        (200, json!({"data": {"clusters": []}}))
    );
    assert_eq!(info_field(&nodes[0], "cluster_state"), "ok");
}

#[test]
fn scale_from_three_to_four_shards_under_load_keeps_every_acknowledged_write() {
    skip_on_redis!();
    let nodes: Vec<Server> = (0..4)
        .map(|_| Server::start_with(&["--cluster-enabled", "yes", "--migrate-speed", "2000"]))
        .collect();
    let all: Vec<&Server> = nodes.iter().collect();
    let (_tmp, ctl) = cluster_on(&all[..3], 1);
    let mut cc = cluster_client(&all[..3]);
    let before = write_typed(&mut cc, 200);
    let writer = Writer::start(&all[..3]);

    let (status, body) = ctl.post(&format!("{C}/shards"), json!({"nodes": [addr(&nodes[3])]}));
    assert_eq!((status, body), (201, json!({"data": {"shard": 3}})));
    let (status, body) = ctl.post(&format!("{C}/rebalance"), json!({}));
    assert_eq!(status, 202, "{body}");
    let jobs = body["data"]["migrations"].as_array().unwrap().clone();
    assert_eq!(jobs.len(), 3, "one range from each old shard: {body}");

    let d = wait_version(&ctl, 2 + 3);
    wait_epoch(&all, 5);
    let acked = writer.stop();
    eprintln!("writer: {} acknowledged writes", acked.len());
    assert_eq!(slot_counts(&d), [4096, 4096, 4096, 4096]);

    let mut cc = cluster_client(&all);
    assert_eq!(read_typed(&mut cc, 200), before);
    assert_acked_present(&mut cc, &acked);
    wait_until(
        Duration::from_secs(20),
        "old owners to drop moved keys",
        || {
            let total: i64 = nodes.iter().map(dbsize).sum();
            if total as usize == before.len() + acked.len() {
                Ok(())
            } else {
                Err(format!("{total} keys on the nodes"))
            }
        },
    );
    assert!(dbsize(&nodes[3]) > 0);
}

#[test]
fn a_migration_to_a_dead_target_fails_and_leaves_the_topology() {
    skip_on_redis!();
    let mut nodes: Vec<Server> = (0..3).map(|_| node()).collect();
    let all: Vec<&Server> = nodes.iter().collect();
    let (_tmp, ctl) = cluster_on(&all[..2], 1);
    let (status, body) = ctl.post(&format!("{C}/shards"), json!({"nodes": [addr(&nodes[2])]}));
    assert_eq!(status, 201, "{body}");
    let mut c = nodes[0].client();
    let mut n = 0;
    let mut written = 0;
    while written < 50 {
        let key = format!("k:{n}");
        n += 1;
        if keyslot(&mut c, &key) < 1000 {
            let _: () = c.set(&key, n).unwrap();
            written += 1;
        }
    }
    nodes[2].kill9();

    let (status, body) = ctl.post(
        &format!("{C}/migrate"),
        json!({"target": 2, "slot": "0-999"}),
    );
    assert_eq!(status, 202, "{body}");
    // The job fails: a new one is accepted again (not 409), to a live target.
    let moved = wait_until(Duration::from_secs(30), "the failed job to end", || {
        let (status, body) = ctl.post(
            &format!("{C}/migrate"),
            json!({"target": 1, "slot": "0-999"}),
        );
        match status {
            202 => Ok(body),
            409 => Err(body.to_string()),
            _ => panic!("{status} {body}"),
        }
    });
    assert_eq!(moved["data"]["migration"]["target"], 1);
    let d = wait_version(&ctl, 3);
    assert_eq!(ranges(&d, 1), ["0-999", "8192-16383"]);
    assert_eq!(ranges(&d, 2), Vec::<String>::new());
    wait_slots_empty(&nodes[0], 0..=999);
    let mut c1 = nodes[1].client();
    let count: i64 = (0..1000u16)
        .map(|s| {
            redis::cmd("CLUSTER")
                .arg("COUNTKEYSINSLOT")
                .arg(s)
                .query::<i64>(&mut c1)
                .unwrap()
        })
        .sum();
    assert_eq!(count, 50);
}
