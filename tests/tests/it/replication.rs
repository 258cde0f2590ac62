//! Replication (Basalt only): real master and replica processes on
//! 127.0.0.1. Every wait is bounded and waits for a condition; every test
//! ends by comparing both sides key by key (type, expiry, value) and, under
//! a write load, by checking that every acknowledged write is there.

use basalt_tests::client::{err, q, reply};
use basalt_tests::nodes::{
    assert_acked_present, assert_same_data, connect, fill_incompressible, info_field, info_int,
    replica_via_proxy, start_replica, wait_in_sync, wait_link, wait_replicas, wait_until,
    WriteLoad,
};
use basalt_tests::{skip_on_redis, Server};
use std::io::{Read, Write};
use std::time::Duration;

const SYNC: Duration = Duration::from_secs(30);

/// A dataset with every type (Bloom and JSON included, which DUMP
/// refuses), expiry times, a field TTL, scripts and a function.
fn fill_every_type(c: &mut redis::Connection) {
    let _: () = q(c, &["SET", "str", "hello"]);
    let _: () = q(c, &["SET", "str:ttl", "x", "EX", "1000"]);
    let _: () = q(c, &["SET", "bin", "\u{0}\r\n\u{ff}"]);
    let _: i64 = q(c, &["HSET", "hash", "a", "1", "b", "2"]);
    let _: i64 = q(c, &["RPUSH", "list", "1", "2", "3"]);
    let _: i64 = q(c, &["SADD", "set", "x", "y", "z"]);
    let _: i64 = q(c, &["ZADD", "zset", "1.5", "a", "-2", "b"]);
    let _: i64 = q(c, &["SETBIT", "bits", "100", "1"]);
    let _: i64 = q(c, &["GEOADD", "geo", "13.36", "38.11", "palermo"]);
    let _: i64 = q(c, &["PEXPIRE", "hash", "5000000"]);
    let _: i64 = q(c, &["PFADD", "hll", "a", "b", "c"]);
    let _: String = q(c, &["XADD", "stream", "1-1", "f", "v"]);
    let _: String = q(c, &["XADD", "stream", "2-1", "f", "w"]);
    let _: () = q(c, &["XGROUP", "CREATE", "stream", "g", "0"]);
    let _: redis::Value = q(
        c,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "COUNT",
            "1",
            "STREAMS",
            "stream",
            ">",
        ],
    );
    let _: () = q(
        c,
        &["JSON.SET", "json", "$", r#"{"a":[1,2.5,"x"],"b":null}"#],
    );
    let _: redis::Value = q(c, &["BF.MADD", "bloom", "apple", "pear", "plum"]);
    let _: redis::Value = q(
        c,
        &["BF.RESERVE", "bloom:fixed", "0.001", "50", "NONSCALING"],
    );
    let _: redis::Value = q(c, &["BF.ADD", "bloom:fixed", "item:7"]);
    let _: i64 = q(c, &["HSET", "fields", "lasting", "1", "fading", "2"]);
    let _: redis::Value = q(
        c,
        &["HPEXPIRE", "fields", "5000000", "FIELDS", "1", "fading"],
    );
    for i in 0..300 {
        let _: i64 = q(c, &["HSET", "bighash", &format!("f{i}"), &"v".repeat(100)]);
    }
    let _: String = q(c, &["SCRIPT", "LOAD", "return 'from the master'"]);
    let _: String = q(
        c,
        &[
            "FUNCTION",
            "LOAD",
            "#!lua name=replicated\nredis.register_function('hi', function() return 'hi' end)",
        ],
    );
}

