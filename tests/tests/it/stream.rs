//! Streams: XADD (ids, NOMKSTREAM, MAXLEN/MINID with = ~ LIMIT) XRANGE
//! XREVRANGE XLEN XDEL XTRIM XSETID XREAD XREADGROUP (blocking included)
//! XGROUP XACK XPENDING XCLAIM XAUTOCLAIM XINFO, and streams under the
//! generic key commands. Replies and error texts are Redis 7.0's (run with
//! `BASALT_TEST_AGAINST=redis` to check them against redis-server).

use crate::blocking::wait_blocked;
use crate::protocol::Raw;
use basalt_tests::client::{err, q, show};
use basalt_tests::Server;
use redis::{Connection, Value};
use std::thread;
use std::time::Duration;

fn r(c: &mut Connection, args: &[&str]) -> String {
    show(&q::<Value>(c, args))
}

const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";
const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

/// A blocking command on its own connection in a thread, its reply (or
/// error) rendered.
fn spawn(server: &Server, args: &'static [&'static str]) -> thread::JoinHandle<String> {
    let mut c = server.client();
    thread::spawn(
        move || match basalt_tests::client::cmd(args).query::<Value>(&mut c) {
            Ok(v) => show(&v),
            Err(e) => format!("{} {}", e.code().unwrap_or("?"), e.detail().unwrap_or("")),
        },
    )
}

