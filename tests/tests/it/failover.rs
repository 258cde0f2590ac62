//! FAILOVER (Basalt only): a master hands its role to one of its replicas
//! on real processes. Every wait is bounded and waits for a condition; a
//! switch under a write load ends by checking that every write the old
//! master acknowledged is on the new one, and that the old master, now a
//! replica, holds the same data.

use basalt_tests::client::{err, reply};
use basalt_tests::nodes::{
    assert_acked_present, assert_same_data, connect, info_field, info_int, replica_via_proxy,
    start_replica, wait_in_sync, wait_link, wait_until, WriteLoad,
};
use basalt_tests::proxy::Proxy;
use basalt_tests::{skip_on_redis, Server};
use redis::Connection;
use std::time::Duration;

const SYNC: Duration = Duration::from_secs(30);

fn failover_state(c: &mut Connection) -> String {
    info_field(c, "replication", "master_failover_state").unwrap_or_default()
}

fn role(c: &mut Connection) -> String {
    info_field(c, "replication", "role").unwrap_or_default()
}

/// Waits until the failover started on `c` ended, one way or the other.
fn wait_failover_end(c: &mut Connection) {
    wait_until(SYNC, "the failover to end", || match failover_state(c) {
        s if s == "no-failover" => Ok(()),
        s => Err(s),
    });
}

/// Waits until `node` follows the master on `port` with its link up.
fn wait_following(node: &Server, port: u16) {
    let mut c = connect(node, SYNC);
    wait_until(
        SYNC,
        "the node to follow its new master",
        || match info_field(&mut c, "replication", "master_port") {
            Some(p) if p == port.to_string() => Ok(()),
            other => Err(format!("{other:?}")),
        },
    );
    wait_link(&mut c, "up", SYNC);
}