#[test]
fn a_full_sync_copies_every_type_and_replaces_the_replicas_own_data() {
    skip_on_redis!();
    let master = Server::start();
    let mut m = master.client();
    fill_every_type(&mut m);
    // The replica starts as a master with data of its own and a longer
    // history than the master's: no partial sync can fit, it must take
    // the master's checkpoint and lose its own keys.
    let replica = Server::start();
    let mut r = replica.client();
    let mut own = redis::pipe();
    for i in 0..5000 {
        own.cmd("SET").arg(format!("own:{i}")).arg("x").ignore();
    }
    let _: () = own.query(&mut r).unwrap();
    assert!(
        info_int(&mut r, "replication", "master_repl_offset")
            > info_int(&mut m, "replication", "master_repl_offset") + 1000
    );
    let full_before = info_int(&mut m, "stats", "sync_full");
    let to = master.port.to_string();
    assert_eq!(reply(&mut r, &["REPLICAOF", "127.0.0.1", &to]), "OK");
    wait_in_sync(&master, &replica, SYNC);
    assert_eq!(info_int(&mut m, "stats", "sync_full"), full_before + 1);
    let mut r = connect(&replica, SYNC);
    let keys = assert_same_data(&mut m, &mut r);
    assert_eq!(keys, 16, "every key compared");
    assert_eq!(reply(&mut r, &["GET", "own:1"]), "nil");

    // What a full sync brings beyond keys: scripts and functions.
    assert_eq!(
        reply(&mut r, &["EVALSHA", &sha1_of_script(&mut m), "0"]),
        "from the master"
    );
    assert_eq!(reply(&mut r, &["FCALL", "hi", "0"]), "hi");

    // The stream goes on after the full sync.
    let _: () = q(&mut m, &["SET", "after", "1"]);
    let _: i64 = q(&mut m, &["DEL", "list"]);
    let _: i64 = q(&mut m, &["BF.ADD", "bloom", "fig"]);
    let _: redis::Value = q(&mut m, &["JSON.ARRAPPEND", "json", "$.a", "true"]);
    let _: i64 = q(&mut m, &["PFADD", "hll", "d"]);
    wait_in_sync(&master, &replica, SYNC);
    assert_same_data(&mut m, &mut r);
    assert_eq!(reply(&mut r, &["GET", "after"]), "1");

    assert_eq!(
        err(&mut r, &["SET", "k", "v"]),
        "READONLY You can't write against a read only replica."
    );
    assert!(
        err(&mut r, &["EVAL", "return redis.call('SET', 'k', 'v')", "0"])
            .contains("READONLY You can't write against a read only replica.")
    );
}

fn sha1_of_script(c: &mut redis::Connection) -> String {
    q(c, &["SCRIPT", "LOAD", "return 'from the master'"])
}

#[test]
fn live_replication_under_a_concurrent_write_load() {
    skip_on_redis!();
    let master = Server::start();
    let replica = start_replica(&master, &[]);
    wait_in_sync(&master, &replica, SYNC);
    let load = WriteLoad::start(&master, 4);
    load.wait_for_writes(3000, SYNC);
    // Reads on the replica meanwhile see a prefix of the master's history.
    let mut r = connect(&replica, SYNC);
    wait_until(SYNC, "writes to reach the replica", || {
        match info_int(&mut r, "replication", "slave_repl_offset") {
            n if n > 1000 => Ok(()),
            n => Err(format!("replica at {n}")),
        }
    });
    let acked = load.stop();
    wait_in_sync(&master, &replica, SYNC);
    let mut m = master.client();
    assert_same_data(&mut m, &mut r);
    assert_acked_present(&mut r, &acked);
    assert_acked_present(&mut m, &acked);
    let role: Vec<redis::Value> = q(&mut m, &["ROLE"]);
    assert_eq!(basalt_tests::client::show(&role[0]), "master");
    let slave0 = info_field(&mut m, "replication", "slave0").expect("slave0");
    assert!(
        slave0.starts_with(&format!("ip=127.0.0.1,port={},state=online,", replica.port)),
        "{slave0}"
    );
}

#[test]
fn a_replica_killed_under_load_resumes_with_a_partial_sync() {
    skip_on_redis!();
    let master = Server::start();
    let mut replica = start_replica(&master, &[]);
    wait_in_sync(&master, &replica, SYNC);
    let mut m = master.client();
    let (full, partial) = (
        info_int(&mut m, "stats", "sync_full"),
        info_int(&mut m, "stats", "sync_partial_ok"),
    );
    let load = WriteLoad::start(&master, 4);
    load.wait_for_writes(2000, SYNC);
    replica.kill9();
    load.wait_for_writes(2000, SYNC);
    replica.restart();
    load.wait_for_writes(2000, SYNC);
    let acked = load.stop();
    wait_in_sync(&master, &replica, SYNC);
    // Resumed from the WAL, inside its window: a partial sync, no full one.
    assert_eq!(info_int(&mut m, "stats", "sync_full"), full);
    assert_eq!(info_int(&mut m, "stats", "sync_partial_ok"), partial + 1);
    let mut r = connect(&replica, SYNC);
    assert_same_data(&mut m, &mut r);
    assert_acked_present(&mut r, &acked);
}

#[test]
fn a_master_killed_under_load_comes_back_and_the_replica_resumes() {
    skip_on_redis!();
    let mut master = Server::start();
    let replica = start_replica(&master, &[]);
    wait_in_sync(&master, &replica, SYNC);
    let load = WriteLoad::start(&master, 4);
    load.wait_for_writes(2000, SYNC);
    master.kill9();
    let mut r = connect(&replica, SYNC);
    wait_link(&mut r, "down", SYNC);
    master.restart();
    // The writers reconnect by themselves.
    load.wait_for_writes(2000, SYNC);
    let acked = load.stop();
    wait_in_sync(&master, &replica, SYNC);
    let mut m = connect(&master, SYNC);
    // The replica never gets ahead of what the master wrote to its WAL, so
    // it resumes where it was.
    assert_eq!(info_int(&mut m, "stats", "sync_full"), 0);
    assert_eq!(info_int(&mut m, "stats", "sync_partial_ok"), 1);
    assert_same_data(&mut m, &mut r);
    assert_acked_present(&mut m, &acked);
    assert_acked_present(&mut r, &acked);
}