#[test]
fn add_range_and_ids() {
    let server = Server::start();
    let c = &mut server.client();
    assert_eq!(r(c, &["XADD", "s", "1-1", "a", "1"]), "1-1");
    assert_eq!(r(c, &["XADD", "s", "1-*", "b", "2"]), "1-2");
    assert_eq!(r(c, &["XADD", "s", "5", "c", "3", "d", "4"]), "5-0");
    assert_eq!(r(c, &["XADD", "s", "7-*", "e", "5"]), "7-0");
    assert_eq!(
        err(c, &["XADD", "s", "7-0", "x", "y"]),
        "ERR The ID specified in XADD is equal or smaller than the target stream top item"
    );
    assert_eq!(
        err(c, &["XADD", "s", "6-*", "x", "y"]),
        "ERR The ID specified in XADD is equal or smaller than the target stream top item"
    );
    assert_eq!(
        err(c, &["XADD", "z", "0-0", "x", "y"]),
        "ERR The ID specified in XADD must be greater than 0-0"
    );
    assert_eq!(r(c, &["EXISTS", "z"]), "0");
    assert_eq!(err(c, &["XADD", "s", "1-x", "x", "y"]), INVALID_ID);
    assert_eq!(err(c, &["XADD", "s", "-", "x", "y"]), INVALID_ID);
    assert_eq!(
        err(c, &["XADD", "s", "*", "x"]),
        "ERR wrong number of arguments for 'xadd' command"
    );
    assert_eq!(r(c, &["XLEN", "s"]), "4");
    assert_eq!(
        r(c, &["XRANGE", "s", "-", "+"]),
        "[[1-1,[a,1]],[1-2,[b,2]],[5-0,[c,3,d,4]],[7-0,[e,5]]]"
    );
    assert_eq!(
        r(c, &["XRANGE", "s", "1", "1"]),
        "[[1-1,[a,1]],[1-2,[b,2]]]"
    );
    assert_eq!(
        r(c, &["XRANGE", "s", "(1-1", "(7-0", "COUNT", "5"]),
        "[[1-2,[b,2]],[5-0,[c,3,d,4]]]"
    );
    // An exclusive partial end excludes only 7-18446744073709551615.
    assert_eq!(r(c, &["XRANGE", "s", "(5", "(7"]), "[[7-0,[e,5]]]");
    assert_eq!(
        r(c, &["XREVRANGE", "s", "+", "-", "COUNT", "2"]),
        "[[7-0,[e,5]],[5-0,[c,3,d,4]]]"
    );
    assert_eq!(r(c, &["XRANGE", "s", "-", "+", "COUNT", "0"]), "nil");
    // No key: Redis looks the key up first and answers an empty array.
    assert_eq!(r(c, &["XRANGE", "nokey", "-", "+", "COUNT", "0"]), "[]");
    assert_eq!(r(c, &["XRANGE", "s", "8", "9"]), "[]");
    assert_eq!(r(c, &["XRANGE", "nokey", "-", "+"]), "[]");
    assert_eq!(err(c, &["XRANGE", "s", "(-", "+"]), INVALID_ID);
    assert_eq!(
        err(
            c,
            &[
                "XRANGE",
                "s",
                "(18446744073709551615-18446744073709551615",
                "+"
            ]
        ),
        "ERR invalid start ID for the interval"
    );
    assert_eq!(
        err(c, &["XRANGE", "s", "-", "(0-0"]),
        "ERR invalid end ID for the interval"
    );
    assert_eq!(
        err(c, &["XRANGE", "s", "-", "+", "LIMIT", "1"]),
        "ERR syntax error"
    );
    // NOMKSTREAM on a missing key adds nothing.
    assert_eq!(r(c, &["XADD", "n", "NOMKSTREAM", "*", "a", "b"]), "nil");
    assert_eq!(r(c, &["EXISTS", "n"]), "0");
    // The largest id, then nothing more.
    assert_eq!(
        r(
            c,
            &[
                "XADD",
                "top",
                "18446744073709551615-18446744073709551615",
                "a",
                "b"
            ]
        ),
        "18446744073709551615-18446744073709551615"
    );
    assert_eq!(
        err(c, &["XADD", "top", "*", "a", "b"]),
        "ERR The stream has exhausted the last possible ID, unable to add more items"
    );
    assert_eq!(
        r(c, &["XADD", "seq", "5-18446744073709551615", "a", "b"]),
        "5-18446744073709551615"
    );
    assert_eq!(
        err(c, &["XADD", "seq", "5-*", "a", "b"]),
        "ERR Elements are too large to be stored"
    );
    assert_eq!(r(c, &["XADD", "seq", "6-*", "a", "b"]), "6-0");
    // XDEL and the counters XINFO reports.
    assert_eq!(r(c, &["XDEL", "s", "1-2", "1-2", "9-9"]), "1");
    assert_eq!(r(c, &["XDEL", "s", "1-1"]), "1");
    assert_eq!(err(c, &["XDEL", "s", "bad"]), INVALID_ID);
    let info = r(c, &["XINFO", "STREAM", "s"]);
    assert!(info.contains("length,2,"), "{info}");
    assert!(info.contains("last-generated-id,7-0,max-deleted-entry-id,1-2,entries-added,4,recorded-first-entry-id,5-0,groups,0"), "{info}");
    assert!(
        info.ends_with("first-entry,[5-0,[c,3,d,4]],last-entry,[7-0,[e,5]]]"),
        "{info}"
    );
    // Wrong types.
    q::<()>(c, &["SET", "str", "x"]);
    assert_eq!(err(c, &["XADD", "str", "*", "a", "b"]), WRONGTYPE);
    assert_eq!(err(c, &["XRANGE", "str", "-", "+"]), WRONGTYPE);
    assert_eq!(err(c, &["XLEN", "str"]), WRONGTYPE);
}

