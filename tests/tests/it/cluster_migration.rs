//! Slot migration (CLUSTERX MIGRATE) between real cluster nodes: every
//! type moves with its expiry under a write load from a client that follows
//! MOVED and TRYAGAIN, the source drops the data once the new topology
//! arrives, and failures (a dead destination, a cut link, FLUSHALL) leave
//! the source serving and the destination without the partial data.
//!
//! Types covered: string, bitmap, hash, hash with field TTLs, list, set,
//! zset, geo (a zset), HyperLogLog, stream with a consumer group, JSON and
//! a Bloom filter: every type a command can create.

use basalt_tests::client::{err, q};
use basalt_tests::cluster::{node_id, start_node};
use basalt_tests::nodes::{bloom_state, wait_until};
use basalt_tests::proxy::Proxy;
use basalt_tests::Server;
use redis::{Connection, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(25);

/// The range migrated in these tests: the source owns 0-8191.
const RANGE: &str = "0-4095";

/// Node 0 owns 0-8191 and node 1 8192-16383; `ports` are the addresses the
/// topology gives them (a proxy may stand in front of one).
fn push_topology(nodes: &[&Server], ports: [u16; 2], version: i64) {
    let lines = format!(
        "{} 127.0.0.1 {} master - 0-8191\n{} 127.0.0.1 {} master - 8192-16383",
        node_id(0),
        ports[0],
        node_id(1),
        ports[1]
    );
    for (i, node) in nodes.iter().enumerate() {
        let mut c = node.client();
        let _: () = q(&mut c, &["CLUSTERX", "SETNODEID", &node_id(i)]);
        let _: () = q(
            &mut c,
            &["CLUSTERX", "SETNODES", &lines, &version.to_string()],
        );
    }
}

fn cluster_info(c: &mut Connection) -> BTreeMap<String, String> {
    let text: String = match redis::cmd("CLUSTER").arg("INFO").query::<Value>(c).unwrap() {
        Value::BulkString(b) => String::from_utf8(b).unwrap(),
        Value::VerbatimString { text, .. } => text,
        other => panic!("CLUSTER INFO: {other:?}"),
    };
    text.lines()
        .filter_map(|l| l.split_once(':'))
        // Kvrocks' migration fields have a space after the colon.
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

fn wait_field(c: &mut Connection, field: &str, want: &str) -> BTreeMap<String, String> {
    wait_until(WAIT, &format!("{field}:{want}"), || {
        let info = cluster_info(c);
        if info.get(field).map(String::as_str) == Some(want) {
            Ok(info)
        } else {
            Err(format!("{info:#?}"))
        }
    })
}

/// A key named `prefix:n` for the first n whose slot is in 0-4095.
fn key_in_range(c: &mut Connection, prefix: &str, from: &mut usize) -> String {
    key_in_slots(c, prefix, from, 0..=4095)
}

fn key_in_slots(
    c: &mut Connection,
    prefix: &str,
    from: &mut usize,
    slots: std::ops::RangeInclusive<i64>,
) -> String {
    loop {
        let key = format!("{prefix}:{from}");
        *from += 1;
        let slot: i64 = q(c, &["CLUSTER", "KEYSLOT", &key]);
        if slots.contains(&slot) {
            return key;
        }
    }
}

/// Writes one key of every type (with expiry on several) in the range;
/// returns their names.
fn write_every_type(c: &mut Connection) -> Vec<String> {
    let mut n = 0;
    let mut k = |c: &mut Connection| key_in_range(c, "static", &mut n);
    let mut keys = Vec::new();
    let s = k(c);
    let _: () = q(c, &["SET", &s, "plain", "PX", "600000"]);
    keys.push(s);
    let bits = k(c);
    let _: () = q(c, &["SETBIT", &bits, "1000", "1"]);
    keys.push(bits);
    let hash = k(c);
    let _: () = q(c, &["HSET", &hash, "a", "1", "b", "2"]);
    let _: () = q(c, &["PEXPIRE", &hash, "700000"]);
    keys.push(hash);
    // Large enough to span many batches.
    let big = k(c);
    for chunk in 0..20 {
        let mut args = vec!["HSET".to_string(), big.clone()];
        for f in 0..500 {
            args.push(format!("field:{chunk}:{f}"));
            args.push("x".repeat(100));
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let _: () = q(c, &refs);
    }
    keys.push(big);
    let list = k(c);
    let _: () = q(c, &["RPUSH", &list, "a", "b", "c", "d"]);
    let _: () = q(c, &["LPOP", &list]);
    keys.push(list);
    let set = k(c);
    let _: () = q(c, &["SADD", &set, "x", "y", "z"]);
    let _: () = q(c, &["PEXPIRE", &set, "800000"]);
    keys.push(set);
    let zset = k(c);
    let _: () = q(c, &["ZADD", &zset, "1", "one", "2.5", "two", "-3", "three"]);
    keys.push(zset);
    let geo = k(c);
    let _: () = q(
        c,
        &[
            "GEOADD",
            &geo,
            "13.361389",
            "38.115556",
            "Palermo",
            "15.087269",
            "37.502669",
            "Catania",
        ],
    );
    keys.push(geo);
    let hll = k(c);
    let _: () = q(c, &["PFADD", &hll, "a", "b", "c", "d"]);
    keys.push(hll);
    let stream = k(c);
    let _: () = q(c, &["XADD", &stream, "1-1", "f", "v"]);
    let _: () = q(c, &["XADD", &stream, "2-1", "f", "w"]);
    let _: () = q(c, &["XGROUP", "CREATE", &stream, "g", "0"]);
    let _: Value = q(
        c,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "COUNT",
            "1",
            "STREAMS",
            &stream,
            ">",
        ],
    );
    let _: () = q(c, &["PEXPIRE", &stream, "900000"]);
    keys.push(stream);
    let json = k(c);
    let _: () = q(
        c,
        &[
            "JSON.SET",
            &json,
            "$",
            r#"{"a":[1,2.5,"x"],"b":{"c":null}}"#,
        ],
    );
    let _: () = q(c, &["PEXPIRE", &json, "650000"]);
    keys.push(json);
    let bloom = k(c);
    let _: Value = q(c, &["BF.MADD", &bloom, "apple", "pear", "plum"]);
    keys.push(bloom);
    let fields = k(c);
    let _: () = q(c, &["HSET", &fields, "lasting", "1", "fading", "2"]);
    let _: Value = q(c, &["HPEXPIRE", &fields, "750000", "FIELDS", "1", "fading"]);
    keys.push(fields);
    keys
}

/// Each key's type, expiry time and value (DUMP's serialization, or for a
/// stream, its entries and groups).
fn states(c: &mut Connection, keys: &[String]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for key in keys {
        let kind: String = q(c, &["TYPE", key]);
        let expire: i64 = q(c, &["PEXPIRETIME", key]);
        let value = if kind == "stream" {
            let entries: Value = q(c, &["XRANGE", key, "-", "+"]);
            let groups: Value = q(c, &["XINFO", "GROUPS", key]);
            // The summary form: the extended one holds idle times.
            let pending: Value = q(c, &["XPENDING", key, "g"]);
            format!("{entries:?} {groups:?} {pending:?}")
        } else if kind == "ReJSON-RL" {
            q::<String>(c, &["JSON.GET", key])
        } else if kind == "MBbloom--" {
            // Module types have no DUMP: what a user sees of a filter.
            String::from_utf8(bloom_state(c, key.as_bytes())).unwrap()
        } else if kind == "hash" {
            // DUMP carries no field TTLs: compare them field by field.
            let mut fields: Vec<String> = q(c, &["HKEYS", key]);
            fields.sort();
            let mut args = vec!["HPEXPIRETIME", key.as_str(), "FIELDS"];
            let count = fields.len().to_string();
            args.push(&count);
            args.extend(fields.iter().map(String::as_str));
            let ttls: Value = q(c, &args);
            let dump: Value = q(c, &["DUMP", key]);
            format!("{dump:?} {ttls:?}")
        } else {
            // HyperLogLogs included: DUMP gives their Redis string.
            let dump: Value = q(c, &["DUMP", key]);
            format!("{dump:?}")
        };
        out.insert(key.clone(), format!("{kind} {expire} {value}"));
    }
    out
}

/// A client that follows MOVED (to the port named) and TRYAGAIN (waits and
/// retries), as a cluster client does; it INCRs a counter and RPUSHes
/// numbered items, remembering every write acknowledged.
struct Writer {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<(i64, Vec<i64>, u64, u64)>,
}

impl Writer {
    fn start(port: u16, counter: String, list: String) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::spawn(move || {
            let connect = |port: u16| {
                redis::Client::open(format!("redis://127.0.0.1:{port}/"))
                    .unwrap()
                    .get_connection()
                    .unwrap()
            };
            let mut c = connect(port);
            let (mut incrs, mut pushed, mut moved, mut tryagain) = (0i64, Vec::new(), 0u64, 0u64);
            let mut i = 0i64;
            while !s.load(Ordering::Acquire) {
                for (cmd, arg) in [("INCR", None), ("RPUSH", Some(i))] {
                    loop {
                        let mut call = redis::cmd(cmd);
                        call.arg(if arg.is_some() { &list } else { &counter });
                        if let Some(v) = arg {
                            call.arg(v);
                        }
                        match call.query::<i64>(&mut c) {
                            Ok(_) => {
                                match arg {
                                    Some(v) => pushed.push(v),
                                    None => incrs += 1,
                                }
                                break;
                            }
                            Err(e) => {
                                // The redis crate spells the codes "TryAgain"
                                // and "Moved".
                                let text = e.to_string();
                                let code = text.to_ascii_uppercase();
                                if code.starts_with("TRYAGAIN") {
                                    tryagain += 1;
                                    std::thread::sleep(Duration::from_millis(5));
                                } else if code.starts_with("MOVED") {
                                    moved += 1;
                                    let addr = text
                                        .split_whitespace()
                                        .find(|w| w.starts_with("127.0.0.1:"))
                                        .expect("MOVED address");
                                    let port = addr.rsplit(':').next().unwrap().parse().unwrap();
                                    c = connect(port);
                                } else {
                                    panic!("{cmd}: {text}");
                                }
                            }
                        }
                    }
                }
                i += 1;
                std::thread::sleep(Duration::from_micros(500));
            }
            (incrs, pushed, moved, tryagain)
        });
        Writer { stop, thread }
    }

    fn stop(self) -> (i64, Vec<i64>, u64, u64) {
        self.stop.store(true, Ordering::Release);
        self.thread.join().unwrap()
    }
}

#[test]
fn migrate_every_type_under_write_load_then_setslot() {
    // Slow enough (2 MB/s, small batches) that writes land during the
    // snapshot and the WAL catch-up.
    let limits = [
        "--migrate-batch-rate-limit-mb",
        "2",
        "--migrate-batch-size-kb",
        "4",
    ];
    let src = start_node(&limits);
    let dst = start_node(&[]);
    push_topology(&[&src, &dst], [src.port, dst.port], 1);
    let mut a = src.client();
    let mut b = dst.client();
    let keys = write_every_type(&mut a);
    let before = states(&mut a, &keys);
    assert_eq!(before.len(), keys.len(), "{:?}", before.keys());

    let mut n = 1000;
    let counter = key_in_range(&mut a, "counter", &mut n);
    let list = key_in_range(&mut a, "list", &mut n);
    let writer = Writer::start(src.port, counter.clone(), list.clone());
    std::thread::sleep(Duration::from_millis(200));

    let ok: String = q(&mut a, &["CLUSTERX", "MIGRATE", RANGE, &node_id(1)]);
    assert_eq!(ok, "OK");
    assert_eq!(
        err(&mut a, &["CLUSTERX", "MIGRATE", "5000", &node_id(1)]),
        "ERR There is already a migrating job"
    );
    let info = cluster_info(&mut a);
    assert_eq!(info["migrating_slot(s)"], RANGE);
    let text: String = match redis::cmd("CLUSTER")
        .arg("INFO")
        .query::<Value>(&mut a)
        .unwrap()
    {
        Value::VerbatimString { text, .. } => text,
        Value::BulkString(b) => String::from_utf8(b).unwrap(),
        other => panic!("{other:?}"),
    };
    assert!(text.contains("\r\nmigrating_slot(s): 0-4095\r\n"), "{text}");
    assert_eq!(info["destination_node"], node_id(1));
    let info = wait_field(&mut a, "migrating_state", "success");
    assert!(
        info["migrating_keys"].parse::<u64>().unwrap() >= keys.len() as u64,
        "{info:#?}"
    );
    assert!(
        info["migrating_bytes"].parse::<u64>().unwrap() > 1_000_000,
        "{info:#?}"
    );
    assert_eq!(cluster_info(&mut b)["import_state"], "success");
    // The writer goes on against the new owner.
    std::thread::sleep(Duration::from_millis(300));
    let (incrs, pushed, moved, tryagain) = writer.stop();
    eprintln!("writer: {incrs} INCRs, {moved} MOVED, {tryagain} TRYAGAIN");
    assert!(moved >= 1, "the writer was never redirected");
    assert!(incrs > 0);

    // The source answers MOVED for the range until the topology changes.
    let e = err(&mut a, &["GET", &keys[0]]);
    assert!(
        e.starts_with("MOVED ") && e.ends_with(&format!("127.0.0.1:{}", dst.port)),
        "{e}"
    );
    // Every key moved with its value and expiry; every acknowledged write
    // is on the destination exactly once.
    let after = states(&mut b, &keys);
    let differ: Vec<String> = keys
        .iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| {
            let short = |v: Option<&String>| v.map(|v| v.chars().take(300).collect::<String>());
            format!(
                "{k}: {:?} vs {:?}",
                short(before.get(k)),
                short(after.get(k))
            )
        })
        .collect();
    assert!(differ.is_empty(), "{differ:#?}");
    assert_eq!(q::<i64>(&mut b, &["GET", &counter]), incrs);
    let items: Vec<i64> = q(&mut b, &["LRANGE", &list, "0", "-1"]);
    assert_eq!(items, pushed);
    let stream = keys
        .iter()
        .find(|k| q::<String>(&mut b, &["TYPE", k]) == "stream")
        .expect("the stream moved");
    let pending: Vec<Value> = q(&mut b, &["XPENDING", stream, "g", "-", "+", "10"]);
    assert_eq!(pending.len(), 1);

    // The new owner is published: the source deletes the moved data.
    for node in [&src, &dst] {
        let mut c = node.client();
        let _: () = q(
            &mut c,
            &["CLUSTERX", "SETSLOT", RANGE, "NODE", &node_id(1), "2"],
        );
    }
    assert_eq!(q::<i64>(&mut a, &["DBSIZE"]), 0);
    assert_eq!(q::<i64>(&mut b, &["DBSIZE"]), keys.len() as i64 + 2);
    let e = err(&mut a, &["GET", &keys[0]]);
    assert!(e.ends_with(&format!("127.0.0.1:{}", dst.port)), "{e}");
    assert_eq!(q::<String>(&mut b, &["GET", &keys[0]]), "plain");
    assert!(src
        .log()
        .contains("[migrate] succeeded migrating slot(s) 0-4095"));
}