#[test]
fn replicaof_no_one_promotes_the_replica() {
    skip_on_redis!();
    let master = Server::start();
    let replica = Server::start();
    let (mut m, mut r) = (master.client(), replica.client());
    let _: () = q(&mut m, &["SET", "before", "1"]);
    let to = master.port.to_string();
    assert_eq!(reply(&mut r, &["SLAVEOF", "127.0.0.1", &to]), "OK");
    assert_eq!(
        reply(&mut r, &["REPLICAOF", "127.0.0.1", &to]),
        "OK Already connected to specified master"
    );
    wait_in_sync(&master, &replica, SYNC);
    let role = reply(&mut r, &["ROLE"]);
    assert_eq!(
        role,
        format!(
            "[slave,127.0.0.1,{to},connected,{}]",
            info_int(&mut m, "replication", "master_repl_offset")
        )
    );
    assert_eq!(
        info_field(&mut r, "replication", "master_host").as_deref(),
        Some("127.0.0.1")
    );
    assert_eq!(
        info_field(&mut r, "replication", "master_port"),
        Some(to.clone())
    );
    assert_eq!(
        info_field(&mut r, "replication", "master_sync_in_progress").as_deref(),
        Some("0")
    );
    assert_eq!(
        reply(&mut r, &["CONFIG", "GET", "slaveof"]),
        format!("[slaveof,127.0.0.1 {to}]")
    );

    assert_eq!(reply(&mut r, &["REPLICAOF", "NO", "ONE"]), "OK");
    assert_eq!(
        info_field(&mut r, "replication", "role").as_deref(),
        Some("master")
    );
    assert_eq!(reply(&mut r, &["SET", "mine", "2"]), "OK");
    assert_eq!(reply(&mut r, &["GET", "before"]), "1");
    // The old master's writes no longer arrive.
    let _: () = q(&mut m, &["SET", "later", "3"]);
    wait_replicas(&mut m, 0, SYNC);
    assert_eq!(reply(&mut r, &["GET", "later"]), "nil");
    assert_eq!(reply(&mut r, &["CONFIG", "GET", "slaveof"]), "[slaveof,]");

    assert_eq!(
        err(&mut r, &["REPLICAOF", "127.0.0.1", "0"]),
        "ERR Invalid master port"
    );
    let own = replica.port.to_string();
    assert_eq!(
        err(&mut r, &["REPLICAOF", "127.0.0.1", &own]),
        "ERR can't replicate itself"
    );
    assert!(err(&mut r, &["REPLICAOF", "127.0.0.1"]).starts_with("ERR wrong number of arguments"));
}

#[test]
fn a_cut_or_slow_link_resumes_with_partial_syncs() {
    skip_on_redis!();
    let master = Server::start();
    let (proxy, replica) = replica_via_proxy(&master, &[]);
    let mut m = master.client();
    wait_replicas(&mut m, 1, SYNC);
    let (full, partial) = (
        info_int(&mut m, "stats", "sync_full"),
        info_int(&mut m, "stats", "sync_partial_ok"),
    );
    let load = WriteLoad::start(&master, 3);
    load.wait_for_writes(1000, SYNC);

    // Cut, and keep the master unreachable until the replica says so.
    proxy.refuse(true);
    proxy.cut();
    let mut r = connect(&replica, SYNC);
    wait_link(&mut r, "down", SYNC);
    load.wait_for_writes(1000, SYNC);
    proxy.refuse(false);
    wait_link(&mut r, "up", SYNC);

    // A slow link, then a cut in the middle of the stream.
    proxy.delay(Duration::from_millis(20));
    load.wait_for_writes(1000, SYNC);
    proxy.cut();
    proxy.delay(Duration::ZERO);
    load.wait_for_writes(1000, SYNC);
    let acked = load.stop();
    wait_in_sync(&master, &replica, SYNC);
    assert_same_data(&mut m, &mut r);
    assert_acked_present(&mut r, &acked);
    // Every reconnection resumed from the WAL.
    assert_eq!(info_int(&mut m, "stats", "sync_full"), full);
    let resumed = info_int(&mut m, "stats", "sync_partial_ok") - partial;
    assert!(resumed >= 2, "{resumed} partial syncs");
    assert!(proxy.accepted() >= 3, "{} connections", proxy.accepted());
}