#[test]
fn trimming_by_length_and_id() {
    let server = Server::start();
    let c = &mut server.client();
    for i in 1..=1000 {
        let id = i.to_string();
        q::<String>(c, &["XADD", "s", "MAXLEN", "~", "555", &id, "f", "v"]);
    }
    // `~` removes whole nodes of stream-node-max-entries (100) only.
    assert_eq!(r(c, &["XLEN", "s"]), "600");
    assert_eq!(r(c, &["XTRIM", "s", "MAXLEN", "555"]), "45");
    assert_eq!(r(c, &["XTRIM", "s", "MAXLEN", "~", "444"]), "55");
    assert_eq!(
        r(c, &["XTRIM", "s", "MAXLEN", "~", "0", "LIMIT", "150"]),
        "100"
    );
    assert_eq!(r(c, &["XLEN", "s"]), "400");
    assert_eq!(r(c, &["XTRIM", "s", "MINID", "=", "950"]), "349");
    assert_eq!(
        r(c, &["XRANGE", "s", "-", "+", "COUNT", "1"]),
        "[[950-0,[f,v]]]"
    );
    assert_eq!(
        r(c, &["XADD", "s", "MINID", "2000", "1001", "f", "v"]),
        "1001-0"
    );
    assert_eq!(r(c, &["XLEN", "s"]), "0");
    assert_eq!(r(c, &["EXISTS", "s"]), "1");
    assert!(r(c, &["XADD", "s", "MAXLEN", "0", "*", "f", "v"]).contains('-'));
    assert_eq!(r(c, &["XLEN", "s"]), "0");
    assert_eq!(
        err(c, &["XTRIM", "s", "MAXLEN", "1", "LIMIT", "10"]),
        "ERR syntax error, LIMIT cannot be used without the special ~ option"
    );
    assert_eq!(
        err(c, &["XTRIM", "s", "MAXLEN", "1", "MINID", "1"]),
        "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"
    );
    assert_eq!(
        err(c, &["XTRIM", "s", "LIMIT", "0"]),
        "ERR syntax error, XTRIM must be called with a trimming strategy"
    );
    assert_eq!(
        err(c, &["XTRIM", "s", "MAXLEN", "-1"]),
        "ERR The MAXLEN argument must be >= 0."
    );
    assert_eq!(
        err(c, &["XTRIM", "s", "MAXLEN", "~", "1", "LIMIT", "-1"]),
        "ERR The LIMIT argument must be >= 0."
    );
    assert_eq!(
        err(c, &["XADD", "s", "LIMIT", "5", "*", "a", "b"]),
        "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"
    );
    assert_eq!(r(c, &["XTRIM", "nokey", "MAXLEN", "0"]), "0");
}

#[test]
fn xsetid_rules() {
    let server = Server::start();
    let c = &mut server.client();
    assert_eq!(err(c, &["XSETID", "nokey", "1-1"]), "ERR no such key");
    q::<String>(c, &["XADD", "x", "5-0", "a", "b"]);
    assert_eq!(
        err(c, &["XSETID", "x", "4-0"]),
        "ERR The ID specified in XSETID is smaller than the target stream top item"
    );
    assert_eq!(
        err(
            c,
            &[
                "XSETID",
                "x",
                "5-0",
                "ENTRIESADDED",
                "0",
                "MAXDELETEDID",
                "0-0"
            ]
        ),
        "ERR The entries_added specified in XSETID is smaller than the target stream length"
    );
    assert_eq!(
        err(
            c,
            &[
                "XSETID",
                "x",
                "5-0",
                "ENTRIESADDED",
                "1",
                "MAXDELETEDID",
                "6-0"
            ]
        ),
        "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"
    );
    assert_eq!(
        err(
            c,
            &[
                "XSETID",
                "x",
                "5-0",
                "ENTRIESADDED",
                "-1",
                "MAXDELETEDID",
                "0-0"
            ]
        ),
        "ERR entries_added must be positive"
    );
    assert_eq!(err(c, &["XSETID", "x", "5-0", "0"]), "ERR syntax error");
    assert_eq!(
        r(
            c,
            &[
                "XSETID",
                "x",
                "9-0",
                "ENTRIESADDED",
                "10",
                "MAXDELETEDID",
                "3-0"
            ]
        ),
        "OK"
    );
    let info = r(c, &["XINFO", "STREAM", "x"]);
    assert!(
        info.contains("last-generated-id,9-0,max-deleted-entry-id,3-0,entries-added,10"),
        "{info}"
    );
    assert_eq!(
        err(c, &["XADD", "x", "9-0", "a", "b"]),
        "ERR The ID specified in XADD is equal or smaller than the target stream top item"
    );
}