#[test]
fn failover_refuses_what_redis_refuses() {
    skip_on_redis!();
    let master = Server::start();
    let mut m = master.client();
    assert_eq!(
        err(&mut m, &["FAILOVER"]),
        "ERR FAILOVER requires connected replicas."
    );
    assert_eq!(
        err(&mut m, &["FAILOVER", "ABORT"]),
        "ERR No failover in progress."
    );
    let replica = start_replica(&master, &[]);
    wait_in_sync(&master, &replica, SYNC);
    let port = replica.port.to_string();
    let syntax = "ERR syntax error";
    assert_eq!(err(&mut m, &["FAILOVER", "TO", "127.0.0.1"]), syntax);
    assert_eq!(err(&mut m, &["FAILOVER", "ABORT", "TIMEOUT", "10"]), syntax);
    assert_eq!(err(&mut m, &["FAILOVER", "FORCE", "FORCE"]), syntax);
    assert_eq!(
        err(&mut m, &["FAILOVER", "TIMEOUT", "1", "TIMEOUT", "2"]),
        syntax
    );
    assert_eq!(
        err(&mut m, &["FAILOVER", "TO", "127.0.0.1", "port"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err(&mut m, &["FAILOVER", "TIMEOUT", "0"]),
        "ERR FAILOVER timeout must be greater than 0"
    );
    let force = "ERR FAILOVER with force option requires both a timeout and target HOST and IP.";
    assert_eq!(err(&mut m, &["FAILOVER", "FORCE", "TIMEOUT", "100"]), force);
    assert_eq!(
        err(&mut m, &["FAILOVER", "TO", "127.0.0.1", &port, "FORCE"]),
        force
    );
    let not_replica = "ERR FAILOVER target HOST and PORT is not a replica.";
    assert_eq!(
        err(
            &mut m,
            &["FAILOVER", "TO", "127.0.0.1", &master.port.to_string()]
        ),
        not_replica
    );
    assert_eq!(
        err(&mut m, &["FAILOVER", "TO", "127.0.0.1", "70000"]),
        not_replica
    );
    assert_eq!(
        err(&mut m, &["FAILOVER", "TO", "localhost", &port]),
        not_replica
    );
    let mut r = replica.client();
    assert_eq!(
        err(&mut r, &["FAILOVER", "TO", "127.0.0.1", &port]),
        "ERR FAILOVER is not valid when server is a replica."
    );
    // Refusals change nothing.
    assert_eq!(failover_state(&mut m), "no-failover");
    assert_eq!(reply(&mut m, &["SET", "still", "writable"]), "OK");
}

#[test]
fn failover_under_a_write_load_loses_no_acknowledged_write() {
    skip_on_redis!();
    let master = Server::start();
    let replica = start_replica(&master, &[]);
    wait_in_sync(&master, &replica, SYNC);
    let load = WriteLoad::start(&master, 4);
    load.wait_for_writes(2000, SYNC);
    let mut m = master.client();
    assert_eq!(reply(&mut m, &["FAILOVER"]), "OK");
    wait_failover_end(&mut m);
    // Writes held during the switch reach a replica now: refused.
    load.wait_for_writes(0, SYNC);
    let acked = load.stop();
    assert!(acked.len() >= 2000);
    let mut r = connect(&replica, SYNC);
    assert_eq!(role(&mut r), "master");
    assert_eq!(role(&mut m), "slave");
    assert_acked_present(&mut r, &acked);
    assert!(err(&mut m, &["SET", "k", "v"]).starts_with("READONLY"));

    // The old master follows the new one and converges with it.
    wait_following(&master, replica.port);
    assert_eq!(reply(&mut r, &["SET", "after", "failover"]), "OK");
    wait_in_sync(&replica, &master, SYNC);
    let mut m = connect(&master, SYNC);
    assert_same_data(&mut r, &mut m);
    assert_eq!(reply(&mut m, &["GET", "after"]), "failover");
    // Its history is a prefix of the new master's: the replication id lets
    // it resume from the WAL instead of fetching a checkpoint.
    assert_eq!(info_int(&mut r, "stats", "sync_full"), 0);
    assert!(info_int(&mut r, "stats", "sync_partial_ok") >= 1);
}

#[test]
fn failover_to_a_chosen_replica() {
    skip_on_redis!();
    let master = Server::start();
    let first = start_replica(&master, &[]);
    let second = start_replica(&master, &[]);
    wait_in_sync(&master, &first, SYNC);
    wait_in_sync(&master, &second, SYNC);
    let mut m = master.client();
    for i in 0..200 {
        assert_eq!(reply(&mut m, &["SET", &format!("k{i}"), "v"]), "OK");
    }
    let to = second.port.to_string();
    assert_eq!(reply(&mut m, &["FAILOVER", "TO", "127.0.0.1", &to]), "OK");
    wait_failover_end(&mut m);
    let mut s = connect(&second, SYNC);
    assert_eq!(role(&mut s), "master");
    assert_eq!(role(&mut m), "slave");
    let mut f = connect(&first, SYNC);
    assert_eq!(role(&mut f), "slave");
    wait_following(&master, second.port);
    wait_in_sync(&second, &master, SYNC);
    let mut m = connect(&master, SYNC);
    assert_eq!(assert_same_data(&mut s, &mut m), 200);
    // The other replica follows the chain: new master, old master, it.
    assert_eq!(reply(&mut s, &["SET", "through", "the chain"]), "OK");
    wait_until(
        SYNC,
        "the write to reach the end of the chain",
        || match reply(&mut connect(&first, SYNC), &["GET", "through"]) {
            v if v == "the chain" => Ok(()),
            v => Err(v),
        },
    );
    let mut f = connect(&first, SYNC);
    assert_eq!(assert_same_data(&mut s, &mut f), 201);
}

/// A master whose only replica reaches it through a proxy that holds
/// every chunk 2 s: no write can be acknowledged quickly.
struct SlowReplica {
    master: Server,
    replica: Server,
    proxy: Proxy,
}

fn slow_replica() -> SlowReplica {
    let master = Server::start();
    let (proxy, replica) = replica_via_proxy(&master, &[]);
    wait_in_sync(&master, &replica, SYNC);
    proxy.delay(Duration::from_secs(2));
    let mut m = master.client();
    assert_eq!(reply(&mut m, &["SET", "behind", "1"]), "OK");
    SlowReplica {
        master,
        replica,
        proxy,
    }
}

/// A SET on its own connection, held while writes are paused.
fn held_set(master: &Server, key: &str) -> std::thread::JoinHandle<String> {
    let mut c = master.client();
    let key = key.to_string();
    std::thread::spawn(move || reply(&mut c, &["SET", &key, "after"]))
}

fn wait_blocked(c: &mut Connection) {
    wait_until(SYNC, "a held write", || {
        match info_int(c, "clients", "blocked_clients") {
            1 => Ok(()),
            n => Err(format!("{n} blocked clients")),
        }
    });
}

#[test]
fn failover_timeout_aborts_when_the_replica_cannot_catch_up() {
    skip_on_redis!();
    let nodes = slow_replica();
    let mut m = nodes.master.client();
    assert_eq!(reply(&mut m, &["FAILOVER", "TIMEOUT", "3000"]), "OK");
    assert_eq!(failover_state(&mut m), "waiting-for-sync");
    let held = held_set(&nodes.master, "held");
    wait_blocked(&mut m);
    assert_eq!(
        err(&mut m, &["FAILOVER"]),
        "ERR FAILOVER already in progress."
    );
    assert_eq!(
        err(&mut m, &["REPLICAOF", "NO", "ONE"]),
        "ERR REPLICAOF not allowed while failing over."
    );
    // CLIENT UNPAUSE does not end a failover's hold.
    assert_eq!(reply(&mut m, &["CLIENT", "UNPAUSE"]), "OK");
    wait_failover_end(&mut m);
    assert_eq!(held.join().unwrap(), "OK");
    assert_eq!(role(&mut m), "master");
    assert_eq!(reply(&mut m, &["SET", "more", "1"]), "OK");
    let mut r = nodes.replica.client();
    assert_eq!(role(&mut r), "slave");
    // The replica still follows and catches up once the link is fast.
    nodes.proxy.delay(Duration::ZERO);
    wait_in_sync(&nodes.master, &nodes.replica, SYNC);
    assert_same_data(&mut m, &mut r);
}

#[test]
fn failover_abort_resumes_writes() {
    skip_on_redis!();
    let nodes = slow_replica();
    let mut m = nodes.master.client();
    assert_eq!(reply(&mut m, &["FAILOVER"]), "OK");
    let held = held_set(&nodes.master, "held");
    wait_blocked(&mut m);
    assert_eq!(failover_state(&mut m), "waiting-for-sync");
    assert_eq!(reply(&mut m, &["FAILOVER", "ABORT"]), "OK");
    assert_eq!(failover_state(&mut m), "no-failover");
    assert_eq!(held.join().unwrap(), "OK");
    assert_eq!(reply(&mut m, &["SET", "more", "1"]), "OK");
    assert_eq!(
        err(&mut m, &["FAILOVER", "ABORT"]),
        "ERR No failover in progress."
    );
    assert_eq!(role(&mut m), "master");
    nodes.proxy.delay(Duration::ZERO);
    wait_in_sync(&nodes.master, &nodes.replica, SYNC);
    let mut r = nodes.replica.client();
    assert_eq!(reply(&mut r, &["GET", "held"]), "after");
}

#[test]
fn failover_force_promotes_a_replica_that_did_not_catch_up() {
    skip_on_redis!();
    let nodes = slow_replica();
    let mut m = nodes.master.client();
    let to = nodes.replica.port.to_string();
    assert_eq!(
        reply(
            &mut m,
            &[
                "FAILOVER",
                "TO",
                "127.0.0.1",
                &to,
                "FORCE",
                "TIMEOUT",
                "300"
            ]
        ),
        "OK"
    );
    wait_failover_end(&mut m);
    assert_eq!(role(&mut m), "slave");
    let mut r = nodes.replica.client();
    assert_eq!(role(&mut r), "master");
    assert_eq!(reply(&mut r, &["SET", "on", "the new master"]), "OK");
    nodes.proxy.delay(Duration::ZERO);
    wait_following(&nodes.master, nodes.replica.port);
    wait_in_sync(&nodes.replica, &nodes.master, SYNC);
    let mut m = connect(&nodes.master, SYNC);
    assert_same_data(&mut r, &mut m);
}