/// Whether the master would still resume a replica at `next` (a PSYNC
/// probe; an accepted one is hung up at once).
fn psync_accepted(master: &Server, next: i64) -> bool {
    let mut s = master.raw();
    send(&mut s, &[b"PSYNC", next.to_string().as_bytes()]);
    line(&mut s) == b"+OK"
}

#[test]
fn a_replica_out_of_the_wal_window_gets_a_full_sync() {
    skip_on_redis!();
    // No archived WAL at all: once flushed, a WAL file is deleted.
    let master = Server::start_with(&[
        "--rocksdb.wal_ttl_seconds",
        "0",
        "--rocksdb.wal_size_limit_mb",
        "0",
    ]);
    let mut replica = start_replica(&master, &[]);
    let mut m = master.client();
    let _: () = q(&mut m, &["SET", "first", "1"]);
    wait_in_sync(&master, &replica, SYNC);
    let mut r = connect(&replica, SYNC);
    let resume_at = info_int(&mut r, "replication", "slave_repl_offset") + 1;
    drop(r);
    assert!(replica.terminate().is_some_and(|s| s.success()));
    let mut writes = redis::pipe();
    for i in 0..2000 {
        writes.cmd("SET").arg(format!("later:{i}")).arg(i).ignore();
    }
    let _: () = writes.query(&mut m).unwrap();
    wait_until(SYNC, "the WAL to drop the replica's position", || {
        if !psync_accepted(&master, resume_at) {
            return Ok(());
        }
        let _: String = q(&mut m, &["BGREWRITEAOF"]);
        Err(format!("sequence {resume_at} still in the WAL"))
    });
    let full = info_int(&mut m, "stats", "sync_full");
    replica.restart();
    wait_in_sync(&master, &replica, SYNC);
    assert_eq!(info_int(&mut m, "stats", "sync_full"), full + 1);
    let mut r = connect(&replica, SYNC);
    assert_same_data(&mut m, &mut r);
    // And from the checkpoint on, a partial sync carries the stream.
    let _: () = q(&mut m, &["SET", "after", "1"]);
    wait_in_sync(&master, &replica, SYNC);
    assert_eq!(reply(&mut r, &["GET", "after"]), "1");
    assert_eq!(info_int(&mut m, "stats", "sync_full"), full + 1);
}

#[test]
fn a_replica_of_a_replica_follows_the_chain() {
    skip_on_redis!();
    let a = Server::start();
    let b = start_replica(&a, &[]);
    wait_in_sync(&a, &b, SYNC);
    let c = start_replica(&b, &[]);
    let load = WriteLoad::start(&a, 3);
    load.wait_for_writes(2000, SYNC);
    let acked = load.stop();
    wait_in_sync(&a, &b, SYNC);
    wait_in_sync(&b, &c, SYNC);
    let (mut ma, mut mc) = (a.client(), connect(&c, SYNC));
    assert_same_data(&mut ma, &mut mc);
    assert_acked_present(&mut mc, &acked);
    assert_eq!(
        err(&mut mc, &["SET", "k", "v"]),
        "READONLY You can't write against a read only replica."
    );
}

/// Reads during a full sync see the old data, the new data, or LOADING
/// while the new data is swapped in; never anything else.
#[test]
fn reads_during_a_full_sync_see_old_or_new_data() {
    skip_on_redis!();
    let master = Server::start();
    let mut m = master.client();
    let mut fill = redis::pipe();
    for i in 0..3000 {
        fill.cmd("SET")
            .arg(format!("m:{i}"))
            .arg("x".repeat(1000))
            .ignore();
    }
    fill.cmd("SET").arg("k").arg("new").ignore();
    let _: () = fill.query(&mut m).unwrap();
    let replica = Server::start();
    let mut r = replica.client();
    let _: () = q(&mut r, &["SET", "k", "old"]);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (url, stop) = (replica.url(), stop.clone());
        std::thread::spawn(move || {
            let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
            let mut seen = std::collections::BTreeMap::<String, u64>::new();
            while !stop.load(std::sync::atomic::Ordering::Acquire) {
                let got = match redis::cmd("GET").arg("k").query::<Option<String>>(&mut c) {
                    Ok(v) => format!("{v:?}"),
                    Err(e) => e.code().unwrap_or("io").to_string(),
                };
                *seen.entry(got).or_default() += 1;
            }
            seen
        })
    };
    let to = master.port.to_string();
    assert_eq!(reply(&mut r, &["REPLICAOF", "127.0.0.1", &to]), "OK");
    wait_in_sync(&master, &replica, SYNC);
    stop.store(true, std::sync::atomic::Ordering::Release);
    let seen = reader.join().unwrap();
    let allowed = ["Some(\"old\")", "Some(\"new\")", "LOADING"];
    assert!(
        seen.keys().all(|k| allowed.contains(&k.as_str())),
        "{seen:?}"
    );
    assert!(seen.contains_key("Some(\"new\")"), "{seen:?}");
    let mut r = connect(&replica, SYNC);
    assert_same_data(&mut m, &mut r);
}