#[test]
fn consumer_groups_read_ack_and_pending() {
    let server = Server::start();
    let c = &mut server.client();
    assert_eq!(
        err(c, &["XGROUP", "CREATE", "s", "g", "$"]),
        "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."
    );
    assert_eq!(r(c, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]), "OK");
    assert_eq!(
        err(c, &["XGROUP", "CREATE", "s", "g", "$"]),
        "BUSYGROUP Consumer Group name already exists"
    );
    assert_eq!(
        err(
            c,
            &["XGROUP", "CREATE", "s", "g2", "0", "ENTRIESREAD", "-2"]
        ),
        "ERR value for ENTRIESREAD must be positive or -1"
    );
    for i in 1..=4 {
        q::<String>(c, &["XADD", "s", &format!("{i}-0"), "n", &i.to_string()]);
    }
    assert_eq!(
        r(
            c,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "alice",
                "COUNT",
                "2",
                "STREAMS",
                "s",
                ">"
            ]
        ),
        "[[s,[[1-0,[n,1]],[2-0,[n,2]]]]]"
    );
    assert_eq!(
        r(c, &["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"]),
        "[[s,[[3-0,[n,3]],[4-0,[n,4]]]]]"
    );
    assert_eq!(
        r(c, &["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"]),
        "nil"
    );
    // History: the consumer's own pending entries.
    assert_eq!(
        r(
            c,
            &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"]
        ),
        "[[s,[[1-0,[n,1]],[2-0,[n,2]]]]]"
    );
    assert_eq!(
        r(c, &["XPENDING", "s", "g"]),
        "[4,1-0,4-0,[[alice,2],[bob,2]]]"
    );
    let ext: Vec<Vec<Value>> = q(c, &["XPENDING", "s", "g", "-", "+", "10", "alice"]);
    assert_eq!(ext.len(), 2);
    // Alice read her history once more: two deliveries each.
    assert_eq!(show(&ext[0][3]), "2");
    assert_eq!(show(&ext[0][1]), "alice");
    assert_eq!(
        r(c, &["XPENDING", "s", "g", "IDLE", "100000", "-", "+", "10"]),
        "[]"
    );
    assert!(r(c, &["XPENDING", "s", "g", "(1-0", "+", "1"]).starts_with("[[2-0,alice,"));
    assert_eq!(r(c, &["XACK", "s", "g", "1-0", "1-0", "3-0", "9-0"]), "2");
    assert_eq!(r(c, &["XACK", "s", "nogroup", "1-0"]), "0");
    assert_eq!(err(c, &["XACK", "s", "g", "bad"]), INVALID_ID);
    assert_eq!(
        r(c, &["XPENDING", "s", "g"]),
        "[2,2-0,4-0,[[alice,1],[bob,1]]]"
    );
    // A deleted entry still pending reads back with no fields.
    q::<i64>(c, &["XDEL", "s", "2-0"]);
    assert_eq!(
        r(
            c,
            &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"]
        ),
        "[[s,[[2-0,nil]]]]"
    );
    assert_eq!(
        err(
            c,
            &["XREADGROUP", "GROUP", "nog", "alice", "STREAMS", "s", ">"]
        ),
        "NOGROUP No such key 's' or consumer group 'nog' in XREADGROUP with GROUP option"
    );
    assert_eq!(
        err(c, &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "$"]),
        "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set."
    );
    assert_eq!(
        err(
            c,
            &[
                "XREADGROUP",
                "COUNT",
                "1",
                "COUNT",
                "1",
                "STREAMS",
                "s",
                ">"
            ]
        ),
        "ERR Missing GROUP option for XREADGROUP"
    );
    assert_eq!(
        err(c, &["XPENDING", "nokey", "g"]),
        "NOGROUP No such key 'nokey' or consumer group 'g'"
    );
    // Groups and consumers as XINFO shows them.
    let groups = r(c, &["XINFO", "GROUPS", "s"]);
    assert_eq!(
        groups,
        "[[name,g,consumers,2,pending,2,last-delivered-id,4-0,entries-read,4,lag,0]]"
    );
    let consumers = r(c, &["XINFO", "CONSUMERS", "s", "g"]);
    assert!(
        consumers.starts_with("[[name,alice,pending,1,idle,"),
        "{consumers}"
    );
    assert_eq!(
        err(c, &["XINFO", "CONSUMERS", "s", "nog"]),
        "NOGROUP No such consumer group 'nog' for key name 's'"
    );
    assert_eq!(r(c, &["XGROUP", "CREATECONSUMER", "s", "g", "carol"]), "1");
    assert_eq!(r(c, &["XGROUP", "CREATECONSUMER", "s", "g", "carol"]), "0");
    assert_eq!(r(c, &["XGROUP", "DELCONSUMER", "s", "g", "bob"]), "1");
    assert_eq!(r(c, &["XGROUP", "DELCONSUMER", "s", "g", "nobody"]), "0");
    assert_eq!(r(c, &["XPENDING", "s", "g"]), "[1,2-0,2-0,[[alice,1]]]");
    assert_eq!(
        r(c, &["XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD", "0"]),
        "OK"
    );
    assert_eq!(
        r(
            c,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "carol",
                "COUNT",
                "1",
                "STREAMS",
                "s",
                ">"
            ]
        ),
        "[[s,[[1-0,[n,1]]]]]"
    );
    assert_eq!(
        err(c, &["XGROUP", "SETID", "s", "nog", "0"]),
        "NOGROUP No such consumer group 'nog' for key name 's'"
    );
    assert_eq!(r(c, &["XGROUP", "DESTROY", "s", "g"]), "1");
    assert_eq!(r(c, &["XGROUP", "DESTROY", "s", "g"]), "0");
    assert_eq!(r(c, &["XINFO", "GROUPS", "s"]), "[]");
    assert_eq!(
        err(c, &["XGROUP", "FOO", "s", "g"]),
        "ERR unknown subcommand 'FOO'. Try XGROUP HELP."
    );
}

