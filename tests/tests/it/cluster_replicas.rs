//! Replicas in cluster mode: the replication the topology sets up resumes
//! with a partial sync whenever the histories allow it (a replica killed
//! and restarted from nodes.conf, a SETNODES that re-states its master, a
//! replica pointed at its promoted sibling), and CLUSTER SHARDS reports
//! each replica's health as its master knows it. Real processes on
//! 127.0.0.1; whether a sync was partial or full is read from the master's
//! Kvrocks counters.

use basalt_tests::client::q;
use basalt_tests::cluster::{node_id, shard_field, start_node};
use basalt_tests::nodes::{
    assert_acked_present, assert_same_data, connect, fill_incompressible, info_field, info_int,
    wait_in_sync, wait_until, WriteLoad,
};
use basalt_tests::{skip_on_redis, Server};
use redis::Connection;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

fn master_line(i: usize, s: &Server) -> String {
    format!("{} 127.0.0.1 {} master - 0-16383\n", node_id(i), s.port)
}

fn replica_line(i: usize, s: &Server, master: usize) -> String {
    format!(
        "{} 127.0.0.1 {} slave {}\n",
        node_id(i),
        s.port,
        node_id(master)
    )
}

/// SETNODEID `node_id(i)` and SETNODES `lines` on node `i`.
fn push(i: usize, s: &Server, lines: &str, version: i64) {
    let mut c = s.client();
    let _: () = q(&mut c, &["CLUSTERX", "SETNODEID", &node_id(i)]);
    let _: () = q(
        &mut c,
        &["CLUSTERX", "SETNODES", lines, &version.to_string()],
    );
}

/// `sync_full`, `sync_partial_ok`, `sync_partial_err` of a master.
fn counters(s: &Server) -> (i64, i64, i64) {
    let mut c = connect(s, WAIT);
    (
        info_int(&mut c, "stats", "sync_full"),
        info_int(&mut c, "stats", "sync_partial_ok"),
        info_int(&mut c, "stats", "sync_partial_err"),
    )
}

/// A connection to a replica that reads its master's slots.
fn readonly(s: &Server) -> Connection {
    let mut c = connect(s, WAIT);
    let _: () = q(&mut c, &["READONLY"]);
    c
}

fn wait_health(s: &Server, node: usize, want: &str) {
    let mut c = connect(s, WAIT);
    wait_until(WAIT, &format!("node {node} {want}"), || {
        let h = shard_field(&mut c, "health");
        if h.get(&node_id(node)).map(String::as_str) == Some(want) {
            Ok(())
        } else {
            Err(format!("{h:?}"))
        }
    });
}

#[test]
fn a_replica_killed_and_restarted_from_nodes_conf_resumes_with_a_partial_sync() {
    skip_on_redis!();
    let master = start_node(&[]);
    let mut replica = start_node(&[]);
    let lines = master_line(0, &master) + &replica_line(1, &replica, 0);
    push(0, &master, &lines, 1);
    push(1, &replica, &lines, 1);
    let load = WriteLoad::start(&master, 2);
    load.wait_for_writes(200, WAIT);
    wait_until(WAIT, "the replica streaming", || {
        let mut r = connect(&replica, WAIT);
        match info_field(&mut r, "replication", "master_link_status").as_deref() {
            Some("up") => Ok(()),
            other => Err(format!("{other:?}")),
        }
    });
    let before = counters(&master);

    replica.kill9();
    load.wait_for_writes(300, WAIT);
    replica.restart();
    wait_until(WAIT, "the restarted replica streaming", || {
        let mut r = connect(&replica, WAIT);
        match info_field(&mut r, "replication", "master_link_status").as_deref() {
            Some("up") => Ok(()),
            other => Err(format!("{other:?}")),
        }
    });
    load.wait_for_writes(200, WAIT);
    let acked = load.stop();
    wait_in_sync(&master, &replica, WAIT);

    let after = counters(&master);
    assert_eq!(after.0, before.0, "a full sync after the restart");
    assert!(after.1 > before.1, "no partial sync after the restart");
    assert_eq!(after.2, before.2, "a partial sync refused");
    assert!(replica.log().contains("partial sync from"));
    let mut r = readonly(&replica);
    assert_same_data(&mut master.client(), &mut r);
    assert_acked_present(&mut r, &acked);
}