/// Kvrocks #462: a promoted replica and its old master both take writes,
/// ending at the same sequence number with different data; attached again,
/// the replica must not keep its own writes.
#[test]
fn a_replica_attached_again_after_diverging_takes_the_masters_data() {
    skip_on_redis!();
    let master = Server::start();
    let replica = start_replica(&master, &[]);
    let (mut m, mut r) = (master.client(), connect(&replica, SYNC));
    let _: () = q(&mut m, &["SET", "shared", "0"]);
    wait_in_sync(&master, &replica, SYNC);
    assert_eq!(reply(&mut r, &["REPLICAOF", "NO", "ONE"]), "OK");
    for i in 0..10 {
        let _: () = q(&mut m, &["SET", "k", &format!("master-{i}")]);
        let _: () = q(&mut r, &["SET", "k", &format!("replica-{i}")]);
    }
    let _: () = q(&mut r, &["SET", "only-on-the-replica", "1"]);
    let _: () = q(&mut m, &["SET", "only-on-the-master", "1"]);
    let _: () = q(&mut m, &["SET", "one-more-on-the-master", "1"]);
    // (The promotion's new replication id took one sequence number.)
    assert_eq!(
        info_int(&mut m, "replication", "master_repl_offset"),
        info_int(&mut r, "replication", "master_repl_offset"),
        "both histories are as long"
    );
    let full = info_int(&mut m, "stats", "sync_full");
    let refused = info_int(&mut m, "stats", "sync_partial_err");
    let to = master.port.to_string();
    assert_eq!(reply(&mut r, &["REPLICAOF", "127.0.0.1", &to]), "OK");
    wait_until(SYNC, "a full sync", || {
        match info_int(&mut m, "stats", "sync_full") {
            n if n == full + 1 => Ok(()),
            n => Err(format!("sync_full {n}")),
        }
    });
    // The sequence fits, the replication id does not.
    assert!(info_int(&mut m, "stats", "sync_partial_err") > refused);
    wait_in_sync(&master, &replica, SYNC);
    let mut r = connect(&replica, SYNC);
    assert_same_data(&mut m, &mut r);
    assert_eq!(reply(&mut r, &["GET", "k"]), "master-9");
    assert_eq!(reply(&mut r, &["GET", "only-on-the-replica"]), "nil");
}

#[test]
fn a_replica_without_its_master_can_refuse_stale_reads() {
    skip_on_redis!();
    let master = Server::start();
    let (proxy, replica) = replica_via_proxy(&master, &["--slave-serve-stale-data", "no"]);
    let mut m = master.client();
    let _: () = q(&mut m, &["SET", "k", "v"]);
    wait_in_sync(&master, &replica, SYNC);
    let mut r = connect(&replica, SYNC);
    assert_eq!(reply(&mut r, &["GET", "k"]), "v");
    proxy.refuse(true);
    proxy.cut();
    wait_until(SYNC, "MASTERDOWN", || match reply(&mut r, &["GET", "k"]) {
        e if e.starts_with("MASTERDOWN") => Ok(e),
        other => Err(other),
    });
    assert_eq!(
        err(&mut r, &["GET", "k"]),
        "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
    );
    // Commands flagged stale still answer.
    assert_eq!(
        info_field(&mut r, "replication", "master_link_status").as_deref(),
        Some("down")
    );
    assert_eq!(
        reply(
            &mut r,
            &["CONFIG", "SET", "replica-serve-stale-data", "yes"]
        ),
        "OK"
    );
    assert_eq!(reply(&mut r, &["GET", "k"]), "v");
    proxy.refuse(false);
    let _: () = q(&mut m, &["SET", "k", "w"]);
    wait_in_sync(&master, &replica, SYNC);
    assert_eq!(reply(&mut r, &["GET", "k"]), "w");
}