#[test]
fn a_crashed_consumer_entries_are_claimed_back() {
    let server = Server::start();
    let c = &mut server.client();
    q::<String>(c, &["XGROUP", "CREATE", "jobs", "workers", "$", "MKSTREAM"]);
    for i in 1..=5 {
        q::<String>(
            c,
            &["XADD", "jobs", &format!("{i}-0"), "job", &i.to_string()],
        );
    }
    // `dead` takes every job and never acknowledges.
    q::<Value>(
        c,
        &[
            "XREADGROUP",
            "GROUP",
            "workers",
            "dead",
            "STREAMS",
            "jobs",
            ">",
        ],
    );
    thread::sleep(Duration::from_millis(60));
    // Entries idle for less than the threshold stay where they are.
    assert_eq!(
        r(
            c,
            &["XCLAIM", "jobs", "workers", "live", "100000", "1-0", "JUSTID"]
        ),
        "[]"
    );
    assert_eq!(
        r(
            c,
            &["XCLAIM", "jobs", "workers", "live", "50", "1-0", "2-0", "JUSTID"]
        ),
        "[1-0,2-0]"
    );
    q::<i64>(c, &["XDEL", "jobs", "4-0"]);
    assert_eq!(
        r(
            c,
            &[
                "XAUTOCLAIM",
                "jobs",
                "workers",
                "live",
                "50",
                "0",
                "COUNT",
                "2"
            ]
        ),
        "[5-0,[[3-0,[job,3]]],[4-0]]"
    );
    // The deleted entry left the PEL, reported in the third list; the
    // cursor resumes where the scan stopped, 0-0 at the end.
    assert_eq!(
        r(c, &["XAUTOCLAIM", "jobs", "workers", "live", "50", "5-0"]),
        "[0-0,[[5-0,[job,5]]],[]]"
    );
    assert_eq!(
        r(c, &["XPENDING", "jobs", "workers"]),
        "[4,1-0,5-0,[[live,4]]]"
    );
    let detail: Vec<Vec<Value>> = q(c, &["XPENDING", "jobs", "workers", "-", "+", "10"]);
    // JUSTID claims do not count a delivery; the others do.
    let deliveries: Vec<String> = detail.iter().map(|e| show(&e[3])).collect();
    assert_eq!(deliveries, ["1", "1", "2", "2"]);
    assert_eq!(
        r(
            c,
            &[
                "XCLAIM",
                "jobs",
                "workers",
                "other",
                "0",
                "3-0",
                "RETRYCOUNT",
                "7",
                "JUSTID"
            ]
        ),
        "[3-0]"
    );
    let detail: Vec<Vec<Value>> = q(c, &["XPENDING", "jobs", "workers", "3-0", "3-0", "1"]);
    assert_eq!(show(&detail[0][3]), "7");
    assert_eq!(
        err(c, &["XCLAIM", "jobs", "workers", "x", "0", "1-0", "BOGUS"]),
        "ERR Unrecognized XCLAIM option 'BOGUS'"
    );
    assert_eq!(
        err(c, &["XCLAIM", "jobs", "workers", "x", "abc", "1-0"]),
        "ERR Invalid min-idle-time argument for XCLAIM"
    );
    assert_eq!(
        err(
            c,
            &["XAUTOCLAIM", "jobs", "workers", "x", "0", "0", "COUNT", "0"]
        ),
        "ERR COUNT must be > 0"
    );
    assert_eq!(
        err(c, &["XAUTOCLAIM", "jobs", "nog", "x", "0", "0"]),
        "NOGROUP No such key 'jobs' or consumer group 'nog'"
    );
    // Acknowledged work is gone from every list.
    assert_eq!(
        r(c, &["XACK", "jobs", "workers", "1-0", "2-0", "3-0", "5-0"]),
        "4"
    );
    assert_eq!(r(c, &["XPENDING", "jobs", "workers"]), "[0,nil,nil,nil]");
}