#[test]
fn setnodes_restating_the_master_keeps_the_stream() {
    skip_on_redis!();
    let master = start_node(&[]);
    let replica = start_node(&[]);
    let lines = master_line(0, &master) + &replica_line(1, &replica, 0);
    push(0, &master, &lines, 1);
    push(1, &replica, &lines, 1);
    let mut m = master.client();
    let _: () = q(&mut m, &["SET", "a", "1"]);
    wait_in_sync(&master, &replica, WAIT);
    let before = counters(&master);

    push(1, &replica, &lines, 2);
    push(0, &master, &lines, 2);
    let _: () = q(&mut m, &["SET", "b", "2"]);
    wait_in_sync(&master, &replica, WAIT);
    assert_eq!(counters(&master), before, "the replica synced again");
    assert_eq!(
        replica.log().matches("replication: following").count(),
        1,
        "the replica reconnected"
    );
    let mut r = readonly(&replica);
    assert_eq!(q::<String>(&mut r, &["GET", "b"]), "2");
}

/// Node 0 is the master of 1 and 2; the topology then promotes 1. Node 2,
/// whose history is a prefix of 1's, resumes from it with a partial sync;
/// node 0, which took a write after the promotion (it had not heard of
/// it yet), has a history 1 lacks and gets a full sync, losing that write.
#[test]
fn replicas_follow_a_promoted_sibling_partially_unless_their_history_diverged() {
    skip_on_redis!();
    let nodes: Vec<Server> = (0..3).map(|_| start_node(&[])).collect();
    let v1 =
        master_line(0, &nodes[0]) + &replica_line(1, &nodes[1], 0) + &replica_line(2, &nodes[2], 0);
    for (i, s) in nodes.iter().enumerate() {
        push(i, s, &v1, 1);
    }
    let mut a = nodes[0].client();
    for i in 0..300 {
        let _: () = q(&mut a, &["SET", &format!("k{i}"), &i.to_string()]);
    }
    wait_in_sync(&nodes[0], &nodes[1], WAIT);
    wait_in_sync(&nodes[0], &nodes[2], WAIT);

    let v2 =
        replica_line(0, &nodes[0], 1) + &master_line(1, &nodes[1]) + &replica_line(2, &nodes[2], 1);
    push(1, &nodes[1], &v2, 2);
    push(2, &nodes[2], &v2, 2);
    wait_in_sync(&nodes[1], &nodes[2], WAIT);
    let (full, ok, err) = counters(&nodes[1]);
    assert_eq!(
        (full, err),
        (0, 0),
        "the sibling's resume from the promoted replica"
    );
    assert!(ok >= 1);

    // The old master has not heard of the promotion yet and takes a write.
    let _: () = q(&mut a, &["SET", "diverged", "x"]);
    push(0, &nodes[0], &v2, 2);
    let mut b = nodes[1].client();
    let _: () = q(&mut b, &["SET", "after", "y"]);
    wait_in_sync(&nodes[1], &nodes[0], WAIT);
    // A full sync, then the partial sync that resumes after it.
    let (full, ok, err) = counters(&nodes[1]);
    assert_eq!(full, 1, "the diverged old master's sync");
    assert!(ok >= 2 && err >= 1, "{ok} {err}");
    let mut old = readonly(&nodes[0]);
    assert_eq!(q::<Option<String>>(&mut old, &["GET", "diverged"]), None);
    assert_eq!(q::<String>(&mut old, &["GET", "after"]), "y");
    assert_eq!(assert_same_data(&mut b, &mut old), 301);
    wait_in_sync(&nodes[1], &nodes[2], WAIT);
    assert_same_data(&mut b, &mut readonly(&nodes[2]));
}

/// CLUSTER SHARDS on a master: a replica in its full sync is `loading`
/// (on the replica too), one that streams `online`, one that is gone
/// `fail`.
#[test]
fn cluster_shards_health_is_what_the_master_knows_of_its_replicas() {
    skip_on_redis!();
    // A full sync of ~3 MB at 1 MB/s: long enough to be seen.
    let master = start_node(&["--max-replication-mb", "1"]);
    let r1 = start_node(&[]);
    let mut r2 = start_node(&[]);
    let lines = master_line(0, &master) + &replica_line(1, &r1, 0) + &replica_line(2, &r2, 0);
    push(0, &master, &lines, 1);
    {
        let mut m = master.client();
        let h = shard_field(&mut m, "health");
        assert_eq!(h[&node_id(0)], "online");
        assert_eq!(h[&node_id(1)], "fail", "a replica never connected");
        fill_incompressible(&mut m, 300, 10_000, 7);
    }
    push(1, &r1, &lines, 1);
    push(2, &r2, &lines, 1);
    wait_health(&master, 1, "loading");
    wait_health(&r1, 1, "loading");

    wait_in_sync(&master, &r1, WAIT);
    wait_in_sync(&master, &r2, WAIT);
    wait_health(&master, 1, "online");
    wait_health(&master, 2, "online");
    wait_health(&r1, 1, "online");

    r2.kill9();
    wait_health(&master, 2, "fail");
    let h = shard_field(&mut master.client(), "health");
    assert_eq!(h[&node_id(0)], "online");
    assert_eq!(h[&node_id(1)], "online");
}