/// A master that answers the handshake, then sends one piece of garbage
/// per connection: the replica must refuse each, stay up, write nothing,
/// and still sync from a real master afterwards.
#[test]
fn garbage_from_a_master_never_harms_the_replica() {
    skip_on_redis!();
    let batch = |records: &[u8], count: u32| {
        let mut b = 1u64.to_le_bytes().to_vec();
        b.extend_from_slice(&count.to_le_bytes());
        b.extend_from_slice(records);
        b
    };
    let bulk = |data: &[u8]| {
        let mut out = format!("${}\r\n", data.len()).into_bytes();
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
        out
    };
    let garbage: Vec<Vec<u8>> = vec![
        bulk(b"hello"),
        // An unknown record type.
        bulk(&batch(&[0x16, 1, b'k', 1, b'v'], 1)),
        // A put into column family 200, which does not exist.
        bulk(&batch(&[0x5, 200, 1, 1, b'k', 1, b'v'], 1)),
        // A record count that does not match.
        bulk(&batch(&[0x1, 1, b'k', 1, b'v'], 3)),
        b":1\r\n".to_vec(),
        b"$99999999999999999999\r\n".to_vec(),
    ];
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let fake_port = listener.local_addr().unwrap().port();
    let served = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let fake = {
        let served = served.clone();
        std::thread::spawn(move || {
            for piece in garbage {
                let (mut s, _) = listener.accept().unwrap();
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                let mut seen = Vec::new();
                let mut buf = [0u8; 1024];
                for (asked, answer) in [
                    (&b"_db_name"[..], &b"change.me.db\r\n"[..]),
                    (b"listening-port", b"+OK\r\n"),
                    // A Kvrocks master refuses Basalt's option.
                    (b"keyspace-events", b"-ERR unknown option\r\n"),
                    (b"PSYNC", b"+OK\r\n"),
                ] {
                    while !seen.windows(asked.len()).any(|w| w == asked) {
                        let n = s.read(&mut buf).unwrap();
                        assert!(n > 0, "the replica hung up in the handshake");
                        seen.extend_from_slice(&buf[..n]);
                    }
                    seen.clear();
                    s.write_all(answer).unwrap();
                }
                s.write_all(&piece).unwrap();
                // The replica drops the link once it sees the garbage.
                let _ = s.read(&mut buf);
                served.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
            }
        })
    };
    let to = format!("127.0.0.1 {fake_port}");
    let replica = Server::start_with(&["--slaveof", &to]);
    fake.join().expect("fake master");
    assert_eq!(served.load(std::sync::atomic::Ordering::Acquire), 6);
    let mut r = connect(&replica, SYNC);
    assert_eq!(reply(&mut r, &["PING"]), "PONG");
    assert_eq!(reply(&mut r, &["DBSIZE"]), "0");
    assert_eq!(info_int(&mut r, "replication", "slave_repl_offset"), 0);
    assert!(!replica.log().contains("panicked"), "{}", replica.log());
    let master = Server::start();
    let mut m = master.client();
    let _: () = q(&mut m, &["SET", "k", "v"]);
    let to = master.port.to_string();
    assert_eq!(reply(&mut r, &["REPLICAOF", "127.0.0.1", &to]), "OK");
    wait_in_sync(&master, &replica, SYNC);
    assert_eq!(reply(&mut r, &["GET", "k"]), "v");
}

#[test]
fn max_replication_mb_paces_a_full_sync() {
    skip_on_redis!();
    let master = Server::start_with(&["--max-replication-mb", "1"]);
    let mut m = master.client();
    // About 3 MB that compression cannot shrink.
    fill_incompressible(&mut m, 750, 4096, 0x2545_F491_4F6C_DD1D);
    let replica = Server::start();
    let mut r = replica.client();
    let started = std::time::Instant::now();
    let to = master.port.to_string();
    assert_eq!(reply(&mut r, &["REPLICAOF", "127.0.0.1", &to]), "OK");
    wait_in_sync(&master, &replica, SYNC);
    let took = started.elapsed();
    let sent: u64 = std::fs::read_dir(master.data_dir().join("checkpoint"))
        .expect("the checkpoint is kept a while")
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(sent > 2 << 20, "{sent} bytes");
    // At 1 MB/s the transfer cannot take less than half its size in
    // seconds, whatever else is slow.
    let floor = Duration::from_secs_f64(sent as f64 / (1 << 20) as f64 / 2.0);
    assert!(took >= floor, "{sent} bytes in {took:?}");
    let mut r = connect(&replica, SYNC);
    assert_same_data(&mut m, &mut r);
}