#[test]
fn xread_reads_and_blocks_for_new_entries_only() {
    let server = Server::start();
    let c = &mut server.client();
    q::<String>(c, &["XADD", "a", "1-0", "f", "old"]);
    assert_eq!(
        r(c, &["XREAD", "STREAMS", "a", "nokey", "0", "0"]),
        "[[a,[[1-0,[f,old]]]]]"
    );
    assert_eq!(r(c, &["XREAD", "COUNT", "1", "STREAMS", "a", "1-0"]), "nil");
    assert_eq!(
        err(c, &["XREAD", "STREAMS", "a", "b", "0"]),
        "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."
    );
    assert_eq!(
        err(c, &["XREAD", "STREAMS", "a", ">"]),
        "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."
    );
    assert_eq!(
        err(c, &["XREAD", "BLOCK", "-1", "STREAMS", "a", "$"]),
        "ERR timeout is negative"
    );
    // `$`: only what is added after the client blocked.
    let waiter = spawn(&server, &["XREAD", "BLOCK", "0", "STREAMS", "a", "$"]);
    wait_blocked(c, 1);
    q::<String>(c, &["XADD", "a", "2-0", "f", "new"]);
    assert_eq!(waiter.join().unwrap(), "[[a,[[2-0,[f,new]]]]]");
    // Redis 7.2's check (7.0 overflows its deadline and waits forever).
    if !basalt_tests::against_redis() {
        assert_eq!(
            err(
                c,
                &["XREAD", "BLOCK", "9223372036854775807", "STREAMS", "a", "$"]
            ),
            "ERR timeout is out of range"
        );
    }
    // A timeout centuries ahead waits (and does not break the timer).
    let waiter = spawn(
        &server,
        &["XREAD", "BLOCK", "900000000000000", "STREAMS", "a", "$"],
    );
    wait_blocked(c, 1);
    q::<String>(c, &["XADD", "a", "3-0", "f", "far"]);
    assert_eq!(waiter.join().unwrap(), "[[a,[[3-0,[f,far]]]]]");
    // A timeout answers nil.
    let started = std::time::Instant::now();
    assert_eq!(r(c, &["XREAD", "BLOCK", "100", "STREAMS", "a", "$"]), "nil");
    assert!(started.elapsed() >= Duration::from_millis(90));
    // Inside MULTI nothing blocks.
    q::<()>(c, &["MULTI"]);
    q::<()>(c, &["XREAD", "BLOCK", "0", "STREAMS", "a", "$"]);
    assert_eq!(r(c, &["EXEC"]), "[nil]");
    // A key turned into another type keeps an XREAD waiting; it is served
    // once a stream is back.
    let waiter = spawn(&server, &["XREAD", "BLOCK", "0", "STREAMS", "a", "$"]);
    wait_blocked(c, 1);
    q::<()>(c, &["SET", "a", "x"]);
    q::<i64>(c, &["DEL", "a"]);
    q::<String>(c, &["XADD", "a", "5-0", "f", "back"]);
    assert_eq!(waiter.join().unwrap(), "[[a,[[5-0,[f,back]]]]]");
}

