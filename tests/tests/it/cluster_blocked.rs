//! Clients blocked on keys whose slot stops being served by their node:
//! `MOVED` to the new owner, as Redis's `clusterRedirectBlockedClientIfNeeded`
//! (after CLUSTERX SETSLOT, and at a migration's cut-over), and
//! `UNBLOCKED` when the node becomes a replica (Redis's
//! `replicationSetMaster`). Two real nodes: A serves 0-8191, B the rest.

use basalt_tests::client::{q, reply};
use basalt_tests::cluster::node_id;
use basalt_tests::nodes::wait_until;
use basalt_tests::{against_redis, Server};
use redis::Connection;
use std::thread::JoinHandle;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

fn push(nodes: &[&Server], lines: &str, version: i64) {
    for (i, node) in nodes.iter().enumerate() {
        let mut c = node.client();
        let _: () = q(&mut c, &["CLUSTERX", "SETNODEID", &node_id(i)]);
        let _: () = q(
            &mut c,
            &["CLUSTERX", "SETNODES", lines, &version.to_string()],
        );
    }
}

fn setslot(nodes: &[&Server], range: &str, to: usize, version: i64) {
    for node in nodes {
        let mut c = node.client();
        let ok: String = q(
            &mut c,
            &[
                "CLUSTERX",
                "SETSLOT",
                range,
                "NODE",
                &node_id(to),
                &version.to_string(),
            ],
        );
        assert_eq!(ok, "OK");
    }
}

/// The first `prefix:n` whose slot is in `slots`, and its slot.
fn key_in(c: &mut Connection, prefix: &str, slots: std::ops::RangeInclusive<i64>) -> (String, i64) {
    (0..)
        .map(|n| format!("{prefix}:{n}"))
        .find_map(|k| {
            let slot: i64 = q(c, &["CLUSTER", "KEYSLOT", &k]);
            slots.contains(&slot).then_some((k, slot))
        })
        .unwrap()
}

/// Runs a blocking command on its own connection; its reply, rendered.
/// The commands block 25 s at most, so a client never redirected fails
/// the test with its timeout reply instead of hanging it.
fn block(s: &Server, args: &[&str]) -> JoinHandle<String> {
    let mut c = s.client();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    std::thread::spawn(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        reply(&mut c, &args)
    })
}

fn wait_blocked(s: &Server, n: i64) {
    let mut c = s.client();
    wait_until(WAIT, &format!("{n} blocked clients"), || {
        let info: String = q(&mut c, &["INFO", "clients"]);
        let blocked = info
            .lines()
            .find_map(|l| l.strip_prefix("blocked_clients:"))
            .and_then(|v| v.trim().parse::<i64>().ok());
        if blocked == Some(n) {
            Ok(())
        } else {
            Err(format!("{blocked:?}"))
        }
    });
}

#[test]
fn blocked_clients_follow_their_slot() {
    if against_redis() {
        return;
    }
    let a = Server::start_with(&["--cluster-enabled", "yes"]);
    let b = Server::start_with(&["--cluster-enabled", "yes"]);
    let nodes = [&a, &b];
    let lines = format!(
        "{} 127.0.0.1 {} master - 0-8191\n{} 127.0.0.1 {} master - 8192-16383",
        node_id(0),
        a.port,
        node_id(1),
        b.port
    );
    push(&nodes, &lines, 1);
    let mut ca = a.client();
    // Keys of A in 0-999 (moved by SETSLOT), 1000-1999 (moved by a
    // migration) and 5000-8191 (staying).
    let (list, list_slot) = key_in(&mut ca, "list", 0..=999);
    let (zset, zset_slot) = key_in(&mut ca, "zset", 0..=999);
    let (stream, stream_slot) = key_in(&mut ca, "stream", 0..=999);
    let (moving, moving_slot) = key_in(&mut ca, "mig", 1000..=1999);
    let (staying, _) = key_in(&mut ca, "stay", 5000..=8191);
    let dst = format!("{{{list}}}.dst");

    let waiters = [
        (block(&a, &["BLPOP", &list, "25"]), list_slot),
        (block(&a, &["BZPOPMIN", &zset, "25"]), zset_slot),
        (
            block(&a, &["XREAD", "BLOCK", "25000", "STREAMS", &stream, "$"]),
            stream_slot,
        ),
        (
            block(&a, &["BLMOVE", &list, &dst, "LEFT", "RIGHT", "25"]),
            list_slot,
        ),
    ];
    let stays = block(&a, &["BRPOP", &staying, "25"]);
    wait_blocked(&a, 5);
    setslot(&nodes, "0-999", 1, 2);
    for (waiter, slot) in waiters {
        assert_eq!(
            waiter.join().unwrap(),
            format!("MOVED {slot} 127.0.0.1:{}", b.port)
        );
    }
    // The client blocked on a slot A still serves still waits, and is
    // served as usual.
    wait_blocked(&a, 1);
    assert_eq!(reply(&mut ca, &["LPUSH", &staying, "x"]), "1");
    assert_eq!(stays.join().unwrap(), format!("[{staying},x]"));

    // A migration's cut-over redirects the clients blocked on its slots.
    let _: () = q(&mut ca, &["SET", &format!("{{{moving}}}.other"), "v"]);
    let migrating = block(&a, &["BLPOP", &moving, "25"]);
    let stays = block(&a, &["BLPOP", &staying, "25"]);
    wait_blocked(&a, 2);
    assert_eq!(
        reply(
            &mut ca,
            &["CLUSTERX", "MIGRATE", "1000-1999", &node_id(1), "sync"]
        ),
        "OK"
    );
    assert_eq!(
        migrating.join().unwrap(),
        format!("MOVED {moving_slot} 127.0.0.1:{}", b.port)
    );
    wait_blocked(&a, 1);

    // A becomes B's replica: its blocked clients are told so.
    let lines = format!(
        "{} 127.0.0.1 {} master - 0-16383\n{} 127.0.0.1 {} slave {}",
        node_id(1),
        b.port,
        node_id(0),
        a.port,
        node_id(1)
    );
    for node in [&b, &a] {
        let mut c = node.client();
        let _: () = q(&mut c, &["CLUSTERX", "SETNODES", &lines, "3"]);
    }
    assert_eq!(
        stays.join().unwrap(),
        "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)"
    );
    wait_blocked(&a, 0);
}