#[test]
fn migration_to_a_dead_destination_fails_and_the_slots_keep_serving() {
    let src = start_node(&[]);
    let mut dst = start_node(&[]);
    push_topology(&[&src, &dst], [src.port, dst.port], 1);
    let mut a = src.client();
    let mut n = 0;
    let key = key_in_range(&mut a, "k", &mut n);
    let _: () = q(&mut a, &["SET", &key, "v"]);

    // Kvrocks' refusals.
    assert_eq!(
        err(&mut a, &["CLUSTERX", "MIGRATE", RANGE, &node_id(7)]),
        "ERR Can't find the destination node id"
    );
    assert_eq!(
        err(&mut a, &["CLUSTERX", "MIGRATE", RANGE, &node_id(0)]),
        "ERR Can't migrate slot to myself"
    );
    assert_eq!(
        err(&mut a, &["CLUSTERX", "MIGRATE", "9000", &node_id(1)]),
        "ERR Can't migrate slot which doesn't belong to me"
    );
    assert_eq!(
        err(
            &mut a,
            &["CLUSTERX", "MIGRATE", RANGE, &node_id(1), "later"]
        ),
        "ERR Invalid sync flag"
    );

    dst.kill9();
    let reply = redis::cmd("CLUSTERX")
        .arg(&["MIGRATE", RANGE, &node_id(1), "sync", "20"])
        .query::<Value>(&mut a);
    let e = reply
        .expect_err("a sync migration to a dead node must fail")
        .to_string();
    assert!(e.contains("connect to the destination"), "{e}");
    let info = cluster_info(&mut a);
    assert_eq!(info["migrating_state"], "fail", "{info:#?}");
    // Still served here, writes included.
    assert_eq!(q::<String>(&mut a, &["GET", &key]), "v");
    let _: () = q(&mut a, &["SET", &key, "w"]);
    assert_eq!(q::<String>(&mut a, &["GET", &key]), "w");
}