#[test]
fn blocked_group_readers_are_served_in_order() {
    let server = Server::start();
    let c = &mut server.client();
    q::<String>(c, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    let first = spawn(
        &server,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "c1",
            "BLOCK",
            "0",
            "STREAMS",
            "s",
            ">",
        ],
    );
    wait_blocked(c, 1);
    let second = spawn(
        &server,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "c2",
            "BLOCK",
            "0",
            "NOACK",
            "STREAMS",
            "s",
            ">",
        ],
    );
    wait_blocked(c, 2);
    q::<String>(c, &["XADD", "s", "1-0", "f", "1"]);
    assert_eq!(first.join().unwrap(), "[[s,[[1-0,[f,1]]]]]");
    q::<String>(c, &["XADD", "s", "2-0", "f", "2"]);
    assert_eq!(second.join().unwrap(), "[[s,[[2-0,[f,2]]]]]");
    // NOACK left nothing pending for c2.
    assert_eq!(r(c, &["XPENDING", "s", "g"]), "[1,1-0,1-0,[[c1,1]]]");

    // Deleting the key, or giving it another type, ends the wait with an
    // error; so does destroying the group.
    let gone = spawn(
        &server,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "c1",
            "BLOCK",
            "0",
            "STREAMS",
            "s",
            ">",
        ],
    );
    wait_blocked(c, 1);
    q::<i64>(c, &["DEL", "s"]);
    assert_eq!(
        gone.join().unwrap(),
        "UNBLOCKED the stream key no longer exists"
    );
    q::<String>(c, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    let retyped = spawn(
        &server,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "c1",
            "BLOCK",
            "0",
            "STREAMS",
            "s",
            ">",
        ],
    );
    wait_blocked(c, 1);
    q::<()>(c, &["SET", "s", "x"]);
    assert_eq!(
        retyped.join().unwrap(),
        "UNBLOCKED the stream key no longer exists"
    );
    q::<i64>(c, &["DEL", "s"]);
    q::<String>(c, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    let destroyed = spawn(
        &server,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "c1",
            "BLOCK",
            "0",
            "STREAMS",
            "s",
            ">",
        ],
    );
    wait_blocked(c, 1);
    q::<i64>(c, &["XGROUP", "DESTROY", "s", "g"]);
    assert_eq!(
        destroyed.join().unwrap(),
        "NOGROUP the consumer group this client was blocked on no longer exists"
    );
}

#[test]
fn resp3_reads_are_maps() {
    let server = Server::start();
    let mut raw = Raw::connect(server.port);
    raw.cmd(&["HELLO", "3"]);
    raw.cmd(&["XADD", "s", "1-0", "f", "v"]);
    assert_eq!(
        raw.cmd(&["XREAD", "STREAMS", "s", "0"]),
        "%1\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
    );
    // A served blocked read is shaped for its own client's protocol.
    raw.send(&crate::protocol::encode(&[
        "XREAD", "BLOCK", "0", "STREAMS", "s", "$",
    ]));
    let c = &mut server.client();
    wait_blocked(c, 1);
    q::<String>(c, &["XADD", "s", "2-0", "f", "w"]);
    assert_eq!(
        raw.reply(),
        "%1\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\nw\r\n"
    );
}