/// WATCH and client-side caching on a replica see the master's writes.
#[test]
fn replicated_writes_reach_watch_and_tracking_on_the_replica() {
    skip_on_redis!();
    let master = Server::start();
    let replica = start_replica(&master, &[]);
    let mut m = master.client();
    let _: () = q(&mut m, &["SET", "k", "1"]);
    let _: i64 = q(&mut m, &["HSET", "h", "f", "1"]);
    wait_in_sync(&master, &replica, SYNC);

    let mut t = replica.raw();
    send(&mut t, &[b"HELLO", b"3"]);
    send(&mut t, &[b"PING"]);
    while line(&mut t) != b"+PONG" {}
    send(&mut t, &[b"CLIENT", b"TRACKING", b"ON"]);
    assert_eq!(line(&mut t), b"+OK");
    send(&mut t, &[b"HGET", b"h", b"f"]);
    assert_eq!(line(&mut t), b"$1");
    assert_eq!(line(&mut t), b"1");

    let mut r = connect(&replica, SYNC);
    let _: () = q(&mut r, &["WATCH", "k"]);
    // An element of an existing field: only a subkey record changes.
    let _: i64 = q(&mut m, &["HSET", "h", "f", "2"]);
    let _: () = q(&mut m, &["SET", "k", "2"]);
    wait_in_sync(&master, &replica, SYNC);
    let _: () = q(&mut r, &["MULTI"]);
    let _: () = q(&mut r, &["GET", "k"]);
    let exec: redis::Value = q(&mut r, &["EXEC"]);
    assert_eq!(exec, redis::Value::Nil, "the WATCH saw the replicated SET");
    assert_eq!(line(&mut t), b">2");
    assert_eq!(line(&mut t), b"$10");
    assert_eq!(line(&mut t), b"invalidate");
    assert_eq!(line(&mut t), b"*1");
    assert_eq!(line(&mut t), b"$1");
    assert_eq!(line(&mut t), b"h");
}

/// Reads from `s` until `what` arrives (within the socket's timeout).
pub(crate) fn expect_request(s: &mut std::net::TcpStream, what: &[u8]) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !seen.windows(what.len()).any(|w| w == what) {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "the replica hung up before sending {what:?}");
        seen.extend_from_slice(&buf[..n]);
    }
}

/// A master whose checkpoint does not open: the replica must roll back to
/// the data it had.
#[test]
fn a_checkpoint_that_does_not_open_leaves_the_old_data() {
    skip_on_redis!();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let fake_port = listener.local_addr().unwrap().port();
    let fake = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        expect_request(&mut s, b"_db_name");
        s.write_all(b"change.me.db\r\n").unwrap();
        expect_request(&mut s, b"listening-port");
        s.write_all(b"+OK\r\n").unwrap();
        expect_request(&mut s, b"keyspace-events");
        s.write_all(b"-ERR unknown option\r\n").unwrap();
        expect_request(&mut s, b"PSYNC");
        s.write_all(b"-ERR sequence out of range, please use fullsync\r\n")
            .unwrap();
        expect_request(&mut s, b"_fetch_meta");
        s.write_all(b"CURRENT\r\n").unwrap();
        drop(s);
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        expect_request(&mut s, b"CURRENT");
        // Names a MANIFEST that is not there.
        s.write_all(b"16\r\nMANIFEST-999999\n").unwrap();
        let _ = s.read(&mut [0u8; 16]);
    });
    let replica = Server::start();
    let mut r = replica.client();
    let _: () = q(&mut r, &["SET", "own", "1"]);
    let to = fake_port.to_string();
    assert_eq!(reply(&mut r, &["REPLICAOF", "127.0.0.1", &to]), "OK");
    fake.join().expect("fake master");
    wait_until(SYNC, "the rollback", || {
        if replica.log().contains("rolling back") {
            Ok(())
        } else {
            Err("not yet".to_string())
        }
    });
    let mut r = connect(&replica, SYNC);
    wait_until(SYNC, "the old data", || {
        match reply(&mut r, &["GET", "own"]) {
            v if v == "1" => Ok(()),
            other => Err(other),
        }
    });
    assert_eq!(reply(&mut r, &["DBSIZE"]), "1");
    assert_eq!(reply(&mut r, &["REPLICAOF", "NO", "ONE"]), "OK");
    assert_eq!(reply(&mut r, &["SET", "after", "2"]), "OK");
    assert!(!replica.log().contains("panicked"));
}

/// Reads one CRLF line from a raw socket.
pub(crate) fn line(s: &mut std::net::TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut byte = [0u8; 1];
    while !out.ends_with(b"\r\n") {
        assert_eq!(s.read(&mut byte).expect("read"), 1, "closed after {out:?}");
        out.push(byte[0]);
    }
    out.truncate(out.len() - 2);
    out
}

pub(crate) fn exact(s: &mut std::net::TcpStream, n: usize) -> Vec<u8> {
    let mut out = vec![0u8; n];
    s.read_exact(&mut out).expect("read");
    out
}

pub(crate) fn send(s: &mut std::net::TcpStream, args: &[&[u8]]) {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    s.write_all(&out).unwrap();
}