fn slow_source() -> Server {
    start_node(&[
        "--migrate-batch-rate-limit-mb",
        "1",
        "--migrate-batch-size-kb",
        "4",
    ])
}

/// Data for a migration slow enough to be interrupted: 1 MB/s over ~1 MB.
fn write_data(src: &Server) -> String {
    let mut a = src.client();
    let mut n = 0;
    let key = key_in_range(&mut a, "big", &mut n);
    for chunk in 0..20 {
        let mut args = vec!["HSET".to_string(), key.clone()];
        for f in 0..500 {
            args.push(format!("field:{chunk}:{f}"));
            args.push("x".repeat(100));
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let _: () = q(&mut a, &refs);
    }
    for i in 0..200 {
        let k = key_in_range(&mut a, "small", &mut n);
        let _: () = q(&mut a, &["SET", &k, &i.to_string()]);
    }
    key
}

fn wait_import_started(b: &mut Connection) {
    wait_until(WAIT, "an import under way", || {
        let info = cluster_info(b);
        let started = info.get("import_state").map(String::as_str) == Some("start")
            && info["importing_bytes"].parse::<u64>().unwrap() > 100_000;
        if started {
            Ok(())
        } else {
            Err(format!("{info:#?}"))
        }
    })
}

#[test]
fn a_cut_link_fails_the_job_and_the_destination_discards_the_partial_import() {
    let src = slow_source();
    let dst = start_node(&[]);
    let proxy = Proxy::start(dst.port);
    // The source reaches the destination through the proxy.
    push_topology(&[&src, &dst], [src.port, proxy.port], 1);
    let key = write_data(&src);
    let mut a = src.client();
    let mut b = dst.client();
    let _: () = q(
        &mut a,
        &["CLUSTERX", "MIGRATE", RANGE, &node_id(1), "async"],
    );
    wait_import_started(&mut b);
    assert!(
        q::<i64>(&mut b, &["DBSIZE"]) > 0,
        "no partial data to discard"
    );
    proxy.cut();
    wait_field(&mut a, "migrating_state", "fail");
    wait_field(&mut b, "import_state", "error");
    assert_eq!(q::<i64>(&mut b, &["DBSIZE"]), 0);
    // The source still serves its slots.
    assert_eq!(q::<i64>(&mut a, &["HLEN", &key]), 10_000);
    let _: () = q(&mut a, &["HSET", &key, "after", "1"]);
    assert!(src
        .log()
        .contains("[migrate] failed migrating slot(s) 0-4095"));
}

#[test]
fn flushall_during_a_migration_fails_it() {
    let src = slow_source();
    let dst = start_node(&[]);
    push_topology(&[&src, &dst], [src.port, dst.port], 1);
    write_data(&src);
    let mut a = src.client();
    let mut b = dst.client();
    let started = Instant::now();
    let _: () = q(&mut a, &["CLUSTERX", "MIGRATE", RANGE, &node_id(1)]);
    wait_import_started(&mut b);
    let _: () = q(&mut a, &["FLUSHALL"]);
    let info = wait_field(&mut a, "migrating_state", "fail");
    assert!(info["migrating_error"].contains("FLUSHALL"), "{info:#?}");
    wait_field(&mut b, "import_state", "error");
    assert_eq!(q::<i64>(&mut b, &["DBSIZE"]), 0);
    assert!(started.elapsed() < WAIT);
    // The slots stay here: a new key is served by the source.
    let mut n = 0;
    let key = key_in_range(&mut a, "after", &mut n);
    let _: () = q(&mut a, &["SET", &key, "1"]);
}

/// The destination side as a Kvrocks source drives it (its redis-command
/// mode sends plain commands on the import connection): CLUSTER IMPORT
/// start, writes served on that connection only, success, then served to
/// everyone; a failed import and a dropped link discard the data.
#[test]
fn import_protocol_as_a_kvrocks_source_speaks_it() {
    let src = start_node(&[]);
    let dst = start_node(&[]);
    push_topology(&[&src, &dst], [src.port, dst.port], 1);
    let mut link = dst.client();
    let mut other = dst.client();
    let mut n = 0;
    let key = key_in_range(&mut other, "imported", &mut n);

    assert_eq!(
        err(&mut link, &["CLUSTER", "IMPORT", "9000", "0"]),
        "ERR Can't import slot which belongs to me"
    );
    assert_eq!(
        err(&mut link, &["CLUSTER", "IMPORT", RANGE, "3"]),
        "ERR Invalid import state"
    );
    assert_eq!(
        err(&mut other, &["APPLYBATCH", "whatever"]),
        "ERR APPLYBATCH is only accepted on a slot import link (CLUSTER IMPORT ... 0)"
    );
    let _: () = q(&mut link, &["CLUSTER", "IMPORT", RANGE, "0"]);
    assert_eq!(
        err(&mut other, &["CLUSTER", "IMPORT", "5000", "0"]),
        "ERR only one importing job is allowed, current importing: 0-4095"
    );
    let _: () = q(&mut link, &["SET", &key, "v", "PX", "600000"]);
    let e = err(&mut other, &["GET", &key]);
    assert!(e.ends_with(&format!("127.0.0.1:{}", src.port)), "{e}");
    // A batch with a record outside the imported slots is refused.
    let mut batch = vec![0u8; 8];
    batch.extend_from_slice(&1u32.to_le_bytes());
    batch.extend_from_slice(&[0x1, 1, b'x', 1, b'y']);
    let e = redis::cmd("APPLYBATCH")
        .arg(&batch)
        .query::<i64>(&mut link)
        .unwrap_err()
        .to_string();
    assert!(e.contains("outside the slots being imported"), "{e}");
    assert_eq!(cluster_info(&mut other)["import_state"], "start");
    let _: () = q(&mut link, &["CLUSTER", "IMPORT", RANGE, "1"]);
    assert_eq!(q::<String>(&mut other, &["GET", &key]), "v");
    assert!(q::<i64>(&mut other, &["PTTL", &key]) > 0);
    assert_eq!(cluster_info(&mut other)["import_state"], "success");

    // A failed import (state 2) throws the data away.
    let key2 = key_in_slots(&mut other, "failed", &mut n, 5000..=6000);
    let mut link = dst.client();
    let _: () = q(&mut link, &["CLUSTER", "IMPORT", "5000-6000", "0"]);
    let _: () = q(&mut link, &["SET", &key2, "x"]);
    assert_eq!(q::<i64>(&mut other, &["DBSIZE"]), 2);
    assert_eq!(
        err(&mut link, &["CLUSTER", "IMPORT", "5000", "2"]),
        "ERR mismatch slot, importing slot(s): 5000-6000, but got: 5000"
    );
    let _: () = q(&mut link, &["CLUSTER", "IMPORT", "5000-6000", "2"]);
    assert_eq!(cluster_info(&mut other)["import_state"], "error");
    assert_eq!(q::<i64>(&mut other, &["DBSIZE"]), 1);

    // The link drops midway: the same.
    let mut link = dst.client();
    let _: () = q(&mut link, &["CLUSTER", "IMPORT", "5000-6000", "0"]);
    let _: () = q(&mut link, &["SET", &key2, "x"]);
    assert_eq!(q::<i64>(&mut other, &["DBSIZE"]), 2);
    drop(link);
    wait_field(&mut other, "import_state", "error");
    assert_eq!(q::<i64>(&mut other, &["DBSIZE"]), 1);
    assert!(dst.log().contains("[import] the import link dropped"));
}

/// SYNC waits for the end; several ranges move in one job.
#[test]
fn sync_migration_of_several_ranges() {
    let src = start_node(&[]);
    let dst = start_node(&[]);
    push_topology(&[&src, &dst], [src.port, dst.port], 1);
    let mut a = src.client();
    let mut b = dst.client();
    let mut n = 0;
    let keys: Vec<String> = (0..50).map(|_| key_in_range(&mut a, "k", &mut n)).collect();
    for k in &keys {
        let _: () = q(&mut a, &["SET", k, k]);
    }
    let other = key_in_slots(&mut a, "stays", &mut n, 4096..=8191);
    let _: () = q(&mut a, &["SET", &other, "here"]);
    let ok: String = q(
        &mut a,
        &[
            "CLUSTERX",
            "MIGRATE",
            "0-2047 2048-4095",
            &node_id(1),
            "sync",
            "20",
        ],
    );
    assert_eq!(ok, "OK");
    let info = cluster_info(&mut a);
    assert_eq!(info["migrating_state"], "success");
    assert_eq!(info["migrating_slot(s)"], "0-2047 2048-4095");
    assert_eq!(info["migrating_keys"], "50");
    for k in &keys {
        assert_eq!(q::<String>(&mut b, &["GET", k]), *k);
        assert!(err(&mut a, &["GET", k]).starts_with("MOVED "));
    }
    assert_eq!(q::<String>(&mut a, &["GET", &other]), "here");
    assert_eq!(
        err(&mut a, &["CLUSTERX", "MIGRATE", "100", &node_id(1)]),
        "ERR Can't migrate slot which has been migrated"
    );
}

/// kill -9 of either side midway: the destination discards the partial
/// import when the source dies; the source fails the job and keeps
/// serving when the destination dies.
#[test]
fn a_side_killed_midway() {
    // The source dies.
    let mut src = slow_source();
    let dst = start_node(&[]);
    push_topology(&[&src, &dst], [src.port, dst.port], 1);
    write_data(&src);
    let mut a = src.client();
    let mut b = dst.client();
    let _: () = q(&mut a, &["CLUSTERX", "MIGRATE", RANGE, &node_id(1)]);
    wait_import_started(&mut b);
    src.kill9();
    wait_field(&mut b, "import_state", "error");
    assert_eq!(q::<i64>(&mut b, &["DBSIZE"]), 0);

    // The destination dies.
    let src = slow_source();
    let mut dst = start_node(&[]);
    push_topology(&[&src, &dst], [src.port, dst.port], 1);
    let key = write_data(&src);
    let mut a = src.client();
    let mut b = dst.client();
    let _: () = q(&mut a, &["CLUSTERX", "MIGRATE", RANGE, &node_id(1)]);
    wait_import_started(&mut b);
    dst.kill9();
    wait_field(&mut a, "migrating_state", "fail");
    assert_eq!(q::<i64>(&mut a, &["HLEN", &key]), 10_000);
    let _: () = q(&mut a, &["HSET", &key, "after", "1"]);
}

/// The hand-over survives restarts of both sides before the new topology
/// arrives: the source keeps answering MOVED (it never serves the moved
/// slots again), the destination keeps serving them; the topology then
/// makes the source delete the moved data, after a restart too.
#[test]
fn a_migration_survives_restarts_before_the_new_topology() {
    let mut src = start_node(&[]);
    let mut dst = start_node(&[]);
    push_topology(&[&src, &dst], [src.port, dst.port], 1);
    let mut a = src.client();
    let mut n = 0;
    let keys: Vec<String> = (0..20).map(|_| key_in_range(&mut a, "k", &mut n)).collect();
    for k in &keys {
        let _: () = q(&mut a, &["SET", k, k]);
    }
    let other = key_in_slots(&mut a, "stays", &mut n, 4096..=8191);
    let _: () = q(&mut a, &["SET", &other, "here"]);
    let ok: String = q(&mut a, &["CLUSTERX", "MIGRATE", RANGE, &node_id(1), "sync"]);
    assert_eq!(ok, "OK");
    let moved = format!("MOVED {{}} 127.0.0.1:{}", dst.port);
    let moved_to_dst = |c: &mut Connection, k: &str| {
        let slot: i64 = q(c, &["CLUSTER", "KEYSLOT", k]);
        assert_eq!(err(c, &["GET", k]), moved.replace("{}", &slot.to_string()));
    };

    src.restart();
    dst.restart();
    let mut a = basalt_tests::nodes::connect(&src, WAIT);
    let mut b = basalt_tests::nodes::connect(&dst, WAIT);
    for k in &keys {
        moved_to_dst(&mut a, k);
        assert_eq!(q::<String>(&mut b, &["GET", k]), *k);
    }
    // Writes to the moved slots go to the destination only.
    assert!(err(&mut a, &["SET", &keys[0], "new"]).starts_with("MOVED "));
    let _: () = q(&mut b, &["SET", &keys[0], "new"]);
    assert_eq!(q::<String>(&mut a, &["GET", &other]), "here");
    assert_eq!(
        err(&mut a, &["CLUSTERX", "MIGRATE", "100", &node_id(1)]),
        "ERR Can't migrate slot which has been migrated"
    );
    // The source still holds the data, until the topology says who owns it.
    let first_slot: i64 = q(&mut a, &["CLUSTER", "KEYSLOT", &keys[0]]);
    assert_eq!(
        q::<i64>(
            &mut a,
            &["CLUSTER", "COUNTKEYSINSLOT", &first_slot.to_string()]
        ),
        1
    );
    assert!(src.data_dir().join("slot-moves.conf").exists());
    assert!(dst.data_dir().join("slot-moves.conf").exists());

    for c in [&mut a, &mut b] {
        let ok: String = q(c, &["CLUSTERX", "SETSLOT", RANGE, "NODE", &node_id(1), "2"]);
        assert_eq!(ok, "OK");
    }
    assert_eq!(
        q::<i64>(
            &mut a,
            &["CLUSTER", "COUNTKEYSINSLOT", &first_slot.to_string()]
        ),
        0
    );
    assert!(!src.data_dir().join("slot-moves.conf").exists());
    assert!(!dst.data_dir().join("slot-moves.conf").exists());
    src.restart();
    dst.restart();
    let mut a = basalt_tests::nodes::connect(&src, WAIT);
    let mut b = basalt_tests::nodes::connect(&dst, WAIT);
    moved_to_dst(&mut a, &keys[0]);
    assert_eq!(q::<String>(&mut b, &["GET", &keys[0]]), "new");
    assert_eq!(q::<i64>(&mut a, &["DBSIZE"]), 1);
}

/// CLUSTER NODES as `node` shows it: its own line (`myself`) and the others.
fn nodes_lines(c: &mut Connection) -> (String, Vec<String>) {
    let text: String = match redis::cmd("CLUSTER")
        .arg("NODES")
        .query::<Value>(c)
        .unwrap()
    {
        Value::BulkString(b) => String::from_utf8(b).unwrap(),
        Value::VerbatimString { text, .. } => text,
        other => panic!("CLUSTER NODES: {other:?}"),
    };
    let (mine, others): (Vec<&str>, Vec<&str>) = text.lines().partition(|l| l.contains("myself,"));
    assert_eq!(mine.len(), 1, "{text}");
    (
        mine[0].to_string(),
        others.iter().map(|l| l.to_string()).collect(),
    )
}

/// While a migration runs, the source's own CLUSTER NODES line carries a
/// `[slot->-dst]` marker per moving slot and the destination's own line a
/// `[slot-<-src]` one (Redis's format, which Kvrocks follows); both go
/// once the job is over.
#[test]
fn cluster_nodes_marks_the_slots_being_migrated() {
    let src = slow_source();
    let dst = start_node(&[]);
    push_topology(&[&src, &dst], [src.port, dst.port], 1);
    write_data(&src);
    let mut a = src.client();
    let mut b = dst.client();
    let (mine, _) = nodes_lines(&mut a);
    assert!(!mine.contains('['), "{mine}");
    // About 200 keys at 50 a second: seconds to look at the markers.
    let _: () = q(&mut a, &["CONFIG", "SET", "migrate-speed", "50"]);
    let _: () = q(
        &mut a,
        &["CLUSTERX", "MIGRATE", RANGE, &node_id(1), "async"],
    );
    wait_field(&mut b, "import_state", "start");
    let (mine, others) = nodes_lines(&mut a);
    let (theirs, their_others) = nodes_lines(&mut b);
    assert_eq!(cluster_info(&mut a)["migrating_state"], "start");
    assert!(
        mine.ends_with(&format!(" 0-8191 [0->-{0}] [1->-{0}]", node_id(1)))
            || mine.contains(&format!(" 0-8191 [0->-{0}] [1->-{0}] ", node_id(1))),
        "{mine}"
    );
    assert!(
        mine.contains(&format!(" [4095->-{}]", node_id(1))),
        "{mine}"
    );
    assert_eq!(mine.matches("->-").count(), 4096, "{mine}");
    assert!(!mine.contains("[4096->-"), "{mine}");
    assert!(
        others.iter().all(|l| !l.contains('[')),
        "markers on another node's line: {others:?}"
    );
    assert!(
        theirs.contains(&format!(" 8192-16383 [0-<-{0}] [1-<-{0}] ", node_id(0))),
        "{theirs}"
    );
    assert_eq!(theirs.matches("-<-").count(), 4096, "{theirs}");
    assert!(their_others.iter().all(|l| !l.contains('[')));

    wait_field(&mut a, "migrating_state", "success");
    assert!(!nodes_lines(&mut a).0.contains('['));
    assert!(!nodes_lines(&mut b).0.contains('['));
}

/// A source that vanishes without closing its connection (a network
/// partition, a frozen proxy here): after `migrate-import-timeout` seconds
/// without a batch the destination fails the import and deletes the
/// partial data, as on a dropped connection; a later migration succeeds.
#[test]
fn an_import_whose_source_goes_silent_times_out_and_discards_the_partial_data() {
    let src = slow_source();
    let dst = start_node(&["--migrate-import-timeout", "3"]);
    let proxy = Proxy::start(dst.port);
    push_topology(&[&src, &dst], [src.port, proxy.port], 1);
    let key = write_data(&src);
    let mut a = src.client();
    let mut b = dst.client();
    assert_eq!(
        q::<Vec<String>>(&mut b, &["CONFIG", "GET", "migrate-import-timeout"]),
        ["migrate-import-timeout", "3"]
    );
    let _: () = q(
        &mut a,
        &["CLUSTERX", "MIGRATE", RANGE, &node_id(1), "async"],
    );
    wait_import_started(&mut b);
    proxy.freeze(true);
    assert!(q::<i64>(&mut b, &["DBSIZE"]) > 0, "no partial data");
    wait_field(&mut b, "import_state", "error");
    assert_eq!(q::<i64>(&mut b, &["DBSIZE"]), 0);
    assert!(dst
        .log()
        .contains("[import] nothing from the source for 3 s; slot(s) 0-4095 failed"));
    // The destination closed the link: the source's job fails too.
    wait_field(&mut a, "migrating_state", "fail");
    proxy.freeze(false);
    assert_eq!(q::<i64>(&mut a, &["HLEN", &key]), 10_000);

    let _: () = q(
        &mut a,
        &["CLUSTERX", "MIGRATE", RANGE, &node_id(1), "async"],
    );
    let info = wait_until(WAIT, "the second migration's end", || {
        let info = cluster_info(&mut a);
        match info["migrating_state"].as_str() {
            "start" => Err(format!("{info:#?}")),
            _ => Ok(info),
        }
    });
    assert_eq!(info["migrating_state"], "success", "{info:#?}");
    assert_eq!(q::<i64>(&mut b, &["HLEN", &key]), 10_000);
}

/// A Kvrocks source in its redis-command mode sends plain commands on the
/// import link, not APPLYBATCH: they count as word from the source, so the
/// import lasts as long as they come, and times out once they stop.
#[test]
fn plain_commands_from_the_source_keep_an_import_alive() {
    let src = start_node(&[]);
    let dst = start_node(&["--migrate-import-timeout", "2"]);
    push_topology(&[&src, &dst], [src.port, dst.port], 1);
    let mut link = dst.client();
    let mut other = dst.client();
    let mut n = 0;
    let _: () = q(&mut link, &["CLUSTER", "IMPORT", RANGE, "0"]);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(4) {
        let key = key_in_range(&mut other, "cmd", &mut n);
        let _: () = q(&mut link, &["SET", &key, "v"]);
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(cluster_info(&mut other)["import_state"], "start");
    assert!(q::<i64>(&mut other, &["DBSIZE"]) > 5);
    wait_field(&mut other, "import_state", "error");
    assert_eq!(q::<i64>(&mut other, &["DBSIZE"]), 0);
}