#[test]
fn streams_under_generic_commands() {
    let server = Server::start();
    let c = &mut server.client();
    q::<String>(c, &["XADD", "s", "1-0", "f", "v"]);
    q::<String>(c, &["XGROUP", "CREATE", "s", "g", "0"]);
    q::<Value>(c, &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"]);
    assert_eq!(r(c, &["TYPE", "s"]), "stream");
    assert_eq!(r(c, &["OBJECT", "ENCODING", "s"]), "stream");
    assert_eq!(r(c, &["SCAN", "0", "TYPE", "stream"]), "[0,[s]]");
    // COPY and RENAME carry the entries, the groups and their pending
    // entries.
    assert_eq!(r(c, &["COPY", "s", "t"]), "1");
    assert_eq!(r(c, &["XPENDING", "t", "g"]), "[1,1-0,1-0,[[c,1]]]");
    assert_eq!(r(c, &["RENAME", "t", "u"]), "OK");
    assert_eq!(r(c, &["XRANGE", "u", "-", "+"]), "[[1-0,[f,v]]]");
    assert!(r(c, &["XINFO", "GROUPS", "u"]).contains("name,g,consumers,1,pending,1"));
    // The copy is independent.
    q::<i64>(c, &["XACK", "u", "g", "1-0"]);
    assert_eq!(r(c, &["XPENDING", "s", "g"]), "[1,1-0,1-0,[[c,1]]]");
    // An empty stream still exists, and expires like any key.
    q::<i64>(c, &["XDEL", "s", "1-0"]);
    assert_eq!(r(c, &["EXISTS", "s"]), "1");
    assert_eq!(r(c, &["PEXPIRE", "s", "30"]), "1");
    thread::sleep(Duration::from_millis(80));
    assert_eq!(r(c, &["EXISTS", "s"]), "0");
    // Recreated, it has none of the old groups.
    q::<String>(c, &["XADD", "s", "1-0", "f", "v"]);
    assert_eq!(r(c, &["XINFO", "GROUPS", "s"]), "[]");
    let mem: i64 = q(c, &["MEMORY", "USAGE", "s"]);
    assert!(mem > 0);
    assert_eq!(err(c, &["XINFO", "STREAM", "nokey"]), "ERR no such key");
}

#[test]
fn keyspace_events_of_stream_commands() {
    let server = Server::start();
    let c = &mut server.client();
    q::<()>(c, &["CONFIG", "SET", "notify-keyspace-events", "Et"]);
    let mut sub = Raw::connect(server.port);
    sub.cmd(&["PSUBSCRIBE", "__keyevent@0__:*"]);
    q::<String>(c, &["XADD", "s", "MAXLEN", "1", "1-0", "f", "v"]);
    q::<String>(c, &["XADD", "s", "MAXLEN", "1", "2-0", "f", "v"]);
    q::<String>(c, &["XGROUP", "CREATE", "s", "g", "0"]);
    q::<i64>(c, &["XGROUP", "CREATECONSUMER", "s", "g", "a"]);
    q::<Value>(c, &["XREADGROUP", "GROUP", "g", "b", "STREAMS", "s", ">"]);
    q::<String>(c, &["XGROUP", "SETID", "s", "g", "0"]);
    q::<i64>(c, &["XGROUP", "DELCONSUMER", "s", "g", "a"]);
    q::<i64>(c, &["XGROUP", "DESTROY", "s", "g"]);
    q::<i64>(c, &["XDEL", "s", "2-0"]);
    q::<i64>(c, &["XTRIM", "s", "MAXLEN", "0"]);
    q::<String>(c, &["XSETID", "s", "5-0"]);
    let expected = [
        "xadd",
        "xadd",
        "xtrim",
        "xgroup-create",
        "xgroup-createconsumer",
        "xgroup-createconsumer",
        "xgroup-setid",
        "xgroup-delconsumer",
        "xgroup-destroy",
        "xdel",
        "xsetid",
    ];
    let mut got = Vec::new();
    for _ in expected {
        let crate::protocol::R::Arr(parts) = sub.value() else {
            panic!("expected a message");
        };
        got.push(
            parts[2]
                .text()
                .trim_start_matches("__keyevent@0__:")
                .to_string(),
        );
    }
    assert_eq!(got, expected);
}