/// The master's side of the protocol, byte for byte as a Kvrocks replica
/// reads it.
#[test]
fn the_master_speaks_kvrocks_replication_protocol() {
    skip_on_redis!();
    let master = Server::start_with(&["--db-name", "orders"]);
    let mut m = master.client();
    let _: () = q(&mut m, &["SET", "k", "v"]);

    let mut s = master.raw();
    send(&mut s, &[b"_db_name"]);
    assert_eq!(line(&mut s), b"orders");
    send(
        &mut s,
        &[
            b"REPLCONF",
            b"listening-port",
            b"7777",
            b"ip-address",
            b"10.1.2.3",
        ],
    );
    assert_eq!(line(&mut s), b"+OK");
    send(&mut s, &[b"REPLCONF", b"no-such-option", b"1"]);
    assert_eq!(line(&mut s), b"-ERR unknown option");
    // Basalt's own: this replica raises keyspace notifications.
    send(&mut s, &[b"REPLCONF", b"keyspace-events", b"1"]);
    assert_eq!(line(&mut s), b"+OK");
    send(&mut s, &[b"PSYNC", b"abc", b"1"]);
    assert_eq!(line(&mut s), b"-ERR Wrong replication id length");
    send(&mut s, &[b"PSYNC", b"x"]);
    assert_eq!(
        line(&mut s),
        b"-ERR value is not an unsigned long long or out of range"
    );
    let latest = info_int(&mut m, "replication", "master_repl_offset") as u64;
    let errors = info_int(&mut m, "stats", "sync_partial_err");
    send(&mut s, &[b"PSYNC", (latest + 5).to_string().as_bytes()]);
    assert_eq!(
        line(&mut s),
        b"-ERR sequence out of range, please use fullsync"
    );
    assert_eq!(info_int(&mut m, "stats", "sync_partial_err"), errors + 1);

    // A partial sync from the next sequence: each write arrives as a bulk
    // string holding RocksDB's batch (8-byte sequence, 4-byte count, ...).
    send(&mut s, &[b"PSYNC", (latest + 1).to_string().as_bytes()]);
    assert_eq!(line(&mut s), b"+OK");
    let _: () = q(&mut m, &["MSET", "a", "1", "b", "2"]);
    let batch = loop {
        let header = line(&mut s);
        let len: usize = std::str::from_utf8(&header[1..]).unwrap().parse().unwrap();
        let data = exact(&mut s, len + 2);
        if &data[..len] != b"ping" {
            break data[..len].to_vec();
        }
    };
    assert_eq!(
        u64::from_le_bytes(batch[..8].try_into().unwrap()),
        latest + 1
    );
    assert_eq!(
        u32::from_le_bytes(batch[8..12].try_into().unwrap()),
        2,
        "MSET of two keys is one batch of two records"
    );
    let slave0 = wait_until(SYNC, "the replica in INFO", || {
        info_field(&mut m, "replication", "slave0").ok_or_else(|| "none".to_string())
    });
    assert!(
        slave0.starts_with("ip=10.1.2.3,port=7777,state=online,"),
        "{slave0}"
    );
    // A replica that never acknowledges (a Kvrocks replica): its lag is
    // the seconds since the feed last wrote to it (a ping every second
    // when idle), not since it connected.
    let connected = std::time::Instant::now();
    while connected.elapsed() < Duration::from_millis(2500) {
        let header = line(&mut s);
        let len: usize = std::str::from_utf8(&header[1..]).unwrap().parse().unwrap();
        exact(&mut s, len + 2);
    }
    let slave0 = info_field(&mut m, "replication", "slave0").unwrap();
    let lag: u64 = slave0.rsplit("lag=").next().unwrap().parse().unwrap();
    assert!(lag <= 1, "{slave0}");
    // REPLCONF ACK on the stream moves the replica's offset.
    send(
        &mut s,
        &[b"REPLCONF", b"ACK", (latest + 2).to_string().as_bytes()],
    );
    wait_until(SYNC, "the acknowledgement", || {
        let slave0 = info_field(&mut m, "replication", "slave0").unwrap_or_default();
        if slave0.contains(&format!(",offset={},", latest + 2)) {
            Ok(())
        } else {
            Err(slave0)
        }
    });
    drop(s);

    // A full sync's two commands: the checkpoint's file list, then files.
    let mut s = master.raw();
    send(&mut s, &[b"_fetch_meta"]);
    let files = String::from_utf8(line(&mut s)).unwrap();
    let files: Vec<&str> = files.split(',').collect();
    assert!(files.contains(&"CURRENT"), "{files:?}");
    assert!(
        files.iter().any(|f| f.starts_with("MANIFEST-")),
        "{files:?}"
    );
    let mut s = master.raw();
    send(&mut s, &[b"_fetch_file", b"CURRENT,../db/CURRENT"]);
    let size: usize = String::from_utf8(line(&mut s)).unwrap().parse().unwrap();
    let current = exact(&mut s, size);
    assert!(current.starts_with(b"MANIFEST-"), "{current:?}");
    assert!(line(&mut s).starts_with(b"-ERR cannot send ../db/CURRENT"));
}
